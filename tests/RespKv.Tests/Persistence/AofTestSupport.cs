using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using System.Text;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests.Persistence;

/// <summary>A temporary data directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"respkv-aof-{Guid.NewGuid():N}");

    public string Aof => System.IO.Path.Combine(Path, "appendonly.aof");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Starting in-process servers with the AOF on, and reference redis-server instances.</summary>
internal static class AofTestSupport
{
    /// <summary>
    /// A private in-process server with <c>appendonly yes</c> in <paramref name="dir"/>; its rewrites write commands
    /// (<c>aof-use-rdb-preamble no</c>, which these tests read back) unless <paramref name="configure"/> turns the preamble on.
    /// </summary>
    public static Task<RespKvHost> Start(string dir, string fsync = "always", Action<ServerOptions>? configure = null) =>
        ServerFixture.StartFresh(o =>
        {
            o.AppendOnly = true;
            o.AofUseRdbPreamble = false;
            o.Dir = dir;
            o.AppendFsync = fsync;
            configure?.Invoke(o);
        });

    /// <summary>RESP multibulk of <paramref name="args"/>.</summary>
    public static string Record(params string[] args)
    {
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (string a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return sb.ToString();
    }

    /// <summary>Path of a tool on PATH, or null.</summary>
    public static string? FindTool(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Runs a process to completion (bounded); returns its exit code and combined output.</summary>
    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        using Process p = Process.Start(info)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException($"{file} did not finish");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>A free TCP port on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts redis-server 7.0 (foreground child) on a free port with <paramref name="extra"/> options, waits for PING.
    /// Returns the process and port; the caller kills it.
    /// </summary>
    public static (Process Process, int Port) StartRedis(string redisServer, string dir, params string[] extra)
    {
        int port = FreePort();
        var info = new ProcessStartInfo(redisServer) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", dir }) info.ArgumentList.Add(a);
        foreach (string a in extra) info.ArgumentList.Add(a);
        Process p = Process.Start(info)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var c = new RespTestClient(port, 2000);
                if (c.Call("PING") == "+PONG\r\n") return (p, port);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
            }
            if (p.HasExited) break;
            Thread.Sleep(50);
        }
        try { p.Kill(); } catch (InvalidOperationException) { }
        throw new TimeoutException("redis-server did not answer PING");
    }

    /// <summary>Stops a process started by <see cref="StartRedis"/>.</summary>
    public static void Stop(Process p)
    {
        try
        {
            if (!p.HasExited) p.Kill();
            p.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        p.Dispose();
    }
}
