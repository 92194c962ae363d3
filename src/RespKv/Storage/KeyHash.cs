using System.Runtime.CompilerServices;

namespace RespKv.Storage;

/// <summary>
/// The keyspace's two functions of a key:
/// <list type="bullet">
/// <item><see cref="Compute"/>: the bucket hash inside a shard, <see cref="HashCode"/> over the key's bytes (per-process
/// random seed, so a client cannot choose colliding keys).</item>
/// <item><see cref="Slot"/>: the Redis Cluster hash slot, CRC16 (XMODEM) of the key — or of its hash tag, the bytes
/// between the first <c>{</c> and the next <c>}</c> when that is not empty — modulo 16384
/// (https://redis.io/docs/reference/cluster-spec/#hash-tags). The slot chooses the key's shard
/// (<see cref="Database.ShardOfSlot"/>), so keys sharing a hash tag share a shard: a multi-key command on them takes one lock.</item>
/// </list>
/// </summary>
public static class KeyHash
{
    /// <summary>Number of hash slots (Redis Cluster's CLUSTER_SLOTS).</summary>
    public const int SlotCount = 16384;

    /// <summary>A 32-bit hash of <paramref name="key"/>.</summary>
    public static int Compute(ReadOnlySpan<byte> key)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        return hash.ToHashCode();
    }

    /// <summary>The hash slot of <paramref name="key"/>, 0..16383, as Redis Cluster's <c>keyHashSlot</c> and <c>CLUSTER KEYSLOT</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = key[(open + 1)..].IndexOf((byte)'}');
            // "{}" (an empty tag) or no closing brace: the whole key is hashed.
            if (close > 0) key = key.Slice(open + 1, close);
        }
        return Crc16(key) & (SlotCount - 1);
    }

    /// <summary>
    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, no reflection), Redis's <c>crc16</c>. Four bytes a step
    /// ("slicing by 4": table k holds a byte's effect followed by k zero bytes, so the four lookups are independent),
    /// then byte by byte: about a third of the byte-at-a-time loop's time on a 16-byte key.
    /// </summary>
    public static int Crc16(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<ushort> t = Crc16Tables;
        uint crc = 0;
        int i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            crc = (uint)(t[768 + (int)((crc >> 8) ^ data[i])] ^ t[512 + (int)((crc & 0xFF) ^ data[i + 1])]
                         ^ t[256 + data[i + 2]] ^ t[data[i + 3]]);
        }
        for (; i < data.Length; i++) crc = ((crc << 8) ^ t[(int)(((crc >> 8) ^ data[i]) & 0xFF)]) & 0xFFFF;
        return (int)crc;
    }

    /// <summary>Four 256-entry tables back to back: [0..255] one byte (the classic table), [256k..] a byte followed by k zero bytes.</summary>
    private static readonly ushort[] Crc16Tables = BuildCrc16Tables();

    private static ushort[] BuildCrc16Tables()
    {
        var table = new ushort[4 * 256];
        for (int i = 0; i < 256; i++)
        {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            table[i] = (ushort)crc;
        }
        for (int k = 1; k < 4; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                int previous = table[(k - 1) * 256 + i];
                table[k * 256 + i] = (ushort)(((previous << 8) & 0xFFFF) ^ table[previous >> 8]);
            }
        }
        return table;
    }
}
