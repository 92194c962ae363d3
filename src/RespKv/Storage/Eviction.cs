namespace RespKv.Storage;

/// <summary>The <c>maxmemory-policy</c> values (https://redis.io/docs/reference/eviction/).</summary>
public enum EvictionPolicy
{
    /// <summary><c>noeviction</c>: nothing is evicted; commands that may add memory are refused with <c>-OOM</c>.</summary>
    NoEviction,
    /// <summary><c>allkeys-lru</c>: the approximately least recently used key.</summary>
    AllKeysLru,
    /// <summary><c>volatile-lru</c>: the approximately least recently used key with an expiry.</summary>
    VolatileLru,
    /// <summary><c>allkeys-lfu</c>: the approximately least frequently used key.</summary>
    AllKeysLfu,
    /// <summary><c>volatile-lfu</c>: the approximately least frequently used key with an expiry.</summary>
    VolatileLfu,
    /// <summary><c>allkeys-random</c>: a random key.</summary>
    AllKeysRandom,
    /// <summary><c>volatile-random</c>: a random key with an expiry.</summary>
    VolatileRandom,
    /// <summary><c>volatile-ttl</c>: the key with an expiry that expires soonest (among samples).</summary>
    VolatileTtl,
}

/// <summary>
/// Enforces <c>maxmemory</c> as Redis's <c>performEvictions</c> does: before each command, when the keyspace's
/// estimated memory (<see cref="KeyLifetime.TrackedBytes"/>) exceeds the limit, evicts keys chosen by the policy
/// until it no longer does, or reports that it cannot (then commands flagged <c>denyoom</c> answer <c>-OOM</c>).
/// <para>
/// Choice: the LRU, LFU and TTL policies approximate the best victim as Redis does: each round samples
/// <c>maxmemory-samples</c> keys per database (consecutive buckets from a random position of a random shard,
/// Redis's <c>dictGetSomeKeys</c>) into an eviction pool of the <see cref="PoolSize"/> best candidates seen so far,
/// kept sorted by score (idle time; 255 minus the LFU counter; or the expiry time reversed), and evicts the best one
/// still present. Random policies take one sampled key. Evicted keys are removed through their shard (watchers
/// touched, <c>evicted_keys</c> counted, <c>DEL</c> logged).
/// </para>
/// <para>Threads: one thread evicts at a time (a lock); a thread that finds the limit exceeded while another evicts waits for it, then checks again.</para>
/// </summary>
public sealed class MemoryLimiter
{
    /// <summary>Candidates the eviction pool keeps (Redis's <c>EVPOOL_SIZE</c>).</summary>
    public const int PoolSize = 16;

    private readonly Keyspace _keyspace;
    private readonly Lock _lock = new();
    private readonly (KeyEntry Entry, Database Database, long Score)[] _pool = new (KeyEntry, Database, long)[PoolSize];
    private readonly List<KeyEntry> _samples = new();
    private readonly Random _random = new();
    private int _poolCount;
    private int _nextDatabase;

    internal MemoryLimiter(Keyspace keyspace) => _keyspace = keyspace;

    /// <summary>Parses a <c>maxmemory-policy</c> name (as CONFIG accepts it, lower case).</summary>
    public static EvictionPolicy ParsePolicy(string name) => name switch
    {
        "allkeys-lru" => EvictionPolicy.AllKeysLru,
        "volatile-lru" => EvictionPolicy.VolatileLru,
        "allkeys-lfu" => EvictionPolicy.AllKeysLfu,
        "volatile-lfu" => EvictionPolicy.VolatileLfu,
        "allkeys-random" => EvictionPolicy.AllKeysRandom,
        "volatile-random" => EvictionPolicy.VolatileRandom,
        "volatile-ttl" => EvictionPolicy.VolatileTtl,
        _ => EvictionPolicy.NoEviction,
    };

    /// <summary>True for the LFU policies (accesses then update the LFU counter).</summary>
    public static bool IsLfu(EvictionPolicy policy) => policy is EvictionPolicy.AllKeysLfu or EvictionPolicy.VolatileLfu;

    /// <summary>
    /// Brings the estimated memory to at most <paramref name="maxMemory"/> bytes by evicting under the policy named
    /// <paramref name="policyName"/> (<c>maxmemory-policy</c>, parsed only when over the limit); true when memory is (now) within the limit, false when it stays over (noeviction,
    /// or no key the policy may evict). Cheap when within the limit: one read of the running total.
    /// </summary>
    public bool MakeRoom(long maxMemory, string policyName, int samples)
    {
        KeyLifetime lifetime = _keyspace.Lifetime;
        if (!lifetime.TrackingBytes) _keyspace.TrackMemory(true);
        if (lifetime.TrackedBytes <= maxMemory) return true;
        EvictionPolicy policy = ParsePolicy(policyName);
        if (policy == EvictionPolicy.NoEviction) return false;
        using (_lock.EnterScope())
        {
            while (lifetime.TrackedBytes > maxMemory)
            {
                if (!EvictOne(policy, Math.Max(1, samples))) return false;
            }
        }
        return true;
    }

    private bool EvictOne(EvictionPolicy policy, int samples)
    {
        bool volatileOnly = policy is EvictionPolicy.VolatileLru or EvictionPolicy.VolatileLfu or EvictionPolicy.VolatileRandom or EvictionPolicy.VolatileTtl;
        if (policy is EvictionPolicy.AllKeysRandom or EvictionPolicy.VolatileRandom)
        {
            // Redis's random policies: one random key, databases in turn.
            for (int tried = 0; tried < _keyspace.DatabaseCount; tried++)
            {
                Database db = _keyspace[_nextDatabase];
                _nextDatabase = (_nextDatabase + 1) % _keyspace.DatabaseCount;
                for (int attempt = 0; attempt < 16; attempt++)
                {
                    KeyspaceShard? shard = RandomShard(db, volatileOnly);
                    if (shard == null) break;
                    _samples.Clear();
                    shard.SampleEntries(_random, 1, volatileOnly, _samples);
                    if (_samples.Count == 1 && shard.Evict(_samples[0])) return true;
                }
            }
            return false;
        }
        for (int round = 0; round < 64; round++)
        {
            bool sampledAny = false;
            for (int d = 0; d < _keyspace.DatabaseCount; d++)
            {
                Database db = _keyspace[d];
                KeyspaceShard? shard = RandomShard(db, volatileOnly);
                if (shard == null) continue;
                _samples.Clear();
                shard.SampleEntries(_random, samples, volatileOnly, _samples);
                foreach (KeyEntry e in _samples)
                {
                    sampledAny = true;
                    AddCandidate(e, db, Score(policy, e, db.Lifetime));
                }
            }
            // Best candidate first; a candidate replaced or removed since it was sampled is dropped.
            while (_poolCount > 0)
            {
                (KeyEntry entry, Database db, _) = _pool[--_poolCount];
                _pool[_poolCount] = default;
                KeyspaceShard shard = db.Shards[Database.ShardOf(entry.Key)];
                if (shard.Evict(entry)) return true;
            }
            if (!sampledAny) return false;
        }
        return false;
    }

    private static long Score(EvictionPolicy policy, KeyEntry e, KeyLifetime lifetime) => policy switch
    {
        EvictionPolicy.AllKeysLfu or EvictionPolicy.VolatileLfu => lifetime.LfuIdleScore(e),
        EvictionPolicy.VolatileTtl => long.MaxValue - e.ExpireAtMs,
        _ => lifetime.IdleTicks(e),
    };

    /// <summary>Inserts a candidate into the pool, kept sorted by ascending score (best, highest, last); the worst falls out when full.</summary>
    private void AddCandidate(KeyEntry entry, Database db, long score)
    {
        for (int i = 0; i < _poolCount; i++)
            if (ReferenceEquals(_pool[i].Entry, entry)) return;
        int k = 0;
        while (k < _poolCount && _pool[k].Score < score) k++;
        if (k == 0 && _poolCount == PoolSize) return; // worse than every candidate in a full pool
        if (_poolCount < PoolSize)
        {
            Array.Copy(_pool, k, _pool, k + 1, _poolCount - k);
            _poolCount++;
        }
        else
        {
            // Full: drop the worst (index 0) and shift the lower part left.
            k--;
            Array.Copy(_pool, 1, _pool, 0, k);
        }
        _pool[k] = (entry, db, score);
    }

    private KeyspaceShard? RandomShard(Database db, bool volatileOnly)
    {
        if (db.Count == 0) return null;
        ReadOnlySpan<KeyspaceShard> shards = db.Shards;
        int start = _random.Next(Database.ShardCount);
        for (int i = 0; i < Database.ShardCount; i++)
        {
            KeyspaceShard s = shards[(start + i) & (Database.ShardCount - 1)];
            if (volatileOnly ? s.VolatileCount > 0 : s.Count > 0) return s;
        }
        return null;
    }
}
