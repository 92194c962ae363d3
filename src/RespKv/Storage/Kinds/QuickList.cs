using System.Buffers.Binary;

namespace RespKv.Storage.Kinds;

/// <summary>
/// A Redis list (TYPE <c>list</c>), laid out like Redis's quicklist: a doubly linked sequence of packed nodes, each one
/// <c>byte[]</c> holding up to <see cref="NodeCapacityBytes"/> bytes of entries, each its length, its bytes and its length
/// again (as a listpack's back-length, so the tail is read backwards in O(1)): a 1-byte length for entries under 255 bytes,
/// else 0xFF and a 4-byte little-endian length (after the bytes: the 4 bytes then 0xFF). A 10-byte element takes 12 bytes,
/// as in a Redis listpack. An entry larger than a node
/// gets a node of its own. Push and pop at either end are O(1) (the head node keeps free space at its front, the tail
/// node at its back); access by index walks nodes from the nearer end, then entries inside one node: O(n / node size).
/// Mutated in place under its key's shard lock (<see cref="ListKind"/>). Not thread-safe.
/// </summary>
public sealed class QuickList : ISortableValue
{
    /// <summary>Bytes of entries one node holds (Redis's list-max-listpack-size -2: 8 KB).</summary>
    public const int NodeCapacityBytes = 8192;

    /// <summary>Managed-heap bytes of one node beyond its entries: the node object (32) and its array's header (24).</summary>
    public const int NodeOverheadBytes = 56;

    private sealed class Node
    {
        public byte[] Data = [];
        public int Start;   // first used byte
        public int End;     // one past the last used byte
        public int Count;   // entries
        public Node? Prev, Next;

        public int Used => End - Start;
    }

    private Node? _head, _tail;

    /// <summary>Elements in the list.</summary>
    public long Count { get; private set; }

    /// <summary>Sum of the elements' lengths in bytes (INFO's value bytes).</summary>
    public long Bytes { get; private set; }

    /// <summary>Number of packed nodes.</summary>
    public int NodeCount { get; private set; }

    /// <summary>Bytes allocated in node arrays (what <see cref="ListKind"/>'s memory estimate counts).</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Bytes an entry of <paramref name="length"/> takes inside a node: its length prefix and suffix (1 or 5 each) plus its bytes.</summary>
    public static int EntrySize(int length) => length < 255 ? length + 2 : length + 10;

    /// <summary>Offset of the entry that ends at <paramref name="end"/> (reads its back-length).</summary>
    private static int EntryBefore(byte[] data, int end)
    {
        byte b = data[end - 1];
        if (b < 255) return end - (b + 2);
        int length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(end - 5));
        return end - (length + 10);
    }

    private static int ReadEntry(byte[] data, int pos, out int length)
    {
        byte b = data[pos];
        if (b < 255)
        {
            length = b;
            return pos + 1;
        }
        length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(pos + 1));
        return pos + 5;
    }

    private static void WriteEntry(byte[] data, int pos, ReadOnlySpan<byte> value)
    {
        if (value.Length < 255)
        {
            data[pos] = (byte)value.Length;
            value.CopyTo(data.AsSpan(pos + 1));
            data[pos + 1 + value.Length] = (byte)value.Length;
        }
        else
        {
            data[pos] = 255;
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(pos + 1), value.Length);
            value.CopyTo(data.AsSpan(pos + 5));
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(pos + 5 + value.Length), value.Length);
            data[pos + 9 + value.Length] = 255;
        }
    }

    /// <summary>Moves a node's entries to its array's back (<paramref name="roomAtFront"/>) or front, in a new array of <paramref name="newSize"/> bytes or, when that is its size, in place.</summary>
    private void Resize(Node node, int newSize, bool roomAtFront)
    {
        byte[] data = newSize == node.Data.Length ? node.Data : new byte[newSize];
        int used = node.Used;
        int start = roomAtFront ? newSize - used : 0;
        Array.Copy(node.Data, node.Start, data, start, used);
        AllocatedBytes += newSize - node.Data.Length;
        node.Data = data;
        node.Start = start;
        node.End = start + used;
    }

    private Node NewNode(int size)
    {
        NodeCount++;
        AllocatedBytes += size + NodeOverheadBytes;
        return new Node { Data = new byte[size] };
    }

    /// <summary>
    /// Size of a new end node for an entry of <paramref name="size"/> bytes: small while the list has no other node (small lists
    /// stay small, growing by doubling), a whole node once it has (a long list fills node after node without re-copying).
    /// </summary>
    private int FirstNodeSize(int size) => Math.Max(size, NodeCount == 0 ? 32 : NodeCapacityBytes);

    private static int Grow(int used, int need) => Math.Max(need, Math.Min(NodeCapacityBytes, Math.Max(32, used * 2)));

    /// <summary>Adds <paramref name="value"/> at the tail (RPUSH).</summary>
    public void PushTail(ReadOnlySpan<byte> value)
    {
        int size = EntrySize(value.Length);
        Node? node = _tail;
        if (node == null || node.Used + size > NodeCapacityBytes && node.Count > 0)
        {
            Node fresh = NewNode(FirstNodeSize(size));
            fresh.Prev = _tail;
            if (_tail != null) _tail.Next = fresh;
            else _head = fresh;
            _tail = node = fresh;
        }
        else if (node.Data.Length - node.End < size)
        {
            // Room freed at the front (pops from the head) is reused before the node grows: a rotating list allocates nothing.
            Resize(node, node.Used + size <= node.Data.Length ? node.Data.Length : Grow(node.Used, node.Used + size), roomAtFront: false);
        }
        WriteEntry(node.Data, node.End, value);
        node.End += size;
        node.Count++;
        Count++;
        Bytes += value.Length;
    }

    /// <summary>Adds <paramref name="value"/> at the head (LPUSH).</summary>
    public void PushHead(ReadOnlySpan<byte> value)
    {
        int size = EntrySize(value.Length);
        Node? node = _head;
        if (node == null || node.Used + size > NodeCapacityBytes && node.Count > 0)
        {
            Node fresh = NewNode(FirstNodeSize(size));
            fresh.Start = fresh.End = fresh.Data.Length;
            fresh.Next = _head;
            if (_head != null) _head.Prev = fresh;
            else _tail = fresh;
            _head = node = fresh;
        }
        else if (node.Start < size)
        {
            Resize(node, node.Used + size <= node.Data.Length ? node.Data.Length : Grow(node.Used, node.Used + size), roomAtFront: true);
        }
        node.Start -= size;
        WriteEntry(node.Data, node.Start, value);
        node.Count++;
        Count++;
        Bytes += value.Length;
    }

    /// <summary>The first element (<paramref name="fromHead"/>) or the last; the list must not be empty. Valid until the next change.</summary>
    public ReadOnlySpan<byte> Peek(bool fromHead)
    {
        if (fromHead)
        {
            int p = ReadEntry(_head!.Data, _head.Start, out int len);
            return _head.Data.AsSpan(p, len);
        }
        Node t = _tail!;
        int pos = EntryBefore(t.Data, t.End);
        int q = ReadEntry(t.Data, pos, out int length);
        return t.Data.AsSpan(q, length);
    }

    /// <summary>Removes and returns the first (<paramref name="fromHead"/>) or last element as a new array; the list must not be empty.</summary>
    public byte[] Pop(bool fromHead)
    {
        byte[] value = Peek(fromHead).ToArray();
        Drop(fromHead);
        return value;
    }

    /// <summary>
    /// Removes the first (<paramref name="fromHead"/>) or last element without copying it; the list must not be empty. A span
    /// <see cref="Peek"/> returned for it stays readable until the next push onto this list (which may reuse the space).
    /// </summary>
    public void Drop(bool fromHead)
    {
        int length;
        if (fromHead)
        {
            Node h = _head!;
            ReadEntry(h.Data, h.Start, out length);
            h.Start += EntrySize(length);
            h.Count--;
            if (h.Count == 0) Unlink(h);
        }
        else
        {
            Node t = _tail!;
            int start = EntryBefore(t.Data, t.End);
            ReadEntry(t.Data, start, out length);
            t.End = start;
            t.Count--;
            if (t.Count == 0) Unlink(t);
        }
        Count--;
        Bytes -= length;
    }

    private void Unlink(Node node)
    {
        if (node.Prev != null) node.Prev.Next = node.Next;
        else _head = node.Next;
        if (node.Next != null) node.Next.Prev = node.Prev;
        else _tail = node.Prev;
        NodeCount--;
        AllocatedBytes -= node.Data.Length + NodeOverheadBytes;
    }

    /// <summary>
    /// The element at <paramref name="index"/> (0-based from the head, or negative from the tail as Redis's -1 = last),
    /// or false when out of range. The span is valid until the next change.
    /// </summary>
    public bool TryGet(long index, out ReadOnlySpan<byte> value)
    {
        if (index < 0) index += Count;
        if (index < 0 || index >= Count)
        {
            value = default;
            return false;
        }
        Node node = Seek(index, out int inNode);
        int pos = node.Start;
        for (int i = 0; i < inNode; i++)
        {
            int p = ReadEntry(node.Data, pos, out int l);
            pos = p + l + (l < 255 ? 1 : 5);
        }
        int q = ReadEntry(node.Data, pos, out int len);
        value = node.Data.AsSpan(q, len);
        return true;
    }

    /// <summary>The node holding element <paramref name="index"/> (0 ≤ index &lt; Count) and its position inside it, walking from the nearer end.</summary>
    private Node Seek(long index, out int inNode)
    {
        if (index < Count / 2)
        {
            Node n = _head!;
            while (index >= n.Count)
            {
                index -= n.Count;
                n = n.Next!;
            }
            inNode = (int)index;
            return n;
        }
        long fromTail = Count - 1 - index;
        Node t = _tail!;
        while (fromTail >= t.Count)
        {
            fromTail -= t.Count;
            t = t.Prev!;
        }
        inNode = t.Count - 1 - (int)fromTail;
        return t;
    }

    /// <summary>A forward cursor starting at element <paramref name="index"/> (0 ≤ index ≤ Count).</summary>
    public Enumerator From(long index)
    {
        if (index >= Count) return new Enumerator(null, 0, 0);
        Node node = Seek(index, out int inNode);
        int pos = node.Start;
        for (int i = 0; i < inNode; i++)
        {
            int p = ReadEntry(node.Data, pos, out int l);
            pos = p + l + (l < 255 ? 1 : 5);
        }
        return new Enumerator(node, pos, node.Count - inNode);
    }

    /// <summary>Every element from head to tail.</summary>
    public Enumerator GetEnumerator() => From(0);

    /// <summary>A forward cursor over a <see cref="QuickList"/>'s elements (no allocation); invalid after a change.</summary>
    public ref struct Enumerator
    {
        private Node? _node;
        private int _pos;
        private int _leftInNode;
        private ReadOnlySpan<byte> _current;

        internal Enumerator(object? node, int pos, int leftInNode)
        {
            _node = (Node?)node;
            _pos = pos;
            _leftInNode = leftInNode;
            _current = default;
        }

        /// <summary>The current element.</summary>
        public readonly ReadOnlySpan<byte> Current => _current;

        /// <summary>Moves to the next element; false past the tail.</summary>
        public bool MoveNext()
        {
            while (_node != null && _leftInNode == 0)
            {
                _node = _node.Next;
                if (_node != null)
                {
                    _pos = _node.Start;
                    _leftInNode = _node.Count;
                }
            }
            if (_node == null) return false;
            int p = ReadEntry(_node.Data, _pos, out int len);
            _current = _node.Data.AsSpan(p, len);
            _pos = p + len + (len < 255 ? 1 : 5);
            _leftInNode--;
            return true;
        }
    }

    /// <summary>Every element from tail to head (a backward cursor reading the entries' back-lengths).</summary>
    public ReverseEnumerator Backwards() => new(_tail, _tail?.End ?? 0, _tail?.Count ?? 0);

    /// <summary>A backward cursor over a <see cref="QuickList"/>'s elements, tail first (no allocation); invalid after a change.</summary>
    public ref struct ReverseEnumerator
    {
        private Node? _node;
        private int _end;
        private int _leftInNode;
        private ReadOnlySpan<byte> _current;

        internal ReverseEnumerator(object? node, int end, int leftInNode)
        {
            _node = (Node?)node;
            _end = end;
            _leftInNode = leftInNode;
            _current = default;
        }

        /// <summary>The current element.</summary>
        public readonly ReadOnlySpan<byte> Current => _current;

        /// <summary>Moves to the previous element; false past the head.</summary>
        public bool MoveNext()
        {
            while (_node != null && _leftInNode == 0)
            {
                _node = _node.Prev;
                if (_node != null)
                {
                    _end = _node.End;
                    _leftInNode = _node.Count;
                }
            }
            if (_node == null) return false;
            int start = EntryBefore(_node.Data, _end);
            int p = ReadEntry(_node.Data, start, out int len);
            _current = _node.Data.AsSpan(p, len);
            _end = start;
            _leftInNode--;
            return true;
        }

        /// <summary>This cursor (so <c>foreach</c> works on <see cref="Backwards"/>).</summary>
        public readonly ReverseEnumerator GetEnumerator() => this;
    }

    /// <summary>
    /// Rebuilds the list from the editor's decisions: walks every element and keeps those for which it
    /// returns true, in order (LREM, LTRIM, LINSERT and LSET rebuild through <see cref="Rebuild"/>). Returns the
    /// number of elements dropped.
    /// </summary>
    public long Rebuild<TEditor>(ref TEditor editor) where TEditor : IListEditor, allows ref struct
    {
        Node? old = _head;
        _head = _tail = null;
        long before = Count;
        Count = 0;
        Bytes = 0;
        NodeCount = 0;
        AllocatedBytes = 0;
        long index = 0;
        for (Node? n = old; n != null; n = n.Next)
        {
            int pos = n.Start;
            for (int i = 0; i < n.Count; i++)
            {
                int p = ReadEntry(n.Data, pos, out int len);
                ReadOnlySpan<byte> element = n.Data.AsSpan(p, len);
                pos = p + len + (len < 255 ? 1 : 5);
                editor.Visit(this, index++, element);
            }
        }
        return before - Count;
    }

    /// <summary>Replaces the element at <paramref name="index"/> (in range, may be negative) with <paramref name="value"/>.</summary>
    public void Set(long index, ReadOnlySpan<byte> value)
    {
        if (index < 0) index += Count;
        Node node = Seek(index, out int inNode);
        int pos = node.Start;
        for (int i = 0; i < inNode; i++)
        {
            int p = ReadEntry(node.Data, pos, out int l);
            pos = p + l + (l < 255 ? 1 : 5);
        }
        ReadEntry(node.Data, pos, out int oldLen);
        int oldSize = EntrySize(oldLen), newSize = EntrySize(value.Length);
        int delta = newSize - oldSize;
        if (delta != 0)
        {
            // Re-pack the node: bytes before the entry, the new entry, the bytes after it.
            int used = node.Used + delta;
            var data = new byte[Math.Max(used, node.Data.Length)];
            int before = pos - node.Start, after = node.End - (pos + oldSize);
            Buffer.BlockCopy(node.Data, node.Start, data, 0, before);
            Buffer.BlockCopy(node.Data, pos + oldSize, data, before + newSize, after);
            AllocatedBytes += data.Length - node.Data.Length;
            node.Data = data;
            node.Start = 0;
            node.End = used;
            pos = before;
        }
        WriteEntry(node.Data, pos, value);
        Bytes += value.Length - oldLen;
    }

    /// <summary>A deep copy (COPY): new nodes, same elements.</summary>
    /// <summary>SORT's walk (<see cref="ISortableValue"/>): every element, head to tail, with an empty value.</summary>
    public void ForEach<TVisitor>(ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct
    {
        foreach (ReadOnlySpan<byte> element in this)
            if (!visitor.Visit(element, default)) return;
    }

    /// <summary>A deep copy.</summary>
    public QuickList Clone()
    {
        var copy = new QuickList();
        foreach (ReadOnlySpan<byte> e in this) copy.PushTail(e);
        return copy;
    }
}

/// <summary>Decides, element by element, what <see cref="QuickList.Rebuild"/> puts back (push onto the list passed in).</summary>
public interface IListEditor
{
    /// <summary>Visits element <paramref name="index"/> of the old list; append what should stay with <see cref="QuickList.PushTail"/>.</summary>
    void Visit(QuickList list, long index, ReadOnlySpan<byte> element);
}
