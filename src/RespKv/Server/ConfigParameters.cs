using System.Globalization;

namespace RespKv.Server;

/// <summary>
/// One setting: its redis.conf name, how to read it as CONFIG GET prints it, how to set it from text, and
/// how CONFIG REWRITE writes it. Its default is what <see cref="Get"/> reads from a new <see cref="ServerOptions"/>.
/// </summary>
/// <param name="Name">redis.conf name, lower-case.</param>
/// <param name="Mutable">True when CONFIG SET may change it at runtime.</param>
/// <param name="Get">The value as CONFIG GET prints it.</param>
/// <param name="Set">Applies a value; returns null on success or the reason it is invalid
/// (CONFIG SET answers <c>-ERR CONFIG SET failed (possibly related to argument 'name') - reason</c>).</param>
/// <param name="Format">How CONFIG REWRITE writes the value (<see cref="ConfigRewriter"/>).</param>
/// <param name="AlwaysRewritten">True when CONFIG REWRITE writes it even at its default value and absent from
/// the file, as Redis always writes <c>save</c> and <c>dir</c>.</param>
public sealed record ConfigParameter(string Name, bool Mutable, Func<ServerOptions, string> Get, Func<ServerOptions, string, string?> Set,
    ConfigFormat Format = ConfigFormat.Plain, bool AlwaysRewritten = false)
{
    /// <summary>The default value, as CONFIG GET prints it.</summary>
    public string Default => Get(DefaultOptions);

    private static readonly ServerOptions DefaultOptions = new();
}

/// <summary>How CONFIG REWRITE writes a setting's value (Redis 7.0's <c>rewriteConfig*Option</c> functions).</summary>
public enum ConfigFormat
{
    /// <summary><c>name value</c> as CONFIG GET prints it (numbers, yes/no, enums, word lists); an empty value as <c>""</c>.</summary>
    Plain,

    /// <summary><c>name "value"</c>, quoted like Redis's <c>sdscatrepr</c> (paths, file names).</summary>
    Quoted,

    /// <summary>Like <see cref="Quoted"/>, but an empty value writes no line and removes the file's lines (<c>requirepass</c>).</summary>
    QuotedUnlessEmpty,

    /// <summary>A byte count written with Redis's units when exact: <c>100mb</c>, <c>1gb</c>, <c>4kb</c>.</summary>
    Memory,

    /// <summary><c>class hard soft seconds</c> groups, one line per class, sizes as <see cref="Memory"/> (<c>client-output-buffer-limit</c>).</summary>
    PerClassMemory,
}

/// <summary>
/// The table of settings: the single source for start-up options (command line and config file), CONFIG GET,
/// CONFIG SET, CONFIG REWRITE and the README's option table (a test checks the README lists exactly these names)
/// (https://redis.io/docs/management/config/). A setting that is not here is an unknown option.
/// </summary>
public static class ConfigParameters
{
    private static readonly string[] LogLevels = ["debug", "verbose", "notice", "warning", "nothing"];
    // Value lists are in the order Redis 7.0 prints them in its CONFIG SET errors (config.c's enum tables).
    private static readonly string[] FsyncPolicies = ["everysec", "always", "no"];
    private static readonly string[] ProtectedActions = ["no", "yes", "local"];
    private static readonly string[] EvictionPolicies =
        ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"];

    /// <summary>Every setting, by name.</summary>
    public static IReadOnlyList<ConfigParameter> All { get; } =
    [
        new("port", false, o => Int(o.Port), (o, v) => SetInt(v, 0, 65535, x => o.Port = x)),
        new("bind", false, o => string.Join(' ', o.Bind), (o, v) =>
        {
            string[] addresses = v.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (addresses.Length == 0) return "bind needs at least one address";
            o.Bind = addresses;
            return null;
        }),
        new("databases", false, o => Int(o.Databases), (o, v) => SetInt(v, 1, 1_000_000, x => o.Databases = x)),
        new("timeout", true, o => Int(o.Timeout), (o, v) => SetInt(v, 0, int.MaxValue, x => o.Timeout = x)),
        new("maxclients", true, o => o.MaxClients.ToString(CultureInfo.InvariantCulture), (o, v) => SetInteger(v, 1, uint.MaxValue, x => o.MaxClients = x)),
        new("dir", true, o => o.Dir, (o, v) =>
        {
            string full = Path.GetFullPath(v);
            if (File.Exists(full)) return $"'{v}' is a file, not a directory";
            o.Dir = full;
            return null;
        }, ConfigFormat.Quoted, AlwaysRewritten: true),
        new("loglevel", true, o => o.LogLevel, (o, v) => SetEnum(v, LogLevels, x =>
        {
            o.LogLevel = x;
            o.LogLevelChanged?.Invoke(x);
        })),
        new("logfile", false, o => o.LogFile, (o, v) => { o.LogFile = v; return null; }, ConfigFormat.Quoted),
        new("appendonly", true, o => o.AppendOnly ? "yes" : "no", (o, v) =>
        {
            if (!ServerOptions.TryParseYesNo(v, out bool on)) return "argument must be 'yes' or 'no'";
            if (on != o.AppendOnly && o.AppendOnlyChanged is { } change && change(on) is { } error) return error;
            o.AppendOnly = on;
            return null;
        }),
        new("aof-load-truncated", true, o => o.AofLoadTruncated ? "yes" : "no", (o, v) =>
        {
            if (!ServerOptions.TryParseYesNo(v, out bool on)) return "argument must be 'yes' or 'no'";
            o.AofLoadTruncated = on;
            return null;
        }),
        new("auto-aof-rewrite-percentage", true, o => Int(o.AutoAofRewritePercentage), (o, v) => SetInt(v, 0, int.MaxValue, x => o.AutoAofRewritePercentage = x)),
        new("auto-aof-rewrite-min-size", true, o => o.AutoAofRewriteMinSize.ToString(CultureInfo.InvariantCulture), (o, v) =>
        {
            if (!ServerOptions.TryParseMemory(v, out long bytes) || bytes < 0) return "argument must be a memory value";
            o.AutoAofRewriteMinSize = bytes;
            return null;
        }),
        new("appendfsync", true, o => o.AppendFsync, (o, v) => SetEnum(v, FsyncPolicies, x => o.AppendFsync = x)),
        new("appendfilename", false, o => o.AppendFilename, (o, v) =>
        {
            if (v.Length == 0 || v.Contains('/') || v.Contains('\\')) return "appendfilename can't be a path, just a filename";
            o.AppendFilename = v;
            return null;
        }, ConfigFormat.Quoted),
        new("save", true, o => o.Save, (o, v) =>
            v.Trim().Length == 0 ? null : "RDB snapshots are not supported by RespKv; use the AOF", AlwaysRewritten: true),
        new("maxmemory", true, o => o.MaxMemory.ToString(CultureInfo.InvariantCulture), (o, v) =>
        {
            if (!ServerOptions.TryParseMemory(v, out long bytes) || bytes < 0) return "argument must be a memory value";
            o.MaxMemory = bytes;
            return null;
        }, ConfigFormat.Memory),
        // Redis prints the password in CONFIG GET (an authenticated client may read it); logs never do.
        new("requirepass", true, o => o.RequirePass, (o, v) => { o.RequirePass = v; return null; }, ConfigFormat.QuotedUnlessEmpty),
        new("protected-mode", true, o => o.ProtectedMode ? "yes" : "no", (o, v) =>
        {
            if (!ServerOptions.TryParseYesNo(v, out bool on)) return "argument must be 'yes' or 'no'";
            o.ProtectedMode = on;
            return null;
        }),
        new("client-output-buffer-limit", true, o => o.ClientOutputBufferLimit.ToString(), (o, v) =>
        {
            string? error = OutputBufferLimits.TryApply(o.ClientOutputBufferLimit, v, out OutputBufferLimits limits);
            if (error == null) o.ClientOutputBufferLimit = limits;
            return error;
        }, ConfigFormat.PerClassMemory),
        new("maxmemory-policy", true, o => o.MaxMemoryPolicy, (o, v) => SetEnum(v, EvictionPolicies, x =>
        {
            o.MaxMemoryPolicy = x;
            o.MaxMemoryPolicyChanged?.Invoke(x);
        })),
        // Redis 7.0: createIntConfig("maxmemory-samples", 1, INT_MAX, 5).
        new("maxmemory-samples", true, o => Int(o.MaxMemorySamples), (o, v) => SetInt(v, 1, int.MaxValue, x => o.MaxMemorySamples = x)),
        // Redis 7.0: createLongLongConfig(-1, LLONG_MAX, 10000) and createULongConfig(0, LONG_MAX, 128).
        new("slowlog-log-slower-than", true, o => o.SlowlogLogSlowerThan.ToString(CultureInfo.InvariantCulture),
            (o, v) => SetInteger(v, -1, long.MaxValue, x => o.SlowlogLogSlowerThan = x)),
        new("slowlog-max-len", true, o => o.SlowlogMaxLen.ToString(CultureInfo.InvariantCulture),
            (o, v) => SetInteger(v, 0, long.MaxValue, x => o.SlowlogMaxLen = x)),
        // Redis 7.0: createLongLongConfig(0, LLONG_MAX, 0), in milliseconds.
        new("latency-monitor-threshold", true, o => o.LatencyMonitorThreshold.ToString(CultureInfo.InvariantCulture),
            (o, v) => SetInteger(v, 0, long.MaxValue, x => o.LatencyMonitorThreshold = x)),
        // Redis 7.0: createEnumConfig("enable-debug-command", IMMUTABLE_CONFIG, protected_action_enum, "no").
        new("enable-debug-command", false, o => o.EnableDebugCommand, (o, v) => SetEnum(v, ProtectedActions, x => o.EnableDebugCommand = x)),
    ];

    /// <summary>The setting named <paramref name="name"/> (any case), or null.</summary>
    public static ConfigParameter? Find(string name)
    {
        foreach (ConfigParameter p in All)
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return p;
        return null;
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? SetInt(string text, int min, int max, Action<int> apply) =>
        SetInteger(text, min, max, n => apply((int)n));

    /// <summary>Parses an integer setting with Redis's range error text (config.c numeric configs).</summary>
    private static string? SetInteger(string text, long min, long max, Action<long> apply)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            return "argument couldn't be parsed into an integer";
        if (n < min || n > max) return $"argument must be between {min} and {max} inclusive";
        apply(n);
        return null;
    }

    private static string? SetEnum(string text, string[] allowed, Action<string> apply)
    {
        foreach (string a in allowed)
        {
            if (!a.Equals(text, StringComparison.OrdinalIgnoreCase)) continue;
            apply(a);
            return null;
        }
        return "argument(s) must be one of the following: " + string.Join(", ", allowed);
    }
}
