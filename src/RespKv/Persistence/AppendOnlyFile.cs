using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Persistence;

/// <summary>The <c>appendfsync</c> policy (https://redis.io/docs/management/persistence/#how-durable-is-the-append-only-file).</summary>
public enum FsyncPolicy
{
    /// <summary><c>always</c>: a write's reply is sent only after its record is fsynced (group commit).</summary>
    Always,
    /// <summary><c>everysec</c>: records are written at once, fsynced in the background once a second.</summary>
    EverySec,
    /// <summary><c>no</c>: records are written at once, never fsynced explicitly (the OS decides).</summary>
    No,
}

/// <summary>
/// The append-only file (Redis's AOF, https://redis.io/docs/management/persistence/), in Redis's own format:
/// RESP multibulks of the commands as applied, <c>SELECT</c> when the database changes, <c>MULTI</c> … <c>EXEC</c>
/// around multi-record units. One file, <c>dir/appendfilename</c>.
/// <para>
/// Design: <see cref="Append"/> runs under the writing command's shard locks, so it only copies the record
/// bytes into a shared in-memory buffer under a short lock and advances a monotonic <em>append offset</em>
/// (bytes ever appended); the session notes the offset its batch reached. Before a session flushes its replies
/// (Redis's <c>beforeSleep</c>), its records must be in the file — and under <see cref="FsyncPolicy.Always"/>
/// fsynced (fdatasync on Linux, as Redis). One background writer thread does every write, under every policy (group
/// commit): it takes everything pending from all connections, writes it with one <c>write</c> (and under always
/// fsyncs once), then advances the <em>written</em> and <em>durable offsets</em> and continues every session those
/// bytes cover on its own thread, which sends their replies (an allocation-free awaitable per session, no thread-pool
/// hop); records appended meanwhile share the next write. Sessions never write or fsync themselves: they run on the
/// socket threads, and one blocked in the file would stop reading the other connections whose records should share
/// the write. The writer also fsyncs once a second under everysec (never under no), retries after failures and
/// switches files after a rewrite. Replies thus never precede the write of their records: a killed process (SIGKILL)
/// loses no acknowledged write under any policy; an OS crash or power loss can lose the last second under everysec.
/// </para>
/// <para>
/// A failed write or fsync sets <see cref="WriteError"/> (write commands answer <c>-MISCONF</c>): the file is
/// truncated back to its last good length, the unwritten bytes are kept, and the writer retries once a second;
/// the error clears when a write (and, under always, its fsync) succeeds. Bytes not durable are never
/// acknowledged under always: their sessions keep waiting. (Redis 7.0 exits under always when a write fails;
/// RespKv keeps serving reads and retries, as the durability issue asks.)
/// </para>
/// <para>
/// Rewrite (<see cref="StartRewrite"/>, BGREWRITEAOF, automatic rewrite): with every shard of every database
/// locked, the rewriter collects the keyspace's entries (immutable nodes, so they stay valid after the locks are
/// released) and notes the append offset — no append is in flight while every shard is locked. It writes the
/// compacted state to a temporary file in the background while clients keep appending to the old file. The
/// writer thread then switches: it copies the old file's records from the noted offset onward (everything
/// appended since the snapshot) to the new file, fsyncs it, renames it over the old one, fsyncs the directory,
/// and continues appending to the new file. No acknowledged record is lost at any point: until the rename the old
/// file holds everything; after it the new one does.
/// </para>
/// </summary>
public sealed class AppendOnlyFile : IWriteLog, IDisposable
{
    /// <summary>Initial size of the shared pending buffer in bytes.</summary>
    private const int InitialBufferBytes = 64 * 1024;

    /// <summary>A pending buffer that grew beyond this is replaced by a fresh small one after it is written.</summary>
    private const int RetainedBufferBytes = 16 * 1024 * 1024;

    /// <summary>Milliseconds between retries after a failed write or fsync, and between everysec fsyncs.</summary>
    private const int RetryMs = 1000;

    [ThreadStatic] private static long t_appendEnd;
    [ThreadStatic] private static bool t_isWriter;

    private readonly ServerOptions _options;
    private readonly Keyspace _keyspace;
    private readonly ILogger _log;
    private readonly object _sync = new();
    private readonly Thread _writer;

    // Guarded by _sync.
    private byte[] _pending = new byte[InitialBufferBytes];
    private int _pendingUsed;
    private long _appendOffset;
    private int _lastDatabase = -1;
    private bool _writerWaiting;
    private bool _stopping;
    private bool _fsyncRequested;
    private AofRewrite? _rewrite;
    private bool _rewriteSwitchReady;
    private FileStream? _testReplacement;

    // Owned by the writer thread (read by others through volatile fields).
    private byte[] _carry = new byte[InitialBufferBytes];
    private int _carryUsed;
    private FileStream _file;
    private long _fileOrigin; // file position of append offset 0: position = offset + _fileOrigin
    private long _writtenOffset;
    private long _durableOffset;
    private long _lastFsyncMs;
    private string? _writeError;

    private readonly object _waitersLock = new();

    private readonly List<DurabilityWaiter> _waiters = new();

    private long _currentSize;
    private long _baseSize;

    /// <summary>Opens <paramref name="path"/> (created if missing) for appending at its end and starts the writer thread.</summary>
    /// <param name="options">The settings it reads at each use (<c>appendfsync</c>, <c>auto-aof-rewrite-*</c>), so CONFIG SET applies at once.</param>
    /// <param name="keyspace">The data a rewrite snapshots.</param>
    /// <param name="logger">Where it logs (rewrites, write errors).</param>
    /// <param name="path">The AOF's full path.</param>
    /// <param name="baseSize">Size in bytes of the file's compacted part (INFO <c>aof_base_size</c>, the auto-rewrite base).</param>
    public AppendOnlyFile(ServerOptions options, Keyspace keyspace, ILogger logger, string path, long baseSize)
    {
        _options = options;
        _keyspace = keyspace;
        _log = logger;
        Path = path;
        _file = OpenForAppend(path);
        _fileOrigin = _file.Length;
        _currentSize = _file.Length;
        _baseSize = baseSize;
        _lastFsyncMs = Environment.TickCount64;
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "RespKv AOF writer" };
        _writer.Start();
    }

    /// <summary>The AOF's full path.</summary>
    public string Path { get; }

    /// <summary>How a rewrite writes its data: as an RDB preamble under <c>aof-use-rdb-preamble yes</c> (read at each rewrite), else null (commands).</summary>
    internal Rdb.RdbWriteOptions? Preamble => PreambleFor(_options, _keyspace);

    /// <summary>The RDB preamble options <paramref name="options"/> ask for (<c>aof-use-rdb-preamble</c>, <c>rdbcompression</c>, <c>rdbchecksum</c>), or null.</summary>
    internal static Rdb.RdbWriteOptions? PreambleFor(ServerOptions options, Keyspace keyspace) =>
        options.AofUseRdbPreamble ? Rdb.RdbWriteOptions.From(options, keyspace.Lifetime, aofBase: true) : null;

    /// <summary>The fsync policy in effect (from <c>appendfsync</c>, read for each write so CONFIG SET applies at once).</summary>
    public FsyncPolicy Policy => ParsePolicy(_options.AppendFsync);

    /// <inheritdoc />
    public string? WriteError => Volatile.Read(ref _writeError);

    /// <summary>Bytes appended since this object was created (the append offset).</summary>
    public long AppendOffset
    {
        get
        {
            lock (_sync) return _appendOffset;
        }
    }

    /// <summary>Append offset up to which every record is fsynced.</summary>
    public long DurableOffset => Volatile.Read(ref _durableOffset);

    /// <summary>Size of the file in bytes, as last written (INFO <c>aof_current_size</c>).</summary>
    public long CurrentSize => Volatile.Read(ref _currentSize);

    /// <summary>Size of the file after the last rewrite (INFO <c>aof_base_size</c>).</summary>
    public long BaseSize => Volatile.Read(ref _baseSize);

    /// <summary>Statistics of rewrites (INFO persistence).</summary>
    public AofRewriteStatus RewriteStatus { get; } = new();

    /// <summary>Parses an <c>appendfsync</c> value (already validated by the settings table).</summary>
    public static FsyncPolicy ParsePolicy(string value) => value switch
    {
        "always" => FsyncPolicy.Always,
        "no" => FsyncPolicy.No,
        _ => FsyncPolicy.EverySec,
    };

    /// <summary>
    /// The end offset of the last record appended on this thread since <see cref="ResetThreadAppendEnd"/> (0 when none):
    /// a session brackets one synchronous batch of commands with the two calls to learn what it must wait for.
    /// </summary>
    public static long ThreadAppendEnd => t_appendEnd;

    /// <summary>
    /// True on an AOF writer thread. The sessions a write (or fsync) releases continue there until they have sent their
    /// replies; a session must not run further commands on it (the writer would stop committing meanwhile, and a command
    /// that waits for the writer, such as SHUTDOWN's flush, would wait for itself).
    /// </summary>
    public static bool IsWriterThread => t_isWriter;

    /// <summary>Forgets <see cref="ThreadAppendEnd"/>, at the start of a batch.</summary>
    public static void ResetThreadAppendEnd() => t_appendEnd = 0;

    /// <inheritdoc />
    public void Append(PropagationBuffer records)
    {
        int count = records.Count;
        if (count == 0) return;
        bool wrap = count > 1 || records.IsTransaction;
        lock (_sync)
        {
            if (wrap)
            {
                SelectLocked(records.DatabaseIndex(0));
                AppendLocked("*1\r\n$5\r\nMULTI\r\n"u8);
            }
            for (int i = 0; i < count; i++)
            {
                SelectLocked(records.DatabaseIndex(i));
                AppendLocked(records.Record(i));
            }
            if (wrap) AppendLocked("*1\r\n$4\r\nEXEC\r\n"u8);
            t_appendEnd = _appendOffset;
            // Under always wake the writer thread now: on another core its write and fsync overlap the rest of the
            // batch. Under everysec and no the session's WaitAsync wakes it at the end of its batch (one wake-up per
            // batch rather than per command).
            if (Policy == FsyncPolicy.Always) WakeWriterLocked();
        }
    }

    /// <inheritdoc />
    public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key)
    {
        lock (_sync)
        {
            SelectLocked(databaseIndex);
            AppendRecordLocked(_framing.Begin(databaseIndex, 2).Arg("DEL"u8).Arg(key));
            t_appendEnd = _appendOffset;
            // Written by the session's batch end when a command expired it, else by the writer thread within
            // its 250 ms poll (no client waits for an expiry's record).
        }
    }

    /// <inheritdoc />
    public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field)
    {
        lock (_sync)
        {
            SelectLocked(databaseIndex);
            AppendRecordLocked(_framing.Begin(databaseIndex, 3).Arg("HDEL"u8).Arg(key).Arg(field));
            t_appendEnd = _appendOffset;
        }
    }

    /// <summary>Encodes the log's own records (SELECT, an expired key's DEL) with the one RESP multibulk encoder. Guarded by _sync.</summary>
    private readonly PropagationBuffer _framing = new();

    private void SelectLocked(int database)
    {
        if (database == _lastDatabase) return;
        AppendRecordLocked(_framing.Begin(database, 2).Arg("SELECT"u8).Arg(database));
        _lastDatabase = database;
    }

    /// <summary>Appends the one record just built in <paramref name="record"/> (<see cref="_framing"/>) and clears it.</summary>
    private void AppendRecordLocked(PropagationBuffer record)
    {
        AppendLocked(record.AllRecords);
        record.Clear();
    }

    private void AppendLocked(ReadOnlySpan<byte> bytes)
    {
        if (_pendingUsed + bytes.Length > _pending.Length)
            Array.Resize(ref _pending, Math.Max(_pendingUsed + bytes.Length, _pending.Length * 2));
        bytes.CopyTo(_pending.AsSpan(_pendingUsed));
        _pendingUsed += bytes.Length;
        _appendOffset += bytes.Length;
    }

    private void WakeWriterLocked()
    {
        if (!_writerWaiting) return;
        _writerWaiting = false;
        Monitor.PulseAll(_sync);
    }

    private bool Covered(long offset, bool fsync) =>
        (fsync ? Volatile.Read(ref _durableOffset) : Volatile.Read(ref _writtenOffset)) >= offset;

    /// <summary>
    /// The end of a session's batch, before its replies are flushed (Redis's <c>beforeSleep</c> → <c>flushAppendOnlyFile</c>):
    /// completes when every record up to append offset <paramref name="offset"/> is written to the file — and fsynced
    /// under <see cref="FsyncPolicy.Always"/> — at once when it already is. Otherwise it wakes the writer thread, which
    /// writes everything pending from every connection with one write (group commit) and then continues this session on
    /// its own thread (<see cref="DurabilityWaiter"/>). Uses the session's reusable <paramref name="waiter"/> (no
    /// allocation per wait). Faults with <see cref="ObjectDisposedException"/> when the log is closed before that happens.
    /// </summary>
    public ValueTask WaitAsync(long offset, DurabilityWaiter waiter)
    {
        bool fsync = Policy == FsyncPolicy.Always;
        if (Covered(offset, fsync)) return ValueTask.CompletedTask;
        waiter.Prepare(offset, fsync);
        lock (_waitersLock)
        {
            if (Covered(offset, fsync)) return ValueTask.CompletedTask;
            _waiters.Add(waiter);
        }
        lock (_sync)
        {
            _fsyncRequested |= fsync;
            _writeRequested = true;
            WakeWriterLocked();
        }
        return waiter.Task;
    }

    /// <summary>
    /// Writes and fsyncs everything appended so far, blocking up to <paramref name="timeout"/> (SHUTDOWN, SIGTERM,
    /// tests). Returns false when it could not (a write error, or the timeout).
    /// </summary>
    public bool Flush(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            long target = _appendOffset;
            while (Volatile.Read(ref _durableOffset) < target)
            {
                if (_stopping && !_writer.IsAlive) return false;
                _fsyncRequested = true;
                WakeWriterLocked();
                long left = deadline - Environment.TickCount64;
                if (left <= 0) return false;
                Monitor.Wait(_sync, (int)Math.Min(left, 100));
            }
            return true;
        }
    }

    /// <summary>
    /// Starts a background rewrite (BGREWRITEAOF, automatic rewrite). Returns false when one is already in
    /// progress. Takes a consistent snapshot first (every shard of every database locked briefly).
    /// </summary>
    public bool StartRewrite()
    {
        lock (_sync)
        {
            if (_rewrite != null || _stopping) return false;
            _rewrite = new AofRewrite(this);
        }
        RewriteStatus.Started();
        AofRewrite rewrite = _rewrite;
        // The snapshot holds every shard lock: taken on the caller's thread would deadlock a caller holding
        // some (a command handler); the writing itself is long. Both run on a pool thread.
        _ = Task.Run(rewrite.Run);
        return true;
    }

    /// <summary>True while a rewrite runs.</summary>
    public bool RewriteInProgress
    {
        get
        {
            lock (_sync) return _rewrite != null;
        }
    }

    /// <summary>
    /// Takes the rewrite's snapshot: locks every shard of every database, collects their entries, and returns the
    /// append offset and last selected database at that instant (no append is in flight while every shard is locked).
    /// </summary>
    internal (long Offset, int Database) MarkSnapshot(KeyspaceSnapshot snapshot)
    {
        var locks = new Storage.TransactionLocks();
        locks.AddEveryDatabase(_keyspace);
        locks.Acquire();
        try
        {
            snapshot.Collect(_keyspace);
            lock (_sync) return (_appendOffset, _lastDatabase);
        }
        finally
        {
            locks.Release();
        }
    }

    /// <summary>Hands the rewrite's finished temporary file to the writer thread, which switches to it.</summary>
    internal void RequestSwitch()
    {
        lock (_sync)
        {
            _rewriteSwitchReady = true;
            _writerWaiting = false;
            Monitor.PulseAll(_sync);
        }
    }

    /// <summary>Ends a failed rewrite (its temporary file is already removed).</summary>
    internal void RewriteFailed(Exception e)
    {
        _log.LogWarning("Background AOF rewrite failed: {Reason}", e.Message);
        RewriteStatus.Finished(ok: false);
        lock (_sync)
        {
            _rewrite = null;
            _rewriteSwitchReady = false;
        }
    }

    /// <summary>Copies the old file's bytes from append offset <paramref name="from"/> to <paramref name="to"/> into <paramref name="target"/>.</summary>
    internal void CopyTail(long from, long to, Stream target)
    {
        if (to <= from) return;
        using var reader = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        reader.Position = from + _fileOrigin;
        long left = to - from;
        byte[] chunk = new byte[1 << 16];
        while (left > 0)
        {
            int n = reader.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (n <= 0) throw new IOException("The append-only file is shorter than expected during the rewrite");
            target.Write(chunk, 0, n);
            left -= n;
        }
    }

    /// <summary>Append offset written to the file (volatile; the rewrite copies the tail up to it before the switch).</summary>
    internal long WrittenOffset => Volatile.Read(ref _writtenOffset);

    /// <summary>
    /// Test seam: makes the writer write to <paramref name="stream"/> (e.g. <c>/dev/full</c>, whose writes fail with
    /// ENOSPC) instead of the file, or back to the file when null. A real failure of a real device.
    /// </summary>
    internal void ReplaceStreamForTesting(FileStream? stream)
    {
        lock (_sync)
        {
            _testReplacement = stream;
            _fsyncRequested = true;
            WakeWriterLocked();
        }
    }

    private void WriterLoop()
    {
        t_isWriter = true;
        while (true)
        {
            bool syncNow, switchNow, stopping;
            lock (_sync)
            {
                while (true)
                {
                    bool failing = _writeError != null;
                    bool retryDue = Environment.TickCount64 - _lastFsyncMs >= RetryMs;
                    if (failing ? retryDue : (_pendingUsed > 0 || _writeRequested || _fsyncRequested || (_writerHasUnsynced && EverySecDue()))) break;
                    if (_rewriteSwitchReady || _stopping) break;
                    _writerWaiting = true;
                    Monitor.Wait(_sync, RetryMs / 4);
                    _writerWaiting = false;
                }
                stopping = _stopping;
                syncNow = _fsyncRequested || stopping;
                _fsyncRequested = false;
                _writeRequested = false;
                switchNow = _rewriteSwitchReady;
                _rewriteSwitchReady = false;
            }
            // Let the socket threads run first (they may share this CPU): the other connections' requests that are
            // already readable append their records too and join this write and fsync (group commit).
            Thread.Yield();
            bool ok = WriteLocked(out long end);
            if (ok && (_writerHasUnsynced || _writeError != null) && (syncNow || Policy == FsyncPolicy.Always || EverySecDue()))
            {
                // everysec's once-a-second fsync: the sessions this write released wait for the write only.
                if (Policy != FsyncPolicy.Always) ResumeReleased();
                ok = SyncLocked(_activeReplacement, end);
            }
            else if (ok && !_writerHasUnsynced) SetDurable(end);
            if (switchNow)
            {
                if (ok) SwitchToRewritten();
                else RequestSwitchLater();
            }
            ResumeReleased();
            lock (_sync)
            {
                Monitor.PulseAll(_sync); // Flush() waiters
                if (stopping && _pendingUsed == 0 && _carryUsed == 0 && !_writerHasUnsynced) break;
                if (stopping && _giveUp) break;
            }
            MaybeAutoRewrite();
        }
        ReleaseAllWaiters(new ObjectDisposedException(nameof(AppendOnlyFile), "The append-only file was closed"));
    }

    private bool _writerHasUnsynced;
    private bool _giveUp;
    private bool _writeRequested;

    /// <summary>The stream writes go to instead of the file (test seam), as of the last <see cref="WriteLocked"/>.</summary>
    private FileStream? _activeReplacement;

    private bool EverySecDue() => Policy == FsyncPolicy.EverySec && Environment.TickCount64 - _lastFsyncMs >= RetryMs;

    /// <summary>
    /// Writer thread: takes everything pending (swapping buffers, or appending it after bytes a failed write
    /// left behind) and writes it; on failure truncates the file back and keeps the bytes for the retry.
    /// <paramref name="end"/> is the append offset the file then holds.
    /// </summary>
    private bool WriteLocked(out long end)
    {
        lock (_sync)
        {
            int used = _pendingUsed;
            if (used > 0)
            {
                if (_carryUsed == 0) (_carry, _pending) = (_pending, _carry);
                else
                {
                    if (_carryUsed + used > _carry.Length) Array.Resize(ref _carry, _carryUsed + used);
                    _pending.AsSpan(0, used).CopyTo(_carry.AsSpan(_carryUsed));
                }
                _carryUsed += used;
                _pendingUsed = 0;
                if (_pending.Length > RetainedBufferBytes) _pending = new byte[InitialBufferBytes];
            }
            end = _appendOffset;
            _activeReplacement = _testReplacement;
        }
        if (_carryUsed == 0) return true; // nothing to write (a failed fsync is retried by the caller)
        FileStream? replacement = _activeReplacement;
        FileStream target = replacement ?? _file;
        long before = replacement == null ? _file.Position : 0; // an append-mode stream's position is its length, kept in memory (no fstat)
        try
        {
            target.Write(_carry, 0, _carryUsed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            TruncateBack(target, before);
            Fail("write", e);
            return false;
        }
        Volatile.Write(ref _currentSize, _file.Position);
        _writerHasUnsynced = true;
        _carryUsed = 0;
        if (_carry.Length > RetainedBufferBytes) _carry = new byte[InitialBufferBytes];
        // Under "always" the bytes only count once fsynced: SyncLocked clears the error then.
        if (Policy != FsyncPolicy.Always) ClearError();
        SetWritten(end);
        return true;
    }

    private void TruncateBack(FileStream target, long length)
    {
        try
        {
            if (ReferenceEquals(target, _file)) target.SetLength(length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            _log.LogWarning("Could not truncate the append-only file back to {Length} bytes after a failed write: {Reason}", length, e.Message);
        }
    }

    private bool SyncLocked(FileStream? replacement, long end)
    {
        try
        {
            FileSync.DataSync(replacement ?? _file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Fail("fsync", e);
            return false;
        }
        _lastFsyncMs = Environment.TickCount64;
        _writerHasUnsynced = false;
        ClearError();
        SetDurable(end);
        return true;
    }

    /// <summary>Every record up to <paramref name="end"/> is written: releases the sessions waiting only for that (everysec, no).</summary>
    private void SetWritten(long end)
    {
        Volatile.Write(ref _writtenOffset, end);
        Release(end, durable: false);
    }

    /// <summary>Every record up to <paramref name="end"/> is fsynced: releases every session waiting for it.</summary>
    private void SetDurable(long end)
    {
        if (end > Volatile.Read(ref _writtenOffset)) Volatile.Write(ref _writtenOffset, end);
        Volatile.Write(ref _durableOffset, end);
        Release(end, durable: true);
    }

    private void Release(long end, bool durable)
    {
        lock (_waitersLock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                DurabilityWaiter w = _waiters[i];
                if (w.Target > end || (w.NeedsFsync && !durable)) continue;
                _waiters[i] = _waiters[^1];
                _waiters.RemoveAt(_waiters.Count - 1);
                _released.Add(w);
            }
        }
    }

    /// <summary>Sessions released by the last write or fsync, not yet resumed. Writer thread only.</summary>
    private readonly List<DurabilityWaiter> _released = new();

    /// <summary>
    /// Writer thread, after the write or fsync that released them: continues each released session on this thread, a
    /// whole group in one pass with no thread hop per acknowledged write — each flushes its replies to its socket, as
    /// Redis's event loop sends replies right after <c>beforeSleep</c>'s fsync. A session then leaves this thread before
    /// running further commands (<see cref="IsWriterThread"/>).
    /// </summary>
    private void ResumeReleased()
    {
        for (int i = 0; i < _released.Count; i++) _released[i].Complete(null, inline: true);
        _released.Clear();
    }

    private void ReleaseAllWaiters(Exception error)
    {
        lock (_waitersLock)
        {
            foreach (DurabilityWaiter w in _waiters) w.Complete(error);
            _waiters.Clear();
        }
    }

    private void Fail(string operation, Exception e)
    {
        string reason = ErrorText(e);
        if (_writeError == null)
            _log.LogWarning("Error {Operation} to the AOF file: {Reason}; write commands are refused (MISCONF) until it succeeds", operation == "write" ? "writing" : "fsyncing", reason);
        Volatile.Write(ref _writeError, reason);
        _lastFsyncMs = Environment.TickCount64; // next retry in RetryMs
        RewriteStatus.LastWriteOk = false;
        if (_stopping) _giveUp = true;
    }

    private void ClearError()
    {
        if (_writeError == null) return;
        _log.LogWarning("AOF write error looks solved, RespKv can write again.");
        Volatile.Write(ref _writeError, null);
        RewriteStatus.LastWriteOk = true;
    }

    /// <summary>The C library's strerror text for an I/O exception when recognisable (e.g. <c>No space left on device</c>), else its message.</summary>
    internal static string ErrorText(Exception e)
    {
        string m = e.Message;
        int cut = m.IndexOf(" : '", StringComparison.Ordinal);
        if (cut > 0) m = m[..cut];
        return m.TrimEnd('.', ' ');
    }

    private void RequestSwitchLater()
    {
        lock (_sync) _rewriteSwitchReady = true;
    }

    /// <summary>Writer thread: completes a rewrite by copying the records appended since its snapshot and renaming.</summary>
    private void SwitchToRewritten()
    {
        AofRewrite rewrite;
        lock (_sync) rewrite = _rewrite!;
        long written = Volatile.Read(ref _writtenOffset);
        FileStream? next = null;
        try
        {
            next = rewrite.OpenTempForAppend();
            CopyTail(rewrite.CopiedUpTo, written, next);
            next.Flush(flushToDisk: true);
            long newLength = next.Length;
            File.Move(rewrite.TempPath, Path, overwrite: true);
            FileSync.FsyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
            FileStream old = _file;
            _file = next;
            _fileOrigin = newLength - written;
            old.Dispose();
            Volatile.Write(ref _currentSize, newLength);
            Volatile.Write(ref _baseSize, rewrite.BaseBytes);
            _log.LogInformation("Background AOF rewrite finished successfully: {Bytes} bytes ({Tail} bytes appended during the rewrite)", newLength, written - rewrite.Mark);
            RewriteStatus.Finished(ok: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
        {
            next?.Dispose();
            AofSnapshotWriter.TryDelete(rewrite.TempPath);
            RewriteStatus.Finished(ok: false);
            _log.LogWarning("Background AOF rewrite failed while switching files: {Reason}", e.Message);
        }
        lock (_sync) _rewrite = null;
    }

    private long _lastAutoCheckMs;

    /// <summary>Automatic rewrite (<c>auto-aof-rewrite-percentage</c>, <c>auto-aof-rewrite-min-size</c>), checked by the writer at most 10 times a second.</summary>
    private void MaybeAutoRewrite()
    {
        long now = Environment.TickCount64;
        if (now - _lastAutoCheckMs < 100) return;
        _lastAutoCheckMs = now;
        ServerOptions o = _options;
        if (o.AutoAofRewritePercentage <= 0 || _writeError != null) return;
        long current = Volatile.Read(ref _currentSize), baseSize = Math.Max(1, Volatile.Read(ref _baseSize));
        if (current < o.AutoAofRewriteMinSize) return;
        long growth = current * 100 / baseSize - 100;
        if (growth < o.AutoAofRewritePercentage) return;
        if (RewriteInProgress) return;
        _log.LogInformation("Starting automatic rewriting of AOF on {Growth}% growth", growth);
        StartRewrite();
    }

    /// <summary>Writes and fsyncs what is pending, stops the writer thread and closes the file.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_stopping) return;
            _stopping = true;
            Monitor.PulseAll(_sync);
        }
        if (!_writer.Join(TimeSpan.FromSeconds(10)))
            _log.LogWarning("The AOF writer did not stop within 10 s");
        _file.Dispose();
    }

    private static FileStream OpenForAppend(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);

    /// <summary>Opens a file for appending with the same sharing as the AOF (used by the rewrite's temporary file).</summary>
    internal static FileStream OpenAppend(string path) => OpenForAppend(path);

    /// <summary>Where this log writes its messages.</summary>
    internal ILogger Logger => _log;
}

/// <summary>
/// A session's reusable wait for the AOF's durable offset (<see cref="AppendOnlyFile.WaitAsync"/>): one
/// per session, reset per wait, so waiting allocates nothing. Continuations run on the AOF writer thread when it
/// releases them (after leaving its locks), else on the thread pool.
/// </summary>
public sealed class DurabilityWaiter : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    /// <summary>The append offset waited for.</summary>
    internal long Target { get; private set; }

    /// <summary>True when the wait is for the fsync (always), not only the write.</summary>
    internal bool NeedsFsync { get; private set; }

    internal void Prepare(long target, bool fsync)
    {
        _core.Reset();
        Target = target;
        NeedsFsync = fsync;
    }

    internal ValueTask Task => new(this, _core.Version);

    /// <param name="error">Null for success, else the exception the wait faults with.</param>
    /// <param name="inline">True to run the session's continuation on the calling thread (the AOF writer, holding no
    /// lock), false to queue it to the thread pool.</param>
    internal void Complete(Exception? error, bool inline = false)
    {
        _core.RunContinuationsAsynchronously = !inline;
        if (error == null) _core.SetResult(true);
        else _core.SetException(error);
    }

    /// <inheritdoc />
    public void GetResult(short token) => _core.GetResult(token);

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>Rewrite and write-status counters for INFO persistence (Redis's <c>aof_*</c> fields).</summary>
public sealed class AofRewriteStatus
{
    private long _startedTicks;

    /// <summary>True when the last rewrite succeeded (or none ran): <c>aof_last_bgrewrite_status:ok|err</c>.</summary>
    public bool LastRewriteOk { get; private set; } = true;

    /// <summary>False while the last write or fsync failed: <c>aof_last_write_status:ok|err</c>.</summary>
    public bool LastWriteOk { get; internal set; } = true;

    /// <summary>Seconds the last rewrite took, or -1: <c>aof_last_rewrite_time_sec</c>.</summary>
    public long LastRewriteSeconds { get; private set; } = -1;

    /// <summary>Seconds the running rewrite has taken, or -1: <c>aof_current_rewrite_time_sec</c>.</summary>
    public long CurrentRewriteSeconds
    {
        get
        {
            long started = Volatile.Read(ref _startedTicks);
            return started == 0 ? -1 : (long)Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
    }

    /// <summary>Rewrites completed or failed (<c>aof_rewrites</c>).</summary>
    public long Rewrites { get; private set; }

    /// <summary>Rewrites that failed since the last successful one (<c>aof_rewrites_consecutive_failures</c>).</summary>
    public long ConsecutiveFailures { get; private set; }

    internal void Started() => Volatile.Write(ref _startedTicks, Stopwatch.GetTimestamp());

    internal void Finished(bool ok)
    {
        long started = Interlocked.Exchange(ref _startedTicks, 0);
        LastRewriteSeconds = started == 0 ? 0 : (long)Stopwatch.GetElapsedTime(started).TotalSeconds;
        LastRewriteOk = ok;
        ConsecutiveFailures = ok ? 0 : ConsecutiveFailures + 1;
        Rewrites++;
    }
}
