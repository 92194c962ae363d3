using System.Buffers.Binary;
using RespKv.Configuration;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// Reads one RDB object — its type byte then its body — into a RespKv value, as Redis 7.0's <c>rdbLoadObjectType</c> and
/// <c>rdbLoadObject</c> (<c>rdb.c</c>) do with deep sanitization (<c>sanitize-dump-payload yes</c>): every encoding redis-server
/// 7.0 writes or loads — <c>STRING</c> (plain, integer, LZF), <c>LIST</c>, <c>LIST_ZIPLIST</c>, <c>LIST_QUICKLIST</c>,
/// <c>LIST_QUICKLIST_2</c>, <c>SET</c>, <c>SET_INTSET</c>, <c>ZSET</c>, <c>ZSET_2</c>, <c>ZSET_ZIPLIST</c>, <c>ZSET_LISTPACK</c>,
/// <c>HASH</c>, <c>HASH_ZIPMAP</c>, <c>HASH_ZIPLIST</c>, <c>HASH_LISTPACK</c>, <c>STREAM_LISTPACKS</c>,
/// <c>STREAM_LISTPACKS_2</c>. Any other type (modules, Redis 7.2's <c>SET_LISTPACK</c> 20) is refused, as 7.0 refuses it.
/// <para>
/// Refused (null, RESTORE's <c>-ERR Bad data format</c>): a short or malformed encoding, a container failing its integrity
/// check (<see cref="Listpack"/>, <see cref="Ziplist"/>, <see cref="Intset"/>, <see cref="Zipmap"/>), duplicate members or
/// fields, a NaN score, an empty value (Redis's <c>emptykey</c>), a stream whose entries are out of order or disagree with
/// its counters, a PEL entry without a consumer. Nothing throws: a corrupt payload never reaches the keyspace.
/// </para>
/// The value's encoding follows the server options' thresholds as Redis's loading does (a small hashtable hash
/// becomes a listpack, a large intset a hashtable…).
/// </summary>
public static class RdbObjectReader
{
    /// <summary>
    /// Reads the object at the start of <paramref name="data"/> (a DUMP payload, footer included, as Redis reads it from the
    /// whole buffer); returns the value, or null when the payload is refused (see the class summary).
    /// <paramref name="nowMs"/> is the time new consumers of an old stream format would be stamped with (unused by v2).
    /// </summary>
    public static object? Read(ReadOnlySpan<byte> data, ServerOptions options, long nowMs)
    {
        var reader = new RdbReader(data);
        return reader.TryReadByte(out byte type) ? ReadObject(ref reader, type, options, nowMs) : null;
    }

    /// <summary>
    /// Reads the body of an object of RDB type <paramref name="type"/> (<c>rdbLoadObject</c>) at <paramref name="reader"/>'s
    /// position, leaving it after the object (an RDB file's reader goes on with the next key); null when refused.
    /// </summary>
    public static object? ReadObject(ref RdbReader reader, byte type, ServerOptions options, long nowMs)
    {
        try
        {
            return ReadBody(ref reader, type, options, nowMs);
        }
        catch (Exception)
        {
            // Defence in depth: the checks should refuse every malformed payload before a structure sees it; if one slips
            // through and a structure throws, the payload is refused rather than the connection failing.
            return null;
        }
    }

    /// <summary>
    /// True when the object of RDB type <paramref name="type"/> at the start of <paramref name="data"/> is well formed but empty
    /// (a count of 0, a quicklist whose every node is empty, or an empty ziplist/listpack/intset/zipmap: Redis's
    /// <c>RDB_LOAD_ERR_EMPTY_KEY</c>, which an RDB file's
    /// loader skips); <paramref name="length"/> is then its length in bytes.
    /// </summary>
    public static bool IsEmptyObject(ReadOnlySpan<byte> data, byte type, out int length)
    {
        length = 0;
        var r = new RdbReader(data);
        bool empty;
        switch (type)
        {
            case Rdb.TypeList or Rdb.TypeSet or Rdb.TypeZset or Rdb.TypeZset2 or Rdb.TypeHash:
                empty = r.TryReadLength(out ulong count) && count == 0;
                break;
            case Rdb.TypeListQuicklist or Rdb.TypeListQuicklist2:
            {
                // Redis skips a node whose container is empty; a quicklist left with no element is an empty key.
                if (!r.TryReadLength(out ulong nodes)) return false;
                var elements = new List<byte[]>();
                for (ulong i = 0; i < nodes; i++)
                {
                    ulong container = Rdb.ContainerPacked;
                    if (type == Rdb.TypeListQuicklist2 && (!r.TryReadLength(out container) || container != Rdb.ContainerPacked)) return false;
                    if (r.ReadString() is not { Length: > 0 } node) return false;
                    elements.Clear();
                    if (!(type == Rdb.TypeListQuicklist2 ? Listpack.TryRead(node, elements) : Ziplist.TryRead(node, elements)) || elements.Count > 0) return false;
                }
                empty = true;
                break;
            }
            case Rdb.TypeListZiplist or Rdb.TypeZsetZiplist or Rdb.TypeHashZiplist or Rdb.TypeZsetListpack or Rdb.TypeHashListpack
                or Rdb.TypeHashZipmap or Rdb.TypeSetIntset:
            {
                if (r.ReadString() is not { } blob) return false;
                var items = new List<byte[]>();
                var numbers = new List<long>();
                empty = type switch
                {
                    Rdb.TypeSetIntset => Intset.TryRead(blob, numbers) && numbers.Count == 0,
                    Rdb.TypeHashZipmap => Zipmap.TryRead(blob, items) && items.Count == 0,
                    Rdb.TypeZsetListpack or Rdb.TypeHashListpack => Listpack.TryRead(blob, items) && items.Count == 0,
                    _ => Ziplist.TryRead(blob, items) && items.Count == 0,
                };
                break;
            }
            default:
                return false;
        }
        length = r.Position;
        return empty;
    }

    private static object? ReadBody(ref RdbReader r, byte type, ServerOptions options, long nowMs)
    {
        switch (type)
        {
            case Rdb.TypeString:
                return r.ReadString();
            case Rdb.TypeList:
            {
                if (!r.TryReadLength(out ulong count) || count == 0) return null;
                var list = new QuickList();
                for (ulong i = 0; i < count; i++)
                {
                    if (r.ReadString() is not { } element) return null;
                    list.PushTail(element);
                }
                return list;
            }
            case Rdb.TypeSet:
            {
                if (!r.TryReadLength(out ulong count) || count == 0) return null;
                var set = new SetValue();
                for (ulong i = 0; i < count; i++)
                    if (r.ReadString() is not { } member || !set.Add(member, options.SetMaxIntsetEntries)) return null;
                return set;
            }
            case Rdb.TypeZset:
            case Rdb.TypeZset2:
            {
                if (!r.TryReadLength(out ulong count) || count == 0) return null;
                var zset = new SortedSetValue();
                for (ulong i = 0; i < count; i++)
                {
                    if (r.ReadString() is not { } member) return null;
                    double score;
                    if (!(type == Rdb.TypeZset2 ? r.TryReadBinaryDouble(out score) : r.TryReadTextDouble(out score))) return null;
                    if (!AddScored(zset, member, score, options)) return null;
                }
                return zset;
            }
            case Rdb.TypeHash:
            {
                if (!r.TryReadLength(out ulong count) || count == 0) return null;
                var pairs = new List<byte[]>();
                for (ulong i = 0; i < count; i++)
                {
                    if (r.ReadString() is not { } field || r.ReadString() is not { } item) return null;
                    pairs.Add(field);
                    pairs.Add(item);
                }
                return Hash(pairs);
            }
            case Rdb.TypeListQuicklist:
            case Rdb.TypeListQuicklist2:
            {
                if (!r.TryReadLength(out ulong nodes) || nodes == 0) return null;
                var list = new QuickList();
                var elements = new List<byte[]>();
                for (ulong i = 0; i < nodes; i++)
                {
                    ulong container = Rdb.ContainerPacked;
                    if (type == Rdb.TypeListQuicklist2 && (!r.TryReadLength(out container) || container is not (Rdb.ContainerPacked or Rdb.ContainerPlain))) return null;
                    if (r.ReadString() is not { Length: > 0 } data) return null;
                    if (container == Rdb.ContainerPlain)
                    {
                        list.PushTail(data);
                        continue;
                    }
                    elements.Clear();
                    if (!(type == Rdb.TypeListQuicklist2 ? Listpack.TryRead(data, elements) : Ziplist.TryRead(data, elements))) return null;
                    foreach (byte[] element in elements) list.PushTail(element);
                }
                return list.Count == 0 ? null : list;
            }
            case Rdb.TypeListZiplist:
            {
                var elements = new List<byte[]>();
                if (r.ReadString() is not { } data || !Ziplist.TryRead(data, elements) || elements.Count == 0) return null;
                var list = new QuickList();
                foreach (byte[] element in elements) list.PushTail(element);
                return list;
            }
            case Rdb.TypeSetIntset:
            {
                var members = new List<long>();
                if (r.ReadString() is not { } data || !Intset.TryRead(data, members)) return null;
                var set = new SetValue();
                Span<byte> text = stackalloc byte[SetValue.MaxIntegerLength];
                foreach (long m in members)
                {
                    m.TryFormat(text, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
                    set.Add(text[..n], options.SetMaxIntsetEntries);
                }
                return set;
            }
            case Rdb.TypeZsetZiplist:
            case Rdb.TypeZsetListpack:
            {
                var items = new List<byte[]>();
                if (r.ReadString() is not { } data) return null;
                if (!(type == Rdb.TypeZsetListpack ? Listpack.TryRead(data, items) : Ziplist.TryRead(data, items))) return null;
                if (items.Count == 0 || items.Count % 2 != 0) return null;
                var zset = new SortedSetValue();
                for (int i = 0; i < items.Count; i += 2)
                {
                    if (!DoubleText.TryParseLenient(items[i + 1], out double score)) return null;
                    if (!AddScored(zset, items[i], score, options)) return null;
                }
                // Redis keeps a loaded listpack as it is unless it has too many entries (it does not scan element lengths).
                zset.IsListpack = zset.Count <= options.ZsetMaxListpackEntries;
                return zset;
            }
            case Rdb.TypeHashZipmap:
            case Rdb.TypeHashZiplist:
            case Rdb.TypeHashListpack:
            {
                var items = new List<byte[]>();
                if (r.ReadString() is not { } data) return null;
                bool ok = type switch
                {
                    Rdb.TypeHashZipmap => Zipmap.TryRead(data, items),
                    Rdb.TypeHashZiplist => Ziplist.TryRead(data, items),
                    _ => Listpack.TryRead(data, items),
                };
                if (!ok || items.Count == 0 || items.Count % 2 != 0) return null;
                return Hash(items);
            }
            case Rdb.TypeStreamListpacks:
            case Rdb.TypeStreamListpacks2:
                return ReadStream(ref r, type == Rdb.TypeStreamListpacks2, options, nowMs);
            default:
                return null;
        }
    }

    private static bool AddScored(SortedSetValue zset, byte[] member, double score, ServerOptions options)
    {
        if (double.IsNaN(score) || zset.Contains(member)) return false;
        zset.Add(member, score, options.ZsetMaxListpackEntries, options.ZsetMaxListpackValue);
        return true;
    }

    /// <summary>A hash of alternating fields and values; null on a duplicate field (Redis: "Duplicate hash fields detected").</summary>
    private static SortedHash? Hash(List<byte[]> pairs)
    {
        SortedHash hash = SortedHash.CreateEmpty();
        for (int i = 0; i < pairs.Count; i += 2)
        {
            if (!hash.Put(pairs[i], pairs[i + 1])) return null;
        }
        return hash;
    }

    private readonly struct Strings(List<byte[]> items, int start) : IFieldValues
    {
        public ReadOnlySpan<byte> this[int index] => items[start + index];
    }

    private static bool TryInteger(byte[] text, out long value) => RespInteger.TryParse(text, out value);

    /// <summary>
    /// <c>RDB_TYPE_STREAM_LISTPACKS[_2]</c>. Each node's listpack is checked as <c>streamValidateListpackIntegrity</c> (master
    /// entry, every entry's flags, deltas, fields and lp-count, the live and deleted counts); its live entries are appended in
    /// ID order (a node per listpack; tombstones are not kept), then the counters, groups, PELs and consumers are read.
    /// </summary>
    private static StreamValue? ReadStream(ref RdbReader r, bool v2, ServerOptions options, long nowMs)
    {
        if (!r.TryReadLength(out ulong nodes)) return null;
        var stream = new StreamValue();
        var items = new List<byte[]>();
        StreamId previous = default;
        bool any = false;
        long live = 0;
        var tombstones = new List<StreamId>();
        for (ulong n = 0; n < nodes; n++)
        {
            if (r.ReadString() is not { Length: 16 } key) return null;
            var master = new StreamId(BinaryPrimitives.ReadUInt64BigEndian(key), BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(8)));
            if (r.ReadString() is not { } lp) return null;
            items.Clear();
            if (!Listpack.TryRead(lp, items) || items.Count == 0) return null;
            // Master entry: live count, deleted count, field count, fields, 0.
            if (items.Count < 4 || !TryInteger(items[0], out long liveCount) || !TryInteger(items[1], out long deletedCount)
                || !TryInteger(items[2], out long masterFields) || masterFields < 0 || masterFields > items.Count || 3 + masterFields + 1 > items.Count) return null;
            int p = 3 + (int)masterFields;
            if (!TryInteger(items[p], out long terminator) || terminator != 0) return null;
            p++;
            long seenLive = 0, seenDeleted = 0;
            bool firstOfNode = true;
            while (p < items.Count)
            {
                if (p + 3 > items.Count || !TryInteger(items[p], out long flags) || !TryInteger(items[p + 1], out long msDelta)
                    || !TryInteger(items[p + 2], out long seqDelta) || flags is < 0 or > 3) return null;
                p += 3;
                bool same = (flags & StreamValue.SameFields) != 0;
                long fields = masterFields;
                if (!same && (p >= items.Count || !TryInteger(items[p++], out fields) || fields < 0 || fields > items.Count)) return null;
                long strings = same ? fields : 2 * fields;
                if (p + strings + 1 > items.Count) return null;
                int pairsStart = p;
                p += (int)strings;
                if (!TryInteger(items[p++], out long lpCount) || lpCount != 3 + fields + (same ? 0 : fields + 1)) return null;
                var id = new StreamId(unchecked(master.Ms + (ulong)msDelta), unchecked(master.Seq + (ulong)seqDelta));
                if (any && id <= previous) return null;
                any = true;
                previous = id;
                // Tombstones are appended too (then deleted below, once every node is whole): the nodes keep Redis's layout
                // (master entry, flags), so the value dumps to the bytes it came from.
                if ((flags & StreamValue.DeletedFlag) != 0)
                {
                    seenDeleted++;
                    tombstones.Add(id);
                }
                else seenLive++;
                if (same)
                {
                    // Interleave the master fields with this entry's values.
                    var pairs = new List<byte[]>((int)(2 * fields));
                    for (int i = 0; i < fields; i++)
                    {
                        pairs.Add(items[3 + i]);
                        pairs.Add(items[pairsStart + i]);
                    }
                    stream.Append(id, new Strings(pairs, 0), (int)fields, firstOfNode ? 1 : 0, 0);
                }
                else stream.Append(id, new Strings(items, pairsStart), (int)fields, firstOfNode ? 1 : 0, 0);
                firstOfNode = false;
            }
            if (seenLive != liveCount || seenDeleted != deletedCount || seenLive + seenDeleted == 0) return null;
            live += seenLive;
        }
        foreach (StreamId id in tombstones) stream.Delete(id);
        if (tombstones.Count > 0) stream.UpdateFirstId(firstMayHaveGone: true);
        if (!r.TryReadLength(out ulong length) || (long)length != live || stream.Length != live) return null;
        if (!TryReadId(ref r, out StreamId lastId)) return null;
        if (any && lastId < previous) return null;
        StreamId maxDeleted = default;
        ulong entriesAdded = length;
        if (v2 && (!TryReadId(ref r, out _) || !TryReadId(ref r, out maxDeleted) || !r.TryReadLength(out entriesAdded))) return null;
        stream.LastId = lastId;
        stream.MaxDeletedId = maxDeleted;
        stream.EntriesAdded = (long)entriesAdded;
        if (!r.TryReadLength(out ulong groups)) return null;
        for (ulong g = 0; g < groups; g++)
        {
            if (r.ReadString() is not { } name || !TryReadId(ref r, out StreamId groupLast)) return null;
            long entriesRead;
            if (v2)
            {
                if (!r.TryReadLength(out ulong read)) return null;
                entriesRead = unchecked((long)read);
            }
            else entriesRead = stream.EstimateDistanceFromFirstEver(groupLast);
            if (stream.CreateGroup(name, groupLast, entriesRead) is not { } group) return null;
            if (!r.TryReadLength(out ulong pel)) return null;
            for (ulong i = 0; i < pel; i++)
            {
                if (!TryReadRawId(ref r, out StreamId id) || !r.TryReadMillisecondTime(out long deliveryTime) || !r.TryReadLength(out ulong deliveries)) return null;
                if (group.FindPending(id) != null) return null;
                group.AddPending(id, null, deliveryTime).DeliveryCount = (long)deliveries;
            }
            if (!r.TryReadLength(out ulong consumers)) return null;
            for (ulong c = 0; c < consumers; c++)
            {
                if (r.ReadString() is not { } consumerName || !r.TryReadMillisecondTime(out long seen)) return null;
                if (group.CreateConsumer(consumerName, seen) is not { } consumer) return null;
                if (!r.TryReadLength(out ulong owned)) return null;
                for (ulong i = 0; i < owned; i++)
                {
                    if (!TryReadRawId(ref r, out StreamId id)) return null;
                    if (group.FindPending(id) is not { Consumer: null } entry) return null;
                    StreamGroup.Assign(entry, consumer);
                }
            }
            foreach (PendingEntry entry in group.Pending)
                if (entry.Consumer == null) return null;
        }
        return stream;
    }

    private static bool TryReadId(ref RdbReader r, out StreamId id)
    {
        id = default;
        if (!r.TryReadLength(out ulong ms) || !r.TryReadLength(out ulong seq)) return false;
        id = new StreamId(ms, seq);
        return true;
    }

    private static bool TryReadRawId(ref RdbReader r, out StreamId id)
    {
        id = default;
        if (!r.TryRead(16, out ReadOnlySpan<byte> raw)) return false;
        id = new StreamId(BinaryPrimitives.ReadUInt64BigEndian(raw), BinaryPrimitives.ReadUInt64BigEndian(raw[8..]));
        return true;
    }
}
