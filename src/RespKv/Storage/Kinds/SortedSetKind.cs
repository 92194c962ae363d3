using RespKv.Persistence.Rdb;
using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// TYPE <c>zset</c>: a <see cref="SortedSetValue"/> (two packed order-statistic B+trees: by score, by member), changed in place under
/// its shard lock (<see cref="ValueKind.MutatedInPlace"/>: every change is announced with <see cref="Database.Mutated"/>;
/// COPY and the AOF rewrite's snapshot deep-copy it). Encodings as Redis 7.0: <c>listpack</c> while the set has at most
/// <c>zset-max-listpack-entries</c> (128) members and no member longer than <c>zset-max-listpack-value</c> (64) bytes,
/// else <c>skiplist</c> for good (<see cref="SortedSetValue.IsListpack"/>; a store command's new value is judged afresh, as
/// Redis's <c>zsetConvertToListpackIfNeeded</c>). AOF rewrite: <c>ZADD key score member …</c> of at most 64 pairs in score
/// order, scores printed as <c>%.17g</c> (<see cref="DoubleText.Format"/>).
/// </summary>
public sealed class SortedSetKind : ValueKind<SortedSetValue>
{
    /// <summary>The one instance.</summary>
    public static SortedSetKind Instance { get; } = new();

    private SortedSetKind() : base("zset", redisTypeCode: 3, mutatedInPlace: true)
    {
    }

    /// <inheritdoc />
    protected override string Encoding(SortedSetValue value, ServerOptions options) => value.IsListpack ? "listpack" : "skiplist";

    /// <summary>The members' bytes plus 8 bytes per score.</summary>
    protected override long ValueBytes(SortedSetValue value) => value.MemberBytes + 8 * value.Count;

    /// <inheritdoc />
    protected override long MemoryBytes(SortedSetValue value) => value.MemoryBytes;

    /// <inheritdoc />
    protected override void Rewrite(byte[] key, SortedSetValue value, IAofRewriteOutput output)
    {
        var batches = new RewriteBatches(output, Zadd, key, value.Count, argumentsPerItem: 2);
        Span<byte> score = stackalloc byte[DoubleText.MaxLength];
        for (SortedSetValue.Position n = value.First; n.Exists; n = n.Next) batches.Add(score[..DoubleText.Format(n.Score, score)], n.Member);
    }

    private static readonly byte[] Zadd = "ZADD"u8.ToArray();

    /// <summary>A deep copy (the value is mutated in place).</summary>
    protected override SortedSetValue Copy(SortedSetValue value) => value.Clone();

    /// <inheritdoc />
    public override bool HasRdbForm => true;

    /// <summary>
    /// <c>RDB_TYPE_ZSET_LISTPACK</c> for a listpack set: member, score pairs in score order in one listpack (the score as Redis's
    /// <c>d2string</c> text, <see cref="ScoreText"/>, stored as an integer when it is one), byte-identical to Redis's;
    /// <c>RDB_TYPE_ZSET_2</c> for a skiplist set: the count, then from the greatest to the smallest each member as an RDB string
    /// and its score as 8 bytes little-endian (<c>rdbSaveBinaryDoubleValue</c>), as Redis walks its skiplist backwards.
    /// </summary>
    protected override void WriteRdb(Stream output, SortedSetValue value, ServerOptions options)
    {
        if (value.IsListpack)
        {
            output.WriteByte(Rdb.TypeZsetListpack);
            var lp = new Listpack.Builder();
            Span<byte> text = stackalloc byte[32];
            for (SortedSetValue.Position n = value.First; n.Exists; n = n.Next)
            {
                lp.Append(n.Member);
                lp.Append(text[..ScoreText(n.Score, text)]);
            }
            Rdb.WriteString(output, lp.ToArray());
            return;
        }
        output.WriteByte(Rdb.TypeZset2);
        Rdb.WriteLength(output, (ulong)value.Count);
        for (SortedSetValue.Position n = value.Last; n.Exists; n = n.Previous)
        {
            Rdb.WriteString(output, n.Member);
            Rdb.WriteBinaryDouble(output, n.Score);
        }
    }

    /// <summary>
    /// Redis 7.0's <c>d2string</c>, the text a listpack sorted set stores a score as: <c>nan</c>, <c>inf</c>, <c>-inf</c>,
    /// <c>0</c>/<c>-0</c>, an integral value within ±2⁶²−1 as its integer digits (<c>double2ll</c>), else <c>%.17g</c>.
    /// Returns the bytes written into <paramref name="destination"/> (32 suffice).
    /// </summary>
    public static int ScoreText(double score, Span<byte> destination)
    {
        if (score != 0 && Math.Abs(score) <= long.MaxValue / 2 && score == Math.Truncate(score))
        {
            ((long)score).TryFormat(destination, out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
            return digits;
        }
        return DoubleText.Format(score, destination);
    }

    /// <summary>
    /// A listpack set: the listpack's bytes as one RDB string (member and score elements, the score as <c>%.17g</c> text or
    /// an integer); a skiplist set (<c>RDB_TYPE_ZSET_2</c>): a count, each member as an RDB string and its score as 8 bytes.
    /// </summary>
    protected override long SerializedLength(SortedSetValue value, ServerOptions options)
    {
        Span<byte> score = stackalloc byte[DoubleText.MaxLength];
        if (!value.IsListpack)
        {
            long total = RdbLengthBytes(value.Count);
            for (SortedSetValue.Position n = value.First; n.Exists; n = n.Next) total += StringKind.RdbStringLength(n.Member) + 8;
            return total;
        }
        long listpack = 6 + 1;
        for (SortedSetValue.Position n = value.First; n.Exists; n = n.Next)
            listpack += HashKind.ListpackBytes(n.Member) + HashKind.ListpackBytes(score[..DoubleText.Format(n.Score, score)]);
        return RdbLengthBytes(listpack) + listpack;
    }

    /// <summary>Redis's <c>xorObjectDigest</c> for a zset: per member, the member then its <c>%.17g</c> score mixed into 20 zero bytes, XORed together.</summary>
    protected override void Digest(SortedSetValue value, Span<byte> digest)
    {
        Span<byte> element = stackalloc byte[RedisDigest.Length];
        Span<byte> score = stackalloc byte[DoubleText.MaxLength];
        for (SortedSetValue.Position n = value.First; n.Exists; n = n.Next)
        {
            element.Clear();
            RedisDigest.Mix(element, n.Member);
            RedisDigest.Mix(element, score[..DoubleText.Format(n.Score, score)]);
            RedisDigest.Xor(digest, element);
        }
    }
}
