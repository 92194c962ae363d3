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
