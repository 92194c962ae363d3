using System.Numerics;

namespace RespKv.Storage;

/// <summary>
/// One numbered database (SELECT 0..n-1): <see cref="ShardCount"/> shards, each a lock-free-read hash
/// table with its own writer lock and seqlock version.
/// <list type="bullet">
/// <item>Single-key reads (<see cref="Find"/>) take no lock and see one whole entry.</item>
/// <item>Writers lock the shards their keys map to, in ascending shard order (deadlock-free two-phase
/// locking), through <see cref="LockShards"/>; a set of shards is a 64-bit mask.</item>
/// <item>Multi-key reads (MGET, EXISTS k1 k2) that must not see half of a multi-key write read inside
/// <see cref="ReadSnapshot"/>: record the shards' versions, read, retry if any version moved (seqlock).</item>
/// </list>
/// </summary>
public sealed class Database
{
    /// <summary>Bits of a key's hash that choose its shard.</summary>
    public const int ShardBits = 6;

    /// <summary>Shards per database (64, so a set of shards fits one <c>ulong</c> mask).</summary>
    public const int ShardCount = 1 << ShardBits;

    /// <summary>Mask with every shard of a database.</summary>
    public const ulong AllShards = ulong.MaxValue;

    private readonly KeyspaceShard[] _shards = new KeyspaceShard[ShardCount];

    /// <summary>An empty database numbered <paramref name="index"/>.</summary>
    public Database(int index)
    {
        Index = index;
        for (int i = 0; i < ShardCount; i++) _shards[i] = new KeyspaceShard();
    }

    /// <summary>The database number (SELECT index).</summary>
    public int Index { get; }

    /// <summary>The shards, indexed 0..<see cref="ShardCount"/>-1.</summary>
    public ReadOnlySpan<KeyspaceShard> Shards => _shards;

    /// <summary>Number of keys (DBSIZE); exact when no write is in progress.</summary>
    public long Count
    {
        get
        {
            long n = 0;
            foreach (KeyspaceShard s in _shards) n += s.Count;
            return n;
        }
    }

    /// <summary>Sum of value sizes in bytes.</summary>
    public long ValueBytes
    {
        get
        {
            long n = 0;
            foreach (KeyspaceShard s in _shards) n += s.ValueBytes;
            return n;
        }
    }

    /// <summary>Shard index of a key hash.</summary>
    public static int ShardOf(int hash) => hash & (ShardCount - 1);

    /// <summary>Mask bit of the shard that holds <paramref name="key"/>.</summary>
    public static ulong ShardMaskOf(ReadOnlySpan<byte> key) => 1UL << ShardOf(KeyHash.Compute(key));

    /// <summary>The entry for <paramref name="key"/>, or null. Lock-free.</summary>
    public KeyEntry? Find(ReadOnlySpan<byte> key)
    {
        int hash = KeyHash.Compute(key);
        return _shards[ShardOf(hash)].Find(key, hash);
    }

    /// <summary>The shard that holds <paramref name="key"/>, and the key's hash.</summary>
    public KeyspaceShard ShardFor(ReadOnlySpan<byte> key, out int hash)
    {
        hash = KeyHash.Compute(key);
        return _shards[ShardOf(hash)];
    }

    /// <summary>
    /// Locks the shards in <paramref name="mask"/> in ascending order and marks each as being written
    /// (odd version) until the returned scope is disposed. Keep the scope short and allocation-free.
    /// </summary>
    public ShardWriteScope LockShards(ulong mask) => new(this, mask);

    /// <summary>Locks the one shard that holds <paramref name="key"/>; see <see cref="LockShards"/>.</summary>
    public ShardWriteScope LockKey(ReadOnlySpan<byte> key) => new(this, ShardMaskOf(key));

    /// <summary>Inserts or replaces a key's value. Caller holds the key's shard lock.</summary>
    /// <returns>The replaced entry, or null when the key was new.</returns>
    public KeyEntry? Set(ReadOnlySpan<byte> key, object value, long expireAtMs = 0)
    {
        KeyspaceShard shard = ShardFor(key, out int hash);
        return shard.Upsert(key, hash, value, expireAtMs);
    }

    /// <summary>Inserts a key known to be absent, keeping <paramref name="key"/> as its array. Caller holds the key's shard lock.</summary>
    public void Insert(byte[] key, object value, long expireAtMs = 0)
    {
        KeyspaceShard shard = ShardFor(key, out int hash);
        shard.InsertNew(key, hash, value, expireAtMs);
    }

    /// <summary>Deletes a key. Caller holds the key's shard lock.</summary>
    /// <returns>The deleted entry, or null when it did not exist.</returns>
    public KeyEntry? Remove(ReadOnlySpan<byte> key)
    {
        KeyspaceShard shard = ShardFor(key, out int hash);
        return shard.Remove(key, hash);
    }

    /// <summary>Deletes every key (FLUSHDB), atomically with respect to other writers; returns how many were deleted.</summary>
    public long Flush()
    {
        using ShardWriteScope scope = LockShards(AllShards);
        long removed = 0;
        foreach (KeyspaceShard s in _shards) removed += s.Clear();
        return removed;
    }

    /// <summary>
    /// Runs <paramref name="read"/> so that it observes no write to the shards in <paramref name="mask"/>
    /// half-done: it retries the read until the shards' seqlock versions are even and unchanged across it.
    /// After <see cref="OptimisticReadAttempts"/> failed attempts (writers keep hitting these shards) it
    /// reads once more holding the shards' locks, so a reader always makes progress.
    /// <paramref name="read"/> must only read (it may run more than once) and must reset its own output.
    /// </summary>
    public void ReadSnapshot<TState>(ulong mask, ref TState state, SnapshotReader<TState> read) where TState : allows ref struct
    {
        Span<long> versions = stackalloc long[ShardCount];
        var spin = new SpinWait();
        for (int attempt = 0; attempt < OptimisticReadAttempts; attempt++)
        {
            if (TryRecordVersions(mask, versions))
            {
                read(ref state);
                Interlocked.MemoryBarrier();
                if (VersionsUnchanged(mask, versions)) return;
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
        using (LockShards(mask)) read(ref state);
    }

    /// <summary>Optimistic (lock-free) tries of <see cref="ReadSnapshot{TState}"/> before it falls back to locking.</summary>
    private const int OptimisticReadAttempts = 32;

    private bool TryRecordVersions(ulong mask, Span<long> versions)
    {
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            int i = BitOperations.TrailingZeroCount(m);
            long v = _shards[i].Version;
            if ((v & 1) != 0) return false;
            versions[i] = v;
        }
        return true;
    }

    private bool VersionsUnchanged(ulong mask, ReadOnlySpan<long> versions)
    {
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            int i = BitOperations.TrailingZeroCount(m);
            if (_shards[i].Version != versions[i]) return false;
        }
        return true;
    }

    internal KeyspaceShard ShardAt(int index) => _shards[index];
}

/// <summary>The read inside <see cref="Database.ReadSnapshot{TState}"/>.</summary>
public delegate void SnapshotReader<TState>(ref TState state) where TState : allows ref struct;

/// <summary>
/// Holds the write locks of a set of shards (ascending order) and their odd seqlock versions; dispose
/// to publish (even versions) and unlock.
/// </summary>
public readonly struct ShardWriteScope : IDisposable
{
    private readonly Database _database;
    private readonly ulong _mask;

    internal ShardWriteScope(Database database, ulong mask)
    {
        _database = database;
        _mask = mask;
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            KeyspaceShard shard = database.ShardAt(BitOperations.TrailingZeroCount(m));
            shard.WriteLock.Enter();
            shard.BeginWrite();
        }
    }

    /// <summary>Publishes the writes and releases the locks.</summary>
    public void Dispose()
    {
        if (_database == null) return;
        for (ulong m = _mask; m != 0; m &= m - 1)
        {
            KeyspaceShard shard = _database.ShardAt(BitOperations.TrailingZeroCount(m));
            shard.EndWrite();
            shard.WriteLock.Exit();
        }
    }
}
