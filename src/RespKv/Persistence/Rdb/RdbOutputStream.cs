using System.Buffers.Binary;
using System.IO.Hashing;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// The write side of an RDB file (Redis's <c>rio</c> with <c>rioGenericUpdateChecksum</c>): a forward-only, buffered stream over
/// another (a file, or a replica's socket: never seeked), keeping the <see cref="Crc64Jones"/> checksum of every byte written
/// (when <see cref="Checksum"/>) and the byte count. <see cref="Compress"/> is <c>rdbcompression</c>: read by
/// <see cref="Rdb.WriteString"/>. <see cref="BeginKey"/> puts a key between the next object's type byte and its body, so a
/// value kind's <see cref="Storage.Kinds.ValueKind.WriteRdb"/> (type byte, then body) writes a whole RDB key-value pair.
/// Not thread-safe; <see cref="Finish"/> writes the 8-byte checksum trailer and flushes.
/// </summary>
public sealed class RdbOutputStream(Stream inner, bool compress, bool checksum) : Stream
{
    private const int BufferSize = 64 * 1024;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _used;
    private long _flushed;
    private readonly Crc64 _crc = Crc64Jones.CreateRunning();
    private byte[]? _pendingKey;

    /// <summary><c>rdbcompression</c>: strings over 20 bytes are LZF-compressed when that saves at least 4 bytes.</summary>
    public bool Compress { get; } = compress;

    /// <summary><c>rdbchecksum</c>: the trailer holds the CRC64 of the file; else 0 (loaders then skip the check).</summary>
    public bool Checksum { get; } = checksum;

    /// <summary>Bytes written so far (buffered ones included).</summary>
    public long BytesWritten => _flushed + _used;

    /// <summary>The next object's type byte is followed by <paramref name="key"/> as an RDB string (<c>rdbSaveKeyValuePair</c>'s order).</summary>
    public void BeginKey(byte[] key) => _pendingKey = key;

    /// <inheritdoc />
    public override void WriteByte(byte value)
    {
        if (_used == BufferSize) FlushBuffer();
        _buffer[_used++] = value;
        if (_pendingKey is { } key)
        {
            _pendingKey = null;
            Rdb.WriteString(this, key);
        }
    }

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_pendingKey != null && !buffer.IsEmpty)
        {
            WriteByte(buffer[0]);
            buffer = buffer[1..];
        }
        while (!buffer.IsEmpty)
        {
            if (_used == BufferSize) FlushBuffer();
            int n = Math.Min(buffer.Length, BufferSize - _used);
            buffer[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            buffer = buffer[n..];
        }
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    private void FlushBuffer()
    {
        if (_used == 0) return;
        if (Checksum) _crc.Append(_buffer.AsSpan(0, _used));
        inner.Write(_buffer, 0, _used);
        _flushed += _used;
        _used = 0;
    }

    /// <summary>Writes the trailer — the CRC64 of everything before it (0 without <see cref="Checksum"/>), 8 bytes little-endian — and flushes.</summary>
    public void Finish()
    {
        FlushBuffer();
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, Checksum ? _crc.GetCurrentHashAsUInt64() : 0);
        Write(trailer);
        FlushBuffer();
        inner.Flush();
    }

    /// <summary>Writes the buffered bytes to the inner stream.</summary>
    public override void Flush()
    {
        FlushBuffer();
        inner.Flush();
    }

    /// <inheritdoc />
    public override bool CanRead => false;
    /// <inheritdoc />
    public override bool CanSeek => false;
    /// <inheritdoc />
    public override bool CanWrite => true;
    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();
    /// <inheritdoc />
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
}
