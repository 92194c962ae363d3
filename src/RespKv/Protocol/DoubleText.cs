using System.Globalization;

namespace RespKv.Protocol;

/// <summary>
/// Doubles as Redis 7.0 reads and prints them for sorted-set scores (util.c, object.c, t_zset.c): C's <c>strtod</c>
/// syntax (decimal with optional exponent, <c>inf</c>/<c>infinity</c> in any case with an optional sign, <c>0x</c>
/// hexadecimal) and <c>%.17g</c> output (17 significant digits, <c>inf</c>/<c>-inf</c>, integers without <c>.0</c>,
/// exponents as <c>e+20</c>). Allocation-free.
/// </summary>
public static class DoubleText
{
    /// <summary>Longest text <see cref="Format"/> writes (sign, 17 digits, point, exponent).</summary>
    public const int MaxLength = 32;

    /// <summary>
    /// Parses <paramref name="text"/> as Redis's <c>getDoubleFromObject</c> (ZADD scores, ZINCRBY, WEIGHTS): the whole
    /// text must be a number, no leading space, no NaN, and no overflow to ±inf or underflow to 0 of a finite literal.
    /// </summary>
    /// <returns>False where Redis replies <c>-ERR value is not a valid float</c>.</returns>
    public static bool TryParse(ReadOnlySpan<byte> text, out double value) => TryParse(text, strict: true, out value);

    /// <summary>
    /// Parses a score range bound as Redis's <c>zslParseRange</c> does with <c>strtod</c> alone: leading white space is
    /// skipped, an empty text is 0, an overflowing literal is ±inf; NaN and trailing characters are refused.
    /// </summary>
    public static bool TryParseLenient(ReadOnlySpan<byte> text, out double value)
    {
        int p = 0;
        while (p < text.Length && text[p] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') p++;
        if (p == text.Length)
        {
            value = 0; // strtod parsed nothing: 0, and the end pointer is at the (empty) end
            return p == 0;
        }
        return TryParse(text[p..], strict: false, out value);
    }

    private static bool TryParse(ReadOnlySpan<byte> text, bool strict, out double value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 5000) return false;
        int p = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            p = 1;
        }
        ReadOnlySpan<byte> rest = text[p..];
        if (System.Text.Ascii.EqualsIgnoreCase(rest, "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x')
        {
            if (!TryParseHex(rest[2..], out value)) return false;
            if (negative) value = -value;
            return !strict || !double.IsInfinity(value);
        }
        // Decimal: digits [. digits] [e [sign] digits]; at least one digit in the mantissa.
        int q = 0, digits = 0;
        bool nonZero = false;
        ulong integer = 0;
        while (q < rest.Length && IsDigit(rest[q]))
        {
            nonZero |= rest[q] != (byte)'0';
            integer = integer * 10 + (uint)(rest[q] - '0'); // wraps past 19 digits: used only up to 15
            q++;
            digits++;
        }
        // Only digits, at most 15 of them: an integer below 2^53, exact as a double (the common score; -0 stays -0).
        if (q == rest.Length && digits is > 0 and <= 15)
        {
            value = negative ? -(double)integer : integer;
            return true;
        }
        if (q < rest.Length && rest[q] == (byte)'.')
        {
            q++;
            while (q < rest.Length && IsDigit(rest[q]))
            {
                nonZero |= rest[q] != (byte)'0';
                q++;
                digits++;
            }
        }
        if (digits == 0) return false;
        if (q < rest.Length && (rest[q] | 0x20) == (byte)'e')
        {
            int e = q + 1;
            if (e < rest.Length && rest[e] is (byte)'+' or (byte)'-') e++;
            if (e >= rest.Length || !IsDigit(rest[e])) return false; // strtod stops before the 'e': trailing characters
            while (e < rest.Length && IsDigit(rest[e])) e++;
            q = e;
        }
        if (q != rest.Length) return false;
        if (!double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out value)) return false;
        if (strict && (double.IsInfinity(value) || (value == 0 && nonZero))) return false; // ERANGE
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static int HexValue(byte b) => IsDigit(b) ? b - '0' : (uint)((b | 0x20) - 'a') <= 5 ? (b | 0x20) - 'a' + 10 : -1;

    /// <summary>strtod's hexadecimal form after <c>0x</c>: hex digits [. hex digits] [p [sign] digits].</summary>
    private static bool TryParseHex(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        ulong mantissa = 0;
        long exponent = 0;
        int p = 0, digits = 0;
        bool dot = false, sticky = false;
        for (; p < s.Length; p++)
        {
            if (s[p] == (byte)'.' && !dot)
            {
                dot = true;
                continue;
            }
            int h = HexValue(s[p]);
            if (h < 0) break;
            digits++;
            if (mantissa >> 60 == 0)
            {
                mantissa = (mantissa << 4) | (uint)h;
                if (dot) exponent -= 4;
            }
            else
            {
                sticky |= h != 0;
                if (!dot) exponent += 4;
            }
        }
        if (digits == 0) return false;
        if (p < s.Length && (s[p] | 0x20) == (byte)'p')
        {
            int e = p + 1;
            bool neg = false;
            if (e < s.Length && s[e] is (byte)'+' or (byte)'-')
            {
                neg = s[e] == (byte)'-';
                e++;
            }
            if (e >= s.Length || !IsDigit(s[e])) return false;
            long exp = 0;
            while (e < s.Length && IsDigit(s[e])) exp = Math.Min(exp * 10 + (s[e++] - '0'), 100_000);
            exponent += neg ? -exp : exp;
            p = e;
        }
        if (p != s.Length) return false;
        if (sticky) mantissa |= 1;
        value = Math.ScaleB(mantissa, (int)Math.Clamp(exponent, -100_000, 100_000));
        return true;
    }

    /// <summary>
    /// Writes <paramref name="value"/> as C's <c>%.17g</c> (Redis's <c>addReplyDouble</c>, <c>rioWriteBulkDouble</c>):
    /// <c>inf</c>, <c>-inf</c>, <c>nan</c>, <c>-0</c>, <c>3</c>, <c>0.10000000000000001</c>, <c>1e+20</c>, <c>1.0000000000000001e-05</c>.
    /// </summary>
    /// <param name="value">The double.</param>
    /// <param name="destination">At least <see cref="MaxLength"/> bytes.</param>
    /// <returns>Bytes written.</returns>
    public static int Format(double value, Span<byte> destination)
    {
        if (double.IsPositiveInfinity(value)) return Copy("inf"u8, destination);
        if (double.IsNegativeInfinity(value)) return Copy("-inf"u8, destination);
        if (double.IsNaN(value)) return Copy("nan"u8, destination);
        // An integer below 10^17 in magnitude prints as its digits (%.17g uses no exponent there): integer formatting, far
        // cheaper than G17. -0 is left to G17 ("-0").
        if (Math.Abs(value) < 1e17 && value == Math.Truncate(value) && (value != 0 || !double.IsNegative(value)))
        {
            ((long)value).TryFormat(destination, out int digits, default, CultureInfo.InvariantCulture);
            return digits;
        }
        value.TryFormat(destination, out int n, "G17", CultureInfo.InvariantCulture);
        for (int i = 0; i < n; i++)
            if (destination[i] == (byte)'E') destination[i] = (byte)'e';
        return n;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    /// <summary>Writes <paramref name="value"/> as Redis's <c>addReplyDouble</c>: RESP3 <c>,text</c>, RESP2 a bulk string.</summary>
    public static void WriteScore(this RespWriter writer, double value)
    {
        Span<byte> text = stackalloc byte[MaxLength];
        int n = Format(value, text);
        writer.WriteDoubleText(text[..n]);
    }

    /// <summary>A double already printed as <paramref name="text"/>: RESP3 <c>,text</c>, RESP2 a bulk string (Redis's <c>addReplyDouble</c>, <c>addReplyHumanLongDouble</c>).</summary>
    public static void WriteDoubleText(this RespWriter writer, ReadOnlySpan<byte> text)
    {
        if (writer.Protocol < 3)
        {
            writer.WriteBulkString(text);
            return;
        }
        writer.WriteRaw(","u8);
        writer.WriteRaw(text);
        writer.WriteRaw("\r\n"u8);
    }
}
