namespace RespKv.Server;

/// <summary>
/// Server-wide counters for INFO <c>stats</c>. Hot counters live in each <see cref="ClientSession"/>
/// (no shared cache line per command) and are folded in here when a client disconnects; INFO sums both.
/// <c>CONFIG RESETSTAT</c> (<see cref="Reset"/>) does not touch the per-client counters: it records the
/// current sums as a baseline that every reading subtracts.
/// </summary>
public sealed class ServerStats
{
    /// <summary>Samples kept for the instantaneous rates (Redis's <c>STATS_METRIC_SAMPLES</c>).</summary>
    public const int InstantaneousSamples = 16;

    private long _connectionsReceived;
    private long _rejectedConnections;
    private long _retiredCommands;
    private long _retiredHits;
    private long _retiredMisses;
    private long _retiredInputBytes;
    private long _retiredOutputBytes;
    private long _retiredReads;
    private long _retiredWrites;

    private readonly Lock _resetLock = new();
    private Counters _baseline;

    private readonly Lock _sampleLock = new();
    private readonly InstantaneousMetric _ops = new();
    private readonly InstantaneousMetric _inputBytes = new();
    private readonly InstantaneousMetric _outputBytes = new();

    /// <summary>Connections accepted since start or the last <c>CONFIG RESETSTAT</c> (<c>total_connections_received</c>).</summary>
    public long ConnectionsReceived => Volatile.Read(ref _connectionsReceived) - Baseline.Connections;

    /// <summary>Connections refused for <c>maxclients</c> since start or the last reset (<c>rejected_connections</c>).</summary>
    public long RejectedConnections => Volatile.Read(ref _rejectedConnections) - Baseline.Rejected;

    /// <summary>Commands per second, averaged over the last <see cref="InstantaneousSamples"/> samples (<c>instantaneous_ops_per_sec</c>).</summary>
    public long InstantaneousOpsPerSec
    {
        get
        {
            lock (_sampleLock) return _ops.Average;
        }
    }

    /// <summary>Received kilobytes (1024 bytes) per second, averaged like <see cref="InstantaneousOpsPerSec"/> (<c>instantaneous_input_kbps</c>).</summary>
    public double InstantaneousInputKbps
    {
        get
        {
            lock (_sampleLock) return _inputBytes.Average / 1024.0;
        }
    }

    /// <summary>Sent kilobytes (1024 bytes) per second (<c>instantaneous_output_kbps</c>).</summary>
    public double InstantaneousOutputKbps
    {
        get
        {
            lock (_sampleLock) return _outputBytes.Average / 1024.0;
        }
    }

    private Counters Baseline
    {
        get
        {
            lock (_resetLock) return _baseline;
        }
    }

    private long _memoryPeak;

    /// <summary>Records <paramref name="usedBytes"/> as a sample of <c>used_memory</c>; returns the peak so far (<c>used_memory_peak</c>).</summary>
    public long TrackMemoryPeak(long usedBytes)
    {
        long peak = Volatile.Read(ref _memoryPeak);
        while (usedBytes > peak)
        {
            long seen = Interlocked.CompareExchange(ref _memoryPeak, usedBytes, peak);
            if (seen == peak) return usedBytes;
            peak = seen;
        }
        return peak;
    }

    internal void ConnectionAccepted() => Interlocked.Increment(ref _connectionsReceived);

    internal void ConnectionRejected() => Interlocked.Increment(ref _rejectedConnections);

    internal void Retire(ClientSession client)
    {
        Interlocked.Add(ref _retiredCommands, client.CommandsProcessed);
        Interlocked.Add(ref _retiredHits, client.KeyspaceHits);
        Interlocked.Add(ref _retiredMisses, client.KeyspaceMisses);
        Interlocked.Add(ref _retiredInputBytes, client.NetInputBytes);
        Interlocked.Add(ref _retiredReads, client.ReadsProcessed);
        Interlocked.Add(ref _retiredWrites, client.WritesProcessed);
        Interlocked.Add(ref _retiredOutputBytes, client.NetOutputBytes);
        client.Server.CommandStats.Retire(client.CommandCounters);
    }

    /// <summary>Totals over disconnected and connected clients since start or the last <c>CONFIG RESETSTAT</c>.</summary>
    public (long Commands, long Hits, long Misses, long InputBytes, long OutputBytes) Totals(ClientRegistry clients)
    {
        Counters now = Raw(clients), b = Baseline;
        return (now.Commands - b.Commands, now.Hits - b.Hits, now.Misses - b.Misses,
            now.InputBytes - b.InputBytes, now.OutputBytes - b.OutputBytes);
    }

    /// <summary>
    /// Socket reads that delivered input and reply flushes over disconnected and connected clients since start or the
    /// last <c>CONFIG RESETSTAT</c> (INFO <c>total_reads_processed</c>, <c>total_writes_processed</c>).
    /// </summary>
    public (long Reads, long Writes) IoTotals(ClientRegistry clients)
    {
        Counters now = Raw(clients), b = Baseline;
        return (now.Reads - b.Reads, now.Writes - b.Writes);
    }

    /// <summary>
    /// <c>CONFIG RESETSTAT</c>: restarts every counter of INFO <c>stats</c> from zero and clears the
    /// instantaneous samples, as Redis's <c>resetServerStats</c> does.
    /// </summary>
    public void Reset(ClientRegistry clients)
    {
        Counters now = Raw(clients);
        lock (_resetLock) _baseline = now;
        ClearInstantaneous();
    }

    /// <summary>
    /// Takes one sample of the instantaneous rates (Redis's <c>trackInstantaneousMetric</c>, run from the
    /// server cron every 100 ms); <paramref name="nowMs"/> is a monotonic time in milliseconds.
    /// </summary>
    internal void SampleInstantaneous(ClientRegistry clients, long nowMs)
    {
        // Raw counters: a CONFIG RESETSTAT between two samples must not produce a negative rate.
        Counters now = Raw(clients);
        lock (_sampleLock)
        {
            _ops.Track(nowMs, now.Commands);
            _inputBytes.Track(nowMs, now.InputBytes);
            _outputBytes.Track(nowMs, now.OutputBytes);
        }
    }

    /// <summary>Forgets the instantaneous samples (CONFIG RESETSTAT, or a cron that starts again).</summary>
    internal void ClearInstantaneous()
    {
        lock (_sampleLock)
        {
            _ops.Clear();
            _inputBytes.Clear();
            _outputBytes.Clear();
        }
    }

    private Counters Raw(ClientRegistry clients)
    {
        lock (clients.MembershipLock)
        {
            var c = new Counters
            {
                Connections = Volatile.Read(ref _connectionsReceived),
                Rejected = Volatile.Read(ref _rejectedConnections),
                Commands = Volatile.Read(ref _retiredCommands),
                Hits = Volatile.Read(ref _retiredHits),
                Misses = Volatile.Read(ref _retiredMisses),
                InputBytes = Volatile.Read(ref _retiredInputBytes),
                OutputBytes = Volatile.Read(ref _retiredOutputBytes),
                Reads = Volatile.Read(ref _retiredReads),
                Writes = Volatile.Read(ref _retiredWrites),
            };
            foreach (ClientSession client in clients.Live)
            {
                c.Commands += client.CommandsProcessed;
                c.Hits += client.KeyspaceHits;
                c.Misses += client.KeyspaceMisses;
                c.InputBytes += client.NetInputBytes;
                c.OutputBytes += client.NetOutputBytes;
                c.Reads += client.ReadsProcessed;
                c.Writes += client.WritesProcessed;
            }
            return c;
        }
    }

    private struct Counters
    {
        public long Connections, Rejected, Commands, Hits, Misses, InputBytes, OutputBytes, Reads, Writes;
    }

    /// <summary>One rate: the last reading and the per-second rates of the last samples (a ring).</summary>
    private sealed class InstantaneousMetric
    {
        private readonly long[] _samples = new long[InstantaneousSamples];
        private int _next;
        private long _lastTimeMs = -1;
        private long _lastReading;

        public long Average
        {
            get
            {
                long sum = 0;
                foreach (long s in _samples) sum += s;
                return sum / InstantaneousSamples;
            }
        }

        public void Track(long nowMs, long reading)
        {
            if (_lastTimeMs >= 0)
            {
                long elapsed = nowMs - _lastTimeMs;
                _samples[_next] = elapsed > 0 ? Math.Max(0, reading - _lastReading) * 1000 / elapsed : 0;
                _next = (_next + 1) % InstantaneousSamples;
            }
            _lastTimeMs = nowMs;
            _lastReading = reading;
        }

        public void Clear()
        {
            Array.Clear(_samples);
            _next = 0;
            _lastTimeMs = -1;
        }
    }
}
