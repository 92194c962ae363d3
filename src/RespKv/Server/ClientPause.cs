using RespKv.Commands;
using RespKv.Execution;

namespace RespKv.Server;

/// <summary>What <c>CLIENT PAUSE</c> holds back.</summary>
public enum ClientPauseKind
{
    /// <summary>No pause.</summary>
    None = 0,

    /// <summary><c>WRITE</c>: write commands (and EXEC of a transaction with a write command) wait.</summary>
    Write = 1,

    /// <summary><c>ALL</c>: every command waits, the pausing client's own and CLIENT UNPAUSE included.</summary>
    All = 2,
}

/// <summary>
/// The server-wide client pause (Redis 7.0 <c>pauseClients</c>, https://redis.io/commands/client-pause/): while
/// it lasts, a client's next command that it holds back is not run and not rejected — its session stops the
/// batch and waits (asynchronously, no thread blocked) for <see cref="Released"/>, then parses the same command
/// again. A second pause only extends the end time and only strengthens the kind (WRITE to ALL), as in Redis.
/// The hot path costs one volatile read (<see cref="IsPaused"/>).
/// </summary>
public sealed class ClientPause
{
    private readonly Lock _lock = new();
    private int _kind;
    private long _endMs;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Timer? _timer;

    /// <summary>True while a pause is in force.</summary>
    public bool IsPaused => Volatile.Read(ref _kind) != 0;

    /// <summary>The pause in force.</summary>
    public ClientPauseKind Kind => (ClientPauseKind)Volatile.Read(ref _kind);

    /// <summary>Completes when the pause in force ends (CLIENT UNPAUSE or its timeout); a completed task when none is.</summary>
    public Task Released
    {
        get
        {
            lock (_lock) return _kind == 0 ? Task.CompletedTask : _released.Task;
        }
    }

    /// <summary>
    /// <c>CLIENT PAUSE</c>: pauses until <paramref name="timeoutMs"/> milliseconds from now (0 ends at once, as a
    /// Redis pause whose end time has already passed), keeping a later end time or a stronger kind already in force.
    /// </summary>
    public void Pause(long timeoutMs, ClientPauseKind kind)
    {
        lock (_lock)
        {
            long now = Environment.TickCount64;
            long end = timeoutMs > long.MaxValue - now ? long.MaxValue : now + timeoutMs;
            if ((int)kind > _kind) Volatile.Write(ref _kind, (int)kind);
            if (end > _endMs) _endMs = end;
            ArmOrRelease(now);
        }
    }

    /// <summary><c>CLIENT UNPAUSE</c>: ends the pause in force, releasing every waiting client.</summary>
    public void Unpause()
    {
        lock (_lock) Release();
    }

    /// <summary>True when <paramref name="client"/> must wait before running <paramref name="command"/> (Redis's processCommand check).</summary>
    internal bool MustWait(CommandInfo command, ClientSession client)
    {
        ClientPauseKind kind = Kind;
        if (kind == ClientPauseKind.All) return true;
        if (kind != ClientPauseKind.Write) return false;
        if (command.IsWrite) return true;
        // EXEC of a transaction that queued a write command counts as a write (Redis's mstate.cmd_flags).
        if ((command.Flags & CommandFlags.RunsQueue) == 0 || !client.InMulti) return false;
        Transaction transaction = client.Transaction;
        for (int i = 0; i < transaction.Count; i++)
            if (transaction.CommandAt(i).IsWrite) return true;
        return false;
    }

    private void ArmOrRelease(long now)
    {
        if (_kind == 0) return;
        long due = _endMs - now;
        if (due <= 0)
        {
            Release();
            return;
        }
        _timer ??= new Timer(static state => ((ClientPause)state!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
        _timer.Change(Math.Min(due, int.MaxValue - 1), Timeout.Infinite);
    }

    private void OnTimer()
    {
        lock (_lock) ArmOrRelease(Environment.TickCount64);
    }

    private void Release()
    {
        Volatile.Write(ref _kind, 0);
        _endMs = 0;
        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        TaskCompletionSource released = _released;
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.TrySetResult();
    }
}
