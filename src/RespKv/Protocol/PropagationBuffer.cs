using System.Buffers.Text;

namespace RespKv.Protocol;

/// <summary>
/// The records one command (or one EXEC) propagates to the write log (<c>Execution.IWriteLog</c>): commands encoded as RESP
/// multibulks (<c>*N\r\n$len\r\narg\r\n…</c>, the AOF's own format), each with the database it applies to.
/// One per client, reused: nothing is allocated per command once its buffers have grown.
/// <para>
/// By default the executor records a write command as it was received when it
/// changed the keyspace (a change was announced through <c>KeyspaceShard.Mutated</c> on a shard it holds,
/// see <c>KeyspaceShard.Changes</c>) and replied no error. A handler whose effect
/// differs from its request (Redis's <c>rewriteClientCommandVector</c>: <c>SET … GET</c> → <c>SET</c>,
/// <c>INCRBYFLOAT</c> → <c>SET key result KEEPTTL</c>, relative expiry → absolute <c>PXAT</c>) calls
/// <see cref="Replace"/> and then adds its own records with <see cref="Begin"/> and <see cref="Arg(ReadOnlySpan{byte})"/>
/// — possibly none, when nothing is to be logged.
/// </para>
/// </summary>
public sealed class PropagationBuffer
{
    private const int RetainedBufferBytes = 64 * 1024;

    private byte[] _buffer = new byte[256];
    private int _used;
    private RecordSlice[] _records = new RecordSlice[4];
    private int _count;
    private int _argsLeft;

    private readonly record struct RecordSlice(int DatabaseIndex, int Start, int Length);

    /// <summary>Number of records.</summary>
    public int Count => _count;

    /// <summary>True when the current command's handler replaced the default record (<see cref="Replace"/>).</summary>
    public bool Replaced { get; private set; }

    /// <summary>True while the records are an EXEC's: the log wraps them in <c>MULTI</c> … <c>EXEC</c> even when there is one.</summary>
    public bool IsTransaction { get; internal set; }

    /// <summary>The database record <paramref name="index"/> applies to.</summary>
    public int DatabaseIndex(int index) => _records[index].DatabaseIndex;

    /// <summary>Record <paramref name="index"/>, a whole RESP multibulk.</summary>
    public ReadOnlySpan<byte> Record(int index)
    {
        RecordSlice r = _records[index];
        return _buffer.AsSpan(r.Start, r.Length);
    }

    /// <summary>Every record, back to back (for a log that needs no SELECT between them).</summary>
    public ReadOnlySpan<byte> AllRecords => _buffer.AsSpan(0, _used);

    /// <summary>Says the current command logs its own records (added next, or none) instead of its request.</summary>
    public void Replace() => Replaced = true;

    /// <summary>Starts a record of <paramref name="argumentCount"/> arguments (name first) in <paramref name="databaseIndex"/>; add each with <c>Arg</c>.</summary>
    public PropagationBuffer Begin(int databaseIndex, int argumentCount)
    {
        if (_argsLeft != 0) throw new InvalidOperationException("The previous propagated record is incomplete");
        if (argumentCount <= 0) throw new ArgumentOutOfRangeException(nameof(argumentCount));
        if (_count == _records.Length) Array.Resize(ref _records, _count * 2);
        _records[_count++] = new RecordSlice(databaseIndex, _used, 0);
        _argsLeft = argumentCount;
        WritePrefixed((byte)'*', argumentCount);
        return this;
    }

    /// <summary>Adds one argument (a bulk string) to the record being built.</summary>
    public PropagationBuffer Arg(ReadOnlySpan<byte> value)
    {
        if (_argsLeft == 0) throw new InvalidOperationException("No propagated record is being built, or it has all its arguments");
        WritePrefixed((byte)'$', value.Length);
        Ensure(value.Length + 2);
        value.CopyTo(_buffer.AsSpan(_used));
        _used += value.Length;
        _buffer[_used++] = (byte)'\r';
        _buffer[_used++] = (byte)'\n';
        if (--_argsLeft == 0)
        {
            ref RecordSlice r = ref _records[_count - 1];
            r = r with { Length = _used - r.Start };
        }
        return this;
    }

    /// <summary>Adds an integer argument as its decimal digits (a bulk string).</summary>
    public PropagationBuffer Arg(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int written);
        return Arg(digits[..written]);
    }

    /// <summary>Adds the whole of <paramref name="args"/> as one record in <paramref name="databaseIndex"/>.</summary>
    public void Add(int databaseIndex, in CommandArgs args)
    {
        Begin(databaseIndex, args.Count);
        for (int i = 0; i < args.Count; i++) Arg(args[i]);
    }

    /// <summary>Forgets every record and the replaced mark (buffers are kept, shrunk after a very large unit).</summary>
    public void Clear()
    {
        _count = 0;
        _used = 0;
        _argsLeft = 0;
        Replaced = false;
        IsTransaction = false;
        if (_buffer.Length > RetainedBufferBytes) _buffer = new byte[256];
        if (_records.Length > RetainedBufferBytes / 16) _records = new RecordSlice[4];
    }

    /// <summary>Drops the records after the first <paramref name="count"/> (a script's command run under <c>redis.set_repl(redis.REPL_NONE)</c>).</summary>
    internal void TruncateTo(int count)
    {
        if (count >= _count) return;
        _used = _records[count].Start;
        _count = count;
        _argsLeft = 0;
    }

    /// <summary>Clears only the replaced mark, between commands of one EXEC (their records accumulate).</summary>
    internal void NextCommand() => Replaced = false;

    private void WritePrefixed(byte prefix, int value)
    {
        Ensure(13);
        _buffer[_used++] = prefix;
        Utf8Formatter.TryFormat(value, _buffer.AsSpan(_used), out int written);
        _used += written;
        _buffer[_used++] = (byte)'\r';
        _buffer[_used++] = (byte)'\n';
    }

    private void Ensure(int bytes)
    {
        if (_used + bytes <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_used + bytes, _buffer.Length * 2));
    }
}
