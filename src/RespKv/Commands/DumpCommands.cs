using RespKv.Execution;
using RespKv.Persistence.Rdb;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// <c>DUMP</c>, <c>RESTORE</c> and <c>RESTORE-ASKING</c> with Redis 7.0's payload and replies (<c>cluster.c</c>
/// <c>dumpCommand</c>, <c>restoreCommand</c>, <c>createDumpPayload</c>, <c>verifyDumpPayload</c>). The payload is the value as
/// an RDB object (its type byte and body: <see cref="Storage.Kinds.ValueKind.WriteRdb"/>), the RDB version (10) as 2 bytes
/// little-endian and the CRC64 (<see cref="Crc64Jones"/>) of everything before it as 8 bytes little-endian
/// (<see cref="Rdb.AppendFooter"/>); RESTORE reads every encoding redis-server 7.0 writes or loads
/// (<see cref="RdbObjectReader"/>), so keys move both ways between RespKv and redis-server.
/// </summary>
public static class DumpCommands
{
    /// <summary>This family's rows of the command table (Redis 7.0's arity, flags and key positions).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("dump", 2, ReadOnly | ReadsUnderLock, 1, 1, 1, "generic", "Return a serialized version of the value stored at the specified key.", Dump),
        new("restore", -4, Write | DenyOom, 1, 1, 1, "generic", "Create a key using the provided serialized value, previously obtained using DUMP.", Restore),
        new("restore-asking", -4, Write | DenyOom | Asking, 1, 1, 1, "server", "An internal command for migrating keys in a cluster", Restore),
    ];

    /// <summary><c>-BUSYKEY Target key name already exists.</c> (Redis's <c>shared.busykeyerr</c>).</summary>
    public const string BusyKey = "BUSYKEY Target key name already exists.";

    /// <summary><c>-ERR Bad data format</c>: a payload whose footer is right but whose object cannot be read.</summary>
    public const string BadDataFormat = "ERR Bad data format";

    /// <summary>
    /// The DUMP payload of <paramref name="value"/> (a stored value): its RDB object under <paramref name="options"/>'
    /// encoding thresholds, then the footer (RDB version 10, CRC64).
    /// </summary>
    public static byte[] Payload(object value, Configuration.ServerOptions options)
    {
        var output = new MemoryStream();
        Storage.Kinds.ValueKinds.Of(value).WriteRdb(output, value, options);
        Rdb.AppendFooter(output);
        return output.ToArray();
    }

    /// <summary>
    /// <c>DUMP key</c>: the key's value serialized as a bulk string (see the class summary), or a null bulk string when the
    /// key is missing. A read: counts a keyspace hit or miss and the access.
    /// </summary>
    private static void Dump(CommandContext context, in CommandArgs args)
    {
        KeyEntry? entry = context.Database.Find(args[1]);
        context.CountLookup(entry != null, args[1]);
        if (entry == null)
        {
            context.Writer.WriteNullBulkString();
            return;
        }
        context.Writer.WriteBulkString(Payload(entry.Value, context.Options));
    }

    /// <summary>
    /// <c>RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]</c> (and
    /// <c>RESTORE-ASKING</c>, the same): creates the key from a DUMP payload; <c>+OK</c>. <c>ttl</c> is milliseconds from now,
    /// or (ABSTTL) a Unix time in milliseconds; 0 for none. A time already past creates nothing (with REPLACE the old key is
    /// deleted, logged as <c>DEL key</c>) and still answers <c>+OK</c>.
    /// <para>
    /// Errors, in Redis 7.0's order: an unknown option, or IDLETIME with FREQ: <c>-ERR syntax error</c>; IDLETIME or FREQ not an
    /// integer: <c>-ERR value is not an integer or out of range</c>; IDLETIME below 0: <c>-ERR Invalid IDLETIME value, must be
    /// &gt;= 0</c>; FREQ outside 0..255: <c>-ERR Invalid FREQ value, must be &gt;= 0 and &lt;= 255</c>; the key exists without
    /// REPLACE: <c>-BUSYKEY Target key name already exists.</c>; ttl not an integer: <c>-ERR value is not an integer or out of
    /// range</c>; below 0: <c>-ERR Invalid TTL value, must be &gt;= 0</c>; a payload shorter than 10 bytes, of an RDB version
    /// above 10 or with a wrong CRC64: <c>-ERR DUMP payload version or checksum are wrong</c>; an object that cannot be read
    /// (unknown type, corrupt or truncated data, an empty value): <c>-ERR Bad data format</c>.
    /// </para>
    /// <para>
    /// Effects as Redis: with REPLACE the old key is deleted silently; the key is created (<c>new</c>), its expiry set, its
    /// LRU idle time (IDLETIME, without an LFU policy) or LFU counter (FREQ, under one) set, then <c>restore</c> is notified
    /// (class <c>g</c>). Propagation: a relative TTL is logged as the absolute time with <c>ABSTTL</c> appended
    /// (<c>rewriteClientCommandArgument</c>); otherwise the command as it came.
    /// </para>
    /// </summary>
    private static void Restore(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        bool replace = false, absTtl = false;
        long frequency = -1, idle = -1;
        for (int j = 4; j < args.Count; j++)
        {
            bool hasValue = j + 1 < args.Count;
            if (args.Is(j, "REPLACE"u8)) replace = true;
            else if (args.Is(j, "ABSTTL"u8)) absTtl = true;
            else if (args.Is(j, "IDLETIME"u8) && hasValue && frequency == -1)
            {
                if (!RespInteger.TryParse(args[++j], out idle))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (idle < 0)
                {
                    w.WriteError("ERR Invalid IDLETIME value, must be >= 0");
                    return;
                }
            }
            else if (args.Is(j, "FREQ"u8) && hasValue && idle == -1)
            {
                if (!RespInteger.TryParse(args[++j], out frequency))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (frequency is < 0 or > 255)
                {
                    w.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return;
                }
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        Database db = context.Database;
        ReadOnlySpan<byte> key = args[1];
        KeySlot slot = db.Locate(key);
        if (!replace && db.Find(slot, key) != null)
        {
            w.WriteError(BusyKey);
            return;
        }
        if (!RespInteger.TryParse(args[2], out long ttl))
        {
            w.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (ttl < 0)
        {
            w.WriteError("ERR Invalid TTL value, must be >= 0");
            return;
        }
        ReadOnlySpan<byte> payload = args[3];
        if (!Rdb.Verify(payload, context.Options.SkipChecksumValidation))
        {
            w.WriteError("ERR " + Rdb.VersionOrChecksumWrong);
            return;
        }
        long now = db.Lifetime.NowMs;
        if (RdbObjectReader.Read(payload, context.Options, now) is not { } value)
        {
            w.WriteError(BadDataFormat);
            return;
        }
        bool relative = ttl != 0 && !absTtl;
        if (relative) ttl = ttl > long.MaxValue - now ? long.MaxValue : ttl + now;
        if (ttl != 0 && ttl <= now)
        {
            // Already expired: nothing is created; REPLACE still deletes the old key (logged as DEL, notified "del").
            PropagationBuffer? record = context.ReplacePropagation();
            if (replace && db.Remove(key) != null) record?.Begin(db.Index, 2).Arg("DEL"u8).Arg(key);
            w.WriteOk();
            return;
        }
        if (replace) db.Remove(key, KeyEvent.Unannounced);
        db.Set(slot, key, value, ttl, KeyEvent.New);
        if (db.Find(slot, key) is { } entry)
        {
            db.Lifetime.ResetAccess(entry);
            db.Lifetime.SetAccessHint(entry, frequency, idle);
        }
        db.Announce(slot, key, KeyEvent.Restore);
        if (relative && context.ReplacePropagation() is { } rewritten)
        {
            rewritten.Begin(db.Index, args.Count + 1).Arg(args[0]).Arg(key).Arg(ttl);
            for (int i = 3; i < args.Count; i++) rewritten.Arg(args[i]);
            rewritten.Arg("ABSTTL"u8);
        }
        w.WriteOk();
    }
}
