using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// <c>MEMORY USAGE|STATS|DOCTOR|MALLOC-STATS|PURGE|HELP</c> with Redis 7.0's reply shapes and errors
/// (https://redis.io/commands/memory-usage/ and siblings). The figures are RespKv's own (see <see cref="MemoryFigures"/>):
/// the keyspace's managed-heap estimate stands where Redis reports <c>zmalloc</c>'s allocated bytes, and the .NET GC's
/// heap figures where it reports jemalloc's.
/// </summary>
public static class MemoryCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("memory", -2, None, 0, 0, 0, "server", "A container for memory diagnostics commands", null,
            new SessionCommandInfo("doctor", 2, None, 0, 0, 0, "server", "Outputs memory problems report", Doctor),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("malloc-stats", 2, None, 0, 0, 0, "server", "Show allocator internal stats", MallocStats),
            new SessionCommandInfo("purge", 2, None, 0, 0, 0, "server", "Ask the allocator to release memory", Purge),
            new SessionCommandInfo("stats", 2, None, 0, 0, 0, "server", "Show memory usage details", Stats),
            new SessionCommandInfo("usage", -3, ReadOnly, 2, 2, 1, "server", "Estimate the memory usage of a key", Usage)),
    ];

    /// <summary>
    /// <c>MEMORY USAGE key [SAMPLES count]</c>: an integer, the bytes the key holds — <see cref="KeyEntry.MemoryBytes"/>: the
    /// entry node, the key's array and the value's <see cref="ValueKind.MemoryBytes"/> (exact, so SAMPLES changes nothing);
    /// a null bulk string when the key is missing. Options are parsed first, as Redis: SAMPLES without a value, a negative
    /// count or another word: <c>-ERR syntax error</c>; a count that is not an integer: <c>-ERR value is not an integer
    /// or out of range</c>. Records no access and counts no keyspace hit (Redis's <c>dbFind</c>).
    /// </summary>
    private static void Usage(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        for (int i = 3; i < args.Count; i++)
        {
            if (!args.Is(i, "SAMPLES"u8) || i + 1 >= args.Count)
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
            if (!RespInteger.TryParse(args[++i], out long samples))
            {
                w.WriteError(CommandErrors.NotInteger);
                return;
            }
            if (samples < 0)
            {
                w.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        KeyEntry? entry = client.Database.FindNoTouch(args[2]);
        if (entry == null) w.WriteNullBulkString();
        else w.WriteInteger(entry.MemoryBytes);
    }

    /// <summary>
    /// <c>MEMORY STATS</c>: a map (RESP2: a flat array) with Redis 7.0's 27 fields in its order, plus after
    /// <c>functions.caches</c> one <c>db.N</c> map per database holding keys (<c>overhead.hashtable.main</c>,
    /// <c>overhead.hashtable.expires</c>, <c>overhead.hashtable.slot-to-keys</c>). Byte figures are integers, ratios and
    /// percentages doubles (RESP2 bulk strings). What each figure is in RespKv: <see cref="MemoryFigures"/>.
    /// </summary>
    private static void Stats(ClientSession client, in CommandArgs args)
    {
        MemoryFigures m = MemoryFigures.Measure(client.Server);
        RespWriter w = client.Writer;
        w.WriteMapHeader(27 + m.Databases.Count);
        Field(w, "peak.allocated", m.PeakAllocated);
        Field(w, "total.allocated", m.TotalAllocated);
        Field(w, "startup.allocated", m.StartupAllocated);
        Field(w, "replication.backlog", 0);
        Field(w, "clients.slaves", 0);
        Field(w, "clients.normal", m.ClientsNormal);
        Field(w, "cluster.links", 0);
        Field(w, "aof.buffer", m.AofBuffer);
        Field(w, "lua.caches", 0);
        Field(w, "functions.caches", 0);
        foreach ((int index, long main) in m.Databases)
        {
            w.WriteBulkString($"db.{index}");
            w.WriteMapHeader(3);
            Field(w, "overhead.hashtable.main", main);
            Field(w, "overhead.hashtable.expires", 0);
            Field(w, "overhead.hashtable.slot-to-keys", 0);
        }
        Field(w, "overhead.total", m.OverheadTotal);
        Field(w, "keys.count", m.Keys);
        Field(w, "keys.bytes-per-key", m.BytesPerKey);
        Field(w, "dataset.bytes", m.Dataset);
        Field(w, "dataset.percentage", m.DatasetPercent);
        Field(w, "peak.percentage", m.PeakPercent);
        Field(w, "allocator.allocated", m.AllocatorAllocated);
        Field(w, "allocator.active", m.AllocatorActive);
        Field(w, "allocator.resident", m.AllocatorResident);
        Field(w, "allocator-fragmentation.ratio", Ratio(m.AllocatorActive, m.AllocatorAllocated));
        Field(w, "allocator-fragmentation.bytes", m.AllocatorActive - m.AllocatorAllocated);
        Field(w, "allocator-rss.ratio", Ratio(m.AllocatorResident, m.AllocatorActive));
        Field(w, "allocator-rss.bytes", m.AllocatorResident - m.AllocatorActive);
        Field(w, "rss-overhead.ratio", Ratio(m.ProcessRss, m.AllocatorResident));
        Field(w, "rss-overhead.bytes", m.ProcessRss - m.AllocatorResident);
        Field(w, "fragmentation", Ratio(m.ProcessRss, m.TotalAllocated));
        Field(w, "fragmentation.bytes", m.ProcessRss - m.TotalAllocated);
    }

    private static void Field(RespWriter w, string name, long value)
    {
        w.WriteBulkString(name);
        w.WriteInteger(value);
    }

    private static void Field(RespWriter w, string name, double value)
    {
        w.WriteBulkString(name);
        w.WriteDouble(value);
    }

    /// <summary><paramref name="a"/> / <paramref name="b"/> computed in single precision, as Redis's <c>float</c> fields (0 when <paramref name="b"/> is 0).</summary>
    internal static double Ratio(long a, long b) => b == 0 ? 0 : (float)a / b;

    /// <summary>Bytes of total allocation under which MEMORY DOCTOR declines to judge (Redis: 5 MB).</summary>
    private const long DoctorMinimumBytes = 5L * 1024 * 1024;

    /// <summary>Bytes above which a fragmentation or RSS overhead counts as an issue (Redis: 10 MB).</summary>
    private const long DoctorIssueBytes = 10L << 20;

    /// <summary>Average pending reply bytes per client above which MEMORY DOCTOR reports big client buffers (Redis: 200 KB).</summary>
    private const long DoctorClientBufferBytes = 200L * 1024;

    /// <summary>
    /// <c>MEMORY DOCTOR</c>: Redis 7.0's report (<c>getMemoryDoctorReport</c>) as a verbatim string (RESP2 bulk) with its
    /// exact texts, judged on <see cref="MemoryFigures"/>: under 5 MB of data it declines ("Hi Sam, this instance is empty
    /// …"); otherwise it checks a peak over 150% of the current figure, total RSS fragmentation, the GC heap's
    /// fragmentation and committed-memory overhead, non-GC process memory (each over 1.1 or 1.4 and 10 MB, as Redis) and
    /// pending reply buffers over 200 KB per client on average. RespKv has no replicas nor scripts, so those two checks
    /// never fire.
    /// </summary>
    private static void Doctor(ClientSession client, in CommandArgs args)
    {
        MemoryFigures m = MemoryFigures.Measure(client.Server);
        client.Writer.WriteVerbatimText(DoctorReport(m, client.Server.Clients.Count));
    }

    /// <summary>The MEMORY DOCTOR text for <paramref name="m"/> with <paramref name="clients"/> connected clients.</summary>
    internal static string DoctorReport(in MemoryFigures m, int clients)
    {
        if (m.TotalAllocated < DoctorMinimumBytes)
            return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
        bool bigPeak = (float)m.PeakAllocated / m.TotalAllocated > 1.5;
        bool highFrag = Ratio(m.ProcessRss, m.TotalAllocated) > 1.4 && m.ProcessRss - m.TotalAllocated > DoctorIssueBytes;
        bool highAllocFrag = Ratio(m.AllocatorActive, m.AllocatorAllocated) > 1.1 && m.AllocatorActive - m.AllocatorAllocated > DoctorIssueBytes;
        bool highAllocRss = Ratio(m.AllocatorResident, m.AllocatorActive) > 1.1 && m.AllocatorResident - m.AllocatorActive > DoctorIssueBytes;
        bool highProcRss = Ratio(m.ProcessRss, m.AllocatorResident) > 1.1 && m.ProcessRss - m.AllocatorResident > DoctorIssueBytes;
        bool bigClientBuf = clients > 0 && m.ClientsNormal / clients > DoctorClientBufferBytes;
        if (!(bigPeak || highFrag || highAllocFrag || highAllocRss || highProcRss || bigClientBuf))
            return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
        var s = new System.Text.StringBuilder("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
        if (bigPeak) s.Append(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        if (highFrag) s.Append(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"").Append(AllocatorName).Append("\".\n\n");
        if (highAllocFrag) s.Append(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
        if (highAllocRss) s.Append(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
        if (highProcRss) s.Append(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
        if (bigClientBuf) s.Append(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
        s.Append("I'm here to keep you safe, Sam. I want to help you.\n");
        return s.ToString();
    }

    /// <summary>The allocator's name where Redis prints <c>ZMALLOC_LIB</c> (<c>jemalloc-5.3.0</c>).</summary>
    private const string AllocatorName = ".NET GC";

    /// <summary>
    /// <c>MEMORY MALLOC-STATS</c>: a verbatim string (RESP2 bulk). Redis prints jemalloc's statistics report; RespKv
    /// prints the .NET GC's figures (<see cref="GC.GetGCMemoryInfo()"/>) in <c>name: value</c> lines between
    /// <c>___ Begin .NET GC statistics ___</c> and <c>--- End .NET GC statistics ---</c>.
    /// </summary>
    private static void MallocStats(ClientSession client, in CommandArgs args)
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo();
        var s = new System.Text.StringBuilder("___ Begin .NET GC statistics ___\n");
        s.Append("Server GC: ").Append(System.Runtime.GCSettings.IsServerGC ? "true" : "false").Append('\n');
        s.Append("Allocated bytes (live and dead): ").Append(GC.GetTotalMemory(false)).Append('\n');
        s.Append("Heap size bytes: ").Append(info.HeapSizeBytes).Append('\n');
        s.Append("Fragmented bytes: ").Append(info.FragmentedBytes).Append('\n');
        s.Append("Committed bytes: ").Append(info.TotalCommittedBytes).Append('\n');
        s.Append("Total available memory bytes: ").Append(info.TotalAvailableMemoryBytes).Append('\n');
        s.Append("Pinned objects: ").Append(info.PinnedObjectsCount).Append('\n');
        for (int g = 0; g <= GC.MaxGeneration; g++) s.Append("Gen").Append(g).Append(" collections: ").Append(GC.CollectionCount(g)).Append('\n');
        s.Append("--- End .NET GC statistics ---\n");
        client.Writer.WriteVerbatimText(s.ToString());
    }

    /// <summary>
    /// <c>MEMORY PURGE</c>: <c>+OK</c> after a blocking, compacting full GC that returns free memory to the OS
    /// (<see cref="GCCollectionMode.Aggressive"/>) — the counterpart of Redis's jemalloc purge. Pauses every thread for
    /// the collection, as Redis's purge blocks its one thread.
    /// </summary>
    private static void Purge(ClientSession client, in CommandArgs args)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        client.Writer.WriteOk();
    }

    /// <summary><c>MEMORY HELP</c>: Redis 7.0's help text.</summary>
    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("MEMORY",
    [
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ]);
}

/// <summary>
/// The figures MEMORY STATS and MEMORY DOCTOR report (Redis 7.0's <c>getMemoryOverheadData</c>), in bytes, as RespKv
/// measures them:
/// <list type="bullet">
/// <item><see cref="TotalAllocated"/>: INFO <c>used_memory</c>, the keyspace's managed-heap estimate (<see cref="Keyspace.MemoryBytes"/>); <see cref="PeakAllocated"/> its peak.</item>
/// <item><see cref="StartupAllocated"/>: that estimate for the empty keyspace (every shard's initial bucket array).</item>
/// <item><see cref="ClientsNormal"/>: replies pending to clients; <see cref="AofBuffer"/>: AOF records appended but not yet written.</item>
/// <item><see cref="Databases"/>: per database with keys, its shards' bucket arrays (<c>overhead.hashtable.main</c>; RespKv keeps no separate expires table).</item>
/// <item>Allocator figures from the .NET GC: allocated = <see cref="GC.GetTotalMemory(bool)"/>, active = the heap size and resident = the committed bytes at the last collection (each at least the one before it); <see cref="ProcessRss"/> = the working set.</item>
/// </list>
/// </summary>
public readonly record struct MemoryFigures(
    long PeakAllocated, long TotalAllocated, long StartupAllocated, long ClientsNormal, long AofBuffer,
    IReadOnlyList<(int Index, long MainOverhead)> Databases, long Keys,
    long AllocatorAllocated, long AllocatorActive, long AllocatorResident, long ProcessRss)
{
    /// <summary>Startup bytes, client buffers, the AOF buffer and the databases' table overheads (Redis's <c>overhead_total</c>).</summary>
    public long OverheadTotal
    {
        get
        {
            long total = StartupAllocated + ClientsNormal + AofBuffer;
            foreach ((_, long main) in Databases) total += main;
            return total;
        }
    }

    /// <summary>Allocated bytes beyond start-up, at least 1 (Redis's <c>net_usage</c>).</summary>
    private long NetUsage => TotalAllocated > StartupAllocated ? TotalAllocated - StartupAllocated : 1;

    /// <summary>Allocated bytes not counted as overhead (Redis's <c>dataset</c>).</summary>
    public long Dataset => TotalAllocated > OverheadTotal ? TotalAllocated - OverheadTotal : 0;

    /// <summary><see cref="Dataset"/> as a percentage of the net usage.</summary>
    public double DatasetPercent => (float)Dataset * 100 / NetUsage;

    /// <summary>Net usage per key (0 without keys).</summary>
    public long BytesPerKey => Keys == 0 ? 0 : NetUsage / Keys;

    /// <summary>Current allocation as a percentage of the peak.</summary>
    public double PeakPercent => PeakAllocated == 0 ? 0 : (float)TotalAllocated * 100 / PeakAllocated;

    /// <summary>Measures <paramref name="server"/> now.</summary>
    public static MemoryFigures Measure(RespServer server)
    {
        Keyspace keyspace = server.Keyspace;
        long used = InfoBuilder.UsedMemory(server);
        long peak = server.Stats.TrackMemoryPeak(used);
        var databases = new List<(int, long)>();
        long keys = 0;
        for (int d = 0; d < keyspace.DatabaseCount; d++)
        {
            Database db = keyspace[d];
            long count = db.Count;
            if (count == 0) continue;
            keys += count;
            long buckets = 0;
            foreach (KeyspaceShard shard in db.Shards) buckets += shard.BucketCount;
            databases.Add((d, buckets * IntPtr.Size));
        }
        long clients = 0;
        foreach (ClientSession c in server.Clients.Snapshot()) clients += c.PendingReplyBytes;
        Persistence.AppendOnlyFile? aof = server.Aof;
        long aofBuffer = aof == null ? 0 : Math.Max(0, aof.AppendOffset - aof.WrittenOffset);
        // The GC's heap figures are those of its last collection (zero before the first): never below what is allocated now.
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        long allocated = GC.GetTotalMemory(false);
        long active = Math.Max(gc.HeapSizeBytes, allocated);
        long resident = Math.Max(gc.TotalCommittedBytes, active);
        return new MemoryFigures(peak, used, (long)keyspace.DatabaseCount * Database.ShardCount * KeyspaceShard.EmptyTableBytes,
            clients, aofBuffer, databases, keys, allocated, active, resident, Environment.WorkingSet);
    }
}
