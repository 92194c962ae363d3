using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// Microsoft.AspNetCore.DataProtection.StackExchangeRedis 11.0.0: two applications keep their key ring in one RespKv list;
/// what one protects the other unprotects, and an application with another key ring cannot.
/// </summary>
public sealed class DataProtectionTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    private static ServiceProvider App(IConnectionMultiplexer mux, string ringKey)
    {
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("respkv-eco").PersistKeysToStackExchangeRedis(mux, ringKey);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task TwoAppsShareTheKeyRing()
    {
        string ring = $"dp:{Guid.NewGuid():N}";
        using ConnectionMultiplexer muxA = server.Connect(), muxB = server.Connect(resp3: true);
        await using ServiceProvider appA = App(muxA, ring);
        await using ServiceProvider appB = App(muxB, ring);
        IDataProtector a = appA.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookies");
        string token = a.Protect("secret payload");
        Assert.NotEqual("secret payload", token);
        // The key A created lives in RespKv: one XML element in the ring's list.
        IDatabase db = muxA.GetDatabase();
        RedisValue[] keys = await db.ListRangeAsync(ring);
        Assert.Single(keys);
        Assert.StartsWith("<key id=", (string)keys[0]!);
        // B (another connection, RESP3) loads that ring and unprotects A's token; and A reads B's.
        IDataProtector b = appB.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookies");
        Assert.Equal("secret payload", b.Unprotect(token));
        Assert.Equal("from B", a.Unprotect(b.Protect("from B")));
        Assert.Single(await db.ListRangeAsync(ring)); // B reused A's key rather than making its own
        // Another purpose, or another key ring, cannot unprotect it.
        Assert.ThrowsAny<CryptographicException>(() => appB.GetRequiredService<IDataProtectionProvider>().CreateProtector("other").Unprotect(token));
        await using ServiceProvider stranger = App(muxB, ring + ":other");
        Assert.ThrowsAny<CryptographicException>(() => stranger.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookies").Unprotect(token));
    }
}
