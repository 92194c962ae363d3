using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Fuzz;

/// <summary>
/// The fuzzed protocol surface (issue 21 point 6), with CsCheck property tests (SharpFuzz needs an AFL toolchain this
/// project does not have): random and mutated RESP frames (<see cref="FuzzInputs.Frames"/>) fed to the parser directly,
/// to in-process sessions and to a live server over sockets, and argument vectors for every command of the table
/// (<see cref="FuzzInputs.CommandSequence"/>). Properties: no exception escapes (and the live server logs no error), no
/// hang (each input answered within <see cref="ReplyTimeout"/>, PING answers after it), no allocation beyond
/// <see cref="MaxAllocationPerInput"/> per input (the parser: none proportional to a declared length it has not
/// received), the server stays up. The corpus in <c>Fuzz/corpus</c> (inputs that once failed or are worth keeping) is
/// replayed every run; the generators then run for <c>RESPKV_FUZZ_SECONDS</c> seconds in total (default 8; <c>.ci/run</c>'s
/// fuzz suite gives 60), shared by the four generated tests. A failure prints the input as a corpus line.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class FuzzTests
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>How long one input may take to be answered before it counts as a hang.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most bytes one generated input may allocate: above Redis's largest legitimate value (a 512 MB string or bitmap,
    /// which SETRANGE/SETBIT may make) with room for its copy, far below what an unchecked length would ask for.
    /// </summary>
    private const long MaxAllocationPerInput = 1536L << 20;

    /// <summary>Seconds each generated test runs: <c>RESPKV_FUZZ_SECONDS</c> (total, default 8) over the four of them, at least 1.</summary>
    private static int SecondsEach =>
        Math.Max(1, (int.TryParse(Environment.GetEnvironmentVariable("RESPKV_FUZZ_SECONDS"), out int total) && total > 0 ? total : 8) / 4);

    private static string CorpusDir => Path.Combine(AppContext.BaseDirectory, "Fuzz", "corpus");

    // ---- corpus ----------------------------------------------------------------------------------------------------

    /// <summary>Every saved frame input (<c>corpus/frames/*.resp</c>, raw bytes) through the parser, a session and the live server.</summary>
    [Fact]
    public async Task CorpusFramesReplay()
    {
        string[] files = Directory.GetFiles(Path.Combine(CorpusDir, "frames"), "*.resp");
        Assert.NotEmpty(files);
        var server = new RespServer(QuietOptions());
        var log = new ErrorLog();
        await using RespKvHost host = await StartLive(log);
        foreach (string file in files.Order())
        {
            byte[] input = File.ReadAllBytes(file);
            string name = Path.GetFileName(file);
            Wrap(name, () => ParseAll(input, new Random(1)));
            Wrap(name, () => SessionRun(server, input, new Random(1)));
            Wrap(name, () => LiveFrames(host.Port, input));
        }
        log.AssertNone();
    }

    /// <summary>Every saved command sequence (<c>corpus/commands.jsonl</c>: one JSON array of argument arrays a line) in-process and live.</summary>
    [Fact]
    public async Task CorpusCommandsReplay()
    {
        var sequences = new List<string[][]>();
        foreach (string line in File.ReadLines(Path.Combine(CorpusDir, "commands.jsonl")))
        {
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal)) continue;
            sequences.Add(JsonSerializer.Deserialize<string[][]>(line)!);
        }
        Assert.NotEmpty(sequences);
        var server = new RespServer(QuietOptions());
        var log = new ErrorLog();
        await using RespKvHost host = await StartLive(log);
        foreach (string[][] sequence in sequences)
        {
            string name = JsonSerializer.Serialize(sequence);
            Wrap(name, () => CommandsInProcess(server, sequence));
            Wrap(name, () => CommandsLive(host.Port, sequence));
        }
        log.AssertNone();
    }

    // ---- generated -------------------------------------------------------------------------------------------------

    /// <summary>The parser alone: any bytes, fed in random pieces, parse to commands, empty frames, "incomplete" or a protocol error.</summary>
    [Fact]
    public void ParserTakesAnyBytes() =>
        Run(Gen.Select(FuzzInputs.Frames, Gen.Int), t => ParseAll(t.Item1, new Random(t.Item2)), threads: 1, t => $"{Hex(t.Item1)} (pieces seed {t.Item2})");

    /// <summary>In-process sessions: any frames, in random pieces, are answered or end in a protocol error, and PING answers after.</summary>
    [Fact]
    public void SessionsTakeAnyFrames()
    {
        var server = new RespServer(QuietOptions());
        Run(Gen.Select(FuzzInputs.Frames, Gen.Int), t => SessionRun(server, t.Item1, new Random(t.Item2)), threads: 1,
            t => $"{Hex(t.Item1)} (pieces seed {t.Item2})");
    }

    /// <summary>Every command with generated arguments, in short sequences on shared keys, on in-process sessions.</summary>
    [Fact]
    public void EveryCommandTakesAnyArguments()
    {
        var server = new RespServer(QuietOptions());
        Run(FuzzInputs.CommandSequence, sequence => CommandsInProcess(server, sequence), threads: 1, s => JsonSerializer.Serialize(s));
    }

    /// <summary>
    /// A live server over sockets: generated frames and command sequences on new connections, two at a time; each is answered
    /// (or closed after a protocol error), the server answers PING after each, and logs no error.
    /// </summary>
    [Fact]
    public async Task LiveServerTakesAnyInput()
    {
        var log = new ErrorLog();
        await using RespKvHost host = await StartLive(log);
        int port = host.Port;
        Run(Gen.Frequency((1, FuzzInputs.Frames.Select(f => (Frames: f, Commands: (string[][]?)null))),
                (1, FuzzInputs.CommandSequence.Select(c => (Frames: (byte[]?)null, Commands: (string[][]?)c)))),
            input =>
            {
                if (input.Frames != null) LiveFrames(port, input.Frames);
                else CommandsLive(port, input.Commands!);
            }, threads: 2, i => i.Frames != null ? Hex(i.Frames) : JsonSerializer.Serialize(i.Commands));
        Assert.Equal("+PONG\r\n", Ping(port));
        log.AssertNone();
    }

    /// <summary>
    /// Samples <paramref name="gen"/> for <see cref="SecondsEach"/> seconds on <paramref name="threads"/> threads, checking each
    /// input; a failure (shrunk by CsCheck) is reported with the input as <paramref name="show"/> prints it (a corpus line) and
    /// the failure it caused.
    /// </summary>
    private static void Run<T>(Gen<T> gen, Action<T> check, int threads, Func<T, string> show) =>
        gen.Sample(check, time: SecondsEach, threads: threads, print: input =>
        {
            try
            {
                check(input);
                return show(input) + "\n(passed when run again)";
            }
            catch (Exception e)
            {
                return show(input) + "\n" + e;
            }
        });

    // ---- runners ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Parses <paramref name="input"/> frame by frame as a connection does, each frame's bytes arriving in random pieces;
    /// returns whether it ended on a complete frame (true) or in an incomplete one or a protocol error (false).
    /// </summary>
    private static bool ParseAll(byte[] input, Random random)
    {
        var parser = new RespParser();
        long before = GC.GetAllocatedBytesForCurrentThread();
        int start = 0;
        bool complete = true;
        while (start < input.Length)
        {
            int available = Math.Min(input.Length - start, random.Next(1, 48));
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(input, start, available);
                ParseStatus status = parser.TryParse(buffer, out long consumed, out _, out string? error);
                if (status == ParseStatus.Error)
                {
                    Assert.False(string.IsNullOrEmpty(error), "a protocol error without its text");
                    return false;
                }
                if (status == ParseStatus.Incomplete)
                {
                    if (start + available == input.Length) return false;
                    available = Math.Min(input.Length - start, available + random.Next(1, 48));
                    continue;
                }
                Assert.True(consumed > 0 && consumed <= available, $"frame consumed {consumed} of {available} bytes");
                start += (int)consumed;
                break;
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Slices of the input, a copy of a frame that spans reads, small state: never a declared length's worth.
        Assert.True(allocated <= 64L * input.Length + (1 << 20), $"the parser allocated {allocated} bytes for {input.Length} input bytes");
        return complete;
    }

    /// <summary>
    /// Feeds <paramref name="input"/> to a new in-process session in random pieces (unconsumed bytes kept in front of the
    /// next piece, as a pipe does); then, unless it closed, RESET and PING must answer <c>+RESET</c>, <c>+PONG</c>.
    /// </summary>
    private static void SessionRun(RespServer server, byte[] input, Random random)
    {
        var replies = new ArrayBufferWriter<byte>();
        var client = new ClientSession(server, replies);
        var pending = new List<byte>();
        int offset = 0;
        Bounded(input.Length, () =>
        {
            while (offset < input.Length && !client.CloseRequested)
            {
                int n = Math.Min(random.Next(1, 64), input.Length - offset);
                pending.AddRange(input.AsSpan(offset, n).ToArray());
                offset += n;
                var sequence = new ReadOnlySequence<byte>(pending.ToArray());
                SequencePosition consumed = client.ProcessReceived(sequence);
                pending.RemoveRange(0, (int)sequence.Slice(0, consumed).Length);
                client.Writer.Commit();
                if (replies.WrittenCount > 64 << 20) replies.ResetWrittenCount();
            }
        });
        if (client.CloseRequested || pending.Count > 0) return;
        replies.ResetWrittenCount();
        client.ProcessReceived(new ReadOnlySequence<byte>("*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n"u8.ToArray()));
        client.Writer.Commit();
        string reply = Latin1.GetString(replies.WrittenSpan);
        // A session that ran SYNC/PSYNC is a replica's link now: as in Redis, a replica gets the stream, not replies.
        Assert.True(reply.EndsWith("+RESET\r\n+PONG\r\n", StringComparison.Ordinal) || client.CloseRequested || client.ReplicaHandoff != null,
            $"no PONG after the input: {Tail(reply)}");
    }

    /// <summary>
    /// Runs <paramref name="sequence"/> on a new in-process session (a blocking command inside MULTI/EXEC, where it never
    /// blocks): every frame must be consumed, then RESET, PING and FLUSHALL answer.
    /// </summary>
    private static void CommandsInProcess(RespServer server, string[][] sequence)
    {
        var replies = new ArrayBufferWriter<byte>();
        var client = new ClientSession(server, replies);
        byte[] input = CommandBytes(sequence);
        Bounded(input.Length, () =>
        {
            var buffer = new ReadOnlySequence<byte>(input);
            SequencePosition consumed = client.ProcessReceived(buffer);
            client.Writer.Commit();
            Assert.True(client.CloseRequested || buffer.Slice(0, consumed).Length == input.Length, "the session stopped reading complete frames");
        });
        if (client.CloseRequested) return;
        replies.ResetWrittenCount();
        client.ProcessReceived(new ReadOnlySequence<byte>("*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n*1\r\n$8\r\nFLUSHALL\r\n"u8.ToArray()));
        client.Writer.Commit();
        string reply = Latin1.GetString(replies.WrittenSpan);
        Assert.True(reply.EndsWith("+RESET\r\n+PONG\r\n+OK\r\n", StringComparison.Ordinal) || client.CloseRequested, $"no PONG after the input: {Tail(reply)}");
    }

    /// <summary>The frames of <paramref name="sequence"/> (<see cref="FuzzInputs.CommandFrames"/>).</summary>
    private static byte[] CommandBytes(string[][] sequence) => sequence.SelectMany(FuzzInputs.CommandFrames).ToArray();

    /// <summary>
    /// Sends <paramref name="input"/> on a new connection, then RESET and ECHO of a marker: the marker must come back within
    /// <see cref="ReplyTimeout"/> unless the input ends inside a frame or the server closed the connection (a protocol
    /// error); either way the server must then answer PING on a new connection.
    /// </summary>
    private static void LiveFrames(int port, byte[] input)
    {
        bool complete = ParseAll(input, new Random(0));
        SendAndAwaitMarker(port, input, markerExpected: complete);
        Assert.Equal("+PONG\r\n", Ping(port));
    }

    /// <summary>Runs <paramref name="sequence"/> on a new connection: its replies and then the marker must arrive; then FLUSHALL.</summary>
    private static void CommandsLive(int port, string[][] sequence)
    {
        SendAndAwaitMarker(port, CommandBytes(sequence), markerExpected: true);
        Assert.Equal("+PONG\r\n", Ping(port));
    }

    private static void SendAndAwaitMarker(int port, byte[] input, bool markerExpected)
    {
        string marker = "fuzz-marker-" + Guid.NewGuid().ToString("N");
        byte[] tail = [.. FuzzInputs.Multibulk(["RESET"]), .. FuzzInputs.Multibulk(["FLUSHALL"]), .. FuzzInputs.Multibulk(["ECHO", marker])];
        using var tcp = new TcpClient { NoDelay = true };
        tcp.Connect("127.0.0.1", port);
        using NetworkStream stream = tcp.GetStream();
        stream.WriteTimeout = (int)ReplyTimeout.TotalMilliseconds;
        string id = ClientId(stream);
        // Replies are read while sending, so a large input's replies cannot stall the server's writes and ours. A blocking
        // command that a mutation or a raw frame left outside MULTI blocks as designed (BRPOPLPUSH k 1000): while no marker
        // comes, CLIENT UNBLOCK … ERROR from another connection ends such a block, so only a real hang runs out the time.
        var reader = Task.Run(() => ReadUntil(stream, Latin1.GetBytes(marker), markerExpected ? ReplyTimeout : TimeSpan.FromSeconds(1),
            () => Unblock(port, id)));
        try
        {
            stream.Write(input);
            stream.Write(tail);
        }
        catch (IOException)
        {
            // Closed by the server after a protocol error while we were still sending.
        }
        (bool found, bool closed) = reader.GetAwaiter().GetResult();
        if (markerExpected) Assert.True(found || closed, $"no reply within {ReplyTimeout.TotalSeconds} s (hang)");
    }

    /// <summary>The connection's CLIENT ID.</summary>
    private static string ClientId(NetworkStream stream)
    {
        stream.ReadTimeout = (int)ReplyTimeout.TotalMilliseconds;
        stream.Write(FuzzInputs.Multibulk(["CLIENT", "ID"]));
        var reply = new StringBuilder();
        while (!reply.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            int b = stream.ReadByte();
            if (b < 0) throw new IOException("closed before CLIENT ID answered");
            reply.Append((char)b);
        }
        return reply.ToString()[1..^2];
    }

    /// <summary>CLIENT UNBLOCK <paramref name="id"/> ERROR from a new connection (nothing happens when that client is not blocked).</summary>
    private static void Unblock(int port, string id)
    {
        try
        {
            using var admin = new RespTestClient(port, (int)ReplyTimeout.TotalMilliseconds);
            admin.Call("CLIENT", "UNBLOCK", id, "ERROR");
        }
        catch (IOException)
        {
            // A generated CLIENT KILL closed it: the next stall tries again.
        }
    }

    /// <summary>
    /// Reads until <paramref name="marker"/> appears (true, false), the peer closes (false, true) or the time is up (false, false),
    /// calling <paramref name="onStall"/> after each second without the marker.
    /// </summary>
    private static (bool Found, bool Closed) ReadUntil(NetworkStream stream, byte[] marker, TimeSpan timeout, Action onStall)
    {
        var deadline = Stopwatch.StartNew();
        var window = new List<byte>();
        byte[] buffer = new byte[64 * 1024];
        TimeSpan nextStall = TimeSpan.FromSeconds(1);
        while (deadline.Elapsed < timeout)
        {
            if (deadline.Elapsed >= nextStall)
            {
                onStall();
                nextStall = deadline.Elapsed + TimeSpan.FromSeconds(1);
            }
            stream.ReadTimeout = Math.Max(1, (int)Math.Min((timeout - deadline.Elapsed).TotalMilliseconds, 1000));
            int n;
            try
            {
                n = stream.Read(buffer, 0, buffer.Length);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                continue;
            }
            catch (IOException)
            {
                return (false, true);
            }
            if (n == 0) return (false, true);
            window.AddRange(buffer.AsSpan(0, n).ToArray());
            if (window.Count > marker.Length * 4 + buffer.Length) window.RemoveRange(0, window.Count - marker.Length - buffer.Length);
            if (CollectionsMarshal(window).IndexOf(marker) >= 0) return (true, false);
            // An inline SYNC/PSYNC in the input made the connection a replica's link (the RDB transfer began): as in Redis,
            // a replica gets the stream, not replies, so no marker comes; the PING that follows still must answer.
            if (CollectionsMarshal(window).IndexOf("REDIS0010"u8) >= 0) return (true, false);
        }
        return (false, false);
    }

    private static ReadOnlySpan<byte> CollectionsMarshal(List<byte> list) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list);

    /// <summary>PING on a new connection (retried once if a generated CLIENT KILL closed it); returns the reply.</summary>
    private static string Ping(int port)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var client = new RespTestClient(port, (int)ReplyTimeout.TotalMilliseconds);
                return client.Call("PING");
            }
            catch (IOException) when (attempt == 0)
            {
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> and fails when it took longer than <see cref="ReplyTimeout"/> (a hang: a watchdog
    /// prints the stack while it runs on) or allocated more than <see cref="MaxAllocationPerInput"/>.
    /// </summary>
    private static void Bounded(int inputLength, Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        using (var watchdog = new Timer(_ => Console.Error.WriteLine($"fuzz: an input of {inputLength} bytes is running for over {ReplyTimeout.TotalSeconds} s"),
                   null, ReplyTimeout, Timeout.InfiniteTimeSpan))
        {
            action();
        }
        // The thread's counter is exact but was once seen to jump by exactly 2^32 (a CI run: "allocated 4295065728 bytes for
        // 211 input bytes", not reproduced with the same input); the process-wide precise counter, which also counts the other
        // threads, bounds it from above, so the smaller of the two is still an upper bound of what the input allocated.
        long allocated = Math.Min(GC.GetAllocatedBytesForCurrentThread() - before, GC.GetTotalAllocatedBytes(precise: true) - totalBefore);
        Assert.True(watch.Elapsed < ReplyTimeout, $"took {watch.Elapsed.TotalSeconds:F1} s (hang)");
        Assert.True(allocated <= MaxAllocationPerInput, $"allocated {allocated} bytes for {inputLength} input bytes");
    }

    private static void Wrap(string input, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"corpus input {input}: {e}");
        }
    }

    /// <summary>Default options without save points, in a private directory: fuzzed FLUSHALL/SAVE/DEBUG RELOAD write no dump.rdb where other tests start.</summary>
    private static ServerOptions QuietOptions() => new() { Save = "", Dir = Directory.CreateTempSubdirectory("respkv-fuzz-").FullName };

    private static async Task<RespKvHost> StartLive(ErrorLog log)
    {
        // No save points and a private directory: fuzzed FLUSHALL/SAVE/DEBUG RELOAD write no dump.rdb where other tests start.
        var options = new ServerOptions { Port = 0, Bind = ["127.0.0.1"], Save = "", Dir = Directory.CreateTempSubdirectory("respkv-fuzz-").FullName };
        RespKvHost host = RespKvHost.Create(options, logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddProvider(log);
        });
        await host.StartAsync();
        return host;
    }

    private static string Hex(byte[] input) => Convert.ToHexString(input);

    private static string Tail(string reply) => reply.Length > 300 ? "…" + reply[^300..] : reply;

    /// <summary>Collects the server's Error and Critical log entries (an unhandled exception in a command is logged so).</summary>
    private sealed class ErrorLog : ILoggerProvider, ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _errors = new();

        public void AssertNone() => Assert.True(_errors.IsEmpty, "the server logged: " + string.Join("\n", _errors));

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) _errors.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
        }

        public void Dispose()
        {
        }
    }
}
