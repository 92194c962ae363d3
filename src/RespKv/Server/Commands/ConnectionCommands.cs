using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET, with Redis 7.0's replies
/// (https://redis.io/commands/?group=connection).
/// </summary>
public static class ConnectionCommands
{
    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("ping", -1, Fast | RefusedOnDiskError | AllowedWhileSubscribed, 0, 0, 0, "connection", "Ping the server", Ping),
        new SessionCommandInfo("echo", 2, Loading | Stale | Fast, 0, 0, 0, "connection", "Echo the given string", Echo),
        new SessionCommandInfo("quit", -1, AllowBusy | NoAuth | NoScript | Loading | Stale | Fast | RunsInMulti | DiscardsTransaction | AllowedWhileSubscribed, 0, 0, 0, "connection", "Close the connection", Quit),
        new SessionCommandInfo("select", 2, Loading | Stale | Fast | SelectsDatabase, 0, 0, 0, "connection", "Change the selected database for the current connection", Select),
        new SessionCommandInfo("hello", -1, NoScript | Loading | Stale | Fast | NoAuth | AllowBusy, 0, 0, 0, "connection", "Handshake with Redis", Hello),
        new SessionCommandInfo("reset", 1, NoScript | Loading | Stale | Fast | NoAuth | AllowBusy | RunsInMulti | DiscardsTransaction | AllowedWhileSubscribed, 0, 0, 0, "connection", "Reset the connection", Reset),
    ];

    private static void Ping(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 2)
        {
            client.WriteArityError();
            return;
        }
        RespWriter w = client.Writer;
        if (client.IsSubscribed && w.Protocol < 3)
        {
            // RESP2 subscribed mode: a pong message (Redis's pingCommand), the argument or an empty bulk.
            w.WriteArrayHeader(2);
            w.WriteBulkString("pong"u8);
            w.WriteBulkString(args.Count == 2 ? args[1] : default);
        }
        else if (args.Count == 2) w.WriteBulkString(args[1]);
        else w.WriteSimpleString("PONG"u8);
    }

    private static void Echo(ClientSession client, in CommandArgs args) => client.Writer.WriteBulkString(args[1]);

    private static void Quit(ClientSession client, in CommandArgs args)
    {
        client.Writer.WriteOk();
        client.CloseRequested = true;
    }

    private static void Select(ClientSession client, in CommandArgs args)
    {
        if (!CommandErrors.TryParseDatabaseIndex(client.Server.Keyspace, args[1], out int index, out string? error))
        {
            client.Writer.WriteError(error!);
            return;
        }
        client.Select(index);
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>HELLO [protover [AUTH username password] [SETNAME clientname]]</c>: switches RESP version and
    /// replies with the server's properties as a map. Options apply in order (AUTH authenticates, SETNAME
    /// names) and the first bad one stops; then an unauthenticated client gets <c>-NOAUTH HELLO must be called …</c>.
    /// </summary>
    private static void Hello(ClientSession client, in CommandArgs args)
    {
        int protocol = client.Writer.Protocol;
        if (args.Count >= 2)
        {
            if (!RespInteger.TryParse(args[1], out long requested))
            {
                client.Writer.WriteError("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (requested < 2 || requested > 3)
            {
                client.Writer.WriteError("NOPROTO unsupported protocol version");
                return;
            }
            protocol = (int)requested;
        }
        for (int i = 2; i < args.Count; i++)
        {
            if (args.Is(i, "AUTH"u8) && args.Count - i - 1 >= 2)
            {
                if (!AuthCommands.TryAuthenticate(client, args[i + 1], args[i + 2], args[0]))
                {
                    client.Writer.WriteError(AuthCommands.WrongPassError);
                    return;
                }
                i += 2;
            }
            else if (args.Is(i, "SETNAME"u8) && args.Count - i - 1 >= 1)
            {
                // As Redis 7.0's helloCommand: each option takes effect as it is read, even if a later one fails.
                if (!ClientCommands.IsValidClientName(args[i + 1]))
                {
                    client.Writer.WriteError(ClientCommands.InvalidNameError);
                    return;
                }
                client.Name = args[i + 1].Length == 0 ? null : Encoding.UTF8.GetString(args[i + 1]);
                i += 1;
            }
            else
            {
                client.Writer.WriteError($"ERR Syntax error in HELLO option '{Encoding.UTF8.GetString(args[i])}'");
                return;
            }
        }
        if (!client.Authenticated)
        {
            client.Writer.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        client.Writer.Protocol = protocol;
        RespWriter w = client.Writer;
        w.WriteMapHeader(7);
        w.WriteBulkString("server"u8);
        w.WriteBulkString("redis"u8);
        w.WriteBulkString("version"u8);
        w.WriteBulkString(RespServer.RedisCompatibleVersion);
        w.WriteBulkString("proto"u8);
        w.WriteInteger(protocol);
        w.WriteBulkString("id"u8);
        w.WriteInteger(client.Id);
        w.WriteBulkString("mode"u8);
        w.WriteBulkString("standalone"u8);
        w.WriteBulkString("role"u8);
        w.WriteBulkString(client.Server.Replication.IsReplica ? "replica"u8 : "master"u8);
        w.WriteBulkString("modules"u8);
        w.WriteArrayHeader(0);
    }

    /// <summary><c>RESET</c>: leaves MONITOR mode and CLIENT REPLY OFF/SKIP, discards an open transaction and every WATCH, back to database 0, RESP2, no name; replies <c>+RESET</c>.</summary>
    private static void Reset(ClientSession client, in CommandArgs args)
    {
        client.ClearConnectionModes();
        client.DiscardTransaction();
        client.UnsubscribeAll();
        client.Select(0);
        client.Writer.Protocol = 2;
        client.Name = null;
        // Redis's clientSetDefaultAuth: back to the default user, authenticated only if it needs no password.
        client.User = client.Server.Acl.Default;
        client.Authenticated = client.Server.Acl.DefaultNeedsNoAuth;
        client.Writer.WriteSimpleString("RESET"u8);
    }
}
