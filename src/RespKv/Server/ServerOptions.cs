using System.Globalization;

namespace RespKv.Server;

/// <summary>
/// The server's settings, named and valued as redis.conf 7.0 names them. Read at start-up from a
/// config file and <c>--name value</c> overrides, read by <c>CONFIG GET</c> and changed by
/// <c>CONFIG SET</c> through <see cref="ConfigParameters"/>, the one table of settings.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>TCP port (<c>port</c>); 0 picks a free port (tests). Default 6379.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>
    /// Addresses to listen on (<c>bind</c>). Default <c>127.0.0.1 -::1</c>, as Redis 7.0: the loopback
    /// interfaces only, so the server is not open to the network by accident. A leading <c>-</c> marks an
    /// optional address: when it cannot be bound (e.g. no IPv6) it is skipped instead of failing start-up.
    /// </summary>
    public string[] Bind { get; set; } = ["127.0.0.1", "-::1"];

    /// <summary>
    /// The default user's password (<c>requirepass</c>); empty = none. When set, a connection must
    /// <c>AUTH</c> (or <c>HELLO … AUTH default pass</c>) before any command but AUTH, HELLO, QUIT and
    /// RESET; CONFIG GET prints it, as Redis does, but it is never logged.
    /// </summary>
    public string RequirePass { get; set; } = "";

    /// <summary>
    /// Protected mode (<c>protected-mode</c>, default yes): while no password is set, connections from
    /// non-loopback addresses are answered <c>-DENIED …</c> and closed (Redis 7.0 networking.c).
    /// </summary>
    public bool ProtectedMode { get; set; } = true;

    /// <summary>
    /// <c>client-output-buffer-limit</c>, per client class. RespKv only has <c>normal</c> clients and enforces
    /// that class; the <c>replica</c> and <c>pubsub</c> classes are kept for CONFIG GET/SET. Defaults as
    /// Redis 7.0: <c>normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60</c>.
    /// </summary>
    public OutputBufferLimits ClientOutputBufferLimit { get; set; } = OutputBufferLimits.Default;

    /// <summary>Number of databases (<c>databases</c>), 1..1,000,000. Default 16.</summary>
    public int Databases { get; set; } = 16;

    /// <summary>Close a client idle for this many seconds (<c>timeout</c>); 0 = never.</summary>
    public int Timeout { get; set; }

    /// <summary>Maximum simultaneous clients (<c>maxclients</c>), 1..4294967295 as in Redis. Default 10000.</summary>
    public long MaxClients { get; set; } = 10000;

    /// <summary>Data directory (<c>dir</c>), for the AOF.</summary>
    public string Dir { get; set; } = Path.GetFullPath("./data");

    /// <summary>Log verbosity (<c>loglevel</c>): debug, verbose, notice (default), warning, nothing.</summary>
    public string LogLevel { get; set; } = "notice";

    /// <summary>Log file path (<c>logfile</c>); empty = standard output.</summary>
    public string LogFile { get; set; } = "";

    /// <summary>The config file the server was started with (<c>config_file</c> in INFO), or empty.</summary>
    public string ConfigFile { get; set; } = "";

    /// <summary>
    /// AOF on or off (<c>appendonly</c>). Off by default for the library (tests, in-process hosts); the executable
    /// (respkv-server) defaults it to yes, so data survives a restart out of the box.
    /// </summary>
    public bool AppendOnly { get; set; }

    /// <summary>
    /// <c>aof-load-truncated</c> (default yes): at start-up, an AOF whose last record is cut short is truncated at the
    /// last whole record and loaded; with no, the server refuses to start (exit 1).
    /// </summary>
    public bool AofLoadTruncated { get; set; } = true;

    /// <summary><c>auto-aof-rewrite-percentage</c> (default 100): rewrite when the AOF has grown by this percentage over its size after the last rewrite; 0 disables.</summary>
    public int AutoAofRewritePercentage { get; set; } = 100;

    /// <summary><c>auto-aof-rewrite-min-size</c> in bytes (default 64mb): no automatic rewrite below this size.</summary>
    public long AutoAofRewriteMinSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Called when CONFIG SET changes <c>appendonly</c> on a running server (the host turns the AOF on or off);
    /// returns null on success or the reason it failed. Null while no host runs (start-up parsing).
    /// </summary>
    public Func<bool, string?>? AppendOnlyChanged { get; set; }

    /// <summary>fsync policy (<c>appendfsync</c>): always, everysec (default) or no.</summary>
    public string AppendFsync { get; set; } = "everysec";

    /// <summary>AOF file name inside <see cref="Dir"/> (<c>appendfilename</c>).</summary>
    public string AppendFilename { get; set; } = "appendonly.aof";

    /// <summary>RDB snapshot schedule (<c>save</c>). RespKv does not write RDB snapshots: always empty.</summary>
    public string Save { get; set; } = "";

    /// <summary>
    /// Memory limit in bytes (<c>maxmemory</c>); 0 = none. Compared before each command with the estimated memory of
    /// the data (INFO <c>used_memory</c>): over it, keys are evicted by <see cref="MaxMemoryPolicy"/>, or commands
    /// flagged <c>denyoom</c> answer <c>-OOM command not allowed when used memory &gt; 'maxmemory'.</c>.
    /// </summary>
    public long MaxMemory { get; set; }

    /// <summary>Eviction policy (<c>maxmemory-policy</c>): noeviction (default), allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl.</summary>
    public string MaxMemoryPolicy { get; set; } = "noeviction";

    /// <summary>Called after CONFIG SET changes <see cref="MaxMemoryPolicy"/> (the keyspace switches between LRU and LFU access tracking).</summary>
    public Action<string>? MaxMemoryPolicyChanged { get; set; }

    /// <summary>Keys sampled per database per eviction round (<c>maxmemory-samples</c>, 1..2147483647, default 5).</summary>
    public int MaxMemorySamples { get; set; } = 5;

    /// <summary>Commands running at least this many microseconds go to the slow log (<c>slowlog-log-slower-than</c>); negative disables it, 0 logs everything. Default 10000.</summary>
    public long SlowlogLogSlowerThan { get; set; } = 10000;

    /// <summary>Entries the slow log keeps (<c>slowlog-max-len</c>). Default 128.</summary>
    public long SlowlogMaxLen { get; set; } = 128;

    /// <summary>Commands running at least this many milliseconds add a latency sample (<c>latency-monitor-threshold</c>); 0 (default) disables the latency monitor.</summary>
    public long LatencyMonitorThreshold { get; set; }

    /// <summary>A hash stays a listpack (OBJECT ENCODING) while it has at most this many fields (<c>hash-max-listpack-entries</c>, Redis 7.0 default 512, as redis-server 7.0.15's CONFIG GET reports).</summary>
    public int HashMaxListpackEntries { get; set; } = 512;

    /// <summary>… and no field or value longer than this many bytes (<c>hash-max-listpack-value</c>, Redis 7.0 default 64).</summary>
    public int HashMaxListpackValue { get; set; } = 64;

    /// <summary>
    /// Who may run DEBUG (<c>enable-debug-command</c>, start-up only, as Redis 7.0): <c>no</c> (default) nobody, <c>local</c>
    /// clients on a loopback address (or an in-memory connection), <c>yes</c> everybody.
    /// </summary>
    public string EnableDebugCommand { get; set; } = "no";

    /// <summary>Called after <see cref="LogLevel"/> changes (the executable re-levels its logger).</summary>
    public Action<string>? LogLevelChanged { get; set; }

    /// <summary>Parses a memory size as redis.conf does: bytes, or with k/kb/m/mb/g/gb (k = 1000, kb = 1024).</summary>
    public static bool TryParseMemory(string text, out long bytes)
    {
        bytes = 0;
        string t = text.Trim().ToLowerInvariant();
        (string suffix, long unit)[] units = [("gb", 1L << 30), ("mb", 1L << 20), ("kb", 1L << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)];
        long multiplier = 1;
        foreach ((string suffix, long unit) in units)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                t = t[..^suffix.Length];
                multiplier = unit;
                break;
            }
        }
        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return false;
        try
        {
            bytes = checked(n * multiplier);
        }
        catch (OverflowException)
        {
            return false;
        }
        return true;
    }

    /// <summary>Parses redis.conf's yes/no.</summary>
    public static bool TryParseYesNo(string text, out bool value)
    {
        value = text.Equals("yes", StringComparison.OrdinalIgnoreCase);
        return value || text.Equals("no", StringComparison.OrdinalIgnoreCase);
    }
}
