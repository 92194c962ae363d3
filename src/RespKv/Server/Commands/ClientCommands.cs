using System.Globalization;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// CLIENT subcommands: SETNAME, GETNAME, ID, LIST, INFO, KILL, NO-EVICT, PAUSE, UNPAUSE, UNBLOCK, REPLY,
/// TRACKING, CACHING, GETREDIR, TRACKINGINFO (client-side caching, <see cref="ClientTracking"/>), HELP, with Redis's replies
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
            new SessionCommandInfo("caching", 3, NoScript | Loading | Stale, 0, 0, 0, "connection", "Instruct the server about tracking or not keys in the next request", Caching),
            new SessionCommandInfo("getredir", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Get tracking notifications redirection client ID if any", GetRedir),
            new SessionCommandInfo("getname", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Get the current connection name", GetName),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "connection", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("id", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Returns the client ID for the current connection", Id),
            new SessionCommandInfo("info", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Returns information about the current client connection.", Info),
            new SessionCommandInfo("kill", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Kill the connection of a client", Kill),
            new SessionCommandInfo("list", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Get the list of client connections", List),
            new SessionCommandInfo("no-evict", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Set client eviction mode for the current connection", NoEvict),
            new SessionCommandInfo("pause", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Stop processing commands from clients for some time", Pause),
            new SessionCommandInfo("reply", 3, NoScript | Loading | Stale, 0, 0, 0, "connection", "Instruct the server whether to reply to commands", Reply),
            new SessionCommandInfo("tracking", -3, NoScript | Loading | Stale, 0, 0, 0, "connection", "Enable or disable server assisted client side caching support", Tracking),
            new SessionCommandInfo("trackinginfo", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Return information about server assisted client side caching for the current connection", TrackingInfo),
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

    /// <summary><c>CLIENT GETREDIR</c>: the client id invalidations are redirected to; <c>0</c> when tracking without REDIRECT, <c>-1</c> when tracking is off.</summary>
    private static void GetRedir(ClientSession client, in CommandArgs args)
    {
        TrackingInfo info = client.Server.Tracking.Info(client);
        client.Writer.WriteInteger(info.On ? info.Redirect : -1);
    }

    /// <summary>
    /// <c>CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]</c>
    /// (https://redis.io/commands/client-tracking/): turns client-side caching tracking on (again: the options replace the
    /// previous ones, prefixes add up) or off; <c>+OK</c>. Errors in Redis 7.0's order: options first —
    /// <c>-ERR A client can only redirect to a single other client</c>, a non-integer id (<c>-ERR value is not an integer or
    /// out of range</c>), <c>-ERR The client ID you want redirect to does not exist</c>, <c>-ERR syntax error</c> (an unknown
    /// option, or a keyword missing its value); then for ON: <c>-ERR PREFIX option requires BCAST mode to be enabled</c>,
    /// <c>-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a
    /// different mode.</c>, <c>-ERR OPTIN and OPTOUT are not compatible with BCAST</c>, <c>-ERR You can't specify both OPTIN
    /// mode and OPTOUT mode</c>, <c>-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then
    /// re-enabling it with a different mode.</c>, and the prefix overlap errors (<see cref="ClientTracking.PrefixCollision"/>);
    /// neither ON nor OFF: <c>-ERR syntax error</c>. A RESP2 client may track without REDIRECT (its invalidations cannot be
    /// delivered, as in Redis).
    /// </summary>
    private static void Tracking(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        long redirect = 0;
        TrackingMode mode = TrackingMode.None;
        var prefixes = new List<byte[]>();
        for (int j = 3; j < args.Count; j++)
        {
            bool more = j + 1 < args.Count;
            if (more && args.Is(j, "REDIRECT"u8))
            {
                j++;
                if (redirect != 0)
                {
                    w.WriteError("ERR A client can only redirect to a single other client");
                    return;
                }
                if (!RespInteger.TryParse(args[j], out redirect))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (client.Server.Clients.Find(redirect) == null)
                {
                    w.WriteError("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (args.Is(j, "BCAST"u8)) mode |= TrackingMode.Bcast;
            else if (args.Is(j, "OPTIN"u8)) mode |= TrackingMode.OptIn;
            else if (args.Is(j, "OPTOUT"u8)) mode |= TrackingMode.OptOut;
            else if (args.Is(j, "NOLOOP"u8)) mode |= TrackingMode.NoLoop;
            else if (more && args.Is(j, "PREFIX"u8)) prefixes.Add(args[++j].ToArray());
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        ClientTracking tracking = client.Server.Tracking;
        if (args.Is(2, "OFF"u8))
        {
            tracking.Disable(client);
            w.WriteOk();
            return;
        }
        if (!args.Is(2, "ON"u8))
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        TrackingInfo current = tracking.Info(client);
        bool bcast = (mode & TrackingMode.Bcast) != 0;
        string? error = null;
        if (!bcast && prefixes.Count > 0) error = "ERR PREFIX option requires BCAST mode to be enabled";
        else if (current.On && ((current.Mode & TrackingMode.Bcast) != 0) != bcast)
            error = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
        else if (bcast && (mode & (TrackingMode.OptIn | TrackingMode.OptOut)) != 0) error = "ERR OPTIN and OPTOUT are not compatible with BCAST";
        else if ((mode & (TrackingMode.OptIn | TrackingMode.OptOut)) == (TrackingMode.OptIn | TrackingMode.OptOut))
            error = "ERR You can't specify both OPTIN mode and OPTOUT mode";
        else if (((mode & TrackingMode.OptIn) != 0 && (current.Mode & TrackingMode.OptOut) != 0)
                 || ((mode & TrackingMode.OptOut) != 0 && (current.Mode & TrackingMode.OptIn) != 0))
            error = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
        else if (bcast) error = tracking.PrefixCollision(client, prefixes);
        if (error != null)
        {
            w.WriteError(error);
            return;
        }
        tracking.Enable(client, redirect, mode, prefixes);
        w.WriteOk();
    }

    /// <summary>
    /// <c>CLIENT CACHING YES|NO</c>: in OPTIN mode YES, in OPTOUT mode NO, makes the next command (or the next transaction)
    /// remember, or not remember, its keys; <c>+OK</c>. Errors as Redis 7.0: <c>-ERR CLIENT CACHING can be called only when
    /// the client is in tracking mode with OPTIN or OPTOUT mode enabled</c> (tracking off), <c>-ERR CLIENT CACHING YES is only
    /// valid when tracking is enabled in OPTIN mode.</c>, <c>-ERR CLIENT CACHING NO is only valid when tracking is enabled in
    /// OPTOUT mode.</c>, <c>-ERR syntax error</c>.
    /// </summary>
    private static void Caching(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        TrackingState state = client.Tracking;
        if (!state.On)
        {
            w.WriteError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        if (args.Is(2, "YES"u8))
        {
            if (!state.OptIn)
            {
                w.WriteError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
                return;
            }
        }
        else if (args.Is(2, "NO"u8))
        {
            if (!state.OptOut)
            {
                w.WriteError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
                return;
            }
        }
        else
        {
            w.WriteError(CommandErrors.Syntax);
            return;
        }
        state.SetCaching(client.CurrentCommand!.Parent);
        w.WriteOk();
    }

    /// <summary>
    /// <c>CLIENT TRACKINGINFO</c>: a map (RESP2: a flat array) of <c>flags</c> — a set (RESP2 array) of <c>off</c>/<c>on</c>,
    /// then <c>bcast</c>, <c>optin</c> and <c>caching-yes</c>, <c>optout</c> and <c>caching-no</c>, <c>noloop</c>,
    /// <c>broken_redirect</c> as they apply —, <c>redirect</c> (-1 when off, 0 without REDIRECT) and <c>prefixes</c> (the BCAST
    /// prefixes in byte order), as Redis 7.0.
    /// </summary>
    private static void TrackingInfo(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        TrackingInfo info = client.Server.Tracking.Info(client);
        var flags = new List<string> { info.On ? "on" : "off" };
        if ((info.Mode & TrackingMode.Bcast) != 0) flags.Add("bcast");
        if ((info.Mode & TrackingMode.OptIn) != 0)
        {
            flags.Add("optin");
            if (info.Caching) flags.Add("caching-yes");
        }
        if ((info.Mode & TrackingMode.OptOut) != 0)
        {
            flags.Add("optout");
            if (info.Caching) flags.Add("caching-no");
        }
        if ((info.Mode & TrackingMode.NoLoop) != 0) flags.Add("noloop");
        if (info.BrokenRedirect) flags.Add("broken_redirect");
        w.WriteMapHeader(3);
        w.WriteBulkString("flags");
        w.WriteSetHeader(flags.Count);
        foreach (string flag in flags) w.WriteBulkString(flag);
        w.WriteBulkString("redirect");
        w.WriteInteger(info.On ? info.Redirect : -1);
        w.WriteBulkString("prefixes");
        w.WriteArrayHeader(info.Prefixes.Length);
        foreach (byte[] prefix in info.Prefixes) w.WriteBulkString(prefix);
    }

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
        Security.AclUser? user = null;
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
                    // Redis's ACLGetUserByName: names are case-sensitive.
                    user = client.Server.Acl.Find(Security.AccessControl.Latin1(args[i + 1]));
                    if (user == null)
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
                || (id != 0 && c.Id != id) || (user != null && !ReferenceEquals(c.User, user))
                || (c == client && skipMe) || c.CloseRequested) continue;
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
    /// CLIENT INFO and the log lines that name a client).
    /// Fields RespKv cannot know exactly are honest approximations:
    /// <list type="bullet">
    /// <item><c>fd=-1</c>: Kestrel owns the socket and does not expose its descriptor (-1 is what Redis prints for a client without one).</item>
    /// <item><c>qbuf</c>: the received bytes not yet consumed while the client runs a command (its own CLIENT LIST/INFO
    /// shows the request itself, as Redis), else 0; <c>qbuf-free=0</c>: the receive buffer belongs to the connection's pipe.</item>
    /// <item><c>argv-mem</c>: the byte length of the running command's arguments (only the caller has one); Redis counts allocator sizes.</item>
    /// <item><c>rbs=0 rbp=0 obl=0 oll=0 omem=0</c>: replies go straight into the pipe and are flushed once per read, so no per-client reply buffer exists to measure.</item>
    /// <item><c>tot-mem</c>: the memory accounted above (argv-mem).</item>
    /// <item><c>flags</c>: <c>O</c> for a monitor, <c>P</c> while subscribed, <c>x</c> inside MULTI, <c>b</c> while held back by CLIENT PAUSE, <c>e</c> with CLIENT NO-EVICT on, else <c>N</c>, in Redis's order; <c>multi</c>: queued commands inside MULTI, else -1;
    /// <c>multi-mem</c>: bytes of the queued arguments (Redis counts allocator sizes).</item>
    /// <item><c>sub</c>, <c>psub</c>, <c>ssub</c>: the client's channel, pattern and shard-channel subscriptions.</item>
    /// <item><c>events=r</c>; <c>user</c>: the client's ACL user; <c>redir</c>: the tracking redirect (0 without one), -1 when tracking is off.</item>
    /// </list>
    /// </summary>
    internal static void AppendClientLine(StringBuilder text, ClientSession c, long argvMemory)
    {
        long age = (long)(DateTime.UtcNow - c.ConnectedAt).TotalSeconds;
        long idle = (Environment.TickCount64 - c.LastInteractionMs) / 1000;
        CultureInfo inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"id={c.Id} addr={c.RemoteAddress} laddr={c.LocalAddress} fd=-1 name={c.Name} age={age} idle={idle}")
            .Append(inv, $" flags={Flags(c)} db={c.Database.Index} sub={c.ChannelCount} psub={c.PatternCount} ssub={c.ShardChannelCount} multi={(c.InMulti ? c.Transaction.Count : -1)} qbuf={c.QueryBufferBytes} qbuf-free=0")
            .Append(inv, $" argv-mem={argvMemory} multi-mem={(c.InMulti ? c.Transaction.QueuedBytes : 0)} rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem={argvMemory}")
            .Append(inv, $" events=r cmd={c.LastCommand} user={c.User.Name} redir={(c.Tracking.On ? c.Tracking.Redirect : -1)} resp={c.Writer.Protocol}\n");
    }

    /// <summary>The CLIENT LIST <c>flags</c> field, in Redis's catClientInfoString order (<c>S</c> a replica's link, <c>M</c> the primary's, <c>t</c> tracking, <c>R</c> broken redirect, <c>B</c> BCAST).</summary>
    private static string Flags(ClientSession c)
    {
        TrackingState t = c.Tracking;
        string flags = (c.IsMonitor ? "O" : "") + (c.ReplicaHandoff != null ? "S" : "") + (c.IsMaster ? "M" : "") + (c.IsSubscribed ? "P" : "") + (c.InMulti ? "x" : "") + (c.IsBlocked ? "b" : "")
            + (t.On ? "t" : "") + (t.BrokenRedirect ? "R" : "") + (t.Bcast ? "B" : "") + (c.NoEvict ? "e" : "");
        return flags.Length == 0 ? "N" : flags;
    }

    /// <summary><c>CLIENT HELP</c>: Redis 7.0.15's text.</summary>
    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("CLIENT",
    [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
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
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ]);
}
