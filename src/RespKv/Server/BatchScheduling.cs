using System.Runtime.InteropServices;

namespace RespKv.Server;

/// <summary>
/// Runs the server's threads under Linux's <c>SCHED_BATCH</c> policy (sched(7)): same CPU share and nice value as the
/// default <c>SCHED_OTHER</c>, but a thread that wakes up does not preempt the one running; it runs when that one
/// blocks or its time slice ends. RespKv splits a request between threads — the socket thread parses and executes, the
/// AOF writer writes, fsyncs and sends the replies — and on a shared core each wake-up would otherwise switch threads
/// at once: the writer's group of replies would be cut into one socket-thread run per arriving request, and the writer
/// would fsync after the first record instead of after every request already received. With it, each thread finishes
/// its burst, as Redis's single event loop does. Measured as <c>bench/aof-benchmark.py</c> measures (server pinned to one
/// core, interleaved with redis-server; two runs of 4 rounds each way): unpipelined SET under <c>appendfsync always</c>
/// went from 0.91× to 1.08–1.15× redis-server's rate.
/// <para>
/// Applied to every thread that exists when called (<c>/proc/self/task</c>); threads created later inherit the policy
/// from their creator (sched(7): "a child created by fork(2) inherits its parent's scheduling policy", which holds for
/// threads, being clone(2)s). Needs no privilege: any thread may switch itself between SCHED_OTHER and SCHED_BATCH.
/// Nothing happens elsewhere than on Linux, or when <c>RESPKV_SCHED_BATCH=0</c> is set.
/// </para>
/// </summary>
public static partial class BatchScheduling
{
    /// <summary><c>SCHED_BATCH</c> from &lt;sched.h&gt; (Linux).</summary>
    private const int SchedBatch = 3;

    /// <summary>The environment variable that turns the policy off when set to <c>0</c>.</summary>
    public const string OptOutVariable = "RESPKV_SCHED_BATCH";

    /// <summary>
    /// Switches every thread of this process to <c>SCHED_BATCH</c>. Returns the number of threads switched, 0 when not
    /// on Linux or opted out; a thread that could not be switched (it exited meanwhile, or a seccomp policy forbids the
    /// call) is skipped and counted in <paramref name="failed"/>.
    /// </summary>
    public static int Apply(out int failed)
    {
        failed = 0;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(OptOutVariable) == "0") return 0;
        int switched = 0;
        var param = new SchedParam { Priority = 0 };
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (!int.TryParse(Path.GetFileName(task), out int tid)) continue;
            if (SetScheduler(tid, SchedBatch, in param) == 0) switched++;
            else failed++;
        }
        return switched;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SetScheduler(int pid, int policy, in SchedParam param);
}
