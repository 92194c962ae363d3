using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Stream commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=stream, t_stream.c): XADD XRANGE
/// XREVRANGE XLEN XDEL XTRIM XREAD XGROUP (CREATE CREATECONSUMER DELCONSUMER DESTROY SETID HELP) XREADGROUP XACK XPENDING
/// XCLAIM XAUTOCLAIM XINFO (STREAM GROUPS CONSUMERS HELP) XSETID.
/// <para>
/// Values are <see cref="StreamValue"/>s changed in place under the key's shard lock: entry changes are announced with
/// <see cref="Database.Mutated"/> (events <c>xadd</c>, <c>xtrim</c>, <c>xdel</c>, <c>xsetid</c>, <c>xgroup-*</c>), consumer group
/// bookkeeping Redis does not signal (XACK, XREADGROUP, XCLAIM) is counted for propagation only (<see cref="Database.Dirtied"/>).
/// Reads carry <see cref="ReadsUnderLock"/>. A stream is never deleted for being empty, as in Redis.
/// </para>
/// <para>
/// Propagation as Redis 7.0's: XADD with <c>*</c> or <c>ms-*</c> is logged with the ID it generated, an approximate trim
/// (<c>~</c>) as the exact trim it did (<c>= length</c> or <c>= first-id</c>); XREADGROUP, XCLAIM and XAUTOCLAIM are logged as
/// one <c>XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id</c> per delivered or claimed entry (and
/// <c>XGROUP SETID … ENTRIESREAD</c>, <c>XGROUP CREATECONSUMER</c> where Redis adds them). XREAD and XREADGROUP with BLOCK
/// block on the same machinery as the list pops (<see cref="CommandContext.BlockOnKeys(in CommandArgs, int, int, long, Type, bool, object?)"/>):
/// <c>$</c> is resolved when the client blocks, a served waiter passes the turn to the next, and an XREADGROUP waiter whose key
/// is deleted (or changes type) or whose group is destroyed is answered with Redis 7.0's <c>-UNBLOCKED</c>/<c>-NOGROUP</c> error.
/// </para>
/// </summary>
public static class StreamCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("xadd", -5, Write | DenyOom | Fast, 1, 1, 1, "stream", "Appends a new entry to a stream", XAdd),
        new("xrange", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "stream", "Return a range of elements in a stream, with IDs matching the specified IDs interval", (CommandContext c, in CommandArgs a) => XRange(c, a, reverse: false)),
        new("xrevrange", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "stream", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", (CommandContext c, in CommandArgs a) => XRange(c, a, reverse: true)),
        new("xlen", 2, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "stream", "Return the number of entries in a stream", XLen),
        new("xdel", -3, Write | Fast, 1, 1, 1, "stream", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", XDel),
        new("xtrim", -4, Write, 1, 1, 1, "stream", "Trims the stream to (approximately if '~' is passed) a certain size", XTrim),
        new("xread", -4, ReadOnly | Blocking | MovableKeys | ReadsUnderLock, 0, 0, 0, "stream", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", (CommandContext c, in CommandArgs a) => XRead(c, a, group: false)),
        new("xreadgroup", -7, Write | Blocking | MovableKeys, 0, 0, 0, "stream", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", (CommandContext c, in CommandArgs a) => XRead(c, a, group: true)),
        new("xgroup", -2, None, 0, 0, 0, "stream", "A container for consumer groups commands", null,
            new CommandInfo("create", -5, Write | DenyOom, 2, 2, 1, "stream", "Create a consumer group.", XGroupCreate),
            new CommandInfo("createconsumer", 5, Write | DenyOom, 2, 2, 1, "stream", "Create a consumer in a consumer group.", XGroupCreateConsumer),
            new CommandInfo("delconsumer", 5, Write, 2, 2, 1, "stream", "Delete a consumer from a consumer group.", XGroupDelConsumer),
            new CommandInfo("destroy", 4, Write, 2, 2, 1, "stream", "Destroy a consumer group.", XGroupDestroy),
            new CommandInfo("help", 2, Loading | Stale, 0, 0, 0, "stream", "Show helpful text about the different subcommands", XGroupHelp),
            new CommandInfo("setid", -5, Write, 2, 2, 1, "stream", "Set a consumer group to an arbitrary last delivered ID value.", XGroupSetId)),
        new("xack", -4, Write | Fast, 1, 1, 1, "stream", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", XAck),
        new("xpending", -3, ReadOnly | ReadsUnderLock, 1, 1, 1, "stream", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", XPending),
        new("xclaim", -6, Write | Fast, 1, 1, 1, "stream", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", XClaim),
        new("xautoclaim", -6, Write | Fast, 1, 1, 1, "stream", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", XAutoClaim),
        new("xinfo", -2, None, 0, 0, 0, "stream", "A container for stream introspection commands", null,
            new CommandInfo("consumers", 4, ReadOnly | ReadsUnderLock, 2, 2, 1, "stream", "List the consumers in a consumer group", XInfoConsumers),
            new CommandInfo("groups", 3, ReadOnly | ReadsUnderLock, 2, 2, 1, "stream", "List the consumer groups of a stream", XInfoGroups),
            new CommandInfo("help", 2, Loading | Stale, 0, 0, 0, "stream", "Show helpful text about the different subcommands", XInfoHelp),
            new CommandInfo("stream", -3, ReadOnly | ReadsUnderLock, 2, 2, 1, "stream", "Get information about a stream", XInfoStream)),
        new("xsetid", -3, Write | DenyOom | Fast, 1, 1, 1, "stream", "An internal command for replicating stream values", XSetId),
    ];

    /// <summary><c>xadd</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XaddEvent = new("xadd", 't');

    /// <summary><c>xtrim</c> (class <c>t</c>): XTRIM, or XADD's MAXLEN/MINID, removed entries.</summary>
    public static readonly KeyEvent XtrimEvent = new("xtrim", 't');

    /// <summary><c>xdel</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XdelEvent = new("xdel", 't');

    /// <summary><c>xsetid</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XsetidEvent = new("xsetid", 't');

    /// <summary><c>xgroup-create</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XgroupCreateEvent = new("xgroup-create", 't');

    /// <summary><c>xgroup-createconsumer</c> (class <c>t</c>): XGROUP CREATECONSUMER, or a consumer XREADGROUP/XCLAIM/XAUTOCLAIM created.</summary>
    public static readonly KeyEvent XgroupCreateConsumerEvent = new("xgroup-createconsumer", 't');

    /// <summary><c>xgroup-delconsumer</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XgroupDelConsumerEvent = new("xgroup-delconsumer", 't');

    /// <summary><c>xgroup-destroy</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XgroupDestroyEvent = new("xgroup-destroy", 't');

    /// <summary><c>xgroup-setid</c> (class <c>t</c>).</summary>
    public static readonly KeyEvent XgroupSetIdEvent = new("xgroup-setid", 't');

    private const string InvalidId = "ERR Invalid stream ID specified as stream command argument";
    private const string InvalidStart = "ERR invalid start ID for the interval";
    private const string InvalidEnd = "ERR invalid end ID for the interval";

    // ------------------------------------------------------------------------------------------------ helpers

    private static long NowMs(CommandContext context) => context.Database.Lifetime.NowMs;

    /// <summary>A bulk string <c>ms-seq</c>.</summary>
    private static void WriteId(RespWriter w, StreamId id)
    {
        Span<byte> text = stackalloc byte[StreamId.MaxTextLength];
        w.WriteBulkString(text[..id.Format(text)]);
    }

    /// <summary>One entry: <c>[id, [field, value, …]]</c>.</summary>
    private static void WriteEntry(RespWriter w, in StreamValue.Entry entry)
    {
        w.WriteArrayHeader(2);
        WriteId(w, entry.Id);
        w.WriteArrayHeader(2L * entry.FieldCount);
        StreamValue.PairReader pairs = entry.Pairs;
        while (pairs.MoveNext())
        {
            w.WriteBulkString(pairs.Field);
            w.WriteBulkString(pairs.Value);
        }
    }

    /// <summary>
    /// The trimming arguments' integers (Redis's <c>streamParseAddOrTrimArgsOrReply</c>): <c>-ERR value is not an integer or
    /// out of range</c>, or <c>-ERR The &lt;name&gt; argument must be &gt;= 0.</c> for a negative one; false after the error.
    /// </summary>
    private static bool TryParseNonNegative(RespWriter w, ReadOnlySpan<byte> text, string name, out long value)
    {
        if (!RespInteger.TryParse(text, out value))
        {
            w.WriteError(CommandErrors.NotInteger);
            return false;
        }
        if (value >= 0) return true;
        w.WriteError($"ERR The {name} argument must be >= 0.");
        return false;
    }

    /// <summary>An ID argument, strict (no <c>-</c>/<c>+</c>) or not; replies <see cref="InvalidId"/> on failure.</summary>
    private static bool TryParseId(CommandContext context, ReadOnlySpan<byte> text, bool strict, ulong missingSeq, out StreamId id)
    {
        if (StreamId.TryParse(text, missingSeq, strict, allowSeqStar: false, out id, out _)) return true;
        context.Writer.WriteError(InvalidId);
        return false;
    }

    /// <summary>
    /// A range bound (Redis's <c>streamParseIntervalIDOrReply</c> then the exclusive adjustment): <c>(id</c> excludes it —
    /// the next (start) or previous (end) ID, <c>-ERR invalid start|end ID for the interval</c> when there is none.
    /// </summary>
    private static bool TryParseBound(CommandContext context, ReadOnlySpan<byte> text, bool start, out StreamId id)
    {
        bool exclude = text.Length > 1 && text[0] == '(';
        if (!TryParseId(context, exclude ? text[1..] : text, strict: exclude, start ? 0 : ulong.MaxValue, out id)) return false;
        if (!exclude) return true;
        if (start ? id.TryIncrement(out id) : id.TryDecrement(out id)) return true;
        context.Writer.WriteError(start ? InvalidStart : InvalidEnd);
        return false;
    }

    /// <summary>The stream at <paramref name="key"/> for a write (no lookup counted); false after replying WRONGTYPE.</summary>
    private static bool TryWriteStream(CommandContext context, ReadOnlySpan<byte> key, out KeySlot slot, out StreamValue? stream)
    {
        slot = context.Database.Locate(key);
        return TypedValue.TryGet(context, context.Database.Find(slot, key), out stream);
    }

    /// <summary>
    /// The stream at <paramref name="key"/> for a command that changes only group state and looks its key up as a read
    /// (Redis's <c>lookupKeyRead</c> in XACK, XCLAIM, XAUTOCLAIM): the lookup counts a keyspace hit or miss; false after
    /// replying WRONGTYPE.
    /// </summary>
    private static bool TryReadForGroupWrite(CommandContext context, ReadOnlySpan<byte> key, out KeySlot slot, out StreamValue? stream)
    {
        slot = context.Database.Locate(key);
        KeyEntry? entry = context.Database.Find(slot, key);
        context.CountLookup(entry != null, key);
        return TypedValue.TryGet(context, entry, out stream);
    }

    /// <summary>Announces an in-place change as <paramref name="keyEvent"/> with the memory delta since <paramref name="memoryBefore"/>.</summary>
    private static void Changed(CommandContext context, in KeySlot slot, ReadOnlySpan<byte> key, StreamValue stream, long dataBefore, long memoryBefore, KeyEvent keyEvent) =>
        context.Database.Mutated(slot, key, keyEvent, stream.DataBytes - dataBefore, stream.MemoryBytes - memoryBefore);

    /// <summary><c>-ERR unknown subcommand or wrong number of arguments for '…'. Try XGROUP HELP.</c> (Redis's <c>addReplySubcommandSyntaxError</c>).</summary>
    private static void SubcommandSyntaxError(CommandContext context, in CommandArgs args)
    {
        var text = new List<byte>(128);
        text.AddRange("ERR unknown subcommand or wrong number of arguments for '"u8);
        ReadOnlySpan<byte> sub = args[1];
        int nul = sub.IndexOf((byte)0);
        if (nul >= 0) sub = sub[..nul];
        text.AddRange(sub[..Math.Min(128, sub.Length)]);
        text.AddRange("'. Try "u8);
        text.AddRange(Encoding.ASCII.GetBytes(Encoding.Latin1.GetString(args[0]).ToUpperInvariant()));
        text.AddRange(" HELP."u8);
        context.Writer.WriteError(text.ToArray().AsSpan());
    }

    /// <summary>A key or group name for an error text (C string: up to its first NUL byte).</summary>
    private static string CName(ReadOnlySpan<byte> name)
    {
        int nul = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? name : name[..nul]);
    }

    /// <summary>
    /// The arguments of the current command as its propagation record, with up to three of them replaced (an index of -1 is
    /// unused): Redis's <c>rewriteClientCommandArgument</c>.
    /// </summary>
    private static void LogRewritten(CommandContext context, in CommandArgs args, int i1, ReadOnlySpan<byte> v1, int i2 = -1, ReadOnlySpan<byte> v2 = default,
        int i3 = -1, ReadOnlySpan<byte> v3 = default)
    {
        PropagationBuffer? record = context.ReplacePropagation();
        if (record == null) return;
        record.Begin(context.Database.Index, args.Count);
        for (int i = 0; i < args.Count; i++) record.Arg(i == i1 ? v1 : i == i2 ? v2 : i == i3 ? v3 : args[i]);
    }

    // ------------------------------------------------------------------------------------------------ XADD / XTRIM

    private enum TrimStrategy { None, MaxLen, MinId }

    /// <summary>The options of XADD and XTRIM (Redis's <c>streamAddTrimArgs</c>).</summary>
    private struct AddTrimArgs
    {
        public StreamId Id;
        public bool IdGiven;
        public bool SeqGiven;
        public bool NoMkStream;
        public TrimStrategy Strategy;
        public int StrategyArgIndex;
        public bool Approx;
        public long Limit;
        public long MaxLen;
        public StreamId MinId;
    }

    /// <summary>
    /// Parses XADD's or XTRIM's options as Redis 7.0's <c>streamParseAddOrTrimArgsOrReply</c>: returns the ID's position (XADD),
    /// or -1 after replying an error.
    /// </summary>
    private static int ParseAddOrTrim(CommandContext context, in CommandArgs args, bool xadd, out AddTrimArgs a)
    {
        a = default;
        RespWriter w = context.Writer;
        int i = 2;
        bool limitGiven = false;
        for (; i < args.Count; i++)
        {
            int moreArgs = args.Count - 1 - i;
            ReadOnlySpan<byte> opt = args[i];
            if (xadd && opt.SequenceEqual("*"u8)) break;
            bool maxLen = args.Is(i, "MAXLEN"u8), minId = !maxLen && args.Is(i, "MINID"u8);
            if ((maxLen || minId) && moreArgs > 0)
            {
                if (a.Strategy != TrimStrategy.None)
                {
                    w.WriteError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                    return -1;
                }
                a.Approx = false;
                ReadOnlySpan<byte> next = args[i + 1];
                if (moreArgs >= 2 && next.SequenceEqual("~"u8))
                {
                    a.Approx = true;
                    i++;
                }
                else if (moreArgs >= 2 && next.SequenceEqual("="u8)) i++;
                if (maxLen)
                {
                    if (!TryParseNonNegative(w, args[i + 1], "MAXLEN", out a.MaxLen)) return -1;
                }
                else if (!TryParseId(context, args[i + 1], strict: true, 0, out a.MinId)) return -1;
                i++;
                a.Strategy = maxLen ? TrimStrategy.MaxLen : TrimStrategy.MinId;
                a.StrategyArgIndex = i;
            }
            else if (args.Is(i, "LIMIT"u8) && moreArgs > 0)
            {
                if (!TryParseNonNegative(w, args[i + 1], "LIMIT", out a.Limit)) return -1;
                limitGiven = true;
                i++;
            }
            else if (xadd && args.Is(i, "NOMKSTREAM"u8)) a.NoMkStream = true;
            else if (xadd)
            {
                if (!StreamId.TryParse(opt, 0, strict: true, allowSeqStar: true, out a.Id, out a.SeqGiven))
                {
                    w.WriteError(InvalidId);
                    return -1;
                }
                a.IdGiven = true;
                break;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return -1;
            }
        }
        if (a.Limit != 0 && a.Strategy == TrimStrategy.None)
        {
            w.WriteError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
            return -1;
        }
        if (!xadd && a.Strategy == TrimStrategy.None)
        {
            w.WriteError("ERR syntax error, XTRIM must be called with a trimming strategy");
            return -1;
        }
        if (context.ObeysSource) a.Limit = 0;
        else if (limitGiven)
        {
            if (!a.Approx)
            {
                w.WriteError("ERR syntax error, LIMIT cannot be used without the special ~ option");
                return -1;
            }
        }
        else if (a.Approx)
        {
            a.Limit = 100 * context.Options.StreamNodeMaxEntries;
            if (a.Limit <= 0) a.Limit = 10000;
            if (a.Limit > 1000000) a.Limit = 1000000;
        }
        else a.Limit = 0;
        return i;
    }

    /// <summary>Trims <paramref name="stream"/> as <paramref name="a"/> says; returns the entries removed.</summary>
    private static long Trim(StreamValue stream, in AddTrimArgs a) =>
        a.Strategy == TrimStrategy.None ? 0
        : stream.Trim(a.Strategy == TrimStrategy.MaxLen ? a.MaxLen : -1, a.MinId, a.Approx, a.Limit);

    /// <summary>The exact-trim argument an approximate trim is logged with, written into <paramref name="text"/>: the length left (MAXLEN) or the first ID (MINID).</summary>
    private static int TrimArgument(StreamValue stream, in AddTrimArgs a, Span<byte> text)
    {
        if (a.Strategy == TrimStrategy.MinId) return stream.EdgeId(first: true).Format(text);
        System.Buffers.Text.Utf8Formatter.TryFormat(stream.Length, text, out int n);
        return n;
    }

    /// <summary>Field/value arguments of XADD from a position.</summary>
    private readonly ref struct ArgPairs(CommandArgs args, int first) : IFieldValues
    {
        private readonly CommandArgs _args = args;

        public ReadOnlySpan<byte> this[int index] => _args[first + index];
    }

    /// <summary>
    /// <c>XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value …]</c> (Redis 7.0's
    /// <c>xaddCommand</c>): the new entry's ID as a bulk string; a null bulk string with NOMKSTREAM on a missing key. IDs:
    /// <c>*</c> takes the clock's ms (the last ID's ms and seq + 1 when the clock is not ahead), <c>ms-*</c> the next sequence
    /// of that ms. Errors: <c>-ERR The ID specified in XADD must be greater than 0-0</c>, <c>-ERR The ID specified in XADD is
    /// equal or smaller than the target stream top item</c>, <c>-ERR The stream has exhausted the last possible ID, unable to
    /// add more items</c>, <c>-ERR Elements are too large to be stored</c>, the option errors, arity.
    /// </summary>
    private static void XAdd(CommandContext context, in CommandArgs args)
    {
        int idPos = ParseAddOrTrim(context, args, xadd: true, out AddTrimArgs a);
        if (idPos < 0) return;
        RespWriter w = context.Writer;
        int fieldPos = idPos + 1;
        if (args.Count - fieldPos < 2 || (args.Count - fieldPos) % 2 == 1)
        {
            context.WriteArityError();
            return;
        }
        if (a.IdGiven && a.SeqGiven && a.Id.IsZero)
        {
            w.WriteError("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteStream(context, key, out KeySlot slot, out StreamValue? stream)) return;
        if (stream == null && a.NoMkStream)
        {
            w.WriteNullBulkString();
            return;
        }
        StreamId last = stream?.LastId ?? StreamId.Zero;
        if (last == StreamId.Max)
        {
            w.WriteError("ERR The stream has exhausted the last possible ID, unable to add more items");
            return;
        }
        StreamId id;
        if (a.IdGiven && a.SeqGiven) id = a.Id;
        else if (a.IdGiven)
        {
            if (last.Ms == a.Id.Ms)
            {
                if (last.Seq == ulong.MaxValue)
                {
                    // Redis's streamAppendItem fails here without setting errno, so XADD reports the other error.
                    w.WriteError("ERR Elements are too large to be stored");
                    return;
                }
                id = new StreamId(last.Ms, last.Seq + 1);
            }
            else id = a.Id;
        }
        else
        {
            ulong now = (ulong)NowMs(context);
            id = now > last.Ms ? new StreamId(now, 0) : last.TryIncrement(out StreamId next) ? next : last;
        }
        if (id <= last)
        {
            w.WriteError("ERR The ID specified in XADD is equal or smaller than the target stream top item");
            return;
        }
        long elementBytes = 0;
        for (int i = fieldPos; i < args.Count; i++) elementBytes += args[i].Length;
        if (elementBytes > StreamValue.ListpackMaxSize)
        {
            w.WriteError("ERR Elements are too large to be stored");
            return;
        }
        bool created = stream == null;
        stream ??= new StreamValue();
        long dataBefore = stream.DataBytes, memoryBefore = stream.MemoryBytes;
        stream.Append(id, new ArgPairs(args, fieldPos), (args.Count - fieldPos) / 2, context.Options.StreamNodeMaxEntries, context.Options.StreamNodeMaxBytes);
        // Redis creates the key ("new") before the reply and announces "xadd" after it.
        if (created) context.Database.Set(slot, key, stream, 0, KeyEvent.New);
        WriteId(w, id);
        Changed(context, slot, key, stream, created ? stream.DataBytes : dataBefore, created ? stream.MemoryBytes : memoryBefore, XaddEvent);
        if (a.Strategy != TrimStrategy.None)
        {
            dataBefore = stream.DataBytes;
            memoryBefore = stream.MemoryBytes;
            if (Trim(stream, a) > 0) Changed(context, slot, key, stream, dataBefore, memoryBefore, XtrimEvent);
        }
        bool rewriteId = !a.IdGiven || !a.SeqGiven;
        if (!rewriteId && !a.Approx) return;
        Span<byte> idText = stackalloc byte[StreamId.MaxTextLength];
        Span<byte> trimText = stackalloc byte[StreamId.MaxTextLength];
        int idLength = id.Format(idText);
        int trimLength = a.Approx ? TrimArgument(stream, a, trimText) : 0;
        LogRewritten(context, args, rewriteId ? idPos : -1, idText[..idLength], a.Approx ? a.StrategyArgIndex - 1 : -1, "="u8,
            a.Approx ? a.StrategyArgIndex : -1, trimText[..trimLength]);
    }

    /// <summary>
    /// <c>XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]</c>: the number of entries removed (0 for a missing key); an
    /// approximate trim is logged as the exact trim it did (Redis's <c>xtrimCommand</c>).
    /// </summary>
    private static void XTrim(CommandContext context, in CommandArgs args)
    {
        if (ParseAddOrTrim(context, args, xadd: false, out AddTrimArgs a) < 0) return;
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteStream(context, key, out KeySlot slot, out StreamValue? stream)) return;
        if (stream == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        long dataBefore = stream.DataBytes, memoryBefore = stream.MemoryBytes;
        long deleted = Trim(stream, a);
        if (deleted > 0)
        {
            Changed(context, slot, key, stream, dataBefore, memoryBefore, XtrimEvent);
            if (a.Approx)
            {
                Span<byte> trimText = stackalloc byte[StreamId.MaxTextLength];
                LogRewritten(context, args, a.StrategyArgIndex - 1, "="u8, a.StrategyArgIndex, trimText[..TrimArgument(stream, a, trimText)]);
            }
        }
        context.Writer.WriteInteger(deleted);
    }

    // ------------------------------------------------------------------------------------------------ XRANGE / XLEN / XDEL

    /// <summary>
    /// <c>XRANGE key start end [COUNT count]</c> / <c>XREVRANGE key end start [COUNT count]</c> (Redis's <c>xrangeGenericCommand</c>):
    /// the entries in the interval, <c>-</c>/<c>+</c> for the extremes, <c>(id</c> exclusive, an ID without sequence meaning seq 0
    /// at the start and the largest seq at the end; COUNT 0 answers a null array, a negative COUNT 0; a missing key an empty array.
    /// </summary>
    private static void XRange(CommandContext context, in CommandArgs args, bool reverse)
    {
        if (!TryParseBound(context, reverse ? args[3] : args[2], start: true, out StreamId start)) return;
        if (!TryParseBound(context, reverse ? args[2] : args[3], start: false, out StreamId end)) return;
        long count = -1;
        for (int j = 4; j < args.Count; j++)
        {
            if (args.Is(j, "COUNT"u8) && j + 1 < args.Count)
            {
                if (!RespInteger.TryParse(args[j + 1], out count))
                {
                    context.Writer.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (count < 0) count = 0;
                j++;
            }
            else
            {
                context.Writer.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (!TypedValue.TryRead(context, args[1], out StreamValue? stream)) return;
        RespWriter w = context.Writer;
        if (stream == null)
        {
            w.WriteArrayHeader(0);
            return;
        }
        if (count == 0)
        {
            w.WriteNullArray();
            return;
        }
        WriteRange(w, stream, start, end, count == -1 ? 0 : count, reverse);
    }

    /// <summary>Writes the live entries of a range as an array, at most <paramref name="count"/> (0 = all); returns how many.</summary>
    private static long WriteRange(RespWriter w, StreamValue stream, StreamId start, StreamId end, long count, bool reverse)
    {
        long n = CountRange(stream, start, end, count, reverse);
        w.WriteArrayHeader(n);
        StreamValue.RangeEnumerator e = stream.Range(start, end, reverse, StreamSeek.HintedAndRemembered);
        for (long i = 0; i < n && e.MoveNext(); i++) WriteEntry(w, e.Current);
        e.Dispose();
        return n;
    }

    private static long CountRange(StreamValue stream, StreamId start, StreamId end, long count, bool reverse)
    {
        long n = 0;
        StreamValue.RangeEnumerator e = stream.Range(start, end, reverse, StreamSeek.Hinted);
        while ((count == 0 || n < count) && e.MoveNext()) n++;
        e.Dispose();
        return n;
    }

    /// <summary><c>XLEN key</c>: the number of entries, 0 for a missing key.</summary>
    private static void XLen(CommandContext context, in CommandArgs args)
    {
        if (TypedValue.TryRead(context, args[1], out StreamValue? stream)) context.Writer.WriteInteger(stream?.Length ?? 0);
    }

    /// <summary>
    /// <c>XDEL key id [id …]</c> (Redis's <c>xdelCommand</c>): the number of entries deleted; every ID is parsed (strict) before
    /// any is deleted; <c>max-deleted-entry-id</c> and the first ID follow.
    /// </summary>
    private static void XDel(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteStream(context, key, out KeySlot slot, out StreamValue? stream)) return;
        if (stream == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        for (int j = 2; j < args.Count; j++)
            if (!TryParseId(context, args[j], strict: true, 0, out _)) return;
        long dataBefore = stream.DataBytes, memoryBefore = stream.MemoryBytes;
        long deleted = 0;
        bool first = false;
        for (int j = 2; j < args.Count; j++)
        {
            StreamId.TryParse(args[j], 0, strict: true, allowSeqStar: false, out StreamId id, out _);
            if (!stream.Delete(id)) continue;
            if (id == stream.FirstId) first = true;
            if (id > stream.MaxDeletedId) stream.MaxDeletedId = id;
            deleted++;
        }
        if (deleted > 0)
        {
            stream.UpdateFirstId(first);
            Changed(context, slot, key, stream, dataBefore, memoryBefore, XdelEvent);
        }
        context.Writer.WriteInteger(deleted);
    }

    // ------------------------------------------------------------------------------------------------ XREAD / XREADGROUP

    /// <summary>Entries a served blocked XREAD/XREADGROUP without COUNT returns at most (Redis's <c>XREAD_BLOCKED_DEFAULT_COUNT</c>).</summary>
    public const int XreadBlockedDefaultCount = 1000;

    /// <summary>What a blocked XREAD keeps for its re-runs: the ID each stream must exceed, as resolved when it blocked.</summary>
    private sealed class ReadBlock(StreamId[] ids)
    {
        public readonly StreamId[] Ids = ids;
    }

    /// <summary>
    /// <c>XREAD [COUNT n] [BLOCK ms] STREAMS key … id …</c> and <c>XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK]
    /// STREAMS key … id …</c> (Redis 7.0's <c>xreadCommand</c>): per stream with something to serve, its key and entries —
    /// an array of [key, entries] pairs in RESP2, a map in RESP3 — or a null array. XREAD serves entries above each ID
    /// (<c>$</c>: the stream's last ID); XREADGROUP with <c>&gt;</c> serves entries above the group's last delivered ID, adding
    /// them to the group's and the consumer's PEL (unless NOACK), and with an ID the consumer's pending entries from it
    /// (a deleted one as [id, null]). BLOCK waits (0 = forever) when nothing is served. Errors: <c>-ERR Unbalanced XREAD list of
    /// streams: …</c>, <c>-ERR The GROUP option is only supported by XREADGROUP. …</c>, <c>-ERR The NOACK option …</c>,
    /// <c>-ERR Missing GROUP option for XREADGROUP</c>, <c>-NOGROUP No such key '…' or consumer group '…' in XREADGROUP with
    /// GROUP option</c>, <c>-ERR The $ ID is meaningless …</c>, <c>-ERR The &gt; ID can be specified only …</c>, invalid IDs,
    /// timeouts (<c>-ERR timeout is not an integer or out of range</c>, <c>-ERR timeout is negative</c>).
    /// </summary>
    private static void XRead(CommandContext context, in CommandArgs args, bool group)
    {
        RespWriter w = context.Writer;
        long timeout = -1, count = 0;
        int streamsArg = 0, streamsCount = 0;
        bool noAck = false;
        int groupArg = 0;
        for (int i = 1; i < args.Count; i++)
        {
            int moreArgs = args.Count - i - 1;
            if (args.Is(i, "BLOCK"u8) && moreArgs > 0)
            {
                if (Scripting.ScriptRun.Current != null)
                {
                    // Redis 7.0's xreadCommand refuses BLOCK inside a script outright (the name as the script spelled it).
                    w.WriteError($"ERR {System.Text.Encoding.UTF8.GetString(args[0])} command is not allowed with BLOCK option from scripts");
                    return;
                }
                i++;
                if (!RespInteger.TryParse(args[i], out timeout))
                {
                    w.WriteError("ERR timeout is not an integer or out of range");
                    return;
                }
                if (timeout < 0)
                {
                    w.WriteError(BlockingTimeout.Negative);
                    return;
                }
                if (timeout > long.MaxValue - NowMs(context))
                {
                    w.WriteError(BlockingTimeout.OutOfRange);
                    return;
                }
            }
            else if (args.Is(i, "COUNT"u8) && moreArgs > 0)
            {
                i++;
                if (!RespInteger.TryParse(args[i], out count))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (count < 0) count = 0;
            }
            else if (args.Is(i, "STREAMS"u8) && moreArgs > 0)
            {
                streamsArg = i + 1;
                streamsCount = args.Count - streamsArg;
                if (streamsCount % 2 != 0)
                {
                    w.WriteError("ERR Unbalanced " + (group ? "XREADGROUP" : "XREAD") + " list of streams: for each stream key an ID or '$' must be specified.");
                    return;
                }
                streamsCount /= 2;
                break;
            }
            else if (args.Is(i, "GROUP"u8) && moreArgs >= 2)
            {
                if (!group)
                {
                    w.WriteError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                    return;
                }
                groupArg = i + 1;
                i += 2;
            }
            else if (args.Is(i, "NOACK"u8))
            {
                if (!group)
                {
                    w.WriteError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                    return;
                }
                noAck = true;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (streamsArg == 0)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        if (group && groupArg == 0)
        {
            w.WriteError("ERR Missing GROUP option for XREADGROUP");
            return;
        }
        Database db = context.Database;
        bool resuming = context.ResumingBlock;
        // A blocked read that is served reads at most 1000 entries without COUNT (Redis's XREAD_BLOCKED_DEFAULT_COUNT).
        if (resuming && count == 0) count = XreadBlockedDefaultCount;
        var saved = context.BlockState as ReadBlock;
        if (resuming && group)
        {
            // Redis 7.0 fails a blocked XREADGROUP whose key was deleted or now holds another type, and one whose group is gone.
            for (int i = 0; i < streamsCount; i++)
            {
                object? value = db.Find(args[streamsArg + i])?.Value;
                if (value is not StreamValue s)
                {
                    w.WriteError("UNBLOCKED the stream key no longer exists");
                    return;
                }
                if (s.Group(args[groupArg]) == null)
                {
                    w.WriteError("NOGROUP the consumer group this client was blocked on no longer exists");
                    return;
                }
            }
        }
        Span<StreamId> ids = streamsCount <= 16 ? stackalloc StreamId[streamsCount] : new StreamId[streamsCount];
        Span<bool> history = streamsCount <= 16 ? stackalloc bool[streamsCount] : new bool[streamsCount];
        for (int i = 0; i < streamsCount; i++)
        {
            ReadOnlySpan<byte> key = args[streamsArg + i];
            ReadOnlySpan<byte> idText = args[streamsArg + streamsCount + i];
            KeyEntry? entry = db.Find(key);
            StreamValue? stream = null;
            context.CountLookup(entry != null, key);
            if (!resuming && !TypedValue.TryGet(context, entry, out stream)) return;
            if (resuming) stream = entry?.Value as StreamValue;
            if (group)
            {
                if (stream?.Group(args[groupArg]) == null)
                {
                    w.WriteError($"NOGROUP No such key '{CName(key)}' or consumer group '{CName(args[groupArg])}' in XREADGROUP with GROUP option");
                    return;
                }
            }
            if (idText.SequenceEqual("$"u8))
            {
                if (group)
                {
                    w.WriteError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                    return;
                }
                ids[i] = saved != null ? saved.Ids[i] : stream?.LastId ?? StreamId.Zero;
                continue;
            }
            if (idText.SequenceEqual(">"u8))
            {
                if (!group)
                {
                    w.WriteError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                    return;
                }
                ids[i] = StreamId.Max;
                continue;
            }
            if (!TryParseId(context, idText, strict: true, 0, out ids[i])) return;
            history[i] = group;
        }
        // Which streams serve now (Redis's serve_synchronously).
        int served = 0;
        Span<bool> serves = streamsCount <= 16 ? stackalloc bool[streamsCount] : new bool[streamsCount];
        for (int i = 0; i < streamsCount; i++)
        {
            // Redis looks every key up again here (a second keyspace hit or miss).
            KeyEntry? found = db.Find(args[streamsArg + i]);
            context.CountLookup(found != null, args[streamsArg + i]);
            if (found?.Value is not StreamValue s) continue;
            bool serve;
            if (group) serve = history[i] || (s.Length > 0 && s.EdgeId(first: false) > s.Group(args[groupArg])!.LastId);
            else serve = s.Length > 0 && s.EdgeId(first: false) > ids[i];
            serves[i] = serve;
            if (serve) served++;
        }
        PropagationBuffer? record = group ? context.ReplacePropagation() : null;
        if (served > 0)
        {
            if (w.Protocol >= 3) w.WriteMapHeader(served);
            else w.WriteArrayHeader(served);
            for (int i = 0; i < streamsCount; i++)
            {
                if (!serves[i]) continue;
                ReadOnlySpan<byte> key = args[streamsArg + i];
                KeySlot slot = db.Locate(key);
                var stream = (StreamValue)db.Find(slot, key)!.Value;
                if (w.Protocol < 3) w.WriteArrayHeader(2);
                w.WriteBulkString(key);
                if (!group)
                {
                    ids[i].TryIncrement(out StreamId start);
                    WriteRange(w, stream, start, StreamId.Max, count, reverse: false);
                    continue;
                }
                long memoryBefore = stream.MemoryBytes;
                StreamGroup g = stream.Group(args[groupArg])!;
                long now = NowMs(context);
                StreamConsumer? consumer = g.Consumer(args[groupArg + 1]);
                if (consumer != null) consumer.SeenTime = now;
                else
                {
                    consumer = g.CreateConsumer(args[groupArg + 1], now)!;
                    context.Database.Mutated(slot, key, XgroupCreateConsumerEvent);
                    if (noAck) record?.Begin(db.Index, 5).Arg("XGROUP"u8).Arg("CREATECONSUMER"u8).Arg(key).Arg(g.Name).Arg(consumer.Name);
                }
                // Redis starts a history read after the given ID too (streamIncrID of it).
                ids[i].TryIncrement(out StreamId from);
                if (history[i]) WriteHistory(w, stream, consumer, from, count, now);
                else
                {
                    g.LastId.TryIncrement(out StreamId start);
                    Deliver(w, db.Index, key, stream, g, consumer, start, count, noAck, now, record);
                }
                context.Database.Dirtied(slot, stream.MemoryBytes - memoryBefore);
            }
            return;
        }
        if (timeout != -1)
        {
            StreamId[]? keep = null;
            if (!group && saved == null)
            {
                keep = ids.ToArray();
            }
            BlockOutcome outcome = context.BlockOnKeys(args, streamsArg, streamsCount, timeout, typeof(StreamValue), wakeOnAnyChange: group,
                keep != null ? new ReadBlock(keep) : saved);
            if (outcome == BlockOutcome.Blocked) return;
        }
        w.WriteNullArray();
    }

    /// <summary>
    /// XREADGROUP's <c>&gt;</c> delivery (Redis's <c>streamReplyWithRange</c> with a group): the entries from
    /// <paramref name="start"/> (at most <paramref name="count"/>, 0 = all) become the group's last delivered entries (entries-read
    /// following as Redis counts it) and, without NOACK, pending for <paramref name="consumer"/> (taken over from another
    /// consumer with delivery count 1 if pending already); each logged as an XCLAIM, a NOACK read as one XGROUP SETID.
    /// </summary>
    private static void Deliver(RespWriter w, int dbIndex, ReadOnlySpan<byte> key, StreamValue stream, StreamGroup g, StreamConsumer consumer,
        StreamId start, long count, bool noAck, long now, PropagationBuffer? record)
    {
        long n = CountRange(stream, start, StreamId.Max, count, reverse: false);
        w.WriteArrayHeader(n);
        StreamValue.RangeEnumerator e = stream.Range(start, StreamId.Max, seek: StreamSeek.HintedAndRemembered);
        bool propagateLastId = false;
        Span<byte> idText = stackalloc byte[StreamId.MaxTextLength];
        for (long i = 0; i < n && e.MoveNext(); i++)
        {
            StreamValue.Entry entry = e.Current;
            StreamId id = entry.Id;
            if (id > g.LastId)
            {
                if (g.EntriesRead != -1 && !stream.RangeHasTombstones(id)) g.EntriesRead++;
                else if (stream.EntriesAdded != 0) g.EntriesRead = stream.EstimateDistanceFromFirstEver(id);
                g.LastId = id;
                if (noAck) propagateLastId = true;
            }
            WriteEntry(w, entry);
            if (noAck) continue;
            PendingEntry? pending = g.FindPending(id);
            if (pending == null) pending = g.AddPending(id, consumer, now);
            else
            {
                StreamGroup.Assign(pending, consumer);
                pending.DeliveryTime = now;
                pending.DeliveryCount = 1;
            }
            if (record != null) LogClaim(record, dbIndex, key, g, idText[..id.Format(idText)], pending);
        }
        e.Dispose();
        if (propagateLastId && record != null) LogSetId(record, dbIndex, key, g);
    }

    /// <summary>
    /// XREADGROUP with an ID (Redis's <c>streamReplyWithRangeFromConsumerPEL</c>): the consumer's pending entries from
    /// <paramref name="start"/>, each as its entry (its delivery count and time bumped) or, when deleted since, [id, null].
    /// </summary>
    private static void WriteHistory(RespWriter w, StreamValue stream, StreamConsumer consumer, StreamId start, long count, long now)
    {
        long n = 0;
        foreach (PendingEntry p in consumer.Pending.GetViewBetween(Probe(start), Probe(StreamId.Max)))
        {
            if (count != 0 && n >= count) break;
            n++;
        }
        w.WriteArrayHeader(n);
        long i = 0;
        foreach (PendingEntry p in consumer.Pending.GetViewBetween(Probe(start), Probe(StreamId.Max)))
        {
            if (i++ >= n) break;
            if (stream.TryGet(p.Id, out StreamValue.Entry entry))
            {
                WriteEntry(w, entry);
                p.DeliveryTime = now;
                p.DeliveryCount++;
            }
            else
            {
                w.WriteArrayHeader(2);
                WriteId(w, p.Id);
                w.WriteNullArray();
            }
        }
    }

    /// <summary>A PEL bound for <see cref="SortedSet{T}.GetViewBetween"/> (a probe entry: view bounds are compared by ID only).</summary>
    private static PendingEntry Probe(StreamId id) => new(id, null);

    /// <summary>Redis's <c>streamPropagateXCLAIM</c>: <c>XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id</c>.</summary>
    private static void LogClaim(PropagationBuffer record, int dbIndex, ReadOnlySpan<byte> key, StreamGroup g, ReadOnlySpan<byte> id, PendingEntry pending)
    {
        Span<byte> last = stackalloc byte[StreamId.MaxTextLength];
        record.Begin(dbIndex, 14).Arg("XCLAIM"u8).Arg(key).Arg(g.Name).Arg(pending.Consumer!.Name).Arg("0"u8).Arg(id)
            .Arg("TIME"u8).Arg(pending.DeliveryTime).Arg("RETRYCOUNT"u8).Arg(pending.DeliveryCount).Arg("FORCE"u8).Arg("JUSTID"u8)
            .Arg("LASTID"u8).Arg(last[..g.LastId.Format(last)]);
    }

    /// <summary>Redis's <c>streamPropagateGroupID</c>: <c>XGROUP SETID key group last-id ENTRIESREAD n</c>.</summary>
    private static void LogSetId(PropagationBuffer record, int dbIndex, ReadOnlySpan<byte> key, StreamGroup g)
    {
        Span<byte> last = stackalloc byte[StreamId.MaxTextLength];
        record.Begin(dbIndex, 7).Arg("XGROUP"u8).Arg("SETID"u8).Arg(key).Arg(g.Name).Arg(last[..g.LastId.Format(last)])
            .Arg("ENTRIESREAD"u8).Arg(g.EntriesRead);
    }

    // ------------------------------------------------------------------------------------------------ XGROUP

    /// <summary>
    /// The common part of the XGROUP subcommands with a key (Redis's <c>xgroupCommand</c>): parses CREATE's MKSTREAM and
    /// ENTRIESREAD, SETID's ENTRIESREAD (else <c>-ERR unknown subcommand or wrong number of arguments …</c>), looks the stream
    /// up (WRONGTYPE; missing: <c>-ERR The XGROUP subcommand requires the key to exist. …</c> unless MKSTREAM) and, for SETID,
    /// CREATECONSUMER and DELCONSUMER, the group (<c>-NOGROUP No such consumer group '…' for key name '…'</c>).
    /// </summary>
    private static bool TryXGroupPrologue(CommandContext context, in CommandArgs args, bool create, bool setId, bool needsGroup,
        out KeySlot slot, out StreamValue? stream, out StreamGroup? group, out bool mkStream, out long entriesRead)
    {
        mkStream = false;
        entriesRead = -1;
        stream = null;
        group = null;
        slot = default;
        for (int i = 5; i < args.Count;)
        {
            if (create && args.Is(i, "MKSTREAM"u8))
            {
                mkStream = true;
                i++;
            }
            else if ((create || setId) && args.Is(i, "ENTRIESREAD"u8) && i + 1 < args.Count)
            {
                if (!RespInteger.TryParse(args[i + 1], out entriesRead))
                {
                    context.Writer.WriteError(CommandErrors.NotInteger);
                    return false;
                }
                if (entriesRead < 0 && entriesRead != -1)
                {
                    context.Writer.WriteError("ERR value for ENTRIESREAD must be positive or -1");
                    return false;
                }
                i += 2;
            }
            else
            {
                SubcommandSyntaxError(context, args);
                return false;
            }
        }
        if (!TryWriteStream(context, args[2], out slot, out stream)) return false;
        if (mkStream) return true;
        if (stream == null)
        {
            context.Writer.WriteError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            return false;
        }
        group = stream.Group(args[3]);
        if (group == null && needsGroup)
        {
            context.Writer.WriteError($"NOGROUP No such consumer group '{CName(args[3])}' for key name '{CName(args[2])}'");
            return false;
        }
        return true;
    }

    /// <summary>
    /// <c>XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]</c>: <c>+OK</c>, or <c>-BUSYGROUP Consumer Group name already
    /// exists</c>; MKSTREAM creates an empty stream; more than 8 arguments: the subcommand syntax error.
    /// </summary>
    private static void XGroupCreate(CommandContext context, in CommandArgs args)
    {
        if (!TryXGroupPrologue(context, args, create: true, setId: false, needsGroup: false, out KeySlot slot, out StreamValue? stream, out _,
                out _, out long entriesRead)) return;
        if (args.Count > 8)
        {
            SubcommandSyntaxError(context, args);
            return;
        }
        StreamId id;
        if (args[4].SequenceEqual("$"u8)) id = stream?.LastId ?? StreamId.Zero;
        else if (!TryParseId(context, args[4], strict: true, 0, out id)) return;
        ReadOnlySpan<byte> key = args[2];
        bool created = stream == null;
        stream ??= new StreamValue();
        if (!created && stream.Group(args[3]) != null)
        {
            context.Writer.WriteError("BUSYGROUP Consumer Group name already exists");
            return;
        }
        if (created) context.Database.Set(slot, key, stream, 0, KeyEvent.New);
        long memoryBefore = stream.MemoryBytes;
        stream.CreateGroup(args[3], id, entriesRead);
        context.Writer.WriteOk();
        Changed(context, slot, key, stream, stream.DataBytes, memoryBefore, XgroupCreateEvent);
    }

    /// <summary><c>XGROUP SETID key group id|$ [ENTRIESREAD n]</c>: <c>+OK</c> (the ID parsed non-strictly, as Redis does); 6 or more than 7 arguments: the subcommand syntax error.</summary>
    private static void XGroupSetId(CommandContext context, in CommandArgs args)
    {
        if (!TryXGroupPrologue(context, args, create: false, setId: true, needsGroup: true, out KeySlot slot, out StreamValue? stream, out StreamGroup? group,
                out _, out long entriesRead)) return;
        if (args.Count != 5 && args.Count != 7)
        {
            SubcommandSyntaxError(context, args);
            return;
        }
        StreamId id;
        if (args[4].SequenceEqual("$"u8)) id = stream!.LastId;
        else if (!TryParseId(context, args[4], strict: false, 0, out id)) return;
        group!.LastId = id;
        group.EntriesRead = entriesRead;
        context.Writer.WriteOk();
        context.Database.Mutated(slot, args[2], XgroupSetIdEvent);
    }

    /// <summary><c>XGROUP DESTROY key group</c>: 1 when the group existed (its blocked XREADGROUP clients then fail), else 0.</summary>
    private static void XGroupDestroy(CommandContext context, in CommandArgs args)
    {
        if (!TryXGroupPrologue(context, args, false, false, needsGroup: false, out KeySlot slot, out StreamValue? stream, out StreamGroup? group, out _, out _)) return;
        if (group == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        long memoryBefore = stream!.MemoryBytes;
        stream.DestroyGroup(args[3]);
        context.Writer.WriteInteger(1);
        Changed(context, slot, args[2], stream, stream.DataBytes, memoryBefore, XgroupDestroyEvent);
    }

    /// <summary><c>XGROUP CREATECONSUMER key group consumer</c>: 1 when created, 0 when it existed.</summary>
    private static void XGroupCreateConsumer(CommandContext context, in CommandArgs args)
    {
        if (!TryXGroupPrologue(context, args, false, false, needsGroup: true, out KeySlot slot, out StreamValue? stream, out StreamGroup? group, out _, out _)) return;
        long memoryBefore = stream!.MemoryBytes;
        bool created = group!.CreateConsumer(args[4], NowMs(context)) != null;
        if (created) Changed(context, slot, args[2], stream, stream.DataBytes, memoryBefore, XgroupCreateConsumerEvent);
        context.Writer.WriteInteger(created ? 1 : 0);
    }

    /// <summary><c>XGROUP DELCONSUMER key group consumer</c>: the number of entries the consumer had pending (0 when it did not exist).</summary>
    private static void XGroupDelConsumer(CommandContext context, in CommandArgs args)
    {
        if (!TryXGroupPrologue(context, args, false, false, needsGroup: true, out KeySlot slot, out StreamValue? stream, out StreamGroup? group, out _, out _)) return;
        StreamConsumer? consumer = group!.Consumer(args[4]);
        if (consumer == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        long memoryBefore = stream!.MemoryBytes;
        long pending = group.DeleteConsumer(consumer);
        Changed(context, slot, args[2], stream, stream.DataBytes, memoryBefore, XgroupDelConsumerEvent);
        context.Writer.WriteInteger(pending);
    }

    /// <summary><c>XGROUP HELP</c>: Redis 7.0's help lines.</summary>
    private static void XGroupHelp(CommandContext context, in CommandArgs args) => context.Writer.WriteHelp("XGROUP",
    [
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
    ]);

    // ------------------------------------------------------------------------------------------------ XSETID

    /// <summary>
    /// <c>XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]</c> (Redis's <c>xsetidCommand</c>): <c>+OK</c>. Errors:
    /// <c>-ERR entries_added must be positive</c>, <c>-ERR The ID specified in XSETID is smaller than the provided
    /// max_deleted_entry_id</c>, <c>-ERR no such key</c>, <c>-ERR The ID specified in XSETID is smaller than the target stream top
    /// item</c>, <c>-ERR The entries_added specified in XSETID is smaller than the target stream length</c>.
    /// </summary>
    private static void XSetId(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!TryParseId(context, args[2], strict: true, 0, out StreamId id)) return;
        long entriesAdded = -1;
        StreamId maxDeleted = StreamId.Zero;
        for (int i = 3; i < args.Count;)
        {
            bool more = args.Count - 1 - i > 0;
            if (args.Is(i, "ENTRIESADDED"u8) && more)
            {
                if (!RespInteger.TryParse(args[i + 1], out entriesAdded))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (entriesAdded < 0)
                {
                    w.WriteError("ERR entries_added must be positive");
                    return;
                }
                i += 2;
            }
            else if (args.Is(i, "MAXDELETEDID"u8) && more)
            {
                if (!TryParseId(context, args[i + 1], strict: true, 0, out maxDeleted)) return;
                if (id < maxDeleted)
                {
                    w.WriteError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                    return;
                }
                i += 2;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        ReadOnlySpan<byte> key = args[1];
        if (!TryWriteStream(context, key, out KeySlot slot, out StreamValue? stream)) return;
        if (stream == null)
        {
            w.WriteError(CommandErrors.NoSuchKey);
            return;
        }
        if (stream.Length > 0)
        {
            if (id < stream.EdgeId(first: false))
            {
                w.WriteError("ERR The ID specified in XSETID is smaller than the target stream top item");
                return;
            }
            if (entriesAdded != -1 && stream.Length > entriesAdded)
            {
                w.WriteError("ERR The entries_added specified in XSETID is smaller than the target stream length");
                return;
            }
        }
        stream.LastId = id;
        if (entriesAdded != -1) stream.EntriesAdded = entriesAdded;
        if (!maxDeleted.IsZero) stream.MaxDeletedId = maxDeleted;
        w.WriteOk();
        context.Database.Mutated(slot, key, XsetidEvent);
    }

    // ------------------------------------------------------------------------------------------------ XACK / XPENDING

    /// <summary>
    /// <c>XACK key group id [id …]</c>: the number of IDs removed from the group's PEL (and their consumers'); 0 for a missing key
    /// or group; every ID parsed (strict) first.
    /// </summary>
    private static void XAck(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        if (!TryReadForGroupWrite(context, key, out KeySlot slot, out StreamValue? stream)) return;
        StreamGroup? group = stream?.Group(args[2]);
        if (group == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        for (int j = 3; j < args.Count; j++)
            if (!TryParseId(context, args[j], strict: true, 0, out _)) return;
        long memoryBefore = stream!.MemoryBytes;
        long acknowledged = 0;
        for (int j = 3; j < args.Count; j++)
        {
            StreamId.TryParse(args[j], 0, true, false, out StreamId id, out _);
            PendingEntry? pending = group.FindPending(id);
            if (pending == null) continue;
            group.RemovePending(pending);
            acknowledged++;
        }
        if (acknowledged > 0) context.Database.Dirtied(slot, stream.MemoryBytes - memoryBefore);
        context.Writer.WriteInteger(acknowledged);
    }

    /// <summary>
    /// <c>XPENDING key group [[IDLE min-idle] start end count [consumer]]</c> (Redis's <c>xpendingCommand</c>): the summary
    /// [count, smallest ID, greatest ID, [[consumer, count] …]] (null bulk strings and a null array when nothing is pending), or
    /// the extended form's [id, consumer, idle ms, delivery count] entries. Errors: the syntax error for other argument counts,
    /// <c>-NOGROUP No such key '…' or consumer group '…'</c>, integer and ID errors.
    /// </summary>
    private static void XPending(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        bool justInfo = args.Count == 3;
        if (args.Count != 3 && (args.Count < 6 || args.Count > 9))
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        long count = 0, minIdle = 0;
        StreamId start = default, end = default;
        int consumerArg = 0;
        if (args.Count >= 6)
        {
            int startIdx = 3;
            if (args.Is(3, "IDLE"u8))
            {
                if (!RespInteger.TryParse(args[4], out minIdle))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (args.Count < 8)
                {
                    w.WriteError(CommandErrors.Syntax);
                    return;
                }
                startIdx += 2;
            }
            if (!RespInteger.TryParse(args[startIdx + 2], out count))
            {
                w.WriteError(CommandErrors.NotInteger);
                return;
            }
            if (count < 0) count = 0;
            if (!TryParseBound(context, args[startIdx], start: true, out start)) return;
            if (!TryParseBound(context, args[startIdx + 1], start: false, out end)) return;
            if (startIdx + 3 < args.Count) consumerArg = startIdx + 3;
        }
        if (!TypedValue.TryRead(context, args[1], out StreamValue? stream)) return;
        StreamGroup? group = stream?.Group(args[2]);
        if (group == null)
        {
            w.WriteError($"NOGROUP No such key '{CName(args[1])}' or consumer group '{CName(args[2])}'");
            return;
        }
        if (justInfo)
        {
            w.WriteArrayHeader(4);
            w.WriteInteger(group.Pending.Count);
            if (group.Pending.Count == 0)
            {
                w.WriteNullBulkString();
                w.WriteNullBulkString();
                w.WriteNullArray();
                return;
            }
            WriteId(w, group.Pending.Min!.Id);
            WriteId(w, group.Pending.Max!.Id);
            long withPending = 0;
            foreach (StreamConsumer c in group.Consumers.Values)
                if (c.Pending.Count > 0) withPending++;
            w.WriteArrayHeader(withPending);
            foreach (StreamConsumer c in group.Consumers.Values)
            {
                if (c.Pending.Count == 0) continue;
                w.WriteArrayHeader(2);
                w.WriteBulkString(c.Name);
                w.WriteBulkString(c.Pending.Count);
            }
            return;
        }
        SortedSet<PendingEntry> pel;
        if (consumerArg != 0)
        {
            StreamConsumer? consumer = group.Consumer(args[consumerArg]);
            if (consumer == null)
            {
                w.WriteArrayHeader(0);
                return;
            }
            pel = consumer.Pending;
        }
        else pel = group.Pending;
        long now = NowMs(context);
        if (start > end)
        {
            w.WriteArrayHeader(0);
            return;
        }
        long n = 0;
        foreach (PendingEntry p in pel.GetViewBetween(Probe(start), Probe(end)))
        {
            if (n >= count) break;
            if (minIdle != 0 && now - p.DeliveryTime < minIdle) continue;
            n++;
        }
        w.WriteArrayHeader(n);
        long written = 0;
        foreach (PendingEntry p in pel.GetViewBetween(Probe(start), Probe(end)))
        {
            if (written >= n) break;
            if (minIdle != 0 && now - p.DeliveryTime < minIdle) continue;
            written++;
            w.WriteArrayHeader(4);
            WriteId(w, p.Id);
            w.WriteBulkString(p.Consumer!.Name);
            w.WriteInteger(Math.Max(0, now - p.DeliveryTime));
            w.WriteInteger(p.DeliveryCount);
        }
    }

    // ------------------------------------------------------------------------------------------------ XCLAIM / XAUTOCLAIM

    /// <summary>
    /// <c>XCLAIM key group consumer min-idle-time id [id …] [IDLE ms] [TIME unix-ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]</c>
    /// (Redis's <c>xclaimCommand</c>): the claimed entries (or their IDs with JUSTID); pending entries idle at least min-idle-time
    /// move to the consumer (created if needed), delivery time set (IDLE/TIME, else now) and count incremented (unless JUSTID;
    /// RETRYCOUNT sets it); FORCE creates missing pending entries of existing entries; a pending entry whose entry was deleted is
    /// dropped. Logged as one XCLAIM per claimed or dropped entry (and XGROUP SETID for a LASTID that moved the group).
    /// Errors: <c>-NOGROUP No such key '…' or consumer group '…'</c>, <c>-ERR Invalid min-idle-time argument for XCLAIM</c>,
    /// <c>-ERR Invalid IDLE|TIME|RETRYCOUNT option argument for XCLAIM</c>, <c>-ERR Unrecognized XCLAIM option '…'</c>.
    /// </summary>
    private static void XClaim(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        ReadOnlySpan<byte> key = args[1];
        if (!TryReadForGroupWrite(context, key, out KeySlot slot, out StreamValue? stream)) return;
        StreamGroup? group = stream?.Group(args[2]);
        if (group == null)
        {
            w.WriteError($"NOGROUP No such key '{CName(key)}' or consumer group '{CName(args[2])}'");
            return;
        }
        if (!RespInteger.TryParse(args[4], out long minIdle))
        {
            w.WriteError("ERR Invalid min-idle-time argument for XCLAIM");
            return;
        }
        if (minIdle < 0) minIdle = 0;
        int j = 5;
        for (; j < args.Count; j++)
            if (!StreamId.TryParse(args[j], 0, strict: true, allowSeqStar: false, out _, out _)) break;
        int lastIdArg = j - 1;
        long now = NowMs(context);
        long deliveryTime = -1, retryCount = -1;
        bool force = false, justId = false;
        StreamId lastId = StreamId.Zero;
        for (; j < args.Count; j++)
        {
            bool more = args.Count - 1 - j > 0;
            if (args.Is(j, "FORCE"u8)) force = true;
            else if (args.Is(j, "JUSTID"u8)) justId = true;
            else if (args.Is(j, "IDLE"u8) && more)
            {
                j++;
                if (!RespInteger.TryParse(args[j], out deliveryTime))
                {
                    w.WriteError("ERR Invalid IDLE option argument for XCLAIM");
                    return;
                }
                deliveryTime = now - deliveryTime;
            }
            else if (args.Is(j, "TIME"u8) && more)
            {
                j++;
                if (!RespInteger.TryParse(args[j], out deliveryTime))
                {
                    w.WriteError("ERR Invalid TIME option argument for XCLAIM");
                    return;
                }
            }
            else if (args.Is(j, "RETRYCOUNT"u8) && more)
            {
                j++;
                if (!RespInteger.TryParse(args[j], out retryCount))
                {
                    w.WriteError("ERR Invalid RETRYCOUNT option argument for XCLAIM");
                    return;
                }
            }
            else if (args.Is(j, "LASTID"u8) && more)
            {
                j++;
                if (!TryParseId(context, args[j], strict: true, 0, out lastId)) return;
            }
            else
            {
                w.WriteError($"ERR Unrecognized XCLAIM option '{CName(args[j])}'");
                return;
            }
        }
        long memoryBefore = stream!.MemoryBytes;
        bool dirty = false;
        bool propagateLastId = false;
        if (lastId > group.LastId)
        {
            group.LastId = lastId;
            propagateLastId = true;
        }
        if (deliveryTime != -1)
        {
            if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
        }
        else deliveryTime = now;
        PropagationBuffer? record = context.ReplacePropagation();
        // Redis writes the array's length last (deferred) and a consumer created on the way is announced after the array's
        // first bytes: count the claims first, replaying the loop's decisions (an ID named twice meets its own first claim).
        long claimed = 0;
        List<StreamId>? claimedIds = null;
        for (int k = 5; k <= lastIdArg; k++)
        {
            StreamId.TryParse(args[k], 0, true, false, out StreamId id, out _);
            if (!stream.Contains(id)) continue;
            bool again = claimedIds != null && claimedIds.Contains(id);
            PendingEntry? pending = group.FindPending(id);
            if (again)
            {
                if (minIdle != 0 && now - deliveryTime < minIdle) continue;
            }
            else
            {
                if (pending == null && !force) continue;
                if (pending?.Consumer != null && minIdle != 0 && now - pending.DeliveryTime < minIdle) continue;
            }
            (claimedIds ??= []).Add(id);
            claimed++;
        }
        w.WriteArrayHeader(claimed);
        RespWriter entries = w;
        StreamConsumer? consumer = null;
        for (int k = 5; k <= lastIdArg; k++)
        {
            StreamId.TryParse(args[k], 0, true, false, out StreamId id, out _);
            PendingEntry? pending = group.FindPending(id);
            if (!stream.Contains(id))
            {
                if (pending != null)
                {
                    if (record != null) LogClaim(record, context.Database.Index, key, group, args[k], pending);
                    propagateLastId = false;
                    dirty = true;
                    group.RemovePending(pending);
                }
                continue;
            }
            if (force && pending == null) pending = group.AddPending(id, null, now);
            if (pending == null) continue;
            if (pending.Consumer != null && minIdle != 0 && now - pending.DeliveryTime < minIdle) continue;
            consumer ??= Claimant(context, slot, key, group, args[3], now);
            Claim(entries, stream, pending, consumer, deliveryTime, retryCount, justId);
            if (record != null) LogClaim(record, context.Database.Index, key, group, args[k], pending);
            propagateLastId = false;
            dirty = true;
        }
        if (propagateLastId)
        {
            if (record != null) LogSetId(record, context.Database.Index, key, group);
            dirty = true;
        }
        if (dirty) context.Database.Dirtied(slot, stream.MemoryBytes - memoryBefore);
    }

    /// <summary>
    /// One claim of XCLAIM or XAUTOCLAIM: the pending entry moves to <paramref name="consumer"/>, delivered at
    /// <paramref name="deliveryTime"/>, its count set to <paramref name="retryCount"/> (≥ 0) or else incremented unless
    /// <paramref name="justId"/>; writes its ID (JUSTID) or its entry.
    /// </summary>
    private static void Claim(RespWriter w, StreamValue stream, PendingEntry pending, StreamConsumer consumer, long deliveryTime, long retryCount, bool justId)
    {
        StreamGroup.Assign(pending, consumer);
        pending.DeliveryTime = deliveryTime;
        if (retryCount >= 0) pending.DeliveryCount = retryCount;
        else if (!justId) pending.DeliveryCount++;
        if (justId) WriteId(w, pending.Id);
        else
        {
            stream.TryGet(pending.Id, out StreamValue.Entry entry);
            WriteEntry(w, entry);
        }
    }

    /// <summary>The consumer a claim goes to: looked up (its seen-time refreshed) or created (<c>xgroup-createconsumer</c>).</summary>
    private static StreamConsumer Claimant(CommandContext context, in KeySlot slot, ReadOnlySpan<byte> key, StreamGroup group, ReadOnlySpan<byte> name, long now)
    {
        StreamConsumer? consumer = group.Consumer(name);
        if (consumer != null)
        {
            consumer.SeenTime = now;
            return consumer;
        }
        consumer = group.CreateConsumer(name, now)!;
        context.Database.Mutated(slot, key, XgroupCreateConsumerEvent);
        return consumer;
    }

    /// <summary>
    /// <c>XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]</c> (Redis's <c>xautoclaimCommand</c>):
    /// [next start ID (0-0 when the PEL was scanned to its end), claimed entries or IDs, IDs of pending entries whose entries were
    /// deleted (dropped)]; scans at most COUNT×10 pending entries from start (COUNT defaults to 100). Errors:
    /// <c>-ERR Invalid min-idle-time argument for XAUTOCLAIM</c>, <c>-ERR COUNT must be &gt; 0</c>, the syntax error,
    /// <c>-NOGROUP No such key '…' or consumer group '…'</c>.
    /// </summary>
    private static void XAutoClaim(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!RespInteger.TryParse(args[4], out long minIdle))
        {
            w.WriteError("ERR Invalid min-idle-time argument for XAUTOCLAIM");
            return;
        }
        if (minIdle < 0) minIdle = 0;
        if (!TryParseBound(context, args[5], start: true, out StreamId start)) return;
        long count = 100;
        bool justId = false;
        for (int j = 6; j < args.Count; j++)
        {
            bool more = args.Count - 1 - j > 0;
            if (args.Is(j, "COUNT"u8) && more)
            {
                const long maxCount = long.MaxValue / 16;
                if (!RespInteger.TryParse(args[j + 1], out count) || count < 1 || count > maxCount)
                {
                    w.WriteError("ERR COUNT must be > 0");
                    return;
                }
                j++;
            }
            else if (args.Is(j, "JUSTID"u8)) justId = true;
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        ReadOnlySpan<byte> key = args[1];
        if (!TryReadForGroupWrite(context, key, out KeySlot slot, out StreamValue? stream)) return;
        StreamGroup? group = stream?.Group(args[2]);
        if (group == null)
        {
            w.WriteError($"NOGROUP No such key '{CName(key)}' or consumer group '{CName(args[2])}'");
            return;
        }
        long attempts = count * 10;
        // The pending entries the scan visits, plus the one after (the next start).
        var visit = new List<PendingEntry>();
        foreach (PendingEntry p in group.Pending.GetViewBetween(Probe(start), Probe(StreamId.Max)))
        {
            visit.Add(p);
            if (visit.Count > attempts) break;
        }
        long now = NowMs(context);
        long memoryBefore = stream!.MemoryBytes;
        var claimed = new List<PendingEntry>();
        var deleted = new List<StreamId>();
        int index = 0;
        long left = count;
        for (; index < visit.Count && index < attempts && left > 0; index++)
        {
            PendingEntry p = visit[index];
            if (!stream.Contains(p.Id))
            {
                deleted.Add(p.Id);
                left--;
                continue;
            }
            if (minIdle != 0 && now - p.DeliveryTime < minIdle) continue;
            claimed.Add(p);
            left--;
        }
        StreamId next = index < visit.Count ? visit[index].Id : StreamId.Zero;
        PropagationBuffer? record = context.ReplacePropagation();
        Span<byte> idText = stackalloc byte[StreamId.MaxTextLength];
        w.WriteArrayHeader(3);
        WriteId(w, next);
        w.WriteArrayHeader(claimed.Count);
        // Claims and drops take effect in PEL order, as Redis's scan makes them.
        int c = 0, d = 0;
        StreamConsumer? consumer = null;
        for (int i = 0; i < index; i++)
        {
            PendingEntry p = visit[i];
            if (d < deleted.Count && deleted[d] == p.Id)
            {
                d++;
                if (record != null) LogClaim(record, context.Database.Index, key, group, idText[..p.Id.Format(idText)], p);
                group.RemovePending(p);
                continue;
            }
            if (c >= claimed.Count || claimed[c] != p) continue;
            c++;
            consumer ??= Claimant(context, slot, key, group, args[3], now);
            Claim(w, stream, p, consumer, now, retryCount: -1, justId);
            if (record != null) LogClaim(record, context.Database.Index, key, group, idText[..p.Id.Format(idText)], p);
        }
        w.WriteArrayHeader(deleted.Count);
        foreach (StreamId id in deleted) WriteId(w, id);
        if (claimed.Count + deleted.Count > 0) context.Database.Dirtied(slot, stream.MemoryBytes - memoryBefore);
    }

    // ------------------------------------------------------------------------------------------------ XINFO

    /// <summary>The stream for XINFO (a lookup counted); missing: <c>-ERR no such key</c>; another type: WRONGTYPE.</summary>
    private static StreamValue? InfoStream(CommandContext context, in CommandArgs args)
    {
        if (!TypedValue.TryRead(context, args[2], out StreamValue? stream)) return null;
        if (stream == null) context.Writer.WriteError(CommandErrors.NoSuchKey);
        return stream;
    }

    /// <summary><c>XINFO CONSUMERS key group</c>: per consumer a map of name, pending, idle (ms since last seen) — Redis 7.0.15's fields.</summary>
    private static void XInfoConsumers(CommandContext context, in CommandArgs args)
    {
        if (InfoStream(context, args) is not { } stream) return;
        RespWriter w = context.Writer;
        StreamGroup? group = stream.Group(args[3]);
        if (group == null)
        {
            w.WriteError($"NOGROUP No such consumer group '{CName(args[3])}' for key name '{CName(args[2])}'");
            return;
        }
        long now = NowMs(context);
        w.WriteArrayHeader(group.Consumers.Count);
        foreach (StreamConsumer c in group.Consumers.Values)
        {
            w.WriteMapHeader(3);
            w.WriteBulkString("name"u8);
            w.WriteBulkString(c.Name);
            w.WriteBulkString("pending"u8);
            w.WriteInteger(c.Pending.Count);
            w.WriteBulkString("idle"u8);
            w.WriteInteger(Math.Max(0, now - c.SeenTime));
        }
    }

    /// <summary><c>XINFO GROUPS key</c>: per group a map of name, consumers, pending, last-delivered-id, entries-read (null when unknown), lag (null when unknown).</summary>
    private static void XInfoGroups(CommandContext context, in CommandArgs args)
    {
        if (InfoStream(context, args) is not { } stream) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(stream.Groups?.Count ?? 0);
        if (stream.Groups == null) return;
        foreach (StreamGroup g in stream.Groups.Values)
        {
            w.WriteMapHeader(6);
            w.WriteBulkString("name"u8);
            w.WriteBulkString(g.Name);
            w.WriteBulkString("consumers"u8);
            w.WriteInteger(g.Consumers.Count);
            w.WriteBulkString("pending"u8);
            w.WriteInteger(g.Pending.Count);
            w.WriteBulkString("last-delivered-id"u8);
            WriteId(w, g.LastId);
            WriteEntriesReadAndLag(w, stream, g);
        }
    }

    private static void WriteEntriesReadAndLag(RespWriter w, StreamValue stream, StreamGroup g)
    {
        w.WriteBulkString("entries-read"u8);
        if (g.EntriesRead != -1) w.WriteInteger(g.EntriesRead);
        else w.WriteNullBulkString();
        w.WriteBulkString("lag"u8);
        long? lag = stream.Lag(g);
        if (lag.HasValue) w.WriteInteger(lag.Value);
        else w.WriteNullBulkString();
    }

    /// <summary>
    /// <c>XINFO STREAM key [FULL [COUNT n]]</c> (Redis 7.0's <c>xinfoReplyWithStreamInfo</c>): a map of length, radix-tree-keys
    /// (nodes), radix-tree-nodes (an estimate: RespKv has no radix tree), last-generated-id, max-deleted-entry-id, entries-added,
    /// recorded-first-entry-id, then groups (a count) and first-entry/last-entry — or with FULL the entries (at most COUNT,
    /// default 10, 0 = all) and each group with its PEL and consumers (COUNT pending entries each).
    /// </summary>
    private static void XInfoStream(CommandContext context, in CommandArgs args)
    {
        if (InfoStream(context, args) is not { } s) return;
        int options = args.Count - 3;
        bool full = options > 0;
        long count = 10;
        if (full)
        {
            if ((options != 1 && options != 3) || !args.Is(3, "FULL"u8) || (options == 3 && !args.Is(4, "COUNT"u8)))
            {
                SubcommandSyntaxError(context, args);
                return;
            }
            if (options == 3)
            {
                if (!RespInteger.TryParse(args[5], out count))
                {
                    context.Writer.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (count < 0) count = 10;
            }
        }
        RespWriter w = context.Writer;
        w.WriteMapHeader(full ? 9 : 10);
        w.WriteBulkString("length"u8);
        w.WriteInteger(s.Length);
        w.WriteBulkString("radix-tree-keys"u8);
        w.WriteInteger(s.NodeCount);
        w.WriteBulkString("radix-tree-nodes"u8);
        w.WriteInteger(s.NodeCount == 0 ? 1 : 2 * s.NodeCount);
        w.WriteBulkString("last-generated-id"u8);
        WriteId(w, s.LastId);
        w.WriteBulkString("max-deleted-entry-id"u8);
        WriteId(w, s.MaxDeletedId);
        w.WriteBulkString("entries-added"u8);
        w.WriteInteger(s.EntriesAdded);
        w.WriteBulkString("recorded-first-entry-id"u8);
        WriteId(w, s.FirstId);
        if (!full)
        {
            w.WriteBulkString("groups"u8);
            w.WriteInteger(s.Groups?.Count ?? 0);
            w.WriteBulkString("first-entry"u8);
            WriteEdge(w, s, first: true);
            w.WriteBulkString("last-entry"u8);
            WriteEdge(w, s, first: false);
            return;
        }
        w.WriteBulkString("entries"u8);
        WriteRange(w, s, StreamId.Zero, StreamId.Max, count, reverse: false);
        w.WriteBulkString("groups"u8);
        w.WriteArrayHeader(s.Groups?.Count ?? 0);
        if (s.Groups == null) return;
        foreach (StreamGroup g in s.Groups.Values)
        {
            w.WriteMapHeader(7);
            w.WriteBulkString("name"u8);
            w.WriteBulkString(g.Name);
            w.WriteBulkString("last-delivered-id"u8);
            WriteId(w, g.LastId);
            WriteEntriesReadAndLag(w, s, g);
            w.WriteBulkString("pel-count"u8);
            w.WriteInteger(g.Pending.Count);
            WritePel(w, g.Pending, count, withConsumer: true);
            w.WriteBulkString("consumers"u8);
            w.WriteArrayHeader(g.Consumers.Count);
            foreach (StreamConsumer c in g.Consumers.Values)
            {
                w.WriteMapHeader(4);
                w.WriteBulkString("name"u8);
                w.WriteBulkString(c.Name);
                w.WriteBulkString("seen-time"u8);
                w.WriteInteger(c.SeenTime);
                w.WriteBulkString("pel-count"u8);
                w.WriteInteger(c.Pending.Count);
                WritePel(w, c.Pending, count, withConsumer: false);
            }
        }
    }

    /// <summary>XINFO STREAM FULL's <c>pending</c>: at most <paramref name="count"/> (0 = all) [id, (consumer,) delivery time, delivery count] entries.</summary>
    private static void WritePel(RespWriter w, SortedSet<PendingEntry> pel, long count, bool withConsumer)
    {
        w.WriteBulkString("pending"u8);
        w.WriteArrayHeader(count == 0 ? pel.Count : Math.Min(count, pel.Count));
        long n = 0;
        foreach (PendingEntry p in pel)
        {
            if (count != 0 && n++ >= count) break;
            w.WriteArrayHeader(withConsumer ? 4 : 3);
            WriteId(w, p.Id);
            if (withConsumer) w.WriteBulkString(p.Consumer!.Name);
            w.WriteInteger(p.DeliveryTime);
            w.WriteInteger(p.DeliveryCount);
        }
    }

    /// <summary>The first or last entry, or a null bulk string when the stream is empty.</summary>
    private static void WriteEdge(RespWriter w, StreamValue s, bool first)
    {
        StreamValue.RangeEnumerator e = s.Range(StreamId.Zero, StreamId.Max, reverse: !first);
        if (e.MoveNext()) WriteEntry(w, e.Current);
        else w.WriteNullBulkString();
        e.Dispose();
    }

    /// <summary><c>XINFO HELP</c>: Redis 7.0's help lines.</summary>
    private static void XInfoHelp(CommandContext context, in CommandArgs args) => context.Writer.WriteHelp("XINFO",
    [
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
    ]);
}
