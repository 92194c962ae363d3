using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Hash commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=hash): HSET HSETNX
/// HGET HMGET HMSET HGETALL HDEL HLEN HEXISTS HKEYS HVALS HSTRLEN HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. Fields whose expiry
/// passed (<see cref="HashFieldExpiryCommands"/>) are invisible to every read but HLEN (as Redis 7.4) and reclaimed by writes:
/// HSET, HMSET and HSETNX clear a field's expiry, HINCRBY and HINCRBYFLOAT keep it.
/// <para>
/// Values are <see cref="SortedHash"/>es: fields in unsigned byte order, so HGETALL, HKEYS, HVALS and HSCAN
/// list fields sorted (Redis's order is unspecified). Writes change the stored hash in place under the key's shard lock
/// (<see cref="HashWrite"/>) and reads hold that lock too (<see cref="ReadsUnderLock"/>). Deleting the last field deletes the key. Read commands count a keyspace hit
/// or miss; writes do not (Redis's <c>lookupKeyWrite</c>).
/// </para>
/// </summary>
public static class HashCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("hset", -4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "hash", "Set the string value of a hash field", (CommandContext c, in CommandArgs a) => HSet(c, a, reply: SetReply.Added)),
        new("hmset", -4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "hash", "Set multiple hash fields to multiple values", (CommandContext c, in CommandArgs a) => HSet(c, a, reply: SetReply.Ok)),
        new("hsetnx", 4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "hash", "Set the value of a hash field, only if the field does not exist", HSetNx),
        new("hget", 3, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Get the value of a hash field", HGet),
        new("hmget", -3, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Get the values of all the given hash fields", HMGet),
        new("hgetall", 2, ReadOnly | ReadsUnderLock, 1, 1, 1, "hash", "Get all the fields and values in a hash", (CommandContext c, in CommandArgs a) => HGetAll(c, a, Listing.Pairs)),
        new("hkeys", 2, ReadOnly | ReadsUnderLock, 1, 1, 1, "hash", "Get all the fields in a hash", (CommandContext c, in CommandArgs a) => HGetAll(c, a, Listing.Fields)),
        new("hvals", 2, ReadOnly | ReadsUnderLock, 1, 1, 1, "hash", "Get all the values in a hash", (CommandContext c, in CommandArgs a) => HGetAll(c, a, Listing.Values)),
        new("hdel", -3, Write | Fast, 1, 1, 1, "hash", "Delete one or more hash fields", HDel),
        new("hlen", 2, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Get the number of fields in a hash", HLen),
        new("hexists", 3, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Determine if a hash field exists", HExists),
        new("hstrlen", 3, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Get the length of the value of a hash field", HStrLen),
        new("hincrby", 4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "hash", "Increment the integer value of a hash field by the given number", HIncrBy),
        new("hincrbyfloat", 4, Write | DenyOom | Fast | RepliesBeforeNotifying, 1, 1, 1, "hash", "Increment the float value of a hash field by the given amount", HIncrByFloat),
        new("hrandfield", -2, ReadOnly | ReadsUnderLock, 1, 1, 1, "hash", "Get one or multiple random fields from a hash", HRandField),
        new("hscan", -3, ReadOnly | ReadsUnderLock, 1, 1, 1, "hash", "Incrementally iterate hash fields and associated values", HScan),
    ];

    /// <summary>
    /// Reads a hash (under its shard lock: <see cref="ReadsUnderLock"/>) as reads see it: without the fields whose expiry passed (not yet reclaimed); null when the key
    /// is missing or every field has expired. Replies WRONGTYPE and returns false for another type. Reads the clock only
    /// for a hash with field expiries, and allocates only when one of them has passed.
    /// </summary>
    private static bool TryReadHash(CommandContext context, ReadOnlySpan<byte> key, out SortedHash? hash)
    {
        if (!TypedValue.TryRead(context, key, out hash)) return false;
        if (hash is { HasFieldExpiries: true })
        {
            hash = hash.WithoutExpired(context.Database.Lifetime.NowMs);
            if (hash.Count == 0) hash = null;
        }
        return true;
    }

    /// <summary>
    /// A write's lookup of <paramref name="key"/>: its entry after reclaiming the hash's expired fields (Redis's lazy field
    /// expiry on write: logged as <c>HDEL</c>, <c>hexpired</c>, the key deleted when none is left). Caller holds the shard lock.
    /// </summary>
    internal static KeyEntry? FindLive(Database db, in KeySlot slot, ReadOnlySpan<byte> key) => db.ReclaimExpiredFields(slot, db.Find(slot, key));

    private static bool TryHash(CommandContext context, KeyEntry? entry, out SortedHash? hash) =>
        TypedValue.TryGet(context, entry, out hash);

    /// <summary>
    /// Publishes <paramref name="hash"/> as <paramref name="key"/>'s value (keeping its expiry), announced as
    /// <paramref name="keyEvent"/> (<c>hset</c>, <c>hdel</c>, <c>hincrby</c>…), or — the hash left empty — announces the
    /// event and deletes the key (<c>del</c>), as Redis does. Caller holds the shard lock.
    /// </summary>
    internal static void Store(Database db, in KeySlot slot, ReadOnlySpan<byte> key, KeyEntry? entry, SortedHash hash, KeyEvent keyEvent)
    {
        if (hash.Count == 0)
        {
            if (entry == null) return;
            db.Mutated(slot, key, keyEvent);
            db.Remove(key);
        }
        else db.Set(slot, key, hash, entry?.ExpireAtMs ?? 0, keyEvent);
    }

    /// <summary>
    /// A write's view of the hash stored at a key (caller holds the shard lock): <see cref="Hash"/> is the stored hash itself,
    /// changed in place with <see cref="SortedHash.Put"/> and <see cref="SortedHash.Delete"/> and announced by <see cref="Commit"/>
    /// with its growth — unless it carries field expiries, whose queue follows new versions: then <see cref="Hash"/> is a copy
    /// (<see cref="SortedHash.Snapshot"/>, O(1)) that <see cref="Commit"/> stores in its place (<see cref="Store"/>). A missing
    /// key gets a new hash, stored by <see cref="Commit"/> unless it stayed empty.
    /// </summary>
    internal readonly struct HashWrite
    {
        /// <summary>The hash to change.</summary>
        public readonly SortedHash Hash;
        private readonly bool _inPlace;
        private readonly long _bytes, _memory;

        /// <summary>Starts a write of <paramref name="stored"/> (null: the key is missing).</summary>
        public HashWrite(SortedHash? stored)
        {
            _inPlace = stored is { HasFieldExpiries: false };
            Hash = _inPlace ? stored! : stored?.Snapshot() ?? SortedHash.CreateEmpty();
            if (!_inPlace) return;
            _bytes = stored!.Bytes;
            _memory = HashKind.Estimate(stored);
        }

        /// <summary>Publishes the change as <paramref name="keyEvent"/>; a hash left empty deletes the key (<c>del</c>), as Redis.</summary>
        public void Commit(Database db, in KeySlot slot, ReadOnlySpan<byte> key, KeyEntry? entry, KeyEvent keyEvent)
        {
            if (!_inPlace)
            {
                Store(db, slot, key, entry, Hash, keyEvent);
                return;
            }
            db.Mutated(slot, key, keyEvent, Hash.Bytes - _bytes, HashKind.Estimate(Hash) - _memory);
            if (Hash.Count == 0) db.Remove(key);
        }
    }

    private enum SetReply { Added, Ok }

    /// <summary><c>HSET key field value [field value ...]</c> (<c>:added</c>) and <c>HMSET</c> (<c>+OK</c>); an odd pair count is an arity error.</summary>
    private static void HSet(CommandContext context, in CommandArgs args, SetReply reply)
    {
        if (args.Count % 2 != 0)
        {
            context.WriteArityError();
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        long added = 0;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = FindLive(db, slot, key);
        if (!TryHash(context, entry, out SortedHash? stored)) return;
        var write = new HashWrite(stored);
        for (int i = 2; i < args.Count; i += 2)
        {
            if (write.Hash.Put(args[i], args[i + 1])) added++;
        }
        write.Commit(db, slot, key, entry, KeyEvent.Hset);
        if (reply == SetReply.Ok) context.Writer.WriteOk();
        else context.Writer.WriteInteger(added);
    }

    /// <summary><c>HSETNX key field value</c>: <c>:1</c> when set, <c>:0</c> when the field exists.</summary>
    private static void HSetNx(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = FindLive(db, slot, key);
        if (!TryHash(context, entry, out SortedHash? stored)) return;
        if (stored != null && stored.Contains(args[2]))
        {
            context.Writer.WriteInteger(0);
            return;
        }
        var write = new HashWrite(stored);
        write.Hash.Put(args[2], args[3]);
        write.Commit(db, slot, key, entry, KeyEvent.Hset);
        context.Writer.WriteInteger(1);
    }

    /// <summary><c>HGET key field</c>: the value, or a null bulk string when the key or field is missing.</summary>
    private static void HGet(CommandContext context, in CommandArgs args)
    {
        if (!TryReadHash(context, args[1], out SortedHash? hash)) return;
        if (hash != null && hash.TryGet(args[2], out ReadOnlySpan<byte> value)) context.Writer.WriteBulkString(value);
        else context.Writer.WriteNullBulkString();
    }

    /// <summary><c>HMGET key field [field ...]</c>: an array of values, null for each missing field (all null for a missing key).</summary>
    private static void HMGet(CommandContext context, in CommandArgs args)
    {
        if (!TryReadHash(context, args[1], out SortedHash? hash)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (hash != null && hash.TryGet(args[i], out ReadOnlySpan<byte> value)) w.WriteBulkString(value);
            else w.WriteNullBulkString();
        }
    }

    private enum Listing { Pairs, Fields, Values }

    /// <summary>Writes each visited field and/or value.</summary>
    private struct ListingWriter(RespWriter writer, Listing listing) : IHashVisitor
    {
        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            if (listing != Listing.Values) writer.WriteBulkString(field);
            if (listing != Listing.Fields) writer.WriteBulkString(value);
            return true;
        }
    }

    /// <summary>
    /// <c>HGETALL key</c> (field, value, … — a RESP3 map), <c>HKEYS key</c>, <c>HVALS key</c>: in field order;
    /// an empty array (map) for a missing key.
    /// </summary>
    private static void HGetAll(CommandContext context, in CommandArgs args, Listing listing)
    {
        if (!TryReadHash(context, args[1], out SortedHash? hash)) return;
        RespWriter w = context.Writer;
        long count = hash?.Count ?? 0;
        if (listing == Listing.Pairs) w.WriteMapHeader(count);
        else w.WriteArrayHeader(count);
        if (hash == null) return;
        var writer = new ListingWriter(w, listing);
        hash.ForEach(ref writer);
    }

    /// <summary><c>HDEL key field [field ...]</c>: <c>:n</c> fields removed; the key goes when its last field does.</summary>
    private static void HDel(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        long removed = 0;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = FindLive(db, slot, key);
        if (!TryHash(context, entry, out SortedHash? stored)) return;
        if (stored != null)
        {
            var write = new HashWrite(stored);
            for (int i = 2; i < args.Count && write.Hash.Count > 0; i++)
            {
                if (write.Hash.Delete(args[i])) removed++;
            }
            if (removed > 0) write.Commit(db, slot, key, entry, KeyEvent.Hdel);
        }
        context.Writer.WriteInteger(removed);
    }

    /// <summary>
    /// <c>HLEN key</c>: <c>:fields</c>, 0 for a missing key. Fields whose expiry passed count until they are reclaimed (by
    /// the active cycle or a write), as Redis 7.4's <c>hlenCommand</c> (<c>hashTypeLength(o, 0)</c>): O(1).
    /// </summary>
    private static void HLen(CommandContext context, in CommandArgs args)
    {
        if (TypedValue.TryRead(context, args[1], out SortedHash? hash)) context.Writer.WriteInteger(hash?.Count ?? 0);
    }

    /// <summary><c>HEXISTS key field</c>: <c>:1</c> or <c>:0</c>.</summary>
    private static void HExists(CommandContext context, in CommandArgs args)
    {
        if (TryReadHash(context, args[1], out SortedHash? hash)) context.Writer.WriteInteger(hash != null && hash.Contains(args[2]) ? 1 : 0);
    }

    /// <summary><c>HSTRLEN key field</c>: the value's length in bytes, 0 when missing.</summary>
    private static void HStrLen(CommandContext context, in CommandArgs args)
    {
        if (!TryReadHash(context, args[1], out SortedHash? hash)) return;
        context.Writer.WriteInteger(hash != null && hash.TryGet(args[2], out ReadOnlySpan<byte> value) ? value.Length : 0);
    }

    /// <summary>
    /// <c>HINCRBY key field increment</c>: <c>:new value</c>. Errors in Redis's order: increment not an
    /// integer <c>-ERR value is not an integer or out of range</c>; WRONGTYPE; current value not an integer
    /// <c>-ERR hash value is not an integer</c>; <c>-ERR increment or decrement would overflow</c>.
    /// </summary>
    private static void HIncrBy(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[3], out long by))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        ReadOnlySpan<byte> key = args[1], field = args[2];
        Database db = context.Database;
        long result;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = FindLive(db, slot, key);
        if (!TryHash(context, entry, out SortedHash? stored)) return;
        long current = 0;
        if (stored != null && stored.TryGet(field, out ReadOnlySpan<byte> old) && !RespInteger.TryParse(old, out current))
        {
            context.Writer.WriteError("ERR hash value is not an integer");
            return;
        }
        if (StringCommands.SumOverflows(current, by))
        {
            context.Writer.WriteError("ERR increment or decrement would overflow");
            return;
        }
        result = current + by;
        Span<byte> digits = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(result, digits, out int n);
        var write = new HashWrite(stored);
        write.Hash.Put(field, digits[..n], keepExpiry: true);
        write.Commit(db, slot, key, entry, KeyEvent.Hincrby);
        context.Writer.WriteInteger(result);
    }

    /// <summary>
    /// <c>HINCRBYFLOAT key field increment</c>: the new value as a bulk string, computed and printed as Redis's
    /// x87 long double (<see cref="LongDouble"/>, as INCRBYFLOAT). Errors in Redis's order: increment not a
    /// float <c>-ERR value is not a valid float</c>; increment infinite <c>-ERR value is NaN or Infinity</c>;
    /// WRONGTYPE; current value not a float <c>-ERR hash value is not a float</c>; the sum infinite
    /// <c>-ERR increment would produce NaN or Infinity</c>.
    /// </summary>
    private static void HIncrByFloat(CommandContext context, in CommandArgs args)
    {
        if (!LongDouble.TryParse(args[3], out LongDouble increment))
        {
            context.Writer.WriteError(CommandErrors.NotFloat);
            return;
        }
        if (increment.IsInfinity)
        {
            context.Writer.WriteError("ERR value is NaN or Infinity");
            return;
        }
        ReadOnlySpan<byte> key = args[1], field = args[2];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = FindLive(db, slot, key);
        if (!TryHash(context, entry, out SortedHash? stored)) return;
        ReadOnlySpan<byte> current = stored != null && stored.TryGet(field, out ReadOnlySpan<byte> old) ? old : "0"u8;
        if (!LongDouble.TryParse(current, out _))
        {
            context.Writer.WriteError("ERR hash value is not a float");
            return;
        }
        string? text = StringCommands.FloatSum(current, args[3], out string? error);
        if (text == null)
        {
            context.Writer.WriteError(error!);
            return;
        }
        byte[] value = Encoding.ASCII.GetBytes(text);
        var write = new HashWrite(stored);
        write.Hash.Put(field, value, keepExpiry: true);
        write.Commit(db, slot, key, entry, KeyEvent.Hincrbyfloat);
        // Logged as its result, as Redis does (hincrbyfloatCommand rewrites it to HSET key field value).
        context.ReplacePropagation()?.Begin(db.Index, 4).Arg("HSET"u8).Arg(key).Arg(field).Arg(value);
        context.Writer.WriteBulkString(value);
    }

    /// <summary>
    /// <c>HRANDFIELD key [count [WITHVALUES]]</c> (Redis 7.0's <c>hrandfieldCommand</c>).
    /// <list type="bullet">
    /// <item>No count: one random field as a bulk string; a null bulk string for a missing key.</item>
    /// <item>count 0 or a missing key: an empty array.</item>
    /// <item>Negative count: |count| fields chosen independently (repeats possible).</item>
    /// <item>Positive count ≥ HLEN: the whole hash (field order). Positive count &lt; HLEN: count distinct random fields.</item>
    /// <item>WITHVALUES: RESP2 a flat field, value, … array; RESP3 an array of [field, value] pairs.</item>
    /// </list>
    /// Errors: count not an integer <c>-ERR value is not an integer or out of range</c>; count = -2^63
    /// <c>-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807</c>;
    /// with WITHVALUES |count| &gt; 2^62 <c>-ERR value is out of range</c>; a fourth argument other than
    /// WITHVALUES, or more arguments, <c>-ERR syntax error</c>. See <see cref="RandomPicks.MaxRepeats"/> for RespKv's one difference.
    /// </summary>
    private static void HRandField(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (args.Count == 2)
        {
            if (!TryReadHash(context, args[1], out SortedHash? single)) return;
            if (single == null)
            {
                w.WriteNullBulkString();
                return;
            }
            single.ElementAt(Random.Shared.NextInt64(single.Count), out ReadOnlySpan<byte> field, out _);
            w.WriteBulkString(field);
            return;
        }
        if (!RandomPicks.TryParseCount(w, args, "WITHVALUES"u8, out long count, out bool withValues)) return;
        if (!TryReadHash(context, args[1], out SortedHash? hash)) return;
        if (hash == null || count == 0)
        {
            w.WriteArrayHeader(0);
            return;
        }
        var picks = new FieldPicks(w, hash, withValues);
        RandomPicks.Write(w, hash.Count, count, withValues && w.Protocol < 3, ref picks);
    }

    /// <summary>Writes the field (and value) at a rank, a RESP3 pair when with values.</summary>
    private readonly struct FieldPicks(RespWriter w, SortedHash hash, bool withValues) : IRankWriter
    {
        public void WriteRank(long rank)
        {
            hash.ElementAt(rank, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value);
            if (withValues && w.Protocol >= 3) w.WriteArrayHeader(2);
            w.WriteBulkString(field);
            if (withValues) w.WriteBulkString(value);
        }
    }

    /// <summary>
    /// <c>HSCAN key cursor [MATCH pattern] [COUNT count]</c>: <c>*2</c> of the next cursor (a bulk string, "0"
    /// when done) and a flat field, value, … array, in field order.
    /// <para>
    /// The cursor is a position in field order ("after field F"), issued by <see cref="HashScanCursors"/>: a
    /// field present for the whole scan is returned exactly once, whatever other clients insert or delete.
    /// One call examines at most COUNT fields (all of them for a hash Redis would keep as a listpack,
    /// <see cref="SortedHash.IsSmall"/>, as Redis does); MATCH filters what was examined, so a call may return fewer, even none, with a non-zero
    /// cursor. A MATCH pattern with a literal prefix (<c>user:42:*</c>) seeks straight to the prefix and ends
    /// the scan at the first field past it: O(log n + matches), only fields with the prefix are examined.
    /// </para>
    /// <para>
    /// Errors, in Redis's order: <c>-ERR invalid cursor</c> (also for a cursor RespKv never issued or has
    /// forgotten — an intentional difference: Redis treats those as undefined behaviour); a missing key
    /// replies <c>0</c> and an empty array before options are checked; WRONGTYPE; COUNT not an integer
    /// <c>-ERR value is not an integer or out of range</c>; COUNT below 1, an option without a value or an
    /// unknown option (TYPE included) <c>-ERR syntax error</c>.
    /// </para>
    /// </summary>
    private static void HScan(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        if (!RespInteger.TryParseScanCursor(args[2], out ulong cursor))
        {
            w.WriteError("ERR invalid cursor");
            return;
        }
        if (!TryReadHash(context, args[1], out SortedHash? hash)) return;
        if (hash == null)
        {
            WriteScanReply(w, 0, 0);
            return;
        }
        if (!ScanOptions.TryParse(w, args, 3, allowType: false, out ScanOptions options)) return;
        ReadOnlySpan<byte> pattern = options.Pattern;
        bool usePattern = options.UsePattern;

        Span<byte> inline = stackalloc byte[HashScanCursors.MaxInlineLength];
        scoped ReadOnlySpan<byte> after = default;
        if (cursor != 0 && !HashScanCursors.Shared.TryResolve(cursor, inline, out after))
        {
            w.WriteError("ERR invalid cursor");
            return;
        }
        ReadOnlySpan<byte> prefix = usePattern ? GlobPattern.LiteralPrefix(pattern) : default;
        // Start strictly after the cursor's field, or at the prefix when that lies further on.
        bool exclusive = cursor != 0;
        scoped ReadOnlySpan<byte> start = after;
        if (!exclusive || prefix.SequenceCompareTo(after) > 0)
        {
            start = prefix;
            exclusive = false;
        }
        long budget = hash.IsSmall ? hash.Count : options.Count;

        // Pass 1 counts the matches and finds where this call stops; pass 2 writes the same fields. The command holds
        // the key's shard lock (ReadsUnderLock), so both passes see the same fields.
        var counter = new ScanStep(pattern, usePattern, prefix, budget, null);
        hash.ForEachFrom(start, exclusive, ref counter);
        ulong next = counter.Finished ? 0 : HashScanCursors.Shared.Save(counter.LastField);
        WriteScanReply(w, next, counter.Matches * 2);
        if (counter.Matches == 0) return;
        var writer = new ScanStep(pattern, usePattern, prefix, budget, w);
        hash.ForEachFrom(start, exclusive, ref writer);
    }

    private static void WriteScanReply(RespWriter w, ulong cursor, long elements)
    {
        w.WriteArrayHeader(2);
        w.WriteBulkString((long)cursor);
        w.WriteArrayHeader(elements);
    }

    /// <summary>One HSCAN call's walk: examines up to a budget of fields, stops at the end of the prefix range, counts or writes matches.</summary>
    private ref struct ScanStep(ReadOnlySpan<byte> pattern, bool usePattern, ReadOnlySpan<byte> prefix, long budget, RespWriter? writer) : IHashVisitor
    {
        private readonly ReadOnlySpan<byte> _pattern = pattern;
        private readonly ReadOnlySpan<byte> _prefix = prefix;
        private long _budget = budget;

        /// <summary>Fields that matched.</summary>
        public long Matches;

        /// <summary>The last field examined (where the next call resumes, strictly after it).</summary>
        public ReadOnlySpan<byte> LastField;

        /// <summary>True when no field after <see cref="LastField"/> can be returned: the hash or the prefix range ended.</summary>
        public bool Finished = true;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            // Fields are sorted: the first field without the prefix ends the prefix's range (and the scan).
            if (!field.StartsWith(_prefix)) return false;
            if (_budget == 0)
            {
                Finished = false;
                return false;
            }
            _budget--;
            LastField = field;
            if (usePattern && !GlobPattern.IsMatch(_pattern, field)) return true;
            Matches++;
            if (writer != null)
            {
                writer.WriteBulkString(field);
                writer.WriteBulkString(value);
            }
            return true;
        }
    }
}
