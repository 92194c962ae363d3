using RespKv.Persistence.Rdb;
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

    /// <inheritdoc />
    public override bool HasRdbForm => true;

    /// <summary>
    /// <c>RDB_TYPE_STREAM_LISTPACKS_2</c>, as Redis 7.0's <c>rdbSaveObject</c>: the node count; per node its master ID (16 bytes,
    /// ms and seq big-endian) and its listpack (<see cref="NodeListpack"/>) as RDB strings; the length, last ID, first ID,
    /// greatest deleted ID (each ID as two RDB lengths) and entries added; the group count; per group (in name byte order) its
    /// name, last-delivered ID, entries-read (−1 as 2⁶⁴−1), its PEL (count; per entry the 16-byte ID, delivery time in ms as 8
    /// bytes little-endian, delivery count) and its consumers (count; per consumer its name, seen time in ms, and its PEL as
    /// 16-byte IDs). RespKv's nodes are Redis's macro-nodes (same boundaries, master entries and tombstones), so the bytes match.
    /// </summary>
    protected override void WriteRdb(Stream output, StreamValue value, ServerOptions options)
    {
        output.WriteByte(Rdb.TypeStreamListpacks2);
        ReadOnlySpan<StreamValue.Node> nodes = value.Nodes;
        Rdb.WriteLength(output, (ulong)nodes.Length);
        Span<byte> id = stackalloc byte[16];
        foreach (StreamValue.Node node in nodes)
        {
            RawId(node.Master, id);
            Rdb.WriteString(output, id);
            Rdb.WriteString(output, NodeListpack(node));
        }
        Rdb.WriteLength(output, (ulong)value.Length);
        WriteId(output, value.LastId);
        WriteId(output, value.FirstId);
        WriteId(output, value.MaxDeletedId);
        Rdb.WriteLength(output, (ulong)value.EntriesAdded);
        Rdb.WriteLength(output, (ulong)(value.Groups?.Count ?? 0));
        if (value.Groups == null) return;
        foreach (StreamGroup group in value.Groups.Values)
        {
            Rdb.WriteString(output, group.Name);
            WriteId(output, group.LastId);
            Rdb.WriteLength(output, unchecked((ulong)group.EntriesRead));
            Rdb.WriteLength(output, (ulong)group.Pending.Count);
            foreach (PendingEntry pending in group.Pending)
            {
                RawId(pending.Id, id);
                output.Write(id);
                Rdb.WriteMillisecondTime(output, pending.DeliveryTime);
                Rdb.WriteLength(output, (ulong)pending.DeliveryCount);
            }
            Rdb.WriteLength(output, (ulong)group.Consumers.Count);
            foreach (StreamConsumer consumer in group.Consumers.Values)
            {
                Rdb.WriteString(output, consumer.Name);
                Rdb.WriteMillisecondTime(output, consumer.SeenTime);
                Rdb.WriteLength(output, (ulong)consumer.Pending.Count);
                foreach (PendingEntry pending in consumer.Pending)
                {
                    RawId(pending.Id, id);
                    output.Write(id);
                }
            }
        }
    }

    /// <summary>A stream ID as Redis keys its radix trees and PELs: ms then seq, 8 bytes big-endian each.</summary>
    public static void RawId(StreamId id, Span<byte> destination)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination, id.Ms);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination[8..], id.Seq);
    }

    private static void WriteId(Stream output, StreamId id)
    {
        Rdb.WriteLength(output, id.Ms);
        Rdb.WriteLength(output, id.Seq);
    }

    /// <summary>
    /// A node as Redis's stream listpack (<c>t_stream.c</c> <c>streamAppendItem</c>): the master entry — live count, deleted
    /// count, master field count, the master fields, 0 — then per entry its flags (1 deleted, 2 same fields), ms and seq
    /// deltas from the master ID, then either the values alone (same fields) or the field count and the fields and values,
    /// and last the entry's element count (the "lp-count" that lets Redis walk backwards).
    /// </summary>
    internal static byte[] NodeListpack(StreamValue.Node node)
    {
        var lp = new Listpack.Builder();
        byte[] d = node.Data;
        lp.AppendInteger(node.Live);
        lp.AppendInteger(node.Deleted);
        lp.AppendInteger(node.MasterFields);
        int p = 0;
        for (int i = 0; i < node.MasterFields; i++) lp.Append(StreamValue.ReadString(d, ref p));
        lp.AppendInteger(0);
        p = node.EntriesStart;
        while (p < node.Used)
        {
            byte flags = d[p++];
            ulong msDelta = Varint.Read64(d, ref p);
            long seqDelta = StreamValue.UnZigZag(Varint.Read64(d, ref p));
            lp.AppendInteger(flags);
            lp.AppendInteger(unchecked((long)msDelta));
            lp.AppendInteger(seqDelta);
            bool same = (flags & StreamValue.SameFields) != 0;
            int fields = same ? node.MasterFields : (int)Varint.Read64(d, ref p);
            if (!same) lp.AppendInteger(fields);
            int strings = same ? fields : 2 * fields;
            for (int i = 0; i < strings; i++) lp.Append(StreamValue.ReadString(d, ref p));
            lp.AppendInteger(3 + fields + (same ? 0 : fields + 1));
        }
        return lp.ToArray();
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
