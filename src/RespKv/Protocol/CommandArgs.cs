namespace RespKv.Protocol;

/// <summary>Where one argument lies in a frame: byte offset and length.</summary>
/// <param name="Offset">Offset in bytes from the start of the frame buffer.</param>
/// <param name="Length">Length in bytes.</param>
public readonly record struct ArgSlice(int Offset, int Length);

/// <summary>
/// The arguments of one command: <c>args[0]</c> is the command name, then its arguments, each a
/// binary-safe slice of the receive buffer (or of a copy kept for MULTI or AOF replay). Valid only
/// until the command returns: copy what must outlive it.
/// </summary>
public readonly ref struct CommandArgs
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly ReadOnlySpan<ArgSlice> _slices;

    /// <summary>Arguments over <paramref name="buffer"/>, located by <paramref name="slices"/>.</summary>
    public CommandArgs(ReadOnlySpan<byte> buffer, ReadOnlySpan<ArgSlice> slices)
    {
        _buffer = buffer;
        _slices = slices;
    }

    /// <summary>Number of arguments, the command name included (Redis's <c>argc</c>).</summary>
    public int Count => _slices.Length;

    /// <summary>Argument <paramref name="index"/> (0 = command name) as bytes.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            ArgSlice s = _slices[index];
            return _buffer.Slice(s.Offset, s.Length);
        }
    }

    /// <summary>The underlying buffer; with <see cref="Slices"/>, enough to copy the command.</summary>
    public ReadOnlySpan<byte> Buffer => _buffer;

    /// <summary>The argument slices over <see cref="Buffer"/>.</summary>
    public ReadOnlySpan<ArgSlice> Slices => _slices;

    /// <summary>True when argument <paramref name="index"/> equals the ASCII token <paramref name="upper"/>, ignoring case.</summary>
    /// <param name="index">Argument index.</param>
    /// <param name="upper">An upper-case ASCII token such as <c>"NX"u8</c>.</param>
    public bool Is(int index, ReadOnlySpan<byte> upper) => System.Text.Ascii.EqualsIgnoreCase(this[index], upper);

    /// <summary>The arguments from <paramref name="start"/> on, as a command of their own (ACL DRYRUN's command).</summary>
    public CommandArgs Slice(int start) => new(_buffer, _slices[start..]);
}
