using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace RespKv.Storage;

/// <summary>
/// One shard of a database: a chained hash table whose readers take no lock, plus the writer lock and
/// the seqlock version that make multi-key operations atomic.
/// <para>
/// Lock-free reads: a writer (holding <see cref="WriteLock"/>) only ever publishes fully built nodes
/// with single reference writes — a new head for an insert, a predecessor's <c>Next</c> (or the bucket
/// slot) for a replace or remove — so a reader walking a chain sees each key either before or after the
/// write, never a half-made node. Growing the table builds the new array before publishing it, copying
/// every node whose link would change, so a reader still on the old array keeps walking intact old chains.
/// </para>
/// <para>
/// Seqlock: <see cref="Version"/> is odd while a write is in progress. A multi-key reader records the
/// versions of its shards, reads, and retries if any version moved (see <see cref="Database"/>).
/// </para>
/// <para>
/// Multi-key writes: while a write of more than one key (MSET, DEL k1 k2, RENAME, FLUSHDB, EXEC) holds
/// this shard, <see cref="MultiKeyWriteInProgress"/> is set. The lock-free single-key read
/// (<see cref="Find"/>) checks it before and after reading and, if it was set, reads again under the lock,
/// so it never returns the first half of such a write (see <see cref="Find"/>). Single-key writes do not set it:
/// they replace one node with one reference write, which a reader sees whole or not at all.
/// </para>
/// <para>
/// Changes: every insert, replace and remove — and a value changed in place, through <see cref="Database.Mutated"/> —
/// is announced once, by <see cref="Mutated"/>, under the write lock: it counts in <see cref="Changes"/> (the executor's
/// "did this command write", for AOF propagation), tells the key's observers (<see cref="KeyObserver"/>: WATCH, as
/// Redis's <c>touchWatchedKey</c>; later blocked clients) and the keyspace's change hook
/// (<see cref="KeyLifetime.KeyChanged"/>). With no observer and no hook the cost is two null checks per write.
/// </para>
/// </summary>
public sealed class KeyspaceShard
{
    private const int InitialBuckets = 4;

    /// <summary>Estimated bytes of an empty shard's bucket array (its <see cref="MemoryBytes"/> with no key).</summary>
    public const int EmptyTableBytes = InitialBuckets * 8;

    private KeyEntry?[] _buckets = new KeyEntry?[InitialBuckets];
    private int _count;
    private long _valueBytes;
    private long _version;
    private int _multiKeyWrite;
    private int _volatileCount;
    private long _memoryBytes;
    private ulong _expireCursor;

    /// <summary>
    /// Hashes whose fields carry expiries, by their earliest field expiry (Unix ms): Redis 7.4's per-database
    /// <c>hexpires</c>. A key is queued whenever a hash is stored with a new earliest expiry; entries made stale by later
    /// writes or deletes are dropped when they come due. Null until a hash with field expiries is stored. Guarded by the write lock.
    /// </summary>
    private PriorityQueue<byte[], long>? _fieldExpiries;
    private readonly KeyLifetime _lifetime;
    private readonly int _databaseIndex;

    /// <summary>An empty shard of database <paramref name="databaseIndex"/>, judging expiry by <paramref name="lifetime"/>.</summary>
    internal KeyspaceShard(int databaseIndex, KeyLifetime lifetime)
    {
        _databaseIndex = databaseIndex;
        _lifetime = lifetime;
        _memoryBytes = EmptyTableBytes;
    }

    /// <summary>Observers per observed key (WATCH, later blocked clients); null when none. Guarded by <see cref="WriteLock"/>.</summary>
    private Dictionary<byte[], List<KeyObserver>>? _observers;

    /// <summary>The writer lock; take it through <see cref="Database"/>'s lock scopes, in ascending shard order.</summary>
    internal readonly Lock WriteLock = new();

    /// <summary>Seqlock version: odd while a writer is applying changes.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Keys in this shard.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Sum of <see cref="KeyEntry.ValueBytes"/> over this shard's keys, in bytes.</summary>
    public long ValueBytes => Volatile.Read(ref _valueBytes);

    /// <summary>Keys in this shard that carry an expiry (<see cref="KeyEntry.ExpireAtMs"/> != 0): Redis's expires dict size. Expired keys not yet removed count.</summary>
    public int VolatileCount => Volatile.Read(ref _volatileCount);

    /// <summary>
    /// Estimated bytes this shard holds: every entry's <see cref="KeyEntry.MemoryBytes"/> (node, key, value, on the
    /// managed heap) plus the bucket array. Maintained on every insert, replace and remove (INFO <c>used_memory</c>).
    /// </summary>
    public long MemoryBytes => Volatile.Read(ref _memoryBytes);

    private void AddMemory(long delta)
    {
        _memoryBytes += delta;
        _lifetime.AddBytes(delta);
    }

    /// <summary>
    /// Changes to this shard's keys ever announced through <see cref="Mutated"/> (Redis's <c>server.dirty</c>, per shard;
    /// written under <see cref="WriteLock"/>). The executor compares the sum over the shards a write command holds before
    /// and after it runs: a change means the command is propagated to the AOF. Expiry and eviction do not count (Redis
    /// propagates their <c>DEL</c> itself and leaves <c>dirty</c> alone).
    /// </summary>
    public long Changes => Volatile.Read(ref _changes);

    private long _changes;

    /// <summary>
    /// The one announcement of a change to <paramref name="key"/> by a command (a set, a delete, a value changed in
    /// place): counts it in <see cref="Changes"/> (AOF propagation) and tells the key's observers (WATCH today; blocked
    /// clients next) and the keyspace's change hook (<see cref="KeyLifetime.KeyChanged"/>: keyspace notifications and
    /// tracking invalidations). Caller holds <see cref="WriteLock"/>. Inserts, replaces and removes call it themselves;
    /// code that changes a value in place calls it through <see cref="Database.Mutated"/>.
    /// </summary>
    internal void Mutated(ReadOnlySpan<byte> key, KeyEvent keyEvent)
    {
        _changes++;
        Announce(key, keyEvent);
    }

    /// <summary>Counts a command's change in <see cref="Changes"/> without telling observers or the change hook (<see cref="Database.Dirtied"/>). Caller holds <see cref="WriteLock"/>.</summary>
    internal void CountChange() => _changes++;

    /// <summary>Tells observers and the change hook about <paramref name="key"/>, without counting a command's change (expiry, eviction).</summary>
    internal void Announce(ReadOnlySpan<byte> key, KeyEvent keyEvent)
    {
        if (_observers != null) NotifyObservers(key);
        _lifetime.KeyChanged?.Invoke(_databaseIndex, key, keyEvent);
    }

    /// <summary>Adds to the payload and memory totals (either may be negative): a value changed in place grew or shrank. Caller holds <see cref="WriteLock"/>.</summary>
    internal void AddBytes(long valueBytes, long memoryBytes)
    {
        _valueBytes += valueBytes;
        AddMemory(memoryBytes);
    }

    /// <summary>
    /// Makes the seqlock version odd before a write's changes (caller holds <see cref="WriteLock"/>): a full fence, so no
    /// change is seen before the odd version.
    /// </summary>
    internal void BeginWrite() => Interlocked.Increment(ref _version);

    /// <summary>
    /// Makes the version even again after the changes (caller holds <see cref="WriteLock"/>, so no other thread writes it): a
    /// release store suffices — every change is visible before the new version — and costs no atomic instruction, which a
    /// script's atomic unit pays once per shard of its database.
    /// </summary>
    internal void EndWrite() => Volatile.Write(ref _version, _version + 1);

    /// <summary>True while a write of several keys (a multi-key scope or a transaction) holds this shard.</summary>
    public bool MultiKeyWriteInProgress => Volatile.Read(ref _multiKeyWrite) != 0;

    /// <summary>Marks (or clears) a multi-key write on this shard. Caller holds the write lock.</summary>
    internal void SetMultiKeyWrite(bool active) => Volatile.Write(ref _multiKeyWrite, active ? 1 : 0);

    /// <summary>
    /// The entry for <paramref name="key"/>, or null. Lock-free unless a multi-key write holds the shard.
    /// <para>
    /// Why it never shows half of a transaction: a multi-key writer (MSET, EXEC…) sets
    /// <see cref="MultiKeyWriteInProgress"/> on every shard it will touch before it changes anything and
    /// clears it after its last change. This read checks the flag before and after walking the chain; if it
    /// was set at either point (another thread is midway through a multi-key write here), it reads again
    /// holding the shard's lock, which waits for that write to finish. So a value is only returned when
    /// no multi-key write was in progress at either end of the read: a client's later reads of the
    /// writer's other keys either come after the whole write or wait for it. The cost on the common path
    /// is two volatile reads of a field next to the bucket array reference; nothing spins. A thread that
    /// itself holds the lock (a writer looking up its own keys, or a command inside EXEC) reads directly.
    /// </para>
    /// </summary>
    public KeyEntry? Find(ReadOnlySpan<byte> key, int hash)
    {
        KeyEntry? found;
        if (Volatile.Read(ref _multiKeyWrite) == 0)
        {
            found = FindUnchecked(key, hash);
            if (Volatile.Read(ref _multiKeyWrite) == 0) return found == null ? null : Accessed(found, touch: true);
        }
        found = FindDuringMultiKeyWrite(key, hash);
        return found == null ? null : Accessed(found, touch: true);
    }

    /// <summary>As <see cref="Find"/> without recording an access for LRU/LFU (Redis's <c>LOOKUP_NOTOUCH</c>: OBJECT, TTL, TYPE, EXISTS).</summary>
    public KeyEntry? FindNoTouch(ReadOnlySpan<byte> key, int hash)
    {
        KeyEntry? found;
        if (Volatile.Read(ref _multiKeyWrite) == 0)
        {
            found = FindUnchecked(key, hash);
            if (Volatile.Read(ref _multiKeyWrite) == 0) return found == null ? null : Accessed(found, touch: false);
        }
        found = FindDuringMultiKeyWrite(key, hash);
        return found == null ? null : Accessed(found, touch: false);
    }

    /// <summary>
    /// A found entry as a lookup sees it: null when its expiry has passed (removing it, Redis's
    /// <c>expireIfNeeded</c>), else the entry, its LRU/LFU word updated when <paramref name="touch"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private KeyEntry? Accessed(KeyEntry entry, bool touch)
    {
        long expireAt = entry.ExpireAtMs;
        if (expireAt != 0 && expireAt <= _lifetime.ExpiryNowMs)
        {
            if (!_lifetime.KeepExpiredKeys) ExpireLazily(entry);
            return null;
        }
        if (touch) _lifetime.Touch(entry);
        return entry;
    }

    /// <summary>
    /// The value of <paramref name="key"/> when present and not expired, else null — without recording an access or removing
    /// an expired key (so without announcing anything: safe inside an observer's <see cref="KeyObserver.KeyChanged"/>).
    /// Caller holds <see cref="WriteLock"/>.
    /// </summary>
    internal object? PeekValue(ReadOnlySpan<byte> key, int hash)
    {
        KeyEntry? entry = FindUnchecked(key, hash);
        return entry == null || IsExpired(entry) ? null : entry.Value;
    }

    /// <summary>True when <paramref name="key"/> is present but its expiry has passed (not yet removed); removes nothing.</summary>
    public bool FindExpired(ReadOnlySpan<byte> key, int hash)
    {
        KeyEntry? entry = FindUnchecked(key, hash);
        return entry != null && IsExpired(entry);
    }

    /// <summary>True when <paramref name="entry"/> carries an expiry that has passed (Redis's <c>keyIsExpired</c>); removes nothing.</summary>
    public bool IsExpired(KeyEntry entry) => entry.ExpireAtMs != 0 && entry.ExpireAtMs <= _lifetime.ExpiryNowMs;

    /// <summary>
    /// Removes an entry a lookup found expired. Under the shard lock when this thread holds it (a writer), else
    /// it tries to take it: a thread that cannot (another writer holds it, or this thread is inside a transaction
    /// that does not hold this shard) leaves the removal to the next lookup or the active cycle — the key is
    /// reported missing either way. Never blocks, so a lookup made while holding other shards cannot deadlock.
    /// </summary>
    private void ExpireLazily(KeyEntry entry)
    {
        if (WriteLock.IsHeldByCurrentThread)
        {
            RemoveExpired(entry, evicted: false);
            return;
        }
        if (TransactionLocks.HeldByCurrentThread || !WriteLock.TryEnter()) return;
        try
        {
            BeginWrite();
            try { RemoveExpired(entry, evicted: false); }
            finally { EndWrite(); }
        }
        finally
        {
            WriteLock.Exit();
        }
    }

    /// <summary>
    /// Removes <paramref name="entry"/> if it is still the key's current node, as expiry (<paramref name="evicted"/>
    /// false) or eviction: touches watchers, counts <c>expired_keys</c>/<c>evicted_keys</c>, tells
    /// <see cref="KeyLifetime.KeyRemoved"/> (the log's <c>DEL</c>). Not counted as a mutation of the command
    /// running on this thread (Redis propagates the DEL itself and leaves <c>server.dirty</c> alone).
    /// Caller holds the write lock and has begun a write.
    /// </summary>
    internal bool RemoveExpired(KeyEntry entry, bool evicted)
    {
        if (!Unlink(entry)) return false;
        if (evicted) _lifetime.CountEvicted();
        else _lifetime.CountExpired();
        _lifetime.KeyRemoved?.Invoke(_databaseIndex, entry.Key);
        Announce(entry.Key, evicted ? KeyEvent.Evicted : KeyEvent.Expired);
        return true;
    }

    /// <summary>Unlinks <paramref name="entry"/> (the very node) from its chain; false when it is no longer there. Caller holds the write lock.</summary>
    private bool Unlink(KeyEntry entry)
    {
        KeyEntry?[] buckets = _buckets;
        int index = BucketOf(entry.Hash, buckets.Length);
        KeyEntry? previous = null;
        for (KeyEntry? e = buckets[index]; e != null; previous = e, e = e.NextVolatile)
        {
            if (e != entry) continue;
            Link(buckets, index, previous, e.NextVolatile);
            Forget(e);
            return true;
        }
        return false;
    }

    /// <summary>Takes a removed entry out of the counters.</summary>
    private void Forget(KeyEntry e)
    {
        _count--;
        _valueBytes -= e.ValueBytes;
        if (e.ExpireAtMs != 0) _volatileCount--;
        AddMemory(-e.MemoryBytes);
    }

    private KeyEntry? FindDuringMultiKeyWrite(ReadOnlySpan<byte> key, int hash)
    {
        if (WriteLock.IsHeldByCurrentThread) return FindUnchecked(key, hash);
        using (WriteLock.EnterScope()) return FindUnchecked(key, hash);
    }

    /// <summary>The chain walk of <see cref="Find"/>, without the multi-key write check.</summary>
    private KeyEntry? FindUnchecked(ReadOnlySpan<byte> key, int hash)
    {
        KeyEntry?[] buckets = Volatile.Read(ref _buckets);
        for (KeyEntry? e = Volatile.Read(ref buckets[BucketOf(hash, buckets.Length)]); e != null; e = e.NextVolatile)
        {
            if (e.Hash == hash && key.SequenceEqual(e.Key)) return e;
        }
        return null;
    }

    /// <summary>
    /// Inserts or replaces <paramref name="key"/>'s entry, announced as <paramref name="keyEvent"/>, preceded by <c>new</c> when
    /// the key is created. <see cref="KeyEvent.New"/> itself is Redis's <c>dbDelete</c> + <c>dbAdd</c> (RENAME, COPY, MOVE):
    /// one <c>new</c> whether it creates or replaces, the caller announcing its own event afterwards. Caller holds the write lock.
    /// <paramref name="ownedKey"/>, when given, is <paramref name="key"/>'s own array, handed over by the caller: a new entry
    /// keeps it instead of a copy (a loader's freshly read key).
    /// </summary>
    /// <returns>
    /// The entry it replaced, or null when the key was new. A string written over a string with the same expiry, while no
    /// snapshot holds entries (<see cref="KeyLifetime.SnapshotHeld"/>), is swapped into the same node
    /// (<see cref="KeyEntry.ReplaceValue"/>: no allocation but the value's), which is then the entry returned.
    /// </returns>
    internal KeyEntry? Upsert(ReadOnlySpan<byte> key, int hash, object value, long expireAtMs, KeyEvent keyEvent, byte[]? ownedKey = null)
    {
        KeyEntry?[] buckets = _buckets;
        int index = BucketOf(hash, buckets.Length);
        KeyEntry? previous = null;
        for (KeyEntry? e = buckets[index]; e != null; previous = e, e = e.NextVolatile)
        {
            if (e.Hash != hash || !key.SequenceEqual(e.Key)) continue;
            if (IsExpired(e))
            {
                // Overwriting a key whose expiry passed: it expires first (Redis's lookupKeyWrite), then the write inserts.
                RemoveExpired(e, evicted: false);
                break;
            }
            if (value is byte[] text && e.Value is byte[] && expireAtMs == e.ExpireAtMs && !_lifetime.SnapshotHeld)
            {
                // A string over a string with the same expiry: the value swapped in place, no new node (see KeyEntry).
                long valueBytes = e.ValueBytes, memoryBytes = e.MemoryBytes;
                e.ReplaceValue(text);
                _valueBytes += text.Length - valueBytes;
                AddMemory(e.MemoryBytes - memoryBytes);
                Mutated(key, keyEvent);
                return e;
            }
            var replacement = new KeyEntry(e.Key, hash, value, expireAtMs, e.NextVolatile) { LruClock = e.LruClock };
            Link(buckets, index, previous, replacement);
            _valueBytes += replacement.ValueBytes - e.ValueBytes;
            _volatileCount += (expireAtMs != 0 ? 1 : 0) - (e.ExpireAtMs != 0 ? 1 : 0);
            AddMemory(replacement.MemoryBytes - e.MemoryBytes);
            QueueFieldExpiries(e.Key, value, e.Value);
            Mutated(key, keyEvent);
            return e;
        }
        buckets = _buckets;
        index = BucketOf(hash, buckets.Length);
        var entry = new KeyEntry(ownedKey ?? key.ToArray(), hash, value, expireAtMs, buckets[index]) { LruClock = _lifetime.NewAccessWord() };
        Volatile.Write(ref buckets[index], entry);
        _valueBytes += entry.ValueBytes;
        if (expireAtMs != 0) _volatileCount++;
        AddMemory(entry.MemoryBytes);
        if (++_count > buckets.Length) Grow();
        QueueFieldExpiries(entry.Key, value, null);
        // A created key is also a "new" event (Redis's dbAdd), before the command's own (announced once when that is "new").
        if (keyEvent != KeyEvent.New) _lifetime.KeyChanged?.Invoke(_databaseIndex, key, KeyEvent.New);
        Mutated(key, keyEvent);
        return null;
    }

    /// <summary>Removes <paramref name="key"/>. Caller holds the write lock.</summary>
    /// <returns>The removed entry, or null when the key was absent.</returns>
    internal KeyEntry? Remove(ReadOnlySpan<byte> key, int hash, KeyEvent keyEvent)
    {
        KeyEntry?[] buckets = _buckets;
        int index = BucketOf(hash, buckets.Length);
        KeyEntry? previous = null;
        for (KeyEntry? e = buckets[index]; e != null; previous = e, e = e.NextVolatile)
        {
            if (e.Hash != hash || !key.SequenceEqual(e.Key)) continue;
            if (IsExpired(e))
            {
                // Deleting a key whose expiry passed: it expires (logged as expiry) and the delete finds nothing, as in Redis.
                RemoveExpired(e, evicted: false);
                return null;
            }
            Link(buckets, index, previous, e.NextVolatile);
            Forget(e);
            Mutated(key, keyEvent);
            return e;
        }
        return null;
    }

    /// <summary>Removes every key; returns how many there were. Caller holds the write lock.</summary>
    internal int Clear()
    {
        if (_observers != null)
        {
            // FLUSHDB/FLUSHALL signal only observed keys that existed (Redis's touchAllWatchedKeysInDb).
            foreach ((byte[] key, List<KeyObserver> observers) in _observers)
                if (FindUnchecked(key, KeyHash.Compute(key)) != null) Notify(observers);
        }
        int removed = _count;
        if (removed > 0) _changes++;
        Volatile.Write(ref _buckets, new KeyEntry?[InitialBuckets]);
        _count = 0;
        _valueBytes = 0;
        _volatileCount = 0;
        _expireCursor = 0;
        _fieldExpiries = null;
        AddMemory(EmptyTableBytes - _memoryBytes);
        return removed;
    }

    /// <summary>
    /// Exchanges every key of this shard with those of <paramref name="other"/> (the same shard index of another
    /// database: SWAPDB). Watchers, locks and versions stay with their shard, as Redis keeps watched keys with their
    /// database number. Then tells the observers of each shard whose key exists in either shard (watchers are marked
    /// modified, Redis's <c>touchAllWatchedKeysInDb(db, other)</c>; blocked clients' queues look at the key's new value). The memory total is unchanged. Caller holds both write locks.
    /// </summary>
    internal void SwapContents(KeyspaceShard other)
    {
        KeyEntry?[] buckets = _buckets;
        Volatile.Write(ref _buckets, other._buckets);
        Volatile.Write(ref other._buckets, buckets);
        (_count, other._count) = (other._count, _count);
        (_valueBytes, other._valueBytes) = (other._valueBytes, _valueBytes);
        (_volatileCount, other._volatileCount) = (other._volatileCount, _volatileCount);
        (_memoryBytes, other._memoryBytes) = (other._memoryBytes, _memoryBytes);
        (_expireCursor, other._expireCursor) = (other._expireCursor, _expireCursor);
        (_fieldExpiries, other._fieldExpiries) = (other._fieldExpiries, _fieldExpiries);
        // A change to both shards' contents (what the executor reads to log SWAPDB), even when both were empty.
        _changes++;
        other._changes++;
        // After the exchange, so that a blocked client's queue sees the value now in its database (Redis's
        // scanDatabaseForReadyKeys after the swap); a watcher is marked modified either way.
        TouchObserversOfSwappedKeys(other);
        other.TouchObserversOfSwappedKeys(this);
    }

    private void TouchObserversOfSwappedKeys(KeyspaceShard other)
    {
        if (_observers == null) return;
        foreach ((byte[] key, List<KeyObserver> observers) in _observers)
        {
            int hash = KeyHash.Compute(key);
            if (FindUnchecked(key, hash) != null || other.FindUnchecked(key, hash) != null) Notify(observers);
        }
    }

    /// <summary>
    /// Adds the entries of the bucket at <paramref name="cursor"/> to <paramref name="output"/> and returns
    /// the next bucket cursor, 0 when the shard is done. The cursor advances by reversed-bit increment
    /// (Redis's dictScan), so an entry present for the whole scan is returned even if the table grows
    /// between calls. Lock-free.
    /// </summary>
    public ulong ScanBucket(ulong cursor, List<KeyEntry> output)
    {
        KeyEntry?[] buckets = Volatile.Read(ref _buckets);
        ulong mask = (ulong)buckets.Length - 1;
        for (KeyEntry? e = Volatile.Read(ref buckets[(int)(cursor & mask)]); e != null; e = e.NextVolatile)
            output.Add(e);
        return NextCursor(cursor, mask);
    }

    /// <summary>The reverse-binary increment of a bucket cursor (Redis's dictScan) for a table of <paramref name="mask"/> + 1 buckets.</summary>
    private static ulong NextCursor(ulong cursor, ulong mask)
    {
        cursor |= ~mask;
        cursor = ReverseBits(cursor);
        cursor++;
        return ReverseBits(cursor);
    }

    /// <summary>Number of buckets now (a power of two); SCAN uses it to bound its work.</summary>
    public int BucketCount => Volatile.Read(ref _buckets).Length;

    /// <summary>A uniformly chosen bucket's chain, or null when that bucket is empty. Lock-free.</summary>
    public KeyEntry? RandomBucket(Random random)
    {
        KeyEntry?[] buckets = Volatile.Read(ref _buckets);
        return Volatile.Read(ref buckets[random.Next(buckets.Length)]);
    }

    /// <summary>Visits every entry (a snapshot per bucket). Lock-free.</summary>
    public void ForEach<TState>(ref TState state, EntryVisitor<TState> visitor) where TState : allows ref struct
    {
        KeyEntry?[] buckets = Volatile.Read(ref _buckets);
        for (int i = 0; i < buckets.Length; i++)
            for (KeyEntry? e = Volatile.Read(ref buckets[i]); e != null; e = e.NextVolatile)
                visitor(ref state, e);
    }

    /// <summary>Registers <paramref name="observer"/> on <paramref name="key"/> (WATCH; later a blocked client). Caller holds the write lock; a repeat is ignored.</summary>
    internal void AddObserver(byte[] key, KeyObserver observer)
    {
        _observers ??= new Dictionary<byte[], List<KeyObserver>>(ByteStringComparer.Instance);
        if (!_observers.TryGetValue(key, out List<KeyObserver>? list)) _observers.Add(key, list = new List<KeyObserver>(1));
        if (!list.Contains(observer)) list.Add(observer);
    }

    /// <summary>Unregisters <paramref name="observer"/> from <paramref name="key"/> (UNWATCH, EXEC, DISCARD, disconnect). Caller holds the write lock.</summary>
    internal void RemoveObserver(byte[] key, KeyObserver observer)
    {
        if (_observers == null || !_observers.TryGetValue(key, out List<KeyObserver>? list)) return;
        list.Remove(observer);
        if (list.Count != 0) return;
        _observers.Remove(key);
        if (_observers.Count == 0) _observers = null;
    }

    private void NotifyObservers(ReadOnlySpan<byte> key)
    {
        if (_observers!.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out List<KeyObserver>? list)) Notify(list);
    }

    private static void Notify(List<KeyObserver> observers)
    {
        foreach (KeyObserver o in observers) o.KeyChanged();
    }

    private static void Link(KeyEntry?[] buckets, int index, KeyEntry? previous, KeyEntry? node)
    {
        if (previous == null) Volatile.Write(ref buckets[index], node);
        else previous.NextVolatile = node;
    }

    /// <summary>
    /// Sizes an empty shard's table for <paramref name="keys"/> keys (the next power of two at or above, as the table would
    /// reach by doubling), so a bulk load inserts without the doublings' walks over every chain — Redis's
    /// <c>dictExpand</c> on an RDB's <c>RESIZEDB</c> hint. A shard that holds keys, or whose table is already that large,
    /// is left alone; the hint is capped at 2²⁰ buckets per shard (8 MB of table; 64 M keys in a database), beyond which
    /// the table grows as usual. Caller holds the write lock.
    /// </summary>
    internal void Reserve(long keys)
    {
        if (_count != 0 || keys <= _buckets.Length) return;
        int size = (int)Math.Min(1L << 20, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)keys));
        if (size <= _buckets.Length) return;
        AddMemory((long)(size - _buckets.Length) * IntPtr.Size);
        Volatile.Write(ref _buckets, new KeyEntry?[size]);
    }

    /// <summary>
    /// Doubles the bucket table. Each old chain splits in two (bucket i's keys go to i or i + old length). The
    /// chain's tail run whose keys all go to the same new bucket moves as it is — its links already hold — and only
    /// the nodes before that run are copied (the "last run" of Java's ConcurrentHashMap), so a reader still on the
    /// old table walks unchanged nodes. With at most one key per bucket on average most chains are a single
    /// run: a doubling copies about a fifth of the nodes instead of all of them.
    /// </summary>
    private void Grow()
    {
        KeyEntry?[] old = _buckets;
        var grown = new KeyEntry?[old.Length * 2];
        foreach (KeyEntry? head in old)
        {
            if (head == null) continue;
            KeyEntry lastRun = head;
            int lastIndex = BucketOf(head.Hash, grown.Length);
            for (KeyEntry? e = head.NextVolatile; e != null; e = e.NextVolatile)
            {
                int index = BucketOf(e.Hash, grown.Length);
                if (index == lastIndex) continue;
                lastIndex = index;
                lastRun = e;
            }
            grown[lastIndex] = lastRun;
            for (KeyEntry e = head; e != lastRun; e = e.NextVolatile!)
            {
                int index = BucketOf(e.Hash, grown.Length);
                grown[index] = e.WithNext(grown[index]);
            }
        }
        Volatile.Write(ref _buckets, grown);
        AddMemory((long)(grown.Length - old.Length) * IntPtr.Size);
    }

    /// <summary>
    /// One step of the active expiry cycle on this shard (Redis's <c>activeExpireCycle</c> inner loop): walks buckets
    /// from this shard's own expiry cursor (reverse-binary, as SCAN, so a full pass reaches every key even while the
    /// table grows), lock-free, until it has sampled <paramref name="sampleKeys"/> keys carrying an expiry or visited
    /// 20 times that many buckets; then removes the expired ones under the shard lock (as expiry: watchers touched,
    /// <c>DEL</c> logged). Only the server cron calls it.
    /// </summary>
    /// <param name="nowMs">Now, Unix ms.</param>
    /// <param name="sampleKeys">Keys with expiry to sample (Redis's 20 per loop).</param>
    /// <param name="scratch">Reused list; cleared here.</param>
    /// <param name="tally">Adds sampled keys, expired keys, and the TTL sum of the live ones (for <c>avg_ttl</c>).</param>
    internal void ActiveExpireStep(long nowMs, int sampleKeys, List<KeyEntry> scratch, ref ActiveExpireTally tally)
    {
        scratch.Clear();
        KeyEntry?[] table = Volatile.Read(ref _buckets);
        ulong mask = (ulong)table.Length - 1;
        ulong cursor = _expireCursor;
        int sampled = 0, visited = 0, maxBuckets = sampleKeys * 20;
        do
        {
            for (KeyEntry? e = Volatile.Read(ref table[(int)(cursor & mask)]); e != null; e = e.NextVolatile)
            {
                long expireAt = e.ExpireAtMs;
                if (expireAt == 0) continue;
                sampled++;
                if (expireAt <= nowMs) scratch.Add(e);
                else
                {
                    tally.TtlSum += expireAt - nowMs;
                    tally.TtlSamples++;
                }
            }
            cursor = NextCursor(cursor, mask);
            visited++;
        }
        while (cursor != 0 && sampled < sampleKeys && visited < maxBuckets);
        _expireCursor = cursor;
        tally.Sampled += sampled;
        if (cursor == 0) tally.PassesCompleted++;
        if (scratch.Count == 0) return;
        using (WriteLock.EnterScope())
        {
            BeginWrite();
            try
            {
                foreach (KeyEntry e in scratch)
                    if (RemoveExpired(e, evicted: false)) tally.Expired++;
            }
            finally
            {
                EndWrite();
            }
        }
        scratch.Clear();
    }

    /// <summary>Queues <paramref name="key"/> for the field-expiry cycle when <paramref name="value"/> is a hash whose earliest field expiry is new. Caller holds the write lock.</summary>
    private void QueueFieldExpiries(byte[] key, object value, object? previous)
    {
        if (value is not SortedHash { HasFieldExpiries: true } hash) return;
        if (previous is SortedHash old && old.MinExpireAtMs == hash.MinExpireAtMs) return;
        (_fieldExpiries ??= new PriorityQueue<byte[], long>()).Enqueue(key, hash.MinExpireAtMs);
    }

    /// <summary>
    /// Removes the fields of <paramref name="entry"/>'s hash whose expiry passed at <paramref name="nowMs"/> (Redis 7.4's
    /// <c>hashTypeDbActiveExpire</c> per key, and a write's lazy reclaim): each logged as <c>HDEL key field</c>
    /// (<see cref="KeyLifetime.FieldExpired"/>) and counted, then <c>hexpired</c> announced; the key deleted (<c>del</c>)
    /// when no field is left. Returns the key's entry afterwards (null when deleted; <paramref name="entry"/> itself when
    /// nothing had expired). Caller holds the write lock.
    /// </summary>
    internal KeyEntry? ReclaimExpiredFields(KeyEntry entry, long nowMs)
    {
        if (entry.Value is not SortedHash hash || hash.MinExpireAtMs > nowMs) return entry;
        var removed = new List<byte[]>();
        SortedHash live = hash.WithoutExpired(nowMs, removed);
        if (removed.Count == 0) return entry;
        foreach (byte[] field in removed) _lifetime.FieldExpired?.Invoke(_databaseIndex, entry.Key, field);
        _lifetime.CountExpiredFields(removed.Count);
        if (live.Count > 0)
        {
            Upsert(entry.Key, entry.Hash, live, entry.ExpireAtMs, KeyEvent.Hexpired);
            return FindUnchecked(entry.Key, entry.Hash);
        }
        Announce(entry.Key, KeyEvent.Hexpired);
        Remove(entry.Key, entry.Hash, KeyEvent.Del);
        return null;
    }

    /// <summary>
    /// The field part of one active expiry cycle on this shard: reclaims the expired fields of every queued hash whose
    /// earliest field expiry has come (at most <paramref name="maxKeys"/> hashes), under the shard lock. Returns the number
    /// of fields removed. Only the server cron calls it.
    /// </summary>
    internal int ActiveExpireFields(long nowMs, int maxKeys)
    {
        if (Volatile.Read(ref _fieldExpiries) is not { Count: > 0 }) return 0;
        long before = _lifetime.ExpiredFields;
        using (WriteLock.EnterScope())
        {
            BeginWrite();
            try
            {
                for (int n = 0; n < maxKeys && _fieldExpiries is { } queue && queue.TryPeek(out byte[]? key, out long due) && due <= nowMs; n++)
                {
                    queue.Dequeue();
                    KeyEntry? entry = FindUnchecked(key, KeyHash.Compute(key));
                    // Stale: the key is gone, or its earliest expiry moved (a newer queue entry holds it).
                    if (entry?.Value is not SortedHash { HasFieldExpiries: true } hash || hash.MinExpireAtMs != due || IsExpired(entry)) continue;
                    ReclaimExpiredFields(entry, nowMs);
                }
            }
            finally
            {
                EndWrite();
            }
        }
        return (int)(_lifetime.ExpiredFields - before);
    }

    /// <summary>
    /// Adds up to <paramref name="count"/> entries to <paramref name="output"/> for eviction sampling (Redis's
    /// <c>dictGetSomeKeys</c>): from a random bucket onward, visiting at most 10 times <paramref name="count"/> buckets;
    /// only keys with an expiry when <paramref name="volatileOnly"/>, and then the walk may go round the whole table
    /// (Redis samples its separate expires dict; here keys with an expiry may be sparse among the others). Lock-free.
    /// </summary>
    internal void SampleEntries(Random random, int count, bool volatileOnly, List<KeyEntry> output)
    {
        KeyEntry?[] table = Volatile.Read(ref _buckets);
        int index = random.Next(table.Length), taken = 0;
        long maxVisits = volatileOnly ? table.Length : Math.Min(table.Length, count * 10L);
        for (long visited = 0; visited < maxVisits && taken < count; visited++)
        {
            for (KeyEntry? e = Volatile.Read(ref table[index]); e != null && taken < count; e = e.NextVolatile)
            {
                if (volatileOnly && e.ExpireAtMs == 0) continue;
                output.Add(e);
                taken++;
            }
            index = (index + 1) & (table.Length - 1);
        }
    }

    /// <summary>Removes <paramref name="entry"/> as evicted (if still current), holding the shard lock; true when it did.</summary>
    internal bool Evict(KeyEntry entry)
    {
        using (WriteLock.EnterScope())
        {
            BeginWrite();
            try { return RemoveExpired(entry, evicted: true); }
            finally { EndWrite(); }
        }
    }

    /// <summary>
    /// Stage <paramref name="stage"/> (0, 1 or 2) of a multi-key prefetch (<see cref="Database.PrefetchKeys"/>): asks the CPU
    /// to start loading, without waiting, what a lookup of <paramref name="hash"/> reads next — 0 the bucket's slot, 1 its
    /// first node, 2 that node's key bytes. A lookup reads these three one after another, each a likely cache miss in a
    /// large keyspace; run a stage for every key of a command before the next stage, the misses of all its keys overlap.
    /// A hint only: it changes nothing and reads nothing a lock-free reader could not.
    /// </summary>
    internal unsafe void Prefetch(int hash, int stage)
    {
        KeyEntry?[] buckets = _buckets;
        ref KeyEntry? bucket = ref buckets[BucketOf(hash, buckets.Length)];
        if (stage == 0)
        {
            PrefetchAt(Unsafe.AsPointer(ref bucket));
            return;
        }
        KeyEntry? head = Volatile.Read(ref bucket);
        if (head == null) return;
        if (stage == 1) PrefetchAt((void*)AddressOf(ref head));
        else
        {
            byte[] key = head.Key;
            PrefetchAt((void*)AddressOf(ref key));
        }
    }

    /// <summary>
    /// The address an object reference holds, read from the variable itself: unlike taking the address of one of its
    /// fields, this does not touch the object (no null-check load), so the prefetch of that very line does not wait for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint AddressOf<T>(ref T reference) where T : class? => Unsafe.As<T, nint>(ref reference);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchAt(void* address)
    {
        if (Sse.IsSupported) Sse.Prefetch0(address);
    }

    private static int BucketOf(int hash, int bucketCount) => hash & (bucketCount - 1);

    private static ulong ReverseBits(ulong v)
    {
        v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
        v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
        v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FUL) | ((v & 0x0F0F0F0F0F0F0F0FUL) << 4);
        return System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
    }
}

/// <summary>Called for each entry by <see cref="KeyspaceShard.ForEach{TState}"/>.</summary>
public delegate void EntryVisitor<TState>(ref TState state, KeyEntry entry) where TState : allows ref struct;

/// <summary>Counts of an active expiry cycle over shards (see <see cref="KeyspaceShard.ActiveExpireStep"/>).</summary>
internal struct ActiveExpireTally
{
    /// <summary>Keys with an expiry examined.</summary>
    public long Sampled;
    /// <summary>Of them, removed as expired.</summary>
    public long Expired;
    /// <summary>Sum of the remaining TTLs (ms) of the live sampled keys.</summary>
    public long TtlSum;
    /// <summary>Live sampled keys.</summary>
    public long TtlSamples;
    /// <summary>Shards whose expiry cursor wrapped to 0 (a full pass ended).</summary>
    public int PassesCompleted;
}
