namespace RespKv.Storage;

/// <summary>The Redis data type of a value, as TYPE names it.</summary>
public enum ValueType : byte
{
    /// <summary>A binary-safe byte string (TYPE <c>string</c>).</summary>
    String,
    /// <summary>A hash (TYPE <c>hash</c>): a <see cref="SortedHash"/>.</summary>
    Hash,
}

/// <summary>
/// One key and its value: a node in a shard's bucket chain. Key, value and expiry are immutable once
/// published (every write replaces the node), so lock-free readers always see a key, value and expiry
/// that belong together. Written in place: the chain link (by the shard's writer, with a single
/// volatile reference write) and <see cref="LruClock"/> (a torn read of it is harmless).
/// </summary>
public sealed class KeyEntry
{
    /// <summary>A node; <paramref name="value"/> is a <c>byte[]</c> for strings, a <see cref="SortedHash"/> for hashes.</summary>
    internal KeyEntry(byte[] key, int hash, object value, long expireAtMs, KeyEntry? next)
    {
        Key = key;
        Hash = hash;
        Value = value;
        ExpireAtMs = expireAtMs;
        _next = next;
    }

    private KeyEntry? _next;

    /// <summary>The key bytes (never mutated).</summary>
    public byte[] Key { get; }

    /// <summary>The key's bucket hash (<see cref="KeyHash.Compute"/>); its shard comes from the key's hash slot (<see cref="KeyHash.Slot"/>).</summary>
    public int Hash { get; }

    /// <summary>The value: <c>byte[]</c> for a string, <see cref="SortedHash"/> for a hash. Never mutated after publication.</summary>
    public object Value { get; }

    /// <summary>Absolute expiry time in Unix milliseconds, or 0 for none. A lookup at or after it sees the key missing (see <see cref="KeyspaceShard.Find"/>).</summary>
    public long ExpireAtMs { get; }

    /// <summary>
    /// Access word for eviction, written without a lock (a torn read is harmless): under LRU the
    /// <see cref="KeyLifetime.LruNow"/> of the last access (tenths of a second, 24 bits, wraps); under LFU Redis's
    /// word (minutes of the last decrement &lt;&lt; 8 | logarithmic counter). See <see cref="KeyLifetime"/>.
    /// </summary>
    public int LruClock;

    /// <summary>Next node in the same bucket (volatile read and write).</summary>
    internal KeyEntry? NextVolatile
    {
        get => Volatile.Read(ref _next);
        set => Volatile.Write(ref _next, value);
    }

    /// <summary>The value's type.</summary>
    public ValueType Type => Value switch
    {
        byte[] => ValueType.String,
        SortedHash => ValueType.Hash,
        _ => throw new InvalidOperationException($"Unknown value type {Value.GetType()}"),
    };

    /// <summary>The value as a string, or null when it holds another type.</summary>
    public byte[]? StringValue => Value as byte[];

    /// <summary>The value as a hash, or null when it holds another type.</summary>
    public SortedHash? HashValue => Value as SortedHash;

    /// <summary>Bytes the value occupies, as INFO's <c>value_bytes</c> counts them (a string: its length; a hash: its fields' and values' lengths, kept by the hash).</summary>
    public long ValueBytes => Value switch
    {
        byte[] s => s.Length,
        SortedHash h => h.Bytes,
        _ => 0,
    };

    /// <summary>Managed-heap bytes of a <c>byte[]</c> of <paramref name="length"/> bytes on 64-bit .NET: 24 bytes of header and length, data rounded up to 8.</summary>
    internal static long ArrayBytes(int length) => 24 + ((length + 7L) & ~7L);

    /// <summary>Bytes of this node object: 16 bytes of header and method table, 40 of fields.</summary>
    internal const int NodeBytes = 56;

    /// <summary>
    /// Estimated managed-heap bytes this entry holds (INFO <c>used_memory</c>, maxmemory): the node, the key array, and
    /// the value — a string's array; a hash's fields and values with 8 bytes of per-field bookkeeping plus one
    /// 2 KB-leaf's overhead per 1.5 KB of data (see <see cref="SortedHash"/>).
    /// </summary>
    public long MemoryBytes => NodeBytes + ArrayBytes(Key.Length) + Value switch
    {
        byte[] s => ArrayBytes(s.Length),
        SortedHash h => 64 + h.Bytes + 8 * h.Count + 48 * (h.Bytes / 1536 + 1),
        _ => 0,
    };

    /// <summary>The same key and value in a node with another successor (used when a chain is rebuilt).</summary>
    internal KeyEntry WithNext(KeyEntry? next) => new(Key, Hash, Value, ExpireAtMs, next) { LruClock = LruClock };
}
