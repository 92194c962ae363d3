using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Persistence;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// <c>DEBUG</c> (https://redis.io/commands/debug/, Redis 7.0's <c>debug.c</c>): the subcommands Redis's own test suite and
/// client test suites use — OBJECT, DIGEST, DIGEST-VALUE, SLEEP, SET-ACTIVE-EXPIRE, LOG, ERROR, LOADAOF, POPULATE, PROTOCOL,
/// QUICKLIST-PACKED-THRESHOLD, RELOAD, SET-SKIP-CHECKSUM-VALIDATION, SET-DISABLE-DENY-SCRIPTS, PAUSE-CRON, HELP — with Redis 7.0's replies. Another subcommand, or a known one with
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
        else if (args.Count == 2 && args.Is(1, "LOADAOF"u8)) LoadAof(client);
        else if (args.Count is >= 3 and <= 5 && args.Is(1, "POPULATE"u8)) Populate(client, args);
        else if (args.Count == 3 && args.Is(1, "PROTOCOL"u8)) Protocol(w, args[2]);
        else if (args.Count == 3 && args.Is(1, "QUICKLIST-PACKED-THRESHOLD"u8)) PackedThreshold(client, args[2]);
        else if (args.Count == 3 && args.Is(1, "SET-SKIP-CHECKSUM-VALIDATION"u8))
        {
            client.Server.Options.SkipChecksumValidation = ParseLeadingInt(args[2]) != 0;
            w.WriteOk();
        }
        else if (args.Count == 3 && args.Is(1, "SET-DISABLE-DENY-SCRIPTS"u8))
        {
            client.Server.Options.DisableDenyScripts = ParseLeadingInt(args[2]) != 0;
            w.WriteOk();
        }
        else if (args.Count == 3 && args.Is(1, "PAUSE-CRON"u8))
        {
            client.Server.CronPaused = ParseLeadingInt(args[2]) != 0;
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
    /// <c>DEBUG LOADAOF</c>: fsyncs the AOF (when on), empties every database and the function libraries, and loads the AOF
    /// files back (<see cref="AofLoader.FindFiles"/>: RespKv's file or a redis-server <c>appendonlydir/</c>; none loads
    /// nothing) as at start-up, without logging the replay again. Other clients get <c>-LOADING</c> meanwhile; commands that
    /// were already running finish first. <c>+OK</c>; a file that cannot be loaded answers <c>-ERR</c> with the loader's
    /// reason (Redis exits instead).
    /// </summary>
    private static void LoadAof(ClientSession client)
    {
        RespServer server = client.Server;
        server.Aof?.Flush(TimeSpan.FromSeconds(30));
        server.Loading = true;
        try
        {
            var locks = new TransactionLocks();
            locks.AddEveryDatabase(server.Keyspace);
            locks.Acquire(); // waits for writes admitted before Loading was set
            try
            {
                server.Keyspace.FlushAll();
                server.FunctionsIfCreated?.Flush();
            }
            finally
            {
                locks.Release();
            }
            IReadOnlyList<string> files = AofLoader.FindFiles(server.Options);
            if (files.Count > 0) AofLoader.Load(new AofReplayClient(server), server.Keyspace, server.Logger, files, server.Options.AofLoadTruncated);
            server.Tracking.InvalidateAll();
            server.Logger.LogWarning("Append Only File loaded by DEBUG LOADAOF");
            client.Writer.WriteOk();
        }
        catch (AofLoadException e)
        {
            client.Writer.WriteError("ERR " + e.Message);
        }
        finally
        {
            server.Loading = false;
        }
    }

    /// <summary>
    /// <c>DEBUG POPULATE count [prefix] [size]</c>: creates string keys <c>prefix:N</c> (prefix <c>key</c>) for N from 0 to
    /// count − 1 in the selected database, each valued <c>value:N</c> — or, with <c>size</c>, a value of exactly that many
    /// bytes starting with <c>value:N</c> and padded with zero bytes; keys that exist are left alone. Not propagated
    /// (Redis: "These are not propagated to replicas"). A count or size that is not a non-negative integer:
    /// <c>-ERR value is out of range, must be positive</c>.
    /// </summary>
    private static void Populate(ClientSession client, in CommandArgs args)
    {
        long size = 0;
        if (!TryPositive(client, args[2], out long count) || (args.Count == 5 && !TryPositive(client, args[4], out size))) return;
        byte[] prefix = args.Count >= 4 ? args[3].ToArray() : "key"u8.ToArray();
        Database db = client.Database;
        Span<byte> key = stackalloc byte[prefix.Length + 21];
        prefix.CopyTo(key);
        key[prefix.Length] = (byte)':';
        Span<byte> text = stackalloc byte[32];
        "value:"u8.CopyTo(text);
        for (long j = 0; j < count; j++)
        {
            j.TryFormat(key[(prefix.Length + 1)..], out int digits, provider: CultureInfo.InvariantCulture);
            ReadOnlySpan<byte> name = key[..(prefix.Length + 1 + digits)];
            j.TryFormat(text[6..], out int valueDigits, provider: CultureInfo.InvariantCulture);
            ReadOnlySpan<byte> valueText = text[..(6 + valueDigits)];
            using ShardWriteScope locked = TransactionLocks.HeldByCurrentThread ? default : db.LockKey(name);
            if (db.FindNoTouch(name) != null) continue;
            byte[] value = size == 0 ? valueText.ToArray() : new byte[size];
            if (size != 0) valueText[..(int)Math.Min(size, valueText.Length)].CopyTo(value);
            db.Set(name, value);
        }
        client.Writer.WriteOk();
    }

    /// <summary>
    /// Redis's <c>getPositiveLongFromObjectOrReply</c> without a message: a non-negative integer, else
    /// <c>-ERR value is out of range, must be positive</c> (for text that is no integer too).
    /// </summary>
    private static bool TryPositive(ClientSession client, ReadOnlySpan<byte> text, out long value)
    {
        if (RespInteger.TryParse(text, out value) && value >= 0) return true;
        client.Writer.WriteError("ERR value is out of range, must be positive");
        return false;
    }

    /// <summary>
    /// <c>DEBUG PROTOCOL type</c>: a sample reply of each RESP type, as Redis 7.0 writes it (RESP2 gets the RESP2 form):
    /// string <c>Hello World</c>, integer 12345, double 3.141, bignum 1234567999999999999999999999999999999, null, array
    /// [0 1 2], set {0 1 2}, map {0:false 1:true 2:false}, attrib (RESP3 only: <c>key-popularity</c> → [key:123 90]) then a
    /// bulk string, push (RESP3 only; RESP2 <c>-ERR RESP2 is not supported by this command</c>) then a bulk string,
    /// verbatim <c>txt</c>, true, false. Another name: <c>-ERR Wrong protocol type name. Please use one of the following:
    /// string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false</c>.
    /// </summary>
    private static void Protocol(RespWriter w, ReadOnlySpan<byte> type)
    {
        bool resp3 = w.Protocol >= 3;
        switch (System.Text.Encoding.ASCII.GetString(type).ToLowerInvariant())
        {
            case "string": w.WriteBulkString("Hello World"); break;
            case "integer": w.WriteInteger(12345); break;
            case "double": w.WriteDouble(3.141); break;
            case "bignum":
                if (resp3) w.WriteRaw("(1234567999999999999999999999999999999\r\n"u8);
                else w.WriteBulkString("1234567999999999999999999999999999999");
                break;
            case "null": w.WriteNullBulkString(); break;
            case "array":
                w.WriteArrayHeader(3);
                for (int j = 0; j < 3; j++) w.WriteInteger(j);
                break;
            case "set":
                w.WriteSetHeader(3);
                for (int j = 0; j < 3; j++) w.WriteInteger(j);
                break;
            case "map":
                w.WriteMapHeader(3);
                for (int j = 0; j < 3; j++)
                {
                    w.WriteInteger(j);
                    WriteBoolean(w, j == 1);
                }
                break;
            case "attrib":
                if (resp3) w.WriteRaw("|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"u8);
                w.WriteBulkString("Some real reply following the attribute");
                break;
            case "push":
                if (!resp3)
                {
                    w.WriteError("ERR RESP2 is not supported by this command");
                    break;
                }
                w.WritePushHeader(2);
                w.WriteBulkString("server-cpu-usage");
                w.WriteInteger(42);
                w.WriteBulkString("Some real reply following the push reply");
                break;
            case "true": WriteBoolean(w, true); break;
            case "false": WriteBoolean(w, false); break;
            case "verbatim": w.WriteVerbatimText("This is a verbatim\nstring"); break;
            default:
                w.WriteError("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
                break;
        }
    }

    /// <summary>A RESP3 boolean (<c>#t</c>/<c>#f</c>); RESP2 gets the integer 1 or 0 (Redis's <c>addReplyBool</c>).</summary>
    private static void WriteBoolean(RespWriter w, bool value)
    {
        if (w.Protocol >= 3) w.WriteRaw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        else w.WriteInteger(value ? 1 : 0);
    }

    /// <summary>
    /// <c>DEBUG QUICKLIST-PACKED-THRESHOLD size</c> (a memory value: <c>100</c>, <c>1kb</c>, <c>1b</c>…): list elements of
    /// that many bytes or more take a plain quicklist node of their own in RDB output (DUMP, snapshots), as Redis's
    /// <c>packed_threshold</c> (<see cref="ServerOptions.QuicklistPackedThreshold"/>); 0 restores the default 1 GB. Redis applies
    /// the threshold when an element is inserted, RespKv when the list is written out: a list filled under one threshold and
    /// dumped under another is cut into nodes by the later one (same elements).
    /// Above 4 GB − 1 MB or not a memory value: <c>-ERR argument must be a memory value bigger than 1 and smaller than 4gb</c>.
    /// </summary>
    private static void PackedThreshold(ClientSession client, ReadOnlySpan<byte> text)
    {
        if (!ServerOptions.TryParseMemory(System.Text.Encoding.ASCII.GetString(text), out long size) || size < 0 || size > (1L << 32) - (1 << 20))
        {
            client.Writer.WriteError("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
            return;
        }
        client.Server.Options.QuicklistPackedThreshold = size == 0 ? ServerOptions.DefaultQuicklistPackedThreshold : size;
        client.Writer.WriteOk();
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
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "PAUSE-CRON <0|1>",
        "    Stop periodic cron job processing.",
    ]);
}
