using System.Text;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Expiry;

/// <summary>
/// maxmemory: noeviction refuses denyoom commands with Redis's <c>-OOM</c> (inside MULTI every command but
/// EXEC/DISCARD/QUIT/RESET), the eviction policies keep the estimate under the limit, and allkeys-lru keeps a hot set.
/// </summary>
public sealed class EvictionTests
{
    private const string Oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

    private static long InfoField(RespTestClient c, string section, string field)
    {
        string info = c.Call("INFO", section);
        int at = info.IndexOf("\r\n" + field + ":", StringComparison.Ordinal) + field.Length + 3;
        return long.Parse(info.AsSpan(at, info.IndexOf('\r', at) - at));
    }

    /// <summary>Sends <paramref name="commands"/> in one write and reads one reply each; returns the replies.</summary>
    private static List<string> Pipeline(RespTestClient c, List<string[]> commands)
    {
        using var buffer = new MemoryStream();
        foreach (string[] command in commands) buffer.Write(RespTestClient.Encode(command));
        c.SendRaw(buffer.ToArray());
        var replies = new List<string>(commands.Count);
        for (int i = 0; i < commands.Count; i++) replies.Add(c.ReadReply());
        return replies;
    }

    [Fact]
    public async Task NoEvictionRefusesDenyOomCommands()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        c.Call("SET", "pre", "v");
        c.Call("SET", "big", new string('x', 200_000));
        // An empty keyspace's tables already take about 32 KB of the estimate.
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "100kb"));
        Assert.Equal(102400, InfoField(c, "memory", "maxmemory"));
        Assert.Equal(Oom, c.Call("SET", "a", "b"));
        Assert.Equal(Oom, c.Call("SETEX", "a", "10", "b"));
        Assert.Equal(Oom, c.Call("APPEND", "pre", "b"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "pre"));        // reads still run
        Assert.Equal(":1\r\n", c.Call("EXPIRE", "pre", "100"));    // not denyoom
        Assert.Equal(":1\r\n", c.Call("DEL", "pre"));             // frees memory
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal(Oom, c.Call("GET", "pre"));                  // queuing takes memory: refused
        Assert.Equal(Oom, c.Call("MULTI"));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", c.Call("EXEC"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+OK\r\n", c.Call("DISCARD"));
        Assert.Equal(":1\r\n", c.Call("DEL", "big"));
        Assert.Equal("+OK\r\n", c.Call("SET", "a", "b"));           // under the limit again
        Assert.Equal("+OK\r\n", c.Call("SET", "c", new string('y', 80_000)));
        Assert.Equal(Oom, c.Call("SET", "d", "e")); // the 80 KB SET went through and put memory over
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "0"));
        Assert.Equal("+OK\r\n", c.Call("SET", "d", "e"));
        Assert.Equal(0, InfoField(c, "stats", "evicted_keys"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ObjectFreqFollowsTheLfuPolicyAtOnce()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"));
        c.Call("SET", "k", "v");
        Assert.Equal(":5\r\n", c.Call("OBJECT", "FREQ", "k")); // LFU_INIT_VAL
        c.Call("GET", "k");
        Assert.Equal(":6\r\n", c.Call("OBJECT", "FREQ", "k")); // at or below the initial value every access counts
        Assert.Equal("-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
            c.Call("OBJECT", "IDLETIME", "k"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory-policy", "noeviction"));
        Assert.StartsWith("-ERR An LFU maxmemory policy is not selected", c.Call("OBJECT", "FREQ", "k"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ExecOfAQueuedDenyOomCommandIsAbortedWhenOverTheLimit()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), other = new(host.Port);
        c.Call("MULTI");
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "a", "b"));
        other.Call("SET", "big", new string('x', 10_000));
        other.Call("CONFIG", "SET", "maxmemory", "1kb");
        Assert.Equal("-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", c.Call("GET", "a"));
        Assert.Equal("-ERR EXEC without MULTI\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Theory]
    [InlineData("allkeys-random", false)]
    [InlineData("volatile-random", true)]
    [InlineData("volatile-lru", true)]
    [InlineData("volatile-lfu", true)]
    [InlineData("allkeys-lfu", false)]
    [InlineData("volatile-ttl", true)]
    public async Task EvictionPoliciesStayUnderTheLimit(string policy, bool volatileOnly)
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        // Persistent keys a volatile policy must never evict.
        for (int i = 0; i < 100; i++) c.Call("SET", "keep:" + i, "v");
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "2mb", "maxmemory-policy", policy));
        string value = new('v', 1000);
        for (int batch = 0; batch < 10; batch++)
        {
            var commands = new List<string[]>();
            for (int i = 0; i < 1000; i++) commands.Add(["SET", $"k:{batch}:{i}", value, "EX", (1000 + i).ToString()]);
            Assert.All(Pipeline(c, commands), r => Assert.Equal("+OK\r\n", r));
        }
        Assert.InRange(InfoField(c, "memory", "used_memory"), 1, 2 * 1024 * 1024);
        Assert.True(InfoField(c, "stats", "evicted_keys") > 5000);
        if (volatileOnly)
            for (int i = 0; i < 100; i++) Assert.Equal("$1\r\nv\r\n", c.Call("GET", "keep:" + i));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task VolatilePolicyFindsSparseKeysWithAnExpiry()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        var persistent = new List<string[]>();
        for (int i = 0; i < 20_000; i++) persistent.Add(["SET", "p:" + i, new string('p', 100)]);
        Assert.All(Pipeline(c, persistent), r => Assert.Equal("+OK\r\n", r));
        long used = InfoField(c, "memory", "used_memory");
        c.Call("CONFIG", "SET", "maxmemory", (used + 100_000).ToString(), "maxmemory-policy", "volatile-lru");
        // Each new key with an expiry must evict an older one, found among 20,000 persistent keys.
        var volatileKeys = new List<string[]>();
        for (int i = 0; i < 2_000; i++) volatileKeys.Add(["SET", "v:" + i, new string('v', 1000), "EX", "1000"]);
        Assert.All(Pipeline(c, volatileKeys), r => Assert.Equal("+OK\r\n", r));
        Assert.Matches(@"db0:keys=2\d{4},expires=\d{2},", c.Call("INFO", "keyspace"));
        Assert.True(InfoField(c, "stats", "evicted_keys") > 1_800);
        Assert.Equal(":1\r\n", c.Call("EXISTS", "p:0"));
        Assert.Equal(":1\r\n", c.Call("EXISTS", "p:19999"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task VolatilePolicyWithoutVolatileKeysAnswersOom()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        c.Call("SET", "big", new string('x', 10_000));
        c.Call("CONFIG", "SET", "maxmemory", "1kb", "maxmemory-policy", "volatile-lru");
        Assert.Equal(Oom, c.Call("SET", "a", "b"));
        Assert.Equal("$10000\r\n" + new string('x', 10_000) + "\r\n", c.Call("GET", "big"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    /// <summary>
    /// The issue's eviction test: maxmemory 50 MB, allkeys-lru, 200 MB of keys written while a hot set of 1,000 keys
    /// is read again and again: used_memory stays under the cap, no write is refused, and at least 95% of the hot keys survive.
    /// </summary>
    [Fact]
    public async Task AllKeysLruKeepsTheHotSetUnderTheCap()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port, timeoutMs: 60_000);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "maxmemory", "50mb", "maxmemory-policy", "allkeys-lru"));
        const long cap = 50L * 1024 * 1024;
        string value = new('v', 1000);
        var hot = new List<string[]>();
        for (int i = 0; i < 1000; i++) hot.Add(["SET", "hot:" + i, value]);
        Assert.All(Pipeline(c, hot), r => Assert.Equal("+OK\r\n", r));
        var reads = new List<string[]>();
        for (int i = 0; i < 1000; i++) reads.Add(["GET", "hot:" + i]);

        long written = 0, batch = 0;
        while (written < 200L * 1024 * 1024)
        {
            var commands = new List<string[]>(2000);
            for (int i = 0; i < 1000; i++) commands.Add(["SET", $"cold:{batch}:{i}", value]);
            commands.AddRange(reads);
            List<string> replies = Pipeline(c, commands);
            for (int i = 0; i < 1000; i++) Assert.Equal("+OK\r\n", replies[i]); // never OOM
            written += 1000L * (value.Length + 16);
            if (++batch % 20 == 0) Assert.InRange(InfoField(c, "memory", "used_memory"), 1, cap);
        }
        Assert.InRange(InfoField(c, "memory", "used_memory"), cap / 2, cap);
        List<string> hotReplies = Pipeline(c, reads);
        int alive = hotReplies.Count(r => r.StartsWith("$1000\r\n", StringComparison.Ordinal));
        Assert.True(alive >= 950, $"{alive} of 1000 hot keys survived");
        Assert.True(InfoField(c, "stats", "evicted_keys") > 100_000);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
