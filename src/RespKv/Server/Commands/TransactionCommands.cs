using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis 7.0's replies
/// (https://redis.io/docs/interact/transactions/). Queuing happens in the admission pipeline (<see cref="AdmissionGates"/>);
/// the queue and watches live in <see cref="Transaction"/>.
/// <para>
/// Isolation: EXEC locks, before running anything, every shard its queued commands and watched keys map
/// to (<see cref="Transaction.CollectLocks"/>, from the table's key positions) as one <see cref="AtomicUnit"/>, in
/// (database, shard) order, as multi-key writes; runs the commands through the normal dispatch; logs them as one
/// MULTI … EXEC group; and unlocks after the last one. Other clients' writes to those shards wait; their lock-free
/// reads see all of the transaction or none of it (<see cref="KeyspaceShard.Find"/>); and the
/// transaction sees no other client's writes midway. A runtime error in one command is that command's
/// reply; the others still apply (no rollback), as in Redis.
/// </para>
/// </summary>
public static class TransactionCommands
{
    /// <summary>This family's rows of the command table (flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("multi", 1, NoScript | Loading | Stale | Fast | AllowBusy | RunsInMulti, 0, 0, 0, "transactions", "Mark the start of a transaction block", Multi),
        new SessionCommandInfo("exec", 1, NoScript | Loading | Stale | SkipSlowlog | RunsInMulti | RunsQueue, 0, 0, 0, "transactions", "Execute all commands issued after MULTI", Exec),
        new SessionCommandInfo("discard", 1, NoScript | Loading | Stale | Fast | AllowBusy | RunsInMulti | DiscardsTransaction, 0, 0, 0, "transactions", "Discard all commands issued after MULTI", Discard),
        new SessionCommandInfo("watch", -2, NoScript | Loading | Stale | Fast | AllowBusy | RunsInMulti, 1, -1, 1, "transactions", "Watch the given keys to determine execution of the MULTI/EXEC block", Watch),
        new SessionCommandInfo("unwatch", 1, NoScript | Loading | Stale | Fast | AllowBusy, 0, 0, 0, "transactions", "Forget about all watched keys", Unwatch),
    ];

    /// <summary><c>MULTI</c>: <c>+OK</c>; inside MULTI: <c>-ERR MULTI calls can not be nested</c> (the transaction stays valid).</summary>
    private static void Multi(ClientSession client, in CommandArgs args)
    {
        if (client.InMulti)
        {
            client.Writer.WriteError("ERR MULTI calls can not be nested");
            return;
        }
        client.Transaction.Begin();
        client.Writer.WriteOk();
    }

    /// <summary><c>DISCARD</c>: drops the queue and every WATCH, <c>+OK</c>; outside MULTI: <c>-ERR DISCARD without MULTI</c>.</summary>
    private static void Discard(ClientSession client, in CommandArgs args)
    {
        if (!client.InMulti)
        {
            client.Writer.WriteError("ERR DISCARD without MULTI");
            return;
        }
        client.DiscardTransaction();
        client.Writer.WriteOk();
    }

    /// <summary><c>WATCH key [key ...]</c>: <c>+OK</c>; inside MULTI: <c>-ERR WATCH inside MULTI is not allowed</c> (the transaction stays valid).</summary>
    private static void Watch(ClientSession client, in CommandArgs args)
    {
        if (client.InMulti)
        {
            client.Writer.WriteError("ERR WATCH inside MULTI is not allowed");
            return;
        }
        Transaction transaction = client.Transaction;
        for (int i = 1; i < args.Count; i++) transaction.Watch(client.Database, args[i]);
        client.Writer.WriteOk();
    }

    /// <summary><c>UNWATCH</c>: forgets every watched key, <c>+OK</c> (queued inside MULTI, like any command; EXEC drops the watches anyway).</summary>
    private static void Unwatch(ClientSession client, in CommandArgs args)
    {
        client.Transaction.UnwatchAll();
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>EXEC</c>: outside MULTI <c>-ERR EXEC without MULTI</c>; after a rejected queued command
    /// <c>-EXECABORT Transaction discarded because of previous errors.</c>; when a watched key was modified, a
    /// null array (RESP2 <c>*-1</c>, RESP3 <c>_</c>); otherwise an array of each queued command's reply, in order.
    /// The transaction ends and every WATCH is dropped in all cases.
    /// </summary>
    /// <summary>
    /// Redis 7.0's <c>execCommand</c> re-checks each queued command against the user's current rules (they may have changed
    /// since it was queued): a denied one is not run, is logged (context <c>multi</c>) and answers <c>-NOPERM ACLs rules
    /// changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for
    /// the following reason: …</c> in its place.
    /// </summary>
    private static bool RecheckDenied(ClientSession client, CommandInfo command, in CommandArgs args)
    {
        Security.AclDenial denial = Security.AccessControl.Check(client.User, command, args, out int position);
        if (denial == Security.AclDenial.None) return false;
        string reason = denial switch
        {
            Security.AclDenial.Command => "no permission to execute the command or subcommand",
            Security.AclDenial.Key => "no permission to touch the specified keys",
            Security.AclDenial.Channel => "no permission to access one of the channels used as arguments",
            _ => "no permission",
        };
        AdmissionGates.LogDenial(client, denial, command, args, position, Security.AclLogContext.Multi);
        client.Writer.WriteError("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason);
        return true;
    }

    private static void Exec(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        if (!client.InMulti)
        {
            w.WriteError("ERR EXEC without MULTI");
            return;
        }
        Transaction transaction = client.Transaction;
        if (transaction.Aborted)
        {
            w.WriteError("EXECABORT Transaction discarded because of previous errors.");
            client.DiscardTransaction();
            return;
        }
        CommandInfo exec = client.CurrentCommand!;
        client.ExecCommand = exec;
        AtomicUnit unit = client.Unit;
        transaction.CollectLocks(unit, client.Server.Keyspace, client.Database);
        // The whole EXEC is one atomic unit: its locks are held from before the first command to after the last, and
        // its records are appended to the log as one MULTI … EXEC group while they are still held.
        unit.Begin(client.Server.WriteLog, transaction: true);
        try
        {
            // Checked under the watched keys' shard locks: no write to them can slip in before the commands run.
            if (transaction.Watcher.Modified || transaction.WatchedKeyExpired())
            {
                w.WriteNullArray();
            }
            else
            {
                w.WriteArrayHeader(transaction.Count);
                for (int i = 0; i < transaction.Count; i++)
                {
                    CommandInfo queued = transaction.CommandAt(i);
                    CommandArgs queuedArgs = transaction.ArgsAt(i);
                    if (!client.User.Rules.Unrestricted && !client.ReplaysAof && RecheckDenied(client, queued, queuedArgs)) continue;
                    client.Dispatch(queued, queuedArgs);
                }
            }
        }
        finally
        {
            unit.End();
            client.CurrentCommand = exec;
            client.ExecCommand = null;
        }
        client.DiscardTransaction();
    }
}
