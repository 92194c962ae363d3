namespace RespKv.Storage;

/// <summary>Called when expiry or eviction removes <paramref name="key"/> from database <paramref name="databaseIndex"/>, holding the key's shard lock.</summary>
public delegate void KeyRemovedHandler(int databaseIndex, ReadOnlySpan<byte> key);

/// <summary>A hash field of <paramref name="key"/> in database <paramref name="databaseIndex"/> was removed by its expiry.</summary>
public delegate void FieldRemovedHandler(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field);

/// <summary>Called for every change to <paramref name="key"/> of database <paramref name="databaseIndex"/> (<see cref="KeyspaceShard.Mutated"/>, expiry, eviction), holding the key's shard lock.</summary>
public delegate void KeyChangedHandler(int databaseIndex, ReadOnlySpan<byte> key, KeyEvent keyEvent);

/// <summary>
/// What every shard of a <see cref="Keyspace"/> shares about the life of its keys: the clock expiry is
/// judged by, the access clock LRU/LFU eviction reads, the memory estimate the eviction compares with
/// <c>maxmemory</c>, and the counters INFO reports (<c>expired_keys</c>, <c>evicted_keys</c>).
/// <para>
/// Clock: <see cref="NowMs"/> reads <see cref="Clock"/> (a <see cref="TimeProvider"/>, the system clock by default;
/// tests substitute their own to move time). Only keys that carry an expiry read it, so a GET of a key
/// without a TTL costs one compare of <see cref="KeyEntry.ExpireAtMs"/> with 0. Redis reads the clock once
/// per command; RespKv reads it at each lookup of a volatile key (millisecond precision either way).
/// </para>
/// </summary>
public sealed class KeyLifetime
{
    private long _expiredKeys;
    private int _heldSnapshots;

    /// <summary>
    /// True while a keyspace snapshot (<see cref="Persistence.KeyspaceSnapshot"/>: BGSAVE, an AOF rewrite, a full resync) still
    /// holds references to entries it has not written out: a write then replaces an entry's node instead of its value in
    /// place (<see cref="KeyspaceShard.Upsert"/>), so the snapshot keeps the values of its instant.
    /// </summary>
    internal bool SnapshotHeld => Volatile.Read(ref _heldSnapshots) != 0;

    /// <summary>A snapshot starts holding entries (called while it collects them, under every shard lock or with nothing else running).</summary>
    internal void HoldSnapshot() => Interlocked.Increment(ref _heldSnapshots);

    /// <summary>A snapshot has written its entries out (or was dropped).</summary>
    internal void ReleaseSnapshot() => Interlocked.Decrement(ref _heldSnapshots);
    private long _evictedKeys;
    private long _trackedBytes;
    private volatile bool _trackingBytes;

    /// <summary>The clock expiry is judged by (Unix time). Replace it in tests to move time.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Now, in Unix milliseconds, by <see cref="Clock"/>.</summary>
    public long NowMs => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The time a key's expiry is judged against: <see cref="NowMs"/>, or the time a script started at on the thread running it (<see cref="FreezeNow"/>).</summary>
    public long ExpiryNowMs => t_frozenNowMs != 0 ? t_frozenNowMs : NowMs;

    [ThreadStatic] private static long t_frozenNowMs;

    /// <summary>
    /// True while the server is a replica (Redis's <c>expireIfNeeded</c> with <c>server.masterhost</c> set): a lookup treats a key
    /// whose expiry passed as missing but does not remove it — the primary's <c>DEL</c> does. The stream from the primary is
    /// applied with expiry off altogether (<see cref="FreezeNow"/> with <see cref="long.MinValue"/>), so its commands see such keys.
    /// </summary>
    public bool KeepExpiredKeys { get; set; }

    /// <summary>
    /// Freezes <see cref="ExpiryNowMs"/> at <paramref name="nowMs"/> on the calling thread while a script runs (Redis 7.0's
    /// <c>keyIsExpired</c> with <c>scriptTimeSnapshot</c>: a script judges every key's expiry against the time it started,
    /// so a key does not expire midway; TTLs and new expiries still use the real clock, as in Redis 7.0); 0 unfreezes.
    /// </summary>
    public static void FreezeNow(long nowMs) => t_frozenNowMs = nowMs;

    /// <summary>
    /// Called for every key expiry (lazy or active) or eviction removes, holding its shard lock: the server
    /// logs a <c>DEL</c> there (<c>IWriteLog.AppendExpiredDeletion</c>). Null: nothing is told.
    /// </summary>
    public KeyRemovedHandler? KeyRemoved { get; set; }

    /// <summary>
    /// Called for every hash field whose expiry removed it (a write or the active cycle reclaiming it), holding its shard
    /// lock: the server logs <c>HDEL key field</c> there (Redis 7.4's <c>propagateHashFieldDeletion</c>). Null: nothing is told.
    /// </summary>
    public FieldRemovedHandler? FieldExpired { get; set; }

    /// <summary>Hash fields removed because their expiry passed (INFO <c>expired_subkeys</c>, Redis 7.4).</summary>
    public long ExpiredFields => Interlocked.Read(ref _expiredFields);

    private long _expiredFields;

    internal void CountExpiredFields(int n) => Interlocked.Add(ref _expiredFields, n);

    /// <summary>
    /// Called for every change to a key, holding its shard lock: the hook keyspace notifications and client-side
    /// caching invalidations subscribe to. Null (the default): one null check per change.
    /// </summary>
    public KeyChangedHandler? KeyChanged { get; set; }

    /// <summary>
    /// Called for a read command's lookup of a missing key (<see cref="KeyEvent.KeyMiss"/>), only while
    /// <c>notify-keyspace-events</c> enables class <c>m</c> (the caller checks that flag first): keyspace notifications.
    /// </summary>
    public KeyChangedHandler? KeyMissed { get; set; }

    /// <summary>Keys removed because their expiry passed (INFO <c>expired_keys</c>).</summary>
    public long ExpiredKeys => Interlocked.Read(ref _expiredKeys);

    /// <summary>Keys removed by maxmemory eviction (INFO <c>evicted_keys</c>).</summary>
    public long EvictedKeys => Interlocked.Read(ref _evictedKeys);

    internal void CountExpired() => Interlocked.Increment(ref _expiredKeys);

    internal void CountEvicted() => Interlocked.Increment(ref _evictedKeys);

    /// <summary>
    /// LRU access clock written into <see cref="KeyEntry.LruClock"/> on each access: Unix time in units of
    /// <see cref="LruResolutionMs"/> ms, 24 bits, wrapping (Redis's <c>LRU_CLOCK()</c> counts seconds; RespKv counts
    /// tenths of a second so eviction can tell apart keys written within the same second — a multi-threaded server
    /// turns a cache over faster). Under an LFU policy entries hold Redis's LFU word instead (16 bits of minutes,
    /// 8 bits of logarithmic counter), see <see cref="Lfu"/>. Kept current by <see cref="Tick"/>.
    /// </summary>
    public int LruNow { get; private set; } = ComputeLruNow();

    /// <summary>Resolution of <see cref="LruNow"/> in ms (the server cron's period).</summary>
    public const int LruResolutionMs = 100;

    /// <summary>True while the eviction policy is an LFU one: accesses update the LFU counter (Redis's <c>updateLFU</c>).</summary>
    public bool Lfu { get; set; }

    /// <summary><c>lfu-log-factor</c> (Redis default 10).</summary>
    public int LfuLogFactor { get; set; } = 10;

    /// <summary><c>lfu-decay-time</c> in minutes (Redis default 1).</summary>
    public int LfuDecayTime { get; set; } = 1;

    /// <summary>Redis's <c>LRU_CLOCK_MAX</c>: the LRU clock has 24 bits (about 19 days of tenths of a second here).</summary>
    public const int LruClockMax = (1 << 24) - 1;

    /// <summary>Redis's <c>LFU_INIT_VAL</c>: the counter of a new key.</summary>
    public const int LfuInitValue = 5;

    private static int ComputeLruNow() => (int)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / LruResolutionMs & LruClockMax);

    /// <summary>Refreshes <see cref="LruNow"/>; the server cron calls it every tick (Redis updates it in serverCron).</summary>
    public void Tick() => LruNow = ComputeLruNow();

    /// <summary>The access word of a new entry: the LRU clock, or under LFU (now in minutes &lt;&lt; 8) | <see cref="LfuInitValue"/>.</summary>
    internal int NewAccessWord() => Lfu ? (LfuMinutes() << 8) | LfuInitValue : LruNow;

    /// <summary>Records an access to <paramref name="entry"/> (Redis's lookupKey LRU/LFU update). Writes only when the word changes.</summary>
    internal void Touch(KeyEntry entry)
    {
        if (!Lfu)
        {
            int clock = LruNow;
            if (entry.LruClock != clock) entry.LruClock = clock;
            return;
        }
        int counter = LfuLogIncrement(LfuDecrement(entry.LruClock));
        entry.LruClock = (LfuMinutes() << 8) | counter;
    }

    /// <summary>
    /// Redis's <c>objectSetLRUOrLFU</c> (RESTORE's IDLETIME and FREQ): under an LFU policy, a <paramref name="frequency"/> of
    /// 0..255 sets the counter (now in minutes &lt;&lt; 8 | frequency); otherwise an <paramref name="idleSeconds"/> ≥ 0 sets the
    /// last access that many seconds ago, wrapping as Redis 7.0.15's 24-bit clock does (a time before the clock's start gets
    /// <c>LRU_CLOCK_MAX</c> added, and the field keeps the low 24 bits). A negative argument leaves the entry's word as it
    /// is; so does a FREQ without LFU or an IDLETIME under LFU, as in Redis. RespKv's clock counts tenths of a second
    /// (<see cref="LruResolutionMs"/>), so an IDLETIME beyond its 24 bits (about 19 days; Redis's seconds reach 194) wraps
    /// sooner than in Redis.
    /// </summary>
    public void SetAccessHint(KeyEntry entry, long frequency, long idleSeconds)
    {
        if (Lfu)
        {
            if (frequency >= 0) entry.LruClock = (LfuMinutes() << 8) | (int)Math.Min(frequency, 255);
            return;
        }
        if (idleSeconds < 0) return;
        long ticks = Math.Min(idleSeconds, long.MaxValue / 1000) * 1000 / LruResolutionMs;
        long clock = LruNow - ticks;
        if (clock < 0) clock += LruClockMax;
        entry.LruClock = (int)(clock & LruClockMax);
    }

    /// <summary>The access word a new entry gets now (<see cref="NewAccessWord"/>; a replaced entry keeps its old word otherwise).</summary>
    public void ResetAccess(KeyEntry entry) => entry.LruClock = NewAccessWord();

    /// <summary>Seconds since the last access of <paramref name="entry"/> under LRU (Redis's <c>estimateObjectIdleTime</c> / 1000): OBJECT IDLETIME.</summary>
    public long IdleSeconds(KeyEntry entry) => IdleTicks(entry) * LruResolutionMs / 1000;

    /// <summary>Time since the last access of <paramref name="entry"/> in units of <see cref="LruResolutionMs"/> (the LRU eviction score).</summary>
    public long IdleTicks(KeyEntry entry)
    {
        int now = LruNow, lru = entry.LruClock & LruClockMax;
        return now >= lru ? now - lru : (long)LruClockMax - lru + now;
    }

    /// <summary>The LFU counter of <paramref name="entry"/> after decay (Redis's <c>LFUDecrAndReturn</c>): OBJECT FREQ.</summary>
    public int LfuFrequency(KeyEntry entry) => LfuDecrement(entry.LruClock);

    /// <summary>Eviction score (higher = evict first) under LFU: 255 - decayed counter (Redis's evictionPoolPopulate).</summary>
    internal long LfuIdleScore(KeyEntry entry) => 255 - LfuDecrement(entry.LruClock);

    private static int LfuMinutes() => (int)((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60) & 0xFFFF);

    private int LfuDecrement(int word)
    {
        int last = (word >> 8) & 0xFFFF, counter = word & 0xFF;
        int now = LfuMinutes();
        int elapsed = now >= last ? now - last : 65535 - last + now;
        int periods = LfuDecayTime > 0 ? elapsed / LfuDecayTime : 0;
        return periods > counter ? 0 : counter - periods;
    }

    private int LfuLogIncrement(int counter)
    {
        if (counter == 255) return 255;
        double r = Random.Shared.NextDouble();
        double baseval = Math.Max(0, counter - LfuInitValue);
        double p = 1.0 / (baseval * LfuLogFactor + 1);
        return r < p ? counter + 1 : counter;
    }

    /// <summary>
    /// True while <see cref="TrackedBytes"/> is maintained (maxmemory is set): every shard change then adds its
    /// size change to one shared counter. Without maxmemory shards keep only their own counters (no shared cache line on writes).
    /// </summary>
    public bool TrackingBytes => _trackingBytes;

    /// <summary>The estimated bytes of all databases while <see cref="TrackingBytes"/> (see <see cref="KeyspaceShard.MemoryBytes"/>).</summary>
    public long TrackedBytes => Interlocked.Read(ref _trackedBytes);

    internal void AddBytes(long delta)
    {
        if (_trackingBytes) Interlocked.Add(ref _trackedBytes, delta);
    }

    /// <summary>Turns tracking on with <paramref name="currentBytes"/> as the start value; the caller holds every shard lock of the keyspace.</summary>
    internal void StartTracking(long currentBytes)
    {
        Interlocked.Exchange(ref _trackedBytes, currentBytes);
        _trackingBytes = true;
    }

    /// <summary>Turns tracking off (maxmemory 0).</summary>
    internal void StopTracking() => _trackingBytes = false;
}
