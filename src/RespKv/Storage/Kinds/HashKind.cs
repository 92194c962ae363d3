using RespKv.Persistence.Rdb;
using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// TYPE <c>hash</c>: a <see cref="SortedHash"/>, changed in place under its key's shard lock (<see cref="ValueKind.MutatedInPlace"/>:
/// reads hold the lock too, every change is announced with <see cref="Database.Mutated"/>); a copy (COPY, the AOF rewrite's
/// and BGSAVE's snapshots) is O(1), the two sharing a frozen tree (<see cref="SortedHash.Snapshot"/>). Encodings as Redis 7.0: <c>listpack</c> while the hash has at most <c>hash-max-listpack-entries</c> (512) fields
/// and no field or value longer than <c>hash-max-listpack-value</c> (64) bytes, else <c>hashtable</c>, for good: Redis
/// never converts back (see <see cref="IsListpack"/>). AOF rewrite: <c>HSET key f v …</c> of at
/// most 64 pairs (<c>AOF_REWRITE_ITEMS_PER_CMD</c>).
/// </summary>
public sealed class HashKind : ValueKind<SortedHash>
{
    /// <summary>The one instance.</summary>
    public static HashKind Instance { get; } = new();

    private HashKind() : base("hash", redisTypeCode: 4, mutatedInPlace: true)
    {
    }

    /// <inheritdoc />
    /// <remarks>A listpack hash with field expiries is <c>listpackex</c>, as Redis 7.4 names it (judged on the current value: RespKv does not remember that a hash once had field expiries).</remarks>
    protected override string Encoding(SortedHash value, ServerOptions options) =>
        !IsListpack(value, options) ? "hashtable" : value.HasFieldExpiries ? "listpackex" : "listpack";

    /// <summary>
    /// True when Redis 7.0 would hold <paramref name="value"/> as a listpack under <paramref name="options"/>' thresholds
    /// (<see cref="ServerOptions.HashMaxListpackEntries"/> fields, <see cref="ServerOptions.HashMaxListpackValue"/> bytes per
    /// field or value). At Redis's defaults (512, 64) it is exact, history included: <see cref="SortedHash.IsSmall"/>, which
    /// stays false once the hash outgrew them (Redis never converts back). Other thresholds are judged on the current
    /// fields and values alone.
    /// </summary>
    public static bool IsListpack(SortedHash value, ServerOptions options)
    {
        long entries = options.HashMaxListpackEntries, length = options.HashMaxListpackValue;
        if (entries == SortedHash.SmallMaxFields && length == SortedHash.SmallMaxLength) return value.IsSmall;
        if (value.Count > entries) return false;
        var longest = new Longest();
        value.ForEach(ref longest);
        return longest.Bytes <= length;
    }

    private struct Longest : IHashVisitor
    {
        public int Bytes;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Bytes = Math.Max(Bytes, Math.Max(field.Length, value.Length));
            return true;
        }
    }

    /// <inheritdoc />
    protected override long ValueBytes(SortedHash value) => value.Bytes;

    /// <summary>Fields and values, 8 bytes of per-field bookkeeping, and one 2 KB leaf's overhead per 1.5 KB of data (see <see cref="SortedHash"/>).</summary>
    /// <remarks>Field expiries are a second hash of the same shape (field → 8-byte time), counted the same way.</remarks>
    protected override long MemoryBytes(SortedHash value) => Estimate(value);

    /// <summary>
    /// The estimated heap bytes of <paramref name="value"/> (<see cref="MemoryBytes"/>), for a command that changes a hash in
    /// place and reports its growth (<see cref="Database.Mutated"/>).
    /// </summary>
    public static long Estimate(SortedHash value) =>
        64 + value.Bytes + 8 * value.Count + 48 * (value.Bytes / 1536 + 1) + (value.FieldExpiries is { } ttls ? Estimate(ttls) : 0);

    /// <inheritdoc />
    protected override void Rewrite(byte[] key, SortedHash value, IAofRewriteOutput output)
    {
        var chunks = new HashChunks(output, key, value.Count);
        value.ForEach(ref chunks);
        if (value.FieldExpiries is not { } ttls) return;
        // Then each field's expiry, absolute, as Redis 7.4's rewriteHashObject: HPEXPIREAT key ms FIELDS 1 field.
        var expiries = new ExpiryCommands(output, key);
        ttls.ForEach(ref expiries);
    }

    /// <summary>Emits <c>HPEXPIREAT key ms FIELDS 1 field</c> per field with an expiry.</summary>
    private readonly struct ExpiryCommands(IAofRewriteOutput output, byte[] key) : IHashVisitor
    {
        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            output.Begin(6).Arg(Hpexpireat).Arg(key).Arg(SortedHash.ReadExpireAt(value)).Arg(Fields).Arg("1"u8).Arg(field);
            output.EndRecord();
            return true;
        }
    }

    private static readonly byte[] Hpexpireat = "HPEXPIREAT"u8.ToArray();
    private static readonly byte[] Fields = "FIELDS"u8.ToArray();

    /// <summary>Emits a hash's fields as <c>HSET key f v …</c> commands of at most <see cref="ValueKind.ItemsPerCommand"/> pairs.</summary>
    private struct HashChunks(IAofRewriteOutput output, byte[] key, long count) : IHashVisitor
    {
        private RewriteBatches _batches = new(output, Hset, key, count, argumentsPerItem: 2);

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            _batches.Add(field, value);
            return true;
        }
    }

    private static readonly byte[] Hset = "HSET"u8.ToArray();

    /// <inheritdoc />
    protected override void Digest(SortedHash value, Span<byte> digest)
    {
        var fields = new FieldDigests { Sum = new byte[RedisDigest.Length] };
        value.ForEach(ref fields);
        for (int i = 0; i < RedisDigest.Length; i++) digest[i] ^= fields.Sum[i];
    }

    private struct FieldDigests : IHashVisitor
    {
        public byte[] Sum;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Span<byte> element = stackalloc byte[RedisDigest.Length];
            element.Clear();
            RedisDigest.Mix(element, field);
            RedisDigest.Mix(element, value);
            RedisDigest.Xor(Sum, element);
            return true;
        }
    }

    /// <summary>A copy sharing the tree, frozen for both (<see cref="SortedHash.Snapshot"/>): O(1), each copies what it later changes.</summary>
    protected override SortedHash Copy(SortedHash value) => value.Snapshot();

    /// <inheritdoc />
    public override bool HasRdbForm => true;

    /// <summary>
    /// <c>RDB_TYPE_HASH_LISTPACK</c> for a hash Redis 7.0 holds as a listpack (<see cref="IsListpack"/>): field, value pairs in one
    /// listpack as one RDB string; <c>RDB_TYPE_HASH</c> otherwise: the count, then each field and value as RDB strings. The
    /// fields come in RespKv's order (Redis writes a listpack in insertion order and a dict in its own order: the bytes match
    /// Redis's for a hash of one field, or fields inserted in RespKv's order). Redis 7.0's RDB has no field expiries: a field's
    /// expiry (Redis 7.4's HEXPIRE) is not carried, and fields already expired are left out.
    /// </summary>
    protected override void WriteRdb(Stream output, SortedHash value, ServerOptions options)
    {
        if (value.HasFieldExpiries) value = value.WithoutExpired(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var pairs = new PairList { Pairs = new List<byte[]>((int)Math.Min(2 * value.Count, 1 << 16)) };
        value.ForEach(ref pairs);
        if (IsListpack(value, options))
        {
            output.WriteByte(Rdb.TypeHashListpack);
            var lp = new Listpack.Builder();
            foreach (byte[] item in pairs.Pairs) lp.Append(item);
            Rdb.WriteString(output, lp.ToArray());
            return;
        }
        output.WriteByte(Rdb.TypeHash);
        Rdb.WriteLength(output, (ulong)value.Count);
        foreach (byte[] item in pairs.Pairs) Rdb.WriteString(output, item);
    }

    private struct PairList : IHashVisitor
    {
        public List<byte[]> Pairs;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Pairs.Add(field.ToArray());
            Pairs.Add(value.ToArray());
            return true;
        }
    }

    /// <summary>A listpack hash: the listpack's bytes as one RDB string (<see cref="ListpackBytes"/>); a hashtable: a count and each field and value as RDB strings.</summary>
    protected override long SerializedLength(SortedHash value, ServerOptions options)
    {
        var sizes = new RdbSizes();
        value.ForEach(ref sizes);
        if (!IsListpack(value, options)) return RdbLengthBytes(value.Count) + sizes.Strings;
        long listpack = ListpackHeaderBytes + sizes.Listpack + 1;
        return RdbLengthBytes(listpack) + listpack;
    }

    /// <summary>A listpack's header: total bytes (4) and element count (2).</summary>
    private const int ListpackHeaderBytes = 6;

    private struct RdbSizes : IHashVisitor
    {
        public long Strings;
        public long Listpack;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Strings += StringKind.RdbStringLength(field) + StringKind.RdbStringLength(value);
            Listpack += ListpackBytes(field) + ListpackBytes(value);
            return true;
        }
    }

    /// <summary>
    /// Bytes of one listpack element holding <paramref name="element"/> (Redis's listpack.c): its encoding — an integer
    /// as 1, 2, 3, 4, 5 or 9 bytes (7-bit unsigned, 13-, 16-, 24-, 32-, 64-bit), a string as a 1-, 2- or 5-byte header
    /// plus its bytes — followed by the back-length (1 to 5 bytes).
    /// </summary>
    public static long ListpackBytes(ReadOnlySpan<byte> element)
    {
        long encoded;
        if (RespInteger.TryParse(element, out long n))
        {
            encoded = n is >= 0 and <= 127 ? 1
                : n is >= -4096 and <= 4095 ? 2
                : n is >= short.MinValue and <= short.MaxValue ? 3
                : n is >= -(1 << 23) and < 1 << 23 ? 4
                : n is >= int.MinValue and <= int.MaxValue ? 5 : 9;
        }
        else encoded = element.Length + (element.Length < 64 ? 1 : element.Length < 4096 ? 2 : 5);
        int backLength = encoded <= 127 ? 1 : encoded < 16383 ? 2 : encoded < 2097151 ? 3 : encoded < 268435455 ? 4 : 5;
        return encoded + backLength;
    }
}
