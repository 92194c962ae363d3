using System.Text;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests.Scripting;

/// <summary>
/// A script's effects in the AOF, as Redis 7.0 propagates them: each write command it ran (with the handlers' own
/// rewrites, EXPIRE → PEXPIREAT), in MULTI/EXEC when it wrote more than once, never EVAL itself; nothing for a read-only
/// script or under <c>redis.set_repl(redis.REPL_NONE)</c>; SELECT inside the script logged where it applies. The file
/// passes redis-check-aof and a restart replays it.
/// </summary>
public sealed class ScriptingAofTests
{
    [Fact]
    public async Task ScriptsAreLoggedAsTheirEffects()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":1\r\n", c.Call("EVAL", "return redis.call('incr', KEYS[1])", "1", "a"));
            Assert.Equal("$1\r\n1\r\n", c.Call("EVAL", "return redis.call('get', KEYS[1])", "1", "a"));
            Assert.Equal(":1\r\n", c.Call("EVAL", "redis.call('set', 'b', '1') redis.call('incr', 'b') return redis.call('expire', 'b', 100)", "0"));
            Assert.Equal("$-1\r\n", c.Call("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'c', '1') redis.set_repl(redis.REPL_ALL) redis.call('set', 'd', '1')", "0"));
            Assert.Equal(":1\r\n", c.Call("EVAL", "redis.call('select', 2) redis.call('set', 'x', 'y') return redis.call('dbsize')", "0"));
            // A script that fails after writing keeps (and logs) what it wrote: no rollback, as Redis.
            Assert.StartsWith("-ERR user_script:1: after the write script: ", c.Call("EVAL", "redis.call('set', 'e', '1') error('after the write')", "0"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        string text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
        long pexpireAt = long.Parse(System.Text.RegularExpressions.Regex.Match(text, @"PEXPIREAT\r\n\$1\r\nb\r\n\$13\r\n(\d{13})").Groups[1].Value);
        string expected =
            Record("SELECT", "0") + Record("incr", "a") +
            Record("MULTI") + Record("set", "b", "1") + Record("incr", "b") + Record("PEXPIREAT", "b", pexpireAt.ToString()) + Record("EXEC") +
            Record("set", "d", "1") +
            Record("SELECT", "2") + Record("set", "x", "y") +
            Record("SELECT", "0") + Record("set", "e", "1");
        Assert.Equal(expected, text);
        if (FindTool("redis-check-aof") is { } tool) Assert.Equal(0, Run(tool, dir.Aof).Code);
        await using (RespKvHost again = await Start(dir.Path))
        {
            using var c = new RespTestClient(again.Port);
            Assert.Equal("$1\r\n1\r\n", c.Call("GET", "a"));
            Assert.Equal("$1\r\n2\r\n", c.Call("GET", "b"));
            Assert.Equal("$-1\r\n", c.Call("GET", "c"));
            Assert.Equal("$1\r\n1\r\n", c.Call("GET", "e"));
            c.Call("SELECT", "2");
            Assert.Equal("$1\r\ny\r\n", c.Call("GET", "x"));
        }
    }
}
