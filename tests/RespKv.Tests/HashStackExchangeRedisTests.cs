using RespKv.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Tests;

/// <summary>
/// StackExchange.Redis 1.2.6, unchanged, on hashes: HashSet (HSET/HMSET), HashGet, HashGetAll, HashLength,
/// HashDelete, HashIncrement and HashScan, which pages through HSCAN cursors it parses as <c>long</c>.
/// </summary>
public sealed class HashStackExchangeRedisTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private ConnectionMultiplexer Connect()
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
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
    public void HashSetGetAllAndScan()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        Assert.True(db.HashSet("se:h", "name", "Ada"));
        Assert.False(db.HashSet("se:h", "name", "Ada L."));
        HashEntry[] entries = Enumerable.Range(0, 1000).Select(i => new HashEntry($"f{i:D4}", $"value {i}")).ToArray();
        db.HashSet("se:h", entries); // HMSET
        Assert.Equal(1001, db.HashLength("se:h"));
        Assert.Equal("Ada L.", (string?)db.HashGet("se:h", "name"));
        Assert.True(db.HashGet("se:h", "missing").IsNull);

        HashEntry[] all = db.HashGetAll("se:h");
        Assert.Equal(1001, all.Length);
        Assert.Equal(entries.Select(e => (string?)e.Name).Append("name"), all.Select(e => (string?)e.Name)); // sorted by field bytes
        Assert.Equal("value 7", (string?)all[7].Value);

        List<HashEntry> scanned = db.HashScan("se:h", pageSize: 10).ToList();
        Assert.Equal(all.Select(e => (string?)e.Name), scanned.Select(e => (string?)e.Name));
        List<HashEntry> prefix = db.HashScan("se:h", "f01*", pageSize: 10).ToList();
        Assert.Equal(100, prefix.Count);
        Assert.All(prefix, e => Assert.StartsWith("f01", (string?)e.Name));

        Assert.Equal(5, db.HashIncrement("se:h", "counter", 5));
        Assert.Equal(2.5, db.HashIncrement("se:h", "float", 2.5));
        Assert.True(db.HashDelete("se:h", "name"));
        Assert.Equal(2, db.HashDelete("se:h", ["counter", "float", "missing"]));
        Assert.Equal(1000, db.HashLength("se:h"));
        Assert.Throws<RedisServerException>(() => db.StringGet("se:h")); // WRONGTYPE
    }
}
