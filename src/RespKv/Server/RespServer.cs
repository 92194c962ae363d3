using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Everything the connections share: settings, keyspace, command table, clients and counters.
/// Independent of the transport: tests can create one and run sessions over in-memory pipes.
/// </summary>
public sealed class RespServer
{
    /// <summary>The Redis version RespKv reports (HELLO, INFO <c>redis_version</c>) so clients enable the features it has.</summary>
    public const string RedisCompatibleVersion = "7.0.15";

    /// <summary>A server with <paramref name="options"/>.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="commands">The command table; <see cref="CommandFamilies.Table"/> when null (tests may pass their own).</param>
    public RespServer(ServerOptions options, ILoggerFactory? loggerFactory = null, CommandTable? commands = null)
    {
        Options = options;
        Commands = commands ?? CommandFamilies.Table;
        if (options.RenamedCommands.Count > 0)
            Commands = CommandTable.WithRenames(Commands, options.RenamedCommands, out string? renameError)
                ?? throw new ArgumentException(renameError, nameof(options));
        // Before anything can create a client: every session starts as the default user.
        Acl = new Security.AccessControl(this);
        Keyspace = new Keyspace(options.Databases);
        // Expiry and eviction log each key they remove as DEL (Redis's deleteExpiredKeyAndPropagate), holding its shard lock.
        Keyspace.Lifetime.KeyRemoved = (database, key) => WriteLog?.AppendExpiredDeletion(database, key);
        // … and each hash field its expiry removed as HDEL (Redis 7.4's propagateHashFieldDeletion).
        Keyspace.Lifetime.FieldExpired = (database, key, field) => WriteLog?.AppendExpiredFieldDeletion(database, key, field);
        // Accesses update the LFU counter instead of the LRU clock while an LFU policy is selected (Redis's lookupKey).
        Keyspace.Lifetime.Lfu = MemoryLimiter.IsLfu(MemoryLimiter.ParsePolicy(options.MaxMemoryPolicy));
        options.MaxMemoryPolicyChanged += policy => Keyspace.Lifetime.Lfu = MemoryLimiter.IsLfu(MemoryLimiter.ParsePolicy(policy));
        // A lower maxmemory evicts at once, as Redis's updateMaxmemory (performEvictions), so evicted keys go before the reply.
        options.MaxMemoryChanged += max =>
        {
            if (max != 0) Keyspace.Limiter.MakeRoom(max, Options.MaxMemoryPolicy, Options.MaxMemorySamples);
        };
        // Every change to a key reaches keyspace notifications through the keyspace's one change hook.
        Notifications = new KeyspaceNotifications(options, PubSub);
        Keyspace.Lifetime.KeyChanged = Notifications.Notify;
        // … and client-side caching invalidations, subscribed on their own.
        Tracking = new ClientTracking(this);
        Keyspace.Lifetime.KeyChanged += Tracking.OnKeyChanged;
        Keyspace.Lifetime.KeyMissed = Notifications.Notify;
        // The AOF rewrite writes one FUNCTION LOAD per library before the keys (none until a library was loaded).
        Keyspace.FunctionLibraries = () => FunctionsIfCreated?.Current.Codes ?? [];
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = LoggerFactory.CreateLogger("RespKv");
        CommandStats = new CommandStatistics(Commands);
        SlowLog = new SlowLog(options);
        Latency = new LatencyMonitor(options);
        LatencyHistograms = new LatencyHistograms(Commands);
        RunId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        Replication = new Replication.ReplicationState(this);
        StartupMemory = Keyspace.MemoryBytes;
    }

    /// <summary><c>used_memory</c> of the empty server, measured at construction (INFO <c>used_memory_startup</c>).</summary>
    public long StartupMemory { get; }

    /// <summary>When the server was constructed, in Unix seconds (INFO <c>rdb_last_save_time</c>: no RDB was saved since).</summary>
    public long StartedUnixSeconds { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>RespKv's own version (INFO <c>respkv_version</c>).</summary>
    public static string Version { get; } =
        typeof(RespServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Settings (shared with CONFIG GET/SET).</summary>
    public ServerOptions Options { get; }

    /// <summary>The databases.</summary>
    public Keyspace Keyspace { get; }

    /// <summary>The command table.</summary>
    public CommandTable Commands { get; }

    /// <summary>Users, permission checks, the ACL LOG and the ACL file.</summary>
    public Security.AccessControl Acl { get; }

    /// <summary>Connected clients.</summary>
    public ClientRegistry Clients { get; } = new();

    /// <summary>Channel, pattern and shard-channel subscriptions, and the fan-out of published messages.</summary>
    public PubSub PubSub { get; } = new();

    /// <summary>Keyspace notifications (<c>notify-keyspace-events</c>), fed by the keyspace's change hook.</summary>
    public KeyspaceNotifications Notifications { get; }

    /// <summary>Client-side caching: the tracking table, BCAST prefixes and invalidation messages (CLIENT TRACKING).</summary>
    public ClientTracking Tracking { get; }

    /// <summary>MIGRATE's connections to its targets, cached per <c>host:port</c> (INFO stats <c>migrate_cached_sockets</c>).</summary>
    public MigrateSockets MigrateSockets { get; } = new();

    /// <summary>Clients blocked on keys by BLPOP and the other blocking commands.</summary>
    public BlockedClients BlockedClients { get; } = new();

    /// <summary>Counters for INFO stats.</summary>
    public ServerStats Stats { get; } = new();

    /// <summary>Per-command and per-error counters (INFO commandstats, errorstats, Keyspace_totals).</summary>
    public CommandStatistics CommandStats { get; }

    /// <summary>The slow log (SLOWLOG).</summary>
    public SlowLog SlowLog { get; }

    /// <summary>The latency monitor (LATENCY LATEST/HISTORY/RESET, <c>latency-monitor-threshold</c>).</summary>
    public LatencyMonitor Latency { get; }

    /// <summary>The per-command latency histograms (<c>latency-tracking</c>: LATENCY HISTOGRAM, INFO <c>latencystats</c>).</summary>
    public LatencyHistograms LatencyHistograms { get; }

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The server's logger.</summary>
    public ILogger Logger { get; }

    private Scripting.ScriptingState? _scripting;

    /// <summary>Scripting: the EVAL engine and script cache, the running-script record (created on first use).</summary>
    public Scripting.ScriptingState Scripting => Volatile.Read(ref _scripting) ?? CreateScripting();

    private Scripting.ScriptingState CreateScripting()
    {
        Interlocked.CompareExchange(ref _scripting, new Scripting.ScriptingState(this), null);
        return _scripting!;
    }

    /// <summary>The scripting state if anything used it yet, else null (INFO and the BUSY gate do not create it).</summary>
    public Scripting.ScriptingState? ScriptingIfCreated => Volatile.Read(ref _scripting);

    private Scripting.Functions.FunctionRegistry? _functions;

    /// <summary>
    /// The function libraries (FUNCTION, FCALL), server-wide, run by their own Lua state (created on first load) under the
    /// scripting lock. The AOF rewrite reads their code through <see cref="Keyspace.FunctionLibraries"/>.
    /// </summary>
    public Scripting.Functions.FunctionRegistry Functions => Volatile.Read(ref _functions) ?? CreateFunctions();

    /// <summary>The function libraries if anything used them yet, else null (INFO does not create them).</summary>
    public Scripting.Functions.FunctionRegistry? FunctionsIfCreated => Volatile.Read(ref _functions);

    private Scripting.Functions.FunctionRegistry CreateFunctions()
    {
        Interlocked.CompareExchange(ref _functions,
            new Scripting.Functions.FunctionRegistry(new Scripting.Functions.LuaFunctionEngine(Logger), Scripting.ExecutionLock), null);
        return _functions!;
    }

    /// <summary>Random 40-hex-digit id of this run (INFO <c>run_id</c>).</summary>
    public string RunId { get; }

    /// <summary>The current 40-hex-digit replication ID (INFO <c>master_replid</c>, <see cref="Replication.ReplicationState.ReplId"/>).</summary>
    public string ReplicationId => Replication.ReplId;

    /// <summary>Replication: the role, the replication IDs and offset, the backlog, attached replicas and the link to a primary.</summary>
    public Replication.ReplicationState Replication { get; }

    /// <summary>When the server started (UTC).</summary>
    public DateTime StartedAt { get; } = DateTime.UtcNow;

    /// <summary>Monotonic start time, for uptime.</summary>
    public Stopwatch Uptime { get; } = Stopwatch.StartNew();

    /// <summary>The TCP port actually bound (differs from <see cref="ServerOptions.Port"/> when that is 0).</summary>
    public int BoundPort { get; set; }

    /// <summary>
    /// Where applied writes are propagated, one unit per write command or EXEC: the append-only file and, while this server is a
    /// primary with a replication backlog, the replication stream (<see cref="RespKv.Replication.ReplicationFeed"/>) — both when
    /// both are on (<see cref="RespKv.Replication.WriteLogPair"/>). Null when nothing logs them. The setter sets the AOF's part
    /// (<see cref="AofWriteLog"/>); replication adds and removes its own. Read by a write under its shard locks (see
    /// <see cref="AtomicUnit"/>), so a log installed while every shard is locked is seen by every write applied after.
    /// </summary>
    public IWriteLog? WriteLog
    {
        get => Volatile.Read(ref _writeLog);
        set
        {
            lock (_writeLogSync)
            {
                _aofWriteLog = value;
                ComposeWriteLog();
            }
        }
    }

    /// <summary>The AOF's part of <see cref="WriteLog"/> (what its setter last set).</summary>
    public IWriteLog? AofWriteLog => Volatile.Read(ref _aofWriteLog);

    private readonly Lock _writeLogSync = new();
    private IWriteLog? _writeLog;
    private IWriteLog? _aofWriteLog;
    private IWriteLog? _replicationWriteLog;

    /// <summary>Sets the replication stream's part of <see cref="WriteLog"/> (null: writes are not propagated to replicas).</summary>
    internal void SetReplicationWriteLog(IWriteLog? feed)
    {
        lock (_writeLogSync)
        {
            _replicationWriteLog = feed;
            ComposeWriteLog();
        }
    }

    private void ComposeWriteLog()
    {
        IWriteLog? aof = _aofWriteLog, feed = _replicationWriteLog;
        Volatile.Write(ref _writeLog, feed == null ? aof : aof == null ? feed : new Replication.WriteLogPair(aof, feed));
    }

    /// <summary>
    /// True while the dataset is being loaded from the AOF at start-up: commands without the <c>loading</c> flag
    /// answer <c>-LOADING RespKv is loading the dataset in memory</c> (INFO <c>loading:1</c>).
    /// </summary>
    public bool Loading
    {
        get => Volatile.Read(ref _loading);
        set => Volatile.Write(ref _loading, value);
    }

    private bool _loading;

    /// <summary>True after <c>DEBUG PAUSE-CRON 1</c>: the server cron (<see cref="ServerCron"/>) skips its ticks until <c>DEBUG PAUSE-CRON 0</c>.</summary>
    public bool CronPaused
    {
        get => Volatile.Read(ref _cronPaused);
        set => Volatile.Write(ref _cronPaused, value);
    }

    private bool _cronPaused;

    /// <summary>The progress of the load while <see cref="Loading"/> (INFO's <c>loading_*</c> fields).</summary>
    public Persistence.LoadingProgress LoadingProgress { get; } = new();

    /// <summary>The append-only file while <c>appendonly yes</c> (also <see cref="WriteLog"/>), else null.</summary>
    public Persistence.AppendOnlyFile? Aof { get; set; }

    private RdbPersistence? _snapshots;

    /// <summary>RDB snapshots: SAVE, BGSAVE, the save points, the start-up load of <c>dbfilename</c> (<see cref="RdbPersistence"/>).</summary>
    public RdbPersistence Snapshots
    {
        get
        {
            if (Volatile.Read(ref _snapshots) is { } s) return s;
            Interlocked.CompareExchange(ref _snapshots, new RdbPersistence(this), null);
            return _snapshots!;
        }
    }

    /// <summary>Asks the host to stop (SHUTDOWN); set by the host.</summary>
    public Action? ShutdownRequested { get; set; }
}
