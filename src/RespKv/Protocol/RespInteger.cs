namespace RespKv.Protocol;

/// <summary>
/// Strict integer parsing with Redis's rules (util.c <c>string2ll</c>; floats: <see cref="LongDouble"/>):
/// no leading '+', no leading zeros, no spaces, no empty string; the full signed 64-bit range.
/// </summary>
public static class RespInteger
{
    /// <summary>Parses <paramref name="s"/> as Redis's <c>string2ll</c> does; false for anything it rejects.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 20) return false;
        if (s.Length == 1 && s[0] == (byte)'0') return true;
        int i = 0;
        bool negative = false;
        if (s[0] == (byte)'-')
        {
            negative = true;
            i = 1;
            if (s.Length == 1) return false;
        }
        if (s[i] < (byte)'1' || s[i] > (byte)'9') return false;
        ulong acc = 0;
        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - (byte)'0');
            if (d > 9) return false;
            if (acc > (ulong.MaxValue - d) / 10) return false;
            acc = acc * 10 + d;
        }
        if (negative)
        {
            if (acc > (ulong)long.MaxValue + 1) return false;
            value = (long)(0 - acc);
        }
        else
        {
            if (acc > long.MaxValue) return false;
            value = (long)acc;
        }
        return true;
    }

    /// <summary>
    /// Parses a SCAN-family cursor as Redis 7.0's <c>parseScanCursorOrReply</c> does with <c>strtoul</c>:
    /// the text ends at its first NUL byte (a C string); no leading space; an optional '+' or '-' (a
    /// negative number wraps modulo 2^64, so "-1" is 18446744073709551615); the empty string is 0; any
    /// other byte or a value above 2^64-1 fails (the caller replies <c>-ERR invalid cursor</c>).
    /// </summary>
    public static bool TryParseScanCursor(ReadOnlySpan<byte> text, out ulong cursor)
    {
        cursor = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0) text = text[..nul];
        if (text.Length == 0) return true;
        bool negative = text[0] == (byte)'-';
        if (negative || text[0] == (byte)'+') text = text[1..];
        if (!TryParseDigits(text, out cursor)) return false;
        if (negative) cursor = 0 - cursor;
        return true;
    }

    /// <summary>Parses plain decimal digits (no sign, no space) as an unsigned 64-bit integer; false on overflow or any other byte.</summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> s, out ulong value)
    {
        value = 0;
        if (s.Length == 0) return false;
        foreach (byte b in s)
        {
            uint d = (uint)(b - (byte)'0');
            if (d > 9) return false;
            if (value > (ulong.MaxValue - d) / 10) return false;
            value = value * 10 + d;
        }
        return true;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';
}
