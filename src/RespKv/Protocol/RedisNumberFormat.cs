using System.Globalization;

namespace RespKv.Protocol;

/// <summary>
/// Number-to-text conversions that reproduce Redis's output byte for byte: <c>%.17g</c> for doubles
/// (RESP3 doubles, scores). INCRBYFLOAT's long double results are printed by <see cref="LongDouble.ToHumanString"/>.
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
