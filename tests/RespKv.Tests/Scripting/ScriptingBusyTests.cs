using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Scripting;

/// <summary>
/// Busy scripts (Redis 7.0's <c>busy-reply-threshold</c>): past the threshold other clients get <c>-BUSY</c> except the
/// <c>allow-busy</c> commands; SCRIPT KILL stops a script that has not written (the caller gets Redis's kill error, even
/// from inside the script's own pcall), answers <c>-UNKILLABLE</c> for one that wrote; an infinite loop never wedges the
/// server; a runaway allocation fails the script, not the server.
/// </summary>
public sealed class ScriptingBusyTests
{
    private const string Busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";

    private static async Task<RespKvHost> Start() => await ServerFixture.StartFresh(o => o.BusyReplyThreshold = 100);

    /// <summary>Polls <paramref name="c"/> with PING until it answers BUSY (<paramref name="busy"/>: an EVAL script's by default) (bounded).</summary>
    internal static void AwaitBusy(RespTestClient c, string busy = Busy)
    {
        for (int i = 0; i < 200; i++)
        {
            if (c.Call("PING") == busy) return;
            Thread.Sleep(20);
        }
        Assert.Fail("the server never became busy");
    }

    [Fact]
    public async Task KillStopsALoopingScriptEvenInsidePcall()
    {
        await using RespKvHost host = await Start();
        foreach (string script in new[] { "local i = 0 while true do i = i + 1 end", "pcall(function() while true do end end) return 1" })
        {
            using var caller = new RespTestClient(host.Port);
            using var other = new RespTestClient(host.Port);
            caller.SendRaw(RespTestClient.Encode("EVAL", script, "0"));
            AwaitBusy(other);
            Assert.Equal(Busy, other.Call("GET", "k"));
            Assert.Equal(Busy, other.Call("SCRIPT", "LOAD", "return 1"));
            Assert.Equal("-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n", other.Call("EVAL", "return 1", "0"));
            Assert.Equal("+OK\r\n", other.Call("SCRIPT", "KILL"));
            string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(script)));
            Assert.Equal($"-ERR Script killed by user with SCRIPT KILL... script: {sha}, on @user_script:1.\r\n", caller.ReadReply());
            Assert.Equal("+PONG\r\n", other.Call("PING"));
            Assert.Equal("+PONG\r\n", caller.Call("PING"));
            Assert.Equal("-NOTBUSY No scripts in execution right now.\r\n", other.Call("SCRIPT", "KILL"));
        }
    }

    [Fact]
    public async Task ExecDuringABusyScriptAbortsTheTransaction()
    {
        // Redis 7.0's rejectCommand: a queued command refused with BUSY dooms the transaction, and EXEC itself, refused
        // with BUSY, answers EXECABORT with that reason and leaves MULTI (multi.tcl "EXEC and script timeout").
        await using RespKvHost host = await Start();
        using var caller = new RespTestClient(host.Port);
        using var other = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", other.Call("SET", "xx", "1"));
        Assert.Equal("+OK\r\n", other.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", other.Call("INCR", "xx"));
        caller.SendRaw(RespTestClient.Encode("EVAL", "while true do end", "0"));
        using (var poller = new RespTestClient(host.Port)) AwaitBusy(poller);
        Assert.Equal(Busy, other.Call("INCR", "xx"));
        Assert.Equal("-EXECABORT Transaction discarded because of: " + Busy[1..], other.Call("EXEC"));
        Assert.Equal("+OK\r\n", other.Call("SCRIPT", "KILL"));
        Assert.StartsWith("-ERR Script killed by user with SCRIPT KILL...", caller.ReadReply());
        Assert.Equal("$4\r\nasdf\r\n", other.Call("PING", "asdf"));
        Assert.Equal("$1\r\n1\r\n", other.Call("GET", "xx"));
    }

    [Fact]
    public async Task EveryOtherConnectionIsAnsweredWhileAScriptLoops()
    {
        await using RespKvHost host = await Start();
        // Connections opened before and after the script: whichever socket thread serves them, none may be stalled by it.
        var before = Enumerable.Range(0, 8).Select(_ => new RespTestClient(host.Port)).ToList();
        using var caller = new RespTestClient(host.Port);
        caller.SendRaw(RespTestClient.Encode("EVAL", "while true do end", "0"));
        var after = Enumerable.Range(0, 8).Select(_ => new RespTestClient(host.Port)).ToList();
        try
        {
            foreach (RespTestClient c in before.Concat(after)) AwaitBusy(c);
            Assert.Equal("+OK\r\n", after[0].Call("SCRIPT", "KILL"));
            Assert.StartsWith("-ERR Script killed by user with SCRIPT KILL...", caller.ReadReply());
            foreach (RespTestClient c in before.Concat(after)) Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        finally
        {
            foreach (RespTestClient c in before.Concat(after)) c.Dispose();
        }
    }

    [Fact]
    public async Task AScriptThatWroteIsUnkillableAndKeepsRunning()
    {
        await using RespKvHost host = await Start();
        using var caller = new RespTestClient(host.Port, timeoutMs: 20_000);
        using var other = new RespTestClient(host.Port);
        // Writes, then loops for about 1.5 s (os.clock is not available: the loop counts redis.call('time') seconds).
        caller.SendRaw(RespTestClient.Encode("EVAL",
            "redis.call('set', KEYS[1], 'x') local t = redis.call('time') local start = t[1] * 1000000 + t[2] " +
            "while true do t = redis.call('time') if t[1] * 1000000 + t[2] - start > 1500000 then break end end return 'done'", "1", "busy:w"));
        AwaitBusy(other);
        Assert.Equal("-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n",
            other.Call("SCRIPT", "KILL"));
        Assert.Equal("$4\r\ndone\r\n", caller.ReadReply());
        Assert.Equal("$1\r\nx\r\n", other.Call("GET", "busy:w"));
    }

    [Fact]
    public async Task BelowTheThresholdOthersWaitAndThenRun()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.BusyReplyThreshold = 0);
        using var caller = new RespTestClient(host.Port);
        using var other = new RespTestClient(host.Port);
        caller.SendRaw(RespTestClient.Encode("EVAL", "for i = 1, 3000000 do end redis.call('set', KEYS[1], 'v') return 1", "1", "busy:late"));
        Thread.Sleep(20);
        // With busy-reply-threshold 0 a script is never busy: a reader of the database waits for the script and sees its write.
        Assert.Equal("$1\r\nv\r\n", other.Call("GET", "busy:late"));
        Assert.Equal(":1\r\n", caller.ReadReply());
    }

    [Fact]
    public async Task OverMaxmemoryScriptsFollowRedisOomRules()
    {
        await using RespKvHost host = await Start();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "pre", "1"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "1"));
        const string set = "return redis.call('set','x','y')";
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(set)));
        // Without a shebang: a denyoom command fails while the script has not written yet; reads run.
        Assert.Equal($"-OOM command not allowed when used memory > 'maxmemory'. script: {sha}, on @user_script:1.\r\n", c.Call("EVAL", set, "0"));
        Assert.Equal("$1\r\n1\r\n", c.Call("EVAL", "return redis.call('get','pre')", "0"));
        Assert.Equal("+OK\r\n", c.Call("EVAL", "redis.call('del','nokey') return redis.call('set','x','y')", "0"));
        // With a shebang: refused at the start unless allow-oom or no-writes.
        Assert.Equal("-OOM command not allowed when used memory > 'maxmemory'.\r\n", c.Call("EVAL", "#!lua\nreturn redis.call('get','pre')", "0"));
        Assert.Equal("+OK\r\n", c.Call("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"));
        Assert.Equal("$1\r\n1\r\n", c.Call("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','pre')", "0"));
    }

    [Fact]
    public async Task RunawayAllocationFailsTheScriptOnly()
    {
        await using RespKvHost host = await Start();
        using var c = new RespTestClient(host.Port, timeoutMs: 60_000);
        string reply = c.Call("EVAL", "local t = {} local s = string.rep('x', 1048576) for i = 1, 100000 do t[i] = s .. i end return #t", "0");
        Assert.StartsWith("-ERR ", reply);
        Assert.Contains("not enough memory", reply);
        Assert.Equal(":3\r\n", c.Call("EVAL", "return 3", "0"));
    }
}
