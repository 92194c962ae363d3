namespace RespKv.Storage;

/// <summary>
/// Glob-style matching with Redis's rules (util.c <c>stringmatchlen</c>): <c>*</c>, <c>?</c>,
/// <c>[abc]</c>, <c>[^abc]</c>, <c>[a-z]</c>, and <c>\x</c> to escape; binary-safe. Used by KEYS,
/// SCAN MATCH and CONFIG GET (case-insensitive there).
/// </summary>
public static class GlobPattern
{
    /// <summary>True when <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        int budget = 1000; // Redis bounds nested '*' recursion the same way (skipLongerMatches).
        return Match(pattern, text, ignoreCase, ref budget);
    }

    /// <summary>The literal prefix of a pattern up to its first special character, for seek-before-filter scans.</summary>
    public static ReadOnlySpan<byte> LiteralPrefix(ReadOnlySpan<byte> pattern)
    {
        int i = pattern.IndexOfAny("*?[\\"u8);
        return i < 0 ? pattern : pattern[..i];
    }

    /// <summary>True when the pattern matches every string (<c>*</c>).</summary>
    public static bool MatchesAll(ReadOnlySpan<byte> pattern) => pattern.Length == 1 && pattern[0] == (byte)'*';

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase, ref int budget)
    {
        if (--budget <= 0) return false;
        int p = 0, s = 0;
        while (p < pattern.Length && s < text.Length)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    while (p + 1 < pattern.Length && pattern[p + 1] == (byte)'*') p++;
                    if (p + 1 == pattern.Length) return true;
                    for (int i = s; i < text.Length; i++)
                    {
                        if (Match(pattern[(p + 1)..], text[i..], ignoreCase, ref budget)) return true;
                        if (budget <= 0) return false;
                    }
                    return false;
                case (byte)'?':
                    s++;
                    break;
                case (byte)'[':
                {
                    p++;
                    bool not = p < pattern.Length && pattern[p] == (byte)'^';
                    if (not) p++;
                    bool match = false;
                    while (true)
                    {
                        if (p < pattern.Length && pattern[p] == (byte)'\\' && p + 1 < pattern.Length)
                        {
                            p++;
                            if (pattern[p] == text[s]) match = true;
                        }
                        else if (p >= pattern.Length || pattern[p] == (byte)']')
                        {
                            break;
                        }
                        else if (p + 2 < pattern.Length && pattern[p + 1] == (byte)'-')
                        {
                            int start = pattern[p], end = pattern[p + 2], c = text[s];
                            if (start > end) (start, end) = (end, start);
                            if (ignoreCase)
                            {
                                start = Lower(start);
                                end = Lower(end);
                                c = Lower(c);
                            }
                            p += 2;
                            if (c >= start && c <= end) match = true;
                        }
                        else if (Equal(pattern[p], text[s], ignoreCase))
                        {
                            match = true;
                        }
                        p++;
                    }
                    if (p >= pattern.Length) p = pattern.Length - 1; // unterminated '[': Redis treats the end as ']'
                    if (not) match = !match;
                    if (!match) return false;
                    s++;
                    break;
                }
                case (byte)'\\':
                    if (p + 1 < pattern.Length) p++;
                    if (!Equal(pattern[p], text[s], ignoreCase)) return false;
                    s++;
                    break;
                default:
                    if (!Equal(pattern[p], text[s], ignoreCase)) return false;
                    s++;
                    break;
            }
            p++;
            if (s == text.Length)
            {
                while (p < pattern.Length && pattern[p] == (byte)'*') p++;
                break;
            }
        }
        return p == pattern.Length && s == text.Length;
    }

    private static bool Equal(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
