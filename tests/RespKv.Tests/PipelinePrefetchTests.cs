using System.Buffers;
using System.Text;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Tests;

/// <summary>
/// The pipelined batch's look-ahead (<see cref="PipelinePrefetch"/>): its RESP header scan finds a frame's length and key
/// exactly, refuses what it does not scan (so the look-ahead stops rather than hint a wrong key), and the look-ahead
/// survives any buffer — split frames, inline commands, garbage — without throwing.
/// </summary>
public sealed class PipelinePrefetchTests
{
    private static byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);

    [Theory]
    [InlineData("*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$5\r\nvalue\r\n", "key:1")]
    [InlineData("*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "")]
    [InlineData("*1\r\n$4\r\nPING\r\n", null)]
    [InlineData("*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n", "a\r\nb")]
    [InlineData("*4\r\n$7\r\nevalsha\r\n$3\r\nabc\r\n$1\r\n1\r\n$5\r\nctr:7\r\n", "ctr:7")]   // a script's first declared key
    [InlineData("*5\r\n$4\r\nEVAL\r\n$6\r\nreturn\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nb\r\n", "a")]
    [InlineData("*4\r\n$8\r\nFcall_Ro\r\n$1\r\nf\r\n$2\r\n10\r\n$1\r\nk\r\n", "k")]
    [InlineData("*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n0\r\n$3\r\narg\r\n", null)]      // numkeys 0: no key
    [InlineData("*3\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n0\r\n", "abc")]                    // three arguments: scanned as any command
    [InlineData("*4\r\n$4\r\nEVEN\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n", "x")]              // not a script command
    public void ScansALengthAndAKey(string frame, string? key)
    {
        byte[] bytes = Bytes(frame + "*1\r\n$4\r\nPING\r\n");
        Assert.True(PipelinePrefetch.TryScanFrame(bytes, out int length, out ReadOnlySpan<byte> found));
        Assert.Equal(frame.Length, length);
        Assert.Equal(key ?? "", Encoding.ASCII.GetString(found));
    }

    [Theory]
    [InlineData("")]
    [InlineData("PING\r\n")]                              // inline command
    [InlineData("*2\r\n$3\r\nGET\r\n$5\r\nke")]          // split: the rest is in the next segment
    [InlineData("*2\r\n$3\r\nGET\r\n")]                   // incomplete
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("*2\r\n:3\r\n$1\r\nk\r\n")]               // not a bulk string
    [InlineData("*2\r\n$3\r\nGET\r\n$-1\r\n")]
    [InlineData("*2\r\n$99999999999\r\nGET\r\n")]         // length beyond int
    [InlineData("*2\n$3\r\nGET\r\n$1\r\nk\r\n")]          // bare LF
    [InlineData("*33\r\n")]                               // more arguments than it scans
    public void RefusesWhatItDoesNotScan(string text) =>
        Assert.False(PipelinePrefetch.TryScanFrame(Bytes(text), out _, out _));

    [Fact]
    public void LooksAheadOverAnyBufferWithoutThrowing()
    {
        var database = new Database(0);
        for (int i = 0; i < PipelinePrefetch.MinKeys; i++) database.Set(Encoding.ASCII.GetBytes("key:" + i), Encoding.ASCII.GetBytes("v"));
        var random = new Random(42);
        var pieces = new[]
        {
            "*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$1\r\nv\r\n", "*2\r\n$3\r\nGET\r\n$6\r\nkey:99\r\n", "*2\r\n$3\r\nGET\r\n$6\r\nkey:98\r\n",
            "*1\r\n$4\r\nPING\r\n", "*2\r\n$3\r\nGET\r\n$0\r\n\r\n",
            "PING\r\n", "\r\n", "*2\r\n$3\r\nGET\r\n$3\r\nk", "*x\r\n", "$3\r\nGET\r\n",
        };
        var prefetch = new PipelinePrefetch();
        for (int round = 0; round < 2000; round++)
        {
            var text = new StringBuilder();
            int frames = random.Next(1, 12);
            for (int f = 0; f < frames; f++) text.Append(pieces[random.Next(pieces.Length)]);
            byte[] bytes = Bytes(text.ToString());
            var buffer = new ReadOnlySequence<byte>(bytes);
            prefetch.Begin();
            // Run "commands" of arbitrary lengths through the buffer, as ProcessFrames consumes it.
            while (buffer.Length > 0)
            {
                long frame = Math.Min(buffer.Length, random.Next(1, 40));
                prefetch.BeforeCommand(buffer, database);
                buffer = buffer.Slice(frame);
            }
        }
    }
}
