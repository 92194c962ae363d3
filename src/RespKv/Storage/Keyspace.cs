namespace RespKv.Storage;

/// <summary>All databases of the server (Redis's <c>databases</c> setting, default 16).</summary>
public sealed class Keyspace
{
    private readonly Database[] _databases;

    /// <summary>A keyspace of <paramref name="databaseCount"/> empty databases.</summary>
    public Keyspace(int databaseCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(databaseCount, 1);
        _databases = new Database[databaseCount];
        for (int i = 0; i < databaseCount; i++) _databases[i] = new Database(i, Lifetime);
        Limiter = new MemoryLimiter(this);
        ActiveExpiry = new ActiveExpiry(this);
    }

    /// <summary>The active expiry cycle the server cron runs (see <see cref="Storage.ActiveExpiry"/>).</summary>
    public ActiveExpiry ActiveExpiry { get; }

    /// <summary>Enforces maxmemory by eviction (see <see cref="MemoryLimiter"/>).</summary>
    public MemoryLimiter Limiter { get; }

    /// <summary>The clock, access clock, memory estimate and expiry/eviction counters every database shares.</summary>
    public KeyLifetime Lifetime { get; } = new();

    /// <summary>
    /// The server-wide part of the dataset that is not keys: the whole code (shebang included) of each loaded function
    /// library, read by the AOF rewrite under every shard lock, which writes one <c>FUNCTION LOAD code</c> per library before
    /// the databases (Redis 7.0's <c>rewriteFunctions</c>). Set by the server (<c>Scripting.Functions.FunctionRegistry</c>);
    /// null when there is none (storage alone).
    /// </summary>
    public Func<IReadOnlyList<byte[]>>? FunctionLibraries { get; set; }

    /// <summary>Estimated bytes held by every database (INFO <c>used_memory</c>'s data part; see <see cref="KeyspaceShard.MemoryBytes"/>).</summary>
    public long MemoryBytes
    {
        get
        {
            long n = 0;
            foreach (Database db in _databases) n += db.MemoryBytes;
            return n;
        }
    }

    /// <summary>
    /// Starts (or stops) keeping <see cref="KeyLifetime.TrackedBytes"/>, the running total maxmemory is checked
    /// against. Starting takes every shard lock of every database for a moment, so the start value is exact.
    /// </summary>
    public void TrackMemory(bool on)
    {
        if (!on)
        {
            Lifetime.StopTracking();
            return;
        }
        if (Lifetime.TrackingBytes) return;
        var scopes = new ShardWriteScope[_databases.Length];
        try
        {
            for (int i = 0; i < _databases.Length; i++) scopes[i] = _databases[i].LockShards(Database.AllShards);
            Lifetime.StartTracking(MemoryBytes);
        }
        finally
        {
            foreach (ShardWriteScope scope in scopes) scope.Dispose();
        }
    }

    /// <summary>Number of databases.</summary>
    public int DatabaseCount => _databases.Length;

    /// <summary>Database <paramref name="index"/> (0-based).</summary>
    public Database this[int index] => _databases[index];

    /// <summary>Empties every database (FLUSHALL), one database at a time in index order.</summary>
    public void FlushAll()
    {
        foreach (Database db in _databases) db.Flush();
    }

    /// <summary>Keys in all databases.</summary>
    public long TotalKeys
    {
        get
        {
            long n = 0;
            foreach (Database db in _databases) n += db.Count;
            return n;
        }
    }
}
