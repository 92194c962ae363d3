using System.Buffers.Text;
using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Persistence;

/// <summary>A start-up failure of the AOF (corrupt or truncated file, unsupported format): the server must exit 1 with <see cref="Exception.Message"/>.</summary>
public sealed class AofLoadException(string message) : Exception(message);

/// <summary>What a load read: files, bytes, commands replayed, keys in memory afterwards, time taken.</summary>
/// <param name="Files">The files read, in order (none when there was no AOF).</param>
/// <param name="Bytes">Bytes of AOF read (after any truncation).</param>
/// <param name="Commands">Commands replayed.</param>
/// <param name="FailedCommands">Replayed commands that answered an error (ignored, as Redis's loader ignores them).</param>
/// <param name="Keys">Keys in every database after the load.</param>
/// <param name="Elapsed">Time the load took.</param>
/// <param name="Selects">How many of <paramref name="Commands"/> were SELECT.</param>
/// <param name="Truncated">True when a torn tail was cut off.</param>
/// <param name="RdbKeys">Keys loaded from RDB preambles / base files.</param>
public sealed record AofLoadResult(IReadOnlyList<string> Files, long Bytes, long Commands, long FailedCommands, long Keys, TimeSpan Elapsed,
    long Selects, bool Truncated, long RdbKeys = 0)
{
    /// <summary>
    /// True when compacting cannot shrink the file: every command but SELECT created a distinct key that still
    /// exists (no overwrite, delete or transaction), and every key of an RDB preamble still exists, as in a file a rewrite just produced.
    /// </summary>
    public bool AlreadyCompact => !Truncated && FailedCommands == 0 && Commands - Selects + RdbKeys == Keys;
}

/// <summary>
/// Loads an AOF at start-up (Redis's <c>loadAppendOnlyFiles</c>): replays every command through an
/// <see cref="IAofReplayTarget"/> — the server's normal executor with the write log off, its replies discarded. Sources, in order of preference: RespKv's single file <c>dir/appendfilename</c>; else a redis-server 7.0
/// directory <c>dir/appendonlydir/</c> whose manifest <c>appendfilename.manifest</c> lists a base file and incr files
/// (loaded base first, then the incr files in manifest order). A file that starts with <c>REDIS</c> (a Redis 7.0
/// <c>.base.rdb</c>, or an <c>aof-use-rdb-preamble</c> file of RespKv or Redis 4–6) is read as an RDB file
/// (<see cref="Rdb.RdbFileLoader"/>), then as AOF records from where the RDB ends.
/// <para>
/// Recovery (Redis's rules): a record cut short by the end of the last file (a torn write) is dropped — with
/// <c>aof-load-truncated yes</c> the file is truncated at the last whole record (a <c>MULTI</c> without its
/// <c>EXEC</c> is dropped whole), logged with the offset and bytes dropped; with <c>no</c> the load fails.
/// Malformed bytes anywhere, or an unknown command, fail the load naming the byte offset.
/// </para>
/// </summary>
public static class AofLoader
{
    /// <summary>Redis 7.0's multi-part AOF directory name (<c>appenddirname</c> default).</summary>
    public const string RedisDirectoryName = "appendonlydir";

    /// <summary>Largest bulk a record may hold (proto-max-bulk-len, 512 MB).</summary>
    private const long MaxBulk = 512L * 1024 * 1024;

    /// <summary>Largest argument count per record (Redis's loader accepts any int; this bounds memory).</summary>
    private const int MaxArgs = 1024 * 1024;

    /// <summary>
    /// The files to load for <paramref name="options"/>, in order (empty when there is no AOF yet). Throws
    /// <see cref="AofLoadException"/> for an unreadable manifest or a missing file.
    /// </summary>
    public static IReadOnlyList<string> FindFiles(ServerOptions options)
    {
        string single = Path.Combine(options.Dir, options.AppendFilename);
        if (File.Exists(single)) return [single];
        string directory = Path.Combine(options.Dir, RedisDirectoryName);
        string manifest = Path.Combine(directory, options.AppendFilename + ".manifest");
        if (!File.Exists(manifest)) return [];
        string? baseFile = null;
        var incr = new List<string>();
        int lineNumber = 0;
        foreach (string raw in File.ReadAllLines(manifest))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            // Redis quotes a name only when it holds spaces or control characters (sdscatrepr); RespKv reads unquoted names.
            string[] parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length % 2 != 0)
                throw new AofLoadException($"Invalid AOF manifest file format: {manifest} line {lineNumber}");
            string? name = null, type = null;
            for (int i = 0; i < parts.Length; i += 2)
            {
                if (parts[i] == "file") name = parts[i + 1];
                else if (parts[i] == "type") type = parts[i + 1];
            }
            if (name == null || type == null || name.Contains('/'))
                throw new AofLoadException($"Invalid AOF manifest file format: {manifest} line {lineNumber}");
            string path = Path.Combine(directory, name);
            switch (type)
            {
                case "b": baseFile = path; break;
                case "i": incr.Add(path); break;
                case "h": break; // history: already superseded
                default: throw new AofLoadException($"Unknown AOF file type '{type}' in manifest {manifest} line {lineNumber}");
            }
        }
        var files = new List<string>();
        if (baseFile != null) files.Add(baseFile);
        files.AddRange(incr);
        foreach (string f in files)
            if (!File.Exists(f)) throw new AofLoadException($"The AOF file {f} listed in {manifest} doesn't exist");
        return files;
    }

    /// <summary>True when <paramref name="file"/> (at its start) begins with <c>REDIS</c>: an RDB preamble; the position is left at 0.</summary>
    private static bool StartsWithRdbPreamble(FileStream file)
    {
        Span<byte> head = stackalloc byte[5];
        bool rdb = file.ReadAtLeast(head, 5, throwOnEndOfStream: false) == 5 && head.SequenceEqual("REDIS"u8);
        file.Position = 0;
        return rdb;
    }

    /// <summary>
    /// Replays <paramref name="files"/> into <paramref name="target"/> (an executor that logs nothing), counting the
    /// keys of <paramref name="keyspace"/> at the end. <paramref name="loadTruncated"/> is <c>aof-load-truncated</c>:
    /// whether a torn tail of the last file is cut off (true) or fails the load (false). Throws
    /// <see cref="AofLoadException"/> on failure. <paramref name="progress"/>, when given, follows the bytes read (INFO's
    /// <c>loading_*</c> fields).
    /// </summary>
    public static AofLoadResult Load(IAofReplayTarget target, Keyspace keyspace, ILogger logger, IReadOnlyList<string> files, bool loadTruncated,
        LoadingProgress? progress = null)
    {
        progress?.Start(files.Sum(f => new FileInfo(f).Length));
        var clock = Stopwatch.StartNew();
        // About 2.5 bytes of keyspace per byte of AOF (LoadGcPause).
        bool noGc = LoadGcPause.Suspend(files.Sum(f => new FileInfo(f).Length), 2.5);
        logger.LogDebug("AOF load: no-GC region {State}", noGc ? "started" : "not available");
        long bytes = 0, commands = 0, selects = 0, rdbKeys = 0;
        bool truncated = false;
        long errorsBefore = target.ErrorsWritten;
        for (int i = 0; i < files.Count; i++)
        {
            FileLoad f = LoadFile(target, logger, files[i], loadTruncated && i == files.Count - 1, i == files.Count - 1, progress, bytes);
            bytes += f.Bytes;
            commands += f.Commands;
            selects += f.Selects;
            rdbKeys += f.RdbKeys;
            truncated |= f.Truncated;
        }
        if (noGc) LoadGcPause.Resume();
        long failed = target.ErrorsWritten - errorsBefore;
        return new AofLoadResult(files, bytes, commands, failed, keyspace.TotalKeys, clock.Elapsed, selects, truncated, rdbKeys);
    }

    private enum Parse { Complete, Incomplete, Malformed }

    private readonly record struct FileLoad(long Bytes, long Commands, long Selects, bool Truncated, long RdbKeys);

    private static FileLoad LoadFile(IAofReplayTarget session, ILogger log, string path, bool truncateTail, bool isLast,
        LoadingProgress? progress, long loadedBefore)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        byte[] buffer = new byte[1 << 20];
        var slices = new ArgSlice[16];
        int start = 0, end = 0;
        long bufferOffset = 0; // file offset of buffer[0]
        long rdbKeys = 0;
        if (StartsWithRdbPreamble(file))
        {
            // An RDB base (Redis 7.0's appendonlydir/*.base.rdb) or preamble (aof-use-rdb-preamble): the data as an RDB file,
            // then AOF records (Redis's loadSingleAppendOnlyFile). Expired keys are kept: the records after it expect them.
            Rdb.RdbLoadResult rdb;
            try
            {
                rdb = session.LoadRdb(file);
            }
            catch (Rdb.RdbLoadException e)
            {
                throw new AofLoadException($"Error reading the RDB preamble of the AOF file {path}, AOF loading aborted: {e.Message}");
            }
            log.LogInformation("Reading RDB base file on AOF loading... {Path}: {Keys} keys", path, rdb.KeysLoaded);
            rdbKeys = rdb.KeysLoaded;
            bufferOffset = rdb.Bytes;
            if (rdb.Trailing.Length > buffer.Length) buffer = new byte[rdb.Trailing.Length * 2];
            rdb.Trailing.Span.CopyTo(buffer);
            end = rdb.Trailing.Length;
        }
        bool eof = false;
        long commands = 0, selects = 0;
        long beforeMulti = -1; // file offset of the open MULTI, or -1
        long validUpTo = 0;
        while (true)
        {
            Parse status = TryParse(buffer.AsSpan(start, end - start), ref slices, out int consumed, out int argc, out int badAt, out string? problem);
            if (status == Parse.Complete)
            {
                long recordOffset = bufferOffset + start;
                var args = new CommandArgs(buffer.AsSpan(start, consumed), slices.AsSpan(0, argc));
                if (!session.IsKnownCommand(args[0]))
                    throw new AofLoadException($"Unknown command '{Encoding.UTF8.GetString(args[0])}' reading the append only file {path} at byte offset {recordOffset}");
                if (args.Count == 1 && args.Is(0, "MULTI"u8)) beforeMulti = recordOffset;
                else if (args.Count == 2 && args.Is(0, "SELECT"u8)) selects++;
                session.Execute(args);
                if (args.Count == 1 && args.Is(0, "EXEC"u8)) beforeMulti = -1;
                commands++;
                start += consumed;
                validUpTo = bufferOffset + start;
                if ((commands & 0xFFF) == 0) session.DropReplies();
                continue;
            }
            if (status == Parse.Malformed)
            {
                long at = bufferOffset + start + badAt;
                throw new AofLoadException($"Bad file format reading the append only file {path} at byte offset {at} (record starting at byte {bufferOffset + start}): {problem}. " +
                    $"Make a backup of the file, then use redis-check-aof --fix {path} to cut it at the last valid record.");
            }
            // Incomplete: read more, or the file ends inside a record.
            if (eof) break;
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                bufferOffset += start;
                end -= start;
                start = 0;
            }
            if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            int n = file.Read(buffer, end, buffer.Length - end);
            if (n == 0) eof = true;
            end += n;
            if (progress != null) progress.LoadedBytes = loadedBefore + bufferOffset + end;
        }
        long fileLength = bufferOffset + end;
        bool tornRecord = end > start;
        bool openMulti = session.InMulti;
        session.DiscardTransaction();
        if (!tornRecord && !openMulti) return new FileLoad(fileLength, commands, selects, false, rdbKeys);
        long cut = openMulti ? beforeMulti : validUpTo;
        string what = openMulti ? "a MULTI without its EXEC" : "a truncated record";
        if (!isLast || !truncateTail)
            throw new AofLoadException($"Unexpected end of file reading the append only file {path} ({what} from byte offset {cut}, {fileLength - cut} bytes). " +
                $"You can: 1) Make a backup of your AOF file, then use redis-check-aof --fix {path}. " +
                "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
        if (openMulti)
        {
            // The commands after MULTI were only queued, never applied: the state already excludes them.
            log.LogWarning("Revert incomplete MULTI/EXEC transaction in AOF file {Path}", path);
        }
        log.LogWarning("!!! Warning: short read while loading the AOF file {Path}!!! ({What})", path, what);
        log.LogWarning("!!! Truncating the AOF {Path} at offset {Offset}, dropping {Dropped} bytes !!!", path, cut, fileLength - cut);
        file.Dispose();
        using (var writable = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            writable.SetLength(cut);
            writable.Flush(flushToDisk: true);
        }
        log.LogWarning("AOF {Path} loaded anyway because aof-load-truncated is enabled", path);
        return new FileLoad(cut, commands, selects, true, rdbKeys);
    }

    /// <summary>
    /// Parses one record <c>*N\r\n($len\r\nbytes\r\n){N}</c> at the start of <paramref name="data"/>: its arguments go to
    /// <paramref name="slices"/> (offsets from the record start). Malformed reports the offset of the bad byte and why.
    /// </summary>
    private static Parse TryParse(ReadOnlySpan<byte> data, ref ArgSlice[] slices, out int consumed, out int argc, out int badAt, out string? problem)
    {
        consumed = 0;
        argc = 0;
        badAt = 0;
        problem = null;
        if (data.IsEmpty) return Parse.Incomplete;
        int pos = 0;
        Parse header = ReadNumber(data, ref pos, (byte)'*', out long count, out badAt, out problem);
        if (header != Parse.Complete) return header;
        if (count < 1 || count > MaxArgs)
        {
            problem = $"invalid argument count {count}";
            return Parse.Malformed;
        }
        if (slices.Length < count) Array.Resize(ref slices, (int)Math.Max(count, slices.Length * 2));
        for (int i = 0; i < count; i++)
        {
            int at = pos;
            Parse bulk = ReadNumber(data, ref pos, (byte)'$', out long length, out badAt, out problem);
            if (bulk != Parse.Complete) return bulk;
            if (length < 0 || length > MaxBulk)
            {
                badAt = at;
                problem = $"invalid bulk length {length}";
                return Parse.Malformed;
            }
            if (data.Length - pos < length + 2) return Parse.Incomplete;
            slices[i] = new ArgSlice(pos, (int)length);
            pos += (int)length;
            if (data[pos] != '\r' || data[pos + 1] != '\n')
            {
                badAt = pos;
                problem = "a bulk string is not followed by CRLF";
                return Parse.Malformed;
            }
            pos += 2;
        }
        consumed = pos;
        argc = (int)count;
        return Parse.Complete;
    }

    /// <summary>Reads <c>{prefix}digits\r\n</c> at <paramref name="pos"/>.</summary>
    private static Parse ReadNumber(ReadOnlySpan<byte> data, ref int pos, byte prefix, out long value, out int badAt, out string? problem)
    {
        value = 0;
        badAt = pos;
        problem = null;
        if (pos >= data.Length) return Parse.Incomplete;
        if (data[pos] != prefix)
        {
            problem = $"expected '{(char)prefix}', found byte 0x{data[pos]:x2}";
            return Parse.Malformed;
        }
        int eol = data[(pos + 1)..].IndexOf((byte)'\r');
        if (eol < 0)
        {
            if (data.Length - pos > 24)
            {
                problem = "a length line is too long";
                return Parse.Malformed;
            }
            return Parse.Incomplete;
        }
        ReadOnlySpan<byte> digits = data.Slice(pos + 1, eol);
        if (!Utf8Parser.TryParse(digits, out value, out int used) || used != digits.Length || digits.Length == 0)
        {
            badAt = pos + 1;
            problem = $"invalid number after '{(char)prefix}'";
            return Parse.Malformed;
        }
        int lf = pos + 1 + eol + 1;
        if (lf >= data.Length) return Parse.Incomplete;
        if (data[lf] != '\n')
        {
            badAt = lf;
            problem = "CR not followed by LF";
            return Parse.Malformed;
        }
        pos = lf + 1;
        return Parse.Complete;
    }
}

/// <summary>
/// Where the AOF loader replays commands: the server's executor, run by a client that is authenticated, logs nothing
/// to the write log and discards its replies (the server makes one, <c>Server.AofReplayClient</c>).
/// </summary>
public interface IAofReplayTarget
{
    /// <summary>True when the command table knows <paramref name="name"/> (an unknown command fails the load).</summary>
    bool IsKnownCommand(ReadOnlySpan<byte> name);

    /// <summary>Runs one command read from the file, as a client's command (MULTI/EXEC included).</summary>
    void Execute(in CommandArgs args);

    /// <summary>Error replies written so far (commands that failed while loading).</summary>
    long ErrorsWritten { get; }

    /// <summary>Lets go of the replies written so far (they are discarded anyway).</summary>
    void DropReplies();

    /// <summary>True while a MULTI read from the file waits for its EXEC.</summary>
    bool InMulti { get; }

    /// <summary>Drops an open MULTI (a file that ends inside a transaction).</summary>
    void DiscardTransaction();

    /// <summary>
    /// Loads an RDB preamble / base file from <paramref name="input"/> (at its start) into the keyspace, function libraries
    /// included, expired keys kept (<see cref="Rdb.RdbFileLoader"/>); throws <see cref="Rdb.RdbLoadException"/>.
    /// </summary>
    Rdb.RdbLoadResult LoadRdb(Stream input);
}
