namespace RespKv.Scripting.Libraries;

/// <summary>
/// A growable byte buffer the libraries build their output in (a JSON text, a MessagePack or <c>struct.pack</c>
/// string) before one <c>lua_pushlstring</c> copies it into Lua; one per thread (<see cref="ForThread"/>), reused, so a
/// call allocates nothing once the buffer has grown to its working size. A buffer grown past 1 MiB is dropped after use.
/// </summary>
internal sealed class ScratchBuffer
{
    private const int KeepLimit = 1 << 20;

    [ThreadStatic] private static ScratchBuffer? _forThread;

    private byte[] _bytes = new byte[256];

    /// <summary>The calling thread's buffer, emptied.</summary>
    public static ScratchBuffer ForThread()
    {
        var buffer = _forThread ??= new ScratchBuffer();
        buffer.Length = 0;
        return buffer;
    }

    /// <summary>Bytes written so far.</summary>
    public int Length { get; set; }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, Length);

    /// <summary>A writable span of at least <paramref name="size"/> bytes at the end; <see cref="Advance"/> commits them.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (Length + size > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + size));
        return _bytes.AsSpan(Length);
    }

    /// <summary>Commits <paramref name="count"/> bytes written into <see cref="GetSpan"/>.</summary>
    public void Advance(int count) => Length += count;

    /// <summary>Appends one byte.</summary>
    public void Add(byte value)
    {
        if (Length == _bytes.Length) Array.Resize(ref _bytes, _bytes.Length * 2);
        _bytes[Length++] = value;
    }

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Add(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    /// <summary>Pushes the written bytes as one Lua string, then drops an oversized array.</summary>
    public void PushTo(IntPtr L)
    {
        LuaNative.PushBytes(L, Written);
        if (_bytes.Length > KeepLimit) _bytes = new byte[256];
    }
}
