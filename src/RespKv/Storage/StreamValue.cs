using System.Buffers;

namespace RespKv.Storage;

/// <summary>
/// A stream (Redis's <c>stream</c>, t_stream.c): entries of field/value pairs ordered by <see cref="StreamId"/>, its
/// counters (<see cref="LastId"/>, <see cref="EntriesAdded"/>, <see cref="MaxDeletedId"/>, <see cref="FirstId"/>) and its
/// consumer groups. Changed in place under its key's shard lock.
/// <para>
/// Layout, after Redis's listpack macro-nodes: entries are packed in runs (<see cref="Node"/>), each one <c>byte[]</c> that
/// starts with its master entry's field names — the fields of the node's first entry — followed by the entries, each
/// <c>[flags][varint ms − master ms][zig-zag varint seq − master seq]</c> then either the values alone (flag
/// <see cref="SameFields"/>: the fields are the master's) or <c>[varint field count]</c> and every field, each string as
/// <c>[varint length][bytes]</c>. XDEL and a partial trim set flag <see cref="DeletedFlag"/> in place (a tombstone); a node
/// whose entries are all deleted goes. The nodes sit in an array ordered by their first ID (with a moving head, so trimming
/// from the front is O(1)): a seek by ID is a binary search over nodes and a scan of one node, a range read
/// O(log n + returned). XADD starts a new node as Redis does — when the tail node, measured as Redis's listpack
/// (<see cref="Node.ListpackBytes"/>), plus the entry's bytes reaches <c>stream-node-max-bytes</c>, or it holds
/// <c>stream-node-max-entries</c> entries — so approximate (<c>~</c>) trims remove the same entries as Redis.
/// </para>
/// </summary>
public sealed class StreamValue
{
    /// <summary>Entry flag: deleted (a tombstone), Redis's <c>STREAM_ITEM_FLAG_DELETED</c>.</summary>
    public const byte DeletedFlag = 1;

    /// <summary>Entry flag: the entry's fields are the node's master fields, Redis's <c>STREAM_ITEM_FLAG_SAMEFIELDS</c>.</summary>
    public const byte SameFields = 2;

    /// <summary>Redis's <c>STREAM_LISTPACK_MAX_SIZE</c> (1 GB): the bound on a node's bytes and on an entry's.</summary>
    public const long ListpackMaxSize = 1 << 30;

    /// <summary>Managed bytes of a node object (header, fields).</summary>
    private const long NodeObjectBytes = 72;

    /// <summary>Managed bytes of the stream object itself.</summary>
    public const long ObjectBytes = 112;

    /// <summary>One packed run of entries (a Redis macro-node).</summary>
    internal sealed class Node
    {
        /// <summary>The ID of the node's first entry, against which the others' IDs are stored.</summary>
        public StreamId Master;

        /// <summary>The ID of the node's last entry (live or deleted).</summary>
        public StreamId Last;

        /// <summary>Master fields then entries.</summary>
        public byte[] Data = [];

        /// <summary>Bytes of <see cref="Data"/> in use.</summary>
        public int Used;

        /// <summary>Live entries.</summary>
        public int Live;

        /// <summary>Entries flagged deleted.</summary>
        public int Deleted;

        /// <summary>Master fields.</summary>
        public int MasterFields;

        /// <summary>Offset of the first entry (after the master fields).</summary>
        public int EntriesStart;

        /// <summary>Bytes Redis's listpack for this node takes, less its two counters (live, deleted).</summary>
        public long ListpackBody;

        /// <summary>Bytes Redis's listpack for this node would take (header, counters, master entry, entries, end byte).</summary>
        public long ListpackBytes => ListpackBody + ListpackInt(Live) + ListpackInt(Deleted);
    }

    private Node[] _nodes = [];
    private int _head;

    // The seek hint (StreamSeek.Hinted): the node of the last entry a hinted forward read returned, the offset just past
    // that entry and its ID. Nodes only grow at their end (XDEL and trims flag entries in place), so while the node is
    // still in the array every entry from that offset on has a greater ID: a forward read from any ID above it may start
    // there instead of decoding the node from its first entry (XREADGROUP >, XREAD and XRANGE paging).
    private Node? _hintNode;
    private int _hintNext;
    private StreamId _hintAfter;
    private int _nodeCount;
    private long _allocated;

    /// <summary>Live entries (XLEN).</summary>
    public long Length { get; private set; }

    /// <summary>The greatest ID the stream has held or was set to (XADD's floor; <c>last-generated-id</c>).</summary>
    public StreamId LastId { get; set; }

    /// <summary>The first live entry's ID, 0-0 when empty (<c>recorded-first-entry-id</c>).</summary>
    public StreamId FirstId { get; private set; }

    /// <summary>The greatest ID deleted by XDEL (<c>max-deleted-entry-id</c>), or set by XSETID.</summary>
    public StreamId MaxDeletedId { get; set; }

    /// <summary>Entries ever added (<c>entries-added</c>), or set by XSETID.</summary>
    public long EntriesAdded { get; set; }

    /// <summary>Consumer groups by name in byte order (Redis's rax order), null until the first.</summary>
    public SortedDictionary<byte[], StreamGroup>? Groups { get; private set; }

    /// <summary>Nodes (XINFO <c>radix-tree-keys</c>).</summary>
    public int NodeCount => _nodeCount;

    /// <summary>The nodes in ID order (the RDB writer walks them as Redis walks its radix tree).</summary>
    internal ReadOnlySpan<Node> Nodes => _nodes.AsSpan(_head, _nodeCount);

    /// <summary>Bytes of field and value data held by live entries' nodes (INFO's value bytes; node arrays in use).</summary>
    public long DataBytes { get; private set; }

    /// <summary>Estimated managed bytes: the object, node objects and arrays, groups, consumers and pending entries.</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = ObjectBytes + _allocated + _nodeCount * (NodeObjectBytes + 8);
            if (Groups != null)
                foreach (StreamGroup g in Groups.Values) bytes += g.MemoryBytes;
            return bytes;
        }
    }

    // ------------------------------------------------------------------------------------------------ append

    /// <summary>
    /// Appends an entry with <paramref name="id"/> (greater than <see cref="LastId"/>: the caller checked) and the
    /// <paramref name="pairs"/> field/value pairs <paramref name="fieldsAndValues"/> gives by index (field of pair i at 2i, value
    /// at 2i+1), starting a new node as Redis's <c>streamAppendItem</c> does under <paramref name="nodeMaxEntries"/> and
    /// <paramref name="nodeMaxBytes"/> (the two <c>stream-node-max-*</c> settings).
    /// </summary>
    public void Append<TPairs>(StreamId id, in TPairs fieldsAndValues, int pairs, long nodeMaxEntries, long nodeMaxBytes) where TPairs : IFieldValues, allows ref struct
    {
        long elementBytes = 0;
        for (int i = 0; i < 2 * pairs; i++) elementBytes += fieldsAndValues[i].Length;
        Node? tail = _nodeCount == 0 ? null : _nodes[_head + _nodeCount - 1];
        if (tail != null)
        {
            long maxBytes = nodeMaxBytes == 0 || nodeMaxBytes > ListpackMaxSize ? ListpackMaxSize : nodeMaxBytes;
            if (tail.ListpackBytes + elementBytes >= maxBytes || (nodeMaxEntries != 0 && tail.Live + tail.Deleted >= nodeMaxEntries))
            {
                ShrinkToFit(tail);
                tail = null;
            }
        }
        bool same;
        if (tail == null)
        {
            tail = NewNode(id, fieldsAndValues, pairs);
            same = true;
        }
        else same = SameAsMaster(tail, fieldsAndValues, pairs);
        // The entry: flags, ID deltas, [field count], strings.
        ulong msDelta = id.Ms - tail.Master.Ms;
        long seqDelta = unchecked((long)(id.Seq - tail.Master.Seq));
        int size = 1 + Varint.Size(msDelta) + Varint.Size(ZigZag(seqDelta)) + (same ? 0 : Varint.Size((ulong)pairs));
        for (int i = 0; i < 2 * pairs; i++)
            if (!same || (i & 1) == 1) size += Varint.Size((ulong)fieldsAndValues[i].Length) + fieldsAndValues[i].Length;
        Reserve(tail, size, nodeMaxEntries, nodeMaxBytes);
        byte[] d = tail.Data;
        int p = tail.Used;
        d[p++] = same ? SameFields : (byte)0;
        Varint.Write(d, ref p, msDelta);
        Varint.Write(d, ref p, ZigZag(seqDelta));
        long lp = ListpackInt(same ? SameFields : 0) + ListpackInt(unchecked((long)msDelta)) + ListpackInt(seqDelta);
        if (!same)
        {
            Varint.Write(d, ref p, (ulong)pairs);
            lp += ListpackInt(pairs);
        }
        for (int i = 0; i < 2 * pairs; i++)
        {
            if (same && (i & 1) == 0) continue;
            ReadOnlySpan<byte> s = fieldsAndValues[i];
            Varint.Write(d, ref p, (ulong)s.Length);
            s.CopyTo(d.AsSpan(p));
            p += s.Length;
            lp += Kinds.HashKind.ListpackBytes(s);
        }
        lp += ListpackInt(3 + pairs + (same ? 0 : pairs + 1));
        tail.ListpackBody += lp;
        DataBytes += p - tail.Used;
        tail.Used = p;
        tail.Live++;
        tail.Last = id;
        Length++;
        EntriesAdded++;
        LastId = id;
        if (Length == 1) FirstId = id;
    }

    private Node NewNode<TPairs>(StreamId id, in TPairs fieldsAndValues, int pairs) where TPairs : IFieldValues, allows ref struct
    {
        var node = new Node { Master = id, Last = id, MasterFields = pairs };
        int size = 0;
        long lp = 6 + 1 + ListpackInt(pairs) + ListpackInt(0);
        for (int i = 0; i < pairs; i++)
        {
            ReadOnlySpan<byte> f = fieldsAndValues[2 * i];
            size += Varint.Size((ulong)f.Length) + f.Length;
            lp += Kinds.HashKind.ListpackBytes(f);
        }
        node.ListpackBody = lp;
        node.Data = new byte[size];
        _allocated += node.Data.Length;
        int p = 0;
        for (int i = 0; i < pairs; i++)
        {
            ReadOnlySpan<byte> f = fieldsAndValues[2 * i];
            Varint.Write(node.Data, ref p, (ulong)f.Length);
            f.CopyTo(node.Data.AsSpan(p));
            p += f.Length;
        }
        node.Used = node.EntriesStart = p;
        DataBytes += p;
        if (_head + _nodeCount == _nodes.Length)
        {
            if (_head > _nodes.Length / 2)
            {
                Array.Copy(_nodes, _head, _nodes, 0, _nodeCount);
                Array.Clear(_nodes, _nodeCount, _head);
                _head = 0;
            }
            else Array.Resize(ref _nodes, Math.Max(4, _nodes.Length * 2));
        }
        _nodes[_head + _nodeCount++] = node;
        return node;
    }

    private static bool SameAsMaster<TPairs>(Node node, in TPairs fieldsAndValues, int pairs) where TPairs : IFieldValues, allows ref struct
    {
        if (pairs != node.MasterFields) return false;
        int p = 0;
        for (int i = 0; i < pairs; i++)
            if (!ReadString(node.Data, ref p).SequenceEqual(fieldsAndValues[2 * i])) return false;
        return true;
    }

    /// <summary>
    /// Room for <paramref name="bytes"/> more in <paramref name="node"/>. A node's first entry sizes the array for a whole
    /// node of such entries (<paramref name="nodeMaxEntries"/> of them, one byte more each for ID deltas that grow, within
    /// <paramref name="nodeMaxBytes"/>), so a node is usually allocated once rather than grown by doubling (garbage).
    /// </summary>
    private void Reserve(Node node, int bytes, long nodeMaxEntries, long nodeMaxBytes)
    {
        if (node.Used + bytes <= node.Data.Length) return;
        long estimate = node.Live + node.Deleted == 0
            ? node.Used + (bytes + 1L) * (nodeMaxEntries > 0 ? nodeMaxEntries : 100)
            : 2L * node.Data.Length;
        long cap = nodeMaxBytes > 0 ? Math.Max(nodeMaxBytes, 256) : 1 << 16;
        int capacity = (int)Math.Max(node.Used + bytes, Math.Min(estimate, Math.Max(cap, 2L * node.Data.Length)));
        _allocated += capacity - node.Data.Length;
        Array.Resize(ref node.Data, capacity);
    }

    /// <summary>A full node gives back its spare room (Redis's <c>lpShrinkToFit</c>) when it is more than an eighth of what it uses.</summary>
    private void ShrinkToFit(Node node)
    {
        if (node.Data.Length - node.Used <= node.Used / 8) return;
        _allocated -= node.Data.Length - node.Used;
        Array.Resize(ref node.Data, node.Used);
    }

    // ------------------------------------------------------------------------------------------------ reading

    /// <summary>One entry as stored: where it is and what it holds. Valid until the stream changes.</summary>
    public readonly struct Entry
    {
        internal readonly Node Node;
        internal readonly int Offset;
        private readonly int _pairs;

        internal Entry(Node node, int offset, StreamId id, int fieldCount, bool same, int pairs, int next)
        {
            Node = node;
            Offset = offset;
            Id = id;
            FieldCount = fieldCount;
            Same = same;
            _pairs = pairs;
            Next = next;
        }

        /// <summary>The entry's ID.</summary>
        public StreamId Id { get; }

        /// <summary>Its number of field/value pairs.</summary>
        public int FieldCount { get; }

        internal bool Same { get; }

        internal int Next { get; }

        /// <summary>True when XDEL or a trim deleted it.</summary>
        internal bool IsDeleted => (Node.Data[Offset] & DeletedFlag) != 0;

        /// <summary>Its field/value pairs in order.</summary>
        public PairReader Pairs => new(Node, _pairs, Same, FieldCount);
    }

    /// <summary>Reads an entry's field/value pairs in order (<see cref="MoveNext"/>, then <see cref="Field"/> and <see cref="Value"/>).</summary>
    public ref struct PairReader
    {
        private readonly byte[] _data;
        private readonly bool _same;
        private int _p;
        private int _masterP;
        private int _left;

        internal PairReader(Node node, int p, bool same, int count)
        {
            _data = node.Data;
            _p = p;
            _same = same;
            _left = count;
            _masterP = 0;
            Field = default;
            Value = default;
        }

        /// <summary>The current pair's field.</summary>
        public ReadOnlySpan<byte> Field { get; private set; }

        /// <summary>The current pair's value.</summary>
        public ReadOnlySpan<byte> Value { get; private set; }

        /// <summary>Advances to the next pair; false after the last.</summary>
        public bool MoveNext()
        {
            if (_left == 0) return false;
            _left--;
            Field = _same ? ReadString(_data, ref _masterP) : ReadString(_data, ref _p);
            Value = ReadString(_data, ref _p);
            return true;
        }
    }

    private static Entry Decode(Node node, int offset)
    {
        byte[] d = node.Data;
        int p = offset;
        byte flags = d[p++];
        ulong msDelta = Varint.Read64(d, ref p);
        long seqDelta = UnZigZag(Varint.Read64(d, ref p));
        var id = new StreamId(node.Master.Ms + msDelta, unchecked(node.Master.Seq + (ulong)seqDelta));
        bool same = (flags & SameFields) != 0;
        int fields = same ? node.MasterFields : (int)Varint.Read64(d, ref p);
        int pairs = p;
        int strings = same ? fields : 2 * fields;
        for (int i = 0; i < strings; i++)
        {
            int len = (int)Varint.Read64(d, ref p);
            p += len;
        }
        return new Entry(node, offset, id, fields, same, pairs, p);
    }

    /// <summary>Index (absolute, into the node array) of the last node whose first ID is at most <paramref name="id"/>, or the first node's.</summary>
    private int NodeFor(StreamId id)
    {
        int lo = _head, hi = _head + _nodeCount - 1, found = _head;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_nodes[mid].Master <= id)
            {
                found = mid;
                lo = mid + 1;
            }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>
    /// The live entries with IDs in [<paramref name="start"/>, <paramref name="end"/>], ascending or (<paramref name="reverse"/>)
    /// descending. <paramref name="seek"/> other than <see cref="StreamSeek.None"/> lets a forward read start from the seek hint
    /// and (<see cref="StreamSeek.HintedAndRemembered"/>) move it: only for a caller holding the stream's shard lock.
    /// </summary>
    public RangeEnumerator Range(StreamId start, StreamId end, bool reverse = false, StreamSeek seek = StreamSeek.None) =>
        new(this, start, end, reverse, reverse ? StreamSeek.None : seek);

    /// <summary>The live entry with <paramref name="id"/>, if any.</summary>
    public bool TryGet(StreamId id, out Entry entry)
    {
        RangeEnumerator e = Range(id, id);
        bool found = e.MoveNext();
        entry = found ? e.Current : default;
        e.Dispose();
        return found;
    }

    /// <summary>True when a live entry has <paramref name="id"/> (Redis's <c>streamEntryExists</c>).</summary>
    public bool Contains(StreamId id) => TryGet(id, out _);

    /// <summary>The first (or last) live entry's ID; 0-0 when the stream has none (Redis's <c>streamGetEdgeID</c> skipping tombstones).</summary>
    public StreamId EdgeId(bool first)
    {
        RangeEnumerator e = Range(StreamId.Zero, StreamId.Max, reverse: !first);
        StreamId id = e.MoveNext() ? e.Current.Id : StreamId.Zero;
        e.Dispose();
        return id;
    }

    /// <summary>
    /// Enumerates live entries of a range (struct enumerator, no allocation going forward; going backward it rents one
    /// offset array per node from the shared pool). Call <see cref="Dispose"/> when done.
    /// </summary>
    public struct RangeEnumerator : IDisposable
    {
        private readonly StreamValue _stream;
        private readonly StreamId _start;
        private readonly StreamId _end;
        private readonly bool _reverse;
        private int _node;
        private int _offset;
        private int[]? _offsets;
        private int _index;
        private bool _done;
        private readonly bool _remember;

        internal RangeEnumerator(StreamValue stream, StreamId start, StreamId end, bool reverse, StreamSeek seek)
        {
            _stream = stream;
            _start = start;
            _end = end;
            _reverse = reverse;
            _done = stream._nodeCount == 0 || start > end;
            _node = _done ? 0 : stream.NodeFor(reverse ? end : start);
            _offset = -1;
            _offsets = null;
            _index = -1;
            _remember = seek == StreamSeek.HintedAndRemembered;
            Current = default;
            if (seek != StreamSeek.None && !_done && stream._hintNode is { } hinted && ReferenceEquals(hinted, stream._nodes[_node])
                && start > stream._hintAfter)
                _offset = stream._hintNext;
        }

        /// <summary>The current entry.</summary>
        public Entry Current { get; private set; }

        /// <summary>Advances to the next live entry of the range; false when there is none.</summary>
        public bool MoveNext()
        {
            if (_done) return false;
            return _reverse ? MoveBack() : MoveForward();
        }

        private bool MoveForward()
        {
            StreamValue s = _stream;
            while (_node < s._head + s._nodeCount)
            {
                Node node = s._nodes[_node];
                if (_offset < 0) _offset = node.EntriesStart;
                while (_offset < node.Used)
                {
                    Entry e = Decode(node, _offset);
                    _offset = e.Next;
                    if (e.Id > _end)
                    {
                        _done = true;
                        return false;
                    }
                    if (e.IsDeleted || e.Id < _start) continue;
                    Current = e;
                    if (_remember)
                    {
                        s._hintNode = node;
                        s._hintNext = e.Next;
                        s._hintAfter = e.Id;
                    }
                    return true;
                }
                _node++;
                _offset = -1;
            }
            _done = true;
            return false;
        }

        private bool MoveBack()
        {
            StreamValue s = _stream;
            while (_node >= s._head)
            {
                Node node = s._nodes[_node];
                if (_offsets == null || _index < 0 && _offset < 0)
                {
                    int total = node.Live + node.Deleted;
                    if (_offsets == null || _offsets.Length < total)
                    {
                        if (_offsets != null) ArrayPool<int>.Shared.Return(_offsets);
                        _offsets = ArrayPool<int>.Shared.Rent(Math.Max(total, 16));
                    }
                    int n = 0;
                    for (int p = node.EntriesStart; p < node.Used; p = Decode(node, p).Next) _offsets[n++] = p;
                    _index = n;
                    _offset = 0;
                }
                while (--_index >= 0)
                {
                    Entry e = Decode(node, _offsets[_index]);
                    if (e.Id < _start)
                    {
                        _done = true;
                        return false;
                    }
                    if (e.IsDeleted || e.Id > _end) continue;
                    Current = e;
                    return true;
                }
                _node--;
                _offset = -1;
                _index = -1;
            }
            _done = true;
            return false;
        }

        /// <summary>Returns a rented offset array.</summary>
        public void Dispose()
        {
            if (_offsets != null) ArrayPool<int>.Shared.Return(_offsets);
            _offsets = null;
        }
    }

    // ------------------------------------------------------------------------------------------------ deleting

    /// <summary>Flags the live entry <paramref name="id"/> deleted (dropping its node when it was the node's last); false when there is none.</summary>
    public bool Delete(StreamId id)
    {
        if (_nodeCount == 0) return false;
        int index = NodeFor(id);
        Node node = _nodes[index];
        for (int p = node.EntriesStart; p < node.Used;)
        {
            Entry e = Decode(node, p);
            if (e.Id == id)
            {
                if (e.IsDeleted) return false;
                MarkDeleted(index, node, p);
                return true;
            }
            if (e.Id > id) return false;
            p = e.Next;
        }
        return false;
    }

    /// <summary>Flags the entry at <paramref name="offset"/> deleted; drops the node when none is left live. Returns true when the node went.</summary>
    private bool MarkDeleted(int index, Node node, int offset)
    {
        node.Data[offset] |= DeletedFlag;
        node.Live--;
        node.Deleted++;
        Length--;
        if (node.Live > 0) return false;
        RemoveNode(index);
        return true;
    }

    private void RemoveNode(int index)
    {
        Node node = _nodes[index];
        _allocated -= node.Data.Length;
        DataBytes -= node.Used;
        Length -= node.Live;
        if (index == _head)
        {
            _nodes[_head++] = null!;
            _nodeCount--;
            if (_nodeCount == 0) _head = 0;
            return;
        }
        int end = _head + _nodeCount;
        Array.Copy(_nodes, index + 1, _nodes, index, end - index - 1);
        _nodes[end - 1] = null!;
        _nodeCount--;
    }

    /// <summary>
    /// After deletions: <see cref="FirstId"/> as Redis keeps it (0-0 when empty, else the first live entry's when
    /// <paramref name="firstMayHaveGone"/>).
    /// </summary>
    public void UpdateFirstId(bool firstMayHaveGone)
    {
        if (Length == 0) FirstId = StreamId.Zero;
        else if (firstMayHaveGone) FirstId = EdgeId(first: true);
    }

    /// <summary>
    /// Trims from the oldest entries as Redis 7.0's <c>streamTrim</c>: by length (<paramref name="maxLength"/> ≥ 0) or, when
    /// it is −1, every entry below <paramref name="minId"/>. <paramref name="approximate"/> removes whole nodes only;
    /// <paramref name="limit"/> (0 = none) caps the entries removed, counted per whole node. Returns the entries removed.
    /// </summary>
    public long Trim(long maxLength, StreamId minId, bool approximate, long limit)
    {
        long deleted = 0;
        bool byLength = maxLength >= 0;
        while (_nodeCount > 0)
        {
            if (byLength && Length <= maxLength) break;
            Node node = _nodes[_head];
            long entries = node.Live;
            if (limit != 0 && deleted + entries > limit) break;
            bool removeNode = byLength ? Length - entries >= maxLength : node.Last < minId;
            if (removeNode)
            {
                RemoveNode(_head);
                deleted += entries;
                continue;
            }
            if (approximate) break;
            for (int p = node.EntriesStart; p < node.Used;)
            {
                Entry e = Decode(node, p);
                if (byLength ? Length <= maxLength : e.Id >= minId) break;
                p = e.Next;
                if (e.IsDeleted) continue;
                deleted++;
                if (MarkDeleted(_head, node, e.Offset)) break;
            }
            break;
        }
        UpdateFirstId(deleted > 0);
        return deleted;
    }

    // ------------------------------------------------------------------------------------------------ groups

    /// <summary>The group named <paramref name="name"/>, or null.</summary>
    public StreamGroup? Group(ReadOnlySpan<byte> name) =>
        Groups != null && Groups.TryGetValue(Probe(name), out StreamGroup? group) ? group : null;

    [ThreadStatic] private static byte[][]? t_probes;

    /// <summary>
    /// A byte[] holding <paramref name="name"/> to look a name up with in a dictionary keyed by byte[] (a per-thread array
    /// reused for names up to 64 bytes, so a lookup does not allocate; valid until the next call on the thread).
    /// </summary>
    internal static byte[] Probe(ReadOnlySpan<byte> name)
    {
        if (name.Length > 64) return name.ToArray();
        byte[][] probes = t_probes ??= new byte[65][];
        byte[] probe = probes[name.Length] ??= new byte[name.Length];
        name.CopyTo(probe);
        return probe;
    }

    /// <summary>Creates a group (Redis's <c>streamCreateCG</c>); null when the name is taken.</summary>
    public StreamGroup? CreateGroup(ReadOnlySpan<byte> name, StreamId lastId, long entriesRead)
    {
        Groups ??= new SortedDictionary<byte[], StreamGroup>(ByteOrder.Instance);
        byte[] key = name.ToArray();
        if (Groups.ContainsKey(key)) return null;
        var group = new StreamGroup(key) { LastId = lastId, EntriesRead = entriesRead };
        Groups.Add(key, group);
        return group;
    }

    /// <summary>Removes a group; false when there is none of that name.</summary>
    public bool DestroyGroup(ReadOnlySpan<byte> name)
    {
        StreamGroup? group = Group(name);
        if (group == null) return false;
        Groups!.Remove(group.Name);
        return true;
    }

    /// <summary>Unsigned byte order of names (Redis's rax order).</summary>
    public sealed class ByteOrder : IComparer<byte[]>
    {
        /// <summary>The one instance.</summary>
        public static readonly ByteOrder Instance = new();

        /// <inheritdoc />
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    /// <summary>
    /// Entries read from the first ever entry up to <paramref name="id"/>, as Redis 7.0's
    /// <c>streamEstimateDistanceFromFirstEverEntry</c> computes it; -1 when it cannot tell.
    /// </summary>
    public long EstimateDistanceFromFirstEver(StreamId id)
    {
        if (EntriesAdded == 0) return 0;
        if (Length == 0 && id <= LastId) return EntriesAdded;
        int cmpLast = id.CompareTo(LastId);
        if (cmpLast == 0) return EntriesAdded;
        if (cmpLast > 0) return -1;
        int cmpFirst = id.CompareTo(FirstId);
        if (MaxDeletedId.IsZero || MaxDeletedId < FirstId)
        {
            if (cmpFirst < 0) return EntriesAdded - Length;
            if (cmpFirst == 0) return EntriesAdded - Length + 1;
        }
        return -1;
    }

    /// <summary>True when a deleted entry may lie in [<paramref name="start"/>, max] (Redis's <c>streamRangeHasTombstones</c> with no end).</summary>
    public bool RangeHasTombstones(StreamId start)
    {
        if (Length == 0 || MaxDeletedId.IsZero) return false;
        if (FirstId > MaxDeletedId) return false;
        return start <= MaxDeletedId;
    }

    /// <summary>A group's lag (XINFO's <c>lag</c>, Redis's <c>streamReplyWithCGLag</c>); null when it cannot be computed.</summary>
    public long? Lag(StreamGroup group)
    {
        if (EntriesAdded == 0) return 0;
        if (group.EntriesRead != -1 && !RangeHasTombstones(group.LastId)) return EntriesAdded - group.EntriesRead;
        long read = EstimateDistanceFromFirstEver(group.LastId);
        return read == -1 ? null : EntriesAdded - read;
    }

    // ------------------------------------------------------------------------------------------------ copy

    /// <summary>A deep copy (COPY, the AOF rewrite's snapshot): entries, counters, groups, consumers and pending entries.</summary>
    public StreamValue Clone()
    {
        var copy = new StreamValue
        {
            _nodes = new Node[Math.Max(4, _nodeCount)],
            _nodeCount = _nodeCount,
            _allocated = _allocated,
            Length = Length,
            LastId = LastId,
            FirstId = FirstId,
            MaxDeletedId = MaxDeletedId,
            EntriesAdded = EntriesAdded,
            DataBytes = DataBytes,
        };
        for (int i = 0; i < _nodeCount; i++)
        {
            Node n = _nodes[_head + i];
            copy._nodes[i] = new Node
            {
                Master = n.Master, Last = n.Last, Data = (byte[])n.Data.Clone(), Used = n.Used, Live = n.Live, Deleted = n.Deleted,
                MasterFields = n.MasterFields, EntriesStart = n.EntriesStart, ListpackBody = n.ListpackBody,
            };
        }
        if (Groups != null)
            foreach (StreamGroup g in Groups.Values) g.CopyInto(copy);
        return copy;
    }

    // ------------------------------------------------------------------------------------------------ encoding helpers

    /// <summary>Bytes a listpack element holding the integer <paramref name="n"/> takes (encoding and back-length).</summary>
    public static long ListpackInt(long n) =>
        n is >= 0 and <= 127 ? 2
        : n is >= -4096 and <= 4095 ? 3
        : n is >= short.MinValue and <= short.MaxValue ? 4
        : n is >= -(1 << 23) and < 1 << 23 ? 5
        : n is >= int.MinValue and <= int.MaxValue ? 6 : 10;

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    internal static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    internal static ReadOnlySpan<byte> ReadString(byte[] d, scoped ref int p)
    {
        int len = (int)Varint.Read64(d, ref p);
        var s = new ReadOnlySpan<byte>(d, p, len);
        p += len;
        return s;
    }
}

/// <summary>Field/value strings of an entry to add, by index: field of pair i at 2i, its value at 2i+1.</summary>
public interface IFieldValues
{
    /// <summary>The string at <paramref name="index"/>.</summary>
    ReadOnlySpan<byte> this[int index] { get; }
}

/// <summary>
/// A consumer group (Redis's <c>streamCG</c>): its last delivered ID, entries read (−1 = unknown, Redis's
/// <c>SCG_INVALID_ENTRIES_READ</c>), its pending entries list (PEL: ID → consumer, delivery time, delivery count, ordered by ID)
/// and its consumers by name in byte order, each with its own PEL sharing the same <see cref="PendingEntry"/> objects.
/// </summary>
public sealed class StreamGroup
{
    internal const long ObjectBytes = 96;

    internal StreamGroup(byte[] name)
    {
        Name = name;
    }

    /// <summary>The group's name.</summary>
    public byte[] Name { get; }

    /// <summary>The last ID delivered to the group (<c>last-delivered-id</c>).</summary>
    public StreamId LastId { get; set; }

    /// <summary>Entries read (<c>entries-read</c>); −1 when unknown.</summary>
    public long EntriesRead { get; set; }

    /// <summary>Pending entries by ID.</summary>
    public SortedSet<PendingEntry> Pending { get; } = new(PendingEntry.ById.Instance);

    /// <summary>Consumers by name in byte order.</summary>
    public SortedDictionary<byte[], StreamConsumer> Consumers { get; } = new(StreamValue.ByteOrder.Instance);

    internal long MemoryBytes => ObjectBytes + Name.Length + Consumers.Count * StreamConsumer.ObjectBytes + Pending.Count * PendingEntry.ObjectBytes;

    [ThreadStatic] private static PendingEntry? t_probe;

    /// <summary>The pending entry of <paramref name="id"/>, or null.</summary>
    public PendingEntry? FindPending(StreamId id)
    {
        PendingEntry probe = t_probe ??= new PendingEntry(default, null);
        probe.Id = id;
        return Pending.TryGetValue(probe, out PendingEntry? found) ? found : null;
    }

    /// <summary>The consumer named <paramref name="name"/>, or null.</summary>
    public StreamConsumer? Consumer(ReadOnlySpan<byte> name) =>
        Consumers.TryGetValue(StreamValue.Probe(name), out StreamConsumer? consumer) ? consumer : null;

    /// <summary>Creates a consumer seen now (Redis's <c>streamCreateConsumer</c>); null when it exists.</summary>
    public StreamConsumer? CreateConsumer(ReadOnlySpan<byte> name, long nowMs)
    {
        if (Consumer(name) != null) return null;
        var consumer = new StreamConsumer(name.ToArray()) { SeenTime = nowMs };
        Consumers.Add(consumer.Name, consumer);
        return consumer;
    }

    /// <summary>Deletes a consumer and its pending entries (Redis's <c>streamDelConsumer</c>); returns how many it had pending.</summary>
    public long DeleteConsumer(StreamConsumer consumer)
    {
        long pending = consumer.Pending.Count;
        foreach (PendingEntry entry in consumer.Pending) Pending.Remove(entry);
        Consumers.Remove(consumer.Name);
        return pending;
    }

    /// <summary>Adds a pending entry owned by <paramref name="consumer"/> (which may be null only until <see cref="Assign"/>).</summary>
    public PendingEntry AddPending(StreamId id, StreamConsumer? consumer, long nowMs)
    {
        var entry = new PendingEntry(id, consumer) { DeliveryTime = nowMs, DeliveryCount = 1 };
        Pending.Add(entry);
        consumer?.Pending.Add(entry);
        return entry;
    }

    /// <summary>Removes a pending entry from the group's PEL and its consumer's (XACK, a claim of a deleted entry).</summary>
    public void RemovePending(PendingEntry entry)
    {
        Pending.Remove(entry);
        entry.Consumer?.Pending.Remove(entry);
    }

    /// <summary>Moves a pending entry to <paramref name="consumer"/>'s PEL.</summary>
    public static void Assign(PendingEntry entry, StreamConsumer consumer)
    {
        if (entry.Consumer == consumer) return;
        entry.Consumer?.Pending.Remove(entry);
        entry.Consumer = consumer;
        consumer.Pending.Add(entry);
    }

    internal void CopyInto(StreamValue target)
    {
        StreamGroup copy = target.CreateGroup(Name, LastId, EntriesRead)!;
        foreach (StreamConsumer c in Consumers.Values) copy.CreateConsumer(c.Name, c.SeenTime);
        foreach (PendingEntry p in Pending)
        {
            PendingEntry e = copy.AddPending(p.Id, copy.Consumer(p.Consumer!.Name), p.DeliveryTime);
            e.DeliveryCount = p.DeliveryCount;
        }
    }
}

/// <summary>A consumer of a group (Redis's <c>streamConsumer</c>): its name, when it was last seen, its pending entries.</summary>
public sealed class StreamConsumer(byte[] name)
{
    internal const long ObjectBytes = 120;

    /// <summary>The consumer's name.</summary>
    public byte[] Name { get; } = name;

    /// <summary>Unix ms of its last XREADGROUP, XCLAIM or XAUTOCLAIM (<c>seen-time</c>; XINFO CONSUMERS' <c>idle</c> is now minus it).</summary>
    public long SeenTime { get; set; }

    /// <summary>Its pending entries by ID.</summary>
    public SortedSet<PendingEntry> Pending { get; } = new(PendingEntry.ById.Instance);
}

/// <summary>An entry of a group's PEL (Redis's <c>streamNACK</c>): delivered to <see cref="Consumer"/> and not yet acknowledged.</summary>
public sealed class PendingEntry(StreamId id, StreamConsumer? consumer)
{
    internal const long ObjectBytes = 120;

    /// <summary>The entry's ID.</summary>
    public StreamId Id { get; internal set; } = id;

    /// <summary>The consumer it was last delivered to.</summary>
    public StreamConsumer? Consumer { get; internal set; } = consumer;

    /// <summary>Unix ms of its last delivery.</summary>
    public long DeliveryTime { get; set; }

    /// <summary>How many times it was delivered.</summary>
    public long DeliveryCount { get; set; }

    /// <summary>Order by <see cref="Id"/>.</summary>
    public sealed class ById : IComparer<PendingEntry>
    {
        /// <summary>The one instance.</summary>
        public static readonly ById Instance = new();

        /// <inheritdoc />
        public int Compare(PendingEntry? x, PendingEntry? y) => x!.Id.CompareTo(y!.Id);
    }
}

/// <summary>Whether a forward <see cref="StreamValue.Range"/> may use the stream's seek hint (callers holding the shard lock only).</summary>
public enum StreamSeek
{
    /// <summary>Decode the start node from its first entry (any caller).</summary>
    None,

    /// <summary>Start from the seek hint when it lies before the range (a counting pass).</summary>
    Hinted,

    /// <summary>As <see cref="Hinted"/>, and move the hint to each entry returned.</summary>
    HintedAndRemembered,
}
