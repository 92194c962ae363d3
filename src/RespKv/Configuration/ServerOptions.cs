using System.Globalization;

namespace RespKv.Configuration;

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
    public string RequirePass
    {
        get => _requirePass;
        set
        {
            _requirePass = value;
            RequirePassChanged?.Invoke(value);
        }
    }

    private string _requirePass = "";

    /// <summary>
    /// Called when <see cref="RequirePass"/> is set (CONFIG SET requirepass): the server's ACL sets the <c>default</c>
    /// user's password from it, as Redis's <c>ACLUpdateDefaultUserPassword</c> (empty = <c>nopass</c>).
    /// </summary>
    public Action<string>? RequirePassChanged { get; set; }

    /// <summary><c>aclfile</c>: the ACL file ACL LOAD and ACL SAVE read and write (empty = none; start-up only).</summary>
    public string AclFile { get; set; } = "";

    /// <summary><c>acl-pubsub-default</c>: true for <c>allchannels</c>, false for <c>resetchannels</c> (Redis 7.0's default): the channels a new user or <c>reset</c> starts with.</summary>
    public bool AclPubsubDefaultAll { get; set; }

    /// <summary><c>acllog-max-len</c>: entries ACL LOG keeps (default 128).</summary>
    public long AclLogMaxLen { get; set; } = 128;

    /// <summary>
    /// The <c>user name rule…</c> directives read from config files, in order (each: the name, then its rules, selectors
    /// merged), loaded into the ACL when the server starts (Redis's <c>UsersToLoad</c>).
    /// </summary>
    public List<string[]> ConfigUsers { get; } = [];

    /// <summary>
    /// The <c>rename-command old new</c> directives read from config files, in order: the command table is served with
    /// each command under its new name (empty = removed), as Redis's <c>server.commands</c>; ACL rules still name commands
    /// by their original names.
    /// </summary>
    public List<(string From, string To)> RenamedCommands { get; } = [];

    /// <summary>
    /// Protected mode (<c>protected-mode</c>, default yes): while no password is set, connections from
    /// non-loopback addresses are answered <c>-DENIED …</c> and closed (Redis 7.0 networking.c).
    /// </summary>
    public bool ProtectedMode { get; set; } = true;

    /// <summary>
    /// <c>client-output-buffer-limit</c>, per client class: <c>normal</c> and <c>pubsub</c> (a client subscribed to anything)
    /// are enforced; <c>replica</c> is kept for CONFIG GET/SET (RespKv has no replication). Defaults as
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

    /// <summary>
    /// RDB snapshot schedule (<c>save</c>): <c>seconds changes</c> pairs, space-separated, or empty for none; Redis 7.0's default
    /// <c>3600 1 300 100 60 10000</c>. A background save starts when at least <c>changes</c> changes happened and more than
    /// <c>seconds</c> passed since the last save (<see cref="Server.RdbPersistence.Cron"/>); with save points, SHUTDOWN and
    /// FLUSHALL save too.
    /// </summary>
    public string Save { get; set; } = "3600 1 300 100 60 10000";

    /// <summary>RDB file name inside <see cref="Dir"/> (<c>dbfilename</c>, default <c>dump.rdb</c>; empty is allowed, as in Redis).</summary>
    public string DbFilename { get; set; } = "dump.rdb";

    /// <summary><c>rdbcompression</c> (default yes): RDB files (SAVE, BGSAVE, full sync) LZF-compress strings over 20 bytes.</summary>
    public bool RdbCompression { get; set; } = true;

    /// <summary><c>rdbchecksum</c> (default yes, set at start-up only): RDB files end with their CRC64 (else 0), and loading checks it.</summary>
    public bool RdbChecksum { get; set; } = true;

    /// <summary>
    /// <c>stop-writes-on-bgsave-error</c> (default yes): while the last background save failed and save points are configured,
    /// write commands answer <c>-MISCONF</c> (Redis's <c>writeCommandsDeniedByDiskError</c>).
    /// </summary>
    public bool StopWritesOnBgsaveError { get; set; } = true;

    /// <summary>
    /// <c>DEBUG SET-SKIP-CHECKSUM-VALIDATION 1</c> (Redis's <c>server.skip_checksum_validation</c>; not a config parameter): RESTORE,
    /// FUNCTION RESTORE and RDB loading do not check CRC64 checksums.
    /// </summary>
    public bool SkipChecksumValidation { get; set; }

    /// <summary><c>aof-use-rdb-preamble</c> (default yes): an AOF rewrite writes its base as an RDB file.</summary>
    public bool AofUseRdbPreamble { get; set; } = true;

    /// <summary>
    /// Memory limit in bytes (<c>maxmemory</c>); 0 = none. Compared before each command with the estimated memory of
    /// the data (INFO <c>used_memory</c>): over it, keys are evicted by <see cref="MaxMemoryPolicy"/>, or commands
    /// flagged <c>denyoom</c> answer <c>-OOM command not allowed when used memory &gt; 'maxmemory'.</c>.
    /// </summary>
    public long MaxMemory { get; set; }

    /// <summary>Eviction policy (<c>maxmemory-policy</c>): noeviction (default), allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl.</summary>
    public string MaxMemoryPolicy { get; set; } = "noeviction";

    /// <summary>Called after CONFIG SET sets <see cref="MaxMemory"/> (Redis's <c>updateMaxmemory</c> evicts at once, before any next command).</summary>
    public Action<long>? MaxMemoryChanged { get; set; }

    /// <summary>Called after CONFIG SET changes <see cref="MaxMemoryPolicy"/> (the keyspace switches between LRU and LFU access tracking).</summary>
    public Action<string>? MaxMemoryPolicyChanged { get; set; }

    /// <summary>Keys sampled per database per eviction round (<c>maxmemory-samples</c>, 1..2147483647, default 5).</summary>
    public int MaxMemorySamples { get; set; } = 5;

    /// <summary>Commands running at least this many microseconds go to the slow log (<c>slowlog-log-slower-than</c>); negative disables it, 0 logs everything. Default 10000.</summary>
    public long SlowlogLogSlowerThan { get; set; } = 10000;

    /// <summary>Entries the slow log keeps (<c>slowlog-max-len</c>). Default 128.</summary>
    public long SlowlogMaxLen { get; set; } = 128;

    /// <summary>
    /// Most keys the client-side caching tracking table remembers (<c>tracking-table-max-keys</c>, default 1,000,000;
    /// 0 = no limit): over it, random keys are forgotten and their clients sent invalidations, as Redis's
    /// <c>trackingLimitUsedSlots</c> (https://redis.io/docs/manual/client-side-caching/).
    /// </summary>
    public long TrackingTableMaxKeys { get; set; } = 1_000_000;

    /// <summary><c>latency-tracking</c> (default yes): whether each command's run time is recorded in its latency histogram (LATENCY HISTOGRAM, INFO <c>latencystats</c>; <see cref="Server.LatencyHistograms"/>).</summary>
    public bool LatencyTracking { get; set; } = true;

    /// <summary><c>latency-tracking-info-percentiles</c> (default <c>50 99 99.9</c>): the percentiles INFO <c>latencystats</c> prints, space-separated as CONFIG GET prints them ("" for none).</summary>
    public string LatencyTrackingInfoPercentiles { get; set; } = "50 99 99.9";

    /// <summary>Commands running at least this many milliseconds add a latency sample (<c>latency-monitor-threshold</c>); 0 (default) disables the latency monitor.</summary>
    public long LatencyMonitorThreshold { get; set; }

    /// <summary>
    /// Milliseconds a script (EVAL, FCALL) runs before the server counts as busy (<c>busy-reply-threshold</c>, alias
    /// <c>lua-time-limit</c>; default 5000): other clients' commands then answer <c>-BUSY</c> except SCRIPT KILL, FUNCTION
    /// KILL, SHUTDOWN NOSAVE and the other <c>allow-busy</c> commands. 0 never marks a script busy.
    /// </summary>
    public long BusyReplyThreshold { get; set; } = 5000;

    /// <summary><c>replica-read-only</c> (alias <c>slave-read-only</c>, default yes): a replica answers writes from clients <c>-READONLY You can't write against a read only replica.</c></summary>
    public bool ReplicaReadOnly { get; set; } = true;

    /// <summary>
    /// <c>replica-serve-stale-data</c> (alias <c>slave-serve-stale-data</c>, default yes): when no, a replica whose link with its
    /// primary is down answers every command without the <c>stale</c> flag <c>-MASTERDOWN …</c>.
    /// </summary>
    public bool ReplicaServeStaleData { get; set; } = true;

    /// <summary><c>min-replicas-to-write</c> (alias <c>min-slaves-to-write</c>, default 0 = off): replicas that must have acknowledged within <see cref="MinReplicasMaxLag"/> seconds for a primary to accept writes.</summary>
    public int MinReplicasToWrite { get; set; }

    /// <summary><c>min-replicas-max-lag</c> (alias <c>min-slaves-max-lag</c>, seconds, default 10; 0 = off): the largest ACK age of a good replica.</summary>
    public int MinReplicasMaxLag { get; set; } = 10;

    /// <summary>
    /// <c>hash-max-listpack-entries</c> (alias <c>hash-max-ziplist-entries</c>, 0..9223372036854775807, default 512): a hash
    /// with more fields than this is no longer a listpack (OBJECT ENCODING <c>listpack</c> → <c>hashtable</c>).
    /// </summary>
    public long HashMaxListpackEntries { get; set; } = 512;

    /// <summary><c>hash-max-listpack-value</c> (alias <c>hash-max-ziplist-value</c>, bytes, default 64): a hash with a longer field or value is a <c>hashtable</c>.</summary>
    public long HashMaxListpackValue { get; set; } = 64;

    /// <summary>
    /// <c>hll-sparse-max-bytes</c> (bytes, default 3000): a HyperLogLog in the sparse encoding whose value (16-byte header
    /// included) would grow past this many bytes is converted to the dense encoding (Redis's <c>hllSparseSet</c>).
    /// </summary>
    public long HllSparseMaxBytes { get; set; } = 3000;

    /// <summary>
    /// <c>stream-node-max-entries</c> (default 100): a stream's packed node takes no more entries (live and deleted) than this
    /// before XADD starts a new one (0 = no limit), as Redis's <c>streamAppendItem</c>.
    /// </summary>
    public long StreamNodeMaxEntries { get; set; } = 100;

    /// <summary>
    /// <c>stream-node-max-bytes</c> (bytes, default 4096): XADD starts a new stream node when the tail node's size as a Redis
    /// listpack plus the new entry's field and value bytes would reach this (0 = Redis's 1 GB listpack bound).
    /// </summary>
    public long StreamNodeMaxBytes { get; set; } = 4096;

    /// <summary><c>set-max-intset-entries</c> (default 512): a set of integers only, with at most this many members, is an <c>intset</c>.</summary>
    public long SetMaxIntsetEntries { get; set; } = 512;

    /// <summary><c>zset-max-listpack-entries</c> (alias <c>zset-max-ziplist-entries</c>, default 128): a sorted set with more members is a <c>skiplist</c>.</summary>
    public long ZsetMaxListpackEntries { get; set; } = 128;

    /// <summary><c>zset-max-listpack-value</c> (alias <c>zset-max-ziplist-value</c>, bytes, default 64): a sorted set with a longer member is a <c>skiplist</c>.</summary>
    public long ZsetMaxListpackValue { get; set; } = 64;

    /// <summary>
    /// <c>list-max-listpack-size</c> (alias <c>list-max-ziplist-size</c>, default -2): a positive value caps a quicklist node's
    /// entries; -1..-5 cap its bytes at 4, 8, 16, 32 or 64 KB. A list that fits one node is a <c>listpack</c>, else a <c>quicklist</c>.
    /// </summary>
    public int ListMaxListpackSize { get; set; } = -2;

    /// <summary>Redis's default <c>packed_threshold</c>: 1 GB.</summary>
    public const long DefaultQuicklistPackedThreshold = 1L << 30;

    /// <summary>
    /// Bytes from which a list element takes a plain quicklist node of its own in RDB output (Redis's <c>packed_threshold</c>,
    /// default <see cref="DefaultQuicklistPackedThreshold"/>). No config name: set by <c>DEBUG QUICKLIST-PACKED-THRESHOLD</c>.
    /// </summary>
    public long QuicklistPackedThreshold { get; set; } = DefaultQuicklistPackedThreshold;

    /// <summary>
    /// Scripts may call commands flagged <c>noscript</c> (Redis's <c>script_disable_deny_script</c>). No config name: set by
    /// <c>DEBUG SET-DISABLE-DENY-SCRIPTS</c>.
    /// </summary>
    public bool DisableDenyScripts { get; set; }

    /// <summary><c>list-compress-depth</c> (default 0): quicklist nodes left uncompressed at each end; 0 = no compression.</summary>
    public int ListCompressDepth { get; set; }

    /// <summary>
    /// <c>enable-debug-command</c> (no|yes|local, immutable, default no): whether the DEBUG command may run; <c>local</c> allows it
    /// only from loopback connections. Refused calls answer <c>-ERR DEBUG command not allowed. If the enable-debug-command option
    /// is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file,
    /// and then restart the server.</c> (Redis 7.0 server.c). See <see cref="IsAllowed"/>.
    /// </summary>
    public ProtectedAction EnableDebugCommand { get; set; }

    /// <summary>
    /// <c>enable-protected-configs</c> (no|yes|local, immutable, default no): whether CONFIG SET may change the protected settings
    /// <c>dir</c> and <c>dbfilename</c>; refused with <c>-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config</c>.
    /// </summary>
    public ProtectedAction EnableProtectedConfigs { get; set; }

    /// <summary><c>enable-module-command</c> (no|yes|local, immutable, default no): whether the MODULE command may run (RespKv has no modules).</summary>
    public ProtectedAction EnableModuleCommand { get; set; }

    /// <summary>
    /// <c>daemonize</c> (immutable, default no). RespKv does not fork into the background: the executable refuses to start
    /// with <c>daemonize yes</c> (run it under a supervisor such as systemd or Docker instead).
    /// </summary>
    public bool Daemonize { get; set; }

    /// <summary>
    /// <c>pidfile</c> (immutable, default empty = none): the executable writes its process id and a newline to this file at
    /// start-up and removes it at shutdown, as redis-server does (a file that cannot be written is logged and ignored).
    /// </summary>
    public string PidFile { get; set; } = "";

    /// <summary>
    /// TLS port (<c>tls-port</c>, 0..65535, immutable in RespKv, default 0 = no TLS listener): a second listener on the
    /// <see cref="Bind"/> addresses whose connections are TLS (.NET's <c>SslStream</c> through Kestrel's TLS connection
    /// middleware) and then the same RESP sessions as the plain port. With a TLS port, <c>port 0</c> disables the plain
    /// listener, as in Redis 7.0 (https://redis.io/docs/management/security/encryption/); without one, <c>port 0</c>
    /// keeps RespKv's meaning "any free port" (tests).
    /// </summary>
    public int TlsPort { get; set; }

    /// <summary>The server certificate, PEM (<c>tls-cert-file</c>); further certificates in the file are sent as its chain.</summary>
    public string TlsCertFile { get; set; } = "";

    /// <summary>The server certificate's private key, PEM (<c>tls-key-file</c>), PKCS#8 encrypted when <see cref="TlsKeyFilePass"/> is set.</summary>
    public string TlsKeyFile { get; set; } = "";

    /// <summary>The pass phrase of an encrypted <see cref="TlsKeyFile"/> (<c>tls-key-file-pass</c>); empty = not encrypted.</summary>
    public string TlsKeyFilePass { get; set; } = "";

    /// <summary>PEM file of the CA certificates that client certificates must chain to (<c>tls-ca-cert-file</c>).</summary>
    public string TlsCaCertFile { get; set; } = "";

    /// <summary>Directory of PEM CA certificates that client certificates may chain to (<c>tls-ca-cert-dir</c>); every file in it is read.</summary>
    public string TlsCaCertDir { get; set; } = "";

    /// <summary>
    /// Client certificates (<c>tls-auth-clients</c>, default yes): <c>yes</c> requires one signed by the configured CA,
    /// <c>optional</c> asks for one and checks it when sent, <c>no</c> does not ask.
    /// </summary>
    public TlsAuthClients TlsAuthClients { get; set; } = TlsAuthClients.Yes;

    /// <summary>
    /// Protocol versions (<c>tls-protocols</c>): space-separated <c>TLSv1 TLSv1.1 TLSv1.2 TLSv1.3</c> (any case); empty =
    /// <c>TLSv1.2 TLSv1.3</c>, Redis 7.0's default.
    /// </summary>
    public string TlsProtocols { get; set; } = "";

    /// <summary>TLS 1.2 cipher list (<c>tls-ciphers</c>): colon-separated OpenSSL or IANA suite names; empty = the system default.</summary>
    public string TlsCiphers { get; set; } = "";

    /// <summary>TLS 1.3 cipher suites (<c>tls-ciphersuites</c>): colon-separated names such as <c>TLS_AES_256_GCM_SHA384</c>; empty = the system default.</summary>
    public string TlsCiphersuites { get; set; } = "";

    /// <summary>TLS session resumption (<c>tls-session-caching</c>, default yes): off, every connection does a full handshake.</summary>
    public bool TlsSessionCaching { get; set; } = true;

    /// <summary>
    /// Called after CONFIG SET changed a TLS setting (the host rebuilds its TLS configuration from the new values, used by
    /// new connections); returns null on success or the reason it failed (CONFIG SET then restores the old values). Null
    /// while no TLS listener runs, when nothing needs rebuilding (Redis applies them only while TLS is in use).
    /// </summary>
    public Func<string?>? TlsSettingsChanged { get; set; }

    /// <summary>
    /// The settings RespKv accepts for compatibility but that change nothing in it (<c>tcp-backlog</c>, <c>hz</c>, <c>tls-*</c>,
    /// replication and cluster settings, …): name → value as CONFIG GET prints it. A setting absent here has its default
    /// (<see cref="ConfigParameter.Default"/>). Written only through <see cref="ConfigParameters"/>.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> AcceptedSettings { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether an action guarded by <paramref name="setting"/> (<see cref="EnableDebugCommand"/>, <see cref="EnableProtectedConfigs"/>,
    /// <see cref="EnableModuleCommand"/>) is allowed for a client, as Redis 7.0's <c>allowProtectedAction</c>: <c>yes</c> always,
    /// <c>local</c> only when <paramref name="isLocalClient"/> (a loopback or in-process connection), <c>no</c> never.
    /// </summary>
    public static bool IsAllowed(ProtectedAction setting, bool isLocalClient) =>
        setting == ProtectedAction.Yes || (setting == ProtectedAction.Local && isLocalClient);

    private string _notifyKeyspaceEvents = "";

    /// <summary>
    /// <c>notify-keyspace-events</c>: set from the class characters (validated by CONFIG SET), read as CONFIG GET prints it,
    /// normalized as notify.c's <c>keyspaceEventsFlagsToString</c> does: <c>A</c> when all of <c>g$lshzxetd</c> are on (and
    /// then <c>n</c> is not printed, though it stays enabled), else each class in <c>g$lshzxetdn</c> order; then <c>K</c>,
    /// <c>E</c>, <c>m</c>. Default empty = off. Setting it also sets <see cref="NotifyKeyspaceEventFlags"/>.
    /// </summary>
    public string NotifyKeyspaceEvents
    {
        get => _notifyKeyspaceEvents;
        set
        {
            int flags = 0;
            foreach (char c in value) flags |= KeyspaceEventClass(c);
            var text = new System.Text.StringBuilder();
            int all = KeyspaceEventClass('A');
            if ((flags & all) == all) text.Append('A');
            else
            {
                foreach (char c in "g$lshzxetdn")
                    if ((flags & KeyspaceEventClass(c)) != 0) text.Append(c);
            }
            foreach (char c in "KEm")
                if ((flags & KeyspaceEventClass(c)) != 0) text.Append(c);
            _notifyKeyspaceEvents = text.ToString();
            NotifyKeyspaceEventFlags = flags;
        }
    }

    /// <summary>The classes of <see cref="NotifyKeyspaceEvents"/> as bits (<see cref="KeyspaceEventClass"/>); 0 = notifications off.</summary>
    public int NotifyKeyspaceEventFlags { get; private set; }

    /// <summary>
    /// The bit of a keyspace event class character (notify.c): <c>K</c> keyspace channel, <c>E</c> keyevent channel,
    /// <c>g</c> generic, <c>$</c> string, <c>l</c> list, <c>s</c> set, <c>h</c> hash, <c>z</c> sorted set, <c>x</c>
    /// expired, <c>e</c> evicted, <c>t</c> stream, <c>m</c> key miss, <c>d</c> module, <c>n</c> new key; <c>A</c> is
    /// <c>g$lshzxetd</c>. 0 for any other character.
    /// </summary>
    public static int KeyspaceEventClass(char c) => c switch
    {
        'K' => 1 << 0, 'E' => 1 << 1, 'g' => 1 << 2, '$' => 1 << 3, 'l' => 1 << 4, 's' => 1 << 5, 'h' => 1 << 6,
        'z' => 1 << 7, 'x' => 1 << 8, 'e' => 1 << 9, 't' => 1 << 10, 'm' => 1 << 11, 'd' => 1 << 12, 'n' => 1 << 13,
        'A' => (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 12),
        _ => 0,
    };

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

/// <summary>The values of Redis 7.0's <c>tls-auth-clients</c> (config.c <c>tls_auth_clients_enum</c>).</summary>
public enum TlsAuthClients
{
    /// <summary><c>no</c>: no client certificate is asked for.</summary>
    No,

    /// <summary><c>yes</c>: a client certificate signed by the configured CA is required (the default).</summary>
    Yes,

    /// <summary><c>optional</c>: a client certificate is asked for and checked when the client sends one.</summary>
    Optional,
}

/// <summary>The values of Redis 7.0's <c>enable-debug-command</c>, <c>enable-protected-configs</c> and <c>enable-module-command</c> (config.c <c>protected_action_enum</c>).</summary>
public enum ProtectedAction
{
    /// <summary><c>no</c>: never allowed (the default).</summary>
    No,

    /// <summary><c>yes</c>: allowed for every client.</summary>
    Yes,

    /// <summary><c>local</c>: allowed only for clients connected over loopback (or in-process).</summary>
    Local,
}
