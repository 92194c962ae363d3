using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RespKv.Ecosystem.Tests.Support;

/// <summary>
/// The real respkv-server executable (respkv-server.dll, copied next to the tests by the project reference) run by the
/// dotnet host as a child process on a free port (<c>--port 0</c>; the bound port is read from its start-up line), with
/// the AOF off and a fresh working directory; killed, and its directory deleted, on dispose. With the environment variable
/// <c>RESPKV_ECO_REFERENCE</c> set to a redis-server binary, that server runs instead (<c>--port N --save ''</c>): the same
/// tests then show what Redis 7.0 does, to tell a RespKv incompatibility from a test's mistake.
/// </summary>
public sealed partial class RespKvProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _workingDirectory;

    private RespKvProcess(Process process, string workingDirectory)
    {
        _process = process;
        _workingDirectory = workingDirectory;
    }

    /// <summary>The port the server listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>Standard output and error so far (the server's log).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts the executable with <c>--port 0 --appendonly no</c> and <paramref name="args"/>; returns once it accepts connections.</summary>
    public static RespKvProcess Start(params string[] args) => Start(Environment.GetEnvironmentVariable("RESPKV_ECO_REFERENCE"), args);

    /// <summary>redis-server on PATH (the reference, 7.0.15 here), or null when it is not installed.</summary>
    public static string? ReferenceRedisServer { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Where(d => d.Length > 0)
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    /// <summary>Starts <paramref name="reference"/> (a redis-server binary) when given, else the respkv-server executable.</summary>
    public static RespKvProcess Start(string? reference, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "respkv-server.dll");
        if (reference == null && !File.Exists(dll)) throw new FileNotFoundException("respkv-server.dll is not next to the tests", dll);
        var info = new ProcessStartInfo(reference ?? DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory.CreateTempSubdirectory("respkv-eco-").FullName,
        };
        if (reference == null) info.ArgumentList.Add(dll);
        int port = reference == null ? 0 : FreePort();
        foreach (string a in (string[])["--port", port.ToString(), "--bind", "127.0.0.1", "--appendonly", "no", "--save", "", .. args])
            info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info };
        var server = new RespKvProcess(process, info.WorkingDirectory);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.Port = reference == null ? server.WaitUntilReady() : server.WaitUntilReferenceReady(port);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    private int WaitUntilReady()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            string text = Output;
            Match started = StartedLine().Match(text);
            if (started.Success && text.Contains("Ready to accept connections", StringComparison.Ordinal))
                return int.Parse(started.Groups[1].Value);
            if (_process.HasExited) break;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"respkv-server not ready within {StartTimeout}:\n{Output}");
    }

    private int WaitUntilReferenceReady(int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout && !_process.HasExited)
        {
            if (Output.Contains("Ready to accept connections", StringComparison.Ordinal)) return port;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"redis-server not ready within {StartTimeout}:\n{Output}");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line == null) return;
        lock (_output) _output.Append(line).Append('\n');
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_workingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a file still held open: left to the temp directory's cleanup
        }
    }

    /// <summary>The dotnet host running these tests, else dotnet on PATH.</summary>
    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        if (current != null && Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
    }

    [GeneratedRegex(@"mode=standalone, port=(\d+),")]
    private static partial Regex StartedLine();
}
