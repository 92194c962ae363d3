using System.Globalization;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// CLIENT subcommands: SETNAME, GETNAME, ID, SETINFO, LIST, INFO, KILL, NO-EVICT, PAUSE, UNPAUSE, UNBLOCK, REPLY,
/// GETREDIR, HELP, with Redis's replies
/// (https://redis.io/commands/client/). Unknown subcommands are answered centrally from the table.
/// </summary>
public static class ClientCommands
{
    /// <summary>Redis's reply to a client name with spaces or special characters.</summary>
    public const string InvalidNameError = "ERR Client names cannot contain spaces, newlines or special characters.";

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("client", -2, None, 0, 0, 0, "connection", "A container for client connection commands", null,
            new SessionCommandInfo("getredir", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Get tracking notifications redirection client ID if any", GetRedir),
            new SessionCommandInfo("getname", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Get the current connection name", GetName),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "connection", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("id", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Returns the client ID for the current connection", Id),
            new SessionCommandInfo("info", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Returns information about the current client connection.", Info),
            new SessionCommandInfo("kill", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Kill the connection of a client", Kill),
            new SessionCommandInfo("list", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Get the list of client connections", List),
            // CLIENT SETINFO is Redis 7.2's (7.0.15 answers "unknown subcommand"); RespKv has it because
            // current client libraries send it on connect. Row and replies follow Redis 7.2.
            new SessionCommandInfo("no-evict", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Set client eviction mode for the current connection", NoEvict),
            new SessionCommandInfo("pause", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Stop processing commands from clients for some time", Pause),
            new SessionCommandInfo("reply", 3, NoScript | Loading | Stale, 0, 0, 0, "connection", "Instruct the server whether to reply to commands", Reply),
            new SessionCommandInfo("setinfo", 4, NoScript | Loading | Stale, 0, 0, 0, "connection", "Set client or connection specific info", SetInfo),
            new SessionCommandInfo("setname", 3, NoScript | Loading | Stale, 0, 0, 0, "connection", "Set the current connection name", SetName),
            new SessionCommandInfo("unblock", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Unblock a client blocked in a blocking command from a different connection", Unblock),
            new SessionCommandInfo("unpause", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Resume processing of clients that were paused", Unpause)),
    ];

    /// <summary>
    /// <c>CLIENT UNBLOCK client-id [TIMEOUT|ERROR]</c> (Redis 7.0): ends the block of a client blocked on keys (BLPOP…), as if its
    /// timeout passed (the default) or with <c>-UNBLOCKED client unblocked via CLIENT UNBLOCK</c>; <c>:1</c> when it was blocked,
    /// else <c>:0</c>. Errors: <c>-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR</c>, a non-integer id, more arguments.
    /// </summary>
    private static void Unblock(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        if (args.Count > 4)
        {
            w.WriteError($"ERR unknown subcommand or wrong number of arguments for '{Encoding.UTF8.GetString(args[1])}'. Try CLIENT HELP.");
            return;
        }
        bool error = false;
        if (args.Count == 4)
        {
            if (args.Is(3, "ERROR"u8)) error = true;
            else if (!args.Is(3, "TIMEOUT"u8))
            {
                w.WriteError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        if (!RespInteger.TryParse(args[2], out long id))
        {
            w.WriteError(CommandErrors.NotInteger);
            return;
        }
        ClientSession? target = client.Server.Clients.Find(id);
        w.WriteInteger(target != null && BlockedClients.Unblock(target, error) ? 1 : 0);
    }

    /// <summary>True when every byte is printable ASCII other than space ('!'..'~'), as Redis requires of client names.</summary>
    public static bool IsValidClientName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
            if (b < '!' || b > '~') return false;
        return true;
    }

    /// <summary><c>CLIENT GETNAME</c>: the name, or a null bulk string when none is set.</summary>
    private static void GetName(ClientSession client, in CommandArgs args)
    {
        if (client.Name == null) client.Writer.WriteNullBulkString();
        else client.Writer.WriteBulkString(client.Name);
    }

    /// <summary><c>CLIENT SETNAME name</c>: sets the name (an empty name clears it); <see cref="InvalidNameError"/> for spaces or special characters.</summary>
    private static void SetName(ClientSession client, in CommandArgs args)
    {
        if (!IsValidClientName(args[2]))
        {
            client.Writer.WriteError(InvalidNameError);
            return;
        }
        client.Name = args[2].IsEmpty ? null : Encoding.ASCII.GetString(args[2]);
        client.Writer.WriteOk();
    }

    /// <summary><c>CLIENT ID</c>: the connection's id.</summary>
    private static void Id(ClientSession client, in CommandArgs args) => client.Writer.WriteInteger(client.Id);

    /// <summary>
    /// <c>CLIENT SETINFO LIB-NAME|LIB-VER value</c> (Redis 7.2): records the client library's name or
    /// version for CLIENT LIST; an empty value clears it. Errors as Redis 7.2:
    /// <c>-ERR Unrecognized option 'x'</c>, <c>-ERR lib-name cannot contain spaces, newlines or special characters.</c>
    /// (the option as the client spelled it).
    /// </summary>
    private static void SetInfo(ClientSession client, in CommandArgs args)
    {
        bool name = args.Is(2, "LIB-NAME"u8);
        if (!name && !args.Is(2, "LIB-VER"u8))
        {
            client.Writer.WriteError($"ERR Unrecognized option '{Encoding.UTF8.GetString(args[2])}'");
            return;
        }
        if (!IsValidClientName(args[3]))
        {
            client.Writer.WriteError($"ERR {Encoding.UTF8.GetString(args[2])} cannot contain spaces, newlines or special characters.");
            return;
        }
        string? value = args[3].IsEmpty ? null : Encoding.ASCII.GetString(args[3]);
        if (name) client.LibName = value;
        else client.LibVersion = value;
        client.Writer.WriteOk();
    }

    /// <summary><c>CLIENT GETREDIR</c>: <c>-1</c>, the reply for a client without client-side caching tracking (RespKv has no CLIENT TRACKING).</summary>
    private static void GetRedir(ClientSession client, in CommandArgs args) => client.Writer.WriteInteger(-1);

    /// <summary>
    /// <c>CLIENT KILL ip:port</c> (old form: <c>+OK</c>, or <c>-ERR No such client</c>; may kill the caller) and
    /// <c>CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port] [USER name] [TYPE normal|master|replica|slave|pubsub]
    /// [SKIPME yes|no]</c> (new form: the number of clients killed; SKIPME defaults to yes), as Redis 7.0's
    /// clientCommand. A killed client's connection is closed (<see cref="ClientSession.Close"/>); the caller, when it
    /// kills itself, is closed after this reply. Errors: <c>-ERR client-id should be greater than 0</c>,
    /// <c>-ERR Unknown client type 'x'</c>, <c>-ERR No such user 'x'</c> (only <c>default</c> exists),
    /// otherwise <c>-ERR syntax error</c>. A RespKv client is of type pubsub while subscribed, else normal, and user default.
    /// </summary>
    private static void Kill(ClientSession client, in CommandArgs args)
    {
        string? addr = null, laddr = null;
        long id = 0;
        string? type = null;
        bool skipMe = true;
        if (args.Count == 3)
        {
            addr = Encoding.UTF8.GetString(args[2]);
            skipMe = false;
        }
        else
        {
            for (int i = 2; i < args.Count; i += 2)
            {
                bool more = i + 1 < args.Count;
                if (more && args.Is(i, "ID"u8))
                {
                    if (!RespInteger.TryParse(args[i + 1], out id) || id < 1)
                    {
                        client.Writer.WriteError("ERR client-id should be greater than 0");
                        return;
                    }
                }
                else if (more && args.Is(i, "TYPE"u8))
                {
                    type = ClientType(args[i + 1]);
                    if (type == null)
                    {
                        client.Writer.WriteError($"ERR Unknown client type '{Encoding.UTF8.GetString(args[i + 1])}'");
                        return;
                    }
                }
                else if (more && args.Is(i, "ADDR"u8)) addr = Encoding.UTF8.GetString(args[i + 1]);
                else if (more && args.Is(i, "LADDR"u8)) laddr = Encoding.UTF8.GetString(args[i + 1]);
                else if (more && args.Is(i, "USER"u8))
                {
                    // Only the default user exists (no ACL yet), and every client is authenticated as it; names are case-sensitive.
                    if (!args[i + 1].SequenceEqual("default"u8))
                    {
                        client.Writer.WriteError($"ERR No such user '{Encoding.UTF8.GetString(args[i + 1])}'");
                        return;
                    }
                }
                else if (more && args.Is(i, "SKIPME"u8))
                {
                    if (args.Is(i + 1, "YES"u8)) skipMe = true;
                    else if (args.Is(i + 1, "NO"u8)) skipMe = false;
                    else
                    {
                        client.Writer.WriteError(CommandErrors.Syntax);
                        return;
                    }
                }
                else
                {
                    client.Writer.WriteError(CommandErrors.Syntax);
                    return;
                }
            }
        }

        long killed = 0;
        bool closeSelf = false;
        foreach (ClientSession c in client.Server.Clients.Snapshot())
        {
            if ((type != null && TypeOf(c) != type) || (addr != null && c.RemoteAddress != addr) || (laddr != null && c.LocalAddress != laddr)
                || (id != 0 && c.Id != id) || (c == client && skipMe) || c.CloseRequested) continue;
            if (c == client) closeSelf = true;
            else c.Close();
            killed++;
        }
        if (args.Count != 3) client.Writer.WriteInteger(killed);
        else if (killed == 0) client.Writer.WriteError("ERR No such client");
        else client.Writer.WriteOk();
        if (closeSelf) client.CloseRequested = true;
    }

    /// <summary>Redis's <c>getClientTypeByName</c>: <c>normal</c>, <c>replica</c> (also <c>slave</c>), <c>pubsub</c>, <c>master</c> (any case); null for another name.</summary>
    private static string? ClientType(ReadOnlySpan<byte> name)
    {
        if (Ascii.EqualsIgnoreCase(name, "normal"u8)) return "normal";
        if (Ascii.EqualsIgnoreCase(name, "slave"u8) || Ascii.EqualsIgnoreCase(name, "replica"u8)) return "replica";
        if (Ascii.EqualsIgnoreCase(name, "pubsub"u8)) return "pubsub";
        return Ascii.EqualsIgnoreCase(name, "master"u8) ? "master" : null;
    }

    /// <summary>Redis's <c>getClientType</c>: <c>pubsub</c> while subscribed to anything, else <c>normal</c> (RespKv has no replication links).</summary>
    private static string TypeOf(ClientSession c) => c.IsSubscribed ? "pubsub" : "normal";

    /// <summary><c>CLIENT NO-EVICT ON|OFF</c>: sets the no-evict flag (<c>e</c> in CLIENT LIST); <c>+OK</c>, else <c>-ERR syntax error</c>.</summary>
    private static void NoEvict(ClientSession client, in CommandArgs args)
    {
        if (args.Is(2, "ON"u8)) client.NoEvict = true;
        else if (args.Is(2, "OFF"u8)) client.NoEvict = false;
        else
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>CLIENT PAUSE timeout [WRITE|ALL]</c>: holds back every client's commands (ALL, the default) or only write
    /// commands (WRITE) for <c>timeout</c> milliseconds (<see cref="ClientPause"/>); <c>+OK</c>. Errors as Redis 7.0, the
    /// mode checked first: <c>-ERR CLIENT PAUSE mode must be WRITE or ALL</c>, <c>-ERR timeout is not an integer or out of
    /// range</c>, <c>-ERR timeout is negative</c>; more than four arguments:
    /// <c>-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.</c> (the name as sent).
    /// </summary>
    private static void Pause(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 4)
        {
            client.Writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{Encoding.UTF8.GetString(args[1])}'. Try CLIENT HELP.");
            return;
        }
        ClientPauseKind kind = ClientPauseKind.All;
        if (args.Count == 4)
        {
            if (args.Is(3, "WRITE"u8)) kind = ClientPauseKind.Write;
            else if (!args.Is(3, "ALL"u8))
            {
                client.Writer.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        if (!RespInteger.TryParse(args[2], out long timeout))
        {
            client.Writer.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (timeout < 0)
        {
            client.Writer.WriteError("ERR timeout is negative");
            return;
        }
        // Redis 7.0.15 adds the timeout to the current Unix time in ms without an overflow check: a timeout that
        // overflows gives an end time already passed, so the pause ends at once (and still answers +OK).
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        client.Server.Clients.Pause.Pause(timeout > long.MaxValue - nowMs ? 0 : timeout, kind);
        client.Writer.WriteOk();
    }

    /// <summary><c>CLIENT UNPAUSE</c>: ends a CLIENT PAUSE, releasing the waiting clients; <c>+OK</c>.</summary>
    private static void Unpause(ClientSession client, in CommandArgs args)
    {
        client.Server.Clients.Pause.Unpause();
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>CLIENT REPLY ON|OFF|SKIP</c>: ON answers <c>+OK</c> and sends replies again; OFF suppresses every reply
    /// until ON; SKIP suppresses the next command's reply. OFF and SKIP themselves get no reply. Anything else:
    /// <c>-ERR syntax error</c>.
    /// </summary>
    private static void Reply(ClientSession client, in CommandArgs args)
    {
        if (args.Is(2, "ON"u8))
        {
            client.SetReplyMode(ClientReplyMode.On);
            client.Writer.WriteOk();
        }
        else if (args.Is(2, "OFF"u8)) client.SetReplyMode(ClientReplyMode.Off);
        else if (args.Is(2, "SKIP"u8)) client.SetReplyMode(ClientReplyMode.SkipNext);
        else client.Writer.WriteError(CommandErrors.Syntax);
    }

    /// <summary><c>CLIENT INFO</c>: the connection's CLIENT LIST line (with its trailing <c>\n</c>), verbatim in RESP3.</summary>
    private static void Info(ClientSession client, in CommandArgs args)
    {
        var text = new StringBuilder(320);
        AppendClientLine(text, client, ArgvMemory(args));
        client.Writer.WriteVerbatimText(text.ToString());
    }

    /// <summary>
    /// <c>CLIENT LIST [TYPE normal|master|replica|slave|pubsub] | [ID id [id ...]]</c>: one line per
    /// client, each ending in <c>\n</c>, as a bulk string (verbatim in RESP3). Every RespKv client is of
    /// type normal, or pubsub while subscribed (no replication yet). IDs are listed in the order given, unknown ones
    /// skipped. Errors as Redis: <c>-ERR Unknown client type 'x'</c>, <c>-ERR Invalid client ID</c>,
    /// otherwise <c>-ERR syntax error</c>.
    /// </summary>
    private static void List(ClientSession client, in CommandArgs args)
    {
        var text = new StringBuilder(320);
        long argvMemory = ArgvMemory(args);
        if (args.Count == 4 && args.Is(2, "TYPE"u8))
        {
            string? type = ClientType(args[3]);
            if (type == null)
            {
                client.Writer.WriteError($"ERR Unknown client type '{Encoding.UTF8.GetString(args[3])}'");
                return;
            }
            AppendAll(text, client, argvMemory, type);
        }
        else if (args.Count > 3 && args.Is(2, "ID"u8))
        {
            for (int i = 3; i < args.Count; i++)
            {
                if (!RespInteger.TryParse(args[i], out long id))
                {
                    client.Writer.WriteError("ERR Invalid client ID");
                    return;
                }
                if (client.Server.Clients.Find(id) is { } listed)
                    AppendClientLine(text, listed, listed == client ? argvMemory : 0);
            }
        }
        else if (args.Count != 2)
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        else AppendAll(text, client, argvMemory);
        client.Writer.WriteVerbatimText(text.ToString());
    }

    private static void AppendAll(StringBuilder text, ClientSession caller, long callerArgvMemory, string? type = null)
    {
        foreach (ClientSession c in caller.Server.Clients.Snapshot())
            if (type == null || TypeOf(c) == type) AppendClientLine(text, c, c == caller ? callerArgvMemory : 0);
    }

    /// <summary>Bytes of the running command's arguments (<c>argv-mem</c>): only the caller is running one.</summary>
    private static long ArgvMemory(in CommandArgs args)
    {
        long bytes = 0;
        foreach (ArgSlice slice in args.Slices) bytes += slice.Length;
        return bytes;
    }

    /// <summary>
    /// Appends one client's line (ending in a newline) in Redis 7.0's field order (<c>catClientInfoString</c>: CLIENT LIST,
    /// CLIENT INFO and the log lines that name a client), plus 7.2's <c>lib-name</c>/<c>lib-ver</c>.
    /// Fields RespKv cannot know exactly are honest approximations:
    /// <list type="bullet">
    /// <item><c>fd=-1</c>: Kestrel owns the socket and does not expose its descriptor (-1 is what Redis prints for a client without one).</item>
    /// <item><c>qbuf=0 qbuf-free=0</c>: the receive buffer belongs to the connection's pipe and is not measured.</item>
    /// <item><c>argv-mem</c>: the byte length of the running command's arguments (only the caller has one); Redis counts allocator sizes.</item>
    /// <item><c>rbs=0 rbp=0 obl=0 oll=0 omem=0</c>: replies go straight into the pipe and are flushed once per read, so no per-client reply buffer exists to measure.</item>
    /// <item><c>tot-mem</c>: the memory accounted above (argv-mem).</item>
    /// <item><c>flags</c>: <c>O</c> for a monitor, <c>P</c> while subscribed, <c>x</c> inside MULTI, <c>b</c> while held back by CLIENT PAUSE, <c>e</c> with CLIENT NO-EVICT on, else <c>N</c>, in Redis's order; <c>multi</c>: queued commands inside MULTI, else -1;
    /// <c>multi-mem</c>: bytes of the queued arguments (Redis counts allocator sizes).</item>
    /// <item><c>sub</c>, <c>psub</c>, <c>ssub</c>: the client's channel, pattern and shard-channel subscriptions.</item>
    /// <item><c>events=r user=default redir=-1</c>: true until ACL users and client tracking exist.</item>
    /// </list>
    /// </summary>
    internal static void AppendClientLine(StringBuilder text, ClientSession c, long argvMemory)
    {
        long age = (long)(DateTime.UtcNow - c.ConnectedAt).TotalSeconds;
        long idle = (Environment.TickCount64 - c.LastInteractionMs) / 1000;
        CultureInfo inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"id={c.Id} addr={c.RemoteAddress} laddr={c.LocalAddress} fd=-1 name={c.Name} age={age} idle={idle}")
            .Append(inv, $" flags={Flags(c)} db={c.Database.Index} sub={c.ChannelCount} psub={c.PatternCount} ssub={c.ShardChannelCount} multi={(c.InMulti ? c.Transaction.Count : -1)} qbuf=0 qbuf-free=0")
            .Append(inv, $" argv-mem={argvMemory} multi-mem={(c.InMulti ? c.Transaction.QueuedBytes : 0)} rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem={argvMemory}")
            .Append(inv, $" events=r cmd={c.LastCommand} user=default redir=-1 resp={c.Writer.Protocol}")
            .Append(inv, $" lib-name={c.LibName} lib-ver={c.LibVersion}\n");
    }

    /// <summary>The CLIENT LIST <c>flags</c> field, in Redis's catClientInfoString order.</summary>
    private static string Flags(ClientSession c)
    {
        string flags = (c.IsMonitor ? "O" : "") + (c.IsSubscribed ? "P" : "") + (c.InMulti ? "x" : "") + (c.IsBlocked ? "b" : "") + (c.NoEvict ? "e" : "");
        return flags.Length == 0 ? "N" : flags;
    }

    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("CLIENT",
    [
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ]);
}
