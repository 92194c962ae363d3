using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Hash-field expiry (Redis 7.4: HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT HTTL HPTTL HEXPIRETIME HPEXPIRETIME HPERSIST; Redis 8.0:
/// HGETEX HSETEX HGETDEL), following Redis's <c>t_hash.c</c> (<c>hexpireGenericCommand</c>, <c>httlGenericCommand</c>,
/// <c>hpersistCommand</c>) and the commands' documentation pages (https://redis.io/commands/hexpire and the others).
/// <para>
/// Expiries live in the <see cref="SortedHash"/> itself (<see cref="SortedHash.WithExpireAt"/>: only fields with one pay for
/// it). Per-field reply codes: HEXPIRE family <c>-2</c> no such field (or missing key), <c>0</c> NX/XX/GT/LT not met,
/// <c>1</c> set, <c>2</c> deleted because the time is now or past; HTTL family <c>-2</c> no such field, <c>-1</c> no expiry,
/// else the time; HPERSIST <c>-2</c>, <c>-1</c>, <c>1</c> removed. Argument errors, as Redis:
/// <c>-ERR Mandatory argument FIELDS is missing or not at the right position</c>; numfields not an integer in 1..2^63-1
/// <c>-ERR Parameter `numFields` should be greater than 0</c> (HEXPIRE family) or
/// <c>-ERR Number of fields must be a positive integer</c> (the others);
/// <c>-ERR The `numfields` parameter must match the number of arguments</c>; a negative time
/// <c>-ERR invalid expire time, must be &gt;= 0</c>; a time past 2^48/4 ms <c>-ERR invalid expire time in '&lt;command&gt;' command</c>.
/// A write that meets fields whose expiry passed reclaims them first (logged as <c>HDEL</c>, <c>hexpired</c>); relative
/// times are logged as absolute ones (<c>HPEXPIREAT</c>), fields a time in the past deleted as <c>HDEL</c>.
/// </para>
/// </summary>
public static class HashFieldExpiryCommands
{
    /// <summary>This family's rows (arity, flags and key positions as Redis 7.4/8.0's command JSON files give them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("hexpire", -6, Write | DenyOom | Fast, 1, 1, 1, "hash", "Set expiry for hash field using relative time to expire (seconds)", (CommandContext c, in CommandArgs a) => HExpire(c, a, relative: true, seconds: true)),
        new("hpexpire", -6, Write | DenyOom | Fast, 1, 1, 1, "hash", "Set expiry for hash field using relative time to expire (milliseconds)", (CommandContext c, in CommandArgs a) => HExpire(c, a, relative: true, seconds: false)),
        new("hexpireat", -6, Write | DenyOom | Fast, 1, 1, 1, "hash", "Set expiry for hash field using an absolute Unix timestamp (seconds)", (CommandContext c, in CommandArgs a) => HExpire(c, a, relative: false, seconds: true)),
        new("hpexpireat", -6, Write | DenyOom | Fast, 1, 1, 1, "hash", "Set expiry for hash field using an absolute Unix timestamp (milliseconds)", (CommandContext c, in CommandArgs a) => HExpire(c, a, relative: false, seconds: false)),
        new("httl", -5, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Returns the TTL in seconds of a hash field.", (CommandContext c, in CommandArgs a) => HTtl(c, a, relative: true, seconds: true)),
        new("hpttl", -5, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Returns the TTL in milliseconds of a hash field.", (CommandContext c, in CommandArgs a) => HTtl(c, a, relative: true, seconds: false)),
        new("hexpiretime", -5, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Returns the expiration time of a hash field as a Unix timestamp, in seconds.", (CommandContext c, in CommandArgs a) => HTtl(c, a, relative: false, seconds: true)),
        new("hpexpiretime", -5, ReadOnly | ReadsUnderLock | Fast, 1, 1, 1, "hash", "Returns the expiration time of a hash field as a Unix timestamp, in msec.", (CommandContext c, in CommandArgs a) => HTtl(c, a, relative: false, seconds: false)),
        new("hpersist", -5, Write | Fast, 1, 1, 1, "hash", "Removes the expiration time for each specified field", HPersist),
        new("hgetdel", -5, Write | Fast, 1, 1, 1, "hash", "Returns the value of a field and deletes it from the hash.", HGetDel),
        new("hgetex", -5, Write | Fast, 1, 1, 1, "hash", "Get the value of one or more fields of a given hash key, and optionally set their expiration.", HGetEx),
        new("hsetex", -6, Write | DenyOom | Fast, 1, 1, 1, "hash", "Set the value of one or more fields of a given hash key, and optionally set their expiration.", HSetEx),
    ];

    /// <summary>Redis's largest field expiry: <c>EB_EXPIRE_TIME_MAX &gt;&gt; 2</c> ms (<c>HFE_MAX_ABS_TIME_MSEC</c>).</summary>
    public const long MaxExpireAtMs = ((1L << 48) - 1) >> 2;

    private const string NumFieldsPositive = "ERR Number of fields must be a positive integer";

    /// <summary>
    /// Checks <c>FIELDS numfields field…</c> with the FIELDS token at <paramref name="fieldsAt"/>, each field taking
    /// <paramref name="argsPerField"/> arguments; replies the error and returns false when it is malformed.
    /// <paramref name="first"/> is the first field's index.
    /// </summary>
    private static bool TryParseFields(CommandContext context, in CommandArgs args, int fieldsAt, int argsPerField, string numFieldsError, out int first, out int count)
    {
        first = fieldsAt + 2;
        count = 0;
        RespWriter w = context.Writer;
        if (fieldsAt >= args.Count || !args.Is(fieldsAt, "FIELDS"u8))
        {
            w.WriteError("ERR Mandatory argument FIELDS is missing or not at the right position");
            return false;
        }
        if (fieldsAt + 1 >= args.Count || !RespInteger.TryParse(args[fieldsAt + 1], out long n) || n < 1)
        {
            w.WriteError(numFieldsError);
            return false;
        }
        if (n != (args.Count - first) / (double)argsPerField)
        {
            w.WriteError("ERR The `numfields` parameter must match the number of arguments");
            return false;
        }
        count = (int)n;
        return true;
    }

    /// <summary>Writes <paramref name="count"/> times the integer <paramref name="code"/> as an array (the reply for a missing key).</summary>
    private static void WriteCodes(RespWriter w, int count, long code)
    {
        w.WriteArrayHeader(count);
        for (int i = 0; i < count; i++) w.WriteInteger(code);
    }

    private enum Condition { None, Nx, Xx, Gt, Lt }

    /// <summary>
    /// <c>HEXPIRE key seconds [NX|XX|GT|LT] FIELDS numfields field…</c>, <c>HPEXPIRE</c> (ms), <c>HEXPIREAT</c> (Unix s),
    /// <c>HPEXPIREAT</c> (Unix ms): an array of per-field codes (-2, 0, 1, 2). Checks in Redis's order: WRONGTYPE, the time,
    /// the condition, FIELDS. Events: <c>hexpire</c>, or <c>hdel</c> when a field was deleted (<c>del</c> too when the hash
    /// went empty). Logged as <c>HDEL key field…</c> for the deleted fields and <c>HPEXPIREAT key ms [cond] FIELDS n field…</c>
    /// for the set ones.
    /// </summary>
    private static void HExpire(CommandContext context, in CommandArgs args, bool relative, bool seconds)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        RespWriter w = context.Writer;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = HashCommands.FindLive(db, slot, key);
        if (!TypedValue.TryGet(context, entry, out SortedHash? hash)) return;
        if (!RespInteger.TryParse(args[2], out long time))
        {
            w.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (time < 0)
        {
            w.WriteError("ERR invalid expire time, must be >= 0");
            return;
        }
        long now = db.Lifetime.NowMs;
        if (!TryAbsolute(time, seconds, relative ? now : 0, out long expireAt))
        {
            ExpiryCommands.WriteInvalidExpireTime(context);
            return;
        }
        Condition condition = args.Is(3, "NX"u8) ? Condition.Nx : args.Is(3, "XX"u8) ? Condition.Xx
            : args.Is(3, "GT"u8) ? Condition.Gt : args.Is(3, "LT"u8) ? Condition.Lt : Condition.None;
        int fieldsAt = condition == Condition.None ? 3 : 4;
        if (!TryParseFields(context, args, fieldsAt, 1, "ERR Parameter `numFields` should be greater than 0", out int first, out int count)) return;
        if (hash == null)
        {
            WriteCodes(w, count, -2);
            return;
        }
        w.WriteArrayHeader(count);
        int set = 0, deleted = 0;
        Span<sbyte> codes = count <= 256 ? stackalloc sbyte[count] : new sbyte[count];
        for (int i = 0; i < count; i++)
        {
            long code = SetExpiry(ref hash, args[first + i], expireAt, now, condition);
            codes[i] = (sbyte)code;
            if (code == 1) set++;
            else if (code == 2) deleted++;
            w.WriteInteger(code);
        }
        if (set + deleted == 0) return;
        HashCommands.Store(db, slot, key, entry, hash, deleted > 0 ? KeyEvent.Hdel : KeyEvent.Hexpire);
        PropagationBuffer? log = context.ReplacePropagation();
        if (log == null) return;
        if (deleted > 0)
        {
            log.Begin(db.Index, 2 + deleted).Arg("HDEL"u8).Arg(key);
            for (int i = 0; i < count; i++)
                if (codes[i] == 2) log.Arg(args[first + i]);
        }
        if (set == 0) return;
        log.Begin(db.Index, 5 + set + (condition == Condition.None ? 0 : 1)).Arg("HPEXPIREAT"u8).Arg(key).Arg(expireAt);
        if (condition != Condition.None) log.Arg(args[3]);
        log.Arg("FIELDS"u8).Arg(set);
        for (int i = 0; i < count; i++)
            if (codes[i] == 1) log.Arg(args[first + i]);
    }

    /// <summary>
    /// Converts a command's time (<paramref name="seconds"/> or ms, ≥ 0) plus <paramref name="baseMs"/> (now for a relative
    /// time, 0 for an absolute one) to Unix ms; false past <see cref="MaxExpireAtMs"/> (Redis's checks, in its order).
    /// </summary>
    private static bool TryAbsolute(long time, bool seconds, long baseMs, out long expireAt)
    {
        expireAt = 0;
        if (seconds)
        {
            if (time > MaxExpireAtMs / 1000) return false;
            time *= 1000;
        }
        if (time > MaxExpireAtMs - baseMs) return false;
        expireAt = time + baseMs;
        return true;
    }

    /// <summary>
    /// Redis's <c>hashTypeSetEx</c> for one field: -2 absent, 0 the condition not met (a field without expiry fails XX and
    /// GT; NX fails on any expiry; GT/LT compare with the current one), 2 deleted (the time is now or past), 1 set.
    /// </summary>
    private static long SetExpiry(ref SortedHash hash, ReadOnlySpan<byte> field, long expireAt, long now, Condition condition)
    {
        if (!hash.Contains(field)) return -2;
        if (hash.TryGetExpireAt(field, out long previous))
        {
            if (condition == Condition.Nx || (condition == Condition.Gt && previous >= expireAt) || (condition == Condition.Lt && previous <= expireAt)) return 0;
        }
        else if (condition is Condition.Xx or Condition.Gt) return 0;
        if (SortedHash.IsExpired(expireAt, now))
        {
            hash = hash.Remove(field, out _);
            return 2;
        }
        hash = hash.WithExpireAt(field, expireAt);
        return 1;
    }

    /// <summary>
    /// <c>HTTL key FIELDS numfields field…</c> (seconds left, rounded up), <c>HPTTL</c> (ms left), <c>HEXPIRETIME</c> (Unix s,
    /// rounded up as Redis does), <c>HPEXPIRETIME</c> (Unix ms): per field -2 no such field (or expired), -1 no expiry, else the time.
    /// Lock-free; counts a keyspace hit or miss.
    /// </summary>
    private static void HTtl(CommandContext context, in CommandArgs args, bool relative, bool seconds)
    {
        if (!TypedValue.TryRead(context, args[1], out SortedHash? hash)) return;
        if (!TryParseFields(context, args, 2, 1, NumFieldsPositive, out int first, out int count)) return;
        RespWriter w = context.Writer;
        if (hash == null)
        {
            WriteCodes(w, count, -2);
            return;
        }
        long now = hash.HasFieldExpiries ? context.Database.Lifetime.NowMs : 0;
        long baseMs = relative ? now : 0;
        w.WriteArrayHeader(count);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> field = args[first + i];
            if (!hash.Contains(field)) w.WriteInteger(-2);
            else if (!hash.TryGetExpireAt(field, out long at)) w.WriteInteger(-1);
            else if (SortedHash.IsExpired(at, now)) w.WriteInteger(-2);
            else w.WriteInteger(seconds ? (at + 999 - baseMs) / 1000 : at - baseMs);
        }
    }

    /// <summary>
    /// <c>HPERSIST key FIELDS numfields field…</c>: per field -2 no such field, -1 no expiry, 1 expiry removed. Event
    /// <c>hpersist</c> when any was removed.
    /// </summary>
    private static void HPersist(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = HashCommands.FindLive(db, slot, key);
        if (!TypedValue.TryGet(context, entry, out SortedHash? hash)) return;
        if (!TryParseFields(context, args, 2, 1, NumFieldsPositive, out int first, out int count)) return;
        RespWriter w = context.Writer;
        if (hash == null)
        {
            WriteCodes(w, count, -2);
            return;
        }
        w.WriteArrayHeader(count);
        bool changed = false;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> field = args[first + i];
            if (!hash.Contains(field)) w.WriteInteger(-2);
            else if (!hash.TryGetExpireAt(field, out _)) w.WriteInteger(-1);
            else
            {
                hash = hash.WithoutExpireAt(field);
                changed = true;
                w.WriteInteger(1);
            }
        }
        if (changed) HashCommands.Store(db, slot, key, entry, hash, KeyEvent.Hpersist);
    }

    /// <summary>
    /// <c>HGETDEL key FIELDS numfields field…</c> (Redis 8.0): the values (null for missing fields), then deletes those
    /// fields; the key goes with its last field. Event <c>hdel</c> (and <c>del</c>); logged as the request (deterministic).
    /// </summary>
    private static void HGetDel(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = HashCommands.FindLive(db, slot, key);
        if (!TypedValue.TryGet(context, entry, out SortedHash? hash)) return;
        if (!TryParseFields(context, args, 2, 1, NumFieldsPositive, out int first, out int count)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(count);
        int deleted = 0;
        for (int i = 0; i < count; i++)
        {
            if (hash != null && hash.TryGet(args[first + i], out ReadOnlySpan<byte> value))
            {
                w.WriteBulkString(value);
                hash = hash.Remove(args[first + i], out _);
                deleted++;
            }
            else w.WriteNullBulkString();
        }
        if (deleted > 0) HashCommands.Store(db, slot, key, entry, hash!, KeyEvent.Hdel);
    }

    private enum TimeOption { None, Ex, Px, ExAt, PxAt, Persist, KeepTtl }

    /// <summary>
    /// Parses the options before <c>FIELDS</c> from index 2: one time option (PERSIST for HGETEX, KEEPTTL for HSETEX, when <paramref name="setex"/>) and, for HSETEX,
    /// FNX or FXX. Errors: a second time option <c>-ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL|PERSIST arguments can be
    /// specified</c>, a second FNX/FXX <c>-ERR Only one of FXX or FNX arguments can be specified</c>, a time not an integer
    /// <c>-ERR value is not an integer or out of range</c>, negative or too large <c>-ERR invalid expire time in '…' command</c>,
    /// any other word <c>-ERR syntax error</c>. Returns the index of FIELDS (or where it should be).
    /// </summary>
    private static bool TryParseTimeOptions(CommandContext context, in CommandArgs args, bool setex, out TimeOption option, out long expireAt, out Condition condition, out int fieldsAt)
    {
        RespWriter w = context.Writer;
        option = TimeOption.None;
        expireAt = 0;
        condition = Condition.None;
        string only = setex ? "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified" : "ERR Only one of EX, PX, EXAT, PXAT or PERSIST arguments can be specified";
        int i = 2;
        for (; i < args.Count && !args.Is(i, "FIELDS"u8); i++)
        {
            if (setex && (args.Is(i, "FNX"u8) || args.Is(i, "FXX"u8)))
            {
                if (condition != Condition.None)
                {
                    w.WriteError("ERR Only one of FXX or FNX arguments can be specified");
                    fieldsAt = i;
                    return false;
                }
                condition = args.Is(i, "FNX"u8) ? Condition.Nx : Condition.Xx;
                continue;
            }
            TimeOption parsed = args.Is(i, "EX"u8) ? TimeOption.Ex : args.Is(i, "PX"u8) ? TimeOption.Px
                : args.Is(i, "EXAT"u8) ? TimeOption.ExAt : args.Is(i, "PXAT"u8) ? TimeOption.PxAt
                : !setex && args.Is(i, "PERSIST"u8) ? TimeOption.Persist : setex && args.Is(i, "KEEPTTL"u8) ? TimeOption.KeepTtl : TimeOption.None;
            if (parsed == TimeOption.None)
            {
                w.WriteError(CommandErrors.Syntax);
                fieldsAt = i;
                return false;
            }
            if (option != TimeOption.None)
            {
                w.WriteError(only);
                fieldsAt = i;
                return false;
            }
            option = parsed;
            if (parsed is TimeOption.Persist or TimeOption.KeepTtl) continue;
            if (++i >= args.Count || !RespInteger.TryParse(args[i], out long time))
            {
                w.WriteError(i >= args.Count ? CommandErrors.Syntax : CommandErrors.NotInteger);
                fieldsAt = i;
                return false;
            }
            bool relative = parsed is TimeOption.Ex or TimeOption.Px;
            if (time < 0 || !TryAbsolute(time, parsed is TimeOption.Ex or TimeOption.ExAt, relative ? context.Database.Lifetime.NowMs : 0, out expireAt))
            {
                ExpiryCommands.WriteInvalidExpireTime(context);
                fieldsAt = i;
                return false;
            }
        }
        fieldsAt = i;
        return true;
    }

    /// <summary>
    /// <c>HGETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] FIELDS numfields field…</c> (Redis 8.0): the values (null for
    /// missing fields); with a time, each existing field gets that expiry (deleted when the time is now or past), with
    /// PERSIST loses its expiry. Events <c>hexpire</c>, <c>hpersist</c> or <c>hdel</c> (and <c>del</c>). Logged as
    /// <c>HPEXPIREAT</c>, <c>HPERSIST</c> or <c>HDEL</c> of the fields it changed.
    /// </summary>
    private static void HGetEx(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = HashCommands.FindLive(db, slot, key);
        if (!TypedValue.TryGet(context, entry, out SortedHash? hash)) return;
        if (!TryParseTimeOptions(context, args, setex: false, out TimeOption option, out long expireAt, out _, out int fieldsAt)) return;
        if (!TryParseFields(context, args, fieldsAt, 1, NumFieldsPositive, out int first, out int count)) return;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(count);
        long now = db.Lifetime.NowMs;
        bool delete = option is not (TimeOption.None or TimeOption.Persist) && SortedHash.IsExpired(expireAt, now);
        int changed = 0;
        PropagationBuffer? log = null;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> field = args[first + i];
            if (hash == null || !hash.TryGet(field, out ReadOnlySpan<byte> value))
            {
                w.WriteNullBulkString();
                continue;
            }
            w.WriteBulkString(value);
            if (option == TimeOption.None) continue;
            if (option == TimeOption.Persist)
            {
                if (!hash.TryGetExpireAt(field, out _)) continue;
                hash = hash.WithoutExpireAt(field);
            }
            else hash = delete ? hash.Remove(field, out _) : hash.WithExpireAt(field, expireAt);
            changed++;
        }
        if (changed == 0) return;
        KeyEvent keyEvent = option == TimeOption.Persist ? KeyEvent.Hpersist : delete ? KeyEvent.Hdel : KeyEvent.Hexpire;
        SortedHash before = (SortedHash)entry!.Value;
        HashCommands.Store(db, slot, key, entry, hash!, keyEvent);
        log = context.ReplacePropagation();
        if (log == null) return;
        // The effect, from the fields this command changed (present before, and for PERSIST with an expiry).
        ReadOnlySpan<byte> name = option == TimeOption.Persist ? "HPERSIST"u8 : delete ? "HDEL"u8 : "HPEXPIREAT"u8;
        int header = option == TimeOption.Persist ? 4 : delete ? 2 : 5;
        log.Begin(db.Index, header + changed).Arg(name).Arg(key);
        if (!delete && option != TimeOption.Persist) log.Arg(expireAt);
        if (!delete) log.Arg("FIELDS"u8).Arg(changed);
        for (int i = 0, logged = 0; i < count && logged < changed; i++)
        {
            ReadOnlySpan<byte> field = args[first + i];
            if (!before.Contains(field) || (option == TimeOption.Persist && !before.TryGetExpireAt(field, out _))) continue;
            if (IsRepeat(args, first, i)) continue;
            log.Arg(field);
            logged++;
        }
    }

    /// <summary>True when field argument <paramref name="i"/> repeats an earlier one of the same list.</summary>
    private static bool IsRepeat(in CommandArgs args, int first, int i)
    {
        for (int j = 0; j < i; j++)
            if (args[first + j].SequenceEqual(args[first + i])) return true;
        return false;
    }

    /// <summary>
    /// <c>HSETEX key [FNX|FXX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] FIELDS numfields field value…</c> (Redis 8.0): <c>:1</c>
    /// when every field was set, <c>:0</c> when FNX (a field exists) or FXX (a field is missing, or the key) stopped it. Set
    /// fields lose their expiry unless KEEPTTL, then take the given one (a time now or past deletes them). Events <c>hset</c>
    /// then <c>hexpire</c> (or <c>hdel</c>, and <c>del</c>). A relative time is logged as <c>PXAT</c>, a past one as <c>HDEL</c>.
    /// </summary>
    private static void HSetEx(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = HashCommands.FindLive(db, slot, key);
        if (!TypedValue.TryGet(context, entry, out SortedHash? hash)) return;
        if (!TryParseTimeOptions(context, args, setex: true, out TimeOption option, out long expireAt, out Condition condition, out int fieldsAt)) return;
        if (!TryParseFields(context, args, fieldsAt, 2, NumFieldsPositive, out int first, out int count)) return;
        RespWriter w = context.Writer;
        for (int i = 0; i < count && condition != Condition.None; i++)
        {
            bool exists = hash != null && hash.Contains(args[first + 2 * i]);
            if (exists == (condition == Condition.Nx))
            {
                w.WriteInteger(0);
                return;
            }
        }
        hash ??= SortedHash.Empty;
        long now = db.Lifetime.NowMs;
        bool timed = option is not (TimeOption.None or TimeOption.KeepTtl);
        bool delete = timed && SortedHash.IsExpired(expireAt, now);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> field = args[first + 2 * i];
            hash = hash.Set(field, args[first + 2 * i + 1], keepExpiry: option == TimeOption.KeepTtl, out _);
            if (timed) hash = delete ? hash.Remove(field, out _) : hash.WithExpireAt(field, expireAt);
        }
        if (delete)
        {
            // Set and at once expired: the fields are gone (Redis deletes them and logs HDEL).
            HashCommands.Store(db, slot, key, entry, hash, KeyEvent.Hdel);
            PropagationBuffer? hdel = context.ReplacePropagation();
            hdel?.Begin(db.Index, 2 + count).Arg("HDEL"u8).Arg(key);
            for (int i = 0; i < count; i++) hdel?.Arg(args[first + 2 * i]);
        }
        else
        {
            HashCommands.Store(db, slot, key, entry, hash, KeyEvent.Hset);
            if (timed) db.Announce(slot, key, KeyEvent.Hexpire);
            if (option is TimeOption.Ex or TimeOption.Px)
            {
                // The request with its relative time made absolute.
                PropagationBuffer? log = context.ReplacePropagation();
                if (log != null)
                {
                    log.Begin(db.Index, args.Count);
                    for (int i = 0; i < args.Count; i++)
                    {
                        if (i >= 2 && i < fieldsAt && (args.Is(i, "EX"u8) || args.Is(i, "PX"u8)))
                        {
                            log.Arg("PXAT"u8).Arg(expireAt);
                            i++;
                        }
                        else log.Arg(args[i]);
                    }
                }
            }
        }
        w.WriteInteger(1);
    }
}
