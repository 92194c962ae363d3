using RespKv.Persistence.Rdb;
using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// TYPE <c>set</c>: a <see cref="SetValue"/>, changed in place under its shard lock (every change announced with
/// <see cref="Database.Mutated"/>). Encodings as Redis 7.0.15: <c>intset</c> while every member is an integer and there
/// are at most <c>set-max-intset-entries</c> (512) members, else <c>hashtable</c>, for good (Redis 7.0 never converts
/// back; 7.2's <c>listpack</c> sets do not exist in 7.0). The encoding is decided when members are added, with the
/// settings of that moment, as Redis does. AOF rewrite: <c>SADD key m …</c> of at most 64 members
/// (<c>AOF_REWRITE_ITEMS_PER_CMD</c>).
/// </summary>
public sealed class SetKind : ValueKind<SetValue>
{
    /// <summary>The one instance.</summary>
    public static SetKind Instance { get; } = new();

    private SetKind() : base("set", redisTypeCode: 2, mutatedInPlace: true)
    {
    }

    /// <inheritdoc />
    protected override string Encoding(SetValue value, ServerOptions options) => value.IsIntset ? "intset" : "hashtable";

    /// <inheritdoc />
    protected override long ValueBytes(SetValue value) => value.Bytes;

    /// <inheritdoc />
    protected override long MemoryBytes(SetValue value) => Estimate(value);

    /// <summary>Bytes of the <see cref="SetValue"/> object (header, array reference, count, tree reference, byte total).</summary>
    public const long ObjectBytes = 48;

    /// <summary>
    /// Estimated heap bytes of <paramref name="value"/> (its <see cref="ValueKind.MemoryBytes"/>, which handlers changing a set
    /// compare before and after for <see cref="Database.Mutated"/>'s delta): an intset its object and its <c>long[]</c>
    /// (8 bytes per slot); a hashtable its object and its tree as laid out (<see cref="ScoredMemberTree.HeapBytes"/>:
    /// the tree object, leaves and their arrays — 23 bytes per 10-byte member packed, plus free space — inner nodes
    /// and separators).
    /// </summary>
    public static long Estimate(SetValue value) =>
        value.Table is { } table ? ObjectBytes + table.HeapBytes : ObjectBytes + KeyEntry.ArrayBytes(8 * value.IntCapacity);

    /// <inheritdoc />
    protected override void Rewrite(byte[] key, SetValue value, IAofRewriteOutput output)
    {
        var chunks = new MemberChunks(output, key, value.Count);
        value.ForEach(ref chunks);
    }

    /// <summary>Emits a set's members as <c>SADD key m …</c> commands of at most <see cref="ValueKind.ItemsPerCommand"/> members.</summary>
    private struct MemberChunks(IAofRewriteOutput output, byte[] key, long count) : IHashVisitor
    {
        private RewriteBatches _batches = new(output, Sadd, key, count, argumentsPerItem: 1);

        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            _batches.Add(member);
            return true;
        }
    }

    private static readonly byte[] Sadd = "SADD"u8.ToArray();

    /// <summary>Redis's <c>xorObjectDigest</c> for a set: SHA-1 of each member XORed into the digest (<see cref="RedisDigest.Xor"/>; order-independent).</summary>
    protected override void Digest(SetValue value, Span<byte> digest)
    {
        var members = new MemberDigests { Sum = new byte[RedisDigest.Length] };
        value.ForEach(ref members);
        for (int i = 0; i < RedisDigest.Length; i++) digest[i] ^= members.Sum[i];
    }

    private struct MemberDigests : IHashVisitor
    {
        public byte[] Sum;

        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            RedisDigest.Xor(Sum, member);
            return true;
        }
    }

    /// <summary>A deep copy (<see cref="SetValue.Copy"/>): sets change in place (COPY, the AOF rewrite's snapshot).</summary>
    protected override SetValue Copy(SetValue value) => value.Copy();

    /// <inheritdoc />
    public override bool HasRdbForm => true;

    /// <summary>
    /// <c>RDB_TYPE_SET_INTSET</c> for an intset set: the intset's bytes (<see cref="Intset.Write"/>, members ascending in the
    /// narrowest width) as one RDB string, byte-identical to Redis's; <c>RDB_TYPE_SET</c> for a hashtable set: the member count
    /// then each member as an RDB string, in RespKv's member order (Redis writes its dict's order, which differs run to run).
    /// </summary>
    protected override void WriteRdb(Stream output, SetValue value, ServerOptions options)
    {
        var members = new MemberList { Members = new List<byte[]>((int)Math.Min(value.Count, 1 << 16)) };
        value.ForEach(ref members);
        if (value.IsIntset)
        {
            output.WriteByte(Rdb.TypeSetIntset);
            var ints = new List<long>(members.Members.Count);
            foreach (byte[] m in members.Members)
            {
                RespInteger.TryParse(m, out long n);
                ints.Add(n);
            }
            Rdb.WriteString(output, Intset.Write(ints));
            return;
        }
        output.WriteByte(Rdb.TypeSet);
        Rdb.WriteLength(output, (ulong)members.Members.Count);
        foreach (byte[] m in members.Members) Rdb.WriteString(output, m);
    }

    private struct MemberList : IHashVisitor
    {
        public List<byte[]> Members;

        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            Members.Add(member.ToArray());
            return true;
        }
    }

    /// <summary>
    /// An intset: its bytes as one RDB string — an 8-byte header (encoding, length) and 2, 4 or 8 bytes per member, the
    /// width the largest magnitude needs (Redis's <c>intset.c</c>); a hashtable: a count and each member as an RDB string.
    /// </summary>
    protected override long SerializedLength(SetValue value, ServerOptions options)
    {
        var sizes = new RdbSizes();
        value.ForEach(ref sizes);
        if (!value.IsIntset) return RdbLengthBytes(value.Count) + sizes.Strings;
        long blob = 8 + sizes.Width * value.Count;
        return RdbLengthBytes(blob) + blob;
    }

    private struct RdbSizes : IHashVisitor
    {
        public long Strings;
        public int Width;

        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            Strings += StringKind.RdbStringLength(member);
            if (RespInteger.TryParse(member, out long n))
            {
                int width = n is >= short.MinValue and <= short.MaxValue ? 2 : n is >= int.MinValue and <= int.MaxValue ? 4 : 8;
                Width = Math.Max(Width, width);
            }
            return true;
        }
    }
}
