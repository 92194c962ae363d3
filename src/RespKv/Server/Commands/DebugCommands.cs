using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// <c>DEBUG</c> (https://redis.io/commands/debug/): the subcommands Redis's own test suite and client test suites use —
/// OBJECT, DIGEST, DIGEST-VALUE, RELOAD, SET-SKIP-CHECKSUM-VALIDATION, SLEEP, SET-ACTIVE-EXPIRE, LOG, ERROR, HELP — with Redis 7.0's replies. Another subcommand, or a known one with
/// the wrong number of arguments: <c>-ERR unknown subcommand or wrong number of arguments for '&lt;sub&gt;'. Try DEBUG HELP.</c>
/// <para>
/// Gated by <c>enable-debug-command</c> (<see cref="ServerOptions.EnableDebugCommand"/>) as Redis 7.0: <c>no</c> (default)
/// refuses every client, <c>local</c> allows loopback (and in-memory) clients, <c>yes</c> everybody; a refused client gets
/// <c>-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local
/// connection, otherwise you need to set this option in the configuration file, and then restart the server.</c>
/// The refusal is an admission gate (<see cref="AdmissionGates"/>, the row's <see cref="CommandFlags.Protected"/> flag), as
/// in Redis's <c>processCommand</c>: inside MULTI a refused DEBUG is not queued and the EXEC aborts.
/// </para>
/// </summary>
public static class DebugCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("debug", -2, Admin | NoScript | Loading | Stale | Protected, 0, 0, 0, "server", "A container for debugging commands", Debug),
    ];

    /// <summary>Redis 7.0's refusal when <c>enable-debug-command</c> does not allow the client.</summary>
    public const string NotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

    private static void Debug(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        if (args.Count == 2 && args.Is(1, "HELP"u8)) Help(w);
        else if (args.Count == 3 && args.Is(1, "OBJECT"u8)) Object(client, args[2]);
        else if (args.Count == 3 && args.Is(1, "SLEEP"u8)) Sleep(client, args[2]);
        else if (args.Count == 3 && args.Is(1, "SET-ACTIVE-EXPIRE"u8))
        {
            client.Server.Keyspace.ActiveExpiry.Enabled = ParseLeadingInt(args[2]) != 0;
            w.WriteOk();
        }
        else if (args.Count == 3 && args.Is(1, "LOG"u8))
        {
            client.Server.Logger.LogWarning("DEBUG LOG: {Message}", System.Text.Encoding.UTF8.GetString(args[2]));
            w.WriteOk();
        }
        else if (args.Count == 3 && args.Is(1, "ERROR"u8)) w.WriteError(args[2]);
        else if (args.Count == 2 && args.Is(1, "DIGEST"u8)) w.WriteSimpleString(Hex(RedisDigest.Dataset(client.Server.Keyspace)));
        else if (args.Is(1, "DIGEST-VALUE"u8)) DigestValue(client, args);
        else if (args.Is(1, "RELOAD"u8)) Reload(client, args);
        else if (args.Count == 3 && args.Is(1, "SET-SKIP-CHECKSUM-VALIDATION"u8))
        {
            // RESTORE and RDB loading stop comparing CRC64s (Redis's server.skip_checksum_validation, atoi of the argument).
            client.Server.Options.SkipChecksumValidation = ParseLeadingInt(args[2]) != 0;
            w.WriteOk();
        }
        else w.WriteError($"ERR unknown subcommand or wrong number of arguments for '{System.Text.Encoding.UTF8.GetString(args[1])}'. Try DEBUG HELP.");
    }

    /// <summary>
    /// <c>DEBUG OBJECT key</c>: a simple string in Redis's format, <c>Value at:0x… refcount:… encoding:… serializedlength:…
    /// lru:… lru_seconds_idle:…</c>, from the value's kind (<see cref="ValueKind"/>). <c>Value at</c> is the
    /// value object's identity hash (managed objects move: no stable address exists); <c>serializedlength</c> is the RDB
    /// size without LZF compression; <c>lru</c> is the entry's raw access word (tenths of a second under LRU); idle seconds
    /// are 0 under an LFU policy (the word then holds the frequency). A missing key: <c>-ERR no such key</c>. Records no access.
    /// </summary>
    private static void Object(ClientSession client, ReadOnlySpan<byte> key)
    {
        using ShardWriteScope locked = LockForRead(client.Database, key);
        KeyEntry? entry = client.Database.FindNoTouch(key);
        if (entry == null)
        {
            client.Writer.WriteError(CommandErrors.NoSuchKey);
            return;
        }
        ValueKind kind = entry.Kind;
        ServerOptions options = client.Server.Options;
        KeyLifetime lifetime = client.Database.Lifetime;
        string text = string.Create(CultureInfo.InvariantCulture,
            $"Value at:0x{RuntimeHelpers.GetHashCode(entry.Value):x} refcount:{kind.RefCount(entry.Value, options)} encoding:{kind.Encoding(entry.Value, options)} serializedlength:{kind.SerializedLength(entry.Value, options)} lru:{entry.LruClock} lru_seconds_idle:{(lifetime.Lfu ? 0 : lifetime.IdleSeconds(entry))}");
        client.Writer.WriteSimpleString(System.Text.Encoding.ASCII.GetBytes(text));
    }

    /// <summary>
    /// <c>DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]</c> (Redis 7.0's <c>debug.c</c>): saves the dataset to <c>dir/dbfilename</c> (unless
    /// NOSAVE; a failed save answers <c>-ERR</c>), empties every database and the function libraries (unless NOFLUSH), and loads
    /// the file back (MERGE: a key already present is replaced rather than failing the load); <c>+OK</c>, or <c>-ERR Error trying
    /// to load the RDB dump</c> (logged with the offset and reason). Other clients get <c>-LOADING</c> meanwhile. Another option:
    /// <c>-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.</c>.
    /// </summary>
    private static void Reload(ClientSession client, in CommandArgs args)
    {
        bool merge = false, flush = true, save = true;
        for (int j = 2; j < args.Count; j++)
        {
            if (args.Is(j, "MERGE"u8)) merge = true;
            else if (args.Is(j, "NOFLUSH"u8)) flush = false;
            else if (args.Is(j, "NOSAVE"u8)) save = false;
            else
            {
                client.Writer.WriteError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
        RespServer server = client.Server;
        if (save && server.Snapshots.Save() is not null)
        {
            client.Writer.WriteError("ERR");
            return;
        }
        server.Loading = true;
        try
        {
            if (flush)
            {
                server.Keyspace.FlushAll();
                server.FunctionsIfCreated?.Flush();
            }
            server.Snapshots.LoadFile(server.Snapshots.FilePath, skipExpired: true, allowDuplicates: merge);
        }
        catch (Exception e) when (e is Persistence.Rdb.RdbLoadException or IOException or UnauthorizedAccessException)
        {
            server.Logger.LogWarning("DEBUG RELOAD: {Reason}", e.Message);
            client.Writer.WriteError("ERR Error trying to load the RDB dump");
            return;
        }
        finally
        {
            server.Loading = false;
        }
        server.Logger.LogWarning("DB reloaded by DEBUG RELOAD");
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>DEBUG DIGEST-VALUE [key ...]</c>: an array with, per key, the 40 hex digits of its value digest as a simple string
    /// (Redis's <c>xorObjectDigest</c> into 20 zero bytes, <see cref="RedisDigest.AddValue"/>); all zeros for a missing key.
    /// <c>DEBUG DIGEST</c> is the whole dataset's (<see cref="RedisDigest.Dataset"/>). Both equal redis-server's for the same data.
    /// </summary>
    private static void DigestValue(ClientSession client, in CommandArgs args)
    {
        client.Writer.WriteArrayHeader(args.Count - 2);
        Span<byte> digest = stackalloc byte[RedisDigest.Length];
        for (int i = 2; i < args.Count; i++)
        {
            digest.Clear();
            using ShardWriteScope locked = LockForRead(client.Database, args[i]);
            KeyEntry? entry = client.Database.FindNoTouch(args[i]);
            client.CountLookup(entry != null, args[i]);
            if (entry != null) RedisDigest.AddValue(digest, entry);
            client.Writer.WriteSimpleString(Hex(digest));
        }
    }

    /// <summary>
    /// The shard lock of <paramref name="key"/> for a read of its value (DEBUG is keyless to the executor, which runs it
    /// without locks, while lists, sets and sorted sets change in place under that lock); nothing inside a transaction,
    /// whose lock set the executor fixed beforehand.
    /// </summary>
    private static ShardWriteScope LockForRead(Database db, ReadOnlySpan<byte> key) =>
        TransactionLocks.HeldByCurrentThread ? default : db.LockKey(key);

    /// <summary>Lower-case hex digits of <paramref name="bytes"/> (ASCII).</summary>
    private static byte[] Hex(ReadOnlySpan<byte> bytes) => System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(bytes));

    /// <summary>
    /// <c>DEBUG SLEEP seconds</c>: <c>+OK</c> after sleeping (decimals allowed; text that is not a number sleeps 0, as
    /// <c>strtod</c>). Redis stops the whole server; RespKv blocks only the calling connection's thread, so clients served
    /// by other threads go on (a documented difference).
    /// </summary>
    private static void Sleep(ClientSession client, ReadOnlySpan<byte> seconds)
    {
        double value = ParseLeadingDouble(seconds);
        if (value > 0) Thread.Sleep(TimeSpan.FromMicroseconds(Math.Min(value * 1_000_000, TimeSpan.MaxValue.TotalMicroseconds / 2)));
        client.Writer.WriteOk();
    }

    /// <summary>The number at the start of <paramref name="text"/>, 0 when there is none (C's <c>strtod</c>, decimal forms only).</summary>
    internal static double ParseLeadingDouble(ReadOnlySpan<byte> text)
    {
        int end = 0;
        if (end < text.Length && text[end] is (byte)'+' or (byte)'-') end++;
        while (end < text.Length && (char.IsAsciiDigit((char)text[end]) || text[end] == (byte)'.')) end++;
        if (end < text.Length && text[end] is (byte)'e' or (byte)'E')
        {
            int exponent = end + 1;
            if (exponent < text.Length && text[exponent] is (byte)'+' or (byte)'-') exponent++;
            int digits = exponent;
            while (digits < text.Length && char.IsAsciiDigit((char)text[digits])) digits++;
            if (digits > exponent) end = digits;
        }
        for (; end > 0; end--)
            if (double.TryParse(text[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        return 0;
    }

    /// <summary>The integer at the start of <paramref name="text"/>, 0 when there is none (C's <c>atoi</c>, saturating).</summary>
    internal static long ParseLeadingInt(ReadOnlySpan<byte> text)
    {
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-') negative = text[i++] == (byte)'-';
        long value = 0;
        for (; i < text.Length && char.IsAsciiDigit((char)text[i]); i++)
            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (text[i] - '0');
        return negative ? -value : value;
    }

    /// <summary><c>DEBUG HELP</c>: Redis 7.0's help lines for the subcommands RespKv has.</summary>
    private static void Help(RespWriter w) => w.WriteHelp("DEBUG",
    [
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
    ]);
}
