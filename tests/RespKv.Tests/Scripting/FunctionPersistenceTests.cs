using System.Text;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests.Scripting;

/// <summary>
/// Functions in the AOF: FUNCTION LOAD/DELETE/FLUSH/RESTORE are logged as received (only when they changed the
/// libraries), an FCALL as its effects, the rewrite writes one <c>FUNCTION LOAD</c> per library before the keys
/// (Redis's <c>rewriteFunctions</c>), and the libraries survive a restart — as logged, after BGREWRITEAOF, after the
/// start-up rewrite.
/// </summary>
public sealed class FunctionPersistenceTests
{
    private const string Counter = "#!lua name=counter\nredis.register_function('bump', function(keys) redis.call('incr', keys[1]); return redis.call('incr', keys[1]) end)";
    private const string Other = "#!lua name=other\nredis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    private const string Dropped = "#!lua name=dropped\nredis.register_function('gone', function() return 1 end)";

    private static string Aof(TempDir dir) => Encoding.Latin1.GetString(File.ReadAllBytes(dir.Aof));

    /// <summary>What a restarted server must still have.</summary>
    private static void AssertState(int port)
    {
        using var c = new RespTestClient(port);
        Assert.Equal("$1\r\n2\r\n", c.Call("FCALL_RO", "peek", "1", "n"));
        Assert.Equal(":6\r\n", c.Call("FCALL", "bump", "1", "n2"));
        Assert.Equal("-ERR Function not found\r\n", c.Call("FCALL", "gone", "0"));
        Assert.Contains(Counter, c.Call("FUNCTION", "LIST", "LIBRARYNAME", "counter", "WITHCODE"));
        Assert.Equal("%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n",
            HelloThen(c, "FUNCTION", "STATS"));
    }

    /// <summary>A record of arguments holding bytes (read as Latin-1 text, one byte per character).</summary>
    private static string Latin1Record(params string[] args) =>
        $"*{args.Length}\r\n" + string.Concat(args.Select(a => $"${a.Length}\r\n{a}\r\n"));

    private static string HelloThen(RespTestClient c, params string[] command)
    {
        c.Call("HELLO", "3");
        return c.Call(command);
    }

    [Fact]
    public async Task LibrariesSurviveRestartsAndRewrites()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("$7\r\ncounter\r\n", c.Call("FUNCTION", "LOAD", Counter));
            Assert.Equal("$7\r\ndropped\r\n", c.Call("function", "load", Dropped));
            Assert.Equal("-ERR Library 'counter' already exists\r\n", c.Call("FUNCTION", "LOAD", Counter));
            Assert.Equal(":2\r\n", c.Call("FCALL", "bump", "2", "n", "ignored-key"));
            Assert.Equal("+OK\r\n", c.Call("FUNCTION", "DELETE", "dropped"));
            Assert.Equal("-ERR Library not found\r\n", c.Call("FUNCTION", "DELETE", "dropped"));
            Assert.Equal("$5\r\nother\r\n", c.Call("FUNCTION", "LOAD", "REPLACE", Other));
            Assert.Equal(":2\r\n", c.Call("FCALL", "bump", "1", "n2"));
            Assert.Equal(":4\r\n", c.Call("FCALL", "bump", "1", "n2"));
            string aof = Aof(dir);
            // Logged as received; the failed LOAD and DELETE are not; FCALL as its effects, two writes in MULTI/EXEC.
            Assert.Contains(Record("FUNCTION", "LOAD", Counter) + Record("function", "load", Dropped) + Record("MULTI") +
                Record("incr", "n") + Record("incr", "n") + Record("EXEC") + Record("FUNCTION", "DELETE", "dropped") +
                Record("FUNCTION", "LOAD", "REPLACE", Other), aof);
            Assert.DoesNotContain("FCALL", aof);
        }
        // As logged.
        await using (RespKvHost host = await Start(dir.Path))
        {
            AssertState(host.Port);
            // The start-up rewrite put one FUNCTION LOAD per library first, before any SELECT.
            string aof = Aof(dir);
            string loads = Record("FUNCTION", "LOAD", Counter) + Record("FUNCTION", "LOAD", Other);
            Assert.True(aof.StartsWith(loads, StringComparison.Ordinal) ||
                aof.StartsWith(Record("FUNCTION", "LOAD", Other) + Record("FUNCTION", "LOAD", Counter), StringComparison.Ordinal), aof);
            Assert.StartsWith(Record("SELECT", "0"), aof[loads.Length..]);
            Assert.DoesNotContain("dropped", aof);
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":8\r\n", c.Call("FCALL", "bump", "1", "n2"));
            Assert.StartsWith("+Background append only file rewriting", c.Call("BGREWRITEAOF"));
            for (int i = 0; i < 200 && c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1"); i++) await Task.Delay(25);
            Assert.Equal(":10\r\n", c.Call("FCALL", "bump", "1", "n2"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":12\r\n", c.Call("FCALL", "bump", "1", "n2"));
            Assert.Equal("+OK\r\n", c.Call("FUNCTION", "FLUSH", "ASYNC"));
            Assert.EndsWith(Record("FUNCTION", "FLUSH", "ASYNC"), Aof(dir));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("*0\r\n", c.Call("FUNCTION", "LIST"));
            Assert.Equal("$2\r\n12\r\n", c.Call("GET", "n2"));
        }
    }

    [Fact]
    public async Task RestoreIsLoggedAndReplayed()
    {
        using var dir = new TempDir();
        string payload;
        await using (RespKvHost source = await ServerFixture.StartFresh())
        {
            using var s = new RespTestClient(source.Port);
            s.Call("FUNCTION", "LOAD", Counter);
            s.Call("FUNCTION", "LOAD", Other);
            string reply = s.Call("FUNCTION", "DUMP");
            int header = reply.IndexOf("\r\n", StringComparison.Ordinal);
            payload = reply.Substring(header + 2, int.Parse(reply.AsSpan(1, header - 1)));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("FUNCTION", "RESTORE", payload));
            Assert.Equal("-ERR Library counter already exists\r\n", c.Call("FUNCTION", "RESTORE", payload, "APPEND"));
            Assert.Equal("+OK\r\n", c.Call("FUNCTION", "RESTORE", payload, "REPLACE"));
            Assert.Equal(":2\r\n", c.Call("FCALL", "bump", "1", "n"));
            Assert.Equal(":2\r\n", c.Call("FCALL", "bump", "1", "n2"));
            Assert.Equal(":4\r\n", c.Call("FCALL", "bump", "1", "n2"));
            Assert.Contains(Latin1Record("FUNCTION", "RESTORE", payload) + Latin1Record("FUNCTION", "RESTORE", payload, "REPLACE"), Aof(dir));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            AssertState(host.Port);
        }
    }
}
