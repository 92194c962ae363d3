using System.Diagnostics;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;
using static RespKv.Tests.Support.Blocking;

namespace RespKv.Tests;

/// <summary>
/// BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP across connections (each test on a private server, so INFO's blocked_clients is
/// its own): FIFO service, timeouts, the ways a key becomes ready, MULTI, disconnects, CLIENT UNBLOCK, INFO and CLIENT
/// LIST, and the AOF records of served blocking commands. Replies as redis-server 7.0.15 gives them.
/// </summary>
public sealed class BlockingListTests
{
    private static string Pair(string key, string value) => BulkArray(key, value);

    [Fact]
    public async Task WaitersAreServedInTheOrderTheyBlocked()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient first = new(host.Port), second = new(host.Port), third = new(host.Port), pusher = new(host.Port);
        Send(first, "BLPOP", "k", "0");
        WaitBlocked(pusher, 1);
        Send(second, "BRPOP", "other", "k", "0");
        WaitBlocked(pusher, 2);
        Send(third, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "5");
        WaitBlocked(pusher, 3);
        Assert.Equal(":3\r\n", pusher.Call("RPUSH", "k", "a", "b", "c"));
        Assert.Equal(Pair("k", "a"), first.ReadReply());
        Assert.Equal(Pair("k", "c"), second.ReadReply());
        Assert.Equal("*2\r\n$1\r\nk\r\n*1\r\n$1\r\nb\r\n", third.ReadReply());
        WaitBlocked(pusher, 0);
        Assert.Equal(":0\r\n", pusher.Call("EXISTS", "k"));
        // The served clients carry on normally.
        Assert.Equal("+PONG\r\n", first.Call("PING"));
    }

    [Fact]
    public async Task ABlockedCommandCountsOneCall()
    {
        // redis-server 7.0.15's call() counts BLPOP when it blocks (cmdstat_blpop calls=1 while it waits); the push that
        // serves it adds its time only (updateStatsOnUnblock), and a wake-up that does not serve it (the key written with
        // another type) adds nothing.
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), other = new(host.Port);
        Send(c, "BLPOP", "k", "0");
        WaitBlocked(other, 1);
        Assert.Matches(@"cmdstat_blpop:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n", other.Call("INFO", "commandstats"));
        Assert.Equal("+OK\r\n", other.Call("SET", "k", "string"));
        Assert.Equal(":1\r\n", other.Call("DEL", "k"));
        Assert.Equal(":1\r\n", other.Call("RPUSH", "k", "a"));
        Assert.Equal(Pair("k", "a"), c.ReadReply());
        Assert.Matches(@"cmdstat_blpop:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n", other.Call("INFO", "commandstats"));
        Assert.Equal("*-1\r\n", c.Call("BLPOP", "k", "0.05"));
        Assert.Contains("cmdstat_blpop:calls=2,", other.Call("INFO", "commandstats"));
    }

    [Fact]
    public async Task FractionalTimeoutsExpireWithANullArray()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), watcher = new(host.Port);
        var clock = Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", c.Call("BLPOP", "k", "0.2"));
        Assert.InRange(clock.ElapsedMilliseconds, 180, 3000);
        Assert.Equal("*-1\r\n", c.Call("BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"));
        Assert.Equal("*-1\r\n", c.Call("BLMPOP", "0.05", "1", "k", "RIGHT"));
        Assert.Equal(0, BlockedClients(watcher));
        // A key that is written but stays empty (pushed and popped in one EXEC) does not end the wait early.
        Send(c, "BRPOPLPUSH", "k", "d", "0.3");
        WaitBlocked(watcher, 1);
        watcher.Call("MULTI");
        watcher.Call("RPUSH", "k", "x");
        watcher.Call("RPOP", "k");
        Assert.Equal("*2\r\n:1\r\n$1\r\nx\r\n", watcher.Call("EXEC"));
        Assert.Equal("*-1\r\n", c.ReadReply());
    }

    [Fact]
    public async Task KeysBecomeReadyByMovesRenamesAndTransactions()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), other = new(host.Port);

        Send(c, "BLMOVE", "k", "dst", "RIGHT", "LEFT", "0");
        WaitBlocked(other, 1);
        other.Call("RPUSH", "src", "moved");
        Assert.Equal("$5\r\nmoved\r\n", other.Call("LMOVE", "src", "k", "LEFT", "LEFT"));
        Assert.Equal("$5\r\nmoved\r\n", c.ReadReply());
        Assert.Equal("*1\r\n$5\r\nmoved\r\n", other.Call("LRANGE", "dst", "0", "-1"));

        Send(c, "BLPOP", "k", "0");
        WaitBlocked(other, 1);
        other.Call("RPUSH", "tmp", "renamed");
        Assert.Equal("+OK\r\n", other.Call("RENAME", "tmp", "k"));
        Assert.Equal(Pair("k", "renamed"), c.ReadReply());

        Send(c, "BRPOP", "k", "0");
        WaitBlocked(other, 1);
        Assert.Equal("+OK\r\n", other.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", other.Call("RPUSH", "k", "x"));
        Assert.Equal("+QUEUED\r\n", other.Call("LLEN", "k"));
        // Inside EXEC the waiter is not served yet: it is served after EXEC.
        Assert.Equal("*2\r\n:1\r\n:1\r\n", other.Call("EXEC"));
        Assert.Equal(Pair("k", "x"), c.ReadReply());

        // A key that now holds another type does not serve the waiter (Redis 7.0 keeps it blocked until its timeout)…
        Send(c, "BLPOP", "k", "0.3");
        WaitBlocked(other, 1);
        other.Call("SET", "k", "string");
        Assert.Equal("*-1\r\n", c.ReadReply());
        // …while a blocking command that meets a wrong type at once answers WRONGTYPE.
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("BLPOP", "k", "0"));
        WaitBlocked(other, 0);
    }

    [Fact]
    public async Task KeysBecomeReadyByMovesCopiesAndSwapsFromOtherDatabases()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), other = new(host.Port);
        other.Call("SELECT", "1");
        ServedAfter(c, other, ["BLPOP", "k", "0"], () =>
        {
            other.Call("RPUSH", "k", "moved");
            Assert.Equal(":1\r\n", other.Call("MOVE", "k", "0"));
        }, Pair("k", "moved"));
        ServedAfter(c, other, ["BRPOP", "k", "0"], () =>
        {
            other.Call("RPUSH", "k", "copied");
            Assert.Equal(":1\r\n", other.Call("COPY", "k", "k", "DB", "0"));
        }, Pair("k", "copied"));
        // SWAPDB: the key now in the waiter's database (database 1's list) serves it.
        ServedAfter(c, other, ["BLMPOP", "0", "2", "none", "k", "LEFT"], () => Assert.Equal("+OK\r\n", other.Call("SWAPDB", "1", "0")),
            "*2\r\n$1\r\nk\r\n*1\r\n$6\r\ncopied\r\n");
        WaitBlocked(other, 0);
        Assert.Equal(0, host.Server.BlockedClients.KeyCount);
    }

    [Fact]
    public async Task InsideMultiABlockingCommandAnswersAtOnce()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        c.Call("MULTI");
        c.Call("BLPOP", "k", "0");
        c.Call("BLMOVE", "k", "d", "LEFT", "LEFT", "0");
        c.Call("BLMPOP", "0", "1", "k", "LEFT");
        Assert.Equal("*3\r\n*-1\r\n$-1\r\n*-1\r\n", c.Call("EXEC"));
    }

    [Fact]
    public async Task DisconnectWhileBlockedLeavesNothingBehind()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient other = new(host.Port);
        DisconnectLeavesNothingBehind(host, other, "BLPOP", "k", "0");
        Assert.Equal(":1\r\n", other.Call("RPUSH", "k", "kept"));
        Assert.Equal(":1\r\n", other.Call("LLEN", "k"));
    }

    [Fact]
    public async Task ClientUnblockEndsABlockAsATimeoutOrAnError()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), admin = new(host.Port);
        string id = c.Call("CLIENT", "ID").Trim(':', '\r', '\n');
        Assert.Equal(":0\r\n", admin.Call("CLIENT", "UNBLOCK", id));
        Assert.Equal("-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n", admin.Call("CLIENT", "UNBLOCK", id, "LATER"));
        ClientUnblockEndsBlocks(host, c, id, admin, ["BLPOP", "k", "0"], ["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    }

    [Fact]
    public async Task ServedBlockingCommandsAreLoggedAsTheirNonBlockingForms()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using RespTestClient c = new(host.Port), other = new(host.Port);
            Send(c, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0");
            WaitBlocked(other, 1);
            other.Call("RPUSH", "src", "a", "b", "c");
            Assert.Equal("$1\r\na\r\n", c.ReadReply());
            Send(c, "BRPOP", "src", "0");
            Assert.Equal(Pair("src", "c"), c.ReadReply());
            Assert.Equal("*2\r\n$3\r\nsrc\r\n*1\r\n$1\r\nb\r\n", c.Call("BLMPOP", "0", "1", "src", "LEFT", "COUNT", "9"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        string log = AofText(dir.Path);
        Assert.DoesNotContain("BLMOVE", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("BRPOP", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("BLMPOP", log, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("LMOVE", log);
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":0\r\n", c.Call("EXISTS", "src"));
            Assert.Equal("*1\r\n$1\r\na\r\n", c.Call("LRANGE", "dst", "0", "-1"));
        }
    }
}
