using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// ZiggyCreatures.FusionCache 2.9.0 with RespKv as its distributed level and its StackExchange.Redis backplane: an update or
/// a removal on one node evicts the others' memory copies, which then read the new value from RespKv; a node without the
/// backplane keeps its stale memory copy (the control).
/// </summary>
public sealed class FusionCacheTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    private FusionCache Node(string name, string cacheName, bool backplane)
    {
        var cache = new FusionCache(new FusionCacheOptions
        {
            CacheName = cacheName,
            DefaultEntryOptions = new FusionCacheEntryOptions { Duration = TimeSpan.FromMinutes(10) },
        });
        cache.SetupDistributedCache(
            new RedisCache(Options.Create(new RedisCacheOptions { Configuration = server.Configuration(), InstanceName = "fc:" })),
            new FusionCacheSystemTextJsonSerializer());
        if (backplane) cache.SetupBackplane(new RedisBackplane(new RedisBackplaneOptions { Configuration = server.Configuration(resp3: name == "B") }));
        return cache;
    }

    [Fact]
    public async Task AnUpdateOnOneNodeInvalidatesTheOthers()
    {
        string cacheName = $"eco{Guid.NewGuid():N}";
        using FusionCache a = Node("A", cacheName, backplane: true);
        using FusionCache b = Node("B", cacheName, backplane: true);
        using FusionCache control = Node("C", cacheName, backplane: false);
        // Wait until both nodes' backplanes subscribed (FusionCache connects them in the background): a channel named
        // after the cache with two subscribers.
        using ConnectionMultiplexer admin = server.Connect(extra: "allowAdmin=true");
        IServer srv = admin.GetServer("127.0.0.1", server.Port);
        await Eventually.True(() => srv.SubscriptionChannels(RedisChannel.Pattern($"*{cacheName}*"))
            .Any(c => srv.SubscriptionSubscriberCount(c) == 2), TimeSpan.FromSeconds(15), "both backplane subscriptions made");

        await a.SetAsync("product:1", 1);
        Assert.Equal(1, await b.GetOrDefaultAsync<int>("product:1")); // from RespKv, now in B's memory too
        Assert.Equal(1, await control.GetOrDefaultAsync<int>("product:1"));

        await a.SetAsync("product:1", 2);
        await Eventually.True(async () => await b.GetOrDefaultAsync<int>("product:1") == 2, TimeSpan.FromSeconds(10), "B sees A's update");
        Assert.Equal(1, await control.GetOrDefaultAsync<int>("product:1")); // no backplane: its memory copy is stale

        await b.RemoveAsync("product:1");
        await Eventually.True(async () => (await a.TryGetAsync<int>("product:1")).HasValue == false, TimeSpan.FromSeconds(10), "A sees B's removal");
        Assert.False((await b.TryGetAsync<int>("product:1")).HasValue);
    }
}
