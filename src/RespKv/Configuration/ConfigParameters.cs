using System.Globalization;
using System.Text;

namespace RespKv.Configuration;

/// <summary>What kind of setting a <see cref="ConfigParameter"/> is (Redis 7.0 config.c's config flags, and RespKv's own).</summary>
[Flags]
public enum ConfigFlags
{
    /// <summary>A setting CONFIG SET may change, with no other flag.</summary>
    None = 0,

    /// <summary>Only set at start-up; CONFIG SET answers <c>can't set immutable config</c> (<c>IMMUTABLE_CONFIG</c>).</summary>
    Immutable = 1,

    /// <summary>
    /// CONFIG SET may change it only when <c>enable-protected-configs</c> allows the client (<c>PROTECTED_CONFIG</c>: <c>dir</c>,
    /// <c>dbfilename</c>); else <c>can't set protected config</c>.
    /// </summary>
    Protected = 2,

    /// <summary>Accepted and stored (CONFIG GET, CONFIG REWRITE), but it changes nothing in RespKv.</summary>
    NoEffect = 4,

    /// <summary>CONFIG REWRITE writes it even at its default and absent from the file (<c>save</c>, <c>dir</c>, <c>latency-tracking-info-percentiles</c>).</summary>
    AlwaysRewritten = 8,

    /// <summary>Takes several arguments (<c>MULTI_ARG_CONFIG</c>): in a config file <c>bind a b</c> and <c>bind "a b"</c> mean the same.</summary>
    MultiArg = 16,
}

/// <summary>
/// One setting: its redis.conf name and alias, how to read it as CONFIG GET prints it, how to set it from text, and
/// how CONFIG REWRITE writes it. Its default is what <see cref="Get"/> reads from a new <see cref="ServerOptions"/>.
/// Built from a typed value kind (<see cref="ConfigValueKind{T}"/>) by <see cref="ConfigParameters"/>.
/// </summary>
/// <param name="Name">redis.conf name, lower-case (the name CONFIG REWRITE writes).</param>
/// <param name="Flags">What kind of setting it is.</param>
/// <param name="Get">The value as CONFIG GET prints it.</param>
/// <param name="Set">Applies a value (several arguments space-separated); returns null on success or the reason it is invalid
/// (CONFIG SET answers <c>-ERR CONFIG SET failed (possibly related to argument 'name') - reason</c>).</param>
/// <param name="Format">How CONFIG REWRITE writes the value (<see cref="ConfigRewriter"/>).</param>
/// <param name="Alias">The other name Redis 7.0 accepts for it (<c>hash-max-ziplist-entries</c> for <c>hash-max-listpack-entries</c>), or null.</param>
/// <param name="Apply">
/// Redis's <c>apply</c> function: run by CONFIG SET once after all its values are set (once per distinct function, so
/// <c>tls-cert-file</c> and <c>tls-key-file</c> set together are applied together); returns null on success or the reason
/// it failed, and then CONFIG SET restores every value it set. Null when setting the value is enough.
/// </param>
public sealed record ConfigParameter(string Name, ConfigFlags Flags, Func<ServerOptions, string> Get, Func<ServerOptions, string, string?> Set,
    ConfigFormat Format = ConfigFormat.Plain, string? Alias = null, Func<ServerOptions, string?>? Apply = null)
{
    /// <summary>True when CONFIG SET may change it at runtime.</summary>
    public bool Mutable => (Flags & ConfigFlags.Immutable) == 0;

    /// <summary>True when CONFIG SET may change it only as <c>enable-protected-configs</c> allows.</summary>
    public bool Protected => (Flags & ConfigFlags.Protected) != 0;

    /// <summary>True when it is accepted and stored but changes nothing in RespKv.</summary>
    public bool NoEffect => (Flags & ConfigFlags.NoEffect) != 0;

    /// <summary>True when CONFIG REWRITE writes it even at its default value and absent from the file, as Redis always writes <c>save</c> and <c>dir</c>.</summary>
    public bool AlwaysRewritten => (Flags & ConfigFlags.AlwaysRewritten) != 0;

    /// <summary>True when it takes several arguments (see <see cref="ConfigFlags.MultiArg"/>).</summary>
    public bool MultiArg => (Flags & ConfigFlags.MultiArg) != 0;

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

    /// <summary><c>seconds changes</c> pairs, one <c>save S C</c> line each, or <c>save ""</c> when empty (Redis's <c>rewriteConfigSaveOption</c>).</summary>
    Pairs,

    /// <summary>Like <see cref="Plain"/>, but an empty value writes no line and removes the file's lines (<c>replicaof</c> on a master).</summary>
    PlainUnlessEmpty,
}

/// <summary>
/// The table of settings: the single source for start-up options (command line and config file), CONFIG GET,
/// CONFIG SET, CONFIG REWRITE and the README's option table (a test checks the README lists exactly these names)
/// (https://redis.io/docs/management/config/). It holds every setting redis-server 7.0's CONFIG GET lists, with
/// Redis's names, aliases, defaults, bounds and error texts (config.c's <c>static_configs</c>); a setting that is not
/// here is an unknown option. Settings RespKv does not act on are <see cref="ConfigFlags.NoEffect"/>: stored in
/// <see cref="ServerOptions.AcceptedSettings"/> and only read back.
/// </summary>
public static class ConfigParameters
{
    private const ConfigFlags Immutable = ConfigFlags.Immutable;
    private const ConfigFlags Protected = ConfigFlags.Protected;
    private const long IntMax = int.MaxValue;
    private const long LongMax = long.MaxValue;

    private static readonly YesNoKind YesNo = YesNoKind.Instance;
    private static readonly TextKind Optional = TextKind.Optional;
    private static readonly TextKind AllowEmpty = TextKind.AllowEmpty;
    // Value lists are in the order Redis 7.0 prints them in its CONFIG SET errors (config.c's enum tables);
    // loglevel also takes Redis 7.2's "nothing", which RespKv supports.
    private static readonly EnumKind<string> LogLevels = EnumKind.Of("debug", "verbose", "notice", "warning", "nothing");
    private static readonly EnumKind<string> FsyncPolicies = EnumKind.Of("everysec", "always", "no");
    private static readonly EnumKind<string> EvictionPolicies = EnumKind.Of(
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction");
    private static readonly EnumKind<ProtectedAction> ProtectedActions = new(("no", ProtectedAction.No), ("yes", ProtectedAction.Yes), ("local", ProtectedAction.Local));
    private static readonly FlagsKind ShutdownOnSignal = new([("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)],
        flags => (flags & 3) == 3 ? "shutdown options SAVE and NOSAVE can't be used simultaneously" : null);
    private static readonly EnumKind<TlsAuthClients> TlsAuthClientsKind =
        new(("no", TlsAuthClients.No), ("yes", TlsAuthClients.Yes), ("optional", TlsAuthClients.Optional));
    private static readonly NumberKind Port = new(0, 65535);
    // Before All (static fields initialize in order): one delegate, so CONFIG SET runs it once for several TLS settings.
    private static readonly Func<ServerOptions, string?> ApplyTlsFunction = ApplyTls;
    private static readonly NumberKind NonNegativeInt = new(0, IntMax);
    private static readonly NumberKind NonNegativeLong = new(0, LongMax);
    private static readonly NumberKind Bytes = new(0, LongMax, NumberForm.Memory);

    /// <summary>Every setting, in the order CONFIG REWRITE appends them (RespKv's own settings first, then Redis 7.0's table order).</summary>
    public static IReadOnlyList<ConfigParameter> All { get; } =
    [
        Typed("port", Port, o => o.Port, (o, x) => o.Port = (int)x, Immutable),
        new("bind", Immutable | ConfigFlags.MultiArg, o => string.Join(' ', o.Bind), SetBind),
        // RespKv caps databases at 1,000,000 (Redis: INT_MAX), each one being a table allocated at start-up.
        Typed("databases", new NumberKind(1, 1_000_000), o => o.Databases, (o, x) => o.Databases = (int)x, Immutable),
        Typed("timeout", NonNegativeInt, o => o.Timeout, (o, x) => o.Timeout = (int)x),
        Typed("maxclients", new NumberKind(1, uint.MaxValue), o => o.MaxClients, (o, x) => o.MaxClients = x),
        new("dir", Protected | ConfigFlags.AlwaysRewritten, o => o.Dir, SetDir, ConfigFormat.Quoted),
        Typed("loglevel", LogLevels, o => o.LogLevel, (o, x) =>
        {
            o.LogLevel = x;
            o.LogLevelChanged?.Invoke(x);
        }),
        Typed("logfile", AllowEmpty, o => o.LogFile, (o, x) => o.LogFile = x, Immutable),
        Checked("appendonly", YesNo, o => o.AppendOnly, (o, on) =>
        {
            if (on != o.AppendOnly && o.AppendOnlyChanged is { } change && change(on) is { } error) return error;
            o.AppendOnly = on;
            return null;
        }),
        Typed("aof-load-truncated", YesNo, o => o.AofLoadTruncated, (o, x) => o.AofLoadTruncated = x),
        Typed("auto-aof-rewrite-percentage", NonNegativeInt, o => o.AutoAofRewritePercentage, (o, x) => o.AutoAofRewritePercentage = (int)x),
        Typed("auto-aof-rewrite-min-size", Bytes, o => o.AutoAofRewriteMinSize, (o, x) => o.AutoAofRewriteMinSize = x),
        Typed("appendfsync", FsyncPolicies, o => o.AppendFsync, (o, x) => o.AppendFsync = x),
        Typed("appendfilename", new TextKind(EmptyIsNull: false, name => FileNameError("appendfilename", name, allowEmpty: false)),
            o => o.AppendFilename, (o, x) => o.AppendFilename = x, Immutable),
        new("save", ConfigFlags.AlwaysRewritten | ConfigFlags.MultiArg, o => o.Save, SetSave, ConfigFormat.Pairs),
        Typed("maxmemory", Bytes, o => o.MaxMemory, (o, x) =>
        {
            o.MaxMemory = x;
            o.MaxMemoryChanged?.Invoke(x);
        }),
        // Redis prints the password in CONFIG GET (an authenticated client may read it); logs never do.
        Typed("requirepass", Optional, o => o.RequirePass, (o, x) => o.RequirePass = x),
        Typed("protected-mode", YesNo, o => o.ProtectedMode, (o, x) => o.ProtectedMode = x),
        new("client-output-buffer-limit", ConfigFlags.MultiArg, o => o.ClientOutputBufferLimit.ToString(), (o, v) =>
        {
            string? error = OutputBufferLimits.TryApply(o.ClientOutputBufferLimit, v, out OutputBufferLimits limits);
            if (error == null) o.ClientOutputBufferLimit = limits;
            return error;
        }, ConfigFormat.PerClassMemory),
        Typed("maxmemory-policy", EvictionPolicies, o => o.MaxMemoryPolicy, (o, x) =>
        {
            o.MaxMemoryPolicy = x;
            o.MaxMemoryPolicyChanged?.Invoke(x);
        }),
        Typed("maxmemory-samples", new NumberKind(1, IntMax), o => o.MaxMemorySamples, (o, x) => o.MaxMemorySamples = (int)x),
        Typed("slowlog-log-slower-than", new NumberKind(-1, LongMax), o => o.SlowlogLogSlowerThan, (o, x) => o.SlowlogLogSlowerThan = x),
        Typed("slowlog-max-len", NonNegativeLong, o => o.SlowlogMaxLen, (o, x) => o.SlowlogMaxLen = x),
        Typed("tracking-table-max-keys", NonNegativeLong, o => o.TrackingTableMaxKeys, (o, x) => o.TrackingTableMaxKeys = x),
        Typed("latency-monitor-threshold", NonNegativeLong, o => o.LatencyMonitorThreshold, (o, x) => o.LatencyMonitorThreshold = x),

        // Encoding thresholds: OBJECT ENCODING reads them.
        Typed("hash-max-listpack-entries", NonNegativeLong, o => o.HashMaxListpackEntries, (o, x) => o.HashMaxListpackEntries = x, alias: "hash-max-ziplist-entries"),
        Typed("hash-max-listpack-value", Bytes, o => o.HashMaxListpackValue, (o, x) => o.HashMaxListpackValue = x, alias: "hash-max-ziplist-value"),
        Typed("set-max-intset-entries", NonNegativeLong, o => o.SetMaxIntsetEntries, (o, x) => o.SetMaxIntsetEntries = x),
        Typed("zset-max-listpack-entries", NonNegativeLong, o => o.ZsetMaxListpackEntries, (o, x) => o.ZsetMaxListpackEntries = x, alias: "zset-max-ziplist-entries"),
        Typed("zset-max-listpack-value", Bytes, o => o.ZsetMaxListpackValue, (o, x) => o.ZsetMaxListpackValue = x, alias: "zset-max-ziplist-value"),
        Typed("list-max-listpack-size", new NumberKind(int.MinValue, IntMax), o => o.ListMaxListpackSize, (o, x) => o.ListMaxListpackSize = (int)x, alias: "list-max-ziplist-size"),
        Typed("list-compress-depth", NonNegativeInt, o => o.ListCompressDepth, (o, x) => o.ListCompressDepth = (int)x),
        // Who may use DEBUG, MODULE and CONFIG SET of protected settings.
        Typed("enable-protected-configs", ProtectedActions, o => o.EnableProtectedConfigs, (o, x) => o.EnableProtectedConfigs = x, Immutable),
        Typed("enable-debug-command", ProtectedActions, o => o.EnableDebugCommand, (o, x) => o.EnableDebugCommand = x, Immutable),
        Typed("enable-module-command", ProtectedActions, o => o.EnableModuleCommand, (o, x) => o.EnableModuleCommand = x, Immutable),
        // The executable refuses daemonize yes and writes the pidfile.
        Typed("daemonize", YesNo, o => o.Daemonize, (o, x) => o.Daemonize = x, Immutable),
        Typed("pidfile", Optional, o => o.PidFile, (o, x) => o.PidFile = x, Immutable),

        // Accepted, no effect in RespKv (Redis 7.0 config.c's static_configs, in its order).
        Typed("rdbchecksum", YesNo, o => o.RdbChecksum, (o, x) => o.RdbChecksum = x, Immutable),
        Stored("io-threads-do-reads", YesNo, false, Immutable),
        Stored("always-show-logo", YesNo, false, Immutable),
        Typed("rdbcompression", YesNo, o => o.RdbCompression, (o, x) => o.RdbCompression = x),
        Stored("rdb-del-sync-files", YesNo, false),
        Stored("activerehashing", YesNo, true),
        Typed("stop-writes-on-bgsave-error", YesNo, o => o.StopWritesOnBgsaveError, (o, x) => o.StopWritesOnBgsaveError = x),
        Stored("set-proc-title", YesNo, true, Immutable),
        Stored("dynamic-hz", YesNo, true),
        Stored("lazyfree-lazy-eviction", YesNo, false),
        Stored("lazyfree-lazy-expire", YesNo, false),
        Stored("lazyfree-lazy-server-del", YesNo, false),
        Stored("lazyfree-lazy-user-del", YesNo, false),
        Stored("lazyfree-lazy-user-flush", YesNo, false),
        Stored("repl-disable-tcp-nodelay", YesNo, false),
        Acted(Stored("repl-diskless-sync", YesNo, true)),
        Stored("aof-rewrite-incremental-fsync", YesNo, true),
        Stored("no-appendfsync-on-rewrite", YesNo, false),
        Stored("cluster-require-full-coverage", YesNo, true),
        Stored("rdb-save-incremental-fsync", YesNo, true),
        Typed("aof-use-rdb-preamble", YesNo, o => o.AofUseRdbPreamble, (o, x) => o.AofUseRdbPreamble = x),
        Stored("aof-timestamp-enabled", YesNo, false),
        Stored("cluster-replica-no-failover", YesNo, false, alias: "cluster-slave-no-failover"),
        Stored("replica-lazy-flush", YesNo, false, alias: "slave-lazy-flush"),
        Typed("replica-serve-stale-data", YesNo, o => o.ReplicaServeStaleData, (o, x) => o.ReplicaServeStaleData = x, alias: "slave-serve-stale-data"),
        Typed("replica-read-only", YesNo, o => o.ReplicaReadOnly, (o, x) => o.ReplicaReadOnly = x, alias: "slave-read-only"),
        Acted(Stored("replica-ignore-maxmemory", YesNo, true, alias: "slave-ignore-maxmemory")),
        Stored("jemalloc-bg-thread", YesNo, true),
        // Redis refuses activedefrag yes unless built with its own jemalloc (Debian's is); RespKv has no allocator to defragment.
        Stored("activedefrag", YesNo, false),
        Stored("syslog-enabled", YesNo, false, Immutable),
        Stored("cluster-enabled", YesNo, false, Immutable),
        Stored("cluster-allow-reads-when-down", YesNo, false),
        Stored("cluster-allow-pubsubshard-when-down", YesNo, true),
        Stored("crash-log-enabled", YesNo, true),
        Stored("crash-memcheck-enabled", YesNo, true),
        Stored("disable-thp", YesNo, true, Immutable),
        Stored("cluster-allow-replica-migration", YesNo, true),
        Acted(Stored("replica-announced", YesNo, true)),
        Typed("latency-tracking", YesNo, o => o.LatencyTracking, (o, x) => o.LatencyTracking = x),
        Stored("aof-disable-auto-gc", YesNo, false),
        Stored("replica-ignore-disk-write-errors", YesNo, false),

        Typed("aclfile", AllowEmpty, o => o.AclFile, (o, x) => o.AclFile = x, Immutable),
        Stored("unixsocket", Optional, "", Immutable),
        Acted(Stored("replica-announce-ip", Optional, "", alias: "slave-announce-ip")),
        Acted(Stored("masteruser", Optional, "")),
        Stored("cluster-announce-ip", Optional, ""),
        Stored("cluster-config-file", AllowEmpty, "nodes.conf", Immutable),
        Stored("cluster-announce-hostname", new TextKind(Check: AnnouncedHostnameError), ""),
        Stored("syslog-ident", AllowEmpty, "redis", Immutable),
        Typed("dbfilename", new TextKind(EmptyIsNull: false, name => FileNameError("dbfilename", name, allowEmpty: true)), o => o.DbFilename, (o, x) => o.DbFilename = x, Protected),
        Stored("appenddirname", new TextKind(EmptyIsNull: false, name => FileNameError("appenddirname", name, allowEmpty: false)), "appendonlydir", Immutable),
        Stored("server_cpulist", Optional, "", Immutable),
        Stored("bio_cpulist", Optional, "", Immutable),
        Stored("aof_rewrite_cpulist", Optional, "", Immutable),
        Stored("bgsave_cpulist", Optional, "", Immutable),
        Stored("ignore-warnings", AllowEmpty, ""),
        Stored("proc-title-template", new TextKind(EmptyIsNull: false, ProcTitleTemplateError), "{title} {listen-addr} {server-mode}"),
        Stored("bind-source-addr", Optional, ""),
        Acted(Stored("masterauth", Optional, "")),

        Stored("supervised", EnumKind.Of("upstart", "systemd", "auto", "no"), "no", Immutable),
        Stored("syslog-facility", EnumKind.Of("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"), "local0", Immutable),
        Stored("repl-diskless-load", EnumKind.Of("disabled", "on-empty-db", "swapdb"), "disabled"),
        Stored("oom-score-adj", new EnumKind<string>(("no", "no"), ("yes", "yes"), ("relative", "yes"), ("absolute", "absolute")), "no"),
        Typed("acl-pubsub-default", EnumKind.Of("allchannels", "resetchannels"), o => o.AclPubsubDefaultAll ? "allchannels" : "resetchannels", (o, x) => o.AclPubsubDefaultAll = x == "allchannels"),
        Stored("sanitize-dump-payload", EnumKind.Of("no", "yes", "clients"), "no"),
        Stored("cluster-preferred-endpoint-type", EnumKind.Of("ip", "hostname", "unknown-endpoint"), "ip"),
        Stored("propagation-error-behavior", EnumKind.Of("ignore", "panic", "panic-on-replicas"), "ignore"),
        Stored("shutdown-on-sigint", ShutdownOnSignal, 0),
        Stored("shutdown-on-sigterm", ShutdownOnSignal, 0),

        Stored("io-threads", new NumberKind(1, 128), 1, Immutable),
        Stored("cluster-replica-validity-factor", NonNegativeInt, 10, alias: "cluster-slave-validity-factor"),
        Stored("tcp-keepalive", NonNegativeInt, 300),
        Stored("cluster-migration-barrier", NonNegativeInt, 1),
        Stored("active-defrag-cycle-min", new NumberKind(1, 99), 1),
        Stored("active-defrag-cycle-max", new NumberKind(1, 99), 25),
        Stored("active-defrag-threshold-lower", new NumberKind(0, 1000), 10),
        Stored("active-defrag-threshold-upper", new NumberKind(0, 1000), 100),
        Stored("lfu-log-factor", NonNegativeInt, 10),
        Stored("lfu-decay-time", NonNegativeInt, 1),
        Acted(Stored("replica-priority", NonNegativeInt, 100, alias: "slave-priority")),
        Acted(Stored("repl-diskless-sync-delay", NonNegativeInt, 5)),
        Stored("maxmemory-eviction-tenacity", new NumberKind(0, 100), 10),
        Acted(Stored("replica-announce-port", Port, 0, alias: "slave-announce-port")),
        Stored("tcp-backlog", NonNegativeInt, 511, Immutable),
        Stored("cluster-port", Port, 0, Immutable),
        Stored("cluster-announce-bus-port", Port, 0),
        Stored("cluster-announce-port", Port, 0),
        Stored("cluster-announce-tls-port", Port, 0),
        Acted(Stored("repl-timeout", new NumberKind(1, IntMax), 60)),
        Acted(Stored("repl-ping-replica-period", new NumberKind(1, IntMax), 10, alias: "repl-ping-slave-period")),
        Stored("active-expire-effort", new NumberKind(1, 10), 1),
        Stored("hz", NonNegativeInt, 10),
        Typed("min-replicas-to-write", NonNegativeInt, o => o.MinReplicasToWrite, (o, x) => o.MinReplicasToWrite = (int)x, alias: "min-slaves-to-write"),
        Typed("min-replicas-max-lag", NonNegativeInt, o => o.MinReplicasMaxLag, (o, x) => o.MinReplicasMaxLag = (int)x, alias: "min-slaves-max-lag"),
        Stored("shutdown-timeout", NonNegativeInt, 10),
        Stored("repl-diskless-sync-max-replicas", NonNegativeInt, 0),
        Stored("unixsocketperm", new NumberKind(0, 511, NumberForm.Octal), 0, Immutable),
        Stored("socket-mark-id", new NumberKind(0, uint.MaxValue), 0, Immutable),
        Stored("active-defrag-max-scan-fields", new NumberKind(1, LongMax), 1000),
        Typed("acllog-max-len", NonNegativeLong, o => o.AclLogMaxLen, (o, x) => o.AclLogMaxLen = x),
        Typed("busy-reply-threshold", NonNegativeLong, o => o.BusyReplyThreshold, (o, x) => o.BusyReplyThreshold = x, alias: "lua-time-limit"),
        Stored("cluster-node-timeout", NonNegativeLong, 15000),
        Stored("proto-max-bulk-len", new NumberKind(1024 * 1024, LongMax, NumberForm.Memory), 512L * 1024 * 1024),
        Typed("stream-node-max-entries", NonNegativeLong, o => o.StreamNodeMaxEntries, (o, x) => o.StreamNodeMaxEntries = x),
        Acted(Stored("repl-backlog-size", new NumberKind(1, LongMax, NumberForm.Memory), 1024 * 1024)),
        Stored("cluster-link-sendbuf-limit", Bytes, 0),
        Stored("active-defrag-ignore-bytes", new NumberKind(1, LongMax, NumberForm.Memory), 100L << 20),
        Typed("stream-node-max-bytes", Bytes, o => o.StreamNodeMaxBytes, (o, x) => o.StreamNodeMaxBytes = x),
        Typed("hll-sparse-max-bytes", Bytes, o => o.HllSparseMaxBytes, (o, x) => o.HllSparseMaxBytes = x),
        Stored("client-query-buffer-limit", new NumberKind(1024 * 1024, LongMax, NumberForm.Memory), 1024L * 1024 * 1024),
        Stored("maxmemory-clients", new NumberKind(-100, LongMax, NumberForm.MemoryOrPercent), 0),
        Acted(Stored("repl-backlog-ttl", NonNegativeLong, 3600)),

        // TLS (Redis 7.0 tls.c; RespKvHost's TLS listener). tls-port is immutable in RespKv like port; the settings of the
        // listener are applied together by ApplyTls once CONFIG SET has set them all (Redis's applyTlsCfg), and then used by
        // new connections. The others: no cluster or replication links, no SslStream switch (session cache size and timeout,
        // server cipher preference, DH parameters: .NET negotiates ECDHE).
        Typed("tls-port", Port, o => o.TlsPort, (o, x) => o.TlsPort = (int)x, Immutable),
        Stored("tls-session-cache-size", NonNegativeInt, 20 * 1024),
        Stored("tls-session-cache-timeout", NonNegativeInt, 300),
        Stored("tls-cluster", YesNo, false),
        Stored("tls-replication", YesNo, false),
        Tls(Typed("tls-auth-clients", TlsAuthClientsKind, o => o.TlsAuthClients, (o, x) => o.TlsAuthClients = x)),
        Stored("tls-prefer-server-ciphers", YesNo, false),
        Tls(Typed("tls-session-caching", YesNo, o => o.TlsSessionCaching, (o, x) => o.TlsSessionCaching = x)),
        Tls(Typed("tls-cert-file", Optional, o => o.TlsCertFile, (o, x) => o.TlsCertFile = x)),
        Tls(Typed("tls-key-file", Optional, o => o.TlsKeyFile, (o, x) => o.TlsKeyFile = x)),
        Tls(Typed("tls-key-file-pass", Optional, o => o.TlsKeyFilePass, (o, x) => o.TlsKeyFilePass = x)),
        Stored("tls-client-cert-file", Optional, ""),
        Stored("tls-client-key-file", Optional, ""),
        Stored("tls-client-key-file-pass", Optional, ""),
        Stored("tls-dh-params-file", Optional, ""),
        Tls(Typed("tls-ca-cert-file", Optional, o => o.TlsCaCertFile, (o, x) => o.TlsCaCertFile = x)),
        Tls(Typed("tls-ca-cert-dir", Optional, o => o.TlsCaCertDir, (o, x) => o.TlsCaCertDir = x)),
        Tls(Typed("tls-protocols", Optional, o => o.TlsProtocols, (o, x) => o.TlsProtocols = x)),
        Tls(Typed("tls-ciphers", Optional, o => o.TlsCiphers, (o, x) => o.TlsCiphers = x)),
        Tls(Typed("tls-ciphersuites", Optional, o => o.TlsCiphersuites, (o, x) => o.TlsCiphersuites = x)),

        Special("oom-score-adj-values", ConfigFlags.MultiArg, "0 200 800", SetOomScoreAdjValues),
        new("notify-keyspace-events", ConfigFlags.None, o => o.NotifyKeyspaceEvents, (o, v) =>
        {
            string? error = CheckNotifyKeyspaceEvents(v);
            if (error == null) o.NotifyKeyspaceEvents = v;
            return error;
        }, ConfigFormat.Quoted),
        Acted(Special("replicaof", Immutable | ConfigFlags.MultiArg, "", SetReplicaOf, ConfigFormat.PlainUnlessEmpty, alias: "slaveof")),
        new("latency-tracking-info-percentiles", ConfigFlags.MultiArg | ConfigFlags.AlwaysRewritten, o => o.LatencyTrackingInfoPercentiles, (o, text) =>
        {
            (string? error, string value) = SetPercentiles(text);
            if (error == null) o.LatencyTrackingInfoPercentiles = value;
            return error;
        }, ConfigFormat.Plain),
    ];

    /// <summary>Every name CONFIG GET and CONFIG SET accept, lower-case: each setting's name, then its alias when it has one.</summary>
    public static IReadOnlyList<(string Name, ConfigParameter Parameter)> Names { get; } =
        All.SelectMany(p => p.Alias == null ? [(p.Name, p)] : new[] { (p.Name, p), (p.Alias, p) }).ToArray();

    private static readonly Dictionary<string, (string Name, ConfigParameter Parameter)> ByName =
        Names.ToDictionary(n => n.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The setting named <paramref name="name"/> (any case; a name or an alias), or null.</summary>
    public static ConfigParameter? Find(string name) => ByName.TryGetValue(name, out var entry) ? entry.Parameter : null;

    /// <summary>
    /// The setting named <paramref name="name"/> (any case) and the lower-case name it was found under (the alias itself
    /// for an alias, as Redis 7.0 names it in CONFIG SET errors and CONFIG GET replies), or false.
    /// </summary>
    public static bool TryFind(string name, out ConfigParameter parameter, out string registeredName)
    {
        bool found = ByName.TryGetValue(name, out var entry);
        (registeredName, parameter) = found ? entry : ("", null!);
        return found;
    }

    /// <summary>
    /// Directives a config file may hold besides settings (config.c <c>loadServerConfigFromString</c>): <c>include</c>,
    /// <c>rename-command</c>, <c>user</c>, <c>loadmodule</c>, <c>sentinel</c>. CONFIG REWRITE keeps their lines as they are.
    /// </summary>
    public static bool IsFileDirective(string name) =>
        name.ToLowerInvariant() is "include" or "rename-command" or "user" or "loadmodule" or "sentinel";

    /// <summary>
    /// Redis 7.0's <c>applyTlsCfg</c>, the apply function of the TLS listener's settings: while a TLS listener runs, rebuilds its
    /// configuration (<see cref="ServerOptions.TlsSettingsChanged"/>); a failure is <c>Unable to update TLS configuration. Check
    /// server logs.</c> (the reason is logged).
    /// </summary>
    private static string? ApplyTls(ServerOptions o) => o.TlsSettingsChanged?.Invoke();

    /// <summary><paramref name="parameter"/> applied by <see cref="ApplyTls"/>.</summary>
    private static ConfigParameter Tls(ConfigParameter parameter) => parameter with { Apply = ApplyTlsFunction };

    /// <summary>A setting RespKv acts on, read and written through a typed <see cref="ServerOptions"/> property whose setter may refuse a value (returns the reason).</summary>
    private static ConfigParameter Checked<T>(string name, ConfigValueKind<T> kind, Func<ServerOptions, T> get, Func<ServerOptions, T, string?> set,
        ConfigFlags flags = ConfigFlags.None, string? alias = null) =>
        new(name, flags | (kind.MultiArg ? ConfigFlags.MultiArg : 0), o => kind.Print(get(o)),
            (o, text) => kind.TryParse(text, out T value) ?? set(o, value), kind.Format, alias);

    /// <summary>A setting RespKv acts on: read and written through a typed <see cref="ServerOptions"/> property.</summary>
    private static ConfigParameter Typed<T>(string name, ConfigValueKind<T> kind, Func<ServerOptions, T> get, Action<ServerOptions, T> set,
        ConfigFlags flags = ConfigFlags.None, string? alias = null) =>
        Checked(name, kind, get, (o, x) =>
        {
            set(o, x);
            return null;
        }, flags, alias);

    private static ConfigParameter Typed(string name, NumberKind kind, Func<ServerOptions, long> get, Action<ServerOptions, long> set,
        ConfigFlags flags = ConfigFlags.None, string? alias = null) => Typed<long>(name, kind, get, set, flags, alias);

    /// <summary>
    /// A stored setting (<see cref="ServerOptions.AcceptedSettings"/>) that RespKv reads where it acts on it (replication reads
    /// <c>repl-backlog-size</c>, <c>masterauth</c>… by name at each use): not <see cref="ConfigFlags.NoEffect"/>.
    /// </summary>
    private static ConfigParameter Acted(ConfigParameter stored) => stored with { Flags = stored.Flags & ~ConfigFlags.NoEffect };

    /// <summary>A setting RespKv accepts with Redis's validation and stores in <see cref="ServerOptions.AcceptedSettings"/>, with no effect.</summary>
    private static ConfigParameter Stored<T>(string name, ConfigValueKind<T> kind, T defaultValue, ConfigFlags flags = ConfigFlags.None, string? alias = null) =>
        Special(name, flags | (kind.MultiArg ? ConfigFlags.MultiArg : 0), kind.Print(defaultValue), text =>
        {
            string? error = kind.TryParse(text, out T value);
            return (error, error == null ? kind.Print(value) : "");
        }, kind.Format, alias);

    /// <summary>
    /// A stored setting with no effect whose value has its own syntax: <paramref name="parse"/> returns the error, or the value
    /// normalized as CONFIG GET prints it.
    /// </summary>
    private static ConfigParameter Special(string name, ConfigFlags flags, string defaultValue, Func<string, (string? Error, string Value)> parse,
        ConfigFormat format = ConfigFormat.Plain, string? alias = null) =>
        new(name, flags | ConfigFlags.NoEffect, o => o.AcceptedSettings.TryGetValue(name, out string? v) ? v : defaultValue, (o, text) =>
        {
            (string? error, string value) = parse(text);
            if (error == null) o.AcceptedSettings[name] = value;
            return error;
        }, format, alias);

    private static string? SetBind(ServerOptions o, string v)
    {
        string[] addresses = v.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (addresses.Length == 0) return "bind needs at least one address";
        // Redis's CONFIG_BINDADDR_MAX.
        if (addresses.Length > 16) return "Too many bind addresses specified.";
        o.Bind = addresses;
        return null;
    }

    private static string? SetDir(ServerOptions o, string v)
    {
        string full = Path.GetFullPath(v);
        if (File.Exists(full)) return $"'{v}' is a file, not a directory";
        o.Dir = full;
        return null;
    }

    /// <summary>
    /// <c>save</c> (config.c <c>setConfigSaveOption</c>): <c>""</c> clears it, else <c>seconds changes</c> pairs with seconds ≥ 1 and
    /// changes ≥ 0, else <c>Invalid save parameters</c>; stored normalized (<c>3600 1 300 100</c>): the save points of <see cref="Server.RdbPersistence"/>.
    /// </summary>
    private static string? SetSave(ServerOptions o, string v)
    {
        if (v.Length == 0)
        {
            o.Save = "";
            return null;
        }
        string[] args = v.Split(' ');
        if (args.Length % 2 != 0) return "Invalid save parameters";
        var values = new long[args.Length];
        for (int j = 0; j < args.Length; j++)
        {
            if (!TryStrtoll(args[j], out values[j]) || values[j] < (j % 2 == 0 ? 1 : 0)) return "Invalid save parameters";
        }
        o.Save = string.Join(' ', values.Select(x => x.ToString(CultureInfo.InvariantCulture)));
        return null;
    }

    /// <summary>C's <c>strtoll(text, &amp;end, 10)</c> with nothing left over (leading spaces and a sign allowed; empty reads as 0).</summary>
    private static bool TryStrtoll(string text, out long value)
    {
        value = 0;
        if (text.Length == 0) return true;
        string t = text.TrimStart(' ', '\t');
        return t.Length > 0 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary><c>oom-score-adj-values</c>: three integers in -2000..2000 (config.c <c>setConfigOOMScoreAdjValuesOption</c>).</summary>
    private static (string?, string) SetOomScoreAdjValues(string v)
    {
        string[] args = v.Split(' ');
        if (args.Length != 3) return ("wrong number of arguments", "");
        var values = new long[3];
        for (int i = 0; i < 3; i++)
            if (!TryStrtoll(args[i], out values[i]) || values[i] < -2000 || values[i] > 2000)
                return ("Invalid oom-score-adj-values, elements must be between -2000 and 2000.", "");
        return (null, string.Join(' ', values));
    }

    /// <summary>The keyspace event classes (notify.c), in the order <c>keyspaceEventsFlagsToString</c> prints them; <c>A</c> is <c>g$lshzxetd</c>.</summary>
    /// <summary>
    /// <c>notify-keyspace-events</c> (notify.c <c>keyspaceEventsStringToFlags</c>): characters of <c>Ag$lshzxeKEtmdn</c>, else
    /// <c>Invalid event class character. Use 'Ag$lshzxeKEtmdn'.</c>; null when valid.
    /// </summary>
    private static string? CheckNotifyKeyspaceEvents(string v)
    {
        foreach (char c in v)
            if (!"Ag$lshzxeKEtmdn".Contains(c)) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        return null;
    }

    /// <summary>
    /// <c>replicaof host port</c> (config.c <c>setConfigReplicaOfOption</c>): <c>no one</c> clears it; a port outside 0..65535 is
    /// <c>Invalid master port</c>. Read at start-up (the server then replicates from it); REPLICAOF changes the role at run time.
    /// </summary>
    private static (string?, string) SetReplicaOf(string v)
    {
        string[] args = v.Split(' ');
        if (args.Length != 2) return ("wrong number of arguments", "");
        if (args[0].Equals("no", StringComparison.OrdinalIgnoreCase) && args[1].Equals("one", StringComparison.OrdinalIgnoreCase)) return (null, "");
        if (!TryStrtoll(args[1], out long port) || args[1].Length == 0 || port < 0 || port > 65535) return ("Invalid master port", "");
        return (null, $"{args[0]} {port}");
    }

    /// <summary>
    /// <c>latency-tracking-info-percentiles</c>: numbers in 0..100 (<c>""</c> for none), printed with C's <c>%f</c> trimmed of trailing
    /// zeros (<c>99.9</c>); errors <c>Invalid latency-tracking-info-percentiles parameters</c> and
    /// <c>latency-tracking-info-percentiles parameters should sit between [0.0,100.0]</c>.
    /// </summary>
    private static (string?, string) SetPercentiles(string v)
    {
        if (v.Length == 0) return (null, "");
        var printed = new List<string>();
        foreach (string arg in v.Split(' '))
        {
            if (!double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) || double.IsNaN(p) || arg.Trim().Length != arg.Length)
                return ("Invalid latency-tracking-info-percentiles parameters", "");
            if (p > 100.0 || p < 0.0) return ("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]", "");
            string f = p.ToString("F6", CultureInfo.InvariantCulture);
            printed.Add(f.Contains('.') ? f.TrimEnd('0').TrimEnd('.') : f);
        }
        return (null, string.Join(' ', printed));
    }

    /// <summary>Redis's <c>isValidDBfilename</c>, <c>isValidAOFfilename</c> and <c>isValidAOFdirname</c>: a bare name, no directory.</summary>
    private static string? FileNameError(string setting, string name, bool allowEmpty)
    {
        if (!allowEmpty && name.Length == 0) return $"{setting} can't be empty";
        return name.Contains('/') || name.Contains('\\') ? $"{setting} can't be a path, just a {(setting == "appenddirname" ? "dirname" : "filename")}" : null;
    }

    /// <summary>Redis's <c>isValidAnnouncedHostname</c>: letters, digits, <c>-</c> and <c>.</c>, at most 255 characters.</summary>
    private static string? AnnouncedHostnameError(string name)
    {
        if (name.Length >= 256) return "Hostnames must be less than 256 characters";
        foreach (char c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '.') return "Hostnames may only contain alphanumeric characters, hyphens or dots";
        return null;
    }

    /// <summary>Redis's <c>isValidProcTitleTemplate</c>: <c>{name}</c> placeholders must be known and the template not empty once expanded.</summary>
    private static string? ProcTitleTemplateError(string template)
    {
        string[] known = ["{title}", "{listen-addr}", "{server-mode}", "{port}", "{tls-port}", "{unixsocket}", "{config-file}"];
        string rest = template;
        int open;
        while ((open = rest.IndexOf('{')) >= 0)
        {
            int close = rest.IndexOf('}', open);
            if (close < 0 || !known.Contains(rest[open..(close + 1)])) return "template format is invalid or contains unknown variables";
            rest = rest[(close + 1)..];
        }
        // Expanded with an empty title (as Redis validates it), a template of only {title}, {server-mode}, {unixsocket} and
        // {config-file} may print nothing, which Redis refuses; {listen-addr}, {port} and {tls-port} always print something.
        string expanded = template;
        foreach (string mayBeEmpty in (string[])["{title}", "{server-mode}", "{unixsocket}", "{config-file}"]) expanded = expanded.Replace(mayBeEmpty, "");
        return expanded.Trim(' ').Length == 0 ? "template format is invalid or contains unknown variables" : null;
    }
}
