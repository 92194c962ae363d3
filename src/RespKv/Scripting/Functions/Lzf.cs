namespace RespKv.Scripting.Functions;

/// <summary>
/// LZF decompression (Marc Lehmann's liblzf, <c>src/lzf_d.c</c> in Redis), for RDB strings that redis-server stored
/// compressed (<c>RDB_ENC_LZF</c>: it compresses strings longer than 20 bytes when <c>rdbcompression</c> is yes).
/// The stream is a sequence of runs, each starting with a control byte <c>c</c>: <c>c &lt; 32</c> is a literal of
/// <c>c + 1</c> bytes that follow; otherwise a back reference of length <c>(c &gt;&gt; 5) + 2</c> (when <c>c &gt;&gt; 5</c> is 7,
/// plus the next byte) to offset <c>((c &amp; 0x1f) &lt;&lt; 8) + next byte + 1</c> bytes back in the output (the copy may overlap
/// itself). RespKv writes its own payloads uncompressed, so it has no compressor.
/// </summary>
public static class Lzf
{
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
