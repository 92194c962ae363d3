using System.Diagnostics;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;
using static RespKv.Tests.Support.Blocking;

namespace RespKv.Tests;

/// <summary>
/// BZPOPMIN BZPOPMAX BZMPOP across connections (each test on a private server, so INFO's blocked_clients is its own):
/// service in blocking order (sorted-set waiters and list waiters of one key each served by their own type), timeouts and
/// reply shapes in RESP2 and RESP3, the ways a key becomes ready (ZADD inside EXEC, RENAME, ZUNIONSTORE, COPY, MOVE,
/// SWAPDB), MULTI, disconnects, CLIENT UNBLOCK, CLIENT LIST, and the AOF records of served pops. Replies as
/// redis-server 7.0.15 gives them.
/// </summary>
public sealed class BlockingSortedSetTests
{
    private const string WrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    [Fact]
    public async Task WaitersOfEachTypeAreServedInTheOrderTheyBlocked()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient first = new(host.Port), list = new(host.Port), third = new(host.Port), fourth = new(host.Port), writer = new(host.Port);
        Send(first, "BZPOPMIN", "k", "0");
        WaitBlocked(writer, 1);
        Send(list, "BLPOP", "k", "0");
        WaitBlocked(writer, 2);
        Send(third, "BZMPOP", "0", "2", "other", "k", "MAX", "COUNT", "2");
        WaitBlocked(writer, 3);
        Send(fourth, "BZPOPMAX", "other", "k", "0");
        WaitBlocked(writer, 4);
        Assert.Equal(":4\r\n", writer.Call("ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"));
        Assert.Equal(BulkArray("k", "a", "1"), first.ReadReply());
        Assert.Equal("*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n", third.ReadReply());
        Assert.Equal(BulkArray("k", "b", "2"), fourth.ReadReply());
        // The list waiter ahead of them is not served by a sorted set; it still waits, and a list serves it.
        WaitBlocked(writer, 1);
        Assert.Equal(":0\r\n", writer.Call("EXISTS", "k"));
        Assert.Equal(":1\r\n", writer.Call("RPUSH", "k", "x"));
        Assert.Equal(BulkArray("k", "x"), list.ReadReply());
        WaitBlocked(writer, 0);
        Assert.Equal(0, host.Server.BlockedClients.KeyCount);
        Assert.Equal("+PONG\r\n", first.Call("PING"));
    }

    [Fact]
    public async Task ASortedSetWaiterBehindAListWaiterIsWokenWhenTheKeyTurnsIntoASortedSet()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient list = new(host.Port), zset = new(host.Port), writer = new(host.Port);
        Send(list, "BRPOP", "k", "0");
        WaitBlocked(writer, 1);
        Send(zset, "BZPOPMAX", "k", "0");
        WaitBlocked(writer, 2);
        // One EXEC makes the key a list and then a sorted set: the list waiter is woken first, finds a sorted set, and passes
        // its turn to the sorted-set waiter behind it.
        writer.Call("MULTI");
        writer.Call("RPUSH", "k", "x");
        writer.Call("DEL", "k");
        writer.Call("ZADD", "k", "7", "m");
        Assert.Equal("*3\r\n:1\r\n:1\r\n:1\r\n", writer.Call("EXEC"));
        Assert.Equal(BulkArray("k", "m", "7"), zset.ReadReply());
        WaitBlocked(writer, 1);
        writer.Call("RPUSH", "k", "y");
        Assert.Equal(BulkArray("k", "y"), list.ReadReply());
        WaitBlocked(writer, 0);
    }

    [Fact]
    public async Task TimeoutsRepliesAndErrorsAsRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), watcher = new(host.Port);
        var clock = Stopwatch.StartNew();
        Assert.Equal("*-1\r\n", c.Call("BZPOPMIN", "k", "0.2"));
        Assert.InRange(clock.ElapsedMilliseconds, 180, 3000);
        Assert.Equal("*-1\r\n", c.Call("BZMPOP", "0.05", "1", "k", "MIN"));
        Assert.Equal("-ERR timeout is negative\r\n", c.Call("BZPOPMAX", "k", "-1"));
        Assert.Equal("-ERR timeout is not a float or out of range\r\n", c.Call("BZPOPMAX", "k", "soon"));
        Assert.Equal("-ERR numkeys should be greater than 0\r\n", c.Call("BZMPOP", "0", "0", "k", "MIN"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("BZMPOP", "0", "2", "k", "MIN"));
        Assert.Equal("-ERR count should be greater than 0\r\n", c.Call("BZMPOP", "0", "1", "k", "MAX", "COUNT", "0"));
        // BZMPOP parses its options before the timeout.
        Assert.Equal("-ERR syntax error\r\n", c.Call("BZMPOP", "x", "1", "k", "MIDDLE"));
        c.Call("SET", "s", "v");
        Assert.Equal(WrongType, c.Call("BZPOPMIN", "missing", "s", "0"));
        Assert.Equal(WrongType, c.Call("BZMPOP", "0", "1", "s", "MIN"));
        Assert.Equal(0, BlockedClients(watcher));

        // Served at once: [key, member, score] / [key, [[member, score], …]]; scores are doubles in RESP3.
        c.Call("ZADD", "z", "1.5", "a", "2", "b", "3", "c");
        Assert.Equal(BulkArray("z", "c", "3"), c.Call("BZPOPMAX", "missing", "z", "0"));
        c.Call("HELLO", "3");
        Assert.Equal("*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n", c.Call("BZPOPMIN", "z", "0"));
        Assert.Equal("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n", c.Call("BZMPOP", "0", "1", "z", "MIN", "COUNT", "10"));
        Assert.Equal("_\r\n", c.Call("BZPOPMIN", "z", "0.01"));

        // A key that now holds another type does not serve the waiter (it stays blocked until its timeout).
        Send(c, "BZPOPMIN", "z", "0.3");
        WaitBlocked(watcher, 1);
        watcher.Call("SADD", "z", "member");
        Assert.Equal("_\r\n", c.ReadReply());
        WaitBlocked(watcher, 0);
    }

    [Fact]
    public async Task InsideMultiABlockingPopAnswersAtOnce()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        c.Call("MULTI");
        c.Call("BZPOPMIN", "k", "0");
        c.Call("BZPOPMAX", "k", "0");
        c.Call("BZMPOP", "0", "1", "k", "MIN");
        c.Call("ZADD", "k", "1", "a");
        c.Call("BZPOPMAX", "k", "0");
        Assert.Equal("*5\r\n*-1\r\n*-1\r\n*-1\r\n:1\r\n" + BulkArray("k", "a", "1"), c.Call("EXEC"));
    }

    [Fact]
    public async Task KeysBecomeReadyByWritesRenamesCopiesMovesAndSwaps()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), other = new(host.Port);

        // ZADD inside EXEC: served after EXEC.
        ServedAfter(c, other, ["BZPOPMIN", "k", "0"], () =>
        {
            other.Call("MULTI");
            other.Call("ZADD", "k", "1", "a");
            other.Call("ZSCORE", "k", "a");
            Assert.Equal("*2\r\n:1\r\n$1\r\n1\r\n", other.Call("EXEC"));
        }, BulkArray("k", "a", "1"));

        // A key written but left empty within one EXEC does not serve.
        Send(c, "BZPOPMAX", "k", "0");
        WaitBlocked(other, 1);
        other.Call("MULTI");
        other.Call("ZADD", "k", "1", "a");
        other.Call("ZREM", "k", "a");
        Assert.Equal("*2\r\n:1\r\n:1\r\n", other.Call("EXEC"));

        // RENAME onto the key.
        other.Call("ZADD", "tmp", "2", "renamed");
        Assert.Equal("+OK\r\n", other.Call("RENAME", "tmp", "k"));
        Assert.Equal(BulkArray("k", "renamed", "2"), c.ReadReply());

        // ZUNIONSTORE into the key (from a plain set: score 1).
        other.Call("SADD", "plain", "p");
        ServedAfter(c, other, ["BZMPOP", "0", "1", "k", "MIN"], () => Assert.Equal(":1\r\n", other.Call("ZUNIONSTORE", "k", "1", "plain")),
            "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\np\r\n$1\r\n1\r\n");

        // COPY into the key.
        other.Call("ZADD", "src", "3", "copied");
        ServedAfter(c, other, ["BZPOPMIN", "k", "0"], () => Assert.Equal(":1\r\n", other.Call("COPY", "src", "k")), BulkArray("k", "copied", "3"));

        // MOVE from another database into the waiter's.
        other.Call("SELECT", "1");
        other.Call("ZADD", "k", "4", "moved");
        ServedAfter(c, other, ["BZPOPMIN", "k", "0"], () => Assert.Equal(":1\r\n", other.Call("MOVE", "k", "0")), BulkArray("k", "moved", "4"));

        // COPY … DB into the waiter's database.
        other.Call("ZADD", "k", "5", "copied-db");
        ServedAfter(c, other, ["BZPOPMIN", "k", "0"], () => Assert.Equal(":1\r\n", other.Call("COPY", "k", "k", "DB", "0")), BulkArray("k", "copied-db", "5"));

        // SWAPDB brings database 1's key into database 0.
        other.Call("ZADD", "k", "6", "swapped");
        ServedAfter(c, other, ["BZPOPMAX", "k", "0"], () => Assert.Equal("+OK\r\n", other.Call("SWAPDB", "0", "1")), BulkArray("k", "swapped", "6"));
        WaitBlocked(other, 0);
        Assert.Equal(0, host.Server.BlockedClients.KeyCount);
    }

    [Fact]
    public async Task DisconnectAndClientUnblockEndTheBlock()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), admin = new(host.Port);
        DisconnectLeavesNothingBehind(host, admin, "BZPOPMIN", "k", "0");
        Assert.Equal(":1\r\n", admin.Call("ZADD", "k", "1", "kept"));
        Assert.Equal(":1\r\n", admin.Call("ZCARD", "k"));
        admin.Call("DEL", "k");
        string id = c.Call("CLIENT", "ID").Trim(':', '\r', '\n');
        ClientUnblockEndsBlocks(host, c, id, admin, ["BZMPOP", "0", "1", "k", "MAX"], ["BZPOPMAX", "k", "0"]);
    }

    [Fact]
    public async Task ServedBlockingPopsAreLoggedAsZpopminAndZpopmax()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using RespTestClient c = new(host.Port), other = new(host.Port);
            Send(c, "BZPOPMIN", "z", "0");
            WaitBlocked(other, 1);
            other.Call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d");
            Assert.Equal(BulkArray("z", "a", "1"), c.ReadReply());
            Assert.Equal(BulkArray("z", "d", "4"), c.Call("BZPOPMAX", "z", "0"));
            Assert.Equal("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n", c.Call("BZMPOP", "0", "1", "z", "MIN"));
            // COUNT beyond the set: logged with the number popped (Redis's propagation).
            Assert.Equal("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n", c.Call("BZMPOP", "0", "1", "z", "MAX", "COUNT", "9"));
            other.Call("ZADD", "y", "1", "a", "2", "b");
            c.Call("ZMPOP", "1", "y", "MIN", "COUNT", "5");
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        string log = AofText(dir.Path);
        Assert.DoesNotContain("BZPOP", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("BZMPOP", log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("ZMPOP", log, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Record("ZPOPMIN", "z"), log);
        Assert.Contains(Record("ZPOPMAX", "z"), log);
        Assert.Contains(Record("ZPOPMIN", "z", "1"), log);
        Assert.Contains(Record("ZPOPMAX", "z", "1"), log);
        Assert.Contains(Record("ZPOPMIN", "y", "2"), log);
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(":0\r\n", c.Call("EXISTS", "z"));
            Assert.Equal(":0\r\n", c.Call("EXISTS", "y"));
        }
    }
}
