using System.Buffers;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;

namespace RespKv.Tests.Scripting;

/// <summary>
/// FUNCTION and FCALL through a socket, with redis-server 7.0.15's reply bytes: load-time rules (what the library code
/// sees while loading, the 500 ms load limit), FCALL's keys and arguments, flags, atomicity over undeclared keys, a
/// library replaced under concurrent FCALLs (each call runs one whole version), and busy functions — BUSY texts,
/// FUNCTION STATS while one runs, FUNCTION KILL, UNKILLABLE, and SCRIPT KILL/FUNCTION KILL refusing each other's kind.
/// </summary>
public sealed class FunctionCommandTests
{
    private const string BusyFunction = "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n";

    private static async Task<RespKvHost> Start() => await ServerFixture.StartFresh(o => o.BusyReplyThreshold = 100);

    private static void AwaitBusy(RespTestClient c, string busy = BusyFunction) => ScriptingBusyTests.AwaitBusy(c, busy);

    [Fact]
    public async Task LoadTimeApiAndLimit()
    {
        await using RespKvHost host = await Start();
        using var c = new RespTestClient(host.Port);
        // Only register_function, log, the log levels and the version exist while the code loads.
        Assert.Equal("$1\r\na\r\n", c.Call("FUNCTION", "LOAD",
            "#!lua name=a\nredis.log(redis.LOG_WARNING, 'loading', redis.REDIS_VERSION_NUM)\n" +
            "redis.register_function('va', function() return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, type(string.len)} end)"));
        Assert.Equal("*3\r\n$6\r\n7.0.15\r\n:458767\r\n$8\r\nfunction\r\n", c.Call("FCALL", "va", "0"));
        Assert.Equal("-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'\r\n",
            c.Call("FUNCTION", "LOAD", "#!lua name=b\nredis.call('set', 'x', 'y')"));
        Assert.Equal("-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table\r\n",
            c.Call("FUNCTION", "LOAD", "#!lua name=b\nredis.foo = 1"));
        Assert.Equal("-ERR Error compiling function: user_function:2: ')' expected near '<eof>'\r\n",
            c.Call("FUNCTION", "LOAD", "#!lua name=b\nredis.register_function('f', function() end"));
        // A library's code may run at most 500 ms (FUNCTION LOAD timeout); nothing of it stays.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n",
            c.Call("FUNCTION", "LOAD", "#!lua name=loop\nredis.register_function('l', function() end)\nwhile true do end"));
        Assert.InRange(clock.ElapsedMilliseconds, 450, 5000);
        Assert.Equal("-ERR Function not found\r\n", c.Call("FCALL", "l", "0"));
        Assert.Equal("*1\r\n", c.Call("FUNCTION", "LIST")[..4]);
        // The state is still usable after the timeout.
        Assert.Equal("$1\r\nb\r\n", c.Call("FUNCTION", "LOAD", "#!lua name=b\nredis.register_function('vb', function(keys, args) return #keys + #args end)"));
        Assert.Equal(":3\r\n", c.Call("FCALL", "vb", "1", "k", "a1", "a2"));
        string info = c.Call("INFO", "memory");
        Assert.Contains("\r\nnumber_of_functions:2\r\n", info);
        Assert.Matches("used_memory_vm_functions:[1-9][0-9]+\r\n", info);
    }

    [Fact]
    public async Task KeysArgumentsFlagsAndUndeclaredKeys()
    {
        await using RespKvHost host = await Start();
        using var c = new RespTestClient(host.Port);
        c.Call("FUNCTION", "LOAD", "#!lua name=kv\n" +
            "redis.register_function('echo', function(keys, args) return {keys, args} end)\n" +
            "redis.register_function('undeclared', function(keys, args) redis.call('set', 'not:declared', args[1]) return redis.call('get', 'not:declared') end)\n" +
            "redis.register_function{function_name='reader', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}");
        Assert.Equal("*2\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n*1\r\n$2\r\na1\r\n", c.Call("FCALL", "ECHO", "2", "k1", "k2", "a1"));
        Assert.Equal("*2\r\n*0\r\n*0\r\n", c.Call("FCALL", "echo", "0"));
        Assert.Equal("$1\r\nv\r\n", c.Call("FCALL", "undeclared", "0", "v"));
        Assert.Equal("$1\r\nv\r\n", c.Call("FCALL_RO", "reader", "1", "not:declared"));
        Assert.Equal("-ERR Can not execute a script with write flag using *_ro command.\r\n", c.Call("FCALL_RO", "undeclared", "0", "v"));
        Assert.Equal("-ERR Bad number of keys provided\r\n", c.Call("FCALL", "echo", "x"));
        Assert.Equal("-ERR Number of keys can't be greater than number of args\r\n", c.Call("FCALL", "echo", "2", "k"));
        Assert.Equal("-ERR Number of keys can't be negative\r\n", c.Call("FCALL", "echo", "-1"));
        Assert.Equal("-ERR Function not found\r\n", c.Call("FCALL", "nope", "x"));
        // maxmemory: a function that may write is refused over the limit; no-writes runs.
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "1"));
        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", c.Call("FCALL", "undeclared", "0", "w"));
        Assert.Equal("$1\r\nv\r\n", c.Call("FCALL", "reader", "1", "not:declared"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "0"));
    }

    [Fact]
    public async Task AFunctionIsAtomicOverKeysItDidNotDeclare()
    {
        await using RespKvHost host = await Start();
        using (var setup = new RespTestClient(host.Port))
        {
            setup.Call("FUNCTION", "LOAD", "#!lua name=pair\n" +
                "redis.register_function('move', function() local a = tonumber(redis.call('get', 'acct:a') or '0') " +
                "redis.call('set', 'acct:a', a - 1) redis.call('incr', 'acct:b') return 1 end)");
            setup.Call("MSET", "acct:a", "1000", "acct:b", "0");
        }
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            using var w = new RespTestClient(host.Port);
            for (int i = 0; i < 200; i++) Assert.Equal(":1\r\n", w.Call("FCALL", "move", "0"));
        })).ToArray();
        var reader = Task.Run(() =>
        {
            using var r = new RespTestClient(host.Port);
            int checks = 0;
            while (!writers.All(t => t.IsCompleted) || checks == 0)
            {
                string reply = r.Call("MGET", "acct:a", "acct:b");
                string[] parts = reply.Split("\r\n");
                Assert.Equal(1000, long.Parse(parts[2]) + long.Parse(parts[4]));
                checks++;
            }
        });
        await Task.WhenAll(writers);
        await reader;
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*2\r\n$3\r\n400\r\n$3\r\n600\r\n", c.Call("MGET", "acct:a", "acct:b"));
    }

    [Fact]
    public async Task ReplacingALibraryUnderConcurrentCallsRunsOneWholeVersion()
    {
        await using RespKvHost host = await Start();
        static string Version(int n) => $"#!lua name=v\nredis.register_function('which', function() return {n} end)\n" +
            $"redis.register_function('which{n % 2}', function() return -1 end)";
        using (var setup = new RespTestClient(host.Port)) Assert.Equal("$1\r\nv\r\n", setup.Call("FUNCTION", "LOAD", Version(0)));
        int loads = 0;
        var callers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            using var c = new RespTestClient(host.Port);
            for (int i = 0; i < 300; i++)
            {
                string reply = c.Call("FCALL", "which", "0");
                Assert.True(reply.StartsWith(':') && int.Parse(reply.AsSpan(1, reply.Length - 3)) >= 0, reply);
            }
        })).ToArray();
        var loader = Task.Run(() =>
        {
            using var l = new RespTestClient(host.Port);
            for (int n = 1; !callers.All(t => t.IsCompleted); n++)
            {
                Assert.Equal("$1\r\nv\r\n", l.Call("FUNCTION", "LOAD", "REPLACE", Version(n)));
                loads++;
            }
        });
        await Task.WhenAll(callers);
        await loader;
        Assert.True(loads > 0);
        using var check = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", check.Call("FUNCTION", "DELETE", "v"));
        Assert.Equal("-ERR Function not found\r\n", check.Call("FCALL", "which", "0"));
    }

    [Fact]
    public async Task BusyFunctionStatsAndKill()
    {
        await using RespKvHost host = await Start();
        using var caller = new RespTestClient(host.Port);
        using var other = new RespTestClient(host.Port);
        other.Call("FUNCTION", "LOAD", "#!lua name=busy\n" +
            "redis.register_function{function_name='spin', callback=function() local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}");
        caller.SendRaw(RespTestClient.Encode("FCALL", "spin", "0", "a", "b"));
        AwaitBusy(other);
        Assert.Equal(BusyFunction, other.Call("GET", "k"));
        Assert.Equal(BusyFunction, other.Call("FCALL", "spin", "0"));
        Assert.Equal(BusyFunction, other.Call("FUNCTION", "LOAD", "x"));
        Assert.Equal(BusyFunction, other.Call("SCRIPT", "KILL"));
        string stats = other.Call("FUNCTION", "STATS");
        Assert.StartsWith("*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*5\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n$1\r\na\r\n$1\r\nb\r\n$11\r\nduration_ms\r\n:", stats);
        Assert.EndsWith("$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n", stats);
        Assert.Equal("+OK\r\n", other.Call("FUNCTION", "KILL"));
        Assert.Equal("-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n", caller.ReadReply());
        Assert.Equal("-NOTBUSY No scripts in execution right now.\r\n", other.Call("FUNCTION", "KILL"));
        Assert.Equal("+PONG\r\n", caller.Call("PING"));
        Assert.StartsWith("*4\r\n$14\r\nrunning_script\r\n$-1\r\n", other.Call("FUNCTION", "STATS"));

        // An EVAL script running: FUNCTION KILL and FUNCTION STATS refuse it.
        caller.SendRaw(RespTestClient.Encode("EVAL", "while true do end", "0"));
        const string BusyEval = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
        AwaitBusy(other, BusyEval);
        Assert.Equal(BusyEval, other.Call("FUNCTION", "KILL"));
        Assert.Equal(BusyEval, other.Call("FUNCTION", "STATS"));
        Assert.Equal("+OK\r\n", other.Call("SCRIPT", "KILL"));
        Assert.StartsWith("-ERR Script killed by user with SCRIPT KILL...", caller.ReadReply());
    }

    [Fact]
    public async Task AFunctionThatWroteIsUnkillable()
    {
        await using RespKvHost host = await Start();
        using var caller = new RespTestClient(host.Port, timeoutMs: 20_000);
        using var other = new RespTestClient(host.Port);
        other.Call("FUNCTION", "LOAD", "#!lua name=w\nredis.register_function('write_then_wait', function(keys) " +
            "redis.call('set', keys[1], 'x') local t = redis.call('time') local start = t[1] * 1000000 + t[2] " +
            "while true do t = redis.call('time') if t[1] * 1000000 + t[2] - start > 1500000 then break end end return 'done' end)");
        caller.SendRaw(RespTestClient.Encode("FCALL", "write_then_wait", "1", "busy:w"));
        AwaitBusy(other);
        Assert.Equal("-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n",
            other.Call("FUNCTION", "KILL"));
        Assert.Equal("$4\r\ndone\r\n", caller.ReadReply());
        Assert.Equal("$1\r\nx\r\n", other.Call("GET", "busy:w"));
    }

    [Fact]
    public void FcallAllocatesOnlyWhatItsCommandsStore()
    {
        var server = new RespServer(new ServerOptions());
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var session = new ClientSession(server, output);
        Allocations.PerCommand(session, output, 1, "FUNCTION", "LOAD", "#!lua name=alloc\n" +
            "redis.register_function{function_name='get', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}\n" +
            "redis.register_function('incr', function(keys) return redis.call('incr', keys[1]) end)");
        Allocations.PerCommand(session, output, 10, "SET", "k", "v");
        Assert.Equal(2, server.Functions.Current.FunctionCount);

        double read = Allocations.PerCommand(session, output, 2000, "FCALL", "get", "1", "k");
        Assert.True(read < 4, $"FCALL of a GET function allocated {read} bytes per call");
        double readOnly = Allocations.PerCommand(session, output, 2000, "FCALL_RO", "GET", "1", "k");
        Assert.True(readOnly < 4, $"FCALL_RO of a GET function allocated {readOnly} bytes per call");
        double write = Allocations.PerCommand(session, output, 2000, "FCALL", "incr", "1", "n");
        Assert.True(write <= KeyEntry.NodeBytes + KeyEntry.ArrayBytes(4) + 4, $"FCALL of an INCR function allocated {write} bytes per call");
        Allocations.PerCommand(session, output, 1, "FCALL", "get", "1", "k");
        Assert.Equal("$1\r\nv\r\n", System.Text.Encoding.ASCII.GetString(output.WrittenSpan));
        Allocations.PerCommand(session, output, 1, "FCALL", "incr", "1", "n");
        Assert.Equal(":12006\r\n", System.Text.Encoding.ASCII.GetString(output.WrittenSpan)); // 6 runs of 2000, then 6 of 1
    }
}
