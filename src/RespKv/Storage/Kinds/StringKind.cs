using RespKv.Persistence.Rdb;
using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// TYPE <c>string</c>: a binary-safe <c>byte[]</c>, immutable once stored (every write stores a new array).
/// Encodings as Redis 7.0's <c>tryObjectEncoding</c> leaves a value SET stored: <c>int</c> for a canonical 64-bit
/// integer of at most 20 bytes (<c>string2ll</c>: no '+', no leading zero, not "-0"), <c>embstr</c> up to 44 bytes
/// (<c>OBJ_ENCODING_EMBSTR_SIZE_LIMIT</c>), else <c>raw</c>. (Redis also answers <c>raw</c> for short strings that
/// APPEND or SETRANGE built; RespKv judges the bytes alone.) Strings the bit and HyperLogLog commands build are
/// <c>raw</c> whatever their bytes, as in Redis (<see cref="MarkRaw"/>). AOF rewrite: <c>SET key value</c>.
/// </summary>
public sealed class StringKind : ValueKind<byte[]>
{
    /// <summary>The one instance.</summary>
    public static StringKind Instance { get; } = new();

    private StringKind() : base("string", redisTypeCode: 0, mutatedInPlace: false)
    {
    }

    /// <summary>Longest string Redis 7.0 stores as <c>embstr</c> (<c>OBJ_ENCODING_EMBSTR_SIZE_LIMIT</c>), in bytes.</summary>
    public const int EmbstrSizeLimit = 44;

    /// <summary>Redis's shared integers 0..<c>OBJ_SHARED_INTEGERS</c>-1 (10000).</summary>
    public const int SharedIntegers = 10_000;

    /// <summary>True when Redis stores <paramref name="value"/> with the <c>int</c> encoding (a canonical 64-bit integer, ≤ 20 bytes).</summary>
    public static bool IsIntEncoded(ReadOnlySpan<byte> value, out long number) => RespInteger.TryParse(value, out number);

    /// <summary>Short strings built as Redis builds a <c>raw</c> string (<see cref="MarkRaw"/>); held weakly, by array identity.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<byte[], object?> RawBuilt = new();

    /// <summary>
    /// Marks <paramref name="value"/> as a string Redis holds with the <c>raw</c> encoding whatever its bytes: one SETBIT,
    /// BITOP, BITFIELD, PFADD or PFMERGE built (<c>createObject</c> of an sds) or only looked at for writing
    /// (<c>dbUnshareStringValue</c> makes an <c>int</c>/<c>embstr</c> value raw even when the command then changes nothing),
    /// which Redis never converts back until it is SET again. The mark is metadata beside the array: readers of the bytes
    /// never see it, and an array COPY shared keeps it for both keys (Redis would unshare only one).
    /// Only strings of at most <see cref="EmbstrSizeLimit"/> bytes need the mark (longer ones are <c>raw</c> anyway), so a
    /// large bitmap costs nothing.
    /// </summary>
    public static void MarkRaw(byte[] value)
    {
        if (value.Length <= EmbstrSizeLimit && !RawBuilt.TryGetValue(value, out _)) RawBuilt.AddOrUpdate(value, null);
    }

    /// <summary>True when <paramref name="value"/> was marked with <see cref="MarkRaw"/>.</summary>
    private static bool IsRawBuilt(byte[] value) => value.Length <= EmbstrSizeLimit && RawBuilt.TryGetValue(value, out _);

    /// <inheritdoc />
    protected override string Encoding(byte[] value, ServerOptions options) =>
        IsRawBuilt(value) ? "raw"
        : IsIntEncoded(value, out _) ? "int" : value.Length <= EmbstrSizeLimit ? "embstr" : "raw";

    /// <inheritdoc />
    protected override long ValueBytes(byte[] value) => value.Length;

    /// <inheritdoc />
    protected override long MemoryBytes(byte[] value) => KeyEntry.ArrayBytes(value.Length);

    /// <inheritdoc />
    protected override void Rewrite(byte[] key, byte[] value, IAofRewriteOutput output)
    {
        output.Begin(3).Arg("SET"u8).Arg(key).Arg(value);
        output.EndRecord();
    }

    /// <inheritdoc />
    protected override void Digest(byte[] value, Span<byte> digest) => RedisDigest.Mix(digest, value);

    /// <summary>Strings are immutable: the copy is the same array.</summary>
    protected override byte[] Copy(byte[] value) => value;

    /// <inheritdoc />
    public override bool HasRdbForm => true;

    /// <summary>
    /// <c>RDB_TYPE_STRING</c> then the value as <c>rdbSaveStringObject</c> writes it (<see cref="Rdb.WriteString"/>): a 32-bit
    /// integer's canonical text as that integer, a string over 20 bytes LZF-compressed when that saves 4 bytes, else plain.
    /// HyperLogLogs and bitmaps are strings.
    /// </summary>
    protected override void WriteRdb(Stream output, byte[] value, ServerOptions options)
    {
        output.WriteByte(Rdb.TypeString);
        Rdb.WriteString(output, value);
    }

    /// <inheritdoc />
    protected override long SerializedLength(byte[] value, ServerOptions options) => RdbStringLength(value);

    /// <summary>
    /// Bytes of <paramref name="value"/> as an RDB string (Redis's <c>rdbSaveRawString</c> without LZF): an integer of at
    /// most 11 bytes that fits 8/16/32 bits takes 2/3/5 bytes; anything else its length prefix and its bytes.
    /// </summary>
    public static long RdbStringLength(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 11 && RespInteger.TryParse(value, out long n))
        {
            if (n is >= sbyte.MinValue and <= sbyte.MaxValue) return 2;
            if (n is >= short.MinValue and <= short.MaxValue) return 3;
            if (n is >= int.MinValue and <= int.MaxValue) return 5;
        }
        return RdbLengthBytes(value.Length) + value.Length;
    }

    /// <summary>
    /// <see cref="ValueKind.SharedRefCount"/> for an integer 0..9999 while Redis would use shared integers (no maxmemory,
    /// or a policy other than LRU/LFU: <c>MAXMEMORY_FLAG_NO_SHARED_INTEGERS</c>), else 1.
    /// </summary>
    protected override int RefCount(byte[] value, ServerOptions options)
    {
        bool sharing = options.MaxMemory == 0 || !(options.MaxMemoryPolicy.EndsWith("-lru", StringComparison.Ordinal)
            || options.MaxMemoryPolicy.EndsWith("-lfu", StringComparison.Ordinal));
        return sharing && !IsRawBuilt(value) && IsIntEncoded(value, out long n) && n is >= 0 and < SharedIntegers ? SharedRefCount : 1;
    }
}
