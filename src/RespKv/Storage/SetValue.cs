using System.Buffers.Text;
using RespKv.Protocol;

namespace RespKv.Storage;

/// <summary>
/// A set value (TYPE <c>set</c>), changed in place under its key's shard lock (<see cref="Kinds.SetKind"/>), in one of
/// Redis 7.0's two encodings:
/// <list type="bullet">
/// <item><b>intset</b>: while every member is a canonical 64-bit integer (Redis's <c>string2ll</c>:
/// <see cref="RespInteger.TryParse"/>) and there are at most <c>set-max-intset-entries</c> members — a sorted
/// <c>long[]</c> searched by binary search, 8 bytes per member; members are listed in numeric order, as Redis lists an
/// intset.</item>
/// <item><b>hashtable</b>: otherwise, for good (Redis 7.0 never converts back, even when the set empties to integers) —
/// the members in a <see cref="ScoredMemberTree"/> in member-index mode (the one a sorted set looks its members up in),
/// every score 0: a mutable order-statistic B+tree of packed entries <c>[4-byte hash][varint length][member][8-byte
/// score]</c> ordered by (32-bit hash of the member, member bytes). SADD, SREM and SPOP change one leaf in place and
/// allocate only when a leaf splits or grows; lookups compare integers and one member. The order is a total order that
/// does not change while a member is present, so SSCAN's cursor is a position in it ("after member M": after
/// (hash(M), M), <see cref="HashScanCursors"/>) and a member present for the whole scan is returned exactly once whatever
/// is added or removed meanwhile (Redis's reverse-binary cursor promises at least once). Members are listed in that
/// order — pseudo-random, as Redis's hashtable order is (the hash has a per-process random seed). The counts give
/// SPOP/SRANDMEMBER a uniform random member by rank in O(log n).</item>
/// </list>
/// Visitors (<see cref="IHashVisitor"/>) receive each member as the field and an empty value. Not thread-safe: callers
/// hold the key's shard lock (writes, and reads flagged <c>ReadsUnderLock</c>); <see cref="Copy"/> is a deep copy.
/// </summary>
public sealed class SetValue : IOrderedSource, ISortableValue
{
    /// <summary>Longest canonical 64-bit integer text ("-9223372036854775808"), in bytes.</summary>
    public const int MaxIntegerLength = 20;

    /// <summary>The intset walk's text buffer (one per thread: walks do not nest).</summary>
    [ThreadStatic]
    private static byte[]? t_walkText;

    private long[] _ints;
    private int _intCount;
    private ScoredMemberTree? _table;

    /// <summary>An empty set in the intset encoding (Redis's <c>createIntsetObject</c>; SADD of a non-integer converts it at once).</summary>
    public SetValue() => _ints = [];

    /// <summary>An empty set in the hashtable encoding on <paramref name="table"/>, an empty member-index tree (tests use small leaves and inner nodes).</summary>
    internal SetValue(ScoredMemberTree table) : this([], 0, table, 0)
    {
    }

    private SetValue(long[] ints, int intCount, ScoredMemberTree? table, long bytes)
    {
        _ints = ints;
        _intCount = intCount;
        _table = table;
        Bytes = bytes;
    }

    /// <summary>True while the set is an intset (see the class summary).</summary>
    public bool IsIntset => _table == null;

    /// <summary>Number of members (SCARD).</summary>
    public long Count => _table?.Count ?? _intCount;

    /// <summary>Sum of the members' lengths in bytes (an intset member counts its decimal text), kept incrementally.</summary>
    public long Bytes { get; private set; }

    /// <summary>Slots of the intset's array (its capacity; 0 for a hashtable).</summary>
    public int IntCapacity => _table == null ? _ints.Length : 0;

    /// <summary>The hashtable encoding's tree (null for an intset): memory figures and tests.</summary>
    internal ScoredMemberTree? Table => _table;

    /// <summary>
    /// Adds <paramref name="member"/>; false when it was already there. An intset becomes a hashtable when the member is
    /// not an integer or the intset would exceed <paramref name="maxIntsetEntries"/> members (Redis's <c>setTypeAdd</c>).
    /// </summary>
    public bool Add(ReadOnlySpan<byte> member, long maxIntsetEntries)
    {
        if (_table == null)
        {
            if (RespInteger.TryParse(member, out long n))
            {
                int i = Array.BinarySearch(_ints, 0, _intCount, n);
                if (i >= 0) return false;
                InsertInt(~i, n);
                Bytes += member.Length;
                if (_intCount > maxIntsetEntries) ConvertToTable();
                return true;
            }
            ConvertToTable();
        }
        ScoredMemberTree.Spot spot = _table!.Find(0, member); // one descent: the lookup's path is where the insert goes
        if (spot.Found) return false;
        _table.Insert(spot, 0, member);
        Bytes += member.Length;
        return true;
    }

    private void InsertInt(int index, long n)
    {
        if (_intCount == _ints.Length)
        {
            var grown = new long[Math.Max(4, _ints.Length * 2)];
            _ints.AsSpan(0, index).CopyTo(grown);
            _ints.AsSpan(index, _intCount - index).CopyTo(grown.AsSpan(index + 1));
            _ints = grown;
        }
        else _ints.AsSpan(index, _intCount - index).CopyTo(_ints.AsSpan(index + 1));
        _ints[index] = n;
        _intCount++;
    }

    private void ConvertToTable()
    {
        var table = new ScoredMemberTree(byScore: false);
        Span<byte> text = stackalloc byte[MaxIntegerLength];
        for (int i = 0; i < _intCount; i++) table.Insert(0, Format(_ints[i], text));
        _table = table;
        _ints = [];
        _intCount = 0;
    }

    /// <summary>Removes <paramref name="member"/>; false when it was not there. The encoding never changes.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_table != null)
        {
            if (!_table.Remove(0, member)) return false;
            Bytes -= member.Length;
            return true;
        }
        if (!RespInteger.TryParse(member, out long n)) return false;
        int i = Array.BinarySearch(_ints, 0, _intCount, n);
        if (i < 0) return false;
        _ints.AsSpan(i + 1, _intCount - i - 1).CopyTo(_ints.AsSpan(i));
        _intCount--;
        Bytes -= member.Length;
        if (_intCount <= _ints.Length / 4) Array.Resize(ref _ints, _intCount == 0 ? 0 : Math.Max(4, _ints.Length / 2));
        return true;
    }

    /// <summary>True when <paramref name="member"/> is in the set (SISMEMBER).</summary>
    public bool Contains(ReadOnlySpan<byte> member)
    {
        if (_table != null) return _table.TryGetScore(0, member, out _);
        return RespInteger.TryParse(member, out long n) && Array.BinarySearch(_ints, 0, _intCount, n) >= 0;
    }

    /// <summary>
    /// The member at 0-based <paramref name="rank"/> in the set's order (numeric for an intset, (hash, member) for a
    /// hashtable), in O(log n); an intset member is formatted into <paramref name="scratch"/> (at least
    /// <see cref="MaxIntegerLength"/> bytes). A hashtable member is a view into the set, valid until it next changes.
    /// </summary>
    public ReadOnlySpan<byte> ElementAt(long rank, Span<byte> scratch)
    {
        if (_table == null)
        {
            if ((ulong)rank >= (ulong)_intCount) throw new ArgumentOutOfRangeException(nameof(rank));
            return Format(_ints[rank], scratch);
        }
        ScoredMemberTree.Leaf leaf = _table.ByRank(rank, out int offset, out _);
        return _table.MemberOf(leaf, offset);
    }

    /// <summary>Calls <paramref name="visitor"/> with every member (and an empty value) in the set's order until it returns false.</summary>
    public void ForEach<TVisitor>(ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct
    {
        if (_table != null)
        {
            if (_table.Count > 0) VisitFrom(_table.Head, 0, 0, ref visitor);
            return;
        }
        // A visitor may hold on to the member span for the walk's duration (a ref struct cannot be handed stack memory).
        byte[] text = t_walkText ??= new byte[MaxIntegerLength];
        // Read once: a lock-free reader of the kind then never indexes past a replaced array.
        long[] ints = _ints;
        int count = Math.Min(_intCount, ints.Length);
        for (int i = 0; i < count; i++)
        {
            if (!visitor.Visit(Format(ints[i], text), default)) return;
        }
    }

    /// <summary>Visits the hashtable's members from the entry at (<paramref name="leaf"/>, <paramref name="offset"/>, <paramref name="index"/>) on, in order.</summary>
    private void VisitFrom<TVisitor>(ScoredMemberTree.Leaf leaf, int offset, int index, ref TVisitor visitor)
        where TVisitor : IHashVisitor, allows ref struct
    {
        ScoredMemberTree table = _table!;
        do
        {
            if (!visitor.Visit(table.MemberOf(leaf, offset), default)) return;
        } while (table.Advance(ref leaf, ref offset, ref index));
    }

    /// <summary>
    /// A hashtable's members at or after <paramref name="start"/>'s position in the set's (hash, member) order (strictly
    /// after when <paramref name="exclusive"/>; <paramref name="start"/> need not be a member; an empty start that is not
    /// exclusive means the first member), in that order, to
    /// <paramref name="visitor"/> (SSCAN's resumable walk: two O(log n) descents to the start). An intset visits every
    /// member (SSCAN returns an intset whole, as Redis does).
    /// </summary>
    public void ForEachFrom<TVisitor>(scoped ReadOnlySpan<byte> start, bool exclusive, ref TVisitor visitor)
        where TVisitor : IHashVisitor, allows ref struct
    {
        // From the first member: an empty non-exclusive start (the empty member's own position is elsewhere in hash order).
        if (_table == null || (!exclusive && start.IsEmpty))
        {
            ForEach(ref visitor);
            return;
        }
        long rank = _table.CountAtOrBefore(0, start);
        if (!exclusive && rank > 0 && _table.TryGetScore(0, start, out _)) rank--;
        if (rank >= _table.Count) return;
        ScoredMemberTree.Leaf leaf = _table.ByRank(rank, out int offset, out int index);
        VisitFrom(leaf, offset, index, ref visitor);
    }

    /// <inheritdoc />
    public bool InByteOrder => false;

    /// <summary>A set equal to this one sharing no mutable state (COPY, the AOF rewrite's snapshot): the intset's array or the hashtable's tree is copied.</summary>
    public SetValue Copy() => new(_ints.AsSpan(0, _intCount).ToArray(), _intCount, _table?.Clone(), Bytes);

    private static ReadOnlySpan<byte> Format(long n, Span<byte> text)
    {
        Utf8Formatter.TryFormat(n, text, out int length);
        return text[..length];
    }
}
