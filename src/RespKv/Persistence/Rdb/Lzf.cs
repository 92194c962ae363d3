namespace RespKv.Persistence.Rdb;

/// <summary>
/// LZF decompression (Marc Lehmann's liblzf, <c>src/lzf_d.c</c> in Redis), for RDB strings that redis-server stored
/// compressed (<c>RDB_ENC_LZF</c>: it compresses strings longer than 20 bytes when <c>rdbcompression</c> is yes).
/// The stream is a sequence of runs, each starting with a control byte <c>c</c>: <c>c &lt; 32</c> is a literal of
/// <c>c + 1</c> bytes that follow; otherwise a back reference of length <c>(c &gt;&gt; 5) + 2</c> (when <c>c &gt;&gt; 5</c> is 7,
/// plus the next byte) to offset <c>((c &amp; 0x1f) &lt;&lt; 8) + next byte + 1</c> bytes back in the output (the copy may overlap
/// itself). <see cref="Compress"/> is liblzf's <c>lzf_compress</c> as Redis 7.0 builds it (<c>lzfP.h</c>: <c>HLOG</c> 16,
/// <c>VERY_FAST</c>), so RespKv compresses an RDB string to the same bytes redis-server writes.
/// </summary>
public static class Lzf
{
    private const int HashLog = 16;
    private const int MaxLiteral = 1 << 5;
    private const int MaxOffset = 1 << 13;
    private const int MaxReference = (1 << 8) + (1 << 3);

    [ThreadStatic] private static int[]? t_table;
    [ThreadStatic] private static int[]? t_stamps;
    [ThreadStatic] private static int t_generation;

    private static void Remember(int[] table, int[] stamps, int slot, int position, int generation)
    {
        table[slot] = position;
        stamps[slot] = generation;
    }

    /// <summary>liblzf's hash of the three bytes at a position (<c>IDX</c> with <c>VERY_FAST</c>): 32-bit unsigned arithmetic.</summary>
    private static int Index(uint h) => (int)(((h >> (3 * 8 - HashLog)) - h * 5) & ((1 << HashLog) - 1));

    /// <summary>
    /// Compresses <paramref name="input"/> into at most <paramref name="outputLength"/> bytes of <paramref name="output"/> (which
    /// must hold <paramref name="outputLength"/> + 8: liblzf may write a run header past the limit before it checks) as liblzf's
    /// <c>lzf_compress</c> (with its hash table cleared, as liblzf's <c>INIT_HTAB</c> build); returns the compressed length, or
    /// 0 when it does not fit (lzf_compress returning 0) or the input is shorter than 3 bytes. Allocates nothing (the hash
    /// table is per thread).
    /// </summary>
    public static int Compress(ReadOnlySpan<byte> input, int outputLength, byte[] output)
    {
        int inEnd = input.Length;
        if (inEnd < 3 || outputLength <= 0) return 0;
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, outputLength + 8);
        // The hash table, per thread and reused: an entry counts only when its stamp is this call's generation, which reads
        // as liblzf's cleared table without clearing 256 KB (or allocating it on the large object heap) per string.
        int[] table = t_table ??= new int[1 << HashLog]; // position + 1
        int[] stamps = t_stamps ??= new int[1 << HashLog];
        int generation = ++t_generation;
        if (generation == int.MaxValue)
        {
            Array.Clear(stamps);
            t_generation = generation = 1;
        }
        int outEnd = outputLength;
        int ip = 0, op = 0, lit = 0;
        op++; // start run
        uint hval = (uint)((input[0] << 8) | input[1]);
        while (ip < inEnd - 2)
        {
            hval = (hval << 8) | input[ip + 2];
            int slot = Index(hval);
            int reference = stamps[slot] == generation ? table[slot] - 1 : -1;
            table[slot] = ip + 1;
            stamps[slot] = generation;
            int off = ip - reference - 1;
            if (reference > 0 && off >= 0 && off < MaxOffset
                && input[reference + 2] == input[ip + 2] && input[reference] == input[ip] && input[reference + 1] == input[ip + 1])
            {
                int len = 2;
                int maxLen = Math.Min(inEnd - ip - len, MaxReference);
                if (op + 3 + 1 >= outEnd && op - (lit == 0 ? 1 : 0) + 3 + 1 >= outEnd) return 0;
                output[op - lit - 1] = (byte)(lit - 1); // stop run
                op -= lit == 0 ? 1 : 0; // undo run if length is zero
                bool stopped = false;
                if (maxLen > 16)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        len++;
                        if (input[reference + len] != input[ip + len])
                        {
                            stopped = true;
                            break;
                        }
                    }
                }
                if (!stopped)
                {
                    do len++;
                    while (len < maxLen && input[reference + len] == input[ip + len]);
                }
                len -= 2; // octets - 1
                ip++;
                if (len < 7) output[op++] = (byte)((off >> 8) + (len << 5));
                else
                {
                    output[op++] = (byte)((off >> 8) + (7 << 5));
                    output[op++] = (byte)(len - 7);
                }
                output[op++] = (byte)off;
                lit = 0;
                op++; // start run
                ip += len + 1;
                if (ip >= inEnd - 2) break;
                ip -= 2;
                hval = (uint)((input[ip] << 8) | input[ip + 1]);
                hval = (hval << 8) | input[ip + 2];
                Remember(table, stamps, Index(hval), ip + 1, generation);
                ip++;
                hval = (hval << 8) | input[ip + 2];
                Remember(table, stamps, Index(hval), ip + 1, generation);
                ip++;
            }
            else
            {
                if (op >= outEnd) return 0;
                Literal(input, output, ref ip, ref op, ref lit);
            }
        }
        if (op + 3 > outEnd) return 0;
        while (ip < inEnd) Literal(input, output, ref ip, ref op, ref lit);
        output[op - lit - 1] = (byte)(lit - 1); // end run
        op -= lit == 0 ? 1 : 0;
        return op <= outEnd ? op : 0;
    }

    /// <summary>Copies one input byte into the current literal run, closing the run at <see cref="MaxLiteral"/> bytes and starting the next.</summary>
    private static void Literal(ReadOnlySpan<byte> input, byte[] output, ref int ip, ref int op, ref int lit)
    {
        lit++;
        output[op++] = input[ip++];
        if (lit == MaxLiteral)
        {
            output[op - lit - 1] = (byte)(lit - 1); // stop run
            lit = 0;
            op++; // start run
        }
    }

    /// <summary>
    /// Decompresses <paramref name="input"/> into <paramref name="output"/>; returns the bytes written, or -1 when the
    /// input is corrupt (a reference before the start of the output, a run past the end of the input) or the output
    /// is too small — as <c>lzf_decompress</c> returning 0 with <c>EINVAL</c>/<c>E2BIG</c>.
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0, op = 0;
        while (ip < input.Length)
        {
            int ctrl = input[ip++];
            if (ctrl < 32)
            {
                int literal = ctrl + 1;
                if (op + literal > output.Length || ip + literal > input.Length) return -1;
                input.Slice(ip, literal).CopyTo(output[op..]);
                ip += literal;
                op += literal;
                continue;
            }
            int length = ctrl >> 5;
            if (length == 7)
            {
                if (ip >= input.Length) return -1;
                length += input[ip++];
            }
            if (ip >= input.Length) return -1;
            int reference = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++];
            length += 2;
            if (op + length > output.Length || reference < 0) return -1;
            // Byte by byte: a reference may overlap the bytes it produces (a run of one repeated byte).
            for (int i = 0; i < length; i++) output[op++] = output[reference++];
        }
        return op;
    }
}
