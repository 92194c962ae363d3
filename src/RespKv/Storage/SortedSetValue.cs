using System.Runtime.InteropServices;

namespace RespKv.Storage;

/// <summary>
/// A sorted set's value (TYPE <c>zset</c>): members (binary-safe byte strings) each with a <see cref="double"/> score,
/// ordered by (score, member bytes unsigned) as Redis orders them (<c>zslInsert</c>: scores compared as doubles, so -0
/// ties +0, then the members as <c>sdscmp</c>: memcmp, shorter first on a common prefix). Two packed order-statistic
/// B+trees (<see cref="ScoredMemberTree"/>) hold every (member, score) entry: one ordered by (score, member) — insert,
/// delete, rank (<see cref="TryGetRank"/>), element by rank (<see cref="ByRank"/>) and the start of a score or lex range
/// in O(log n) — and the member index, ordered by (hash of the member, member): <see cref="TryGetScore"/> in O(log n)
/// integer compares and one member compare, no allocation. There is no object per member: 1,000,000 10-byte members
/// loaded in order take about 54 bytes each (a 19-byte entry in full score-order leaves, a 23-byte one in member-index
/// leaves about 80% full, and the trees' share), where Redis 7.0's skiplist and dict take about 102.
/// <para>
/// Mutable: changed in place under its key's shard lock (<c>SortedSetKind.MutatedInPlace</c>), so every reader holds that
/// lock too. A <see cref="Position"/> is valid until the next change. <see cref="IsListpack"/> is Redis 7.0's encoding
/// decision, sticky as Redis's (a set converted to <c>skiplist</c> never converts back, except for a value a store
/// command builds afresh).
/// </para>
/// </summary>
public sealed class SortedSetValue : ISortableValue
{
    /// <summary>Estimated heap bytes of this object.</summary>
    private const long ObjectBytes = 48;

    private readonly ScoredMemberTree _byScore, _byMember;

    /// <summary>An empty sorted set, <c>listpack</c>-encoded unless <paramref name="listpack"/> is false.</summary>
    public SortedSetValue(bool listpack = true)
        : this(listpack, ScoredMemberTree.DefaultMaxLeafBytes, ScoredMemberTree.DefaultMaxChildren)
    {
    }

    /// <summary>An empty sorted set whose trees have leaves of <paramref name="maxLeafBytes"/> and inner nodes of <paramref name="maxChildren"/> (tests use small ones).</summary>
    internal SortedSetValue(bool listpack, int maxLeafBytes, int maxChildren)
    {
        _byScore = new ScoredMemberTree(byScore: true, maxLeafBytes, maxChildren);
        _byMember = new ScoredMemberTree(byScore: false, maxLeafBytes, maxChildren);
        IsListpack = listpack;
    }

    private SortedSetValue(SortedSetValue source)
    {
        _byScore = source._byScore.Clone();
        _byMember = source._byMember.Clone();
        IsListpack = source.IsListpack;
        MemberBytes = source.MemberBytes;
    }

    /// <summary>
    /// A place in (score, member) order: an entry (<see cref="Exists"/>) or past either end. Valid until the set next
    /// changes; reading it allocates nothing.
    /// </summary>
    public readonly struct Position
    {
        private readonly ScoredMemberTree.Leaf? _leaf;
        private readonly int _offset, _index;

        internal Position(ScoredMemberTree.Leaf leaf, int offset, int index)
        {
            _leaf = leaf;
            _offset = offset;
            _index = index;
        }

        /// <summary>True at an entry; false past either end (the default value).</summary>
        public bool Exists => _leaf != null;

        /// <summary>True at the first entry of the set.</summary>
        internal bool IsFirst => _leaf != null && _index == 0 && _leaf.Prev == null;

        /// <summary>True at the last entry of the set.</summary>
        internal bool IsLast => _leaf != null && _index == _leaf.Count - 1 && _leaf.Next == null;

        /// <summary>The member's bytes (a view into the set: valid until it changes).</summary>
        public ReadOnlySpan<byte> Member => ScoredMemberTree.MemberAt(_leaf!.Data, _offset);

        /// <summary>The member's score.</summary>
        public double Score => ScoredMemberTree.ScoreAt(_leaf!.Data, _offset);

        /// <summary>The next entry in (score, member) order, or one that does not exist after the last (or after a position that does not exist).</summary>
        public Position Next
        {
            get
            {
                if (_leaf is not { } leaf) return default;
                int offset = _offset, index = _index;
                return ScoredMemberTree.StepForward(ref leaf, ref offset, ref index) ? new Position(leaf, offset, index) : default;
            }
        }

        /// <summary>The previous entry in (score, member) order (a walk of at most one leaf), or one that does not exist before the first (or before a position that does not exist).</summary>
        public Position Previous
        {
            get
            {
                if (_leaf is not { } leaf) return default;
                int offset = _offset, index = _index;
                return ScoredMemberTree.StepBack(ref leaf, ref offset, ref index) ? new Position(leaf, offset, index) : default;
            }
        }
    }

    /// <summary>SORT's walk (<see cref="ISortableValue"/>): every member in (score, member) order, with an empty value.</summary>
    public void ForEach<TVisitor>(ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct
    {
        for (Position p = First; p.Exists; p = p.Next)
            if (!visitor.Visit(p.Member, default)) return;
    }

    /// <summary>Number of members (ZCARD).</summary>
    public long Count => _byScore.Count;

    /// <summary>Sum of the members' lengths in bytes.</summary>
    public long MemberBytes { get; private set; }

    /// <summary>Estimated managed bytes of the whole value: this object and both trees (<see cref="ScoredMemberTree.HeapBytes"/>).</summary>
    public long MemoryBytes => ObjectBytes + _byScore.HeapBytes + _byMember.HeapBytes;

    /// <summary>
    /// True while Redis 7.0 would hold this set as a <c>listpack</c>: set false for good by <see cref="Add(ReadOnlySpan{byte}, double, long, long)"/> once the set
    /// outgrows <c>zset-max-listpack-entries</c> or gets a member longer than <c>zset-max-listpack-value</c>.
    /// </summary>
    public bool IsListpack { get; set; }

    /// <summary>The first entry (lowest score), or a position that does not exist when the set is empty.</summary>
    public Position First => Count == 0 ? default : new Position(_byScore.Head, 0, 0);

    /// <summary>The last entry (highest score), or a position that does not exist when the set is empty.</summary>
    public Position Last
    {
        get
        {
            if (Count == 0) return default;
            ScoredMemberTree.Leaf tail = _byScore.Tail;
            return new Position(tail, ScoredMemberTree.LastOffset(tail), tail.Count - 1);
        }
    }

    /// <summary>The score of <paramref name="member"/>, or false when it is not in the set (O(log n)).</summary>
    public bool TryGetScore(ReadOnlySpan<byte> member, out double score) => _byMember.TryGetScore(0, member, out score);

    /// <summary>True when <paramref name="member"/> is in the set.</summary>
    public bool Contains(ReadOnlySpan<byte> member) => _byMember.TryGetScore(0, member, out _);

    /// <summary>
    /// A member looked up for a change (<see cref="Find"/>): whether it is in the set, its score, and where it is (or would
    /// go) in the member index, so that <see cref="Add(in MemberSpot, ReadOnlySpan{byte}, double, long, long)"/>,
    /// <see cref="UpdateScore(in MemberSpot, ReadOnlySpan{byte}, double)"/> and <see cref="Remove(in MemberSpot, ReadOnlySpan{byte})"/>
    /// need no second lookup. Valid until the set next changes.
    /// </summary>
    public readonly struct MemberSpot
    {
        internal readonly ScoredMemberTree.Spot Spot;

        /// <summary>The member's score (0 when <see cref="Found"/> is false).</summary>
        public readonly double Score;

        internal MemberSpot(in ScoredMemberTree.Spot spot, double score)
        {
            Spot = spot;
            Score = score;
        }

        /// <summary>True when the member is in the set.</summary>
        public bool Found => Spot.Found;
    }

    /// <summary>Looks <paramref name="member"/> up for a change: one descent of the member index (O(log n)), no allocation.</summary>
    public MemberSpot Find(ReadOnlySpan<byte> member)
    {
        ScoredMemberTree.Spot spot = _byMember.Find(0, member);
        return new MemberSpot(spot, spot.Found ? _byMember.ScoreAt(spot) : 0);
    }

    /// <summary>The 0-based rank of <paramref name="member"/> in ascending order (ZRANK), or false when it is not in the set.</summary>
    public bool TryGetRank(ReadOnlySpan<byte> member, out long rank)
    {
        rank = -1;
        if (!_byMember.TryGetScore(0, member, out double score)) return false;
        rank = _byScore.RankOf(score, member);
        return true;
    }

    /// <summary>
    /// Adds <paramref name="member"/> (not already present: check with <see cref="TryGetScore"/>) with
    /// <paramref name="score"/> (not NaN); returns the score stored. Clears <see cref="IsListpack"/> when the set now has more
    /// than <paramref name="maxListpackEntries"/> members or the member is longer than <paramref name="maxListpackValue"/>
    /// bytes (Redis's conversion). A listpack set stores -0 as 0, as Redis's listpack does.
    /// </summary>
    public double Add(ReadOnlySpan<byte> member, double score, long maxListpackEntries, long maxListpackValue) =>
        Add(Find(member), member, score, maxListpackEntries, maxListpackValue);

    /// <summary>
    /// <see cref="Add(ReadOnlySpan{byte}, double, long, long)"/> for a member <paramref name="spot"/> (<see cref="Find"/> of
    /// <paramref name="member"/>, the set unchanged since) says is absent: its member-index insert needs no descent.
    /// </summary>
    public double Add(in MemberSpot spot, ReadOnlySpan<byte> member, double score, long maxListpackEntries, long maxListpackValue)
    {
        if (IsListpack && (Count + 1 > maxListpackEntries || member.Length > maxListpackValue)) IsListpack = false;
        if (IsListpack && score == 0) score = 0; // -0 → +0
        _byMember.Insert(spot.Spot, score, member); // before the score tree's descent, which would make the spot's path stale
        _byScore.Insert(score, member);
        MemberBytes += member.Length;
        return score;
    }

    /// <summary>
    /// Gives <paramref name="member"/> (in the set with score <paramref name="current"/>) the score <paramref name="score"/>
    /// (not NaN), moving it in the order (Redis's <c>zslUpdateScore</c>); returns the score stored.
    /// </summary>
    public double UpdateScore(ReadOnlySpan<byte> member, double current, double score)
    {
        MemberSpot spot = Find(member);
        if (!spot.Found || spot.Score != current)
            throw new InvalidOperationException("member not in this sorted set with that score");
        return UpdateScore(spot, member, score);
    }

    /// <summary>
    /// <see cref="UpdateScore(ReadOnlySpan{byte}, double, double)"/> for a member <paramref name="spot"/> (<see cref="Find"/> of
    /// <paramref name="member"/>, the set unchanged since) found: the member index's score is overwritten where the lookup
    /// found it, and the score order's entry moves within its leaf when it still belongs there. The member must not be a
    /// view into this set.
    /// </summary>
    public double UpdateScore(in MemberSpot spot, ReadOnlySpan<byte> member, double score)
    {
        if (!spot.Found) throw new InvalidOperationException("member not in this sorted set");
        if (IsListpack && score == 0) score = 0;
        _byScore.Move(spot.Score, member, score);
        _byMember.SetScore(spot.Spot, score);
        return score;
    }

    /// <summary>Removes <paramref name="member"/>; false when it was not in the set.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        MemberSpot spot = Find(member);
        if (!spot.Found) return false;
        Remove(spot, member);
        return true;
    }

    /// <summary>Removes the member <paramref name="spot"/> (<see cref="Find"/> of <paramref name="member"/>, the set unchanged since) found.</summary>
    public void Remove(in MemberSpot spot, ReadOnlySpan<byte> member)
    {
        _byMember.Remove(spot.Spot, spot.Score, member); // before the score tree's descent, which would make the spot's path stale
        _byScore.Remove(spot.Score, member);
        MemberBytes -= member.Length;
    }

    /// <summary>Removes the entry at <paramref name="position"/> (which, like every position, is invalid afterwards).</summary>
    public void Remove(Position position)
    {
        // The member is a view into the score tree's leaf: the member tree goes first, and the score tree reads it before moving anything.
        ReadOnlySpan<byte> member = position.Member;
        double score = position.Score;
        int length = member.Length;
        _byMember.Remove(score, member);
        if (position.IsFirst) _byScore.RemoveEnd(last: false);
        else if (position.IsLast) _byScore.RemoveEnd(last: true);
        else _byScore.Remove(score, member);
        MemberBytes -= length;
    }

    /// <summary>The entry at 0-based <paramref name="rank"/> (0 ≤ rank &lt; <see cref="Count"/>), in O(log n).</summary>
    public Position ByRank(long rank)
    {
        ScoredMemberTree.Leaf leaf = _byScore.ByRank(rank, out int offset, out int index);
        return new Position(leaf, offset, index);
    }

    /// <summary>The first entry after (<paramref name="score"/>, <paramref name="member"/>) in (score, member) order, or none (ZSCAN resumes there).</summary>
    public Position FirstAfter(double score, ReadOnlySpan<byte> member)
    {
        long rank = _byScore.CountAtOrBefore(score, member);
        return rank < Count ? ByRank(rank) : default;
    }

    /// <summary>
    /// The ranks of the first and last members whose scores are in <paramref name="range"/> (Redis's
    /// <c>zslFirstInRange</c>/<c>zslLastInRange</c>); false when none is.
    /// </summary>
    public bool TryGetRankRange(in ScoreRange range, out long first, out long last)
    {
        var min = new BelowMin(range);
        var max = new AtMostMax(range);
        return TryGetRankRange(range.IsEmpty, ref min, ref max, out first, out last);
    }

    /// <summary>
    /// The ranks of the first and last members in <paramref name="range"/> walking the (score, member) order by member alone
    /// (Redis's <c>zslFirstInLexRange</c>/<c>zslLastInLexRange</c>; meaningful when all scores are equal); false when none is.
    /// </summary>
    public bool TryGetRankRange(in LexRange range, out long first, out long last)
    {
        var min = new LexBelowMin(range);
        var max = new LexAtMostMax(range);
        return TryGetRankRange(range.IsEmpty, ref min, ref max, out first, out last);
    }

    /// <summary>The ranks from the first entry <paramref name="min"/> does not put before it to the last one <paramref name="max"/> does.</summary>
    private bool TryGetRankRange<TMin, TMax>(bool empty, scoped ref TMin min, scoped ref TMax max, out long first, out long last)
        where TMin : IEntryBound, allows ref struct
        where TMax : IEntryBound, allows ref struct
    {
        first = last = -1;
        if (empty || Count == 0) return false;
        first = _byScore.CountBefore(ref min);
        last = _byScore.CountBefore(ref max) - 1;
        return first <= last;
    }

    // Score bounds decide from a separator's route key (its score's ordered bits) alone; lex bounds read the member.
    private readonly struct BelowMin(ScoreRange range) : IEntryBound
    {
        public bool RouteKey(out ulong key)
        {
            key = 0;
            return false;
        }

        public bool Route(ulong route, out bool before)
        {
            before = !range.AtLeastMin(ScoredMemberTree.FromOrderedBits(route));
            return true;
        }

        public bool Before(byte[] data, int p) => !range.AtLeastMin(ScoredMemberTree.ScoreAt(data, p));
    }

    private readonly struct AtMostMax(ScoreRange range) : IEntryBound
    {
        public bool RouteKey(out ulong key)
        {
            key = 0;
            return false;
        }

        public bool Route(ulong route, out bool before)
        {
            before = range.AtMostMax(ScoredMemberTree.FromOrderedBits(route));
            return true;
        }

        public bool Before(byte[] data, int p) => range.AtMostMax(ScoredMemberTree.ScoreAt(data, p));
    }

    private readonly ref struct LexBelowMin(LexRange range) : IEntryBound
    {
        private readonly LexRange _range = range;

        public bool RouteKey(out ulong key)
        {
            key = 0;
            return false;
        }

        public bool Route(ulong route, out bool before) => before = false;

        public bool Before(byte[] data, int p) => !_range.AtLeastMin(ScoredMemberTree.MemberAt(data, p));
    }

    private readonly ref struct LexAtMostMax(LexRange range) : IEntryBound
    {
        private readonly LexRange _range = range;

        public bool RouteKey(out ulong key)
        {
            key = 0;
            return false;
        }

        public bool Route(ulong route, out bool before) => before = false;

        public bool Before(byte[] data, int p) => _range.AtMostMax(ScoredMemberTree.MemberAt(data, p));
    }

    /// <summary>A deep copy (COPY, the AOF rewrite's snapshot): same members, scores, order, shape and encoding.</summary>
    public SortedSetValue Clone() => new(this);

    /// <summary>Checks both trees' invariants and that they hold the same (member, score) entries; for tests.</summary>
    internal void Validate()
    {
        var scores = new Dictionary<byte[], double>(ByteStringComparer.Instance);
        long bytes = 0;
        _byMember.Validate((score, member) =>
        {
            scores.Add(member, score);
            bytes += member.Length;
        });
        _byScore.Validate((score, member) =>
        {
            if (!scores.TryGetValue(member, out double other) || BitConverter.DoubleToInt64Bits(other) != BitConverter.DoubleToInt64Bits(score))
                throw new InvalidOperationException("the member index disagrees with the score order");
        });
        if (scores.Count != Count || _byMember.Count != Count) throw new InvalidOperationException("counts");
        if (bytes != MemberBytes) throw new InvalidOperationException("member bytes");
    }
}

/// <summary>
/// A score interval (ZRANGEBYSCORE, ZCOUNT…): <c>min</c>/<c>max</c> each inclusive or exclusive (<c>(</c> prefix), as Redis's
/// <c>zrangespec</c>. Empty when min &gt; max, or min = max with either end exclusive.
/// </summary>
/// <param name="Min">Lower bound.</param>
/// <param name="Max">Upper bound.</param>
/// <param name="MinExclusive">True for <c>(min</c>.</param>
/// <param name="MaxExclusive">True for <c>(max</c>.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct ScoreRange(double Min, double Max, bool MinExclusive, bool MaxExclusive)
{
    /// <summary>True when no score can be in the range.</summary>
    public bool IsEmpty => Min > Max || (Min == Max && (MinExclusive || MaxExclusive));

    /// <summary>True when <paramref name="score"/> is not below the lower bound.</summary>
    public bool AtLeastMin(double score) => MinExclusive ? score > Min : score >= Min;

    /// <summary>True when <paramref name="score"/> is not above the upper bound.</summary>
    public bool AtMostMax(double score) => MaxExclusive ? score < Max : score <= Max;
}

/// <summary>
/// A lexicographic interval of members (ZRANGEBYLEX…): each end <c>-</c> (below everything), <c>+</c> (above everything),
/// <c>[x</c> (inclusive) or <c>(x</c> (exclusive), as Redis's <c>zlexrangespec</c>; members compare as unsigned bytes.
/// The bounds are slices of the command's arguments.
/// </summary>
public readonly ref struct LexRange
{
    private readonly ReadOnlySpan<byte> _min, _max;
    private readonly sbyte _minInf, _maxInf; // -1: "-", +1: "+", 0: a string
    private readonly bool _minEx, _maxEx;

    private LexRange(ReadOnlySpan<byte> min, sbyte minInf, bool minEx, ReadOnlySpan<byte> max, sbyte maxInf, bool maxEx)
    {
        _min = min;
        _max = max;
        _minInf = minInf;
        _maxInf = maxInf;
        _minEx = minEx;
        _maxEx = maxEx;
    }

    /// <summary>Parses <c>min</c> and <c>max</c> items; false where Redis replies <c>-ERR min or max not valid string range item</c>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexRange range)
    {
        range = default;
        if (!TryItem(min, out ReadOnlySpan<byte> a, out sbyte ai, out bool ae) || !TryItem(max, out ReadOnlySpan<byte> b, out sbyte bi, out bool be)) return false;
        range = new LexRange(a, ai, ae, b, bi, be);
        return true;
    }

    private static bool TryItem(ReadOnlySpan<byte> item, out ReadOnlySpan<byte> value, out sbyte infinity, out bool exclusive)
    {
        value = default;
        infinity = 0;
        exclusive = true;
        if (item.Length == 0) return false;
        switch (item[0])
        {
            case (byte)'+':
                infinity = 1;
                return item.Length == 1;
            case (byte)'-':
                infinity = -1;
                return item.Length == 1;
            case (byte)'(':
                value = item[1..];
                return true;
            case (byte)'[':
                value = item[1..];
                exclusive = false;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Redis's <c>sdscmplex</c>: "-" below all, "+" above all, else unsigned bytes.</summary>
    private static int CompareItem(ReadOnlySpan<byte> a, sbyte aInf, ReadOnlySpan<byte> b, sbyte bInf)
    {
        if (aInf != 0 || bInf != 0) return aInf == bInf ? 0 : aInf == -1 || bInf == 1 ? -1 : 1;
        return a.SequenceCompareTo(b);
    }

    /// <summary>True when no member can be in the range.</summary>
    public bool IsEmpty
    {
        get
        {
            int c = CompareItem(_min, _minInf, _max, _maxInf);
            return c > 0 || (c == 0 && (_minEx || _maxEx));
        }
    }

    /// <summary>True when <paramref name="member"/> is not below the lower bound.</summary>
    public bool AtLeastMin(ReadOnlySpan<byte> member)
    {
        int c = CompareItem(member, 0, _min, _minInf);
        return _minEx ? c > 0 : c >= 0;
    }

    /// <summary>True when <paramref name="member"/> is not above the upper bound.</summary>
    public bool AtMostMax(ReadOnlySpan<byte> member)
    {
        int c = CompareItem(member, 0, _max, _maxInf);
        return _maxEx ? c < 0 : c <= 0;
    }
}
