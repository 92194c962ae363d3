using System.Globalization;
using System.Text;
using RespKv.Configuration;

namespace RespKv.Server;

/// <summary>
/// The human-readable latency reports of Redis 7.0.15's <c>latency.c</c> and <c>sparkline.c</c>, written for RespKv:
/// <c>LATENCY DOCTOR</c> (<c>createLatencyReport</c>: the texts for no monitoring and no spikes exactly, then one line per
/// event with its statistics and the advice Redis gives for the events RespKv records, <c>command</c> and
/// <c>fast-command</c>) and <c>LATENCY GRAPH</c> (<c>latencyCommandGenSparkeline</c>: a title, 80 dashes, a four-row
/// filled sparkline of the samples with each sample's age as a vertical label).
/// </summary>
public static class LatencyReport
{
    private const int GraphColumns = 80;
    private const int GraphRows = 4;

    /// <summary>
    /// <c>LATENCY DOCTOR</c>'s text for <paramref name="events"/> (<see cref="LatencyMonitor.Snapshot"/>) at
    /// <paramref name="nowSeconds"/> (Unix time), with the settings the advice depends on from <paramref name="options"/>
    /// (<c>latency-monitor-threshold</c>, <c>slowlog-log-slower-than</c>) and whether the process uses transparent huge pages.
    /// </summary>
    public static string Doctor(List<(string Event, long Max, List<(long Time, long Latency)> Samples)> events, ServerOptions options, long nowSeconds, bool anonHugePages)
    {
        if (events.Count == 0 && options.LatencyMonitorThreshold == 0)
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
        var report = new StringBuilder();
        bool slowlogEnabled = false, slowlogTuning = false, slowlogInspect = false, scheduler = false, largeObjects = false, disableThp = false;
        int advices = 0, eventNumber = 0;
        foreach ((string name, long max, List<(long Time, long Latency)> samples) in events)
        {
            eventNumber++;
            if (eventNumber == 1) report.Append("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            // Redis's analyzeLatencyForEvent: integer average and mean absolute deviation, period since the oldest sample.
            long count = samples.Count, sum = 0, oldest = 0;
            foreach ((long time, long latency) in samples)
            {
                sum += latency;
                if (oldest == 0 || time < oldest) oldest = time;
            }
            long average = count > 0 ? sum / count : 0, period = 0, deviation = 0;
            if (count > 0)
            {
                period = nowSeconds - oldest;
                if (period == 0) period = 1;
                long deviations = 0;
                foreach ((_, long latency) in samples) deviations += Math.Abs(average - latency);
                deviation = deviations / count;
            }
            report.Append(CultureInfo.InvariantCulture,
                $"{eventNumber}. {name}: {count} latency spikes (average {average}ms, mean deviation {deviation}ms, period {(double)period / count:F2} sec). Worst all time event {max}ms.");
            if (name == "command")
            {
                if (options.SlowlogLogSlowerThan < 0)
                {
                    slowlogEnabled = true;
                    advices++;
                }
                else if (options.SlowlogLogSlowerThan / 1000 > options.LatencyMonitorThreshold)
                {
                    slowlogTuning = true;
                    advices++;
                }
                slowlogInspect = largeObjects = true;
                advices += 2;
            }
            if (name == "fast-command")
            {
                scheduler = true;
                advices++;
            }
            report.Append('\n');
        }
        if (anonHugePages)
        {
            disableThp = true;
            advices++;
        }
        if (eventNumber == 0 && advices == 0)
        {
            report.Append("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
            return report.ToString();
        }
        if (eventNumber > 0 && advices == 0)
        {
            report.Append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
            return report.ToString();
        }
        report.Append("\nI have a few advices for you:\n\n");
        long slowlogSuggestion = options.LatencyMonitorThreshold * 1000;
        if (slowlogEnabled)
            report.Append(CultureInfo.InvariantCulture, $"- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {slowlogSuggestion}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n");
        if (slowlogTuning)
            report.Append(CultureInfo.InvariantCulture, $"- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {slowlogSuggestion}'.\n");
        if (slowlogInspect)
            report.Append("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        if (scheduler)
            report.Append("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
                + "  1) Lower the system load.\n"
                + "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
                + "  3) Check if you have a \"noisy neighbour\" problem.\n"
                + "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
                + "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        if (largeObjects)
            report.Append("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        if (disableThp)
            report.Append("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
        return report.ToString();
    }

    /// <summary>Redis's <c>THPGetAnonHugePagesSize() &gt; 0</c>: whether this process has anonymous huge pages (<c>AnonHugePages:</c> of <c>/proc/self/smaps_rollup</c>).</summary>
    public static bool HasAnonHugePages()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/smaps_rollup"))
            {
                if (!line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length > 1 && long.TryParse(parts[1], out long kb) && kb > 0;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
    }

    /// <summary>
    /// <c>LATENCY GRAPH event</c>'s text: <c>event - high H ms, low L ms (all time high M ms)</c>, 80 dashes, then the samples
    /// (oldest first) as a four-row filled sparkline (<c>_o#</c> and <c>|</c>), 80 samples a block, each labelled with its
    /// age (<c>12s</c>, <c>5m</c>, <c>2h</c>, <c>3d</c>) written downwards.
    /// </summary>
    public static string Graph(string name, long allTimeMax, List<(long Time, long Latency)> samples, long nowSeconds)
    {
        long min = 0, max = 0;
        var labels = new string[samples.Count];
        for (int i = 0; i < samples.Count; i++)
        {
            (long time, long latency) = samples[i];
            if (i == 0) min = max = latency;
            else
            {
                max = Math.Max(max, latency);
                min = Math.Min(min, latency);
            }
            long elapsed = nowSeconds - time;
            labels[i] = elapsed < 60 ? $"{elapsed}s" : elapsed < 3600 ? $"{elapsed / 60}m" : elapsed < 3600 * 24 ? $"{elapsed / 3600}h" : $"{elapsed / (3600 * 24)}d";
        }
        var graph = new StringBuilder();
        graph.Append(CultureInfo.InvariantCulture, $"{name} - high {max} ms, low {min} ms (all time high {allTimeMax} ms)\n");
        graph.Append('-', GraphColumns).Append('\n');
        for (int j = 0; j < samples.Count; j += GraphColumns)
        {
            if (j != 0) graph.Append('\n');
            RenderRange(graph, samples, labels, min, max, j, Math.Min(GraphColumns, samples.Count - j));
        }
        return graph.ToString();
    }

    /// <summary>Redis's <c>sparklineRenderRange</c> with <c>SPARKLINE_FILL</c> over samples [offset, offset + length).</summary>
    private static void RenderRange(StringBuilder output, List<(long Time, long Latency)> samples, string[] labels, double min, double max, int offset, int length)
    {
        const string fill = "_o#";
        double relmax = max - min;
        if (relmax == 0) relmax = 1;
        int steps = fill.Length * GraphRows;
        var chars = new char[length];
        for (int row = 0; ; row++)
        {
            bool more = false;
            Array.Fill(chars, ' ');
            for (int j = 0; j < length; j++)
            {
                double relval = samples[offset + j].Latency - min;
                int step = (int)((int)(relval * steps) / relmax);
                step = Math.Clamp(step, 0, steps - 1);
                if (row < GraphRows)
                {
                    int charIndex = step - (GraphRows - row - 1) * fill.Length;
                    more = true;
                    if (charIndex >= 0 && charIndex < fill.Length) chars[j] = fill[charIndex];
                    else if (charIndex >= fill.Length) chars[j] = '|';
                }
                else
                {
                    if (row - GraphRows < 1)
                    {
                        more = true; // the blank line above the labels
                        break;
                    }
                    int labelChar = row - GraphRows - 1;
                    if (labels[offset + j].Length > labelChar)
                    {
                        more = true;
                        chars[j] = labels[offset + j][labelChar];
                    }
                }
            }
            if (!more) return;
            output.Append(chars).Append('\n');
        }
    }
}
