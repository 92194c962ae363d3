using RespKv.Storage;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Key → hash slot → shard: CRC16 of the key or its <c>{hash tag}</c> modulo 16384, checked against the slots
/// redis-server 7.0.15 (<c>--cluster-enabled yes</c>) answers to CLUSTER KEYSLOT; keys sharing a tag share a shard.
/// </summary>
public sealed class HashSlotTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("{user1000}.following", 3443)]
    [InlineData("{user1000}.followers", 3443)]
    [InlineData("foo{}{bar}", 8363)]
    [InlineData("foo{{bar}}zap", 4015)]
    [InlineData("foo{bar}{zap}", 5061)]
    [InlineData("", 0)]
    [InlineData("a{b", 13340)]
    [InlineData("123456789", 12739)]
    public void SlotMatchesRedisCluster(string key, int slot)
    {
        Assert.Equal(slot, KeyHash.Slot(System.Text.Encoding.ASCII.GetBytes(key)));
        using RespTestClient client = server.Connect();
        Assert.Equal($":{slot}\r\n", client.Call("CLUSTER", "KEYSLOT", key));
    }

    [Fact]
    public void Crc16IsXmodem() => Assert.Equal(0x31C3, KeyHash.Crc16("123456789"u8));

    [Fact]
    public void SlicedCrc16EqualsTheBitwiseDefinitionAtEveryLength()
    {
        var random = new Random(16);
        for (int length = 0; length < 70; length++)
        {
            for (int n = 0; n < 20; n++)
            {
                byte[] data = new byte[length];
                random.NextBytes(data);
                Assert.Equal(BitwiseCrc16(data), KeyHash.Crc16(data));
            }
        }
    }

    /// <summary>CRC16-XMODEM one bit at a time, straight from its definition.</summary>
    private static int BitwiseCrc16(byte[] data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            crc ^= b << 8;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
        }
        return crc;
    }

    [Fact]
    public void KeysSharingAHashTagShareAShard()
    {
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(Database.ShardOf(System.Text.Encoding.ASCII.GetBytes($"{{order:{i}}}:items")),
                Database.ShardOf(System.Text.Encoding.ASCII.GetBytes($"{{order:{i}}}:total")));
        }
        // Without a tag the same keys spread over every shard.
        var shards = new HashSet<int>();
        for (int i = 0; i < 10_000; i++) shards.Add(Database.ShardOf(System.Text.Encoding.ASCII.GetBytes($"key:{i}")));
        Assert.Equal(Database.ShardCount, shards.Count);
    }

    [Fact]
    public void ClusterSubcommandsAnswerAsAStandaloneRedis()
    {
        using RespTestClient client = server.Connect();
        Assert.Equal("-ERR This instance has cluster support disabled\r\n", client.Call("CLUSTER", "INFO"));
        Assert.Equal("-ERR This instance has cluster support disabled\r\n", client.Call("CLUSTER", "NODES"));
        Assert.Equal("-ERR wrong number of arguments for 'cluster|keyslot' command\r\n", client.Call("CLUSTER", "KEYSLOT"));
    }
}
