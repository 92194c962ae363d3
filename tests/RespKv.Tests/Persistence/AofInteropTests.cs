using System.Text;
using RespKv.Persistence;
using RespKv.Server;
using RespKv.Tests.Support;
using Xunit.Abstractions;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests.Persistence;

/// <summary>
/// The AOF against the reference tools: redis-check-aof 7.0 accepts RespKv's file; redis-server 7.0 loads RespKv's
/// file and RespKv loads redis-server's <c>appendonlydir</c> (manifest, base and incr files), with the same data.
/// Skipped with a message when the tools are missing (CI installs them).
/// </summary>
public sealed class AofInteropTests(ITestOutputHelper output)
{
    private static readonly string? RedisServer = FindTool("redis-server");
    private static readonly string? CheckAof = FindTool("redis-check-aof");

    /// <summary>
    /// Writes a varied dataset through <paramref name="c"/>: strings, binary values, INCRBYFLOAT (logged as
    /// <c>SET key value KEEPTTL</c>), hashes (one above 64 fields), keys with absolute and relative expiry times
    /// (logged as <c>PXAT</c>/<c>PEXPIREAT</c>), several databases, a transaction.
    /// </summary>
    private static void WriteDataset(RespTestClient c)
    {
        Assert.Equal("+OK\r\n", c.Call("SET", "str", "hello"));
        Assert.Equal("+OK\r\n", c.Call("SET", "bin", "a\r\n\0b"));
        c.Call("INCRBY", "counter", "41");
        c.Call("INCR", "counter");
        c.Call("INCRBYFLOAT", "float", "3.25");
        Assert.Equal("+OK\r\n", c.Call("SET", "ttl:at", "x", "PXAT", "4102444800123"));
        Assert.Equal(":1\r\n", c.Call("PEXPIREAT", "counter", "4102444800456"));
        Assert.Equal("+OK\r\n", c.Call("SET", "ttl:relative", "x", "EX", "100000"));
        var big = new List<string> { "HSET", "bighash" };
        for (int i = 0; i < 100; i++) big.AddRange([$"field{i}", $"value{i}"]);
        c.Call([.. big]);
        c.Call("HSET", "hash", "a", "1", "b", "2");
        c.Call("HINCRBYFLOAT", "hash", "a", "0.5");
        c.Call("SET", "deleted", "x");
        c.Call("GETDEL", "deleted");
        c.Call("MULTI");
        c.Call("SET", "tx1", "1");
        c.Call("SELECT", "5");
        c.Call("SET", "tx5", "5");
        c.Call("EXEC");
        c.Call("SET", "db5only", "yes");
        c.Call("SELECT", "0");
    }

    /// <summary>Reads back every value <see cref="WriteDataset"/> wrote, as raw replies, from a server on <paramref name="port"/>.</summary>
    private static List<string> ReadDataset(int port)
    {
        using var c = new RespTestClient(port);
        var replies = new List<string>
        {
            c.Call("DBSIZE"), c.Call("GET", "str"), c.Call("GET", "bin"), c.Call("GET", "counter"), c.Call("GET", "float"),
            c.Call("HLEN", "bighash"), c.Call("HGET", "bighash", "field77"), c.Call("HGET", "hash", "a"), c.Call("HGET", "hash", "b"),
            c.Call("EXISTS", "deleted"), c.Call("GET", "tx1"), c.Call("SELECT", "5"), c.Call("DBSIZE"), c.Call("GET", "tx5"),
            c.Call("GET", "db5only"), c.Call("SELECT", "0"), c.Call("PEXPIRETIME", "ttl:at"), c.Call("PEXPIRETIME", "counter"),
            c.Call("TTL", "ttl:relative") is ":100000\r\n" or ":99999\r\n" or ":99998\r\n" ? "ttl kept" : "ttl lost", c.Call("PING"),
        };
        return replies;
    }

    [Fact]
    public async Task RedisCheckAofAcceptsRespKvsFile()
    {
        if (CheckAof == null)
        {
            output.WriteLine("SKIPPED: redis-check-aof is not installed");
            return;
        }
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            WriteDataset(c);
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            (int live, string liveText) = Run(CheckAof, dir.Aof);
            Assert.True(live == 0, liveText);
            Assert.Contains("is valid", liveText);
        }
        await using (RespKvHost host = await Start(dir.Path)) { } // the start-up rewrite's file
        (int code, string text) = Run(CheckAof, dir.Aof);
        Assert.True(code == 0, text);
        Assert.Contains("is valid", text);
    }

    [Fact]
    public async Task RedisServerLoadsRespKvsFileWithTheSameData()
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return;
        }
        using var dir = new TempDir();
        List<string> expected;
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            WriteDataset(c);
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            expected = ReadDataset(host.Port);
        }
        Assert.Equal(":9\r\n", expected[0]);
        // Both shapes redis-server 7.0 reads: the log as written (single old-style file in dir), and as the base of an
        // appendonlydir with a manifest.
        foreach (bool asManifest in new[] { false, true })
        {
            using var redisDir = new TempDir();
            if (asManifest)
            {
                string aofDir = Path.Combine(redisDir.Path, "appendonlydir");
                Directory.CreateDirectory(aofDir);
                File.Copy(dir.Aof, Path.Combine(aofDir, "appendonly.aof.1.base.aof"));
                File.WriteAllText(Path.Combine(aofDir, "appendonly.aof.1.incr.aof"), "");
                File.WriteAllText(Path.Combine(aofDir, "appendonly.aof.manifest"),
                    "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
            }
            else File.Copy(dir.Aof, Path.Combine(redisDir.Path, "appendonly.aof"));
            (var redis, int port) = StartRedis(RedisServer, redisDir.Path, "--appendonly", "yes", "--aof-use-rdb-preamble", "no");
            try
            {
                Assert.Equal(expected, ReadDataset(port));
            }
            finally
            {
                Stop(redis);
            }
        }
    }

    [Fact]
    public async Task RespKvLoadsARedisServerAppendOnlyDirectoryWithManifest()
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return;
        }
        using var dir = new TempDir();
        List<string> expected;
        (var redis, int port) = StartRedis(RedisServer, dir.Path, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always");
        try
        {
            using var c = new RespTestClient(port);
            c.Call("SET", "before-rewrite", "1");
            Assert.Equal("+Background append only file rewriting started\r\n", c.Call("BGREWRITEAOF"));
            for (int i = 0; i < 200 && c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1"); i++) await Task.Delay(50);
            await Task.Delay(200);
            WriteDataset(c); // after the rewrite: lands in the incr file
            c.Call("DEL", "before-rewrite");
            expected = ReadDataset(port);
        }
        finally
        {
            Stop(redis);
        }
        string aofDir = Path.Combine(dir.Path, "appendonlydir");
        Assert.True(File.Exists(Path.Combine(aofDir, "appendonly.aof.manifest")));
        Assert.Contains(Directory.GetFiles(aofDir), f => f.EndsWith(".base.aof", StringComparison.Ordinal));
        await using (RespKvHost host = await Start(dir.Path))
        {
            Assert.Equal(expected, ReadDataset(host.Port));
        }
        // RespKv now writes dir/appendonly.aof and prefers it at the next start.
        Assert.True(File.Exists(Path.Combine(dir.Path, "appendonly.aof")));
        await using (RespKvHost host = await Start(dir.Path))
        {
            Assert.Equal(expected, ReadDataset(host.Port));
        }
    }

    [Fact]
    public async Task ATruncatedRdbBaseFileIsRefusedClearly()
    {
        using var dir = new TempDir();
        string aofDir = Path.Combine(dir.Path, "appendonlydir");
        Directory.CreateDirectory(aofDir);
        File.WriteAllBytes(Path.Combine(aofDir, "appendonly.aof.1.base.aof"), Encoding.ASCII.GetBytes("REDIS0010\u00fa\u0009redis-ver"));
        File.WriteAllText(Path.Combine(aofDir, "appendonly.aof.1.incr.aof"), "");
        File.WriteAllText(Path.Combine(aofDir, "appendonly.aof.manifest"),
            "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
        // The base file is RDB (Redis 7.0's aof-use-rdb-preamble yes) but cut short: refused with the file, offset and reason.
        var e = await Assert.ThrowsAsync<AofLoadException>(() => Start(dir.Path));
        Assert.StartsWith("Error reading the RDB preamble of the AOF file", e.Message);
        Assert.Contains("byte offset", e.Message);

        string dll = Path.Combine(AppContext.BaseDirectory, "respkv-server.dll");
        (int code, string text) = await Task.Run(() => Run("dotnet", dll, "--port", "0", "--dir", dir.Path));
        Assert.Equal(1, code);
        Assert.Contains("Error reading the RDB preamble of the AOF file", text);
    }
}
