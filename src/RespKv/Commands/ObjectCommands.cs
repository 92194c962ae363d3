using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// <c>OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ|HELP</c> with Redis 7.0's replies (https://redis.io/commands/object/):
/// introspection of one key's value, answered by its <see cref="ValueKind"/>. A missing key answers a null bulk string.
/// Each lookup counts a keyspace hit or miss and records no access (Redis's <c>LOOKUP_NOTOUCH</c>).
/// </summary>
public static class ObjectCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("object", -2, None, 0, 0, 0, "generic", "A container for object introspection commands", null,
            new CommandInfo("encoding", 3, ReadOnly | ReadsUnderLock, 2, 2, 1, "generic", "Inspect the internal encoding of a Redis object", Encoding),
            new CommandInfo("freq", 3, ReadOnly, 2, 2, 1, "generic", "Get the logarithmic access frequency counter of a Redis object", Freq),
            new CommandInfo("help", 2, Loading | Stale, 0, 0, 0, "generic", "Show helpful text about the different subcommands", Help),
            new CommandInfo("idletime", 3, ReadOnly, 2, 2, 1, "generic", "Get the time since a Redis object was last accessed", IdleTime),
            new CommandInfo("refcount", 3, ReadOnly, 2, 2, 1, "generic", "Get the number of references to the value of the key", RefCount)),
    ];

    /// <summary>The entry of <paramref name="key"/> without recording an access, counting a keyspace hit or miss; on a miss it replies a null bulk string and returns null.</summary>
    internal static KeyEntry? LookupOrReplyNull(CommandContext context, ReadOnlySpan<byte> key)
    {
        KeyEntry? entry = context.Database.FindNoTouch(key);
        context.CountLookup(entry != null, key, notify: false);
        if (entry == null) context.Writer.WriteNullBulkString();
        return entry;
    }

    /// <summary>
    /// <c>OBJECT ENCODING key</c>: the value's encoding name as a bulk string (<see cref="ValueKind.Encoding"/>:
    /// <c>int</c>, <c>embstr</c>, <c>raw</c>, <c>listpack</c>, <c>hashtable</c>…).
    /// </summary>
    private static void Encoding(CommandContext context, in CommandArgs args)
    {
        if (LookupOrReplyNull(context, args[2]) is not { } entry) return;
        context.Writer.WriteBulkString(entry.Kind.Encoding(entry.Value, context.Options));
    }

    /// <summary>
    /// <c>OBJECT REFCOUNT key</c>: an integer, <see cref="ValueKind.RefCount"/> — 2147483647 for a value Redis 7.0 would hold
    /// as a shared object (a string that is an integer 0..9999 while shared integers are in use), else 1.
    /// </summary>
    private static void RefCount(CommandContext context, in CommandArgs args)
    {
        if (LookupOrReplyNull(context, args[2]) is not { } entry) return;
        context.Writer.WriteInteger(entry.Kind.RefCount(entry.Value, context.Options));
    }

    private const string LfuNotSelected = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    private const string LfuSelected = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

    /// <summary>
    /// <c>OBJECT IDLETIME key</c>: seconds since the key was last read or written.
    /// Under an LFU policy: <c>-ERR An LFU maxmemory policy is selected, idle time not tracked. …</c>.
    /// </summary>
    private static void IdleTime(CommandContext context, in CommandArgs args)
    {
        if (LookupOrReplyNull(context, args[2]) is not { } entry) return;
        KeyLifetime lifetime = context.Database.Lifetime;
        if (lifetime.Lfu) context.Writer.WriteError(LfuSelected);
        else context.Writer.WriteInteger(lifetime.IdleSeconds(entry));
    }

    /// <summary>
    /// <c>OBJECT FREQ key</c>: the key's logarithmic access counter after decay. Without an LFU policy:
    /// <c>-ERR An LFU maxmemory policy is not selected, access frequency not tracked. …</c>.
    /// </summary>
    private static void Freq(CommandContext context, in CommandArgs args)
    {
        if (LookupOrReplyNull(context, args[2]) is not { } entry) return;
        KeyLifetime lifetime = context.Database.Lifetime;
        if (!lifetime.Lfu) context.Writer.WriteError(LfuNotSelected);
        else context.Writer.WriteInteger(lifetime.LfuFrequency(entry));
    }

    /// <summary><c>OBJECT HELP</c>: Redis 7.0's help text, as an array of simple strings.</summary>
    private static void Help(CommandContext context, in CommandArgs args) => context.Writer.WriteHelp("OBJECT",
    [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ]);
}
