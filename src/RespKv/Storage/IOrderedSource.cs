namespace RespKv.Storage;

/// <summary>
/// A collection whose elements (members, or fields with values) can be walked from a position in a total order of its
/// own that does not change while an element is present: what a position cursor (SSCAN: <c>Commands.OrderedScan</c>)
/// needs. <see cref="SetValue"/> is one (its hashtable encoding ordered by (hash, member)); a <see cref="SortedHash"/> (unsigned
/// byte order) can be one through a one-line wrapper.
/// </summary>
public interface IOrderedSource
{
    /// <summary>
    /// Visits the elements at or after <paramref name="start"/>'s position (strictly after when
    /// <paramref name="exclusive"/>; <paramref name="start"/> need not be an element; an empty start that is not exclusive
    /// means the first element) in the collection's order until the visitor returns false.
    /// </summary>
    void ForEachFrom<TVisitor>(scoped ReadOnlySpan<byte> start, bool exclusive, ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct;

    /// <summary>
    /// True when that order is unsigned byte order (<see cref="SortedHash"/>): a scan with a literal MATCH prefix may then
    /// seek to the prefix and stop past it; false when it is another order (a hash order), and such a scan examines every element.
    /// </summary>
    bool InByteOrder { get; }
}
