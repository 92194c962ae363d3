using System.Buffers.Binary;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;
using MemberSpot = RespKv.Storage.SortedSetValue.MemberSpot;
using Position = RespKv.Storage.SortedSetValue.Position;

namespace RespKv.Commands;

/// <summary>
/// Sorted-set commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=sorted-set): ZADD ZINCRBY
/// ZREM ZCARD ZCOUNT ZLEXCOUNT ZSCORE ZMSCORE ZRANK ZREVRANK ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
/// ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION
/// ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN, and the blocking BZPOPMIN BZPOPMAX BZMPOP.
/// <para>
/// Values are <see cref="SortedSetValue"/>s changed in place: a write runs holding its keys' shard locks (the executor's)
/// and announces each change with <see cref="Database.Mutated"/> (event names as Redis's: <c>zadd</c>, <c>zincr</c>,
/// <c>zrem</c>…); a set left empty is deleted (<c>del</c>). Reads carry <see cref="ReadsUnderLock"/>. Scores are parsed as
/// Redis's <c>strtod</c> and printed as <c>%.17g</c> (<see cref="DoubleText"/>): RESP2 bulk strings, RESP3 doubles; WITHSCORES
/// replies are flat in RESP2 and arrays of [member, score] pairs in RESP3.
/// </para>
/// <para>
/// ZUNION/ZINTER/ZDIFF (and their STORE forms, ZINTERCARD) accept sorted sets, plain sets (each member with score 1, as
/// Redis) and missing keys. A blocking pop with nothing to pop asks its context to block
/// (<see cref="CommandContext.BlockOnKeys(in CommandArgs, int, int, long, Type)"/>, served by a sorted set) and writes no reply; the client re-runs it when a key
/// it waits on changes, and a served blocking pop is logged as <c>ZPOPMIN</c>/<c>ZPOPMAX</c>, as Redis propagates it.
/// </para>
/// </summary>
public static class SortedSetCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("zadd", -4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "sorted-set", "Add one or more members to a sorted set, or update its score if it already exists", (CommandContext c, in CommandArgs a) => ZAdd(c, a, incrby: false)),
        new("zincrby", 4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "sorted-set", "Increment the score of a member in a sorted set", (CommandContext c, in CommandArgs a) => ZAdd(c, a, incrby: true)),
        new("zrem", -3, Write | Fast, 1, 1, 1, "sorted-set", "Remove one or more members from a sorted set", ZRem),
        new("zcard", 2, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Get the number of members in a sorted set", ZCard),
        new("zcount", 4, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Count the members in a sorted set with scores within the given values", (CommandContext c, in CommandArgs a) => ZCount(c, a, RangeType.Score)),
        new("zlexcount", 4, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Count the number of members in a sorted set between a given lexicographical range", (CommandContext c, in CommandArgs a) => ZCount(c, a, RangeType.Lex)),
        new("zscore", 3, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Get the score associated with the given member in a sorted set", ZScore),
        new("zmscore", -3, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Get the score associated with the given members in a sorted set", ZMScore),
        new("zrank", 3, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Determine the index of a member in a sorted set", (CommandContext c, in CommandArgs a) => ZRank(c, a, reverse: false)),
        new("zrevrank", 3, ReadOnly | Fast | ReadsUnderLock, 1, 1, 1, "sorted-set", "Determine the index of a member in a sorted set, with scores ordered from high to low", (CommandContext c, in CommandArgs a) => ZRank(c, a, reverse: true)),
        new("zrange", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Return a range of members in a sorted set", (CommandContext c, in CommandArgs a) => ZRange(c, a, 1, false, RangeType.Auto, Direction.Auto)),
        new("zrangestore", -5, Write | DenyOom | RepliesBeforeNotifying, 1, 2, 1, "sorted-set", "Store a range of members from sorted set into another key", (CommandContext c, in CommandArgs a) => ZRange(c, a, 2, true, RangeType.Auto, Direction.Auto)),
        new("zrevrange", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Return a range of members in a sorted set, by index, with scores ordered from high to low", (CommandContext c, in CommandArgs a) => ZRange(c, a, 1, false, RangeType.Rank, Direction.Reverse)),
        new("zrangebyscore", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Return a range of members in a sorted set, by score", (CommandContext c, in CommandArgs a) => ZRange(c, a, 1, false, RangeType.Score, Direction.Forward)),
        new("zrevrangebyscore", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Return a range of members in a sorted set, by score, with scores ordered from high to low", (CommandContext c, in CommandArgs a) => ZRange(c, a, 1, false, RangeType.Score, Direction.Reverse)),
        new("zrangebylex", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Return a range of members in a sorted set, by lexicographical range", (CommandContext c, in CommandArgs a) => ZRange(c, a, 1, false, RangeType.Lex, Direction.Forward)),
        new("zrevrangebylex", -4, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", (CommandContext c, in CommandArgs a) => ZRange(c, a, 1, false, RangeType.Lex, Direction.Reverse)),
        new("zremrangebyrank", 4, Write, 1, 1, 1, "sorted-set", "Remove all members in a sorted set within the given indexes", (CommandContext c, in CommandArgs a) => ZRemRange(c, a, RangeType.Rank)),
        new("zremrangebyscore", 4, Write, 1, 1, 1, "sorted-set", "Remove all members in a sorted set within the given scores", (CommandContext c, in CommandArgs a) => ZRemRange(c, a, RangeType.Score)),
        new("zremrangebylex", 4, Write, 1, 1, 1, "sorted-set", "Remove all members in a sorted set between the given lexicographical range", (CommandContext c, in CommandArgs a) => ZRemRange(c, a, RangeType.Lex)),
        new("zpopmin", -2, Write | Fast, 1, 1, 1, "sorted-set", "Remove and return members with the lowest scores in a sorted set", (CommandContext c, in CommandArgs a) => ZPop(c, a, max: false)),
        new("zpopmax", -2, Write | Fast, 1, 1, 1, "sorted-set", "Remove and return members with the highest scores in a sorted set", (CommandContext c, in CommandArgs a) => ZPop(c, a, max: true)),
        new("zmpop", -4, Write | MovableKeys, 0, 0, 0, "sorted-set", "Remove and return members with scores in a sorted set", (CommandContext c, in CommandArgs a) => ZMPop(c, a, blocking: false)),
        new("bzpopmin", -3, Write | NoScript | Blocking | Fast, 1, -2, 1, "sorted-set", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", (CommandContext c, in CommandArgs a) => BZPop(c, a, max: false)),
        new("bzpopmax", -3, Write | NoScript | Blocking | Fast, 1, -2, 1, "sorted-set", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", (CommandContext c, in CommandArgs a) => BZPop(c, a, max: true)),
        new("bzmpop", -5, Write | Blocking | MovableKeys, 0, 0, 0, "sorted-set", "Remove and return members with scores in a sorted set or block until one is available", (CommandContext c, in CommandArgs a) => ZMPop(c, a, blocking: true)),
        new("zrandmember", -2, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Get one or multiple random elements from a sorted set", ZRandMember),
        new("zunion", -3, ReadOnly | MovableKeys | ReadsUnderLock, 0, 0, 0, "sorted-set", "Add multiple sorted sets", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Union, store: false, cardinality: false)),
        new("zinter", -3, ReadOnly | MovableKeys | ReadsUnderLock, 0, 0, 0, "sorted-set", "Intersect multiple sorted sets", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Inter, store: false, cardinality: false)),
        new("zdiff", -3, ReadOnly | MovableKeys | ReadsUnderLock, 0, 0, 0, "sorted-set", "Subtract multiple sorted sets", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Diff, store: false, cardinality: false)),
        new("zintercard", -3, ReadOnly | MovableKeys | ReadsUnderLock, 0, 0, 0, "sorted-set", "Intersect multiple sorted sets and return the cardinality of the result", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Inter, store: false, cardinality: true)),
        new("zunionstore", -4, Write | DenyOom | MovableKeys | RepliesBeforeNotifying, 1, 1, 1, "sorted-set", "Add multiple sorted sets and store the resulting sorted set in a new key", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Union, store: true, cardinality: false)),
        new("zinterstore", -4, Write | DenyOom | MovableKeys | RepliesBeforeNotifying, 1, 1, 1, "sorted-set", "Intersect multiple sorted sets and store the resulting sorted set in a new key", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Inter, store: true, cardinality: false)),
        new("zdiffstore", -4, Write | DenyOom | MovableKeys | RepliesBeforeNotifying, 1, 1, 1, "sorted-set", "Subtract multiple sorted sets and store the resulting sorted set in a new key", (CommandContext c, in CommandArgs a) => SetOperation(c, a, SetOp.Diff, store: true, cardinality: false)),
        new("zscan", -3, ReadOnly | ReadsUnderLock, 1, 1, 1, "sorted-set", "Incrementally iterate sorted sets elements and associated scores", ZScan),
    ];

    /// <summary><c>zadd</c> (class <c>z</c>): members added or scores changed by ZADD.</summary>
    public static readonly KeyEvent Zadd = new("zadd", 'z');

    /// <summary><c>zincr</c> (class <c>z</c>): a score changed by ZINCRBY or ZADD … INCR.</summary>
    public static readonly KeyEvent Zincr = new("zincr", 'z');

    /// <summary><c>zrem</c> (class <c>z</c>): members removed by ZREM.</summary>
    public static readonly KeyEvent Zrem = new("zrem", 'z');

    /// <summary><c>zremrangebyscore</c> (class <c>z</c>).</summary>
    public static readonly KeyEvent Zremrangebyscore = new("zremrangebyscore", 'z');

    /// <summary><c>zremrangebyrank</c> (class <c>z</c>).</summary>
    public static readonly KeyEvent Zremrangebyrank = new("zremrangebyrank", 'z');

    /// <summary><c>zremrangebylex</c> (class <c>z</c>).</summary>
    public static readonly KeyEvent Zremrangebylex = new("zremrangebylex", 'z');

    /// <summary><c>zpopmin</c> (class <c>z</c>): ZPOPMIN, ZMPOP … MIN.</summary>
    public static readonly KeyEvent Zpopmin = new("zpopmin", 'z');

    /// <summary><c>zpopmax</c> (class <c>z</c>): ZPOPMAX, ZMPOP … MAX.</summary>
    public static readonly KeyEvent Zpopmax = new("zpopmax", 'z');

    /// <summary><c>zunionstore</c> (class <c>z</c>): the destination of ZUNIONSTORE.</summary>
    public static readonly KeyEvent Zunionstore = new("zunionstore", 'z');

    /// <summary><c>zinterstore</c> (class <c>z</c>): the destination of ZINTERSTORE.</summary>
    public static readonly KeyEvent Zinterstore = new("zinterstore", 'z');

    /// <summary><c>zdiffstore</c> (class <c>z</c>): the destination of ZDIFFSTORE.</summary>
    public static readonly KeyEvent Zdiffstore = new("zdiffstore", 'z');

    /// <summary><c>zrangestore</c> (class <c>z</c>): the destination of ZRANGESTORE.</summary>
    public static readonly KeyEvent Zrangestore = new("zrangestore", 'z');

    private const string MinMaxNotFloat = "ERR min or max is not a float";
    private const string NotStringRange = "ERR min or max not valid string range item";
    private const string NanScore = "ERR resulting score is not a number (NaN)";

    /// <summary>ZADD's scores kept from its up-front check (on the stack); later ones are parsed again.</summary>
    private const int ParsedScores = 8;

    // ------------------------------------------------------------------------------------------------ helpers

    private static bool TryRead(CommandContext context, ReadOnlySpan<byte> key, out SortedSetValue? set) => TypedValue.TryRead(context, key, out set);

    /// <summary>A value's payload and heap figures before a change, to announce the difference.</summary>
    private readonly struct Footprint(SortedSetValue set)
    {
        public readonly long Value = set.MemberBytes + 8 * set.Count;
        public readonly long Memory = set.MemoryBytes;
    }

    /// <summary>Announces an in-place change of <paramref name="set"/> (and deletes the key when it is left empty). Caller holds the shard lock.</summary>
    private static void Changed(Database db, in KeySlot slot, ReadOnlySpan<byte> key, SortedSetValue set, in Footprint before, KeyEvent keyEvent)
    {
        db.Mutated(slot, key, keyEvent);
        Resized(db, slot, key, set, before);
    }

    /// <summary>The byte totals of an in-place change already announced (and the key deleted when <paramref name="set"/> is left empty). Caller holds the shard lock.</summary>
    private static void Resized(Database db, in KeySlot slot, ReadOnlySpan<byte> key, SortedSetValue set, in Footprint before)
    {
        db.Resized(slot, set.MemberBytes + 8 * set.Count - before.Value, set.MemoryBytes - before.Memory);
        if (set.Count == 0) db.Remove(key);
    }

    /// <summary>Stores a new value built by a store command (or deletes <paramref name="key"/> when it is empty), replying its size (Redis's <c>setKey</c> + <c>dbDelete</c>).</summary>
    internal static void StoreResult(CommandContext context, ReadOnlySpan<byte> key, SortedSetValue result, KeyEvent keyEvent)
    {
        Database db = context.Database;
        if (result.Count > 0) db.Set(db.Locate(key), key, result, 0, keyEvent);
        else if (db.FindNoTouch(key) != null) db.Remove(key);
        context.Writer.WriteInteger(result.Count);
    }

    /// <summary>An empty set, as Redis 7.0 creates one for <paramref name="context"/>'s thresholds.</summary>
    internal static SortedSetValue NewSet(CommandContext context) => new(listpack: context.Options.ZsetMaxListpackEntries > 0);

    internal static double Add(CommandContext context, SortedSetValue set, ReadOnlySpan<byte> member, double score) =>
        set.Add(member, score, context.Options.ZsetMaxListpackEntries, context.Options.ZsetMaxListpackValue);

    /// <summary>A member and its score as a reply element: RESP2 two bulk strings, RESP3 (when <paramref name="nested"/>) a [member, double] array.</summary>
    private static void WritePair(RespWriter w, Position node, bool withScores, bool nested)
    {
        if (nested) w.WriteArrayHeader(2);
        w.WriteBulkString(node.Member);
        if (withScores) w.WriteScore(node.Score);
    }

    /// <summary>Parses a <c>min</c>/<c>max</c> score bound (<c>(</c> for exclusive) as Redis's <c>zslParseRange</c>.</summary>
    private static bool TryParseScoreRange(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ScoreRange range)
    {
        range = default;
        bool minEx = min.Length > 0 && min[0] == (byte)'(', maxEx = max.Length > 0 && max[0] == (byte)'(';
        if (!DoubleText.TryParseLenient(minEx ? min[1..] : min, out double a) || !DoubleText.TryParseLenient(maxEx ? max[1..] : max, out double b)) return false;
        range = new ScoreRange(a, b, minEx, maxEx);
        return true;
    }

    /// <summary>An integer argument of at least <paramref name="min"/>, as Redis's <c>getRangeLongFromObjectOrReply(…, min, LONG_MAX, msg)</c>: <paramref name="message"/> for any failure.</summary>
    private static bool TryParseBoundedLong(RespWriter w, ReadOnlySpan<byte> text, long min, string message, out long value)
    {
        if (RespInteger.TryParse(text, out value) && value >= min) return true;
        w.WriteError(message);
        return false;
    }

    // ------------------------------------------------------------------------------------------------ ZADD, ZINCRBY

    /// <summary>
    /// <c>ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …]</c> and <c>ZINCRBY key increment member</c>
    /// (Redis's <c>zaddGenericCommand</c>). Replies <c>:added</c> (with CH added + changed); with INCR (and ZINCRBY) the new
    /// score, or a null when NX/XX/GT/LT stopped it. Errors in Redis's order: an odd or zero number of score/member arguments
    /// <c>-ERR syntax error</c>; <c>-ERR XX and NX options at the same time are not compatible</c>; <c>-ERR GT, LT, and/or NX
    /// options at the same time are not compatible</c>; <c>-ERR INCR option supports a single increment-element pair</c>; a
    /// score that is not a float <c>-ERR value is not a valid float</c>; WRONGTYPE; an increment making NaN (inf + -inf)
    /// <c>-ERR resulting score is not a number (NaN)</c>. Logged as its request (it is deterministic).
    /// </summary>
    internal static void ZAdd(CommandContext context, in CommandArgs args, bool incrby)
    {
        RespWriter w = context.Writer;
        bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = incrby;
        int i = 2;
        for (; i < args.Count; i++)
        {
            if (args.Is(i, "NX"u8)) nx = true;
            else if (args.Is(i, "XX"u8)) xx = true;
            else if (args.Is(i, "GT"u8)) gt = true;
            else if (args.Is(i, "LT"u8)) lt = true;
            else if (args.Is(i, "CH"u8)) ch = true;
            else if (args.Is(i, "INCR"u8)) incr = true;
            else break;
        }
        int elements = args.Count - i;
        if (elements % 2 != 0 || elements == 0)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        elements /= 2;
        if (nx && xx)
        {
            w.WriteError("ERR XX and NX options at the same time are not compatible");
            return;
        }
        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            w.WriteError("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        if (incr && elements > 1)
        {
            w.WriteError("ERR INCR option supports a single increment-element pair");
            return;
        }
        // Every score is checked before anything changes; the first few are kept (the rest parsed again below).
        Span<double> parsed = stackalloc double[ParsedScores];
        for (int j = i, k = 0; j < args.Count; j += 2, k++)
        {
            if (!DoubleText.TryParse(args[j], out double value))
            {
                w.WriteError(CommandErrors.NotFloat);
                return;
            }
            if (k < ParsedScores) parsed[k] = value;
        }
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (!TypedValue.TryGet(context, db.Find(slot, key), out SortedSetValue? set)) return;
        long added = 0, updated = 0, processed = 0;
        double lastScore = 0;
        bool created = set == null;
        if (set == null)
        {
            if (xx)
            {
                if (incr) w.WriteNullBulkString();
                else w.WriteInteger(0);
                return;
            }
            set = NewSet(context);
        }
        var before = new Footprint(set);
        for (int j = i, k = 0; j < args.Count; j += 2, k++)
        {
            double score;
            if (k < ParsedScores) score = parsed[k];
            else DoubleText.TryParse(args[j], out score);
            ReadOnlySpan<byte> member = args[j + 1];
            MemberSpot spot = set.Find(member);
            if (spot.Found)
            {
                double current = spot.Score;
                if (nx) continue;
                if (incr)
                {
                    score += current;
                    if (double.IsNaN(score))
                    {
                        w.WriteError(NanScore); // INCR takes one pair: nothing was changed
                        return;
                    }
                }
                if ((lt && score >= current) || (gt && score <= current)) continue;
                processed++;
                lastScore = score;
                if (score != current)
                {
                    lastScore = set.UpdateScore(spot, member, score);
                    updated++;
                }
            }
            else
            {
                if (xx) continue;
                lastScore = set.Add(spot, member, score, context.Options.ZsetMaxListpackEntries, context.Options.ZsetMaxListpackValue);
                processed++;
                added++;
            }
        }
        if (created) db.Set(slot, key, set, 0, incr ? Zincr : Zadd);
        else if (added + updated > 0) Changed(db, slot, key, set, before, incr ? Zincr : Zadd);
        if (!incr) w.WriteInteger(ch ? added + updated : added);
        else if (processed > 0) w.WriteScore(lastScore);
        else w.WriteNullBulkString();
    }

    // ------------------------------------------------------------------------------------------------ simple reads and ZREM

    /// <summary><c>ZREM key member [member …]</c>: <c>:removed</c>; the key goes with its last member.</summary>
    private static void ZRem(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (!TypedValue.TryGet(context, db.Find(slot, key), out SortedSetValue? set)) return;
        long removed = 0;
        if (set != null)
        {
            var before = new Footprint(set);
            for (int i = 2; i < args.Count && set.Count > 0; i++)
                if (set.Remove(args[i])) removed++;
            if (removed > 0) Changed(db, slot, key, set, before, Zrem);
        }
        context.Writer.WriteInteger(removed);
    }

    /// <summary><c>ZCARD key</c>: <c>:members</c>, 0 for a missing key.</summary>
    private static void ZCard(CommandContext context, in CommandArgs args)
    {
        if (TryRead(context, args[1], out SortedSetValue? set)) context.Writer.WriteInteger(set?.Count ?? 0);
    }

    /// <summary><c>ZSCORE key member</c>: the score (RESP3 a double), or null.</summary>
    private static void ZScore(CommandContext context, in CommandArgs args)
    {
        if (!TryRead(context, args[1], out SortedSetValue? set)) return;
        if (set != null && set.TryGetScore(args[2], out double score)) context.Writer.WriteScore(score);
        else context.Writer.WriteNullBulkString();
    }

    /// <summary><c>ZMSCORE key member [member …]</c>: an array of scores, null for each missing member (all null for a missing key).</summary>
    private static void ZMScore(CommandContext context, in CommandArgs args)
    {
        if (!TryRead(context, args[1], out SortedSetValue? set)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (set != null && set.TryGetScore(args[i], out double score)) w.WriteScore(score);
            else w.WriteNullBulkString();
        }
    }

    /// <summary><c>ZRANK key member</c> / <c>ZREVRANK</c>: the 0-based rank (O(log n)), or null.</summary>
    private static void ZRank(CommandContext context, in CommandArgs args, bool reverse)
    {
        if (!TryRead(context, args[1], out SortedSetValue? set)) return;
        if (set == null || !set.TryGetRank(args[2], out long rank))
        {
            context.Writer.WriteNullBulkString();
            return;
        }
        context.Writer.WriteInteger(reverse ? set.Count - 1 - rank : rank);
    }

    private enum RangeType { Auto, Rank, Score, Lex }

    private enum Direction { Auto, Forward, Reverse }

    /// <summary>
    /// <c>ZCOUNT key min max</c> and <c>ZLEXCOUNT key min max</c>: members in the range, from two ranks (O(log n)). Range errors
    /// (<c>-ERR min or max is not a float</c>, <c>-ERR min or max not valid string range item</c>) come before WRONGTYPE.
    /// </summary>
    private static void ZCount(CommandContext context, in CommandArgs args, RangeType type)
    {
        RespWriter w = context.Writer;
        ScoreRange score = default;
        LexRange lex = default;
        if (type == RangeType.Score ? !TryParseScoreRange(args[2], args[3], out score) : !LexRange.TryParse(args[2], args[3], out lex))
        {
            w.WriteError(type == RangeType.Score ? MinMaxNotFloat : NotStringRange);
            return;
        }
        if (!TryRead(context, args[1], out SortedSetValue? set)) return;
        if (set == null)
        {
            w.WriteInteger(0);
            return;
        }
        bool any = type == RangeType.Score ? set.TryGetRankRange(score, out long first, out long last) : set.TryGetRankRange(lex, out first, out last);
        w.WriteInteger(any ? last - first + 1 : 0);
    }

    // ------------------------------------------------------------------------------------------------ ranges

    /// <summary>
    /// The ranks a range selects: <paramref name="start"/> (0-based, ascending order) and <paramref name="count"/> members
    /// walked forward or, when <paramref name="reverse"/>, backward from it. Rank ranges follow Redis's
    /// <c>genericZrangebyrankCommand</c> (negative indexes from the end, clamped); score and lex ranges
    /// <c>genericZrangebyscoreCommand</c>/<c>…bylex…</c> (LIMIT offset count: a negative offset selects nothing, a negative
    /// count means all).
    /// </summary>
    private static void Select(SortedSetValue set, RangeType type, long rankStart, long rankEnd, in ScoreRange score, in LexRange lex,
        long offset, long limit, bool reverse, out long start, out long count)
    {
        start = 0;
        count = 0;
        long size = set.Count;
        if (type == RangeType.Rank)
        {
            if (rankStart < 0) rankStart += size;
            if (rankEnd < 0) rankEnd += size;
            if (rankStart < 0) rankStart = 0;
            if (rankStart > rankEnd || rankStart >= size) return;
            if (rankEnd >= size) rankEnd = size - 1;
            count = rankEnd - rankStart + 1;
            start = reverse ? size - 1 - rankStart : rankStart;
            return;
        }
        bool any = type == RangeType.Score ? set.TryGetRankRange(score, out long firstRank, out long lastRank) : set.TryGetRankRange(lex, out firstRank, out lastRank);
        if (!any) return;
        long inRange = lastRank - firstRank + 1;
        if (inRange <= 0 || offset < 0 || offset >= inRange) return;
        count = inRange - offset;
        if (limit >= 0) count = Math.Min(count, limit);
        start = reverse ? lastRank - offset : firstRank + offset;
    }

    /// <summary>
    /// ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX and ZRANGESTORE (Redis's
    /// <c>zrangeGenericCommand</c>): <c>[dst] key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]</c>, the
    /// fixed forms accepting only the options their name leaves open. Errors in Redis's order: an unknown or misplaced option
    /// <c>-ERR syntax error</c>; LIMIT values not integers; <c>-ERR syntax error, LIMIT is only supported in combination with
    /// either BYSCORE or BYLEX</c>; <c>-ERR syntax error, WITHSCORES not supported in combination with BYLEX</c>; the range
    /// (ranks not integers, <c>-ERR min or max is not a float</c>, <c>-ERR min or max not valid string range item</c>); then
    /// WRONGTYPE. A missing key replies an empty array (ZRANGESTORE: 0, deleting the destination). ZRANGESTORE replies the
    /// stored size and announces <c>zrangestore</c>.
    /// </summary>
    private static void ZRange(CommandContext context, in CommandArgs args, int keyIndex, bool store, RangeType type, Direction direction)
    {
        RespWriter w = context.Writer;
        int minIndex = keyIndex + 1, maxIndex = keyIndex + 2;
        long offset = 0, limit = -1;
        bool withScores = false;
        for (int j = keyIndex + 3; j < args.Count; j++)
        {
            int left = args.Count - j - 1;
            if (!store && args.Is(j, "WITHSCORES"u8)) withScores = true;
            else if (args.Is(j, "LIMIT"u8) && left >= 2)
            {
                if (!RespInteger.TryParse(args[j + 1], out offset) || !RespInteger.TryParse(args[j + 2], out limit))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                j += 2;
            }
            else if (direction == Direction.Auto && args.Is(j, "REV"u8)) direction = Direction.Reverse;
            else if (type == RangeType.Auto && args.Is(j, "BYLEX"u8)) type = RangeType.Lex;
            else if (type == RangeType.Auto && args.Is(j, "BYSCORE"u8)) type = RangeType.Score;
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (direction == Direction.Auto) direction = Direction.Forward;
        if (type == RangeType.Auto) type = RangeType.Rank;
        if (limit != -1 && type == RangeType.Rank)
        {
            w.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && type == RangeType.Lex)
        {
            w.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        bool reverse = direction == Direction.Reverse;
        if (reverse && type != RangeType.Rank) (minIndex, maxIndex) = (maxIndex, minIndex);
        long rankStart = 0, rankEnd = 0;
        ScoreRange score = default;
        LexRange lex = default;
        switch (type)
        {
            case RangeType.Rank:
                if (!RespInteger.TryParse(args[minIndex], out rankStart) || !RespInteger.TryParse(args[maxIndex], out rankEnd))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                break;
            case RangeType.Score:
                if (!TryParseScoreRange(args[minIndex], args[maxIndex], out score))
                {
                    w.WriteError(MinMaxNotFloat);
                    return;
                }
                break;
            default:
                if (!LexRange.TryParse(args[minIndex], args[maxIndex], out lex))
                {
                    w.WriteError(NotStringRange);
                    return;
                }
                break;
        }
        if (!TryRead(context, args[keyIndex], out SortedSetValue? set)) return;
        long start = 0, count = 0;
        if (set != null) Select(set, type, rankStart, rankEnd, score, lex, offset, limit, reverse, out start, out count);
        if (store)
        {
            SortedSetValue result = NewSet(context);
            if (count > 0)
            {
                Position node = set!.ByRank(start);
                for (long k = 0; k < count && node.Exists; k++, node = reverse ? node.Previous : node.Next) Add(context, result, node.Member, node.Score);
            }
            StoreResult(context, args[1], result, Zrangestore);
            return;
        }
        bool nested = withScores && w.Protocol >= 3;
        w.WriteArrayHeader(withScores && !nested ? count * 2 : count);
        if (count == 0) return;
        Position n = set!.ByRank(start);
        for (long k = 0; k < count && n.Exists; k++, n = reverse ? n.Previous : n.Next) WritePair(w, n, withScores, nested);
    }

    /// <summary>
    /// <c>ZREMRANGEBYRANK key start stop</c>, <c>ZREMRANGEBYSCORE key min max</c>, <c>ZREMRANGEBYLEX key min max</c>:
    /// <c>:removed</c>. The range is parsed before the key is looked up (its errors come first), as Redis does.
    /// </summary>
    private static void ZRemRange(CommandContext context, in CommandArgs args, RangeType type)
    {
        RespWriter w = context.Writer;
        long rankStart = 0, rankEnd = 0;
        ScoreRange score = default;
        LexRange lex = default;
        if (type == RangeType.Rank)
        {
            if (!RespInteger.TryParse(args[2], out rankStart) || !RespInteger.TryParse(args[3], out rankEnd))
            {
                w.WriteError(CommandErrors.NotInteger);
                return;
            }
        }
        else if (type == RangeType.Score ? !TryParseScoreRange(args[2], args[3], out score) : !LexRange.TryParse(args[2], args[3], out lex))
        {
            w.WriteError(type == RangeType.Score ? MinMaxNotFloat : NotStringRange);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (!TypedValue.TryGet(context, db.Find(slot, key), out SortedSetValue? set)) return;
        if (set == null)
        {
            w.WriteInteger(0);
            return;
        }
        Select(set, type, rankStart, rankEnd, score, lex, 0, -1, reverse: false, out long start, out long count);
        if (count > 0)
        {
            var before = new Footprint(set);
            for (long k = 0; k < count; k++) set.Remove(set.ByRank(start));
            Changed(db, slot, key, set, before, type == RangeType.Rank ? Zremrangebyrank : type == RangeType.Score ? Zremrangebyscore : Zremrangebylex);
        }
        w.WriteInteger(count);
    }

    // ------------------------------------------------------------------------------------------------ pops

    /// <summary>How a pop's reply is shaped (Redis's <c>genericZpopCommand</c> flags <c>emitkey</c> and <c>use_nested_array</c>).</summary>
    public enum PopReply
    {
        /// <summary>ZPOPMIN/ZPOPMAX without a count (and with one in RESP2): a flat member, score, … array.</summary>
        Flat,

        /// <summary>ZPOPMIN/ZPOPMAX with a count in RESP3: an array of [member, score] arrays.</summary>
        Nested,

        /// <summary>BZPOPMIN/BZPOPMAX: key, member, score (flat).</summary>
        KeyFlat,

        /// <summary>ZMPOP/BZMPOP: [key, [[member, score], …]].</summary>
        KeyNested,
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> (≥ 1) members of <paramref name="set"/> (the non-empty sorted set at
    /// <paramref name="key"/>, whose shard lock the caller holds) from the low end, or the high end when
    /// <paramref name="max"/>; writes the reply shaped as <paramref name="shape"/>; announces <c>zpopmin</c>/<c>zpopmax</c>
    /// and deletes the key when it empties (<c>del</c>). The one pop of ZPOPMIN, ZPOPMAX, ZMPOP and the blocking pops.
    /// </summary>
    /// <returns>The number of members popped.</returns>
    public static long Pop(CommandContext context, ReadOnlySpan<byte> key, in KeySlot slot, SortedSetValue set, bool max, long count, PopReply shape)
    {
        RespWriter w = context.Writer;
        long n = Math.Min(count, set.Count);
        switch (shape)
        {
            case PopReply.Flat:
                w.WriteArrayHeader(n * 2);
                break;
            case PopReply.Nested:
                w.WriteArrayHeader(n);
                break;
            case PopReply.KeyFlat:
                w.WriteArrayHeader(n * 2 + 1);
                w.WriteBulkString(key);
                break;
            default:
                w.WriteArrayHeader(2);
                w.WriteBulkString(key);
                w.WriteArrayHeader(n);
                break;
        }
        bool nested = shape is PopReply.Nested or PopReply.KeyNested;
        var before = new Footprint(set);
        Database db = context.Database;
        // Announced between the reply's header and its first member, where Redis's genericZpopCommand notifies (a RESP3
        // client notified of its own pop gets the push there); "del" after the last member.
        db.Mutated(slot, key, max ? Zpopmax : Zpopmin);
        for (long i = 0; i < n; i++)
        {
            Position node = max ? set.Last : set.First;
            WritePair(w, node, withScores: true, nested);
            set.Remove(node);
        }
        Resized(db, slot, key, set, before);
        return n;
    }

    /// <summary>
    /// <c>ZPOPMIN key [count]</c> / <c>ZPOPMAX</c>: the popped members with scores (see <see cref="PopReply"/>); an empty array for a
    /// missing key or count 0. Errors: more arguments <c>-ERR syntax error</c>; count not an integer; negative
    /// <c>-ERR value is out of range, must be positive</c>; then WRONGTYPE. Logged as its request.
    /// </summary>
    private static void ZPop(CommandContext context, in CommandArgs args, bool max)
    {
        RespWriter w = context.Writer;
        if (args.Count > 3)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        long count = 1;
        if (args.Count == 3)
        {
            if (!TryParseBoundedLong(w, args[2], 0, "ERR value is out of range, must be positive", out count)) return;
        }
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (!TypedValue.TryGet(context, db.Find(slot, key), out SortedSetValue? set)) return;
        if (set == null || count == 0)
        {
            w.WriteArrayHeader(0);
            return;
        }
        Pop(context, key, slot, set, max, count, args.Count == 3 && w.Protocol >= 3 ? PopReply.Nested : PopReply.Flat);
    }

    /// <summary>
    /// <c>ZMPOP numkeys key [key …] MIN|MAX [COUNT count]</c> and <c>BZMPOP timeout numkeys …</c> (Redis's
    /// <c>zmpopGenericCommand</c>): pops up to count members from the first non-empty key — [key, [[member, score], …]] — or a
    /// null array when every key is missing (BZMPOP blocks until one is filled, a null array on timeout or inside MULTI).
    /// Errors in Redis's order: numkeys not a positive integer <c>-ERR numkeys should be greater than 0</c>; too few arguments,
    /// not MIN/MAX or an unknown option <c>-ERR syntax error</c>; COUNT not positive <c>-ERR count should be greater than
    /// 0</c>; then BZMPOP's timeout (<see cref="BlockingTimeout"/>); a key of another type (before any non-empty one)
    /// WRONGTYPE. Logged as <c>ZPOPMIN|ZPOPMAX key n</c> (n the members popped), as Redis propagates it.
    /// </summary>
    private static void ZMPop(CommandContext context, in CommandArgs args, bool blocking)
    {
        RespWriter w = context.Writer;
        int numKeysIndex = blocking ? 2 : 1;
        if (!TryParseBoundedLong(w, args[numKeysIndex], 1, "ERR numkeys should be greater than 0", out long numKeys)) return;
        if (numKeys > args.Count - numKeysIndex - 1)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        int whereIndex = (int)numKeys + numKeysIndex + 1;
        if (whereIndex >= args.Count)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        bool max;
        if (args.Is(whereIndex, "MIN"u8)) max = false;
        else if (args.Is(whereIndex, "MAX"u8)) max = true;
        else
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        long count = -1;
        for (int j = whereIndex + 1; j < args.Count; j++)
        {
            if (count == -1 && args.Is(j, "COUNT"u8) && j + 1 < args.Count)
            {
                if (!TryParseBoundedLong(w, args[++j], 1, "ERR count should be greater than 0", out count)) return;
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
        PopFirst(context, args, numKeysIndex + 1, (int)numKeys, max, count, PopReply.KeyNested, blocking, timeoutMs);
    }

    /// <summary>
    /// <c>BZPOPMIN key [key …] timeout</c> / <c>BZPOPMAX</c> (Redis's <c>blockingGenericZpopCommand</c>): pops one member from
    /// the first non-empty sorted set, replying [key, member, score] (the score a bulk string in RESP2, a double in RESP3),
    /// logged as <c>ZPOPMIN key</c>/<c>ZPOPMAX key</c>; blocks when every key is missing; a null array on timeout or inside
    /// MULTI. Errors: the timeout's first (<see cref="BlockingTimeout"/>), then WRONGTYPE for the first key, in order, holding
    /// another type.
    /// </summary>
    private static void BZPop(CommandContext context, in CommandArgs args, bool max)
    {
        if (!BlockingTimeout.TryParse(context, args[args.Count - 1], out long timeoutMs)) return;
        PopFirst(context, args, 1, args.Count - 2, max, count: 1, PopReply.KeyFlat, blocking: true, timeoutMs);
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> members from the first sorted set among <paramref name="keyCount"/> keys from
    /// <paramref name="firstKey"/>, replying as <paramref name="shape"/> and logging the pop as <c>ZPOPMIN|ZPOPMAX key</c>
    /// (<see cref="PopReply.KeyFlat"/>) or <c>… key n</c>; a key of another type replies WRONGTYPE, except on a re-run of a
    /// blocked command (<see cref="CommandContext.ResumingBlock"/>: Redis 7.0 keeps such a client blocked). With none: blocks
    /// (<paramref name="blocking"/>), or replies a null array.
    /// </summary>
    private static void PopFirst(CommandContext context, in CommandArgs args, int firstKey, int keyCount, bool max, long count, PopReply shape,
        bool blocking, long timeoutMs)
    {
        Database db = context.Database;
        for (int k = firstKey; k < firstKey + keyCount; k++)
        {
            ReadOnlySpan<byte> key = args[k];
            KeySlot slot = db.Locate(key);
            KeyEntry? entry = db.Find(slot, key);
            SortedSetValue? set;
            if (context.ResumingBlock) set = entry?.Value as SortedSetValue;
            else if (!TypedValue.TryGet(context, entry, out set)) return;
            if (set == null) continue;
            long popped = Pop(context, key, slot, set, max, count, shape);
            PropagationBuffer? record = context.ReplacePropagation();
            if (record != null)
            {
                bool withCount = shape != PopReply.KeyFlat;
                record.Begin(db.Index, withCount ? 3 : 2).Arg(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8).Arg(key);
                if (withCount) record.Arg(popped);
            }
            return;
        }
        if (blocking && context.BlockOnKeys(args, firstKey, keyCount, timeoutMs, typeof(SortedSetValue)) == BlockOutcome.Blocked) return;
        context.Writer.WriteNullArray();
    }

    // ------------------------------------------------------------------------------------------------ ZRANDMEMBER

    /// <summary>
    /// <c>ZRANDMEMBER key [count [WITHSCORES]]</c> (Redis 7.0's <c>zrandmemberCommand</c>): no count, one member or null; count
    /// ≥ 0 that many distinct members (all when count ≥ ZCARD); count &lt; 0 |count| members with repeats. WITHSCORES pairs
    /// are flat in RESP2 and arrays in RESP3. Errors: count not an integer; count −2^63 <c>-ERR value is out of range, value
    /// must between -9223372036854775807 and 9223372036854775807</c>; a fourth argument other than WITHSCORES or more
    /// <c>-ERR syntax error</c>; with WITHSCORES |count| &gt; 2^62 <c>-ERR value is out of range</c>. RespKv also refuses a
    /// negative count beyond −100,000,000 with <c>-ERR value is out of range</c> (Redis would exhaust memory).
    /// </summary>
    private static void ZRandMember(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (args.Count == 2)
        {
            if (!TryRead(context, args[1], out SortedSetValue? single)) return;
            if (single == null) w.WriteNullBulkString();
            else w.WriteBulkString(single.ByRank(Random.Shared.NextInt64(single.Count)).Member);
            return;
        }
        if (!RandomPicks.TryParseCount(w, args, "WITHSCORES"u8, out long count, out bool withScores)) return;
        if (!TryRead(context, args[1], out SortedSetValue? set)) return;
        if (set == null || count == 0)
        {
            w.WriteArrayHeader(0);
            return;
        }
        var picks = new MemberPicks(w, set, withScores);
        RandomPicks.Write(w, set.Count, count, withScores && w.Protocol < 3, ref picks);
    }

    /// <summary>Writes the member (and score) at a rank, a RESP3 pair when with scores.</summary>
    private readonly struct MemberPicks(RespWriter w, SortedSetValue set, bool withScores) : IRankWriter
    {
        public void WriteRank(long rank) => WritePair(w, set.ByRank(rank), withScores, withScores && w.Protocol >= 3);
    }

    // ------------------------------------------------------------------------------------------------ set algebra

    private enum SetOp { Union, Inter, Diff }

    private enum Aggregate { Sum, Min, Max }

    private static double AggregateScores(double target, double value, Aggregate aggregate) => aggregate switch
    {
        Aggregate.Sum => double.IsNaN(target + value) ? 0 : target + value,
        Aggregate.Min => value < target ? value : target,
        _ => value > target ? value : target,
    };

    /// <summary>A plain set as an input of the set algebra: a sorted set of its members, each with score 1 (Redis's <c>zuiNext</c> over a set).</summary>
    private static SortedSetValue WithScoresOfOne(SetValue plain)
    {
        var scored = new SortedSetValue(listpack: false);
        var visitor = new ScoreOne(scored);
        plain.ForEach(ref visitor);
        return scored;
    }

    private readonly struct ScoreOne(SortedSetValue target) : IHashVisitor
    {
        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            target.Add(member, 1, 0, 0);
            return true;
        }
    }

    /// <summary>
    /// ZUNION/ZINTER/ZDIFF <c>numkeys key … [WEIGHTS w …] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]</c>, their STORE forms
    /// <c>dst numkeys key …</c> and <c>ZINTERCARD numkeys key … [LIMIT n]</c> (Redis's <c>zunionInterDiffGenericCommand</c>).
    /// Errors in Redis's order: numkeys not an integer; below 1 <c>-ERR at least 1 input key is needed for '…' command</c>;
    /// more than the arguments <c>-ERR syntax error</c>; an input neither a sorted set nor a set WRONGTYPE; then
    /// options: a weight not a float <c>-ERR weight value is not a float</c>, LIMIT <c>-ERR LIMIT can't be negative</c>,
    /// anything else (WEIGHTS/AGGREGATE on ZDIFF or ZINTERCARD, WITHSCORES on a STORE) <c>-ERR syntax error</c>. A weighted
    /// score that is NaN counts 0, as a SUM that is NaN does. A plain set's members score 1 (times their weight). Inputs are
    /// taken smallest first for ZINTER (Redis's order).
    /// </summary>
    private static void SetOperation(CommandContext context, in CommandArgs args, SetOp op, bool store, bool cardinality)
    {
        RespWriter w = context.Writer;
        int numKeysIndex = store ? 2 : 1;
        if (!RespInteger.TryParse(args[numKeysIndex], out long setCount))
        {
            w.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (setCount < 1)
        {
            w.WriteError($"ERR at least 1 input key is needed for '{context.CurrentCommand!.FullName}' command");
            return;
        }
        if (setCount > args.Count - (numKeysIndex + 1))
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        int n = (int)setCount;
        var sets = new SortedSetValue?[n];
        var weights = new double[n];
        int j = numKeysIndex + 1;
        for (int i = 0; i < n; i++, j++)
        {
            KeyEntry? entry = context.Database.Find(args[j]);
            // A read lookup for the store forms too (Redis 7.0's zunionInterDiffGenericCommand: lookupKeyRead).
            context.CountLookup(entry != null, args[j]);
            if (entry?.Value is SetValue plain) sets[i] = WithScoresOfOne(plain);
            else if (!TypedValue.TryGet(context, entry, out sets[i])) return;
            weights[i] = 1;
        }
        var aggregate = Aggregate.Sum;
        bool withScores = false;
        long limit = 0;
        while (j < args.Count)
        {
            int remaining = args.Count - j;
            if (op != SetOp.Diff && !cardinality && remaining >= n + 1 && args.Is(j, "WEIGHTS"u8))
            {
                j++;
                for (int i = 0; i < n; i++, j++)
                {
                    if (!DoubleText.TryParse(args[j], out weights[i]))
                    {
                        w.WriteError("ERR weight value is not a float");
                        return;
                    }
                }
            }
            else if (op != SetOp.Diff && !cardinality && remaining >= 2 && args.Is(j, "AGGREGATE"u8))
            {
                if (args.Is(j + 1, "SUM"u8)) aggregate = Aggregate.Sum;
                else if (args.Is(j + 1, "MIN"u8)) aggregate = Aggregate.Min;
                else if (args.Is(j + 1, "MAX"u8)) aggregate = Aggregate.Max;
                else
                {
                    w.WriteError(CommandErrors.Syntax);
                    return;
                }
                j += 2;
            }
            else if (!store && !cardinality && args.Is(j, "WITHSCORES"u8))
            {
                withScores = true;
                j++;
            }
            else if (cardinality && remaining >= 2 && args.Is(j, "LIMIT"u8))
            {
                if (!TryParseBoundedLong(w, args[j + 1], 0, "ERR LIMIT can't be negative", out limit)) return;
                j += 2;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (op != SetOp.Diff)
        {
            // Smallest first (a stable insertion sort; Redis's qsort by cardinality).
            for (int a = 1; a < n; a++)
            {
                for (int b = a; b > 0 && (sets[b]?.Count ?? 0) < (sets[b - 1]?.Count ?? 0); b--)
                {
                    (sets[b], sets[b - 1]) = (sets[b - 1], sets[b]);
                    (weights[b], weights[b - 1]) = (weights[b - 1], weights[b]);
                }
            }
        }
        SortedSetValue result = NewSet(context);
        long found = 0;
        if (op == SetOp.Inter)
        {
            if (sets[0] is { Count: > 0 } smallest)
            {
                for (Position e = smallest.First; e.Exists; e = e.Next)
                {
                    double score = weights[0] * e.Score;
                    if (double.IsNaN(score)) score = 0;
                    int k = 1;
                    for (; k < n; k++)
                    {
                        if (sets[k] == null || !sets[k]!.TryGetScore(e.Member, out double other)) break;
                        score = AggregateScores(score, other * weights[k], aggregate);
                    }
                    if (k < n) continue;
                    if (cardinality)
                    {
                        found++;
                        if (limit > 0 && found >= limit) break;
                    }
                    else Add(context, result, e.Member, score);
                }
            }
        }
        else if (op == SetOp.Union)
        {
            var accumulator = new Dictionary<byte[], double>(ByteStringComparer.Instance);
            var lookup = accumulator.GetAlternateLookup<ReadOnlySpan<byte>>();
            var order = new List<byte[]>();
            for (int i = 0; i < n; i++)
            {
                if (sets[i] == null) continue;
                for (Position e = sets[i]!.First; e.Exists; e = e.Next)
                {
                    double score = weights[i] * e.Score;
                    if (double.IsNaN(score)) score = 0;
                    if (lookup.TryGetValue(e.Member, out double existing)) lookup[e.Member] = AggregateScores(existing, score, aggregate);
                    else
                    {
                        byte[] member = e.Member.ToArray();
                        accumulator.Add(member, score);
                        order.Add(member);
                    }
                }
            }
            foreach (byte[] member in order) Add(context, result, member, accumulator[member]);
        }
        else if (sets[0] != null)
        {
            for (Position e = sets[0]!.First; e.Exists; e = e.Next)
            {
                bool elsewhere = false;
                for (int k = 1; k < n && !elsewhere; k++) elsewhere = sets[k] != null && sets[k]!.Contains(e.Member);
                if (!elsewhere) Add(context, result, e.Member, e.Score);
            }
        }
        if (cardinality)
        {
            w.WriteInteger(found);
            return;
        }
        if (store)
        {
            StoreResult(context, args[1], result, op == SetOp.Union ? Zunionstore : op == SetOp.Inter ? Zinterstore : Zdiffstore);
            return;
        }
        bool nested = withScores && w.Protocol >= 3;
        w.WriteArrayHeader(withScores && !nested ? result.Count * 2 : result.Count);
        for (Position e = result.First; e.Exists; e = e.Next) WritePair(w, e, withScores, nested);
    }

    // ------------------------------------------------------------------------------------------------ ZSCAN

    /// <summary>
    /// <c>ZSCAN key cursor [MATCH pattern] [COUNT count]</c>: <c>*2</c> of the next cursor and a flat member, score, … array
    /// (scores as bulk strings in both protocols, as Redis), in (score, member) order.
    /// <para>
    /// A set Redis keeps as a listpack (<see cref="SortedSetValue.IsListpack"/>) is returned whole with cursor 0, as Redis
    /// does. Otherwise the cursor is a position in (score, member) order — "after (s, m)" — saved in
    /// <see cref="HashScanCursors"/> (the score's 8 order-preserving bytes then the member): each call examines COUNT members
    /// after it. A member present for the whole scan whose score does not change is returned exactly once, whatever else is
    /// inserted or removed; a member whose score changes during the scan may be returned twice or missed (Redis's hash-table
    /// cursor returns it once). Errors as HSCAN's: <c>-ERR invalid cursor</c>, WRONGTYPE, COUNT and option errors.
    /// </para>
    /// </summary>
    private static void ZScan(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!RespInteger.TryParseScanCursor(args[2], out ulong cursor))
        {
            w.WriteError("ERR invalid cursor");
            return;
        }
        if (!TryRead(context, args[1], out SortedSetValue? set)) return;
        if (set == null)
        {
            WriteScanHeader(w, 0, 0);
            return;
        }
        if (!ScanOptions.TryParse(w, args, 3, allowType: false, out ScanOptions options)) return;
        Position start = set.First;
        if (cursor != 0)
        {
            Span<byte> inline = stackalloc byte[HashScanCursors.MaxInlineLength];
            if (!HashScanCursors.Shared.TryResolve(cursor, inline, out ReadOnlySpan<byte> position) || position.Length < 8)
            {
                w.WriteError("ERR invalid cursor");
                return;
            }
            start = set.FirstAfter(DecodeScore(position), position[8..]);
        }
        long budget = set.IsListpack ? long.MaxValue : options.Count;
        long matches = 0;
        Position last = default, node = start;
        for (; node.Exists && budget > 0; node = node.Next, budget--)
        {
            last = node;
            if (!options.UsePattern || GlobPattern.IsMatch(options.Pattern, node.Member)) matches++;
        }
        ulong next = 0;
        if (node.Exists && last.Exists)
        {
            byte[] position = new byte[8 + last.Member.Length];
            EncodeScore(last.Score, position);
            last.Member.CopyTo(position.AsSpan(8));
            next = HashScanCursors.Shared.Save(position);
        }
        WriteScanHeader(w, next, matches * 2);
        Span<byte> score = stackalloc byte[DoubleText.MaxLength];
        for (Position n = start; n.Exists && matches > 0; n = n.Next)
        {
            if (options.UsePattern && !GlobPattern.IsMatch(options.Pattern, n.Member)) continue;
            w.WriteBulkString(n.Member);
            w.WriteBulkString(score[..DoubleText.Format(n.Score, score)]);
            matches--;
        }
    }

    private static void WriteScanHeader(RespWriter w, ulong cursor, long elements)
    {
        w.WriteArrayHeader(2);
        w.WriteBulkString((long)cursor);
        w.WriteArrayHeader(elements);
    }

    /// <summary>A double's bits as 8 bytes whose unsigned order is the numeric order.</summary>
    private static void EncodeScore(double score, Span<byte> destination)
    {
        long bits = BitConverter.DoubleToInt64Bits(score);
        ulong ordered = bits < 0 ? ~(ulong)bits : (ulong)bits | 0x8000_0000_0000_0000UL;
        BinaryPrimitives.WriteUInt64BigEndian(destination, ordered);
    }

    private static double DecodeScore(ReadOnlySpan<byte> source)
    {
        ulong ordered = BinaryPrimitives.ReadUInt64BigEndian(source);
        ulong bits = (ordered & 0x8000_0000_0000_0000UL) != 0 ? ordered & 0x7FFF_FFFF_FFFF_FFFFUL : ~ordered;
        return BitConverter.Int64BitsToDouble((long)bits);
    }
}
