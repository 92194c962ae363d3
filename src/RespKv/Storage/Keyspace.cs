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
        for (int i = 0; i < databaseCount; i++) _databases[i] = new Database(i);
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
