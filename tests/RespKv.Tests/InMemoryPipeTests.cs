using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using RespKv.Configuration;
using RespKv.Server;

namespace RespKv.Tests;

/// <summary>
/// <see cref="ClientSession.RunAsync"/> over in-memory <see cref="Pipe"/>s, no socket and no Kestrel:
/// the session needs only an <see cref="IDuplexPipe"/>. Pipelined commands get every reply, in order,
/// written with one flush per batch of received commands.
/// </summary>
public sealed class InMemoryPipeTests
{
    /// <summary>A PipeWriter that counts FlushAsync calls and forwards everything to another writer.</summary>
    private sealed class CountingPipeWriter(PipeWriter inner) : PipeWriter
    {
        private int _flushes;

        public int Flushes => Volatile.Read(ref _flushes);

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _flushes);
            return inner.FlushAsync(cancellationToken);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>A session over two pipes: <c>ToServer</c> is what a client sends, <c>FromServer</c> what it receives.</summary>
    private sealed class Harness
    {
        public readonly Pipe ToServer = new();
        public readonly Pipe FromServer = new();
        public readonly CountingPipeWriter Output;
        public readonly ClientSession Session;

        public Harness()
        {
            Output = new CountingPipeWriter(FromServer.Writer);
            Session = new ClientSession(new RespServer(new ServerOptions()), Output, "pipe:1", "pipe:0");
        }

        public Task Run() => Session.RunAsync(new DuplexPipe(ToServer.Reader, Output));

        public async Task Send(string text)
        {
            await ToServer.Writer.WriteAsync(Encoding.Latin1.GetBytes(text));
        }

        /// <summary>Reads what one ReadAsync returns (everything flushed so far) as Latin-1 text.</summary>
        public async Task<string> ReceiveOnce()
        {
            ReadResult result = await FromServer.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            string text = Encoding.Latin1.GetString(result.Buffer.ToArray());
            FromServer.Reader.AdvanceTo(result.Buffer.End);
            return text;
        }
    }

    private static string Command(params string[] args)
    {
        var sb = new StringBuilder($"*{args.Length}\r\n");
        foreach (string a in args) sb.Append('$').Append(a.Length).Append("\r\n").Append(a).Append("\r\n");
        return sb.ToString();
    }

    [Fact]
    public async Task PipelinedBatchGetsAllRepliesInOrderWithOneFlush()
    {
        var h = new Harness();
        var batch = new StringBuilder();
        var expected = new StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            batch.Append(Command("SET", $"k{i}", $"v{i}"));
            expected.Append("+OK\r\n");
            batch.Append(Command("GET", $"k{i}"));
            expected.Append($"${$"v{i}".Length}\r\nv{i}\r\n");
            batch.Append(Command("INCR", "n"));
            expected.Append($":{i + 1}\r\n");
        }
        batch.Append("PING\r\n");
        expected.Append("+PONG\r\n");
        await h.Send(batch.ToString()); // all in the input pipe before the session's first read
        Task session = h.Run();

        Assert.Equal(expected.ToString(), await h.ReceiveOnce()); // every reply, in order, together
        Assert.Equal(1, h.Output.Flushes);

        // A second batch: one more flush.
        await h.Send(Command("GET", "k7") + Command("ECHO", "x") + "PING\r\n");
        Assert.Equal("$2\r\nv7\r\n$1\r\nx\r\n+PONG\r\n", await h.ReceiveOnce());
        Assert.Equal(2, h.Output.Flushes);

        await h.ToServer.Writer.CompleteAsync(); // the client hangs up: the session ends
        await session.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await h.FromServer.Reader.ReadAsync()).IsCompleted);
    }

    [Fact]
    public async Task FrameSplitAcrossWritesIsAnsweredWhenComplete()
    {
        var h = new Harness();
        Task session = h.Run();
        string frame = Command("SET", "split", new string('x', 10_000)) + Command("STRLEN", "split");
        await h.Send(frame[..3]);
        await h.Send(frame[3..5000]);
        Assert.Equal(0, h.Output.Flushes); // nothing complete yet: nothing written
        await h.Send(frame[5000..]);
        string reply = await h.ReceiveOnce();
        if (reply != "+OK\r\n:10000\r\n") reply += await h.ReceiveOnce();
        Assert.Equal("+OK\r\n:10000\r\n", reply);
        await h.ToServer.Writer.CompleteAsync();
        await session.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task QuitEndsTheSessionAfterItsReply()
    {
        var h = new Harness();
        await h.Send("PING\r\nQUIT\r\nPING\r\n");
        Task session = h.Run();
        await session.WaitAsync(TimeSpan.FromSeconds(10)); // ends without the client closing its side
        Assert.Equal("+PONG\r\n+OK\r\n", await h.ReceiveOnce());
        Assert.Equal(1, h.Output.Flushes);
        Assert.True(h.Session.CloseRequested);
    }

    [Fact]
    public async Task ProtocolErrorRepliesThenEndsTheSession()
    {
        var h = new Harness();
        await h.Send("PING\r\n*1\r\n$abc\r\nPING\r\n");
        Task session = h.Run();
        await session.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("+PONG\r\n-ERR Protocol error: invalid bulk length\r\n", await h.ReceiveOnce());
    }
}
