using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Expiry;

/// <summary>
/// Lazy expiry and deadlines with a clock the test moves (KeyLifetime.Clock): a key is there up to its last
/// millisecond and gone at its deadline, to every command; the lookup that finds it expired removes it, counts
/// <c>expired_keys</c>, logs <c>DEL</c>, and marks WATCHers; EXEC treats a watched key that expired as modified.
/// </summary>
public sealed class ExpiryClockTests
{
    private const long Start = 1_900_000_000_000;

    private static async Task<(RespKvHost Host, ManualClock Clock)> StartAsync()
    {
        RespKvHost host = await ServerFixture.StartFresh();
        var clock = new ManualClock(Start);
        host.Server.Keyspace.Lifetime.Clock = clock;
        return (host, clock);
    }

    private static long InfoField(RespTestClient c, string section, string field)
    {
        string info = c.Call("INFO", section);
        int at = info.IndexOf("\r\n" + field + ":", StringComparison.Ordinal) + field.Length + 3;
        return long.Parse(info.AsSpan(at, info.IndexOf('\r', at) - at));
    }

    [Fact]
    public async Task KeyLivesUntilItsDeadlineMillisecond()
    {
        (RespKvHost host, ManualClock clock) = await StartAsync();
        await using RespKvHost _ = host;
        using RespTestClient c = new(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "v", "PX", "1000"));
        Assert.Equal($":{Start + 1000}\r\n", c.Call("PEXPIRETIME", "k"));
        Assert.Equal(":1000\r\n", c.Call("PTTL", "k"));
        Assert.Equal(":1\r\n", c.Call("TTL", "k"));
        clock.Advance(499);
        Assert.Equal(":501\r\n", c.Call("PTTL", "k"));
        Assert.Equal(":1\r\n", c.Call("TTL", "k")); // rounds to the nearest second
        clock.Advance(2);
        Assert.Equal(":0\r\n", c.Call("TTL", "k"));
        clock.Advance(498);
        Assert.Equal(":1\r\n", c.Call("PTTL", "k"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "k"));
        Assert.Equal(":1\r\n", c.Call("DBSIZE"));
        clock.Advance(1);
        Assert.Equal(":1\r\n", c.Call("DBSIZE")); // not yet removed: Redis counts it too
        Assert.Equal("$-1\r\n", c.Call("GET", "k"));
        Assert.Equal(":0\r\n", c.Call("DBSIZE"));
        Assert.Equal(":-2\r\n", c.Call("PTTL", "k"));
        Assert.Equal(1, InfoField(c, "stats", "expired_keys"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task EveryCommandSeesAnExpiredKeyAsMissing()
    {
        (RespKvHost host, ManualClock clock) = await StartAsync();
        await using RespKvHost _ = host;
        using RespTestClient c = new(host.Port);
        string[][] probes =
        [
            ["EXISTS", "k"], ["TYPE", "k"], ["STRLEN", "k"], ["TTL", "k"], ["GETEX", "k", "PERSIST"], ["INCR", "k"], ["APPEND", "k", "x"],
            ["DEL", "k"], ["EXPIRE", "k", "100"], ["PERSIST", "k"], ["SET", "k", "new", "NX"], ["HGET", "h", "f"], ["HLEN", "h"],
            ["RENAME", "k", "k2"], ["COPY", "k", "k2"], ["OBJECT", "IDLETIME", "k"], ["KEYS", "*"], ["RANDOMKEY"], ["SCAN", "0"], ["MGET", "k"],
        ];
        string[] expected =
        [
            ":0\r\n", "+none\r\n", ":0\r\n", ":-2\r\n", "$-1\r\n", ":1\r\n", ":1\r\n",
            ":0\r\n", ":0\r\n", ":0\r\n", "+OK\r\n", "$-1\r\n", ":0\r\n",
            "-ERR no such key\r\n", ":0\r\n", "$-1\r\n", "*0\r\n", "$-1\r\n", "*2\r\n$1\r\n0\r\n*0\r\n", "*1\r\n$-1\r\n",
        ];
        for (int i = 0; i < probes.Length; i++)
        {
            c.Call("FLUSHALL");
            c.Call("SET", "k", "v", "PX", "10");
            c.Call("HSET", "h", "f", "v");
            c.Call("PEXPIRE", "h", "10");
            clock.Advance(10);
            Assert.Equal(expected[i], c.Call(probes[i]));
        }
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ExpiryIsAModificationForWatch()
    {
        (RespKvHost host, ManualClock clock) = await StartAsync();
        await using RespKvHost _ = host;
        using RespTestClient c = new(host.Port);

        // Expired after WATCH but never looked up: EXEC finds it expired (Redis 7.0's isWatchedKeyExpired).
        c.Call("SET", "w", "v", "PX", "100");
        Assert.Equal("+OK\r\n", c.Call("WATCH", "w"));
        clock.Advance(100);
        c.Call("MULTI");
        c.Call("SET", "x", "1");
        Assert.Equal("*-1\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", c.Call("GET", "x"));

        // Expired and removed by another client's lookup after WATCH: a modification.
        using RespTestClient other = new(host.Port);
        c.Call("SET", "w", "v", "PX", "100");
        c.Call("WATCH", "w");
        clock.Advance(100);
        Assert.Equal("$-1\r\n", other.Call("GET", "w"));
        c.Call("MULTI");
        c.Call("SET", "x", "1");
        Assert.Equal("*-1\r\n", c.Call("EXEC"));

        // Already expired when watched: its removal is no change (Redis's watchedKey.expired).
        c.Call("SET", "w", "v", "PX", "100");
        clock.Advance(100);
        c.Call("WATCH", "w");
        Assert.Equal("$-1\r\n", other.Call("GET", "w"));
        c.Call("MULTI");
        c.Call("SET", "x", "1");
        Assert.Equal("*1\r\n+OK\r\n", c.Call("EXEC"));

        // A TTL that has not passed does not abort.
        c.Call("SET", "w", "v", "PX", "100");
        c.Call("WATCH", "w");
        clock.Advance(99);
        c.Call("MULTI");
        c.Call("GET", "w");
        Assert.Equal("*1\r\n$1\r\nv\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ActiveCycleRemovesUnreadKeysWithTheClock()
    {
        (RespKvHost host, ManualClock clock) = await StartAsync();
        await using RespKvHost _ = host;
        using RespTestClient c = new(host.Port);
        for (int i = 0; i < 200; i++) c.Call("SET", "a" + i, "v", "PX", "1000");
        for (int i = 0; i < 50; i++) c.Call("SET", "b" + i, "v");
        Assert.Matches(@"db0:keys=250,expires=200,avg_ttl=\d+\r\n", c.Call("INFO", "keyspace"));
        await Task.Delay(300);
        Assert.Equal(":250\r\n", c.Call("DBSIZE")); // nothing expired yet
        // The cycle's samples made the TTL estimate: every sampled key has 1,000 ms left on the frozen clock.
        Assert.Contains("db0:keys=250,expires=200,avg_ttl=1000\r\n", c.Call("INFO", "keyspace"));
        clock.Advance(1000);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (c.Call("DBSIZE") != ":50\r\n" && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(":50\r\n", c.Call("DBSIZE"));
        Assert.Equal(200, InfoField(c, "stats", "expired_keys"));
        deadline = DateTime.UtcNow.AddSeconds(2);
        while (!c.Call("INFO", "keyspace").Contains("db0:keys=50,expires=0,avg_ttl=0\r\n") && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains("db0:keys=50,expires=0,avg_ttl=0\r\n", c.Call("INFO", "keyspace"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
