using System.Diagnostics;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The real <c>redis-benchmark</c> (7.0) with its default test list (no <c>-t</c>) against a fresh in-process server: a
/// correctness run, not a measurement (2,000 requests per test). redis-benchmark fetches CONFIG GET save/appendonly first
/// and exits at the first error reply, so every test must complete with nothing on standard error.
/// </summary>
public sealed class RedisBenchmarkTests
{
    /// <summary>redis-benchmark 7.0's default tests, in the order it runs them.</summary>
    private static readonly string[] DefaultTests =
    [
        "PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN",
        "LPUSH (needed to benchmark LRANGE)", "LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
        "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)",
    ];

    private static readonly string? Benchmark = AofTestSupport.FindTool("redis-benchmark");

    [Fact]
    public async Task DefaultTestListRunsWithoutErrors()
    {
        if (Benchmark == null) return; // redis-tools not installed (.ci/run installs it); nothing to run
        await using RespKvHost host = await ServerFixture.StartFresh();
        var start = new ProcessStartInfo(Benchmark)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-h", "127.0.0.1", "-p", host.Port.ToString(), "-q", "-n", "2000" }) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(240_000))
        {
            process.Kill();
            Assert.Fail("redis-benchmark did not finish within 240 s");
        }
        string stdout = await output, stderr = await error;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr}\n{stdout}");
        Assert.Equal("", stderr);
        // -q rewrites a progress line with \r; the result lines are "NAME: N requests per second, p50=N msec".
        string[] results = stdout.Split('\r', '\n').Where(l => l.Contains(" requests per second", StringComparison.Ordinal)).ToArray();
        Assert.Equal(DefaultTests, results.Select(l => l[..l.LastIndexOf(": ", l.IndexOf(" requests per second", StringComparison.Ordinal), StringComparison.Ordinal)]).ToArray());
        Assert.DoesNotContain("WARNING", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Error", stdout, StringComparison.Ordinal);
        using var c = new RespTestClient(host.Port);
        // Without -r the keys are literal: the INCR test incremented one counter 2,000 times; SET and MSET wrote 3-byte values.
        Assert.Equal("$4\r\n2000\r\n", c.Call("GET", "counter:__rand_int__"));
        Assert.StartsWith("$3\r\n", c.Call("GET", "key:__rand_int__"));
    }
}
