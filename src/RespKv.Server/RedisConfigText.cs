using System.Globalization;
using System.Text;
using RespKv.Protocol;

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

    /// <summary>Splits a line into arguments as Redis's <c>sdssplitargs</c> does (<see cref="SdsText.SplitArgs"/>); null when quotes are unbalanced.</summary>
    public static List<string>? SplitArgs(string line) => SdsText.SplitArgs(line);

    /// <summary>Quotes a value as Redis's <c>sdscatrepr</c> does (<see cref="SdsText.Quote"/>), so <see cref="SplitArgs"/> reads it back whole.</summary>
    public static string Quote(string value) => SdsText.Quote(value);
}
