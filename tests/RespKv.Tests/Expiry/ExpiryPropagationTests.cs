using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Expiry;

/// <summary>
/// What expiry writes to the write log (the AOF seam), as Redis 7.0 propagates it: relative and second-based
/// expiries as absolute <c>PXAT</c>/<c>PEXPIREAT</c> milliseconds, an expiry in the past as <c>DEL</c>, SET without
/// its GET, and a <c>DEL</c> for each key that expiry removes. The clock is fixed so the times are exact.
/// </summary>
public sealed class ExpiryPropagationTests
{
    private const long Start = 1_900_000_000_000;

    [Fact]
    public async Task ExpiryIsLoggedAsAbsoluteTimes()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        var clock = new ManualClock(Start);
        host.Server.Keyspace.Lifetime.Clock = clock;
        var log = new RecordingWriteLog();
        host.Server.WriteLog = log;
        using RespTestClient c = new(host.Port);

        (string[] Command, string Reply, string[] Logged)[] cases =
        [
            (["SET", "k", "v", "EX", "100"], "+OK\r\n", [$"db0 SET k v PXAT {Start + 100_000}"]),
            (["SET", "k", "v", "PX", "100", "GET"], "$1\r\nv\r\n", [$"db0 SET k v PXAT {Start + 100}"]),
            (["SET", "k", "v", "EXAT", "1900000500"], "+OK\r\n", ["db0 SET k v PXAT 1900000500000"]),
            (["SET", "k", "v", "PXAT", "1900000500001", "GET"], "$1\r\nv\r\n", ["db0 SET k v PXAT 1900000500001 GET"]), // as given, as Redis
            (["SET", "k", "w", "GET", "KEEPTTL"], "$1\r\nv\r\n", ["db0 SET k w KEEPTTL"]),
            (["SET", "k", "v", "GET"], "$1\r\nw\r\n", ["db0 SET k v"]),
            (["SETEX", "k", "10", "v"], "+OK\r\n", [$"db0 SET k v PXAT {Start + 10_000}"]),
            (["PSETEX", "k", "10", "v"], "+OK\r\n", [$"db0 SET k v PXAT {Start + 10}"]),
            (["EXPIRE", "k", "100"], ":1\r\n", [$"db0 PEXPIREAT k {Start + 100_000}"]),
            (["PEXPIRE", "k", "100", "GT"], ":0\r\n", []),
            (["PEXPIRE", "k", "200000", "GT"], ":1\r\n", [$"db0 PEXPIREAT k {Start + 200_000} GT"]),
            (["EXPIREAT", "k", "1900001000"], ":1\r\n", ["db0 PEXPIREAT k 1900001000000"]),
            (["PEXPIREAT", "k", "1900001000001"], ":1\r\n", ["db0 PEXPIREAT k 1900001000001"]),
            (["PERSIST", "k"], ":1\r\n", ["db0 PERSIST k"]),
            (["PERSIST", "k"], ":0\r\n", []),
            (["GETEX", "k", "EX", "5"], "$1\r\nv\r\n", [$"db0 PEXPIREAT k {Start + 5000}"]),
            (["GETEX", "k", "PXAT", "1900000600000"], "$1\r\nv\r\n", ["db0 PEXPIREAT k 1900000600000"]),
            (["GETEX", "k"], "$1\r\nv\r\n", []),
            (["GETEX", "k", "PERSIST"], "$1\r\nv\r\n", ["db0 PERSIST k"]),
            (["GETEX", "k", "PERSIST"], "$1\r\nv\r\n", []),
            (["GETEX", "k", "EXAT", "1"], "$1\r\nv\r\n", ["db0 DEL k"]),
            (["SET", "k", "v"], "+OK\r\n", ["db0 SET k v"]),
            (["EXPIRE", "k", "-1"], ":1\r\n", ["db0 DEL k"]),
            (["SET", "k", "v"], "+OK\r\n", ["db0 SET k v"]),
            (["PEXPIREAT", "k", "1", "XX"], ":0\r\n", []),
            (["PEXPIREAT", "k", "1"], ":1\r\n", ["db0 DEL k"]),
            (["SET", "k", "v", "PXAT", "1"], "+OK\r\n", []), // no key before or after: no change to log
            (["SET", "k", "v"], "+OK\r\n", ["db0 SET k v"]),
            (["SET", "k", "v", "PXAT", "1"], "+OK\r\n", ["db0 SET k v PXAT 1"]), // deletes k, and replays to no key
        ];
        log.AssertEach(c, cases);
        Assert.Equal(":0\r\n", c.Call("EXISTS", "k"));
        Assert.Empty(log.ExpiredDeletions);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task KeysRemovedByExpiryAreLoggedAsDel()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        var clock = new ManualClock(Start);
        host.Server.Keyspace.Lifetime.Clock = clock;
        var log = new RecordingWriteLog();
        host.Server.WriteLog = log;
        using RespTestClient c = new(host.Port);

        c.Call("SET", "lazy", "v", "PX", "10");
        c.Call("SELECT", "3");
        c.Call("SET", "overwritten", "v", "PX", "10");
        c.Call("SET", "active", "v", "PX", "10");
        clock.Advance(10);
        int units = log.Units.Count;
        // A write to an expired key: the expiry's DEL first, then the write itself.
        // (The active cycle, on the 100 ms cron, may remove "active" at any point from here: it is left out of the
        // ordered checks and looked for at the end.)
        Assert.Equal("+OK\r\n", c.Call("SET", "overwritten", "new", "NX"));
        Assert.Equal(["db3 DEL overwritten"], ExpiredBesidesActive(log));
        Assert.Equal(["db3 SET overwritten new NX"], log.Units.Skip(units).SelectMany(u => u.Commands).ToArray());
        // A command that changed nothing but expire a key logs only that DEL (not itself).
        c.Call("SELECT", "0");
        Assert.Equal(":0\r\n", c.Call("EXPIRE", "lazy", "100"));
        Assert.Equal(["db3 DEL overwritten", "db0 DEL lazy"], ExpiredBesidesActive(log));
        Assert.Equal(units + 1, log.Units.Count);
        // The active cycle removes the unread one.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (log.ExpiredDeletions.Count < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(["db0 DEL lazy", "db3 DEL active", "db3 DEL overwritten"], log.ExpiredDeletions.Order().ToArray());
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    /// <summary>The expired keys' DELs logged so far, in order, without the one the active cycle may log at any moment.</summary>
    private static string[] ExpiredBesidesActive(RecordingWriteLog log)
    {
        lock (log.Units) return log.ExpiredDeletions.Where(d => d != "db3 DEL active").ToArray();
    }
}
