namespace RespKv.Storage;

/// <summary>
/// The keyspace's hash of a key: <see cref="HashCode"/> (per-process random seed, so a client cannot
/// choose colliding keys), over the key's bytes.
/// </summary>
public static class KeyHash
{
    /// <summary>A 32-bit hash of <paramref name="key"/>.</summary>
    public static int Compute(ReadOnlySpan<byte> key)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        return hash.ToHashCode();
    }
}
