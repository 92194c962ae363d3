using System.Diagnostics;
using System.Globalization;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// Per-command latency histograms, Redis 7.0's <c>latency-tracking</c> (https://redis.io/docs/management/optimization/latency-monitor/,
/// <c>updateCommandLatencyHistogram</c> in <c>server.c</c>): while <c>latency-tracking</c> is <c>yes</c> (the default) each
/// command's run time, in whole microseconds times 1000 (nanoseconds, within 1 ns … 1 s), is recorded in the histogram of its
/// command-table row (a subcommand its own), created at its first call and dropped by <c>CONFIG RESETSTAT</c>. The
/// histograms are HDR histograms with Redis's parameters (<see cref="Histogram"/>), so <c>LATENCY HISTOGRAM</c>'s buckets and
/// INFO <c>latencystats</c>' percentiles are computed as redis-server computes them. Recording is one
/// interlocked increment of a shared array (the call count is the counters' sum, derived when read) (no allocation after the first call of a command).
/// </summary>
public sealed class LatencyHistograms
{
    private readonly CommandTable _table;
    private Histogram?[] _rows;

    /// <summary>Histograms for the rows of <paramref name="table"/>.</summary>
    public LatencyHistograms(CommandTable table)
    {
        _table = table;
        _rows = new Histogram?[table.StatsRows.Count];
    }

    /// <summary>Records a call of <paramref name="command"/> that ran for <paramref name="elapsedTicks"/> (<see cref="Stopwatch"/> ticks).</summary>
    internal void Record(CommandInfo command, long elapsedTicks)
    {
        int row = command.StatsIndex;
        Histogram?[] rows = _rows;
        if ((uint)row >= (uint)rows.Length) return;
        Histogram histogram = rows[row] ?? Create(rows, row);
        long nanoseconds = (long)((double)elapsedTicks * 1_000_000 / Stopwatch.Frequency) * 1000;
        histogram.Record(nanoseconds);
    }

    private static Histogram Create(Histogram?[] rows, int row)
    {
        Interlocked.CompareExchange(ref rows[row], new Histogram(), null);
        return rows[row]!;
    }

    /// <summary><c>CONFIG RESETSTAT</c>: drops every histogram (Redis's <c>resetCommandTableStats</c>).</summary>
    public void Reset() => Volatile.Write(ref _rows, new Histogram?[_rows.Length]);

    /// <summary>The rows with a histogram, in command-table order (each command, then its subcommands).</summary>
    private IEnumerable<(CommandInfo Command, Histogram Histogram)> WithData(IEnumerable<CommandInfo> commands)
    {
        Histogram?[] rows = _rows;
        foreach (CommandInfo command in commands)
        {
            if (rows[command.StatsIndex] is { } histogram) yield return (command, histogram);
            if (command.Subcommands == null) continue;
            foreach (CommandInfo sub in command.Subcommands)
                if (rows[sub.StatsIndex] is { } subHistogram) yield return (sub, subHistogram);
        }
    }

    /// <summary>
    /// <c>LATENCY HISTOGRAM [command …]</c>: a map of command full name → {<c>calls</c>: n, <c>histogram_usec</c>: map of
    /// bucket upper bound (µs, powers of two from 1) → cumulative calls}, only commands with calls (a container's
    /// subcommands follow it; unknown names are skipped). RESP2: flat arrays.
    /// </summary>
    public void WriteHistogram(RespWriter w, in CommandArgs args)
    {
        var selected = new List<(CommandInfo, Histogram)>();
        if (args.Count == 2) selected.AddRange(WithData(_table.All));
        else
        {
            for (int j = 2; j < args.Count; j++)
                if (_table.Lookup(Encoding.UTF8.GetString(args[j])) is { } command) selected.AddRange(WithData([command]));
        }
        w.WriteMapHeader(selected.Count);
        foreach ((CommandInfo command, Histogram histogram) in selected)
        {
            w.WriteBulkString(command.FullName);
            w.WriteMapHeader(2);
            w.WriteBulkString("calls"u8);
            w.WriteInteger(histogram.TotalCount);
            w.WriteBulkString("histogram_usec"u8);
            List<(long Micros, long Cumulative)> buckets = histogram.Cumulative();
            w.WriteMapHeader(buckets.Count);
            foreach ((long micros, long cumulative) in buckets)
            {
                w.WriteInteger(micros);
                w.WriteInteger(cumulative);
            }
        }
    }

    /// <summary>
    /// INFO <c>latencystats</c>' lines: <c>latency_percentiles_usec_&lt;command&gt;:p50=…,p99=…,p99.9=…</c> per command with
    /// calls, for <paramref name="percentiles"/> (<c>latency-tracking-info-percentiles</c> as CONFIG GET prints it), each
    /// value in microseconds with three decimals.
    /// </summary>
    public void AppendInfo(StringBuilder text, string percentiles)
    {
        string[] names = percentiles.Length == 0 ? [] : percentiles.Split(' ');
        foreach ((CommandInfo command, Histogram histogram) in WithData(_table.All))
        {
            text.Append("latency_percentiles_usec_").Append(command.FullName).Append(':');
            for (int j = 0; j < names.Length; j++)
            {
                double p = double.Parse(names[j], CultureInfo.InvariantCulture);
                if (j > 0) text.Append(',');
                text.Append('p').Append(names[j]).Append('=')
                    .Append((histogram.ValueAtPercentile(p) / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
            }
            text.Append("\r\n");
        }
    }

    /// <summary>
    /// An HDR histogram as Redis configures it (<c>hdr_init(1, 1000000000, 2, …)</c> of <c>deps/hdr_histogram</c>): values 1 …
    /// 10⁹ with two significant digits — 256 sub-buckets (unit magnitude 0, half-count magnitude 7) in 23 buckets, 3072
    /// counters. Values outside the range are clamped to it, as Redis does before recording.
    /// </summary>
    internal sealed class Histogram
    {
        private const int SubBucketHalfCountMagnitude = 7;
        private const int SubBucketCount = 256;
        private const int SubBucketHalfCount = 128;
        private const long SubBucketMask = SubBucketCount - 1;
        private const int BucketCount = 23;
        private const int CountsLength = (BucketCount + 1) * SubBucketHalfCount;
        private const long Lowest = 1, Highest = 1_000_000_000;

        private readonly long[] _counts = new long[CountsLength];

        /// <summary>Calls recorded.</summary>
        public long TotalCount
        {
            get
            {
                // Derived when read (LATENCY HISTOGRAM, INFO), so a command pays one interlocked increment, not two.
                long total = 0;
                for (int i = 0; i < CountsLength; i++) total += Volatile.Read(ref _counts[i]);
                return total;
            }
        }

        private static int BucketIndex(long value) => 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask)) - (SubBucketHalfCountMagnitude + 1);

        private static int CountsIndex(long value)
        {
            int bucket = BucketIndex(value);
            int subBucket = (int)(value >> bucket);
            return ((bucket + 1) << SubBucketHalfCountMagnitude) + subBucket - SubBucketHalfCount;
        }

        private static long ValueAtIndex(int index)
        {
            int bucket = (index >> SubBucketHalfCountMagnitude) - 1;
            int subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
            if (bucket < 0)
            {
                subBucket -= SubBucketHalfCount;
                bucket = 0;
            }
            return (long)subBucket << bucket;
        }

        private static long LowestEquivalent(long value)
        {
            int bucket = BucketIndex(value);
            return (value >> bucket) << bucket;
        }

        private static long RangeSize(long value)
        {
            int bucket = BucketIndex(value);
            int subBucket = (int)(value >> bucket);
            return 1L << (subBucket >= SubBucketCount ? bucket + 1 : bucket);
        }

        private static long HighestEquivalent(long value) => LowestEquivalent(value) + RangeSize(value) - 1;

        /// <summary>Records one value (ns), clamped to 1 … 10⁹.</summary>
        public void Record(long value)
        {
            value = Math.Clamp(value, Lowest, Highest);
            Interlocked.Increment(ref _counts[CountsIndex(value)]);
        }

        /// <summary>Redis's <c>hdr_value_at_percentile</c>.</summary>
        public long ValueAtPercentile(double percentile)
        {
            double requested = percentile < 100.0 ? percentile : 100.0;
            long countAtPercentile = (long)(requested / 100 * TotalCount + 0.5);
            countAtPercentile = countAtPercentile > 0 ? countAtPercentile : 1;
            long value = 0, running = 0;
            for (int i = 0; i < CountsLength; i++)
            {
                running += Volatile.Read(ref _counts[i]);
                if (running < countAtPercentile) continue;
                value = ValueAtIndex(i);
                break;
            }
            return percentile == 0.0 ? LowestEquivalent(value) : HighestEquivalent(value);
        }

        /// <summary>
        /// Redis's <c>fillCommandCDF</c>: a logarithmic iteration (first bucket 1024 ns, base 2) listing each reporting level's
        /// highest equivalent value (µs) and the cumulative count there, when the count grew since the previous level.
        /// </summary>
        public List<(long Micros, long Cumulative)> Cumulative()
        {
            var buckets = new List<(long, long)>();
            long[] counts = new long[CountsLength];
            long total = 0;
            for (int i = 0; i < CountsLength; i++) total += counts[i] = Volatile.Read(ref _counts[i]);
            int index = -1;
            long cumulative = 0, value = 0, highestEquivalent = 0, previous = 0;
            long nextLevel = 1024, nextLevelLowest = LowestEquivalent(1024);
            while (true)
            {
                // log_iter_next: true when a reporting level is reached (or the counters end), false when done.
                bool more = cumulative < total || (index < CountsLength && ValueAtIndex(index + 1) > nextLevelLowest);
                if (!more) break;
                while (true)
                {
                    if (value >= nextLevelLowest)
                    {
                        nextLevel *= 2;
                        nextLevelLowest = LowestEquivalent(nextLevel);
                        break;
                    }
                    index++;
                    if (index >= CountsLength) break;
                    cumulative += counts[index];
                    value = ValueAtIndex(index);
                    highestEquivalent = LowestEquivalent(value) + RangeSize(value) - 1;
                }
                if (cumulative > previous) buckets.Add((highestEquivalent / 1000, cumulative));
                previous = cumulative;
                if (index >= CountsLength) break;
            }
            return buckets;
        }
    }
}
