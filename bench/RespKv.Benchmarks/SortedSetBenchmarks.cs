using System.Buffers;
using BenchmarkDotNet.Attributes;

namespace RespKv.Benchmarks;

/// <summary>
/// Sorted-set commands through the command path without sockets (as <see cref="CommandPipelineBenchmarks"/>): batches of
/// 16 pipelined commands against one sorted set of 100,000 members (10-byte members, integer scores). MemoryDiagnoser's
/// "Allocated" column is bytes per batch: the reads and the in-place score changes must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class SortedSetBenchmarks : SessionBenchmarks
{
    private const int Members = 100_000;

    private ReadOnlySequence<byte> _zadd, _zincrby, _zscore, _zrank, _zrange;

    /// <summary>Builds a server with the sorted set the batches touch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        StartServer();
        for (int start = 0; start < Members; start += Batches.Size)
            Run(Frames(i => ["ZADD", "z", $"{start + i}", Member(start + i)]));
        _zadd = Frames(i => ["ZADD", "z", $"{i * 6007}", Member(i * 6007)]);
        _zincrby = Frames(i => ["ZINCRBY", "z", "0.5", Member(i * 6007)]);
        _zscore = Frames(i => ["ZSCORE", "z", Member(i * 6007)]);
        _zrank = Frames(i => ["ZRANK", "z", Member(i * 6007)]);
        _zrange = Frames(i => ["ZRANGE", "z", $"{i * 6007}", $"{i * 6007 + 9}", "WITHSCORES"]);
    }

    private static string Member(int i) => $"m{i:D9}";

    /// <summary>16 × ZADD of a member already there with its score (a lookup, no change).</summary>
    [Benchmark]
    public void ZAdd() => Run(_zadd);

    /// <summary>16 × ZINCRBY 0.5 (a score changed in place, and now and then a member moving past its neighbour).</summary>
    [Benchmark]
    public void ZIncrBy() => Run(_zincrby);

    /// <summary>16 × ZSCORE (the member index).</summary>
    [Benchmark(Baseline = true)]
    public void ZScore() => Run(_zscore);

    /// <summary>16 × ZRANK (the member index, then the score order's counts).</summary>
    [Benchmark]
    public void ZRank() => Run(_zrank);

    /// <summary>16 × ZRANGE of 10 members WITHSCORES (a rank descent, then a walk of the leaves).</summary>
    [Benchmark]
    public void ZRange() => Run(_zrange);
}
