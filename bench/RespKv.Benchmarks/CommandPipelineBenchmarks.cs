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
        CreateSession();
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

/// <summary>
/// The shared frame of the pipeline benchmarks: one in-process <see cref="ClientSession"/> whose replies go to a reusable
/// buffer, and <see cref="Run"/>, which hands it one received batch as the network loop does.
/// </summary>
public abstract class SessionBenchmarks
{
    private readonly ArrayBufferWriter<byte> _replies = new(64 * 1024);
    private ClientSession _client = null!;

    /// <summary>Creates the server and the session the batches run on (call first in the benchmark's setup).</summary>
    protected void CreateSession()
    {
        var server = new RespServer(new ServerOptions { Port = 0 });
        _client = new ClientSession(server, _replies);
    }

    /// <summary>Runs one received batch: parse, execute, reply into the buffer, commit.</summary>
    protected void Run(ReadOnlySequence<byte> frames)
    {
        _replies.ResetWrittenCount();
        _client.ProcessReceived(frames);
        _client.Writer.Commit();
    }

    /// <summary>A batch of 16 frames, one per <paramref name="command"/>(i).</summary>
    protected static ReadOnlySequence<byte> Frames(Func<int, string[]> command) => new(Batches.Frames(command));
}
