using System.Numerics;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Execution;

/// <summary>
/// The one place that makes a group of commands atomic, for readers and for the AOF: EXEC's queue today, a single
/// write spanning databases (FLUSHALL, SWAPDB, COPY … DB, MOVE), and next EVAL/FCALL. Between <see cref="Begin"/> and
/// <see cref="End"/> it holds every shard lock its commands need, taken at once in the one global order ((database,
/// shard) ascending, <see cref="TransactionLocks"/>: strict two-phase locking, deadlock-free), each shard flagged as a
/// multi-key write so no reader sees part of the group; the commands' records accumulate in the client's
/// <see cref="PropagationBuffer"/> and are appended to the write log as one unit (<c>MULTI</c> … <c>EXEC</c> for a
/// transaction) before the locks are released.
/// <para>
/// Nesting: a unit begun while it is already active (a script's commands inside EXEC, a multi-database write inside
/// EXEC or a script) joins the outer one: it takes no lock — every shard it adds must already be held, else it throws,
/// since taking a new lock midway could break the global order — and its records go to the outer unit, appended once
/// when the outermost <see cref="End"/> runs.
/// </para>
/// One per client, reused; not thread-safe.
/// </summary>
public sealed class AtomicUnit
{
    private readonly TransactionLocks _locks = new();
    private readonly PropagationBuffer _records;
    private IWriteLog? _log;
    private int _depth;

    private readonly Func<IWriteLog?>? _currentLog;

    /// <summary>
    /// A unit whose records go to <paramref name="records"/> (the client's propagation buffer). With <paramref name="currentLog"/>
    /// the log a unit appends to is read from it once the unit's locks are held (the server's current write log, null for a
    /// client that logs nothing), instead of the one passed to <see cref="Begin"/>: a log installed while every shard was locked
    /// (a replica's snapshot) is then seen by every unit applied after that instant.
    /// </summary>
    internal AtomicUnit(PropagationBuffer records, Func<IWriteLog?>? currentLog = null)
    {
        _records = records;
        _currentLog = currentLog;
    }

    /// <summary>The log the active unit appends to (null: nothing is logged).</summary>
    public IWriteLog? Log => _log;

    /// <summary>True between the outermost <see cref="Begin"/> and its <see cref="End"/>.</summary>
    public bool IsActive => _depth > 0;

    /// <summary>Sum of the held shards' <see cref="KeyspaceShard.Changes"/>: compared around one command of the unit, it tells whether that command changed a key.</summary>
    public long Changes => _locks.Changes;

    /// <summary>Adds the shards in <paramref name="mask"/> of <paramref name="database"/> (before <see cref="Begin"/>; inside an active unit they must be held).</summary>
    public void Add(Database database, ulong mask)
    {
        if (IsActive) RequireHeld(database, mask);
        else _locks.Add(database, mask);
    }

    /// <summary>Adds every shard of every database of <paramref name="keyspace"/> (FLUSHALL, SWAPDB).</summary>
    public void AddEveryDatabase(Keyspace keyspace)
    {
        if (!IsActive)
        {
            _locks.AddEveryDatabase(keyspace);
            return;
        }
        for (int d = 0; d < keyspace.DatabaseCount; d++) RequireHeld(keyspace[d], Database.AllShards);
    }

    /// <summary>
    /// Adds what <paramref name="command"/> writes when run in <paramref name="database"/>: every database for
    /// <see cref="CommandFlags.AllDatabases"/> and for a script (<see cref="CommandFlags.RunsScript"/>: its undeclared keys
    /// may be anywhere); for <see cref="CommandFlags.OtherDatabases"/> the key shards in every
    /// database; otherwise <see cref="ShardsOf(CommandInfo, in CommandArgs, out bool)"/> in <paramref name="database"/>.
    /// </summary>
    public void AddCommand(Keyspace keyspace, Database database, CommandInfo command, in CommandArgs args)
    {
        if ((command.Flags & (CommandFlags.AllDatabases | CommandFlags.RunsScript)) != 0)
        {
            AddEveryDatabase(keyspace);
            return;
        }
        ulong mask = ShardsOf(command, args, out _);
        if ((command.Flags & CommandFlags.OtherDatabases) == 0) Add(database, mask);
        else for (int d = 0; d < keyspace.DatabaseCount; d++) Add(keyspace[d], mask);
    }

    /// <summary>
    /// Begins the unit: the outermost call locks everything added and starts a new group of records (wrapped in
    /// <c>MULTI</c> … <c>EXEC</c> in the log when <paramref name="transaction"/>); a nested call only joins.
    /// <paramref name="log"/> receives the records at the outermost <see cref="End"/> (null: nothing is logged).
    /// </summary>
    public void Begin(IWriteLog? log, bool transaction)
    {
        if (_depth++ > 0) return;
        _log = log;
        _records.Clear();
        _records.IsTransaction = transaction;
        try
        {
            _locks.Acquire();
            if (_currentLog != null) _log = _currentLog();
        }
        catch
        {
            _depth = 0;
            _log = null;
            throw;
        }
    }

    /// <summary>Ends the unit: the outermost call appends its records to the log as one unit, then publishes every change and unlocks.</summary>
    public void End()
    {
        if (_depth == 0) throw new InvalidOperationException("AtomicUnit.End without Begin");
        if (--_depth > 0) return;
        try
        {
            if (_log != null && _records.Count > 0) _log.Append(_records);
        }
        finally
        {
            _records.Clear();
            _log = null;
            _locks.Release();
        }
    }

    /// <summary>
    /// The shards (of one database) <paramref name="command"/> touches: all of them for a command without key positions
    /// that reads or writes keys (FLUSHDB), else its keys' (table key positions). <paramref name="multiKey"/> is true
    /// when it may write more than one key (its shards are then locked as a multi-key write).
    /// </summary>
    public static ulong ShardsOf(CommandInfo command, in CommandArgs args, out bool multiKey)
    {
        if (command.TouchesWholeDatabase)
        {
            multiKey = true;
            return Database.AllShards;
        }
        ulong mask = KeyShardMask(command, args, out int keys);
        multiKey = keys > 1;
        return mask;
    }

    /// <summary>
    /// The shards (a mask over one database) of <paramref name="command"/>'s key arguments in <paramref name="args"/>, found
    /// by its Redis 7 key specs (<see cref="CommandInfo.GetKeys"/>); <paramref name="keyCount"/> is how many key arguments
    /// there are. Arguments the key specs cannot be applied to (a bad key count: the handler will refuse them) yield every
    /// shard, so the command still runs under locks that cover whatever it could touch. Allocates only for a command
    /// naming more than <see cref="InlineKeys"/> keys.
    /// </summary>
    public static ulong KeyShardMask(CommandInfo command, in CommandArgs args, out int keyCount)
    {
        Span<KeyRef> inline = stackalloc KeyRef[InlineKeys];
        keyCount = command.GetKeys(args, inline);
        if (keyCount < 0)
        {
            keyCount = int.MaxValue;
            return Database.AllShards;
        }
        KeyRef[]? rented = null;
        Span<KeyRef> keys = inline;
        if (keyCount > InlineKeys)
        {
            rented = System.Buffers.ArrayPool<KeyRef>.Shared.Rent(keyCount);
            keys = rented;
            command.GetKeys(args, keys);
        }
        ulong mask = 0;
        for (int i = 0; i < keyCount; i++) mask |= Database.ShardMaskOf(args[keys[i].Index]);
        if (rented != null) System.Buffers.ArrayPool<KeyRef>.Shared.Return(rented);
        return mask;
    }

    /// <summary>Keys <see cref="KeyShardMask"/> finds without renting a buffer (MSET of up to 32 keys).</summary>
    private const int InlineKeys = 32;

    private static void RequireHeld(Database database, ulong mask)
    {
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            int shard = BitOperations.TrailingZeroCount(m);
            if (!database.Shards[shard].WriteLock.IsHeldByCurrentThread)
                throw new InvalidOperationException(
                    $"A nested atomic unit needs shard {shard} of database {database.Index}, which its outer unit does not hold");
        }
    }
}
