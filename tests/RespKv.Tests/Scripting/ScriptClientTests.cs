using RespKv.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Tests.Scripting;

/// <summary>
/// Scripts as real applications run them, through StackExchange.Redis 1.2.6 unchanged against the in-process server:
/// <c>ScriptEvaluate</c> (EVAL, and EVALSHA once the client has seen the script), <c>LuaScript.Prepare</c> with named
/// parameters and <c>LuaScript.Load</c> (SCRIPT LOAD, then EVALSHA); a Redlock-style lock (<c>SET key token NX PX</c> and
/// the compare-and-delete release script of the Redis "Distributed locks" page) under contention guarding a
/// read-modify-write counter; and a sliding-window rate limiter script on a sorted set that lets exactly its limit through
/// when many clients race for it.
/// </summary>
public sealed class ScriptClientTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    /// <summary>The release script of the Redis documentation's single-instance lock: delete only if the token is still ours.</summary>
    private const string ReleaseScript = """
        if redis.call("get", KEYS[1]) == ARGV[1] then
            return redis.call("del", KEYS[1])
        else
            return 0
        end
        """;

    /// <summary>
    /// Sliding-window rate limiter: KEYS[1] a sorted set of request times (ms); ARGV now (ms), window (ms), limit, request id.
    /// Returns 1 when the request is allowed (and recorded), 0 when the window already holds <c>limit</c> requests.
    /// </summary>
    private const string RateLimitScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        if redis.call('ZCARD', KEYS[1]) < limit then
            redis.call('ZADD', KEYS[1], now, ARGV[4])
            redis.call('PEXPIRE', KEYS[1], window)
            return 1
        end
        return 0
        """;

    private ConnectionMultiplexer Connect()
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            AllowAdmin = true,
            ConnectTimeout = 15_000,
            SyncTimeout = 15_000,
            ResponseTimeout = 15_000,
        };
        options.EndPoints.Add("127.0.0.1", server.Port);
        var log = new StringWriter();
        ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(options, log);
        Assert.True(mux.IsConnected, "StackExchange.Redis did not connect:\n" + log);
        return mux;
    }

    [Fact]
    public void ScriptEvaluateConvertsRepliesBothWays()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        db.KeyDelete(["sc:a", "sc:b"]);
        RedisResult result = db.ScriptEvaluate("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])",
            ["sc:a"], ["hello"]);
        Assert.Equal("hello", (string?)result);
        Assert.Equal("hello", (string?)db.StringGet("sc:a"));

        RedisResult[] array = (RedisResult[])db.ScriptEvaluate("return {1, 'two', 3.99, {4}, false}")!;
        Assert.Equal(5, array.Length);
        Assert.Equal(1, (long)array[0]);
        Assert.Equal("two", (string?)array[1]);
        Assert.Equal(3, (long)array[2]); // Lua number → integer reply, truncated toward zero
        Assert.Equal(4, (long)((RedisResult[])array[3]!)[0]);
        Assert.True(array[4].IsNull); // false → nil bulk string

        Assert.Equal("OK", (string?)db.ScriptEvaluate("return redis.status_reply('OK')"));
        var error = Assert.Throws<RedisServerException>(() => db.ScriptEvaluate("return redis.error_reply('MY custom failure')"));
        Assert.Equal("MY custom failure", error.Message);
        var wrongType = Assert.Throws<RedisServerException>(() =>
            db.ScriptEvaluate("redis.call('SET', KEYS[1], 'x') return redis.call('LPUSH', KEYS[1], 'y')", ["sc:b"]));
        Assert.StartsWith("WRONGTYPE Operation against a key holding the wrong kind of value", wrongType.Message);
    }

    [Fact]
    public void PreparedAndLoadedScriptsRunByParameterName()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        IServer admin = mux.GetServer("127.0.0.1", server.Port);
        LuaScript prepared = LuaScript.Prepare("redis.call('SET', @key, @value) return redis.call('INCRBY', @counter, @step)");
        db.KeyDelete(["sc:p:key", "sc:p:counter"]);
        for (int i = 1; i <= 3; i++)
        {
            RedisResult result = db.ScriptEvaluate(prepared, new { key = (RedisKey)"sc:p:key", value = "v" + i, counter = (RedisKey)"sc:p:counter", step = 5 });
            Assert.Equal(5 * i, (long)result);
        }
        Assert.Equal("v3", (string?)db.StringGet("sc:p:key"));

        LoadedLuaScript loaded = prepared.Load(admin); // SCRIPT LOAD: the server answers the script's SHA1
        Assert.True(admin.ScriptExists(loaded.Hash));
        Assert.Equal(20, (long)db.ScriptEvaluate(loaded, new { key = (RedisKey)"sc:p:key", value = "v4", counter = (RedisKey)"sc:p:counter", step = 5 }));
        admin.ScriptFlush();
        Assert.False(admin.ScriptExists(loaded.Hash));
    }

    [Fact]
    public async Task RedlockStyleLockKeepsTheCriticalSectionExclusive()
    {
        const int workers = 8, rounds = 40;
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        db.KeyDelete(["sc:lock", "sc:lock:counter"]);
        int holders = 0, overlaps = 0;
        long acquired = 0;

        async Task Worker(int id)
        {
            for (int round = 0; round < rounds; round++)
            {
                string token = $"{id}:{round}:{Guid.NewGuid()}";
                // SET NX PX: the lock, with a lease far beyond the critical section.
                while (!await db.StringSetAsync("sc:lock", token, TimeSpan.FromSeconds(30), When.NotExists))
                    await Task.Yield();
                if (Interlocked.Increment(ref holders) != 1) Interlocked.Increment(ref overlaps);
                // A non-atomic read-modify-write the lock must protect.
                long value = (long)await db.StringGetAsync("sc:lock:counter");
                await db.StringSetAsync("sc:lock:counter", value + 1);
                Interlocked.Increment(ref acquired);
                Interlocked.Decrement(ref holders);
                // Someone else's token never releases the lock; ours does.
                Assert.Equal(0, (long)await db.ScriptEvaluateAsync(ReleaseScript, ["sc:lock"], ["not-" + token]));
                Assert.Equal(1, (long)await db.ScriptEvaluateAsync(ReleaseScript, ["sc:lock"], [token]));
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(id => Task.Run(() => Worker(id))));
        Assert.Equal(0, overlaps);
        Assert.Equal(workers * rounds, acquired);
        Assert.Equal(workers * rounds, (long)db.StringGet("sc:lock:counter"));
        Assert.False(db.KeyExists("sc:lock"));
    }

    [Fact]
    public async Task SlidingWindowRateLimiterAdmitsExactlyItsLimit()
    {
        const int clients = 8, attemptsEach = 50, limit = 37;
        var muxes = Enumerable.Range(0, clients).Select(_ => Connect()).ToArray();
        try
        {
            IDatabase first = muxes[0].GetDatabase();
            first.KeyDelete("sc:rate");
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            const long window = 60_000; // every attempt falls in one window
            int allowed = 0;
            await Task.WhenAll(muxes.Select((mux, c) => Task.Run(async () =>
            {
                IDatabase db = mux.GetDatabase();
                for (int a = 0; a < attemptsEach; a++)
                {
                    RedisResult r = await db.ScriptEvaluateAsync(RateLimitScript, ["sc:rate"],
                        [now + a, window, limit, $"req:{c}:{a}"]);
                    if ((long)r == 1) Interlocked.Increment(ref allowed);
                }
            })));
            Assert.Equal(limit, allowed);
            Assert.Equal(limit, first.SortedSetLength("sc:rate"));
            TimeSpan? ttl = first.KeyTimeToLive("sc:rate");
            Assert.NotNull(ttl);
            Assert.InRange(ttl!.Value.TotalMilliseconds, 1, window);

            // Past the window the old requests are trimmed and new ones admitted again.
            RedisResult later = first.ScriptEvaluate(RateLimitScript, ["sc:rate"], [now + window + attemptsEach + 1, window, limit, "req:later"]);
            Assert.Equal(1, (long)later);
            Assert.Equal(1, first.SortedSetLength("sc:rate"));
        }
        finally
        {
            foreach (ConnectionMultiplexer mux in muxes) mux.Dispose();
        }
    }
}
