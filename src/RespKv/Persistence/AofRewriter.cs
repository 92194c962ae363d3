using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage.Kinds;
using RespKv.Storage;

namespace RespKv.Persistence;

/// <summary>
/// The keyspace's entries at one instant, per database: collected while every shard is locked (values of a kind mutated in
/// place are copied: a deep copy, or a hash's O(1) frozen copy), so they can be written out after the locks are released. From <see cref="Collect"/> until
/// <see cref="Release"/> — which the writers (<see cref="Rdb.RdbFileWriter.Write"/>, <see cref="AofSnapshotWriter.Write"/>)
/// call when they are done, and a finalizer calls for a snapshot never written — the keyspace replaces nodes instead of
/// swapping strings into them (<see cref="KeyLifetime.SnapshotHeld"/>), so the collected nodes keep this instant's values.
/// </summary>
internal sealed class KeyspaceSnapshot
{
    private List<KeyEntry>[] _databases = [];

    /// <summary>The keyspace clock whose snapshot hold this snapshot has taken, until <see cref="Release"/>.</summary>
    private KeyLifetime? _held;

    /// <summary>Ends this snapshot's hold on the keyspace (idempotent): its entries may change in place from now on.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _held, null) is { } lifetime)
        {
            lifetime.ReleaseSnapshot();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>A snapshot dropped without being written (an error before its writer ran) releases its hold here.</summary>
    ~KeyspaceSnapshot() => Release();

    /// <summary>Entries of database <paramref name="index"/>.</summary>
    public List<KeyEntry> this[int index] => _databases[index];

    /// <summary>Number of databases.</summary>
    public int DatabaseCount => _databases.Length;

    /// <summary>Entries collected, in every database (expired ones included).</summary>
    public long KeyCount
    {
        get
        {
            long n = 0;
            foreach (List<KeyEntry> list in _databases) n += list.Count;
            return n;
        }
    }

    /// <summary>The keyspace clock's time at <see cref="Collect"/>, in Unix ms: keys whose expiry is at or before it are left out.</summary>
    public long NowMs { get; private set; }

    /// <summary>Estimated bytes of the data at <see cref="Collect"/> (<see cref="Keyspace.MemoryBytes"/>; the RDB aux field <c>used-mem</c>).</summary>
    public long UsedMemory { get; private set; }

    /// <summary>The code of each function library at <see cref="Collect"/> (<see cref="Keyspace.FunctionLibraries"/>).</summary>
    public IReadOnlyList<byte[]> FunctionLibraries { get; private set; } = [];

    /// <summary>
    /// <paramref name="entry"/> as it is now: itself when its value is immutable; a node holding a copy
    /// (<see cref="ValueKind.Copy"/>: a deep copy, or a hash's frozen tree shared in O(1)) when its kind is <see cref="ValueKind.MutatedInPlace"/>, since the snapshot is written
    /// out after the locks are released and later writes (also copied to the new file) must not show in it.
    /// </summary>
    private static KeyEntry Frozen(KeyEntry entry)
    {
        if (entry.Value is byte[]) return entry;
        ValueKind kind = entry.Kind;
        return kind.MutatedInPlace ? new KeyEntry(entry.Key, entry.Hash, kind.Copy(entry.Value), entry.ExpireAtMs, null) : entry;
    }

    /// <summary>
    /// A snapshot collected under every shard lock of every database (<see cref="TransactionLocks"/>: writes wait, lock-free
    /// reads go on); <paramref name="whileLocked"/>, when given, runs before the locks are released (to read state that must
    /// belong to the same instant, e.g. a replication offset or change counters). Takes time proportional to the key count.
    /// </summary>
    public static KeyspaceSnapshot CollectLocked(Keyspace keyspace, Action? whileLocked = null)
    {
        var snapshot = new KeyspaceSnapshot();
        var locks = new TransactionLocks();
        locks.AddEveryDatabase(keyspace);
        locks.Acquire();
        try
        {
            snapshot.Collect(keyspace);
            whileLocked?.Invoke();
        }
        finally
        {
            locks.Release();
        }
        return snapshot;
    }

    /// <summary>Collects every entry (the caller holds every shard lock, or nothing else runs).</summary>
    public void Collect(Keyspace keyspace)
    {
        if (_held == null)
        {
            keyspace.Lifetime.HoldSnapshot();
            _held = keyspace.Lifetime;
        }
        NowMs = keyspace.Lifetime.NowMs;
        UsedMemory = keyspace.MemoryBytes;
        FunctionLibraries = keyspace.FunctionLibraries?.Invoke() ?? [];
        _databases = new List<KeyEntry>[keyspace.DatabaseCount];
        for (int d = 0; d < keyspace.DatabaseCount; d++)
        {
            Database db = keyspace[d];
            var list = new List<KeyEntry>((int)Math.Min(db.Count, int.MaxValue / 2));
            foreach (KeyspaceShard shard in db.Shards) shard.ForEach(ref list, static (ref List<KeyEntry> l, KeyEntry e) => l.Add(Frozen(e)));
            _databases[d] = list;
        }
    }
}

/// <summary>
/// Writes a compacted AOF (Redis's <c>rewriteAppendOnlyFileRio</c> without the RDB preamble): first <c>FUNCTION LOAD code</c>
/// per function library (Redis's <c>rewriteFunctions</c>), then per non-empty database
/// <c>SELECT db</c>, then per key the commands its <see cref="ValueKind.Rewrite"/> emits (<c>SET key value</c> for a
/// string, <c>HSET key f v …</c> in chunks of 64 pairs for a hash), and <c>PEXPIREAT key ms</c> after them when the key
/// has an expiry. Keys already expired are skipped; a value of an unregistered kind fails the rewrite.
/// </summary>
internal static class AofSnapshotWriter
{
    /// <summary>
    /// Writes <paramref name="snapshot"/> to <paramref name="output"/>; ends with <c>SELECT <paramref name="finalDatabase"/></c>
    /// when that is not the last database selected (records appended afterwards assume it). Returns keys written. With
    /// <paramref name="preamble"/> (<c>aof-use-rdb-preamble yes</c>) the data is written as an RDB file instead
    /// (<see cref="Rdb.RdbFileWriter"/>, aux <c>aof-base</c> 1), as Redis's <c>rewriteAppendOnlyFile</c> with the preamble.
    /// Releases the snapshot when it ends (<see cref="KeyspaceSnapshot.Release"/>).
    /// </summary>
    public static long Write(KeyspaceSnapshot snapshot, Stream output, int finalDatabase, Rdb.RdbWriteOptions? preamble = null)
    {
        try
        {
            return WriteEntries(snapshot, output, finalDatabase, preamble);
        }
        finally
        {
            snapshot.Release();
        }
    }

    private static long WriteEntries(KeyspaceSnapshot snapshot, Stream output, int finalDatabase, Rdb.RdbWriteOptions? preamble)
    {
        if (preamble != null && (!output.CanSeek || HasRdbForm(snapshot)))
        {
            // aof-use-rdb-preamble yes: the data as an RDB file (aux aof-base 1), then AOF records from database 0 on (the
            // replay client starts there; the RDB's SELECTDB opcodes do not move it).
            long written = Rdb.RdbFileWriter.Write(snapshot, output, preamble with { AofBase = true }).Keys;
            if (finalDatabase > 0)
            {
                var tail = new RecordWriter(output);
                tail.Select(finalDatabase);
                tail.Flush();
            }
            return written;
        }
        var w = new RecordWriter(output);
        long nowMs = snapshot.NowMs;
        long keys = 0;
        int selected = -1;
        foreach (byte[] code in snapshot.FunctionLibraries)
        {
            w.Begin(3).Arg("FUNCTION"u8).Arg("LOAD"u8).Arg(code);
            w.EndRecord();
        }
        for (int d = 0; d < snapshot.DatabaseCount; d++)
        {
            List<KeyEntry> entries = snapshot[d];
            if (entries.Count == 0) continue;
            w.Select(d);
            selected = d;
            foreach (KeyEntry e in entries)
            {
                if (e.ExpireAtMs != 0 && e.ExpireAtMs <= nowMs) continue;
                keys++;
                e.Kind.Rewrite(e.Key, e.Value, w);
                if (e.ExpireAtMs != 0)
                {
                    w.Begin(3).Arg("PEXPIREAT"u8).Arg(e.Key).Arg(e.ExpireAtMs);
                    w.EndRecord();
                }
            }
        }
        if (finalDatabase >= 0 && finalDatabase != selected) w.Select(finalDatabase);
        w.Flush();
        return keys;
    }

    /// <summary>
    /// True when every value in <paramref name="snapshot"/> has an RDB form (<see cref="ValueKind.HasRdbForm"/>); a kind
    /// registered without one (a test's toy kind) makes the rewrite write commands even under <c>aof-use-rdb-preamble yes</c>,
    /// as its <see cref="ValueKind.Rewrite"/> can.
    /// </summary>
    private static bool HasRdbForm(KeyspaceSnapshot snapshot)
    {
        for (int d = 0; d < snapshot.DatabaseCount; d++)
            foreach (KeyEntry e in snapshot[d])
                if (e.Value is not byte[] && !e.Kind.HasRdbForm) return false;
        return true;
    }

    /// <summary>
    /// Writes whole records to the file: each is encoded by a <see cref="PropagationBuffer"/> (the one RESP multibulk
    /// encoder, shared with the write path), and the buffer goes to the stream once it holds about 64 KB of whole records.
    /// </summary>
    private sealed class RecordWriter(Stream output) : IAofRewriteOutput
    {
        private const int FlushBytes = 60 * 1024;
        private readonly PropagationBuffer _records = new();

        /// <summary>Starts a record of <paramref name="argumentCount"/> arguments; add them, then call <see cref="EndRecord"/>.</summary>
        public PropagationBuffer Begin(int argumentCount) => _records.Begin(0, argumentCount);

        /// <summary>Adds one argument to the record being built.</summary>
        public void Arg(ReadOnlySpan<byte> value) => _records.Arg(value);

        /// <summary>After a record's last argument: writes the buffered records out when enough have gathered.</summary>
        public void EndRecord()
        {
            if (_records.AllRecords.Length >= FlushBytes) Flush();
        }

        public void Select(int database)
        {
            Begin(2).Arg("SELECT"u8).Arg(database);
            EndRecord();
        }

        public void Flush()
        {
            output.Write(_records.AllRecords);
            _records.Clear();
        }
    }

    /// <summary>
    /// Writes <paramref name="snapshot"/> to a temporary file beside <paramref name="path"/>, fsyncs it, renames it over
    /// <paramref name="path"/> and fsyncs the directory (start-up rewrite, and BGREWRITEAOF while the AOF is off); with
    /// <paramref name="preamble"/> the data is an RDB preamble (see <see cref="Write"/>).
    /// Returns the keys written and the new file's size in bytes.
    /// </summary>
    public static (long Keys, long Bytes) WriteFile(KeyspaceSnapshot snapshot, string path, Rdb.RdbWriteOptions? preamble = null)
    {
        string temp = TempPathFor(path);
        try
        {
            long keys, bytes;
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                keys = Write(snapshot, file, -1, preamble);
                file.Flush(flushToDisk: true);
                bytes = file.Length;
            }
            File.Move(temp, path, overwrite: true);
            FileSync.FsyncDirectory(Path.GetDirectoryName(path)!);
            return (keys, bytes);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Redis's temporary rewrite name, <c>temp-rewriteaof-bg-PID.aof</c>, beside the AOF.</summary>
    public static string TempPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $"temp-rewriteaof-bg-{Environment.ProcessId}.aof");

    /// <summary>Deletes <paramref name="path"/>, ignoring failure.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// One online rewrite of an <see cref="AppendOnlyFile"/>: snapshot (all shards locked), write the compacted state to a
/// temporary file in the background, copy the records appended meanwhile, then let the AOF's writer thread copy the
/// last few and switch files (<see cref="AppendOnlyFile"/>'s remarks).
/// </summary>
internal sealed class AofRewrite(AppendOnlyFile aof)
{
    /// <summary>The temporary file.</summary>
    public string TempPath { get; } = AofSnapshotWriter.TempPathFor(aof.Path);

    /// <summary>Append offset of the snapshot.</summary>
    public long Mark { get; private set; }

    /// <summary>Append offset up to which the old file's records were already copied to the temporary file.</summary>
    public long CopiedUpTo { get; private set; }

    /// <summary>Size in bytes of the compacted part (the new <c>aof_base_size</c>).</summary>
    public long BaseBytes { get; private set; }

    /// <summary>Runs on a pool thread: snapshot, write, pre-copy the tail, then hand over to the writer thread.</summary>
    public void Run()
    {
        try
        {
            var snapshot = new KeyspaceSnapshot();
            var clock = Stopwatch.StartNew();
            (long mark, int database) = aof.MarkSnapshot(snapshot);
            Mark = mark;
            long pauseMs = clock.ElapsedMilliseconds;
            long keys;
            using (var file = new FileStream(TempPath, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0))
            {
                keys = AofSnapshotWriter.Write(snapshot, file, database, aof.Preamble);
                BaseBytes = file.Length;
                // Most of what was appended meanwhile is copied here, off the writer thread; the rest at the switch.
                long upTo = aof.WrittenOffset;
                aof.CopyTail(mark, upTo, file);
                CopiedUpTo = Math.Max(mark, upTo);
                file.Flush(flushToDisk: true);
            }
            aof.Logger.LogInformation("Background AOF rewrite: {Keys} keys, {Bytes} bytes written; snapshot paused writes for {PauseMs} ms", keys, BaseBytes, pauseMs);
            aof.RequestSwitch();
        }
        catch (Exception e)
        {
            // Any failure ends this rewrite (the old file stays in use), so a later BGREWRITEAOF can start again.
            AofSnapshotWriter.TryDelete(TempPath);
            aof.RewriteFailed(e);
        }
    }

    /// <summary>Opens the temporary file for appending (the writer thread's switch).</summary>
    public FileStream OpenTempForAppend() => AppendOnlyFile.OpenAppend(TempPath);
}
