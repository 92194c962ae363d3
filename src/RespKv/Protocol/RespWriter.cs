using System.Buffers.Text;
using System.Buffers;
using System.Text;

namespace RespKv.Protocol;

/// <summary>
/// Writes RESP2/RESP3 replies straight into an <see cref="IBufferWriter{T}"/> (the connection's
/// <c>PipeWriter</c>), following the Redis protocol spec (https://redis.io/docs/reference/protocol-spec/).
/// Replies are buffered in the writer's memory and committed by <see cref="Commit"/>; the session
/// flushes once per batch of parsed commands. Types that RESP2 lacks degrade as Redis degrades them:
/// null → <c>$-1</c>/<c>*-1</c>, map → flat array, set → array, verbatim → bulk string.
/// </summary>
public sealed class RespWriter
{
    private const int MinimumBuffer = 4096;
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private IBufferWriter<byte> _output;
    private Memory<byte> _buffer;
    // _buffer's array when it has one (the pipe's pooled blocks do): Reserve slices it directly, cheaper than Memory.Span.
    private byte[]? _array;
    private int _arrayOffset;
    private int _position;
    private long _bytesWritten;
    private long _committedSinceFlush;

    /// <summary>A writer into <paramref name="output"/>.</summary>
    public RespWriter(IBufferWriter<byte> output) => _output = output;

    /// <summary>Protocol version of the connection: 2 (default) or 3 after <c>HELLO 3</c>.</summary>
    public int Protocol { get; set; } = 2;

    /// <summary>Bytes written so far (committed or not), for INFO's <c>total_net_output_bytes</c>.</summary>
    public long BytesWritten => _bytesWritten + _position;

    /// <summary>Bytes of replies written since the last <see cref="Commit"/> (i.e. not yet handed over for flushing).</summary>
    public long PendingBytes => _committedSinceFlush + _position;

    /// <summary>True when replies were written since the last <see cref="Commit"/>.</summary>
    public bool HasPending => PendingBytes > 0;

    /// <summary>Commits every buffered reply to the output (<c>IBufferWriter.Advance</c>); call right before flushing it.</summary>
    public void Commit()
    {
        CommitChunk();
        _committedSinceFlush = 0;
    }

    private void CommitChunk()
    {
        if (_position == 0) return;
        _output.Advance(_position);
        _bytesWritten += _position;
        _committedSinceFlush += _position;
        _position = 0;
        _buffer = default;
        _array = null;
    }

    /// <summary><c>+text\r\n</c>. <paramref name="text"/> must not contain CR or LF.</summary>
    public void WriteSimpleString(ReadOnlySpan<byte> text)
    {
        Span<byte> s = Reserve(text.Length + 3);
        s[0] = (byte)'+';
        text.CopyTo(s[1..]);
        s[text.Length + 1] = (byte)'\r';
        s[text.Length + 2] = (byte)'\n';
        Advance(text.Length + 3);
    }

    /// <summary><c>+OK\r\n</c>.</summary>
    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    /// <summary>
    /// An error reply <c>-message\r\n</c>; <paramref name="message"/> starts with its code (<c>ERR</c>,
    /// <c>WRONGTYPE</c> …). CR and LF in it become spaces, as Redis's <c>addReplyErrorLength</c> does.
    /// </summary>
    public void WriteError(string message)
    {
        int max = Encoding.UTF8.GetMaxByteCount(message.Length) + 3;
        Span<byte> s = Reserve(max);
        s[0] = (byte)'-';
        int n = Encoding.UTF8.GetBytes(message, s[1..]);
        for (int i = 1; i <= n; i++)
            if (s[i] == (byte)'\r' || s[i] == (byte)'\n') s[i] = (byte)' ';
        s[n + 1] = (byte)'\r';
        s[n + 2] = (byte)'\n';
        CountError(s.Slice(1, n));
        Advance(n + 3);
    }

    /// <summary>Error replies written so far (Redis's <c>total_error_replies</c> for this writer): a command failed when it grew while the command ran.</summary>
    public long ErrorsWritten { get; private set; }

    /// <summary>Told of every error reply (its text without <c>-</c> and CRLF), for INFO <c>errorstats</c>; null when nobody counts them.</summary>
    public IErrorReplySink? ErrorSink { get; set; }

    private void CountError(ReadOnlySpan<byte> message)
    {
        ErrorsWritten++;
        ErrorSink?.ErrorReplied(message);
    }

    /// <summary>An error reply from UTF-8 bytes that already start with the error code.</summary>
    public void WriteError(ReadOnlySpan<byte> message)
    {
        Span<byte> s = Reserve(message.Length + 3);
        s[0] = (byte)'-';
        message.CopyTo(s[1..]);
        for (int i = 1; i <= message.Length; i++)
            if (s[i] == (byte)'\r' || s[i] == (byte)'\n') s[i] = (byte)' ';
        s[message.Length + 1] = (byte)'\r';
        s[message.Length + 2] = (byte)'\n';
        CountError(s.Slice(1, message.Length));
        Advance(message.Length + 3);
    }

    /// <summary><c>:n\r\n</c>.</summary>
    public void WriteInteger(long value) => WritePrefixedNumber((byte)':', value);

    /// <summary><c>$len\r\nbytes\r\n</c>; large values are copied in chunks, never in one huge allocation.</summary>
    public void WriteBulkString(ReadOnlySpan<byte> value)
    {
        if (value.Length <= MinimumBuffer - 16)
        {
            // One reservation for the header, the value and the CRLF (a length of at most 4 digits here).
            Span<byte> s = Reserve(value.Length + 9);
            s[0] = (byte)'$';
            Utf8Formatter.TryFormat(value.Length, s[1..], out int n);
            s[n + 1] = (byte)'\r';
            s[n + 2] = (byte)'\n';
            value.CopyTo(s[(n + 3)..]);
            int end = n + 3 + value.Length;
            s[end] = (byte)'\r';
            s[end + 1] = (byte)'\n';
            Advance(end + 2);
            return;
        }
        WritePrefixedNumber((byte)'$', value.Length);
        WriteRaw(value);
        WriteRaw(Crlf);
    }

    /// <summary>A bulk string from text (UTF-8).</summary>
    public void WriteBulkString(string value)
    {
        int byteCount = Encoding.UTF8.GetByteCount(value);
        WritePrefixedNumber((byte)'$', byteCount);
        if (byteCount <= MinimumBuffer)
        {
            Span<byte> s = Reserve(byteCount);
            Encoding.UTF8.GetBytes(value, s);
            Advance(byteCount);
        }
        else WriteRaw(Encoding.UTF8.GetBytes(value));
        WriteRaw(Crlf);
    }

    /// <summary>An integer sent as a bulk string (e.g. a SCAN cursor or INCRBYFLOAT result).</summary>
    public void WriteBulkString(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        WriteBulkString(digits[..n]);
    }

    /// <summary>Null bulk string: RESP2 <c>$-1\r\n</c>, RESP3 <c>_\r\n</c>.</summary>
    public void WriteNullBulkString() => WriteRaw(Protocol >= 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>Null array: RESP2 <c>*-1\r\n</c>, RESP3 <c>_\r\n</c>.</summary>
    public void WriteNullArray() => WriteRaw(Protocol >= 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary><c>*count\r\n</c>; follow with <paramref name="count"/> replies.</summary>
    public void WriteArrayHeader(long count) => WritePrefixedNumber((byte)'*', count);

    /// <summary>An out-of-band push of <paramref name="count"/> elements (Pub/Sub frames): <c>&gt;count</c> in RESP3, an array <c>*count</c> in RESP2.</summary>
    public void WritePushHeader(long count) => WritePrefixedNumber(Protocol >= 3 ? (byte)'>' : (byte)'*', count);

    /// <summary>Map header: RESP3 <c>%pairs\r\n</c>, RESP2 <c>*(2·pairs)\r\n</c>; follow with key, value, key, value…</summary>
    public void WriteMapHeader(long pairs)
    {
        if (Protocol >= 3) WritePrefixedNumber((byte)'%', pairs);
        else WritePrefixedNumber((byte)'*', pairs * 2);
    }

    /// <summary>Set header: RESP3 <c>~count\r\n</c>, RESP2 <c>*count\r\n</c>.</summary>
    public void WriteSetHeader(long count) => WritePrefixedNumber(Protocol >= 3 ? (byte)'~' : (byte)'*', count);

    /// <summary>
    /// A double as Redis 7.0's <c>addReplyDouble</c> writes it: <c>%.17g</c> text (<c>inf</c>, <c>-inf</c>, <c>nan</c> for
    /// the special values), as a RESP3 double (<c>,text\r\n</c>) or a RESP2 bulk string. Not for hot paths (it allocates).
    /// </summary>
    public void WriteDouble(double value)
    {
        string text = double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : double.IsNaN(value) ? "nan"
            : value.ToString("G17", System.Globalization.CultureInfo.InvariantCulture).Replace('E', 'e');
        if (Protocol < 3)
        {
            WriteBulkString(text);
            return;
        }
        WriteRaw(","u8);
        WriteRaw(Encoding.ASCII.GetBytes(text));
        WriteRaw(Crlf);
    }

    /// <summary>Verbatim string: RESP3 <c>=len\r\ntxt:…\r\n</c>, RESP2 a bulk string (as Redis replies to INFO and CLIENT LIST).</summary>
    public void WriteVerbatimText(string text)
    {
        if (Protocol < 3)
        {
            WriteBulkString(text);
            return;
        }
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        WritePrefixedNumber((byte)'=', bytes.Length + 4);
        WriteRaw("txt:"u8);
        WriteRaw(bytes);
        WriteRaw(Crlf);
    }

    /// <summary>
    /// Writes a HELP reply as Redis's <c>addReplyHelp</c> does: an array of simple strings, first
    /// <c>&lt;COMMAND&gt; &lt;subcommand&gt; [&lt;arg&gt; [value] [opt] ...]. Subcommands are:</c>, then
    /// <paramref name="lines"/>, then <c>HELP</c> / <c>    Prints this help.</c>. Containers list only
    /// the subcommands RespKv implements, in Redis's wording and order.
    /// </summary>
    public void WriteHelp(string command, ReadOnlySpan<string> lines)
    {
        WriteArrayHeader(lines.Length + 3);
        WriteSimpleString(System.Text.Encoding.ASCII.GetBytes($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        foreach (string line in lines) WriteSimpleString(System.Text.Encoding.ASCII.GetBytes(line));
        WriteSimpleString("HELP"u8);
        WriteSimpleString("    Prints this help."u8);
    }

    /// <summary>Writes bytes as they are (already RESP-encoded), in chunks.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            Span<byte> s = Reserve(Math.Min(bytes.Length, MinimumBuffer), acceptSmaller: true);
            int n = Math.Min(s.Length, bytes.Length);
            bytes[..n].CopyTo(s);
            Advance(n);
            bytes = bytes[n..];
        }
    }

    private void WritePrefixedNumber(byte prefix, long value)
    {
        Span<byte> s = Reserve(23);
        s[0] = prefix;
        Utf8Formatter.TryFormat(value, s[1..], out int n);
        s[n + 1] = (byte)'\r';
        s[n + 2] = (byte)'\n';
        Advance(n + 3);
    }

    private Span<byte> Reserve(int size, bool acceptSmaller = false)
    {
        int free = _buffer.Length - _position;
        if (free >= size || (acceptSmaller && free >= 1))
            return _array != null ? new Span<byte>(_array, _arrayOffset + _position, free) : _buffer.Span[_position..];
        CommitChunk();
        _buffer = _output.GetMemory(Math.Max(size, MinimumBuffer));
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)_buffer, out ArraySegment<byte> segment))
        {
            _array = segment.Array;
            _arrayOffset = segment.Offset;
        }
        return _buffer.Span;
    }

    private void Advance(int count) => _position += count;
}

/// <summary>Receives each error reply a <see cref="RespWriter"/> writes (INFO <c>errorstats</c>, Redis's <c>afterErrorReply</c>).</summary>
public interface IErrorReplySink
{
    /// <summary>One error reply was written; <paramref name="message"/> is its text (<c>ERR …</c>, <c>WRONGTYPE …</c>) without the leading <c>-</c> and the CRLF.</summary>
    void ErrorReplied(ReadOnlySpan<byte> message);
}
