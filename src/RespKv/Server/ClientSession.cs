using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Commands;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// One client connection (Redis's <c>client</c>): its state (selected database, protocol version, name)
/// and the loop that serves it over an <see cref="IDuplexPipe"/>. Per read: parse every complete frame,
/// execute each command writing its reply into the output pipe, then flush once.
/// </summary>
public sealed class ClientSession
{
    /// <summary>Replies pending beyond this many bytes end the batch early so they are flushed (and backpressure applies) first.</summary>
    private const long FlushThresholdBytes = 1024 * 1024;

    private readonly RespParser _parser = new();

    /// <summary>A session of <paramref name="server"/> whose replies go to <paramref name="output"/>.</summary>
    /// <param name="server">The shared server state.</param>
    /// <param name="output">Where replies are written (the connection's PipeWriter, or a buffer in tests and AOF replay).</param>
    /// <param name="remoteAddress">Peer address as CLIENT LIST prints it (<c>ip:port</c>).</param>
    /// <param name="localAddress">Local address (<c>laddr</c>).</param>
    public ClientSession(RespServer server, IBufferWriter<byte> output, string remoteAddress = "", string localAddress = "")
    {
        Server = server;
        Writer = _replies = new RespWriter(output);
        _pause = server.Clients.Pause;
        _monitorFeed = server.Clients.Monitors;
        _latency = server.Latency;
        Id = server.Clients.NextId();
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        Database = server.Keyspace[0];
        // As Redis 7.0's createClient: a connection made while the default user has no password is
        // authenticated for good (setting requirepass later does not log it out).
        Authenticated = server.Options.RequirePass.Length == 0;
        CommandCounters = server.CommandStats.NewCounters();
        Writer.ErrorSink = server.CommandStats;
    }

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
    public bool AuthRequired => !Authenticated && Server.Options.RequirePass.Length > 0;

    /// <summary>This session's per-command counters (INFO commandstats), folded into <see cref="RespServer.CommandStats"/> at disconnect.</summary>
    public CommandCounters CommandCounters { get; }

    /// <summary>Stopwatch timestamp where the next command's time starts, while <see cref="ProcessReceived"/> runs a batch; 0 outside one.</summary>
    private long _commandClock;

    /// <summary><see cref="RespWriter.ErrorsWritten"/> after the last command ran or was rejected (Redis's <c>prev_err_count</c>).</summary>
    private long _errorMark;

    /// <summary>The server.</summary>
    public RespServer Server { get; }

    /// <summary>
    /// Reply writer (its <see cref="RespWriter.Protocol"/> is the connection's RESP version). While CLIENT REPLY
    /// OFF or SKIP suppresses replies it is a writer whose output is discarded (error replies still count in
    /// INFO errorstats, as in Redis).
    /// </summary>
    public RespWriter Writer { get; private set; }

    /// <summary>The writer into the connection (<see cref="Writer"/> unless replies are suppressed).</summary>
    private readonly RespWriter _replies;

    /// <summary>The writer used while replies are suppressed, created on first use.</summary>
    private RespWriter? _discarded;

    /// <summary>CLIENT REPLY state.</summary>
    private ClientReplyMode _replyMode;

    /// <summary>Error replies written, suppressed ones included (the counter behind <c>failed_calls</c> and <c>prev_err_count</c>).</summary>
    private long ErrorsWritten => _replies.ErrorsWritten + (_discarded?.ErrorsWritten ?? 0);

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
    private void AdvanceReplyMode()
    {
        if (_replyMode == ClientReplyMode.Skip) SetReplyMode(ClientReplyMode.On);
        else if (_replyMode == ClientReplyMode.SkipNext) SetReplyMode(ClientReplyMode.Skip);
    }

    private void UseWriter(bool discard)
    {
        RespWriter next = discard ? _discarded ??= new RespWriter(new DiscardingBufferWriter()) { ErrorSink = Server.CommandStats } : _replies;
        if (ReferenceEquals(next, Writer)) return;
        next.Protocol = Writer.Protocol;
        Writer = next;
    }

    /// <summary>True for a client in MONITOR mode.</summary>
    public bool IsMonitor { get; private set; }

    /// <summary>CLIENT NO-EVICT: the client is exempt from client eviction (flag <c>e</c> in CLIENT LIST). RespKv does not evict clients, so the flag only shows.</summary>
    public bool NoEvict { get; set; }

    private System.Collections.Concurrent.ConcurrentQueue<byte[]>? _monitorLines;
    private long _monitorQueuedBytes;

    /// <summary>
    /// MONITOR: from now on this client receives a line for every command run (<see cref="MonitorFeed"/>); false
    /// when it already monitors. Its own commands that read or write keys are then rejected
    /// (<c>-ERR Replica can't interact with the keyspace</c>), as in Redis.
    /// </summary>
    internal bool StartMonitor()
    {
        if (IsMonitor) return false;
        _monitorLines ??= new System.Collections.Concurrent.ConcurrentQueue<byte[]>();
        // Lines a feeder queued while an earlier MONITOR was being RESET are stale.
        while (_monitorLines.TryDequeue(out _)) { }
        Interlocked.Exchange(ref _monitorQueuedBytes, 0);
        IsMonitor = true;
        Server.Clients.Monitors.Add(this);
        return true;
    }

    /// <summary>RESET's part: leaves MONITOR mode and CLIENT REPLY OFF/SKIP (Redis's clearClientConnectionState).</summary>
    internal void ClearConnectionModes()
    {
        if (IsMonitor)
        {
            Server.Clients.Monitors.Remove(this);
            IsMonitor = false;
        }
        SetReplyMode(ClientReplyMode.On);
    }

    /// <summary>
    /// Queues a MONITOR line (called on the thread of the client that ran the command) and wakes this session's
    /// read so its own loop writes it. A monitor whose unsent lines reach the <c>normal</c> class's hard output-buffer
    /// limit is closed.
    /// </summary>
    internal void EnqueueMonitorLine(byte[] line, ClientSession source)
    {
        if (!IsMonitor || CloseRequested) return;
        _monitorLines!.Enqueue(line);
        long queued = Interlocked.Add(ref _monitorQueuedBytes, line.Length + 3);
        long hard = Server.Options.ClientOutputBufferLimit.Normal.HardBytes;
        if (hard > 0 && queued + PendingReplyBytes >= hard)
        {
            Server.Logger.LogWarning("Client id={Id} addr={Address} closed for overcoming of output buffer limits.", Id, RemoteAddress);
            _overLimit = true;
            Close();
            return;
        }
        // Its own commands are drained after its batch anyway.
        if (!ReferenceEquals(source, this)) _input?.CancelPendingRead();
    }

    /// <summary>
    /// Writes the queued MONITOR lines as simple strings (on this session's loop), through <see cref="Writer"/>: while
    /// CLIENT REPLY OFF or SKIP holds, they are dropped, as Redis drops every reply to such a client.
    /// </summary>
    private void DrainMonitorLines()
    {
        while (_monitorLines!.TryDequeue(out byte[]? line))
        {
            Interlocked.Add(ref _monitorQueuedBytes, -(line.Length + 3));
            Writer.WriteSimpleString(line);
        }
    }

    // The server-wide objects the command path consults on every command, held here to save the loads.
    private readonly ClientPause _pause;
    private readonly MonitorFeed _monitorFeed;
    private readonly LatencyMonitor _latency;

    /// <summary>Set when the command just parsed was held back by CLIENT PAUSE: the batch stops before it.</summary>
    private bool _postponed;

    /// <summary>True while the client's next command waits for a CLIENT PAUSE to end (CLIENT LIST flag <c>b</c>, INFO <c>blocked_clients</c>).</summary>
    public bool IsBlocked => Volatile.Read(ref _postponed);

    /// <summary>
    /// Waits, without blocking a thread, until the CLIENT PAUSE in force ends or the client is closed. The client
    /// is not idle meanwhile (Redis does not time out blocked clients), so <see cref="LastInteractionMs"/> keeps moving.
    /// </summary>
    private async Task WaitForPauseEndAsync(CancellationToken cancellation)
    {
        ClientPause pause = Server.Clients.Pause;
        while (!CloseRequested && pause.IsPaused)
        {
            LastInteractionMs = Environment.TickCount64;
            Task released = pause.Released;
            if (released.IsCompleted) break;
            await Task.WhenAny(released, Task.Delay(100, cancellation)).ConfigureAwait(false);
            cancellation.ThrowIfCancellationRequested();
        }
        LastInteractionMs = Environment.TickCount64;
    }

    /// <summary>Unique client id (CLIENT ID).</summary>
    public long Id { get; }

    /// <summary>Client name (CLIENT SETNAME / HELLO SETNAME), or null.</summary>
    public string? Name { get; set; }

    /// <summary>Library name and version (CLIENT SETINFO LIB-NAME / LIB-VER), or null.</summary>
    public string? LibName { get; set; }

    /// <summary>Library version (CLIENT SETINFO LIB-VER), or null.</summary>
    public string? LibVersion { get; set; }

    /// <summary>Peer address, <c>ip:port</c>.</summary>
    public string RemoteAddress { get; }

    /// <summary>Local address, <c>ip:port</c>.</summary>
    public string LocalAddress { get; }

    /// <summary>The selected database.</summary>
    public Database Database { get; private set; }

    /// <summary>When the connection was accepted (UTC).</summary>
    public DateTime ConnectedAt { get; } = DateTime.UtcNow;

    /// <summary>Environment.TickCount64 at the last command, in ms (CLIENT LIST <c>idle</c>, <c>timeout</c>).</summary>
    public long LastInteractionMs { get; private set; } = Environment.TickCount64;

    /// <summary>Full name of the last command run (CLIENT LIST <c>cmd</c>), e.g. <c>client|list</c>; <c>exec</c> while EXEC replays its queue, as in Redis.</summary>
    public string LastCommand => (ExecCommand ?? CurrentCommand)?.FullName ?? "NULL";

    /// <summary>The EXEC command while it replays the queue (<see cref="CurrentCommand"/> is then each queued command), else null.</summary>
    internal CommandInfo? ExecCommand { get; set; }

    /// <summary>The command being (or last) executed: its table row.</summary>
    public CommandInfo? CurrentCommand { get; internal set; }

    /// <summary>Set when the connection must close after the replies already written (QUIT, protocol error, idle timeout).</summary>
    public bool CloseRequested
    {
        get => Volatile.Read(ref _closeRequested);
        set => Volatile.Write(ref _closeRequested, value);
    }

    private bool _closeRequested;
    private PipeReader? _input;
    private PipeWriter? _output;

    /// <summary>Environment.TickCount64 when the pending replies first reached the soft output-buffer limit, or 0.</summary>
    private long _softLimitSinceMs;

    /// <summary>Set when the output-buffer limit closed the client: its transport is aborted, not drained.</summary>
    private bool _overLimit;

    /// <summary>
    /// Closes the connection from another thread (idle <c>timeout</c>, output-buffer soft limit, later CLIENT KILL):
    /// marks it closing and wakes its pending read or flush, so the session ends without waiting for the client to send anything.
    /// </summary>
    public void Close()
    {
        CloseRequested = true;
        _input?.CancelPendingRead();
        // A client that does not read its replies leaves the session waiting in FlushAsync: wake that too.
        _output?.CancelPendingFlush();
    }

    /// <summary>Commands executed by this client.</summary>
    public long CommandsProcessed { get; private set; }

    /// <summary>Successful key lookups (INFO <c>keyspace_hits</c>).</summary>
    public long KeyspaceHits { get; private set; }

    /// <summary>Failed key lookups (INFO <c>keyspace_misses</c>).</summary>
    public long KeyspaceMisses { get; private set; }

    /// <summary>Bytes received.</summary>
    public long NetInputBytes { get; private set; }

    /// <summary>Bytes of replies written.</summary>
    public long NetOutputBytes => _replies.BytesWritten;

    /// <summary>Scratch list for commands that collect entries (SCAN, KEYS); cleared by its user.</summary>
    internal List<KeyEntry> EntryScratch { get; } = new();

    /// <summary>Scratch list for multi-key reads (MGET); cleared by its user.</summary>
    internal List<KeyEntry?> NullableEntryScratch { get; } = new();

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

    /// <summary>
    /// The set of shards (a mask over the selected database) holding the current command's key arguments,
    /// located by the command table's key positions (first, last, step): what a multi-key command locks
    /// or snapshots.
    /// </summary>
    public ulong KeyShardMask(in CommandArgs args) => KeyShardMask(CurrentCommand!, args);

    /// <summary>The shards (a mask over one database) of <paramref name="command"/>'s key arguments in <paramref name="args"/>, by the table's key positions.</summary>
    public static ulong KeyShardMask(CommandInfo command, in CommandArgs args) => KeyShardMask(command, args, out _);

    /// <summary>As <see cref="KeyShardMask(CommandInfo, in CommandArgs)"/>; <paramref name="keyCount"/> is the number of key arguments.</summary>
    public static ulong KeyShardMask(CommandInfo command, in CommandArgs args, out int keyCount)
    {
        KeyIndexRange keys = command.KeyIndexes(args.Count);
        ulong mask = 0;
        keyCount = 0;
        for (int i = keys.First; i <= keys.Last; i += keys.Step)
        {
            mask |= Database.ShardMaskOf(args[i]);
            keyCount++;
        }
        return mask;
    }

    /// <summary>Replies <c>-ERR wrong number of arguments for '…' command</c> for the current command.</summary>
    public void WriteArityError() => Writer.WriteError(CommandErrors.WrongArity(CurrentCommand!));

    /// <summary>Counts a key lookup for INFO's hit/miss counters.</summary>
    public void CountLookup(bool hit)
    {
        if (hit) KeyspaceHits++;
        else KeyspaceMisses++;
    }

    /// <summary>
    /// Serves the connection until the peer closes it, a protocol error, QUIT, or <paramref name="cancellation"/>.
    /// </summary>
    public async Task RunAsync(IDuplexPipe transport, CancellationToken cancellation = default)
    {
        PipeReader input = transport.Input;
        PipeWriter output = transport.Output;
        _input = input;
        _output = output;
        try
        {
            while (!CloseRequested)
            {
                ValueTask<ReadResult> read = input.ReadAsync(cancellation);
                // Resumed by the AOF writer thread (which has just sent this batch's replies): commands already received
                // run on the thread pool instead, never on the writer (see AppendOnlyFile.IsWriterThread). Input still to
                // come arrives on the socket's thread, as usual.
                if (read.IsCompleted && Persistence.AppendOnlyFile.IsWriterThread) await Task.Yield();
                ReadResult result = await read.ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                Persistence.AppendOnlyFile? aof = Server.Aof;
                if (aof != null) Persistence.AppendOnlyFile.ResetThreadAppendEnd();
                SequencePosition consumed = ProcessReceived(buffer);
                ReadOnlySequence<byte> rest = buffer.Slice(consumed);
                NetInputBytes += buffer.Length - rest.Length;
                // Stopped early to flush a large reply backlog, or before a command CLIENT PAUSE holds back: mark
                // only what was consumed as examined, so the next read returns the remaining commands at once.
                bool stoppedEarly = (StoppedForFlush || _postponed) && !rest.IsEmpty;
                input.AdvanceTo(consumed, stoppedEarly ? consumed : buffer.End);
                if (IsMonitor) DrainMonitorLines();
                // Replies to writes leave only once their records are written to the AOF — and fsynced under
                // appendfsync always (group commit: the AOF writer thread writes everything pending, then resumes us).
                if (aof != null && Persistence.AppendOnlyFile.ThreadAppendEnd is long appended and > 0)
                    await aof.WaitAsync(appended, _durabilityWaiter ??= new()).ConfigureAwait(false);
                if (_replies.HasPending)
                {
                    Volatile.Write(ref _flushingBytes, _replies.PendingBytes);
                    _replies.Commit();
                    FlushResult flush = await output.FlushAsync(cancellation).ConfigureAwait(false);
                    Volatile.Write(ref _flushingBytes, 0);
                    _softLimitSinceMs = 0;
                    if (flush.IsCompleted || flush.IsCanceled) break;
                }
                if (_postponed)
                {
                    await WaitForPauseEndAsync(cancellation).ConfigureAwait(false);
                    _postponed = false;
                    continue;
                }
                // A cancelled read is either Close() (which sets CloseRequested first) or a wake-up for MONITOR lines,
                // possibly arriving just after RESET ended monitoring: only the first ends the session.
                if ((result.IsCompleted && !stoppedEarly) || (result.IsCanceled && CloseRequested)) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException
                                      or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            Server.Logger.LogDebug("Client id={Id} addr={Address} closed: {Reason}", Id, RemoteAddress, e.Message);
        }
        catch (Exception e)
        {
            // A defect in a command must not hang the client or take the server down. Its reply may be
            // half-written, so the stream cannot be trusted: log the failure and close this connection.
            Server.Logger.LogError(e, "Closing client id={Id} addr={Address} after an internal error in '{Command}'",
                Id, RemoteAddress, LastCommand);
        }
        finally
        {
            DiscardTransaction();
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync(_overLimit ? new Microsoft.AspNetCore.Connections.ConnectionAbortedException("output buffer limit") : null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Parses and executes every complete frame in <paramref name="buffer"/>; returns how far it consumed.
    /// A protocol error writes Redis's error reply and requests close.
    /// </summary>
    public SequencePosition ProcessReceived(ReadOnlySequence<byte> buffer)
    {
        _commandClock = Stopwatch.GetTimestamp();
        try
        {
            return ProcessFrames(buffer);
        }
        finally
        {
            _commandClock = 0;
        }
    }

    private SequencePosition ProcessFrames(ReadOnlySequence<byte> buffer)
    {
        while (!CloseRequested && !StoppedForFlush)
        {
            _parser.Unauthenticated = AuthRequired;
            ParseStatus status = _parser.TryParse(buffer, out long consumed, out CommandArgs args, out string? error);
            switch (status)
            {
                case ParseStatus.Command:
                    Execute(args);
                    if (_postponed) return buffer.Start;
                    if (_replyMode != ClientReplyMode.On) AdvanceReplyMode();
                    buffer = buffer.Slice(consumed);
                    CheckOutputBufferLimit(Environment.TickCount64);
                    break;
                case ParseStatus.Empty:
                    buffer = buffer.Slice(consumed);
                    break;
                case ParseStatus.Incomplete:
                    return buffer.Start;
                default:
                    Writer.WriteError(error!);
                    CloseRequested = true;
                    Server.Logger.LogDebug("Protocol error from client id={Id} addr={Address}: {Error}", Id, RemoteAddress, error);
                    return buffer.Start;
            }
        }
        return buffer.Start;
    }

    /// <summary>This session's reusable wait for the AOF's fsync (appendfsync always), created on first use.</summary>
    private Persistence.DurabilityWaiter? _durabilityWaiter;

    /// <summary>True for the session that replays the AOF at start-up: it runs while <see cref="RespServer.Loading"/> is set.</summary>
    internal bool ReplaysAof { get; init; }

    /// <summary>
    /// Redis's <c>writeCommandsDeniedByDiskError</c> test in <c>processCommand</c>: while the AOF cannot be written,
    /// write commands, PING, and EXEC of a transaction that queued a write are refused.
    /// </summary>
    private bool DeniedByDiskError(CommandInfo command)
    {
        if (command.IsWrite) return true;
        if (command.Parent != null) return false;
        if (command.Name == "ping") return true;
        return command.Name == "exec" && InMulti && (_transaction!.QueuedFlags & CommandFlags.Write) != 0;
    }

    /// <summary>Bytes of replies handed to the transport by the flush in progress (0 when none is waiting).</summary>
    private long _flushingBytes;

    /// <summary>
    /// Reply bytes produced but not yet accepted by the transport: the batch being written plus a flush still
    /// waiting for the peer to read (Redis's output-buffer memory of a client).
    /// </summary>
    public long PendingReplyBytes => _replies.PendingBytes + Volatile.Read(ref _flushingBytes);

    /// <summary>
    /// Enforces <c>client-output-buffer-limit normal</c> (Redis's <c>checkClientOutputBufferLimits</c>): closes the
    /// client, dropping its unsent replies, when <see cref="PendingReplyBytes"/> reaches the hard limit, or has
    /// stayed at or above the soft limit for longer than its seconds. Checked after each command and by the
    /// server cron (a client that stops reading leaves its session waiting on the flush; RespKv then stops
    /// reading its requests, so the backlog cannot grow past one batch, about 1 MB, plus transport buffers).
    /// Returns true when it closed the client.
    /// </summary>
    internal bool CheckOutputBufferLimit(long nowMs)
    {
        OutputBufferLimit limit = Server.Options.ClientOutputBufferLimit.Normal;
        if (limit.HardBytes == 0 && limit.SoftBytes == 0) return false;
        long used = PendingReplyBytes;
        bool exceeded = limit.HardBytes > 0 && used >= limit.HardBytes;
        if (!exceeded && limit.SoftBytes > 0 && used >= limit.SoftBytes)
        {
            if (_softLimitSinceMs == 0) _softLimitSinceMs = nowMs;
            else exceeded = nowMs - _softLimitSinceMs > limit.SoftSeconds * 1000;
        }
        else if (!exceeded) _softLimitSinceMs = 0;
        if (!exceeded || CloseRequested) return false;
        Server.Logger.LogWarning("Client id={Id} addr={Address} closed for overcoming of output buffer limits.", Id, RemoteAddress);
        // Unsent replies are dropped: the transport is aborted instead of drained (see RunAsync's end).
        _overLimit = true;
        Close();
        return true;
    }

    /// <summary>The cron's part of <see cref="CheckOutputBufferLimit"/>: only while the session waits on a flush (it runs no command then).</summary>
    internal bool CheckOutputBufferLimitWhileFlushing(long nowMs) => Volatile.Read(ref _flushingBytes) > 0 && CheckOutputBufferLimit(nowMs);

    /// <summary>True when more than ~1 MB of replies waits to be flushed: the batch ends early.</summary>
    private bool StoppedForFlush => _replies.PendingBytes > FlushThresholdBytes;

    /// <summary>
    /// Looks the command up in the table, checks its arity, and runs it — replying with Redis's exact
    /// errors for an unknown command, an unknown subcommand, or a wrong number of arguments. Inside MULTI
    /// a valid command is copied into the queue and answered <c>+QUEUED</c> (unless its table row says it
    /// runs at once: MULTI EXEC DISCARD WATCH QUIT RESET), and a rejected one also makes EXEC abort, as in
    /// Redis 7.0's <c>processCommand</c>.
    /// </summary>
    public void Execute(in CommandArgs args)
    {
        LastInteractionMs = Environment.TickCount64;
        CommandTable table = Server.Commands;
        CommandInfo? command = table.Lookup(args[0]);
        if (command == null)
        {
            Reject(CommandErrors.UnknownCommand(args));
            return;
        }
        if (command.Subcommands != null && args.Count > 1)
        {
            CommandInfo? sub = table.LookupSubcommand(command, args[1]);
            if (sub == null)
            {
                Reject(CommandErrors.UnknownSubcommand(args[1], command.Name));
                return;
            }
            command = sub;
        }
        if (!command.AcceptsArgumentCount(args.Count) || command.Handler == null)
        {
            RejectArity(command);
            return;
        }
        if ((command.Flags & CommandFlags.NoAuth) == 0 && AuthRequired)
        {
            if (command.Parent == null && command.Name == "exec") RejectExec(System.Text.Encoding.ASCII.GetString(AuthCommands.NoAuthError), command);
            else Reject(AuthCommands.NoAuthError, command);
            return;
        }
        if (IsMonitor && (command.Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) != 0)
        {
            Reject("ERR Replica can't interact with the keyspace"u8, command);
            return;
        }
        if (_pause.IsPaused && _pause.MustWait(command, this))
        {
            // CLIENT LIST shows the held-back command as cmd=, with flag b (Redis blocks the client, BLOCKED_POSTPONE).
            CurrentCommand = command;
            _postponed = true;
            return;
        }
        long maxMemory = Server.Options.MaxMemory;
        if (maxMemory != 0 && !Server.Keyspace.Limiter.MakeRoom(maxMemory, Server.Options.MaxMemoryPolicy, Server.Options.MaxMemorySamples)
            && RejectsWhenOutOfMemory(command))
        {
            if (command.Parent == null && command.Name == "exec") RejectExec(CommandErrors.OutOfMemory, command);
            else Reject(System.Text.Encoding.ASCII.GetBytes(CommandErrors.OutOfMemory), command);
            return;
        }
        if (Server.WriteLog is { WriteError: { } diskError } && DeniedByDiskError(command))
        {
            string misconf = "MISCONF Errors writing to the AOF file: " + diskError;
            if (command.Parent == null && command.Name == "exec") RejectExec(misconf, command);
            else Reject(Encoding.UTF8.GetBytes(misconf), command);
            return;
        }
        if (Server.Loading && !ReplaysAof && (command.Flags & CommandFlags.Loading) == 0)
        {
            Reject("LOADING RespKv is loading the dataset in memory"u8, command);
            return;
        }
        if (InMulti && (command.Flags & CommandFlags.RunsInMulti) == 0)
        {
            CurrentCommand = command;
            if ((command.Flags & CommandFlags.NoMulti) != 0)
            {
                Reject("ERR Command not allowed inside a transaction"u8, command);
                return;
            }
            _transaction!.Queue(command, args);
            Writer.WriteSimpleString("QUEUED"u8);
            return;
        }
        Dispatch(command, args);
    }

    /// <summary>
    /// Whether <paramref name="command"/> is refused while memory is over maxmemory (Redis 7.0's processCommand): a
    /// <c>denyoom</c> command; EXEC of a transaction that queued one; and inside MULTI any command but EXEC, DISCARD,
    /// QUIT and RESET (queuing itself takes memory).
    /// </summary>
    private bool RejectsWhenOutOfMemory(CommandInfo command)
    {
        if ((command.Flags & CommandFlags.DenyOom) != 0) return true;
        bool top = command.Parent == null;
        if (top && command.Name == "exec") return InMulti && (_transaction!.QueuedFlags & CommandFlags.DenyOom) != 0;
        return InMulti && !(top && command.Name is "discard" or "quit" or "reset");
    }

    /// <summary>Runs <paramref name="command"/>'s handler (arity already checked): the path of a direct command and of each command EXEC replays.</summary>
    /// <remarks>
    /// Counts the call for INFO commandstats and the slow log (except while replaying the AOF, as Redis). Its time is measured with one
    /// <see cref="Stopwatch.GetTimestamp"/> per command (a clock read costs ~25 ns, as much as a whole PING):
    /// within a read's batch a command's time runs from the end of the previous command (or the batch start),
    /// so it includes parsing and looking up this command — RespKv's difference from Redis, which times
    /// <c>call()</c> alone with two clock reads. Outside a batch (direct <see cref="Execute"/>) it reads the clock twice.
    /// A call is failed when
    /// error replies were written since the previous command ran or was rejected (Redis 7.0's
    /// <c>incrCommandStatsOnError</c>: so EXEC is failed only for an error after its last queued command,
    /// e.g. EXECABORT), and the slow log.
    /// </remarks>
    internal void Dispatch(CommandInfo command, in CommandArgs args)
    {
        CurrentCommand = command;
        if (ReplaysAof)
        {
            // Redis's call() skips command stats, the slow log and latency samples while loading the AOF
            // (update_command_stats = !isAOFLoadingContext()), and the replay logs nothing: locks and the handler alone.
            Run(command, args, log: null);
            return;
        }
        CommandsProcessed++;
        long start = _commandClock != 0 ? _commandClock : Stopwatch.GetTimestamp();
        Run(command, args, Server.WriteLog);
        long end = Stopwatch.GetTimestamp();
        long elapsed = end - start;
        if (_commandClock != 0) _commandClock = end;
        long errors = ErrorsWritten;
        CommandCounters.Ran(command, elapsed, args.Count, errors != _errorMark);
        _errorMark = errors;
        if ((command.Flags & CommandFlags.SkipSlowlog) == 0 && Server.SlowLog.IsSlow(elapsed))
            Server.SlowLog.Add(this, args, elapsed);
        if (_latency.IsLatent(elapsed)) _latency.AddCommandSample(command, elapsed);
        if (_monitorFeed.Active) _monitorFeed.Feed(this, command, args);
    }

    /// <summary>The records this client's current write command (or EXEC) propagates to <see cref="RespServer.WriteLog"/>.</summary>
    public PropagationBuffer Propagation { get; } = new();

    /// <summary>
    /// For a handler whose effect differs from its request (Redis's <c>rewriteClientCommandVector</c>): marks the
    /// current command's default record replaced and returns <see cref="Propagation"/>, to which the handler adds the
    /// effect's own records; null when no write log is set (nothing is recorded).
    /// </summary>
    public PropagationBuffer? ReplacePropagation()
    {
        if (Server.WriteLog == null) return null;
        Propagation.Replace();
        return Propagation;
    }

    /// <summary>
    /// The executor's core (Redis's <c>call()</c>): runs the handler of <paramref name="command"/>, and for a write
    /// command owns its locking and propagation, with or without a write log — handlers take no lock of their own.
    /// <list type="bullet">
    /// <item>A read runs lock-free (values are immutable once published; multi-key reads take seqlock snapshots).</item>
    /// <item>A write first locks every shard it touches, from the command table's key positions, in ascending order:
    /// its keys' shards in the selected database (flagged as a multi-key write when it names more than one key, so no
    /// lock-free reader sees half of it); every shard of the database for a write without key positions (FLUSHDB);
    /// every database for <see cref="CommandFlags.AllDatabases"/> (FLUSHALL, SWAPDB); the key shards in every database
    /// for <see cref="CommandFlags.OtherDatabases"/> (COPY … DB, MOVE). Inside EXEC, the transaction's atomic unit
    /// already holds them.</item>
    /// <item>Whether it changed anything is read from the held shards' change counters (<see cref="KeyspaceShard.Changes"/>,
    /// moved only by <see cref="KeyspaceShard.Mutated"/>): a change with no error reply is recorded as the request
    /// itself unless the handler replaced its record (<see cref="PropagationBuffer.Replace"/>), and appended to
    /// <paramref name="log"/> before the locks are released, so log order equals apply order for any two writes of a key.
    /// An EXEC appends all its records as one unit.</item>
    /// </list>
    /// </summary>
    private void Run(CommandInfo command, in CommandArgs args, IWriteLog? log)
    {
        if (!command.IsWrite)
        {
            command.Handler!(this, args);
            return;
        }
        PropagationBuffer records = Propagation;
        if (ExecCommand != null)
        {
            records.NextCommand();
            TransactionLocks unit = Transaction.Locks;
            long before = unit.Changes;
            RunHandler(command, args, out long errors);
            Record(records, log, args, unit.Changes != before, errors);
            return;
        }
        records.Clear();
        if ((command.Flags & (CommandFlags.AllDatabases | CommandFlags.OtherDatabases)) != 0)
        {
            TransactionLocks locks = Transaction.Locks;
            global::RespKv.Server.Transaction.AddCommandLocks(locks, Server.Keyspace, Database, command, args);
            locks.Acquire();
            try
            {
                long before = locks.Changes;
                RunHandler(command, args, out long errors);
                Record(records, log, args, locks.Changes != before, errors);
                if (log != null && records.Count > 0) log.Append(records);
            }
            finally
            {
                locks.Release();
            }
        }
        else
        {
            ulong mask = global::RespKv.Server.Transaction.ShardsOf(command, args, out bool multiKey);
            Database db = Database;
            using (multiKey ? db.LockShards(mask) : db.LockKeyShard(mask))
            {
                long before = db.ChangesIn(mask);
                RunHandler(command, args, out long errors);
                Record(records, log, args, db.ChangesIn(mask) != before, errors);
                if (log != null && records.Count > 0) log.Append(records);
            }
        }
        records.Clear();
    }

    /// <summary>Runs the handler; <paramref name="errorsBefore"/> is the error count before it (a write that replied an error is not recorded).</summary>
    private void RunHandler(CommandInfo command, in CommandArgs args, out long errorsBefore)
    {
        errorsBefore = Writer.ErrorsWritten;
        command.Handler!(this, args);
    }

    /// <summary>Adds the request as its own record when it changed the keyspace, replied no error and was not replaced; nothing without a log.</summary>
    private void Record(PropagationBuffer records, IWriteLog? log, in CommandArgs args, bool changed, long errorsBefore)
    {
        if (log != null && changed && !records.Replaced && Writer.ErrorsWritten == errorsBefore) records.Add(Database.Index, args);
    }

    /// <summary>After a rejection (an error path): the next command's time starts now, not at the end of the last command that ran.</summary>
    private void RestartCommandClock()
    {
        if (_commandClock != 0) _commandClock = Stopwatch.GetTimestamp();
    }

    /// <summary>Replies a rejection error; inside MULTI it also dooms the transaction (Redis's <c>flagTransaction</c>).</summary>
    /// <remarks><paramref name="command"/>, when known, counts a <c>rejected_calls</c> (Redis's <c>rejectCommand</c> with <c>c->cmd</c> set).</remarks>
    private void Reject(ReadOnlySpan<byte> error, CommandInfo? command = null)
    {
        Writer.WriteError(error);
        if (command != null) CommandCounters.CountRejection(command);
        _errorMark = ErrorsWritten;
        RestartCommandClock();
        if (InMulti) _transaction!.Aborted = true;
    }

    /// <summary>
    /// The wrong-arity rejection. For EXEC, inside MULTI or not, Redis (processCommand's rejectCommand →
    /// execCommandAbort) answers <c>-EXECABORT Transaction discarded because of: wrong number of arguments for
    /// 'exec' command</c> and discards the transaction state, watched keys included (<see cref="RejectExec"/>).
    /// </summary>
    private void RejectArity(CommandInfo command)
    {
        string error = CommandErrors.WrongArity(command);
        if (command.Parent == null && command.Name == "exec") RejectExec(error["ERR ".Length..], command);
        else Reject(System.Text.Encoding.UTF8.GetBytes(error), command);
    }

    /// <summary>
    /// A rejected EXEC (Redis's <c>rejectCommand</c> → <c>execCommandAbort</c>): <c>-EXECABORT Transaction discarded
    /// because of: </c> and <paramref name="reason"/> (the error without <c>ERR </c>), discarding the transaction and every
    /// WATCH; counted as a rejected call of <paramref name="command"/>.
    /// </summary>
    private void RejectExec(string reason, CommandInfo command)
    {
        Writer.WriteError("EXECABORT Transaction discarded because of: " + reason);
        CommandCounters.CountRejection(command);
        _errorMark = ErrorsWritten;
        RestartCommandClock();
        DiscardTransaction();
    }
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

/// <summary>Redis's generic error replies, with its exact texts (server.c, networking.c, object.c).</summary>
public static class CommandErrors
{
    /// <summary><c>-ERR syntax error</c>.</summary>
    public const string Syntax = "ERR syntax error";

    /// <summary><c>-OOM command not allowed when used memory &gt; 'maxmemory'.</c> (Redis's <c>shared.oomerr</c>).</summary>
    public const string OutOfMemory = "OOM command not allowed when used memory > 'maxmemory'.";

    /// <summary><c>-WRONGTYPE …</c> for a command against a key of another type.</summary>
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

    /// <summary><c>-ERR value is not an integer or out of range</c>.</summary>
    public const string NotInteger = "ERR value is not an integer or out of range";

    /// <summary><c>-ERR value is out of range, value must between …</c>: an integer argument beyond 32 bits (Redis's <c>getIntFromObjectOrReply</c>).</summary>
    public const string NotInt32Range = "ERR value is out of range, value must between -2147483648 and 2147483647";

    /// <summary><c>-ERR value is not a valid float</c>.</summary>
    public const string NotFloat = "ERR value is not a valid float";

    /// <summary><c>-ERR no such key</c>.</summary>
    public const string NoSuchKey = "ERR no such key";

    /// <summary><c>-ERR DB index is out of range</c>.</summary>
    public const string DbIndexOutOfRange = "ERR DB index is out of range";

    /// <summary><c>-ERR wrong number of arguments for 'get' command</c> (subcommands: <c>'config|get'</c>).</summary>
    public static string WrongArity(CommandInfo command) => $"ERR wrong number of arguments for '{command.FullName}' command";

    /// <summary>
    /// <c>-ERR unknown command 'foo', with args beginning with: 'a' 'b' </c>: the name up to 128 bytes, then
    /// each argument quoted while the list is under 128 bytes (each cut to what remains of 128), as Redis does.
    /// </summary>
    public static byte[] UnknownCommand(in CommandArgs args)
    {
        var text = new List<byte>(256);
        text.AddRange("ERR unknown command '"u8);
        AddCString(text, args[0], 128);
        text.AddRange("', with args beginning with: "u8);
        int start = text.Count;
        for (int i = 1; i < args.Count && text.Count - start < 128; i++)
        {
            text.Add((byte)'\'');
            AddCString(text, args[i], 128 - (text.Count - 1 - start));
            text.AddRange("' "u8);
        }
        return text.ToArray();
    }

    /// <summary><c>-ERR unknown subcommand 'foo'. Try CONFIG HELP.</c></summary>
    public static byte[] UnknownSubcommand(ReadOnlySpan<byte> subcommand, string container)
    {
        var text = new List<byte>(128);
        text.AddRange("ERR unknown subcommand '"u8);
        AddCString(text, subcommand, 128);
        text.AddRange(Encoding.ASCII.GetBytes($"'. Try {container.ToUpperInvariant()} HELP."));
        return text.ToArray();
    }

    /// <summary>Appends <paramref name="value"/> as C's <c>%.*s</c> would: at most <paramref name="max"/> bytes, stopping at a NUL.</summary>
    private static void AddCString(List<byte> text, ReadOnlySpan<byte> value, int max)
    {
        int nul = value.IndexOf((byte)0);
        if (nul >= 0) value = value[..nul];
        if (max < 0) max = 0;
        if (value.Length > max) value = value[..max];
        foreach (byte b in value) text.Add(b);
    }
}
