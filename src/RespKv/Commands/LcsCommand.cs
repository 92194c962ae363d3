using System.Buffers;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// <c>LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]</c> with Redis 7.0.15's replies and errors
/// (https://redis.io/commands/lcs/, Redis's <c>lcsCommand</c> in <c>t_string.c</c>): the longest common subsequence of two
/// string values (a missing key is the empty string), by the classic (|a| + 1) × (|b| + 1) table of 32-bit lengths, walked
/// back from the end exactly as Redis walks it, so the subsequence and the match ranges are Redis's.
/// </summary>
public static class LcsCommand
{
    /// <summary>This command's row of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("lcs", -3, ReadOnly, 1, 2, 1, "string", "Find longest common substring", Lcs),
    ];

    /// <summary>
    /// Replies the subsequence as a bulk string; with <c>LEN</c> its length; with <c>IDX</c> a map (RESP2: a flat array)
    /// <c>matches</c> → the contiguous match ranges from the end backwards, each [[a-start, a-end], [b-start, b-end]] (plus the
    /// length with <c>WITHMATCHLEN</c>; ranges shorter than <c>MINMATCHLEN</c> left out, a negative value is 0), then
    /// <c>len</c> → the length. Errors in Redis's order: a key holding another type <c>-ERR The specified keys must contain
    /// string values</c>; an unknown option <c>-ERR syntax error</c>; a MINMATCHLEN that is not an integer <c>-ERR value is
    /// not an integer or out of range</c>; LEN with IDX <c>-ERR If you want both the length and indexes, please just use
    /// IDX.</c>; a table above <c>proto-max-bulk-len</c> bytes <c>-ERR Insufficient memory, transient memory for LCS exceeds
    /// proto-max-bulk-len</c>.
    /// </summary>
    private static void Lcs(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        Database db = context.Database;
        KeyEntry? entryA = db.Find(args[1]);
        context.CountLookup(entryA != null, args[1]);
        KeyEntry? entryB = db.Find(args[2]);
        context.CountLookup(entryB != null, args[2]);
        if ((entryA != null && entryA.Value is not byte[]) || (entryB != null && entryB.Value is not byte[]))
        {
            w.WriteError("ERR The specified keys must contain string values");
            return;
        }
        ReadOnlySpan<byte> a = (byte[]?)entryA?.Value ?? [], b = (byte[]?)entryB?.Value ?? [];
        bool getLen = false, getIdx = false, withMatchLen = false;
        long minMatchLen = 0;
        for (int j = 3; j < args.Count; j++)
        {
            bool more = args.Count - 1 - j > 0;
            if (args.Is(j, "IDX"u8)) getIdx = true;
            else if (args.Is(j, "LEN"u8)) getLen = true;
            else if (args.Is(j, "WITHMATCHLEN"u8)) withMatchLen = true;
            else if (args.Is(j, "MINMATCHLEN"u8) && more)
            {
                if (!RespInteger.TryParse(args[j + 1], out minMatchLen))
                {
                    w.WriteError(CommandErrors.NotInteger);
                    return;
                }
                if (minMatchLen < 0) minMatchLen = 0;
                j++;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if (getLen && getIdx)
        {
            w.WriteError("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }
        long cells = (long)(a.Length + 1) * (b.Length + 1);
        if (cells * sizeof(uint) > RespLimits.MaxBulkLength)
        {
            w.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        uint[] table = ArrayPool<uint>.Shared.Rent((int)cells);
        try
        {
            Reply(w, a, b, table, getLen, getIdx, withMatchLen, minMatchLen);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(table);
        }
    }

    /// <summary>Fills the table (row i, column j: the LCS length of a[..i] and b[..j]) and replies as <see cref="Lcs"/> describes.</summary>
    private static void Reply(RespWriter w, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, uint[] lcs, bool getLen, bool getIdx, bool withMatchLen, long minMatchLen)
    {
        int alen = a.Length, blen = b.Length, stride = blen + 1;
        for (int i = 0; i <= alen; i++)
        {
            int row = i * stride;
            for (int j = 0; j <= blen; j++)
            {
                if (i == 0 || j == 0) lcs[row + j] = 0;
                else if (a[i - 1] == b[j - 1]) lcs[row + j] = lcs[row - stride + j - 1] + 1;
                else lcs[row + j] = Math.Max(lcs[row - stride + j], lcs[row + j - 1]);
            }
        }
        uint length = lcs[alen * stride + blen];
        if (getLen)
        {
            w.WriteInteger(length);
            return;
        }
        // The walk back: the subsequence's bytes from its end, and with IDX the contiguous ranges (5 numbers each).
        byte[] result = ArrayPool<byte>.Shared.Rent((int)length);
        uint[]? ranges = getIdx ? ArrayPool<uint>.Shared.Rent(5 * 16) : null;
        int rangeCount = 0;
        try
        {
            int idx = (int)length;
            int ai = alen, bj = blen;
            int aStart = alen, aEnd = 0, bStart = 0, bEnd = 0; // aStart == alen: no range open
            while (ai > 0 && bj > 0)
            {
                bool emit = false;
                if (a[ai - 1] == b[bj - 1])
                {
                    result[idx - 1] = a[ai - 1];
                    if (aStart == alen)
                    {
                        aStart = aEnd = ai - 1;
                        bStart = bEnd = bj - 1;
                    }
                    else if (aStart == ai && bStart == bj)
                    {
                        aStart--;
                        bStart--;
                    }
                    else emit = true;
                    if (aStart == 0 || bStart == 0) emit = true;
                    idx--;
                    ai--;
                    bj--;
                }
                else
                {
                    if (lcs[(ai - 1) * stride + bj] > lcs[ai * stride + bj - 1]) ai--;
                    else bj--;
                    if (aStart != alen) emit = true;
                }
                if (!emit) continue;
                uint matchLen = (uint)(aEnd - aStart + 1);
                if (ranges != null && (minMatchLen == 0 || matchLen >= minMatchLen))
                {
                    if (5 * (rangeCount + 1) > ranges.Length)
                    {
                        uint[] larger = ArrayPool<uint>.Shared.Rent(ranges.Length * 2);
                        ranges.AsSpan(0, 5 * rangeCount).CopyTo(larger);
                        ArrayPool<uint>.Shared.Return(ranges);
                        ranges = larger;
                    }
                    Span<uint> range = ranges.AsSpan(5 * rangeCount++, 5);
                    range[0] = (uint)aStart;
                    range[1] = (uint)aEnd;
                    range[2] = (uint)bStart;
                    range[3] = (uint)bEnd;
                    range[4] = matchLen;
                }
                aStart = alen;
            }
            if (ranges == null)
            {
                w.WriteBulkString(result.AsSpan(0, (int)length));
                return;
            }
            w.WriteMapHeader(2);
            w.WriteBulkString("matches"u8);
            w.WriteArrayHeader(rangeCount);
            for (int r = 0; r < rangeCount; r++)
            {
                ReadOnlySpan<uint> range = ranges.AsSpan(5 * r, 5);
                w.WriteArrayHeader(withMatchLen ? 3 : 2);
                w.WriteArrayHeader(2);
                w.WriteInteger(range[0]);
                w.WriteInteger(range[1]);
                w.WriteArrayHeader(2);
                w.WriteInteger(range[2]);
                w.WriteInteger(range[3]);
                if (withMatchLen) w.WriteInteger(range[4]);
            }
            w.WriteBulkString("len"u8);
            w.WriteInteger(length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(result);
            if (ranges != null) ArrayPool<uint>.Shared.Return(ranges);
        }
    }
}
