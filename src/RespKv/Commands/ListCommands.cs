using System.Buffers;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// List commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=list): LPUSH RPUSH LPUSHX RPUSHX
/// LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, and the blocking BLPOP BRPOP BLMOVE
/// BRPOPLPUSH BLMPOP.
/// <para>
/// Values are <see cref="QuickList"/>s changed in place: writes run under the executor's shard locks and announce each
/// change with <see cref="Database.Mutated"/> (the list's event — <c>lpush</c>, <c>rpop</c>, <c>lset</c>… — and its byte
/// deltas); a list left empty is deleted (announced <c>del</c> after the change, as Redis notifies). Reads carry
/// <see cref="CommandFlags.ReadsUnderLock"/>, so they also run holding the key's shard. A blocking command with nothing
/// to pop asks its context to block (<see cref="CommandContext.BlockOnKeys(in CommandArgs, int, int, long, Type)"/>) and writes no reply; the client re-runs
/// it when a key it waits on changes, and a served blocking command is logged as its non-blocking form.
/// </para>
/// </summary>
public static class ListCommands
{
    /// <summary>This family's rows of the command table (as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("lpush", -3, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "list", "Prepend one or multiple elements to a list", (CommandContext c, in CommandArgs a) => Push(c, a, head: true, onlyExisting: false)),
        new("rpush", -3, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "list", "Append one or multiple elements to a list", (CommandContext c, in CommandArgs a) => Push(c, a, head: false, onlyExisting: false)),
        new("lpushx", -3, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "list", "Prepend an element to a list, only if the list exists", (CommandContext c, in CommandArgs a) => Push(c, a, head: true, onlyExisting: true)),
        new("rpushx", -3, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "list", "Append an element to a list, only if the list exists", (CommandContext c, in CommandArgs a) => Push(c, a, head: false, onlyExisting: true)),
        new("lpop", -2, Write | Fast, 1, 1, 1, "list", "Remove and get the first elements in a list", (CommandContext c, in CommandArgs a) => Pop(c, a, head: true)),
        new("rpop", -2, Write | Fast, 1, 1, 1, "list", "Remove and get the last elements in a list", (CommandContext c, in CommandArgs a) => Pop(c, a, head: false)),
        new("llen", 2, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "list", "Get the length of a list", LLen),
        new("lrange", 4, ReadOnly | ReadsUnderLock, 1, 1, 1, "list", "Get a range of elements from a list", LRange),
        new("lindex", 3, ReadOnly | ReadsUnderLock, 1, 1, 1, "list", "Get an element from a list by its index", LIndex),
        new("lset", 4, Write | DenyOom | RepliesBeforeNotifying, 1, 1, 1, "list", "Set the value of an element in a list by its index", LSet),
        new("linsert", 5, Write | DenyOom, 1, 1, 1, "list", "Insert an element before or after another element in a list", LInsert),
        new("lrem", 4, Write, 1, 1, 1, "list", "Remove elements from a list", LRem),
        new("ltrim", 4, Write, 1, 1, 1, "list", "Trim a list to the specified range", LTrim),
        new("lpos", -3, ReadOnly | ReadsUnderLock, 1, 1, 1, "list", "Return the index of matching elements on a list", LPos),
        new("lmove", 5, Write | DenyOom | RepliesBeforeNotifying, 1, 2, 1, "list", "Pop an element from a list, push it to another list and return it", (CommandContext c, in CommandArgs a) => Move(c, a, MoveForm.LMove)) { EventsBeforeReply = MoveEventsBeforeReply },
        new("rpoplpush", 3, Write | DenyOom | RepliesBeforeNotifying, 1, 2, 1, "list", "Remove the last element in a list, prepend it to another list and return it", (CommandContext c, in CommandArgs a) => Move(c, a, MoveForm.RPopLPush)) { EventsBeforeReply = MoveEventsBeforeReply },
        new("lmpop", -4, Write | MovableKeys, 0, 0, 0, "list", "Pop elements from a list", (CommandContext c, in CommandArgs a) => MPop(c, a, blocking: false)),
        new("blpop", -3, Write | NoScript | Blocking, 1, -2, 1, "list", "Remove and get the first element in a list, or block until one is available", (CommandContext c, in CommandArgs a) => BPop(c, a, head: true)),
        new("brpop", -3, Write | NoScript | Blocking, 1, -2, 1, "list", "Remove and get the last element in a list, or block until one is available", (CommandContext c, in CommandArgs a) => BPop(c, a, head: false)),
        new("blmove", 6, Write | DenyOom | NoScript | Blocking | RepliesBeforeNotifying, 1, 2, 1, "list", "Pop an element from a list, push it to another list and return it; or block until one is available", (CommandContext c, in CommandArgs a) => Move(c, a, MoveForm.BLMove)) { EventsBeforeReply = MoveEventsBeforeReply },
        new("brpoplpush", 4, Write | DenyOom | NoScript | Blocking | RepliesBeforeNotifying, 1, 2, 1, "list", "Pop an element from a list, push it to another list and return it; or block until one is available", (CommandContext c, in CommandArgs a) => Move(c, a, MoveForm.BRPopLPush)) { EventsBeforeReply = MoveEventsBeforeReply },
        new("blmpop", -5, Write | Blocking | MovableKeys, 0, 0, 0, "list", "Pop elements from a list, or block until one is available", (CommandContext c, in CommandArgs a) => MPop(c, a, blocking: true)),
    ];

    /// <summary><c>lpush</c> (class <c>l</c>): elements added at the head (LPUSH, LPUSHX, LMOVE … LEFT).</summary>
    public static readonly KeyEvent LpushEvent = new("lpush", 'l');

    /// <summary><c>rpush</c> (class <c>l</c>): elements added at the tail.</summary>
    public static readonly KeyEvent RpushEvent = new("rpush", 'l');

    /// <summary><c>lpop</c> (class <c>l</c>): elements removed from the head (LPOP, BLPOP, LMPOP LEFT, LMOVE LEFT …).</summary>
    public static readonly KeyEvent LpopEvent = new("lpop", 'l');

    /// <summary><c>rpop</c> (class <c>l</c>): elements removed from the tail.</summary>
    public static readonly KeyEvent RpopEvent = new("rpop", 'l');

    /// <summary>
    /// LMOVE's family pushes the destination's events (<c>lpush</c>/<c>rpush</c>, after its <c>new</c>) before its reply and the
    /// source's (<c>lpop</c>/<c>rpop</c>, <c>del</c>) after it, as Redis's <c>lmoveHandlePush</c> (notify, then reply) and
    /// <c>lmoveGenericCommand</c> (pop events after it) order them.
    /// </summary>
    private static readonly KeyEvent[] MoveEventsBeforeReply = [LpushEvent, RpushEvent];

    /// <summary><c>linsert</c> (class <c>l</c>).</summary>
    public static readonly KeyEvent LinsertEvent = new("linsert", 'l');

    /// <summary><c>lset</c> (class <c>l</c>).</summary>
    public static readonly KeyEvent LsetEvent = new("lset", 'l');

    /// <summary><c>lrem</c> (class <c>l</c>).</summary>
    public static readonly KeyEvent LremEvent = new("lrem", 'l');

    /// <summary><c>ltrim</c> (class <c>l</c>).</summary>
    public static readonly KeyEvent LtrimEvent = new("ltrim", 'l');

    private const string PositiveCount = "ERR value is out of range, must be positive";
    private const string IndexOutOfRange = "ERR index out of range";

    /// <summary>A list's figures before a change, so <see cref="Changed"/> can announce the deltas.</summary>
    private readonly struct Before(QuickList list)
    {
        public readonly long Bytes = list.Bytes;
        public readonly long Memory = ListKind.MemoryOf(list);
    }

    /// <summary>
    /// Announces an in-place change of <paramref name="list"/> as <paramref name="keyEvent"/> with its byte deltas, and deletes
    /// the key when the list is now empty. Caller holds the shard lock.
    /// </summary>
    private static void Changed(Database db, in KeySlot slot, ReadOnlySpan<byte> key, QuickList list, in Before before, KeyEvent keyEvent)
    {
        db.Mutated(slot, key, keyEvent, list.Bytes - before.Bytes, ListKind.MemoryOf(list) - before.Memory);
        if (list.Count == 0) db.Remove(key);
    }

    /// <summary>The list at <paramref name="key"/> for a write (no lookup counted); false after replying WRONGTYPE.</summary>
    private static bool TryWriteList(CommandContext context, ReadOnlySpan<byte> key, out KeySlot slot, out QuickList? list)
    {
        slot = context.Database.Locate(key);
        return TypedValue.TryGet(context, context.Database.Find(slot, key), out list);
    }

    /// <summary>
    /// Adds <paramref name="args"/> from <paramref name="first"/> on (or <paramref name="one"/> when args are empty) at
    /// <paramref name="key"/>'s head or tail, creating the list (announced by <see cref="Database.Set(in KeySlot, ReadOnlySpan{byte}, object, long, KeyEvent?)"/>)
    /// or announcing the push; returns the new length.
    /// </summary>
    private static long PushAll(Database db, in KeySlot slot, ReadOnlySpan<byte> key, QuickList? list, in CommandArgs args, int first, bool head,
        ReadOnlySpan<byte> one = default)
    {
        bool created = list == null;
        list ??= new QuickList();
        var before = new Before(list);
        if (first == 0) Add(list, one, head);
        else
            for (int i = first; i < args.Count; i++) Add(list, args[i], head);
        if (created) db.Set(slot, key, list, 0, head ? LpushEvent : RpushEvent);
        else Changed(db, slot, key, list, before, head ? LpushEvent : RpushEvent);
        return list.Count;

        static void Add(QuickList list, ReadOnlySpan<byte> value, bool head)
        {
            if (head) list.PushHead(value);
            else list.PushTail(value);
        }
    }

    /// <summary><c>LPUSH/RPUSH key element [element ...]</c> (<c>:length</c>); the X forms push only onto an existing list (<c>:0</c> otherwise).</summary>
    private static void Push(CommandContext context, in CommandArgs args, bool head, bool onlyExisting)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        if (!TryWriteList(context, key, out KeySlot slot, out QuickList? list)) return;
        if (list == null && onlyExisting)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        context.Writer.WriteInteger(PushAll(db, slot, key, list, args, 2, head));
    }

    /// <summary>
    /// <c>LPOP/RPOP key [count]</c>: without count the element or a null bulk string; with count an array of up to count
    /// elements, a null array for a missing key (RESP3 null), an empty array for count 0. A count that is not a
    /// non-negative integer: <c>-ERR value is out of range, must be positive</c>.
    /// </summary>
    private static void Pop(CommandContext context, in CommandArgs args, bool head)
    {
        if (args.Count > 3)
        {
            context.WriteArityError();
            return;
        }
        bool hasCount = args.Count == 3;
        long count = 1;
        if (hasCount && !TryAtLeast(context, args[2], 0, PositiveCount, out count)) return;
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteList(context, key, out KeySlot slot, out QuickList? list)) return;
        RespWriter w = context.Writer;
        if (list == null)
        {
            if (hasCount) w.WriteNullArray();
            else w.WriteNullBulkString();
            return;
        }
        if (hasCount && count == 0)
        {
            w.WriteArrayHeader(0);
            return;
        }
        PopInto(context.Database, slot, key, list, head, count, w, asArray: hasCount);
    }

    /// <summary>Pops up to <paramref name="count"/> elements from a non-empty list, writing them (an array header first when <paramref name="asArray"/>), and announces it.</summary>
    private static long PopInto(Database db, in KeySlot slot, ReadOnlySpan<byte> key, QuickList list, bool head, long count, RespWriter w, bool asArray)
    {
        long n = Math.Min(count, list.Count);
        if (asArray) w.WriteArrayHeader(n);
        var before = new Before(list);
        for (long i = 0; i < n; i++)
        {
            w.WriteBulkString(list.Peek(head));
            list.Drop(head);
        }
        Changed(db, slot, key, list, before, head ? LpopEvent : RpopEvent);
        return n;
    }

    /// <summary>
    /// A source list of a (blocking) pop: as <see cref="TryWriteList"/>, except that a re-run of a blocked command treats a
    /// key of another type as empty (<see cref="CommandContext.ResumingBlock"/>: Redis 7.0 keeps such a client blocked).
    /// </summary>
    private static bool TryBlockingSource(CommandContext context, ReadOnlySpan<byte> key, out KeySlot slot, out QuickList? list)
    {
        if (!context.ResumingBlock) return TryWriteList(context, key, out slot, out list);
        slot = context.Database.Locate(key);
        list = context.Database.Find(slot, key)?.Value as QuickList;
        return true;
    }

    /// <summary>The list at <paramref name="key"/> for a write; false after replying WRONGTYPE, or <c>:0</c> when the key is missing (LINSERT, LREM).</summary>
    private static bool TryExistingList(CommandContext context, ReadOnlySpan<byte> key, out KeySlot slot, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out QuickList? list)
    {
        if (!TryWriteList(context, key, out slot, out list)) return false;
        if (list != null) return true;
        context.Writer.WriteInteger(0);
        return false;
    }

    /// <summary>An integer option of at least <paramref name="min"/> (Redis's <c>getRangeLongFromObjectOrReply</c>); otherwise replies <paramref name="error"/>.</summary>
    private static bool TryAtLeast(CommandContext context, ReadOnlySpan<byte> text, long min, string error, out long value)
    {
        if (RespInteger.TryParse(text, out value) && value >= min) return true;
        context.Writer.WriteError(error);
        return false;
    }

    /// <summary><c>LLEN key</c>: <c>:length</c>, 0 for a missing key.</summary>
    private static void LLen(CommandContext context, in CommandArgs args)
    {
        if (TypedValue.TryRead(context, args[1], out QuickList? list)) context.Writer.WriteInteger(list?.Count ?? 0);
    }

    /// <summary>Clamps Redis's inclusive, possibly negative range to [start, stop] within 0..count-1; false when empty.</summary>
    private static bool ClampRange(long count, ref long start, ref long stop)
    {
        if (start < 0) start += count;
        if (stop < 0) stop += count;
        if (start < 0) start = 0;
        if (start > stop || start >= count) return false;
        if (stop >= count) stop = count - 1;
        return true;
    }

    /// <summary><c>LRANGE key start stop</c>: the elements of the inclusive range (negative = from the end); an empty array when none.</summary>
    private static void LRange(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long start) || !RespInteger.TryParse(args[3], out long stop))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (!TypedValue.TryRead(context, args[1], out QuickList? list)) return;
        RespWriter w = context.Writer;
        if (list == null || !ClampRange(list.Count, ref start, ref stop))
        {
            w.WriteArrayHeader(0);
            return;
        }
        w.WriteArrayHeader(stop - start + 1);
        QuickList.Enumerator e = list.From(start);
        for (long i = start; i <= stop && e.MoveNext(); i++) w.WriteBulkString(e.Current);
    }

    /// <summary><c>LINDEX key index</c>: the element, or a null bulk string when out of range or missing.</summary>
    private static void LIndex(CommandContext context, in CommandArgs args)
    {
        if (!TypedValue.TryRead(context, args[1], out QuickList? list)) return;
        if (list == null)
        {
            context.Writer.WriteNullBulkString();
            return;
        }
        if (!RespInteger.TryParse(args[2], out long index))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (list.TryGet(index, out ReadOnlySpan<byte> value)) context.Writer.WriteBulkString(value);
        else context.Writer.WriteNullBulkString();
    }

    /// <summary><c>LSET key index element</c>: <c>+OK</c>; <c>-ERR no such key</c>, <c>-ERR index out of range</c>.</summary>
    private static void LSet(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteList(context, key, out KeySlot slot, out QuickList? list)) return;
        if (list == null)
        {
            context.Writer.WriteError(CommandErrors.NoSuchKey);
            return;
        }
        if (!RespInteger.TryParse(args[2], out long index))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (index < -list.Count || index >= list.Count)
        {
            context.Writer.WriteError(IndexOutOfRange);
            return;
        }
        var before = new Before(list);
        list.Set(index, args[3]);
        Changed(context.Database, slot, key, list, before, LsetEvent);
        context.Writer.WriteOk();
    }

    /// <summary>Rebuild step of LINSERT: copies every element, adding the new one next to the first pivot.</summary>
    private ref struct Inserter(ReadOnlySpan<byte> pivot, ReadOnlySpan<byte> element, bool before) : IListEditor
    {
        private readonly ReadOnlySpan<byte> _pivot = pivot, _element = element;
        public bool Done;

        public void Visit(QuickList list, long index, ReadOnlySpan<byte> e)
        {
            bool match = !Done && e.SequenceEqual(_pivot);
            if (match && before) list.PushTail(_element);
            list.PushTail(e);
            if (match && !before) list.PushTail(_element);
            Done |= match;
        }
    }

    /// <summary><c>LINSERT key BEFORE|AFTER pivot element</c>: the new length, <c>:-1</c> when the pivot is absent, <c>:0</c> for a missing key.</summary>
    private static void LInsert(CommandContext context, in CommandArgs args)
    {
        bool before;
        if (args.Is(2, "BEFORE"u8)) before = true;
        else if (args.Is(2, "AFTER"u8)) before = false;
        else
        {
            context.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        if (!TryExistingList(context, key, out KeySlot slot, out QuickList? list)) return;
        if (!Contains(list, args[3]))
        {
            context.Writer.WriteInteger(-1);
            return;
        }
        var figures = new Before(list);
        var inserter = new Inserter(args[3], args[4], before);
        list.Rebuild(ref inserter);
        Changed(context.Database, slot, key, list, figures, LinsertEvent);
        context.Writer.WriteInteger(list.Count);
    }

    private static bool Contains(QuickList list, ReadOnlySpan<byte> element)
    {
        foreach (ReadOnlySpan<byte> e in list)
            if (e.SequenceEqual(element)) return true;
        return false;
    }

    /// <summary>Rebuild step of LREM: drops up to <c>limit</c> matches (0 = all) from the head (count ≥ 0) or, when <c>fromTail</c>, the last ones.</summary>
    private ref struct Remover(ReadOnlySpan<byte> element, long limit, long skipMatches) : IListEditor
    {
        private readonly ReadOnlySpan<byte> _element = element;
        private long _seen;
        public long Removed;

        public void Visit(QuickList list, long index, ReadOnlySpan<byte> e)
        {
            if (e.SequenceEqual(_element))
            {
                // From the tail: the first skipMatches matches stay, the rest (the last |count|) go.
                if (_seen++ >= skipMatches && (limit == 0 || Removed < limit))
                {
                    Removed++;
                    return;
                }
            }
            list.PushTail(e);
        }
    }

    /// <summary>
    /// <c>LREM key count element</c>: removes the first <c>count</c> matches (count &gt; 0), the last |count| (count &lt; 0) or all (0);
    /// <c>:removed</c>.
    /// </summary>
    private static void LRem(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long count))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        if (!TryExistingList(context, key, out KeySlot slot, out QuickList? list)) return;
        long matches = 0;
        foreach (ReadOnlySpan<byte> e in list)
            if (e.SequenceEqual(args[3])) matches++;
        if (matches == 0)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        long limit = count == long.MinValue ? long.MaxValue : Math.Abs(count);
        long skip = count < 0 ? Math.Max(0, matches - limit) : 0;
        var figures = new Before(list);
        var remover = new Remover(args[3], count == 0 ? 0 : limit, skip);
        list.Rebuild(ref remover);
        Changed(context.Database, slot, key, list, figures, LremEvent);
        context.Writer.WriteInteger(remover.Removed);
    }

    /// <summary>Rebuild step of LTRIM: keeps indexes start..stop.</summary>
    private readonly struct Trimmer(long start, long stop) : IListEditor
    {
        public void Visit(QuickList list, long index, ReadOnlySpan<byte> e)
        {
            if (index >= start && index <= stop) list.PushTail(e);
        }
    }

    /// <summary><c>LTRIM key start stop</c>: keeps the inclusive range (an empty range deletes the key); <c>+OK</c>.</summary>
    private static void LTrim(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long start) || !RespInteger.TryParse(args[3], out long stop))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteList(context, key, out KeySlot slot, out QuickList? list)) return;
        if (list != null)
        {
            long count = list.Count;
            if (!ClampRange(count, ref start, ref stop)) start = stop = count; // keeps nothing
            if (start > 0 || stop < count - 1)
            {
                var figures = new Before(list);
                if (start == count)
                {
                    while (list.Count > 0) list.Drop(fromHead: true);
                }
                else
                {
                    // Trim the ends by popping (O(removed)), as Redis's quicklistDelRange.
                    for (long i = 0; i < start; i++) list.Drop(fromHead: true);
                    for (long i = stop + 1; i < count; i++) list.Drop(fromHead: false);
                }
                Changed(context.Database, slot, key, list, figures, LtrimEvent);
            }
            // Nothing trimmed: nothing to propagate, but Redis's ltrimCommand notifies (and signals WATCH) all the same.
            else context.Database.Announce(slot, key, LtrimEvent);
        }
        context.Writer.WriteOk();
    }

    /// <summary>
    /// <c>LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]</c>: the index of the rank-th match (negative rank: from
    /// the tail) or null; with COUNT an array of up to num-matches indexes (0 = all). Errors: RANK 0, negative COUNT or
    /// MAXLEN (Redis's texts), a non-integer RANK, an unknown option (<c>-ERR syntax error</c>).
    /// </summary>
    private static void LPos(CommandContext context, in CommandArgs args)
    {
        long rank = 1, count = -1, maxLen = 0;
        RespWriter w = context.Writer;
        for (int i = 3; i < args.Count; i++)
        {
            bool hasValue = i + 1 < args.Count;
            if (args.Is(i, "RANK"u8) && hasValue)
            {
                if (!RespInteger.TryParse(args[++i], out rank))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (rank == 0)
                {
                    w.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
            }
            else if (args.Is(i, "COUNT"u8) && hasValue)
            {
                if (!TryAtLeast(context, args[++i], 0, "ERR COUNT can't be negative", out count)) return;
            }
            else if (args.Is(i, "MAXLEN"u8) && hasValue)
            {
                if (!TryAtLeast(context, args[++i], 0, "ERR MAXLEN can't be negative", out maxLen)) return;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (!TypedValue.TryRead(context, args[1], out QuickList? list)) return;
        bool asArray = count >= 0;
        if (list == null)
        {
            if (asArray) w.WriteArrayHeader(0);
            else w.WriteNullBulkString();
            return;
        }
        long wanted = count == 0 ? long.MaxValue : asArray ? count : 1;
        long skip = Math.Abs(rank == long.MinValue ? long.MaxValue : rank) - 1;
        long found = 0;
        // With COUNT, matches are counted in a first pass (the reply's length), then written in a second.
        long listCount = list.Count;
        long limit = maxLen == 0 ? listCount : Math.Min(maxLen, listCount);
        long first = -1;
        long total = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            if (pass == 1)
            {
                if (!asArray) break;
                w.WriteArrayHeader(total);
                if (total == 0) return;
            }
            long skipLeft = skip;
            found = 0;
            if (rank > 0)
            {
                QuickList.Enumerator e = list.GetEnumerator();
                for (long i = 0; i < limit && found < wanted && e.MoveNext(); i++)
                    if (e.Current.SequenceEqual(args[2]) && skipLeft-- <= 0) Found(i);
            }
            else
            {
                QuickList.ReverseEnumerator e = list.Backwards();
                for (long i = listCount - 1; listCount - 1 - i < limit && found < wanted && e.MoveNext(); i--)
                    if (e.Current.SequenceEqual(args[2]) && skipLeft-- <= 0) Found(i);
            }
            total = found;
        }
        if (!asArray)
        {
            if (first >= 0) w.WriteInteger(first);
            else w.WriteNullBulkString();
        }

        void Found(long index)
        {
            if (found++ == 0 && first < 0) first = index;
            if (asArray && total > 0) w.WriteInteger(index);
        }
    }

    private enum MoveForm { LMove, RPopLPush, BLMove, BRPopLPush }

    /// <summary>Parses <c>LEFT</c>/<c>RIGHT</c> (true for LEFT); false after replying <c>-ERR syntax error</c>.</summary>
    private static bool TryWhere(CommandContext context, in CommandArgs args, int index, out bool left)
    {
        left = args.Is(index, "LEFT"u8);
        if (left || args.Is(index, "RIGHT"u8)) return true;
        context.Writer.WriteError(CommandErrors.Syntax);
        return false;
    }

    /// <summary>
    /// <c>LMOVE source destination LEFT|RIGHT LEFT|RIGHT</c>, <c>RPOPLPUSH source destination</c> and their blocking forms
    /// (<c>BLMOVE … timeout</c>, <c>BRPOPLPUSH source destination timeout</c>): the moved element, or a null bulk string
    /// when the source is missing (the blocking forms block instead, and time out with a null array as Redis 7.0).
    /// WRONGTYPE when either key holds another type (checked before anything moves). A served blocking form is logged as
    /// <c>LMOVE</c>.
    /// </summary>
    private static void Move(CommandContext context, in CommandArgs args, MoveForm form)
    {
        bool fromLeft = false, toLeft = true;
        if (form is MoveForm.LMove or MoveForm.BLMove
            && (!TryWhere(context, args, 3, out fromLeft) || !TryWhere(context, args, 4, out toLeft))) return;
        bool blocking = form is MoveForm.BLMove or MoveForm.BRPopLPush;
        long timeoutMs = 0;
        if (blocking && !BlockingTimeout.TryParse(context, args[args.Count - 1], out timeoutMs)) return;
        ReadOnlySpan<byte> source = args[1], destination = args[2];
        Database db = context.Database;
        if (!TryBlockingSource(context, source, out KeySlot sourceSlot, out QuickList? list)) return;
        if (list == null)
        {
            BlockOutcome outcome = blocking ? context.BlockOnKeys(args, 1, 1, timeoutMs, typeof(QuickList)) : BlockOutcome.CannotBlock;
            if (outcome == BlockOutcome.Blocked) return;
            if (outcome == BlockOutcome.TimedOut) context.Writer.WriteNullArray();
            else context.Writer.WriteNullBulkString();
            return;
        }
        bool sameKey = source.SequenceEqual(destination);
        KeySlot destinationSlot = db.Locate(destination);
        if (!TypedValue.TryGet(context, sameKey ? null : db.Find(destinationSlot, destination), out QuickList? target)) return;
        var before = new Before(list);
        // The dropped element's bytes stay readable until the next push onto the same list (which may reuse the space):
        // moved to another list, it is pushed straight from there; rotated within one list, it is copied aside first
        // (on the stack, or a pooled array when long).
        scoped ReadOnlySpan<byte> value = list.Peek(fromLeft);
        KeyEvent popEvent = fromLeft ? LpopEvent : RpopEvent;
        byte[]? rented = null;
        Span<byte> aside = stackalloc byte[MoveStackBytes];
        if (sameKey)
        {
            if (value.Length > MoveStackBytes) aside = rented = ArrayPool<byte>.Shared.Rent(value.Length);
            value.CopyTo(aside);
            value = aside[..value.Length];
            list.Drop(fromLeft);
            if (toLeft) list.PushHead(value);
            else list.PushTail(value);
            db.Mutated(sourceSlot, source, toLeft ? LpushEvent : RpushEvent);
            Changed(db, sourceSlot, source, list, before, popEvent);
        }
        else
        {
            // Redis's lmoveGenericCommand announces the push (and the destination's creation) before the pop and the
            // source's deletion: pushed first (the element is still in the source), then dropped.
            PushAll(db, destinationSlot, destination, target, args, 0, toLeft, value);
            list.Drop(fromLeft);
            Changed(db, sourceSlot, source, list, before, popEvent);
        }
        if (blocking)
        {
            context.ReplacePropagation()?.Begin(db.Index, 5).Arg("LMOVE"u8).Arg(source).Arg(destination)
                .Arg(fromLeft ? "LEFT"u8 : "RIGHT"u8).Arg(toLeft ? "LEFT"u8 : "RIGHT"u8);
        }
        context.Writer.WriteBulkString(value);
        if (rented != null) ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>Longest element a same-list LMOVE copies aside on the stack (longer ones use a pooled array).</summary>
    private const int MoveStackBytes = 256;

    /// <summary>
    /// <c>BLPOP key [key ...] timeout</c> / <c>BRPOP</c>: pops from the first non-empty list, replying <c>[key, element]</c>
    /// (logged as <c>LPOP key</c>/<c>RPOP key</c>); WRONGTYPE for the first key, in order, holding another type; blocks
    /// when every list is empty; a null array on timeout (or inside MULTI).
    /// </summary>
    private static void BPop(CommandContext context, in CommandArgs args, bool head)
    {
        if (!BlockingTimeout.TryParse(context, args[args.Count - 1], out long timeoutMs)) return;
        PopFirst(context, args, 1, args.Count - 2, head, count: -1, blocking: true, timeoutMs);
    }

    /// <summary>
    /// <c>LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]</c> and <c>BLMPOP timeout numkeys …</c>: pops up to count
    /// elements from the first non-empty list, replying <c>[key, [elements]]</c> (logged as <c>LPOP key n</c>), a null array
    /// when every list is empty (BLMPOP blocks). Errors as Redis: <c>-ERR numkeys should be greater than 0</c>,
    /// <c>-ERR count should be greater than 0</c>, <c>-ERR syntax error</c> (too few keys, a bad position or option),
    /// then the timeout's.
    /// </summary>
    private static void MPop(CommandContext context, in CommandArgs args, bool blocking)
    {
        int numKeysIndex = blocking ? 2 : 1;
        RespWriter w = context.Writer;
        if (!RespInteger.TryParse(args[numKeysIndex], out long numKeys) || numKeys < 1)
        {
            w.WriteError("ERR numkeys should be greater than 0");
            return;
        }
        long whereIndex = numKeysIndex + numKeys + 1;
        if (whereIndex >= args.Count)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        if (!TryWhere(context, args, (int)whereIndex, out bool head)) return;
        long count = -1;
        for (int j = (int)whereIndex + 1; j < args.Count; j++)
        {
            if (count == -1 && args.Is(j, "COUNT"u8) && j + 1 < args.Count)
            {
                if (!TryAtLeast(context, args[++j], 1, "ERR count should be greater than 0", out count)) return;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (count == -1) count = 1;
        long timeoutMs = 0;
        if (blocking && !BlockingTimeout.TryParse(context, args[1], out timeoutMs)) return;
        PopFirst(context, args, numKeysIndex + 1, (int)numKeys, head, count, blocking, timeoutMs);
    }

    /// <summary>
    /// Pops from the first non-empty list of <paramref name="keyCount"/> keys from <paramref name="firstKey"/>: one element as
    /// <c>[key, element]</c> when <paramref name="count"/> is -1 (BLPOP), else up to count as <c>[key, [elements]]</c>; logs
    /// the pop as <c>LPOP/RPOP key [n]</c>. With none: blocks (<paramref name="blocking"/>), or replies a null array.
    /// </summary>
    private static void PopFirst(CommandContext context, in CommandArgs args, int firstKey, int keyCount, bool head, long count, bool blocking, long timeoutMs)
    {
        Database db = context.Database;
        for (int i = firstKey; i < firstKey + keyCount; i++)
        {
            ReadOnlySpan<byte> key = args[i];
            if (!TryBlockingSource(context, key, out KeySlot slot, out QuickList? list)) return;
            if (list == null) continue;
            RespWriter w = context.Writer;
            w.WriteArrayHeader(2);
            w.WriteBulkString(key);
            long popped = PopInto(db, slot, key, list, head, count < 0 ? 1 : count, w, asArray: count >= 0);
            PropagationBuffer? record = context.ReplacePropagation();
            if (record != null)
            {
                record.Begin(db.Index, count < 0 ? 2 : 3).Arg(head ? "LPOP"u8 : "RPOP"u8).Arg(key);
                if (count >= 0) record.Arg(popped);
            }
            return;
        }
        if (blocking && context.BlockOnKeys(args, firstKey, keyCount, timeoutMs, typeof(QuickList)) == BlockOutcome.Blocked) return;
        context.Writer.WriteNullArray();
    }
}
