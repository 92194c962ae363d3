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
    /// <summary><c># Modules</c>: one line per loaded module; RespKv loads none, so the section is empty.</summary>
    Modules = 1 << 12,
    /// <summary><c># Cluster</c>: <c>cluster_enabled:0</c> (RespKv is a standalone server).</summary>
    Cluster = 1 << 13,
    /// <summary>What <c>INFO</c> and <c>INFO default</c> print: every section but commandstats and latencystats, as Redis 7.0.</summary>
    Default = Server | Clients | Memory | Persistence | Stats | Replication | Cpu | Modules | Errorstats | Cluster | Keyspace | KeyspaceTotals,
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
        if (Ascii.EqualsIgnoreCase(name, "modules"u8)) return InfoSections.Modules;
        if (Ascii.EqualsIgnoreCase(name, "cluster"u8)) return InfoSections.Cluster;
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
        if ((sections & InfoSections.Modules) != 0) Begin(text, "Modules");
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
        if ((sections & InfoSections.Cluster) != 0) Begin(text, "Cluster").Field("cluster_enabled", 0);
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

    /// <summary>
    /// Redis 7.0's server fields. <c>redis_git_sha1</c>/<c>redis_git_dirty</c> are what a Redis built outside git prints,
    /// <c>redis_build_id</c> identifies this RespKv build (its assembly's module version id), <c>gcc_version</c> is
    /// <c>0.0.0</c> as Redis prints when not compiled by GCC; <c>monotonic_clock</c> and <c>multiplexing_api</c> name what
    /// .NET uses on Linux (<c>clock_gettime</c>, <c>epoll</c>); <c>hz</c>/<c>configured_hz</c> are the <c>hz</c> setting;
    /// <c>lru_clock</c> is Redis's 24-bit seconds clock; RespKv has no I/O threads.
    /// </summary>
    private static void AppendServer(StringBuilder text, RespServer server)
    {
        long uptimeSeconds = (long)server.Uptime.Elapsed.TotalSeconds;
        long nowMicroseconds = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        string hz = Setting(server, "hz");
        text.Field("redis_version", RespServer.RedisCompatibleVersion)
            .Field("redis_git_sha1", "00000000")
            .Field("redis_git_dirty", 0)
            .Field("redis_build_id", BuildId)
            .Field("respkv_version", RespServer.Version)
            .Field("redis_mode", "standalone")
            .Field("os", OsName)
            .Field("arch_bits", IntPtr.Size * 8)
            .Field("monotonic_clock", "POSIX clock_gettime")
            .Field("multiplexing_api", OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsWindows() ? "iocp" : "kqueue")
            .Field("atomicvar_api", "c11-builtin")
            .Field("gcc_version", "0.0.0")
            .Field("process_id", Environment.ProcessId)
            .Field("process_supervised", Supervised(server))
            .Field("run_id", server.RunId)
            .Field("tcp_port", server.BoundPort)
            .Field("server_time_usec", nowMicroseconds)
            .Field("uptime_in_seconds", uptimeSeconds)
            .Field("uptime_in_days", uptimeSeconds / 86400)
            .Field("hz", hz)
            .Field("configured_hz", hz)
            .Field("lru_clock", nowMicroseconds / 1_000_000 & ((1 << 24) - 1))
            .Field("executable", Environment.ProcessPath ?? "")
            .Field("config_file", server.Options.ConfigFile)
            .Field("io_threads_active", 0);
    }

    /// <summary>This build's id: the first 16 hex digits of RespKv's assembly module version id (new per build).</summary>
    private static readonly string BuildId = Convert.ToHexStringLower(typeof(RespServer).Module.ModuleVersionId.ToByteArray())[..16];

    /// <summary>CONFIG GET <paramref name="name"/>'s value.</summary>
    private static string Setting(RespServer server, string name) =>
        Configuration.ConfigParameters.Find(name)?.Get(server.Options) ?? "";

    /// <summary>Redis's <c>process_supervised</c>: the <c>supervised</c> mode in effect (<c>auto</c> is systemd when NOTIFY_SOCKET is set).</summary>
    private static string Supervised(RespServer server) => Setting(server, "supervised") switch
    {
        "auto" => Environment.GetEnvironmentVariable("NOTIFY_SOCKET") != null ? "systemd" : "no",
        "" => "no",
        var mode => mode,
    };

    /// <summary>
    /// Redis 7.0's client fields. No cluster bus (<c>cluster_connections:0</c>); input and reply buffers belong to each
    /// connection's pipe and are not measured (as <c>qbuf=0</c>/<c>omem=0</c> in CLIENT LIST), so the recent maxima are 0;
    /// <c>clients_in_timeout_table</c> counts the blocked clients (each blocked client is in the timeout table).
    /// </summary>
    private static void AppendClients(StringBuilder text, RespServer server) =>
        text.Field("connected_clients", server.Clients.Count)
            .Field("cluster_connections", 0)
            .Field("maxclients", server.Options.MaxClients)
            .Field("client_recent_max_input_buffer", 0)
            .Field("client_recent_max_output_buffer", 0)
            .Field("blocked_clients", server.Clients.BlockedCount)
            .Field("tracking_clients", server.Tracking.TrackingClients)
            .Field("clients_in_timeout_table", server.Clients.BlockedCount);

    /// <summary>
    /// Redis 7.0's stats fields; <c>sync_full</c>, <c>sync_partial_ok</c> and <c>sync_partial_err</c> count the resyncs this primary
    /// served (<see cref="Replication.ReplicationState"/>). RespKv has no forks, defragmenter, client eviction
    /// (<c>maxmemory-clients</c>), I/O threads or resizable reply buffers, so those counters stay 0.
    /// <c>total_reads_processed</c> counts socket reads that delivered input, <c>total_writes_processed</c> reply flushes.
    /// </summary>
    private static void AppendStats(StringBuilder text, RespServer server)
    {
        ServerStats stats = server.Stats;
        (long commands, long hits, long misses, long input, long output) = stats.Totals(server.Clients);
        (long reads, long writes) = stats.IoTotals(server.Clients);
        text.Field("total_connections_received", stats.ConnectionsReceived)
            .Field("total_commands_processed", commands)
            .Field("instantaneous_ops_per_sec", stats.InstantaneousOpsPerSec)
            .Field("total_net_input_bytes", input)
            .Field("total_net_output_bytes", output)
            .Field("total_net_repl_input_bytes", 0)
            .Field("total_net_repl_output_bytes", 0)
            .Field("instantaneous_input_kbps", Kbps(stats.InstantaneousInputKbps))
            .Field("instantaneous_output_kbps", Kbps(stats.InstantaneousOutputKbps))
            .Field("instantaneous_input_repl_kbps", Kbps(0))
            .Field("instantaneous_output_repl_kbps", Kbps(0))
            .Field("rejected_connections", stats.RejectedConnections)
            .Field("sync_full", server.Replication.FullSyncs)
            .Field("sync_partial_ok", server.Replication.PartialSyncsAccepted)
            .Field("sync_partial_err", server.Replication.PartialSyncsRefused)
            .Field("expired_keys", server.Keyspace.Lifetime.ExpiredKeys)
            .Field("expired_stale_perc", (server.Keyspace.ActiveExpiry.StalePercent * 100).ToString("F2", CultureInfo.InvariantCulture))
            .Field("expired_time_cap_reached_count", server.Keyspace.ActiveExpiry.TimeCapReachedCount)
            .Field("expire_cycle_cpu_milliseconds", server.Keyspace.ActiveExpiry.CycleMilliseconds)
            .Field("evicted_keys", server.Keyspace.Lifetime.EvictedKeys)
            .Field("evicted_clients", 0)
            .Field("total_eviction_exceeded_time", 0)
            .Field("current_eviction_exceeded_time", 0)
            .Field("keyspace_hits", hits)
            .Field("keyspace_misses", misses)
            .Field("pubsub_channels", server.PubSub.ChannelCount)
            .Field("pubsub_patterns", server.PubSub.PatternCount)
            .Field("pubsubshard_channels", server.PubSub.ShardChannelCount)
            .Field("latest_fork_usec", 0)
            .Field("total_forks", 0)
            .Field("migrate_cached_sockets", server.MigrateSockets.Count)
            .Field("slave_expires_tracked_keys", 0)
            .Field("active_defrag_hits", 0)
            .Field("active_defrag_misses", 0)
            .Field("active_defrag_key_hits", 0)
            .Field("active_defrag_key_misses", 0)
            .Field("total_active_defrag_time", 0)
            .Field("current_active_defrag_time", 0)
            .Field("tracking_total_keys", server.Tracking.TotalKeys)
            .Field("tracking_total_items", server.Tracking.TotalItems)
            .Field("tracking_total_prefixes", server.Tracking.TotalPrefixes)
            .Field("unexpected_error_replies", 0)
            .Field("total_error_replies", server.CommandStats.TotalErrorReplies)
            .Field("dump_payload_sanitizations", 0)
            .Field("total_reads_processed", reads)
            .Field("total_writes_processed", writes)
            .Field("io_threaded_reads_processed", 0)
            .Field("io_threaded_writes_processed", 0)
            .Field("reply_buffer_shrinks", 0)
            .Field("reply_buffer_expands", 0);
    }

    /// <summary>
    /// <c>used_memory_startup</c> (and <c>used_memory_overhead</c>: RespKv counts no other overhead) is <c>used_memory</c> of
    /// the empty server, <c>used_memory_dataset</c> the rest. The allocator fields describe the .NET GC heap:
    /// <c>allocator_allocated</c> the bytes allocated on it, <c>allocator_active</c>/<c>allocator_resident</c> the bytes it has
    /// committed; the ratios and differences follow Redis's formulas. <c>mem_replication_backlog</c> is the backlog's bytes,
    /// <c>mem_total_replication_buffers</c> the replication buffer's blocks (backlog and replicas' unsent stream, shared); RespKv
    /// keeps no cluster buffers and measures no client buffers, so those fields are 0; <c>mem_aof_buffer</c> is the AOF bytes not yet written.
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
        long startup = Math.Min(server.StartupMemory, used), dataset = used - startup;
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        long allocated = GC.GetTotalMemory(false), active = Math.Max(gc.TotalCommittedBytes, allocated), resident = active;
        text.Field("used_memory", used)
            .Field("used_memory_human", BytesToHuman(used))
            .Field("used_memory_rss", rss)
            .Field("used_memory_rss_human", BytesToHuman(rss))
            .Field("used_memory_peak", peak)
            .Field("used_memory_peak_human", BytesToHuman(peak))
            .Field("used_memory_peak_perc", Percent(used, peak))
            .Field("used_memory_overhead", startup)
            .Field("used_memory_startup", startup)
            .Field("used_memory_dataset", dataset)
            .Field("used_memory_dataset_perc", Percent(dataset, used - startup))
            .Field("allocator_allocated", allocated)
            .Field("allocator_active", active)
            .Field("allocator_resident", resident)
            .Field("total_system_memory", TotalSystemMemory)
            .Field("total_system_memory_human", BytesToHuman(TotalSystemMemory));
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
            .Field("number_of_libraries", functions?.Current.Libraries.Count ?? 0)
            .Field("used_memory_vm_functions", functionsLua)
            .Field("used_memory_vm_total", lua + functionsLua)
            .Field("used_memory_vm_total_human", BytesToHuman(lua + functionsLua))
            .Field("used_memory_functions", functionsBytes)
            .Field("used_memory_scripts", scripts)
            .Field("used_memory_scripts_human", BytesToHuman(scripts))
            .Field("maxmemory", max)
            .Field("maxmemory_human", BytesToHuman(max))
            .Field("maxmemory_policy", server.Options.MaxMemoryPolicy)
            .Field("allocator_frag_ratio", Ratio(active, allocated))
            .Field("allocator_frag_bytes", active - allocated)
            .Field("allocator_rss_ratio", Ratio(resident, active))
            .Field("allocator_rss_bytes", resident - active)
            .Field("rss_overhead_ratio", Ratio(rss, resident))
            .Field("rss_overhead_bytes", rss - resident)
            .Field("mem_fragmentation_ratio", Ratio(rss, used))
            .Field("mem_fragmentation_bytes", rss - used)
            .Field("mem_not_counted_for_evict", 0)
            .Field("mem_replication_backlog", server.Replication.Buffer?.BacklogLength ?? 0)
            .Field("mem_total_replication_buffers", server.Replication.Buffer?.RetainedBytes ?? 0)
            .Field("mem_clients_slaves", 0)
            .Field("mem_clients_normal", 0)
            .Field("mem_cluster_links", 0)
            .Field("mem_aof_buffer", server.Aof is { } aof ? Math.Max(0, aof.AppendOffset - aof.WrittenOffset) : 0)
            .Field("mem_allocator", MemAllocator)
            .Field("active_defrag_running", 0)
            .Field("lazyfree_pending_objects", 0)
            .Field("lazyfreed_objects", 0);
    }

    /// <summary>Redis's <c>%.2f%%</c> of <paramref name="part"/> in <paramref name="whole"/> (0 when the whole is 0).</summary>
    private static string Percent(long part, long whole) =>
        (whole <= 0 ? 0 : part * 100.0 / whole).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <summary>Redis's <c>%.2f</c> of <paramref name="a"/> / <paramref name="b"/> (0 when <paramref name="b"/> is 0).</summary>
    private static string Ratio(long a, long b) => (b <= 0 ? 0 : (double)a / b).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>INFO <c>mem_allocator</c>: the .NET garbage collector of this runtime.</summary>
    private static readonly string MemAllocator = "dotnet-gc-" + Environment.Version.ToString(3);

    /// <summary>Physical memory (<c>MemTotal</c> of /proc/meminfo on Linux; else what the GC may use).</summary>
    private static readonly long TotalSystemMemory = ReadTotalSystemMemory();

    private static long ReadTotalSystemMemory()
    {
        try
        {
            if (OperatingSystem.IsLinux())
                foreach (string line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                        return long.Parse(line.AsSpan(9).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
        }
        catch (FormatException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
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
    /// Loading, RDB snapshot (<see cref="RdbPersistence"/>) and AOF state, with Redis 7.0's fields. RespKv forks no child: the
    /// copy-on-write and fork fields are 0 (a snapshot copies no pages; see <see cref="RdbPersistence"/>). Sizes in bytes, times
    /// in seconds (-1: none).
    /// </summary>
    private static void AppendPersistence(StringBuilder text, RespServer server)
    {
        Persistence.AppendOnlyFile? aof = server.Aof;
        Persistence.AofRewriteStatus? status = aof?.RewriteStatus;
        RdbPersistence rdb = server.Snapshots;
        text.Field("loading", server.Loading ? 1 : 0)
            .Field("async_loading", 0)
            .Field("current_cow_peak", 0)
            .Field("current_cow_size", 0)
            .Field("current_cow_size_age", 0)
            .Field("current_fork_perc", "0.00")
            .Field("current_save_keys_processed", 0)
            .Field("current_save_keys_total", rdb.CurrentSaveKeysTotal)
            .Field("rdb_changes_since_last_save", rdb.ChangesSinceLastSave)
            .Field("rdb_bgsave_in_progress", rdb.BgsaveInProgress ? 1 : 0)
            .Field("rdb_last_save_time", rdb.LastSaveUnix)
            .Field("rdb_last_bgsave_status", rdb.LastBgsaveOk ? "ok" : "err")
            .Field("rdb_last_bgsave_time_sec", rdb.LastBgsaveSeconds)
            .Field("rdb_current_bgsave_time_sec", rdb.CurrentBgsaveSeconds)
            .Field("rdb_saves", rdb.Saves)
            .Field("rdb_last_cow_size", 0)
            .Field("rdb_last_load_keys_expired", rdb.LastLoadKeysExpired)
            .Field("rdb_last_load_keys_loaded", rdb.LastLoadKeysLoaded)
            .Field("aof_enabled", aof != null ? 1 : 0)
            .Field("aof_rewrite_in_progress", aof?.RewriteInProgress == true ? 1 : 0)
            .Field("aof_rewrite_scheduled", 0)
            .Field("aof_last_rewrite_time_sec", status?.LastRewriteSeconds ?? -1)
            .Field("aof_current_rewrite_time_sec", status?.CurrentRewriteSeconds ?? -1)
            .Field("aof_last_bgrewrite_status", status?.LastRewriteOk == false ? "err" : "ok")
            .Field("aof_rewrites", status?.Rewrites ?? 0)
            .Field("aof_rewrites_consecutive_failures", status?.ConsecutiveFailures ?? 0)
            .Field("aof_last_write_status", aof?.WriteError != null ? "err" : "ok")
            .Field("aof_last_cow_size", 0)
            .Field("module_fork_in_progress", 0)
            .Field("module_fork_last_cow_size", 0);
        if (aof != null)
        {
            text.Field("aof_current_size", aof.CurrentSize)
                .Field("aof_base_size", aof.BaseSize)
                .Field("aof_pending_rewrite", 0)
                .Field("aof_buffer_length", Math.Max(0, aof.AppendOffset - aof.WrittenOffset))
                .Field("aof_pending_bio_fsync", 0)
                .Field("aof_delayed_fsync", 0);
        }
        if (!server.Loading) return;
        Persistence.LoadingProgress progress = server.LoadingProgress;
        (double percent, long eta) = progress.Estimate();
        text.Field("loading_start_time", progress.StartUnixSeconds)
            .Field("loading_total_bytes", progress.TotalBytes)
            .Field("loading_rdb_used_mem", progress.RdbUsedMemory)
            .Field("loading_loaded_bytes", progress.LoadedBytes)
            .Field("loading_loaded_perc", percent.ToString("F2", CultureInfo.InvariantCulture))
            .Field("loading_eta_seconds", eta);
    }

    /// <summary>Redis 7.0's <c># Replication</c> section (<see cref="Replication.ReplicationState.AppendInfo"/>).</summary>
    private static void AppendReplication(StringBuilder text, RespServer server) => server.Replication.AppendInfo(text);

    /// <summary>
    /// Process CPU time in seconds with 6 decimals (Redis's <c>%ld.%06ld</c> of getrusage). RespKv forks no children; it has
    /// no main thread either (commands run on the socket threads), so the <c>_main_thread</c> fields are the process's time.
    /// </summary>
    private static void AppendCpu(StringBuilder text)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        string sys = Seconds(process.PrivilegedProcessorTime), user = Seconds(process.UserProcessorTime);
        text.Field("used_cpu_sys", sys)
            .Field("used_cpu_user", user)
            .Field("used_cpu_sys_children", Seconds(TimeSpan.Zero))
            .Field("used_cpu_user_children", Seconds(TimeSpan.Zero))
            .Field("used_cpu_sys_main_thread", sys)
            .Field("used_cpu_user_main_thread", user);
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
