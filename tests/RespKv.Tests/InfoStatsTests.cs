using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using RespKv.Execution;
using RespKv.Server;
using RespKv.Tests.Support;
using static RespKv.Tests.ServerCommandTests;

namespace RespKv.Tests;

/// <summary>
/// INFO's memory, persistence, replication, cpu, commandstats, errorstats and Keyspace_totals sections, and
/// SLOWLOG, against the formats of redis-server 7.0.15 (each test runs a private server so counts are exact).
/// </summary>
public sealed class InfoStatsTests
{
    private const string Pong = "+PONG\r\n";

    private static Dictionary<string, string> Fields(RespTestClient c, params string[] sections) =>
        ParseInfo(Payload(c.Call(["INFO", .. sections]))).Fields;

    [Fact]
    public async Task InfoAllHasEveryFieldWithItsType()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "k", "v");
        c.Call("GET", "k");
        Dictionary<string, string> f = Fields(c, "all");
        string integer = @"^-?\d+$", human = @"^(\d+B|\d+\.\d{2}[KMGTP])$", twoDecimals = @"^\d+\.\d{2}$", sixDecimals = @"^\d+\.\d{6}$";
        var expected = new Dictionary<string, string>
        {
            ["redis_version"] = @"^7\.0\.15$", ["connected_clients"] = integer, ["blocked_clients"] = "^0$", ["maxclients"] = integer,
            ["used_memory"] = integer, ["used_memory_human"] = human, ["used_memory_rss"] = integer, ["used_memory_peak"] = integer,
            ["used_memory_peak_human"] = human, ["maxmemory"] = "^0$", ["maxmemory_human"] = "^0B$", ["maxmemory_policy"] = "^noeviction$",
            ["mem_fragmentation_ratio"] = twoDecimals,
            ["loading"] = "^0$", ["async_loading"] = "^0$", ["aof_enabled"] = "^0$", ["aof_rewrite_in_progress"] = "^0$", ["aof_last_write_status"] = "^ok$",
            ["total_connections_received"] = integer, ["total_commands_processed"] = integer, ["instantaneous_ops_per_sec"] = integer,
            ["total_net_input_bytes"] = integer, ["total_net_output_bytes"] = integer, ["rejected_connections"] = integer,
            ["keyspace_hits"] = integer, ["keyspace_misses"] = integer, ["expired_keys"] = integer, ["evicted_keys"] = integer,
            ["total_error_replies"] = integer,
            ["role"] = "^master$", ["connected_slaves"] = "^0$", ["master_replid"] = "^[0-9a-f]{40}$", ["master_repl_offset"] = "^0$",
            ["used_cpu_sys"] = sixDecimals, ["used_cpu_user"] = sixDecimals,
            ["cmdstat_get"] = @"^calls=1,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=0,failed_calls=0$",
            ["db0"] = "^keys=1,expires=0,avg_ttl=0$",
            ["keys"] = "^1$", ["value_bytes"] = "^1$", ["get_ops"] = "^1$", ["set_ops"] = "^1$", ["del_ops"] = "^0$",
        };
        foreach ((string name, string pattern) in expected)
        {
            Assert.True(f.ContainsKey(name), $"INFO all lacks {name}");
            Assert.Matches(pattern, f[name]);
        }
        Assert.True(long.Parse(f["used_memory_peak"], CultureInfo.InvariantCulture) >= long.Parse(f["used_memory"], CultureInfo.InvariantCulture));
        Assert.NotEqual(host.Server.RunId, f["master_replid"]);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Theory]
    [InlineData(0L, "0B")]
    [InlineData(1023L, "1023B")]
    [InlineData(1024L, "1.00K")]
    [InlineData(989368L, "966.18K")] // redis-server 7.0.15's used_memory and used_memory_human
    [InlineData(1572864L, "1.50M")]
    [InlineData(3L << 30, "3.00G")]
    public void BytesToHumanIsRedisFormat(long bytes, string text) => Assert.Equal(text, InfoBuilder.BytesToHuman(bytes));

    [Fact]
    public async Task KeyspaceTotalsMatchAnIndependentCount()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        var model = new Dictionary<(int Db, string Key), int>();
        long gets = 0, sets = 0, dels = 0;
        var random = new Random(7);
        for (int i = 0; i < 600; i++)
        {
            int db = random.Next(3);
            c.Call("SELECT", db.ToString(CultureInfo.InvariantCulture));
            string key = "kt:" + random.Next(40);
            string other = "kt:" + random.Next(40);
            switch (random.Next(6))
            {
                case 0:
                    string value = new('v', random.Next(0, 50));
                    c.Call("SET", key, value);
                    model[(db, key)] = value.Length;
                    sets++;
                    break;
                case 1:
                    c.Call("MSET", key, "ab", other, "xyz");
                    model[(db, key)] = 2;
                    model[(db, other)] = 3;
                    sets += 2;
                    break;
                case 2:
                    c.Call("GET", key);
                    gets++;
                    break;
                case 3:
                    c.Call("MGET", key, other, "kt:none");
                    gets += 3;
                    break;
                case 4:
                    c.Call("DEL", key, other);
                    model.Remove((db, key));
                    model.Remove((db, other));
                    dels += 2;
                    break;
                default:
                    c.Call("APPEND", key, "tail");
                    model[(db, key)] = model.GetValueOrDefault((db, key)) + 4;
                    sets++;
                    break;
            }
        }
        c.Call("GET"); // rejected for arity: not an operation
        Dictionary<string, string> f = Fields(c, "keyspace_totals");
        Assert.Equal(model.Count.ToString(CultureInfo.InvariantCulture), f["keys"]);
        Assert.Equal(model.Values.Sum().ToString(CultureInfo.InvariantCulture), f["value_bytes"]);
        Assert.Equal(gets.ToString(CultureInfo.InvariantCulture), f["get_ops"]);
        Assert.Equal(sets.ToString(CultureInfo.InvariantCulture), f["set_ops"]);
        Assert.Equal(dels.ToString(CultureInfo.InvariantCulture), f["del_ops"]);
        Assert.Equal(Pong, c.Call("PING"));
    }

    /// <summary>The invariant that lets a fixed-key row count calls × keys (no per-call key count on the command path).</summary>
    [Fact]
    public void EveryFixedKeyRowHasItsLastKeyWithinItsArity()
    {
        foreach (RespKv.Execution.CommandInfo row in RespKv.Server.CommandFamilies.Table.StatsRows)
        {
            if (row.FirstKey == 0 || row.LastKey < 0) continue;
            Assert.True(Math.Abs(row.Arity) > row.LastKey, row.FullName);
            Assert.Equal((row.LastKey - row.FirstKey) / Math.Max(row.Step, 1) + 1, CommandCounters.FixedKeyCount(row));
        }
        Assert.Equal(1, CommandCounters.FixedKeyCount(RespKv.Server.CommandFamilies.Table.Lookup("get")!));
        Assert.Equal(0, CommandCounters.FixedKeyCount(RespKv.Server.CommandFamilies.Table.Lookup("mget")!));
    }

    private static string CommandStat(Dictionary<string, string> f, string name) =>
        Regex.Replace(f[name], @"usec=\d+,usec_per_call=\d+\.\d\d", "usec=*");

    [Fact]
    public async Task CommandstatsCountCallsRejectionsAndFailuresAsRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        // The sequence and counts were checked against redis-server 7.0.15.
        c.Call("SET", "cs:s", "1");
        c.Call("HSET", "cs:h", "f", "v");
        Assert.StartsWith("-WRONGTYPE", c.Call("GET", "cs:h"));
        Assert.StartsWith("-ERR wrong number", c.Call("GET"));
        Assert.StartsWith("-ERR unknown command", c.Call("NOSUCH"));
        Assert.StartsWith("-ERR unknown subcommand", c.Call("CONFIG", "NOSUCH"));
        Assert.StartsWith("-ERR wrong number", c.Call("CONFIG", "GET"));
        Assert.Equal("-ERR wrong number of arguments for 'slowlog' command\r\n", c.Call("SLOWLOG"));
        c.Call("GET", "cs:s");
        c.Call("MULTI");
        Assert.Equal("-ERR Command not allowed inside a transaction\r\n", c.Call("SHUTDOWN", "NOSAVE"));
        Assert.StartsWith("-EXECABORT", c.Call("EXEC"));
        Dictionary<string, string> f = Fields(c, "commandstats", "errorstats", "stats");
        Assert.Equal("calls=2,usec=*,rejected_calls=1,failed_calls=1", CommandStat(f, "cmdstat_get"));
        Assert.Equal("calls=1,usec=*,rejected_calls=0,failed_calls=0", CommandStat(f, "cmdstat_set"));
        Assert.Equal("calls=0,usec=*,rejected_calls=1,failed_calls=0", CommandStat(f, "cmdstat_config|get"));
        Assert.Equal("calls=0,usec=*,rejected_calls=1,failed_calls=0", CommandStat(f, "cmdstat_shutdown"));
        Assert.Equal("calls=1,usec=*,rejected_calls=0,failed_calls=1", CommandStat(f, "cmdstat_exec"));
        Assert.False(f.ContainsKey("cmdstat_config"));
        Assert.Equal("calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0", f["cmdstat_slowlog"]);
        Assert.Equal("count=6", f["errorstat_ERR"]);
        Assert.Equal("count=1", f["errorstat_WRONGTYPE"]);
        Assert.Equal("count=1", f["errorstat_EXECABORT"]);
        Assert.Equal("8", f["total_error_replies"]);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ConfigResetstatClearsCommandstatsAndErrorstats()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "rs:k", "v");
        c.Call("GET");
        c.Call("NOSUCH");
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "RESETSTAT"));
        Assert.Equal("$14\r\n# Errorstats\r\n\r\n", c.Call("INFO", "errorstats"));
        Dictionary<string, string> f = Fields(c, "commandstats", "stats");
        // Only CONFIG RESETSTAT itself (counted after it ran, as in Redis) and the INFO just before.
        Assert.Equal(["cmdstat_config|resetstat", "cmdstat_info"], f.Keys.Where(k => k.StartsWith("cmdstat_", StringComparison.Ordinal)).Order().ToArray());
        Assert.Equal("0", f["total_error_replies"]);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task SlowlogRecordsCommandsInRedisShape()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal(":0\r\n", c.Call("SLOWLOG", "LEN"));
        Assert.Equal("*0\r\n", c.Call("SLOWLOG", "GET"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "slowlog-log-slower-than", "0"));
        Assert.Equal("+OK\r\n", c.Call("CLIENT", "SETNAME", "slow-client"));
        string big = new('x', 130);
        string[] many = [.. Enumerable.Range(0, 40).Select(i => "k" + i)];
        c.Call(["MGET", .. many]);
        c.Call("SET", "sl:k", big);
        string reply = c.Call("SLOWLOG", "GET", "2");
        string client = $"${host.Server.Clients.Live.First().RemoteAddress.Length}\r\n{host.Server.Clients.Live.First().RemoteAddress}\r\n$11\r\nslow-client\r\n";
        string setArgs = "*3\r\n$3\r\nSET\r\n$4\r\nsl:k\r\n$146\r\n" + new string('x', 128) + "... (2 more bytes)\r\n";
        Assert.Matches(@"^\*2\r\n\*6\r\n:3\r\n:\d{10}\r\n:\d+\r\n" + Regex.Escape(setArgs + client) + @"\*6\r\n:2\r\n:\d{10}\r\n:\d+\r\n\*32\r\n\$4\r\nMGET\r\n", reply);
        Assert.Contains("$2\r\nk0\r\n", reply);
        Assert.Contains("$3\r\nk29\r\n$23\r\n... (10 more arguments)\r\n" + client, reply);
        Assert.DoesNotContain("k30", reply);
        Assert.Equal(":5\r\n", c.Call("SLOWLOG", "LEN")); // CONFIG SET, CLIENT SETNAME, MGET, SET, SLOWLOG GET
        Assert.StartsWith("*1\r\n*6\r\n:5\r\n", c.Call("SLOWLOG", "GET", "1"));
        Assert.Equal("-ERR count should be greater than or equal to -1\r\n", c.Call("SLOWLOG", "GET", "-2"));
        Assert.Equal("-ERR count should be greater than or equal to -1\r\n", c.Call("SLOWLOG", "GET", "x"));
        Assert.Equal("-ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.\r\n", c.Call("SLOWLOG", "GET", "1", "2"));
        Assert.Equal("-ERR wrong number of arguments for 'slowlog|len' command\r\n", c.Call("SLOWLOG", "LEN", "x"));
        Assert.StartsWith("*10\r\n*6\r\n", c.Call("SLOWLOG", "GET", "-1"));
        Assert.Equal("+OK\r\n", c.Call("SLOWLOG", "RESET"));
        Assert.Equal(":1\r\n", c.Call("SLOWLOG", "LEN")); // SLOWLOG RESET logs itself after it ran, as in Redis
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "slowlog-max-len", "2"));
        c.Call("PING");
        c.Call("PING");
        Assert.Equal(":2\r\n", c.Call("SLOWLOG", "LEN"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "slowlog-log-slower-than", "-1"));
        Assert.Equal("+OK\r\n", c.Call("SLOWLOG", "RESET"));
        c.Call("PING");
        Assert.Equal(":0\r\n", c.Call("SLOWLOG", "LEN"));
        Assert.Equal("*4\r\n$23\r\nslowlog-log-slower-than\r\n$2\r\n-1\r\n$15\r\nslowlog-max-len\r\n$1\r\n2\r\n", c.Call("CONFIG", "GET", "slowlog-*"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 and 9223372036854775807 inclusive\r\n",
            c.Call("CONFIG", "SET", "slowlog-log-slower-than", "-2"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be between 0 and 9223372036854775807 inclusive\r\n",
            c.Call("CONFIG", "SET", "slowlog-max-len", "-1"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task SlowlogDefaultsAndExecIsSkipped()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*4\r\n$23\r\nslowlog-log-slower-than\r\n$5\r\n10000\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n", c.Call("CONFIG", "GET", "slowlog-*"));
        c.Call("CONFIG", "SET", "slowlog-log-slower-than", "0");
        c.Call("SLOWLOG", "RESET");
        c.Call("MULTI");
        c.Call("INCR", "sl:exec");
        c.Call("EXEC");
        string log = c.Call("SLOWLOG", "GET");
        // SLOWLOG RESET, the queued INCR (logged when EXEC runs it), MULTI; EXEC has skip_slowlog.
        Assert.Contains("$4\r\nINCR\r\n", log);
        Assert.Contains("$5\r\nMULTI\r\n", log);
        Assert.DoesNotContain("EXEC", log);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [RedisCliFact]
    public async Task RedisCliStatRunsWithoutError()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "stat:k", "v");
        var start = new ProcessStartInfo(RedisCli.Path!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-h", "127.0.0.1", "-p", host.Port.ToString(CultureInfo.InvariantCulture), "--stat", "-i", "0.01" })
            start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        var received = new System.Text.StringBuilder();
        Task reader = Task.Run(async () =>
        {
            char[] block = new char[4096];
            int n;
            while ((n = await process.StandardOutput.ReadAsync(block)) > 0)
                lock (received) received.Append(block, 0, n);
        });
        Task<string> error = process.StandardError.ReadToEndAsync();
        // stdout is a pipe, flushed in 4 KB blocks: wait (at most 20 s) for the first block, polling every 10 ms.
        var clock = Stopwatch.StartNew();
        bool exited = false;
        while (clock.ElapsedMilliseconds < 20_000 && !exited)
        {
            lock (received) if (received.Length >= 4096) break;
            exited = process.WaitForExit(100);
        }
        if (!exited) process.Kill();
        process.WaitForExit();
        await reader;
        string text;
        lock (received) text = received.ToString();
        // redis-cli exits on an error (e.g. INFO it cannot parse): still running means every poll worked.
        Assert.False(exited, $"redis-cli --stat exited: {text} {await error}");
        Assert.True(text.Contains("keys       mem      clients blocked requests            connections", StringComparison.Ordinal), $"output: '{text}'");
        Assert.Matches(@"\n1 +\d+(\.\d+)?[BKMG] +2 +0 +\d+ \(\+\d+\) +\d+ ", text);
        Assert.Equal(Pong, c.Call("PING"));
    }
}
