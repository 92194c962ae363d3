using System.Buffers;
using BenchmarkDotNet.Attributes;

namespace RespKv.Benchmarks;

/// <summary>
/// Hash commands through the command path without sockets (as <see cref="CommandPipelineBenchmarks"/>): batches of 16
/// pipelined commands against one hash of 100,000 fields (<c>element:NNNNNN</c>, 1-byte values), as
/// <c>redis-benchmark … hset myhash element:__rand_int__ v</c> builds it. MemoryDiagnoser's "Allocated" column is bytes per
/// batch: the reads, and writes that change the hash in place (<see cref="RespKv.Storage.SortedHash.Put"/>), must allocate
/// nothing.
/// </summary>
[MemoryDiagnoser]
public class HashBenchmarks : SessionBenchmarks
{
    private const int Fields = 100_000;

    private ReadOnlySequence<byte> _hsetSame, _hsetLonger, _hsetShorter, _hget, _hdelHset;

    /// <summary>Builds a server with the hash the batches touch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        StartServer();
        for (int start = 0; start < Fields; start += Batches.Size)
            Run(Frames(i => ["HSET", "myhash", Field(start + i), "v"]));
        _hsetSame = Frames(i => ["HSET", "myhash", Field(i * 6007), "v"]);
        _hsetLonger = Frames(i => ["HSET", "myhash", Field(i * 6007), "vv"]);
        _hsetShorter = Frames(i => ["HSET", "myhash", Field(i * 6007), "v"]);
        _hget = Frames(i => ["HGET", "myhash", Field(i * 6007)]);
        _hdelHset = Frames(i => i % 2 == 0 ? ["HDEL", "myhash", Field(i * 6007)] : ["HSET", "myhash", Field((i - 1) * 6007), "v"]);
    }

    private static string Field(int i) => $"element:{i % Fields:D6}";

    /// <summary>16 × HSET of an existing field with a value of the same length (overwritten where it is).</summary>
    [Benchmark]
    public void HSetSameLength() => Run(_hsetSame);

    /// <summary>16 × HSET with a longer value, then 16 × with the shorter one again (the leaf's bytes move in place).</summary>
    [Benchmark]
    public void HSetOtherLength()
    {
        Run(_hsetLonger);
        Run(_hsetShorter);
    }

    /// <summary>8 × (HDEL of a field, HSET of it again): a field removed and inserted in place.</summary>
    [Benchmark]
    public void HDelThenHSet() => Run(_hdelHset);

    /// <summary>16 × HGET (under the shard lock).</summary>
    [Benchmark(Baseline = true)]
    public void HGet() => Run(_hget);
}
