using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Expiry;

/// <summary>The issue's active expiry test: 100,000 keys with a 1 s TTL and no reads are below 1% of DBSIZE after 3 s.</summary>
public sealed class ActiveExpiryTests
{
    [Fact]
    public async Task UnreadKeysAreReclaimedByTheActiveCycle()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port, timeoutMs: 60_000);
        for (int batch = 0; batch < 10; batch++)
        {
            using var buffer = new MemoryStream();
            for (int i = 0; i < 10_000; i++) buffer.Write(RespTestClient.Encode("SET", $"ttl:{batch}:{i}", "value", "EX", "1"));
            c.SendRaw(buffer.ToArray());
            for (int i = 0; i < 10_000; i++) Assert.Equal("+OK\r\n", c.ReadReply());
        }
        // Loading takes about a second, so the first keys may already be expiring; none is ever read.
        Assert.Matches(@"db0:keys=(\d+),expires=\1,", c.Call("INFO", "keyspace"));
        await Task.Delay(TimeSpan.FromSeconds(3));
        long size = long.Parse(c.Call("DBSIZE")[1..^2]);
        Assert.True(size < 1000, $"DBSIZE {size} after 3 s");
        string stats = c.Call("INFO", "stats");
        Assert.Matches(@"expired_keys:(9\d{4}|100000)\r\n", stats);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
