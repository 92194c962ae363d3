using System.Buffers.Text;

namespace RespKv.Storage;

/// <summary>
/// A stream entry ID (Redis's <c>streamID</c>): two unsigned 64-bit numbers, the milliseconds part and the sequence
/// part, written <c>ms-seq</c> and ordered by (ms, seq). <c>0-0</c> is the smallest, <c>18446744073709551615-18446744073709551615</c>
/// the largest.
/// </summary>
/// <param name="Ms">The milliseconds part (Unix time in ms for generated IDs).</param>
/// <param name="Seq">The sequence part.</param>
public readonly record struct StreamId(ulong Ms, ulong Seq) : IComparable<StreamId>
{
    /// <summary><c>0-0</c>.</summary>
    public static StreamId Zero => default;

    /// <summary>The largest ID (both parts <see cref="ulong.MaxValue"/>; Redis's <c>+</c>).</summary>
    public static StreamId Max => new(ulong.MaxValue, ulong.MaxValue);

    /// <summary>Longest text of an ID (<c>20</c> digits, <c>-</c>, <c>20</c> digits).</summary>
    public const int MaxTextLength = 41;

    /// <summary>True for <c>0-0</c>.</summary>
    public bool IsZero => Ms == 0 && Seq == 0;

    /// <inheritdoc />
    public int CompareTo(StreamId other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

    /// <summary>Order of IDs.</summary>
    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

    /// <summary>Order of IDs.</summary>
    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;

    /// <summary>Order of IDs.</summary>
    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;

    /// <summary>Order of IDs.</summary>
    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    /// <summary>The next ID (Redis's <c>streamIncrID</c>); false for <see cref="Max"/>, which has none.</summary>
    public bool TryIncrement(out StreamId next)
    {
        if (Seq != ulong.MaxValue) next = new StreamId(Ms, Seq + 1);
        else if (Ms != ulong.MaxValue) next = new StreamId(Ms + 1, 0);
        else
        {
            next = Zero;
            return false;
        }
        return true;
    }

    /// <summary>The previous ID (Redis's <c>streamDecrID</c>); false for <c>0-0</c>.</summary>
    public bool TryDecrement(out StreamId previous)
    {
        if (Seq != 0) previous = new StreamId(Ms, Seq - 1);
        else if (Ms != 0) previous = new StreamId(Ms - 1, ulong.MaxValue);
        else
        {
            previous = Zero;
            return false;
        }
        return true;
    }

    /// <summary>Writes <c>ms-seq</c> into <paramref name="destination"/> (at least <see cref="MaxTextLength"/> bytes); returns its length.</summary>
    public int Format(Span<byte> destination)
    {
        Utf8Formatter.TryFormat(Ms, destination, out int n);
        destination[n++] = (byte)'-';
        Utf8Formatter.TryFormat(Seq, destination[n..], out int m);
        return n + m;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        Span<byte> text = stackalloc byte[MaxTextLength];
        return System.Text.Encoding.ASCII.GetString(text[..Format(text)]);
    }

    /// <summary>
    /// Parses an ID argument as Redis 7.0's <c>streamGenericParseIDOrReply</c>: <c>-</c> (0-0) and <c>+</c> (max) unless
    /// <paramref name="strict"/>; <c>ms</c> alone takes <paramref name="missingSeq"/> as its sequence; with
    /// <paramref name="allowSeqStar"/> (XADD) <c>ms-*</c> parses with <paramref name="seqGiven"/> false. Each part is read as
    /// C's <c>string2ull</c>. False for anything else (Redis: <c>ERR Invalid stream ID specified as stream command argument</c>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, ulong missingSeq, bool strict, bool allowSeqStar, out StreamId id, out bool seqGiven)
    {
        id = default;
        seqGiven = true;
        if (text.Length > 127) return false;
        if (text.Length == 1 && (text[0] == '-' || text[0] == '+'))
        {
            if (strict) return false;
            id = text[0] == '-' ? Zero : Max;
            return true;
        }
        int dash = text.IndexOf((byte)'-');
        ReadOnlySpan<byte> msText = dash < 0 ? text : text[..dash];
        // C strings end at a NUL byte: Redis parses the argument only up to its first one.
        if (!TryParseUnsigned(CStr(msText), out ulong ms)) return false;
        ulong seq = missingSeq;
        if (dash >= 0)
        {
            ReadOnlySpan<byte> seqText = text[(dash + 1)..];
            if (allowSeqStar && seqText.Length == 1 && seqText[0] == '*')
            {
                seq = 0;
                seqGiven = false;
            }
            else if (!TryParseUnsigned(CStr(seqText), out seq)) return false;
        }
        id = new StreamId(ms, seq);
        return true;

        static ReadOnlySpan<byte> CStr(ReadOnlySpan<byte> s)
        {
            int nul = s.IndexOf((byte)0);
            return nul < 0 ? s : s[..nul];
        }
    }

    /// <summary>
    /// C's <c>string2ull</c> (Redis util.c): a canonical signed 64-bit integer (<c>string2ll</c>) that is not negative, else
    /// <c>strtoull</c>'s reading — leading white space, an optional sign (a minus wraps around), decimal digits to the end, no
    /// overflow.
    /// </summary>
    public static bool TryParseUnsigned(ReadOnlySpan<byte> s, out ulong value)
    {
        value = 0;
        if (Protocol.RespInteger.TryParse(s, out long ll))
        {
            if (ll < 0) return false;
            value = (ulong)ll;
            return true;
        }
        int p = 0;
        while (p < s.Length && (s[p] == ' ' || (s[p] >= '\t' && s[p] <= '\r'))) p++;
        bool negative = false;
        if (p < s.Length && (s[p] == '+' || s[p] == '-')) negative = s[p++] == '-';
        if (p == s.Length) return false;
        ulong v = 0;
        for (; p < s.Length; p++)
        {
            uint d = (uint)(s[p] - '0');
            if (d > 9) return false;
            if (v > (ulong.MaxValue - d) / 10) return false;
            v = v * 10 + d;
        }
        value = negative ? unchecked(0 - v) : v;
        return true;
    }
}
