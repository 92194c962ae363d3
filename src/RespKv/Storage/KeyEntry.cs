using RespKv.Storage.Kinds;

namespace RespKv.Storage;

/// <summary>
/// One key and its value: a node in a shard's bucket chain. Key and expiry are immutable once published, so
/// lock-free readers always see a key, value and expiry that belong together. Written in place: the chain link (by
/// the shard's writer, with a single volatile reference write), <see cref="LruClock"/> (a torn read of it is harmless),
/// and a string's value replaced by another string under the same expiry (<see cref="ReplaceValue"/>: one volatile
/// reference write of an immutable array, so a reader sees the old string or the new one, whole); any other write
/// replaces the node.
/// </summary>
public sealed class KeyEntry
{
    /// <summary>A node; <paramref name="value"/> is a value of a registered <see cref="ValueKind"/> (<c>byte[]</c> for strings, <see cref="SortedHash"/> for hashes).</summary>
    internal KeyEntry(byte[] key, int hash, object value, long expireAtMs, KeyEntry? next)
    {
        Key = key;
        Hash = hash;
        _value = value;
        ExpireAtMs = expireAtMs;
        _next = next;
    }

    private KeyEntry? _next;
    private object _value;

    /// <summary>The key bytes (never mutated).</summary>
    public byte[] Key { get; }

    /// <summary>The key's bucket hash (<see cref="KeyHash.Compute"/>); its shard comes from the key's hash slot (<see cref="KeyHash.Slot"/>).</summary>
    public int Hash { get; }

    /// <summary>
    /// The value: <c>byte[]</c> for a string, <see cref="SortedHash"/> for a hash, or another registered kind's value. Never
    /// mutated after publication unless its kind is <see cref="ValueKind.MutatedInPlace"/> (then only under the shard lock).
    /// </summary>
    public object Value => _value;

    /// <summary>
    /// Replaces a string value by another string in place (caller holds the shard lock, the expiry is unchanged, and no
    /// snapshot holds entries: <see cref="KeyLifetime.SnapshotHeld"/>). A release store: the new array's bytes are visible
    /// before the reference. Read <see cref="Value"/> once per use: two reads may see two strings.
    /// </summary>
    internal void ReplaceValue(byte[] value) => Volatile.Write(ref _value, value);

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

    /// <summary>The value's kind (its TYPE name, encoding, memory figures, AOF rewrite…); throws for an unregistered value type.</summary>
    public ValueKind Kind => ValueKinds.Of(Value);

    /// <summary>The value as a string, or null when it holds another type.</summary>
    public byte[]? StringValue => Value as byte[];

    /// <summary>Bytes the value occupies, as INFO's <c>value_bytes</c> counts them (<see cref="ValueKind.ValueBytes"/>; a string's length inline).</summary>
    public long ValueBytes
    {
        get
        {
            object value = Value;
            return value is byte[] s ? s.Length : ValueKinds.Of(value).ValueBytes(value);
        }
    }

    /// <summary>Managed-heap bytes of a <c>byte[]</c> of <paramref name="length"/> bytes on 64-bit .NET: 24 bytes of header and length, data rounded up to 8.</summary>
    internal static long ArrayBytes(int length) => 24 + ((length + 7L) & ~7L);

    /// <summary>Bytes of this node object: 16 bytes of header and method table, 40 of fields.</summary>
    internal const int NodeBytes = 56;

    /// <summary>
    /// Estimated managed-heap bytes this entry holds (INFO <c>used_memory</c>, maxmemory, MEMORY USAGE): the node, the key
    /// array, and the value's <see cref="ValueKind.MemoryBytes"/> (a string's array inline, without a kind lookup).
    /// </summary>
    public long MemoryBytes
    {
        get
        {
            object value = Value;
            return NodeBytes + ArrayBytes(Key.Length) + (value is byte[] s ? ArrayBytes(s.Length) : ValueKinds.Of(value).MemoryBytes(value));
        }
    }

    /// <summary>The same key and value in a node with another successor (used when a chain is rebuilt).</summary>
    internal KeyEntry WithNext(KeyEntry? next) => new(Key, Hash, Value, ExpireAtMs, next) { LruClock = LruClock };
}
