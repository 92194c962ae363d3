using System.Diagnostics;
using System.Text;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using Xunit.Abstractions;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests.Scripting;

/// <summary>
/// <c>FUNCTION DUMP</c>/<c>RESTORE</c> payloads move between RespKv and redis-server 7.0.15 in both directions (redis-server's
/// payload holds LZF-compressed code, RespKv's plain strings), and redis-server loads RespKv's AOF with its libraries.
/// Skipped with a message when redis-server is missing (CI installs it).
/// </summary>
public sealed class FunctionInteropTests(ITestOutputHelper output)
{
    private static readonly string? RedisServer = FindTool("redis-server");

    /// <summary>Two libraries, one long enough (and repetitive enough) that redis-server compresses it.</summary>
    private static readonly string[] Libraries =
    [
        "#!lua name=greet\n" +
        "local function hello(keys, args) return 'hello ' .. (args[1] or 'world') .. ' hello hello hello hello' end\n" +
        "redis.register_function{function_name='hello', callback=hello, flags={'no-writes'}, description='says hello hello hello'}\n" +
        "redis.register_function('hello_again', function(keys, args) return 'hello again hello again hello again' end)",
        "#!lua name=counter\nredis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)",
    ];

    /// <summary>The payload of a <c>FUNCTION DUMP</c> reply (a bulk string, read as Latin-1 text).</summary>
    private static string Payload(string reply)
    {
        Assert.StartsWith("$", reply);
        int header = reply.IndexOf("\r\n", StringComparison.Ordinal);
        return reply.Substring(header + 2, int.Parse(reply.AsSpan(1, header - 1)));
    }

    /// <summary>
    /// Both libraries as <c>FUNCTION LIST … WITHCODE</c> describes them, as the multiset of the reply's lines: redis-server
    /// lists a library's functions in its hash table's order.
    /// </summary>
    private static string Listing(RespTestClient c)
    {
        string reply = c.Call("FUNCTION", "LIST", "LIBRARYNAME", "greet", "WITHCODE") + c.Call("FUNCTION", "LIST", "LIBRARYNAME", "counter", "WITHCODE");
        Assert.Contains(Libraries[0], reply);
        return string.Join("\n", reply.Split("\r\n").Order(StringComparer.Ordinal));
    }

    private static void Exercise(RespTestClient c)
    {
        Assert.Equal("$35\r\nhello there hello hello hello hello\r\n", c.Call("FCALL", "hello", "0", "there"));
        Assert.Equal(":1\r\n", c.Call("FCALL", "bump", "1", "interop:n"));
        Assert.Equal(":2\r\n", c.Call("FCALL", "bump", "1", "interop:n"));
    }

    [Fact]
    public async Task PayloadsMoveBothWays()
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return;
        }
        using var dir = new TempDir();
        (Process redis, int port) = StartRedis(RedisServer, dir.Path, "--appendonly", "no");
        try
        {
            await using RespKvHost host = await ServerFixture.StartFresh();
            using var r = new RespTestClient(port);
            using var k = new RespTestClient(host.Port);
            foreach (string code in Libraries) Assert.StartsWith("$", r.Call("FUNCTION", "LOAD", code));

            // redis-server → RespKv: its payload compresses the long library.
            string fromRedis = Payload(r.Call("FUNCTION", "DUMP"));
            Assert.DoesNotContain("hello hello hello hello", fromRedis);
            Assert.Equal("+OK\r\n", k.Call("FUNCTION", "RESTORE", fromRedis));
            Assert.Equal(Listing(r), Listing(k));
            Exercise(k);
            // The first library of the payload that exists already is named; redis-server's payload lists them in hash order.
            Assert.Matches("^-ERR Library (greet|counter) already exists\r\n$", k.Call("FUNCTION", "RESTORE", fromRedis));

            // RespKv → redis-server: after a flush there, the same libraries come back from RespKv's payload.
            string fromRespKv = Payload(k.Call("FUNCTION", "DUMP"));
            Assert.DoesNotContain("hello hello hello hello", fromRespKv);
            Assert.Equal("+OK\r\n", r.Call("FUNCTION", "FLUSH"));
            Assert.Equal("+OK\r\n", r.Call("FUNCTION", "RESTORE", fromRespKv));
            Assert.Equal(Listing(k), Listing(r));
            Exercise(r);
            // Each server refuses a payload with a wrong checksum in the same words.
            string corrupt = fromRespKv[..^1] + (char)(fromRespKv[^1] ^ 1);
            Assert.Equal(r.Call("FUNCTION", "RESTORE", corrupt), k.Call("FUNCTION", "RESTORE", corrupt));
            Assert.Equal("-ERR DUMP payload version or checksum are wrong\r\n", k.Call("FUNCTION", "RESTORE", corrupt));

            // One library on each: the payloads are the same bytes (code LZF-compressed alike).
            Assert.Equal("+OK\r\n", r.Call("FUNCTION", "DELETE", "counter"));
            Assert.Equal("+OK\r\n", k.Call("FUNCTION", "DELETE", "counter"));
            Assert.Equal(r.Call("FUNCTION", "DUMP"), k.Call("FUNCTION", "DUMP"));
        }
        finally
        {
            Stop(redis);
        }
    }

    [Fact]
    public async Task RedisServerLoadsRespKvsAofWithItsLibraries()
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return;
        }
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            foreach (string code in Libraries) Assert.StartsWith("$", c.Call("FUNCTION", "LOAD", code));
            Assert.Equal(":1\r\n", c.Call("FCALL", "bump", "1", "interop:n"));
        }
        // Once as logged, once after RespKv's start-up rewrite (FUNCTION LOAD records first).
        for (int round = 0; round < 2; round++)
        {
            if (round == 1)
            {
                await using RespKvHost host = await Start(dir.Path);
                string aof = Encoding.Latin1.GetString(File.ReadAllBytes(dir.Aof));
                Assert.StartsWith(Record("FUNCTION", "LOAD", Libraries[0])[..20], aof);
            }
            using var redisDir = new TempDir();
            File.Copy(dir.Aof, Path.Combine(redisDir.Path, "appendonly.aof"));
            (Process redis, int port) = StartRedis(RedisServer, redisDir.Path, "--appendonly", "yes", "--aof-use-rdb-preamble", "no");
            try
            {
                using var r = new RespTestClient(port);
                Assert.Contains("library_name", r.Call("FUNCTION", "LIST", "LIBRARYNAME", "greet"));
                Assert.Equal(":2\r\n", r.Call("FCALL", "bump", "1", "interop:n"));
            }
            finally
            {
                Stop(redis);
            }
        }
    }
}
