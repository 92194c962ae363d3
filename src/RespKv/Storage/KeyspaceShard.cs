namespace RespKv.Storage;

/// <summary>
/// One shard of a database: a chained hash table whose readers take no lock, plus the writer lock and
/// the seqlock version that make multi-key operations atomic.
/// <para>
/// Lock-free reads: a writer (holding <see cref="WriteLock"/>) only ever publishes fully built nodes
/// with single reference writes — a new head for an insert, a predecessor's <c>Next</c> (or the bucket
/// slot) for a replace or remove — so a reader walking a chain sees each key either before or after the
/// write, never a half-made node. Growing the table copies every node into a new array before publishing
/// it, so a reader still on the old array keeps walking intact old chains.
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
/// WATCH: the shard keeps the watchers of its keys (<see cref="AddWatcher"/>), and every change to a
/// watched key — set, delete, FLUSHDB of an existing key — marks them modified, under the write lock, as
/// Redis's <c>touchWatchedKey</c> does. With no watcher the cost is one null check per write.
/// </para>
/// </summary>
public sealed class KeyspaceShard
{
    private const int InitialBuckets = 4;

    private KeyEntry?[] _buckets = new KeyEntry?[InitialBuckets];
    private int _count;
    private long _valueBytes;
    private long _version;
    private int _multiKeyWrite;

    /// <summary>Watchers per watched key; null when none. Guarded by <see cref="WriteLock"/>.</summary>
    private Dictionary<byte[], List<KeyWatcher>>? _watchers;

    /// <summary>The writer lock; take it through <see cref="Database"/>'s lock scopes, in ascending shard order.</summary>
    internal readonly Lock WriteLock = new();

    /// <summary>Seqlock version: odd while a writer is applying changes.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Keys in this shard.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Sum of <see cref="KeyEntry.ValueBytes"/> over this shard's keys, in bytes.</summary>
    public long ValueBytes => Volatile.Read(ref _valueBytes);

    [ThreadStatic] private static long t_mutations;

    /// <summary>
    /// Entries inserted, replaced or removed by this thread, ever (a FLUSHDB of a non-empty shard counts one):
    /// Redis's <c>server.dirty</c>, per thread. <see cref="Server.ClientSession.Dispatch"/> compares it before
    /// and after a write command to decide whether the command changed anything and is propagated to the AOF.
    /// Code that changes a value in place, without replacing its entry, must call <see cref="NoteMutation"/>.
    /// </summary>
    public static long MutationsOnThisThread => t_mutations;

    /// <summary>Counts a change to the keyspace on this thread (see <see cref="MutationsOnThisThread"/>).</summary>
    public static void NoteMutation() => t_mutations++;

    internal void BeginWrite() => Interlocked.Increment(ref _version);

    internal void EndWrite() => Interlocked.Increment(ref _version);

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
        if (Volatile.Read(ref _multiKeyWrite) == 0)
        {
            KeyEntry? found = FindUnchecked(key, hash);
            if (Volatile.Read(ref _multiKeyWrite) == 0) return found;
        }
        return FindDuringMultiKeyWrite(key, hash);
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
    /// Inserts or replaces <paramref name="key"/>'s entry. Caller holds the write lock.
    /// </summary>
    /// <returns>The entry it replaced, or null when the key was new.</returns>
    internal KeyEntry? Upsert(ReadOnlySpan<byte> key, int hash, object value, long expireAtMs)
    {
        KeyEntry?[] buckets = _buckets;
        int index = BucketOf(hash, buckets.Length);
        KeyEntry? previous = null;
        for (KeyEntry? e = buckets[index]; e != null; previous = e, e = e.NextVolatile)
        {
            if (e.Hash != hash || !key.SequenceEqual(e.Key)) continue;
            var replacement = new KeyEntry(e.Key, hash, value, expireAtMs, e.NextVolatile) { LruClock = e.LruClock };
            Link(buckets, index, previous, replacement);
            _valueBytes += replacement.ValueBytes - e.ValueBytes;
            t_mutations++;
            if (_watchers != null) TouchWatchers(key);
            return e;
        }
        var entry = new KeyEntry(key.ToArray(), hash, value, expireAtMs, buckets[index]);
        Volatile.Write(ref buckets[index], entry);
        _valueBytes += entry.ValueBytes;
        t_mutations++;
        if (++_count > buckets.Length) Grow();
        if (_watchers != null) TouchWatchers(key);
        return null;
    }

    /// <summary>Removes <paramref name="key"/>. Caller holds the write lock.</summary>
    /// <returns>The removed entry, or null when the key was absent.</returns>
    internal KeyEntry? Remove(ReadOnlySpan<byte> key, int hash)
    {
        KeyEntry?[] buckets = _buckets;
        int index = BucketOf(hash, buckets.Length);
        KeyEntry? previous = null;
        for (KeyEntry? e = buckets[index]; e != null; previous = e, e = e.NextVolatile)
        {
            if (e.Hash != hash || !key.SequenceEqual(e.Key)) continue;
            Link(buckets, index, previous, e.NextVolatile);
            _count--;
            _valueBytes -= e.ValueBytes;
            t_mutations++;
            if (_watchers != null) TouchWatchers(key);
            return e;
        }
        return null;
    }

    /// <summary>Removes every key; returns how many there were. Caller holds the write lock.</summary>
    internal int Clear()
    {
        if (_watchers != null)
        {
            // FLUSHDB/FLUSHALL signal only watched keys that existed (Redis's touchAllWatchedKeysInDb).
            foreach ((byte[] key, List<KeyWatcher> watchers) in _watchers)
                if (FindUnchecked(key, KeyHash.Compute(key)) != null) MarkModified(watchers);
        }
        int removed = _count;
        if (removed > 0) t_mutations++;
        Volatile.Write(ref _buckets, new KeyEntry?[InitialBuckets]);
        _count = 0;
        _valueBytes = 0;
        return removed;
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

    /// <summary>Registers <paramref name="watcher"/> on <paramref name="key"/> (WATCH). Caller holds the write lock; a repeat is ignored.</summary>
    internal void AddWatcher(byte[] key, KeyWatcher watcher)
    {
        _watchers ??= new Dictionary<byte[], List<KeyWatcher>>(ByteStringComparer.Instance);
        if (!_watchers.TryGetValue(key, out List<KeyWatcher>? list)) _watchers.Add(key, list = new List<KeyWatcher>(1));
        if (!list.Contains(watcher)) list.Add(watcher);
    }

    /// <summary>Unregisters <paramref name="watcher"/> from <paramref name="key"/> (UNWATCH, EXEC, DISCARD, disconnect). Caller holds the write lock.</summary>
    internal void RemoveWatcher(byte[] key, KeyWatcher watcher)
    {
        if (_watchers == null || !_watchers.TryGetValue(key, out List<KeyWatcher>? list)) return;
        list.Remove(watcher);
        if (list.Count != 0) return;
        _watchers.Remove(key);
        if (_watchers.Count == 0) _watchers = null;
    }

    private void TouchWatchers(ReadOnlySpan<byte> key)
    {
        if (_watchers!.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out List<KeyWatcher>? list)) MarkModified(list);
    }

    private static void MarkModified(List<KeyWatcher> watchers)
    {
        foreach (KeyWatcher w in watchers) w.MarkModified();
    }

    private static void Link(KeyEntry?[] buckets, int index, KeyEntry? previous, KeyEntry? node)
    {
        if (previous == null) Volatile.Write(ref buckets[index], node);
        else previous.NextVolatile = node;
    }

    private void Grow()
    {
        KeyEntry?[] old = _buckets;
        var grown = new KeyEntry?[old.Length * 2];
        foreach (KeyEntry? head in old)
        {
            for (KeyEntry? e = head; e != null; e = e.NextVolatile)
            {
                int index = BucketOf(e.Hash, grown.Length);
                grown[index] = e.WithNext(grown[index]);
            }
        }
        Volatile.Write(ref _buckets, grown);
    }

    private static int BucketOf(int hash, int bucketCount) => (int)((uint)hash >> Database.ShardBits) & (bucketCount - 1);

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
