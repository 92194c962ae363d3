using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RespKv.Storage;

/// <summary>
/// A hash value (TYPE <c>hash</c>): fields kept sorted in unsigned byte order (memcmp, shorter first on a
/// common prefix — <see cref="MemoryExtensions.SequenceCompareTo{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>),
/// each with a binary-safe value.
/// <para>
/// <b>Shape.</b> A B+tree. A leaf is one packed <c>byte[]</c>:
/// <c>[int32 count][int32 usedBytes][int32 entryOffset × count][fingerprint byte × count][entries][free room]</c>, each entry
/// <c>[varint fieldLength][field][varint valueLength][value]</c>; so a field costs its bytes plus 4 (offset), 1
/// (fingerprint) and 2 (lengths, for short strings) bytes, and no per-field object header. A field is found in its leaf
/// by scanning the fingerprints (one vectorized pass over a cache line or two, <see cref="Find"/>) and comparing the
/// few fields whose fingerprint matches, rather than by a binary search that reads a field per step; an insert's
/// position still comes from the binary search. A small hash is a single
/// leaf (the compact form, allocated to its exact size, as Redis reallocates a listpack); past <see cref="MaxLeafBytes"/>
/// a leaf splits and inner nodes appear (<see cref="Inner"/>: children, separator fields with their route words, and
/// per-child field counts, fan-out up to <see cref="MaxChildren"/>). A leaf below an inner node is allocated with room up
/// to <see cref="MaxLeafBytes"/>, so most writes fit where they are. Get, set and delete cost O(log n) comparisons plus
/// moving the bytes of one leaf (at most ~<see cref="MaxLeafBytes"/> unless a single entry is larger).
/// </para>
/// <para>
/// <b>Writes in place, snapshots in O(1).</b> <see cref="Put"/> and <see cref="Delete"/> change this instance: the nodes
/// it owns are changed where they are (no allocation when the leaf has room), and a node it shares with a snapshot is
/// copied first, once, together with the inner nodes above it (copy-on-write), after which the copy is owned. Ownership
/// is a bit per child in each owned inner node (<see cref="Inner.Owned"/>) and one for the root, so nothing is stored per
/// leaf. <see cref="Snapshot"/> makes every node shared by clearing the root's bit: the snapshot and this hash then hold
/// the same frozen tree, and each write of either copies the path it changes (Clojure's transients, with the owner held
/// per node rather than by a token). The persistent operations (<see cref="Set(ReadOnlySpan{byte}, ReadOnlySpan{byte}, out bool)"/>,
/// <see cref="Remove"/>, <see cref="WithExpireAt"/>…) are a snapshot followed by the in-place operation, so the instance
/// they are called on is left unchanged.
/// </para>
/// <para>
/// <b>Concurrency.</b> A hash stored under a key is changed only under its shard lock, and read only under it too
/// (<see cref="Kinds.HashKind"/> is <see cref="Kinds.ValueKind.MutatedInPlace"/>: hash reads carry <c>ReadsUnderLock</c>), so no
/// reader sees a leaf while it moves. A snapshot taken under the lock (<see cref="Kinds.ValueKind.Copy(object)"/>: the AOF rewrite,
/// BGSAVE, a replica's full sync, COPY) may be read without it: nothing it reaches is written again.
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

    /// <summary>A leaf's header: its entry count and its used bytes (header, offsets and entries), two int32.</summary>
    private const int HeaderBytes = 8;

    private static readonly byte[] EmptyLeaf = AllocateLeaf(0, 0, 0);

    /// <summary>
    /// The hash with no field (never stored under a key: deleting the last field deletes the key). It is never changed:
    /// <see cref="Put"/> and <see cref="Delete"/> refuse it; start a new hash with <see cref="CreateEmpty"/>.
    /// </summary>
    public static SortedHash Empty { get; } = new(EmptyLeaf, 0, 0, isSmall: true);

    /// <summary>A new hash with no field, to fill with <see cref="Put"/>.</summary>
    public static SortedHash CreateEmpty() => new(EmptyLeaf, 0, 0, isSmall: true);

    /// <summary>Redis keeps a hash as a listpack while it has at most this many fields (<c>hash-max-listpack-entries</c>, 512 in Redis 7.0).</summary>
    public const int SmallMaxFields = 512;

    /// <summary>… and no field or value longer than this many bytes (<c>hash-max-listpack-value</c>).</summary>
    public const int SmallMaxLength = 64;

    /// <summary>The root: a leaf (<c>byte[]</c>) or an <see cref="Inner"/>.</summary>
    private object _root;

    /// <summary>True when this hash alone holds <see cref="_root"/> (it may be changed in place); false after <see cref="Snapshot"/>.</summary>
    private bool _rootOwned;

    /// <summary>
    /// The fields that carry an expiry (Redis 7.4's hash-field expiration): a hash of the same shape mapping each such
    /// field to its absolute expiry, 8 bytes little-endian Unix ms; null while no field has one, so a hash without field
    /// TTLs pays one null reference and a field without a TTL pays nothing.
    /// </summary>
    private SortedHash? _ttls;

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
    public long MinExpireAtMs { get; private set; }

    /// <summary>Sets the expiry map and its minimum (an empty map is dropped).</summary>
    private void SetExpiries(SortedHash? ttls, long min)
    {
        _ttls = ttls is { Count: > 0 } ? ttls : null;
        MinExpireAtMs = _ttls == null ? long.MaxValue : min;
    }

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
        SortedHash next = Snapshot();
        next.SetExpiries(ttls, min);
        return next;
    }

    /// <summary>The hash with <paramref name="field"/>'s expiry removed (HPERSIST); this instance when it had none.</summary>
    public SortedHash WithoutExpireAt(ReadOnlySpan<byte> field)
    {
        SortedHash? ttls = DropExpiry(field, out long min);
        if (ReferenceEquals(ttls, _ttls)) return this;
        SortedHash next = Snapshot();
        next.SetExpiries(ttls, min);
        return next;
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
    public bool IsSmall { get; private set; }

    /// <summary>Number of fields (HLEN).</summary>
    public long Count { get; private set; }

    /// <summary>Sum of the fields' and values' lengths in bytes (kept incrementally, never by walking the tree).</summary>
    public long Bytes { get; private set; }

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
        int i = Find(leaf, field);
        if (i < 0)
        {
            value = default;
            return false;
        }
        ReadEntry(leaf, i, out _, out value);
        return true;
    }

    /// <summary>True when <paramref name="field"/> exists.</summary>
    public bool Contains(ReadOnlySpan<byte> field) => Find(FindLeaf(field), field) >= 0;

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
        ulong[] routes = inner.Routes;
        int n = routes.Length;
        if (n < 2) return 0;
        byte[]?[] keys = inner.Keys;
        // A field outside the separators' common prefix is before or after all of them. A prefix of up to 16 bytes is held in
        // the node itself (two words), so only a longer one reads a separator.
        int p = inner.PrefixLength;
        if (p > 0)
        {
            int m = Math.Min(p, field.Length);
            int c = p <= 16 ? inner.ComparePrefix(field[..m]) : field[..m].SequenceCompareTo(keys[1].AsSpan(0, m));
            if (c < 0 || (c == 0 && field.Length < p)) return 0;
            if (c > 0) return n - 1;
        }
        // The routes below the field's are counted in one vectorized pass (no branch to mispredict); when the next route ties
        // the field's, a binary search reads the separators it must.
        ulong route = Inner.Route(field, p);
        int below = 0, i = 1;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<ulong> target = Vector256.Create(route);
            ref ulong first = ref MemoryMarshal.GetArrayDataReference(routes);
            for (; i + 4 <= n; i += 4)
                below += BitOperations.PopCount(Vector256.LessThan(Vector256.LoadUnsafe(ref first, (nuint)i), target).ExtractMostSignificantBits());
        }
        for (; i < n; i++) below += routes[i] < route ? 1 : 0;
        if (below + 1 >= n || routes[below + 1] != route) return below;
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

    // ----- writes -----

    /// <summary>
    /// A copy of this hash that shares its tree, its field expiries included; from now on neither changes the shared
    /// nodes in place (each copies what it changes: see the type's remarks). O(1). Call it under the key's shard lock: the
    /// copy may then be read without the lock while this hash goes on changing (<see cref="Kinds.ValueKind.Copy(object)"/>).
    /// </summary>
    public SortedHash Snapshot()
    {
        _rootOwned = false;
        return new SortedHash(_root, Count, Bytes, IsSmall, _ttls, MinExpireAtMs);
    }

    /// <summary>
    /// The hash with <paramref name="field"/> set to <paramref name="value"/> (this instance is unchanged).
    /// <paramref name="added"/> is true when the field was new.
    /// </summary>
    public SortedHash Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, out bool added) => Set(field, value, keepExpiry: false, out added);

    /// <summary>
    /// The hash with <paramref name="field"/> set to <paramref name="value"/>: its expiry is kept when
    /// <paramref name="keepExpiry"/> (HINCRBY, HINCRBYFLOAT, HSETEX KEEPTTL: Redis's <c>HASH_SET_KEEP_TTL</c>), else
    /// removed (HSET, HMSET, HSETNX). This instance is unchanged.
    /// </summary>
    public SortedHash Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool keepExpiry, out bool added)
    {
        SortedHash next = Snapshot();
        added = next.Put(field, value, keepExpiry);
        return next;
    }

    /// <summary>
    /// The hash without <paramref name="field"/>; this same instance when the field is absent
    /// (<paramref name="removed"/> false). The result may be empty (<see cref="Count"/> 0). This instance is unchanged.
    /// </summary>
    public SortedHash Remove(ReadOnlySpan<byte> field, out bool removed)
    {
        if (!Contains(field))
        {
            removed = false;
            return this;
        }
        SortedHash next = Snapshot();
        removed = next.Delete(field);
        return next;
    }

    /// <summary>
    /// Sets <paramref name="field"/> to <paramref name="value"/> in this hash, in place (see the type's remarks); its
    /// expiry is kept when <paramref name="keepExpiry"/>, else removed. Returns true when the field was new. Allocates
    /// nothing when the field's leaf is owned and has room. Throws <see cref="InvalidOperationException"/> on
    /// <see cref="Empty"/>.
    /// </summary>
    public bool Put(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool keepExpiry = false)
    {
        CheckChangeable();
        if (!keepExpiry && _ttls != null)
        {
            SortedHash? ttls = DropExpiry(field, out long min);
            SetExpiries(ttls, min);
        }
        Change change = PutIn(_root, _rootOwned, inTree: false, field, value, out bool added, out int oldValueLength);
        _root = change.Right == null
            ? change.Node
            : new Inner([change.Node, change.Right], [null, change.Separator], [CountOf(change.Node), CountOf(change.Right)]) { Owned = 0b11 };
        _rootOwned = true;
        Bytes += value.Length + (added ? field.Length : -oldValueLength);
        if (added) Count++;
        IsSmall = IsSmall && Count <= SmallMaxFields && field.Length <= SmallMaxLength && value.Length <= SmallMaxLength;
        return added;
    }

    /// <summary>
    /// Removes <paramref name="field"/> (and its expiry) from this hash, in place; false when it is absent. The hash may be
    /// left empty (<see cref="Count"/> 0). Throws <see cref="InvalidOperationException"/> on <see cref="Empty"/>.
    /// </summary>
    public bool Delete(ReadOnlySpan<byte> field)
    {
        CheckChangeable();
        object root = RemoveIn(_root, _rootOwned, inTree: false, field, out bool removed, out int removedBytes);
        if (!removed) return false;
        bool owned = true;
        while (root is Inner { Children.Length: 1 } single)
        {
            owned &= single.Owns(0);
            root = single.Children[0];
        }
        _root = root;
        _rootOwned = owned;
        Count--;
        Bytes -= removedBytes;
        if (_ttls != null)
        {
            SortedHash? ttls = DropExpiry(field, out long min);
            SetExpiries(ttls, min);
        }
        return true;
    }

    private void CheckChangeable()
    {
        if (ReferenceEquals(this, Empty)) throw new InvalidOperationException("SortedHash.Empty is never changed: start from CreateEmpty()");
    }

    /// <summary>A node after a change: itself, or two nodes split around <see cref="Separator"/>.</summary>
    private readonly record struct Change(object Node, object? Right, byte[]? Separator);

    /// <summary>
    /// Sets a field below <paramref name="node"/>, changing it in place when <paramref name="owned"/>, else building the
    /// changed copy (which the caller then owns). <paramref name="inTree"/>: the node has a parent (a new leaf gets room).
    /// </summary>
    private static Change PutIn(object node, bool owned, bool inTree, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value,
        out bool added, out int oldValueLength)
    {
        if (node is byte[] leaf)
        {
            int n = LeafCount(leaf);
            int i = Find(leaf, field);
            bool found = i >= 0;
            if (!found) i = Search(leaf, field, out _);
            added = !found;
            oldValueLength = 0;
            int removedData = 0;
            if (found)
            {
                int at = ValueAt(leaf, i, out oldValueLength);
                if (owned && oldValueLength == value.Length)
                {
                    value.CopyTo(leaf.AsSpan(at));
                    return new Change(leaf, null, null);
                }
                removedData = RangeData(leaf, n, i, i + 1);
            }
            int count = found ? n : n + 1;
            int used = DataStart(count) + DataLength(leaf) - removedData + EntrySize(field.Length, value.Length);
            bool fits = used <= MaxLeafBytes || count < 2;
            int to = found ? i + 1 : i;
            if (owned && fits && used <= leaf.Length)
            {
                SpliceInPlace(leaf, i, to, field, value, insert: true);
                return new Change(leaf, null, null);
            }
            if (owned && !fits && !found && i == n) return SplitForAppend(leaf, field, value);
            byte[] updated = Splice(leaf, i, to, field, value, insert: true, fits && inTree ? MaxLeafBytes : 0);
            return fits ? new Change(updated, null, null) : !found && i == n ? SplitLeaf(updated, AppendSplitPoint(updated, n)) : SplitLeaf(updated);
        }
        var inner = (Inner)node;
        int c = ChildFor(inner, field);
        Change child = PutIn(inner.Children[c], owned && inner.Owns(c), inTree: true, field, value, out added, out oldValueLength);
        if (child.Right == null)
        {
            Inner target = owned ? inner : inner.CopyToChange();
            target.Children[c] = child.Node;
            target.SetOwned(c);
            if (added)
            {
                target.Counts[c]++;
                target.Total++;
            }
            return new Change(target, null, null);
        }
        Inner grown = inner.ReplaceRange(c, 1, [child.Node, child.Right], [inner.Keys[c], child.Separator], keepOwned: owned, insertedOwned: 0b11);
        return grown.Children.Length <= MaxChildren ? new Change(grown, null, null) : SplitInner(grown);
    }

    /// <summary>Removes a field below <paramref name="node"/>, in place when <paramref name="owned"/> (as <see cref="PutIn"/>); returns the node afterwards.</summary>
    private static object RemoveIn(object node, bool owned, bool inTree, ReadOnlySpan<byte> field, out bool removed, out int removedBytes)
    {
        if (node is byte[] leaf)
        {
            int i = Find(leaf, field);
            removed = i >= 0;
            removedBytes = 0;
            if (!removed) return leaf;
            ReadEntry(leaf, i, out ReadOnlySpan<byte> f, out ReadOnlySpan<byte> v);
            removedBytes = f.Length + v.Length;
            if (owned)
            {
                SpliceInPlace(leaf, i, i + 1, default, default, insert: false);
                return leaf;
            }
            return Splice(leaf, i, i + 1, default, default, insert: false, inTree ? MaxLeafBytes : 0);
        }
        var inner = (Inner)node;
        int c = ChildFor(inner, field);
        object child = RemoveIn(inner.Children[c], owned && inner.Owns(c), inTree: true, field, out removed, out removedBytes);
        if (!removed) return inner;
        if (!IsUnderfull(child) || inner.Children.Length == 1)
        {
            Inner target = owned ? inner : inner.CopyToChange();
            target.Children[c] = child;
            target.SetOwned(c);
            target.Counts[c]--;
            target.Total--;
            return target;
        }
        if (child is byte[] emptyLeaf && LeafCount(emptyLeaf) == 0) return inner.ReplaceRange(c, 1, [], [], keepOwned: owned, insertedOwned: 0);
        // Merge the underfull child with a neighbour; split the union again when it is too big. The merged nodes are new.
        int left = c > 0 ? c - 1 : c;
        object a = left == c ? child : inner.Children[left];
        object b = left == c ? inner.Children[left + 1] : child;
        Change merged = Merge(a, b, inner.Keys[left + 1]!);
        return merged.Right == null
            ? inner.ReplaceRange(left, 2, [merged.Node], [inner.Keys[left]], keepOwned: owned, insertedOwned: 0b1)
            : inner.ReplaceRange(left, 2, [merged.Node, merged.Right], [inner.Keys[left], merged.Separator], keepOwned: owned, insertedOwned: 0b11);
    }

    private static bool IsUnderfull(object node) =>
        node is byte[] leaf ? LeafUsed(leaf) < MinLeafBytes : ((Inner)node).Children.Length < MinChildren;

    /// <summary>Concatenates two adjacent siblings (separated by <paramref name="separator"/>) into new nodes; splits the result again when too big.</summary>
    private static Change Merge(object a, object b, byte[] separator)
    {
        if (a is byte[] la)
        {
            var lb = (byte[])b;
            int na = LeafCount(la), nb = LeafCount(lb);
            int dataLength = DataLength(la) + DataLength(lb);
            bool fits = DataStart(na + nb) + dataLength <= MaxLeafBytes || na + nb < 2;
            byte[] joined = AllocateLeaf(na + nb, dataLength, fits ? MaxLeafBytes : 0);
            int entry = 0, data = DataStart(na + nb);
            CopyEntries(la, 0, na, joined, ref entry, ref data);
            CopyEntries(lb, 0, nb, joined, ref entry, ref data);
            return fits ? new Change(joined, null, null) : SplitLeaf(joined);
        }
        var ia = (Inner)a;
        var ib = (Inner)b;
        Inner union = Inner.Concat(ia, ib, separator);
        return union.Children.Length <= MaxChildren ? new Change(union, null, null) : SplitInner(union);
    }

    /// <summary>
    /// Where a full leaf splits for a field appended after its last entry (ascending inserts: element:1, element:2…): the
    /// most of its first <paramref name="n"/> entries that fill at most 7/8 of <see cref="MaxLeafBytes"/> (at least one), so
    /// later writes still find a little room; the rest and the new field start the next leaf. Splitting in halves, as for a
    /// write in the middle, would leave every leaf of an ascending load half empty; keeping the leaf wholly full would split
    /// it again at its first longer value (B-trees fill the rightmost split so, e.g. PostgreSQL's fillfactor 90).
    /// </summary>
    private static int AppendSplitPoint(byte[] leaf, int n)
    {
        int count = LeafCount(leaf), dataStart = DataStart(count);
        int m = n;
        while (m > 1 && DataStart(m) + (m == count ? LeafUsed(leaf) : EntryOffset(leaf, m)) - dataStart > MaxLeafBytes * 7 / 8) m--;
        return m;
    }

    /// <summary>
    /// A field appended after the last entry of a full leaf this hash owns: the leaf is trimmed in place to its
    /// <see cref="AppendSplitPoint"/>, and the entries after it and the new field start a new leaf (nothing else is copied).
    /// </summary>
    private static Change SplitForAppend(byte[] leaf, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        int n = LeafCount(leaf);
        int m = AppendSplitPoint(leaf, n);
        byte[] right = AllocateLeaf(n - m + 1, RangeData(leaf, n, m, n) + EntrySize(field.Length, value.Length), MaxLeafBytes);
        int entry = 0, data = DataStart(n - m + 1);
        CopyEntries(leaf, m, n, right, ref entry, ref data);
        WriteEntry(right, ref entry, ref data, field, value);
        if (m < n) SpliceInPlace(leaf, m, n, default, default, insert: false);
        ReadEntry(right, 0, out ReadOnlySpan<byte> first, out _);
        return new Change(leaf, right, first.ToArray());
    }

    /// <summary>Splits a leaf in two of about half its bytes each.</summary>
    private static Change SplitLeaf(byte[] leaf)
    {
        int n = LeafCount(leaf);
        int half = DataLength(leaf) / 2, dataStart = DataStart(n);
        int m = 1;
        while (m < n - 1 && EntryOffset(leaf, m) - dataStart < half) m++;
        return SplitLeaf(leaf, m);
    }

    /// <summary>Splits a leaf before entry <paramref name="m"/> (0 &lt; m &lt; count).</summary>
    private static Change SplitLeaf(byte[] leaf, int m)
    {
        int n = LeafCount(leaf);
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
    /// <see cref="Counts"/> (fields per child, for rank lookups). <see cref="Children"/>, <see cref="Counts"/>,
    /// <see cref="Total"/> and <see cref="Owned"/> change in place while the node is owned; the separators never do
    /// (a node with other separators is a new node).
    /// </summary>
    private sealed class Inner
    {
        public readonly object[] Children;
        public readonly byte[]?[] Keys;
        public readonly long[] Counts;
        public long Total;

        /// <summary>
        /// Bit i set: child i is owned by this node (it was made for it and nothing else holds it), so a write may change it
        /// in place when this node is owned too. Meaningful only along an owned path from the root (see the type's remarks);
        /// 128 bits, as a node briefly holds <see cref="MaxChildren"/> + 1 children before it splits.
        /// </summary>
        public UInt128 Owned;

        /// <summary>
        /// Route words: for child i ≥ 1, the 8 bytes of <c>Keys[i]</c> after <see cref="PrefixLength"/>, big-endian and
        /// zero-padded (entry 0 unused). Ordering two routes orders their strings unless they tie (then the bytes decide),
        /// so a descent compares integers in one array instead of reading a separator array per step — each a likely cache
        /// miss in a large hash (bench/PROFILE.md, finding 5).
        /// </summary>
        public readonly ulong[] Routes;

        /// <summary>Bytes every separator of this node starts with (0 with fewer than two children).</summary>
        public readonly int PrefixLength;

        /// <summary>The first 16 bytes of the prefix (<see cref="PrefixLength"/>) as two big-endian words, zero-padded.</summary>
        private readonly ulong _prefixHigh, _prefixLow;

        /// <summary>
        /// <paramref name="start"/> (at most <see cref="PrefixLength"/> ≤ 16 bytes) against the prefix's first as many bytes:
        /// negative, zero or positive as <see cref="MemoryExtensions.SequenceCompareTo{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.
        /// </summary>
        public int ComparePrefix(ReadOnlySpan<byte> start)
        {
            int m = start.Length;
            ulong high = Route(start, 0), low = m > 8 ? Route(start, 8) : 0;
            ulong prefixHigh = m >= 8 ? _prefixHigh : m == 0 ? 0 : _prefixHigh & ~(ulong.MaxValue >> (8 * m));
            ulong prefixLow = m >= 16 ? _prefixLow : m <= 8 ? 0 : _prefixLow & ~(ulong.MaxValue >> (8 * (m - 8)));
            if (high != prefixHigh) return high < prefixHigh ? -1 : 1;
            return low == prefixLow ? 0 : low < prefixLow ? -1 : 1;
        }

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
            (_prefixHigh, _prefixLow) = PrefixWords(first, prefix);
            for (int i = 1; i < keys.Length; i++) Routes[i] = Route(keys[i], prefix);
        }

        private static (ulong High, ulong Low) PrefixWords(byte[] first, int prefix)
        {
            ReadOnlySpan<byte> head = first.AsSpan(0, Math.Min(prefix, 16));
            return (Route(head, 0), head.Length > 8 ? Route(head, 8) : 0);
        }

        /// <summary>The route word of <paramref name="key"/> after its first <paramref name="prefix"/> bytes (see <see cref="Routes"/>).</summary>
        public static ulong Route(ReadOnlySpan<byte> key, int prefix)
        {
            int rest = key.Length - prefix;
            if (rest >= 8) return BinaryPrimitives.ReadUInt64BigEndian(key[prefix..]);
            if (rest <= 0) return 0;
            // Fewer than 8 bytes left: the key's last 8 bytes, shifted so the rest comes first (no copy), when the key has 8.
            if (key.Length >= 8) return BinaryPrimitives.ReadUInt64BigEndian(key[^8..]) << (8 * (8 - rest));
            ulong word = 0;
            for (int i = 0; i < rest; i++) word |= (ulong)key[prefix + i] << (56 - 8 * i);
            return word;
        }

        /// <summary>True when child <paramref name="index"/> is owned by this node (see <see cref="Owned"/>).</summary>
        public bool Owns(int index) => ((Owned >> index) & 1) != 0;

        /// <summary>Marks child <paramref name="index"/> as owned (it was just made for this node).</summary>
        public void SetOwned(int index) => Owned |= (UInt128)1 << index;

        /// <summary>
        /// A copy to change in place of this shared node: its own children and counts arrays (the separators and their
        /// routes are shared: they never change), owning none of its children yet.
        /// </summary>
        public Inner CopyToChange() => new((object[])Children.Clone(), this, (long[])Counts.Clone(), Total);

        /// <summary>A node with <paramref name="same"/>'s separators (and their routes) over other children.</summary>
        private Inner(object[] children, Inner same, long[] counts, long total)
        {
            Children = children;
            Keys = same.Keys;
            Routes = same.Routes;
            PrefixLength = same.PrefixLength;
            _prefixHigh = same._prefixHigh;
            _prefixLow = same._prefixLow;
            Counts = counts;
            Total = total;
        }

        /// <summary>The lowest <paramref name="bits"/> bits set.</summary>
        private static UInt128 Low(int bits) => bits >= 128 ? UInt128.MaxValue : ((UInt128)1 << bits) - 1;

        /// <summary>Children [from, to) as a new node, owning what this node owned of them.</summary>
        public Inner Range(int from, int to) =>
            new(Children[from..to], Keys[from..to], Counts[from..to]) { Owned = (Owned >> from) & Low(to - from) };

        /// <summary>
        /// A new node with children [index, index+remove) replaced by <paramref name="insert"/>, whose lower
        /// bounds are <paramref name="insertKeys"/> (the first one normally Keys[index]). It owns the inserted children whose
        /// bits are set in <paramref name="insertedOwned"/> and, when <paramref name="keepOwned"/> (this node was owned and is
        /// being replaced), the other children this node owned.
        /// </summary>
        public Inner ReplaceRange(int index, int remove, object[] insert, byte[]?[] insertKeys, bool keepOwned, UInt128 insertedOwned)
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
            UInt128 kept = keepOwned ? Owned : 0;
            UInt128 owned = (kept & Low(index)) | ((insertedOwned & Low(insert.Length)) << index)
                | ((kept >> (index + remove)) << (index + insert.Length));
            return new Inner(children, keys, counts) { Owned = owned };
        }

        /// <summary>
        /// The children of <paramref name="a"/> then <paramref name="b"/> (b's first lower bound is <paramref name="separator"/>),
        /// as a new node owning none of them.
        /// </summary>
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
            if (LeafUsed(leaf) > leaf.Length || LeafUsed(leaf) < DataStart(n)) throw new InvalidOperationException("Leaf's used bytes outside its array");
            for (int i = 0; i < n; i++)
            {
                ReadEntry(leaf, i, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value);
                if (previous != null && field.SequenceCompareTo(previous) <= 0) throw new InvalidOperationException("Fields out of order");
                if (low != null && field.SequenceCompareTo(low) < 0) throw new InvalidOperationException("Field below its separator");
                if (high != null && field.SequenceCompareTo(high) >= 0) throw new InvalidOperationException("Field at or above the next separator");
                if (leaf[PrintsStart(n) + i] != Fingerprint(field)) throw new InvalidOperationException("Stale fingerprint");
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

    /// <summary>Bytes in use (header, offsets and entries); the rest of the array, up to its length, is room to grow.</summary>
    private static int LeafUsed(byte[] leaf) => BinaryPrimitives.ReadInt32LittleEndian(leaf.AsSpan(4));

    /// <summary>Where the fingerprints of a leaf of <paramref name="count"/> entries start (after the offsets).</summary>
    private static int PrintsStart(int count) => HeaderBytes + 4 * count;

    private static int DataStart(int count) => HeaderBytes + 5 * count;

    private static int EntryOffset(byte[] leaf, int i) => BinaryPrimitives.ReadInt32LittleEndian(leaf.AsSpan(HeaderBytes + 4 * i));

    private static int DataLength(byte[] leaf) => LeafUsed(leaf) - DataStart(LeafCount(leaf));

    /// <summary>The position of entry <paramref name="i"/>'s value in <paramref name="leaf"/>, and its <paramref name="length"/>.</summary>
    private static int ValueAt(byte[] leaf, int i, out int length)
    {
        int p = EntryOffset(leaf, i);
        int fieldLength = Varint.Read(leaf, ref p);
        p += fieldLength;
        length = Varint.Read(leaf, ref p);
        return p;
    }

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

    /// <summary>
    /// A field's fingerprint, kept per entry beside its offset: one byte of CRC-32C (hardware on x86 and Arm) over the field's
    /// length and bytes — its first and last 16 bytes when longer than 32 — so most entries of a leaf are ruled out by one byte.
    /// </summary>
    internal static byte Fingerprint(ReadOnlySpan<byte> field)
    {
        uint crc = field.Length <= 32 ? Crc32C((uint)field.Length, field) : Crc32C(Crc32C((uint)field.Length, field[..16]), field[^16..]);
        return (byte)(crc ^ (crc >> 8) ^ (crc >> 16) ^ (crc >> 24));
    }

    /// <summary>CRC-32C steps over <paramref name="bytes"/>, 8 or 4 at a time; a partial last word overlaps the one before it.</summary>
    private static uint Crc32C(uint crc, ReadOnlySpan<byte> bytes)
    {
        ref byte p = ref MemoryMarshal.GetReference(bytes);
        int n = bytes.Length;
        if (n >= 8)
        {
            int i = 0;
            for (; i + 8 <= n; i += 8) crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            return i == n ? crc : BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 8)));
        }
        if (n >= 4)
            return BitOperations.Crc32C(BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<uint>(ref p)), Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, n - 4)));
        for (int i = 0; i < n; i++) crc = BitOperations.Crc32C(crc, Unsafe.Add(ref p, i));
        return crc;
    }

    /// <summary>The index of <paramref name="field"/> in <paramref name="leaf"/>, or -1: a vectorized scan of the fingerprints, then a comparison of each field whose fingerprint matches.</summary>
    private static int Find(byte[] leaf, ReadOnlySpan<byte> field)
    {
        int n = LeafCount(leaf);
        ReadOnlySpan<byte> prints = leaf.AsSpan(PrintsStart(n), n);
        byte print = Fingerprint(field);
        for (int i = 0; ;)
        {
            int k = prints[i..].IndexOf(print);
            if (k < 0) return -1;
            i += k;
            if (FieldAt(leaf, i).SequenceEqual(field)) return i;
            i++;
        }
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

    /// <summary>
    /// A copy of <paramref name="leaf"/> with entries [from, to) replaced by (field, value) when <paramref name="insert"/>, else
    /// removed, in an array of at least <paramref name="capacity"/> bytes.
    /// </summary>
    private static byte[] Splice(byte[] leaf, int from, int to, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool insert, int capacity)
    {
        int n = LeafCount(leaf);
        int count = n - (to - from) + (insert ? 1 : 0);
        int dataLength = DataLength(leaf) - RangeData(leaf, n, from, to) + (insert ? EntrySize(field.Length, value.Length) : 0);
        byte[] result = AllocateLeaf(count, dataLength, capacity);
        SpliceInto(leaf, from, to, field, value, insert, result);
        return result;
    }

    /// <summary>
    /// <see cref="Splice"/> into <paramref name="leaf"/> itself, which has the room (an owned leaf): its used bytes are first
    /// copied aside (a pooled buffer), then laid out again. Allocates nothing.
    /// </summary>
    private static void SpliceInPlace(byte[] leaf, int from, int to, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool insert)
    {
        int used = LeafUsed(leaf);
        byte[] before = ArrayPool<byte>.Shared.Rent(used);
        Buffer.BlockCopy(leaf, 0, before, 0, used);
        int n = LeafCount(leaf);
        int count = n - (to - from) + (insert ? 1 : 0);
        int dataLength = DataLength(before) - RangeData(before, n, from, to) + (insert ? EntrySize(field.Length, value.Length) : 0);
        WriteHeader(leaf, count, dataLength);
        SpliceInto(before, from, to, field, value, insert, leaf);
        ArrayPool<byte>.Shared.Return(before);
    }

    /// <summary>Lays out <paramref name="leaf"/>'s entries with [from, to) replaced as <see cref="Splice"/> says into <paramref name="result"/>, whose header is written.</summary>
    private static void SpliceInto(byte[] leaf, int from, int to, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, bool insert, byte[] result)
    {
        int n = LeafCount(leaf);
        int count = LeafCount(result);
        int entry = 0, data = DataStart(count);
        CopyEntries(leaf, 0, from, result, ref entry, ref data);
        if (insert) WriteEntry(result, ref entry, ref data, field, value);
        CopyEntries(leaf, to, n, result, ref entry, ref data);
    }

    /// <summary>Writes (field, value) as entry <paramref name="entry"/> of <paramref name="target"/> at data position <paramref name="data"/>, advancing both.</summary>
    private static void WriteEntry(byte[] target, ref int entry, ref int data, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        target[PrintsStart(LeafCount(target)) + entry] = Fingerprint(field);
        BinaryPrimitives.WriteInt32LittleEndian(target.AsSpan(HeaderBytes + 4 * entry++), data);
        Varint.Write(target, ref data, field.Length);
        field.CopyTo(target.AsSpan(data));
        data += field.Length;
        Varint.Write(target, ref data, value.Length);
        value.CopyTo(target.AsSpan(data));
        data += value.Length;
    }

    /// <summary>Entries [from, to) as a new leaf below an inner node (with room up to <see cref="MaxLeafBytes"/>).</summary>
    private static byte[] Slice(byte[] leaf, int from, int to)
    {
        int n = LeafCount(leaf);
        byte[] result = AllocateLeaf(to - from, RangeData(leaf, n, from, to), MaxLeafBytes);
        int entry = 0, data = DataStart(to - from);
        CopyEntries(leaf, from, to, result, ref entry, ref data);
        return result;
    }

    /// <summary>A leaf for <paramref name="count"/> entries of <paramref name="dataLength"/> bytes, its array at least <paramref name="capacity"/> bytes long.</summary>
    private static byte[] AllocateLeaf(int count, int dataLength, int capacity)
    {
        byte[] leaf = GC.AllocateUninitializedArray<byte>(Math.Max(DataStart(count) + dataLength, capacity));
        WriteHeader(leaf, count, dataLength);
        return leaf;
    }

    private static void WriteHeader(byte[] leaf, int count, int dataLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(leaf, count);
        BinaryPrimitives.WriteInt32LittleEndian(leaf.AsSpan(4), DataStart(count) + dataLength);
    }

    /// <summary>Bytes of entries [from, to) of a leaf with <paramref name="n"/> entries.</summary>
    private static int RangeData(byte[] leaf, int n, int from, int to)
    {
        if (from >= to) return 0;
        int end = to == n ? LeafUsed(leaf) : EntryOffset(leaf, to);
        return end - EntryOffset(leaf, from);
    }

    /// <summary>Appends entries [from, to) of <paramref name="source"/> to <paramref name="target"/> at entry index/data position, one block copy.</summary>
    private static void CopyEntries(byte[] source, int from, int to, byte[] target, ref int entry, ref int data)
    {
        if (from >= to) return;
        int n = LeafCount(source);
        int start = EntryOffset(source, from), length = RangeData(source, n, from, to);
        int shift = data - start;
        Buffer.BlockCopy(source, PrintsStart(n) + from, target, PrintsStart(LeafCount(target)) + entry, to - from);
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
