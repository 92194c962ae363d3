namespace RespKv.Storage;

/// <summary>
/// The lock set of one EXEC (or any write spanning databases): a shard mask per database, acquired all
/// at once before the first command runs and released after the last — strict two-phase locking.
/// <para>
/// Deadlock freedom: every lock in the server is taken in one global order, (database index, shard
/// index) ascending — here, in <see cref="Database.LockShards"/>, and in COPY across databases. Commands
/// run inside the transaction take their own scopes on shards this set already holds, which only
/// re-enter the locks (see <see cref="ShardWriteScope"/>).
/// </para>
/// <para>
/// Visibility: each acquired shard is held as a multi-key write (odd seqlock version, multi-key flag set)
/// from before the first command until after the last, so neither seqlock readers (MGET, EXISTS) nor
/// lock-free single-key readers (GET) observe any of the transaction's effects until all are applied,
/// and no other writer can change a locked key midway.
/// </para>
/// Reused by its owner (one per client); not thread-safe.
/// </summary>
public sealed class TransactionLocks
{
    [ThreadStatic] private static bool t_held;

    private readonly List<(Database Database, ulong Mask)> _masks = new();
    private readonly List<ShardWriteScope> _scopes = new();
    private Keyspace? _everyDatabase;

    /// <summary>True on a thread that holds a transaction's lock set (between <see cref="Acquire"/> and <see cref="Release"/>).</summary>
    public static bool HeldByCurrentThread => t_held;

    /// <summary>True when the set is empty (nothing to lock).</summary>
    public bool IsEmpty => _masks.Count == 0 && _everyDatabase == null;

    /// <summary>
    /// Sum of <see cref="KeyspaceShard.Changes"/> over every shard the set holds (only its holder changes them): compared
    /// before and after a command run under the set, it tells whether the command changed a key. Call between
    /// <see cref="Acquire"/> and <see cref="Release"/>.
    /// </summary>
    public long Changes
    {
        get
        {
            long sum = 0;
            if (_everyDatabase != null)
            {
                for (int i = 0; i < _everyDatabase.DatabaseCount; i++) sum += _everyDatabase[i].ChangesIn(Database.AllShards);
                return sum;
            }
            foreach ((Database database, ulong mask) in _masks) sum += database.ChangesIn(mask);
            return sum;
        }
    }

    /// <summary>Adds the shards in <paramref name="mask"/> of <paramref name="database"/>.</summary>
    public void Add(Database database, ulong mask)
    {
        if (mask == 0) return;
        for (int i = 0; i < _masks.Count; i++)
        {
            if (_masks[i].Database != database) continue;
            _masks[i] = (database, _masks[i].Mask | mask);
            return;
        }
        _masks.Add((database, mask));
    }

    /// <summary>Adds every shard of every database of <paramref name="keyspace"/> (FLUSHALL).</summary>
    public void AddEveryDatabase(Keyspace keyspace) => _everyDatabase = keyspace;

    /// <summary>
    /// Locks the set in (database index, shard index) order, each shard as a multi-key write. Until
    /// <see cref="Release"/>, this thread may only lock shards inside the set.
    /// </summary>
    public void Acquire()
    {
        if (t_held) throw new InvalidOperationException("A transaction lock set is already held on this thread");
        if (_everyDatabase != null)
        {
            for (int i = 0; i < _everyDatabase.DatabaseCount; i++) _scopes.Add(_everyDatabase[i].LockShards(Database.AllShards));
        }
        else
        {
            // List.Sort(Comparison) allocates its comparer: sort only when there is something to order.
            if (_masks.Count > 1) _masks.Sort(static (a, b) => a.Database.Index.CompareTo(b.Database.Index));
            foreach ((Database database, ulong mask) in _masks) _scopes.Add(database.LockShards(mask));
        }
        t_held = true;
    }

    /// <summary>Publishes every change and unlocks (reverse order), then empties the set for reuse.</summary>
    public void Release()
    {
        t_held = false;
        for (int i = _scopes.Count - 1; i >= 0; i--) _scopes[i].Dispose();
        _scopes.Clear();
        _masks.Clear();
        _everyDatabase = null;
    }
}
