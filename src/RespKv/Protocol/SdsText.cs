using System.Text;

namespace RespKv.Protocol;

/// <summary>
/// Redis's sds.c text helpers: <c>sdssplitargs</c> (redis.conf lines, redis-cli input) and <c>sdscatrepr</c>
/// (quoted, escaped values in CONFIG REWRITE output and MONITOR lines).
/// </summary>
public static class SdsText
{
    /// <summary>
    /// Splits a line into arguments exactly as Redis's <c>sdssplitargs</c> does; null when quotes are
    /// unbalanced or a closing quote is not followed by a space or the end of the line.
    /// </summary>
    public static List<string>? SplitArgs(string line)
    {
        var result = new List<string>();
        int p = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p])) p++;
            if (p >= line.Length) return result;

            var current = new StringBuilder();
            char quote = '\0'; // the open quote, '"' or '\'', or none
            bool done = false;
            while (!done)
            {
                char c = p < line.Length ? line[p] : '\0';
                char next = p + 1 < line.Length ? line[p + 1] : '\0';
                if (quote != '\0')
                {
                    if (quote == '"' && c == '\\' && next == 'x' && p + 3 < line.Length && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        current.Append((char)(HexValue(line[p + 2]) * 16 + HexValue(line[p + 3])));
                        p += 3;
                    }
                    else if (quote == '"' && c == '\\' && next != '\0')
                    {
                        p++;
                        current.Append(next switch { 'n' => '\n', 'r' => '\r', 't' => '\t', 'b' => '\b', 'a' => '\a', _ => next });
                    }
                    else if (quote == '\'' && c == '\\' && next == '\'')
                    {
                        p++;
                        current.Append('\'');
                    }
                    else if (c == quote)
                    {
                        // A closing quote must be followed by a space or the end of the line.
                        if (next != '\0' && !IsSpace(next)) return null;
                        done = true;
                    }
                    else if (c == '\0')
                    {
                        return null; // unterminated quotes
                    }
                    else
                    {
                        current.Append(c);
                    }
                }
                else
                {
                    switch (c)
                    {
                        case ' ' or '\n' or '\r' or '\t' or '\0':
                            done = true;
                            break;
                        case '"' or '\'':
                            quote = c;
                            break;
                        default:
                            current.Append(c);
                            break;
                    }
                }
                if (p < line.Length) p++;
            }
            result.Add(current.ToString());
        }
    }

    /// <summary>
    /// Quotes <paramref name="value"/> as Redis's <c>sdscatrepr</c> does (<c>"a\"b"</c>, control characters
    /// as <c>\n</c> or <c>\xHH</c>), so <see cref="SplitArgs"/> reads it back as the same single argument.
    /// Characters above U+007F are kept as they are (the file is UTF-8).
    /// </summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        Span<byte> escape = stackalloc byte[4];
        foreach (char c in value)
        {
            if (c > 0x7f) sb.Append(c);
            else
                foreach (byte b in escape[..Escape((byte)c, escape)]) sb.Append((char)b);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// Appends <paramref name="value"/> to <paramref name="text"/> exactly as <c>sdscatrepr</c> does: in double quotes,
    /// <c>\</c> and <c>"</c> escaped with a backslash, <c>\n \r \t \a \b</c>, any other byte outside
    /// 0x20..0x7E as <c>\xhh</c> (lower-case hex).
    /// </summary>
    public static void AppendRepr(List<byte> text, ReadOnlySpan<byte> value)
    {
        Span<byte> escape = stackalloc byte[4];
        text.Add((byte)'"');
        foreach (byte b in value) text.AddRange(escape[..Escape(b, escape)]);
        text.Add((byte)'"');
    }

    /// <summary>Writes <c>sdscatrepr</c>'s form of one byte into <paramref name="output"/> (1 to 4 bytes); returns its length.</summary>
    private static int Escape(byte b, Span<byte> output)
    {
        char named = b switch
        {
            (byte)'\\' => '\\', (byte)'"' => '"', (byte)'\n' => 'n', (byte)'\r' => 'r', (byte)'\t' => 't', (byte)'\a' => 'a', (byte)'\b' => 'b',
            _ => '\0',
        };
        if (named != '\0')
        {
            output[0] = (byte)'\\';
            output[1] = (byte)named;
            return 2;
        }
        if (b >= 0x20 && b <= 0x7e)
        {
            output[0] = b;
            return 1;
        }
        output[0] = (byte)'\\';
        output[1] = (byte)'x';
        output[2] = (byte)"0123456789abcdef"[b >> 4];
        output[3] = (byte)"0123456789abcdef"[b & 15];
        return 4;
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
