using RedLockNet;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// RedLock.net 2.3.2 on RespKv: several clients (each its own connection and lock factory) contend for one resource; the
/// critical sections never overlap, every waiting acquisition eventually succeeds, a non-waiting one fails while the lock
/// is held, and the lock's key lives in RespKv, with a TTL, only while held.
/// </summary>
public sealed class RedLockTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    [Fact]
    public async Task MutualExclusionUnderContention()
    {
        const int clients = 3, tasksPerClient = 4, rounds = 8;
        string resource = $"redlock:{Guid.NewGuid():N}";
        var muxes = new List<ConnectionMultiplexer>();
        var factories = new List<RedLockFactory>();
        for (int i = 0; i < clients; i++)
        {
            ConnectionMultiplexer mux = server.Connect(resp3: i % 2 == 1);
            muxes.Add(mux);
            factories.Add(RedLockFactory.Create(new List<RedLockMultiplexer> { mux }));
        }
        try
        {
            int inside = 0, maxInside = 0, acquired = 0;
            long unsafeCounter = 0; // incremented non-atomically inside the lock: exact only if the sections never overlap
            async Task Contend(RedLockFactory factory)
            {
                for (int r = 0; r < rounds; r++)
                {
                    await using IRedLock redLock = await factory.CreateLockAsync(resource, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(5));
                    Assert.True(redLock.IsAcquired, $"not acquired: {redLock.Status}");
                    int now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref maxInside, now);
                    long seen = unsafeCounter;
                    await Task.Delay(1);
                    unsafeCounter = seen + 1;
                    Interlocked.Increment(ref acquired);
                    Interlocked.Decrement(ref inside);
                }
            }
            await Task.WhenAll(factories.SelectMany(f => Enumerable.Range(0, tasksPerClient).Select(_ => Task.Run(() => Contend(f)))))
                .WaitAsync(TimeSpan.FromSeconds(90));
            Assert.Equal(1, maxInside);
            Assert.Equal(clients * tasksPerClient * rounds, acquired);
            Assert.Equal(clients * tasksPerClient * rounds, unsafeCounter);

            // Held by one client: another's non-waiting attempt fails; the key is in RespKv with a TTL until released.
            IDatabase db = muxes[0].GetDatabase();
            await using (IRedLock held = await factories[0].CreateLockAsync(resource, TimeSpan.FromSeconds(30)))
            {
                Assert.True(held.IsAcquired);
                await using IRedLock refused = await factories[1].CreateLockAsync(resource, TimeSpan.FromSeconds(30));
                Assert.False(refused.IsAcquired);
                Assert.Equal(RedLockStatus.Conflicted, refused.Status);
                RedisKey key = muxes[0].GetServer("127.0.0.1", server.Port).Keys(pattern: $"*{resource}*").Single(); // the library's key format
                Assert.Equal(held.LockId, (string?)await db.StringGetAsync(key));
                TimeSpan? ttl = await db.KeyTimeToLiveAsync(key);
                Assert.NotNull(ttl);
                Assert.InRange(ttl.Value.TotalSeconds, 1, 30);
            }
            Assert.Empty(muxes[0].GetServer("127.0.0.1", server.Port).Keys(pattern: $"*{resource}*")); // released by its owner's script
            await using IRedLock after = await factories[1].CreateLockAsync(resource, TimeSpan.FromSeconds(30));
            Assert.True(after.IsAcquired);
        }
        finally
        {
            foreach (RedLockFactory f in factories) f.Dispose();
            foreach (ConnectionMultiplexer m in muxes) m.Dispose();
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
