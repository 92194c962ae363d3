using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using RespKv.Protocol;
using RespKv.Tests.Support;
using static RespKv.Tests.Support.SegmentedInput;

namespace RespKv.Tests;

/// <summary>
/// Unit tests of <see cref="RespParser"/> without a socket: frames split at every byte boundary into
/// separate buffer segments (as a pipe delivers them), resumption cost, and zero-copy argument slices.
/// Expected arguments follow Redis 7.0's networking.c (<c>processMultibulkBuffer</c>,
/// <c>processInlineBuffer</c>, <c>sdssplitargs</c>), checked against redis-server 7.0.15.
/// </summary>
public sealed class RespParserTests
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static byte[] B(string s) => Latin1.GetBytes(s);

    private static byte[] Multibulk(params byte[][] args)
    {
        var ms = new MemoryStream();
        ms.Write(B($"*{args.Length}\r\n"));
        foreach (byte[] a in args)
        {
            ms.Write(B($"${a.Length}\r\n"));
            ms.Write(a);
            ms.Write("\r\n"u8);
        }
        return ms.ToArray();
    }

    /// <summary>Expected frames: each an argument list (Command) or null (Empty).</summary>
    private static void AssertFrames(IReadOnlyList<Frame> actual, params byte[][]?[] expected)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == null)
            {
                Assert.Equal(ParseStatus.Empty, actual[i].Status);
                continue;
            }
            Assert.Equal(ParseStatus.Command, actual[i].Status);
            Assert.Equal(expected[i]!.Length, actual[i].Args.Length);
            for (int j = 0; j < expected[i]!.Length; j++) Assert.Equal(expected[i]![j], actual[i].Args[j]);
        }
    }

    /// <summary>
    /// Parses <paramref name="input"/> whole, split in two at every byte boundary, and one byte per
    /// segment; every way must give exactly <paramref name="expected"/>.
    /// </summary>
    private static void AssertParsesAtEveryBoundary(byte[] input, params byte[][]?[] expected)
    {
        AssertFrames(Parse(new RespParser(), Split(input), out _), expected);
        for (int cut = 1; cut < input.Length; cut++)
            AssertFrames(Parse(new RespParser(), Split(input, cut), out _), expected);
        AssertFrames(Parse(new RespParser(), Chunks(input, 1), out _), expected);
        // One parser reused across all three splittings of the same input: no state may leak between frames.
        var reused = new RespParser();
        for (int cut = 1; cut < input.Length; cut += Math.Max(1, input.Length / 50))
            AssertFrames(Parse(reused, Split(input, cut, Math.Min(input.Length - 1, cut + 3)), out _), expected);
    }

    private static byte[][] Args(params string[] args) => args.Select(B).ToArray();

    [Fact]
    public void MultibulkWithEmptyAndBinaryArgumentsAtEveryBoundary()
    {
        byte[] binary = B("a\0b\r\nc\r\n\0\xff");
        byte[] input = Multibulk(B("SET"), B(""), binary);
        AssertParsesAtEveryBoundary(input, [B("SET"), B(""), binary]);
    }

    [Fact]
    public void BulkTerminatorsAreSkippedUncheckedAsRedisDoes()
    {
        // Redis skips the two bytes after a bulk's payload without looking at them.
        AssertParsesAtEveryBoundary(B("*2\r\n$4\r\nECHO\r\n$2\r\nhiXY*1\r\n$4\r\nPING\r\n"), Args("ECHO", "hi"), Args("PING"));
    }

    [Fact]
    public void SeveralPipelinedFramesAtEveryBoundary()
    {
        var ms = new MemoryStream();
        ms.Write(Multibulk(B("SET"), B("k"), B("v")));
        ms.Write(Multibulk(B("GET"), B("k")));
        ms.Write(B("PING\r\n"));
        ms.Write(B("*0\r\n"));
        ms.Write(Multibulk(B("ECHO"), B("x\r\ny")));
        ms.Write(B("*-1\r\n"));
        ms.Write(B("\r\n"));
        ms.Write(B("echo last\n"));
        AssertParsesAtEveryBoundary(ms.ToArray(),
            Args("SET", "k", "v"), Args("GET", "k"), Args("PING"), null, Args("ECHO", "x\r\ny"), null, null, Args("echo", "last"));
    }

    [Fact]
    public void LargeBulkAtEveryBoundaryOfItsHeaderAndTail()
    {
        var big = new byte[70_000]; // bigger than the 64 KB inline/header limit, which must not apply to payloads
        for (int i = 0; i < big.Length; i++) big[i] = (byte)(i * 31 + 7);
        big[100] = (byte)'\r';
        big[101] = (byte)'\n';
        byte[] input = Multibulk(B("SET"), B("big"), big);
        byte[][] expected = [B("SET"), B("big"), big];
        int payloadStart = input.Length - big.Length - 2;
        for (int cut = 1; cut < input.Length; cut++)
        {
            // Every boundary in the headers and the last bytes; every 997th inside the payload.
            if (cut > payloadStart + 8 && cut < input.Length - 8 && cut % 997 != 0) continue;
            AssertFrames(Parse(new RespParser(), Split(input, cut), out _), expected);
        }
        AssertFrames(Parse(new RespParser(), Chunks(input, 1), out _), expected);
        AssertFrames(Parse(new RespParser(), Chunks(input, 4096), out _), expected);
    }

    [Theory]
    [InlineData("set \"a b\" 'it\\'s'\r\n", new[] { "set", "a b", "it's" })]
    [InlineData("echo \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\"\r\n", new[] { "echo", "AJ\n\r\t\b\a\\\"" })]
    [InlineData("echo \"\\xZZ\"\n", new[] { "echo", "xZZ" })]
    [InlineData("  GET\t  key  \r\n", new[] { "GET", "key" })]
    [InlineData("echo 'a\\nb' \"\" ''\r\n", new[] { "echo", "a\\nb", "", "" })]
    [InlineData("PING\n", new[] { "PING" })]
    public void InlineCommandsWithQuotesAndEscapesAtEveryBoundary(string line, string[] expected) =>
        AssertParsesAtEveryBoundary(B(line), Args(expected));

    [Theory]
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("*-5\r\n")]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("   \t \r\n")]
    public void FramesWithoutCommandAreEmpty(string frame) => AssertParsesAtEveryBoundary(B(frame), [null]);

    [Theory]
    [InlineData("*abc\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1048577\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*01\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\nx3\r\n", "ERR Protocol error: expected '$', got 'x'")]
    [InlineData("\"abc\r\n", "ERR Protocol error: unbalanced quotes in request")]
    [InlineData("'abc\r\n", "ERR Protocol error: unbalanced quotes in request")]
    [InlineData("\"abc\"def\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public void MalformedFramesGiveRedisErrorsAtEveryBoundary(string input, string error)
    {
        byte[] bytes = B(input);
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            List<Frame> frames = Parse(new RespParser(), cut == 0 ? Split(bytes) : Split(bytes, cut), out _);
            Frame last = Assert.Single(frames);
            Assert.Equal(ParseStatus.Error, last.Status);
            Assert.Equal(error, last.Error);
        }
    }

    [Fact]
    public void InlineRequestWithoutNewlineOver64KbIsAnError()
    {
        byte[] line = new byte[64 * 1024 + 1];
        line.AsSpan().Fill((byte)'a');
        List<Frame> frames = Parse(new RespParser(), Chunks(line, 1000), out _);
        Assert.Equal("ERR Protocol error: too big inline request", Assert.Single(frames).Error);
        // Exactly 64 KB without a newline is still waiting for more (Redis: querybuf > PROTO_INLINE_MAX_SIZE).
        Assert.Empty(Parse(new RespParser(), Chunks(line.AsSpan(0, 64 * 1024).ToArray(), 1000), out _));
    }

    [Fact]
    public void ParserIsReusableAfterAnError()
    {
        var parser = new RespParser();
        Assert.Equal(ParseStatus.Error, Assert.Single(Parse(parser, Split(B("*1\r\n$x\r\n")), out _)).Status);
        AssertFrames(Parse(parser, Split(Multibulk(B("PING"))), out _), Args("PING"));
    }

    [Fact]
    public void HundredMegabyteBulkIn4KbPiecesResumesWithoutRescanning()
    {
        const int size = 100 * 1024 * 1024;
        byte[] header = B($"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${size}\r\n");
        byte[] input = GC.AllocateUninitializedArray<byte>(header.Length + size + 2);
        header.CopyTo(input, 0);
        Span<byte> payload = input.AsSpan(header.Length, size);
        for (int i = 0; i < payload.Length; i += 4096) payload[i..Math.Min(i + 4096, size)].Fill((byte)(i / 4096));
        input[^2] = (byte)'\r';
        input[^1] = (byte)'\n';
        List<ReadOnlyMemory<byte>> pieces = Chunks(input, 4096);
        Assert.True(pieces.Count >= 25_600);

        var counter = new CountingMemory.Counter();
        List<Frame> frames = Parse(new RespParser(), pieces, out int calls, counter);

        Frame frame = Assert.Single(frames);
        Assert.Equal(ParseStatus.Command, frame.Status);
        Assert.Equal(B("SET"), frame.Args[0]);
        Assert.Equal(B("big"), frame.Args[1]);
        Assert.Equal(size, frame.Args[2].Length);
        Assert.True(payload.SequenceEqual(frame.Args[2]));
        // One call per piece: each Incomplete waits for the next piece, none is skipped or repeated.
        Assert.Equal(pieces.Count, calls);
        // Linear resumption: each segment's bytes are looked at a bounded number of times in all
        // (header scan + one final copy). A parser that rescanned the frame from its start on each
        // call would look into ~pieces²/2 ≈ 330 million segments.
        Assert.True(counter.SpanAccesses < 8L * pieces.Count, $"segment span accesses: {counter.SpanAccesses} for {pieces.Count} pieces");
    }

    [Fact]
    public void FrameOfManyArgumentsIn4KbPiecesResumesWithoutRescanning()
    {
        const int count = 20_000;
        var ms = new MemoryStream();
        ms.Write(B($"*{count}\r\n"));
        for (int i = 0; i < count; i++)
        {
            string arg = i.ToString().PadLeft(500, '.');
            ms.Write(B($"${arg.Length}\r\n{arg}\r\n"));
        }
        byte[] input = ms.ToArray();
        List<ReadOnlyMemory<byte>> pieces = Chunks(input, 4096);

        var counter = new CountingMemory.Counter();
        List<Frame> frames = Parse(new RespParser(), pieces, out int calls, counter);

        Frame frame = Assert.Single(frames);
        Assert.Equal(count, frame.Args.Length);
        for (int i = 0; i < count; i += 997) Assert.Equal(B(i.ToString().PadLeft(500, '.')), frame.Args[i]);
        Assert.Equal(pieces.Count, calls);
        // Each resumption starts where the last complete argument ended: a bounded number of span
        // accesses per argument and per piece. Restarting from the frame's first segment on each call
        // would make ~pieces²/2 ≈ 3 million.
        long bound = 4L * (count + pieces.Count);
        Assert.True(counter.SpanAccesses < bound, $"segment span accesses: {counter.SpanAccesses} for {pieces.Count} pieces, {count} arguments");
    }

    [Fact]
    public void InlineLineArrivingByteByByteIsNotRescanned()
    {
        byte[] line = new byte[60_000];
        line.AsSpan().Fill((byte)'a');
        line[0] = (byte)'E'; line[1] = (byte)'C'; line[2] = (byte)'H'; line[3] = (byte)'O'; line[4] = (byte)' ';
        line[^2] = (byte)'\r';
        line[^1] = (byte)'\n';
        var counter = new CountingMemory.Counter();
        List<Frame> frames = Parse(new RespParser(), Chunks(line, 1), out int calls, counter);
        Frame frame = Assert.Single(frames);
        Assert.Equal(line.Length - 7, frame.Args[1].Length);
        Assert.Equal(line.Length, calls);
        Assert.True(counter.SpanAccesses < 8L * line.Length, $"segment span accesses: {counter.SpanAccesses} for {line.Length} pieces");
    }

    [Fact]
    public void ArgumentsOfAFrameInOneSegmentAreSlicesOfTheReceiveBuffer()
    {
        byte[] input = Multibulk(B("SET"), B("key"), B("value"));
        var parser = new RespParser();
        var buffer = new ReadOnlySequence<byte>(input);
        Assert.Equal(ParseStatus.Command, parser.TryParse(buffer, out long consumed, out CommandArgs args, out _));
        Assert.Equal(input.Length, consumed);
        int keyOffset = input.AsSpan().IndexOf("key"u8);
        int valueOffset = input.AsSpan().IndexOf("value"u8);
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(args[1]), ref input[keyOffset]));
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(args[2]), ref input[valueOffset]));
        Assert.True(args.Is(0, "SET"u8));

        // Pipelined: the second frame's arguments point into the same receive buffer too.
        byte[] two = [.. Multibulk(B("GET"), B("a")), .. Multibulk(B("GET"), B("bb"))];
        buffer = new ReadOnlySequence<byte>(two);
        Assert.Equal(ParseStatus.Command, parser.TryParse(buffer, out consumed, out _, out _));
        Assert.Equal(ParseStatus.Command, parser.TryParse(buffer.Slice(consumed), out _, out args, out _));
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(args[1]), ref two[two.AsSpan().LastIndexOf("bb"u8)]));
    }
}
