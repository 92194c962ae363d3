using System.Buffers;
using System.Globalization;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// <c>SORT</c> and <c>SORT_RO</c> (https://redis.io/commands/sort/), as Redis 7.0's <c>sortCommandGeneric</c>:
/// <c>SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]</c>.
/// <para>
/// The sorted key holds any <see cref="ISortableValue"/> (a set, a list, or a sorted set's members); a missing key is an
/// empty collection; another type answers WRONGTYPE. Elements are compared as doubles (Redis's
/// <c>strtod</c>: the whole string, leading white space allowed, <c>inf</c>; NaN, overflow, underflow and anything else
/// answer <c>-ERR One or more scores can't be converted into double</c>), equal scores by their bytes; with ALPHA by their
/// bytes (Redis's <c>strcoll</c> in the C locale). <c>BY pattern</c> sorts by the string key (or, with <c>-&gt;field</c>,
/// the hash field) named by replacing the pattern's first <c>*</c> with the element; a missing one counts as 0 (as the
/// smallest with ALPHA); a pattern without <c>*</c> (<c>nosort</c>) keeps the value's order — a list's, or a sorted set's
/// score order, reversed by DESC, with LIMIT applied to that order (Redis's range by rank); a set's own order, except with
/// STORE, where Redis sorts the set ALPHA instead. A listpack sorted set becomes <c>skiplist</c>-encoded (Redis's
/// <c>zsetConvert</c> in SORT and SORT_RO). <c>GET pattern</c> replies
/// the looked-up value instead of the element (a null bulk string when missing), <c>GET #</c> the element itself.
/// <c>LIMIT offset count</c> as Redis: a negative offset is 0, a negative count means all.
/// </para>
/// <para>
/// <c>STORE destination</c> stores the result as a list (GET patterns that find nothing store an empty string), replacing
/// the destination, or deleting it when the result is empty, and replies its length (Redis's sortCommand).
/// </para>
/// </summary>
public static class SortCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("sort", -2, Write | DenyOom | MovableKeys, 1, 1, 1, "generic", "Sort the elements in a list, set or sorted set",
            (CommandContext c, in CommandArgs a) => Sort(c, a, readOnly: false)),
        new("sort_ro", -2, ReadOnly | MovableKeys | ReadsUnderLock, 1, 1, 1, "generic", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
            (CommandContext c, in CommandArgs a) => Sort(c, a, readOnly: true)),
    ];

    /// <summary>The error of an element (or BY value) that is not a number without ALPHA.</summary>
    public const string NotDouble = "ERR One or more scores can't be converted into double";

    /// <summary><c>sortstore</c> (class <c>g</c>): SORT … STORE wrote its destination.</summary>
    public static readonly KeyEvent SortStore = new("sortstore", 'g');

    /// <summary>One element being sorted: its bytes, its score (numeric sort) or its BY value (ALPHA with BY; null when missing).</summary>
    private struct Item
    {
        public byte[] Element;
        public double Score;
        public byte[]? By;
    }

    private static void Sort(CommandContext context, in CommandArgs args, bool readOnly)
    {
        RespWriter w = context.Writer;
        bool desc = false, alpha = false, dontSort = false, store = false;
        int storeIndex = 0;
        long limitStart = 0, limitCount = -1;
        int byIndex = -1, gets = 0;
        Span<int> getPatterns = args.Count <= 128 ? stackalloc int[args.Count] : new int[args.Count];
        for (int j = 2; j < args.Count; j++)
        {
            int left = args.Count - j - 1;
            if (args.Is(j, "ASC"u8)) desc = false;
            else if (args.Is(j, "DESC"u8)) desc = true;
            else if (args.Is(j, "ALPHA"u8)) alpha = true;
            else if (args.Is(j, "LIMIT"u8) && left >= 2)
            {
                if (!RespInteger.TryParse(args[j + 1], out limitStart) || !RespInteger.TryParse(args[j + 2], out limitCount))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                j += 2;
            }
            else if (!readOnly && args.Is(j, "STORE"u8) && left >= 1)
            {
                store = true;
                storeIndex = ++j;
            }
            else if (args.Is(j, "BY"u8) && left >= 1)
            {
                byIndex = ++j;
                if (args[j].IndexOf((byte)'*') < 0) dontSort = true;
                else if (!context.HasFullKeyReadAccess(args))
                {
                    // Redis 7.0's sortCommandGeneric: a BY pattern reads keys the ACL cannot check one by one.
                    w.WriteError("ERR BY option of SORT denied due to insufficient ACL permissions.");
                    return;
                }
            }
            else if (args.Is(j, "GET"u8) && left >= 1)
            {
                if (!context.HasFullKeyReadAccess(args))
                {
                    w.WriteError("ERR GET option of SORT denied due to insufficient ACL permissions.");
                    return;
                }
                getPatterns[gets++] = ++j;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        KeyEntry? entry = context.Database.Find(args[1]);
        context.CountLookup(entry != null, args[1]);
        ISortableValue? source = null;
        if (entry != null && (source = entry.Value as ISortableValue) == null)
        {
            w.WriteError(CommandErrors.WrongType);
            return;
        }
        // Redis converts a listpack sorted set to a skiplist for SORT and SORT_RO alike (zsetConvert, for good).
        if (source is SortedSetValue zset) zset.IsListpack = false;
        // A set stored unsorted would depend on its iteration order: Redis sorts it ALPHA instead, BY dropped.
        if (dontSort && store && source is SetValue)
        {
            dontSort = false;
            alpha = true;
            byIndex = -1;
        }
        int length = (int)(source?.Count ?? 0);
        Item[] items = ArrayPool<Item>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var collector = new Collector(items);
            source?.ForEach(ref collector);
            long start = limitStart < 0 ? 0 : limitStart;
            long end = limitCount < 0 ? length - 1 : start > long.MaxValue - limitCount ? long.MaxValue : start + limitCount - 1;
            if (start >= length)
            {
                start = length - 1;
                end = length - 2;
            }
            if (end >= length) end = length - 1;
            if (!dontSort && !Rank(context, args, items.AsSpan(0, length), byIndex, alpha, desc)) return;
            // Unsorted, a list or sorted set keeps its own order, reversed by DESC (Redis reads the LIMIT range from the
            // tail: the reverse rank for a sorted set); a set's order is its own either way.
            if (dontSort && desc && source is not SetValue) items.AsSpan(0, length).Reverse();
            if (store)
            {
                Store(context, args[storeIndex], items, start, end, args, getPatterns[..gets]);
                return;
            }
            w.WriteArrayHeader((gets == 0 ? 1 : gets) * (end - start + 1));
            for (long j = start; j <= end; j++)
            {
                byte[] element = items[j].Element;
                if (gets == 0)
                {
                    w.WriteBulkString(element);
                    continue;
                }
                foreach (int pattern in getPatterns[..gets])
                {
                    if (Lookup(context, args[pattern], element, out ReadOnlySpan<byte> value)) w.WriteBulkString(value);
                    else w.WriteNullBulkString();
                }
            }
        }
        finally
        {
            items.AsSpan(0, length).Clear();
            ArrayPool<Item>.Shared.Return(items);
        }
    }

    /// <summary>
    /// SORT … STORE: the selected elements (or each GET pattern's value, an empty string when it finds nothing) pushed in
    /// order into a new list at <paramref name="destination"/>, which replaces what was there (its expiry dropped); an
    /// empty result deletes the destination. Replies the list's length.
    /// </summary>
    private static void Store(CommandContext context, ReadOnlySpan<byte> destination, Item[] items, long start, long end,
        in CommandArgs args, ReadOnlySpan<int> getPatterns)
    {
        var list = new QuickList();
        for (long j = start; j <= end; j++)
        {
            byte[] element = items[j].Element;
            if (getPatterns.Length == 0)
            {
                list.PushTail(element);
                continue;
            }
            foreach (int pattern in getPatterns)
                list.PushTail(Lookup(context, args[pattern], element, out ReadOnlySpan<byte> value) ? value : default);
        }
        Database db = context.Database;
        if (list.Count == 0) db.Remove(destination);
        else db.Set(destination, list, 0, SortStore);
        context.Writer.WriteInteger(list.Count);
    }

    /// <summary>Copies each element into the items (their bytes must outlive the walk: they are sorted).</summary>
    private struct Collector(Item[] items) : IHashVisitor
    {
        private int _next;

        public bool Visit(ReadOnlySpan<byte> element, ReadOnlySpan<byte> value)
        {
            items[_next++].Element = element.ToArray();
            return true;
        }
    }

    /// <summary>
    /// Gives each item its sort key (score, or BY value) and sorts them. Replies <see cref="NotDouble"/> and returns false
    /// when a numeric key is not a number (Redis sorts first, then refuses; the reply is the same).
    /// </summary>
    private static bool Rank(CommandContext context, in CommandArgs args, Span<Item> items, int byIndex, bool alpha, bool desc)
    {
        bool converted = true;
        for (int i = 0; i < items.Length; i++)
        {
            ref Item item = ref items[i];
            ReadOnlySpan<byte> by = item.Element;
            if (byIndex >= 0 && !Lookup(context, args[byIndex], item.Element, out by)) continue; // missing: score 0, no BY value
            if (alpha)
            {
                if (byIndex >= 0) item.By = by.ToArray();
            }
            else if (!TryParseScore(by, out item.Score)) converted = false;
        }
        if (!converted)
        {
            context.Writer.WriteError(NotDouble);
            return false;
        }
        int sign = desc ? -1 : 1;
        bool byAlpha = alpha && byIndex >= 0;
        items.Sort((a, b) =>
        {
            int cmp;
            if (!alpha) cmp = a.Score > b.Score ? 1 : a.Score < b.Score ? -1 : a.Element.AsSpan().SequenceCompareTo(b.Element);
            else if (byAlpha) cmp = a.By == null || b.By == null ? (a.By == null ? 0 : 1) - (b.By == null ? 0 : 1) : a.By.AsSpan().SequenceCompareTo(b.By);
            else cmp = a.Element.AsSpan().SequenceCompareTo(b.Element);
            return sign * Math.Sign(cmp);
        });
        return true;
    }

    /// <summary>
    /// Redis's <c>lookupKeyByPattern</c>: <c>#</c> is the element itself; otherwise the pattern's first <c>*</c> is replaced
    /// by the element, and the text after a later <c>-&gt;</c> (when not empty) names a hash field. Found: a string key's
    /// value, or the field of a hash key. False when the pattern has no <c>*</c>, the key is missing or of another type, or
    /// the field is missing. Counts a keyspace hit or miss.
    /// </summary>
    private static bool Lookup(CommandContext context, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> element, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (pattern.SequenceEqual("#"u8))
        {
            value = element;
            return true;
        }
        int star = pattern.IndexOf((byte)'*');
        if (star < 0) return false;
        ReadOnlySpan<byte> after = pattern[(star + 1)..], field = default;
        int arrow = after.IndexOf("->"u8);
        if (arrow >= 0 && arrow + 2 < after.Length)
        {
            field = after[(arrow + 2)..];
            after = after[..arrow];
        }
        int keyLength = star + element.Length + after.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(keyLength);
        try
        {
            Span<byte> key = rented.AsSpan(0, keyLength);
            pattern[..star].CopyTo(key);
            element.CopyTo(key[star..]);
            after.CopyTo(key[(star + element.Length)..]);
            KeyEntry? entry = context.Database.Find(key);
            context.CountLookup(entry != null, key);
            if (field.IsEmpty ? entry?.Value is not byte[] : entry?.Value is not SortedHash) return false;
            if (field.IsEmpty)
            {
                value = (byte[])entry!.Value;
                return true;
            }
            // SORT holds every shard of the database (its BY/GET key specs are "unknown"), so no write changes a hash while
            // the value is in use; a string is never changed once stored.
            return ((SortedHash)entry!.Value).TryGet(field, out value);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// A sort score as Redis reads one with <c>strtod</c> and checks the end pointer, <c>ERANGE</c> and NaN: the whole text
    /// (leading white space allowed, trailing not), decimal or <c>inf</c>/<c>infinity</c>; the empty string is 0.
    /// Overflow to infinity and underflow to zero are refused. (Hexadecimal <c>0x…</c>, which <c>strtod</c> also reads, is
    /// refused: an intentional difference.)
    /// </summary>
    internal static bool TryParseScore(ReadOnlySpan<byte> text, out double score)
    {
        score = 0;
        if (text.IsEmpty) return true;
        int p = 0;
        while (p < text.Length && text[p] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') p++;
        ReadOnlySpan<byte> rest = text[p..];
        ReadOnlySpan<byte> unsigned = rest.Length > 0 && rest[0] is (byte)'+' or (byte)'-' ? rest[1..] : rest;
        if (System.Text.Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(unsigned, "infinity"u8))
        {
            score = rest[0] == (byte)'-' ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (unsigned.IsEmpty || !(char.IsAsciiDigit((char)unsigned[0]) || unsigned[0] == (byte)'.')) return false;
        if (!double.TryParse(rest, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out score)) return false;
        if (double.IsInfinity(score)) return false; // ERANGE: overflow
        if (score == 0)
        {
            // ERANGE: a non-zero mantissa that underflowed to zero.
            int e = rest.IndexOfAny((byte)'e', (byte)'E');
            ReadOnlySpan<byte> mantissa = e < 0 ? rest : rest[..e];
            foreach (byte b in mantissa)
            {
                if (b is >= (byte)'1' and <= (byte)'9') return false;
            }
        }
        return true;
    }
}
