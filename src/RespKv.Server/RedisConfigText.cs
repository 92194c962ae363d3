using System.Globalization;
using System.Text;
using RespKv.Configuration;
using RespKv.Execution;
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
    /// <summary>Directives Redis 7.0 still reads and ignores (config.c <c>deprecated_configs</c>), each with exactly one argument.</summary>
    private static readonly string[] DeprecatedSettings = ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

    /// <summary>
    /// Applies every directive of <paramref name="config"/> to <paramref name="options"/> in order (a later
    /// directive overrides an earlier one). Returns null on success, or redis-server's fatal message:
    /// <c>Reading the configuration file, at line N\n&gt;&gt;&gt; 'line'\nreason</c> (without the banner line).
    /// Besides settings, it reads <c>include path</c> (a file, or a glob whose matches are read in order; an included
    /// file's error names its own line), <c>rename-command old new</c> and <c>user name rules…</c> (ACL users, loaded at
    /// start-up), and refuses the directives RespKv cannot honour: <c>loadmodule</c> and module settings (no modules),
    /// <c>sentinel</c> (no Sentinel mode).
    /// </summary>
    public static string? Apply(ServerOptions options, string config) => Apply(options, config, new LoadState());

    /// <summary>What one load remembers across lines and included files: whether a <c>save</c> line was read yet.</summary>
    private sealed class LoadState
    {
        /// <summary>True once a <c>save</c> line was read: later ones add their pairs, as Redis's loader does.</summary>
        public bool SaveLoaded;
    }

    private static string? Apply(ServerOptions options, string config, LoadState state)
    {
        string[] lines = config.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#') continue;
            string? error = ApplyLine(options, line, state, out bool included);
            if (error == null) continue;
            // An included file's error already names its own line (Redis exits from inside the nested load).
            return included ? error : $"Reading the configuration file, at line {(i + 1).ToString(CultureInfo.InvariantCulture)}\n>>> '{line}'\n{error}";
        }
        return null;
    }

    private static string? ApplyLine(ServerOptions options, string line, LoadState state, out bool included)
    {
        included = false;
        List<string>? argv = SplitArgs(line);
        if (argv == null) return "Unbalanced quotes in configuration line";
        if (argv.Count == 0) return null;
        string name = argv[0].ToLowerInvariant();
        ConfigParameter? parameter = ConfigParameters.Find(name);
        if (parameter == null) return ApplyDirective(options, name, argv, state, out included);

        string value;
        if (parameter.MultiArg)
        {
            // `bind "a b"` and `bind a b` mean the same, as in Redis; ConfigParameters takes them space-separated.
            value = argv.Count == 2 && argv[1].Length > 0
                ? string.Join(' ', SplitArgs(argv[1]) ?? [argv[1]])
                : string.Join(' ', argv.GetRange(1, argv.Count - 1));
        }
        else
        {
            if (argv.Count != 2) return "wrong number of arguments";
            value = argv[1];
        }
        if (parameter.Name == "save")
        {
            // Redis's loader: the first save line replaces the default, later ones add to it; save "" clears it.
            if (state.SaveLoaded && value.Length > 0 && options.Save.Length > 0) value = options.Save + " " + value;
            state.SaveLoaded = true;
        }
        string? error = parameter.Set(options, value);
        if (error == null && parameter.Name == "logfile") error = CheckLogFile(options.LogFile);
        return error;
    }

    /// <summary>A line that is not a setting: Redis 7.0's other directives, or <c>Bad directive or wrong number of arguments</c>.</summary>
    private static string? ApplyDirective(ServerOptions options, string name, List<string> argv, LoadState state, out bool included)
    {
        included = false;
        if (Array.IndexOf(DeprecatedSettings, name) >= 0 && argv.Count == 2) return null;
        switch (name)
        {
            case "include" when argv.Count == 2:
                included = true;
                return Include(options, argv[1], state);
            case "rename-command" when argv.Count == 3:
                // Redis's loader: the command must exist under its current name; an empty new name removes it.
                return RenameCommand(options, argv[1], argv[2]);
            case "user" when argv.Count >= 2:
            {
                // Redis's ACLAppendUserForLoading: checked now, loaded when the server starts.
                string? error = Security.AccessControl.ValidateConfigUser(argv, options.ConfigUsers, out string[] user);
                if (error == null) options.ConfigUsers.Add(user);
                return error;
            }
            case "loadmodule" when argv.Count >= 2:
                return "loadmodule is not supported by RespKv (it has no module API)";
            case "sentinel":
                return argv.Count == 1 ? null : "sentinel directive while not in sentinel mode";
        }
        if (name.Contains('.'))
            return argv.Count < 2 ? "Module config specified without value" : "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting";
        return "Bad directive or wrong number of arguments";
    }

    /// <summary>
    /// <c>rename-command old new</c> (config.c): <c>No such command in rename-command</c> when no command is called
    /// <paramref name="from"/> after the renames so far; <c>Target command name already exists</c> when <paramref name="to"/>
    /// is taken. The renames are applied to the served table when the server starts (<see cref="CommandTable.WithRenames"/>).
    /// </summary>
    private static string? RenameCommand(ServerOptions options, string from, string to)
    {
        var renames = new List<(string, string)>(options.RenamedCommands) { (from, to) };
        if (CommandTable.WithRenames(RespKv.Server.CommandFamilies.Table, renames, out string? error) == null) return error;
        options.RenamedCommands.Add((from, to));
        return null;
    }

    /// <summary>
    /// <c>include path</c> (config.c <c>loadServerConfig</c>): a path with <c>*</c>, <c>?</c> or <c>[</c> is a glob whose matches
    /// are read (none is fine); any other path must open, else <c>Fatal error, can't open config file 'path': reason</c>.
    /// </summary>
    private static string? Include(ServerOptions options, string path, LoadState state)
    {
        IEnumerable<string> files;
        if (path.IndexOfAny(['*', '?', '[']) >= 0)
        {
            string directory = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
            string pattern = Path.GetFileName(path);
            files = Directory.Exists(directory)
                ? Directory.GetFiles(directory).Where(f => IsGlobMatch(pattern, Path.GetFileName(f))).Order(StringComparer.Ordinal)
                : [];
        }
        else files = [path];
        foreach (string file in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"Fatal error, can't open config file '{file}': {ServerCommandLine.SystemErrorText(e, file)}";
            }
            if (Apply(options, text, state) is { } error) return error;
        }
        return null;
    }

    private static bool IsGlobMatch(string pattern, string name) =>
        RespKv.Storage.GlobPattern.IsMatch(System.Text.Encoding.UTF8.GetBytes(pattern), System.Text.Encoding.UTF8.GetBytes(name), ignoreCase: false);

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
