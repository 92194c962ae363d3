using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>The sections of INFO that RespKv produces, in the order Redis prints them.</summary>
[Flags]
public enum InfoSections
{
    /// <summary>No section: <c>INFO nosuch</c> replies with an empty string.</summary>
    None = 0,
    /// <summary><c># Server</c>: versions, process, port, uptime.</summary>
    Server = 1 << 0,
    /// <summary><c># Clients</c>: connected clients and the limit.</summary>
    Clients = 1 << 1,
    /// <summary><c># Memory</c>: managed heap, resident set, peak, maxmemory.</summary>
    Memory = 1 << 2,
    /// <summary><c># Persistence</c>: loading and AOF state.</summary>
    Persistence = 1 << 3,
    /// <summary><c># Stats</c>: connection, command, traffic and keyspace counters.</summary>
    Stats = 1 << 4,
    /// <summary><c># Replication</c>: always a master without replicas.</summary>
    Replication = 1 << 5,
    /// <summary><c># CPU</c>: process CPU time.</summary>
    Cpu = 1 << 6,
    /// <summary><c># Commandstats</c>: per-command calls, time, rejected and failed calls (not in <c>default</c>).</summary>
    Commandstats = 1 << 7,
    /// <summary><c># Errorstats</c>: error replies per error code.</summary>
    Errorstats = 1 << 8,
    /// <summary><c># Latencystats</c>: per-command latency percentiles (<c>latency-tracking</c>; not in <c>default</c>).</summary>
    Latencystats = 1 << 11,
    /// <summary><c># Keyspace</c>: one line per non-empty database.</summary>
    Keyspace = 1 << 9,
    /// <summary><c># Keyspace_totals</c> (RespKv's own): keys, value bytes and key operations over all databases.</summary>
    KeyspaceTotals = 1 << 10,
    /// <summary>What <c>INFO</c> and <c>INFO default</c> print: every section but commandstats, as Redis 7.0.</summary>
    Default = Server | Clients | Memory | Persistence | Stats | Replication | Cpu | Errorstats | Keyspace | KeyspaceTotals,
    /// <summary>What <c>INFO all</c> and <c>INFO everything</c> print.</summary>
    All = Default | Commandstats | Latencystats,
}

/// <summary>
/// Builds the text of INFO (https://redis.io/commands/info/) in Redis 7.0's format: each section is
/// <c># Name\r\n</c> followed by <c>field:value\r\n</c> lines; sections are separated by an empty line
/// (<c>\r\n</c>). Fields RespKv cannot know (memory, persistence, replication) belong to sections it
/// does not produce yet.
/// </summary>
public static class InfoBuilder
{
    private static readonly string OsName = DescribeOs();

    /// <summary>
    /// The section named <paramref name="name"/> (any case; <c>default</c>, <c>all</c> and
    /// <c>everything</c> mean every section); <see cref="InfoSections.None"/> for a name RespKv does
    /// not produce, which Redis ignores too.
    /// </summary>
    public static InfoSections Parse(ReadOnlySpan<byte> name)
    {
        if (Ascii.EqualsIgnoreCase(name, "server"u8)) return InfoSections.Server;
        if (Ascii.EqualsIgnoreCase(name, "clients"u8)) return InfoSections.Clients;
        if (Ascii.EqualsIgnoreCase(name, "memory"u8)) return InfoSections.Memory;
        if (Ascii.EqualsIgnoreCase(name, "persistence"u8)) return InfoSections.Persistence;
        if (Ascii.EqualsIgnoreCase(name, "stats"u8)) return InfoSections.Stats;
        if (Ascii.EqualsIgnoreCase(name, "replication"u8)) return InfoSections.Replication;
        if (Ascii.EqualsIgnoreCase(name, "cpu"u8)) return InfoSections.Cpu;
        if (Ascii.EqualsIgnoreCase(name, "commandstats"u8)) return InfoSections.Commandstats;
        if (Ascii.EqualsIgnoreCase(name, "errorstats"u8)) return InfoSections.Errorstats;
        if (Ascii.EqualsIgnoreCase(name, "latencystats"u8)) return InfoSections.Latencystats;
        if (Ascii.EqualsIgnoreCase(name, "keyspace"u8)) return InfoSections.Keyspace;
        if (Ascii.EqualsIgnoreCase(name, "keyspace_totals"u8)) return InfoSections.KeyspaceTotals;
        if (Ascii.EqualsIgnoreCase(name, "default"u8)) return InfoSections.Default;
        if (Ascii.EqualsIgnoreCase(name, "all"u8) || Ascii.EqualsIgnoreCase(name, "everything"u8)) return InfoSections.All;
        return InfoSections.None;
    }

    /// <summary>The INFO text of <paramref name="sections"/> of <paramref name="server"/>; empty for <see cref="InfoSections.None"/>.</summary>
    public static string Build(RespServer server, InfoSections sections)
    {
        var text = new StringBuilder(1024);
        if ((sections & InfoSections.Server) != 0) AppendServer(Begin(text, "Server"), server);
        if ((sections & InfoSections.Clients) != 0) AppendClients(Begin(text, "Clients"), server);
        if ((sections & InfoSections.Memory) != 0) AppendMemory(Begin(text, "Memory"), server);
        if ((sections & InfoSections.Persistence) != 0) AppendPersistence(Begin(text, "Persistence"), server);
        if ((sections & InfoSections.Stats) != 0) AppendStats(Begin(text, "Stats"), server);
        if ((sections & InfoSections.Replication) != 0) AppendReplication(Begin(text, "Replication"), server);
        if ((sections & InfoSections.Cpu) != 0) AppendCpu(Begin(text, "CPU"));
        long[]? commandCounts = (sections & (InfoSections.Commandstats | InfoSections.KeyspaceTotals)) != 0
            ? server.CommandStats.Snapshot(server.Clients) : null;
        if ((sections & InfoSections.Commandstats) != 0) AppendCommandstats(Begin(text, "Commandstats"), server, commandCounts!);
        if ((sections & InfoSections.Errorstats) != 0) AppendErrorstats(Begin(text, "Errorstats"), server);
        if ((sections & InfoSections.Latencystats) != 0)
        {
            StringBuilder latency = Begin(text, "Latencystats");
            if (server.Options.LatencyTracking)
                server.LatencyHistograms.AppendInfo(latency, server.Options.LatencyTrackingInfoPercentiles);
        }
        if ((sections & InfoSections.Keyspace) != 0) AppendKeyspace(Begin(text, "Keyspace"), server);
        if ((sections & InfoSections.KeyspaceTotals) != 0) AppendKeyspaceTotals(Begin(text, "Keyspace_totals"), server, commandCounts!);
        return text.ToString();
    }

    private static StringBuilder Begin(StringBuilder text, string section)
    {
        if (text.Length > 0) text.Append("\r\n");
        return text.Append("# ").Append(section).Append("\r\n");
    }

    private static StringBuilder Field(this StringBuilder text, string name, string value) =>
        text.Append(name).Append(':').Append(value).Append("\r\n");

    private static StringBuilder Field(this StringBuilder text, string name, long value) =>
        text.Field(name, value.ToString(CultureInfo.InvariantCulture));

    private static void AppendServer(StringBuilder text, RespServer server)
    {
        long uptimeSeconds = (long)server.Uptime.Elapsed.TotalSeconds;
        long nowMicroseconds = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        // Redis 7.0's fields in its order (clients and exporters read them by name), plus respkv_version. Fields of how Redis was
        // built say what RespKv is: no git build (sha1 00000000, as an unversioned Redis build prints), not built by GCC (0.0.0, as
        // Redis prints then), the event loop of .NET's sockets (epoll on Linux, kqueue on macOS and BSD).
        text.Field("redis_version", RespServer.RedisCompatibleVersion)
            .Field("respkv_version", RespServer.Version)
            .Field("redis_git_sha1", "00000000")
            .Field("redis_git_dirty", 0)
            .Field("redis_build_id", BuildId)
            .Field("redis_mode", "standalone")
            .Field("os", OsName)
            .Field("arch_bits", IntPtr.Size * 8)
            .Field("monotonic_clock", "POSIX clock_gettime")
            .Field("multiplexing_api", MultiplexingApi)
            .Field("atomicvar_api", "c11-builtin")
            .Field("gcc_version", "0.0.0")
            .Field("process_id", Environment.ProcessId)
            .Field("process_supervised", "no")
            .Field("run_id", server.RunId)
            .Field("tcp_port", server.BoundPort)
            .Field("server_time_usec", nowMicroseconds)
            .Field("uptime_in_seconds", uptimeSeconds)
            .Field("uptime_in_days", uptimeSeconds / 86400)
            .Field("hz", Setting(server, "hz"))
            .Field("configured_hz", Setting(server, "hz"))
            .Field("lru_clock", nowMicroseconds / 1_000_000 & ((1 << 24) - 1)) // Redis's LRU clock: Unix seconds, 24 bits
            .Field("executable", Environment.ProcessPath ?? "")
            .Field("config_file", server.Options.ConfigFile)
            .Field("io_threads_active", 0);
    }

    /// <summary>A stored setting's value as CONFIG GET prints it (e.g. <c>hz</c>, <c>repl-backlog-size</c>).</summary>
    private static string Setting(RespServer server, string name) => ConfigParameters.Find(name)!.Get(server.Options);

    /// <summary><c>redis_build_id</c>: 16 hex digits derived from RespKv's version, stable across runs of one build.</summary>
    private static readonly string BuildId =
        Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.ASCII.GetBytes("respkv-" + RespServer.Version)))[..16];

    /// <summary><c>multiplexing_api</c>: the readiness API under .NET's sockets on this system, named as Redis names its own.</summary>
    private static string MultiplexingApi =>
        OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? "kqueue" : "select";

    private static void AppendClients(StringBuilder text, RespServer server) =>
        text.Field("connected_clients", server.Clients.Count)
            .Field("maxclients", server.Options.MaxClients)
            .Field("blocked_clients", server.Clients.BlockedCount)
            .Field("tracking_clients", server.Tracking.TrackingClients);

    private static void AppendStats(StringBuilder text, RespServer server)
    {
        ServerStats stats = server.Stats;
        (long commands, long hits, long misses, long input, long output) = stats.Totals(server.Clients);
        text.Field("total_connections_received", stats.ConnectionsReceived)
            .Field("total_commands_processed", commands)
            .Field("instantaneous_ops_per_sec", stats.InstantaneousOpsPerSec)
            .Field("total_net_input_bytes", input)
            .Field("total_net_output_bytes", output)
            .Field("instantaneous_input_kbps", Kbps(stats.InstantaneousInputKbps))
            .Field("instantaneous_output_kbps", Kbps(stats.InstantaneousOutputKbps))
            .Field("rejected_connections", stats.RejectedConnections)
            .Field("expired_keys", server.Keyspace.Lifetime.ExpiredKeys)
            .Field("expired_stale_perc", (server.Keyspace.ActiveExpiry.StalePercent * 100).ToString("F2", CultureInfo.InvariantCulture))
            .Field("expired_time_cap_reached_count", server.Keyspace.ActiveExpiry.TimeCapReachedCount)
            .Field("evicted_keys", server.Keyspace.Lifetime.EvictedKeys)
            .Field("keyspace_hits", hits)
            .Field("keyspace_misses", misses)
            .Field("pubsub_channels", server.PubSub.ChannelCount)
            .Field("pubsub_patterns", server.PubSub.PatternCount)
            .Field("pubsubshard_channels", server.PubSub.ShardChannelCount)
            .Field("tracking_total_keys", server.Tracking.TotalKeys)
            .Field("tracking_total_items", server.Tracking.TotalItems)
            .Field("tracking_total_prefixes", server.Tracking.TotalPrefixes)
            .Field("total_error_replies", server.CommandStats.TotalErrorReplies);
    }

    /// <summary>
    /// <c>used_memory</c> is RespKv's running estimate of the bytes its data holds on the managed heap — keys, values,
    /// hash fields, per-entry nodes and hash tables (<see cref="Keyspace.MemoryBytes"/>), what maxmemory is checked
    /// against — not malloc'd bytes of the whole process as in Redis (it leaves out client buffers and the runtime);
    /// <c>used_memory_rss</c> is the process working set; the peak is sampled by the server cron and by INFO.
    /// <c>used_memory_lua</c>/<c>used_memory_vm_eval</c> are the bytes the EVAL Lua state's allocator holds (0 before the
    /// first script), <c>used_memory_scripts_eval</c> the cached script bodies and entries, <c>number_of_cached_scripts</c> the cache size.
    /// <c>used_memory_vm_functions</c> is the functions' Lua heap (0 before the first FUNCTION LOAD), <c>used_memory_functions</c>
    /// the libraries' code, names and descriptions with a fixed overhead per library and function, <c>number_of_functions</c>
    /// the functions loaded; <c>used_memory_vm_total</c> and <c>used_memory_scripts</c> add the EVAL and function figures.
    /// </summary>
    private static void AppendMemory(StringBuilder text, RespServer server)
    {
        long used = UsedMemory(server);
        long peak = server.Stats.TrackMemoryPeak(used);
        long rss = Environment.WorkingSet;
        long max = server.Options.MaxMemory;
        text.Field("used_memory", used)
            .Field("used_memory_human", BytesToHuman(used))
            .Field("used_memory_rss", rss)
            .Field("used_memory_rss_human", BytesToHuman(rss))
            .Field("used_memory_peak", peak)
            .Field("used_memory_peak_human", BytesToHuman(peak));
        // Scripting (Redis 7.0's field names): the EVAL Lua heap, the script cache.
        Scripting.ScriptingState? scripting = server.ScriptingIfCreated;
        long lua = scripting?.EvalMemoryBytes ?? 0;
        text.Field("used_memory_lua", lua)
            .Field("used_memory_vm_eval", lua)
            .Field("used_memory_lua_human", BytesToHuman(lua))
            .Field("used_memory_scripts_eval", scripting?.EvalScriptsBytes ?? 0)
            .Field("number_of_cached_scripts", scripting?.CachedScripts ?? 0);
        // Functions (Redis 7.0's field names): the functions' Lua heap, the libraries' code and names.
        Scripting.Functions.FunctionRegistry? functions = server.FunctionsIfCreated;
        long functionsLua = functions?.MemoryBytes ?? 0, functionsBytes = functions?.Current.OverheadBytes ?? 0;
        long scripts = (scripting?.EvalScriptsBytes ?? 0) + functionsBytes;
        text.Field("number_of_functions", functions?.Current.FunctionCount ?? 0)
            .Field("used_memory_vm_functions", functionsLua)
            .Field("used_memory_vm_total", lua + functionsLua)
            .Field("used_memory_vm_total_human", BytesToHuman(lua + functionsLua))
            .Field("used_memory_functions", functionsBytes)
            .Field("used_memory_scripts", scripts)
            .Field("used_memory_scripts_human", BytesToHuman(scripts))
            .Field("maxmemory", max)
            .Field("maxmemory_human", BytesToHuman(max))
            .Field("maxmemory_policy", server.Options.MaxMemoryPolicy)
            .Field("mem_fragmentation_ratio", (used == 0 ? 0 : (double)rss / used).ToString("F2", CultureInfo.InvariantCulture));
    }

    /// <summary>INFO <c>used_memory</c>: the keyspace's memory estimate (see <see cref="AppendMemory"/>).</summary>
    internal static long UsedMemory(RespServer server) => server.Keyspace.MemoryBytes;

    /// <summary>Redis's <c>bytesToHuman</c>: <c>512B</c>, <c>966.18K</c>, <c>1.50M</c>, <c>2.00G</c> …</summary>
    public static string BytesToHuman(long n)
    {
        if (n < 1024) return n.ToString(CultureInfo.InvariantCulture) + "B";
        string[] units = ["K", "M", "G", "T", "P"];
        double d = n / 1024.0;
        int u = 0;
        while (d >= 1024 && u < units.Length - 1)
        {
            d /= 1024;
            u++;
        }
        return d.ToString("F2", CultureInfo.InvariantCulture) + units[u];
    }

    /// <summary>
    /// Loading and AOF state, with Redis 7.0's field names (RespKv writes no RDB and forks no child, so the RDB and
    /// copy-on-write fields are left out). Sizes in bytes, times in seconds (-1: none).
    /// </summary>
    private static void AppendPersistence(StringBuilder text, RespServer server)
    {
        Persistence.AppendOnlyFile? aof = server.Aof;
        Persistence.AofRewriteStatus? status = aof?.RewriteStatus;
        text.Field("loading", server.Loading ? 1 : 0)
            .Field("async_loading", 0)
            .Field("aof_enabled", aof != null ? 1 : 0)
            .Field("aof_rewrite_in_progress", aof?.RewriteInProgress == true ? 1 : 0)
            .Field("aof_rewrite_scheduled", 0)
            .Field("aof_last_rewrite_time_sec", status?.LastRewriteSeconds ?? -1)
            .Field("aof_current_rewrite_time_sec", status?.CurrentRewriteSeconds ?? -1)
            .Field("aof_last_bgrewrite_status", status?.LastRewriteOk == false ? "err" : "ok")
            .Field("aof_rewrites", status?.Rewrites ?? 0)
            .Field("aof_last_write_status", aof?.WriteError != null ? "err" : "ok");
        if (aof == null) return;
        text.Field("aof_current_size", aof.CurrentSize)
            .Field("aof_base_size", aof.BaseSize)
            .Field("aof_pending_rewrite", 0)
            .Field("aof_buffer_length", Math.Max(0, aof.AppendOffset - aof.WrittenOffset))
            .Field("aof_pending_bio_fsync", 0)
            .Field("aof_delayed_fsync", 0);
    }

    /// <summary>RespKv has no replication: always a master with no replicas and an empty stream.</summary>
    private static void AppendReplication(StringBuilder text, RespServer server) =>
        text.Field("role", "master")
            .Field("connected_slaves", 0)
            .Field("master_failover_state", "no-failover")
            .Field("master_replid", server.ReplicationId)
            .Field("master_replid2", new string('0', 40))
            .Field("master_repl_offset", 0)
            .Field("second_repl_offset", -1)
            .Field("repl_backlog_active", 0)
            .Field("repl_backlog_size", Setting(server, "repl-backlog-size"))
            .Field("repl_backlog_first_byte_offset", 0)
            .Field("repl_backlog_histlen", 0);

    /// <summary>Process CPU time in seconds with 6 decimals (Redis's <c>%ld.%06ld</c> of getrusage).</summary>
    private static void AppendCpu(StringBuilder text)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        text.Field("used_cpu_sys", Seconds(process.PrivilegedProcessorTime))
            .Field("used_cpu_user", Seconds(process.UserProcessorTime));
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>cmdstat_NAME:calls=N,usec=N,usec_per_call=N.NN,rejected_calls=N,failed_calls=N</c> for every row that
    /// was called or rejected (subcommands as <c>config|get</c>), in table order (Redis prints its dict order).
    /// </summary>
    private static void AppendCommandstats(StringBuilder text, RespServer server, long[] counts)
    {
        foreach (CommandInfo row in server.Commands.StatsRows)
        {
            int at = row.StatsIndex * CommandCounters.Stride;
            long calls = counts[at + CommandCounters.Calls];
            long failed = counts[at + CommandCounters.Failed];
            long rejected = counts[at + CommandCounters.Rejected];
            if (calls == 0 && failed == 0 && rejected == 0) continue;
            long usec = counts[at + CommandCounters.Ticks] * 1_000_000 / System.Diagnostics.Stopwatch.Frequency;
            double perCall = calls == 0 ? 0 : (double)usec / calls;
            text.Append("cmdstat_").Append(row.FullName).Append(":calls=").Append(calls.ToString(CultureInfo.InvariantCulture))
                .Append(",usec=").Append(usec.ToString(CultureInfo.InvariantCulture))
                .Append(",usec_per_call=").Append(perCall.ToString("F2", CultureInfo.InvariantCulture))
                .Append(",rejected_calls=").Append(rejected.ToString(CultureInfo.InvariantCulture))
                .Append(",failed_calls=").Append(failed.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
    }

    /// <summary><c>errorstat_CODE:count=N</c> per error code seen.</summary>
    private static void AppendErrorstats(StringBuilder text, RespServer server)
    {
        foreach (KeyValuePair<string, long> e in server.CommandStats.ErrorCounts())
            text.Append("errorstat_").Append(e.Key).Append(":count=").Append(e.Value.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
    }

    /// <summary>
    /// RespKv's own section: <c>keys</c> over all databases, <c>value_bytes</c> (sum of every value's
    /// <see cref="KeyEntry.ValueBytes"/>, kept incrementally by each shard), and <c>get_ops</c>, <c>set_ops</c>,
    /// <c>del_ops</c> as <see cref="CommandStatistics.KeyOperations"/> defines them.
    /// </summary>
    private static void AppendKeyspaceTotals(StringBuilder text, RespServer server, long[] counts)
    {
        long keys = 0, bytes = 0;
        Keyspace keyspace = server.Keyspace;
        for (int i = 0; i < keyspace.DatabaseCount; i++)
        {
            keys += keyspace[i].Count;
            bytes += keyspace[i].ValueBytes;
        }
        (long get, long set, long del) = server.CommandStats.KeyOperations(counts);
        text.Field("keys", keys).Field("value_bytes", bytes).Field("get_ops", get).Field("set_ops", set).Field("del_ops", del);
    }

    private static void AppendKeyspace(StringBuilder text, RespServer server)
    {
        Keyspace keyspace = server.Keyspace;
        for (int i = 0; i < keyspace.DatabaseCount; i++)
        {
            long keys = keyspace[i].Count;
            if (keys == 0) continue;
            // expires counts keys with an expiry (expired ones not yet removed included), avg_ttl is the active cycle's estimate.
            text.Append("db").Append(i.ToString(CultureInfo.InvariantCulture)).Append(":keys=")
                .Append(keys.ToString(CultureInfo.InvariantCulture))
                .Append(",expires=").Append(keyspace[i].VolatileCount.ToString(CultureInfo.InvariantCulture))
                .Append(",avg_ttl=").Append(keyspace[i].AverageTtl.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
    }

    /// <summary>Redis prints rates with <c>%.2f</c>.</summary>
    private static string Kbps(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Redis prints <c>uname</c>'s sysname, release and machine: <c>Linux 6.1.0-18-amd64 x86_64</c>.</summary>
    private static string DescribeOs()
    {
        string machine = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            Architecture.X86 => "i686",
            Architecture.Arm => "armv7l",
            var other => other.ToString().ToLowerInvariant(),
        };
        const string releaseFile = "/proc/sys/kernel/osrelease";
        if (OperatingSystem.IsLinux() && File.Exists(releaseFile))
            return $"Linux {File.ReadAllText(releaseFile).Trim()} {machine}";
        return $"{RuntimeInformation.OSDescription} {machine}";
    }
}
