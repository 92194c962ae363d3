using System.Runtime.InteropServices;

namespace RespKv.Storage;

/// <summary>
/// A sorted set's value (TYPE <c>zset</c>): members (binary-safe byte strings) each with a <see cref="double"/> score,
/// ordered by (score, member bytes unsigned) as Redis orders them. Two structures, as Redis's <c>OBJ_ENCODING_SKIPLIST</c>:
/// a skiplist whose links carry spans (the number of level-0 nodes they jump), giving O(log n) insert, delete,
/// rank (<see cref="RankOf"/>), element by rank (<see cref="ByRank"/>) and the start of a score or lex range; and a
/// member → node dictionary (span-keyed lookups, no allocation) for O(1) <see cref="TryGetScore"/>.
/// <para>
/// Mutable: changed in place under its key's shard lock (<c>SortedSetKind.MutatedInPlace</c>), so every reader holds that
/// lock too. <see cref="IsListpack"/> is Redis 7.0's encoding decision, sticky as Redis's (a set converted to
/// <c>skiplist</c> never converts back, except for a value a store command builds afresh).
/// </para>
/// </summary>
public sealed class SortedSetValue : ISortableValue
{
    /// <summary>Most levels a node can have (Redis's <c>ZSKIPLIST_MAXLEVEL</c>).</summary>
    public const int MaxLevel = 32;

    /// <summary>
    /// Estimated managed bytes per member besides its byte array: the node object (64, level 0 inline), the array of its
    /// upper levels (one node in four: 24 + 16 per level, 1/3 of a level per node on average) and its dictionary entry
    /// and bucket (about 36).
    /// </summary>
    public const long MemberOverheadBytes = 64 + 6 + 5 + 36;

    /// <summary>Estimated managed bytes of an empty sorted set: this object, the head node with 32 levels, the dictionary.</summary>
    public const long EmptyBytes = 64 + 48 + 24 + 16 * MaxLevel + 100;

    private readonly Node _header = new([], 0, MaxLevel);
    private readonly Dictionary<byte[], Node> _dict;
    private readonly Dictionary<byte[], Node>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private Node? _tail;
    private int _level = 1;
    private long _length; // nodes linked in the skiplist (Count, except while a node is being relinked)

    [ThreadStatic] private static Node[]? t_update;
    [ThreadStatic] private static long[]? t_rank;

    /// <summary>An empty sorted set, <c>listpack</c>-encoded unless <paramref name="listpack"/> is false.</summary>
    public SortedSetValue(bool listpack = true)
    {
        _dict = new Dictionary<byte[], Node>(ByteStringComparer.Instance);
        _lookup = _dict.GetAlternateLookup<ReadOnlySpan<byte>>();
        IsListpack = listpack;
    }

    /// <summary>SORT's walk (<see cref="ISortableValue"/>): every member in (score, member) order, with an empty value.</summary>
    public void ForEach<TVisitor>(ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct
    {
        for (Node? node = First; node != null; node = node.Next)
            if (!visitor.Visit(node.Member, default)) return;
    }

    /// <summary>One member: its bytes, its score, and its skiplist links.</summary>
    public sealed class Node
    {
        internal Node(byte[] member, double score, int levels)
        {
            Member = member;
            Score = score;
            if (levels > 1) _upper = new Level[levels - 1];
        }

        /// <summary>The member's bytes (owned by the set: never change them).</summary>
        public byte[] Member { get; }

        /// <summary>The member's score.</summary>
        public double Score { get; internal set; }

        /// <summary>The previous node in (score, member) order, or null for the first.</summary>
        public Node? Previous { get; internal set; }

        /// <summary>The next node in (score, member) order, or null for the last.</summary>
        public Node? Next => _level0.Forward;

        // Level 0 inline (three nodes in four have no other level), levels 1 and up in an array.
        private Level _level0;
        private readonly Level[]? _upper;

        /// <summary>Levels of this node (1 to <see cref="MaxLevel"/>).</summary>
        internal int LevelCount => 1 + (_upper?.Length ?? 0);

        /// <summary>Level <paramref name="i"/>'s link.</summary>
        internal ref Level L(int i) => ref i == 0 ? ref _level0 : ref _upper![i - 1];
    }

    internal struct Level
    {
        public Node? Forward;
        public long Span;
    }

    /// <summary>Number of members (ZCARD).</summary>
    public long Count => _dict.Count;

    /// <summary>Sum of the members' lengths in bytes.</summary>
    public long MemberBytes { get; private set; }

    /// <summary>Sum of the members' arrays' estimated heap bytes (24-byte header, data rounded up to 8).</summary>
    public long MemberArrayBytes { get; private set; }

    /// <summary>Estimated managed bytes of the whole value (see <see cref="MemberOverheadBytes"/>, <see cref="EmptyBytes"/>).</summary>
    public long MemoryBytes => EmptyBytes + Count * MemberOverheadBytes + MemberArrayBytes;

    /// <summary>
    /// True while Redis 7.0 would hold this set as a <c>listpack</c>: set false for good by <see cref="Add"/> once the set
    /// outgrows <c>zset-max-listpack-entries</c> or gets a member longer than <c>zset-max-listpack-value</c>.
    /// </summary>
    public bool IsListpack { get; set; }

    /// <summary>The first node (lowest score), or null when empty.</summary>
    public Node? First => _header.L(0).Forward;

    /// <summary>The last node (highest score), or null when empty.</summary>
    public Node? Last => _tail;

    /// <summary>The score of <paramref name="member"/>, or false when it is not in the set.</summary>
    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (_lookup.TryGetValue(member, out Node? node))
        {
            score = node.Score;
            return true;
        }
        score = 0;
        return false;
    }

    /// <summary>The node of <paramref name="member"/>, or null.</summary>
    public Node? Find(ReadOnlySpan<byte> member) => _lookup.TryGetValue(member, out Node? node) ? node : null;

    /// <summary>(score, member) order: negative when a sorts before b.</summary>
    private static int Compare(double scoreA, ReadOnlySpan<byte> memberA, double scoreB, ReadOnlySpan<byte> memberB) =>
        scoreA < scoreB ? -1 : scoreA > scoreB ? 1 : memberA.SequenceCompareTo(memberB);

    private static int RandomLevel()
    {
        int level = 1;
        // Each further level with probability 1/4 (Redis's ZSKIPLIST_P).
        while (level < MaxLevel && (Random.Shared.Next() & 0xFFFF) < 0xFFFF / 4) level++;
        return level;
    }

    /// <summary>
    /// Adds <paramref name="member"/> (not already present: check with <see cref="Find"/>) with <paramref name="score"/>
    /// (not NaN). Clears <see cref="IsListpack"/> when the set now has more than <paramref name="maxListpackEntries"/>
    /// members or the member is longer than <paramref name="maxListpackValue"/> bytes (Redis's conversion).
    /// A listpack set stores -0 as 0, as Redis's listpack does.
    /// </summary>
    public Node Add(ReadOnlySpan<byte> member, double score, long maxListpackEntries, long maxListpackValue)
    {
        if (IsListpack && (Count + 1 > maxListpackEntries || member.Length > maxListpackValue)) IsListpack = false;
        if (IsListpack && score == 0) score = 0; // -0 → +0
        Node node = Insert(member.ToArray(), score);
        _dict.Add(node.Member, node);
        MemberBytes += member.Length;
        MemberArrayBytes += KeyEntry.ArrayBytes(member.Length);
        return node;
    }

    private Node Insert(byte[] member, double score)
    {
        var node = new Node(member, score, RandomLevel());
        Link(node);
        return node;
    }

    /// <summary>Links <paramref name="node"/> (unlinked, its score set) into the skiplist at its place, with its own levels.</summary>
    private void Link(Node node)
    {
        Node[] update = t_update ??= new Node[MaxLevel];
        long[] rank = t_rank ??= new long[MaxLevel];
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            rank[i] = i == _level - 1 ? 0 : rank[i + 1];
            Node? f;
            while ((f = x.L(i).Forward) != null && Compare(f.Score, f.Member, node.Score, node.Member) < 0)
            {
                rank[i] += x.L(i).Span;
                x = f;
            }
            update[i] = x;
        }
        int level = node.LevelCount;
        if (level > _level)
        {
            for (int i = _level; i < level; i++)
            {
                rank[i] = 0;
                update[i] = _header;
                _header.L(i).Span = _length;
            }
            _level = level;
        }
        for (int i = 0; i < level; i++)
        {
            node.L(i).Forward = update[i].L(i).Forward;
            update[i].L(i).Forward = node;
            node.L(i).Span = update[i].L(i).Span - (rank[0] - rank[i]);
            update[i].L(i).Span = rank[0] - rank[i] + 1;
        }
        for (int i = level; i < _level; i++) update[i].L(i).Span++;
        node.Previous = update[0] == _header ? null : update[0];
        if (node.L(0).Forward != null) node.L(0).Forward!.Previous = node;
        else _tail = node;
        _length++;
        Array.Clear(update, 0, _level);
    }

    /// <summary>Removes <paramref name="member"/>; false when it was not in the set.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!_lookup.TryGetValue(member, out Node? node)) return false;
        Remove(node);
        return true;
    }

    /// <summary>Removes <paramref name="node"/> (a node of this set).</summary>
    public void Remove(Node node)
    {
        Unlink(node);
        _dict.Remove(node.Member);
        MemberBytes -= node.Member.Length;
        MemberArrayBytes -= KeyEntry.ArrayBytes(node.Member.Length);
    }

    private void Unlink(Node node)
    {
        Node[] update = t_update ??= new Node[MaxLevel];
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = x.L(i).Forward) != null && Compare(f.Score, f.Member, node.Score, node.Member) < 0) x = f;
            update[i] = x;
        }
        for (int i = 0; i < _level; i++)
        {
            if (update[i].L(i).Forward == node)
            {
                update[i].L(i).Span += node.L(i).Span - 1;
                update[i].L(i).Forward = node.L(i).Forward;
            }
            else update[i].L(i).Span--;
        }
        if (node.L(0).Forward != null) node.L(0).Forward!.Previous = node.Previous;
        else _tail = node.Previous;
        while (_level > 1 && _header.L(_level - 1).Forward == null) _level--;
        _length--;
        Array.Clear(update, 0, MaxLevel);
        for (int i = 0; i < node.LevelCount; i++) node.L(i) = default;
        node.Previous = null;
    }

    /// <summary>
    /// Gives <paramref name="node"/> the score <paramref name="score"/> (not NaN), moving it in the order when needed
    /// (Redis's <c>zslUpdateScore</c>: the same node, relinked, so nothing is allocated); returns it.
    /// </summary>
    public Node UpdateScore(Node node, double score)
    {
        if (IsListpack && score == 0) score = 0;
        Node? prev = node.Previous, next = node.Next;
        if ((prev == null || Compare(prev.Score, prev.Member, score, node.Member) < 0)
            && (next == null || Compare(next.Score, next.Member, score, node.Member) > 0))
        {
            node.Score = score;
            return node;
        }
        Unlink(node);
        node.Score = score;
        Link(node);
        return node;
    }

    /// <summary>0-based rank of <paramref name="node"/> in ascending order (ZRANK).</summary>
    public long RankOf(Node node)
    {
        long rank = 0;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = x.L(i).Forward) != null && Compare(f.Score, f.Member, node.Score, node.Member) <= 0)
            {
                rank += x.L(i).Span;
                x = f;
            }
            if (x == node) return rank - 1;
        }
        throw new InvalidOperationException("node not in this sorted set");
    }

    /// <summary>The node at 0-based <paramref name="rank"/> (0 ≤ rank &lt; <see cref="Count"/>), in O(log n).</summary>
    public Node ByRank(long rank)
    {
        long target = rank + 1, traversed = 0;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.L(i).Forward != null && traversed + x.L(i).Span <= target)
            {
                traversed += x.L(i).Span;
                x = x.L(i).Forward!;
            }
            if (traversed == target) return x;
        }
        throw new ArgumentOutOfRangeException(nameof(rank));
    }

    /// <summary>The first node after position (<paramref name="score"/>, <paramref name="member"/>) in (score, member) order, or null (ZSCAN resumes there).</summary>
    public Node? FirstAfter(double score, ReadOnlySpan<byte> member)
    {
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
            while (x.L(i).Forward is { } f && Compare(f.Score, f.Member, score, member) <= 0) x = f;
        return x.L(0).Forward;
    }

    /// <summary>The first node whose score is in <paramref name="range"/>, or null (Redis's <c>zslFirstInRange</c>).</summary>
    public Node? FirstInRange(in ScoreRange range)
    {
        if (!IntersectsRange(range)) return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
            while (x.L(i).Forward is { } f && !range.AtLeastMin(f.Score)) x = f;
        Node? first = x.L(0).Forward;
        return first != null && range.AtMostMax(first.Score) ? first : null;
    }

    /// <summary>The last node whose score is in <paramref name="range"/>, or null (Redis's <c>zslLastInRange</c>).</summary>
    public Node? LastInRange(in ScoreRange range)
    {
        if (!IntersectsRange(range)) return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
            while (x.L(i).Forward is { } f && range.AtMostMax(f.Score)) x = f;
        return x != _header && range.AtLeastMin(x.Score) ? x : null;
    }

    private bool IntersectsRange(in ScoreRange range) =>
        !range.IsEmpty && _tail != null && range.AtLeastMin(_tail.Score) && range.AtMostMax(First!.Score);

    /// <summary>The first node whose member is in <paramref name="range"/> walking the (score, member) order by member alone, or null (Redis's <c>zslFirstInLexRange</c>; meaningful when all scores are equal).</summary>
    public Node? FirstInLexRange(in LexRange range)
    {
        if (!IntersectsLexRange(range)) return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
            while (x.L(i).Forward is { } f && !range.AtLeastMin(f.Member)) x = f;
        Node? first = x.L(0).Forward;
        return first != null && range.AtMostMax(first.Member) ? first : null;
    }

    /// <summary>The last node whose member is in <paramref name="range"/> (Redis's <c>zslLastInLexRange</c>), or null.</summary>
    public Node? LastInLexRange(in LexRange range)
    {
        if (!IntersectsLexRange(range)) return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
            while (x.L(i).Forward is { } f && range.AtMostMax(f.Member)) x = f;
        return x != _header && range.AtLeastMin(x.Member) ? x : null;
    }

    private bool IntersectsLexRange(in LexRange range) =>
        !range.IsEmpty && _tail != null && range.AtLeastMin(_tail.Member) && range.AtMostMax(First!.Member);

    /// <summary>A deep copy (COPY, the AOF rewrite's snapshot): same members, scores, order and encoding.</summary>
    public SortedSetValue Clone()
    {
        var copy = new SortedSetValue(IsListpack);
        copy._dict.EnsureCapacity(_dict.Count);
        // Appending in order: each insert walks to the tail; O(n log n) overall.
        for (Node? n = First; n != null; n = n.Next)
        {
            Node added = copy.Insert(n.Member, n.Score);
            copy._dict.Add(added.Member, added);
        }
        copy.MemberBytes = MemberBytes;
        copy.MemberArrayBytes = MemberArrayBytes;
        return copy;
    }

    /// <summary>Checks the skiplist's invariants (order, spans, back links, count); for tests.</summary>
    internal void Validate()
    {
        long n = 0;
        Node? prev = null;
        for (Node? x = First; x != null; x = x.Next)
        {
            if (x.Previous != prev) throw new InvalidOperationException("back link");
            if (prev != null && Compare(prev.Score, prev.Member, x.Score, x.Member) >= 0) throw new InvalidOperationException("order");
            if (!ReferenceEquals(_dict[x.Member], x)) throw new InvalidOperationException("dictionary");
            prev = x;
            n++;
        }
        if (n != Count || n != _length || _tail != prev) throw new InvalidOperationException("count/tail");
        for (long r = 0; r < n; r += Math.Max(1, n / 50))
            if (RankOf(ByRank(r)) != r) throw new InvalidOperationException("rank");
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
