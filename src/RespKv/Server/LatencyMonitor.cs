using System.Diagnostics;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;

namespace RespKv.Server;

/// <summary>
/// The latency monitor (https://redis.io/docs/management/optimization/latency-monitor/), as Redis 7.0's latency.c:
/// while <c>latency-monitor-threshold</c> (ms) is above 0, every command whose run time in whole milliseconds
/// reaches it adds a sample to the event <c>fast-command</c> (commands flagged fast) or <c>command</c>. Each event
/// keeps the latest 160 samples, at most one per second (the highest latency of that second), and its all-time
/// maximum. RespKv records only these two events: it has no expire cycle, eviction or fork whose latency Redis also
/// tracks, and the AOF's own events are not recorded.
/// </summary>
public sealed class LatencyMonitor
{
    /// <summary>Samples kept per event (Redis's <c>LATENCY_TS_LEN</c>).</summary>
    public const int SamplesPerEvent = 160;

    private readonly ServerOptions _options;
    private readonly Lock _lock = new();
    private readonly List<Series> _events = new();
    private Threshold _threshold = new(0, long.MaxValue);

    private sealed record Threshold(long Milliseconds, long Ticks);

    private sealed class Series(string name)
    {
        public string Name { get; } = name;
        public long Max { get; set; }
        public int Index { get; set; }
        public readonly (long Time, long Latency)[] Samples = new (long, long)[SamplesPerEvent];
    }

    /// <summary>A latency monitor reading <c>latency-monitor-threshold</c> from <paramref name="options"/>.</summary>
    public LatencyMonitor(ServerOptions options) => _options = options;

    /// <summary>True when a command that ran for <paramref name="elapsedTicks"/> (<see cref="Stopwatch"/> ticks) must add a sample; the cheap test on the command path.</summary>
    internal bool IsLatent(long elapsedTicks)
    {
        long ms = _options.LatencyMonitorThreshold;
        if (ms <= 0) return false;
        Threshold threshold = Volatile.Read(ref _threshold);
        if (ms != threshold.Milliseconds)
        {
            threshold = new Threshold(ms, (long)Math.Min(long.MaxValue, (double)ms * Stopwatch.Frequency / 1000));
            Volatile.Write(ref _threshold, threshold);
        }
        return elapsedTicks >= threshold.Ticks;
    }

    /// <summary>Adds the sample of <paramref name="command"/>, which ran for <paramref name="elapsedTicks"/>, to <c>fast-command</c> or <c>command</c>.</summary>
    internal void AddCommandSample(CommandInfo command, long elapsedTicks)
    {
        long ms = elapsedTicks * 1000 / Stopwatch.Frequency;
        if (ms < _options.LatencyMonitorThreshold) return;
        AddSample((command.Flags & CommandFlags.Fast) != 0 ? "fast-command" : "command", ms, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    /// <summary>Redis's <c>latencyAddSample</c>: records <paramref name="latencyMs"/> for <paramref name="name"/> at <paramref name="unixSeconds"/>.</summary>
    public void AddSample(string name, long latencyMs, long unixSeconds)
    {
        lock (_lock)
        {
            Series? series = Find(name);
            if (series == null) _events.Add(series = new Series(name));
            if (latencyMs > series.Max) series.Max = latencyMs;
            int previous = (series.Index + SamplesPerEvent - 1) % SamplesPerEvent;
            if (series.Samples[previous].Time == unixSeconds)
            {
                if (latencyMs > series.Samples[previous].Latency) series.Samples[previous].Latency = latencyMs;
                return;
            }
            series.Samples[series.Index] = (unixSeconds, latencyMs);
            series.Index = (series.Index + 1) % SamplesPerEvent;
        }
    }

    /// <summary><c>LATENCY LATEST</c>'s rows: each event with its latest sample's time (Unix seconds) and latency, and its maximum (ms).</summary>
    public List<(string Event, long Time, long Latency, long Max)> Latest()
    {
        lock (_lock)
        {
            var rows = new List<(string, long, long, long)>(_events.Count);
            foreach (Series s in _events)
            {
                (long time, long latency) = s.Samples[(s.Index + SamplesPerEvent - 1) % SamplesPerEvent];
                rows.Add((s.Name, time, latency, s.Max));
            }
            return rows;
        }
    }

    /// <summary><c>LATENCY HISTORY event</c>: the event's samples, oldest first (empty for an unknown event).</summary>
    public List<(long Time, long Latency)> History(string name)
    {
        lock (_lock) return Find(name) is { } s ? SamplesOf(s) : [];
    }

    /// <summary>
    /// Every event with its all-time maximum (ms) and its samples (Unix seconds, ms) in slot order (oldest first from the
    /// write position, empty slots left out), for <c>LATENCY DOCTOR</c> and <c>LATENCY GRAPH</c> (<see cref="LatencyReport"/>).
    /// </summary>
    public List<(string Event, long Max, List<(long Time, long Latency)> Samples)> Snapshot()
    {
        lock (_lock)
        {
            var events = new List<(string, long, List<(long, long)>)>(_events.Count);
            foreach (Series s in _events)
            {
                events.Add((s.Name, s.Max, SamplesOf(s)));
            }
            return events;
        }
    }

    /// <summary><c>LATENCY RESET</c>: forgets the event <paramref name="name"/> (every event when null); returns how many were forgotten.</summary>
    public int Reset(string? name)
    {
        lock (_lock)
        {
            if (name == null)
            {
                int count = _events.Count;
                _events.Clear();
                return count;
            }
            return Find(name) is { } s && _events.Remove(s) ? 1 : 0;
        }
    }

    /// <summary>The samples of <paramref name="s"/>, oldest first (empty slots left out). Caller holds the lock.</summary>
    private static List<(long Time, long Latency)> SamplesOf(Series s)
    {
        var samples = new List<(long, long)>();
        for (int j = 0; j < SamplesPerEvent; j++)
        {
            (long time, long latency) = s.Samples[(s.Index + j) % SamplesPerEvent];
            if (time != 0) samples.Add((time, latency));
        }
        return samples;
    }

    private Series? Find(string name)
    {
        foreach (Series s in _events)
            if (s.Name == name) return s;
        return null;
    }
}
