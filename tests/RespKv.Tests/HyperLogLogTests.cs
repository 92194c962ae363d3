using System.Text;
using RespKv.Commands;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;
using Xunit.Abstractions;

namespace RespKv.Tests;

/// <summary>
/// HyperLogLog (https://redis.io/commands/?group=hyperloglog) against redis-server 7.0.15 when it is installed: the HLL
/// strings each server builds for the same PFADDs and PFMERGEs are equal byte for byte, and a value copied from one to the
/// other with GET/SET counts the same and keeps growing identically, and seeded random PFADD/PFMERGE/PFCOUNT/PFDEBUG
/// sequences (with <c>hll-sparse-max-bytes</c> changed on the way) leave the same bytes on both. Also: the estimate of 100,000 distinct elements within
/// Redis's error bound, the sparse→dense promotion at the configured <c>hll-sparse-max-bytes</c>, corrupted values, the
/// cached cardinality, and PFSELFTEST.
/// </summary>
public sealed class HyperLogLogTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static string Bulk(string s) => $"${Latin1.GetByteCount(s)}\r\n{s}\r\n";

    /// <summary>The bytes of a bulk-string reply, as a Latin-1 string (one char per byte).</summary>
    private static string Value(string reply)
    {
        Assert.StartsWith("$", reply);
        int header = reply.IndexOf("\r\n", StringComparison.Ordinal);
        return reply.Substring(header + 2, int.Parse(reply.AsSpan(1, header - 1)));
    }

    private static void Add(RespTestClient c, string key, IEnumerable<string> elements, int perCommand = 1000)
    {
        foreach (string[] chunk in elements.Chunk(perCommand)) Assert.StartsWith(":", c.Call([.. new[] { "PFADD", key }, .. chunk]));
    }

    private void WithRedis(Action<RespTestClient> test) => ReferenceRedis.Run(output, test);

    [Fact]
    public void BothServersBuildTheSameBytes()
    {
        WithRedis(redis =>
        {
            using RespTestClient ours = server.Connect();
            var random = new Random(20);
            foreach ((string key, int count) in new[] { ("h:same:1", 1), ("h:same:50", 50), ("h:same:700", 700), ("h:same:5000", 5000), ("h:same:30000", 30000) })
            {
                string[] elements = [.. Enumerable.Range(0, count).Select(i => $"{key}-{i}-{random.Next()}")];
                Add(redis, key, elements);
                Add(ours, key, elements);
                Assert.Equal(redis.Call("GET", key), ours.Call("GET", key));
                Assert.Equal(redis.Call("PFDEBUG", "ENCODING", key), ours.Call("PFDEBUG", "ENCODING", key));
                Assert.Equal(redis.Call("PFCOUNT", key), ours.Call("PFCOUNT", key));
                Assert.Equal(redis.Call("GET", key), ours.Call("GET", key)); // the cached cardinality, now valid
            }
            foreach (RespTestClient c in new[] { redis, ours })
            {
                Assert.Equal("+OK\r\n", c.Call("PFMERGE", "h:same:merged", "h:same:50", "h:same:700"));
                Assert.Equal("+OK\r\n", c.Call("PFMERGE", "h:same:mergedense", "h:same:1", "h:same:30000", "h:same:missing"));
            }
            Assert.Equal(redis.Call("GET", "h:same:merged"), ours.Call("GET", "h:same:merged"));
            Assert.Equal(redis.Call("GET", "h:same:mergedense"), ours.Call("GET", "h:same:mergedense"));
            Assert.Equal(redis.Call("PFCOUNT", "h:same:50", "h:same:5000", "h:same:1"), ours.Call("PFCOUNT", "h:same:50", "h:same:5000", "h:same:1"));
        });
    }

    [Fact]
    public void ValuesCopiedBetweenTheServersCountTheSameAndKeepGrowingTheSame()
    {
        WithRedis(redis =>
        {
            using RespTestClient ours = server.Connect();
            foreach ((string key, int count) in new[] { ("h:copy:sparse", 300), ("h:copy:dense", 20000) })
            {
                // Redis → RespKv.
                Add(redis, key, Enumerable.Range(0, count).Select(i => $"r{i}"));
                string fromRedis = Value(redis.Call("GET", key));
                Assert.Equal("+OK\r\n", ours.Call("SET", key, fromRedis));
                Assert.Equal(redis.Call("PFCOUNT", key), ours.Call("PFCOUNT", key));
                string[] more = [.. Enumerable.Range(0, 500).Select(i => $"more{i}")];
                Add(redis, key, more);
                Add(ours, key, more);
                Assert.Equal(redis.Call("GET", key), ours.Call("GET", key));
                // RespKv → Redis.
                string back = key + ":back";
                Add(ours, back, Enumerable.Range(0, count).Select(i => $"o{i}"));
                Assert.Equal("+OK\r\n", redis.Call("SET", back, Value(ours.Call("GET", back))));
                Assert.Equal(ours.Call("PFCOUNT", back), redis.Call("PFCOUNT", back));
                Add(redis, back, more);
                Add(ours, back, more);
                Assert.Equal(ours.Call("GET", back), redis.Call("GET", back));
            }
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task RandomOperationsGiveRedisServersBytes(int seed)
    {
        await using RespKvHost host = await ServerFixture.StartFresh(); // its own: the test changes hll-sparse-max-bytes
        WithRedis(redis =>
        {
            using var ours = new RespTestClient(host.Port);
            var random = new Random(seed);
            string[] keys = [.. Enumerable.Range(0, 4).Select(i => $"h:rnd{seed}:{i}")];
            int[] limits = [40, 200, 1000, 3000];
            for (int step = 0; step < 400; step++)
            {
                string[] command = random.Next(20) switch
                {
                    0 => ["CONFIG", "SET", "hll-sparse-max-bytes", limits[random.Next(limits.Length)].ToString()],
                    1 or 2 => [.. new[] { "PFMERGE" }, .. keys.OrderBy(_ => random.Next()).Take(random.Next(1, 4))],
                    3 or 4 => ["PFCOUNT", keys[random.Next(keys.Length)]],
                    5 => [.. new[] { "PFCOUNT" }, .. keys.OrderBy(_ => random.Next()).Take(random.Next(2, 5))],
                    6 => ["PFDEBUG", random.Next(2) == 0 ? "ENCODING" : "DECODE", keys[random.Next(keys.Length)]],
                    _ => [.. new[] { "PFADD", keys[random.Next(keys.Length)] },
                        .. Enumerable.Range(0, random.Next(1, random.Next(3) == 0 ? 300 : 8)).Select(_ => "e" + random.Next(50_000))],
                };
                Assert.True(redis.Call(command) == ours.Call(command), $"seed {seed} step {step}: {string.Join(' ', command.Take(6))}");
                foreach (string key in keys) Assert.Equal(redis.Call("GET", key), ours.Call("GET", key));
            }
        });
    }

    [Fact]
    public void HundredThousandDistinctElementsAreCountedWithinTheErrorBound()
    {
        using RespTestClient c = server.Connect();
        Add(c, "h:100k", Enumerable.Range(0, 100_000).Select(i => $"user:{i}"));
        string reply = c.Call("PFCOUNT", "h:100k");
        long estimate = long.Parse(reply.AsSpan(1, reply.Length - 3));
        // Redis documents a standard error of 0.81% (1.04/sqrt(16384)); allow three of them.
        Assert.InRange(estimate, 100_000 * (1 - 3 * 0.0081), 100_000 * (1 + 3 * 0.0081));
        Assert.Equal("+dense\r\n", c.Call("PFDEBUG", "ENCODING", "h:100k"));
        Assert.Equal($":{HyperLogLog.DenseSize}\r\n", c.Call("STRLEN", "h:100k"));
        WithRedis(redis =>
        {
            Add(redis, "h:100k", Enumerable.Range(0, 100_000).Select(i => $"user:{i}"));
            Assert.Equal(redis.Call("PFCOUNT", "h:100k"), reply);
        });
    }

    [Theory]
    [InlineData(60)]
    [InlineData(300)]
    [InlineData(3000)]
    public async Task SparseTurnsDenseAtTheConfiguredSize(int maxBytes)
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.HllSparseMaxBytes = maxBytes);
        using var c = new RespTestClient(host.Port);
        int previousLength = 0;
        for (int i = 0; ; i++)
        {
            Assert.StartsWith(":", c.Call("PFADD", "h", $"element{i}"));
            string strlen = c.Call("STRLEN", "h");
            int length = int.Parse(strlen.AsSpan(1, strlen.Length - 3));
            if (c.Call("PFDEBUG", "ENCODING", "h") == "+sparse\r\n")
            {
                Assert.InRange(length, HyperLogLog.HeaderSize, maxBytes);
                previousLength = length;
                continue;
            }
            Assert.Equal(HyperLogLog.DenseSize, length);
            // One add grows a sparse value by at most 3 bytes (an XZERO split into XZERO-VAL-XZERO): it turned dense
            // because the next sparse form would have passed the limit.
            Assert.InRange(previousLength, maxBytes - 2, maxBytes);
            break;
        }
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "hll-sparse-max-bytes", "100"));
        Assert.Equal("*2\r\n$20\r\nhll-sparse-max-bytes\r\n$3\r\n100\r\n", c.Call("CONFIG", "GET", "hll-sparse-max-bytes"));
        Assert.Equal(100, host.Server.Options.HllSparseMaxBytes);
    }

    [Fact]
    public void CorruptValuesAndOtherStringsAreRefused()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "h:bad:plain", "hello"));
        Assert.Equal("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", c.Call("PFADD", "h:bad:plain", "a"));
        Assert.Equal("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", c.Call("PFCOUNT", "h:bad:plain"));
        // Sparse opcodes covering 16383 registers instead of 16384.
        Assert.Equal("+OK\r\n", c.Call("SET", "h:bad:sparse", "HYLL\u0001\0\0\0\0\0\0\0\0\0\0\u0080\u007f\u00fe"));
        Assert.Equal("-INVALIDOBJ Corrupted HLL object detected\r\n", c.Call("PFCOUNT", "h:bad:sparse"));
        // A PFADD only walks the opcodes up to its register: one the opcodes cover is set (redis-server 7.0.15 answers :1 too).
        Assert.Equal(":1\r\n", c.Call("PFADD", "h:bad:sparse", "x"));
        Assert.Equal("-INVALIDOBJ Corrupted HLL object detected\r\n", c.Call("PFCOUNT", "h:bad:sparse"));
        Assert.Equal("-INVALIDOBJ Corrupted HLL object detected\r\n", c.Call("PFMERGE", "h:bad:d", "h:bad:sparse"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "h:bad:d"));
        // A dense value of the wrong length.
        Assert.Equal("+OK\r\n", c.Call("SET", "h:bad:dense", "HYLL\0\0\0\0\0\0\0\0\0\0\0\0xyz"));
        Assert.Equal("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", c.Call("PFCOUNT", "h:bad:dense"));
        Assert.Equal(":1\r\n", c.Call("LPUSH", "h:bad:list", "a"));
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("PFADD", "h:bad:list", "a"));
    }

    [Fact]
    public void PfCountCachesTheCardinalityInTheHeader()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":1\r\n", c.Call("PFADD", "h:cache", "a", "b", "c"));
        string invalid = Value(c.Call("GET", "h:cache"));
        Assert.Equal(0x80, invalid[15] & 0x80); // PFADD invalidated the cache
        Assert.Equal(":3\r\n", c.Call("PFCOUNT", "h:cache"));
        string cached = Value(c.Call("GET", "h:cache"));
        Assert.Equal("\u0003\0\0\0\0\0\0\0", cached.Substring(8, 8));
        Assert.Equal(invalid[16..], cached[16..]);
        // A cached value is answered as stored, even one that does not match the registers.
        Assert.Equal("+OK\r\n", c.Call("SET", "h:cache", cached[..8] + "\u002a" + cached[9..]));
        Assert.Equal(":42\r\n", c.Call("PFCOUNT", "h:cache"));
        Assert.Equal(":0\r\n", c.Call("PFADD", "h:cache", "a"));
        Assert.Equal(":42\r\n", c.Call("PFCOUNT", "h:cache"));
        Assert.Equal(":1\r\n", c.Call("PFADD", "h:cache", "d"));
        Assert.Equal(":4\r\n", c.Call("PFCOUNT", "h:cache"));
        Assert.Equal(Bulk("raw"), c.Call("OBJECT", "ENCODING", "h:cache"));
    }

    [Fact]
    public void SelfTestPasses()
    {
        Assert.Null(HyperLogLogCommands.SelfTest(3000));
        Assert.Null(HyperLogLogCommands.SelfTest(100));
    }

    [Fact]
    public void DenseRegistersRoundTrip()
    {
        byte[] registers = new byte[HyperLogLog.DenseSize - HyperLogLog.HeaderSize];
        var random = new Random(7);
        int[] expected = new int[HyperLogLog.Registers];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = random.Next(64);
            HyperLogLog.DenseSet(registers, i, expected[i]);
        }
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], HyperLogLog.DenseGet(registers, i));
        Assert.Equal(0, HyperLogLog.Count(HyperLogLog.CreateEmpty(), out bool invalid));
        Assert.False(invalid);
        Assert.Equal(18, HyperLogLog.CreateEmpty().Length);
    }
}
