using System.Diagnostics;

namespace RespKv.Storage;

/// <summary>
/// The active expiry cycle (Redis 7.0's <c>activeExpireCycle</c>, slow cycle, effort 1), run by the server cron every
/// 100 ms so memory is reclaimed from expired keys nobody reads. Per database with keys that carry an expiry, it
/// repeats loops of <see cref="KeysPerLoop"/> sampled keys (<see cref="Database.ActiveExpireLoop"/>: one shard's next
/// buckets, by that shard's own cursor) while more than <see cref="AcceptableStalePercent"/>% of the sampled keys
/// were expired, within <see cref="TimeLimitPercent"/>% of the cron period (25 ms of one core per 100 ms tick).
/// <para>
/// Finding keys with an expiry: no separate index is kept (Redis keeps an <c>expires</c> dict); each shard counts
/// its keys with an expiry (<see cref="KeyspaceShard.VolatileCount"/>), shards without any are skipped, and the walk
/// of a shard's buckets only counts keys with an expiry as samples, visiting at most 20 buckets per wanted sample
/// (Redis's bound on empty buckets), so a shard of mostly persistent keys costs bounded time per loop.
/// </para>
/// </summary>
public sealed class ActiveExpiry
{
    /// <summary>Keys with an expiry sampled per loop (Redis's <c>ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP</c>).</summary>
    public const int KeysPerLoop = 20;

    /// <summary>A database's loops continue while more than this share of sampled keys was expired (Redis 7.0's <c>ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE</c>).</summary>
    public const int AcceptableStalePercent = 10;

    /// <summary>Share of each cron period the cycle may use (Redis's <c>ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC</c>).</summary>
    public const int TimeLimitPercent = 25;

    private readonly Keyspace _keyspace;
    private readonly List<KeyEntry> _scratch = new();
    private double _stalePercent;
    private long _timeCapReached;

    internal ActiveExpiry(Keyspace keyspace) => _keyspace = keyspace;

    /// <summary>Running estimate of the share (%) of keys with an expiry that are expired but not yet removed (INFO <c>expired_stale_perc</c>).</summary>
    public double StalePercent => Volatile.Read(ref _stalePercent);

    private long _cycleTicks;

    /// <summary>Time spent in active expiry cycles, in milliseconds (INFO <c>expire_cycle_cpu_milliseconds</c>).</summary>
    public long CycleMilliseconds => Interlocked.Read(ref _cycleTicks) * 1000 / Stopwatch.Frequency;

    /// <summary>Cycles that stopped at their time limit (INFO <c>expired_time_cap_reached_count</c>).</summary>
    public long TimeCapReachedCount => Interlocked.Read(ref _timeCapReached);

    private volatile bool _enabled = true;

    /// <summary>
    /// False while <c>DEBUG SET-ACTIVE-EXPIRE 0</c> has turned the cycle off (Redis's <c>server.active_expire_enabled</c>):
    /// <see cref="RunCycle"/> then does nothing and expired keys go only when a lookup finds them. True by default.
    /// </summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Runs one cycle (nothing while not <see cref="Enabled"/>); <paramref name="periodMs"/> is the cron period. Only the server cron calls it (not thread-safe).</summary>
    public void RunCycle(int periodMs)
    {
        if (!_enabled) return;
        long start = Stopwatch.GetTimestamp();
        long limit = Stopwatch.Frequency * periodMs * TimeLimitPercent / 100 / 1000;
        long now = _keyspace.Lifetime.NowMs;
        long totalSampled = 0, totalExpired = 0;
        bool timedOut = false;
        for (int d = 0; d < _keyspace.DatabaseCount && !timedOut; d++)
        {
            Database db = _keyspace[d];
            db.ActiveExpireFields(now);
            if (db.VolatileCount == 0)
            {
                db.ClearAverageTtl(); // as Redis: no key with an expiry, no average
                continue;
            }
            int iteration = 0;
            while (true)
            {
                var tally = new ActiveExpireTally();
                if (!db.ActiveExpireLoop(now, KeysPerLoop, _scratch, ref tally)) break;
                totalSampled += tally.Sampled;
                totalExpired += tally.Expired;
                if ((++iteration & 15) == 0 && Stopwatch.GetTimestamp() - start > limit)
                {
                    timedOut = true;
                    break;
                }
                // Keep going while this database looks stale, or while the walk met no key with an expiry.
                if (tally.Sampled != 0 && tally.Expired * 100 / tally.Sampled <= AcceptableStalePercent) break;
                if (tally.Sampled == 0 && iteration >= Database.ShardCount) break;
            }
        }
        if (timedOut) Interlocked.Increment(ref _timeCapReached);
        Interlocked.Add(ref _cycleTicks, Stopwatch.GetTimestamp() - start);
        double current = totalSampled == 0 ? 0 : (double)totalExpired / totalSampled;
        Volatile.Write(ref _stalePercent, current * 0.05 + _stalePercent * 0.95);
    }
}
