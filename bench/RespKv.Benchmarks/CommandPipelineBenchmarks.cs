using System.Buffers;
using BenchmarkDotNet.Attributes;
using RespKv.Configuration;
using RespKv.Server;

namespace RespKv.Benchmarks;

/// <summary>
/// Cost of the command path without sockets: a batch of 16 pipelined commands (as redis-benchmark -P 16
/// sends them) parsed, dispatched, executed against the keyspace, and answered into a reusable buffer —
/// the same <see cref="ClientSession.ProcessReceived"/> the network loop calls once per read.
/// MemoryDiagnoser's "Allocated" column is bytes per batch: GET must allocate nothing; SET allocates only
/// what it stores (the value array and the replacing keyspace node).
/// </summary>
[MemoryDiagnoser]
public class CommandPipelineBenchmarks : SessionBenchmarks
{
    private ReadOnlySequence<byte> _get, _set, _mget, _incr, _ping;

    /// <summary>Builds a server with the keys the batches touch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        StartServer();
        _set = Frames(i => ["SET", $"key:{i:D6}", new string('x', 100)]);
        _get = Frames(i => ["GET", $"key:{i:D6}"]);
        _mget = Frames(i => ["MGET", $"key:{i:D6}", $"key:{i + 1:D6}", $"key:{i + 2:D6}"]);
        _incr = Frames(i => ["INCR", $"counter:{i % 4}"]);
        _ping = Frames(_ => ["PING"]);
        Run(_set);
    }

    /// <summary>16 × SET key (100-byte value).</summary>
    [Benchmark]
    public void Set() => Run(_set);

    /// <summary>16 × GET key (hit).</summary>
    [Benchmark]
    public void Get() => Run(_get);

    /// <summary>16 × MGET of 3 keys (seqlock snapshot).</summary>
    [Benchmark]
    public void MGet() => Run(_mget);

    /// <summary>16 × INCR.</summary>
    [Benchmark]
    public void Incr() => Run(_incr);

    /// <summary>16 × PING: parser, dispatch and writer alone.</summary>
    [Benchmark(Baseline = true)]
    public void Ping() => Run(_ping);
}

/// <summary>A client session of a new server (no sockets) and the running of request batches through it.</summary>
public abstract class SessionBenchmarks
{
    private readonly ArrayBufferWriter<byte> _replies = new(64 * 1024);
    private ClientSession _client = null!;

    /// <summary>Starts a new server and this benchmark's client of it.</summary>
    protected void StartServer() => _client = new ClientSession(new RespServer(new ServerOptions { Port = 0 }), _replies);

    /// <summary>Runs one received batch as the network loop would (<see cref="ClientSession.ProcessReceived"/>), replies into a reused buffer.</summary>
    protected void Run(ReadOnlySequence<byte> frames)
    {
        _replies.ResetWrittenCount();
        _client.ProcessReceived(frames);
        _client.Writer.Commit();
    }

    /// <summary>A batch of <see cref="Batches.Size"/> frames, one per <paramref name="command"/>(i).</summary>
    protected static ReadOnlySequence<byte> Frames(Func<int, string[]> command) => new(Batches.Frames(command));
}
