using System.Buffers;
using BenchmarkDotNet.Attributes;
using RespKv.Configuration;
using RespKv.Server;

namespace RespKv.Benchmarks;

/// <summary>
/// The command path of redis-benchmark's collection tests without sockets: a batch of 16 pipelined commands on one key
/// each (mylist, myset, as redis-benchmark sends them: <c>-t lpush,rpop,sadd,spop -P 16</c>), parsed, executed and
/// answered into a reusable buffer, beside PING (parser, dispatch and writer alone). Pushes and pops alternate batches,
/// so the collections stay the same size. "Allocated" is bytes per batch of 16.
/// </summary>
[MemoryDiagnoser]
public class CollectionPipelineBenchmarks : SessionBenchmarks
{
    private ReadOnlySequence<byte> _lpush, _rpop, _sadd, _srem, _lrange, _ping;

    /// <summary>Builds a server with a 1,000-element list and a 1,000-member set.</summary>
    [GlobalSetup]
    public void Setup()
    {
        StartServer();
        _lpush = Frames(_ => ["LPUSH", "mylist", "xxx"]);
        _rpop = Frames(_ => ["RPOP", "mylist"]);
        _sadd = Frames(i => ["SADD", "myset", $"element:{i:D12}"]);
        _srem = Frames(i => ["SREM", "myset", $"element:{i:D12}"]);
        _lrange = Frames(_ => ["LRANGE", "mylist", "0", "99"]);
        _ping = Frames(_ => ["PING"]);
        for (int i = 0; i < 1000 / Batches.Size; i++) Run(_lpush);
        Run(new ReadOnlySequence<byte>(Batches.Frames(i => ["SADD", "myset", .. Enumerable.Range(0, 1000).Select(n => $"m{n:D9}")])));
    }

    /// <summary>16 × LPUSH mylist xxx, then 16 × RPOP mylist.</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public void LPushRPop()
    {
        Run(_lpush);
        Run(_rpop);
    }

    /// <summary>16 × SADD myset of new members, then 16 × SREM of them.</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public void SAddSRem()
    {
        Run(_sadd);
        Run(_srem);
    }

    /// <summary>16 × LRANGE mylist 0 99 (redis-benchmark's lrange_100).</summary>
    [Benchmark]
    public void LRange100() => Run(_lrange);

    /// <summary>16 × PING.</summary>
    [Benchmark(Baseline = true)]
    public void Ping() => Run(_ping);
}
