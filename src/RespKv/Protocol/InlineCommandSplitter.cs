namespace RespKv.Protocol;

/// <summary>
/// Splits an inline command line (what telnet and <c>redis-cli</c> in inline mode send) into arguments
/// exactly as Redis's <c>sdssplitargs</c> (sds.c) does: blanks separate arguments; "double quotes"
/// take the escapes \n \r \t \b \a \\ \" and \xHH; 'single quotes' take \' only; a closing quote must
/// be followed by a blank or the end of the line.
/// </summary>
internal static class InlineCommandSplitter
{
    /// <summary>
    /// Splits <paramref name="line"/> (without its line terminator) writing unescaped argument bytes to
    /// <paramref name="output"/> (at least <c>line.Length</c> bytes) and their slices to <paramref name="slices"/>.
    /// </summary>
    /// <returns>False on unbalanced quotes (Redis: <c>-ERR Protocol error: unbalanced quotes in request</c>).</returns>
    public static bool TrySplit(ReadOnlySpan<byte> line, Span<byte> output, List<ArgSlice> slices)
    {
        slices.Clear();
        int p = 0, o = 0;
        // A NUL byte ends the string, as it does for sdssplitargs' C string.
        int nul = line.IndexOf((byte)0);
        if (nul >= 0) line = line[..nul];
        while (true)
        {
            while (p < line.Length && IsSpace(line[p])) p++;
            if (p >= line.Length) return true;
            bool inDouble = false, inSingle = false, done = false;
            int start = o;
            while (!done)
            {
                bool atEnd = p >= line.Length;
                byte c = atEnd ? (byte)0 : line[p];
                if (inDouble)
                {
                    if (atEnd) return false;
                    if (c == '\\' && p + 3 < line.Length && line[p + 1] == 'x' && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        output[o++] = (byte)(HexValue(line[p + 2]) * 16 + HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (c == '\\' && p + 1 < line.Length)
                    {
                        p++;
                        output[o++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            _ => line[p],
                        };
                    }
                    else if (c == '"')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1])) return false;
                        done = true;
                    }
                    else output[o++] = c;
                }
                else if (inSingle)
                {
                    if (atEnd) return false;
                    if (c == '\\' && p + 1 < line.Length && line[p + 1] == '\'')
                    {
                        p++;
                        output[o++] = (byte)'\'';
                    }
                    else if (c == '\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1])) return false;
                        done = true;
                    }
                    else output[o++] = c;
                }
                else
                {
                    switch (c)
                    {
                        case (byte)' ': case (byte)'\n': case (byte)'\r': case (byte)'\t': case 0:
                            done = true;
                            break;
                        case (byte)'"': inDouble = true; break;
                        case (byte)'\'': inSingle = true; break;
                        default: output[o++] = c; break;
                    }
                }
                if (!atEnd) p++;
            }
            slices.Add(new ArgSlice(start, o - start));
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';
    private static bool IsHex(byte b) => (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
