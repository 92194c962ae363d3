using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server.Commands;
using RespKv.Server;

namespace RespKv.Server;

/// <summary>
/// One check a resolved command (known, right arity) passes before it runs, in Redis 7.0's <c>processCommand</c>
/// order. A gate either lets the command on (true) or answers it itself — a rejection through
/// <see cref="CommandExecutor.Reject(string, CommandInfo?)"/>, <c>+QUEUED</c>, or holding it back — and returns false.
/// </summary>
public abstract class AdmissionGate
{
    /// <summary>Lets <paramref name="command"/> from <paramref name="client"/> on (true), or answers it and stops it (false).</summary>
    public abstract bool Admit(ClientSession client, CommandInfo command, in CommandArgs args);

    /// <summary>
    /// True when the gate applies to the client a replica applies its primary's stream through (Redis's obey-client checks
    /// skip it): only MULTI queueing does.
    /// </summary>
    public virtual bool AppliesToMaster => false;
}

/// <summary>
/// The admission pipeline: the gates every command passes, in order (Redis 7.0's <c>processCommand</c>):
/// protected commands (DEBUG) → authentication → ACL permissions (NOPERM) → MONITOR's keyspace ban → CLIENT PAUSE → maxmemory (OOM) → AOF write error
/// (MISCONF) → RESP2 subscribed mode → loading → busy script →
/// MULTI queueing. Later gates go in at their Redis position: cluster redirections
/// (<c>-MOVED</c>) after authentication.
/// </summary>
public static class AdmissionGates
{
    /// <summary>The gates, in the order they run (an array: the executor walks it per command without allocating).</summary>
    internal static readonly AdmissionGate[] InOrder =
    [
        new ProtectedCommandGate(),
        new AuthenticationGate(),
        new AclGate(),
        new MonitorGate(),
        new PauseGate(),
        new OutOfMemoryGate(),
        new DiskErrorGate(),
        new MinReplicasGate(),
        new ReadOnlyReplicaGate(),
        new SubscribedModeGate(),
        new StaleDataGate(),
        new LoadingGate(),
        new BusyScriptGate(),
        new MultiQueueGate(),
    ];

    /// <summary>
    /// A protected command runs only where its setting allows it (<c>yes</c>, or <c>local</c> for a local client), as Redis
    /// 7.0's <c>processCommand</c>: DEBUG by <c>enable-debug-command</c> (<c>-ERR DEBUG command not allowed. If the
    /// enable-debug-command option is set to "local", …</c>), MODULE LOAD/LOADEX/UNLOAD by <c>enable-module-command</c>
    /// (<c>-ERR MODULE command not allowed. If the enable-module-command option is set to "local", …</c>).
    /// </summary>
    private sealed class ProtectedCommandGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if ((command.Flags & CommandFlags.Protected) == 0) return true;
            bool module = command.Parent?.Name == "module";
            ServerOptions options = client.Server.Options;
            if (ServerOptions.IsAllowed(module ? options.EnableModuleCommand : options.EnableDebugCommand, client.IsLocal)) return true;
            client.Executor.Reject(module ? ModuleCommands.NotAllowed : DebugCommands.NotAllowed, command);
            return false;
        }
    }

    /// <summary>Until the client authenticates, only <c>no_auth</c> commands run: <c>-NOAUTH Authentication required.</c></summary>
    private sealed class AuthenticationGate : AdmissionGate
    {
        private static readonly string NoAuth = Encoding.ASCII.GetString(AuthCommands.NoAuthError);

        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if ((command.Flags & CommandFlags.NoAuth) != 0 || !client.AuthRequired) return true;
            client.Executor.Reject(NoAuth, command);
            return false;
        }
    }

    /// <summary>
    /// The client's ACL user must be allowed the command, its keys and its channels (Redis 7.0's <c>processCommand</c>
    /// after authentication): else <c>-NOPERM this user has no permissions to run the 'cmd' command</c> (or to access one
    /// of the keys / channels used as arguments) and an ACL LOG entry (context <c>multi</c> inside MULTI, where the
    /// rejection also dooms the transaction: EXEC then answers <c>-EXECABORT</c>). A user allowed everything (the default
    /// user) passes on one field read; the AOF replay is never checked (Redis's client without a user).
    /// </summary>
    private sealed class AclGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (client.User.Rules.Unrestricted || client.ReplaysAof) return true;
            Security.AclDenial denial = Security.AccessControl.Check(client.User, command, args, out int position);
            if (denial == Security.AclDenial.None) return true;
            LogDenial(client, denial, command, args, position, client.InMulti ? Security.AclLogContext.Multi : Security.AclLogContext.TopLevel);
            client.Executor.Reject(Security.AccessControl.DenialError(denial, command), command);
            return false;
        }
    }

    /// <summary>Adds the ACL LOG entry of a denial: the command's full name, or the key or channel argument at <paramref name="position"/>.</summary>
    internal static void LogDenial(ClientSession client, Security.AclDenial denial, CommandInfo command, in CommandArgs args, int position, Security.AclLogContext context)
    {
        string obj = denial == Security.AclDenial.Command ? command.FullName : Security.AccessControl.Latin1(args[position]);
        client.Server.Acl.Log.Add(client, denial, context, obj);
    }

    /// <summary>A client in MONITOR mode may not read or write keys: <c>-ERR Replica can't interact with the keyspace</c>.</summary>
    private sealed class MonitorGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (!client.IsMonitor || (command.Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) == 0) return true;
            client.Executor.Reject("ERR Replica can't interact with the keyspace"u8, command);
            return false;
        }
    }

    /// <summary>
    /// CLIENT PAUSE holds the command back (not rejected): the batch stops before it and the connection waits for the
    /// pause to end (CLIENT LIST shows it as cmd= with flag b, Redis's BLOCKED_POSTPONE).
    /// </summary>
    private sealed class PauseGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            ClientPause pause = client.Server.Clients.Pause;
            if (!pause.IsPaused || !pause.MustWait(command, client)) return true;
            client.CurrentCommand = command;
            client.Postpone();
            return false;
        }
    }

    /// <summary>
    /// Over maxmemory (after trying to evict): <c>-OOM command not allowed when used memory &gt; 'maxmemory'.</c> for a
    /// <c>denyoom</c> command, EXEC of a transaction that queued one, and inside MULTI any command but EXEC, DISCARD,
    /// QUIT and RESET (queuing itself takes memory).
    /// </summary>
    private sealed class OutOfMemoryGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            ServerOptions options = client.Server.Options;
            long maxMemory = options.MaxMemory;
            // A replica with replica-ignore-maxmemory yes neither evicts nor refuses: its primary's DELs keep it in line (Redis's performEvictions).
            if (maxMemory != 0 && client.Server.Replication.IsReplica && client.Server.Replication.Setting("replica-ignore-maxmemory") == "yes") return true;
            if (maxMemory == 0 || client.Server.Keyspace.Limiter.MakeRoom(maxMemory, options.MaxMemoryPolicy, options.MaxMemorySamples)
                || !Refused(client, command)) return true;
            client.Executor.Reject(CommandErrors.OutOfMemory, command);
            return false;
        }

        private static bool Refused(ClientSession client, CommandInfo command)
        {
            if ((command.Flags & CommandFlags.DenyOom) != 0) return true;
            if ((command.Flags & CommandFlags.RunsQueue) != 0) return client.InMulti && (client.Transaction.QueuedFlags & CommandFlags.DenyOom) != 0;
            return client.InMulti && (command.Flags & CommandFlags.DiscardsTransaction) == 0;
        }
    }

    /// <summary>
    /// While the AOF cannot be written, or the last background save failed with <c>stop-writes-on-bgsave-error yes</c> and save
    /// points set (Redis's <c>writeCommandsDeniedByDiskError</c>, the RDB condition first):
    /// write commands, PING, and EXEC of a transaction that queued a write answer <c>-MISCONF Errors writing to the AOF file:
    /// &lt;reason&gt;</c>, or <see cref="RdbPersistence.BgsaveError"/>.
    /// </summary>
    private sealed class DiskErrorGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            string? error = client.Server.Snapshots.DeniesWrites ? RdbPersistence.BgsaveError
                : client.Server.WriteLog is { WriteError: { } diskError } ? "MISCONF Errors writing to the AOF file: " + diskError : null;
            if (error == null || !Refused(client, command)) return true;
            client.Executor.Reject(error, command);
            return false;
        }

        private static bool Refused(ClientSession client, CommandInfo command)
        {
            if (command.IsWrite || (command.Flags & CommandFlags.RefusedOnDiskError) != 0) return true;
            return (command.Flags & CommandFlags.RunsQueue) != 0 && client.InMulti && (client.Transaction.QueuedFlags & CommandFlags.Write) != 0;
        }
    }

    /// <summary>True for a write command, or EXEC of a transaction that queued one (Redis's <c>is_write_command</c>).</summary>
    private static bool IsWrite(ClientSession client, CommandInfo command) =>
        command.IsWrite || ((command.Flags & CommandFlags.RunsQueue) != 0 && client.InMulti && (client.Transaction.QueuedFlags & CommandFlags.Write) != 0);

    /// <summary>
    /// <c>min-replicas-to-write</c> / <c>min-replicas-max-lag</c> on a primary (Redis's <c>checkGoodReplicasStatus</c>): a write
    /// answers <c>-NOREPLICAS Not enough good replicas to write.</c> while fewer replicas than required acknowledged within the lag.
    /// </summary>
    private sealed class MinReplicasGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (client.Server.Replication.HasGoodReplicas || !IsWrite(client, command)) return true;
            client.Executor.Reject("NOREPLICAS Not enough good replicas to write."u8, command);
            return false;
        }
    }

    /// <summary>A replica with <c>replica-read-only yes</c> refuses writes: <c>-READONLY You can't write against a read only replica.</c></summary>
    private sealed class ReadOnlyReplicaGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (!client.Server.Replication.IsReplica || !client.Server.Options.ReplicaReadOnly || !IsWrite(client, command)) return true;
            client.Executor.Reject("READONLY You can't write against a read only replica."u8, command);
            return false;
        }
    }

    /// <summary>
    /// A replica whose link with its primary is down and <c>replica-serve-stale-data no</c> runs only <c>stale</c> commands:
    /// <c>-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.</c>
    /// </summary>
    private sealed class StaleDataGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            Replication.ReplicationState replication = client.Server.Replication;
            if (!replication.IsReplica || replication.LinkUp || client.Server.Options.ReplicaServeStaleData) return true;
            bool stale = (command.Flags & CommandFlags.Stale) != 0
                         && !((command.Flags & CommandFlags.RunsQueue) != 0 && client.InMulti && client.Transaction.QueuedDenyStale);
            if (stale) return true;
            client.Executor.Reject("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."u8, command);
            return false;
        }
    }

    /// <summary>
    /// A RESP2 client subscribed to anything may only subscribe, unsubscribe, PING, QUIT and RESET:
    /// <c>-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context</c>.
    /// </summary>
    private sealed class SubscribedModeGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (!client.IsSubscribed || client.Writer.Protocol >= 3 || (command.Flags & CommandFlags.AllowedWhileSubscribed) != 0) return true;
            client.Executor.Reject($"ERR Can't execute '{command.FullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", command);
            return false;
        }
    }

    /// <summary>While the dataset loads, only <c>loading</c> commands run: <c>-LOADING RespKv is loading the dataset in memory</c>.</summary>
    private sealed class LoadingGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (!client.Server.Loading || client.ReplaysAof || (command.Flags & CommandFlags.Loading) != 0) return true;
            client.Executor.Reject("LOADING RespKv is loading the dataset in memory"u8, command);
            return false;
        }
    }

    /// <summary>
    /// While another client's script runs past <c>busy-reply-threshold</c> (Redis's <c>isInsideYieldingLongCommand</c>),
    /// only <c>allow-busy</c> commands run (SCRIPT KILL, FUNCTION KILL/STATS, SHUTDOWN NOSAVE, MULTI, DISCARD, AUTH, …):
    /// <c>-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.</c> for an EVAL script,
    /// <c>… FUNCTION KILL or SHUTDOWN NOSAVE.</c> for a function.
    /// </summary>
    private sealed class BusyScriptGate : AdmissionGate
    {
        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (client.Server.ScriptingIfCreated?.Running is not { TimedOut: true } run || (command.Flags & CommandFlags.AllowBusy) != 0
                || ReferenceEquals(run.Caller, client)) return true;
            client.Executor.Reject(run.Kind == Scripting.ScriptKind.Eval
                ? "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."u8
                : "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."u8, command);
            return false;
        }
    }

    /// <summary>
    /// Inside MULTI a command is copied into the queue and answered <c>+QUEUED</c>, unless it runs at once (MULTI EXEC
    /// DISCARD WATCH QUIT RESET); a <c>no_multi</c> command answers <c>-ERR Command not allowed inside a transaction</c>
    /// and dooms the transaction.
    /// </summary>
    private sealed class MultiQueueGate : AdmissionGate
    {
        public override bool AppliesToMaster => true;

        public override bool Admit(ClientSession client, CommandInfo command, in CommandArgs args)
        {
            if (!client.InMulti || (command.Flags & CommandFlags.RunsInMulti) != 0) return true;
            client.CurrentCommand = command;
            if ((command.Flags & CommandFlags.NoMulti) != 0)
            {
                client.Executor.Reject("ERR Command not allowed inside a transaction"u8, command);
                return false;
            }
            client.Transaction.Queue(command, args);
            client.Writer.WriteSimpleString("QUEUED"u8);
            return false;
        }
    }
}
