namespace RespKv.Storage;

/// <summary>
/// HSCAN cursors. A cursor stands for a position in field order: "strictly after field F", where F is the
/// last field the previous call examined. Every cursor stays at or below <see cref="MaxCursor"/> (2^53 - 1):
/// clients parse cursors as numbers — StackExchange.Redis as <c>long</c>, node-redis and ioredis as
/// JavaScript numbers, which are exact only up to 2^53 - 1, so a larger cursor comes back rounded and the
/// scan breaks. An exact position cannot be packed into 53 bits for arbitrary field bytes, so:
/// <list type="bullet">
/// <item>a field of at most 6 bytes is encoded in the cursor itself: bit 51 set (<see cref="InlineFlag"/>),
/// its length in bits 48..50, its bytes in bits 0..47 (stateless);</item>
/// <item>a longer field is saved here and the cursor is its id (1 ≤ id &lt; 2^51; ids are never reused).
/// At most <see cref="Capacity"/> positions are kept; the oldest is forgotten first.</item>
/// </list>
/// Cursor 0 is the start (and the end) of a scan. Because a resumed scan seeks to the first field strictly
/// after F in the current version of the hash, a field present for the whole scan is returned exactly once
/// whatever is inserted or deleted meanwhile. A cursor that was never issued or was forgotten cannot be
/// resolved: HSCAN answers <c>-ERR invalid cursor</c> rather than silently ending or restarting the scan
/// (Redis calls such cursors undefined behaviour). Ids are process-wide, so a cursor is also valid on
/// another key or database: it is only a position.
/// </summary>
public sealed class HashScanCursors
{
    /// <summary>Saved positions kept (65,536); older ones are forgotten.</summary>
    public const int Capacity = 65_536;

    /// <summary>Set in a cursor that carries its field inline.</summary>
    public const ulong InlineFlag = 1UL << 51;

    /// <summary>Longest field encoded inline, in bytes.</summary>
    public const int MaxInlineLength = 6;

    /// <summary>The largest cursor ever issued or accepted: 2^53 - 1, exact in a double / JavaScript number.</summary>
    public const ulong MaxCursor = (1UL << 53) - 1;

    private const int LengthShift = 48;
    private const ulong InlineBytesMask = (1UL << LengthShift) - 1;

    /// <summary>The registry every HSCAN uses.</summary>
    public static HashScanCursors Shared { get; } = new();

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, byte[]> _positions = new();
    private readonly Queue<ulong> _order = new();
    private ulong _lastId;

    /// <summary>Saved positions now held (at most <see cref="Capacity"/>).</summary>
    public int SavedCount
    {
        get
        {
            lock (_lock) return _positions.Count;
        }
    }

    /// <summary>A cursor meaning "after <paramref name="lastField"/>"; never 0, at most <see cref="MaxCursor"/>.</summary>
    public ulong Save(ReadOnlySpan<byte> lastField)
    {
        if (lastField.Length <= MaxInlineLength)
        {
            ulong cursor = InlineFlag | ((ulong)lastField.Length << LengthShift);
            for (int i = 0; i < lastField.Length; i++) cursor |= (ulong)lastField[i] << (8 * (MaxInlineLength - 1 - i));
            return cursor;
        }
        byte[] copy = lastField.ToArray();
        lock (_lock)
        {
            ulong id = ++_lastId;
            if (_positions.Count >= Capacity) _positions.Remove(_order.Dequeue());
            _positions.Add(id, copy);
            _order.Enqueue(id);
            return id;
        }
    }

    /// <summary>
    /// The field a non-zero cursor stands for: decoded into <paramref name="inlineBuffer"/> (<see cref="MaxInlineLength"/> bytes) or the
    /// saved copy. False when the cursor is unknown or forgotten.
    /// </summary>
    public bool TryResolve(ulong cursor, Span<byte> inlineBuffer, out ReadOnlySpan<byte> lastField)
    {
        lastField = default;
        if (cursor > MaxCursor || (cursor & ~(InlineFlag * 2 - 1)) != 0) return false;
        if ((cursor & InlineFlag) != 0)
        {
            int length = (int)((cursor >> LengthShift) & 0x7);
            if (length > MaxInlineLength || (cursor & (InlineBytesMask >> (8 * length))) != 0) return false;
            for (int i = 0; i < length; i++) inlineBuffer[i] = (byte)(cursor >> (8 * (MaxInlineLength - 1 - i)));
            lastField = inlineBuffer[..length];
            return true;
        }
        lock (_lock)
        {
            if (!_positions.TryGetValue(cursor, out byte[]? saved)) return false;
            lastField = saved;
            return true;
        }
    }
}
