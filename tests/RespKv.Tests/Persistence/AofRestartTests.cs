using System.Text.RegularExpressions;
using System.Text;
using RespKv.Persistence;
using RespKv.Server;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests.Persistence;

/// <summary>The AOF's records, the restart on the same directory, the start-up compaction, and online rewrites.</summary>
public sealed class AofRestartTests
{
    [Fact]
    public async Task RestartRestoresStringsHashesTransactionsAndDatabases()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("SET", "s", "v\r\nbinary"));
            Assert.Equal(":3\r\n", c.Call("INCRBY", "n", "3"));
            Assert.Equal("$4\r\n1.25\r\n", c.Call("INCRBYFLOAT", "f", "1.25"));
            Assert.Equal(":2\r\n", c.Call("HSET", "h", "a", "1", "b", "2"));
            Assert.Equal("$3\r\n2.5\r\n", c.Call("HINCRBYFLOAT", "h", "a", "1.5"));
            Assert.Equal(":1\r\n", c.Call("HDEL", "h", "b"));
            Assert.Equal("+OK\r\n", c.Call("SET", "gone", "x"));
            Assert.Equal("$1\r\nx\r\n", c.Call("GETDEL", "gone"));
            Assert.Equal("+OK\r\n", c.Call("MULTI"));
            Assert.Equal("+QUEUED\r\n", c.Call("SET", "t1", "a"));
            Assert.Equal("+QUEUED\r\n", c.Call("APPEND", "t1", "b"));
            Assert.Equal("+QUEUED\r\n", c.Call("SELECT", "7"));
            Assert.Equal("+QUEUED\r\n", c.Call("SET", "t2", "in7"));
            Assert.Equal("*4\r\n+OK\r\n:2\r\n+OK\r\n+OK\r\n", c.Call("EXEC"));
            Assert.Equal("+OK\r\n", c.Call("MSET", "m1", "x", "m2", "y"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("$9\r\nv\r\nbinary\r\n", c.Call("GET", "s"));
            Assert.Equal("$1\r\n3\r\n", c.Call("GET", "n"));
            Assert.Equal("$4\r\n1.25\r\n", c.Call("GET", "f"));
            Assert.Equal("*2\r\n$1\r\na\r\n$3\r\n2.5\r\n", c.Call("HGETALL", "h"));
            Assert.Equal(":0\r\n", c.Call("EXISTS", "gone"));
            Assert.Equal("$2\r\nab\r\n", c.Call("GET", "t1"));
            Assert.Equal(":5\r\n", c.Call("DBSIZE"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "7"));
            Assert.Equal("$3\r\nin7\r\n", c.Call("GET", "t2"));
            Assert.Equal("*2\r\n$1\r\nx\r\n$1\r\ny\r\n", c.Call("MGET", "m1", "m2"));
            Assert.Equal(":3\r\n", c.Call("DBSIZE"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task RestartReplaysBitmapAndHyperLogLogWritesToTheSameBytes()
    {
        using var dir = new TempDir();
        string[] keys = ["bits", "field", "op", "hll", "dense", "merged"];
        string[] before;
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":0\r\n", c.Call("SETBIT", "bits", "1000", "1"));
            Assert.Equal(":1\r\n", c.Call("SETBIT", "bits", "1000", "1")); // no change: not logged
            Assert.Equal("*2\r\n:0\r\n:127\r\n", c.Call("BITFIELD", "field", "SET", "i8", "3", "-5", "OVERFLOW", "SAT", "INCRBY", "i8", "20", "1000"));
            Assert.Equal("*1\r\n:-5\r\n", c.Call("BITFIELD", "field", "GET", "i8", "3")); // only GETs: not logged
            Assert.Equal(":126\r\n", c.Call("BITOP", "XOR", "op", "bits", "field"));
            Assert.Equal(":1\r\n", c.Call("PFADD", "hll", "a", "b", "c"));
            c.Call([.. new[] { "PFADD", "dense" }, .. Enumerable.Range(0, 5000).Select(i => "e" + i)]);
            Assert.Equal("+OK\r\n", c.Call("PFMERGE", "merged", "hll", "dense"));
            before = [.. keys.Select(k => c.Call("GET", k))];
            Assert.Equal("+dense\r\n", c.Call("PFDEBUG", "ENCODING", "merged"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(before, keys.Select(k => c.Call("GET", k)));
            Assert.Equal(":3\r\n", c.Call("PFCOUNT", "hll"));
        }
    }

    [Fact]
    public async Task RestartKeepsEachKeysDeadlineAndDropsKeysThatExpiredMeanwhile()
    {
        using var dir = new TempDir();
        string[] volatileKeys = ["ttl:set-ex", "ttl:setex", "ttl:expire", "ttl:pexpireat", "ttl:getex", "ttl:hash", "ttl:keepttl"];
        var deadlines = new Dictionary<string, string>();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("SET", "ttl:set-ex", "v", "EX", "1000"));
            Assert.Equal("+OK\r\n", c.Call("SETEX", "ttl:setex", "2000", "v"));
            Assert.Equal("+OK\r\n", c.Call("SET", "ttl:expire", "v"));
            Assert.Equal(":1\r\n", c.Call("EXPIRE", "ttl:expire", "3000"));
            Assert.Equal("+OK\r\n", c.Call("SET", "ttl:pexpireat", "v"));
            Assert.Equal(":1\r\n", c.Call("PEXPIREAT", "ttl:pexpireat", "4102444800123"));
            Assert.Equal("+OK\r\n", c.Call("SET", "ttl:getex", "v"));
            Assert.Equal("$1\r\nv\r\n", c.Call("GETEX", "ttl:getex", "PX", "4000000"));
            Assert.Equal(":1\r\n", c.Call("HSET", "ttl:hash", "f", "v"));
            Assert.Equal(":1\r\n", c.Call("EXPIRE", "ttl:hash", "5000"));
            Assert.Equal("+OK\r\n", c.Call("SET", "ttl:keepttl", "0", "EX", "6000"));
            Assert.Equal("$3\r\n1.5\r\n", c.Call("INCRBYFLOAT", "ttl:keepttl", "1.5")); // logged SET … KEEPTTL
            Assert.Equal("+OK\r\n", c.Call("SET", "persisted", "v", "EX", "100"));
            Assert.Equal(":1\r\n", c.Call("PERSIST", "persisted"));
            Assert.Equal("+OK\r\n", c.Call("SET", "short", "v", "PX", "200"));
            foreach (string key in volatileKeys)
            {
                string reply = c.Call("PEXPIRETIME", key);
                Assert.Matches(@"^:\d{13}\r\n$", reply);
                deadlines[key] = reply;
            }
            Assert.Equal(":9\r\n", c.Call("DBSIZE"));
        }
        // "short" expires while the server is down: its SET … PXAT is in the file, but it must not be loaded.
        await Task.Delay(400);
        for (int restart = 0; restart < 2; restart++) // the second start reads the file the first one compacted
        {
            await using RespKvHost host = await Start(dir.Path);
            using var c = new RespTestClient(host.Port);
            foreach (string key in volatileKeys) Assert.Equal(deadlines[key], c.Call("PEXPIRETIME", key));
            Assert.Equal("$3\r\n1.5\r\n", c.Call("GET", "ttl:keepttl"));
            Assert.Equal(":-1\r\n", c.Call("PEXPIRETIME", "persisted"));
            Assert.Equal(":-2\r\n", c.Call("PEXPIRETIME", "short"));
            Assert.Equal(":8\r\n", c.Call("DBSIZE"));
            Assert.Contains("db0:keys=8,expires=7,", c.Call("INFO", "keyspace"));
            Assert.DoesNotContain("short", Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof)));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task FileHoldsEachWriteAsItsEffectWithSelectAndMultiExec()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "k", "v");
        c.Call("GET", "k");
        c.Call("SETNX", "k", "other");                 // changes nothing: not logged
        c.Call("INCRBYFLOAT", "f", "0.5");
        c.Call("HINCRBYFLOAT", "h", "x", "2");
        c.Call("GETDEL", "k");
        c.Call("SELECT", "2");
        c.Call("MSET", "a", "1", "b", "2");            // a single command: not wrapped
        c.Call("MULTI");
        c.Call("INCR", "a");
        c.Call("EXEC");
        Assert.Equal("+PONG\r\n", c.Call("PING"));
        string expected =
            Record("SELECT", "0") + Record("SET", "k", "v") + Record("SET", "f", "0.5", "KEEPTTL") + Record("HSET", "h", "x", "2") +
            Record("DEL", "k") + Record("SELECT", "2") + Record("MSET", "a", "1", "b", "2") +
            Record("MULTI") + Record("INCR", "a") + Record("EXEC");
        Assert.Equal(expected, Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof)));
    }

    [Fact]
    public async Task StartUpRewriteCompactsTheFileWithHashesInChunksOf64Fields()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            for (int i = 0; i < 10; i++) c.Call("INCR", "counter");
            var args = new List<string> { "HSET", "big" };
            for (int i = 0; i < 150; i++) args.AddRange([$"f{i:D3}", $"v{i}"]);
            c.Call([.. args]);
            c.Call("SELECT", "3");
            c.Call("SET", "x", "y");
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        long before = new FileInfo(dir.Aof).Length;
        await using (RespKvHost host = await Start(dir.Path))
        {
            string text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
            Assert.True(text.Length < before);
            string db0 = Record("SELECT", "0");
            // Key order within a database follows the shards; compare the two keys' records as a set.
            string counter = Record("SET", "counter", "10");
            var chunks = new StringBuilder();
            for (int start = 0; start < 150; start += 64)
            {
                var hset = new List<string> { "HSET", "big" };
                for (int i = start; i < Math.Min(150, start + 64); i++) hset.AddRange([$"f{i:D3}", $"v{i}"]);
                chunks.Append(Record([.. hset]));
            }
            string tail = Record("SELECT", "3") + Record("SET", "x", "y");
            string hash = chunks.ToString();
            Assert.True(text == db0 + counter + hash + tail || text == db0 + hash + counter + tail, text);
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":150\r\n", c.Call("HLEN", "big"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task BgRewriteAofWhileClientsWriteLosesNoAcknowledgedWrite()
    {
        using var dir = new TempDir();
        const int Writers = 4, PerWriter = 1500;
        await using (RespKvHost host = await Start(dir.Path, "everysec"))
        {
            using (var seed = new RespTestClient(host.Port))
                for (int i = 0; i < 2000; i++) seed.Call("SET", $"seed:{i}", new string('s', 50));
            var tasks = new List<Task>();
            for (int w = 0; w < Writers; w++)
            {
                int id = w;
                tasks.Add(Task.Run(() =>
                {
                    using var c = new RespTestClient(host.Port);
                    for (int i = 0; i < PerWriter; i++)
                    {
                        Assert.Equal("+OK\r\n", c.Call("SET", $"w{id}:{i}", i.ToString()));
                        if (i % 3 == 0) Assert.Equal(":1\r\n", c.Call("HSET", $"wh{id}", $"f{i}", "v"));
                    }
                }));
            }
            using var admin = new RespTestClient(host.Port);
            int rewrites = 0;
            while (!tasks.All(t => t.IsCompleted))
            {
                string reply = admin.Call("BGREWRITEAOF");
                if (reply == "+Background append only file rewriting started\r\n") rewrites++;
                else Assert.Equal("-ERR Background append only file rewriting already in progress\r\n", reply);
                await Task.Delay(30);
            }
            await Task.WhenAll(tasks);
            Assert.True(rewrites >= 2, $"only {rewrites} rewrites started");
            while (admin.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1")) await Task.Delay(20);
            Assert.Contains("aof_last_bgrewrite_status:ok", admin.Call("INFO", "persistence"));
            Assert.Equal("+PONG\r\n", admin.Call("PING"));
        }
        Assert.Equal(0, AofTestSupport.FindTool("redis-check-aof") is { } tool ? Run(tool, dir.Aof).Code : 0);
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal($":{2000 + Writers * PerWriter + Writers}\r\n", c.Call("DBSIZE"));
            for (int w = 0; w < Writers; w++)
            {
                Assert.Equal($"$4\r\n{PerWriter - 1}\r\n", c.Call("GET", $"w{w}:{PerWriter - 1}"));
                Assert.Equal($":{(PerWriter + 2) / 3}\r\n", c.Call("HLEN", $"wh{w}"));
            }
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task BgRewriteAofWithTheAofOffWritesASnapshotFile()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await ServerFixture.StartFresh(o =>
        {
            o.Dir = dir.Path;
            o.AofUseRdbPreamble = false;
        });
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "k", "v");
        Assert.Equal("+Background append only file rewriting started\r\n", c.Call("BGREWRITEAOF"));
        for (int i = 0; i < 200 && !File.Exists(dir.Aof); i++) await Task.Delay(20);
        await Task.Delay(100);
        Assert.Equal(Record("SELECT", "0") + Record("SET", "k", "v"), Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof)));
        Assert.Contains("aof_enabled:0", c.Call("INFO", "persistence"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetAppendonlyTurnsTheLogOnAndOffAtRuntime()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await ServerFixture.StartFresh(o => o.Dir = dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            c.Call("SET", "before", "1");
            Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "appendonly", "yes"));
            Assert.Contains("aof_enabled:1", c.Call("INFO", "persistence"));
            c.Call("SET", "after", "2");
            Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "appendonly", "no"));
            c.Call("SET", "unlogged", "3");
            Assert.Contains("aof_enabled:0", c.Call("INFO", "persistence"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n", c.Call("MGET", "before", "after", "unlogged"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task CommandsWithoutTheLoadingFlagAnswerLoadingWhileTheDatasetLoads()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        host.Server.Loading = true;
        try
        {
            Assert.Equal("-LOADING RespKv is loading the dataset in memory\r\n", c.Call("GET", "k"));
            Assert.Equal("-LOADING RespKv is loading the dataset in memory\r\n", c.Call("SET", "k", "v"));
            Assert.Equal("-LOADING RespKv is loading the dataset in memory\r\n", c.Call("PING"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
            Assert.Contains("loading:1\r\n", c.Call("INFO", "persistence"));
        }
        finally
        {
            host.Server.Loading = false;
        }
        Assert.Equal("$-1\r\n", c.Call("GET", "k"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task InfoPersistenceReportsTheAofState()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "k", "v");
        string info = c.Call("INFO", "persistence");
        long size = new FileInfo(dir.Aof).Length;
        Assert.Contains("\r\nloading:0\r\n", info);
        Assert.Contains("\r\naof_enabled:1\r\n", info);
        Assert.Contains("\r\naof_rewrite_in_progress:0\r\n", info);
        Assert.Contains("\r\naof_rewrite_scheduled:0\r\n", info);
        Assert.Contains("\r\naof_last_rewrite_time_sec:-1\r\n", info);
        Assert.Contains("\r\naof_current_rewrite_time_sec:-1\r\n", info);
        Assert.Contains("\r\naof_last_bgrewrite_status:ok\r\n", info);
        Assert.Contains("\r\naof_last_write_status:ok\r\n", info);
        Assert.Contains($"\r\naof_current_size:{size}\r\n", info);
        Assert.Contains("\r\naof_base_size:0\r\n", info);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ShutdownFlushesAndFsyncsUnderAppendfsyncNo()
    {
        using var dir = new TempDir();
        RespKvHost host = await Start(dir.Path, "no");
        using (var c = new RespTestClient(host.Port))
        {
            for (int i = 0; i < 100; i++) c.Call("SET", $"k{i}", "v");
            c.SendRaw(RespTestClient.Encode("SHUTDOWN", "NOSAVE"));
            Assert.True(c.IsClosedByServer());
        }
        await host.DisposeAsync();
        Assert.Equal(Record("SELECT", "0").Length + 100 * Record("SET", "k00", "v").Length - 10 * 1,
            new FileInfo(dir.Aof).Length);
    }

    [Fact]
    public async Task AofSettingsReadAndValidateAsRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*2\r\n$18\r\naof-load-truncated\r\n$3\r\nyes\r\n", c.Call("CONFIG", "GET", "aof-load-truncated"));
        Assert.Equal("*2\r\n$25\r\nauto-aof-rewrite-min-size\r\n$8\r\n67108864\r\n", c.Call("CONFIG", "GET", "auto-aof-rewrite-min-size"));
        Assert.Equal("*2\r\n$27\r\nauto-aof-rewrite-percentage\r\n$3\r\n100\r\n", c.Call("CONFIG", "GET", "auto-aof-rewrite-percentage"));
        Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", c.Call("CONFIG", "GET", "appendonly"));
        // Error texts as redis-server 7.0.15.
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'auto-aof-rewrite-min-size') - argument must be a memory value\r\n",
            c.Call("CONFIG", "SET", "auto-aof-rewrite-min-size", "abc"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'aof-load-truncated') - argument must be 'yes' or 'no'\r\n",
            c.Call("CONFIG", "SET", "aof-load-truncated", "maybe"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'auto-aof-rewrite-percentage') - argument must be between 0 and 2147483647 inclusive\r\n",
            c.Call("CONFIG", "SET", "auto-aof-rewrite-percentage", "-1"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "auto-aof-rewrite-min-size", "1mb"));
        Assert.Equal("*2\r\n$25\r\nauto-aof-rewrite-min-size\r\n$7\r\n1048576\r\n", c.Call("CONFIG", "GET", "auto-aof-rewrite-min-size"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task AutomaticRewriteStartsWhenTheFileOutgrowsItsBase()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await Start(dir.Path, "everysec", o =>
        {
            o.AutoAofRewriteMinSize = 64 * 1024;
            o.AutoAofRewritePercentage = 100;
        });
        using var c = new RespTestClient(host.Port);
        string value = new('v', 200);
        // The same key over and over: the file grows, the data does not.
        for (int i = 0; i < 1000; i++) c.Call("SET", "same", value + i); // ~240 KB of records
        // The writer thread checks the growth a few times a second. A rewrite that ran while the SETs were still coming
        // leaves the records appended after it, and the next check rewrites again once they outgrow the new base: wait
        // until a rewrite has run and none is running, and the file is back under twice the minimum size.
        for (int i = 0; i < 500 && (Regex.IsMatch(c.Call("INFO", "persistence"), "aof_rewrites:0\r\n|aof_rewrite_in_progress:1")
                                    || new FileInfo(dir.Aof).Length >= 64 * 1024 * 2); i++)
            await Task.Delay(20);
        string info = c.Call("INFO", "persistence");
        // One rewrite, or more when the records appended during the first already outgrew its base again.
        Assert.DoesNotContain("aof_rewrites:0\r\n", info);
        Assert.Contains("aof_last_bgrewrite_status:ok", info);
        Assert.True(new FileInfo(dir.Aof).Length < 64 * 1024 * 2, info);
        Assert.Contains(value, c.Call("GET", "same"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
