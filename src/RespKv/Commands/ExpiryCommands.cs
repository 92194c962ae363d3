using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Key expiry commands with Redis 7.0's replies and errors (https://redis.io/commands/?group=generic):
/// EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST. An expiry is an absolute Unix time in ms (<see cref="KeyEntry.ExpireAtMs"/>); a key whose
/// time has passed is missing to every command and removed by the lookup that finds it or by the active
/// cycle (see <see cref="KeyspaceShard.Find"/>, <see cref="Server.ServerCron"/>).
/// <para>
/// Propagation (Redis's <c>expireGenericCommand</c>): a relative or second-based expiry is logged as
/// <c>PEXPIREAT key &lt;absolute ms&gt;</c> followed by the request's option arguments; an expiry already in the past
/// deletes the key and is logged as <c>DEL key</c>.
/// </para>
/// </summary>
public static class ExpiryCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("expire", -3, Write | Fast | RepliesBeforeNotifying, 1, 1, 1, "generic", "Set a key's time to live in seconds", (CommandContext c, in CommandArgs a) => Expire(c, a, seconds: true, relative: true)) { EventsBeforeReply = [KeyEvent.Del] },
        new("pexpire", -3, Write | Fast | RepliesBeforeNotifying, 1, 1, 1, "generic", "Set a key's time to live in milliseconds", (CommandContext c, in CommandArgs a) => Expire(c, a, seconds: false, relative: true)) { EventsBeforeReply = [KeyEvent.Del] },
        new("expireat", -3, Write | Fast | RepliesBeforeNotifying, 1, 1, 1, "generic", "Set the expiration for a key as a UNIX timestamp", (CommandContext c, in CommandArgs a) => Expire(c, a, seconds: true, relative: false)) { EventsBeforeReply = [KeyEvent.Del] },
        new("pexpireat", -3, Write | Fast | RepliesBeforeNotifying, 1, 1, 1, "generic", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", (CommandContext c, in CommandArgs a) => Expire(c, a, seconds: false, relative: false)) { EventsBeforeReply = [KeyEvent.Del] },
        new("ttl", 2, ReadOnly | Fast, 1, 1, 1, "generic", "Get the time to live for a key in seconds", (CommandContext c, in CommandArgs a) => Ttl(c, a, milliseconds: false, absolute: false)),
        new("pttl", 2, ReadOnly | Fast, 1, 1, 1, "generic", "Get the time to live for a key in milliseconds", (CommandContext c, in CommandArgs a) => Ttl(c, a, milliseconds: true, absolute: false)),
        new("expiretime", 2, ReadOnly | Fast, 1, 1, 1, "generic", "Get the expiration Unix timestamp for a key", (CommandContext c, in CommandArgs a) => Ttl(c, a, milliseconds: false, absolute: true)),
        new("pexpiretime", 2, ReadOnly | Fast, 1, 1, 1, "generic", "Get the expiration Unix timestamp for a key in milliseconds", (CommandContext c, in CommandArgs a) => Ttl(c, a, milliseconds: true, absolute: true)),
        new("persist", 2, Write | Fast, 1, 1, 1, "generic", "Remove the expiration from a key", Persist),
    ];

    /// <summary>The <c>-ERR invalid expire time in '&lt;command&gt;' command</c> error of the current command (Redis's <c>addReplyErrorExpireTime</c>).</summary>
    internal static void WriteInvalidExpireTime(CommandContext context) =>
        context.Writer.WriteError($"ERR invalid expire time in '{context.CurrentCommand!.FullName}' command");

    /// <summary>
    /// Adds <paramref name="relative"/> (in <paramref name="seconds"/> or ms) to <paramref name="baseMs"/>, giving an
    /// absolute time in ms; false when it overflows a signed 64-bit integer (Redis's expire-time checks).
    /// </summary>
    internal static bool TryAbsoluteMs(long relative, bool seconds, long baseMs, out long absoluteMs)
    {
        absoluteMs = 0;
        if (seconds)
        {
            if (relative > long.MaxValue / 1000 || relative < long.MinValue / 1000) return false;
            relative *= 1000;
        }
        if (relative > long.MaxValue - baseMs) return false;
        absoluteMs = relative + baseMs;
        return true;
    }

    [Flags]
    private enum ExpireCondition
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
    }

    /// <summary>
    /// <c>EXPIRE|PEXPIRE|EXPIREAT|PEXPIREAT key time [NX|XX|GT|LT]</c>: <c>:1</c> when the expiry was set (or the key
    /// deleted, the time being past), <c>:0</c> when the key is missing or the condition failed (NX: has an expiry;
    /// XX: has none; GT: new not later, or no expiry; LT: new not earlier than an existing expiry).
    /// Errors, in Redis's order: <c>-ERR Unsupported option &lt;opt&gt;</c>; <c>-ERR NX and XX, GT or LT options at the
    /// same time are not compatible</c>; <c>-ERR GT and LT options at the same time are not compatible</c>; time not an
    /// integer: <c>-ERR value is not an integer or out of range</c>; overflow: <c>-ERR invalid expire time in '…' command</c>.
    /// </summary>
    private static void Expire(CommandContext context, in CommandArgs args, bool seconds, bool relative)
    {
        RespWriter w = context.Writer;
        ExpireCondition condition = ExpireCondition.None;
        for (int i = 3; i < args.Count; i++)
        {
            if (args.Is(i, "NX"u8)) condition |= ExpireCondition.Nx;
            else if (args.Is(i, "XX"u8)) condition |= ExpireCondition.Xx;
            else if (args.Is(i, "GT"u8)) condition |= ExpireCondition.Gt;
            else if (args.Is(i, "LT"u8)) condition |= ExpireCondition.Lt;
            else
            {
                w.WriteError("ERR Unsupported option " + System.Text.Encoding.UTF8.GetString(args[i]));
                return;
            }
        }
        if ((condition & ExpireCondition.Nx) != 0 && condition != ExpireCondition.Nx)
        {
            w.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if ((condition & (ExpireCondition.Gt | ExpireCondition.Lt)) == (ExpireCondition.Gt | ExpireCondition.Lt))
        {
            w.WriteError("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!RespInteger.TryParse(args[2], out long time))
        {
            w.WriteError(CommandErrors.NotInteger);
            return;
        }
        Database db = context.Database;
        long now = db.Lifetime.NowMs;
        if (!TryAbsoluteMs(time, seconds, relative ? now : 0, out long when))
        {
            WriteInvalidExpireTime(context);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (entry == null || !ConditionHolds(condition, entry.ExpireAtMs, when))
        {
            w.WriteInteger(0);
            return;
        }
        PropagationBuffer? record = context.ReplacePropagation();
        if (when <= now)
        {
            db.Remove(key);
            record?.Begin(db.Index, 2).Arg("DEL"u8).Arg(key);
        }
        else
        {
            db.Set(slot, key, entry.Value, when, KeyEvent.Expire);
            if (record != null)
            {
                record.Begin(db.Index, args.Count).Arg("PEXPIREAT"u8).Arg(key).Arg(when);
                for (int i = 3; i < args.Count; i++) record.Arg(args[i]);
            }
        }
        w.WriteInteger(1);
    }

    /// <summary>Whether the NX/XX/GT/LT condition lets <paramref name="when"/> replace <paramref name="current"/> (0 = no expiry, which GT treats as infinite).</summary>
    private static bool ConditionHolds(ExpireCondition condition, long current, long when)
    {
        if ((condition & ExpireCondition.Nx) != 0 && current != 0) return false;
        if ((condition & ExpireCondition.Xx) != 0 && current == 0) return false;
        if ((condition & ExpireCondition.Gt) != 0 && (current == 0 || when <= current)) return false;
        if ((condition & ExpireCondition.Lt) != 0 && current != 0 && when >= current) return false;
        return true;
    }

    /// <summary>
    /// <c>TTL|PTTL|EXPIRETIME|PEXPIRETIME key</c>: <c>:-2</c> missing, <c>:-1</c> no expiry; else the remaining time
    /// (TTL rounds to the nearest second, never below 0) or the absolute Unix time (EXPIRETIME rounds to the nearest
    /// second). The lookup does not count as an access for LRU/LFU.
    /// </summary>
    private static void Ttl(CommandContext context, in CommandArgs args, bool milliseconds, bool absolute)
    {
        Database db = context.Database;
        KeyEntry? entry = db.FindNoTouch(args[1]);
        context.CountLookup(entry != null, args[1]);
        if (entry == null)
        {
            context.Writer.WriteInteger(-2);
            return;
        }
        long expireAt = entry.ExpireAtMs;
        if (expireAt == 0)
        {
            context.Writer.WriteInteger(-1);
            return;
        }
        long ttl = absolute ? expireAt : Math.Max(0, expireAt - db.Lifetime.NowMs);
        context.Writer.WriteInteger(milliseconds ? ttl : (ttl + 500) / 1000);
    }

    /// <summary><c>PERSIST key</c>: <c>:1</c> when the key's expiry was removed, <c>:0</c> when it is missing or has none.</summary>
    private static void Persist(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (entry == null || entry.ExpireAtMs == 0)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        db.Set(slot, key, entry.Value, 0, KeyEvent.Persist);
        context.Writer.WriteInteger(1);
    }
}
