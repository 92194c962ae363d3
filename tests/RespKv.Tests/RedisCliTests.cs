using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The real <c>redis-cli</c> (7.0) against the in-process server: one-shot commands, whose output
/// (not a terminal: raw mode) is what redis-server gives, <c>--pipe</c> mass insertion, and the helper modes
/// (<c>--stat</c>, <c>--latency</c>, <c>--latency-history</c>, <c>--bigkeys</c>, <c>--memkeys</c>, <c>--hotkeys</c>,
/// <c>--scan</c>, <c>-x</c>) compared with what they print against a fresh redis-server 7.0 when it is installed.
/// </summary>
public sealed class RedisCliTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string Cli(params string[] args)
    {
        (int exit, string output, string error) = RedisCli.Run(server.Port, null, 30_000, args);
        Assert.True(exit == 0, $"redis-cli {string.Join(' ', args)} exited {exit}: {error}");
        return output;
    }

    [RedisCliFact]
    public void OneShotCommands()
    {
        Assert.Equal("OK\n", Cli("set", "cli:k", "v"));
        Assert.Equal("v\n", Cli("get", "cli:k"));
        Assert.Equal("\n", Cli("get", "cli:missing"));
        Assert.Equal("OK\n", Cli("mset", "cli:a", "1", "cli:b", "two words"));
        Assert.Equal("1\ntwo words\n\n", Cli("mget", "cli:a", "cli:b", "cli:missing"));
        Assert.Equal("2\n", Cli("incr", "cli:a"));
        Assert.Equal("1\n", Cli("incr", "cli:counter"));
        Assert.Equal("(integer) 2\n", Cli("--no-raw", "incr", "cli:counter"));
        Assert.Equal("\"v\"\n", Cli("--no-raw", "get", "cli:k"));
        Assert.Equal("(nil)\n", Cli("--no-raw", "get", "cli:missing"));
        Assert.Equal("1) \"2\"\n2) \"two words\"\n", Cli("--no-raw", "mget", "cli:a", "cli:b"));
        Assert.Equal("ERR value is not an integer or out of range\n\n", Cli("incr", "cli:b")); // as with redis-server
        Assert.Equal("PONG\n", Cli("ping"));
    }

    /// <summary>
    /// A realistic session: redis-cli reading one command per line from standard input (as with
    /// <c>redis-cli &lt; commands.txt</c>), in raw and in --no-raw form. The expected text is what
    /// redis-cli 7.0 prints for the same session against redis-server 7.0.15.
    /// </summary>
    [RedisCliFact]
    public void SessionFromStandardInput()
    {
        const string session = """
            SET clis:greeting "hello world"
            GET clis:greeting
            APPEND clis:greeting !
            MSET clis:a 1 clis:b 2
            MGET clis:a clis:b clis:missing
            INCRBY clis:a 41
            INCR clis:greeting
            NOSUCH cmd
            KEYS clis:g*
            EXISTS clis:a clis:b clis:missing
            DEL clis:a
            TYPE clis:b
            ECHO "tab\there"
            CONFIG GET databases
            SELECT 3
            GET clis:b
            PING

            """;
        (int exit, string raw, string rawError) = RedisCli.Run(server.Port, Encoding.UTF8.GetBytes(session), 30_000);
        Assert.True(exit == 0, rawError);
        Assert.Equal(
            "OK\nhello world\n12\nOK\n1\n2\n\n42\nERR value is not an integer or out of range\n\n" +
            "ERR unknown command 'NOSUCH', with args beginning with: 'cmd' \n\nclis:greeting\n2\n1\nstring\n" +
            "tab\there\ndatabases\n16\nOK\n\nPONG\n", raw);

        using (RespTestClient c = server.Connect()) Assert.Equal(":2\r\n", c.Call("DEL", "clis:greeting", "clis:b")); // the same session again, from scratch
        (exit, string pretty, string prettyError) = RedisCli.Run(server.Port, Encoding.UTF8.GetBytes(session), 30_000, "--no-raw");
        Assert.True(exit == 0, prettyError);
        Assert.Equal("""
            OK
            "hello world"
            (integer) 12
            OK
            1) "1"
            2) "2"
            3) (nil)
            (integer) 42
            (error) ERR value is not an integer or out of range
            (error) ERR unknown command 'NOSUCH', with args beginning with: 'cmd' 
            1) "clis:greeting"
            (integer) 2
            (integer) 1
            string
            "tab\there"
            1) "databases"
            2) "16"
            OK
            (nil)
            PONG

            """, pretty);
    }

    /// <summary>
    /// redis-cli's helper modes: <c>--scan --pattern</c> (SCAN iteration), <c>--bigkeys</c> (SCAN,
    /// TYPE, STRLEN, DBSIZE), <c>-x</c> (last argument from standard input, binary-safe), <c>-n</c>
    /// (SELECT) and <c>-r</c> (repeat).
    /// </summary>
    [RedisCliFact]
    public void ScanBigkeysStdinArgumentDatabaseAndRepeat()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "4"));
        Assert.Equal("+OK\r\n", c.Call("FLUSHDB"));
        string[] mset = new string[1 + 2 * 250];
        mset[0] = "MSET";
        for (int i = 0; i < 250; i++) (mset[1 + 2 * i], mset[2 + 2 * i]) = ($"clih:{i}", new string('v', i));
        Assert.Equal("+OK\r\n", c.Call(mset));

        string scanned = Cli("-n", "4", "--scan", "--pattern", "clih:1*");
        string[] keys = scanned.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Array.Sort(keys, StringComparer.Ordinal);
        string[] expected = Enumerable.Range(0, 250).Select(i => $"clih:{i}").Where(k => k.StartsWith("clih:1", StringComparison.Ordinal)).ToArray();
        Array.Sort(expected, StringComparer.Ordinal);
        Assert.Equal(expected, keys);

        string big = Cli("-n", "4", "--bigkeys");
        Assert.Contains("Sampled 250 keys in the keyspace!", big);
        Assert.Contains("Biggest string found '\"clih:249\"' has 249 bytes", big);
        Assert.Contains("250 strings with 31125 bytes (100.00% of keys, avg size 124.50)", big);

        (int exit, string output, string error) = RedisCli.Run(server.Port, [(byte)'v', 0, (byte)'\n', 0xFF], 30_000, "-n", "4", "-x", "set", "clih:x");
        Assert.True(exit == 0, error);
        Assert.Equal("OK\n", output);
        Assert.Equal("\"v\\x00\\n\\xff\"\n", Cli("-n", "4", "--no-raw", "get", "clih:x"));
        Assert.Equal("1\n2\n3\n", Cli("-n", "4", "-r", "3", "incr", "clih:repeat"));
        Assert.Equal("252\n", Cli("-n", "4", "dbsize"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    /// <summary>One key of each type (one per type, so SCAN order cannot change which key is the biggest).</summary>
    private static void LoadOneKeyPerType(RespTestClient c)
    {
        Assert.Equal("+OK\r\n", c.Call("FLUSHALL"));
        Assert.Equal("+OK\r\n", c.Call("SET", "s:1", "hello"));
        Assert.Equal(":3\r\n", c.Call("RPUSH", "l:1", "a", "b", "c"));
        Assert.Equal(":3\r\n", c.Call("SADD", "set:1", "a", "b", "c"));
        Assert.Equal(":2\r\n", c.Call("HSET", "h:1", "f1", "v1", "f2", "v2"));
        Assert.Equal(":2\r\n", c.Call("ZADD", "z:1", "1", "a", "2", "b"));
        Assert.StartsWith("$", c.Call("XADD", "st:1", "1-1", "f", "v"));
    }

    /// <summary>Runs <paramref name="compare"/> against a fresh redis-server 7.0's port when it is installed (else nothing).</summary>
    private static void AgainstRedis(Action<RespTestClient, int> compare)
    {
        string? redisServer = AofTestSupport.FindTool("redis-server");
        if (redisServer == null) return;
        using var dir = new TempDir();
        (Process redis, int port) = AofTestSupport.StartRedis(redisServer, dir.Path, "--appendonly", "no");
        try
        {
            using var c = new RespTestClient(port);
            compare(c, port);
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
    }

    /// <summary>The lines of <paramref name="output"/> with every number as N, sorted (SCAN order differs between servers).</summary>
    private static List<string> Shape(string output) =>
        output.Split('\n').Select(l => Regex.Replace(l, "[0-9]+", "N")).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// <c>--memkeys</c> (SCAN, TYPE, MEMORY USAGE per key): the biggest key of each type and the per-type totals, the same
    /// lines as against redis-server with only the byte counts differing (RespKv's memory estimates are its own).
    /// </summary>
    [RedisCliFact]
    public async Task MemkeysReportsEveryTypeLikeRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using (var c = new RespTestClient(host.Port)) LoadOneKeyPerType(c);
        (int exit, string output, string error) = RedisCli.Run(host.Port, null, 30_000, "--memkeys");
        Assert.True(exit == 0, error);
        Assert.Contains("Sampled 6 keys in the keyspace!", output);
        foreach ((string type, string key) in new[] { ("string", "s:1"), ("list", "l:1"), ("set", "set:1"), ("hash", "h:1"), ("zset", "z:1"), ("stream", "st:1") })
        {
            Match biggest = Regex.Match(output, $@"Biggest +{type} found '""{key}""' has (\d+) bytes");
            Assert.True(biggest.Success, $"no biggest {type} in:\n{output}");
            Assert.True(long.Parse(biggest.Groups[1].Value) > 0);
            Assert.Matches($@"\n1 {type}s with {biggest.Groups[1].Value} bytes \(16\.67% of keys, avg size {biggest.Groups[1].Value}\.00\)\n", output);
        }
        AgainstRedis((c, port) =>
        {
            LoadOneKeyPerType(c);
            (int redisExit, string redisOutput, _) = RedisCli.Run(port, null, 30_000, "--memkeys");
            Assert.Equal(0, redisExit);
            Assert.Equal(Shape(redisOutput), Shape(output));
        });
    }

    /// <summary>
    /// <c>--hotkeys</c> (OBJECT FREQ per key) under an LFU policy: the most read key comes first, as with redis-server;
    /// without an LFU policy both refuse with the same error and exit 1.
    /// </summary>
    [RedisCliFact]
    public async Task HotkeysFindsTheMostReadKeyUnderLfu()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        string Hotkeys(RespTestClient c, int port, out string refused)
        {
            LoadOneKeyPerType(c);
            (int noLfuExit, _, string noLfuError) = RedisCli.Run(port, null, 30_000, "--hotkeys");
            Assert.Equal(1, noLfuExit);
            refused = noLfuError;
            Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"));
            Assert.Equal("+OK\r\n", c.Call("SET", "hot", "v"));
            Assert.Equal("+OK\r\n", c.Call("SET", "warm", "v"));
            for (int i = 0; i < 200; i++) c.Call("GET", "hot");
            for (int i = 0; i < 20; i++) c.Call("GET", "warm");
            (int exit, string output, string error) = RedisCli.Run(port, null, 30_000, "--hotkeys");
            Assert.True(exit == 0, error);
            return output;
        }
        string output;
        string refusal;
        using (var c = new RespTestClient(host.Port)) output = Hotkeys(c, host.Port, out refusal);
        Assert.Equal("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            refusal.Trim().Replace("Error: ", "", StringComparison.Ordinal));
        Assert.Contains("Sampled 8 keys in the keyspace!", output);
        string summary = output[output.IndexOf("-------- summary -------", StringComparison.Ordinal)..];
        Match first = Regex.Match(summary, "hot key found with counter: (\\d+)\tkeyname: \"([^\"]+)\"");
        Assert.True(first.Success, output);
        Assert.Equal("hot", first.Groups[2].Value);
        Assert.True(int.Parse(first.Groups[1].Value) > 5, output); // above LFU_INIT_VAL after 200 reads
        AgainstRedis((c, port) =>
        {
            string redisOutput = Hotkeys(c, port, out string redisRefusal);
            Assert.Equal(redisRefusal, refusal);
            string redisSummary = redisOutput[redisOutput.IndexOf("-------- summary -------", StringComparison.Ordinal)..];
            Match redisFirst = Regex.Match(redisSummary, "hot key found with counter: (\\d+)\tkeyname: \"([^\"]+)\"");
            Assert.Equal("hot", redisFirst.Groups[2].Value);
            Assert.Equal(Regex.Replace(redisSummary, "[0-9]+", "N"), Regex.Replace(summary, "[0-9]+", "N"));
        });
    }

    /// <summary>
    /// <c>--stat</c> (INFO every interval): the header redis-server gets, then one row per interval with the key count,
    /// clients, and a request counter that grows.
    /// </summary>
    [RedisCliFact]
    public async Task StatPrintsRowsFromInfo()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using (var c = new RespTestClient(host.Port)) LoadOneKeyPerType(c);
        string output = RedisCli.RunFor(host.Port, 2500, "--stat", "-i", "0.2");
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 4, output);
        var row = new Regex(@"^(\d+) +(\d+(?:\.\d+)?[BKMGT]) +(\d+) +(\d+) +(\d+) \(\+(\d+)\) +(\d+) *$");
        Match[] rows = lines.Select(l => row.Match(l)).Where(m => m.Success).ToArray();
        Assert.True(rows.Length >= 2, output);
        Assert.All(rows, r => Assert.Equal("6", r.Groups[1].Value)); // keys
        // Clients: redis-cli itself — and, on a loaded machine, for the first rows also the loading connection whose close the
        // server has not processed yet: 2 may only come before 1, and the last row shows 1.
        string[] clients = rows.Select(r => r.Groups[3].Value).ToArray();
        Assert.All(clients, n => Assert.Contains(n, new[] { "1", "2" }));
        Assert.Equal("1", clients[^1]);
        Assert.DoesNotContain("2", clients.SkipWhile(n => n == "2"));
        for (int i = 1; i < rows.Length; i++)
            Assert.True(long.Parse(rows[i].Groups[5].Value) > long.Parse(rows[i - 1].Groups[5].Value), output);
        AgainstRedis((c, port) =>
        {
            LoadOneKeyPerType(c);
            string redisOutput = RedisCli.RunFor(port, 1200, "--stat", "-i", "0.2");
            string[] redisLines = redisOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(redisLines[..2], lines[..2]); // the two header lines
            Assert.Matches(row, redisLines[2]);
        });
    }

    /// <summary>
    /// <c>--latency</c> (PING in a loop; raw output prints one "min max avg samples" line after the interval and exits)
    /// and <c>--latency-history</c> (one line per interval), in the shape redis-server gives.
    /// </summary>
    [RedisCliFact]
    public void LatencyModesPrintMinMaxAverageSamples()
    {
        (int exit, string output, string error) = RedisCli.Run(server.Port, null, 30_000, "--latency", "-i", "1");
        Assert.True(exit == 0, error);
        var line = new Regex(@"^(\d+) (\d+) (\d+\.\d\d) (\d+)\n$");
        Match m = line.Match(output);
        Assert.True(m.Success, output);
        Assert.True(long.Parse(m.Groups[1].Value) <= long.Parse(m.Groups[2].Value));
        Assert.True(long.Parse(m.Groups[4].Value) > 0);
        string history = RedisCli.RunFor(server.Port, 2500, "--latency-history", "-i", "1");
        string[] lines = history.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Raw output: a "min max avg samples" line per sample, and " -- N.NN seconds range" when an interval ends.
        Assert.All(lines, l => Assert.Matches(@"^(\d+ \d+ \d+\.\d\d \d+| -- \d+\.\d\d seconds range)$", l));
        Assert.Contains(lines, l => l.StartsWith(" -- ", StringComparison.Ordinal));
        Assert.Contains(lines, l => char.IsDigit(l[0]));
        AgainstRedis((_, redisPort) =>
        {
            (int redisExit, string redisOutput, string _) = RedisCli.Run(redisPort, null, 30_000, "--latency", "-i", "1");
            Assert.Equal(0, redisExit);
            Assert.Matches(line, redisOutput);
            string[] redisHistory = RedisCli.RunFor(redisPort, 1500, "--latency-history", "-i", "1").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(redisHistory, l => Regex.IsMatch(l, @"^ -- \d+\.\d\d seconds range$"));
            Assert.Contains(redisHistory, l => Regex.IsMatch(l, @"^\d+ \d+ \d+\.\d\d \d+$"));
        });
    }

    [RedisCliFact]
    public void PipeMassInsertionOfHundredThousandSets()
    {
        const int count = 100_000;
        var protocol = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            string key = $"cli:pipe:{i}", value = $"value{i}";
            protocol.Write(Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n{value}\r\n"));
        }
        (int exit, string output, string error) = RedisCli.Run(server.Port, protocol.ToArray(), 60_000, "--pipe");
        Assert.True(exit == 0, $"redis-cli --pipe exited {exit}: {output} {error}");
        Assert.Contains($"errors: 0, replies: {count}", output);

        using RespTestClient c = server.Connect();
        for (int i = 0; i < count; i += 9973)
        {
            string value = $"value{i}";
            Assert.Equal($"${value.Length}\r\n{value}\r\n", c.Call("GET", $"cli:pipe:{i}"));
        }
        Assert.Equal("$10\r\nvalue99999\r\n", c.Call("GET", "cli:pipe:99999"));
        // DBSIZE-like: every one of the keys is present (one MGET of all of them).
        string[] mget = new string[count + 1];
        mget[0] = "MGET";
        for (int i = 0; i < count; i++) mget[i + 1] = $"cli:pipe:{i}";
        string all = c.Call(mget);
        Assert.StartsWith($"*{count}\r\n", all);
        Assert.DoesNotContain("$-1\r\n", all);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [RedisCliFact]
    public void PipeReportsErrors()
    {
        byte[] input = Encoding.ASCII.GetBytes("*2\r\n$4\r\nINCR\r\n$11\r\ncli:perr:ok\r\n*3\r\n$3\r\nSET\r\n$12\r\ncli:perr:bad\r\n$1\r\nx\r\n*2\r\n$4\r\nINCR\r\n$12\r\ncli:perr:bad\r\n");
        (int exit, string output, string error) = RedisCli.Run(server.Port, input, 30_000, "--pipe");
        Assert.Contains("errors: 1, replies: 3", output);
        Assert.Contains("ERR value is not an integer or out of range", error);
        Assert.NotEqual(0, exit);
    }
}
