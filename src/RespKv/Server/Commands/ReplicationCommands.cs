using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Replication;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Replication commands, with Redis 7.0's replies (replication.c): REPLICAOF/SLAVEOF, SYNC, PSYNC, REPLCONF, WAIT, FAILOVER, ROLE.
/// The protocol itself is <see cref="ReplicationState"/>, <see cref="ReplicaLink"/> (primary side) and <see cref="MasterLink"/> (replica side).
/// </summary>
public static class ReplicationCommands
{
    /// <summary>Redis's WAIT refusal on a replica.</summary>
    public const string WaitOnReplica =
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("replicaof", 3, Admin | NoScript | Stale | NoAsyncLoading, 0, 0, 0, "server",
            "Make the server a replica of another instance, or promote it as master.", ReplicaOf),
        new SessionCommandInfo("slaveof", 3, Admin | NoScript | Stale | NoAsyncLoading, 0, 0, 0, "server",
            "Make the server a replica of another instance, or promote it as master.", ReplicaOf),
        new SessionCommandInfo("sync", 1, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, "server", "Internal command used for replication", Sync),
        new SessionCommandInfo("psync", -3, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, "server", "Internal command used for replication", Sync),
        new SessionCommandInfo("replconf", -1, Admin | NoScript | Loading | Stale | AllowBusy, 0, 0, 0, "server",
            "An internal command for configuring the replication stream", ReplConf),
        new SessionCommandInfo("wait", 3, NoScript, 0, 0, 0, "generic",
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection", Wait),
        new SessionCommandInfo("failover", -1, Admin | NoScript | Stale, 0, 0, 0, "server",
            "Start a coordinated failover between this server and one of its replicas.", Failover),
        new SessionCommandInfo("role", 1, NoScript | Loading | Stale | Fast, 0, 0, 0, "server",
            "Return the role of the instance in the context of replication", (c, in _) => c.Server.Replication.WriteRole(c.Writer)),
    ];

    /// <summary>
    /// <c>REPLICAOF host port</c> / <c>REPLICAOF NO ONE</c> (and SLAVEOF), as Redis's <c>replicaofCommand</c>: <c>+OK</c>;
    /// <c>+OK Already connected to specified master</c> when already its replica; <c>-ERR Invalid master port</c> for a port
    /// outside 0..65535; <c>-ERR Command is not valid when client is a replica.</c> from a replica's own link.
    /// </summary>
    private static void ReplicaOf(ClientSession client, in CommandArgs args)
    {
        ReplicationState replication = client.Server.Replication;
        if (replication.Failover != FailoverState.None)
        {
            client.Writer.WriteError("ERR REPLICAOF not allowed while failing over.");
            return;
        }
        if (args.Is(1, "NO"u8) && args.Is(2, "ONE"u8))
        {
            if (replication.IsReplica)
            {
                replication.UnsetMaster();
                client.Server.Logger.LogInformation("MASTER MODE enabled (user request from 'id={Id} addr={Address}')", client.Id, client.RemoteAddress);
            }
            client.Writer.WriteSimpleString("OK"u8);
            return;
        }
        if (client.ReplicaHandoff != null)
        {
            client.Writer.WriteError("ERR Command is not valid when client is a replica.");
            return;
        }
        if (!RespInteger.TryParse(args[2], out long port) || port < 0 || port > 65535)
        {
            client.Writer.WriteError("ERR Invalid master port");
            return;
        }
        string host = Encoding.UTF8.GetString(args[1]);
        if (replication.Master is { } current && string.Equals(current.Host, host, StringComparison.OrdinalIgnoreCase) && current.Port == port)
        {
            client.Server.Logger.LogInformation("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            client.Writer.WriteSimpleString("OK Already connected to specified master"u8);
            return;
        }
        replication.SetMaster(host, (int)port);
        client.Server.Logger.LogInformation("REPLICAOF {Host}:{Port} enabled (user request from 'id={Id} addr={Address}')", host, port, client.Id, client.RemoteAddress);
        client.Writer.WriteSimpleString("OK"u8);
    }

    /// <summary>
    /// <c>SYNC</c> and <c>PSYNC replid offset</c> (Redis's <c>syncCommand</c>): the connection becomes a replica link (see
    /// <see cref="ReplicaLink"/>). Ignored from a connection that already is one; <c>-NOMASTERLINK Can't SYNC while not connected
    /// with my master</c> on a replica whose own link is down; an offset that is not an integer is
    /// <c>-ERR value is not an integer or out of range</c>.
    /// </summary>
    private static void Sync(ClientSession client, in CommandArgs args)
    {
        if (client.ReplicaHandoff != null) return;
        ReplicationState replication = client.Server.Replication;
        if (args.Count > 3 && args.Is(3, "FAILOVER"u8))
        {
            // PSYNC replid offset FAILOVER: the primary of a coordinated FAILOVER asks this replica to take over.
            client.Server.Logger.LogWarning("Failover request received for replid {ReplId}.", Encoding.UTF8.GetString(args[1]));
            if (!replication.IsReplica)
            {
                client.Writer.WriteError("ERR PSYNC FAILOVER can't be sent to a master.");
                return;
            }
            if (!Ascii.EqualsIgnoreCase(args[1], Encoding.ASCII.GetBytes(replication.ReplId)))
            {
                client.Writer.WriteError("ERR PSYNC FAILOVER replid must match my replid.");
                return;
            }
            replication.UnsetMaster();
            client.Server.Logger.LogInformation("MASTER MODE enabled (failover request from 'id={Id} addr={Address}')", client.Id, client.RemoteAddress);
        }
        if (replication.Failover != FailoverState.None)
        {
            client.Writer.WriteError("NOMASTERLINK Can't SYNC while failing over");
            return;
        }
        if (replication.IsReplica && !replication.LinkUp)
        {
            client.Writer.WriteError("NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
        string? replId = null;
        long offset = -1;
        if (args.Count >= 3)
        {
            if (!RespInteger.TryParse(args[2], out offset))
            {
                client.Writer.WriteError(CommandErrors.NotInteger);
                return;
            }
            replId = Encoding.UTF8.GetString(args[1]);
        }
        client.Server.Logger.LogInformation("Replica {Replica} asks for synchronization", client.RemoteAddress);
        ReplicaLink.Attach(client, replId, offset);
    }

    /// <summary>
    /// <c>REPLCONF option value …</c> (Redis's <c>replconfCommand</c>): <c>listening-port</c>, <c>ip-address</c>, <c>capa</c>
    /// (eof, psync2; others ignored), <c>rdb-only</c>, <c>rdb-filter-only</c> answer <c>+OK</c>; <c>ack</c> and <c>getack</c>
    /// answer nothing. An even argument count is <c>-ERR syntax error</c>; an unknown option
    /// <c>-ERR Unrecognized REPLCONF option: &lt;option&gt;</c>.
    /// </summary>
    private static void ReplConf(ClientSession client, in CommandArgs args)
    {
        if (args.Count % 2 == 0)
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        ReplicaHandshake handshake = client.ReplicaInfo ??= new ReplicaHandshake();
        for (int j = 1; j < args.Count; j += 2)
        {
            ReadOnlySpan<byte> value = args[j + 1];
            if (args.Is(j, "LISTENING-PORT"u8))
            {
                if (!RespInteger.TryParse(value, out long port))
                {
                    client.Writer.WriteError(CommandErrors.NotInteger);
                    return;
                }
                handshake.ListeningPort = port;
            }
            else if (args.Is(j, "IP-ADDRESS"u8))
            {
                if (value.Length >= 256)
                {
                    client.Writer.WriteError($"ERR REPLCONF ip-address provided by replica instance is too long: {value.Length} bytes");
                    return;
                }
                handshake.IpAddress = Encoding.UTF8.GetString(value);
            }
            else if (args.Is(j, "CAPA"u8))
            {
                if (Ascii.EqualsIgnoreCase(value, "eof"u8)) handshake.CapaEof = true;
                else if (Ascii.EqualsIgnoreCase(value, "psync2"u8)) handshake.CapaPsync2 = true;
            }
            else if (args.Is(j, "ACK"u8))
            {
                // Handled by the replica link itself once the connection is one; from any other client: nothing, no reply.
                return;
            }
            else if (args.Is(j, "GETACK"u8))
            {
                // A replica answers its primary's GETACK on its link (MasterLink); from a client: nothing, no reply.
                if (client.IsMaster) client.Server.Replication.Master?.SendAck();
                return;
            }
            else if (args.Is(j, "RDB-ONLY"u8))
            {
                if (!RespInteger.TryParse(value, out long rdbOnly) || rdbOnly < 0 || rdbOnly > 1)
                {
                    client.Writer.WriteError(RespInteger.TryParse(value, out _)
                        ? "ERR value is out of range, value must between 0 and 1" : CommandErrors.NotInteger);
                    return;
                }
            }
            else if (args.Is(j, "RDB-FILTER-ONLY"u8))
            {
                foreach (string filter in Encoding.UTF8.GetString(value).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (filter.Equals("functions", StringComparison.OrdinalIgnoreCase)) continue;
                    client.Writer.WriteError($"ERR Unsupported rdb-filter-only option: {filter}");
                    return;
                }
            }
            else
            {
                client.Writer.WriteError("ERR Unrecognized REPLCONF option: " + Encoding.UTF8.GetString(args[j]));
                return;
            }
        }
        client.Writer.WriteSimpleString("OK"u8);
    }

    /// <summary>
    /// <c>FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]</c> (Redis 7.0's <c>failoverCommand</c>): <c>+OK</c>
    /// once started (<see cref="ReplicationState.StartFailover"/>); <c>ABORT</c> alone ends one (<c>-ERR No failover in
    /// progress.</c> when none); errors <c>-ERR FAILOVER timeout must be greater than 0</c>, <c>-ERR syntax error</c>, and those
    /// of <see cref="ReplicationState.StartFailover"/>.
    /// </summary>
    private static void Failover(ClientSession client, in CommandArgs args)
    {
        ReplicationState replication = client.Server.Replication;
        if (args.Count == 2 && args.Is(1, "ABORT"u8))
        {
            if (!replication.AbortFailover("Failover manually aborted")) client.Writer.WriteError("ERR No failover in progress.");
            else client.Writer.WriteSimpleString("OK"u8);
            return;
        }
        long timeoutMs = 0, port = 0;
        bool force = false;
        string? host = null;
        for (int j = 1; j < args.Count; j++)
        {
            if (args.Is(j, "TIMEOUT"u8) && j + 1 < args.Count && timeoutMs == 0)
            {
                if (!RespInteger.TryParse(args[j + 1], out timeoutMs))
                {
                    client.Writer.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (timeoutMs <= 0)
                {
                    client.Writer.WriteError("ERR FAILOVER timeout must be greater than 0");
                    return;
                }
                j++;
            }
            else if (args.Is(j, "TO"u8) && j + 2 < args.Count && host == null)
            {
                if (!RespInteger.TryParse(args[j + 2], out port))
                {
                    client.Writer.WriteError(CommandErrors.NotInteger);
                    return;
                }
                host = Encoding.UTF8.GetString(args[j + 1]);
                j += 2;
            }
            else if (args.Is(j, "FORCE"u8) && !force) force = true;
            else
            {
                client.Writer.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        string? error = replication.StartFailover(host, (int)Math.Clamp(port, int.MinValue, int.MaxValue), timeoutMs, force);
        if (error != null) client.Writer.WriteError(error);
        else client.Writer.WriteSimpleString("OK"u8);
    }

    /// <summary>
    /// <c>WAIT numreplicas timeout</c> (Redis's <c>waitCommand</c>): the number of replicas that acknowledged this client's last
    /// write (its <see cref="ClientSession.ReplicationWriteOffset"/>) — at once when enough already did or inside MULTI, else
    /// once enough do or after <paramref name="args"/>' timeout in milliseconds (0: forever), asking every replica for an ACK
    /// through the stream (<c>REPLCONF GETACK *</c>). Counts only real ACKs: a stopped replica stops counting. On a replica:
    /// <see cref="WaitOnReplica"/>; timeout errors <c>-ERR timeout is not an integer or out of range</c>, <c>-ERR timeout is negative</c>.
    /// </summary>
    private static void Wait(ClientSession client, in CommandArgs args)
    {
        ReplicationState replication = client.Server.Replication;
        if (replication.IsReplica)
        {
            client.Writer.WriteError(WaitOnReplica);
            return;
        }
        if (!RespInteger.TryParse(args[1], out long numReplicas))
        {
            client.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (!RespInteger.TryParse(args[2], out long timeoutMs))
        {
            client.Writer.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (timeoutMs < 0)
        {
            client.Writer.WriteError("ERR timeout is negative");
            return;
        }
        long offset = client.ReplicationWriteOffset;
        int acked = replication.CountAcks(offset);
        if (acked >= numReplicas || client.InMulti || client.ExecCommand != null)
        {
            Leave(client);
            client.Writer.WriteInteger(acked);
            return;
        }
        bool first = client.Blocking is not { Active: true };
        BlockOutcome outcome = client.BlockOnKeys(args, 1, 0, timeoutMs, typeof(object));
        if (outcome == BlockOutcome.Blocked)
        {
            // Still blocked: wait for ACKs (asked for once per WAIT); unblocked by CLIENT UNBLOCK … ERROR: already answered.
            if (client.Blocking is { Active: true }) replication.AddWaiter(client, askForAcks: first);
            else replication.RemoveWaiter(client);
            return;
        }
        // Timed out (or cannot block: inside a script): the count now.
        Leave(client);
        client.Writer.WriteInteger(acked);
    }

    private static void Leave(ClientSession client)
    {
        client.Server.Replication.RemoveWaiter(client);
        if (client.Blocking is { Active: true } blocking) client.Server.BlockedClients.Leave(blocking);
    }
}
