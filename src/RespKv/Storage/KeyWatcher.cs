namespace RespKv.Storage;

/// <summary>
/// Something that wants to know when a key changes: registered on the key's shard (<see cref="Database.Observe"/>)
/// and told by <see cref="KeyspaceShard.Mutated"/> — and by expiry, eviction, FLUSHDB/FLUSHALL of an existing key and
/// SWAPDB — under the shard's write lock. WATCH is one (<see cref="KeyWatcher"/>); a client blocked on a key is the next.
/// </summary>
public abstract class KeyObserver
{
    /// <summary>Called under the key's shard lock when an observed key changed; must be short and must not lock another shard.</summary>
    public abstract void KeyChanged();
}

/// <summary>
/// One client's WATCH state: observes each watched key (<see cref="Database.Observe"/>) and is marked modified
/// by any change to one of those keys — SET, DEL, RENAME away or onto, a hash change, expiry, FLUSHDB/FLUSHALL of an
/// existing key, SWAPDB — from any client, the watcher's own included (Redis's <c>CLIENT_DIRTY_CAS</c>). EXEC aborts
/// with a null array when it is set.
/// </summary>
public sealed class KeyWatcher : KeyObserver
{
    private volatile bool _modified;

    /// <summary>True when a watched key was written since the flag was last cleared.</summary>
    public bool Modified => _modified;

    /// <summary>Set by the shard's writer (under its lock) when a watched key changes.</summary>
    public override void KeyChanged() => _modified = true;

    /// <summary>Clears the flag (after UNWATCH, EXEC or DISCARD released every watch).</summary>
    public void Reset() => _modified = false;
}

/// <summary>Byte-exact equality of byte strings, for <c>byte[]</c> keys and allocation-free span lookups.</summary>
internal sealed class ByteStringComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteStringComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x != null && y != null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => KeyHash.Compute(obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => KeyHash.Compute(alternate);

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
