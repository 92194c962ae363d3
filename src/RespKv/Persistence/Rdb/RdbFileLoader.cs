using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Storage;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// An RDB file that cannot be loaded: not an RDB file, a version above 10, malformed or truncated data, a wrong CRC64, a
/// module's data, a database index beyond <c>databases</c>, a duplicated key, a function library that fails to load.
/// </summary>
/// <param name="offset">Byte offset in the file (from its first byte, the <c>R</c> of <c>REDIS</c>) where the problem was found.</param>
/// <param name="reason">What is wrong (Redis's log text where it has one, e.g. <c>Wrong RDB checksum expected: (…) but got (…)</c>).</param>
public sealed class RdbLoadException(long offset, string reason) : Exception($"Bad RDB file at byte offset {offset}: {reason}")
{
    /// <summary>Byte offset of the problem.</summary>
    public long Offset { get; } = offset;

    /// <summary>What is wrong.</summary>
    public string Reason { get; } = reason;
}

/// <summary>How <see cref="RdbFileLoader.Load"/> loads.</summary>
/// <param name="Server">Encoding thresholds for the loaded values, <c>rdbchecksum</c> (check the trailer or not).</param>
/// <param name="SkipExpired">Keys whose expiry has passed are not loaded (counted in <see cref="RdbLoadResult.KeysExpired"/>): true on a
/// primary loading its own file (Redis's <c>iAmMaster() &amp;&amp; !AOF_PREAMBLE</c>); false for a replica's full sync and an AOF base.</param>
/// <param name="LoadFunction">Loads one function library from its code (shebang included); returns null, or the error that fails the
/// load (Redis: <c>Failed loading library, …</c>). Null: function libraries in the file fail the load.</param>
/// <param name="Logger">Where the notices Redis logs go (version, age, unknown aux fields…); may be null.</param>
/// <param name="AllowDuplicates">A key already in the keyspace is replaced (Redis's <c>RDBFLAGS_ALLOW_DUP</c>, DEBUG RELOAD MERGE);
/// else it fails the load (<c>RDB has duplicated key '…' in DB n</c>).</param>
/// <param name="Progress">Where the bytes read and the file's <c>used-mem</c> are reported (INFO's <c>loading_*</c>), or null.</param>
public sealed record RdbLoadOptions(ServerOptions Server, bool SkipExpired = true, Func<byte[], string?>? LoadFunction = null, ILogger? Logger = null,
    bool AllowDuplicates = false, LoadingProgress? Progress = null);

/// <summary>What an RDB file held besides its keys, and what loading it did.</summary>
/// <param name="Version">The file's RDB version (1 to 10).</param>
/// <param name="Aux">Every aux field, name to value (<c>redis-ver</c>, <c>ctime</c>, <c>repl-id</c>…), last one wins.</param>
/// <param name="ReplId">Aux <c>repl-id</c> when it is 40 characters (as Redis takes it), else null.</param>
/// <param name="ReplOffset">Aux <c>repl-offset</c>, or -1 when absent.</param>
/// <param name="ReplStreamDb">Aux <c>repl-stream-db</c>, or -1 when absent.</param>
/// <param name="KeysLoaded">Keys added (INFO <c>rdb_last_load_keys_loaded</c>).</param>
/// <param name="KeysExpired">Keys skipped as already expired (INFO <c>rdb_last_load_keys_expired</c>).</param>
/// <param name="EmptyKeysSkipped">Keys with an empty value, skipped as Redis skips them (an old Redis bug could write them).</param>
/// <param name="FunctionsLoaded">Function libraries loaded.</param>
/// <param name="Bytes">Bytes of the RDB file, trailer included.</param>
/// <param name="ChecksumChecked">True when the CRC64 trailer was compared (false: <c>rdbchecksum no</c>, a zero trailer, or version &lt; 5).</param>
/// <param name="Trailing">Bytes read from the stream past the RDB file's end (read ahead; the caller handles them first: an AOF tail,
/// a diskless sync's end mark, the replication stream).</param>
public sealed record RdbLoadResult(int Version, IReadOnlyDictionary<string, string> Aux, string? ReplId, long ReplOffset, int ReplStreamDb,
    long KeysLoaded, long KeysExpired, long EmptyKeysSkipped, long FunctionsLoaded, long Bytes, bool ChecksumChecked, ReadOnlyMemory<byte> Trailing);

/// <summary>
/// Loads a whole RDB file (versions 1 to 10) from a forward-only stream into a <see cref="Keyspace"/>, as Redis 7.0's
/// <c>rdbLoadRio</c>: the opcodes <c>AUX</c>, <c>SELECTDB</c>, <c>RESIZEDB</c>, <c>EXPIRETIME</c> (seconds),
/// <c>EXPIRETIME_MS</c>, <c>IDLE</c>/<c>FREQ</c> (applied as <c>objectSetLRUOrLFU</c>: FREQ under an LFU policy, IDLE
/// otherwise), <c>FUNCTION2</c> and the pre-GA <c>FUNCTION</c> (translated to <c>#!engine name=lib\ncode</c> as Redis does),
/// <c>EOF</c> then the CRC64 trailer; every object encoding <see cref="RdbObjectReader"/> reads. <c>MODULE_AUX</c> and module
/// values are refused (<c>no matching module</c>), as a Redis without the module refuses them.
/// <para>
/// Threading: the caller guarantees nothing else changes the keyspace meanwhile (the server is <c>loading</c>: commands answer
/// <c>-LOADING</c>), and normally that it is empty. Each key is inserted under its shard lock, unannounced (no keyspace event).
/// On any failure the keyspace is emptied (<see cref="Keyspace.FlushAll"/>) and <see cref="RdbLoadException"/> (offset, reason)
/// is thrown, so a half-loaded keyspace is never served; function libraries loaded before the failure are the caller's to drop.
/// An I/O exception of the stream propagates the same way (after the flush).
/// </para>
/// </summary>
public static class RdbFileLoader
{
    /// <summary>Loads <paramref name="input"/> into <paramref name="keyspace"/> (see the class summary).</summary>
    public static RdbLoadResult Load(Stream input, Keyspace keyspace, RdbLoadOptions options)
    {
        try
        {
            return LoadCore(new RdbInput(input, options.Progress), keyspace, options);
        }
        catch
        {
            keyspace.FlushAll();
            throw;
        }
    }

    /// <summary>
    /// Loads the file at <paramref name="path"/> (see <see cref="Load"/>) inside a no-GC region (<see cref="LoadGcPause"/>)
    /// of four times its size: an RDB is denser than the keyspace it holds (no RESP framing; LZF-compressed strings).
    /// </summary>
    public static RdbLoadResult LoadFile(string path, Keyspace keyspace, RdbLoadOptions options)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        bool noGc = LoadGcPause.Suspend(file.Length, 4);
        try
        {
            return Load(file, keyspace, options);
        }
        finally
        {
            if (noGc) LoadGcPause.Resume();
        }
    }

    private static RdbLoadResult LoadCore(RdbInput input, Keyspace keyspace, RdbLoadOptions options)
    {
        ILogger? log = options.Logger;
        ReadOnlySpan<byte> magic = input.ReadBytes(9, "reading the RDB header");
        if (!magic[..5].SequenceEqual("REDIS"u8)) throw new RdbLoadException(0, "Wrong signature trying to load DB from file");
        int version = 0;
        foreach (byte b in magic[5..])
        {
            if (b is < (byte)'0' or > (byte)'9') throw new RdbLoadException(5, "Can't handle RDB format version " + Encoding.ASCII.GetString(magic[5..]));
            version = version * 10 + (b - '0');
        }
        if (version is < 1 or > Rdb.Version) throw new RdbLoadException(5, $"Can't handle RDB format version {version}");
        var aux = new Dictionary<string, string>(StringComparer.Ordinal);
        string? replId = null;
        long replOffset = -1;
        int replStreamDb = -1;
        long loaded = 0, expired = 0, empty = 0, functions = 0;
        long expireAt = -1, lfuFrequency = -1, lruIdle = -1;
        long now = keyspace.Lifetime.NowMs;
        Database db = keyspace[0];
        while (true)
        {
            long at = input.Offset;
            byte type = input.ReadByte("reading an opcode");
            switch (type)
            {
                case Rdb.OpcodeExpireTime:
                    expireAt = BinaryPrimitives.ReadInt32LittleEndian(input.ReadBytes(4, "reading an expire time")) * 1000L;
                    continue;
                case Rdb.OpcodeExpireTimeMs:
                    expireAt = BinaryPrimitives.ReadInt64LittleEndian(input.ReadBytes(8, "reading an expire time"));
                    continue;
                case Rdb.OpcodeFreq:
                    lfuFrequency = input.ReadByte("reading an LFU frequency");
                    continue;
                case Rdb.OpcodeIdle:
                    lruIdle = (long)Math.Min(input.ReadLength("reading an LRU idle time"), long.MaxValue);
                    continue;
                case Rdb.OpcodeEof:
                    break;
                case Rdb.OpcodeSelectDb:
                {
                    ulong index = input.ReadLength("reading a database index");
                    if (index >= (ulong)keyspace.DatabaseCount)
                        throw new RdbLoadException(at, $"Data file was created with a Redis server configured to handle more than {keyspace.DatabaseCount} databases (SELECTDB {index})");
                    db = keyspace[(int)index];
                    continue;
                }
                case Rdb.OpcodeResizeDb:
                {
                    // The database's key count sizes its tables before the keys come (Redis's dictExpand); the count of
                    // keys with an expiry needs nothing here.
                    ulong size = input.ReadLength("reading a RESIZEDB hint");
                    input.ReadLength("reading a RESIZEDB hint");
                    db.Reserve(Math.Min((long)Math.Min(size, int.MaxValue), input.MaxKeysLeft));
                    continue;
                }
                case Rdb.OpcodeAux:
                {
                    string key = Encoding.UTF8.GetString(input.ReadString("reading an aux field name"));
                    string value = Encoding.UTF8.GetString(input.ReadString("reading an aux field value"));
                    aux[key] = value;
                    if (key == "used-mem" && options.Progress is { } progress) progress.RdbUsedMemory = CLong(value);
                    ApplyAux(key, value, log, ref replId, ref replOffset, ref replStreamDb);
                    continue;
                }
                case Rdb.OpcodeModuleAux:
                {
                    ulong moduleId = input.ReadLength("reading a module id");
                    throw new RdbLoadException(at, $"The RDB file contains AUX module data I can't load: no matching module '{ModuleName(moduleId)}'");
                }
                case Rdb.OpcodeFunction:
                case Rdb.OpcodeFunction2:
                {
                    byte[] code = type == Rdb.OpcodeFunction2 ? input.ReadString("Failed loading library payload") : ReadPreGaFunction(input);
                    if (options.LoadFunction == null) throw new RdbLoadException(at, "Failed loading library, functions are not available");
                    if (options.LoadFunction(code) is { } error) throw new RdbLoadException(at, "Failed loading library, " + error);
                    functions++;
                    continue;
                }
                default:
                {
                    byte[] key = input.ReadString("reading a key");
                    if (type is Rdb.TypeModule or Rdb.TypeModule2)
                    {
                        ulong moduleId = input.ReadLength("reading a module id");
                        throw new RdbLoadException(at, $"The RDB file contains module data I can't load: no matching module type '{ModuleName(moduleId)}'");
                    }
                    if (type is > Rdb.TypeStreamListpacks2 or 8) throw new RdbLoadException(at, $"Unknown RDB encoding type {type}");
                    long objectAt = input.Offset;
                    object? value = input.ReadObject(type, options.Server, now, out bool emptyValue);
                    if (value == null)
                    {
                        if (!emptyValue)
                            throw new RdbLoadException(objectAt, $"Bad data format: a value of RDB type {type} for key '{Printable(key)}' cannot be read");
                        if (empty++ < 10) log?.LogWarning("rdbLoadObject skipping empty key: {Key}", Printable(key));
                    }
                    else if (options.SkipExpired && expireAt != -1 && expireAt < now) expired++;
                    else
                    {
                        using (db.LockKey(key))
                        {
                            KeySlot slot = db.Locate(key);
                            if (options.AllowDuplicates) db.Remove(key, KeyEvent.Unannounced);
                            // One walk of the key's chain: the insert finds a duplicate itself (it replaced it; the load then
                            // fails, and a failed load empties the keyspace).
                            if (db.SetOwnedKey(slot, key, value, expireAt == -1 ? 0 : expireAt, KeyEvent.Unannounced) != null)
                                throw new RdbLoadException(at, $"RDB has duplicated key '{Printable(key)}' in DB {db.Index}");
                            if ((lfuFrequency >= 0 || lruIdle >= 0) && db.Find(slot, key) is { } entry)
                                keyspace.Lifetime.SetAccessHint(entry, lfuFrequency, lruIdle);
                        }
                        loaded++;
                    }
                    expireAt = lfuFrequency = lruIdle = -1;
                    continue;
                }
            }
            break;
        }
        bool checkedSum = false;
        if (version >= 5)
        {
            ulong expected = input.Checksum;
            long trailerAt = input.Offset;
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(input.ReadBytes(8, "reading the CRC64 checksum"));
            if (options.Server.RdbChecksum && !options.Server.SkipChecksumValidation)
            {
                if (stored == 0) log?.LogWarning("RDB file was saved with checksum disabled: no check performed.");
                else if (stored != expected)
                    throw new RdbLoadException(trailerAt, $"Wrong RDB checksum expected: ({expected:x}) but got ({stored:x}). RDB CRC error");
                else checkedSum = true;
            }
        }
        log?.LogInformation("Done loading RDB, keys loaded: {Loaded}, keys expired: {Expired}.", loaded, expired);
        return new RdbLoadResult(version, aux, replId, replOffset, replStreamDb, loaded, expired, empty, functions, input.Offset, checkedSum, input.Unread());
    }

    private static void ApplyAux(string key, string value, ILogger? log, ref string? replId, ref long replOffset, ref int replStreamDb)
    {
        switch (key.ToLowerInvariant())
        {
            case "repl-stream-db":
                replStreamDb = (int)CLong(value);
                break;
            case "repl-id":
                if (value.Length == 40) replId = value;
                break;
            case "repl-offset":
                replOffset = CLong(value);
                break;
            case "redis-ver":
                log?.LogInformation("Loading RDB produced by version {Version}", value);
                break;
            case "ctime":
                log?.LogInformation("RDB age {Seconds} seconds", Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - CLong(value)));
                break;
            case "used-mem":
                log?.LogInformation("RDB memory usage when created {Mb:F2} Mb", CLong(value) / (1024.0 * 1024));
                break;
            case "aof-preamble":
                if (CLong(value) != 0) log?.LogInformation("RDB has an AOF tail");
                break;
            case "aof-base":
                if (CLong(value) != 0) log?.LogInformation("RDB is base AOF");
                break;
            case "lua":
            case "redis-bits":
                break;
            default:
                if (key.StartsWith('%')) log?.LogInformation("RDB '{Key}': {Value}", key, value);
                else log?.LogDebug("Unrecognized RDB AUX field: '{Key}'", key);
                break;
        }
    }

    /// <summary>C's <c>strtoll(text, NULL, 10)</c>: leading spaces, a sign, digits; 0 when there are none; saturating.</summary>
    private static long CLong(string text)
    {
        int i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        bool negative = i < text.Length && text[i] == '-';
        if (i < text.Length && text[i] is '-' or '+') i++;
        long value = 0;
        for (; i < text.Length && text[i] is >= '0' and <= '9'; i++)
        {
            int digit = text[i] - '0';
            if (value > (long.MaxValue - digit) / 10) return negative ? long.MinValue : long.MaxValue;
            value = value * 10 + digit;
        }
        return negative ? -value : value;
    }

    /// <summary>Redis 7.0 rc1/rc2's function record (<c>rdbFunctionLoad</c> with <c>RDB_OPCODE_FUNCTION</c>), as the code of today's format.</summary>
    private static byte[] ReadPreGaFunction(RdbInput input)
    {
        byte[] name = input.ReadString("Failed loading library name");
        byte[] engine = input.ReadString("Failed loading engine name");
        if (input.ReadLength("Failed loading library description indicator") != 0) input.ReadString("Failed loading library description");
        byte[] blob = input.ReadString("Failed loading library blob");
        return [.. "#!"u8, .. engine, .. " name="u8, .. name, (byte)'\n', .. blob];
    }

    /// <summary>Redis's <c>moduleTypeNameByID</c>: the 9-character module type name in the top 54 bits of a module id.</summary>
    private static string ModuleName(ulong moduleId)
    {
        const string charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var name = new char[9];
        moduleId >>= 10;
        for (int j = 8; j >= 0; j--)
        {
            name[j] = charset[(int)(moduleId & 63)];
            moduleId >>= 6;
        }
        return new string(name);
    }

    /// <summary>A key for an error message: its text, control bytes escaped, at most 128 characters.</summary>
    private static string Printable(byte[] key)
    {
        var text = new StringBuilder();
        foreach (byte b in key.AsSpan(0, Math.Min(key.Length, 128)))
            text.Append(b is >= 32 and < 127 ? ((char)b).ToString() : $"\\x{b:x2}");
        if (key.Length > 128) text.Append("...");
        return text.ToString();
    }
}

/// <summary>
/// The read side of an RDB file over a forward-only stream: a growing buffer (1 MB, doubled while one object needs more),
/// the absolute offset, and the CRC64 of every byte consumed. Objects are parsed with <see cref="RdbReader"/> over what is
/// buffered; a parse that runs out of buffer (<see cref="RdbReader.HitEnd"/>) reads more and starts that object again, so a
/// value costs at most about twice its parse and the buffer holds at most about twice the largest value.
/// </summary>
internal sealed class RdbInput(Stream stream, LoadingProgress? progress = null)
{
    private byte[] _buffer = new byte[1 << 20];
    private int _start, _end;
    private int _checksummed; // _buffer index up to which _crc covers
    private long _base; // stream offset of _buffer[0]
    private bool _eof;
    private readonly Crc64 _crc = Crc64Jones.CreateRunning();

    /// <summary>Offset of the next byte to read.</summary>
    public long Offset => _base + _start;

    /// <summary>
    /// Most keys the rest of the input can hold (each takes at least 3 bytes: type, key length, value), or
    /// <see cref="long.MaxValue"/> when the stream's length is unknown: bounds a <c>RESIZEDB</c> hint.
    /// </summary>
    public long MaxKeysLeft => stream.CanSeek ? Math.Max(0, stream.Length - Offset) / 3 : long.MaxValue;

    /// <summary>The CRC64 of every byte consumed so far.</summary>
    public ulong Checksum
    {
        get
        {
            _crc.Append(_buffer.AsSpan(_checksummed, _start - _checksummed));
            _checksummed = _start;
            return _crc.GetCurrentHashAsUInt64();
        }
    }

    /// <summary>The bytes read from the stream but not consumed.</summary>
    public ReadOnlyMemory<byte> Unread() => _buffer.AsMemory(_start, _end - _start).ToArray();

    /// <summary>Buffers more of the stream: at least as much again as is buffered unconsumed (or 1 MB). False at the stream's end.</summary>
    private bool Fill()
    {
        if (_eof) return false;
        if (_start > 0)
        {
            _crc.Append(_buffer.AsSpan(_checksummed, _start - _checksummed));
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _base += _start;
            _end -= _start;
            _start = 0;
            _checksummed = 0;
        }
        if (_end > _buffer.Length / 2) Array.Resize(ref _buffer, _buffer.Length * 2);
        int target = Math.Min(_buffer.Length, Math.Max(_end * 2, 1 << 20));
        bool any = false;
        while (_end < target)
        {
            int n = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _eof = true;
                break;
            }
            any = true;
            _end += n;
        }
        if (progress != null) progress.LoadedBytes = _base + _end;
        return any;
    }

    private RdbLoadException Truncated(string what) => new(_base + _end, $"Unexpected EOF reading RDB file ({what})");

    /// <summary><paramref name="count"/> bytes (a view valid until the next read).</summary>
    public ReadOnlySpan<byte> ReadBytes(int count, string what)
    {
        while (_end - _start < count)
            if (!Fill()) throw Truncated(what);
        ReadOnlySpan<byte> bytes = _buffer.AsSpan(_start, count);
        _start += count;
        return bytes;
    }

    /// <summary>One byte.</summary>
    public byte ReadByte(string what) => ReadBytes(1, what)[0];

    /// <summary>An RDB length (<c>rdbLoadLen</c>).</summary>
    public ulong ReadLength(string what)
    {
        while (true)
        {
            var r = new RdbReader(_buffer.AsSpan(_start, _end - _start));
            if (r.TryReadLength(out ulong length))
            {
                _start += r.Position;
                return length;
            }
            if (!r.HitEnd) throw new RdbLoadException(Offset, $"Invalid length encoding ({what})");
            if (!Fill()) throw Truncated(what);
        }
    }

    /// <summary>An RDB string (plain, integer or LZF).</summary>
    public byte[] ReadString(string what)
    {
        while (true)
        {
            var r = new RdbReader(_buffer.AsSpan(_start, _end - _start));
            if (r.ReadString() is { } value)
            {
                _start += r.Position;
                return value;
            }
            if (!r.HitEnd) throw new RdbLoadException(Offset, $"Invalid string encoding ({what})");
            if (!Fill()) throw Truncated(what);
        }
    }

    /// <summary>
    /// An object's body of RDB type <paramref name="type"/> (<see cref="RdbObjectReader.ReadObject"/>); null when it is malformed,
    /// with <paramref name="emptyValue"/> true when it was readable but empty (Redis skips such a key).
    /// </summary>
    public object? ReadObject(byte type, ServerOptions options, long nowMs, out bool emptyValue)
    {
        emptyValue = false;
        while (true)
        {
            var r = new RdbReader(_buffer.AsSpan(_start, _end - _start));
            object? value = RdbObjectReader.ReadObject(ref r, type, options, nowMs);
            if (value != null)
            {
                _start += r.Position;
                return value;
            }
            if (!r.HitEnd)
            {
                emptyValue = RdbObjectReader.IsEmptyObject(_buffer.AsSpan(_start, _end - _start), type, out int length);
                if (emptyValue) _start += length;
                return null;
            }
            if (!Fill()) throw Truncated($"reading a value of RDB type {type}");
        }
    }
}
