namespace RespKv.Storage;

/// <summary>
/// A collection whose elements (members, or fields with values) can be walked in unsigned byte order from a position:
/// what a position cursor (SSCAN, HSCAN: <c>Commands.OrderedScan</c>) needs. <see cref="SetValue"/> is one; a <see cref="SortedHash"/> is
/// one through a one-line wrapper.
/// </summary>
public interface IOrderedSource
{
    /// <summary>
    /// Visits the elements at or after <paramref name="start"/> (strictly after when <paramref name="exclusive"/>) in byte
    /// order until the visitor returns false (<see cref="SortedHash.ForEachFrom"/>'s contract).
    /// </summary>
    void ForEachFrom<TVisitor>(scoped ReadOnlySpan<byte> start, bool exclusive, ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct;
}
