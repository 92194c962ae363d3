using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Commands;

/// <summary>Writes the element at a rank (0-based) of the collection a random pick reads.</summary>
internal interface IRankWriter
{
    /// <summary>Writes the element at <paramref name="rank"/> (and its value or score when asked).</summary>
    void WriteRank(long rank);
}

/// <summary>
/// The random picks of HRANDFIELD and ZRANDMEMBER (Redis 7.0's <c>hrandfieldWithCountCommand</c>/<c>zrandmemberWithCountCommand</c>):
/// parsing <c>count [WITHVALUES|WITHSCORES]</c> and choosing the ranks to reply.
/// </summary>
internal static class RandomPicks
{
    /// <summary>
    /// Largest |count| accepted for a negative count. Redis 7.0 would try to stream that many replies and run out of memory;
    /// RespKv answers <c>-ERR value is out of range</c> beyond this (an intentional difference).
    /// </summary>
    public const long MaxRepeats = 100_000_000;

    /// <summary>
    /// Parses <c>args[2]</c> (count) and the optional <c>args[3]</c> (<paramref name="withToken"/>). Errors, replied here:
    /// count not an integer <c>-ERR value is not an integer or out of range</c>; count = -2^63 <c>-ERR value is out of range,
    /// value must between -9223372036854775807 and 9223372036854775807</c>; a fourth argument other than the token, or more,
    /// <c>-ERR syntax error</c>; with the token |count| &gt; 2^62, or count &lt; -<see cref="MaxRepeats"/>, <c>-ERR value is out of range</c>.
    /// </summary>
    public static bool TryParseCount(RespWriter w, in CommandArgs args, ReadOnlySpan<byte> withToken, out long count, out bool with)
    {
        with = false;
        if (!RespInteger.TryParse(args[2], out count))
        {
            w.WriteError(CommandErrors.NotInteger);
            return false;
        }
        if (count == long.MinValue)
        {
            w.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return false;
        }
        if (args.Count > 4 || (args.Count == 4 && !args.Is(3, withToken)))
        {
            w.WriteError(CommandErrors.Syntax);
            return false;
        }
        with = args.Count == 4;
        if ((with && (count < -long.MaxValue / 2 || count > long.MaxValue / 2)) || count < -MaxRepeats)
        {
            w.WriteError("ERR value is out of range");
            return false;
        }
        return true;
    }

    /// <summary>
    /// Writes the array of a pick of <paramref name="count"/> (non-zero) from <paramref name="size"/> (≥ 1) elements: negative,
    /// |count| independent picks (repeats possible); count ≥ size, every element in order; else count distinct elements
    /// (selection sampling in order when they are many, distinct random ranks in the order drawn when few).
    /// <paramref name="flatPairs"/>: each element takes two array slots (RESP2 WITHVALUES/WITHSCORES).
    /// </summary>
    public static void Write<T>(RespWriter w, long size, long count, bool flatPairs, ref T writer) where T : IRankWriter, allows ref struct
    {
        Random random = Random.Shared;
        if (count < 0 || count == 1)
        {
            long n = count < 0 ? -count : 1;
            w.WriteArrayHeader(flatPairs ? n * 2 : n);
            for (long i = 0; i < n; i++) writer.WriteRank(random.NextInt64(size));
            return;
        }
        long replies = Math.Min(count, size);
        w.WriteArrayHeader(flatPairs ? replies * 2 : replies);
        if (count >= size)
        {
            for (long rank = 0; rank < size; rank++) writer.WriteRank(rank);
            return;
        }
        if (count * 3 > size)
        {
            // Many of the elements: selection sampling (Knuth's algorithm S) keeps each with the right probability, in order.
            long needed = count;
            for (long rank = 0; rank < size && needed > 0; rank++)
            {
                if (random.NextInt64(size - rank) >= needed) continue;
                writer.WriteRank(rank);
                needed--;
            }
            return;
        }
        // Few of the elements: distinct random ranks, in the order drawn.
        var picked = new HashSet<long>();
        while (picked.Count < count)
        {
            long rank = random.NextInt64(size);
            if (picked.Add(rank)) writer.WriteRank(rank);
        }
    }
}
