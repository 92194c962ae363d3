using RespKv.Persistence.Rdb;
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

    /// <inheritdoc />
    public override bool HasRdbForm => true;

    /// <summary>
    /// <c>RDB_TYPE_LIST_QUICKLIST_2</c> (<c>rdbSaveObject</c>): the node count, then per node its container (2 packed: the node's
    /// listpack as an RDB string; 1 plain: the element itself). Nodes are cut as Redis 7.0's quicklist fills them when the list is
    /// built by pushes at the tail (<c>_quicklistNodeAllowInsert</c> with <c>list-max-listpack-size</c>: for −1..−5 a node grows
    /// while its listpack bytes plus the new element plus 8 stay within 4/8/16/32/64 KB; for n &gt; 0 up to n elements within
    /// 8 KB), an element of 1 GB or more (<c>packed_threshold</c>) taking a plain node of its own — so a list RPUSHed on both
    /// servers dumps to the same bytes. (Redis's node boundaries also depend on the list's history: LPUSH, LINSERT and merges
    /// may cut a multi-node list elsewhere; the elements are the same.) Compressed nodes (<c>list-compress-depth</c> &gt; 0) are
    /// written uncompressed, as listpacks.
    /// </summary>
    protected override void WriteRdb(Stream output, QuickList value, ServerOptions options)
    {
        output.WriteByte(Rdb.TypeListQuicklist2);
        var nodes = new List<(int Container, byte[] Bytes)>();
        Listpack.Builder? node = null;
        int fill = options.ListMaxListpackSize;
        foreach (ReadOnlySpan<byte> element in value)
        {
            if (element.Length >= PackedThreshold)
            {
                if (node != null) nodes.Add((Rdb.ContainerPacked, node.ToArray()));
                node = null;
                nodes.Add((Rdb.ContainerPlain, element.ToArray()));
                continue;
            }
            if (node != null && !AllowInsert(node.Bytes, node.Count, element.Length, fill))
            {
                nodes.Add((Rdb.ContainerPacked, node.ToArray()));
                node = null;
            }
            node ??= new Listpack.Builder();
            node.Append(element);
        }
        if (node != null) nodes.Add((Rdb.ContainerPacked, node.ToArray()));
        Rdb.WriteLength(output, (ulong)nodes.Count);
        foreach ((int container, byte[] bytes) in nodes)
        {
            Rdb.WriteLength(output, (ulong)container);
            Rdb.WriteString(output, bytes);
        }
    }

    /// <summary>Redis's <c>packed_threshold</c>: elements of this many bytes or more get a plain node (1 GB).</summary>
    public const long PackedThreshold = 1L << 30;

    private static readonly int[] OptimizationLevel = [4096, 8192, 16384, 32768, 65536];

    /// <summary>
    /// Redis 7.0's <c>_quicklistNodeAllowInsert</c>: whether a node of <paramref name="nodeBytes"/> listpack bytes and
    /// <paramref name="nodeCount"/> elements takes one more element of <paramref name="size"/> bytes under <paramref name="fill"/>
    /// (<c>list-max-listpack-size</c>).
    /// </summary>
    public static bool AllowInsert(long nodeBytes, int nodeCount, long size, int fill)
    {
        long newSize = nodeBytes + size + 8; // SIZE_ESTIMATE_OVERHEAD
        if (fill < 0 && -fill - 1 < OptimizationLevel.Length && newSize <= OptimizationLevel[-fill - 1]) return true;
        if (newSize > 8192) return false; // SIZE_SAFETY_LIMIT
        return nodeCount < fill;
    }

    /// <summary>Each element mixed into the digest in order (Redis's <c>xorObjectDigest</c> for lists).</summary>
    protected override void Digest(QuickList value, Span<byte> digest)
    {
        foreach (ReadOnlySpan<byte> element in value) RedisDigest.Mix(digest, element);
    }
}
