using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Persistence;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Turns the AOF on and off for a <see cref="RespServer"/>: the start-up sequence (load, compact, open), CONFIG SET
/// appendonly at runtime, BGREWRITEAOF, and the final flush at shutdown.
/// </summary>
public static class AofPersistence
{
    /// <summary>
    /// Start-up with <c>appendonly yes</c>: sets <see cref="RespServer.Loading"/>, replays the AOF
    /// (<see cref="AofLoader"/>), rewrites it compactly to <c>dir/appendfilename</c> (temporary file, fsync, rename,
    /// directory fsync) — unless it is RespKv's own file and already compact (<see cref="AofLoadResult.AlreadyCompact"/>),
    /// opens it for appending as <see cref="RespServer.WriteLog"/>, then clears Loading. Logs the load time, keys
    /// loaded and the bytes before and after the rewrite. Throws <see cref="AofLoadException"/>
    /// (exit 1) when the AOF cannot be loaded or the directory not written.
    /// </summary>
    public static void LoadAndOpen(RespServer server)
    {
        ServerOptions o = server.Options;
        ILogger log = server.Logger;
        server.Loading = true;
        try
        {
            try
            {
                Directory.CreateDirectory(o.Dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AofLoadException($"Can't create the data directory {o.Dir}: {e.Message}");
            }
            string path = Path.Combine(o.Dir, o.AppendFilename);
            IReadOnlyList<string> files = AofLoader.FindFiles(o);
            AofLoadResult? loaded = null;
            if (files.Count > 0)
            {
                loaded = AofLoader.Load(new AofReplayClient(server), server.Keyspace, log, files, o.AofLoadTruncated, server.LoadingProgress);
                log.LogInformation("DB loaded from append only file: {Seconds:F3} seconds; {Keys} keys from {Commands} commands, {Bytes} bytes ({Files})",
                    loaded.Elapsed.TotalSeconds, loaded.Keys, loaded.Commands, loaded.Bytes, string.Join(", ", loaded.Files));
                if (loaded.FailedCommands > 0)
                    log.LogWarning("{Failed} commands in the AOF answered an error while loading and were skipped, as redis-server does", loaded.FailedCommands);
                if (files[0] != path)
                    log.LogWarning("Loaded the redis-server AOF directory {Directory}; RespKv now writes {Path} and no longer updates that directory", Path.GetDirectoryName(files[0]), path);
            }
            if (loaded is { AlreadyCompact: true } && files.Count == 1 && files[0] == path)
            {
                // One SET/HSET per key already (e.g. the file a rewrite wrote): compacting would write the same bytes.
                log.LogInformation("AOF already compact ({Commands} commands for {Keys} keys): not rewritten at start-up", loaded.Commands, loaded.Keys);
                long size = new FileInfo(path).Length;
                var existing = new AppendOnlyFile(server.Options, server.Keyspace, server.Logger, path, size);
                server.Aof = existing;
                server.WriteLog = existing;
                return;
            }
            var clock = Stopwatch.StartNew();
            var snapshot = new KeyspaceSnapshot();
            snapshot.Collect(server.Keyspace); // nothing else writes: every write command answers -LOADING
            long before = files.Count > 0 ? files.Sum(f => new FileInfo(f).Length) : 0;
            (long keys, long bytes) = WriteSnapshotFile(snapshot, path, AppendOnlyFile.PreambleFor(o, server.Keyspace));
            log.LogInformation("AOF rewritten at start-up in {Seconds:F3} seconds: {Keys} keys, {Before} bytes before, {After} bytes after",
                clock.Elapsed.TotalSeconds, keys, before, bytes);
            var aof = new AppendOnlyFile(server.Options, server.Keyspace, server.Logger, path, bytes);
            server.Aof = aof;
            server.WriteLog = aof;
        }
        finally
        {
            server.Loading = false;
        }
    }

    private static (long Keys, long Bytes) WriteSnapshotFile(KeyspaceSnapshot snapshot, string path, Persistence.Rdb.RdbWriteOptions? preamble)
    {
        try
        {
            return AofSnapshotWriter.WriteFile(snapshot, path, preamble);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AofLoadException($"Can't write the append only file {path}: {e.Message}");
        }
    }

    /// <summary>
    /// CONFIG SET appendonly yes on a running server: with every shard locked (writes wait), writes the current state
    /// to a new AOF and starts logging, so no write falls between the snapshot and the log. Returns null on success
    /// or the reason it failed. (Redis does this with a background rewrite; RespKv pauses writes for the write.)
    /// </summary>
    public static string? Enable(RespServer server)
    {
        if (server.Aof != null) return null;
        string path = Path.Combine(server.Options.Dir, server.Options.AppendFilename);
        var locks = new TransactionLocks();
        locks.AddEveryDatabase(server.Keyspace);
        locks.Acquire();
        try
        {
            Directory.CreateDirectory(server.Options.Dir);
            var snapshot = new KeyspaceSnapshot();
            snapshot.Collect(server.Keyspace);
            (long _, long bytes) = AofSnapshotWriter.WriteFile(snapshot, path, AppendOnlyFile.PreambleFor(server.Options, server.Keyspace));
            var aof = new AppendOnlyFile(server.Options, server.Keyspace, server.Logger, path, bytes);
            server.Aof = aof;
            server.WriteLog = aof;
            server.Logger.LogInformation("Append only file enabled: {Path}, {Bytes} bytes", path, bytes);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return "Background AOF rewrite failed: " + e.Message;
        }
        finally
        {
            locks.Release();
        }
    }

    /// <summary>
    /// Stops logging (CONFIG SET appendonly no, shutdown): with every shard locked the log is detached, so no append
    /// is in flight, then it is flushed, fsynced and closed.
    /// </summary>
    public static void Disable(RespServer server)
    {
        AppendOnlyFile? aof;
        var locks = new TransactionLocks();
        locks.AddEveryDatabase(server.Keyspace);
        locks.Acquire();
        try
        {
            aof = server.Aof;
            server.Aof = null;
            if (ReferenceEquals(server.AofWriteLog, aof)) server.WriteLog = null;
        }
        finally
        {
            locks.Release();
        }
        if (aof == null) return;
        if (!aof.Flush(TimeSpan.FromSeconds(10)))
            server.Logger.LogWarning("The append only file could not be flushed and fsynced before closing: {Reason}", aof.WriteError ?? "timeout");
        aof.Dispose();
    }

    /// <summary>
    /// BGREWRITEAOF: starts an online rewrite; while the AOF is off, writes a snapshot of the data to
    /// <c>dir/appendfilename</c> instead (Redis also writes its base file then). Returns false when a rewrite is already running.
    /// </summary>
    public static bool StartRewrite(RespServer server)
    {
        if (server.Aof is { } aof) return aof.StartRewrite();
        if (Interlocked.Exchange(ref s_offlineRewrite, 1) == 1) return false;
        _ = Task.Run(() =>
        {
            try
            {
                KeyspaceSnapshot snapshot = KeyspaceSnapshot.CollectLocked(server.Keyspace);
                Directory.CreateDirectory(server.Options.Dir);
                (long keys, long bytes) = AofSnapshotWriter.WriteFile(snapshot, Path.Combine(server.Options.Dir, server.Options.AppendFilename),
                    AppendOnlyFile.PreambleFor(server.Options, server.Keyspace));
                server.Logger.LogInformation("Background append only file rewriting (AOF off) wrote {Keys} keys, {Bytes} bytes", keys, bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                server.Logger.LogWarning("Background append only file rewriting failed: {Reason}", e.Message);
            }
            finally
            {
                Volatile.Write(ref s_offlineRewrite, 0);
            }
        });
        return true;
    }

    private static int s_offlineRewrite;
}
