using System.Globalization;
using RespKv.Protocol;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// C's number text as glibc writes and reads it, for the bundled Lua libraries: <c>printf("%.Ng")</c> (Lua 5.1's
/// <c>tostring</c> is <c>%.14g</c>; lua_cjson's <c>fpconv_g_fmt</c> takes 1..14 digits) and <c>strtod</c> reading a
/// number at the start of a text (lua_cjson's <c>fpconv_strtod</c>). Allocation-free.
/// </summary>
internal static class CNumberText
{
    /// <summary>"E{precision + 29}" for each precision 1..17 (index 0 unused).</summary>
    private static readonly string[] ExactFormats =
        Enumerable.Range(0, 18).Select(p => "E" + (p + 29).ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Longest text <see cref="FormatG"/> writes for up to 17 digits.</summary>
    public const int MaxLength = 32;

    /// <summary>
    /// Writes <paramref name="value"/> as glibc's <c>%.{precision}g</c>: <paramref name="precision"/> significant digits
    /// (rounded to nearest, ties to even on the exact binary value), exponent form when the exponent is below -4 or
    /// at least the precision (<c>1e+14</c>, <c>1e-05</c>), trailing zeros removed; <c>inf</c>, <c>-inf</c>,
    /// <c>nan</c>, <c>-nan</c>, <c>-0</c>.
    /// </summary>
    /// <param name="value">The double.</param>
    /// <param name="precision">Significant digits, 1..17.</param>
    /// <param name="destination">At least <see cref="MaxLength"/> bytes.</param>
    /// <returns>Bytes written.</returns>
    public static int FormatG(double value, int precision, Span<byte> destination)
    {
        int pos = 0;
        if (double.IsNegative(value))
        {
            destination[pos++] = (byte)'-';
            value = -value;
        }
        if (double.IsNaN(value)) return pos + Copy("nan"u8, destination[pos..]);
        if (double.IsInfinity(value)) return pos + Copy("inf"u8, destination[pos..]);
        if (value == 0)
        {
            destination[pos] = (byte)'0';
            return pos + 1;
        }

        // The exact decimal expansion to precision + 30 digits: enough to round to `precision` digits and to tell an
        // exact tie (5 followed by zeros) from a value just above it.
        Span<char> text = stackalloc char[80];
        value.TryFormat(text, out int length, ExactFormats[precision], CultureInfo.InvariantCulture);
        Span<byte> digits = stackalloc byte[precision + 31];
        int count = 0, e = text.IndexOf('E');
        for (int i = 0; i < e; i++)
            if (text[i] != '.') digits[count++] = (byte)(text[i] - '0');
        int exponent = int.Parse(text[(e + 1)..length], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        bool up;
        if (digits[precision] > 5) up = true;
        else if (digits[precision] < 5) up = false;
        else
        {
            bool rest = false;
            for (int i = precision + 1; i < count; i++) rest |= digits[i] != 0;
            up = rest || (digits[precision - 1] & 1) == 1;
        }
        if (up)
        {
            int i = precision - 1;
            while (i >= 0 && digits[i] == 9) digits[i--] = 0;
            if (i >= 0) digits[i]++;
            else
            {
                digits[0] = 1;
                exponent++;
            }
        }
        int significant = precision;
        while (significant > 1 && digits[significant - 1] == 0) significant--;

        if (exponent < -4 || exponent >= precision)
        {
            destination[pos++] = (byte)('0' + digits[0]);
            if (significant > 1)
            {
                destination[pos++] = (byte)'.';
                for (int i = 1; i < significant; i++) destination[pos++] = (byte)('0' + digits[i]);
            }
            destination[pos++] = (byte)'e';
            destination[pos++] = exponent < 0 ? (byte)'-' : (byte)'+';
            int magnitude = Math.Abs(exponent);
            if (magnitude >= 100) destination[pos++] = (byte)('0' + magnitude / 100);
            destination[pos++] = (byte)('0' + magnitude / 10 % 10);
            destination[pos++] = (byte)('0' + magnitude % 10);
            return pos;
        }
        if (exponent < 0)
        {
            destination[pos++] = (byte)'0';
            destination[pos++] = (byte)'.';
            for (int i = exponent + 1; i < 0; i++) destination[pos++] = (byte)'0';
            for (int i = 0; i < significant; i++) destination[pos++] = (byte)('0' + digits[i]);
            return pos;
        }
        for (int i = 0; i <= exponent; i++) destination[pos++] = (byte)('0' + (i < significant ? digits[i] : 0));
        if (significant > exponent + 1)
        {
            destination[pos++] = (byte)'.';
            for (int i = exponent + 1; i < significant; i++) destination[pos++] = (byte)('0' + digits[i]);
        }
        return pos;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }

    /// <summary>
    /// glibc's <c>strtod</c> on the start of <paramref name="text"/> (no leading white space is skipped: callers
    /// start at a sign or digit): an optional sign, then <c>inf</c>/<c>infinity</c>, <c>nan</c> (with an optional
    /// <c>(chars)</c>), <c>0x</c> hexadecimal with an optional <c>p</c> exponent, or decimal digits with an optional
    /// point and <c>e</c> exponent. Overflow gives ±inf.
    /// </summary>
    /// <returns>Bytes consumed: 0 when no number starts there (strtod's end pointer equal to its start).</returns>
    public static int Strtod(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        int p = 0;
        bool negative = false;
        if (p < text.Length && text[p] is (byte)'+' or (byte)'-')
        {
            negative = text[p] == (byte)'-';
            p++;
        }
        ReadOnlySpan<byte> rest = text[p..];
        if (StartsWithIgnoreCase(rest, "inf"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return p + (StartsWithIgnoreCase(rest, "infinity"u8) ? 8 : 3);
        }
        if (StartsWithIgnoreCase(rest, "nan"u8))
        {
            value = BitConverter.Int64BitsToDouble(negative ? unchecked((long)0xFFF8000000000000) : 0x7FF8000000000000); // double.NaN has the sign bit set
            int end = 3;
            if (end < rest.Length && rest[end] == (byte)'(')
            {
                int close = end + 1;
                while (close < rest.Length && (char.IsAsciiLetterOrDigit((char)rest[close]) || rest[close] == (byte)'_')) close++;
                if (close < rest.Length && rest[close] == (byte)')') end = close + 1;
            }
            return p + end;
        }
        if (rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x' && IsHexStart(rest[2..]))
        {
            int end = 2;
            while (end < rest.Length && char.IsAsciiHexDigit((char)rest[end])) end++;
            if (end < rest.Length && rest[end] == (byte)'.')
            {
                end++;
                while (end < rest.Length && char.IsAsciiHexDigit((char)rest[end])) end++;
            }
            end = Exponent(rest, end, (byte)'p');
            DoubleText.TryParseLenient(text[..(p + end)], out value);
            return p + end;
        }
        int at = 0, mantissaDigits = 0;
        while (at < rest.Length && char.IsAsciiDigit((char)rest[at])) { at++; mantissaDigits++; }
        if (at < rest.Length && rest[at] == (byte)'.')
        {
            int afterPoint = at + 1;
            while (afterPoint < rest.Length && char.IsAsciiDigit((char)rest[afterPoint])) { afterPoint++; mantissaDigits++; }
            if (mantissaDigits > 0) at = afterPoint;
        }
        if (mantissaDigits == 0) return 0;
        at = Exponent(rest, at, (byte)'e');
        value = double.Parse(text[..(p + at)], NumberStyles.Float, CultureInfo.InvariantCulture);
        return p + at;
    }

    /// <summary>After a mantissa ending at <paramref name="at"/>: the end of an exponent part (<c>e</c>/<c>p</c>, an
    /// optional sign, at least one digit), or <paramref name="at"/> when there is none.</summary>
    private static int Exponent(ReadOnlySpan<byte> rest, int at, byte marker)
    {
        if (at >= rest.Length || (rest[at] | 0x20) != marker) return at;
        int q = at + 1;
        if (q < rest.Length && rest[q] is (byte)'+' or (byte)'-') q++;
        if (q >= rest.Length || !char.IsAsciiDigit((char)rest[q])) return at;
        while (q < rest.Length && char.IsAsciiDigit((char)rest[q])) q++;
        return q;
    }

    /// <summary>Whether hexadecimal digits follow <c>0x</c> (a hex digit, or a point and a hex digit).</summary>
    private static bool IsHexStart(ReadOnlySpan<byte> s) =>
        char.IsAsciiHexDigit((char)s[0]) || (s[0] == (byte)'.' && s.Length > 1 && char.IsAsciiHexDigit((char)s[1]));

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> prefix) =>
        text.Length >= prefix.Length && System.Text.Ascii.EqualsIgnoreCase(text[..prefix.Length], prefix);
}
