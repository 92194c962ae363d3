using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Server;

namespace RespKv.Replication;

/// <summary>A coordinated failover's state (Redis 7.0's <c>failover_state</c>).</summary>
public enum FailoverState
{
    /// <summary><c>no-failover</c>.</summary>
    None,
    /// <summary><c>waiting-for-sync</c>: writes paused, waiting for the target's ACK of the whole stream.</summary>
    WaitForSync,
    /// <summary><c>failover-in-progress</c>: this server is connecting to the target as its replica.</summary>
    InProgress,
}

/// <summary>
/// A server's replication (Redis 7.0 replication.c): its role, the replication IDs (<c>master_replid</c>,
/// <c>master_replid2</c> valid up to <c>second_repl_offset</c>, as PSYNC2), the offset, the backlog, the replicas attached to
/// it as a primary (<see cref="ReplicaLink"/>) and its link to its own primary as a replica (<see cref="MasterLink"/>).
/// <para>
/// The stream: as a primary, writes reach the <see cref="ReplicationFeed"/> (part of <see cref="RespServer.WriteLog"/> while a
/// backlog exists), which appends them to the <see cref="ReplicationBuffer"/>; <c>master_repl_offset</c> is the buffer's end.
/// As a replica, the bytes of the primary's stream are appended to the same kind of buffer as they are applied, so this
/// server's offset is its primary's and its own replicas (chained) receive the identical stream.
/// </para>
/// The backlog is created when the first replica attaches (with a new replication ID, as Redis) and freed after
/// <c>repl-backlog-ttl</c> seconds without replicas; the <see cref="Cron"/> (every 100 ms) pings replicas, frees the backlog,
/// counts good replicas, enforces the replica output-buffer limit, and makes a replica acknowledge once a second.
/// </summary>
public sealed class ReplicationState
{
    /// <summary>Forty zeros: the replication ID 2 when there is none.</summary>
    public const string NoReplId = "0000000000000000000000000000000000000000";

    private readonly RespServer _server;
    private readonly Lock _sync = new();
    private string _replId = NewReplId();
    private string _replId2 = NoReplId;
    private long _secondReplOffset = -1;
    private ReplicationBuffer? _buffer;
    private ReplicationFeed? _feed;
    private long _offsetWithoutBacklog;
    private readonly List<ReplicaLink> _replicas = new();
    private volatile MasterLink? _master;
    private long _noReplicasSinceMs = Environment.TickCount64;
    private long _lastPingMs = Environment.TickCount64;
    private long _lastAckSentMs;
    private readonly List<ClientSession> _waiting = new();
    private long _fullSyncs, _partialOk, _partialErr;
    private volatile FailoverState _failover = FailoverState.None;
    private string? _failoverHost;
    private int _failoverPort;
    private long _failoverEndMs;
    private bool _failoverForce;

    internal ReplicationState(RespServer server) => _server = server;

    /// <summary>A new random 40-hex-digit replication ID (Redis's <c>changeReplicationId</c>).</summary>
    public static string NewReplId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>The current replication ID (INFO <c>master_replid</c>).</summary>
    public string ReplId
    {
        get
        {
            lock (_sync) return _replId;
        }
    }

    /// <summary>The previous replication ID (INFO <c>master_replid2</c>), <see cref="NoReplId"/> when none.</summary>
    public string ReplId2
    {
        get
        {
            lock (_sync) return _replId2;
        }
    }

    /// <summary>Offset up to which <see cref="ReplId2"/> is valid (INFO <c>second_repl_offset</c>), -1 when none.</summary>
    public long SecondReplOffset
    {
        get
        {
            lock (_sync) return _secondReplOffset;
        }
    }

    /// <summary>The replication offset (INFO <c>master_repl_offset</c>): bytes of the stream so far.</summary>
    public long MasterReplOffset
    {
        get
        {
            lock (_sync) return _buffer?.End ?? _offsetWithoutBacklog;
        }
    }

    /// <summary>The backlog and stream buffer, or null when there is no backlog.</summary>
    public ReplicationBuffer? Buffer
    {
        get
        {
            lock (_sync) return _buffer;
        }
    }

    /// <summary>The feed of writes into the buffer while this server is a primary with a backlog.</summary>
    internal ReplicationFeed? Feed
    {
        get
        {
            lock (_sync) return _feed;
        }
    }

    /// <summary>True while this server is a replica (REPLICAOF host port, or <c>replicaof</c> at start-up).</summary>
    public bool IsReplica => _master != null;

    /// <summary>The link to the primary while this server is a replica.</summary>
    public MasterLink? Master => _master;

    /// <summary>True while a replica's link with its primary is up (Redis's <c>repl_state == REPL_STATE_CONNECTED</c>).</summary>
    public bool LinkUp => _master is { State: MasterLinkState.Connected };

    /// <summary>
    /// False when writes must be refused with <c>-NOREPLICAS</c> (Redis's <c>checkGoodReplicasStatus</c>): a primary with
    /// <c>min-replicas-to-write</c> and <c>min-replicas-max-lag</c> both set and fewer good replicas than required.
    /// </summary>
    public bool HasGoodReplicas
    {
        get
        {
            Configuration.ServerOptions o = _server.Options;
            int required = o.MinReplicasToWrite;
            if (required == 0 || o.MinReplicasMaxLag == 0 || _master != null) return true;
            return CountGoodReplicas() >= required;
        }
    }

    /// <summary>Full resyncs served (INFO <c>sync_full</c>).</summary>
    public long FullSyncs => Interlocked.Read(ref _fullSyncs);

    /// <summary>Partial resyncs accepted (INFO <c>sync_partial_ok</c>).</summary>
    public long PartialSyncsAccepted => Interlocked.Read(ref _partialOk);

    /// <summary>Partial resyncs refused (INFO <c>sync_partial_err</c>).</summary>
    public long PartialSyncsRefused => Interlocked.Read(ref _partialErr);

    /// <summary>The replicas attached, in the order they attached.</summary>
    public IReadOnlyList<ReplicaLink> Replicas
    {
        get
        {
            lock (_sync) return _replicas.ToArray();
        }
    }

    private ILogger Log => _server.Logger;

    // ------------------------------------------------------------------ primary side

    /// <summary>
    /// PSYNC <paramref name="replId"/> <paramref name="offset"/> (Redis's <c>masterTryPartialResynchronization</c>): the reader
    /// of the stream from <paramref name="offset"/> when this server's history continues the replica's (the current ID, or the
    /// previous one up to <see cref="SecondReplOffset"/>) and the backlog still holds it; null when a full resync is needed.
    /// Counts <c>sync_partial_ok</c> / <c>sync_partial_err</c> (not for the replid <c>?</c>).
    /// </summary>
    internal ReplicationBuffer.Reader? TryPartialResync(string replId, long offset, string replicaName)
    {
        lock (_sync)
        {
            bool sameHistory = string.Equals(replId, _replId, StringComparison.OrdinalIgnoreCase)
                               || (string.Equals(replId, _replId2, StringComparison.OrdinalIgnoreCase) && offset <= _secondReplOffset);
            ReplicationBuffer.Reader? reader = null;
            if (!sameHistory)
            {
                if (replId.StartsWith('?')) Log.LogInformation("Full resync requested by replica {Replica}", replicaName);
                else Log.LogInformation("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{Asked}', my replication IDs are '{Id}' and '{Id2}')",
                    replId, _replId, _replId2);
            }
            else if (_buffer == null || !_buffer.BacklogHas(offset - 1) || (reader = _buffer.Attach(offset - 1)) == null)
            {
                Log.LogInformation("Unable to partial resync with replica {Replica} for lack of backlog (Replica request was: {Offset}).", replicaName, offset);
            }
            if (reader != null)
            {
                Interlocked.Increment(ref _partialOk);
                return reader;
            }
            if (!replId.StartsWith('?')) Interlocked.Increment(ref _partialErr);
            return null;
        }
    }

    /// <summary>Attaches <paramref name="link"/> as a replica; creates the backlog (with a new replication ID) for the first one, as Redis's <c>syncCommand</c>.</summary>
    internal void AddReplica(ReplicaLink link, bool fullSync)
    {
        lock (_sync)
        {
            _replicas.Add(link);
            if (fullSync) Interlocked.Increment(ref _fullSyncs);
            if (_buffer == null && _master == null)
            {
                _replId = NewReplId();
                _replId2 = NoReplId;
                _secondReplOffset = -1;
                CreateBacklogLocked(_offsetWithoutBacklog);
                Log.LogInformation("Replication backlog created, my new replication IDs are '{Id}' and '{Id2}'", _replId, _replId2);
            }
        }
    }

    /// <summary>Detaches <paramref name="link"/> (closed, or overrun).</summary>
    internal void RemoveReplica(ReplicaLink link)
    {
        lock (_sync)
        {
            if (!_replicas.Remove(link)) return;
            if (_replicas.Count == 0) _noReplicasSinceMs = Environment.TickCount64;
        }
        WakeWaiters();
    }

    private void CreateBacklogLocked(long start)
    {
        _buffer = new ReplicationBuffer(start, ParseSize("repl-backlog-size", 1 << 20));
        if (_master == null)
        {
            _feed = new ReplicationFeed(_buffer);
            _server.SetReplicationWriteLog(_feed);
        }
    }

    private void FreeBacklogLocked()
    {
        if (_buffer != null) _offsetWithoutBacklog = _buffer.End;
        _buffer = null;
        _feed = null;
        _server.SetReplicationWriteLog(null);
    }

    /// <summary>
    /// Takes a full resync's snapshot (on the calling thread, which must hold no shard lock): with every shard of every
    /// database locked, collects the keyspace, forgets the stream's selected database and attaches a reader at the stream
    /// position of that instant — every write before it is in the snapshot, every write after it in the stream.
    /// Returns the snapshot, the replication ID and that position (the +FULLRESYNC offset).
    /// </summary>
    internal (Persistence.KeyspaceSnapshot Snapshot, string ReplId, long Offset, ReplicationBuffer.Reader Reader) TakeSnapshot()
    {
        // On a replica the stream's bytes reach the buffer after their command applied: hold the apply loop between commands.
        lock (ApplyLock) return TakeSnapshotLocked();
    }

    /// <summary>
    /// Held by a replica's apply loop around each batch of commands it applies and appends to the buffer, and by a snapshot for
    /// a chained replica, so the snapshot and the buffer's end agree (taken before any shard lock).
    /// </summary>
    internal object ApplyLock { get; } = new();

    private (Persistence.KeyspaceSnapshot Snapshot, string ReplId, long Offset, ReplicationBuffer.Reader Reader) TakeSnapshotLocked()
    {
        string replId = "";
        long offset = 0;
        ReplicationBuffer.Reader? reader = null;
        Persistence.KeyspaceSnapshot snapshot = Persistence.KeyspaceSnapshot.CollectLocked(_server.Keyspace, () =>
        {
            lock (_sync)
            {
                ReplicationBuffer buffer = _buffer ?? throw new InvalidOperationException("No replication backlog");
                offset = _feed?.MarkSnapshot() ?? buffer.End;
                reader = buffer.Attach(offset)!;
                replId = _replId;
            }
        });
        return (snapshot, replId, offset, reader!);
    }

    /// <summary>A replica acknowledged (REPLCONF ACK): clients blocked in WAIT re-count.</summary>
    internal void OnAck() => WakeWaiters();

    /// <summary>
    /// Replicas online whose acknowledged offset is at least <paramref name="offset"/> (Redis's <c>replicationCountAcksByOffset</c>).
    /// </summary>
    public int CountAcks(long offset)
    {
        int n = 0;
        lock (_sync)
            foreach (ReplicaLink r in _replicas)
                if (r.State == ReplicaState.Online && r.AckOffset >= offset) n++;
        return n;
    }

    /// <summary>Replicas online that acknowledged within <c>min-replicas-max-lag</c> seconds (Redis's <c>refreshGoodSlavesCount</c>).</summary>
    public int CountGoodReplicas()
    {
        int maxLag = _server.Options.MinReplicasMaxLag;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int n = 0;
        lock (_sync)
            foreach (ReplicaLink r in _replicas)
                if (r.State == ReplicaState.Online && now - r.AckUnixSeconds <= maxLag) n++;
        return n;
    }

    /// <summary>Registers <paramref name="client"/> as blocked in WAIT; with <paramref name="askForAcks"/> asks every replica for an ACK through the stream.</summary>
    internal void AddWaiter(ClientSession client, bool askForAcks)
    {
        lock (_waiting)
            if (!_waiting.Contains(client)) _waiting.Add(client);
        if (askForAcks) Feed?.AppendGetAck();
    }

    /// <summary>Forgets a client that left WAIT.</summary>
    internal void RemoveWaiter(ClientSession client)
    {
        lock (_waiting) _waiting.Remove(client);
    }

    private void WakeWaiters()
    {
        ClientSession[] waiting;
        lock (_waiting)
        {
            if (_waiting.Count == 0) return;
            _waiting.RemoveAll(c => c.CloseRequested);
            waiting = _waiting.ToArray();
        }
        foreach (ClientSession c in waiting) c.Blocking?.Wake();
    }

    // ------------------------------------------------------------------ replica side

    /// <summary>
    /// REPLICAOF <paramref name="host"/> <paramref name="port"/> (Redis's <c>replicationSetMaster</c>): drops this server's own
    /// replicas (they reconnect and learn the new history), and starts the link; a former primary offers its own replication ID
    /// and offset in its first PSYNC (<c>replicationCacheMasterUsingMyself</c>), so it can continue partially — unless
    /// <paramref name="offerOwnHistory"/> is false (start-up with <c>replicaof</c>: <c>PSYNC ? -1</c>). With <paramref name="failover"/>
    /// (a coordinated FAILOVER) its PSYNC carries <c>FAILOVER</c>, which promotes the target.
    /// </summary>
    public void SetMaster(string host, int port, bool offerOwnHistory = true, bool failover = false)
    {
        MasterLink? old;
        string replId;
        long offset;
        lock (_sync)
        {
            old = _master;
            replId = old?.CachedReplId ?? _replId;
            offset = old?.CachedOffset ?? (_buffer?.End ?? _offsetWithoutBacklog);
            bool wasMaster = old == null;
            bool history = wasMaster ? offerOwnHistory : old!.CachedReplId != null;
            _master = new MasterLink(_server, this, host, port, history ? replId : null, offset, failover);
            if (wasMaster)
            {
                // The stream from now on is the new primary's: writes are no longer fed from commands.
                _feed = null;
                _server.SetReplicationWriteLog(null);
            }
        }
        old?.Stop();
        DisconnectReplicas();
        WakeWaiters();
        _master!.Start();
        Log.LogInformation("Connecting to MASTER {Host}:{Port}", host, port);
    }

    /// <summary>
    /// REPLICAOF NO ONE (Redis's <c>replicationUnsetMaster</c>): stops the link, keeps the data, and continues the history under
    /// a new replication ID — the old one stays valid up to the current offset (ID2), so replicas of the old primary can
    /// partially resync with this one. Its own replicas are disconnected to learn the new ID.
    /// </summary>
    public void UnsetMaster()
    {
        MasterLink? old;
        lock (_sync)
        {
            old = _master;
            if (old == null) return;
            _master = null;
            long offset = _buffer?.End ?? old.CachedOffset ?? _offsetWithoutBacklog;
            if (old.CachedReplId != null) _replId = old.CachedReplId;
            _replId2 = _replId;
            _secondReplOffset = offset + 1;
            _replId = NewReplId();
            if (_buffer == null) CreateBacklogLocked(offset);
            else
            {
                _feed = new ReplicationFeed(_buffer);
                _server.SetReplicationWriteLog(_feed);
            }
            _noReplicasSinceMs = Environment.TickCount64;
        }
        old.Stop();
        DisconnectReplicas();
        Log.LogInformation("MASTER MODE enabled");
    }

    /// <summary>
    /// After a replica loaded its primary's RDB: the replication ID and offset become the primary's and a fresh backlog starts
    /// at that offset (Redis's <c>replicationCreateMasterClient</c> + <c>createReplicationBacklog</c>). Sub-replicas are
    /// disconnected (their data is of the previous history).
    /// </summary>
    internal void AdoptPrimaryHistory(string replId, long offset)
    {
        lock (_sync)
        {
            _replId = replId;
            _replId2 = NoReplId;
            _secondReplOffset = -1;
            _buffer = new ReplicationBuffer(offset, ParseSize("repl-backlog-size", 1 << 20));
            _feed = null;
        }
        DisconnectReplicas();
    }

    /// <summary>+CONTINUE with a new ID (the primary was promoted): the old ID stays valid up to the current offset (Redis's PSYNC2 switch).</summary>
    internal void SwitchPrimaryId(string newReplId)
    {
        lock (_sync)
        {
            if (string.Equals(newReplId, _replId, StringComparison.OrdinalIgnoreCase)) return;
            _replId2 = _replId;
            _secondReplOffset = (_buffer?.End ?? _offsetWithoutBacklog) + 1;
            _replId = newReplId;
        }
        DisconnectReplicas();
    }

    /// <summary>Ensures a replica has a backlog for the primary's stream starting at <paramref name="offset"/> (a partial resync continues it).</summary>
    internal void EnsureReplicaBacklog(long offset)
    {
        lock (_sync) _buffer ??= new ReplicationBuffer(offset, ParseSize("repl-backlog-size", 1 << 20));
    }

    /// <summary>At shutdown: stops the link to the primary (keeping the role) and closes the replica links.</summary>
    public void Shutdown()
    {
        _master?.Stop();
        DisconnectReplicas();
    }

    /// <summary>Closes every replica link (Redis's <c>disconnectSlaves</c>).</summary>
    public void DisconnectReplicas()
    {
        foreach (ReplicaLink r in Replicas) r.Close();
    }

    // ------------------------------------------------------------------ FAILOVER

    /// <summary>The coordinated failover's state (INFO <c>master_failover_state</c>).</summary>
    public FailoverState Failover => _failover;

    /// <summary>
    /// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] (Redis 7.0's <c>failoverCommand</c>), after its checks: pauses writes and
    /// waits (<see cref="Cron"/>) for the target — or any replica — to acknowledge the whole stream, then becomes its replica
    /// with <c>PSYNC … FAILOVER</c>, which makes the target a primary. Returns null, or Redis's error.
    /// </summary>
    internal string? StartFailover(string? host, int port, long timeoutMs, bool force)
    {
        if (_failover != FailoverState.None) return "ERR FAILOVER already in progress.";
        if (_master != null) return "ERR FAILOVER is not valid when server is a replica.";
        ReplicaLink[] replicas = Replicas.ToArray();
        if (replicas.Length == 0) return "ERR FAILOVER requires connected replicas.";
        if (force && (timeoutMs == 0 || host == null)) return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
        if (host != null)
        {
            ReplicaLink? target = FindReplica(host, port);
            if (target == null) return "ERR FAILOVER target HOST and PORT is not a replica.";
            if (target.State != ReplicaState.Online) return "ERR FAILOVER target replica is not online.";
            Log.LogInformation("FAILOVER requested to {Host}:{Port}.", host, port);
        }
        else Log.LogInformation("FAILOVER requested to any replica.");
        lock (_sync)
        {
            _failoverHost = host;
            _failoverPort = port;
            _failoverEndMs = timeoutMs > 0 ? Environment.TickCount64 + timeoutMs : 0;
            _failoverForce = force;
            _failover = FailoverState.WaitForSync;
        }
        _server.Clients.Pause.Pause(long.MaxValue, ClientPauseKind.Write);
        return null;
    }

    /// <summary>FAILOVER ABORT (and a failed failover): back to a primary, writes unpaused. False when none is in progress.</summary>
    internal bool AbortFailover(string reason)
    {
        FailoverState state = _failover;
        if (state == FailoverState.None) return false;
        Log.LogInformation("FAILOVER to {Target} aborted: {Reason}", _failoverHost != null ? $"{_failoverHost}:{_failoverPort}" : "any replica", reason);
        if (state == FailoverState.InProgress) UnsetMaster();
        ClearFailover();
        return true;
    }

    /// <summary>The failover is done (the target answered the PSYNC FAILOVER) or over: writes are unpaused.</summary>
    internal void ClearFailover()
    {
        if (_failover == FailoverState.None) return;
        lock (_sync)
        {
            _failoverHost = null;
            _failoverPort = 0;
            _failoverEndMs = 0;
            _failoverForce = false;
            _failover = FailoverState.None;
        }
        _server.Clients.Pause.Unpause();
    }

    private ReplicaLink? FindReplica(string host, int port)
    {
        foreach (ReplicaLink r in Replicas)
            if (string.Equals(r.Address, host, StringComparison.OrdinalIgnoreCase) && r.ListeningPort == port) return r;
        return null;
    }

    /// <summary>Redis's <c>updateFailoverStatus</c>: times out (or forces), or starts the switch once the target caught up.</summary>
    private void UpdateFailover(long nowMs)
    {
        if (_failover != FailoverState.WaitForSync) return;
        if (_failoverEndMs != 0 && _failoverEndMs <= nowMs)
        {
            if (_failoverForce)
            {
                Log.LogInformation("FAILOVER to {Host}:{Port} time out exceeded, failing over.", _failoverHost, _failoverPort);
                SwitchToTarget();
            }
            else AbortFailover("Replica never caught up before timeout");
            return;
        }
        long offset = MasterReplOffset;
        ReplicaLink? target = _failoverHost != null ? FindReplica(_failoverHost, _failoverPort)
            : Replicas.FirstOrDefault(r => r.AckOffset == offset);
        if (target == null || target.AckOffset != offset) return;
        lock (_sync)
        {
            _failoverHost = target.Address;
            _failoverPort = (int)target.ListeningPort;
        }
        Log.LogInformation("Failover target {Host}:{Port} is synced, failing over.", _failoverHost, _failoverPort);
        SwitchToTarget();
    }

    private void SwitchToTarget()
    {
        _failover = FailoverState.InProgress;
        SetMaster(_failoverHost!, _failoverPort, offerOwnHistory: true, failover: true);
    }

    // ------------------------------------------------------------------ cron

    /// <summary>
    /// Every server cron tick (Redis's <c>replicationCron</c>, which runs once a second; the parts here are cheap): PING into the
    /// stream every <c>repl-ping-replica-period</c> seconds while replicas are attached, free the backlog after
    /// <c>repl-backlog-ttl</c> seconds without replicas, disconnect replicas over <c>client-output-buffer-limit replica</c> or
    /// silent for <c>repl-timeout</c>, and as a replica acknowledge the applied offset once a second.
    /// </summary>
    internal void Cron(long nowMs)
    {
        UpdateFailover(nowMs);
        MasterLink? master = _master;
        if (master != null)
        {
            if (nowMs - _lastAckSentMs >= 1000)
            {
                _lastAckSentMs = nowMs;
                master.SendAck();
            }
            master.CheckTimeout(nowMs);
        }
        ReplicationBuffer? buffer;
        int replicas;
        lock (_sync)
        {
            buffer = _buffer;
            replicas = _replicas.Count;
        }
        if (buffer == null) return;
        var limit = _server.Options.ClientOutputBufferLimit.Replica;
        foreach (ReplicationBuffer.Reader overrun in buffer.EnforceLimits(limit.HardBytes, limit.SoftBytes, limit.SoftSeconds, nowMs))
        {
            foreach (ReplicaLink r in Replicas)
                if (r.Reader == overrun)
                {
                    Log.LogWarning("Client {Replica} scheduled to be closed ASAP for overcoming of output buffer limits.", r.Name);
                    r.Close();
                }
        }
        if (master != null) return;
        int period = ParseInt("repl-ping-replica-period", 10);
        // No PING while a failover waits for a replica to acknowledge the whole stream (it would move the offset, as in Redis).
        if (replicas > 0 && nowMs - _lastPingMs >= period * 1000L && _failover == FailoverState.None)
        {
            _lastPingMs = nowMs;
            Feed?.AppendPing();
        }
        long timeoutMs = ParseInt("repl-timeout", 60) * 1000L;
        long nowSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (ReplicaLink r in Replicas)
        {
            if (r.State == ReplicaState.Online && !r.PrePsync && (nowSeconds - r.AckUnixSeconds) * 1000 > timeoutMs)
            {
                Log.LogWarning("Disconnecting timedout replica (streaming sync): {Replica}", r.Name);
                r.Close();
            }
        }
        long ttl = ParseLong("repl-backlog-ttl", 3600);
        lock (_sync)
        {
            if (_replicas.Count == 0 && ttl > 0 && nowMs - _noReplicasSinceMs > ttl * 1000 && _buffer != null)
            {
                // Redis changes the replication ID too: a replica that reconnects later must not continue from stale history.
                _replId = NewReplId();
                _replId2 = NoReplId;
                _secondReplOffset = -1;
                FreeBacklogLocked();
                Log.LogInformation("Replication backlog freed after {Ttl} seconds without connected replicas.", ttl);
            }
            if (_buffer != null) _buffer.BacklogSize = ParseSize("repl-backlog-size", 1 << 20);
        }
    }

    // ------------------------------------------------------------------ INFO and ROLE

    /// <summary>INFO <c># Replication</c>'s fields, in Redis 7.0's order (server.c <c>genRedisInfoString</c>).</summary>
    public void AppendInfo(StringBuilder text)
    {
        MasterLink? master = _master;
        Line(text, "role", master == null ? "master" : "slave");
        if (master != null)
        {
            long applied = master.AppliedOffset;
            Line(text, "master_host", master.Host);
            Line(text, "master_port", master.Port);
            Line(text, "master_link_status", master.State == MasterLinkState.Connected ? "up" : "down");
            Line(text, "master_last_io_seconds_ago", master.State == MasterLinkState.Connected ? master.LastIoSecondsAgo : -1);
            Line(text, "master_sync_in_progress", master.State == MasterLinkState.Transfer ? 1 : 0);
            Line(text, "slave_read_repl_offset", master.ReadOffset);
            Line(text, "slave_repl_offset", applied);
            if (master.State == MasterLinkState.Transfer)
            {
                long total = master.TransferSize, read = master.TransferRead;
                Line(text, "master_sync_total_bytes", total);
                Line(text, "master_sync_read_bytes", read);
                Line(text, "master_sync_left_bytes", total - read);
                Line(text, "master_sync_perc", (total > 0 ? (double)read / total * 100 : 0).ToString("F2", CultureInfo.InvariantCulture));
                Line(text, "master_sync_last_io_seconds_ago", master.LastIoSecondsAgo);
            }
            if (master.State != MasterLinkState.Connected)
                Line(text, "master_link_down_since_seconds", master.DownSinceSeconds);
            Line(text, "slave_priority", Setting("replica-priority"));
            Line(text, "slave_read_only", _server.Options.ReplicaReadOnly ? 1 : 0);
            Line(text, "replica_announced", Setting("replica-announced") == "yes" ? 1 : 0);
        }
        ReplicaLink[] replicas = Replicas.ToArray();
        Line(text, "connected_slaves", replicas.Length);
        if (_server.Options.MinReplicasToWrite != 0 && _server.Options.MinReplicasMaxLag != 0)
            Line(text, "min_slaves_good_slaves", CountGoodReplicas());
        int id = 0;
        long nowSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (ReplicaLink r in replicas)
        {
            long lag = r.State == ReplicaState.Online ? nowSeconds - r.AckUnixSeconds : 0;
            text.Append(CultureInfo.InvariantCulture,
                $"slave{id++}:ip={r.Address},port={r.ListeningPort},state={r.StateName},offset={r.AckOffset},lag={lag}\r\n");
        }
        string replId, replId2;
        long second, offset, backlogFirst, histlen;
        bool active;
        lock (_sync)
        {
            replId = _replId;
            replId2 = _replId2;
            second = _secondReplOffset;
            offset = _buffer?.End ?? _offsetWithoutBacklog;
            active = _buffer != null;
            backlogFirst = _buffer != null ? _buffer.BacklogStart + 1 : 0;
            histlen = _buffer?.BacklogLength ?? 0;
        }
        Line(text, "master_failover_state", _failover switch
        {
            FailoverState.WaitForSync => "waiting-for-sync",
            FailoverState.InProgress => "failover-in-progress",
            _ => "no-failover",
        });
        Line(text, "master_replid", replId);
        Line(text, "master_replid2", replId2);
        Line(text, "master_repl_offset", offset);
        Line(text, "second_repl_offset", second);
        Line(text, "repl_backlog_active", active ? 1 : 0);
        Line(text, "repl_backlog_size", ParseSize("repl-backlog-size", 1 << 20));
        Line(text, "repl_backlog_first_byte_offset", backlogFirst);
        Line(text, "repl_backlog_histlen", histlen);
    }

    /// <summary>ROLE (Redis's <c>roleCommand</c>): <c>master offset [[ip port ack-offset] …]</c> for online replicas, or <c>slave host port state offset</c>.</summary>
    public void WriteRole(Protocol.RespWriter w)
    {
        MasterLink? master = _master;
        if (master == null)
        {
            ReplicaLink[] online = Replicas.Where(r => r.State == ReplicaState.Online).ToArray();
            w.WriteArrayHeader(3);
            w.WriteBulkString("master"u8);
            w.WriteInteger(MasterReplOffset);
            w.WriteArrayHeader(online.Length);
            foreach (ReplicaLink r in online)
            {
                w.WriteArrayHeader(3);
                w.WriteBulkString(Encoding.UTF8.GetBytes(r.Address));
                w.WriteBulkString(Encoding.ASCII.GetBytes(r.ListeningPort.ToString(CultureInfo.InvariantCulture)));
                w.WriteBulkString(Encoding.ASCII.GetBytes(r.AckOffset.ToString(CultureInfo.InvariantCulture)));
            }
            return;
        }
        w.WriteArrayHeader(5);
        w.WriteBulkString("slave"u8);
        w.WriteBulkString(Encoding.UTF8.GetBytes(master.Host));
        w.WriteInteger(master.Port);
        w.WriteBulkString(master.State switch
        {
            MasterLinkState.Connect => "connect"u8,
            MasterLinkState.Connecting => "connecting"u8,
            MasterLinkState.Handshake => "handshake"u8,
            MasterLinkState.Transfer => "sync"u8,
            MasterLinkState.Connected => "connected"u8,
            _ => "none"u8,
        });
        w.WriteInteger(master.State == MasterLinkState.Connected ? master.AppliedOffset : -1);
    }

    private static void Line(StringBuilder text, string name, object value) =>
        text.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");

    internal string Setting(string name) => Configuration.ConfigParameters.Find(name)?.Get(_server.Options) ?? "";

    internal long ParseSize(string name, long fallback) =>
        Configuration.ServerOptions.TryParseMemory(Setting(name), out long v) ? v : fallback;

    internal long ParseLong(string name, long fallback) =>
        long.TryParse(Setting(name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : fallback;

    internal int ParseInt(string name, int fallback) => (int)Math.Clamp(ParseLong(name, fallback), int.MinValue, int.MaxValue);
}
