using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Commands;

/// <summary>Receives the ranks <see cref="RandomRanks.Distinct"/> picks.</summary>
internal interface IRankSink
{
    /// <summary>One picked 0-based rank.</summary>
    void Take(long rank);
}

/// <summary>
/// Random picks of distinct elements of a collection addressed by rank (SRANDMEMBER with a positive count; HRANDFIELD
/// has the same two strategies): each of the <c>size</c> choose <c>count</c> subsets is equally likely.
/// </summary>
internal static class RandomRanks
{
    /// <summary>
    /// Gives <paramref name="sink"/> <paramref name="count"/> distinct ranks below <paramref name="size"/> (0 &lt; count &lt; size).
    /// Many of them (count &gt; size/3): selection sampling (Knuth's algorithm S), in rank order, allocating nothing; few:
    /// distinct random ranks in the order drawn, remembered in a set of <paramref name="count"/> entries.
    /// </summary>
    public static void Distinct<TSink>(long size, long count, Random random, ref TSink sink) where TSink : IRankSink, allows ref struct
    {
        if (count * 3 > size)
        {
            long needed = count;
            for (long rank = 0; rank < size && needed > 0; rank++)
            {
                if (random.NextInt64(size - rank) >= needed) continue;
                sink.Take(rank);
                needed--;
            }
            return;
        }
        var picked = new HashSet<long>();
        while (picked.Count < count)
        {
            long rank = random.NextInt64(size);
            if (picked.Add(rank)) sink.Take(rank);
        }
    }

    /// <summary>
    /// Parses the count of SRANDMEMBER (and HRANDFIELD): any 64-bit integer but -2^63 (Redis's range -LONG_MAX..LONG_MAX).
    /// Replies and returns false: not an integer <c>-ERR value is not an integer or out of range</c>; -2^63
    /// <c>-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807</c>.
    /// </summary>
    public static bool TryParseCount(RespWriter w, ReadOnlySpan<byte> text, out long count)
    {
        if (!RespInteger.TryParse(text, out count))
        {
            w.WriteError(CommandErrors.NotInteger);
            return false;
        }
        if (count != long.MinValue) return true;
        w.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        return false;
    }
}
