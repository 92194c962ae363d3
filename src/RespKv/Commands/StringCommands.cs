using System.Buffers.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// String commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=string):
/// GET SET MSET MGET MSETNX SETNX GETSET GETDEL APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT
/// SETRANGE GETRANGE SUBSTR. Single-key writes lock the key's shard; MSET and MSETNX lock all their
/// shards at once (all-or-nothing); MGET reads under the seqlock so it never sees half of an MSET.
/// </summary>
public static class StringCommands
{
    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("get", 2, ReadOnly | Fast, 1, 1, 1, "string", "Get the value of a key", Get),
        new("set", -3, Write | DenyOom, 1, 1, 1, "string", "Set the string value of a key", Set) { VariableKeyFlags = SetKeyFlags },
        new("setex", 4, Write | DenyOom, 1, 1, 1, "string", "Set the value and expiration of a key", (CommandContext c, in CommandArgs a) => SetEx(c, a, StringOptions.Ex)),
        new("psetex", 4, Write | DenyOom, 1, 1, 1, "string", "Set the value and expiration in milliseconds of a key", (CommandContext c, in CommandArgs a) => SetEx(c, a, StringOptions.Px)),
        new("getex", -2, Write | Fast, 1, 1, 1, "string", "Get the value of a key and optionally set its expiration", GetEx),
        new("mset", -3, Write | DenyOom, 1, -1, 2, "string", "Set multiple keys to multiple values", MSet),
        new("msetnx", -3, Write | DenyOom, 1, -1, 2, "string", "Set multiple keys to multiple values, only if none of the keys exist", MSetNx),
        new("mget", -2, ReadOnly | Fast, 1, -1, 1, "string", "Get the values of all the given keys", MGet),
        new("setnx", 3, Write | DenyOom | Fast, 1, 1, 1, "string", "Set the value of a key, only if the key does not exist", SetNx),
        new("getset", 3, Write | DenyOom | Fast, 1, 1, 1, "string", "Set the string value of a key and return its old value", GetSet),
        new("getdel", 2, Write | Fast, 1, 1, 1, "string", "Get the value of a key and delete the key", GetDel),
        new("append", 3, Write | DenyOom | Fast, 1, 1, 1, "string", "Append a value to a key", Append),
        new("strlen", 2, ReadOnly | Fast, 1, 1, 1, "string", "Get the length of the value stored in a key", StrLen),
        new("incr", 2, Write | DenyOom | Fast, 1, 1, 1, "string", "Increment the integer value of a key by one", (CommandContext c, in CommandArgs a) => IncrementBy(c, a[1], 1)),
        new("decr", 2, Write | DenyOom | Fast, 1, 1, 1, "string", "Decrement the integer value of a key by one", (CommandContext c, in CommandArgs a) => IncrementBy(c, a[1], -1)),
        new("incrby", 3, Write | DenyOom | Fast, 1, 1, 1, "string", "Increment the integer value of a key by the given amount", IncrBy),
        new("decrby", 3, Write | DenyOom | Fast, 1, 1, 1, "string", "Decrement the integer value of a key by the given number", DecrBy),
        new("incrbyfloat", 3, Write | DenyOom | Fast, 1, 1, 1, "string", "Increment the float value of a key by the given amount", IncrByFloat),
        new("setrange", 4, Write | DenyOom, 1, 1, 1, "string", "Overwrite part of a string at key starting at the specified offset", SetRange),
        new("getrange", 4, ReadOnly, 1, 1, 1, "string", "Get a substring of the string stored at a key", GetRange),
        new("substr", 4, ReadOnly, 1, 1, 1, "string", "Get a substring of the string stored at a key", GetRange),
    ];

    /// <summary>
    /// SET's key flags (its key spec is <c>variable_flags</c>): <c>RW access update</c> when a GET option reads
    /// the old value, otherwise <c>OW update</c>, as Redis 7.0's COMMAND GETKEYSANDFLAGS reports them.
    /// </summary>
    private static KeySpecFlags SetKeyFlags(in CommandArgs args, int keySpecIndex, KeySpecFlags specFlags)
    {
        for (int i = 3; i < args.Count; i++)
            if (args.Is(i, "GET"u8)) return KeySpecFlags.RW | KeySpecFlags.Access | KeySpecFlags.Update;
        return KeySpecFlags.OW | KeySpecFlags.Update;
    }

    private const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

    /// <summary>
    /// Reads a string key lock-free. Replies WRONGTYPE and returns false when the key holds another type;
    /// otherwise <paramref name="value"/> is the value or null when the key is missing.
    /// </summary>
    internal static bool TryReadString(CommandContext context, ReadOnlySpan<byte> key, out byte[]? value) =>
        TypedValue.TryRead(context, key, out value);

    /// <summary>The string in <paramref name="entry"/>; replies WRONGTYPE and returns false for another type.</summary>
    internal static bool TryString(CommandContext context, KeyEntry? entry, out byte[]? value) =>
        TypedValue.TryGet(context, entry, out value);

    private static void WriteBulkOrNull(RespWriter writer, byte[]? value)
    {
        if (value == null) writer.WriteNullBulkString();
        else writer.WriteBulkString(value);
    }

    private static void Get(CommandContext context, in CommandArgs args)
    {
        if (TryReadString(context, args[1], out byte[]? value)) WriteBulkOrNull(context.Writer, value);
    }

    /// <summary>Options of SET and GETEX, as Redis's <c>parseExtendedStringArgumentsOrReply</c> names them.</summary>
    [Flags]
    private enum StringOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Persist = 16,
        Ex = 32,
        Px = 64,
        ExAt = 128,
        PxAt = 256,
        AnyExpire = Ex | Px | ExAt | PxAt,
    }

    /// <summary>
    /// Parses SET's (<paramref name="isSet"/>) or GETEX's options from <paramref name="start"/> as Redis 7.0 does: NX XX GET
    /// KEEPTTL (SET only), PERSIST (GETEX only), EX PX EXAT PXAT with a following value (a repeat of the same one
    /// replaces it); any conflicting, unknown or value-less option replies <c>-ERR syntax error</c> and returns false.
    /// </summary>
    private static bool TryParseStringOptions(CommandContext context, in CommandArgs args, int start, bool isSet,
        out StringOptions options, out int expireIndex)
    {
        options = StringOptions.None;
        expireIndex = 0;
        for (int i = start; i < args.Count; i++)
        {
            bool hasNext = i + 1 < args.Count;
            StringOptions expiry = StringOptions.None;
            if (args.Is(i, "NX"u8) && isSet && (options & StringOptions.Xx) == 0) options |= StringOptions.Nx;
            else if (args.Is(i, "XX"u8) && isSet && (options & StringOptions.Nx) == 0) options |= StringOptions.Xx;
            else if (args.Is(i, "GET"u8) && isSet) options |= StringOptions.Get;
            else if (args.Is(i, "KEEPTTL"u8) && isSet && (options & (StringOptions.Persist | StringOptions.AnyExpire)) == 0) options |= StringOptions.KeepTtl;
            else if (args.Is(i, "PERSIST"u8) && !isSet && (options & (StringOptions.KeepTtl | StringOptions.AnyExpire)) == 0) options |= StringOptions.Persist;
            else if (args.Is(i, "EX"u8)) expiry = StringOptions.Ex;
            else if (args.Is(i, "PX"u8)) expiry = StringOptions.Px;
            else if (args.Is(i, "EXAT"u8)) expiry = StringOptions.ExAt;
            else if (args.Is(i, "PXAT"u8)) expiry = StringOptions.PxAt;
            else
            {
                context.Writer.WriteError(CommandErrors.Syntax);
                return false;
            }
            if (expiry == StringOptions.None) continue;
            StringOptions conflicts = StringOptions.KeepTtl | StringOptions.Persist | (StringOptions.AnyExpire & ~expiry);
            if ((options & conflicts) != 0 || !hasNext)
            {
                context.Writer.WriteError(CommandErrors.Syntax);
                return false;
            }
            options |= expiry;
            expireIndex = ++i;
        }
        return true;
    }

    /// <summary>
    /// The absolute expiry (Unix ms) of an EX/PX/EXAT/PXAT value (Redis's <c>getExpireMillisecondsOrReply</c>): not an
    /// integer: <c>-ERR value is not an integer or out of range</c>; not positive, or overflowing once made absolute:
    /// <c>-ERR invalid expire time in '&lt;command&gt;' command</c>.
    /// </summary>
    private static bool TryExpireMs(CommandContext context, ReadOnlySpan<byte> text, StringOptions unit, long nowMs, out long expireAtMs)
    {
        expireAtMs = 0;
        if (!RespInteger.TryParse(text, out long value))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return false;
        }
        bool seconds = (unit & (StringOptions.Ex | StringOptions.ExAt)) != 0;
        bool relative = (unit & (StringOptions.Ex | StringOptions.Px)) != 0;
        if (value <= 0 || !ExpiryCommands.TryAbsoluteMs(value, seconds, relative ? nowMs : 0, out expireAtMs))
        {
            ExpiryCommands.WriteInvalidExpireTime(context);
            return false;
        }
        return true;
    }

    /// <summary>
    /// <c>SET key value [NX|XX] [GET] [EX s|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL]</c>: <c>+OK</c>, a null bulk string when
    /// NX/XX prevented it, or with GET the old value (null when missing; <c>-WRONGTYPE</c> when not a string, then nothing
    /// is set). Without an expiry option or KEEPTTL the key's expiry is cleared. An expiry already past stores
    /// nothing and deletes the key (it would be expired at once; Redis stores it and expires it on the next access).
    /// Logged as Redis propagates it: with EX/PX/EXAT as <c>SET key value PXAT &lt;ms&gt;</c>; without an expiry, the
    /// request minus GET.
    /// </summary>
    private static void Set(CommandContext context, in CommandArgs args)
    {
        if (!TryParseStringOptions(context, args, 3, isSet: true, out StringOptions options, out int expireIndex)) return;
        StringOptions expiry = options & StringOptions.AnyExpire;
        Database db = context.Database;
        // The clock is read only for an expiry option: KEEPTTL keeps an expiry the lookup found still in the future.
        long now = expiry != 0 ? db.Lifetime.NowMs : 0, expireAt = 0;
        if (expiry != 0 && !TryExpireMs(context, args[expireIndex], expiry, now, out expireAt)) return;
        SetValue(context, args, args[2], options, expireAt, now);
    }

    /// <summary><c>SETEX key seconds value</c> / <c>PSETEX key milliseconds value</c>: <c>+OK</c>; errors as SET's EX/PX (named after the command).</summary>
    private static void SetEx(CommandContext context, in CommandArgs args, StringOptions unit)
    {
        Database db = context.Database;
        long now = db.Lifetime.NowMs;
        if (!TryExpireMs(context, args[2], unit, now, out long expireAt)) return;
        SetValue(context, args, args[3], unit, expireAt, now);
    }

    /// <summary>
    /// SET's work after parsing (also SETEX/PSETEX, whose value is their last argument). <paramref name="expireAt"/> and
    /// <paramref name="now"/> are Unix ms; <paramref name="now"/> may be 0 when no expiry option was given.
    /// </summary>
    private static void SetValue(CommandContext context, in CommandArgs args, ReadOnlySpan<byte> value, StringOptions options, long expireAt, long now)
    {
        ReadOnlySpan<byte> key = args[1];
        bool get = (options & StringOptions.Get) != 0;
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? existing = db.Find(slot, key);
        byte[]? old = null;
        if (get)
        {
            context.CountLookup(existing != null, key);
            if (!TryString(context, existing, out old)) return;
        }
        if (((options & StringOptions.Nx) != 0 && existing != null) || ((options & StringOptions.Xx) != 0 && existing == null))
        {
            if (get) WriteBulkOrNull(context.Writer, old);
            else context.Writer.WriteNullBulkString();
            return;
        }
        if ((options & StringOptions.KeepTtl) != 0) expireAt = existing?.ExpireAtMs ?? 0;
        // GET's reply is written before the write, so its notifications follow it (Redis's setGenericCommand runs
        // getGenericCommand first); a plain SET notifies, then replies +OK.
        if (get) WriteBulkOrNull(context.Writer, old);
        if (expireAt != 0 && expireAt <= now) db.Remove(key);
        else
        {
            db.Set(slot, key, value.ToArray(), expireAt);
            // As Redis's setGenericCommand: "set", then "expire" when the command gave an expiry (not KEEPTTL).
            if ((options & StringOptions.AnyExpire) != 0) db.Mutated(slot, key, KeyEvent.Expire);
        }
        RecordSet(context, args, options, key, value, expireAt);
        if (!get) context.Writer.WriteOk();
    }

    /// <summary>
    /// SET's propagated record (Redis's <c>setGenericCommand</c> rewrites): <c>SET key value PXAT ms</c> for a relative or
    /// second-based expiry (and SETEX/PSETEX), the request minus its GET arguments when GET and no expiry, else the request.
    /// </summary>
    private static void RecordSet(CommandContext context, in CommandArgs args, StringOptions options, ReadOnlySpan<byte> key,
        ReadOnlySpan<byte> value, long expireAt)
    {
        bool rewriteExpiry = (options & StringOptions.AnyExpire) != 0 && (options & StringOptions.PxAt) == 0;
        bool dropGet = (options & StringOptions.Get) != 0 && (options & StringOptions.AnyExpire) == 0;
        if (!rewriteExpiry && !dropGet) return;
        PropagationBuffer? record = context.ReplacePropagation();
        if (record == null) return;
        if (rewriteExpiry)
        {
            record.Begin(context.Database.Index, 5).Arg("SET"u8).Arg(key).Arg(value).Arg("PXAT"u8).Arg(expireAt);
            return;
        }
        int gets = 0;
        for (int i = 3; i < args.Count; i++)
            if (args.Is(i, "GET"u8)) gets++;
        record.Begin(context.Database.Index, args.Count - gets);
        for (int i = 0; i < args.Count; i++)
            if (i < 3 || !args.Is(i, "GET"u8)) record.Arg(args[i]);
    }

    /// <summary>
    /// <c>GETEX key [EX s|PX ms|EXAT unix-s|PXAT unix-ms|PERSIST]</c>: the value (null when missing, before any expiry
    /// check; <c>-WRONGTYPE</c> for another type), setting or removing its expiry. Option errors as SET's, named
    /// <c>'getex'</c>; they come after the missing-key and WRONGTYPE checks. An EXAT/PXAT in the past deletes the key
    /// (logged <c>DEL key</c>); another expiry is logged <c>PEXPIREAT key ms</c>; PERSIST of a key with an expiry <c>PERSIST key</c>.
    /// </summary>
    private static void GetEx(CommandContext context, in CommandArgs args)
    {
        if (!TryParseStringOptions(context, args, 2, isSet: false, out StringOptions options, out int expireIndex)) return;
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        context.CountLookup(entry != null, key);
        if (!TryString(context, entry, out byte[]? value)) return;
        if (value == null)
        {
            context.Writer.WriteNullBulkString();
            return;
        }
        StringOptions expiry = options & StringOptions.AnyExpire;
        long now = db.Lifetime.NowMs, expireAt = 0;
        if (expiry != 0 && !TryExpireMs(context, args[expireIndex], expiry, now, out expireAt)) return;
        context.Writer.WriteBulkString(value);
        if (expiry != 0 && expireAt <= now)
        {
            db.Remove(key);
            context.ReplacePropagation()?.Begin(db.Index, 2).Arg("DEL"u8).Arg(key);
        }
        else if (expiry != 0)
        {
            db.Set(slot, key, value, expireAt, KeyEvent.Expire);
            context.ReplacePropagation()?.Begin(db.Index, 3).Arg("PEXPIREAT"u8).Arg(key).Arg(expireAt);
        }
        else if ((options & StringOptions.Persist) != 0 && entry!.ExpireAtMs != 0)
        {
            db.Set(slot, key, value, 0, KeyEvent.Persist);
            context.ReplacePropagation()?.Begin(db.Index, 2).Arg("PERSIST"u8).Arg(key);
        }
    }

    private static void SetNx(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        if (db.Find(slot, key) != null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        db.Set(slot, key, args[2].ToArray());
        context.Writer.WriteInteger(1);
    }

    private static void MSet(CommandContext context, in CommandArgs args)
    {
        if (args.Count % 2 == 0)
        {
            context.WriteArityError();
            return;
        }
        Database db = context.Database;
        db.PrefetchKeys(args, 1, 2);
        for (int i = 1; i < args.Count; i += 2) db.Set(args[i], args[i + 1].ToArray());
        context.Writer.WriteOk();
    }

    private static void MSetNx(CommandContext context, in CommandArgs args)
    {
        if (args.Count % 2 == 0)
        {
            context.WriteArityError();
            return;
        }
        Database db = context.Database;
        db.PrefetchKeys(args, 1, 2);
        for (int i = 1; i < args.Count; i += 2)
        {
            if (db.Find(args[i]) == null) continue;
            context.Writer.WriteInteger(0);
            return;
        }
        for (int i = 1; i < args.Count; i += 2) db.Set(args[i], args[i + 1].ToArray());
        context.Writer.WriteInteger(1);
    }

    private ref struct MGetState
    {
        public Database Database;
        public CommandArgs Args;
        public List<object?> Found;
    }

    /// <summary>
    /// <c>MGET key…</c>: one consistent snapshot of all keys (seqlock), so an MSET is seen whole or not at all. The values are
    /// read inside the snapshot, not from its entries afterwards: a string may be swapped into its entry in place
    /// (<see cref="KeyEntry.ReplaceValue"/>).
    /// </summary>
    private static void MGet(CommandContext context, in CommandArgs args)
    {
        ulong mask = context.KeyShardMask(args);
        context.Database.PrefetchKeys(args, 1, 1);
        var state = new MGetState { Database = context.Database, Args = args, Found = context.ValueScratch };
        context.Database.ReadSnapshot(mask, ref state, static (ref MGetState s) =>
        {
            s.Found.Clear();
            for (int i = 1; i < s.Args.Count; i++) s.Found.Add(s.Database.Find(s.Args[i])?.Value);
        });
        RespWriter w = context.Writer;
        w.WriteArrayHeader(args.Count - 1);
        for (int i = 0; i < state.Found.Count; i++)
        {
            object? value = state.Found[i];
            context.CountLookup(value != null, args[i + 1]);
            WriteBulkOrNull(w, value as byte[]);
        }
        state.Found.Clear();
    }

    private static void GetSet(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? existing = db.Find(slot, key);
        context.CountLookup(existing != null, key);
        if (!TryString(context, existing, out byte[]? old)) return;
        // Reply, then write (its notifications follow the reply, as in Redis's getsetCommand).
        WriteBulkOrNull(context.Writer, old);
        db.Set(slot, key, args[2].ToArray());
    }

    private static void GetDel(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? existing = db.Find(slot, key);
        context.CountLookup(existing != null, key);
        if (!TryString(context, existing, out byte[]? old)) return;
        // Reply, then delete (its "del" notification follows the reply, as in Redis's getdelCommand).
        WriteBulkOrNull(context.Writer, old);
        if (old != null)
        {
            db.Remove(key);
            // Logged as DEL key, as Redis does (getdelCommand rewrites its propagation).
            context.ReplacePropagation()?.Begin(db.Index, 2).Arg("DEL"u8).Arg(key);
        }
    }

    private static void Append(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1], suffix = args[2];
        Database db = context.Database;
        long length;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!TryString(context, entry, out byte[]? old)) return;
        if (old == null)
        {
            db.Set(slot, key, suffix.ToArray(), entry?.ExpireAtMs ?? 0, KeyEvent.Append);
            length = suffix.Length;
        }
        else
        {
            length = (long)old.Length + suffix.Length;
            if (length > RespLimits.MaxStringLength)
            {
                context.Writer.WriteError(StringTooLong);
                return;
            }
            byte[] value = GC.AllocateUninitializedArray<byte>((int)length);
            old.CopyTo(value, 0);
            suffix.CopyTo(value.AsSpan(old.Length));
            db.Set(slot, key, value, entry?.ExpireAtMs ?? 0, KeyEvent.Append);
        }
        context.Writer.WriteInteger(length);
    }

    private static void StrLen(CommandContext context, in CommandArgs args)
    {
        if (TryReadString(context, args[1], out byte[]? value)) context.Writer.WriteInteger(value?.Length ?? 0);
    }

    private static void IncrBy(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long by))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        IncrementBy(context, args[1], by);
    }

    private static void DecrBy(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long by))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (by == long.MinValue)
        {
            context.Writer.WriteError("ERR decrement would overflow");
            return;
        }
        IncrementBy(context, args[1], -by);
    }

    /// <summary>INCR/DECR/INCRBY/DECRBY: the value must be a string that <c>string2ll</c> accepts; the sum must fit in 64 bits.</summary>
    private static void IncrementBy(CommandContext context, ReadOnlySpan<byte> key, long by)
    {
        Database db = context.Database;
        long result;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!TryString(context, entry, out byte[]? old)) return;
        long current = 0;
        if (old != null && !RespInteger.TryParse(old, out current))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (SumOverflows(current, by))
        {
            context.Writer.WriteError("ERR increment or decrement would overflow");
            return;
        }
        result = current + by;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(result, digits, out int n);
        db.Set(slot, key, digits[..n].ToArray(), entry?.ExpireAtMs ?? 0, KeyEvent.Incrby);
        context.Writer.WriteInteger(result);
    }

    /// <summary>True when <paramref name="current"/> + <paramref name="by"/> does not fit a signed 64-bit integer (INCRBY, HINCRBY).</summary>
    internal static bool SumOverflows(long current, long by) =>
        (by < 0 && current < 0 && by < long.MinValue - current) || (by > 0 && current > 0 && by > long.MaxValue - current);

    /// <summary>
    /// <c>INCRBYFLOAT key increment</c>: both numbers are parsed, added and printed as Redis's x87
    /// long double (<see cref="LongDouble"/>); the result is stored and replied as a bulk string.
    /// </summary>
    private static void IncrByFloat(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1], increment = args[2];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!TryString(context, entry, out byte[]? old)) return;
        ReadOnlySpan<byte> current = old ?? "0"u8;
        string? text = FloatSum(current, increment, out string? error);
        if (text == null)
        {
            context.Writer.WriteError(error!);
            return;
        }
        byte[] value = System.Text.Encoding.ASCII.GetBytes(text);
        db.Set(slot, key, value, entry?.ExpireAtMs ?? 0, KeyEvent.Incrbyfloat);
        // Logged as its result, as Redis does (SET key value KEEPTTL), so replay cannot round differently.
        context.ReplacePropagation()?.Begin(db.Index, 4).Arg("SET"u8).Arg(key).Arg(value).Arg("KEEPTTL"u8);
        context.Writer.WriteBulkString(value);
    }

    /// <summary>The text of <paramref name="a"/> + <paramref name="b"/> as INCRBYFLOAT prints it, or null with Redis's error.</summary>
    internal static string? FloatSum(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, out string? error)
    {
        error = null;
        if (!LongDouble.TryParse(a, out LongDouble x) || !LongDouble.TryParse(b, out LongDouble y))
        {
            error = CommandErrors.NotFloat;
            return null;
        }
        LongDouble sum = LongDouble.Add(x, y, out bool isNaN);
        if (isNaN || sum.IsInfinity)
        {
            error = "ERR increment would produce NaN or Infinity";
            return null;
        }
        return sum.ToHumanString();
    }

    private static void SetRange(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long offset))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (offset < 0)
        {
            context.Writer.WriteError("ERR offset is out of range");
            return;
        }
        ReadOnlySpan<byte> key = args[1], patch = args[3];
        Database db = context.Database;
        long length;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!TryString(context, entry, out byte[]? old)) return;
        length = old?.Length ?? 0;
        if (patch.Length == 0)
        {
            context.Writer.WriteInteger(length);
            return;
        }
        if (offset > RespLimits.MaxStringLength - patch.Length) // never offset + length: it can overflow
        {
            context.Writer.WriteError(StringTooLong);
            return;
        }
        length = Math.Max(length, offset + patch.Length);
        byte[] value = new byte[length];
        old?.CopyTo(value, 0);
        patch.CopyTo(value.AsSpan((int)offset));
        db.Set(slot, key, value, entry?.ExpireAtMs ?? 0, KeyEvent.Setrange);
        context.Writer.WriteInteger(length);
    }

    private static void GetRange(CommandContext context, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long start) || !RespInteger.TryParse(args[3], out long end))
        {
            context.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (!TryReadString(context, args[1], out byte[]? value)) return;
        if (value == null || (start < 0 && end < 0 && start > end))
        {
            context.Writer.WriteBulkString(ReadOnlySpan<byte>.Empty);
            return;
        }
        long length = value.Length;
        if (start < 0) start = length + start;
        if (end < 0) end = length + end;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= length) end = length - 1;
        if (start > end || length == 0) context.Writer.WriteBulkString(ReadOnlySpan<byte>.Empty);
        else context.Writer.WriteBulkString(value.AsSpan((int)start, (int)(end - start + 1)));
    }
}
