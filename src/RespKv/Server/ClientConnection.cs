using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// A client's connection loop over an <see cref="IDuplexPipe"/>: per read, parse every complete frame, hand each
/// command to the client's <see cref="CommandExecutor"/> (its reply goes into the output pipe), drain the
/// <see cref="ClientOutbox"/>, wait for the AOF when the batch wrote (group commit), then flush once. It also enforces
/// the output-buffer limits, holds commands back while CLIENT PAUSE is in force, and ends on QUIT, a protocol error,
/// <see cref="ClientSession.Close"/> or the peer closing.
/// </summary>
public sealed class ClientConnection
{
    /// <summary>Replies pending beyond this many bytes end the batch early so they are flushed (and backpressure applies) first.</summary>
    private const long FlushThresholdBytes = 1024 * 1024;

    private readonly ClientSession _client;
    private readonly RespParser _parser = new();
    private readonly PipelinePrefetch _prefetch = new();
    private PipeReader? _input;
    private PipeWriter? _output;

    /// <summary>Set when the command just parsed was held back by CLIENT PAUSE: the batch stops before it.</summary>
    private bool _postponed;

    /// <summary>Set when the command just run blocked the client on keys (<see cref="BlockedClients"/>): the batch stops before it, to re-run it when woken.</summary>
    private bool _blocked;

    /// <summary>Bytes of replies handed to the transport by the flush in progress (0 when none is waiting).</summary>
    private long _flushingBytes;

    /// <summary>Environment.TickCount64 when the pending replies first reached the soft output-buffer limit, or 0.</summary>
    private long _softLimitSinceMs;

    /// <summary>Set when the output-buffer limit closed the client: its transport is aborted, not drained.</summary>
    private bool _overLimit;

    /// <summary>This connection's reusable wait for the AOF's fsync (appendfsync always), created on first use.</summary>
    private Persistence.DurabilityWaiter? _durabilityWaiter;

    /// <summary>The loop of <paramref name="client"/>.</summary>
    internal ClientConnection(ClientSession client) => _client = client;

    /// <summary>True while the client's next command waits for a CLIENT PAUSE to end (CLIENT LIST flag <c>b</c>, INFO <c>blocked_clients</c>).</summary>
    public bool IsPostponed => Volatile.Read(ref _postponed);

    /// <summary>Holds the command just parsed back until the CLIENT PAUSE in force ends (the admission pipeline's pause gate).</summary>
    internal void Postpone() => Volatile.Write(ref _postponed, true);

    /// <summary>True while the client is blocked on keys by a blocking command (CLIENT LIST flag <c>b</c>, INFO <c>blocked_clients</c>).</summary>
    public bool IsBlockedOnKeys => Volatile.Read(ref _blocked);

    /// <summary>Leaves the command just run unconsumed and waits for a wake-up before re-running it (<see cref="BlockedClients.Block"/>).</summary>
    internal void MarkBlocked() => Volatile.Write(ref _blocked, true);

    /// <summary>Set when the command just parsed must run on the thread pool (<see cref="MoveOffSocketThread"/>).</summary>
    private bool _offThread;

    /// <summary>
    /// Before a command that may run long (a script, MIGRATE: <see cref="Execution.CommandFlags.RunsLong"/>): when this loop runs on a socket thread (inline completions), leaves
    /// the command unconsumed, moves the loop to the thread pool and returns true — the command is then run again there.
    /// A script can run for seconds (until <c>busy-reply-threshold</c> and SCRIPT KILL); on a socket thread it would stall
    /// every other connection that thread serves, which could then not even be answered <c>-BUSY</c>. False (run it here)
    /// on a thread-pool thread and for a session without a transport (AOF replay, tests).
    /// </summary>
    internal bool MoveOffSocketThread()
    {
        if (_input == null || Thread.CurrentThread.IsThreadPoolThread) return false;
        _offThread = true;
        return true;
    }

    /// <summary>Wakes the loop's pending read and flush (a close requested from another thread, or out-of-band output to write).</summary>
    internal void Wake(bool flushToo)
    {
        _input?.CancelPendingRead();
        // A client that does not read its replies leaves the loop waiting in FlushAsync: wake that too.
        if (flushToo) _output?.CancelPendingFlush();
    }

    /// <summary>Marks the connection closed by the output-buffer limit: its unsent replies are dropped (the transport is aborted).</summary>
    internal void MarkOverLimit() => _overLimit = true;

    /// <summary>
    /// Reply bytes produced but not yet accepted by the transport: the batch being written plus a flush still
    /// waiting for the peer to read (Redis's output-buffer memory of a client).
    /// </summary>
    public long PendingReplyBytes => _client.Replies.PendingBytes + Volatile.Read(ref _flushingBytes);

    /// <summary>
    /// Serves the connection until the peer closes it, a protocol error, QUIT, or <paramref name="cancellation"/> (the
    /// server stopping). The peer's close is seen as the input completing, after the commands it sent before closing have
    /// been answered; <paramref name="peerClosed"/>, the transport's signal of it, ends only a CLIENT PAUSE wait (which does
    /// not read).
    /// </summary>
    public async Task RunAsync(IDuplexPipe transport, CancellationToken cancellation = default, CancellationToken peerClosed = default)
    {
        ClientSession client = _client;
        PipeReader input = transport.Input;
        PipeWriter output = transport.Output;
        _input = input;
        _output = output;
        try
        {
            while (!client.CloseRequested)
            {
                ValueTask<ReadResult> read = input.ReadAsync(cancellation);
                // Resumed by the AOF writer thread (which has just sent this batch's replies): commands already received
                // run on the thread pool instead, never on the writer (see AppendOnlyFile.IsWriterThread). Input still to
                // come arrives on the socket's thread, as usual.
                if (read.IsCompleted && Persistence.AppendOnlyFile.IsWriterThread) await Task.Yield();
                ReadResult result = await read.ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                Persistence.AppendOnlyFile? aof = client.Server.Aof;
                if (aof != null) Persistence.AppendOnlyFile.ResetThreadAppendEnd();
                // Out-of-band output queued before these commands arrived goes first (a message published before the
                // client sent a command precedes that command's reply, as in Redis); what other clients queue while the
                // batch runs follows its replies.
                client.Outbox.Drain(client.PushWriter);
                SequencePosition consumed = ProcessReceived(buffer);
                ReadOnlySequence<byte> rest = buffer.Slice(consumed);
                client.NetInputBytes += buffer.Length - rest.Length;
                if (!buffer.IsEmpty) client.ReadsProcessed++;
                // Stopped early to flush a large reply backlog, or before a command CLIENT PAUSE holds back: mark
                // only what was consumed as examined, so the next read returns the remaining commands at once.
                bool stoppedEarly = (StoppedForFlush || _postponed || _blocked || _offThread || client.ReplicaHandoff != null) && !rest.IsEmpty;
                input.AdvanceTo(consumed, stoppedEarly ? consumed : buffer.End);
                client.Outbox.Drain(client.PushWriter);
                // Replies to writes leave only once their records are written to the AOF — and fsynced under
                // appendfsync always (group commit: the AOF writer thread writes everything pending, then resumes us).
                if (aof != null && Persistence.AppendOnlyFile.ThreadAppendEnd is long appended and > 0)
                    await aof.WaitAsync(appended, _durabilityWaiter ??= new()).ConfigureAwait(false);
                RespWriter replies = client.Replies;
                if (replies.HasPending)
                {
                    Volatile.Write(ref _flushingBytes, replies.PendingBytes);
                    replies.Commit();
                    FlushResult flush = await output.FlushAsync(cancellation).ConfigureAwait(false);
                    client.WritesProcessed++;
                    Volatile.Write(ref _flushingBytes, 0);
                    _softLimitSinceMs = 0;
                    if (flush.IsCompleted || flush.IsCanceled) break;
                }
                if (client.ReplicaHandoff is { } replica)
                {
                    // SYNC/PSYNC answered: the connection now carries the RDB and the replication stream (the replica's
                    // REPLCONF ACKs come back on it) until either side closes it.
                    await replica.RunAsync(input, output, cancellation).ConfigureAwait(false);
                    break;
                }
                if (_blocked)
                {
                    bool open = await WaitWhileBlockedAsync(input, cancellation).ConfigureAwait(false);
                    Volatile.Write(ref _blocked, false);
                    if (!open) break;
                    continue;
                }
                if (_offThread)
                {
                    _offThread = false;
                    await Task.Yield();
                    continue;
                }
                if (_postponed)
                {
                    using (var pauseStop = CancellationTokenSource.CreateLinkedTokenSource(cancellation, peerClosed))
                        await WaitForPauseEndAsync(pauseStop.Token).ConfigureAwait(false);
                    Volatile.Write(ref _postponed, false);
                    continue;
                }
                // A cancelled read is either Close() (which sets CloseRequested first) or a wake-up for out-of-band
                // output, possibly arriving just after RESET ended monitoring: only the first ends the session.
                if ((result.IsCompleted && !stoppedEarly) || (result.IsCanceled && client.CloseRequested)) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException
                                      or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            client.Server.Logger.LogDebug("Client id={Id} addr={Address} closed: {Reason}", client.Id, client.RemoteAddress, e.Message);
        }
        catch (Exception e)
        {
            // A defect in a command must not hang the client or take the server down. Its reply may be
            // half-written, so the stream cannot be trusted: log the failure and close this connection.
            client.Server.Logger.LogError(e, "Closing client id={Id} addr={Address} after an internal error in '{Command}'",
                client.Id, client.RemoteAddress, client.LastCommand);
        }
        finally
        {
            if (client.Blocking != null) client.Server.BlockedClients.Leave(client.Blocking);
            client.DiscardTransaction();
            client.UnsubscribeAll();
            client.Server.Tracking.Disable(client);
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
        _client.Executor.BeginBatch();
        _prefetch.Begin();
        DeferredWakes.Enter();
        try
        {
            return ProcessFrames(buffer);
        }
        finally
        {
            _client.Executor.EndBatch();
            // BCAST invalidations of the keys the batch changed (Redis sends them in beforeSleep), then the wake-ups.
            _client.Server.Tracking.FlushBroadcasts();
            DeferredWakes.Exit();
        }
    }

    private SequencePosition ProcessFrames(ReadOnlySequence<byte> buffer)
    {
        ClientSession client = _client;
        while (!client.CloseRequested && !StoppedForFlush)
        {
            _parser.Unauthenticated = client.AuthRequired;
            ParseStatus status = _parser.TryParse(buffer, out long consumed, out CommandArgs args, out string? error);
            switch (status)
            {
                case ParseStatus.Command:
                    client.QueryBufferBytes = buffer.Length;
                    _prefetch.BeforeCommand(buffer, client.Database);
                    client.Executor.Execute(args);
                    client.QueryBufferBytes = 0;
                    if (_postponed || _blocked || _offThread) return buffer.Start;
                    // A blocked command re-run and answered (served, timed out, an error): it leaves the key queues.
                    if (client.Blocking is { Active: true } blocking) client.Server.BlockedClients.Leave(blocking);
                    client.AdvanceReplyMode();
                    // Invalidations its own command caused follow its reply (after EXEC's for a transaction); CACHING ends.
                    if (client.Tracking.Pending.Count != 0) client.Server.Tracking.SendPending(client);
                    if (client.Tracking.Caching) client.Tracking.AfterCommand(client.Server.Commands.Lookup(args[0]), client.InMulti);
                    buffer = buffer.Slice(consumed);
                    if (client.ReplicaHandoff != null) return buffer.Start;
                    CheckOutputBufferLimit(Environment.TickCount64);
                    break;
                case ParseStatus.Empty:
                    buffer = buffer.Slice(consumed);
                    break;
                case ParseStatus.Incomplete:
                    return buffer.Start;
                default:
                    client.Writer.WriteError(error!);
                    client.CloseRequested = true;
                    client.Server.Logger.LogDebug("Protocol error from client id={Id} addr={Address}: {Error}", client.Id, client.RemoteAddress, error);
                    return buffer.Start;
            }
        }
        return buffer.Start;
    }

    /// <summary>True when more than ~1 MB of replies waits to be flushed: the batch ends early.</summary>
    private bool StoppedForFlush => _client.Replies.PendingBytes > FlushThresholdBytes;

    /// <summary>
    /// Waits, without blocking a thread, while the client is blocked on keys: until a key it waits on changes (or CLIENT
    /// UNBLOCK), its deadline, or the client is closed. Meanwhile it keeps reading so a peer that disconnects is noticed
    /// (input that arrives is left buffered, as Redis keeps a blocked client's further commands). Returns false when the
    /// connection ended; otherwise arranges for the next read to return the buffered command at once, to re-run it.
    /// </summary>
    private async Task<bool> WaitWhileBlockedAsync(PipeReader input, CancellationToken cancellation)
    {
        BlockedClients.BlockedClient blocked = _client.Blocking!;
        while (!_client.CloseRequested)
        {
            _client.LastInteractionMs = Environment.TickCount64;
            long remaining = blocked.DeadlineMs == 0 ? Timeout.Infinite : blocked.DeadlineMs - Environment.TickCount64;
            if (blocked.Signal.IsCompleted || (blocked.DeadlineMs != 0 && remaining <= 0)) break;
            ValueTask<ReadResult> pending = input.ReadAsync(cancellation);
            ReadResult result;
            if (pending.IsCompleted) result = pending.Result;
            else
            {
                Task<ReadResult> read = pending.AsTask();
                using var stopDelay = new CancellationTokenSource();
                Task delay = Task.Delay((int)Math.Min(remaining, int.MaxValue), stopDelay.Token);
                await Task.WhenAny(blocked.Signal, read, delay).ConfigureAwait(false);
                stopDelay.Cancel();
                if (!read.IsCompleted) input.CancelPendingRead();
                result = await read.ConfigureAwait(false);
            }
            // Examined everything: the next read in this loop waits for new input.
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (result.IsCompleted) return false;
        }
        if (_client.CloseRequested) return false;
        blocked.Rearm();
        // The blocked command is still buffered: make the loop's next read return it at once.
        input.CancelPendingRead();
        return true;
    }

    /// <summary>
    /// Waits, without blocking a thread, until the CLIENT PAUSE in force ends or the client is closed. The client
    /// is not idle meanwhile (Redis does not time out blocked clients), so its last-interaction time keeps moving.
    /// </summary>
    private async Task WaitForPauseEndAsync(CancellationToken cancellation)
    {
        ClientPause pause = _client.Server.Clients.Pause;
        while (!_client.CloseRequested && pause.IsPaused)
        {
            _client.LastInteractionMs = Environment.TickCount64;
            Task released = pause.Released;
            if (released.IsCompleted) break;
            await Task.WhenAny(released, Task.Delay(100, cancellation)).ConfigureAwait(false);
            cancellation.ThrowIfCancellationRequested();
        }
        _client.LastInteractionMs = Environment.TickCount64;
    }

    /// <summary>
    /// Enforces <c>client-output-buffer-limit normal</c> (Redis's <c>checkClientOutputBufferLimits</c>): closes the
    /// client, dropping its unsent replies, when <see cref="PendingReplyBytes"/> (plus its queued out-of-band output)
    /// reaches the hard limit, or has stayed at or above the soft limit for longer than its seconds. Checked after each
    /// command and by the server cron (a client that stops reading leaves its loop waiting on the flush; RespKv then
    /// stops reading its requests, so the backlog cannot grow past one batch, about 1 MB, plus transport buffers).
    /// Returns true when it closed the client.
    /// </summary>
    internal bool CheckOutputBufferLimit(long nowMs, bool fromCron = false)
    {
        OutputBufferLimit limit = _client.OutputBufferLimit;
        if (limit.HardBytes == 0 && limit.SoftBytes == 0) return false;
        long used = PendingReplyBytes + _client.Outbox.QueuedBytes;
        bool exceeded = limit.HardBytes > 0 && used >= limit.HardBytes;
        if (!exceeded && limit.SoftBytes > 0 && used >= limit.SoftBytes)
        {
            if (_softLimitSinceMs == 0) _softLimitSinceMs = nowMs;
            else exceeded = nowMs - _softLimitSinceMs > limit.SoftSeconds * 1000;
        }
        else if (!exceeded) _softLimitSinceMs = 0;
        if (!exceeded || _client.CloseRequested) return false;
        _client.CloseForOutputLimit(fromCron);
        return true;
    }

    /// <summary>The cron's part of <see cref="CheckOutputBufferLimit"/>: only while the loop waits on a flush (it runs no command then).</summary>
    internal bool CheckOutputBufferLimitWhileFlushing(long nowMs) => Volatile.Read(ref _flushingBytes) > 0 && CheckOutputBufferLimit(nowMs, fromCron: true);
}
