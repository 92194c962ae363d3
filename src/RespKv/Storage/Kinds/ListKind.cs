using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// TYPE <c>list</c>: a <see cref="QuickList"/>, changed in place under its key's shard lock (<see cref="ValueKind.MutatedInPlace"/>),
/// so COPY and the AOF rewrite take a deep copy. <c>OBJECT ENCODING</c> is always <c>quicklist</c>, as in Redis 7.0.15 (the
/// listpack encoding of small lists arrived in Redis 7.2: 7.0 answers <c>quicklist</c> for a one-element list too).
/// AOF rewrite: <c>RPUSH key e1 … e64</c> batches (<c>AOF_REWRITE_ITEMS_PER_CMD</c>).
/// </summary>
public sealed class ListKind : ValueKind<QuickList>
{
    /// <summary>The one instance.</summary>
    public static ListKind Instance { get; } = new();

    private ListKind() : base("list", redisTypeCode: 1, mutatedInPlace: true)
    {
    }

    /// <summary>Managed-heap bytes of a <see cref="QuickList"/> object itself (header and fields).</summary>
    public const long ObjectBytes = 56;

    /// <inheritdoc />
    protected override string Encoding(QuickList value, ServerOptions options) => "quicklist";

    /// <inheritdoc />
    protected override long ValueBytes(QuickList value) => value.Bytes;

    /// <summary>The list object and its nodes' arrays and objects (<see cref="QuickList.AllocatedBytes"/>).</summary>
    protected override long MemoryBytes(QuickList value) => ObjectBytes + value.AllocatedBytes;

    /// <summary>Bytes <see cref="MemoryBytes"/> reports for <paramref name="value"/> (the figure handlers diff around a change).</summary>
    public static long MemoryOf(QuickList value) => ObjectBytes + value.AllocatedBytes;

    /// <inheritdoc />
    protected override void Rewrite(byte[] key, QuickList value, IAofRewriteOutput output)
    {
        var batches = new RewriteBatches(output, Rpush, key, value.Count, argumentsPerItem: 1);
        foreach (ReadOnlySpan<byte> element in value) batches.Add(element);
    }

    private static readonly byte[] Rpush = "RPUSH"u8.ToArray();

    /// <summary>A new list with the same elements.</summary>
    protected override QuickList Copy(QuickList value) => value.Clone();

    /// <summary>
    /// Redis 7.0's <c>RDB_TYPE_LIST_QUICKLIST_2</c> length: the node count, then per node its container type and its
    /// listpack as an RDB string; nodes are counted as Redis fills them (listpacks of at most 8 KB, <see cref="HashKind.ListpackBytes"/> per element).
    /// </summary>
    protected override long SerializedLength(QuickList value, ServerOptions options)
    {
        long total = 0, nodes = 0, listpack = 0;
        foreach (ReadOnlySpan<byte> element in value)
        {
            long bytes = HashKind.ListpackBytes(element);
            if (listpack > 0 && listpack + bytes > QuickList.NodeCapacityBytes)
            {
                total += NodeLength(listpack);
                nodes++;
                listpack = 0;
            }
            listpack += bytes;
        }
        if (listpack > 0)
        {
            total += NodeLength(listpack);
            nodes++;
        }
        return RdbLengthBytes(nodes) + total;

        static long NodeLength(long elements)
        {
            long lp = 6 + elements + 1;
            return 1 + RdbLengthBytes(lp) + lp;
        }
    }

    /// <summary>Each element mixed into the digest in order (Redis's <c>xorObjectDigest</c> for lists).</summary>
    protected override void Digest(QuickList value, Span<byte> digest)
    {
        foreach (ReadOnlySpan<byte> element in value) RedisDigest.Mix(digest, element);
    }
}
