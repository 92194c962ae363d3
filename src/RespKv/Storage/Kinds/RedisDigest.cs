using System.Buffers.Binary;
using System.Security.Cryptography;

namespace RespKv.Storage.Kinds;

/// <summary>
/// Redis 7.0's dataset digest (debug.c: <c>xorDigest</c>, <c>mixDigest</c>, <c>xorObjectDigest</c>,
/// <c>computeDatasetDigest</c>), for <c>DEBUG DIGEST</c> and <c>DEBUG DIGEST-VALUE</c>: 20-byte SHA-1 based digests,
/// order-independent where Redis's are (keys, hash fields), so RespKv's answers equal redis-server's for the same data.
/// </summary>
public static class RedisDigest
{
    /// <summary>Digest length in bytes (SHA-1).</summary>
    public const int Length = 20;

    /// <summary>XORs SHA-1(<paramref name="data"/>) into <paramref name="digest"/> (Redis's <c>xorDigest</c>: order-independent).</summary>
    public static void Xor(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA1.HashData(data, hash);
        for (int i = 0; i < Length; i++) digest[i] ^= hash[i];
    }

    /// <summary>Mixes <paramref name="data"/> into <paramref name="digest"/> (Redis's <c>mixDigest</c>: XOR it in, then digest = SHA-1(digest); order-dependent).</summary>
    public static void Mix(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Xor(digest, data);
        Span<byte> copy = stackalloc byte[Length];
        digest.CopyTo(copy);
        SHA1.HashData(copy, digest);
    }

    /// <summary>
    /// The value digest of <paramref name="entry"/> added to <paramref name="digest"/> (Redis's <c>xorObjectDigest</c>): the
    /// kind's Redis type code (big-endian 32 bits), the value (<see cref="ValueKind.Digest"/>), and <c>!!expire!!</c>
    /// when the key has an expiry.
    /// </summary>
    public static void AddValue(Span<byte> digest, KeyEntry entry)
    {
        ValueKind kind = entry.Kind;
        Span<byte> type = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(type, kind.RedisTypeCode);
        Mix(digest, type);
        kind.Digest(entry.Value, digest);
        if (entry.ExpireAtMs != 0) Xor(digest, "!!expire!!"u8);
    }

    /// <summary>
    /// Redis's <c>computeDatasetDigest</c> over <paramref name="keyspace"/>: per non-empty database its number (big-endian
    /// 32 bits) is mixed in, then each key's digest (key mixed, then <see cref="AddValue"/>) is XORed in with <see cref="Xor"/>. All zeros when
    /// every database is empty. Reads shard by shard, each under its lock (values of lists, sets and sorted sets change in
    /// place under it; inside a transaction, whose lock set is fixed, without), so a concurrent write may or may not be included.
    /// </summary>
    public static byte[] Dataset(Keyspace keyspace)
    {
        var final = new byte[Length];
        Span<byte> id = stackalloc byte[4];
        for (int d = 0; d < keyspace.DatabaseCount; d++)
        {
            Database db = keyspace[d];
            if (db.Count == 0) continue;
            BinaryPrimitives.WriteInt32BigEndian(id, d);
            Mix(final, id);
            for (int i = 0; i < db.Shards.Length; i++)
            {
                KeyspaceShard shard = db.Shards[i];
                using ShardWriteScope locked = TransactionLocks.HeldByCurrentThread ? default : db.LockKeyShard(1UL << i);
                shard.ForEach(ref final, static (ref byte[] f, KeyEntry e) =>
                {
                    Span<byte> digest = stackalloc byte[Length];
                    Mix(digest, e.Key);
                    AddValue(digest, e);
                    Xor(f, digest);
                });
            }
        }
        return final;
    }
}
