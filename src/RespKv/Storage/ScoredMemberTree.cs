using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RespKv.Storage;

/// <summary>
/// One of a sorted set's two indexes (<see cref="SortedSetValue"/>): a mutable order-statistic B+tree of packed
/// (member, score) entries, ordered by (score, member) — Redis's order: the scores as doubles (so -0 ties +0), then the
/// members as unsigned bytes, shorter first on a common prefix — or, for the member index, by (32-bit hash of the member,
/// member): an order that only serves lookups, spreads members evenly and routes on integers.
/// A member index whose scores are all 0 is also a set's hashtable encoding (<see cref="SetValue"/>).
/// <para>
/// <b>Shape.</b> A leaf (<see cref="Leaf"/>) is one <c>byte[]</c> of entries packed in order,
/// <c>[varint memberLength][member][8-byte little-endian score]</c> (19 bytes for a 10-byte member; the member index puts
/// the 4-byte hash first), with its count, its
/// used bytes and links to its neighbours; it holds up to the tree's leaf size (1 KB by default) unless a single entry is
/// larger. Inner nodes hold up to 64 children, each child's entry count (so an entry's rank and the entry at a rank are
/// found in O(log n)) and a separator per child but the first: a copy of an entry that is ≤ every entry of that child and
/// &gt; every entry of the children before it, with its 64-bit route key beside it (the score's order-preserving bits, or
/// the hash) so that a descent compares integers in one array and reads a separator only on a tie. There is no object
/// per entry: a member costs its packed entry plus its
/// share of a leaf's header, of its parent's slot and separator, and of the leaf's free space.
/// </para>
/// <para>
/// <b>Changes</b> happen in place (the sorted set is changed under its key's shard lock): an insert moves the tail of one
/// leaf; a full leaf first shares its entries with the emptier neighbour when both then have room (random loads keep
/// leaves about 80% full), else splits in two halves, or — when the new entry goes at its very end or start, as ascending
/// or descending loads do — leaves the old leaf full and starts a new one, so such loads pack leaves and inner nodes full. A
/// delete moves the tail of one leaf; a leaf under a quarter full merges with a neighbour they both fit in, an empty leaf
/// goes, and inner nodes under a quarter full merge the same way. Reads allocate nothing.
/// </para>
/// </summary>
internal sealed class ScoredMemberTree
{
    /// <summary>Default leaf size in bytes: an insert that would make a leaf larger splits it.</summary>
    public const int DefaultMaxLeafBytes = 1024;

    /// <summary>Default most children of an inner node.</summary>
    public const int DefaultMaxChildren = 64;

    /// <summary>Estimated heap bytes of this object.</summary>
    public const long TreeObjectBytes = 80;

    /// <summary>Estimated heap bytes of a <see cref="Leaf"/> object (its array counted apart).</summary>
    private const long LeafObjectBytes = 48;

    private const int MaxDepth = 64;

    private readonly bool _byScore;
    private readonly int _header; // bytes before an entry's length: 4 (the hash) in the member index
    private readonly int _maxLeafBytes, _maxChildren;
    private readonly long _innerBytes;
    private Node _root;
    private Leaf _head, _tail;

    // The path of this thread's last recording descent (one thread-static read per change).
    [ThreadStatic] private static PathBuffer? t_path;

    /// <summary>An empty tree ordered by (score, member) when <paramref name="byScore"/>, else by member.</summary>
    public ScoredMemberTree(bool byScore, int maxLeafBytes = DefaultMaxLeafBytes, int maxChildren = DefaultMaxChildren)
    {
        _byScore = byScore;
        _header = byScore ? 0 : 4;
        _maxLeafBytes = maxLeafBytes;
        _maxChildren = maxChildren;
        _innerBytes = 56 + 4 * KeyEntry.ArrayBytes(8 * (maxChildren + 1));
        var leaf = new Leaf([]);
        _root = _head = _tail = leaf;
        HeapBytes = TreeObjectBytes + LeafBytes(leaf);
    }

    /// <summary>Number of entries.</summary>
    public long Count { get; private set; }

    /// <summary>Estimated heap bytes of the tree: this object, leaves and their arrays, inner nodes and their arrays, separators.</summary>
    public long HeapBytes { get; private set; }

    internal abstract class Node;

    /// <summary>A leaf: <see cref="Data"/>[0..<see cref="Used"/>) holds <see cref="Count"/> packed entries in order.</summary>
    internal sealed class Leaf(byte[] data) : Node
    {
        public byte[] Data = data;
        public int Used;
        public int Count;
        public Leaf? Prev, Next;
    }

    /// <summary>
    /// An inner node: children [0, Length), their entry counts, Keys[c] (c ≥ 1) the lower bound of child c (Keys[0] null)
    /// and Routes[c] its route key.
    /// </summary>
    private sealed class Inner(int capacity) : Node
    {
        public readonly Node[] Children = new Node[capacity];
        public readonly byte[]?[] Keys = new byte[]?[capacity];
        public readonly ulong[] Routes = new ulong[capacity];
        public readonly long[] Counts = new long[capacity];
        public int Length;

        public long Total
        {
            get
            {
                long total = 0;
                for (int i = 0; i < Length; i++) total += Counts[i];
                return total;
            }
        }
    }

    /// <summary>
    /// The path of a recording descent: inner node and child index per level, root first, and a stamp that every recording
    /// descent and every change made from a <see cref="Spot"/> bumps (a spot is used only while its stamp is current).
    /// </summary>
    private sealed class PathBuffer
    {
        public readonly Inner[] Nodes = new Inner[MaxDepth];
        public readonly int[] Indexes = new int[MaxDepth];
        public long Stamp;
    }

    private static PathBuffer ThreadPath => t_path ??= new PathBuffer();

    /// <summary>
    /// Where <see cref="Find"/> found a key, or where it would go: valid for <see cref="SetScore"/> until this tree next
    /// changes, and for <see cref="Insert(in Spot, double, ReadOnlySpan{byte})"/> / <see cref="Remove(in Spot, double, ReadOnlySpan{byte})"/>
    /// while no other descent has recorded a path on this thread since (else they descend again).
    /// </summary>
    public readonly struct Spot
    {
        internal readonly Leaf Leaf;
        internal readonly int Offset, Index, Depth;
        internal readonly long Stamp;
        internal readonly uint Hash;

        /// <summary>True when the key is in the tree (at this spot).</summary>
        public readonly bool Found;

        internal Spot(Leaf leaf, int offset, int index, int depth, long stamp, uint hash, bool found)
        {
            Leaf = leaf;
            Offset = offset;
            Index = index;
            Depth = depth;
            Stamp = stamp;
            Hash = hash;
            Found = found;
        }
    }

    // ------------------------------------------------------------------------------------------------ entries

    /// <summary>Packed bytes of an entry of this tree whose member is <paramref name="memberLength"/> bytes long.</summary>
    private int EntrySize(int memberLength) => _header + Varint.Size(memberLength) + memberLength + 8;

    /// <summary>The member of the entry at <paramref name="p"/> of a score-ordered tree.</summary>
    public static ReadOnlySpan<byte> MemberAt(byte[] data, int p)
    {
        int length = Varint.Read(data, ref p);
        return new ReadOnlySpan<byte>(data, p, length);
    }

    /// <summary>The score of the entry at <paramref name="p"/> of a score-ordered tree.</summary>
    public static double ScoreAt(byte[] data, int p)
    {
        int length = Varint.Read(data, ref p);
        return BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(p + length));
    }

    /// <summary>The offset of the entry after the one at <paramref name="p"/> of a score-ordered tree.</summary>
    private static int Skip(byte[] data, int p)
    {
        int length = Varint.Read(data, ref p);
        return p + length + 8;
    }

    /// <summary>The offset of the entry after the one at <paramref name="p"/> of this tree.</summary>
    private int Next(byte[] data, int p) => Skip(data, p + _header);

    private void Write(byte[] data, int p, in Probe key)
    {
        if (!_byScore)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(p), key.Hash);
            p += 4;
        }
        Varint.Write(data, ref p, key.Member.Length);
        key.Member.CopyTo(data.AsSpan(p));
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(p + key.Member.Length), key.Score);
    }

    /// <summary>The offset of entry <paramref name="index"/> of <paramref name="leaf"/> of a score-ordered tree (a walk from its start).</summary>
    private static int OffsetOf(Leaf leaf, int index) => OffsetOf(leaf, index, 0);

    /// <summary>The offset of entry <paramref name="index"/> of <paramref name="leaf"/> whose entries start with <paramref name="header"/> bytes (4 in the member index).</summary>
    private static int OffsetOf(Leaf leaf, int index, int header)
    {
        int p = 0;
        for (int i = 0; i < index; i++) p = Skip(leaf.Data, p + header);
        return p;
    }

    /// <summary>A double's bits as a 64-bit integer whose unsigned order is the numeric order (-0 below +0; NaN excluded).</summary>
    public static ulong OrderedBits(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        return bits < 0 ? ~(ulong)bits : (ulong)bits | 0x8000_0000_0000_0000UL;
    }

    /// <summary>The double whose <see cref="OrderedBits"/> are <paramref name="ordered"/>.</summary>
    public static double FromOrderedBits(ulong ordered) =>
        BitConverter.Int64BitsToDouble((long)((ordered & 0x8000_0000_0000_0000UL) != 0 ? ordered & 0x7FFF_FFFF_FFFF_FFFFUL : ~ordered));

    /// <summary>A key of this tree: its score, its member's hash (member index), the member, and its route key.</summary>
    private readonly ref struct Probe
    {
        public readonly double Score;
        public readonly uint Hash;
        public readonly ReadOnlySpan<byte> Member;
        public readonly ulong Route;

        public Probe(bool byScore, double score, uint hash, ReadOnlySpan<byte> member)
        {
            Score = score;
            Hash = hash;
            Member = member;
            // -0 and +0 tie in the order: one route key for both.
            Route = byScore ? OrderedBits(score == 0 ? 0 : score) : hash;
        }
    }

    /// <summary>The key (<paramref name="score"/>, <paramref name="member"/>), hashing the member for the member index.</summary>
    private Probe KeyOf(double score, ReadOnlySpan<byte> member) =>
        new(_byScore, score, _byScore ? 0 : (uint)KeyHash.Compute(member), member);

    /// <summary>The key of the entry at <paramref name="p"/>.</summary>
    private Probe KeyAt(byte[] data, int p)
    {
        uint hash = 0;
        if (!_byScore)
        {
            hash = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(p));
            p += 4;
        }
        int length = Varint.Read(data, ref p);
        return new Probe(_byScore, BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(p + length)), hash, new ReadOnlySpan<byte>(data, p, length));
    }

    /// <summary>This tree's order: negative when the entry at <paramref name="p"/> sorts before <paramref name="key"/>; <paramref name="next"/> is the next entry's offset.</summary>
    private int CompareAt(byte[] data, int p, scoped in Probe key, out int next)
    {
        if (_byScore)
        {
            int length = Varint.Read(data, ref p);
            next = p + length + 8;
            double score = BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(p + length));
            if (score < key.Score) return -1;
            if (score > key.Score) return 1;
            return new ReadOnlySpan<byte>(data, p, length).SequenceCompareTo(key.Member);
        }
        uint hash = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(p));
        p += 4;
        int size = Varint.Read(data, ref p);
        next = p + size + 8;
        if (hash != key.Hash) return hash < key.Hash ? -1 : 1;
        return new ReadOnlySpan<byte>(data, p, size).SequenceCompareTo(key.Member);
    }

    private static long LeafBytes(Leaf leaf) => LeafObjectBytes + KeyEntry.ArrayBytes(leaf.Data.Length);

    private static long CountOf(Node node) => node is Leaf leaf ? leaf.Count : ((Inner)node).Total;

    // ------------------------------------------------------------------------------------------------ descents

    /// <summary>Entries up to (and including) a key: routes an insert or a lookup to the one child that can hold the key.</summary>
    private readonly ref struct AtOrBefore : IEntryBound
    {
        private readonly ScoredMemberTree _tree;
        private readonly Probe _key;

        public AtOrBefore(ScoredMemberTree tree, in Probe key)
        {
            _tree = tree;
            _key = key;
        }

        public bool Route(ulong route, out bool before)
        {
            before = route < _key.Route;
            return route != _key.Route;
        }

        public bool RouteKey(out ulong key)
        {
            key = _key.Route;
            return true;
        }

        public bool Before(byte[] data, int p) => _tree.CompareAt(data, p, _key, out _) <= 0;
    }

    /// <summary>
    /// Walks from the root to the leaf whose range holds the first entry <paramref name="bound"/> does not put before it:
    /// in each inner node, the last child whose separator is before the bound. When <paramref name="ranked"/>, adds the
    /// entries of the children passed over to <paramref name="rank"/> (else it stays 0: lookups leave the counts unread);
    /// records the path (for a change) in <paramref name="record"/> when given, bumping its stamp.
    /// </summary>
    private Leaf Descend<TBound>(scoped ref TBound bound, bool ranked, PathBuffer? record, out int depth, out long rank) where TBound : IEntryBound, allows ref struct
    {
        Inner[]? path = null;
        int[]? indexes = null;
        if (record != null)
        {
            path = record.Nodes;
            indexes = record.Indexes;
            record.Stamp++;
        }
        Node node = _root;
        rank = 0;
        depth = 0;
        bool keyed = bound.RouteKey(out ulong routeKey);
        while (node is Inner inner)
        {
            int lo = 1, hi = inner.Length - 1;
            if (keyed)
            {
                // Separators routed below the key are before it, those above are not: only the ties are left to read.
                lo = CountRoutesBelow(inner.Routes, inner.Length, routeKey, out int ties) + 1;
                hi = lo + ties - 1;
            }
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (!bound.Route(inner.Routes[mid], out bool before)) before = bound.Before(inner.Keys[mid]!, 0);
                if (before) lo = mid + 1;
                else hi = mid - 1;
            }
            int c = lo - 1;
            if (ranked)
            {
                for (int i = 0; i < c; i++) rank += inner.Counts[i];
            }
            if (path != null)
            {
                path[depth] = inner;
                indexes![depth] = c;
            }
            depth++;
            node = inner.Children[c];
        }
        return (Leaf)node;
    }

    /// <summary>
    /// For a bound of one route key (<see cref="IEntryBound.RouteKey"/>): how many of an inner node's separators route
    /// below <paramref name="key"/> (<paramref name="routes"/>[1..<paramref name="length"/>), ascending), and in
    /// <paramref name="ties"/> how many route equal to it (those separators must be read). Counting every route, four at a
    /// time, loads the node's route lines at once, where a binary search waits for one line before it knows the next.
    /// </summary>
    private static int CountRoutesBelow(ulong[] routes, int length, ulong key, out int ties)
    {
        int below = 0, notAbove = 0;
        int i = 1;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ulong start = ref MemoryMarshal.GetArrayDataReference(routes);
            Vector256<ulong> keys = Vector256.Create(key);
            for (; i + Vector256<ulong>.Count <= length; i += Vector256<ulong>.Count)
            {
                Vector256<ulong> v = Vector256.LoadUnsafe(ref start, (nuint)i);
                below += BitOperations.PopCount(Vector256.LessThan(v, keys).ExtractMostSignificantBits());
                notAbove += BitOperations.PopCount(Vector256.LessThanOrEqual(v, keys).ExtractMostSignificantBits());
            }
        }
        for (; i < length; i++)
        {
            ulong route = routes[i];
            if (route < key) below++;
            if (route <= key) notAbove++;
        }
        ties = notAbove - below;
        return below;
    }

    /// <summary>The number of leading entries <paramref name="bound"/> puts before it (a monotone bound: true, then false): O(log n).</summary>
    public long CountBefore<TBound>(scoped ref TBound bound) where TBound : IEntryBound, allows ref struct
    {
        Leaf leaf = Descend(ref bound, ranked: true, record: null, out _, out long rank);
        int p = 0, i = 0;
        while (i < leaf.Count && bound.Before(leaf.Data, p))
        {
            p = Next(leaf.Data, p);
            i++;
        }
        return rank + i;
    }

    /// <summary>The number of entries at or before the key (<paramref name="score"/>, <paramref name="member"/>) in this tree's order.</summary>
    public long CountAtOrBefore(double score, ReadOnlySpan<byte> member)
    {
        var bound = new AtOrBefore(this, KeyOf(score, member));
        return CountBefore(ref bound);
    }

    /// <summary>
    /// Finds the key: the leaf that holds it or would, the offset and index there of the first entry not before it,
    /// its rank (when <paramref name="ranked"/>; else its index in the leaf), and whether that entry is the key. Records the
    /// path in <paramref name="record"/> when given.
    /// </summary>
    private Leaf FindKey(scoped in Probe key, PathBuffer? record, out int depth, out int offset, out int index, out long rank, out bool found, bool ranked = false)
    {
        var route = new AtOrBefore(this, key);
        Leaf leaf = Descend(ref route, ranked, record, out depth, out rank);
        byte[] data = leaf.Data;
        PrefetchLines(data, leaf.Used);
        int p = 0, i = 0, count = leaf.Count;
        found = false;
        if (!_byScore)
        {
            // The member index: skip the entries of smaller hashes reading their hash and length byte alone.
            uint hash = key.Hash;
            while (i < count && BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(p)) < hash)
            {
                int length = data[p + 4];
                p = length < 0x80 ? p + 4 + 1 + length + 8 : Skip(data, p + 4);
                i++;
            }
        }
        while (i < count)
        {
            int cmp = CompareAt(data, p, key, out int next);
            if (cmp >= 0)
            {
                found = cmp == 0;
                break;
            }
            p = next;
            i++;
        }
        offset = p;
        index = i;
        rank += i;
        return leaf;
    }

    /// <summary>
    /// Asks the CPU to load every cache line of <paramref name="data"/>[0..<paramref name="used"/>) at once, before a scan
    /// walks them one entry at a time: each entry's offset depends on the previous entry's length, so without the hint
    /// the scan waits for one line's miss before it can ask for the next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchLines(byte[] data, int used)
    {
        if (!Sse.IsSupported) return;
        // A hint only: were the array moved by the GC meanwhile, the lines asked for are merely the wrong ones.
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        for (int offset = 64; offset < used; offset += 64) Sse.Prefetch0(start + offset);
    }

    // ------------------------------------------------------------------------------------------------ reads

    /// <summary>The score stored with the key (<paramref name="member"/>; <paramref name="score"/> too when ordered by score), or false.</summary>
    public bool TryGetScore(double score, ReadOnlySpan<byte> member, out double stored)
    {
        Leaf leaf = FindKey(KeyOf(score, member), record: null, out _, out int offset, out _, out _, out bool found);
        stored = found ? ScoreAt(leaf.Data, offset + _header) : 0;
        return found;
    }

    /// <summary>The 0-based rank of the key, or -1 when absent.</summary>
    public long RankOf(double score, ReadOnlySpan<byte> member)
    {
        FindKey(KeyOf(score, member), record: null, out _, out _, out _, out long rank, out bool found, ranked: true);
        return found ? rank : -1;
    }

    /// <summary>The entry at 0-based <paramref name="rank"/> (0 ≤ rank &lt; <see cref="Count"/>): its leaf, offset and index there.</summary>
    public Leaf ByRank(long rank, out int offset, out int index)
    {
        if ((ulong)rank >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(rank));
        Node node = _root;
        while (node is Inner inner)
        {
            int c = 0;
            while (rank >= inner.Counts[c]) rank -= inner.Counts[c++];
            node = inner.Children[c];
        }
        var leaf = (Leaf)node;
        index = (int)rank;
        offset = OffsetOf(leaf, index, _header);
        return leaf;
    }

    /// <summary>The first leaf (empty only when the tree is).</summary>
    public Leaf Head => _head;

    /// <summary>The last leaf.</summary>
    public Leaf Tail => _tail;

    /// <summary>Moves to the next entry in order of a score-ordered tree; false (unchanged) after the last.</summary>
    public static bool StepForward(ref Leaf leaf, ref int offset, ref int index) => StepForward(ref leaf, ref offset, ref index, 0);

    /// <summary>Moves to the next entry in this tree's order (either order); false (unchanged) after the last.</summary>
    public bool Advance(ref Leaf leaf, ref int offset, ref int index) => StepForward(ref leaf, ref offset, ref index, _header);

    /// <summary>The member of the entry at <paramref name="offset"/> of <paramref name="leaf"/> of this tree (either order).</summary>
    public ReadOnlySpan<byte> MemberOf(Leaf leaf, int offset) => MemberAt(leaf.Data, offset + _header);

    private static bool StepForward(ref Leaf leaf, ref int offset, ref int index, int header)
    {
        if (index + 1 < leaf.Count)
        {
            offset = Skip(leaf.Data, offset + header);
            index++;
            return true;
        }
        if (leaf.Next is not { } next) return false;
        leaf = next;
        offset = 0;
        index = 0;
        return true;
    }

    /// <summary>Moves to the previous entry in order (a walk of its leaf from the start); false (unchanged) before the first.</summary>
    public static bool StepBack(ref Leaf leaf, ref int offset, ref int index)
    {
        if (index == 0)
        {
            if (leaf.Prev is not { } prev) return false;
            leaf = prev;
            index = prev.Count;
        }
        index--;
        offset = OffsetOf(leaf, index);
        return true;
    }

    /// <summary>The offset of the last entry of <paramref name="leaf"/> (not empty).</summary>
    public static int LastOffset(Leaf leaf) => OffsetOf(leaf, leaf.Count - 1);

    // ------------------------------------------------------------------------------------------------ writes

    /// <summary>
    /// Looks up the key (<paramref name="member"/>; <paramref name="score"/> too when ordered by score), recording the path:
    /// where it is (<see cref="Spot.Found"/>) or would go, for a change without a second descent.
    /// </summary>
    public Spot Find(double score, ReadOnlySpan<byte> member)
    {
        PathBuffer path = ThreadPath;
        Probe key = KeyOf(score, member);
        Leaf leaf = FindKey(key, path, out int depth, out int offset, out int index, out _, out bool found);
        return new Spot(leaf, offset, index, depth, path.Stamp, key.Hash, found);
    }

    /// <summary>The score stored in the entry at <paramref name="spot"/> (found, and the tree unchanged since).</summary>
    public double ScoreAt(in Spot spot) => ScoreAt(spot.Leaf.Data, spot.Offset + _header);

    /// <summary>Overwrites the score stored in the entry at <paramref name="spot"/> of a member-ordered tree (found, and the tree unchanged since).</summary>
    public void SetScore(in Spot spot, double score) =>
        BinaryPrimitives.WriteDoubleLittleEndian(spot.Leaf.Data.AsSpan(Next(spot.Leaf.Data, spot.Offset) - 8), score);

    /// <summary>Inserts the entry (<paramref name="score"/>, <paramref name="member"/>), which must not be present.</summary>
    public void Insert(double score, ReadOnlySpan<byte> member)
    {
        PathBuffer path = ThreadPath;
        Probe key = KeyOf(score, member);
        Leaf leaf = FindKey(key, path, out int depth, out int offset, out int index, out _, out bool found);
        if (found) throw new InvalidOperationException("entry already present");
        InsertFound(path, leaf, depth, offset, index, key);
    }

    /// <summary>
    /// Inserts the entry (<paramref name="score"/>, <paramref name="member"/>) where <paramref name="spot"/> (not found: a
    /// lookup of that key) says it goes — or by a new descent when another descent has recorded a path since.
    /// </summary>
    public void Insert(in Spot spot, double score, ReadOnlySpan<byte> member)
    {
        if (spot.Found) throw new InvalidOperationException("entry already present");
        PathBuffer path = ThreadPath;
        if (path.Stamp != spot.Stamp)
        {
            Insert(score, member);
            return;
        }
        InsertFound(path, spot.Leaf, spot.Depth, spot.Offset, spot.Index, new Probe(_byScore, score, spot.Hash, member));
    }

    /// <summary>Inserts <paramref name="key"/> at <paramref name="offset"/> (entry <paramref name="index"/>) of <paramref name="leaf"/>, reached by the path just recorded in <paramref name="path"/>.</summary>
    private void InsertFound(PathBuffer path, Leaf leaf, int depth, int offset, int index, scoped in Probe key)
    {
        path.Stamp++; // the path is about to go stale
        int size = EntrySize(key.Member.Length);
        bool fits = leaf.Used + size <= _maxLeafBytes || leaf.Count == 0;
        if (!fits && depth > 0 && TryBalance(leaf, path.Nodes[depth - 1], path.Indexes[depth - 1], size))
        {
            Insert(key.Score, key.Member); // both leaves now have room: descend again
            return;
        }
        Inner[] nodes = path.Nodes;
        int[] indexes = path.Indexes;
        for (int d = 0; d < depth; d++) nodes[d].Counts[indexes[d]]++;
        Count++;
        if (fits)
        {
            EnsureCapacity(leaf, leaf.Used + size);
            InsertAt(leaf, offset, size, key);
            return;
        }
        SplitAndInsert(path, leaf, depth, offset, index, size, key);
    }

    /// <summary>
    /// Gives the entry (<paramref name="current"/>, <paramref name="member"/>) of a score-ordered tree the score
    /// <paramref name="score"/> (Redis's <c>zslUpdateScore</c>): when the new key still belongs in the entry's leaf (between
    /// the separators around it) the entry moves within that leaf, else it is removed and inserted again. The member must
    /// not be a view into this tree. Throws <see cref="InvalidOperationException"/> when the entry is absent.
    /// </summary>
    public void Move(double current, ReadOnlySpan<byte> member, double score)
    {
        PathBuffer path = ThreadPath;
        Leaf leaf = FindKey(KeyOf(current, member), path, out int depth, out int offset, out _, out _, out bool found);
        if (!found) throw new InvalidOperationException("entry not in this tree");
        Probe moved = KeyOf(score, member);
        if (!WithinLeafBounds(path, depth, moved))
        {
            RemoveFound(path, leaf, depth, offset);
            Insert(score, member);
            return;
        }
        byte[] data = leaf.Data;
        int size = Next(data, offset) - offset, end = offset + size;
        // The first other entry not before the new key: its offset (the leaf's end when there is none).
        int p = 0;
        for (int i = 0; i < leaf.Count; i++)
        {
            if (p == offset)
            {
                p = end;
                continue;
            }
            if (CompareAt(data, p, moved, out int next) >= 0) break;
            p = next;
        }
        if (p < offset)
        {
            data.AsSpan(p, offset - p).CopyTo(data.AsSpan(p + size));
            Write(data, p, moved);
        }
        else if (p > end)
        {
            data.AsSpan(end, p - end).CopyTo(data.AsSpan(offset));
            Write(data, p - size, moved);
        }
        else Write(data, offset, moved);
    }

    /// <summary>True when <paramref name="key"/> lies between the separators around the leaf at the end of the recorded path (at or after the lower one, before the upper one).</summary>
    private bool WithinLeafBounds(PathBuffer path, int depth, scoped in Probe key)
    {
        Inner[] nodes = path.Nodes;
        int[] indexes = path.Indexes;
        bool low = false, high = false;
        for (int d = depth - 1; d >= 0 && !(low && high); d--)
        {
            Inner inner = nodes[d];
            int c = indexes[d];
            if (!low && c > 0)
            {
                low = true;
                ulong route = inner.Routes[c];
                if (route > key.Route || (route == key.Route && CompareAt(inner.Keys[c]!, 0, key, out _) > 0)) return false;
            }
            if (!high && c + 1 < inner.Length)
            {
                high = true;
                ulong route = inner.Routes[c + 1];
                if (route < key.Route || (route == key.Route && CompareAt(inner.Keys[c + 1]!, 0, key, out _) <= 0)) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Before splitting the full <paramref name="leaf"/> (child <paramref name="c"/> of <paramref name="parent"/>), moves
    /// entries to the emptier neighbour under the same parent so that the two hold about half of their bytes each — when
    /// both then have room for an entry of <paramref name="size"/> bytes (else false, nothing moved). The right one of the
    /// two gets its new first entry as separator. Keeps random loads' leaves fuller than splits alone (about 70%).
    /// </summary>
    private bool TryBalance(Leaf leaf, Inner parent, int c, int size)
    {
        if (leaf.Count < 2) return false;
        Leaf? left = c > 0 ? parent.Children[c - 1] as Leaf : null;
        Leaf? right = c + 1 < parent.Length ? parent.Children[c + 1] as Leaf : null;
        if (left != null && right != null && right.Used < left.Used) left = null;
        Leaf? neighbour = left ?? right;
        if (neighbour == null) return false;
        int half = (leaf.Used + neighbour.Used) / 2, split = 0, kept = 0;
        // Entries [0, kept) of the leaf (split bytes) stay, or go left; at least one entry moves and one stays.
        if (left != null)
        {
            do
            {
                split = Next(leaf.Data, split);
                kept++;
            } while (kept < leaf.Count - 1 && left.Used + split < half);
        }
        else
        {
            while (kept < leaf.Count - 1 && (kept == 0 || split < half))
            {
                split = Next(leaf.Data, split);
                kept++;
            }
        }
        int moved = left != null ? split : leaf.Used - split, count = left != null ? kept : leaf.Count - kept;
        if (neighbour.Used + moved + size > _maxLeafBytes || leaf.Used - moved + size > _maxLeafBytes) return false;
        EnsureCapacity(neighbour, neighbour.Used + moved);
        if (left != null)
        {
            leaf.Data.AsSpan(0, moved).CopyTo(left.Data.AsSpan(left.Used));
            leaf.Data.AsSpan(moved, leaf.Used - moved).CopyTo(leaf.Data);
            parent.Counts[c - 1] += count;
            parent.Counts[c] -= count;
        }
        else
        {
            right!.Data.AsSpan(0, right.Used).CopyTo(right.Data.AsSpan(moved));
            leaf.Data.AsSpan(split, moved).CopyTo(right.Data);
            parent.Counts[c] -= count;
            parent.Counts[c + 1] += count;
        }
        neighbour.Used += moved;
        neighbour.Count += count;
        leaf.Used -= moved;
        leaf.Count -= count;
        Leaf second = left != null ? leaf : right!;
        int child = left != null ? c : c + 1;
        byte[] separator = second.Data.AsSpan(0, Next(second.Data, 0)).ToArray();
        HeapBytes += KeyEntry.ArrayBytes(separator.Length) - KeyEntry.ArrayBytes(parent.Keys[child]!.Length);
        parent.Keys[child] = separator;
        parent.Routes[child] = KeyAt(separator, 0).Route;
        return true;
    }

    private void InsertAt(Leaf leaf, int offset, int size, scoped in Probe key)
    {
        byte[] data = leaf.Data;
        data.AsSpan(offset, leaf.Used - offset).CopyTo(data.AsSpan(offset + size));
        Write(data, offset, key);
        leaf.Used += size;
        leaf.Count++;
    }

    /// <summary>Grows <paramref name="leaf"/>'s array to hold <paramref name="needed"/> bytes (doubling up to the leaf size: small sets stay small).</summary>
    private void EnsureCapacity(Leaf leaf, int needed)
    {
        if (needed <= leaf.Data.Length) return;
        int capacity = Math.Max(needed, Math.Min(_maxLeafBytes, Math.Max(32, leaf.Data.Length * 2)));
        capacity = (capacity + 7) & ~7;
        byte[] data = GC.AllocateUninitializedArray<byte>(capacity);
        leaf.Data.AsSpan(0, leaf.Used).CopyTo(data);
        HeapBytes += KeyEntry.ArrayBytes(capacity) - KeyEntry.ArrayBytes(leaf.Data.Length);
        leaf.Data = data;
    }

    /// <summary>
    /// Splits a full leaf and inserts the new entry (index <paramref name="index"/>, offset <paramref name="offset"/>):
    /// at the leaf's end the new entry starts the new right leaf; at its start it stays alone on the left; else the bytes
    /// are halved.
    /// </summary>
    private void SplitAndInsert(PathBuffer path, Leaf leaf, int depth, int offset, int index, int size, scoped in Probe key)
    {
        int n = leaf.Count, m, split;
        if (index == n)
        {
            m = n;
            split = leaf.Used;
        }
        else if (index == 0)
        {
            m = 0;
            split = 0;
        }
        else
        {
            m = 0;
            split = 0;
            do
            {
                split = Next(leaf.Data, split);
                m++;
            } while (m < n - 1 && split < leaf.Used / 2);
        }
        bool right = index > m || m == n;
        int moved = leaf.Used - split;
        var sibling = new Leaf(GC.AllocateUninitializedArray<byte>(Math.Max(_maxLeafBytes, (moved + (right ? size : 0) + 7) & ~7)));
        leaf.Data.AsSpan(split, moved).CopyTo(sibling.Data);
        sibling.Used = moved;
        sibling.Count = n - m;
        leaf.Used = split;
        leaf.Count = m;
        if (right) InsertAt(sibling, offset - split, size, key);
        else
        {
            EnsureCapacity(leaf, leaf.Used + size);
            InsertAt(leaf, offset, size, key);
        }
        sibling.Prev = leaf;
        sibling.Next = leaf.Next;
        if (leaf.Next != null) leaf.Next.Prev = sibling;
        else _tail = sibling;
        leaf.Next = sibling;
        byte[] separator = sibling.Data.AsSpan(0, Next(sibling.Data, 0)).ToArray();
        HeapBytes += LeafBytes(sibling) + KeyEntry.ArrayBytes(separator.Length);
        InsertChild(path, depth, leaf, sibling, separator, KeyAt(separator, 0).Route);
    }

    /// <summary>Puts <paramref name="right"/> (lower bound <paramref name="key"/>) after <paramref name="left"/>, the node at the end of the recorded path of <paramref name="depth"/> levels; splits full inner nodes upward.</summary>
    private void InsertChild(PathBuffer recorded, int depth, Node left, Node right, byte[] key, ulong route)
    {
        Inner[] path = recorded.Nodes;
        int[] indexes = recorded.Indexes;
        while (true)
        {
            if (depth == 0)
            {
                Inner root = NewInner();
                root.Children[0] = left;
                root.Children[1] = right;
                root.Keys[1] = key;
                root.Routes[1] = route;
                root.Counts[0] = CountOf(left);
                root.Counts[1] = CountOf(right);
                root.Length = 2;
                _root = root;
                return;
            }
            Inner parent = path[depth - 1];
            int c = indexes[depth - 1], tail = parent.Length - c - 1;
            Array.Copy(parent.Children, c + 1, parent.Children, c + 2, tail);
            Array.Copy(parent.Keys, c + 1, parent.Keys, c + 2, tail);
            Array.Copy(parent.Routes, c + 1, parent.Routes, c + 2, tail);
            Array.Copy(parent.Counts, c + 1, parent.Counts, c + 2, tail);
            parent.Children[c + 1] = right;
            parent.Keys[c + 1] = key;
            parent.Routes[c + 1] = route;
            parent.Counts[c] = CountOf(left);
            parent.Counts[c + 1] = CountOf(right);
            parent.Length++;
            if (parent.Length <= _maxChildren) return;
            int n = parent.Length, m = c + 2 == n ? n - 1 : n / 2;
            Inner sibling = NewInner();
            Array.Copy(parent.Children, m, sibling.Children, 0, n - m);
            Array.Copy(parent.Keys, m, sibling.Keys, 0, n - m);
            Array.Copy(parent.Routes, m, sibling.Routes, 0, n - m);
            Array.Copy(parent.Counts, m, sibling.Counts, 0, n - m);
            sibling.Length = n - m;
            key = sibling.Keys[0]!;
            route = sibling.Routes[0];
            sibling.Keys[0] = null;
            sibling.Routes[0] = 0;
            Array.Clear(parent.Children, m, n - m);
            Array.Clear(parent.Keys, m, n - m);
            Array.Clear(parent.Routes, m, n - m);
            Array.Clear(parent.Counts, m, n - m);
            parent.Length = m;
            left = parent;
            right = sibling;
            depth--;
        }
    }

    private Inner NewInner()
    {
        HeapBytes += _innerBytes;
        return new Inner(_maxChildren + 1);
    }

    /// <summary>Removes the entry (<paramref name="score"/>, <paramref name="member"/>); false when absent.</summary>
    public bool Remove(double score, ReadOnlySpan<byte> member)
    {
        PathBuffer path = ThreadPath;
        Leaf leaf = FindKey(KeyOf(score, member), path, out int depth, out int offset, out _, out _, out bool found);
        if (found) RemoveFound(path, leaf, depth, offset);
        return found;
    }

    /// <summary>
    /// Removes the entry at <paramref name="spot"/> (found by a lookup of (<paramref name="score"/>, <paramref name="member"/>)),
    /// or by a new descent when another descent has recorded a path since.
    /// </summary>
    public void Remove(in Spot spot, double score, ReadOnlySpan<byte> member)
    {
        if (!spot.Found) throw new InvalidOperationException("entry not in this tree");
        PathBuffer path = ThreadPath;
        if (path.Stamp == spot.Stamp) RemoveFound(path, spot.Leaf, spot.Depth, spot.Offset);
        else if (!Remove(score, member)) throw new InvalidOperationException("entry not in this tree");
    }

    /// <summary>Removes the first entry (the last when <paramref name="last"/>) of the tree, which is not empty: a descent along one edge, no comparisons.</summary>
    public void RemoveEnd(bool last)
    {
        if (Count == 0) throw new InvalidOperationException("empty tree");
        PathBuffer path = ThreadPath;
        path.Stamp++;
        Node node = _root;
        int depth = 0;
        while (node is Inner inner)
        {
            int c = last ? inner.Length - 1 : 0;
            path.Nodes[depth] = inner;
            path.Indexes[depth] = c;
            depth++;
            node = inner.Children[c];
        }
        var leaf = (Leaf)node;
        RemoveFound(path, leaf, depth, last ? LastOffset(leaf) : 0);
    }

    /// <summary>Removes the entry at <paramref name="offset"/> of <paramref name="leaf"/>, reached by the path just recorded in <paramref name="recorded"/>; merges what went under a quarter full.</summary>
    private void RemoveFound(PathBuffer recorded, Leaf leaf, int depth, int offset)
    {
        recorded.Stamp++; // the path is about to go stale
        Inner[] path = recorded.Nodes;
        int[] indexes = recorded.Indexes;
        for (int d = 0; d < depth; d++) path[d].Counts[indexes[d]]--;
        Count--;
        int size = Next(leaf.Data, offset) - offset;
        leaf.Data.AsSpan(offset + size, leaf.Used - offset - size).CopyTo(leaf.Data.AsSpan(offset));
        leaf.Used -= size;
        leaf.Count--;
        if (depth == 0) return;
        Inner parent = path[depth - 1];
        int c = indexes[depth - 1];
        if (leaf.Count == 0)
        {
            Unlink(leaf);
            RemoveChild(parent, c);
        }
        else if (leaf.Used < _maxLeafBytes / 4)
        {
            if (c > 0 && parent.Children[c - 1] is Leaf before && before.Used + leaf.Used <= _maxLeafBytes) MergeLeaves(parent, c - 1);
            else if (c + 1 < parent.Length && parent.Children[c + 1] is Leaf after && leaf.Used + after.Used <= _maxLeafBytes) MergeLeaves(parent, c);
            else return;
        }
        else return;
        Rebalance(recorded, depth - 1);
    }

    private void Unlink(Leaf leaf)
    {
        if (leaf.Prev != null) leaf.Prev.Next = leaf.Next;
        else _head = leaf.Next!;
        if (leaf.Next != null) leaf.Next.Prev = leaf.Prev;
        else _tail = leaf.Prev!;
        leaf.Prev = leaf.Next = null;
        HeapBytes -= LeafBytes(leaf);
    }

    /// <summary>Appends child c+1 (a leaf) to child c and drops it.</summary>
    private void MergeLeaves(Inner parent, int c)
    {
        var a = (Leaf)parent.Children[c];
        var b = (Leaf)parent.Children[c + 1];
        EnsureCapacity(a, a.Used + b.Used);
        b.Data.AsSpan(0, b.Used).CopyTo(a.Data.AsSpan(a.Used));
        a.Used += b.Used;
        a.Count += b.Count;
        parent.Counts[c] += parent.Counts[c + 1];
        Unlink(b);
        RemoveChild(parent, c + 1);
    }

    /// <summary>Appends child c+1 (an inner node) to child c, the separator between them moving down, and drops it.</summary>
    private void MergeInners(Inner parent, int c)
    {
        var a = (Inner)parent.Children[c];
        var b = (Inner)parent.Children[c + 1];
        Array.Copy(b.Children, 0, a.Children, a.Length, b.Length);
        Array.Copy(b.Keys, 0, a.Keys, a.Length, b.Length);
        Array.Copy(b.Routes, 0, a.Routes, a.Length, b.Length);
        Array.Copy(b.Counts, 0, a.Counts, a.Length, b.Length);
        a.Keys[a.Length] = parent.Keys[c + 1];
        a.Routes[a.Length] = parent.Routes[c + 1];
        a.Length += b.Length;
        parent.Counts[c] += parent.Counts[c + 1];
        parent.Keys[c + 1] = null; // moved down, not freed
        HeapBytes -= _innerBytes;
        RemoveChild(parent, c + 1);
    }

    /// <summary>Drops child <paramref name="c"/> and the separator that no longer bounds anything (its own, or child 1's when c is 0).</summary>
    private void RemoveChild(Inner inner, int c)
    {
        int dropped = c == 0 ? 1 : c;
        if (dropped < inner.Length && inner.Keys[dropped] is { } key) HeapBytes -= KeyEntry.ArrayBytes(key.Length);
        int tail = inner.Length - c - 1;
        Array.Copy(inner.Children, c + 1, inner.Children, c, tail);
        Array.Copy(inner.Keys, c + 1, inner.Keys, c, tail);
        Array.Copy(inner.Routes, c + 1, inner.Routes, c, tail);
        Array.Copy(inner.Counts, c + 1, inner.Counts, c, tail);
        inner.Length--;
        inner.Children[inner.Length] = null!;
        inner.Keys[inner.Length] = null;
        inner.Routes[inner.Length] = 0;
        inner.Counts[inner.Length] = 0;
        inner.Keys[0] = null;
        inner.Routes[0] = 0;
    }

    /// <summary>After inner node path[<paramref name="d"/>] lost a child: drops empty inner nodes, merges those under a quarter full with a neighbour, shortens the root.</summary>
    private void Rebalance(PathBuffer recorded, int d)
    {
        Inner[] path = recorded.Nodes;
        int[] indexes = recorded.Indexes;
        for (; d > 0; d--)
        {
            Inner inner = path[d], parent = path[d - 1];
            int c = indexes[d - 1];
            if (inner.Length == 0)
            {
                HeapBytes -= _innerBytes;
                RemoveChild(parent, c);
                continue;
            }
            if (inner.Length >= _maxChildren / 4) break;
            if (c > 0 && parent.Children[c - 1] is Inner before && before.Length + inner.Length <= _maxChildren) MergeInners(parent, c - 1);
            else if (c + 1 < parent.Length && parent.Children[c + 1] is Inner after && inner.Length + after.Length <= _maxChildren) MergeInners(parent, c);
            else break;
        }
        while (_root is Inner { Length: 1 } single)
        {
            _root = single.Children[0];
            HeapBytes -= _innerBytes;
        }
    }

    // ------------------------------------------------------------------------------------------------ copy and checks

    /// <summary>A deep copy: the same shape, leaves copied (separators, never written once made, are shared).</summary>
    public ScoredMemberTree Clone()
    {
        var copy = new ScoredMemberTree(_byScore, _maxLeafBytes, _maxChildren);
        Leaf? previous = null;
        copy._root = copy.CopyOf(_root, ref previous);
        copy._tail = previous!;
        copy.Count = Count;
        copy.HeapBytes = HeapBytes;
        return copy;
    }

    private Node CopyOf(Node node, ref Leaf? previous)
    {
        if (node is Leaf leaf)
        {
            var copy = new Leaf((byte[])leaf.Data.Clone()) { Used = leaf.Used, Count = leaf.Count, Prev = previous };
            if (previous != null) previous.Next = copy;
            else _head = copy;
            previous = copy;
            return copy;
        }
        var inner = (Inner)node;
        var result = new Inner(_maxChildren + 1) { Length = inner.Length };
        Array.Copy(inner.Keys, result.Keys, inner.Length);
        Array.Copy(inner.Routes, result.Routes, inner.Length);
        Array.Copy(inner.Counts, result.Counts, inner.Length);
        for (int i = 0; i < inner.Length; i++) result.Children[i] = CopyOf(inner.Children[i], ref previous);
        return result;
    }

    /// <summary>
    /// Verifies the invariants — entries strictly in order and within their separators, counts, used bytes, leaf links,
    /// one depth for every leaf, no empty leaf but an empty root, node sizes, <see cref="HeapBytes"/> — and calls
    /// <paramref name="visit"/> for every entry in order. Throws <see cref="InvalidOperationException"/>. For tests.
    /// </summary>
    internal void Validate(Action<double, byte[]> visit)
    {
        var state = new ValidateState { Bytes = TreeObjectBytes };
        long count = ValidateNode(_root, null, null, 0, ref state, visit);
        if (count != Count) throw new InvalidOperationException($"Count {Count} but {count} entries");
        if (state.LastLeaf != _tail) throw new InvalidOperationException("tail");
        if (_head.Prev != null || _tail.Next != null) throw new InvalidOperationException("end links");
        if (state.Bytes != HeapBytes) throw new InvalidOperationException($"HeapBytes {HeapBytes} but {state.Bytes}");
        if (_root is Inner { Length: < 2 }) throw new InvalidOperationException("root with one child");
    }

    private struct ValidateState
    {
        public byte[]? Previous;
        public Leaf? LastLeaf;
        public int LeafDepth;
        public long Bytes;
    }

    private long ValidateNode(Node node, byte[]? low, byte[]? high, int depth, ref ValidateState state, Action<double, byte[]> visit)
    {
        if (node is Leaf leaf)
        {
            if (state.LastLeaf == null) state.LeafDepth = depth;
            else if (state.LeafDepth != depth) throw new InvalidOperationException("leaves at different depths");
            if (leaf.Prev != state.LastLeaf || (state.LastLeaf == null ? leaf != _head : state.LastLeaf.Next != leaf)) throw new InvalidOperationException("leaf links");
            if (leaf.Count == 0 && leaf != _root) throw new InvalidOperationException("empty leaf below the root");
            state.LastLeaf = leaf;
            state.Bytes += LeafBytes(leaf);
            int p = 0;
            for (int i = 0; i < leaf.Count; i++)
            {
                Probe entry = KeyAt(leaf.Data, p);
                if (!_byScore && entry.Hash != (uint)KeyHash.Compute(entry.Member)) throw new InvalidOperationException("member hash");
                if (state.Previous != null && CompareAt(state.Previous, 0, entry, out _) >= 0) throw new InvalidOperationException("entries out of order");
                if (low != null && CompareAt(low, 0, entry, out _) > 0) throw new InvalidOperationException("entry below its separator");
                if (high != null && CompareAt(high, 0, entry, out _) <= 0) throw new InvalidOperationException("entry at or above the next separator");
                int next = Next(leaf.Data, p);
                state.Previous = leaf.Data.AsSpan(p, next - p).ToArray();
                visit(entry.Score, entry.Member.ToArray());
                p = next;
            }
            if (p != leaf.Used || leaf.Used > leaf.Data.Length) throw new InvalidOperationException("used bytes");
            return leaf.Count;
        }
        var inner = (Inner)node;
        if (inner.Length < 1 || inner.Length > _maxChildren) throw new InvalidOperationException("inner node size");
        if (inner.Keys[0] != null) throw new InvalidOperationException("first separator");
        state.Bytes += _innerBytes;
        long total = 0;
        for (int c = 0; c < inner.Length; c++)
        {
            if (c > 0)
            {
                state.Bytes += KeyEntry.ArrayBytes(inner.Keys[c]!.Length);
                if (inner.Routes[c] != KeyAt(inner.Keys[c]!, 0).Route) throw new InvalidOperationException("route key");
            }
            long n = ValidateNode(inner.Children[c], c == 0 ? low : inner.Keys[c], c + 1 < inner.Length ? inner.Keys[c + 1] : high, depth + 1, ref state, visit);
            if (n != inner.Counts[c]) throw new InvalidOperationException("child count");
            total += n;
        }
        for (int c = inner.Length; c < inner.Children.Length; c++)
            if (inner.Children[c] != null || inner.Keys[c] != null) throw new InvalidOperationException("stale slot");
        return total;
    }
}

/// <summary>
/// A monotone bound over a <see cref="ScoredMemberTree"/>'s order: true for the entries before it, false from the first
/// entry at or after it on (<see cref="ScoredMemberTree.CountBefore{TBound}"/> counts the former).
/// </summary>
internal interface IEntryBound
{
    /// <summary>
    /// Decides from a separator's route key alone, when it can, whether that separator is before the bound: true with
    /// <paramref name="before"/> set, or false to have <see cref="Before"/> read the separator.
    /// </summary>
    bool Route(ulong route, out bool before);

    /// <summary>
    /// True, with <paramref name="key"/>, when the bound is one route key: a separator whose route is below it is before
    /// the bound, one above it is not, one equal to it is decided by <see cref="Before"/>. A descent then counts the
    /// routes below the key and equal to it instead of searching them one at a time, and reads only the separators that tie.
    /// </summary>
    bool RouteKey(out ulong key);

    /// <summary>True when the entry at <paramref name="p"/> of <paramref name="data"/> is before the bound.</summary>
    bool Before(byte[] data, int p);
}
