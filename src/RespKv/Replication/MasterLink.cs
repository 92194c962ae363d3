using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Persistence.Rdb;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Replication;

/// <summary>A replica's link state (Redis's <c>repl_state</c>, as ROLE names it).</summary>
public enum MasterLinkState
{
    /// <summary>Not connected; the next attempt is due (<c>connect</c>).</summary>
    Connect,
    /// <summary>Connecting the socket (<c>connecting</c>).</summary>
    Connecting,
    /// <summary>PING, AUTH, REPLCONF, PSYNC (<c>handshake</c>).</summary>
    Handshake,
    /// <summary>Receiving and loading the RDB (<c>sync</c>).</summary>
    Transfer,
    /// <summary>Applying the stream (<c>connected</c>).</summary>
    Connected,
}

/// <summary>
/// A replica's link to its primary (Redis's replica side of replication.c: <c>connectWithMaster</c>, <c>syncWithMaster</c>,
/// <c>readSyncBulkPayload</c>, the master client). Works with redis-server 7.0 and RespKv as the primary.
/// <list type="bullet">
/// <item>Handshake: <c>PING</c> (an error other than -NOAUTH/-NOPERM fails it), <c>AUTH [masteruser] masterauth</c> when set,
/// <c>REPLCONF listening-port</c> (and <c>ip-address</c> with <c>replica-announce-ip</c>), <c>REPLCONF capa eof capa psync2</c>,
/// then <c>PSYNC replid offset+1</c> with the cached history (or <c>PSYNC ? -1</c>).</item>
/// <item>Full resync (<c>+FULLRESYNC replid offset</c>): the RDB (<c>$len</c> or diskless <c>$EOF:mark</c>, newlines before it
/// skipped) is received into a temporary file in <c>dir</c>; then, with the server <c>loading</c> (clients get -LOADING), the
/// keyspace and functions are flushed and the file loaded — a failed load leaves the keyspace empty, never half-loaded, and
/// the link retries. An ACK is sent at once (a Redis 7.0 primary starts the stream of a diskless sync on it), and with the
/// AOF on, a rewrite records the loaded data.</item>
/// <item>Partial resync (<c>+CONTINUE [replid]</c>): the data stays; a new ID moves the old one to ID2.</item>
/// <item>The stream is applied through a client marked as the master (<see cref="ClientSession.IsMaster"/>, replies discarded,
/// expiry off while it runs). The offset advances per whole command outside MULTI (Redis's <c>reploff</c>), and the applied
/// bytes are appended to this server's own buffer, so chained replicas get the identical stream. <c>REPLCONF GETACK</c> is
/// answered with <c>REPLCONF ACK offset</c>, and an ACK is sent every second by the cron.</item>
/// <item>A lost link (or <c>repl-timeout</c> seconds without data) is retried every second with PSYNC continuation.</item>
/// </list>
/// </summary>
public sealed class MasterLink
{
    private readonly RespServer _server;
    private readonly ReplicationState _state;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _writeLock = new();
    private readonly ClientSession _session;
    private Task? _loop;
    private volatile Socket? _socket;
    private volatile MasterLinkState _linkState = MasterLinkState.Connect;
    private long _appliedOffset;
    private long _readOffset;
    private long _lastIoMs = Environment.TickCount64;
    private long _downSinceMs;
    private long _transferSize = -1;
    private long _transferRead;
    private string? _cachedReplId;
    private bool _hasHistory;

    private readonly bool _failover;

    internal MasterLink(RespServer server, ReplicationState state, string host, int port, string? cachedReplId, long cachedOffset, bool failover = false)
    {
        _failover = failover;
        _server = server;
        _state = state;
        Host = host;
        Port = port;
        _cachedReplId = cachedReplId;
        _hasHistory = cachedReplId != null;
        _appliedOffset = _readOffset = cachedOffset;
        _session = new ClientSession(server, new DiscardingBufferWriter()) { Authenticated = true, IsMaster = true };
    }

    /// <summary>The primary's host.</summary>
    public string Host { get; }

    /// <summary>The primary's port.</summary>
    public int Port { get; }

    /// <summary>The link's state.</summary>
    public MasterLinkState State => _linkState;

    /// <summary>Offset of the stream applied so far (INFO <c>slave_repl_offset</c>, the ACK's offset).</summary>
    public long AppliedOffset => Interlocked.Read(ref _appliedOffset);

    /// <summary>Offset of the stream read so far (INFO <c>slave_read_repl_offset</c>).</summary>
    public long ReadOffset => Interlocked.Read(ref _readOffset);

    /// <summary>The replication ID a reconnection offers in PSYNC, or null for none (<c>PSYNC ? -1</c>).</summary>
    public string? CachedReplId => _hasHistory ? _cachedReplId : null;

    /// <summary>The applied offset a reconnection continues from, or null without history.</summary>
    public long? CachedOffset => _hasHistory ? AppliedOffset : null;

    /// <summary>RDB bytes announced by the primary (0 for a diskless transfer, whose size is unknown, as Redis; -1 before any transfer).</summary>
    public long TransferSize => Interlocked.Read(ref _transferSize);

    /// <summary>RDB bytes received so far.</summary>
    public long TransferRead => Interlocked.Read(ref _transferRead);

    /// <summary>Seconds since the last data from the primary.</summary>
    public long LastIoSecondsAgo => (Environment.TickCount64 - Interlocked.Read(ref _lastIoMs)) / 1000;

    /// <summary>Seconds since the link went down (INFO <c>master_link_down_since_seconds</c>), -1 when it was never up.</summary>
    public long DownSinceSeconds => Interlocked.Read(ref _downSinceMs) is var since and > 0 ? (Environment.TickCount64 - since) / 1000 : -1;

    private ILogger Log => _server.Logger;

    internal void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>Stops the link (REPLICAOF another primary or NO ONE, shutdown) and waits briefly for its loop.</summary>
    internal void Stop()
    {
        _stop.Cancel();
        try
        {
            _socket?.Close();
        }
        catch (ObjectDisposedException)
        {
        }
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        _server.Keyspace.Lifetime.KeepExpiredKeys = _state.IsReplica;
        if (_server.Loading && !_state.IsReplica) _server.Loading = false;
    }

    /// <summary>Sends <c>REPLCONF ACK &lt;applied offset&gt;</c> while connected (the cron, once a second; GETACK).</summary>
    internal void SendAck() => SendAckAt(AppliedOffset);

    private void SendAckAt(long offset)
    {
        if (_linkState != MasterLinkState.Connected) return;
        SendCommand("REPLCONF", "ACK", offset.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Drops the link when the primary sent nothing for <c>repl-timeout</c> seconds (Redis's replicationCron).</summary>
    internal void CheckTimeout(long nowMs)
    {
        MasterLinkState s = _linkState;
        if (s is not (MasterLinkState.Connected or MasterLinkState.Transfer or MasterLinkState.Handshake)) return;
        long timeoutMs = _state.ParseInt("repl-timeout", 60) * 1000L;
        if (nowMs - Interlocked.Read(ref _lastIoMs) <= timeoutMs) return;
        Log.LogWarning("MASTER timeout: no data nor PING received...");
        try
        {
            _socket?.Close();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task LoopAsync()
    {
        _server.Keyspace.Lifetime.KeepExpiredKeys = true;
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SyncAndApplyAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (!stop.IsCancellationRequested) Log.LogWarning("Replication link with MASTER {Host}:{Port} lost: {Reason}", Host, Port, e.Message);
            }
            finally
            {
                if (_linkState is MasterLinkState.Connected) Interlocked.Exchange(ref _downSinceMs, Environment.TickCount64);
                _linkState = MasterLinkState.Connect;
                Socket? socket = _socket;
                _socket = null;
                socket?.Dispose();
                if (_session.InMulti) _session.DiscardTransaction();
            }
            try
            {
                await Task.Delay(1000, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task SyncAndApplyAsync(CancellationToken stop)
    {
        _linkState = MasterLinkState.Connecting;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket = socket;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, _state.ParseInt("repl-timeout", 60))));
            await socket.ConnectAsync(Host, Port, connectTimeout.Token).ConfigureAwait(false);
        }
        Log.LogInformation("MASTER <-> REPLICA sync started");
        Touch();
        _linkState = MasterLinkState.Handshake;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        PipeReader input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            await HandshakeAsync(input, stop).ConfigureAwait(false);
            await ApplyStreamAsync(input, stop).ConfigureAwait(false);
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task HandshakeAsync(PipeReader input, CancellationToken stop)
    {
        SendCommand("PING");
        string reply = await ReadLineAsync(input, stop).ConfigureAwait(false);
        if (reply.StartsWith('-') && !reply.StartsWith("-NOAUTH", StringComparison.Ordinal) && !reply.StartsWith("-NOPERM", StringComparison.Ordinal)
            && !reply.StartsWith("-ERR operation not permitted", StringComparison.Ordinal))
            throw new IOException($"Error reply to PING from master: '{reply}'");
        string auth = _state.Setting("masterauth");
        if (auth.Length > 0)
        {
            string user = _state.Setting("masteruser");
            if (user.Length > 0) SendCommand("AUTH", user, auth);
            else SendCommand("AUTH", auth);
            reply = await ReadLineAsync(input, stop).ConfigureAwait(false);
            if (reply.StartsWith('-')) throw new IOException($"Unable to AUTH to MASTER: {reply}");
        }
        string announcedPort = _state.Setting("replica-announce-port");
        SendCommand("REPLCONF", "listening-port", announcedPort is "" or "0" ? _server.BoundPort.ToString(CultureInfo.InvariantCulture) : announcedPort);
        reply = await ReadLineAsync(input, stop).ConfigureAwait(false);
        if (reply.StartsWith('-')) Log.LogInformation("(Non critical) Master does not understand REPLCONF listening-port: {Reply}", reply);
        string announcedIp = _state.Setting("replica-announce-ip");
        if (announcedIp.Length > 0)
        {
            SendCommand("REPLCONF", "ip-address", announcedIp);
            reply = await ReadLineAsync(input, stop).ConfigureAwait(false);
            if (reply.StartsWith('-')) Log.LogInformation("(Non critical) Master does not understand REPLCONF ip-address: {Reply}", reply);
        }
        SendCommand("REPLCONF", "capa", "eof", "capa", "psync2");
        reply = await ReadLineAsync(input, stop).ConfigureAwait(false);
        if (reply.StartsWith('-')) Log.LogInformation("(Non critical) Master does not understand REPLCONF capa: {Reply}", reply);
        string? replId = CachedReplId;
        long psyncOffset = replId == null ? -1 : AppliedOffset + 1;
        bool failover = _failover && _state.Failover == FailoverState.InProgress;
        if (failover) SendCommand("PSYNC", replId ?? "?", psyncOffset.ToString(CultureInfo.InvariantCulture), "FAILOVER");
        else SendCommand("PSYNC", replId ?? "?", psyncOffset.ToString(CultureInfo.InvariantCulture));
        do reply = await ReadLineAsync(input, stop).ConfigureAwait(false);
        while (reply.Length == 0);
        if (failover)
        {
            // The target promoted itself and continues (or resyncs) us: the failover is done. Anything else aborts it.
            if (reply.StartsWith("+CONTINUE", StringComparison.Ordinal) || reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal)) _state.ClearFailover();
            else
            {
                _ = Task.Run(() => _state.AbortFailover("Failover target rejected psync request"));
                throw new IOException($"Failover target rejected psync request: {reply}");
            }
        }
        if (reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal))
        {
            string[] parts = reply.Split(' ');
            if (parts.Length < 3 || parts[1].Length != 40 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
                throw new IOException($"Master replied with wrong +FULLRESYNC syntax: {reply}");
            Log.LogInformation("Full resync from master: {ReplId}:{Offset}", parts[1], offset);
            await FullSyncAsync(input, parts[1], offset, stop).ConfigureAwait(false);
            return;
        }
        if (reply.StartsWith("+CONTINUE", StringComparison.Ordinal))
        {
            string newId = reply.Length > "+CONTINUE ".Length ? reply["+CONTINUE ".Length..].Trim() : "";
            Log.LogInformation("Successful partial resynchronization with master.");
            _state.EnsureReplicaBacklog(AppliedOffset);
            if (newId.Length == 40 && !string.Equals(newId, _cachedReplId, StringComparison.OrdinalIgnoreCase))
            {
                Log.LogInformation("Master replication ID changed to {ReplId}", newId);
                _state.SwitchPrimaryId(newId);
                _cachedReplId = newId;
            }
            _linkState = MasterLinkState.Connected;
            Log.LogInformation("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            return;
        }
        throw new IOException($"Unexpected reply to PSYNC from master: {reply}");
    }

    private async Task FullSyncAsync(PipeReader input, string replId, long offset, CancellationToken stop)
    {
        _linkState = MasterLinkState.Transfer;
        Interlocked.Exchange(ref _transferRead, 0);
        string header;
        do header = await ReadLineAsync(input, stop).ConfigureAwait(false);
        while (header.Length == 0);
        if (header.StartsWith('-')) throw new IOException($"MASTER aborted replication with an error: {header}");
        if (!header.StartsWith('$')) throw new IOException($"Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?");
        string? mark = header.StartsWith("$EOF:", StringComparison.Ordinal) && header.Length == 5 + 40 ? header[5..] : null;
        long size = -1;
        if (mark == null && !long.TryParse(header.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out size))
            throw new IOException($"Bad bulk length from MASTER: {header}");
        // Redis's repl_transfer_size: 0 for a diskless transfer (its size is unknown), so INFO shows negative bytes left.
        Interlocked.Exchange(ref _transferSize, mark != null ? 0 : size);
        Log.LogInformation("MASTER <-> REPLICA sync: receiving {What}", mark != null ? "streamed RDB from master with EOF to disk" : $"{size} bytes from master to disk");
        Directory.CreateDirectory(_server.Options.Dir);
        string path = Path.Combine(_server.Options.Dir, $"temp-{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.ProcessId}.rdb");
        try
        {
            await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                if (mark != null) await ReceiveUntilMarkAsync(input, file, Encoding.ASCII.GetBytes(mark), stop).ConfigureAwait(false);
                else await ReceiveBytesAsync(input, file, size, stop).ConfigureAwait(false);
            }
            Log.LogInformation("MASTER <-> REPLICA sync: Flushing old data");
            _server.Loading = true;
            try
            {
                _server.Keyspace.FlushAll();
                _server.FunctionsIfCreated?.Flush();
                Log.LogInformation("MASTER <-> REPLICA sync: Loading DB in memory");
                RdbLoadResult loaded = RdbFileLoader.LoadFile(path, _server.Keyspace, new RdbLoadOptions(_server.Options, SkipExpired: false,
                    LoadFunction: code => _server.Functions.Load(code, replace: true, timeoutMs: 0, out _), Logger: _server.Logger));
                Log.LogInformation("MASTER <-> REPLICA sync: Finished with success ({Keys} keys)", loaded.KeysLoaded);
            }
            catch
            {
                _server.Keyspace.FlushAll();
                _server.FunctionsIfCreated?.Flush();
                throw;
            }
            finally
            {
                _server.Loading = false;
            }
        }
        finally
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        _cachedReplId = replId;
        _hasHistory = true;
        Interlocked.Exchange(ref _appliedOffset, offset);
        Interlocked.Exchange(ref _readOffset, offset);
        _state.AdoptPrimaryHistory(replId, offset);
        _session.Select(0);
        _linkState = MasterLinkState.Connected;
        // A Redis 7.0 primary starts the stream of a diskless transfer on the replica's first ACK.
        SendAck();
        // The AOF holds the previous data: rewrite it from the loaded keyspace (Redis's restartAOFAfterSYNC).
        _server.Aof?.StartRewrite();
    }

    private async Task ReceiveBytesAsync(PipeReader input, Stream file, long size, CancellationToken stop)
    {
        long left = size;
        while (left > 0)
        {
            ReadResult result = await input.ReadAsync(stop).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            ReadOnlySequence<byte> take = buffer.Slice(0, Math.Min(left, buffer.Length));
            foreach (ReadOnlyMemory<byte> segment in take) await file.WriteAsync(segment, stop).ConfigureAwait(false);
            left -= take.Length;
            Interlocked.Add(ref _transferRead, take.Length);
            Touch();
            input.AdvanceTo(take.End);
            if (left > 0 && result.IsCompleted) throw new IOException("I/O error trying to sync with MASTER: connection lost");
        }
    }

    private async Task ReceiveUntilMarkAsync(PipeReader input, Stream file, byte[] mark, CancellationToken stop)
    {
        byte[] tail = new byte[mark.Length];
        while (true)
        {
            ReadResult result = await input.ReadAsync(stop).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            Touch();
            // The mark is the last thing the primary sends before waiting for the ACK: look for it at the end of what arrived.
            if (buffer.Length >= mark.Length)
            {
                buffer.Slice(buffer.Length - mark.Length).CopyTo(tail);
                if (tail.AsSpan().SequenceEqual(mark))
                {
                    ReadOnlySequence<byte> body = buffer.Slice(0, buffer.Length - mark.Length);
                    foreach (ReadOnlyMemory<byte> segment in body) await file.WriteAsync(segment, stop).ConfigureAwait(false);
                    Interlocked.Add(ref _transferRead, buffer.Length);
                    input.AdvanceTo(buffer.End);
                    return;
                }
                ReadOnlySequence<byte> safe = buffer.Slice(0, buffer.Length - mark.Length);
                foreach (ReadOnlyMemory<byte> segment in safe) await file.WriteAsync(segment, stop).ConfigureAwait(false);
                Interlocked.Add(ref _transferRead, safe.Length);
                input.AdvanceTo(safe.End, buffer.End);
            }
            else input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw new IOException("I/O error trying to sync with MASTER: connection lost");
        }
    }

    private async Task ApplyStreamAsync(PipeReader input, CancellationToken stop)
    {
        var parser = new RespParser();
        byte[] pending = new byte[4096];
        int pendingUsed = 0;
        while (!stop.IsCancellationRequested)
        {
            ReadResult result = await input.ReadAsync(stop).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long before = buffer.Length;
            Touch();
            lock (_state.ApplyLock) ApplyFrames(parser, ref buffer, ref pending, ref pendingUsed);
            Interlocked.Add(ref _readOffset, before - buffer.Length);
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw new IOException("connection with master lost");
        }
    }

    /// <summary>
    /// Applies every whole command in <paramref name="buffer"/> (synchronously: expiry is frozen off on this thread meanwhile).
    /// The bytes of the commands applied are copied once per batch to <paramref name="pending"/>; what ends outside MULTI is
    /// counted in the offset and appended to this server's buffer (what chained replicas and a later promotion continue from)
    /// in one piece, and the bytes of a transaction still open stay in <paramref name="pending"/> for the next batch.
    /// </summary>
    private void ApplyFrames(RespParser parser, ref ReadOnlySequence<byte> buffer, ref byte[] pending, ref int pendingUsed)
    {
        ReadOnlySequence<byte> start = buffer;
        long complete = -1; // bytes of this batch up to the end of the last command applied outside MULTI
        long consumedTotal = 0;
        long applied = AppliedOffset;
        KeyLifetime.FreezeNow(long.MinValue);
        try
        {
            while (true)
            {
                ParseStatus status = parser.TryParse(buffer, out long consumed, out CommandArgs args, out string? error);
                if (status == ParseStatus.Incomplete) break;
                if (status != ParseStatus.Command && status != ParseStatus.Empty) throw new IOException("protocol error from master: " + error);
                if (status == ParseStatus.Command)
                {
                    // GETACK is answered with the offset applied before it (Redis's reploff is updated after a command).
                    if (args.Count >= 2 && args.Is(0, "REPLCONF"u8) && args.Is(1, "GETACK"u8))
                        SendAckAt(applied + (complete < 0 ? 0 : pendingUsed + complete));
                    else _session.Execute(args);
                }
                consumedTotal += consumed;
                buffer = buffer.Slice(consumed);
                if (!_session.InMulti) complete = consumedTotal;
            }
        }
        finally
        {
            KeyLifetime.FreezeNow(0);
            _session.Writer.Commit();
        }
        if (consumedTotal == 0) return;
        if (pendingUsed + consumedTotal > pending.Length) Array.Resize(ref pending, (int)Math.Max(pending.Length * 2L, pendingUsed + consumedTotal));
        start.Slice(0, consumedTotal).CopyTo(pending.AsSpan(pendingUsed));
        pendingUsed += (int)consumedTotal;
        if (complete < 0) return;
        int done = pendingUsed - (int)(consumedTotal - complete);
        _state.Buffer?.Append(pending.AsSpan(0, done));
        Interlocked.Add(ref _appliedOffset, done);
        pending.AsSpan(done, pendingUsed - done).CopyTo(pending);
        pendingUsed -= done;
        if (pending.Length > 1 << 20 && pendingUsed < 4096) pending = pending[..4096];
    }

    private void Touch() => Interlocked.Exchange(ref _lastIoMs, Environment.TickCount64);

    private async Task<string> ReadLineAsync(PipeReader input, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, _state.ParseInt("repl-timeout", 60))));
        while (true)
        {
            ReadResult result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition? newline = buffer.PositionOf((byte)'\n');
            if (newline != null)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, newline.Value);
                string text = Encoding.UTF8.GetString(line).TrimEnd('\r');
                input.AdvanceTo(buffer.GetPosition(1, newline.Value));
                Touch();
                return text;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw new IOException("connection with master lost during the handshake");
        }
    }

    private void SendCommand(params string[] args)
    {
        Socket? socket = _socket;
        if (socket == null) return;
        var text = new StringBuilder();
        text.Append('*').Append(args.Length).Append("\r\n");
        foreach (string a in args) text.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        lock (_writeLock)
        {
            try
            {
                socket.Send(bytes);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Log.LogDebug("Could not write to the master: {Reason}", e.Message);
            }
        }
    }
}
