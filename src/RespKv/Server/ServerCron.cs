using Microsoft.Extensions.Logging;
using RespKv.Configuration;

namespace RespKv.Server;

/// <summary>
/// RespKv's counterpart of Redis's <c>serverCron</c> at its default <c>hz 10</c>: every
/// <see cref="PeriodMs"/> ms it samples the instantaneous rates of INFO <c>stats</c>
/// (<c>instantaneous_ops_per_sec</c>, <c>instantaneous_input_kbps</c>, <c>instantaneous_output_kbps</c>)
/// and closes clients idle for longer than <c>timeout</c> seconds (Redis's <c>clientsCronHandleTimeout</c>)
/// or over their output-buffer limit (Redis's <c>clientsCronHandleOutputBufferLimits</c> part of the cron);
/// advances the LRU clock, runs the active expiry cycle (Redis's <c>databasesCron</c> → <c>activeExpireCycle</c>) and
/// stops the shared memory counter when <c>maxmemory</c> went back to 0; closes MIGRATE's cached connections idle for more than
/// 10 seconds (Redis's <c>migrateCloseTimedoutSockets</c>).
/// The host runs it from start to stop.
/// </summary>
internal sealed class ServerCron : IDisposable
{
    /// <summary>Period in milliseconds (Redis's <c>1000 / hz</c>).</summary>
    public const int PeriodMs = 100;

    private readonly RespServer _server;
    private readonly Timer _timer;
    private int _ticking;

    private ServerCron(RespServer server)
    {
        _server = server;
        // A restart after a pause must not average in rates from before the pause.
        server.Stats.ClearInstantaneous();
        _timer = new Timer(static state => ((ServerCron)state!).Tick(), this, PeriodMs, PeriodMs);
    }

    /// <summary>Starts the cron for <paramref name="server"/>.</summary>
    public static ServerCron Start(RespServer server) => new(server);

    private void Tick()
    {
        // Timer callbacks may overlap when one runs late; samples must be taken in order, so skip instead.
        if (_server.CronPaused || Interlocked.Exchange(ref _ticking, 1) == 1) return;
        try
        {
            long now = Environment.TickCount64;
            _server.Stats.SampleInstantaneous(_server.Clients, now);
            _server.Stats.TrackMemoryPeak(InfoBuilder.UsedMemory(_server));
            CloseIdleClients(now);
            KeyspaceCron();
            _server.Snapshots.Cron();
            CheckOutputBufferLimits(now);
            _server.MigrateSockets.CloseIdle();
            _server.Replication.Cron(now);
        }
        catch (Exception e)
        {
            _server.Logger.LogError(e, "Server cron failed");
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    /// <summary>The keyspace's part of the cron: access clock, memory tracking, active expiry.</summary>
    private void KeyspaceCron()
    {
        Storage.Keyspace keyspace = _server.Keyspace;
        keyspace.Lifetime.Tick();
        if (_server.Options.MaxMemory == 0 && keyspace.Lifetime.TrackingBytes) keyspace.TrackMemory(false);
        // A replica expires nothing itself: its primary's DELs remove keys (Redis runs activeExpireCycle only when iAmMaster()).
        if (!_server.Replication.IsReplica) keyspace.ActiveExpiry.RunCycle(PeriodMs);
        // Client-side caching: the table's size limit, and BCAST invalidations of keys expired here (Redis's serverCron, beforeSleep).
        if (_server.Tracking.TrackingClients > 0) _server.Tracking.LimitUsedSlots();
        _server.Tracking.FlushBroadcasts();
    }

    private void CloseIdleClients(long nowMs)
    {
        long timeoutMs = _server.Options.Timeout * 1000L;
        if (timeoutMs <= 0) return;
        foreach (ClientSession client in _server.Clients.Live)
        {
            if (nowMs - client.LastInteractionMs <= timeoutMs || client.CloseRequested) continue;
            _server.Logger.LogDebug("Closing idle client id={Id} addr={Address}", client.Id, client.RemoteAddress);
            client.Close();
        }
    }

    /// <summary>
    /// Applies <c>client-output-buffer-limit</c> to clients whose session waits on a flush (a peer that stopped
    /// reading): the soft limit's time runs out here, since such a session executes no command.
    /// </summary>
    private void CheckOutputBufferLimits(long nowMs)
    {
        // Each client is judged by its class's limit (normal, or pubsub while subscribed).
        foreach (ClientSession client in _server.Clients.Live) client.CheckOutputBufferLimitWhileFlushing(nowMs);
    }

    /// <inheritdoc />
    public void Dispose() => _timer.Dispose();
}
