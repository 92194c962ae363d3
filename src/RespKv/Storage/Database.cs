using System.Numerics;

namespace RespKv.Storage;

/// <summary>
/// One numbered database (SELECT 0..n-1): <see cref="ShardCount"/> shards, each a lock-free-read hash
/// table with its own writer lock and seqlock version.
/// <list type="bullet">
/// <item>Single-key reads (<see cref="Find(ReadOnlySpan{byte})"/>) take no lock and see one whole entry.</item>
/// <item>Writers lock the shards their keys map to, in ascending shard order (deadlock-free two-phase
/// locking), through <see cref="LockShards"/>; a set of shards is a 64-bit mask.</item>
/// <item>Multi-key reads (MGET, EXISTS k1 k2) that must not see half of a multi-key write read inside
/// <see cref="ReadSnapshot"/>: record the shards' versions, read, retry if any version moved (seqlock).</item>
/// <item>Multi-key writes (<see cref="LockShards"/>, and transactions through <see cref="TransactionLocks"/>)
/// also flag their shards (<see cref="KeyspaceShard.MultiKeyWriteInProgress"/>) so a lock-free
/// single-key read never returns half of them (see <see cref="KeyspaceShard.Find"/>).</item>
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

    /// <summary>An empty database numbered <paramref name="index"/>, with its own expiry clock and counters.</summary>
    public Database(int index) : this(index, new KeyLifetime())
    {
    }

    /// <summary>An empty database numbered <paramref name="index"/> sharing <paramref name="lifetime"/> (its keyspace's clock and counters).</summary>
    public Database(int index, KeyLifetime lifetime)
    {
        Index = index;
        Lifetime = lifetime;
        for (int i = 0; i < ShardCount; i++) _shards[i] = new KeyspaceShard(index, lifetime);
    }

    /// <summary>The clock, access clock and counters this database's keys live by.</summary>
    public KeyLifetime Lifetime { get; }

    /// <summary>Keys with an expiry (INFO keyspace <c>expires=</c>), counting expired keys not yet removed, as Redis does.</summary>
    public long VolatileCount => SumOverShards(static s => s.VolatileCount);

    /// <summary>Estimated bytes of this database's entries and tables (see <see cref="KeyspaceShard.MemoryBytes"/>).</summary>
    public long MemoryBytes => SumOverShards(static s => s.MemoryBytes);

    private long _avgTtl;

    /// <summary>
    /// Redis's estimate of the average remaining TTL in ms (INFO keyspace <c>avg_ttl=</c>): a running average of the
    /// TTLs the active expiry cycle samples, the newest sample weighing 2%; 0 until one is taken and after FLUSHDB.
    /// </summary>
    public long AverageTtl => Volatile.Read(ref _avgTtl);

    private int _expireShard;

    /// <summary>Resets <see cref="AverageTtl"/> to 0 (no key with an expiry is left).</summary>
    internal void ClearAverageTtl() => Volatile.Write(ref _avgTtl, 0);

    /// <summary>
    /// One loop of the active expiry cycle on this database (Redis's <c>activeExpireCycle</c> per-db loop): samples
    /// <paramref name="sampleKeys"/> keys with expiry from the next shard that has any (round robin) and removes the
    /// expired ones; folds the sampled TTLs into <see cref="AverageTtl"/>. Returns false when no shard holds a key
    /// with expiry. Only the server cron calls it.
    /// </summary>
    internal bool ActiveExpireLoop(long nowMs, int sampleKeys, List<KeyEntry> scratch, ref ActiveExpireTally tally)
    {
        for (int tried = 0; tried < ShardCount; tried++)
        {
            KeyspaceShard shard = _shards[_expireShard];
            if (shard.VolatileCount == 0)
            {
                _expireShard = (_expireShard + 1) & (ShardCount - 1);
                continue;
            }
            long ttlSum = tally.TtlSum, ttlSamples = tally.TtlSamples;
            int passes = tally.PassesCompleted;
            shard.ActiveExpireStep(nowMs, sampleKeys, scratch, ref tally);
            // Move to the next shard once this one's pass is complete, so every shard gets its turn.
            if (tally.PassesCompleted != passes) _expireShard = (_expireShard + 1) & (ShardCount - 1);
            long samples = tally.TtlSamples - ttlSamples;
            if (samples > 0)
            {
                long avg = (tally.TtlSum - ttlSum) / samples;
                long current = _avgTtl == 0 ? avg : _avgTtl;
                Volatile.Write(ref _avgTtl, current / 50 * 49 + avg / 50);
            }
            return true;
        }
        return false;
    }

    /// <summary>The database number (SELECT index).</summary>
    public int Index { get; }

    /// <summary>The shards, indexed 0..<see cref="ShardCount"/>-1.</summary>
    public ReadOnlySpan<KeyspaceShard> Shards => _shards;

    /// <summary>Number of keys (DBSIZE); exact when no write is in progress.</summary>
    public long Count => SumOverShards(static s => s.Count);

    /// <summary>Sum of value sizes in bytes.</summary>
    public long ValueBytes => SumOverShards(static s => s.ValueBytes);

    /// <summary>Sum of <paramref name="value"/> over the shards (INFO and DBSIZE figures; not a hot path).</summary>
    private long SumOverShards(Func<KeyspaceShard, long> value)
    {
        long n = 0;
        foreach (KeyspaceShard s in _shards) n += value(s);
        return n;
    }

    /// <summary>
    /// Shard index of a hash slot (<see cref="KeyHash.Slot"/>): its low <see cref="ShardBits"/> bits, so every shard
    /// holds an equal share of any range of slots (a later cluster node owning a slot range still uses every shard).
    /// </summary>
    public static int ShardOfSlot(int slot) => slot & (ShardCount - 1);

    /// <summary>Shard index of <paramref name="key"/>: the shard of its hash slot (keys sharing a <c>{hash tag}</c> share it).</summary>
    public static int ShardOf(ReadOnlySpan<byte> key) => ShardOfSlot(KeyHash.Slot(key));

    /// <summary>Mask bit of the shard that holds <paramref name="key"/>.</summary>
    public static ulong ShardMaskOf(ReadOnlySpan<byte> key) => 1UL << ShardOf(key);

    /// <summary>The entry for <paramref name="key"/>, or null (also when its expiry passed: it is then removed). Lock-free. Records an access (LRU/LFU).</summary>
    public KeyEntry? Find(ReadOnlySpan<byte> key) => Find(Locate(key), key);

    /// <summary>As <see cref="Find(ReadOnlySpan{byte})"/> without recording an access (Redis's <c>LOOKUP_NOTOUCH</c>).</summary>
    public KeyEntry? FindNoTouch(ReadOnlySpan<byte> key)
    {
        KeySlot slot = Locate(key);
        return slot.Shard.FindNoTouch(key, slot.Hash);
    }

    /// <summary>
    /// The value of <paramref name="key"/> (null when missing or expired) without recording an access or removing an expired
    /// key, so without announcing a change: what an observer may read from inside <see cref="KeyObserver.KeyChanged"/>.
    /// Caller holds the key's shard lock.
    /// </summary>
    public object? PeekValue(ReadOnlySpan<byte> key)
    {
        KeySlot slot = Locate(key);
        return slot.Shard.PeekValue(key, slot.Hash);
    }

    /// <summary>The shard that holds <paramref name="key"/>, and the key's hash.</summary>
    public KeyspaceShard ShardFor(ReadOnlySpan<byte> key, out int hash)
    {
        hash = KeyHash.Compute(key);
        return _shards[ShardOf(key)];
    }

    /// <summary>
    /// Locks the shards in <paramref name="mask"/> in ascending order for a write of several keys: marks
    /// each as being written (odd version) and as holding a multi-key write (lock-free single-key readers
    /// wait for it) until the returned scope is disposed. Keep the scope short and allocation-free.
    /// </summary>
    public ShardWriteScope LockShards(ulong mask) => new(this, mask, multiKey: true);

    /// <summary>Locks the shards in <paramref name="mask"/> for a write of one key (no multi-key flag; see <see cref="LockKey(ReadOnlySpan{byte})"/>).</summary>
    public ShardWriteScope LockKeyShard(ulong mask) => new(this, mask, multiKey: false);

    /// <summary>
    /// Locks the one shard that holds <paramref name="key"/> for a write of that key alone (odd version, but
    /// no multi-key flag: replacing one node is already atomic to readers); see <see cref="LockShards"/>.
    /// </summary>
    public ShardWriteScope LockKey(ReadOnlySpan<byte> key) => new(this, ShardMaskOf(key), multiKey: false);

    /// <summary>
    /// Locks the one shard that holds <paramref name="key"/> and returns where the key lives, so the
    /// caller's <see cref="Find(in KeySlot, ReadOnlySpan{byte})"/> and <see cref="Set(in KeySlot, ReadOnlySpan{byte}, object, long, KeyEvent?)"/>
    /// reuse its hash instead of hashing the key again.
    /// </summary>
    public ShardWriteScope LockKey(ReadOnlySpan<byte> key, out KeySlot slot)
    {
        slot = Locate(key);
        return new ShardWriteScope(this, 1UL << slot.ShardIndex, multiKey: false);
    }

    /// <summary>Most keys one <see cref="PrefetchKeys"/> call covers (its stack buffers).</summary>
    private const int PrefetchBatch = 16;

    /// <summary>
    /// Starts loading, for the keys <c>args[first]</c>, <c>args[first + step]</c>, … (at most <see cref="PrefetchBatch"/> of
    /// them), the memory a lookup of each reads, so their cache misses overlap instead of coming one after another (as
    /// Valkey 8's batch key prefetch): a multi-key command (MSET, MGET) calls it before its per-key loop. Lock-free, changes
    /// nothing; a key whose bucket changes meanwhile only loses its hint. See <see cref="KeyspaceShard.Prefetch"/> and the
    /// profile in bench/PROFILE.md.
    /// </summary>
    public void PrefetchKeys(in Protocol.CommandArgs args, int first, int step)
    {
        int count = Math.Min(PrefetchBatch, (args.Count - first + step - 1) / step);
        if (count < 2 || !System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        Span<int> hashes = stackalloc int[PrefetchBatch];
        Span<byte> shards = stackalloc byte[PrefetchBatch];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> key = args[first + i * step];
            hashes[i] = KeyHash.Compute(key);
            shards[i] = (byte)ShardOf(key);
        }
        Prefetch(hashes[..count], shards[..count]);
    }

    /// <summary>
    /// Prefetches the lookups of the keys with bucket hashes <paramref name="hashes"/> in shards <paramref name="shards"/>
    /// (same length): every key's stage 0, then every key's stage 1, then stage 2 (<see cref="KeyspaceShard.Prefetch"/>), so
    /// the misses of one stage overlap. Used by <see cref="PrefetchKeys"/> and the pipeline's look-ahead.
    /// </summary>
    public void Prefetch(ReadOnlySpan<int> hashes, ReadOnlySpan<byte> shards)
    {
        for (int stage = 0; stage < 3; stage++)
            for (int i = 0; i < hashes.Length; i++) _shards[shards[i]].Prefetch(hashes[i], stage);
    }

    /// <summary>Where <paramref name="key"/> lives: its hash and shard.</summary>
    public KeySlot Locate(ReadOnlySpan<byte> key)
    {
        int shard = ShardOf(key);
        return new KeySlot(_shards[shard], KeyHash.Compute(key), shard);
    }

    /// <summary>The entry for the key at <paramref name="slot"/>, or null (see <see cref="KeyspaceShard.Find"/>).</summary>
    public KeyEntry? Find(in KeySlot slot, ReadOnlySpan<byte> key) => slot.Shard.Find(key, slot.Hash);

    /// <summary>Inserts or replaces the key at <paramref name="slot"/>. Caller holds its shard lock.</summary>
    /// <returns>The replaced entry, or null when the key was new.</returns>
    public KeyEntry? Set(in KeySlot slot, ReadOnlySpan<byte> key, object value, long expireAtMs = 0, KeyEvent? keyEvent = null) =>
        slot.Shard.Upsert(key, slot.Hash, value, expireAtMs, keyEvent ?? KeyEvent.Set);

    /// <summary>
    /// Sizes the tables of this database's empty shards for <paramref name="keys"/> keys in all (spread evenly over the
    /// shards, as the slot hash spreads them): a loader's answer to an RDB's <c>RESIZEDB</c> hint
    /// (<see cref="KeyspaceShard.Reserve"/>). Takes each shard's lock in turn.
    /// </summary>
    public void Reserve(long keys)
    {
        if (keys <= 0) return;
        long perShard = keys / ShardCount + 1;
        foreach (KeyspaceShard shard in _shards)
            using (shard.WriteLock.EnterScope()) shard.Reserve(perShard);
    }

    /// <summary>
    /// As <see cref="Set(in KeySlot, ReadOnlySpan{byte}, object, long, KeyEvent?)"/>, for a key array the caller hands over and
    /// never touches again (a loader's freshly read key): a new entry stores it without copying. Caller holds its shard lock.
    /// </summary>
    internal KeyEntry? SetOwnedKey(in KeySlot slot, byte[] key, object value, long expireAtMs, KeyEvent keyEvent) =>
        slot.Shard.Upsert(key, slot.Hash, value, expireAtMs, keyEvent, ownedKey: key);

    /// <summary>
    /// A write's lazy reclaim of hash-field expiry: when <paramref name="entry"/> (the key at <paramref name="slot"/>) is a hash
    /// with fields expired now, removes them (logged as <c>HDEL</c>, announced <c>hexpired</c>, the key deleted when none is
    /// left) and returns the key's entry afterwards (null when deleted); else <paramref name="entry"/>. Caller holds the shard lock.
    /// </summary>
    public KeyEntry? ReclaimExpiredFields(in KeySlot slot, KeyEntry? entry) =>
        entry == null ? null : slot.Shard.ReclaimExpiredFields(entry, Lifetime.NowMs);

    /// <summary>Hashes whose earliest field expiry each shard reclaims per active expiry cycle, at most.</summary>
    internal const int FieldExpiryKeysPerShard = 200;

    /// <summary>
    /// The field part of the active expiry cycle on this database (Redis 7.4's <c>hashTypeDbActiveExpire</c>): every shard
    /// reclaims the expired fields of the hashes whose earliest field expiry has passed. Returns the fields removed. Only the
    /// server cron calls it.
    /// </summary>
    internal long ActiveExpireFields(long nowMs)
    {
        long removed = 0;
        foreach (KeyspaceShard shard in _shards) removed += shard.ActiveExpireFields(nowMs, FieldExpiryKeysPerShard);
        return removed;
    }

    /// <summary>Registers <paramref name="observer"/> on <paramref name="key"/> (WATCH, later a blocked client): every later change to the key tells it.</summary>
    /// <param name="key">A copy of the key, kept until <see cref="StopObserving"/>.</param>
    /// <param name="observer">The observer.</param>
    public void Observe(byte[] key, KeyObserver observer)
    {
        using (LockKey(key, out KeySlot slot)) slot.Shard.AddObserver(key, observer);
    }

    /// <summary>Unregisters <paramref name="observer"/> from <paramref name="key"/>.</summary>
    public void StopObserving(byte[] key, KeyObserver observer)
    {
        using (LockKey(key, out KeySlot slot)) slot.Shard.RemoveObserver(key, observer);
    }

    /// <summary>Inserts or replaces a key's value, announced as <paramref name="keyEvent"/> (default <see cref="KeyEvent.Set"/>). Caller holds the key's shard lock.</summary>
    /// <returns>The replaced entry, or null when the key was new.</returns>
    public KeyEntry? Set(ReadOnlySpan<byte> key, object value, long expireAtMs = 0, KeyEvent? keyEvent = null) =>
        Set(Locate(key), key, value, expireAtMs, keyEvent);

    /// <summary>Deletes a key, announced as <paramref name="keyEvent"/> (default <see cref="KeyEvent.Del"/>). Caller holds the key's shard lock.</summary>
    /// <returns>The deleted entry, or null when it did not exist.</returns>
    public KeyEntry? Remove(ReadOnlySpan<byte> key, KeyEvent? keyEvent = null)
    {
        KeySlot slot = Locate(key);
        return slot.Shard.Remove(key, slot.Hash, keyEvent ?? KeyEvent.Del);
    }

    /// <summary>
    /// Announces that <paramref name="key"/>'s value was changed in place (a <see cref="Kinds.ValueKind.MutatedInPlace"/>
    /// kind, mutated under its shard lock rather than replaced), as <paramref name="keyEvent"/>, its payload having grown by
    /// <paramref name="valueBytesDelta"/> bytes and its estimated heap size by <paramref name="memoryBytesDelta"/> (negative
    /// when it shrank): the change is propagated to the AOF, wakes the key's observers (WATCH, blocked clients) and the
    /// change hook, and keeps INFO's totals right. Caller holds the key's shard lock.
    /// Inserts, replaces and removes through <see cref="Set(ReadOnlySpan{byte}, object, long, KeyEvent?)"/> and
    /// <see cref="Remove"/> announce themselves.
    /// </summary>
    public void Mutated(in KeySlot slot, ReadOnlySpan<byte> key, KeyEvent keyEvent, long valueBytesDelta = 0, long memoryBytesDelta = 0)
    {
        Resized(slot, valueBytesDelta, memoryBytesDelta);
        slot.Shard.Mutated(key, keyEvent);
    }

    /// <summary>
    /// Counts a change of the value at <paramref name="slot"/> made in place for propagation only (Redis's <c>server.dirty++</c>
    /// without <c>signalModifiedKey</c> or a notification: XACK, XREADGROUP, XCLAIM changing a consumer group), its estimated
    /// heap size having grown by <paramref name="memoryBytesDelta"/>; WATCH, blocked clients and the change hook are not told.
    /// Caller holds the key's shard lock.
    /// </summary>
    public void Dirtied(in KeySlot slot, long memoryBytesDelta = 0)
    {
        Resized(slot, 0, memoryBytesDelta);
        slot.Shard.CountChange();
    }

    /// <summary>
    /// Announces <paramref name="keyEvent"/> on <paramref name="key"/> (observers such as WATCH, and the change hook) without
    /// counting a change to propagate: a command Redis notifies and signals even when it changed nothing (LTRIM of the whole
    /// list: Redis's <c>ltrimCommand</c> adds 0 to <c>dirty</c> but still calls <c>signalModifiedKey</c> and
    /// <c>notifyKeyspaceEvent</c>). Caller holds the key's shard lock.
    /// </summary>
    public void Announce(in KeySlot slot, ReadOnlySpan<byte> key, KeyEvent keyEvent) => slot.Shard.Announce(key, keyEvent);

    /// <summary>As <see cref="Announce(in KeySlot, ReadOnlySpan{byte}, KeyEvent)"/>, locating the key.</summary>
    public void Announce(ReadOnlySpan<byte> key, KeyEvent keyEvent) => Announce(Locate(key), key, keyEvent);

    /// <summary>
    /// Adds to the payload and memory totals of the key at <paramref name="slot"/>'s shard (either may be negative) for a value
    /// changed in place whose change was already announced (<see cref="Mutated"/> before the change, where Redis notifies
    /// first: ZPOPMIN announces after its reply's array header, SPOP before its reply). Caller holds the key's shard lock.
    /// </summary>
    public void Resized(in KeySlot slot, long valueBytesDelta, long memoryBytesDelta)
    {
        if ((valueBytesDelta | memoryBytesDelta) != 0) slot.Shard.AddBytes(valueBytesDelta, memoryBytesDelta);
    }

    /// <summary>Sum of <see cref="KeyspaceShard.Changes"/> over the shards in <paramref name="mask"/>: moves when a command holding them changed a key.</summary>
    public long ChangesIn(ulong mask)
    {
        long sum = 0;
        for (ulong m = mask; m != 0; m &= m - 1) sum += _shards[BitOperations.TrailingZeroCount(m)].Changes;
        return sum;
    }

    /// <summary>
    /// SWAPDB: exchanges every key of this database with <paramref name="other"/>'s (clients that selected either see the
    /// other's keys from now on), atomically to other clients: every shard of both databases is locked (lower index first)
    /// and flagged as a multi-key write. Watchers of a key present in either database are marked modified (Redis's
    /// <c>touchAllWatchedKeysInDb</c>); the average-TTL estimates swap too. Each swapped shard counts a change.
    /// </summary>
    public void SwapWith(Database other)
    {
        if (other == this) return;
        Database first = Index < other.Index ? this : other, second = first == this ? other : this;
        using (first.LockShards(AllShards))
        using (second.LockShards(AllShards))
        {
            for (int i = 0; i < ShardCount; i++) _shards[i].SwapContents(other._shards[i]);
            long ttl = _avgTtl;
            Volatile.Write(ref _avgTtl, other._avgTtl);
            Volatile.Write(ref other._avgTtl, ttl);
        }
    }

    /// <summary>Deletes every key (FLUSHDB), atomically with respect to other writers; returns how many were deleted.</summary>
    public long Flush()
    {
        using ShardWriteScope scope = LockShards(AllShards);
        long removed = 0;
        foreach (KeyspaceShard s in _shards) removed += s.Clear();
        ClearAverageTtl();
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
        if (TransactionLocks.HeldByCurrentThread)
        {
            // Inside EXEC this thread already holds these shards (odd versions): read under them directly.
            using (LockShards(mask)) read(ref state);
            return;
        }
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

/// <summary>Where a key lives: its shard (from its hash slot) and its bucket hash (<see cref="KeyHash.Compute"/>), computed once per command.</summary>
/// <param name="Shard">The shard that holds the key.</param>
/// <param name="Hash">The key's bucket hash.</param>
/// <param name="ShardIndex">Index of <see cref="Shard"/> in its database (<see cref="Database.ShardOf(ReadOnlySpan{byte})"/>).</param>
public readonly record struct KeySlot(KeyspaceShard Shard, int Hash, int ShardIndex);

/// <summary>The read inside <see cref="Database.ReadSnapshot{TState}"/>.</summary>
public delegate void SnapshotReader<TState>(ref TState state) where TState : allows ref struct;

/// <summary>
/// Holds the write locks of a set of shards (ascending order) and their odd seqlock versions; dispose
/// to publish (even versions) and unlock.
/// <para>
/// Nesting: a command inside EXEC takes its own scope while EXEC (<see cref="TransactionLocks"/>) already
/// holds the shard. <see cref="Lock"/> is re-entrant, but bumping the version again would make it even —
/// "no write in progress" — in the middle of the transaction, and seqlock readers would accept a torn
/// state. So only the outermost scope of a shard on a thread changes its version and multi-key flag; an
/// inner scope (the lock is already held by this thread) only re-enters and exits the lock. Inside a
/// transaction every shard a command locks must already be held (the transaction's lock set is computed
/// from the command table's key positions); taking a new one there could break the global lock order,
/// so it is a defect and throws after releasing what this scope took.
/// </para>
/// </summary>
public readonly struct ShardWriteScope : IDisposable
{
    private readonly Database _database;
    private readonly ulong _mask;
    private readonly ulong _nested;
    private readonly bool _multiKey;

    internal ShardWriteScope(Database database, ulong mask, bool multiKey)
    {
        _database = database;
        _mask = mask;
        _multiKey = multiKey;
        // Read once (a thread-static): a transaction's own Acquire locks up to 64 shards through here.
        bool inTransaction = TransactionLocks.HeldByCurrentThread;
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            int index = BitOperations.TrailingZeroCount(m);
            KeyspaceShard shard = database.ShardAt(index);
            if (shard.WriteLock.IsHeldByCurrentThread)
            {
                shard.WriteLock.Enter();
                _nested |= 1UL << index;
                continue;
            }
            if (inTransaction)
            {
                Release(database, mask & ((1UL << index) - 1), _nested, multiKey);
                throw new InvalidOperationException(
                    $"A command inside EXEC locked shard {index} of database {database.Index}, outside the transaction's lock set");
            }
            shard.WriteLock.Enter();
            shard.BeginWrite();
            if (multiKey) shard.SetMultiKeyWrite(true);
        }
    }

    /// <summary>Publishes the writes and releases the locks.</summary>
    public void Dispose()
    {
        if (_database != null) Release(_database, _mask, _nested, _multiKey);
    }

    private static void Release(Database database, ulong mask, ulong nested, bool multiKey)
    {
        for (ulong m = mask; m != 0; m &= m - 1)
        {
            int index = BitOperations.TrailingZeroCount(m);
            KeyspaceShard shard = database.ShardAt(index);
            if ((nested & (1UL << index)) == 0)
            {
                if (multiKey) shard.SetMultiKeyWrite(false);
                shard.EndWrite();
            }
            shard.WriteLock.Exit();
        }
    }
}
