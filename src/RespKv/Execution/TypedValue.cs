using RespKv.Storage;

namespace RespKv.Execution;

/// <summary>
/// Reading a key that must hold one value type (<c>byte[]</c> for strings, <see cref="SortedHash"/> for
/// hashes), replying <c>-WRONGTYPE Operation against a key holding the wrong kind of value</c> when it holds
/// another.
/// </summary>
internal static class TypedValue
{
    /// <summary>
    /// Reads <paramref name="key"/> lock-free, counting a keyspace hit or miss. Replies WRONGTYPE and returns
    /// false when it holds another type; otherwise <paramref name="value"/> is the value or null when missing.
    /// </summary>
    public static bool TryRead<T>(CommandContext context, ReadOnlySpan<byte> key, out T? value) where T : class
    {
        KeyEntry? entry = context.Database.Find(key);
        context.CountLookup(entry != null, key);
        return TryGet(context, entry, out value);
    }

    /// <summary>The value of <paramref name="entry"/> (null when missing); replies WRONGTYPE and returns false for another type.</summary>
    public static bool TryGet<T>(CommandContext context, KeyEntry? entry, out T? value) where T : class
    {
        value = null;
        if (entry == null) return true;
        value = entry.Value as T;
        if (value != null) return true;
        context.Writer.WriteError(CommandErrors.WrongType);
        return false;
    }
}
