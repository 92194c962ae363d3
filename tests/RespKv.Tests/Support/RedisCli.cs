using System.Diagnostics;

namespace RespKv.Tests.Support;

/// <summary>Runs the real <c>redis-cli</c> binary (Debian package redis-tools) against a port.</summary>
public static class RedisCli
{
    /// <summary>Full path of redis-cli on PATH, or null when it is not installed.</summary>
    public static string? Path { get; } = Find();

    private static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string candidate = System.IO.Path.Combine(dir, "redis-cli");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Runs <c>redis-cli -h 127.0.0.1 -p <paramref name="port"/> <paramref name="args"/>…</c> with
    /// <paramref name="stdin"/> as its input; returns exit code, standard output and standard error.
    /// Fails the test if it does not finish within <paramref name="timeoutMs"/>.
    /// </summary>
    public static (int ExitCode, string Output, string Error) Run(int port, byte[]? stdin, int timeoutMs, params string[] args)
    {
        return Run(port, stdin, timeoutMs, killAfterTimeout: false, args);
    }

    /// <summary>
    /// Runs a redis-cli mode that never ends by itself (<c>--stat</c>, <c>--latency-history</c>) for
    /// <paramref name="durationMs"/>, then kills it; returns what it printed. Its standard output is made line-buffered
    /// (coreutils' <c>stdbuf -oL</c>): redis-cli buffers a pipe fully and would lose the buffer when killed.
    /// </summary>
    public static string RunFor(int port, int durationMs, params string[] args) =>
        Run(port, null, durationMs, killAfterTimeout: true, args).Output;

    private static (int ExitCode, string Output, string Error) Run(int port, byte[]? stdin, int timeoutMs, bool killAfterTimeout, string[] args)
    {
        string cli = Path ?? throw new InvalidOperationException("redis-cli is not installed");
        var start = new ProcessStartInfo(killAfterTimeout ? "stdbuf" : cli)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (killAfterTimeout)
        {
            start.ArgumentList.Add("-oL");
            start.ArgumentList.Add(cli);
        }
        start.ArgumentList.Add("-h");
        start.ArgumentList.Add("127.0.0.1");
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(port.ToString());
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        Task feed = Task.Run(() =>
        {
            if (stdin != null) process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        });
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            if (!killAfterTimeout) Assert.Fail($"redis-cli {string.Join(' ', args)} did not finish within {timeoutMs} ms");
            process.WaitForExit();
        }
        feed.Wait();
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>A fact that is skipped, saying why, when the redis-cli binary is not installed.</summary>
public sealed class RedisCliFactAttribute : FactAttribute
{
    /// <summary>Skips the test when <see cref="RedisCli.Path"/> is null.</summary>
    public RedisCliFactAttribute()
    {
        if (RedisCli.Path == null) Skip = "redis-cli is not installed (apt-get install redis-tools; .ci/run installs it)";
    }
}
