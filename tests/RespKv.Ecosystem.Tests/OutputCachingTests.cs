using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// Microsoft.AspNetCore.OutputCaching.StackExchangeRedis 10.0.15: two in-process hosts keep their output cache in RespKv;
/// a response one host cached is served by the other without running its endpoint, and evicting by tag removes it.
/// </summary>
public sealed class OutputCachingTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    private Task<WebApplication> StartHost(string name, string instance, Func<int> next) => TestWebHost.StartAsync(
        services =>
        {
            services.AddStackExchangeRedisOutputCache(o =>
            {
                o.Configuration = server.Configuration();
                o.InstanceName = instance;
            });
            services.AddOutputCache();
        },
        app =>
        {
            app.UseOutputCache();
            app.MapGet("/products", () => $"{name} computed #{next()}").CacheOutput(p => p.Expire(TimeSpan.FromMinutes(5)).Tag("products"));
            app.MapGet("/orders", () => $"{name} orders #{next()}").CacheOutput(p => p.Expire(TimeSpan.FromMinutes(5)).Tag("orders"));
        });

    [Fact]
    public async Task CachedResponseIsServedFromRespKvAndEvictedByTag()
    {
        string instance = $"oc:{Guid.NewGuid():N}:";
        int computedA = 0, computedB = 0;
        await using WebApplication hostA = await StartHost("A", instance, () => Interlocked.Increment(ref computedA));
        await using WebApplication hostB = await StartHost("B", instance, () => Interlocked.Increment(ref computedB));
        HttpClient clientA = hostA.GetTestClient(), clientB = hostB.GetTestClient();

        using ConnectionMultiplexer mux = server.Connect();
        IServer srv = mux.GetServer("127.0.0.1", server.Port);
        // The store writes a response after it was sent: wait until the entry (key <instance>__MSOCV_<method,host,path…>) is in RespKv.
        Task Stored(string path) => Eventually.True(() => srv.Keys(pattern: $"{instance}__MSOCV_*{path}*").Any(), TimeSpan.FromSeconds(10), $"{path} stored");

        Assert.Equal("A computed #1", await clientA.GetStringAsync("/products"));
        await Stored("PRODUCTS");
        Assert.Equal("A computed #1", await clientA.GetStringAsync("/products")); // cached
        // Host B never ran the endpoint: its response comes from RespKv, where host A stored it.
        Assert.Equal("A computed #1", await clientB.GetStringAsync("/products"));
        Assert.Equal(0, computedB);
        Assert.Equal("B orders #1", await clientB.GetStringAsync("/orders"));
        await Stored("ORDERS");
        Assert.Equal("B orders #1", await clientA.GetStringAsync("/orders"));
        Assert.Equal(1, computedA);

        // Evicting the tag "products" (through host B's store) removes that entry from RespKv, for both hosts; not the orders.
        // The store adds tag entries and deletes by tag fire-and-forget on its own connection: wait for the tag's sorted
        // set (<instance>__MSOCT_<tag>) to hold the entry before evicting, and for the delete to land after.
        IDatabase db = mux.GetDatabase();
        await Eventually.True(() => db.SortedSetLength($"{instance}__MSOCT_products") > 0, TimeSpan.FromSeconds(10), "products tagged");
        IOutputCacheStore store = hostB.Services.GetRequiredService<IOutputCacheStore>();
        await store.EvictByTagAsync("products", CancellationToken.None);
        await Eventually.True(() => !srv.Keys(pattern: $"{instance}__MSOCV_*PRODUCTS*").Any(), TimeSpan.FromSeconds(10), "products evicted");
        Assert.Single(srv.Keys(pattern: $"{instance}__MSOCV_*ORDERS*"));
        Assert.Equal("A computed #2", await clientA.GetStringAsync("/products"));
        await Stored("PRODUCTS");
        Assert.Equal("A computed #2", await clientB.GetStringAsync("/products"));
        Assert.Equal("B orders #1", await clientA.GetStringAsync("/orders"));
        Assert.Equal(2, computedA);
        Assert.Equal(1, computedB);
    }
}
