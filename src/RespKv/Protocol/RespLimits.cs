namespace RespKv.Protocol;

/// <summary>
/// Limits the RESP parser enforces on untrusted input. Values follow redis.conf 7.0
/// (<c>proto-max-bulk-len</c>, <c>PROTO_INLINE_MAX_SIZE</c>) except <see cref="MaxMultibulkLength"/>,
/// which keeps Redis 6's 1,048,576 cap (Redis 7.0 accepts up to INT_MAX) so one frame header
/// cannot promise billions of arguments.
/// </summary>
public static class RespLimits
{
    /// <summary>Largest argument count of one multibulk frame; above it: <c>-ERR Protocol error: invalid multibulk length</c>.</summary>
    public const int MaxMultibulkLength = 1024 * 1024;

    /// <summary>Largest bulk string, in bytes (512 MB); above it: <c>-ERR Protocol error: invalid bulk length</c>.</summary>
    public const long MaxBulkLength = 512L * 1024 * 1024;

    /// <summary>Largest inline request or header line, in bytes (64 KB); above it: <c>-ERR Protocol error: too big inline request</c>.</summary>
    public const int MaxInlineLength = 64 * 1024;

    /// <summary>Largest string value (512 MB, <c>proto-max-bulk-len</c>) that APPEND/SETRANGE may build.</summary>
    public const long MaxStringLength = 512L * 1024 * 1024;

    /// <summary>Most arguments of a multibulk frame from a client that must still authenticate (Redis: 10).</summary>
    public const int MaxUnauthenticatedArgs = 10;

    /// <summary>Largest bulk, in bytes, from a client that must still authenticate (Redis: 16384).</summary>
    public const int MaxUnauthenticatedBulkLength = 16 * 1024;

    /// <summary>How many argument slots a parser pre-allocates from a count read off the wire, at most.</summary>
    internal const int PreallocateArgumentsCap = 1024;
}
