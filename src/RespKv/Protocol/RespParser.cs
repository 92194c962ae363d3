using System.Buffers;

namespace RespKv.Protocol;

/// <summary>What one call to <see cref="RespParser.TryParse"/> found at the start of the buffer.</summary>
public enum ParseStatus
{
    /// <summary>A whole command frame; its arguments are in the <c>args</c> out parameter.</summary>
    Command,
    /// <summary>A frame that carries no command (an empty inline line, <c>*0</c>, <c>*-1</c>); skip <c>consumed</c> bytes.</summary>
    Empty,
    /// <summary>The frame is not complete yet: keep the buffer from its start, read more, call again.</summary>
    Incomplete,
    /// <summary>Malformed input: reply with the error text, then close the connection (as Redis does).</summary>
    Error,
}

/// <summary>
/// A resumable RESP2 request parser for one connection: multibulk frames (<c>*N\r\n$len\r\n…</c>) and
/// inline commands, following Redis 7.0's networking.c (<c>processMultibulkBuffer</c>,
/// <c>processInlineBuffer</c>) including its error texts. Each call parses the frame at the start of the
/// buffer; a frame that is incomplete is resumed where it stopped on the next call (the caller keeps the
/// buffer from the frame's start), so a large bulk string arriving in pieces costs O(n), not O(n²).
/// Arguments are slices of the receive buffer; a frame that spans buffer segments is copied once, whole,
/// into a scratch buffer.
/// </summary>
public sealed class RespParser
{
    private const int NoFrame = -1;
    private const int KeepScratchBytes = 64 * 1024;

    // Resume state of the multibulk frame in progress (all offsets from the frame's first byte).
    private int _expectedArgs = NoFrame;
    private int _parsedArgs;
    private long _resumeOffset;
    private long _pendingBulkLength = -1;
    private long _inlineScanned;

    // Where the resume offset lies in the caller's buffer, valid while the caller passes a buffer that
    // starts at the same position (_frameStart), as a pipe does: resuming then costs O(1) instead of a
    // walk over every segment received since the frame began (O(n²) for a big frame in small reads).
    private SequencePosition _frameStart;
    private SequencePosition _resumePosition;

    private ArgSlice[] _slices = new ArgSlice[16];

    /// <summary>
    /// Set while the client must still authenticate (Redis's <c>authRequired</c>): a multibulk frame may then
    /// carry at most <see cref="RespLimits.MaxUnauthenticatedArgs"/> arguments and bulks of at most
    /// <see cref="RespLimits.MaxUnauthenticatedBulkLength"/> bytes, else <c>-ERR Protocol error: unauthenticated
    /// multibulk length</c> / <c>… bulk length</c> (networking.c <c>processMultibulkBuffer</c>).
    /// </summary>
    public bool Unauthenticated { get; set; }
    private readonly List<ArgSlice> _inlineSlices = new();
    private byte[] _scratch = new byte[1024];

    /// <summary>
    /// Parses the frame at the start of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">Received bytes, starting at the first byte of the frame (and of any earlier incomplete attempt).</param>
    /// <param name="consumed">Bytes the frame occupies (for <see cref="ParseStatus.Command"/> and <see cref="ParseStatus.Empty"/>).</param>
    /// <param name="args">The command's arguments, valid until the next call.</param>
    /// <param name="error">For <see cref="ParseStatus.Error"/>: Redis's text without the leading <c>-</c>, e.g. <c>ERR Protocol error: invalid bulk length</c>.</param>
    public ParseStatus TryParse(in ReadOnlySequence<byte> buffer, out long consumed, out CommandArgs args, out string? error)
    {
        consumed = 0;
        args = default;
        error = null;
        if (buffer.IsEmpty) return ParseStatus.Incomplete;
        if (_expectedArgs == NoFrame && _inlineScanned == 0) _frameStart = buffer.Start;
        if (_expectedArgs == NoFrame)
        {
            ReadOnlySpan<byte> first = buffer.FirstSpan;
            if (first.Length > 0 && first[0] == (byte)'*' && TryParseWholeFrame(first, out int length, out int argc))
            {
                consumed = length;
                args = new CommandArgs(first[..length], _slices.AsSpan(0, argc));
                return ParseStatus.Command;
            }
            if (FirstByte(buffer) != (byte)'*') return ParseInline(buffer, out consumed, out args, out error);
        }
        return ParseMultibulk(buffer, out consumed, out args, out error);
    }

    /// <summary>The first byte of a non-empty buffer, which may begin with an empty span (a slice ending a segment).</summary>
    private static byte FirstByte(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length > 0) return first[0];
        new SequenceReader<byte>(buffer).TryPeek(out byte value);
        return value;
    }

    /// <summary>
    /// Fast path for the common case: a well-formed multibulk frame wholly inside one contiguous span.
    /// Accepts exactly what <see cref="ParseMultibulk"/> accepts and records the same slices; anything else
    /// (incomplete, malformed, more than <see cref="FastPathMaxArgs"/> arguments) returns false and is
    /// left to the general path, which owns resumption and every error reply.
    /// </summary>
    private bool TryParseWholeFrame(ReadOnlySpan<byte> span, out int length, out int argc)
    {
        length = 0;
        argc = 0;
        int pos = 1;
        if (!TryReadSmallNumber(span, ref pos, out int count) || count <= 0 || count > FastPathMaxArgs) return false;
        if (Unauthenticated && count > RespLimits.MaxUnauthenticatedArgs) return false;
        if (_slices.Length < count) _slices = new ArgSlice[Math.Max(count, 16)];
        for (int i = 0; i < count; i++)
        {
            if (pos >= span.Length || span[pos] != (byte)'$') return false;
            pos++;
            if (!TryReadSmallNumber(span, ref pos, out int bulk)) return false;
            if (bulk > RespLimits.MaxBulkLength || span.Length - pos < bulk + 2) return false;
            if (Unauthenticated && bulk > RespLimits.MaxUnauthenticatedBulkLength) return false;
            _slices[i] = new ArgSlice(pos, bulk);
            pos += bulk + 2;
        }
        length = pos;
        argc = count;
        return true;
    }

    private const int FastPathMaxArgs = 1024;

    /// <summary>Reads up to 9 digits (no sign, no leading zero unless "0") followed by CR, and skips CR and the byte after it.</summary>
    private static bool TryReadSmallNumber(ReadOnlySpan<byte> span, ref int pos, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < span.Length)
        {
            uint d = (uint)(span[pos] - (byte)'0');
            if (d > 9) break;
            value = value * 10 + (int)d;
            pos++;
        }
        int digits = pos - start;
        if (digits == 0 || digits > 9 || (digits > 1 && span[start] == (byte)'0')) return false;
        if (span.Length - pos < 2 || span[pos] != (byte)'\r') return false;
        pos += 2;
        return true;
    }

    /// <summary>Drops per-frame state and any large scratch buffer (after a protocol error or a huge frame).</summary>
    public void Reset()
    {
        _expectedArgs = NoFrame;
        _parsedArgs = 0;
        _resumeOffset = 0;
        _pendingBulkLength = -1;
        _inlineScanned = 0;
        if (_scratch.Length > KeepScratchBytes) _scratch = new byte[1024];
        if (_slices.Length > RespLimits.PreallocateArgumentsCap) _slices = new ArgSlice[16];
    }

    private ParseStatus ParseMultibulk(in ReadOnlySequence<byte> buffer, out long consumed, out CommandArgs args, out string? error)
    {
        consumed = 0;
        args = default;
        error = null;
        var reader = new SequenceReader<byte>(buffer);
        long readerBase = 0; // offset of the reader's start from the frame's first byte

        if (_expectedArgs == NoFrame)
        {
            reader.Advance(1); // '*'
            switch (TryReadLineInteger(ref reader, out long count))
            {
                case LineStatus.Incomplete:
                    if (buffer.Length > RespLimits.MaxInlineLength) return Fail("ERR Protocol error: too big mbulk count string", out error);
                    return ParseStatus.Incomplete;
                case LineStatus.Invalid:
                    return Fail("ERR Protocol error: invalid multibulk length", out error);
            }
            if (count > RespLimits.MaxMultibulkLength) return Fail("ERR Protocol error: invalid multibulk length", out error);
            if (Unauthenticated && count > RespLimits.MaxUnauthenticatedArgs)
                return Fail("ERR Protocol error: unauthenticated multibulk length", out error);
            if (count <= 0)
            {
                consumed = reader.Consumed;
                return ParseStatus.Empty;
            }
            _expectedArgs = (int)count;
            _parsedArgs = 0;
            _pendingBulkLength = -1;
            _resumeOffset = reader.Consumed;
            _resumePosition = reader.Position;
            if (_slices.Length < count) _slices = new ArgSlice[Math.Min(count, RespLimits.PreallocateArgumentsCap)];
        }
        else
        {
            // Resume: a pending bulk string needs this many bytes in all before anything can progress.
            if (_pendingBulkLength >= 0 && buffer.Length < _resumeOffset + _pendingBulkLength + 2)
                return ParseStatus.Incomplete;
            reader = new SequenceReader<byte>(ResumeAt(buffer, _resumeOffset, _resumePosition));
            readerBase = _resumeOffset;
        }

        while (_parsedArgs < _expectedArgs)
        {
            if (_pendingBulkLength < 0)
            {
                if (reader.End) return ParseStatus.Incomplete;
                reader.TryPeek(out byte first);
                var headerReader = reader;
                headerReader.Advance(1);
                var status = TryReadLineInteger(ref headerReader, out long length);
                if (status == LineStatus.Incomplete)
                {
                    if (reader.Remaining > RespLimits.MaxInlineLength) return Fail("ERR Protocol error: too big bulk count string", out error);
                    return ParseStatus.Incomplete;
                }
                if (first != (byte)'$')
                    return Fail($"ERR Protocol error: expected '$', got '{(char)first}'", out error);
                if (status == LineStatus.Invalid || length < 0 || length > RespLimits.MaxBulkLength)
                    return Fail("ERR Protocol error: invalid bulk length", out error);
                if (Unauthenticated && length > RespLimits.MaxUnauthenticatedBulkLength)
                    return Fail("ERR Protocol error: unauthenticated bulk length", out error);
                reader = headerReader;
                _pendingBulkLength = length;
                _resumeOffset = readerBase + reader.Consumed;
                _resumePosition = reader.Position;
            }
            if (reader.Remaining < _pendingBulkLength + 2) return ParseStatus.Incomplete;
            if (_parsedArgs == _slices.Length)
                Array.Resize(ref _slices, (int)Math.Min((long)_slices.Length * 2, _expectedArgs));
            _slices[_parsedArgs++] = new ArgSlice(checked((int)(readerBase + reader.Consumed)), (int)_pendingBulkLength);
            reader.Advance(_pendingBulkLength + 2); // Redis skips the two terminator bytes without checking them.
            _pendingBulkLength = -1;
            _resumeOffset = readerBase + reader.Consumed;
            _resumePosition = reader.Position;
        }

        consumed = readerBase + reader.Consumed;
        ReadOnlySpan<byte> frame = Contiguous(buffer, consumed);
        args = new CommandArgs(frame, _slices.AsSpan(0, _expectedArgs));
        _expectedArgs = NoFrame;
        return ParseStatus.Command;
    }

    private ParseStatus ParseInline(in ReadOnlySequence<byte> buffer, out long consumed, out CommandArgs args, out string? error)
    {
        consumed = 0;
        args = default;
        error = null;
        long readerBase = _inlineScanned;
        var reader = new SequenceReader<byte>(_inlineScanned == 0 ? buffer : ResumeAt(buffer, _inlineScanned, _resumePosition));
        if (!reader.TryAdvanceTo((byte)'\n', advancePastDelimiter: true))
        {
            if (buffer.Length > RespLimits.MaxInlineLength) return Fail("ERR Protocol error: too big inline request", out error);
            _inlineScanned = buffer.Length;
            _resumePosition = buffer.End;
            return ParseStatus.Incomplete;
        }
        _inlineScanned = 0;
        consumed = readerBase + reader.Consumed;
        long lineLength = consumed - 1;
        ReadOnlySpan<byte> line = Contiguous(buffer, lineLength);
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        // Unescaped arguments are never longer than the line; they go after it in the scratch buffer
        // when the line itself lives there.
        int outputStart = line.Overlaps(_scratch) ? line.Length : 0;
        EnsureScratch(outputStart + line.Length, preserve: outputStart);
        if (outputStart > 0) line = _scratch.AsSpan(0, line.Length);
        Span<byte> output = _scratch.AsSpan(outputStart, line.Length);
        if (!InlineCommandSplitter.TrySplit(line, output, _inlineSlices))
            return Fail("ERR Protocol error: unbalanced quotes in request", out error);
        if (_inlineSlices.Count == 0) return ParseStatus.Empty;
        if (_slices.Length < _inlineSlices.Count) _slices = new ArgSlice[_inlineSlices.Count];
        _inlineSlices.CopyTo(_slices);
        args = new CommandArgs(output, _slices.AsSpan(0, _inlineSlices.Count));
        return ParseStatus.Command;
    }

    /// <summary>
    /// <paramref name="buffer"/> from <paramref name="offset"/> bytes past the frame's start: in O(1) through
    /// the remembered <paramref name="position"/> when the buffer still starts where the frame did, else
    /// by counting from the start.
    /// </summary>
    private ReadOnlySequence<byte> ResumeAt(in ReadOnlySequence<byte> buffer, long offset, SequencePosition position) =>
        buffer.Start.Equals(_frameStart) ? buffer.Slice(position) : buffer.Slice(offset);

    private ParseStatus Fail(string message, out string? error)
    {
        error = message;
        Reset();
        return ParseStatus.Error;
    }

    /// <summary>The first <paramref name="length"/> bytes as one span: in place when they lie in one segment, else copied once.</summary>
    private ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> buffer, long length)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= length) return first[..(int)length];
        EnsureScratch(checked((int)length), preserve: 0);
        buffer.Slice(0, length).CopyTo(_scratch);
        return _scratch.AsSpan(0, (int)length);
    }

    private void EnsureScratch(int size, int preserve)
    {
        if (_scratch.Length >= size) return;
        var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(size, Math.Min(_scratch.Length * 2, int.MaxValue / 2)));
        _scratch.AsSpan(0, preserve).CopyTo(bigger);
        _scratch = bigger;
    }

    private enum LineStatus { Ok, Incomplete, Invalid }

    /// <summary>
    /// Reads a header line up to '\r' plus one more byte (Redis looks for '\r' and skips two bytes) and
    /// parses it with <see cref="RespInteger.TryParse"/>. Leaves <paramref name="reader"/> after the line.
    /// </summary>
    private static LineStatus TryReadLineInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\r', advancePastDelimiter: true)) return LineStatus.Incomplete;
        if (reader.End) return LineStatus.Incomplete;
        reader.Advance(1);
        if (line.Length > 20) return LineStatus.Invalid;
        Span<byte> digits = stackalloc byte[20];
        line.CopyTo(digits);
        return RespInteger.TryParse(digits[..(int)line.Length], out value) ? LineStatus.Ok : LineStatus.Invalid;
    }
}
