using System.Collections.Concurrent;
using Hangfire;
using Hangfire.Common;
using Hangfire.Redis.StackExchange;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>The jobs of <see cref="HangfireTests"/>: each run is recorded, by name and by Hangfire job id.</summary>
public static class HangfireJobs
{
    /// <summary>Runs per job name.</summary>
    public static ConcurrentDictionary<string, int> Runs { get; } = new();

    /// <summary>Runs per Hangfire job id (a job run twice shows here).</summary>
    public static ConcurrentDictionary<string, int> RunsById { get; } = new();

    /// <summary>The scheduled occurrence (Unix seconds, the job parameter <c>Time</c> the recurring scheduler sets) of every run of each name.</summary>
    public static ConcurrentDictionary<string, ConcurrentQueue<long>> Occurrences { get; } = new();

    /// <summary>When each job name first ran.</summary>
    public static ConcurrentDictionary<string, DateTime> FirstRun { get; } = new();

    /// <summary>Attempts of the failing job, per name.</summary>
    public static ConcurrentDictionary<string, int> Attempts { get; } = new();

    /// <summary>Records one run of <paramref name="name"/>.</summary>
    public static void Record(string name, PerformContext? context)
    {
        FirstRun.TryAdd(name, DateTime.UtcNow);
        Runs.AddOrUpdate(name, 1, (_, n) => n + 1);
        if (context == null) return;
        RunsById.AddOrUpdate(context.BackgroundJob.Id, 1, (_, n) => n + 1);
        long occurrence = context.GetJobParameter<long>("Time");
        if (occurrence != 0) Occurrences.GetOrAdd(name, _ => new ConcurrentQueue<long>()).Enqueue(occurrence);
    }

    /// <summary>Fails its first two attempts, then succeeds (retried after 1 s each time).</summary>
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [1])]
    public static void FailTwice(string name)
    {
        int attempt = Attempts.AddOrUpdate(name, 1, (_, n) => n + 1);
        if (attempt <= 2) throw new InvalidOperationException($"attempt {attempt} fails on purpose");
        Runs.AddOrUpdate(name, 1, (_, n) => n + 1);
    }
}

/// <summary>
/// Hangfire.Core 1.8.25 with Hangfire.Redis.StackExchange 1.12.0 storage in RespKv, two servers (each its own connection):
/// enqueued, delayed, retried and recurring jobs each run exactly once per schedule.
/// </summary>
public sealed class HangfireTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    private RedisStorage Storage(string prefix, bool resp3) =>
        new(server.Connect(resp3), new RedisStorageOptions { Prefix = prefix });

    private static BackgroundJobServer Server(string name, JobStorage storage) => new(new BackgroundJobServerOptions
    {
        ServerName = name,
        WorkerCount = 4,
        SchedulePollingInterval = TimeSpan.FromMilliseconds(250),
        ShutdownTimeout = TimeSpan.FromSeconds(5),
    }, storage);

    private static string State(JobStorage storage, string id)
    {
        using IStorageConnection connection = storage.GetConnection();
        return connection.GetStateData(id)?.Name ?? "(none)";
    }

    [Fact]
    public async Task EnqueuedDelayedRetriedAndRecurringJobsRunExactlyOncePerSchedule()
    {
        string run = Guid.NewGuid().ToString("N")[..8];
        string prefix = $"{{hf{run}}}:";
        RedisStorage storageA = Storage(prefix, resp3: false), storageB = Storage(prefix, resp3: true);
        using BackgroundJobServer serverA = Server("A", storageA), serverB = Server("B", storageB);
        var client = new BackgroundJobClient(storageA);

        // Enqueued: 40 jobs, each runs once, on one of the two servers.
        string[] enqueued = Enumerable.Range(0, 40).Select(i => client.Enqueue(() => HangfireJobs.Record($"{run}:now:{i}", null))).ToArray();
        // Delayed: not before its time, then once.
        var delayedAt = DateTime.UtcNow;
        string delayed = client.Schedule(() => HangfireJobs.Record($"{run}:delayed", null), TimeSpan.FromSeconds(2));
        Assert.Equal(ScheduledState.StateName, State(storageA, delayed));
        // Retried: fails twice, succeeds on its third attempt, and is not run again.
        string retried = client.Enqueue(() => HangfireJobs.FailTwice($"{run}:retried"));
        // Recurring: every 2 seconds (a cron expression with seconds).
        var manager = new RecurringJobManager(storageB);
        manager.AddOrUpdate($"{run}:recurring", Job.FromExpression(() => HangfireJobs.Record($"{run}:recurring", null)), "*/2 * * * * *");
        var recurringFrom = DateTime.UtcNow;

        await Eventually.True(() => Enumerable.Range(0, 40).All(i => HangfireJobs.Runs.ContainsKey($"{run}:now:{i}")), TimeSpan.FromSeconds(30), "every enqueued job ran");
        // A job's state moves to Succeeded once its method has returned.
        await Eventually.True(() => enqueued.All(id => State(storageB, id) == SucceededState.StateName), TimeSpan.FromSeconds(10), "every enqueued job Succeeded");
        await Eventually.True(() => HangfireJobs.Runs.ContainsKey($"{run}:delayed"), TimeSpan.FromSeconds(20), "the delayed job ran");
        // Hangfire keeps a schedule as whole Unix seconds (its sorted-set score), so a job may start up to 1 s before its time.
        Assert.True(HangfireJobs.FirstRun[$"{run}:delayed"] - delayedAt >= TimeSpan.FromSeconds(1), "the delayed job ran before its time");
        await Eventually.True(() => HangfireJobs.Runs.ContainsKey($"{run}:retried"), TimeSpan.FromSeconds(30), "the retried job succeeded");
        await Eventually.True(() => State(storageA, retried) == SucceededState.StateName, TimeSpan.FromSeconds(10), "the retried job's state is Succeeded");

        // Let the recurring job fire several times, then stop it.
        await Task.Delay(TimeSpan.FromSeconds(7));
        manager.RemoveIfExists($"{run}:recurring");
        double window = (DateTime.UtcNow - recurringFrom).TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // let a run already enqueued finish

        Assert.All(Enumerable.Range(0, 40), i => Assert.Equal(1, HangfireJobs.Runs[$"{run}:now:{i}"]));
        Assert.Equal(1, HangfireJobs.Runs[$"{run}:delayed"]);
        Assert.Equal(3, HangfireJobs.Attempts[$"{run}:retried"]);
        Assert.Equal(1, HangfireJobs.Runs[$"{run}:retried"]);
        Assert.All(HangfireJobs.RunsById, kv => Assert.Equal(1, kv.Value)); // no job ran twice
        // The recurring job: one run per 2-second occurrence, though both servers run the recurring scheduler.
        List<long> occurrences = HangfireJobs.Occurrences[$"{run}:recurring"].Order().ToList();
        Assert.InRange(occurrences.Count, 2, (int)(window / 2) + 2);
        Assert.Equal(occurrences.Distinct(), occurrences); // no occurrence twice
        // Each on the schedule (even seconds) — but the first: in its default (relaxed) misfire mode Hangfire may run a new
        // recurring job's first occurrence at the moment it finds it due, which it records as that occurrence's time.
        Assert.All(occurrences.Skip(1), t => Assert.Equal(0, t % 2));
    }
}
