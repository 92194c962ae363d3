namespace RespKv.Storage;

/// <summary>
/// A value SORT and SORT_RO accept (Redis sorts sets, lists and sorted sets; a string or hash key answers WRONGTYPE):
/// its elements in the value's own order, which is what <c>BY nosort</c> returns: <see cref="SetValue"/> (its members in
/// its iteration order), <c>QuickList</c> (list order) and <see cref="SortedSetValue"/> (its members in score order).
/// </summary>
public interface ISortableValue
{
    /// <summary>Number of elements.</summary>
    long Count { get; }

    /// <summary>Calls <paramref name="visitor"/> with each element (and an empty value) in the value's order until it returns false.</summary>
    void ForEach<TVisitor>(ref TVisitor visitor) where TVisitor : IHashVisitor, allows ref struct;
}
