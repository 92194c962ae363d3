using System.Globalization;

namespace RespKv.Protocol;

/// <summary>
/// Number-to-text conversions that reproduce Redis's output byte for byte: <c>%.17g</c> for doubles
/// (RESP3 doubles, scores) and util.c <c>ld2string(LD_STR_HUMAN)</c> — <c>%.17Lg</c> of an x87 long double
/// with trailing zeros removed — for INCRBYFLOAT and HINCRBYFLOAT results.
/// </summary>
public static class RedisNumberFormat
{
    /// <summary>Formats <paramref name="value"/> as C's <c>%.17g</c> ("inf", "-inf", "nan" for the specials); returns bytes written (≤ 32).</summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        string text = double.IsPositiveInfinity(value) ? "inf"
            : double.IsNegativeInfinity(value) ? "-inf"
            : double.IsNaN(value) ? "nan"
            : CStyleExponent(value.ToString("G17", CultureInfo.InvariantCulture));
        for (int i = 0; i < text.Length; i++) destination[i] = (byte)text[i];
        return text.Length;
    }

    /// <summary>
    /// Formats a sum computed exactly in <see cref="decimal"/> as Redis prints its long double result:
    /// 17 significant digits, exponent form when the exponent is below -4 or at least 17, no trailing zeros.
    /// (A long double carries ~19 digits, so rounding the exact sum to 17 gives what Redis prints.)
    /// </summary>
    public static string FormatHumanLongDouble(decimal value)
    {
        if (value == 0) return "0";
        decimal abs = Math.Abs(value);
        int exponent = abs >= 1 ? (int)Math.Floor(Math.Log10((double)abs)) : -(int)Math.Ceiling(-Math.Log10((double)abs));
        // Correct log10 rounding at exact powers of ten.
        if (Pow10(exponent) > abs) exponent--;
        else if (Pow10(exponent + 1) <= abs) exponent++;
        if (exponent < -4 || exponent >= 17) return FormatHumanLongDouble((double)value);
        decimal rounded = Math.Round(value, Math.Clamp(16 - exponent, 0, 28), MidpointRounding.ToEven);
        string text = rounded.ToString("F" + Math.Clamp(16 - exponent, 0, 28), CultureInfo.InvariantCulture);
        if (text.Contains('.')) text = text.TrimEnd('0').TrimEnd('.');
        return text == "-0" ? "0" : text;
    }

    /// <summary>The same format for a result outside <see cref="decimal"/>'s range, from a double.</summary>
    public static string FormatHumanLongDouble(double value)
    {
        string text = CStyleExponent(value.ToString("G17", CultureInfo.InvariantCulture));
        return text == "-0" ? "0" : text;
    }

    private static decimal Pow10(int exponent)
    {
        decimal r = 1;
        if (exponent >= 0) for (int i = 0; i < exponent && i < 28; i++) r *= 10;
        else for (int i = 0; i < -exponent && i < 28; i++) r /= 10;
        return r;
    }

    /// <summary>.NET writes "1E+20"/"1E-05"; C writes "1e+20"/"1e-05" (at least two exponent digits).</summary>
    private static string CStyleExponent(string text)
    {
        int e = text.IndexOf('E');
        if (e < 0) return text;
        string mantissa = text[..e];
        char sign = text[e + 1];
        string digits = text[(e + 2)..].TrimStart('0');
        if (digits.Length < 2) digits = digits.PadLeft(2, '0');
        return mantissa + "e" + sign + digits;
    }
}
