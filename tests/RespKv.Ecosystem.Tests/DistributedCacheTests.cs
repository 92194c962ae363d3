using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// Microsoft.Extensions.Caching.StackExchangeRedis 11.0.0 (<see cref="IDistributedCache"/>: set, get, refresh, remove, sliding
/// and absolute expiry, each observed) and Microsoft.Extensions.Caching.Hybrid 11.0.0 (<see cref="HybridCache"/> with RespKv
/// as its second level, shared by two application instances) against the respkv-server executable.
/// </summary>
public sealed class DistributedCacheTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    private ServiceProvider Services(string instance, bool hybrid = false)
    {
        var services = new ServiceCollection();
        services.AddStackExchangeRedisCache(o =>
        {
            o.Configuration = server.Configuration();
            o.InstanceName = instance;
        });
        if (hybrid) services.AddHybridCache();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task SetGetRefreshRemove()
    {
        await using ServiceProvider app = Services("dc:basic:");
        IDistributedCache cache = app.GetRequiredService<IDistributedCache>();
        await cache.SetStringAsync("greeting", "hello", new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        Assert.Equal("hello", await cache.GetStringAsync("greeting"));
        await cache.SetAsync("bytes", [0, 1, 2, 255], new DistributedCacheEntryOptions());
        Assert.Equal([0, 1, 2, 255], await cache.GetAsync("bytes"));
        Assert.Null(await cache.GetAsync("missing"));
        await cache.RefreshAsync("greeting");
        // What the library stored in RespKv: a hash under the instance prefix with its data and expiry fields, and a TTL.
        using ConnectionMultiplexer mux = server.Connect();
        IDatabase db = mux.GetDatabase();
        HashEntry[] stored = await db.HashGetAllAsync("dc:basic:greeting");
        Assert.Equal("hello", Encoding.UTF8.GetString(stored.Single(e => e.Name == "data").Value!));
        Assert.Equal(TimeSpan.FromMinutes(5).Ticks, (long)stored.Single(e => e.Name == "sldexp").Value);
        TimeSpan? ttl = await db.KeyTimeToLiveAsync("dc:basic:greeting");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalSeconds, 290, 300);
        Assert.Null(await db.KeyTimeToLiveAsync("dc:basic:bytes")); // no expiry asked: none set
        await cache.RemoveAsync("greeting");
        Assert.Null(await cache.GetStringAsync("greeting"));
        Assert.False(await db.KeyExistsAsync("dc:basic:greeting"));
        // The synchronous API too.
        cache.SetString("sync", "s", new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });
        Assert.Equal("s", cache.GetString("sync"));
        cache.Remove("sync");
        Assert.Null(cache.GetString("sync"));
    }

    [Fact]
    public async Task SlidingExpiryIsExtendedByReadsAndRefreshAndEndsWithoutThem()
    {
        await using ServiceProvider app = Services("dc:sliding:");
        IDistributedCache cache = app.GetRequiredService<IDistributedCache>();
        var window = TimeSpan.FromSeconds(3);
        await cache.SetStringAsync("k", "v", new DistributedCacheEntryOptions { SlidingExpiration = window });
        // Read or refresh about every second for 6 s, twice the window: the entry stays, each access sliding it on.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan lastTouch = TimeSpan.Zero;
        for (int i = 0; i < 6; i++)
        {
            await Task.Delay(1000);
            TimeSpan now = clock.Elapsed;
            Assert.True(now - lastTouch < window, $"the test itself was delayed {now - lastTouch} between accesses");
            if (i % 2 == 0) Assert.Equal("v", await cache.GetStringAsync("k"));
            else await cache.RefreshAsync("k");
            lastTouch = now;
        }
        Assert.Equal("v", await cache.GetStringAsync("k"));
        // Untouched for longer than the window: gone.
        await Task.Delay(window + TimeSpan.FromSeconds(1));
        Assert.Null(await cache.GetStringAsync("k"));
    }

    [Fact]
    public async Task AbsoluteExpiryEndsTheEntryEvenWhileItIsRead()
    {
        await using ServiceProvider app = Services("dc:absolute:");
        IDistributedCache cache = app.GetRequiredService<IDistributedCache>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await cache.SetStringAsync("k", "v", new DistributedCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(3),
            SlidingExpiration = TimeSpan.FromSeconds(2),
        });
        await cache.SetStringAsync("plain", "p", new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddSeconds(1.5) });
        // Read every 300 ms for 2.4 s: each read slides the entry on, but never past its absolute limit.
        while (clock.Elapsed < TimeSpan.FromSeconds(2.4))
        {
            Assert.Equal("v", await cache.GetStringAsync("k"));
            await Task.Delay(300);
        }
        Assert.Null(await cache.GetStringAsync("plain")); // past its absolute time
        TimeSpan rest = TimeSpan.FromSeconds(3.5) - clock.Elapsed;
        if (rest > TimeSpan.Zero) await Task.Delay(rest);
        // Read 2.4 s in, with a 2 s sliding window, it would live to 4.4 s; its absolute limit ended it at 3 s.
        Assert.Null(await cache.GetStringAsync("k"));
    }

    [Fact]
    public async Task HybridCacheSharesItsSecondLevelBetweenInstances()
    {
        string prefix = $"hc:{Guid.NewGuid():N}:";
        await using ServiceProvider appA = Services(prefix, hybrid: true);
        await using ServiceProvider appB = Services(prefix, hybrid: true);
        HybridCache a = appA.GetRequiredService<HybridCache>(), b = appB.GetRequiredService<HybridCache>();
        int factoryCalls = 0;
        var entry = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(5), LocalCacheExpiration = TimeSpan.FromMinutes(5) };
        string fromA = await a.GetOrCreateAsync("product:1", _ => { Interlocked.Increment(ref factoryCalls); return ValueTask.FromResult("from A"); }, entry);
        Assert.Equal("from A", fromA);
        // HybridCache writes its second level behind the caller (GetOrCreateAsync returns before the write): wait for it.
        using ConnectionMultiplexer mux = server.Connect();
        await Eventually.True(() => mux.GetDatabase().KeyExistsAsync(prefix + "product:1"), TimeSpan.FromSeconds(10), "A's entry written to RespKv");
        // Instance B has nothing in its first level: it finds A's value in RespKv and never runs its factory.
        string fromB = await b.GetOrCreateAsync("product:1", _ => { Interlocked.Increment(ref factoryCalls); return ValueTask.FromResult("from B"); }, entry);
        Assert.Equal("from A", fromB);
        Assert.Equal(1, factoryCalls);
        // SetAsync on B writes through to RespKv; a third instance reads B's value.
        await b.SetAsync("product:2", "set by B", entry);
        await Eventually.True(() => mux.GetDatabase().KeyExistsAsync(prefix + "product:2"), TimeSpan.FromSeconds(10), "B's entry written to RespKv");
        await using ServiceProvider appC = Services(prefix, hybrid: true);
        HybridCache c = appC.GetRequiredService<HybridCache>();
        Assert.Equal("set by B", await c.GetOrCreateAsync("product:2", _ => ValueTask.FromResult("factory of C"), entry));
        // RemoveAsync removes it from RespKv: a new instance runs its factory.
        await a.RemoveAsync("product:1");
        Assert.False(await mux.GetDatabase().KeyExistsAsync(prefix + "product:1"));
        await using ServiceProvider appD = Services(prefix, hybrid: true);
        Assert.Equal("factory of D", await appD.GetRequiredService<HybridCache>().GetOrCreateAsync("product:1", _ => ValueTask.FromResult("factory of D"), entry));
    }
}
