using System.Buffers.Binary;

namespace RespKv.Storage;

/// <summary>
/// A hash value (TYPE <c>hash</c>): fields kept sorted in unsigned byte order (memcmp, shorter first on a
/// common prefix — <see cref="MemoryExtensions.SequenceCompareTo{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>),
/// each with a binary-safe value.
/// <para>
/// <b>Shape.</b> A persistent (immutable) B+tree. A leaf is one packed <c>byte[]</c>:
/// <c>[int32 count][int32 entryOffset × count][entries]</c>, each entry
/// <c>[varint fieldLength][field][varint valueLength][value]</c>; so a field costs its bytes plus 4 (offset)
/// and 2 (lengths, for short strings) bytes, and no per-field object header. A small hash is a single
/// leaf (the compact form); past <see cref="MaxLeafBytes"/> a leaf splits and inner nodes appear
/// (<see cref="Inner"/>: children, separator fields with their route words, and per-child field counts, fan-out up
/// to <see cref="MaxChildren"/>). Get, set and delete cost O(log n) comparisons plus copying one leaf
/// (at most ~<see cref="MaxLeafBytes"/> bytes unless a single entry is larger) and the path of inner nodes.
/// </para>
/// <para>
/// <b>Concurrency.</b> Nothing reachable from a published <see cref="SortedHash"/> is ever written again:
/// a write (<see cref="Set(ReadOnlySpan{byte}, ReadOnlySpan{byte}, out bool)"/>, <see cref="Remove"/>) copies the leaf it changes and the inner nodes on the
/// path to it (copy-on-write) and returns a new <see cref="SortedHash"/>, which the caller publishes by
/// replacing the key's entry (<see cref="Database.Set(ReadOnlySpan{byte}, object, long, KeyEvent?)"/>) under the key's shard lock. Lock-free readers
/// that loaded the old entry keep walking the old, intact version, so no reader can see a torn state and
/// readers need no lock or version check. Unchanged leaves and subtrees are shared between versions.
/// </para>
/// </summary>
public sealed class SortedHash
{
    /// <summary>A leaf whose packed size would exceed this many bytes splits in two (when it holds at least two entries).</summary>
    internal const int MaxLeafBytes = 1024;

    /// <summary>A leaf smaller than this many bytes after a delete is merged with (or rebalanced against) a sibling.</summary>
    internal const int MinLeafBytes = MaxLeafBytes / 4;

    /// <summary>Most children of an inner node.</summary>
    internal const int MaxChildren = 64;

    /// <summary>An inner node with fewer children after a delete is merged with (or rebalanced against) a sibling.</summary>
    internal const int MinChildren = MaxChildren / 4;

    private const int HeaderBytes = 4;

    private static readonly byte[] EmptyLeaf = new byte[HeaderBytes];

    /// <summary>The hash with no field (never stored under a key: deleting the last field deletes the key).</summary>
    public static SortedHash Empty { get; } = new(EmptyLeaf, 0, 0, isSmall: true);

    /// <summary>Redis keeps a hash as a listpack while it has at most this many fields (<c>hash-max-listpack-entries</c>, 512 in Redis 7.0).</summary>
    public const int SmallMaxFields = 512;

    /// <summary>… and no field or value longer than this many bytes (<c>hash-max-listpack-value</c>).</summary>
    public const int SmallMaxLength = 64;

    /// <summary>The root: a leaf (<c>byte[]</c>) or an <see cref="Inner"/>.</summary>
    private readonly object _root;

    /// <summary>
    /// The fields that carry an expiry (Redis 7.4's hash-field expiration): a hash of the same shape mapping each such
    /// field to its absolute expiry, 8 bytes little-endian Unix ms; null while no field has one, so a hash without field
    /// TTLs pays one null reference and a field without a TTL pays nothing.
    /// </summary>
    private readonly SortedHash? _ttls;

    private SortedHash(object root, long count, long bytes, bool isSmall, SortedHash? ttls = null, long minExpireAtMs = long.MaxValue)
    {
        _root = root;
        Count = count;
        Bytes = bytes;
        IsSmall = isSmall;
        _ttls = ttls is { Count: > 0 } ? ttls : null;
        MinExpireAtMs = _ttls == null ? long.MaxValue : minExpireAtMs;
    }

    /// <summary>The earliest field expiry, Unix ms (<see cref="long.MaxValue"/> when no field has one): no field is expired before it.</summary>
    public long MinExpireAtMs { get; }

    /// <summary>True when at least one field carries an expiry (<c>HEXPIRE</c> and friends; Redis's <c>listpackex</c> / HFE metadata).</summary>
    public bool HasFieldExpiries => _ttls != null;

    /// <summary>Number of fields that carry an expiry (expired ones not yet reclaimed included).</summary>
    public long FieldExpiryCount => _ttls?.Count ?? 0;

    /// <summary>
    /// The fields with an expiry as a hash of field → 8-byte little-endian Unix ms (<see cref="ReadExpireAt"/>), null when none:
    /// the AOF rewrite emits <c>HPEXPIREAT</c> from it.
    /// </summary>
    public SortedHash? FieldExpiries => _ttls;

    /// <summary>A field is expired once the clock reaches its expiry (<c>now ≥ expireAt</c>, as keys: <see cref="KeyspaceShard.IsExpired"/>).</summary>
    public static bool IsExpired(long expireAtMs, long nowMs) => expireAtMs <= nowMs;

    /// <summary>Decodes a value of <see cref="FieldExpiries"/>: the expiry in Unix ms.</summary>
    public static long ReadExpireAt(ReadOnlySpan<byte> encoded) => BinaryPrimitives.ReadInt64LittleEndian(encoded);

    /// <summary>The absolute expiry of <paramref name="field"/> in Unix ms; false when it has none (or is absent).</summary>
    public bool TryGetExpireAt(ReadOnlySpan<byte> field, out long expireAtMs)
    {
        expireAtMs = 0;
        if (_ttls == null || !_ttls.TryGet(field, out ReadOnlySpan<byte> encoded)) return false;
        expireAtMs = ReadExpireAt(encoded);
        return true;
    }

    /// <summary>True when <paramref name="field"/> exists and its expiry has passed at <paramref name="nowMs"/> (present but no longer visible).</summary>
    public bool IsFieldExpired(ReadOnlySpan<byte> field, long nowMs) =>
        MinExpireAtMs <= nowMs && TryGetExpireAt(field, out long at) && IsExpired(at, nowMs);

    /// <summary>
    /// The hash with <paramref name="field"/> (which must exist) expiring at <paramref name="expireAtMs"/> Unix ms (&gt; 0);
    /// this instance is unchanged.
    /// </summary>
    public SortedHash WithExpireAt(ReadOnlySpan<byte> field, long expireAtMs)
    {
        Span<byte> encoded = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(encoded, expireAtMs);
        bool hadOne = TryGetExpireAt(field, out long previous);
        SortedHash ttls = (_ttls ?? Empty).Set(field, encoded, out _);
        long min = hadOne && previous == MinExpireAtMs && expireAtMs > previous ? MinOf(ttls) : Math.Min(MinExpireAtMs, expireAtMs);
        return new SortedHash(_root, Count, Bytes, IsSmall, ttls, min);
    }

    /// <summary>The hash with <paramref name="field"/>'s expiry removed (HPERSIST); this instance when it had none.</summary>
    public SortedHash WithoutExpireAt(ReadOnlySpan<byte> field)
    {
        SortedHash? ttls = DropExpiry(field, out long min);
        return ReferenceEquals(ttls, _ttls) ? this : new SortedHash(_root, Count, Bytes, IsSmall, ttls, min);
    }

    /// <summary>The expiry map without <paramref name="field"/> and its new minimum (recomputed only when the field held it).</summary>
    private SortedHash? DropExpiry(ReadOnlySpan<byte> field, out long min)
    {
        min = MinExpireAtMs;
        if (!TryGetExpireAt(field, out long previous)) return _ttls;
        SortedHash ttls = _ttls!.Remove(field, out _);
        if (previous == MinExpireAtMs) min = MinOf(ttls);
        return ttls;
    }

    private static long MinOf(SortedHash ttls)
    {
        var earliest = new Earliest { Min = long.MaxValue };
        ttls.ForEach(ref earliest);
        return earliest.Min;
    }

    private struct Earliest : IHashVisitor
    {
        public long Min;
        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Min = Math.Min(Min, ReadExpireAt(value));
            return true;
        }
    }

    /// <summary>
    /// The hash without the fields expired at <paramref name="nowMs"/>: this same instance (no allocation) when none is
    /// (<see cref="MinExpireAtMs"/> &gt; now). Each removed field is added to <paramref name="removed"/> when given (the
    /// writer logs them as <c>HDEL</c>). Readers use it to hide expired fields, writers and the active cycle to reclaim them.
    /// </summary>
    public SortedHash WithoutExpired(long nowMs, List<byte[]>? removed = null)
    {
        if (MinExpireAtMs > nowMs) return this;
        var due = new Due { Now = nowMs, Fields = new List<byte[]>() };
        _ttls!.ForEach(ref due);
        SortedHash result = this;
        foreach (byte[] field in due.Fields) result = result.Remove(field, out _);
        removed?.AddRange(due.Fields);
        return result;
    }

    private struct Due : IHashVisitor
    {
        public long Now;
        public List<byte[]> Fields;
        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            if (IsExpired(ReadExpireAt(value), Now)) Fields.Add(field.ToArray());
            return true;
        }
    }

    /// <summary>
    /// True while this hash (through the writes that built it) never held more than <see cref="SmallMaxFields"/>
    /// fields nor a field or value longer than <see cref="SmallMaxLength"/> bytes: when Redis 7.0 would still
    /// keep it as a listpack (it never converts back, and neither does this flag). HSCAN returns such a hash
    /// whole in one call, as Redis does.
    /// </summary>
    public bool IsSmall { get; }

    /// <summary>Number of fields (HLEN).</summary>
    public long Count { get; }

    /// <summary>Sum of the fields' and values' lengths in bytes (kept incrementally, never by walking the tree).</summary>
    public long Bytes { get; }

    /// <summary>Height of the tree: 1 while the hash is a single leaf.</summary>
    public int Depth
    {
        get
        {
            int depth = 1;
            for (object n = _root; n is Inner inner; n = inner.Children[0]) depth++;
            return depth;
        }
    }

    // ----- reads -----

    /// <summary>The value of <paramref name="field"/> (a view into the immutable leaf), or false when absent.</summary>
    public bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        byte[] leaf = FindLeaf(field);
        int i = Search(leaf, field, out bool found);
        if (!found)
        {
            value = default;
            return false;
        }
        ReadEntry(leaf, i, out _, out value);
        return true;
    }

    /// <summary>True when <paramref name="field"/> exists.</summary>
    public bool Contains(ReadOnlySpan<byte> field)
    {
        Search(FindLeaf(field), field, out bool found);
        return found;
    }

    /// <summary>The field and value at 0-based <paramref name="rank"/> in field order (0 ≤ rank &lt; <see cref="Count"/>), in O(log n).</summary>
    public void ElementAt(long rank, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        if ((ulong)rank >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(rank));
        object node = _root;
        while (node is Inner inner)
        {
            int c = 0;
            while (rank >= inner.Counts[c]) rank -= inner.Counts[c++];
            node = inner.Children[c];
        }
        ReadEntry((byte[])node, (int)rank, out field, out value);
    }

    /// <summary>Calls <paramref name="visitor"/> for every field in order until it returns false.</summary>
    public void ForEach<TVisitor>(ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct
    {
        int nodes = 0;
        Visit(_root, default, false, false, ref visitor, ref nodes);
    }

    /// <summary>
    /// Calls <paramref name="visitor"/> for the fields at or after <paramref name="start"/> (strictly after it
    /// when <paramref name="exclusive"/>), in order, until it returns false or the fields run out: a seek in
    /// O(log n) then O(1) per field. Returns the number of tree nodes (inner nodes and leaves) it entered,
    /// which tests use to prove a prefix scan's cost.
    /// </summary>
    public int ForEachFrom<TVisitor>(scoped ReadOnlySpan<byte> start, bool exclusive, ref TVisitor visitor)
        where TVisitor : IHashVisitor, allows ref struct
    {
        int nodes = 0;
        Visit(_root, start, true, exclusive, ref visitor, ref nodes);
        return nodes;
    }

    /// <summary>Depth-first ordered walk; returns false once the visitor stopped.</summary>
    private static bool Visit<TVisitor>(object node, scoped ReadOnlySpan<byte> start, bool seek, bool exclusive,
        ref TVisitor visitor, ref int nodes) where TVisitor : IHashVisitor, allows ref struct
    {
        nodes++;
        if (node is Inner inner)
        {
            int first = seek ? ChildFor(inner, start) : 0;
            for (int c = first; c < inner.Children.Length; c++)
            {
                if (!Visit(inner.Children[c], start, seek && c == first, exclusive, ref visitor, ref nodes)) return false;
            }
            return true;
        }
        byte[] leaf = (byte[])node;
        int n = LeafCount(leaf), i = 0;
        if (seek)
        {
            i = Search(leaf, start, out bool found);
            if (found && exclusive) i++;
        }
        for (; i < n; i++)
        {
            ReadEntry(leaf, i, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value);
            if (!visitor.Visit(field, value)) return false;
        }
        return true;
    }

    private byte[] FindLeaf(ReadOnlySpan<byte> field)
    {
        object node = _root;
        while (node is Inner inner) node = inner.Children[ChildFor(inner, field)];
        return (byte[])node;
    }

    /// <summary>The child of <paramref name="inner"/> whose range holds <paramref name="field"/>: the last i with Keys[i] ≤ field (child 0 when none).</summary>
    private static int ChildFor(Inner inner, ReadOnlySpan<byte> field)
    {
        byte[]?[] keys = inner.Keys;
        int n = keys.Length;
        if (n < 2) return 0;
        // A field outside the separators' common prefix is before or after all of them.
        int p = inner.PrefixLength;
        if (p > 0)
        {
            int m = Math.Min(p, field.Length);
            int c = field[..m].SequenceCompareTo(keys[1].AsSpan(0, m));
            if (c < 0 || (c == 0 && field.Length < p)) return 0;
            if (c > 0) return n - 1;
        }
        // Binary search on the route words (one array), reading a separator only when its route ties the field's.
        ulong route = Inner.Route(field, p);
        ulong[] routes = inner.Routes;
        int lo = 1, hi = n - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            ulong r = routes[mid];
            int cmp = route != r ? (route < r ? -1 : 1) : field.SequenceCompareTo(keys[mid]);
            if (cmp >= 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return lo - 1;
    }

    // ----- writes (copy-on-write) -----

    /// <summary>
    /// The hash with <paramref name="field"/> set to <paramref name="value"/> (this instance is unchanged).
    /// <paramref name="added"/> is true when the field was new.
    /// </summary>
    public SortedHash Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, out bool added) => Set(field, value, keepExpiry: false, out added);

    /// <summary>
    /// The hash with <paramref name="field"/> set to <paramref name="value"/>: its expiry is kept when
    /// <paramref name="keepExpiry"/> (HINCRBY, HINCRBYFLOAT, HSETEX KEEPTTL: Redis's <c>HASH_SET_KEEP_TTL</c>), else
    /// removed (HSET, HMSET, HSETNX).
    /// </summary>
    public SortedHash Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool keepExpiry, out bool added)
    {
        SortedHash? ttls = _ttls;
        long min = MinExpireAtMs;
        if (!keepExpiry) ttls = DropExpiry(field, out min);
        Change change = SetIn(_root, field, value, out added, out int oldValueLength);
        object root = change.Right == null
            ? change.Node
            : new Inner([change.Node, change.Right], [null, change.Separator], [CountOf(change.Node), CountOf(change.Right)]);
        long bytes = Bytes + value.Length + (added ? field.Length : -oldValueLength);
        long count = Count + (added ? 1 : 0);
        bool isSmall = IsSmall && count <= SmallMaxFields && field.Length <= SmallMaxLength && value.Length <= SmallMaxLength;
        return new SortedHash(root, count, bytes, isSmall, ttls, min);
    }

    /// <summary>
    /// The hash without <paramref name="field"/>; this same instance when the field is absent
    /// (<paramref name="removed"/> false). The result may be empty (<see cref="Count"/> 0).
    /// </summary>
    public SortedHash Remove(ReadOnlySpan<byte> field, out bool removed)
    {
        object root = RemoveIn(_root, field, out removed, out int removedBytes);
        if (!removed) return this;
        while (root is Inner { Children.Length: 1 } single) root = single.Children[0];
        SortedHash? ttls = DropExpiry(field, out long min);
        return new SortedHash(root, Count - 1, Bytes - removedBytes, IsSmall, ttls, min);
    }

    /// <summary>A node after a change: itself, or two nodes split around <see cref="Separator"/>.</summary>
    private readonly record struct Change(object Node, object? Right, byte[]? Separator);

    private static Change SetIn(object node, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, out bool added, out int oldValueLength)
    {
        if (node is byte[] leaf)
        {
            int i = Search(leaf, field, out bool found);
            added = !found;
            oldValueLength = 0;
            if (found)
            {
                ReadEntry(leaf, i, out _, out ReadOnlySpan<byte> old);
                oldValueLength = old.Length;
            }
            byte[] updated = Splice(leaf, i, found ? i + 1 : i, field, value, insert: true);
            if (updated.Length <= MaxLeafBytes || LeafCount(updated) < 2) return new Change(updated, null, null);
            return SplitLeaf(updated);
        }
        var inner = (Inner)node;
        int c = ChildFor(inner, field);
        Change child = SetIn(inner.Children[c], field, value, out added, out oldValueLength);
        if (child.Right == null) return new Change(inner.WithChild(c, child.Node), null, null);
        Inner grown = inner.ReplaceRange(c, 1, [child.Node, child.Right], [inner.Keys[c], child.Separator]);
        return grown.Children.Length <= MaxChildren ? new Change(grown, null, null) : SplitInner(grown);
    }

    private static object RemoveIn(object node, ReadOnlySpan<byte> field, out bool removed, out int removedBytes)
    {
        if (node is byte[] leaf)
        {
            int i = Search(leaf, field, out removed);
            removedBytes = 0;
            if (!removed) return leaf;
            ReadEntry(leaf, i, out ReadOnlySpan<byte> f, out ReadOnlySpan<byte> v);
            removedBytes = f.Length + v.Length;
            return Splice(leaf, i, i + 1, default, default, insert: false);
        }
        var inner = (Inner)node;
        int c = ChildFor(inner, field);
        object child = RemoveIn(inner.Children[c], field, out removed, out removedBytes);
        if (!removed) return inner;
        if (!IsUnderfull(child) || inner.Children.Length == 1) return inner.WithChild(c, child);
        if (child is byte[] emptyLeaf && LeafCount(emptyLeaf) == 0) return inner.ReplaceRange(c, 1, [], []);
        // Merge the underfull child with a neighbour; split the union again when it is too big.
        int left = c > 0 ? c - 1 : c;
        object a = left == c ? child : inner.Children[left];
        object b = left == c ? inner.Children[left + 1] : child;
        Change merged = Merge(a, b, inner.Keys[left + 1]!);
        return merged.Right == null
            ? inner.ReplaceRange(left, 2, [merged.Node], [inner.Keys[left]])
            : inner.ReplaceRange(left, 2, [merged.Node, merged.Right], [inner.Keys[left], merged.Separator]);
    }

    private static bool IsUnderfull(object node) =>
        node is byte[] leaf ? leaf.Length < MinLeafBytes : ((Inner)node).Children.Length < MinChildren;

    /// <summary>Concatenates two adjacent siblings (separated by <paramref name="separator"/>); splits the result again when too big.</summary>
    private static Change Merge(object a, object b, byte[] separator)
    {
        if (a is byte[] la)
        {
            var lb = (byte[])b;
            int na = LeafCount(la), nb = LeafCount(lb);
            byte[] joined = AllocateLeaf(na + nb, DataLength(la) + DataLength(lb));
            int entry = 0, data = DataStart(na + nb);
            CopyEntries(la, 0, na, joined, ref entry, ref data);
            CopyEntries(lb, 0, nb, joined, ref entry, ref data);
            return joined.Length <= MaxLeafBytes || na + nb < 2 ? new Change(joined, null, null) : SplitLeaf(joined);
        }
        var ia = (Inner)a;
        var ib = (Inner)b;
        Inner union = Inner.Concat(ia, ib, separator);
        return union.Children.Length <= MaxChildren ? new Change(union, null, null) : SplitInner(union);
    }

    private static Change SplitLeaf(byte[] leaf)
    {
        int n = LeafCount(leaf);
        int half = DataLength(leaf) / 2, dataStart = DataStart(n);
        int m = 1;
        while (m < n - 1 && EntryOffset(leaf, m) - dataStart < half) m++;
        byte[] left = Slice(leaf, 0, m), right = Slice(leaf, m, n);
        ReadEntry(right, 0, out ReadOnlySpan<byte> first, out _);
        return new Change(left, right, first.ToArray());
    }

    private static Change SplitInner(Inner inner)
    {
        int n = inner.Children.Length, m = n / 2;
        Inner left = inner.Range(0, m), right = inner.Range(m, n);
        return new Change(left, right, inner.Keys[m]);
    }

    private static long CountOf(object node) => node is byte[] leaf ? LeafCount(leaf) : ((Inner)node).Total;

    /// <summary>
    /// An inner node: <see cref="Children"/> (leaves or inner nodes), <see cref="Keys"/> (Keys[i], i ≥ 1, is a
    /// lower bound of child i's fields and an exclusive upper bound of child i-1's; Keys[0] is unused) and
    /// <see cref="Counts"/> (fields per child, for rank lookups). Immutable once published.
    /// </summary>
    private sealed class Inner
    {
        public readonly object[] Children;
        public readonly byte[]?[] Keys;
        public readonly long[] Counts;
        public readonly long Total;

        /// <summary>
        /// Route words: for child i ≥ 1, the 8 bytes of <c>Keys[i]</c> after <see cref="PrefixLength"/>, big-endian and
        /// zero-padded (entry 0 unused). Ordering two routes orders their strings unless they tie (then the bytes decide),
        /// so a descent compares integers in one array instead of reading a separator array per step — each a likely cache
        /// miss in a large hash (bench/PROFILE.md, finding 5).
        /// </summary>
        public readonly ulong[] Routes;

        /// <summary>Bytes every separator of this node starts with (0 with fewer than two children).</summary>
        public readonly int PrefixLength;

        public Inner(object[] children, byte[]?[] keys, long[] counts)
        {
            Children = children;
            Keys = keys;
            Counts = counts;
            if (keys[0] != null) keys[0] = null;
            long total = 0;
            foreach (long c in counts) total += c;
            Total = total;
            Routes = new ulong[keys.Length];
            if (keys.Length < 2) return;
            byte[] first = keys[1]!;
            int prefix = first.Length;
            for (int i = 2; i < keys.Length && prefix > 0; i++) prefix = first.AsSpan(0, prefix).CommonPrefixLength(keys[i]);
            PrefixLength = prefix;
            for (int i = 1; i < keys.Length; i++) Routes[i] = Route(keys[i], prefix);
        }

        /// <summary>The route word of <paramref name="key"/> after its first <paramref name="prefix"/> bytes (see <see cref="Routes"/>).</summary>
        public static ulong Route(ReadOnlySpan<byte> key, int prefix)
        {
            ReadOnlySpan<byte> rest = key.Length > prefix ? key[prefix..] : default;
            if (rest.Length >= 8) return BinaryPrimitives.ReadUInt64BigEndian(rest);
            Span<byte> padded = stackalloc byte[8];
            padded.Clear();
            rest.CopyTo(padded);
            return BinaryPrimitives.ReadUInt64BigEndian(padded);
        }

        /// <summary>A copy with child <paramref name="index"/> replaced (same key).</summary>
        public Inner WithChild(int index, object child)
        {
            var children = (object[])Children.Clone();
            children[index] = child;
            long count = CountOf(child);
            // A value replaced in place of another keeps every count: the copy shares the counts (immutable once published).
            if (count == Counts[index]) return new Inner(children, this, Counts, Total);
            var counts = (long[])Counts.Clone();
            counts[index] = count;
            return new Inner(children, this, counts, Total - Counts[index] + count);
        }

        /// <summary>A node with <paramref name="same"/>'s separators (and their routes) over other children.</summary>
        private Inner(object[] children, Inner same, long[] counts, long total)
        {
            Children = children;
            Keys = same.Keys;
            Routes = same.Routes;
            PrefixLength = same.PrefixLength;
            Counts = counts;
            Total = total;
        }

        /// <summary>Children [from, to) as a new node.</summary>
        public Inner Range(int from, int to) => new(Children[from..to], Keys[from..to], Counts[from..to]);

        /// <summary>
        /// A new node with children [index, index+remove) replaced by <paramref name="insert"/>, whose lower
        /// bounds are <paramref name="insertKeys"/> (the first one normally Keys[index]).
        /// </summary>
        public Inner ReplaceRange(int index, int remove, object[] insert, byte[]?[] insertKeys)
        {
            int n = Children.Length - remove + insert.Length;
            var children = new object[n];
            var keys = new byte[]?[n];
            var counts = new long[n];
            Array.Copy(Children, children, index);
            Array.Copy(Keys, keys, index);
            Array.Copy(Counts, counts, index);
            for (int j = 0; j < insert.Length; j++)
            {
                children[index + j] = insert[j];
                keys[index + j] = insertKeys[j];
                counts[index + j] = CountOf(insert[j]);
            }
            int tail = Children.Length - index - remove;
            Array.Copy(Children, index + remove, children, index + insert.Length, tail);
            Array.Copy(Keys, index + remove, keys, index + insert.Length, tail);
            Array.Copy(Counts, index + remove, counts, index + insert.Length, tail);
            return new Inner(children, keys, counts);
        }

        /// <summary>The children of <paramref name="a"/> then <paramref name="b"/> (b's first lower bound is <paramref name="separator"/>).</summary>
        public static Inner Concat(Inner a, Inner b, byte[] separator)
        {
            var keys = new byte[]?[a.Keys.Length + b.Keys.Length];
            a.Keys.CopyTo(keys, 0);
            b.Keys.CopyTo(keys, a.Keys.Length);
            keys[a.Keys.Length] = separator;
            return new Inner([.. a.Children, .. b.Children], keys, [.. a.Counts, .. b.Counts]);
        }
    }

    /// <summary>
    /// Verifies the tree's invariants (fields strictly increasing across leaves and within separator bounds,
    /// counts and byte totals consistent, no empty leaf below the root, one depth for all leaves); throws
    /// <see cref="InvalidOperationException"/> naming the first violation. For tests.
    /// </summary>
    internal void CheckInvariants()
    {
        byte[]? previous = null;
        long bytes = 0;
        int leafDepth = -1;
        long count = CheckNode(_root, null, null, 1, ref previous, ref bytes, ref leafDepth);
        if (count != Count) throw new InvalidOperationException($"Count {Count} but {count} fields");
        if (bytes != Bytes) throw new InvalidOperationException($"Bytes {Bytes} but {bytes}");
    }

    private long CheckNode(object node, byte[]? low, byte[]? high, int depth, ref byte[]? previous, ref long bytes, ref int leafDepth)
    {
        if (node is byte[] leaf)
        {
            if (leafDepth < 0) leafDepth = depth;
            else if (leafDepth != depth) throw new InvalidOperationException("Leaves at different depths");
            int n = LeafCount(leaf);
            if (n == 0 && node != _root) throw new InvalidOperationException("Empty leaf below the root");
            for (int i = 0; i < n; i++)
            {
                ReadEntry(leaf, i, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value);
                if (previous != null && field.SequenceCompareTo(previous) <= 0) throw new InvalidOperationException("Fields out of order");
                if (low != null && field.SequenceCompareTo(low) < 0) throw new InvalidOperationException("Field below its separator");
                if (high != null && field.SequenceCompareTo(high) >= 0) throw new InvalidOperationException("Field at or above the next separator");
                previous = field.ToArray();
                bytes += field.Length + value.Length;
            }
            return n;
        }
        var inner = (Inner)node;
        if (inner.Children.Length < (node == _root ? 2 : 1)) throw new InvalidOperationException("Inner node without enough children");
        if (inner.Children.Length > MaxChildren) throw new InvalidOperationException("Inner node too wide");
        long total = 0;
        for (int c = 0; c < inner.Children.Length; c++)
        {
            byte[]? childLow = c == 0 ? low : inner.Keys[c];
            byte[]? childHigh = c + 1 < inner.Children.Length ? inner.Keys[c + 1] : high;
            long n = CheckNode(inner.Children[c], childLow, childHigh, depth + 1, ref previous, ref bytes, ref leafDepth);
            if (n != inner.Counts[c]) throw new InvalidOperationException("Child count mismatch");
            total += n;
        }
        if (total != inner.Total) throw new InvalidOperationException("Total mismatch");
        for (int c = 1; c < inner.Children.Length; c++)
        {
            if (!inner.Keys[c].AsSpan().StartsWith(inner.Keys[1].AsSpan(0, inner.PrefixLength)))
                throw new InvalidOperationException("Separator outside its node's common prefix");
            if (inner.Routes[c] != Inner.Route(inner.Keys[c], inner.PrefixLength)) throw new InvalidOperationException("Stale route word");
            // Every separator is found by the routed descent exactly where it bounds its child.
            if (ChildFor(inner, inner.Keys[c]) != c) throw new InvalidOperationException("Routed descent misses a separator");
        }
        return total;
    }

    // ----- packed leaves -----

    private static int LeafCount(byte[] leaf) => BinaryPrimitives.ReadInt32LittleEndian(leaf);

    private static int DataStart(int count) => HeaderBytes + 4 * count;

    private static int EntryOffset(byte[] leaf, int i) => BinaryPrimitives.ReadInt32LittleEndian(leaf.AsSpan(HeaderBytes + 4 * i));

    private static int DataLength(byte[] leaf) => leaf.Length - DataStart(LeafCount(leaf));

    private static void ReadEntry(byte[] leaf, int i, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        int p = EntryOffset(leaf, i);
        int fieldLength = Varint.Read(leaf, ref p);
        field = leaf.AsSpan(p, fieldLength);
        p += fieldLength;
        int valueLength = Varint.Read(leaf, ref p);
        value = leaf.AsSpan(p, valueLength);
    }

    private static ReadOnlySpan<byte> FieldAt(byte[] leaf, int i)
    {
        int p = EntryOffset(leaf, i);
        int fieldLength = Varint.Read(leaf, ref p);
        return leaf.AsSpan(p, fieldLength);
    }

    /// <summary>Lower bound: the first index whose field is ≥ <paramref name="field"/>; <paramref name="found"/> when equal.</summary>
    private static int Search(byte[] leaf, ReadOnlySpan<byte> field, out bool found)
    {
        int lo = 0, hi = LeafCount(leaf) - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int cmp = FieldAt(leaf, mid).SequenceCompareTo(field);
            if (cmp == 0)
            {
                found = true;
                return mid;
            }
            if (cmp < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        found = false;
        return lo;
    }

    /// <summary>A copy of <paramref name="leaf"/> with entries [from, to) replaced by (field, value) when <paramref name="insert"/>, else removed.</summary>
    private static byte[] Splice(byte[] leaf, int from, int to, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool insert)
    {
        int n = LeafCount(leaf);
        int count = n - (to - from) + (insert ? 1 : 0);
        int removedData = RangeData(leaf, n, from, to);
        int insertedData = insert ? EntrySize(field.Length, value.Length) : 0;
        byte[] result = AllocateLeaf(count, DataLength(leaf) - removedData + insertedData);
        int entry = 0, data = DataStart(count);
        CopyEntries(leaf, 0, from, result, ref entry, ref data);
        if (insert)
        {
            BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(HeaderBytes + 4 * entry++), data);
            Varint.Write(result, ref data, field.Length);
            field.CopyTo(result.AsSpan(data));
            data += field.Length;
            Varint.Write(result, ref data, value.Length);
            value.CopyTo(result.AsSpan(data));
            data += value.Length;
        }
        CopyEntries(leaf, to, n, result, ref entry, ref data);
        return result;
    }

    private static byte[] Slice(byte[] leaf, int from, int to)
    {
        int n = LeafCount(leaf);
        byte[] result = AllocateLeaf(to - from, RangeData(leaf, n, from, to));
        int entry = 0, data = DataStart(to - from);
        CopyEntries(leaf, from, to, result, ref entry, ref data);
        return result;
    }

    private static byte[] AllocateLeaf(int count, int dataLength)
    {
        byte[] leaf = GC.AllocateUninitializedArray<byte>(DataStart(count) + dataLength);
        BinaryPrimitives.WriteInt32LittleEndian(leaf, count);
        return leaf;
    }

    /// <summary>Bytes of entries [from, to) of a leaf with <paramref name="n"/> entries.</summary>
    private static int RangeData(byte[] leaf, int n, int from, int to)
    {
        if (from >= to) return 0;
        int end = to == n ? leaf.Length : EntryOffset(leaf, to);
        return end - EntryOffset(leaf, from);
    }

    /// <summary>Appends entries [from, to) of <paramref name="source"/> to <paramref name="target"/> at entry index/data position, one block copy.</summary>
    private static void CopyEntries(byte[] source, int from, int to, byte[] target, ref int entry, ref int data)
    {
        if (from >= to) return;
        int n = LeafCount(source);
        int start = EntryOffset(source, from), length = RangeData(source, n, from, to);
        int shift = data - start;
        for (int i = from; i < to; i++)
            BinaryPrimitives.WriteInt32LittleEndian(target.AsSpan(HeaderBytes + 4 * entry++), EntryOffset(source, i) + shift);
        Buffer.BlockCopy(source, start, target, data, length);
        data += length;
    }

    private static int EntrySize(int fieldLength, int valueLength) =>
        Varint.Size(fieldLength) + fieldLength + Varint.Size(valueLength) + valueLength;
}

/// <summary>Receives a hash's fields in order from <see cref="SortedHash.ForEach{TVisitor}"/>; return false to stop.</summary>
public interface IHashVisitor
{
    /// <summary>One field and its value (views into an immutable leaf, valid while the hash is referenced).</summary>
    bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value);
}
