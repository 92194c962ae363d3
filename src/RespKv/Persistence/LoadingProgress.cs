namespace RespKv.Persistence;

/// <summary>
/// How far a load of the dataset (RDB file or AOF) has come, for INFO persistence's <c>loading_*</c> fields while
/// <c>loading:1</c> (Redis's <c>server.loading_start_time</c>, <c>loading_total_bytes</c>, <c>loading_rdb_used_mem</c>,
/// <c>loading_loaded_bytes</c>). Written by the loader's thread, read by INFO on any thread.
/// </summary>
public sealed class LoadingProgress
{
    private long _loadedBytes;

    /// <summary>Unix seconds the load started.</summary>
    public long StartUnixSeconds { get; private set; }

    /// <summary>Bytes of the files being loaded (0 when unknown: a stream).</summary>
    public long TotalBytes { get; private set; }

    /// <summary>The RDB aux field <c>used-mem</c> of the file being loaded, in bytes (0 when none was read yet).</summary>
    public long RdbUsedMemory { get; set; }

    /// <summary>Bytes read so far.</summary>
    public long LoadedBytes
    {
        get => Volatile.Read(ref _loadedBytes);
        set => Volatile.Write(ref _loadedBytes, value);
    }

    /// <summary>Starts a load of <paramref name="totalBytes"/> bytes (Redis's <c>startLoading</c>).</summary>
    public void Start(long totalBytes)
    {
        StartUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        TotalBytes = totalBytes;
        RdbUsedMemory = 0;
        LoadedBytes = 0;
    }

    /// <summary>
    /// <c>loading_loaded_perc</c> and <c>loading_eta_seconds</c> as Redis's INFO computes them: against the total bytes, else the
    /// RDB's <c>used-mem</c> (capped at 99.99%), the ETA from the rate so far (1 while nothing elapsed).
    /// </summary>
    public (double Percent, long EtaSeconds) Estimate()
    {
        long loaded = LoadedBytes;
        double percent = 0;
        long remaining = 1;
        if (TotalBytes > 0)
        {
            percent = (double)loaded / TotalBytes * 100;
            remaining = TotalBytes - loaded;
        }
        else if (RdbUsedMemory > 0)
        {
            percent = (double)loaded / RdbUsedMemory * 100;
            remaining = RdbUsedMemory - loaded;
            if (percent > 99.99) percent = 99.99;
            if (remaining < 1) remaining = 1;
        }
        long elapsed = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - StartUnixSeconds;
        long eta = elapsed == 0 ? 1 : elapsed * remaining / (loaded + 1);
        return (percent, eta);
    }
}
