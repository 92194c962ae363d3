using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// One client (Redis's <c>client</c>): its state — selected database, protocol version, name, authentication, reply
/// mode, MULTI/WATCH state, MONITOR mode, counters — and the three parts that serve it:
/// <list type="bullet">
/// <item><see cref="Connection"/>: the loop over its transport (read, parse, execute, drain, flush);</item>
/// <item><see cref="Executor"/>: admission gates, locking, propagation and statistics of each command;</item>
/// <item><see cref="Outbox"/>: out-of-band replies other clients' commands produce for it (MONITOR lines, pub/sub messages, notifications, invalidations).</item>
/// </list>
/// Command handlers receive it with the command's arguments.
/// </summary>
public sealed class ClientSession : CommandContext
{
    /// <summary>A client of <paramref name="server"/> whose replies go to <paramref name="output"/>.</summary>
    /// <param name="server">The shared server state.</param>
    /// <param name="output">Where replies are written (the connection's PipeWriter, or a buffer in tests and AOF replay).</param>
    /// <param name="remoteAddress">Peer address as CLIENT LIST prints it (<c>ip:port</c>).</param>
    /// <param name="localAddress">Local address (<c>laddr</c>).</param>
    public ClientSession(RespServer server, IBufferWriter<byte> output, string remoteAddress = "", string localAddress = "")
        : base(server.Keyspace, server.Options, new RespWriter(output))
    {
        Server = server;
        Replies = Writer;
        Id = server.Clients.NextId();
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        // As Redis 7.0's createClient: a connection made while the default user has no password is
        // authenticated for good (setting requirepass later does not log it out).
        User = server.Acl.Default;
        Authenticated = server.Acl.DefaultNeedsNoAuth;
        CommandCounters = server.CommandStats.NewCounters();
        Writer.ErrorSink = server.CommandStats;
        Unit = new AtomicUnit(Propagation, () => ReplaysAof ? null : Server.WriteLog);
        Executor = new CommandExecutor(this);
        Connection = new ClientConnection(this);
    }

    /// <summary>The server.</summary>
    public RespServer Server { get; }

    /// <summary>Runs this client's commands: admission, locking, propagation, statistics.</summary>
    public CommandExecutor Executor { get; }

    /// <summary>The loop serving this client's transport.</summary>
    public ClientConnection Connection { get; }

    /// <summary>Out-of-band replies waiting for this client's loop (MONITOR lines; pub/sub messages next).</summary>
    public ClientOutbox Outbox { get; } = new();

    /// <summary>This client's client-side caching state (CLIENT TRACKING; <see cref="ClientTracking"/>).</summary>
    public TrackingState Tracking { get; } = new();

    /// <summary>This client's atomic unit: EXEC's lock set and record group, and any write spanning databases.</summary>
    public AtomicUnit Unit { get; }

    /// <summary>
    /// True once the client has authenticated (AUTH / HELLO AUTH), or when it connected while no
    /// <c>requirepass</c> was set.
    /// </summary>
    public bool Authenticated { get; internal set; }

    /// <summary>
    /// Redis's <c>authRequired</c>: the client has not authenticated and a password is set. Until then every
    /// command without the <c>no_auth</c> flag answers <c>-NOAUTH Authentication required.</c>, and requests are
    /// limited to 10 arguments and 16 KB bulks.
    /// </summary>
    public bool AuthRequired => !Authenticated && !Server.Acl.DefaultNeedsNoAuth;

    /// <summary>
    /// The ACL user this client runs as (Redis's <c>c->user</c>): <c>default</c> until AUTH or HELLO AUTH succeeds for
    /// another; every command is checked against its rules (<see cref="Security.AccessControl.Check"/>).
    /// </summary>
    public Security.AclUser User { get; internal set; }

    /// <summary>This client's per-command counters (INFO commandstats), folded into <see cref="RespServer.CommandStats"/> at disconnect.</summary>
    public CommandCounters CommandCounters { get; }

    /// <summary>The writer into the connection (<see cref="CommandContext.Writer"/> unless replies are suppressed).</summary>
    internal RespWriter Replies { get; }

    /// <summary>The writer used while replies are suppressed, created on first use.</summary>
    private RespWriter? _discarded;

    /// <summary>CLIENT REPLY state.</summary>
    private ClientReplyMode _replyMode;

    /// <summary>Error replies written, suppressed ones included (the counter behind <c>failed_calls</c> and <c>prev_err_count</c>).</summary>
    internal long ErrorsWritten => Replies.ErrorsWritten + (_discarded?.ErrorsWritten ?? 0);

    /// <summary>
    /// CLIENT REPLY ON|OFF|SKIP (https://redis.io/commands/client-reply/): <see cref="ClientReplyMode.On"/> sends
    /// replies again (from the reply to this command on), <see cref="ClientReplyMode.Off"/> suppresses them until ON,
    /// <see cref="ClientReplyMode.SkipNext"/> suppresses the next command's reply only (ignored while OFF, as in Redis).
    /// </summary>
    internal void SetReplyMode(ClientReplyMode mode)
    {
        if (mode == ClientReplyMode.SkipNext && _replyMode == ClientReplyMode.Off) return;
        _replyMode = mode;
        UseWriter(mode is ClientReplyMode.Off or ClientReplyMode.Skip);
    }

    /// <summary>After each command read from the connection: a SKIP takes effect for the next command, then ends (Redis's resetClient).</summary>
    internal void AdvanceReplyMode()
    {
        if (_replyMode == ClientReplyMode.On) return;
        if (_replyMode == ClientReplyMode.Skip) SetReplyMode(ClientReplyMode.On);
        else if (_replyMode == ClientReplyMode.SkipNext) SetReplyMode(ClientReplyMode.Skip);
    }

    /// <summary>
    /// Where pub/sub output goes — subscription confirmations, messages, tracking invalidations: <see cref="CommandContext.Writer"/>, except
    /// that CLIENT REPLY OFF|SKIP does not silence it (Redis 7.0 writes these with <c>CLIENT_PUSHING</c>, which
    /// <c>prepareClientToWrite</c> lets through in RESP2 and RESP3 alike).
    /// </summary>
    internal RespWriter PushWriter => ReferenceEquals(Writer, _discarded) ? Replies : Writer;

    private void UseWriter(bool discard)
    {
        RespWriter next = discard ? _discarded ??= new RespWriter(new DiscardingBufferWriter()) { ErrorSink = Server.CommandStats } : Replies;
        if (ReferenceEquals(next, Writer)) return;
        next.Protocol = Writer.Protocol;
        Writer = next;
    }

    /// <summary>True for a client in MONITOR mode.</summary>
    public bool IsMonitor { get; private set; }

    /// <summary>CLIENT NO-EVICT: the client is exempt from client eviction (flag <c>e</c> in CLIENT LIST). RespKv does not evict clients, so the flag only shows.</summary>
    public bool NoEvict { get; set; }

    /// <summary>
    /// MONITOR: from now on this client receives a line for every command run (<see cref="MonitorFeed"/>); false
    /// when it already monitors. Its own commands that read or write keys are then rejected
    /// (<c>-ERR Replica can't interact with the keyspace</c>), as in Redis.
    /// </summary>
    internal bool StartMonitor()
    {
        if (IsMonitor) return false;
        // Lines a feeder queued while an earlier MONITOR was being RESET are stale.
        Outbox.Clear();
        IsMonitor = true;
        Server.Clients.Monitors.Add(this);
        return true;
    }

    /// <summary>RESET's part: leaves MONITOR mode, CLIENT REPLY OFF/SKIP and CLIENT TRACKING (Redis's clearClientConnectionState).</summary>
    internal void ClearConnectionModes()
    {
        Server.Tracking.Disable(this);
        if (IsMonitor)
        {
            Server.Clients.Monitors.Remove(this);
            IsMonitor = false;
        }
        SetReplyMode(ClientReplyMode.On);
    }

    /// <summary>
    /// Queues a MONITOR line (called on the thread of the client that ran the command) in the <see cref="Outbox"/> and
    /// wakes this client's loop to write it; its own commands' lines are drained after its batch.
    /// </summary>
    internal void EnqueueMonitorLine(byte[] line, ClientSession source)
    {
        if (IsMonitor) Enqueue(new OutboxItem(line, OutboxItemKind.SimpleString), wake: !ReferenceEquals(source, this));
    }

    /// <summary>
    /// Delivers a Pub/Sub message published by <paramref name="publisher"/> (null for a keyspace notification), on the
    /// thread that published it: queued in the <see cref="Outbox"/> and this client's loop woken; when this client is the
    /// one running the command (a RESP3 client publishing to its own channel, or notified of its own write) it gets the
    /// message at once, where Redis writes it: in its reply stream as the command runs, or after the reply for an event the
    /// command announces after replying (<paramref name="keyEvent"/>, <see cref="CommandInfo.NotifiesAfterReply"/>).
    /// </summary>
    internal void Deliver(OutboxItem message, ClientSession? publisher, KeyEvent? keyEvent = null)
    {
        if (ReferenceEquals(publisher, this) || Executor.IsRunningOnCurrentThread)
        {
            if (keyEvent != null && CurrentCommand is { } command && command.NotifiesAfterReply(keyEvent)) (_afterReply ??= new()).Add(message);
            else message.WriteTo(_scriptOuterWriter ?? Writer);
        }
        else Enqueue(message, wake: true);
    }

    /// <summary>The client's writer while a command of its script runs with its reply captured (<see cref="BeginScriptCapture"/>), else null.</summary>
    private RespWriter? _scriptOuterWriter;

    /// <summary>
    /// Before a script's <c>redis.call</c> runs on this client's executor: replies go to <paramref name="capture"/> (parsed
    /// into Lua values), while out-of-band output of this client's own writes (its keyspace notifications) still goes to the
    /// connection, before the script's reply, as Redis writes it.
    /// </summary>
    internal void BeginScriptCapture(RespWriter capture)
    {
        _scriptOuterWriter = Writer;
        Writer = capture;
    }

    /// <summary>After the <c>redis.call</c>: replies go to the connection again.</summary>
    internal void EndScriptCapture()
    {
        Writer = _scriptOuterWriter!;
        _scriptOuterWriter = null;
    }

    /// <summary>Notifications of this client's own write that Redis writes after the command's reply (<see cref="CommandFlags.RepliesBeforeNotifying"/>).</summary>
    private List<OutboxItem>? _afterReply;

    /// <inheritdoc/>
    public override void WriteHeldNotifications() => WriteAfterReply();

    /// <inheritdoc/>
    public override bool HasFullKeyReadAccess(in CommandArgs args) =>
        User.Rules.Unrestricted || ReplaysAof || CurrentCommand == null
        || Security.AccessControl.HasUnrestrictedKeyAccess(User, CurrentCommand, args, Security.AclKeyPattern.Read);

    /// <summary>Writes the notifications held back until after the command's reply (the executor calls it once the handler returned).</summary>
    internal void WriteAfterReply()
    {
        if (_afterReply is not { Count: > 0 } held) return;
        foreach (OutboxItem item in held) item.WriteTo(_scriptOuterWriter ?? Writer);
        held.Clear();
    }

    /// <summary>
    /// Queues out-of-band output; a client whose unsent output (queued plus pending replies) reaches its class's hard
    /// output-buffer limit (<see cref="OutputBufferLimit"/>: <c>pubsub</c> while subscribed, else <c>normal</c>) is closed,
    /// as Redis's <c>checkClientOutputBufferLimits</c> does when a reply is added.
    /// </summary>
    private void Enqueue(OutboxItem item, bool wake)
    {
        if (CloseRequested) return;
        long queued = Outbox.Enqueue(item);
        long hard = OutputBufferLimit.HardBytes;
        if (hard > 0 && queued + Connection.PendingReplyBytes >= hard)
        {
            CloseForOutputLimit();
            return;
        }
        if (wake && Outbox.ClaimWake()) DeferredWakes.Wake(Connection);
    }

    /// <summary>The output-buffer limit of this client's class: <c>pubsub</c> while it is subscribed to anything, else <c>normal</c> (Redis's <c>getClientType</c>).</summary>
    internal OutputBufferLimit OutputBufferLimit =>
        IsSubscribed ? Server.Options.ClientOutputBufferLimit.PubSub : Server.Options.ClientOutputBufferLimit.Normal;

    private HashSet<byte[]>? _channels, _patterns, _shardChannels;

    /// <summary>Channels this client is subscribed to (SUBSCRIBE; CLIENT LIST <c>sub=</c>).</summary>
    public int ChannelCount => _channels?.Count ?? 0;

    /// <summary>Patterns this client is subscribed to (PSUBSCRIBE; CLIENT LIST <c>psub=</c>).</summary>
    public int PatternCount => _patterns?.Count ?? 0;

    /// <summary>Shard channels this client is subscribed to (SSUBSCRIBE; CLIENT LIST <c>ssub=</c>).</summary>
    public int ShardChannelCount => _shardChannels?.Count ?? 0;

    /// <summary>
    /// True while subscribed to any channel, pattern or shard channel (Redis's <c>CLIENT_PUBSUB</c>: client type
    /// <c>pubsub</c>, CLIENT LIST flag <c>P</c>; over RESP2 only the subscription commands, PING, QUIT and RESET run).
    /// </summary>
    public bool IsSubscribed => ChannelCount + PatternCount + ShardChannelCount > 0;

    /// <summary>Subscribes to <paramref name="channel"/> (a shard channel when <paramref name="shard"/>); false when already subscribed.</summary>
    internal bool Subscribe(ReadOnlySpan<byte> channel, bool shard)
    {
        ref HashSet<byte[]>? set = ref shard ? ref _shardChannels : ref _channels;
        set ??= new HashSet<byte[]>(ByteStringComparer.Instance);
        byte[] copy = channel.ToArray();
        if (!set.Add(copy)) return false;
        Server.PubSub.AddChannel(copy, this, shard);
        return true;
    }

    /// <summary>Unsubscribes from <paramref name="channel"/>; false when it was not subscribed.</summary>
    internal bool Unsubscribe(ReadOnlySpan<byte> channel, bool shard)
    {
        HashSet<byte[]>? set = shard ? _shardChannels : _channels;
        if (set == null || !set.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out byte[]? stored)) return false;
        set.Remove(stored);
        Server.PubSub.RemoveChannel(stored, this, shard);
        return true;
    }

    /// <summary>Subscribes to <paramref name="pattern"/>; false when already subscribed.</summary>
    internal bool PSubscribe(ReadOnlySpan<byte> pattern)
    {
        _patterns ??= new HashSet<byte[]>(ByteStringComparer.Instance);
        byte[] copy = pattern.ToArray();
        if (!_patterns.Add(copy)) return false;
        Server.PubSub.AddPattern(copy, this);
        return true;
    }

    /// <summary>Unsubscribes from <paramref name="pattern"/>; false when it was not subscribed.</summary>
    internal bool PUnsubscribe(ReadOnlySpan<byte> pattern)
    {
        if (_patterns == null || !_patterns.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(pattern, out byte[]? stored)) return false;
        _patterns.Remove(stored);
        Server.PubSub.RemovePattern(stored, this);
        return true;
    }

    /// <summary>A copy of the subscribed channels (shard channels when <paramref name="shard"/>), for UNSUBSCRIBE without arguments.</summary>
    internal byte[][] SubscribedChannels(bool shard) => (shard ? _shardChannels : _channels)?.ToArray() ?? [];

    /// <summary>A copy of the subscribed patterns, for PUNSUBSCRIBE without arguments.</summary>
    internal byte[][] SubscribedPatterns() => _patterns?.ToArray() ?? [];

    /// <summary>Drops every subscription without a reply (RESET, disconnect: Redis's <c>pubsubUnsubscribeAll…</c> with notify off).</summary>
    internal void UnsubscribeAll()
    {
        foreach (byte[] c in SubscribedChannels(shard: false)) Unsubscribe(c, shard: false);
        foreach (byte[] c in SubscribedChannels(shard: true)) Unsubscribe(c, shard: true);
        foreach (byte[] p in SubscribedPatterns()) PUnsubscribe(p);
    }

    /// <summary>
    /// Closes the client for overcoming its output-buffer limit; its unsent replies are dropped. Logged at warning as Redis
    /// 7.0's <c>closeClientOnOutputBufferLimitReached</c> does, naming the client by its CLIENT LIST line:
    /// <c>Client &lt;info&gt; scheduled to be closed ASAP for overcoming of output buffer limits.</c> when output added to it
    /// (a reply, a published message: <paramref name="fromCron"/> false) crossed the limit, <c>Client &lt;info&gt; closed for
    /// overcoming of output buffer limits.</c> when the server cron found it over (the soft limit's seconds passed while stalled).
    /// </summary>
    internal void CloseForOutputLimit(bool fromCron = false)
    {
        var info = new StringBuilder();
        Commands.ClientCommands.AppendClientLine(info, this, 0);
        string client = info.ToString(0, info.Length - 1);
        if (fromCron) Server.Logger.LogWarning("Client {Client} closed for overcoming of output buffer limits.", client);
        else Server.Logger.LogWarning("Client {Client} scheduled to be closed ASAP for overcoming of output buffer limits.", client);
        Connection.MarkOverLimit();
        Close();
    }

    /// <summary>
    /// True while the client's next command waits for a CLIENT PAUSE to end, or it is blocked on keys by a blocking command
    /// (CLIENT LIST flag <c>b</c>, INFO <c>blocked_clients</c>).
    /// </summary>
    public bool IsBlocked => Connection.IsPostponed || Connection.IsBlockedOnKeys;

    /// <summary>This client's block on keys (<see cref="BlockedClients"/>), created by its first blocking command.</summary>
    internal BlockedClients.BlockedClient? Blocking { get; set; }

    /// <inheritdoc />
    public override bool ResumingBlock => Blocking is { Active: true };

    /// <inheritdoc />
    public override BlockOutcome BlockOnKeys(in CommandArgs args, int firstKey, int keyCount, long timeoutMs, Type servedBy) =>
        Server.BlockedClients.Block(this, args, firstKey, keyCount, timeoutMs, servedBy, wakeOnAnyChange: false, state: null);

    /// <inheritdoc />
    public override BlockOutcome BlockOnKeys(in CommandArgs args, int firstKey, int keyCount, long timeoutMs, Type servedBy, bool wakeOnAnyChange, object? state) =>
        Server.BlockedClients.Block(this, args, firstKey, keyCount, timeoutMs, servedBy, wakeOnAnyChange, state);

    /// <inheritdoc />
    public override object? BlockState => Blocking is { Active: true } blocking ? blocking.State : null;

    /// <inheritdoc />
    public override bool ObeysSource => ReplaysAof || IsMaster;

    /// <summary>
    /// True for the client a replica applies its primary's stream through (Redis's <c>CLIENT_MASTER</c>): replies are discarded,
    /// the admission gates that protect the data from ordinary clients (ACL, READONLY, MASTERDOWN, LOADING, OOM, MISCONF,
    /// pause) do not apply, and keys are not expired for it (the primary's DELs remove them).
    /// </summary>
    internal bool IsMaster { get; init; }

    /// <summary>Stream position after this client's last propagated write (Redis's <c>c->woff</c>): what WAIT waits for.</summary>
    public long ReplicationWriteOffset { get; internal set; }

    /// <summary>What this connection declared with REPLCONF (listening port, address, capabilities), before SYNC/PSYNC.</summary>
    internal Replication.ReplicaHandshake? ReplicaInfo { get; set; }

    /// <summary>Set by SYNC/PSYNC: the connection becomes this replica's link once the batch's replies are flushed.</summary>
    internal Replication.ReplicaLink? ReplicaHandoff { get; set; }

    /// <summary>Holds the current command back until CLIENT PAUSE ends (the pause admission gate).</summary>
    internal void Postpone() => Connection.Postpone();

    /// <summary>Unique client id (CLIENT ID).</summary>
    public long Id { get; }

    /// <summary>
    /// Bytes of received requests not yet consumed, the running command's included, while a command read from the
    /// connection runs; 0 between commands (CLIENT LIST <c>qbuf</c>, Redis's <c>sdslen(c-&gt;querybuf)</c>).
    /// </summary>
    internal long QueryBufferBytes;

    /// <summary>Client name (CLIENT SETNAME / HELLO SETNAME), or null.</summary>
    public string? Name { get; set; }

    /// <summary>Peer address, <c>ip:port</c>.</summary>
    public string RemoteAddress { get; }

    /// <summary>
    /// True for a local client, as Redis's <c>islocalClient</c>: a loopback peer (127.0.0.0/8, ::1, IPv4-mapped
    /// loopback) or one without an IP peer (in-memory transports, the AOF replay; Redis counts Unix sockets). What
    /// <c>local</c> allows for <c>enable-debug-command</c> and <c>enable-protected-configs</c>.
    /// </summary>
    public bool IsLocal => IsLocalAddress(RemoteAddress);

    /// <summary>True when <paramref name="remoteAddress"/> (<c>ip:port</c>, or empty) is a local client's (see <see cref="IsLocal"/>).</summary>
    public static bool IsLocalAddress(string remoteAddress) =>
        remoteAddress.Length == 0 || !System.Net.IPEndPoint.TryParse(remoteAddress, out System.Net.IPEndPoint? peer)
        || System.Net.IPAddress.IsLoopback(peer.Address)
        || (peer.Address.IsIPv4MappedToIPv6 && System.Net.IPAddress.IsLoopback(peer.Address.MapToIPv4()));

    /// <summary>Local address, <c>ip:port</c>.</summary>
    public string LocalAddress { get; }

    /// <summary>When the connection was accepted (UTC).</summary>
    public DateTime ConnectedAt { get; } = DateTime.UtcNow;

    /// <summary>Environment.TickCount64 at the last command, in ms (CLIENT LIST <c>idle</c>, <c>timeout</c>).</summary>
    public long LastInteractionMs { get; internal set; } = Environment.TickCount64;

    /// <summary>Full name of the last command run (CLIENT LIST <c>cmd</c>), e.g. <c>client|list</c>; <c>exec</c> while EXEC replays its queue, as in Redis.</summary>
    public string LastCommand => (ExecCommand ?? CurrentCommand)?.FullName ?? "NULL";

    /// <summary>The EXEC command while it replays the queue (<see cref="CommandContext.CurrentCommand"/> is then each queued command), else null.</summary>
    internal CommandInfo? ExecCommand { get; set; }

    /// <summary>Set when the connection must close after the replies already written (QUIT, protocol error, idle timeout).</summary>
    public bool CloseRequested
    {
        get => Volatile.Read(ref _closeRequested);
        set => Volatile.Write(ref _closeRequested, value);
    }

    private bool _closeRequested;

    /// <summary>
    /// Closes the connection from another thread (idle <c>timeout</c>, output-buffer limit, CLIENT KILL): marks it
    /// closing and wakes its pending read or flush, so the loop ends without waiting for the client to send anything.
    /// </summary>
    public void Close()
    {
        CloseRequested = true;
        Connection.Wake(flushToo: true);
    }

    /// <summary>Commands executed by this client.</summary>
    public long CommandsProcessed { get; internal set; }

    /// <summary>Bytes received.</summary>
    public long NetInputBytes { get; internal set; }

    /// <summary>Reads from the socket that delivered input (INFO <c>total_reads_processed</c>).</summary>
    public long ReadsProcessed { get; internal set; }

    /// <summary>Flushes of replies to the socket (INFO <c>total_writes_processed</c>).</summary>
    public long WritesProcessed { get; internal set; }

    /// <summary>Bytes of replies written.</summary>
    public long NetOutputBytes => Replies.BytesWritten;

    /// <summary>Selects database <paramref name="index"/>; the caller has range-checked it.</summary>
    public void Select(int index) => Database = Server.Keyspace[index];

    private Transaction? _transaction;

    /// <summary>The client's MULTI/WATCH state, created on first use.</summary>
    public Transaction Transaction => _transaction ??= new Transaction();

    /// <summary>True between MULTI and EXEC/DISCARD: commands are queued (<c>+QUEUED</c>) instead of run.</summary>
    public bool InMulti => _transaction?.InMulti == true;

    /// <summary>Closes an open transaction without running it and forgets every WATCH (DISCARD, RESET, EXEC's end, disconnect).</summary>
    public void DiscardTransaction()
    {
        if (_transaction == null) return;
        _transaction.End();
        _transaction.UnwatchAll();
    }

    /// <summary>The records this client's current write command (or atomic unit) propagates to <see cref="RespServer.WriteLog"/>.</summary>
    public PropagationBuffer Propagation { get; } = new();

    /// <inheritdoc />
    public override PropagationBuffer? ReplacePropagation()
    {
        if (Server.WriteLog == null) return null;
        Propagation.Replace();
        return Propagation;
    }

    /// <summary>True for the client that replays the AOF at start-up: it runs while <see cref="RespServer.Loading"/> is set.</summary>
    internal bool ReplaysAof { get; init; }

    /// <summary>Serves <paramref name="transport"/> until it closes (see <see cref="ClientConnection.RunAsync"/>).</summary>
    public Task RunAsync(IDuplexPipe transport, CancellationToken cancellation = default, CancellationToken peerClosed = default) =>
        Connection.RunAsync(transport, cancellation, peerClosed);

    /// <summary>Parses and executes every complete frame in <paramref name="buffer"/> (see <see cref="ClientConnection.ProcessReceived"/>).</summary>
    public SequencePosition ProcessReceived(ReadOnlySequence<byte> buffer) => Connection.ProcessReceived(buffer);

    /// <summary>Executes one parsed command (see <see cref="CommandExecutor.Execute"/>).</summary>
    public void Execute(in CommandArgs args) => Executor.Execute(args);

    /// <summary>Runs an admitted command (see <see cref="CommandExecutor.Dispatch"/>).</summary>
    internal void Dispatch(CommandInfo command, in CommandArgs args) => Executor.Dispatch(command, args);

    /// <summary>Reply bytes not yet accepted by the transport (see <see cref="ClientConnection.PendingReplyBytes"/>).</summary>
    public long PendingReplyBytes => Connection.PendingReplyBytes;

    /// <summary>The cron's output-buffer limit check (see <see cref="ClientConnection.CheckOutputBufferLimitWhileFlushing"/>).</summary>
    internal bool CheckOutputBufferLimitWhileFlushing(long nowMs) => Connection.CheckOutputBufferLimitWhileFlushing(nowMs);
}

/// <summary>CLIENT REPLY's states (Redis's CLIENT_REPLY_OFF, CLIENT_REPLY_SKIP_NEXT, CLIENT_REPLY_SKIP flags).</summary>
internal enum ClientReplyMode
{
    /// <summary>Replies are sent.</summary>
    On,

    /// <summary>Replies are discarded until CLIENT REPLY ON.</summary>
    Off,

    /// <summary>CLIENT REPLY SKIP just ran: the next command's reply is discarded.</summary>
    SkipNext,

    /// <summary>This command's reply is discarded.</summary>
    Skip,
}

/// <summary>An <see cref="IBufferWriter{T}"/> that drops everything written to it (suppressed replies).</summary>
internal sealed class DiscardingBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[4096];

    public void Advance(int count)
    {
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (sizeHint > _buffer.Length) _buffer = new byte[sizeHint];
        return _buffer;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
