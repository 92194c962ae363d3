using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Persistence;
using RespKv.Persistence.Rdb;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// RDB snapshots of a <see cref="RespServer"/> (Redis 7.0's <c>rdb.c</c> <c>rdbSave</c>/<c>rdbSaveBackground</c>, the save
/// points of <c>serverCron</c>, and their INFO persistence fields): SAVE, BGSAVE [SCHEDULE], LASTSAVE, the <c>save</c> schedule,
/// the start-up load of <c>dir/dbfilename</c>, SHUTDOWN's save. Writes go to <c>dir/dbfilename</c> through <c>temp-PID.rdb</c>.
/// <para>
/// Without fork: a snapshot collects every entry under all shard locks (<see cref="KeyspaceSnapshot"/>: immutable nodes, deep
/// copies of kinds mutated in place), which pauses writes only for that walk; the file is then written on a pool thread while
/// commands run. Changes since the last save (<c>rdb_changes_since_last_save</c>, Redis's <c>server.dirty</c>) are the keyspace
/// shards' change counters (<see cref="KeyspaceShard.Changes"/>) less their sum at the last successful save's snapshot.
/// </para>
/// </summary>
public sealed class RdbPersistence(RespServer server)
{
    /// <summary>Guards the save state (never held while taking shard locks or writing a file).</summary>
    private readonly Lock _sync = new();

    /// <summary>Held while a file is installed at <c>dir/dbfilename</c> (SAVE's whole write; a background save's rename only).</summary>
    private readonly Lock _fileSync = new();
    private long _changesAtLastSave;
    private int _bgsaveRunning;
    private int _bgsaveCancelled;
    private long _bgsaveStartedTicks;

    /// <summary>Redis's <c>CONFIG_BGSAVE_RETRY_DELAY</c>: after a failed background save, save points wait this many seconds.</summary>
    public const int RetryDelaySeconds = 5;

    /// <summary>The MISCONF error while <c>stop-writes-on-bgsave-error</c> holds writes back (Redis's <c>shared.bgsaveerr</c>, without the dash).</summary>
    public const string BgsaveError = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
        "Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB " +
        "snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

    /// <summary>Unix seconds of the last successful save (LASTSAVE, INFO <c>rdb_last_save_time</c>); the start time before any.</summary>
    public long LastSaveUnix { get; private set; } = server.StartedUnixSeconds;

    /// <summary>Unix seconds of the last background save attempt (<c>lastbgsave_try</c>).</summary>
    public long LastBgsaveTryUnix { get; private set; }

    /// <summary>False after a failed save until one succeeds (INFO <c>rdb_last_bgsave_status</c>).</summary>
    public bool LastBgsaveOk { get; private set; } = true;

    /// <summary>Seconds the last background save took, or -1 (INFO <c>rdb_last_bgsave_time_sec</c>).</summary>
    public long LastBgsaveSeconds { get; private set; } = -1;

    /// <summary>SAVE and BGSAVE runs started (INFO <c>rdb_saves</c>).</summary>
    public long Saves => Interlocked.Read(ref _saves);

    private long _saves;

    /// <summary>True while a background save runs (INFO <c>rdb_bgsave_in_progress</c>).</summary>
    public bool BgsaveInProgress => Volatile.Read(ref _bgsaveRunning) != 0;

    /// <summary>Seconds the running background save has taken, or -1 (INFO <c>rdb_current_bgsave_time_sec</c>).</summary>
    public long CurrentBgsaveSeconds => BgsaveInProgress ? (Environment.TickCount64 - Volatile.Read(ref _bgsaveStartedTicks)) / 1000 : -1;

    /// <summary>A BGSAVE waits for the AOF rewrite to end (BGSAVE SCHEDULE; INFO has no field for it).</summary>
    public bool BgsaveScheduled { get; private set; }

    /// <summary>Keys the last RDB load added (INFO <c>rdb_last_load_keys_loaded</c>).</summary>
    public long LastLoadKeysLoaded { get; private set; }

    /// <summary>Keys the last RDB load skipped as expired (INFO <c>rdb_last_load_keys_expired</c>).</summary>
    public long LastLoadKeysExpired { get; private set; }

    /// <summary>Keys saved by the running background save so far is not tracked: INFO <c>current_save_keys_total</c> of the running save.</summary>
    public long CurrentSaveKeysTotal { get; private set; }

    /// <summary>True once SHUTDOWN decided about saving (the signal path then does not save again).</summary>
    public bool ShutdownHandled { get; set; }

    /// <summary>Sum of every shard's change counter (Redis's <c>server.dirty</c> since start).</summary>
    private long TotalChanges()
    {
        long n = 0;
        Keyspace keyspace = server.Keyspace;
        for (int d = 0; d < keyspace.DatabaseCount; d++)
            foreach (KeyspaceShard shard in keyspace[d].Shards) n += shard.Changes;
        return n;
    }

    /// <summary>Changes since the last successful save (INFO <c>rdb_changes_since_last_save</c>).</summary>
    public long ChangesSinceLastSave => Math.Max(0, TotalChanges() - Volatile.Read(ref _changesAtLastSave));

    /// <summary>Counts <paramref name="changes"/> more changes than the shards saw (FLUSHALL adds the keys it removed, as Redis's <c>server.dirty += emptyData()</c>).</summary>
    public void AddChanges(long changes) => Interlocked.Add(ref _changesAtLastSave, -changes);

    /// <summary>The path of the RDB file: <c>dir/dbfilename</c>.</summary>
    public string FilePath => Path.Combine(server.Options.Dir, server.Options.DbFilename);

    /// <summary>The save points of <c>save</c>: (seconds, changes) pairs; empty when none.</summary>
    public static IReadOnlyList<(long Seconds, long Changes)> SavePoints(ServerOptions options)
    {
        string[] parts = options.Save.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var points = new List<(long, long)>(parts.Length / 2);
        for (int i = 0; i + 1 < parts.Length; i += 2)
            points.Add((long.Parse(parts[i], CultureInfo.InvariantCulture), long.Parse(parts[i + 1], CultureInfo.InvariantCulture)));
        return points;
    }

    /// <summary>True when <c>save</c> lists at least one save point (Redis's <c>server.saveparamslen &gt; 0</c>).</summary>
    public bool HasSavePoints => server.Options.Save.Length > 0;

    /// <summary>
    /// True while write commands (and PING) answer <see cref="BgsaveError"/>: <c>stop-writes-on-bgsave-error yes</c>, save points
    /// configured, and the last background save failed (Redis's <c>writeCommandsDeniedByDiskError</c>, RDB part).
    /// </summary>
    public bool DeniesWrites => !LastBgsaveOk && server.Options.StopWritesOnBgsaveError && HasSavePoints;

    /// <summary>Collects the keyspace under every shard lock; returns the snapshot and the change count at that instant.</summary>
    private (KeyspaceSnapshot Snapshot, long Changes) Collect()
    {
        long changes = 0;
        KeyspaceSnapshot snapshot = KeyspaceSnapshot.CollectLocked(server.Keyspace, () => changes = TotalChanges());
        return (snapshot, changes);
    }

    private RdbWriteResult WriteFile(KeyspaceSnapshot snapshot, bool background = false, Func<bool>? commit = null)
    {
        Directory.CreateDirectory(server.Options.Dir);
        return RdbFileWriter.WriteFile(snapshot, FilePath, RdbWriteOptions.From(server.Options, server.Keyspace.Lifetime), commit,
            background ? $"temp-bgsave-{Environment.ProcessId}.rdb" : null);
    }

    /// <summary>
    /// FLUSHALL with save points (Redis 7.0's <c>flushAllDataAndResetRDB</c>): a running background save is cancelled (its file
    /// is not installed, as Redis kills the child), then the now empty dataset is saved at once. The caller holds every shard
    /// lock (FLUSHALL's), so the snapshot is collected without taking them. A write failure is logged (FLUSHALL still answers +OK).
    /// </summary>
    public void SaveAfterFlushAll()
    {
        if (!HasSavePoints) return;
        Volatile.Write(ref _bgsaveCancelled, 1);
        Interlocked.Increment(ref _saves);
        lock (_fileSync)
        {
            try
            {
                var snapshot = new KeyspaceSnapshot();
                snapshot.Collect(server.Keyspace);
                long changes = TotalChanges();
                WriteFile(snapshot);
                Saved(changes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                server.Logger.LogWarning("Write error saving DB on disk: {Reason}", e.Message);
            }
        }
    }

    /// <summary>Records a successful save of the data as of <paramref name="changes"/> (Redis: dirty, lastsave, lastbgsave_status).</summary>
    private void Saved(long changes)
    {
        lock (_sync)
        {
            Volatile.Write(ref _changesAtLastSave, changes);
            LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            LastBgsaveOk = true;
        }
    }

    /// <summary>
    /// SAVE (Redis's <c>saveCommand</c> and <c>rdbSave</c>): writes the dataset to <c>dir/dbfilename</c> now, in the caller's
    /// thread. Returns null on success, else the error reply without its dash: <c>ERR Background save already in progress</c>
    /// while a BGSAVE runs, or <c>ERR</c> when writing failed (logged, as Redis's <c>shared.err</c>).
    /// </summary>
    public string? Save()
    {
        lock (_sync)
        {
            if (BgsaveInProgress) return "ERR Background save already in progress";
        }
        Interlocked.Increment(ref _saves);
        try
        {
            (KeyspaceSnapshot snapshot, long changes) = Collect();
            RdbWriteResult result;
            lock (_fileSync) result = WriteFile(snapshot);
            Saved(changes);
            server.Logger.LogInformation("DB saved on disk ({Keys} keys, {Bytes} bytes)", result.Keys, result.Bytes);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            server.Logger.LogWarning("Write error saving DB on disk: {Reason}", e.Message);
            return "ERR";
        }
    }

    /// <summary>True while something else forks a child in Redis: RespKv's AOF rewrite (BGSAVE then waits, or is scheduled).</summary>
    private bool OtherChildActive => server.Aof?.RewriteInProgress == true;

    /// <summary>
    /// BGSAVE [SCHEDULE] (Redis's <c>bgsaveCommand</c>): the status reply, or an error reply (both without their first byte):
    /// <c>Background saving started</c>; <c>ERR Background save already in progress</c>; while an AOF rewrite runs,
    /// <c>Background saving scheduled</c> with SCHEDULE (or inside EXEC: <paramref name="inExec"/>), else <c>ERR Another child process
    /// is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.</c>.
    /// </summary>
    public (bool Ok, string Reply) StartBgsave(bool schedule, bool inExec)
    {
        lock (_sync)
        {
            if (BgsaveInProgress) return (false, "ERR Background save already in progress");
            if (OtherChildActive || inExec)
            {
                if (schedule || inExec)
                {
                    BgsaveScheduled = true;
                    return (true, "Background saving scheduled");
                }
                return (false, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
            }
            StartBackground();
            return (true, "Background saving started");
        }
    }

    /// <summary>Starts a background save (caller holds <see cref="_sync"/> and checked none runs).</summary>
    private void StartBackground()
    {
        BgsaveScheduled = false;
        Volatile.Write(ref _bgsaveStartedTicks, Environment.TickCount64);
        Volatile.Write(ref _bgsaveRunning, 1);
        Volatile.Write(ref _bgsaveCancelled, 0);
        LastBgsaveTryUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Interlocked.Increment(ref _saves);
        server.Logger.LogInformation("Background saving started");
        _ = Task.Run(RunBackground);
    }

    private void RunBackground()
    {
        var clock = Stopwatch.StartNew();
        bool ok = false;
        try
        {
            (KeyspaceSnapshot snapshot, long changes) = Collect();
            long pauseMs = clock.ElapsedMilliseconds;
            CurrentSaveKeysTotal = snapshot.KeyCount;
            // The rename happens under the file lock FLUSHALL's save takes, so a cancelled save never replaces its file.
            RdbWriteResult result;
            bool entered = false;
            try
            {
                result = WriteFile(snapshot, background: true, () =>
                {
                    _fileSync.Enter();
                    entered = true;
                    return Volatile.Read(ref _bgsaveCancelled) == 0;
                });
            }
            finally
            {
                if (entered) _fileSync.Exit();
            }
            Saved(changes);
            ok = true;
            server.Logger.LogInformation("DB saved on disk: {Keys} keys, {Bytes} bytes; writes paused {PauseMs} ms for the snapshot", result.Keys, result.Bytes, pauseMs);
            server.Logger.LogInformation("Background saving terminated with success");
        }
        catch (OperationCanceledException)
        {
            // Cancelled by FLUSHALL (Redis kills the child with SIGUSR1: the status stays as it was).
            server.Logger.LogWarning("Background saving terminated by FLUSHALL");
            ok = LastBgsaveOk;
        }
        catch (Exception e)
        {
            server.Logger.LogWarning("Background saving error: {Reason}", e.Message);
        }
        finally
        {
            lock (_sync)
            {
                LastBgsaveOk = ok;
                LastBgsaveSeconds = clock.ElapsedMilliseconds / 1000;
                CurrentSaveKeysTotal = 0;
                Volatile.Write(ref _bgsaveRunning, 0);
            }
        }
    }

    /// <summary>Waits (bounded) for a running background save to end; true when none runs.</summary>
    public bool WaitForBackground(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (BgsaveInProgress && clock.Elapsed < timeout) Thread.Sleep(10);
        return !BgsaveInProgress;
    }

    /// <summary>
    /// The server cron's part (Redis's <c>serverCron</c>): starts a scheduled BGSAVE once no AOF rewrite runs, or a background
    /// save when a save point is reached (at least <c>changes</c> changes and more than <c>seconds</c> since the last save), after a
    /// failed one only once <see cref="RetryDelaySeconds"/> passed.
    /// </summary>
    public void Cron()
    {
        if (BgsaveInProgress || OtherChildActive || server.Loading) return;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        bool mayRetry = LastBgsaveOk || now - LastBgsaveTryUnix > RetryDelaySeconds;
        if (!mayRetry) return;
        bool due = BgsaveScheduled;
        if (!due && HasSavePoints)
        {
            long changes = ChangesSinceLastSave;
            foreach ((long seconds, long needed) in SavePoints(server.Options))
            {
                if (changes >= needed && now - LastSaveUnix > seconds)
                {
                    server.Logger.LogInformation("{Changes} changes in {Seconds} seconds. Saving...", needed, seconds);
                    due = true;
                    break;
                }
            }
        }
        if (!due) return;
        lock (_sync)
        {
            if (!BgsaveInProgress) StartBackground();
        }
    }

    /// <summary>
    /// Start-up with <c>appendonly no</c> (Redis's <c>loadDataFromDisk</c>): loads <c>dir/dbfilename</c> when it exists, logging
    /// the time and keys. Throws <see cref="RdbLoadException"/> (the server must exit 1: <c>Fatal error loading the DB</c>) when it
    /// cannot be loaded; the keyspace is then empty.
    /// </summary>
    public void LoadAtStartup()
    {
        string path = FilePath;
        if (!File.Exists(path)) return;
        var clock = Stopwatch.StartNew();
        RdbLoadResult result = LoadFile(path, skipExpired: true);
        server.Logger.LogInformation("DB loaded from disk: {Seconds:F3} seconds", clock.Elapsed.TotalSeconds);
        _ = result;
    }

    /// <summary>
    /// Loads the RDB file at <paramref name="path"/> into the (empty) keyspace, function libraries included, and records the
    /// INFO load counters; on failure the keyspace and the function libraries are emptied and <see cref="RdbLoadException"/> thrown.
    /// <paramref name="allowDuplicates"/>: a key already present is replaced (DEBUG RELOAD MERGE, Redis's <c>RDBFLAGS_ALLOW_DUP</c>).
    /// </summary>
    public RdbLoadResult LoadFile(string path, bool skipExpired, bool allowDuplicates = false)
    {
        try
        {
            server.LoadingProgress.Start(new FileInfo(path).Length);
            RdbLoadResult result = RdbFileLoader.LoadFile(path, server.Keyspace, LoadOptions(skipExpired) with { AllowDuplicates = allowDuplicates });
            LastLoadKeysLoaded = result.KeysLoaded;
            LastLoadKeysExpired = result.KeysExpired;
            Volatile.Write(ref _changesAtLastSave, TotalChanges());
            return result;
        }
        catch
        {
            server.FunctionsIfCreated?.Flush();
            throw;
        }
    }

    /// <summary>The load options for this server: its settings and logger, function libraries loaded into <see cref="RespServer.Functions"/>.</summary>
    public RdbLoadOptions LoadOptions(bool skipExpired) =>
        new(server.Options, skipExpired, code => server.Functions.Load(code, replace: false, Scripting.Functions.FunctionRegistry.LoadTimeoutMs, out _), server.Logger,
            Progress: server.LoadingProgress);
}
