using System.Diagnostics;
using System.Text;
using RespKv.Commands;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// One client's executor (Redis's <c>processCommand</c> → <c>call()</c>): resolves a parsed command against the
/// command table, passes it through the ordered <see cref="AdmissionGates"/>, then runs it — owning everything a
/// handler must not do itself: the locks a write command needs, whether it is propagated to the write log, command
/// statistics, the slow log, latency samples and the MONITOR feed. The AOF replay runs through the same executor
/// with statistics and logging off. One per <see cref="ClientSession"/>; not thread-safe.
/// </summary>
public sealed class CommandExecutor
{
    private readonly ClientSession _client;
    private readonly MonitorFeed _monitorFeed;
    private readonly LatencyMonitor _latency;
    private readonly LatencyHistograms _histograms;
    private readonly Configuration.ServerOptions _options;

    /// <summary>Stopwatch timestamp where the next command's time starts, while a batch runs (<see cref="BeginBatch"/>); 0 outside one.</summary>
    private long _commandClock;

    /// <summary>Error replies written after the last command ran or was rejected (Redis's <c>prev_err_count</c>).</summary>
    private long _errorMark;

    /// <summary>The executor of <paramref name="client"/>.</summary>
    internal CommandExecutor(ClientSession client)
    {
        _client = client;
        _monitorFeed = client.Server.Clients.Monitors;
        _latency = client.Server.Latency;
        _histograms = client.Server.LatencyHistograms;
        _options = client.Server.Options;
    }

    /// <summary>Managed thread id running this client's batch, or 0 outside one.</summary>
    private int _batchThread;

    /// <summary>
    /// True when the calling thread is running this client's current batch: out-of-band output produced by its own
    /// commands (its notifications, its own channel's messages) may then be written straight into its reply stream.
    /// </summary>
    internal bool IsRunningOnCurrentThread => Volatile.Read(ref _batchThread) == Environment.CurrentManagedThreadId;

    /// <summary>Starts a batch of commands read at once: each command's time runs from the end of the previous one (one clock read per command).</summary>
    internal void BeginBatch()
    {
        _commandClock = Stopwatch.GetTimestamp();
        Volatile.Write(ref _batchThread, Environment.CurrentManagedThreadId);
    }

    /// <summary>Ends the batch started by <see cref="BeginBatch"/>.</summary>
    internal void EndBatch()
    {
        _commandClock = 0;
        Volatile.Write(ref _batchThread, 0);
    }

    /// <summary>
    /// Looks the command up in the table, checks its arity, passes it through the admission gates, and runs it —
    /// replying with Redis's exact errors for an unknown command (<c>-ERR unknown command 'x', with args beginning
    /// with: …</c>), an unknown subcommand (<c>-ERR unknown subcommand 'x'. Try CONFIG HELP.</c>) or a wrong number of
    /// arguments (<c>-ERR wrong number of arguments for 'x' command</c>), as Redis 7.0's <c>processCommand</c>.
    /// </summary>
    public void Execute(in CommandArgs args)
    {
        _client.LastInteractionMs = Environment.TickCount64;
        CommandTable table = _client.Server.Commands;
        CommandInfo? command = table.Lookup(args[0]);
        if (command == null)
        {
            Reject(CommandErrors.UnknownCommand(args));
            return;
        }
        if (command.Subcommands != null && args.Count > 1)
        {
            CommandInfo? sub = table.LookupSubcommand(command, args[1]);
            if (sub == null)
            {
                Reject(CommandErrors.UnknownSubcommand(args[1], command.Name));
                return;
            }
            command = sub;
        }
        if (!command.AcceptsArgumentCount(args.Count) || command.Handler == null)
        {
            Reject(CommandErrors.WrongArity(command), command);
            return;
        }
        // A script or MIGRATE (or EXEC of a transaction that queued one) may run long: not on a socket thread (ClientConnection.MoveOffSocketThread).
        if (((command.Flags & CommandFlags.RunsLong) != 0
             || ((command.Flags & CommandFlags.RunsQueue) != 0 && _client.InMulti && (_client.Transaction.QueuedFlags & CommandFlags.RunsLong) != 0))
            && _client.Connection.MoveOffSocketThread()) return;
        // Client-side caching, as Redis's processCommand: the tracking table is kept within tracking-table-max-keys (also
        // for a command MULTI queues), and this client's own invalidations go before the reply — those of the trim, and
        // those of the gates' eviction.
        ClientTracking tracking = _client.Server.Tracking;
        if (tracking.TrackingClients > 0)
        {
            tracking.LimitUsedSlots();
            if (!_client.Outbox.IsEmpty) _client.Outbox.Drain(_client.PushWriter);
        }
        AdmissionGate[] gates = AdmissionGates.InOrder;
        bool master = _client.IsMaster;
        for (int i = 0; i < gates.Length; i++)
            if ((!master || gates[i].AppliesToMaster) && !gates[i].Admit(_client, command, args)) return;
        if (_client.Tracking.Pending.Count != 0) tracking.SendPending(_client);
        Dispatch(command, args);
    }

    /// <summary>Runs <paramref name="command"/> (arity already checked): the path of a direct command and of each command EXEC replays.</summary>
    /// <remarks>
    /// Counts the call for INFO commandstats and the slow log (except while replaying the AOF, as Redis). Its time is measured with one
    /// <see cref="Stopwatch.GetTimestamp"/> per command (a clock read costs ~25 ns, as much as a whole PING):
    /// within a read's batch a command's time runs from the end of the previous command (or the batch start),
    /// so it includes parsing and looking up this command — RespKv's difference from Redis, which times
    /// <c>call()</c> alone with two clock reads. Outside a batch (direct <see cref="Execute"/>) it reads the clock twice.
    /// A call is failed when error replies were written since the previous command ran or was rejected (Redis 7.0's
    /// <c>incrCommandStatsOnError</c>: so EXEC is failed only for an error after its last queued command, e.g. EXECABORT).
    /// A command that blocks counts its call when it first runs (MONITOR shows that run); the slow log and latency take it
    /// when it is unblocked, as Redis 7.0.15.
    /// </remarks>
    internal void Dispatch(CommandInfo command, in CommandArgs args)
    {
        ClientSession client = _client;
        client.CurrentCommand = command;
        if (client.ReplaysAof)
        {
            // Redis's call() skips command stats, the slow log and latency samples while loading the AOF
            // (update_command_stats = !isAOFLoadingContext()), and the replay logs nothing: locks and the handler alone.
            Run(command, args, log: null);
            return;
        }
        client.CommandsProcessed++;
        long start = _commandClock != 0 ? _commandClock : Stopwatch.GetTimestamp();
        bool resuming = client.Blocking is { Active: true };
        // A script's command is shown before the commands its script runs (Redis's evalCommand/fcallCommand feed it first).
        bool fedFirst = (command.Flags & CommandFlags.RunsScript) != 0;
        if (fedFirst && _monitorFeed.Active) _monitorFeed.Feed(client, command, args);
        Run(command, args, client.Server.WriteLog);
        // The stream position after this command's records (Redis's c->woff), for WAIT.
        if (Replication.ReplicationFeed.TakeThreadAppendEnd() is long woff and > 0) client.ReplicationWriteOffset = woff;
        if ((command.Flags & CommandFlags.RepliesBeforeNotifying) != 0) client.WriteAfterReply();
        long end = Stopwatch.GetTimestamp();
        long elapsed = end - start;
        if (_commandClock != 0) _commandClock = end;
        // Redis 7.0.15's call() counts a call and its time when the command first runs, blocked or not, and MONITOR shows it
        // then; the run that unblocks it adds its time and a failure (updateStatsOnUnblock); the slow log, latency sample
        // and histogram take it once, when it no longer blocks. A re-run that blocks again adds nothing.
        bool blocked = client.Connection.IsBlockedOnKeys;
        long errors = client.ErrorsWritten;
        if (!resuming || !blocked) client.CommandCounters.Ran(command, elapsed, args.Count, errors != _errorMark, countCall: !resuming);
        _errorMark = errors;
        if (!resuming && !fedFirst && _monitorFeed.Active) _monitorFeed.Feed(client, command, args);
        if (blocked) return;
        if ((command.Flags & CommandFlags.SkipSlowlog) == 0 && client.Server.SlowLog.IsSlow(elapsed))
            client.Server.SlowLog.Add(client, args, elapsed);
        if (_latency.IsLatent(elapsed)) _latency.AddCommandSample(command, elapsed);
        if (_options.LatencyTracking) _histograms.Record(command, elapsed);
    }

    /// <summary>
    /// The executor's core (Redis's <c>call()</c>): runs the handler of <paramref name="command"/>, and for a write
    /// command owns its locking and propagation, with or without a write log — handlers take no lock of their own.
    /// <list type="bullet">
    /// <item>A read runs lock-free (values are immutable once published; multi-key reads take seqlock snapshots) —
    /// except a read of a kind changed in place (<see cref="CommandFlags.ReadsUnderLock"/>), which holds its keys' shards.</item>
    /// <item>A write first locks every shard it touches, from the command table's key positions, in ascending order:
    /// its keys' shards in the selected database (flagged as a multi-key write when it names more than one key, so no
    /// lock-free reader sees half of it); every shard of the database for a write without key positions (FLUSHDB);
    /// every database for <see cref="CommandFlags.AllDatabases"/> (FLUSHALL, SWAPDB); the key shards in every database
    /// for <see cref="CommandFlags.OtherDatabases"/> (COPY … DB, MOVE), the last two through an <see cref="AtomicUnit"/>.
    /// Inside EXEC the transaction's atomic unit already holds them.</item>
    /// <item>Whether it changed anything is read from the held shards' change counters (<see cref="KeyspaceShard.Changes"/>,
    /// moved only by <see cref="KeyspaceShard.Mutated"/>): a change with no error reply is recorded as the request
    /// itself unless the handler replaced its record (<see cref="PropagationBuffer.Replace"/>), and appended to
    /// <paramref name="log"/> before the locks are released, so log order equals apply order for any two writes of a key.
    /// An EXEC appends all its records as one unit.</item>
    /// </list>
    /// </summary>
    private void Run(CommandInfo command, in CommandArgs args, IWriteLog? log)
    {
        ClientSession client = _client;
        AtomicUnit unit = client.Unit;
        if ((command.Flags & CommandFlags.RunsScript) != 0)
        {
            // A script makes itself atomic (ScriptingState.BeginUnit); its commands come back through Dispatch.
            command.Handler!(client, args);
            return;
        }
        if (!command.IsWrite)
        {
            // A tracking client's read remembers its keys under their shard locks (ClientTracking); a read inside a script
            // makes the script's caller remember the keys the script declared instead (ScriptRun.CalledRead).
            bool remember = client.Tracking.RemembersNextRead && (command.Flags & CommandFlags.ReadOnly) != 0;
            if (remember && Scripting.ScriptRun.Current is { } script && ReferenceEquals(script.Caller, client))
            {
                script.CalledRead = true;
                remember = false;
            }
            remember &= command.HasKeys;
            if (remember && !unit.IsActive) RunLocked(command, args, remember: true);
            else if ((command.Flags & CommandFlags.ReadsUnderLock) == 0 || unit.IsActive)
            {
                command.Handler!(client, args);
                if (remember) client.Server.Tracking.Remember(client, command, args);
            }
            else RunLocked(command, args, remember: false);
            return;
        }
        if (unit.IsActive)
        {
            // Inside EXEC or a script: the unit holds every lock; the records accumulate in it. Whether the command changed
            // a key is read from its own keys' shards (a script's unit holds all 64 of a database: summing them around each
            // redis.call cost more than the call); a command whose keys its key specs cannot tell, or that may write another
            // database, reads every held shard.
            client.Propagation.NextCommand();
            Storage.Database database = client.Database;
            bool everyHeld = (command.Flags & (CommandFlags.AllDatabases | CommandFlags.OtherDatabases)) != 0;
            ulong keyShards = everyHeld ? 0 : AtomicUnit.ShardsOf(command, args, out _);
            long before = everyHeld ? unit.Changes : database.ChangesIn(keyShards);
            long errors = client.Writer.ErrorsWritten;
            command.Handler!(client, args);
            Record(unit.Log, args, (everyHeld ? unit.Changes : database.ChangesIn(keyShards)) != before, errors);
            return;
        }
        if ((command.Flags & (CommandFlags.AllDatabases | CommandFlags.OtherDatabases)) != 0)
        {
            unit.AddCommand(client.Server.Keyspace, client.Database, command, args);
            unit.Begin(log, transaction: false);
            try
            {
                long before = unit.Changes;
                long errors = client.Writer.ErrorsWritten;
                command.Handler!(client, args);
                Record(unit.Log, args, unit.Changes != before, errors);
            }
            finally
            {
                unit.End();
            }
            return;
        }
        PropagationBuffer records = client.Propagation;
        records.Clear();
        ulong mask = AtomicUnit.ShardsOf(command, args, out bool multiKey);
        Database db = client.Database;
        using (multiKey ? db.LockShards(mask) : db.LockKeyShard(mask))
        {
            // Read again under the locks: a log installed while every shard was locked (a replica's snapshot) is seen here.
            if (!client.ReplaysAof) log = client.Server.WriteLog;
            long before = db.ChangesIn(mask);
            long errors = client.Writer.ErrorsWritten;
            command.Handler!(client, args);
            Record(log, args, db.ChangesIn(mask) != before, errors);
            if (log != null && records.Count > 0) log.Append(records);
        }
        records.Clear();
    }

    /// <summary>
    /// A read of a value changed in place (<see cref="CommandFlags.ReadsUnderLock"/>), or a tracking client's read that
    /// <paramref name="remember"/>s its keys (<see cref="ClientTracking.Remember"/>): the handler runs holding its keys' shards.
    /// </summary>
    private void RunLocked(CommandInfo command, in CommandArgs args, bool remember)
    {
        ulong mask = AtomicUnit.ShardsOf(command, args, out bool multiKey);
        Database db = _client.Database;
        using (multiKey ? db.LockShards(mask) : db.LockKeyShard(mask))
        {
            command.Handler!(_client, args);
            if (remember) _client.Server.Tracking.Remember(_client, command, args);
        }
    }

    /// <summary>Adds the request as its own record when it changed the keyspace, replied no error and was not replaced; nothing without a log.</summary>
    private void Record(IWriteLog? log, in CommandArgs args, bool changed, long errorsBefore)
    {
        PropagationBuffer records = _client.Propagation;
        if (log != null && changed && !records.Replaced && _client.Writer.ErrorsWritten == errorsBefore) records.Add(_client.Database.Index, args);
    }

    /// <summary>After a rejection (an error path): the next command's time starts now, not at the end of the last command that ran.</summary>
    private void RestartCommandClock()
    {
        if (_commandClock != 0) _commandClock = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Replies a rejection <paramref name="error"/> (without the leading <c>-</c>); inside MULTI it also dooms the
    /// transaction (Redis's <c>flagTransaction</c>). <paramref name="command"/>, when known, counts a <c>rejected_calls</c>
    /// (Redis's <c>rejectCommand</c> with <c>c->cmd</c> set). A rejected EXEC (<see cref="CommandFlags.RunsQueue"/>)
    /// answers <c>-EXECABORT Transaction discarded because of: </c> and the error without <c>ERR </c>, and discards the
    /// transaction and every WATCH (Redis's <c>execCommandAbort</c>), inside MULTI or not.
    /// </summary>
    internal void Reject(string error, CommandInfo? command = null)
    {
        ClientSession client = _client;
        if (command != null && (command.Flags & CommandFlags.RunsQueue) != 0)
        {
            string reason = error.StartsWith("ERR ", StringComparison.Ordinal) ? error["ERR ".Length..] : error;
            client.Writer.WriteError("EXECABORT Transaction discarded because of: " + reason);
            client.CommandCounters.CountRejection(command);
            _errorMark = client.ErrorsWritten;
            RestartCommandClock();
            client.DiscardTransaction();
            return;
        }
        Reject(Encoding.UTF8.GetBytes(error), command);
    }

    /// <summary>As <see cref="Reject(string, CommandInfo?)"/> (an EXEC is handed to it: its EXECABORT, e.g. for BUSY).</summary>
    internal void Reject(ReadOnlySpan<byte> error, CommandInfo? command = null)
    {
        if (command != null && (command.Flags & CommandFlags.RunsQueue) != 0)
        {
            Reject(Encoding.UTF8.GetString(error), command);
            return;
        }
        ClientSession client = _client;
        client.Writer.WriteError(error);
        if (command != null) client.CommandCounters.CountRejection(command);
        _errorMark = client.ErrorsWritten;
        RestartCommandClock();
        if (client.InMulti) client.Transaction.Aborted = true;
    }
}
