using System.Globalization;
using System.Text;

namespace RespKv.Server;

/// <summary>
/// redis.conf syntax, as redis-server 7.0 reads it (config.c <c>loadServerConfigFromString</c>):
/// one directive per line, a case-insensitive name followed by arguments; blank lines and lines starting
/// with <c>#</c> are skipped; arguments are split like sds.c <c>sdssplitargs</c> ("double quotes" with
/// <c>\n \r \t \b \a \xHH</c> escapes, 'single quotes' with only <c>\'</c>). Every setting is applied
/// through <see cref="ConfigParameters"/>, the single table of settings.
/// </summary>
/// <remarks>
/// Hand-written rather than a Microsoft.Extensions.Configuration provider: IConfiguration is a flat
/// key → one-string map, so it cannot keep what redis-server's error messages need (the line number and
/// text of the offending directive) nor distinguish <c>bind a b</c> (two arguments) from <c>bind "a b"</c>;
/// the parsing it would save is the few lines of <see cref="SplitArgs"/>.
/// </remarks>
public static class RedisConfigText
{
    /// <summary>Settings that take several arguments (redis's MULTI_ARG_CONFIG); every other setting takes exactly one.</summary>
    private static readonly string[] MultiArgSettings = ["bind", "save"];

    /// <summary>
    /// Applies every directive of <paramref name="config"/> to <paramref name="options"/> in order (a later
    /// directive overrides an earlier one). Returns null on success, or redis-server's fatal message:
    /// <c>Reading the configuration file, at line N\n&gt;&gt;&gt; 'line'\nreason</c> (without the banner line).
    /// </summary>
    public static string? Apply(ServerOptions options, string config)
    {
        string[] lines = config.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#') continue;
            string? error = ApplyLine(options, line);
            if (error != null)
                return $"Reading the configuration file, at line {(i + 1).ToString(CultureInfo.InvariantCulture)}\n>>> '{line}'\n{error}";
        }
        return null;
    }

    private static string? ApplyLine(ServerOptions options, string line)
    {
        List<string>? argv = SplitArgs(line);
        if (argv == null) return "Unbalanced quotes in configuration line";
        if (argv.Count == 0) return null;
        ConfigParameter? parameter = ConfigParameters.Find(argv[0]);
        if (parameter == null) return "Bad directive or wrong number of arguments";

        string value;
        if (Array.IndexOf(MultiArgSettings, parameter.Name) >= 0)
        {
            // `bind "a b"` and `bind a b` mean the same, as in Redis; ConfigParameters takes them space-separated.
            value = string.Join(' ', argv.GetRange(1, argv.Count - 1));
        }
        else
        {
            if (argv.Count != 2) return "wrong number of arguments";
            value = argv[1];
        }
        string? error = parameter.Set(options, value);
        if (error == null && parameter.Name == "logfile") error = CheckLogFile(options.LogFile);
        return error;
    }

    /// <summary>Redis checks at load time that the log file can be opened for appending; so does RespKv.</summary>
    private static string? CheckLogFile(string path)
    {
        if (path.Length == 0) return null;
        try
        {
            using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return "Can't open the log file: " + ServerCommandLine.SystemErrorText(e, path);
        }
    }

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
    /// </summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\' or '"': sb.Append('\\').Append(c); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                default:
                    if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
