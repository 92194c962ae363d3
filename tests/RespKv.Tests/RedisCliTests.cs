using System.Text;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The real <c>redis-cli</c> (7.0) against the in-process server: one-shot commands, whose output
/// (not a terminal: raw mode) is what redis-server gives, and <c>--pipe</c> mass insertion.
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
