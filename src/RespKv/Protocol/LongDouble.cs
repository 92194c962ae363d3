using System.Numerics;
using System.Text;

namespace RespKv.Protocol;

/// <summary>
/// C's <c>long double</c> as Redis 7.0 uses it on x86-64 Linux (the x87 80-bit extended format: a
/// 64-bit significand, binary exponents −16382…16383, gradual underflow), for INCRBYFLOAT and
/// HINCRBYFLOAT, whose replies print the exact binary value. Reproduces util.c <c>string2ld</c>
/// (glibc <c>strtold</c>, correctly rounded, with Redis's rejections), the x87 addition (round to
/// nearest even) and <c>ld2string(LD_STR_HUMAN)</c> (<c>%.17Lf</c> with trailing zeros removed), so
/// <c>INCRBYFLOAT k 1e20</c> gives <c>100000000000000000000</c> and 0.1 + 0.2 gives <c>0.3</c>, as Redis
/// does. Arithmetic is exact (big integers), so it allocates: for the float commands only.
/// </summary>
public readonly struct LongDouble
{
    private const int SignificandBits = 64;
    private const int MinExponent = -16382 - 63;  // value = significand · 2^exponent; smallest subnormal step
    private const int MaxExponent = 16383 - 63;   // largest exponent of a normalised 64-bit significand
    private const int MaxChars = 5 * 1024;        // MAX_LONG_DOUBLE_CHARS: longer input is rejected
    private static readonly BigInteger Pow10Of17 = BigInteger.Pow(10, 17);

    private readonly ulong _significand;
    private readonly int _exponent;

    private LongDouble(bool negative, ulong significand, int exponent, bool infinity)
    {
        IsNegative = negative;
        _significand = significand;
        _exponent = exponent;
        IsInfinity = infinity;
    }

    /// <summary>True for a negative value (including −0 and −inf).</summary>
    public bool IsNegative { get; }

    /// <summary>True for +inf or −inf (the result of "inf" or of an overflowing sum).</summary>
    public bool IsInfinity { get; }

    /// <summary>
    /// Parses <paramref name="text"/> as Redis's <c>string2ld</c>: the whole string must be a
    /// <c>strtold</c> number (decimal, <c>0x</c> hexadecimal, <c>inf</c>/<c>infinity</c>), without leading
    /// space, shorter than 5120 bytes; NaN, overflow and underflow to zero are rejected.
    /// </summary>
    /// <returns>False where Redis replies <c>-ERR value is not a valid float</c>.</returns>
    public static bool TryParse(ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = default;
        if (text.Length == 0 || text.Length >= MaxChars) return false;
        int p = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            p = 1;
        }
        ReadOnlySpan<byte> rest = text[p..];
        if (Ascii.EqualsIgnoreCase(rest, "inf"u8) || Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new LongDouble(negative, 0, 0, infinity: true);
            return true;
        }
        bool hex = rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x'
            && (IsHexDigit(rest[2]) || (rest[2] == (byte)'.' && rest.Length > 3 && IsHexDigit(rest[3])));
        if (hex) return TryParseHex(negative, rest[2..], out value);
        return TryParseDecimal(negative, rest, out value);
    }

    /// <summary>The sum rounded to the nearest long double (ties to even), ±inf when it overflows.</summary>
    /// <param name="a">First addend.</param>
    /// <param name="b">Second addend.</param>
    /// <param name="isNaN">Set when the sum is not a number (inf + −inf).</param>
    public static LongDouble Add(LongDouble a, LongDouble b, out bool isNaN)
    {
        isNaN = false;
        if (a.IsInfinity || b.IsInfinity)
        {
            if (a.IsInfinity && b.IsInfinity && a.IsNegative != b.IsNegative) isNaN = true;
            return a.IsInfinity ? a : b;
        }
        if (a._significand == 0 && b._significand == 0)
            return new LongDouble(a.IsNegative && b.IsNegative, 0, 0, false);
        int low = Math.Min(a._exponent, b._exponent);
        BigInteger sum = a.Signed() << (a._exponent - low);
        sum += b.Signed() << (b._exponent - low);
        // An exact zero sum of opposite values is +0 in round-to-nearest.
        return Round(sum.Sign < 0, BigInteger.Abs(sum), BigInteger.One, low, out _);
    }

    /// <summary>
    /// The value as Redis's <c>ld2string(LD_STR_HUMAN)</c> prints it: <c>%.17Lf</c> (the exact binary value
    /// rounded to 17 decimals, ties to even), trailing zeros and a trailing '.' removed, "-0" as "0".
    /// Only for finite values (Redis checks the sum before printing it).
    /// </summary>
    public string ToHumanString()
    {
        if (IsInfinity) return IsNegative ? "-inf" : "inf";
        BigInteger scaled;
        if (_exponent >= 0)
        {
            scaled = ((BigInteger)_significand << _exponent) * Pow10Of17;
        }
        else
        {
            BigInteger numerator = _significand * Pow10Of17;
            scaled = numerator >> -_exponent;
            BigInteger remainder = numerator - (scaled << -_exponent);
            BigInteger half = BigInteger.One << (-_exponent - 1);
            int cmp = remainder.CompareTo(half);
            if (cmp > 0 || (cmp == 0 && !scaled.IsEven)) scaled += 1;
        }
        string digits = scaled.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(18, '0');
        var text = new StringBuilder(digits.Length + 2);
        if (IsNegative) text.Append('-');
        text.Append(digits, 0, digits.Length - 17).Append('.').Append(digits, digits.Length - 17, 17);
        int length = text.Length;
        while (text[length - 1] == '0') length--;
        if (text[length - 1] == '.') length--;
        text.Length = length;
        return length == 2 && text[0] == '-' && text[1] == '0' ? "0" : text.ToString();
    }

    private BigInteger Signed() => IsNegative ? -(BigInteger)_significand : _significand;

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsHexDigit(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 5;

    private static int HexValue(byte b) => IsDigit(b) ? b - '0' : (b | 0x20) - 'a' + 10;

    /// <summary>
    /// What follows the digits at <paramref name="s"/>[<paramref name="p"/>] must be nothing, or
    /// <paramref name="marker"/> (<c>e</c> or <c>p</c>, any case), an optional sign and digits ending the
    /// string; that exponent (saturated) is added to <paramref name="exponent"/>.
    /// </summary>
    private static bool TryReadExponentToEnd(ReadOnlySpan<byte> s, int p, byte marker, ref long exponent)
    {
        if (p == s.Length) return true;
        if ((s[p] | 0x20) != marker) return false;
        long value = 0;
        int q = p + 1;
        bool negative = false;
        if (q < s.Length && s[q] is (byte)'+' or (byte)'-')
        {
            negative = s[q] == (byte)'-';
            q++;
        }
        if (q >= s.Length || !IsDigit(s[q])) return false; // strtold stops before the 'e': not the whole string
        for (; q < s.Length && IsDigit(s[q]); q++)
            value = Math.Min(value * 10 + (s[q] - '0'), 1_000_000_000L);
        exponent += negative ? -value : value;
        return q == s.Length;
    }

    private static bool TryParseDecimal(bool negative, ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        BigInteger digits = BigInteger.Zero;
        long exponent10 = 0;
        int p = 0, significant = 0, seen = 0;
        ulong pending = 0, pendingScale = 1;
        bool dot = false;
        for (; p < s.Length; p++)
        {
            byte c = s[p];
            if (c == (byte)'.' && !dot)
            {
                dot = true;
                continue;
            }
            if (!IsDigit(c)) break;
            seen++;
            if (dot) exponent10--;
            if (significant == 0 && c == (byte)'0') continue;
            significant++;
            pending = pending * 10 + (ulong)(c - '0');
            pendingScale *= 10;
            if (pendingScale == 1_000_000_000_000_000_000UL)
            {
                digits = digits * pendingScale + pending;
                pending = 0;
                pendingScale = 1;
            }
        }
        if (seen == 0) return false;
        digits = digits * pendingScale + pending;
        if (!TryReadExponentToEnd(s, p, (byte)'e', ref exponent10)) return false;
        if (digits.IsZero)
        {
            value = new LongDouble(negative, 0, 0, false);
            return true;
        }
        // 10^(exponent10 + significant − 1) ≤ value < 10^(exponent10 + significant): settle far-out
        // magnitudes without building huge powers (max ≈ 1.19e4932, min subnormal ≈ 3.65e-4951).
        long magnitude = exponent10 + significant;
        if (magnitude > 4934) return false;   // overflow: strtold gives HUGE_VALL with ERANGE
        if (magnitude < -4952) return false;  // underflow to zero with ERANGE
        BigInteger numerator = digits, denominator = BigInteger.One;
        if (exponent10 >= 0) numerator *= BigInteger.Pow(10, (int)exponent10);
        else denominator = BigInteger.Pow(10, (int)-exponent10);
        value = Round(negative, numerator, denominator, 0, out bool underflowToZero);
        return !value.IsInfinity && !underflowToZero;
    }

    private static bool TryParseHex(bool negative, ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        BigInteger mantissa = BigInteger.Zero;
        long exponent2 = 0;
        int p = 0;
        bool dot = false, any = false;
        for (; p < s.Length; p++)
        {
            byte c = s[p];
            if (c == (byte)'.' && !dot)
            {
                dot = true;
                continue;
            }
            if (!IsHexDigit(c)) break;
            any = true;
            if (mantissa.IsZero && c == (byte)'0')
            {
                if (dot) exponent2 -= 4;
                continue;
            }
            mantissa = (mantissa << 4) + HexValue(c);
            if (dot) exponent2 -= 4;
        }
        if (!any) return false;
        if (!TryReadExponentToEnd(s, p, (byte)'p', ref exponent2)) return false;
        if (mantissa.IsZero)
        {
            value = new LongDouble(negative, 0, 0, false);
            return true;
        }
        long magnitude = exponent2 + (long)mantissa.GetBitLength();
        if (magnitude > 16385) return false;
        if (magnitude < -16447) return false;
        value = Round(negative, mantissa, BigInteger.One, (int)exponent2, out bool underflowToZero);
        return !value.IsInfinity && !underflowToZero;
    }

    /// <summary>
    /// Rounds the exact value <paramref name="numerator"/>/<paramref name="denominator"/>·2^<paramref name="exponent2"/>
    /// (numerator ≥ 0) to the nearest long double, ties to even; subnormal below 2^−16382; infinity past the top.
    /// </summary>
    private static LongDouble Round(bool negative, BigInteger numerator, BigInteger denominator, int exponent2, out bool underflowToZero)
    {
        underflowToZero = false;
        if (numerator.IsZero) return new LongDouble(false, 0, 0, false);
        // Choose shift so that numerator·2^shift/denominator lies in [2^63, 2^64).
        long shift = SignificandBits - ((long)numerator.GetBitLength() - (long)denominator.GetBitLength());
        BigInteger quotient = Divide(numerator, denominator, shift, out BigInteger remainder);
        if (quotient.GetBitLength() > SignificandBits)
        {
            shift--;
            quotient = Divide(numerator, denominator, shift, out remainder);
        }
        long exponent = exponent2 - shift;
        if (exponent < MinExponent)
        {
            shift = exponent2 - (long)MinExponent;
            exponent = MinExponent;
            quotient = Divide(numerator, denominator, shift, out remainder);
        }
        BigInteger divisor = shift >= 0 ? denominator : denominator << (int)-shift;
        int cmp = (remainder << 1).CompareTo(divisor);
        if (cmp > 0 || (cmp == 0 && !quotient.IsEven)) quotient += 1;
        if (quotient.GetBitLength() > SignificandBits)
        {
            quotient >>= 1;
            exponent++;
        }
        if (quotient.IsZero)
        {
            underflowToZero = true;
            return new LongDouble(negative, 0, 0, false);
        }
        if (exponent > MaxExponent) return new LongDouble(negative, 0, 0, infinity: true);
        return new LongDouble(negative, (ulong)quotient, (int)exponent, false);
    }

    /// <summary>floor(numerator·2^shift / denominator) and its remainder (over denominator·2^−shift when shift &lt; 0).</summary>
    private static BigInteger Divide(BigInteger numerator, BigInteger denominator, long shift, out BigInteger remainder) =>
        shift >= 0
            ? BigInteger.DivRem(numerator << (int)shift, denominator, out remainder)
            : BigInteger.DivRem(numerator, denominator << (int)-shift, out remainder);
}
