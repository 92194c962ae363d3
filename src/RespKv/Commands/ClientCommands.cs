using System.Globalization;
using System.Text;
using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Commands.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// CLIENT subcommands: SETNAME, GETNAME, ID, SETINFO, LIST, INFO, HELP, with Redis's replies
/// (https://redis.io/commands/client/). Unknown subcommands are answered centrally from the table.
/// </summary>
public static class ClientCommands
{
    /// <summary>Redis's reply to a client name with spaces or special characters.</summary>
    public const string InvalidNameError = "ERR Client names cannot contain spaces, newlines or special characters.";

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("client", -2, None, 0, 0, 0, "connection", "A container for client connection commands", null,
            new("getname", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Get the current connection name", GetName),
            new("help", 2, Loading | Stale, 0, 0, 0, "connection", "Show helpful text about the different subcommands", Help),
            new("id", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Returns the client ID for the current connection", Id),
            new("info", 2, NoScript | Loading | Stale, 0, 0, 0, "connection", "Returns information about the current client connection.", Info),
            new("list", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, "connection", "Get the list of client connections", List),
            // CLIENT SETINFO is Redis 7.2's (7.0.15 answers "unknown subcommand"); RespKv has it because
            // current client libraries send it on connect. Row and replies follow Redis 7.2.
            new("setinfo", 4, NoScript | Loading | Stale, 0, 0, 0, "connection", "Set client or connection specific info", SetInfo),
            new("setname", 3, NoScript | Loading | Stale, 0, 0, 0, "connection", "Set the current connection name", SetName)),
    ];

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
    /// type normal (no replication or Pub/Sub yet). IDs are listed in the order given, unknown ones
    /// skipped. Errors as Redis: <c>-ERR Unknown client type 'x'</c>, <c>-ERR Invalid client ID</c>,
    /// otherwise <c>-ERR syntax error</c>.
    /// </summary>
    private static void List(ClientSession client, in CommandArgs args)
    {
        var text = new StringBuilder(320);
        long argvMemory = ArgvMemory(args);
        if (args.Count == 4 && args.Is(2, "TYPE"u8))
        {
            if (args.Is(3, "NORMAL"u8)) AppendAll(text, client, argvMemory);
            else if (!args.Is(3, "MASTER"u8) && !args.Is(3, "REPLICA"u8) && !args.Is(3, "SLAVE"u8) && !args.Is(3, "PUBSUB"u8))
            {
                client.Writer.WriteError($"ERR Unknown client type '{Encoding.UTF8.GetString(args[3])}'");
                return;
            }
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

    private static void AppendAll(StringBuilder text, ClientSession caller, long callerArgvMemory)
    {
        foreach (ClientSession c in caller.Server.Clients.Snapshot())
            AppendClientLine(text, c, c == caller ? callerArgvMemory : 0);
    }

    /// <summary>Bytes of the running command's arguments (<c>argv-mem</c>): only the caller is running one.</summary>
    private static long ArgvMemory(in CommandArgs args)
    {
        long bytes = 0;
        foreach (ArgSlice slice in args.Slices) bytes += slice.Length;
        return bytes;
    }

    /// <summary>
    /// Appends one client's line in Redis 7.0's field order, plus 7.2's <c>lib-name</c>/<c>lib-ver</c>.
    /// Fields RespKv cannot know exactly are honest approximations:
    /// <list type="bullet">
    /// <item><c>fd=-1</c>: Kestrel owns the socket and does not expose its descriptor (-1 is what Redis prints for a client without one).</item>
    /// <item><c>qbuf=0 qbuf-free=0</c>: the receive buffer belongs to the connection's pipe and is not measured.</item>
    /// <item><c>argv-mem</c>: the byte length of the running command's arguments (only the caller has one); Redis counts allocator sizes.</item>
    /// <item><c>rbs=0 rbp=0 obl=0 oll=0 omem=0</c>: replies go straight into the pipe and are flushed once per read, so no per-client reply buffer exists to measure.</item>
    /// <item><c>tot-mem</c>: the memory accounted above (argv-mem).</item>
    /// <item><c>flags</c>: <c>x</c> inside MULTI, else <c>N</c>; <c>multi</c>: queued commands inside MULTI, else -1;
    /// <c>multi-mem</c>: bytes of the queued arguments (Redis counts allocator sizes).</item>
    /// <item><c>sub=0 psub=0 ssub=0 events=r user=default redir=-1</c>: true until Pub/Sub, ACL users and
    /// client tracking exist.</item>
    /// </list>
    /// </summary>
    private static void AppendClientLine(StringBuilder text, ClientSession c, long argvMemory)
    {
        long age = (long)(DateTime.UtcNow - c.ConnectedAt).TotalSeconds;
        long idle = (Environment.TickCount64 - c.LastInteractionMs) / 1000;
        CultureInfo inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"id={c.Id} addr={c.RemoteAddress} laddr={c.LocalAddress} fd=-1 name={c.Name} age={age} idle={idle}")
            .Append(inv, $" flags={(c.InMulti ? "x" : "N")} db={c.Database.Index} sub=0 psub=0 ssub=0 multi={(c.InMulti ? c.Transaction.Count : -1)} qbuf=0 qbuf-free=0")
            .Append(inv, $" argv-mem={argvMemory} multi-mem={(c.InMulti ? c.Transaction.QueuedBytes : 0)} rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem={argvMemory}")
            .Append(inv, $" events=r cmd={c.LastCommand} user=default redir=-1 resp={c.Writer.Protocol}")
            .Append(inv, $" lib-name={c.LibName} lib-ver={c.LibVersion}\n");
    }

    private static void Help(ClientSession client, in CommandArgs args) => ServerCommands.WriteHelp(client.Writer, "CLIENT",
    [
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
    ]);
}
