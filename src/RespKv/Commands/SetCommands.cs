using System.Buffers;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Set commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=set): SADD SREM SMEMBERS SISMEMBER
/// SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
/// <para>
/// Values are <see cref="SetValue"/>s changed in place: the executor holds the keys' shard locks for writes and for
/// these reads (<see cref="CommandFlags.ReadsUnderLock"/>); each change is announced with <see cref="Database.Mutated"/>
/// (event and memory delta), and a set emptied by a command is deleted (a further <c>del</c> event), as Redis does.
/// Listings (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count) are RESP3 sets (<c>~</c>), in the set's order
/// (numeric for an intset; for a hashtable the (hash, member) order of its tree, pseudo-random like Redis's unspecified
/// hashtable order).
/// Read commands count a keyspace hit or miss per key; writes do not (Redis's <c>lookupKeyWrite</c>).
/// </para>
/// </summary>
public static class SetCommands
{
    /// <summary><c>sadd</c> (class <c>s</c>): members added.</summary>
    public static readonly KeyEvent Sadd = new("sadd", 's');

    /// <summary><c>srem</c> (class <c>s</c>): members removed (SREM, and SMOVE's source).</summary>
    public static readonly KeyEvent Srem = new("srem", 's');

    /// <summary><c>spop</c> (class <c>s</c>).</summary>
    public static readonly KeyEvent Spop = new("spop", 's');

    /// <summary><c>sinterstore</c> (class <c>s</c>): the destination of SINTERSTORE.</summary>
    public static readonly KeyEvent Sinterstore = new("sinterstore", 's');

    /// <summary><c>sunionstore</c> (class <c>s</c>).</summary>
    public static readonly KeyEvent Sunionstore = new("sunionstore", 's');

    /// <summary><c>sdiffstore</c> (class <c>s</c>).</summary>
    public static readonly KeyEvent Sdiffstore = new("sdiffstore", 's');

    private const CommandFlags Read = ReadOnly | ReadsUnderLock;

    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("sadd", -3, Write | DenyOom | Fast, 1, 1, 1, "set", "Add one or more members to a set", SAdd),
        new("srem", -3, Write | Fast, 1, 1, 1, "set", "Remove one or more members from a set", SRem),
        new("smembers", 2, Read, 1, 1, 1, "set", "Get all the members in a set", (CommandContext c, in CommandArgs a) => Combine(c, a, 1, SetOperation.Inter, null)),
        new("sismember", 3, Read | Fast, 1, 1, 1, "set", "Determine if a given value is a member of a set", SIsMember),
        new("smismember", -3, Read | Fast, 1, 1, 1, "set", "Returns the membership associated with the given elements for a set", SMIsMember),
        new("scard", 2, Read | Fast, 1, 1, 1, "set", "Get the number of members in a set", SCard),
        new("spop", -2, Write | Fast | RepliesBeforeNotifying, 1, 1, 1, "set", "Remove and return one or multiple random members from a set", SPop) { EventsBeforeReply = [Spop] },
        new("srandmember", -2, Read, 1, 1, 1, "set", "Get one or multiple random members from a set", SRandMember),
        new("smove", 4, Write | Fast, 1, 2, 1, "set", "Move a member from one set to another", SMove),
        new("sinter", -2, Read, 1, -1, 1, "set", "Intersect multiple sets", (CommandContext c, in CommandArgs a) => Combine(c, a, 1, SetOperation.Inter, null)),
        new("sintercard", -3, Read | MovableKeys, 0, 0, 0, "set", "Intersect multiple sets and return the cardinality of the result", SInterCard),
        new("sinterstore", -3, Write | DenyOom | RepliesBeforeNotifying, 1, -1, 1, "set", "Intersect multiple sets and store the resulting set in a key", (CommandContext c, in CommandArgs a) => Combine(c, a, 2, SetOperation.Inter, Sinterstore)),
        new("sunion", -2, Read, 1, -1, 1, "set", "Add multiple sets", (CommandContext c, in CommandArgs a) => Combine(c, a, 1, SetOperation.Union, null)),
        new("sunionstore", -3, Write | DenyOom | RepliesBeforeNotifying, 1, -1, 1, "set", "Add multiple sets and store the resulting set in a key", (CommandContext c, in CommandArgs a) => Combine(c, a, 2, SetOperation.Union, Sunionstore)),
        new("sdiff", -2, Read, 1, -1, 1, "set", "Subtract multiple sets", (CommandContext c, in CommandArgs a) => Combine(c, a, 1, SetOperation.Diff, null)),
        new("sdiffstore", -3, Write | DenyOom | RepliesBeforeNotifying, 1, -1, 1, "set", "Subtract multiple sets and store the resulting set in a key", (CommandContext c, in CommandArgs a) => Combine(c, a, 2, SetOperation.Diff, Sdiffstore)),
        new("sscan", -3, Read, 1, 1, 1, "set", "Incrementally iterate Set elements", SScan),
    ];

    /// <summary>
    /// Largest |count| SRANDMEMBER accepts for a negative count. Redis 7.0 would try to stream that many replies and run
    /// out of memory; RespKv answers <c>-ERR value is out of range</c> beyond this (an intentional difference, as HRANDFIELD).
    /// </summary>
    private const long MaxRandomRepeats = 100_000_000;

    /// <summary>Most members one propagated <c>SREM</c> of SPOP carries (Redis batches SPOP's SREMs by 1,024 too; any batching replays the same).</summary>
    private const int PopBatch = 1024;

    /// <summary>
    /// A set changed in place under <paramref name="key"/>: announces <paramref name="keyEvent"/> with the payload and memory
    /// deltas since <paramref name="bytesBefore"/>/<paramref name="memoryBefore"/>, then deletes the key (event <c>del</c>)
    /// when the set is empty. Caller holds the shard lock.
    /// </summary>
    private static void Changed(Database db, in KeySlot slot, ReadOnlySpan<byte> key, SetValue set, KeyEvent keyEvent, long bytesBefore, long memoryBefore)
    {
        db.Mutated(slot, key, keyEvent);
        Resized(db, slot, key, set, bytesBefore, memoryBefore);
    }

    /// <summary>The byte totals of an in-place change already announced (and the key deleted when <paramref name="set"/> is left empty). Caller holds the shard lock.</summary>
    private static void Resized(Database db, in KeySlot slot, ReadOnlySpan<byte> key, SetValue set, long bytesBefore, long memoryBefore)
    {
        db.Resized(slot, set.Bytes - bytesBefore, SetKind.Estimate(set) - memoryBefore);
        if (set.Count == 0) db.Remove(key);
    }

    /// <summary><c>SADD key member [member ...]</c>: <c>:added</c>. A new key starts as an intset (see <see cref="SetValue"/>).</summary>
    private static void SAdd(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!TypedValue.TryGet(context, entry, out SetValue? set)) return;
        long maxIntset = context.Options.SetMaxIntsetEntries, added = 0;
        if (set == null)
        {
            set = new SetValue();
            for (int i = 2; i < args.Count; i++) set.Add(args[i], maxIntset);
            db.Set(slot, key, set, 0, Sadd);
            context.Writer.WriteInteger(set.Count);
            return;
        }
        long bytes = set.Bytes, memory = SetKind.Estimate(set);
        for (int i = 2; i < args.Count; i++)
        {
            if (set.Add(args[i], maxIntset)) added++;
        }
        if (added > 0) Changed(db, slot, key, set, Sadd, bytes, memory);
        context.Writer.WriteInteger(added);
    }

    /// <summary><c>SREM key member [member ...]</c>: <c>:removed</c>; the key goes with its last member.</summary>
    private static void SRem(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (!TypedValue.TryGet(context, db.Find(slot, key), out SetValue? set)) return;
        long removed = 0;
        if (set != null)
        {
            long bytes = set.Bytes, memory = SetKind.Estimate(set);
            for (int i = 2; i < args.Count && set.Count > 0; i++)
            {
                if (set.Remove(args[i])) removed++;
            }
            if (removed > 0) Changed(db, slot, key, set, Srem, bytes, memory);
        }
        context.Writer.WriteInteger(removed);
    }

    /// <summary><c>SISMEMBER key member</c>: <c>:1</c> or <c>:0</c>.</summary>
    private static void SIsMember(CommandContext context, in CommandArgs args)
    {
        if (TypedValue.TryRead(context, args[1], out SetValue? set)) context.Writer.WriteInteger(set != null && set.Contains(args[2]) ? 1 : 0);
    }

    /// <summary><c>SMISMEMBER key member [member ...]</c>: an array of <c>:1</c>/<c>:0</c>, all 0 for a missing key.</summary>
    private static void SMIsMember(CommandContext context, in CommandArgs args)
    {
        if (!TypedValue.TryRead(context, args[1], out SetValue? set)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++) w.WriteInteger(set != null && set.Contains(args[i]) ? 1 : 0);
    }

    /// <summary><c>SCARD key</c>: the member count, 0 for a missing key.</summary>
    private static void SCard(CommandContext context, in CommandArgs args)
    {
        if (TypedValue.TryRead(context, args[1], out SetValue? set)) context.Writer.WriteInteger(set?.Count ?? 0);
    }

    /// <summary>
    /// <c>SPOP key [count]</c> (Redis 7.0's <c>spopCommand</c>/<c>spopWithCountCommand</c>). Without a count: one random
    /// member, a null bulk string for a missing key; logged as <c>SREM key member</c>. With a count: a set (RESP3 <c>~</c>) of
    /// min(count, SCARD) distinct random members, empty for a missing key or count 0; all of the set deletes the key and is
    /// logged as <c>DEL key</c>, fewer as <c>SREM key m …</c> of what was popped (batches of <see cref="PopBatch"/>).
    /// Errors in Redis's order: more than one count <c>-ERR syntax error</c>; count not a non-negative integer
    /// <c>-ERR value is out of range, must be positive</c>; WRONGTYPE.
    /// </summary>
    private static void SPop(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (args.Count > 3)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        long count = 1;
        if (args.Count == 3 && (!RespInteger.TryParse(args[2], out count) || count < 0))
        {
            w.WriteError("ERR value is out of range, must be positive");
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (!TypedValue.TryGet(context, db.Find(slot, key), out SetValue? set)) return;
        bool withCount = args.Count == 3;
        if (set == null || count == 0)
        {
            if (withCount) w.WriteSetHeader(0);
            else w.WriteNullBulkString();
            return;
        }
        PropagationBuffer? log = context.ReplacePropagation();
        // Redis notifies "spop" before it replies (and "del" after, the command deferring it: RepliesBeforeNotifying).
        db.Mutated(slot, key, Spop);
        if (withCount && count >= set.Count)
        {
            WriteMembers(w, set);
            db.Remove(key);
            log?.Begin(db.Index, 2).Arg("DEL"u8).Arg(key);
            return;
        }
        if (withCount) w.WriteSetHeader(count);
        long bytes = set.Bytes, memory = SetKind.Estimate(set);
        Span<byte> scratch = stackalloc byte[SetValue.MaxIntegerLength];
        Random random = Random.Shared;
        for (long popped = 0; popped < count; popped++)
        {
            if (popped % PopBatch == 0) log?.Begin(db.Index, 2 + (int)Math.Min(PopBatch, count - popped)).Arg("SREM"u8).Arg(key);
            // A hashtable member is a view into a leaf, read (written, logged) before the removal changes that leaf; an
            // intset's is in scratch.
            ReadOnlySpan<byte> member = set.ElementAt(random.NextInt64(set.Count), scratch);
            w.WriteBulkString(member);
            log?.Arg(member);
            set.Remove(member);
        }
        Resized(db, slot, key, set, bytes, memory);
    }

    /// <summary>
    /// <c>SRANDMEMBER key [count]</c> (Redis 7.0's <c>srandmemberWithCountCommand</c>). Without a count: one random member,
    /// a null bulk string for a missing key. With a count (always an array, empty for a missing key or count 0): a negative
    /// count gives |count| members drawn independently (repeats possible); a positive count min(count, SCARD) distinct ones.
    /// Errors: more arguments <c>-ERR syntax error</c>; count not an integer <c>-ERR value is not an integer or out of
    /// range</c>; count -2^63 <c>-ERR value is out of range, value must between -9223372036854775807 and
    /// 9223372036854775807</c>; WRONGTYPE. See <see cref="MaxRandomRepeats"/> for RespKv's one difference.
    /// </summary>
    private static void SRandMember(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        Span<byte> scratch = stackalloc byte[SetValue.MaxIntegerLength];
        Random random = Random.Shared;
        if (args.Count == 2)
        {
            if (!TypedValue.TryRead(context, args[1], out SetValue? single)) return;
            if (single == null) w.WriteNullBulkString();
            else w.WriteBulkString(single.ElementAt(random.NextInt64(single.Count), scratch));
            return;
        }
        if (args.Count > 3)
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        if (!RandomRanks.TryParseCount(w, args[2], out long count)) return;
        if (count < -MaxRandomRepeats)
        {
            w.WriteError("ERR value is out of range");
            return;
        }
        if (!TypedValue.TryRead(context, args[1], out SetValue? set)) return;
        if (set == null || count == 0)
        {
            w.WriteArrayHeader(0);
            return;
        }
        long size = set.Count;
        if (count < 0)
        {
            w.WriteArrayHeader(-count);
            for (long i = count; i < 0; i++) w.WriteBulkString(set.ElementAt(random.NextInt64(size), scratch));
            return;
        }
        if (count >= size)
        {
            w.WriteArrayHeader(size);
            var all = new MemberWriter(w);
            set.ForEach(ref all);
            return;
        }
        w.WriteArrayHeader(count);
        var picks = new RankWriter(w, set);
        RandomRanks.Distinct(size, count, random, ref picks);
    }

    /// <summary>Writes the member at each picked rank.</summary>
    private readonly struct RankWriter(RespWriter writer, SetValue set) : IRankSink
    {
        public void Take(long rank)
        {
            Span<byte> scratch = stackalloc byte[SetValue.MaxIntegerLength];
            writer.WriteBulkString(set.ElementAt(rank, scratch));
        }
    }

    /// <summary>
    /// <c>SMOVE source destination member</c>: <c>:1</c> when moved, <c>:0</c> when the source is missing or lacks the
    /// member. As Redis's <c>smoveCommand</c>: a missing source answers <c>:0</c> before the destination's type is checked;
    /// then WRONGTYPE for either; source = destination answers whether the member is there, changing nothing. Events:
    /// <c>srem</c> on the source (and <c>del</c> when emptied), <c>sadd</c> on the destination.
    /// </summary>
    private static void SMove(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> source = args[1], destination = args[2], member = args[3];
        Database db = context.Database;
        KeySlot sourceSlot = db.Locate(source), destinationSlot = db.Locate(destination);
        KeyEntry? sourceEntry = db.Find(sourceSlot, source), destinationEntry = db.Find(destinationSlot, destination);
        if (sourceEntry == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        if (!TypedValue.TryGet(context, sourceEntry, out SetValue? from) || !TypedValue.TryGet(context, destinationEntry, out SetValue? to)) return;
        if (ReferenceEquals(from, to))
        {
            context.Writer.WriteInteger(from!.Contains(member) ? 1 : 0);
            return;
        }
        long bytes = from!.Bytes, memory = SetKind.Estimate(from);
        if (!from.Remove(member))
        {
            context.Writer.WriteInteger(0);
            return;
        }
        Changed(db, sourceSlot, source, from, Srem, bytes, memory);
        long maxIntset = context.Options.SetMaxIntsetEntries;
        if (to == null)
        {
            to = new SetValue();
            to.Add(member, maxIntset);
            db.Set(destinationSlot, destination, to, 0, Sadd);
        }
        else
        {
            bytes = to.Bytes;
            memory = SetKind.Estimate(to);
            if (to.Add(member, maxIntset)) Changed(db, destinationSlot, destination, to, Sadd, bytes, memory);
        }
        context.Writer.WriteInteger(1);
    }

    private enum SetOperation { Inter, Union, Diff }

    /// <summary>
    /// SMEMBERS, SINTER, SUNION, SDIFF (<paramref name="storeEvent"/> null: the result as a set, RESP3 <c>~</c>) and
    /// SINTERSTORE, SUNIONSTORE, SDIFFSTORE (<paramref name="storeEvent"/> given: <c>args[1]</c> is the destination, replaced
    /// by the result — its expiry dropped — or deleted when the result is empty; <c>:size</c>). The source keys are
    /// <c>args[<paramref name="firstKey"/>..]</c>; a missing key is an empty set, and every key's type is checked (WRONGTYPE
    /// for the first that is not a set) before anything else, as Redis's <c>sinterGenericCommand</c> and
    /// <c>sunionDiffGenericCommand</c>. A stored result is an intset when it qualifies.
    /// </summary>
    private static void Combine(CommandContext context, in CommandArgs args, int firstKey, SetOperation operation, KeyEvent? storeEvent)
    {
        int n = args.Count - firstKey;
        SetValue?[] sets = ArrayPool<SetValue?>.Shared.Rent(n);
        try
        {
            if (!TryLoad(context, args, firstKey, sets.AsSpan(0, n))) return;
            Span<SetValue?> sources = sets.AsSpan(0, n);
            if (storeEvent != null)
            {
                long size = Store(context, args[1], Compute(sources, operation, context.Options.SetMaxIntsetEntries), storeEvent);
                // An intersection with a missing key: Redis's sinterGenericCommand deletes the destination and notifies
                // "del" before its reply (the computed path notifies after it).
                if (operation == SetOperation.Inter && sources.Contains(null)) context.WriteHeldNotifications();
                context.Writer.WriteInteger(size);
                return;
            }
            RespWriter w = context.Writer;
            if (operation == SetOperation.Union && n > 1)
            {
                WriteMembers(w, Compute(sources, operation, context.Options.SetMaxIntsetEntries));
                return;
            }
            // Intersection and difference: count the result, then write it (the sets cannot change under the locks).
            SetValue? driver = operation == SetOperation.Inter ? Smallest(sources) : sources[0];
            if (driver == null)
            {
                w.WriteSetHeader(0);
                return;
            }
            var counter = new Filter(sources, driver, operation, null, null, 0, long.MaxValue);
            driver.ForEach(ref counter);
            w.WriteSetHeader(counter.Matches);
            if (counter.Matches == 0) return;
            var writer = new Filter(sources, driver, operation, w, null, 0, long.MaxValue);
            driver.ForEach(ref writer);
        }
        finally
        {
            sets.AsSpan(0, n).Clear();
            ArrayPool<SetValue?>.Shared.Return(sets);
        }
    }

    /// <summary>
    /// Loads the sets named by <c>args[first..]</c> into <paramref name="sets"/> (null for a missing key); replies WRONGTYPE
    /// and returns false at the first key holding another type. Each is a read lookup (a keyspace hit or miss, a missing key
    /// a <c>keymiss</c> event), the store commands' sources too: Redis 7.0's sinterGenericCommand and sunionDiffGenericCommand
    /// read every source with <c>lookupKeyRead</c>.
    /// </summary>
    private static bool TryLoad(CommandContext context, in CommandArgs args, int first, Span<SetValue?> sets)
    {
        Database db = context.Database;
        for (int i = 0; i < sets.Length; i++)
        {
            KeyEntry? entry = db.Find(args[first + i]);
            context.CountLookup(entry != null, args[first + i]);
            if (!TypedValue.TryGet(context, entry, out sets[i])) return false;
        }
        return true;
    }

    /// <summary>The smallest set, or null when any is missing (an intersection with a missing key is empty).</summary>
    private static SetValue? Smallest(ReadOnlySpan<SetValue?> sets)
    {
        SetValue? smallest = null;
        foreach (SetValue? s in sets)
        {
            if (s == null) return null;
            if (smallest == null || s.Count < smallest.Count) smallest = s;
        }
        return smallest;
    }

    /// <summary>The result of <paramref name="operation"/> over <paramref name="sets"/> as a new set (intset when it qualifies).</summary>
    private static SetValue Compute(ReadOnlySpan<SetValue?> sets, SetOperation operation, long maxIntset)
    {
        var result = new SetValue();
        if (operation == SetOperation.Union)
        {
            var adder = new Filter(sets, null, operation, null, result, maxIntset, long.MaxValue);
            foreach (SetValue? s in sets) s?.ForEach(ref adder);
            return result;
        }
        SetValue? driver = operation == SetOperation.Inter ? Smallest(sets) : sets[0];
        if (driver == null) return result;
        var filter = new Filter(sets, driver, operation, null, result, maxIntset, long.MaxValue);
        driver.ForEach(ref filter);
        return result;
    }

    /// <summary>Stores a computed result under <paramref name="destination"/> (or deletes it when empty); returns its size (the reply). Caller holds the locks.</summary>
    private static long Store(CommandContext context, ReadOnlySpan<byte> destination, SetValue result, KeyEvent storeEvent)
    {
        Database db = context.Database;
        KeySlot slot = db.Locate(destination);
        if (result.Count > 0) db.Set(slot, destination, result, 0, storeEvent);
        else if (db.Find(slot, destination) != null) db.Remove(destination);
        return result.Count;
    }

    /// <summary>
    /// Walks the driving set of an intersection (every other set must hold the member) or a difference (no other set may),
    /// or every set of a union (each member kept): counts what passes, and writes it to a reply or adds it to a result set.
    /// Stops after <c>limit</c> matches (SINTERCARD's LIMIT).
    /// </summary>
    private ref struct Filter(ReadOnlySpan<SetValue?> sets, SetValue? driver, SetOperation operation, RespWriter? writer, SetValue? result,
        long maxIntset, long limit) : IHashVisitor
    {
        private readonly ReadOnlySpan<SetValue?> _sets = sets;

        /// <summary>Members that passed.</summary>
        public long Matches;

        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            if (operation != SetOperation.Union)
            {
                bool inter = operation == SetOperation.Inter;
                for (int i = inter ? 0 : 1; i < _sets.Length; i++)
                {
                    SetValue? other = _sets[i];
                    if (inter ? ReferenceEquals(other, driver) : other == null) continue;
                    if (other!.Contains(member) != inter) return true;
                }
            }
            Matches++;
            writer?.WriteBulkString(member);
            result?.Add(member, maxIntset);
            return Matches < limit;
        }
    }

    /// <summary>
    /// <c>SINTERCARD numkeys key [key ...] [LIMIT limit]</c>: <c>:size</c> of the intersection, counting stops at LIMIT
    /// (0 = no limit). Errors in Redis's order: numkeys not an integer ≥ 1 <c>-ERR numkeys should be greater than 0</c>;
    /// more keys than arguments <c>-ERR Number of keys can't be greater than number of args</c>; LIMIT not an integer ≥ 0
    /// <c>-ERR LIMIT can't be negative</c>; anything else after the keys (LIMIT without a value included)
    /// <c>-ERR syntax error</c>; WRONGTYPE.
    /// </summary>
    private static void SInterCard(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!RespInteger.TryParse(args[1], out long numKeys) || numKeys < 1)
        {
            w.WriteError("ERR numkeys should be greater than 0");
            return;
        }
        if (numKeys > args.Count - 2)
        {
            w.WriteError("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (int i = 2 + (int)numKeys; i < args.Count; i++)
        {
            if (args.Is(i, "LIMIT"u8) && i + 1 < args.Count)
            {
                if (!RespInteger.TryParse(args[++i], out limit) || limit < 0)
                {
                    w.WriteError("ERR LIMIT can't be negative");
                    return;
                }
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        int n = (int)numKeys;
        SetValue?[] sets = ArrayPool<SetValue?>.Shared.Rent(n);
        try
        {
            Span<SetValue?> sources = sets.AsSpan(0, n);
            if (!TryLoad(context, args, 2, sources)) return;
            SetValue? driver = Smallest(sources);
            long matches = 0;
            if (driver != null)
            {
                var counter = new Filter(sources, driver, SetOperation.Inter, null, null, 0, limit == 0 ? long.MaxValue : limit);
                driver.ForEach(ref counter);
                matches = counter.Matches;
            }
            w.WriteInteger(matches);
        }
        finally
        {
            sets.AsSpan(0, n).Clear();
            ArrayPool<SetValue?>.Shared.Return(sets);
        }
    }

    /// <summary>Writes a whole set as a RESP3 set (RESP2 array) in the set's order.</summary>
    private static void WriteMembers(RespWriter w, SetValue set)
    {
        w.WriteSetHeader(set.Count);
        var writer = new MemberWriter(w);
        set.ForEach(ref writer);
    }

    private readonly struct MemberWriter(RespWriter writer) : IHashVisitor
    {
        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            writer.WriteBulkString(member);
            return true;
        }
    }

    /// <summary>
    /// <c>SSCAN key cursor [MATCH pattern] [COUNT count]</c>: <c>*2</c> of the next cursor (a bulk string, "0" when done)
    /// and an array of members (<see cref="OrderedScan"/>).
    /// <para>
    /// An intset is returned whole in one call (cursor 0), as Redis does. A hashtable's cursor is a position in the set's
    /// (hash, member) order ("after member M"): a member present for the whole scan is returned exactly once, whatever
    /// other clients add or remove. One call examines at most COUNT members; MATCH filters what was examined (a call may
    /// return none with a non-zero cursor), as Redis's.
    /// </para>
    /// <para>
    /// Errors, in Redis's order: <c>-ERR invalid cursor</c> (also for a cursor RespKv never issued or has forgotten, as
    /// HSCAN); a missing key replies <c>0</c> and an empty array before options are checked; WRONGTYPE; COUNT not an integer
    /// <c>-ERR value is not an integer or out of range</c>; COUNT below 1, an option without a value or an unknown option
    /// (TYPE included) <c>-ERR syntax error</c>.
    /// </para>
    /// </summary>
    private static void SScan(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!RespInteger.TryParseScanCursor(args[2], out ulong cursor))
        {
            w.WriteError("ERR invalid cursor");
            return;
        }
        if (!TypedValue.TryRead(context, args[1], out SetValue? set)) return;
        if (set == null)
        {
            OrderedScan.WriteHeader(w, 0, 0);
            return;
        }
        if (ScanOptions.TryParse(w, args, 3, allowType: false, out ScanOptions options))
            OrderedScan.Run(w, set, cursor, options, whole: set.IsIntset, withValues: false);
    }
}
