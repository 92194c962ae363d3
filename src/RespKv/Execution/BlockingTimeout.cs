using System.Globalization;
using RespKv.Protocol;

namespace RespKv.Execution;

/// <summary>
/// The timeout argument of a blocking command (BLPOP … timeout), parsed as Redis 7.0's <c>getTimeoutFromObjectOrReply</c>
/// with seconds as the unit: a <c>strtold</c> number of seconds, possibly fractional, converted to milliseconds rounded up;
/// 0 waits forever.
/// </summary>
public static class BlockingTimeout
{
    /// <summary><c>-ERR timeout is not a float or out of range</c>.</summary>
    public const string NotFloat = "ERR timeout is not a float or out of range";

    /// <summary><c>-ERR timeout is negative</c>.</summary>
    public const string Negative = "ERR timeout is negative";

    /// <summary><c>-ERR timeout is out of range</c> (more milliseconds than a 64-bit count holds).</summary>
    public const string OutOfRange = "ERR timeout is out of range";

    /// <summary>Parses <paramref name="text"/> into milliseconds (0 = forever); on failure writes Redis's error and returns false.</summary>
    public static bool TryParse(CommandContext context, ReadOnlySpan<byte> text, out long timeoutMs)
    {
        timeoutMs = 0;
        if (!LongDouble.TryParse(text, out LongDouble parsed))
        {
            context.Writer.WriteError(NotFloat);
            return false;
        }
        // Redis casts the milliseconds to a 64-bit integer without a range check: beyond it (1e400, inf) x86-64 gives
        // LLONG_MIN, so a huge timeout is reported as negative.
        double ms = parsed.IsInfinity ? double.NaN
            : double.TryParse(parsed.ToHumanString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
                ? Math.Ceiling(seconds * 1000.0) : double.NaN;
        if (double.IsNaN(ms) || ms >= 9.2e18) ms = -1;
        else if (ms > long.MaxValue - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
        {
            context.Writer.WriteError(OutOfRange);
            return false;
        }
        if (ms < 0)
        {
            context.Writer.WriteError(Negative);
            return false;
        }
        timeoutMs = (long)ms;
        return true;
    }
}
