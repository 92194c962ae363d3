using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Storage.Kinds;

/// <summary>
/// TYPE <c>stream</c>: a <see cref="StreamValue"/> (packed runs of entries indexed by ID, consumer groups), changed in place
/// under its shard lock (<see cref="ValueKind.MutatedInPlace"/>; COPY and the AOF rewrite's snapshot deep-copy it).
/// <c>OBJECT ENCODING</c> is <c>stream</c>, as in Redis 7.0. AOF rewrite as Redis 7.0's <c>rewriteStreamObject</c>: one
/// <c>XADD key id field value …</c> per entry (an empty stream: <c>XADD key MAXLEN 0 0-1 x y</c>), then
/// <c>XSETID key last-id ENTRIESADDED n MAXDELETEDID id</c>, then per group <c>XGROUP CREATE key group last-id ENTRIESREAD n</c>,
/// per consumer without pending entries <c>XGROUP CREATECONSUMER key group consumer</c>, and per pending entry
/// <c>XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n JUSTID FORCE</c>.
/// </summary>
public sealed class StreamKind : ValueKind<StreamValue>
{
    /// <summary>The one instance.</summary>
    public static StreamKind Instance { get; } = new();

    private StreamKind() : base("stream", redisTypeCode: 6, mutatedInPlace: true)
    {
    }

    /// <inheritdoc />
    protected override string Encoding(StreamValue value, ServerOptions options) => "stream";

    /// <summary>The bytes of the packed nodes in use (fields, values and their per-entry headers).</summary>
    protected override long ValueBytes(StreamValue value) => value.DataBytes;

    /// <inheritdoc />
    protected override long MemoryBytes(StreamValue value) => value.MemoryBytes;

    private static readonly byte[] Xadd = "XADD"u8.ToArray();

    /// <inheritdoc />
    protected override void Rewrite(byte[] key, StreamValue value, IAofRewriteOutput output)
    {
        Span<byte> id = stackalloc byte[StreamId.MaxTextLength];
        if (value.Length > 0)
        {
            StreamValue.RangeEnumerator e = value.Range(StreamId.Zero, StreamId.Max);
            while (e.MoveNext())
            {
                StreamValue.Entry entry = e.Current;
                PropagationBuffer record = output.Begin(3 + 2 * entry.FieldCount).Arg(Xadd).Arg(key).Arg(id[..entry.Id.Format(id)]);
                StreamValue.PairReader pairs = entry.Pairs;
                while (pairs.MoveNext()) record.Arg(pairs.Field).Arg(pairs.Value);
                output.EndRecord();
            }
            e.Dispose();
        }
        else
        {
            output.Begin(7).Arg(Xadd).Arg(key).Arg("MAXLEN"u8).Arg("0"u8).Arg("0-1"u8).Arg("x"u8).Arg("y"u8);
            output.EndRecord();
        }
        output.Begin(7).Arg("XSETID"u8).Arg(key).Arg(id[..value.LastId.Format(id)]).Arg("ENTRIESADDED"u8).Arg(value.EntriesAdded)
            .Arg("MAXDELETEDID"u8).Arg(id[..value.MaxDeletedId.Format(id)]);
        output.EndRecord();
        if (value.Groups == null) return;
        foreach (StreamGroup group in value.Groups.Values)
        {
            output.Begin(7).Arg("XGROUP"u8).Arg("CREATE"u8).Arg(key).Arg(group.Name).Arg(id[..group.LastId.Format(id)])
                .Arg("ENTRIESREAD"u8).Arg(group.EntriesRead);
            output.EndRecord();
            foreach (StreamConsumer consumer in group.Consumers.Values)
            {
                if (consumer.Pending.Count == 0)
                {
                    output.Begin(5).Arg("XGROUP"u8).Arg("CREATECONSUMER"u8).Arg(key).Arg(group.Name).Arg(consumer.Name);
                    output.EndRecord();
                    continue;
                }
                foreach (PendingEntry pending in consumer.Pending)
                {
                    output.Begin(12).Arg("XCLAIM"u8).Arg(key).Arg(group.Name).Arg(consumer.Name).Arg("0"u8).Arg(id[..pending.Id.Format(id)])
                        .Arg("TIME"u8).Arg(pending.DeliveryTime).Arg("RETRYCOUNT"u8).Arg(pending.DeliveryCount).Arg("JUSTID"u8).Arg("FORCE"u8);
                    output.EndRecord();
                }
            }
        }
    }

    /// <summary>A deep copy (the value is mutated in place).</summary>
    protected override StreamValue Copy(StreamValue value) => value.Clone();

    /// <summary>
    /// An estimate of Redis 7.0's <c>RDB_TYPE_STREAM_LISTPACKS_2</c> length: per node its 16-byte key and its listpack as RDB
    /// strings, the stream's counters and IDs, and per group, consumer and pending entry their saved fields.
    /// </summary>
    protected override long SerializedLength(StreamValue value, ServerOptions options)
    {
        long total = RdbLengthBytes(value.NodeCount) + value.NodeCount * (1 + 16) + value.DataBytes + 10 * 9;
        if (value.Groups == null) return total + 1;
        total += RdbLengthBytes(value.Groups.Count);
        foreach (StreamGroup g in value.Groups.Values)
        {
            total += StringKind.RdbStringLength(g.Name) + 3 * 9 + RdbLengthBytes(g.Pending.Count) + g.Pending.Count * (16 + 8 + 9)
                + RdbLengthBytes(g.Consumers.Count);
            foreach (StreamConsumer c in g.Consumers.Values)
                total += StringKind.RdbStringLength(c.Name) + 8 + RdbLengthBytes(c.Pending.Count) + 16 * c.Pending.Count;
        }
        return total;
    }

    /// <summary>Redis's <c>xorObjectDigest</c> for a stream: per entry, <c>ms.seq</c> then each field and value mixed in, in order.</summary>
    protected override void Digest(StreamValue value, Span<byte> digest)
    {
        Span<byte> text = stackalloc byte[StreamId.MaxTextLength];
        StreamValue.RangeEnumerator e = value.Range(StreamId.Zero, StreamId.Max);
        while (e.MoveNext())
        {
            StreamValue.Entry entry = e.Current;
            int n = entry.Id.Format(text);
            text[text[..n].IndexOf((byte)'-')] = (byte)'.';
            RedisDigest.Mix(digest, text[..n]);
            StreamValue.PairReader pairs = entry.Pairs;
            while (pairs.MoveNext())
            {
                RedisDigest.Mix(digest, pairs.Field);
                RedisDigest.Mix(digest, pairs.Value);
            }
        }
        e.Dispose();
    }
}
