using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using RespKv.Commands;
using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// INFO <c>commandstats</c>, <c>errorstats</c> and the operation counts of <c># Keyspace_totals</c>
/// (https://redis.io/commands/info/). Per-command counters are plain increments in each session's own
/// <see cref="CommandCounters"/> block (no shared cache line on the command path) and are folded in here
/// when the client disconnects; a reading sums the retired block and every live session's. Error replies
/// are rare and counted here under a lock, by their code. <c>CONFIG RESETSTAT</c> records the current
/// sums as a baseline (sessions' blocks are never written from another thread) and clears the error counts.
/// </summary>
public sealed class CommandStatistics : IErrorReplySink
{
    private readonly CommandTable _table;
    private readonly long[] _retired;
    private long[] _baseline;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _totalErrorReplies;

    /// <summary>Statistics over the rows of <paramref name="table"/>.</summary>
    public CommandStatistics(CommandTable table)
    {
        _table = table;
        _retired = new long[table.StatsRows.Count * CommandCounters.Stride];
        _baseline = new long[_retired.Length];
    }

    /// <summary>A fresh per-session block for this table.</summary>
    internal CommandCounters NewCounters() => new(_retired.Length);

    /// <summary>Error replies written since start or the last <c>CONFIG RESETSTAT</c> (INFO <c>total_error_replies</c>).</summary>
    public long TotalErrorReplies
    {
        get
        {
            lock (_lock) return _totalErrorReplies;
        }
    }

    /// <summary>
    /// Counts one error reply under its code, as Redis's <c>afterErrorReply</c>: the text before the first
    /// space within the reply's first 32 bytes (counting the <c>-</c>), else <c>ERR</c>.
    /// </summary>
    public void ErrorReplied(ReadOnlySpan<byte> message)
    {
        int space = message[..Math.Min(message.Length, 31)].IndexOf((byte)' ');
        string code = space >= 0 ? Encoding.UTF8.GetString(message[..space]) : "ERR";
        lock (_lock)
        {
            _totalErrorReplies++;
            _errors[code] = _errors.GetValueOrDefault(code) + 1;
        }
    }

    /// <summary>The error codes seen and their counts (INFO <c>errorstat_CODE:count=N</c>), in ordinal order as Redis's rax prints them.</summary>
    public List<KeyValuePair<string, long>> ErrorCounts()
    {
        lock (_lock) return new List<KeyValuePair<string, long>>(_errors);
    }

    /// <summary>Folds a disconnecting session's counters into the retired totals.</summary>
    internal void Retire(CommandCounters counters)
    {
        lock (_lock)
        {
            long[] values = counters.Values;
            for (int i = 0; i < values.Length; i++) _retired[i] += values[i];
        }
    }

    /// <summary>
    /// Per-row totals since start or the last reset, indexed <c>row.StatsIndex * Stride + field</c>
    /// (fields <see cref="CommandCounters.Calls"/> …); durations in <see cref="Stopwatch"/> ticks.
    /// </summary>
    public long[] Snapshot(ClientRegistry clients)
    {
        long[] sums = Raw(clients);
        lock (_lock)
            for (int i = 0; i < sums.Length; i++) sums[i] -= _baseline[i];
        return sums;
    }

    /// <summary><c>CONFIG RESETSTAT</c>: commandstats restart from zero and error counts are forgotten (Redis's <c>resetCommandTableStats</c>, <c>resetErrorTableStats</c>).</summary>
    public void Reset(ClientRegistry clients)
    {
        long[] now = Raw(clients);
        lock (_lock)
        {
            _baseline = now;
            _errors.Clear();
            _totalErrorReplies = 0;
        }
    }

    /// <summary>
    /// The keyspace operation counts of <c># Keyspace_totals</c> from a <see cref="Snapshot"/>:
    /// <c>get_ops</c> = key arguments of executed read-only commands (GET 1, MGET a b c 3, HGET 1, EXISTS a b 2 …);
    /// <c>del_ops</c> = key arguments of executed DEL and UNLINK; <c>set_ops</c> = key arguments of every other
    /// executed write command (SET, MSET a 1 b 2 = 2, INCR, HSET, GETDEL …). A command that ran counts even
    /// when it replied with an error (WRONGTYPE); a rejected one (arity, unknown, queued in MULTI) does not.
    /// </summary>
    public (long GetOps, long SetOps, long DelOps) KeyOperations(long[] snapshot)
    {
        long get = 0, set = 0, del = 0;
        foreach (CommandInfo row in _table.StatsRows)
        {
            int at = row.StatsIndex * CommandCounters.Stride;
            long keys = snapshot[at + CommandCounters.Keys] + snapshot[at + CommandCounters.Calls] * CommandCounters.FixedKeyCount(row);
            if (keys == 0) continue;
            if (row.Parent == null && row.Name is "del" or "unlink") del += keys;
            else if (row.IsWrite) set += keys;
            else if ((row.Flags & CommandFlags.ReadOnly) != 0) get += keys;
        }
        return (get, set, del);
    }

    private long[] Raw(ClientRegistry clients)
    {
        var sums = new long[_retired.Length];
        lock (clients.MembershipLock)
        {
            lock (_lock) Array.Copy(_retired, sums, sums.Length);
            foreach (ClientSession client in clients.Live)
            {
                long[] values = client.CommandCounters.Values;
                for (int i = 0; i < sums.Length; i++) sums[i] += Volatile.Read(ref values[i]);
            }
        }
        return sums;
    }
}

/// <summary>
/// One session's per-command counters: <see cref="Stride"/> longs per command-table row, written only by
/// the session's own thread (plain increments on the command path).
/// </summary>
public sealed class CommandCounters
{
    /// <summary>Longs per row.</summary>
    public const int Stride = 5;
    /// <summary>Field: calls that ran (<c>calls=</c>).</summary>
    public const int Calls = 0;
    /// <summary>Field: time spent in the handler, <see cref="Stopwatch"/> ticks (<c>usec=</c> after conversion).</summary>
    public const int Ticks = 1;
    /// <summary>Field: calls that ran and replied with an error (<c>failed_calls=</c>).</summary>
    public const int Failed = 2;
    /// <summary>Field: calls rejected before running — wrong arity, not allowed in MULTI (<c>rejected_calls=</c>).</summary>
    public const int Rejected = 3;
    /// <summary>
    /// Field: key arguments of the calls that ran, for rows with a variable number of keys (negative
    /// <see cref="CommandInfo.LastKey"/>); a row with fixed key positions has <see cref="FixedKeyCount"/> per call,
    /// multiplied out when read (get_ops/set_ops/del_ops).
    /// </summary>
    public const int Keys = 4;

    internal CommandCounters(int length) => Values = new long[length];

    /// <summary>The counters, indexed <c>row.StatsIndex * Stride + field</c>.</summary>
    internal long[] Values { get; }

    /// <summary>
    /// Records one call of <paramref name="row"/> with <paramref name="argc"/> arguments that ran for <paramref name="ticks"/>;
    /// without <paramref name="countCall"/> (the re-run that unblocks a blocked command) only its time and a failure.
    /// </summary>
    internal void Ran(CommandInfo row, long ticks, int argc, bool failed, bool countCall = true)
    {
        ref long first = ref Values[row.StatsIndex * Stride];
        Unsafe.Add(ref first, Ticks) += ticks;
        if (countCall)
        {
            first++;
            if (row.LastKey < 0) Unsafe.Add(ref first, Keys) += KeyCount(row.KeyIndexes(argc));
        }
        if (failed) Unsafe.Add(ref first, Failed)++;
    }

    /// <summary>
    /// Key arguments per call of a row with fixed key positions (non-negative <see cref="CommandInfo.LastKey"/>;
    /// every such row's arity guarantees its last key is present); 0 for a row with variable keys or none.
    /// </summary>
    public static int FixedKeyCount(CommandInfo row) =>
        row.FirstKey == 0 || row.LastKey < 0 ? 0 : KeyCount(row.KeyIndexes(int.MaxValue));

    private static int KeyCount(KeyIndexRange keys)
    {
        if (keys.Last < keys.First) return 0;
        int span = keys.Last - keys.First;
        return (keys.Step == 1 ? span : span / keys.Step) + 1;
    }

    /// <summary>Records one rejection of <paramref name="row"/>.</summary>
    internal void CountRejection(CommandInfo row) => Values[row.StatsIndex * Stride + Rejected]++;
}
