using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Commands;

/// <summary>
/// One call of a SCAN-family command over a collection kept in a stable total order (<see cref="IOrderedSource"/>: SSCAN,
/// whose sets are in (hash, member) order; HSCAN's byte order would do too): the cursor is a position ("after element E",
/// issued by <see cref="HashScanCursors"/>), so an element present for the whole scan is returned exactly once whatever
/// is inserted or deleted meanwhile. A call examines at most COUNT elements (all of them when the collection is to be
/// returned whole, as Redis returns a small encoding); MATCH filters what was examined, and in a collection in byte order
/// (<see cref="IOrderedSource.InByteOrder"/>) a pattern with a literal prefix seeks straight to it and ends the scan past it.
/// </summary>
internal static class OrderedScan
{
    /// <summary>
    /// Writes the reply of one call: <c>*2</c> of the next cursor ("0" when done) and the matching elements (each followed by
    /// its value when <paramref name="withValues"/>). <paramref name="whole"/>: every element in one call, from the start
    /// (a small encoding, or one not in byte order), any valid cursor. Replies <c>-ERR invalid cursor</c> for a non-zero
    /// cursor that was never issued or is forgotten.
    /// </summary>
    public static void Run<TSource>(RespWriter w, TSource source, ulong cursor, in ScanOptions options, bool whole, bool withValues)
        where TSource : IOrderedSource
    {
        Span<byte> inline = stackalloc byte[HashScanCursors.MaxInlineLength];
        scoped ReadOnlySpan<byte> after = default;
        if (cursor != 0 && !HashScanCursors.Shared.TryResolve(cursor, inline, out after))
        {
            w.WriteError("ERR invalid cursor");
            return;
        }
        ReadOnlySpan<byte> pattern = options.Pattern;
        ReadOnlySpan<byte> prefix = options.UsePattern && !whole && source.InByteOrder ? GlobPattern.LiteralPrefix(pattern) : default;
        // Start strictly after the cursor's element, or at the prefix when that lies further on; a whole walk from the start.
        bool exclusive = cursor != 0 && !whole;
        scoped ReadOnlySpan<byte> start = whole ? default : after;
        if (!exclusive || prefix.SequenceCompareTo(after) > 0)
        {
            start = prefix;
            exclusive = false;
        }
        long budget = whole ? long.MaxValue : options.Count;
        // Pass 1 counts the matches and finds where this call stops; pass 2 writes the same elements (the caller keeps the
        // collection unchanged between them: an immutable version, or the key's shard lock).
        var counter = new Step(pattern, options.UsePattern, prefix, budget, null, withValues);
        source.ForEachFrom(start, exclusive, ref counter);
        ulong next = counter.Finished ? 0 : HashScanCursors.Shared.Save(counter.Last);
        WriteHeader(w, next, withValues ? counter.Matches * 2 : counter.Matches);
        if (counter.Matches == 0) return;
        var writer = new Step(pattern, options.UsePattern, prefix, budget, w, withValues);
        source.ForEachFrom(start, exclusive, ref writer);
    }

    /// <summary>The reply's frame: <c>*2</c>, the cursor as a bulk string, and the header of <paramref name="elements"/> items.</summary>
    public static void WriteHeader(RespWriter w, ulong cursor, long elements)
    {
        w.WriteArrayHeader(2);
        w.WriteBulkString((long)cursor);
        w.WriteArrayHeader(elements);
    }

    /// <summary>One call's walk: examines up to a budget of elements, stops at the end of the prefix range, counts or writes matches.</summary>
    private ref struct Step(ReadOnlySpan<byte> pattern, bool usePattern, ReadOnlySpan<byte> prefix, long budget, RespWriter? writer, bool withValues)
        : IHashVisitor
    {
        private readonly ReadOnlySpan<byte> _pattern = pattern;
        private readonly ReadOnlySpan<byte> _prefix = prefix;
        private long _budget = budget;

        /// <summary>Elements that matched.</summary>
        public long Matches;

        /// <summary>The last element examined (the next call resumes strictly after it).</summary>
        public ReadOnlySpan<byte> Last;

        /// <summary>True when no element after <see cref="Last"/> can be returned: the collection or the prefix range ended.</summary>
        public bool Finished = true;

        public bool Visit(ReadOnlySpan<byte> element, ReadOnlySpan<byte> value)
        {
            // Elements are in byte order when there is a prefix: the first without it ends the prefix's range (and the scan).
            if (!element.StartsWith(_prefix)) return false;
            if (_budget == 0)
            {
                Finished = false;
                return false;
            }
            _budget--;
            Last = element;
            if (usePattern && !GlobPattern.IsMatch(_pattern, element)) return true;
            Matches++;
            if (writer == null) return true;
            writer.WriteBulkString(element);
            if (withValues) writer.WriteBulkString(value);
            return true;
        }
    }
}
