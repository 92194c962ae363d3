using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using System.Text.RegularExpressions;
using System.Text;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;
using Serilog.Events;

namespace RespKv.Tests;

/// <summary>
/// The respkv-server executable: its redis-server-style arguments and config file, its logging, and its
/// process lifecycle (start, PING, SIGTERM, exit codes), run as a child process of the tests.
/// </summary>
public sealed partial class ExecutableTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void StartsAnswersPingAndExitsZeroOnSigterm()
    {
        using var server = ServerProcess.Start("--port", "0");
        int port = server.WaitUntilReady();
        using (var c = new RespTestClient(port))
        {
            Assert.Equal("+OK\r\n", c.Call("SET", "exe:sigterm", "v"));
            Assert.Equal("$1\r\nv\r\n", c.Call("GET", "exe:sigterm"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        server.SendSignal("TERM");
        Assert.Equal(0, server.WaitForExit());
        string output = server.Output;
        Assert.Contains($"pid={server.Pid}, mode=standalone, port={port}, bind=127.0.0.1", output);
        Assert.Contains("Received SIGTERM scheduling shutdown...", output);
        Assert.Contains("RespKv is now ready to exit, bye bye...", output);
    }

    [Fact]
    public void EveryThreadRunsUnderSchedBatchUnlessOptedOut()
    {
        if (!OperatingSystem.IsLinux()) return;
        using (var server = ServerProcess.Start("--port", "0", "--appendfsync", "always"))
        {
            int port = server.WaitUntilReady();
            using (var c = new RespTestClient(port)) Assert.Equal("+OK\r\n", c.Call("SET", "exe:batch", "v")); // the AOF writer has run
            Dictionary<string, int> policies = ThreadPolicies(server.Pid);
            Assert.Contains("RespKv AOF writ", policies.Keys);
            Assert.Contains(".NET Sockets", policies.Keys);
            Assert.All(policies, p => Assert.True(p.Value == 3, $"thread '{p.Key}' has policy {p.Value}, not SCHED_BATCH (3)"));
        }
        using (var optedOut = ServerProcess.Start(new Dictionary<string, string> { [BatchScheduling.OptOutVariable] = "0" }, "--port", "0"))
        {
            optedOut.WaitUntilReady();
            Assert.All(ThreadPolicies(optedOut.Pid), p => Assert.True(p.Value == 0, $"thread '{p.Key}' has policy {p.Value}, not SCHED_OTHER (0)"));
        }
    }

    /// <summary>Each thread's name and scheduling policy (field 41 of /proc/PID/task/TID/stat, proc(5)); one entry per name.</summary>
    private static Dictionary<string, int> ThreadPolicies(int pid)
    {
        var policies = new Dictionary<string, int>();
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread exited meanwhile
            }
            int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
            string name = stat[(open + 1)..close];
            string[] fields = stat[(close + 2)..].Split(' '); // fields[0] is field 3 (state)
            policies[name] = int.Parse(fields[41 - 3]);
        }
        return policies;
    }

    [Fact]
    public void SigtermClosesIdleClientsPromptly()
    {
        using var server = ServerProcess.Start("--port", "0");
        int port = server.WaitUntilReady();
        using var idle = new RespTestClient(port);
        Assert.Equal("+PONG\r\n", idle.Call("PING"));
        server.SendSignal("TERM");
        Assert.Equal(0, server.WaitForExit());
        Assert.True(idle.IsClosedByServer());
    }

    [Fact]
    public void ConfigFileIsReadAndCommandLineOptionsOverrideIt()
    {
        // The file's port is held by this test, so the server only starts if --port overrides it.
        using var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        int filePort = ((IPEndPoint)held.LocalEndpoint).Port;
        string conf = Path.Combine(Path.GetTempPath(), $"respkv-exe-{Guid.NewGuid():N}.conf");
        File.WriteAllText(conf, $"# RespKv test config\n\nPORT {filePort}\n  bind \"127.0.0.1\"  \ndatabases '4'\nloglevel warning\n");
        try
        {
            using var server = ServerProcess.Start(conf, "--port", "0", "--loglevel", "notice");
            int port = server.WaitUntilReady();
            Assert.NotEqual(filePort, port);
            using (var c = new RespTestClient(port))
            {
                Assert.Equal("+OK\r\n", c.Call("SELECT", "3"));
                Assert.Equal("-ERR DB index is out of range\r\n", c.Call("SELECT", "4"));
                Assert.Equal("+PONG\r\n", c.Call("PING"));
            }
            Assert.Contains("Configuration loaded from " + conf, server.Output);
            server.SendSignal("TERM");
            Assert.Equal(0, server.WaitForExit());
        }
        finally
        {
            File.Delete(conf);
        }
    }

    [Fact]
    public void BrokenTlsSettingsStopStartUpAsRedis()
    {
        using var server = ServerProcess.Start("--port", "0", "--tls-port", "1", "--tls-cert-file", "/nonexistent/server.crt",
            "--tls-key-file", "/nonexistent/server.key", "--tls-auth-clients", "no");
        Assert.Equal(1, server.WaitForExit());
        Assert.Contains("Failed to load certificate: /nonexistent/server.crt", server.Output);
        Assert.Contains("Failed to configure TLS. Check logs for more info.", server.Output);
    }

    [Fact]
    public void UnknownOptionExitsOneNamingIt()
    {
        using var server = ServerProcess.Start("--port", "0", "--no-such-option", "1");
        Assert.Equal(1, server.WaitForExit());
        Assert.Equal(
            $"\n*** FATAL CONFIG FILE ERROR (RespKv {RespServer.Version}) ***\nReading the configuration file, at line 3\n>>> 'no-such-option \"1\"'\nBad directive or wrong number of arguments\n",
            server.Errors);
    }

    [Fact]
    public void BadValueExitsOneWithTheReason()
    {
        using var server = ServerProcess.Start("--port", "abc");
        Assert.Equal(1, server.WaitForExit());
        Assert.Contains(">>> 'port \"abc\"'\nargument couldn't be parsed into an integer\n", server.Errors);
    }

    [Fact]
    public void AnUnknownTransportExitsOneNamingTheChoices()
    {
        using var server = ServerProcess.Start(new Dictionary<string, string> { ["RESPKV_TRANSPORT"] = "epoll" }, "--port", "0");
        Assert.Equal(1, server.WaitForExit());
        Assert.Equal("RESPKV_TRANSPORT must be kestrel, pipelines-sockets or socket-loop, not 'epoll'\n", server.Errors);
    }

    [Fact]
    public void TheSocketLoopTransportServesTheExecutable()
    {
        using var server = ServerProcess.Start(new Dictionary<string, string> { ["RESPKV_TRANSPORT"] = "socket-loop" }, "--port", "0");
        int port = server.WaitUntilReady();
        using var c = new RespTestClient(port);
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "v"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "k"));
    }

    [Fact]
    public void LogFileReceivesTheLogAtTheChosenLevel()
    {
        string logFile = Path.Combine(Path.GetTempPath(), $"respkv-exe-{Guid.NewGuid():N}.log");
        try
        {
            using var server = ServerProcess.Start("--port", "0", "--logfile", logFile, "--loglevel", "verbose");
            int port = server.WaitUntilReady(() => File.Exists(logFile) ? ReadShared(logFile) : "");
            using (var c = new RespTestClient(port))
                Assert.Equal("+PONG\r\n", c.Call("PING"));
            server.SendSignal("TERM");
            Assert.Equal(0, server.WaitForExit());
            string log = ReadShared(logFile);
            Assert.Matches(@"\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} \* Ready to accept connections", log);
            Assert.Contains(" - Accepted 127.0.0.1:", log); // verbose-level line
            Assert.Contains("bye bye", log);
            Assert.DoesNotContain("Ready to accept connections", server.Output);
        }
        finally
        {
            File.Delete(logFile);
        }
    }

    [Fact]
    public void VersionAndHelpPrintAndExitZero()
    {
        using (var version = ServerProcess.Start("--version"))
        {
            Assert.Equal(0, version.WaitForExit());
            Assert.StartsWith($"RespKv server v={RespServer.Version} redis_version=7.0.15 bits=64", version.Output);
        }
        using (var help = ServerProcess.Start("-h"))
        {
            Assert.Equal(0, help.WaitForExit());
            Assert.StartsWith("Usage: respkv-server [/path/to/redis.conf] [options] [-]", help.Output);
        }
    }

    // ---- argument and config parsing, in-process ----

    [Theory]
    [InlineData("port 7000", new[] { "port", "7000" })]
    [InlineData("  bind   127.0.0.1\t::1  ", new[] { "bind", "127.0.0.1", "::1" })]
    [InlineData("dir \"a b\\\\c\\n\\x41\"", new[] { "dir", "a b\\c\nA" })]
    [InlineData("dir 'it\\'s \\n'", new[] { "dir", "it's \\n" })]
    [InlineData("save \"\"", new[] { "save", "" })]
    [InlineData("a\"b c\"", new[] { "ab c" })]
    public void SplitArgsReadsRedisQuoting(string line, string[] expected) =>
        Assert.Equal(expected, RedisConfigText.SplitArgs(line));

    [Theory]
    [InlineData("dir \"unterminated")]
    [InlineData("dir 'unterminated")]
    [InlineData("dir \"closed\"x")]
    public void SplitArgsRejectsUnbalancedQuotes(string line) => Assert.Null(RedisConfigText.SplitArgs(line));

    [Fact]
    public void QuoteRoundTripsThroughSplitArgs()
    {
        const string value = "a \"b\" \\ \n\t\x01 'c'";
        Assert.Equal("\"a \\\"b\\\" \\\\ \\n\\t\\x01 'c'\"", RedisConfigText.Quote(value));
        Assert.Equal([value], RedisConfigText.SplitArgs(RedisConfigText.Quote(value)));
    }

    [Fact]
    public void OptionsTakeSeveralValuesUntilTheNextName()
    {
        ServerCommandLine cl = Parse("--bind", "127.0.0.1", "::1", "--databases", "3", "--port", "7001");
        Assert.Equal(ServerCommandLineAction.Run, cl.Action);
        Assert.Equal(["127.0.0.1", "::1"], cl.Options.Bind);
        Assert.Equal(3, cl.Options.Databases);
        Assert.Equal(7001, cl.Options.Port);
    }

    [Fact]
    public void DefaultsMatchTheDocumentedOnes()
    {
        ServerCommandLine cl = Parse();
        Assert.Equal(ServerCommandLineAction.Run, cl.Action);
        Assert.Equal(6379, cl.Options.Port);
        Assert.Equal(["127.0.0.1", "-::1"], cl.Options.Bind);
        Assert.Equal(Path.GetFullPath("./data"), cl.Options.Dir);
        Assert.Equal("notice", cl.Options.LogLevel);
    }

    [Fact]
    public void OneArgumentMayCarryNameAndValue()
    {
        // redis-server accepts "--port 7002" as a single argument (a script's quoted option).
        ServerCommandLine cl = Parse("--port 7002", "--loglevel", "WARNING");
        Assert.Equal(7002, cl.Options.Port);
        Assert.Equal("warning", cl.Options.LogLevel);
    }

    [Fact]
    public void ValueAfterANameIsTakenEvenIfItStartsWithDashes()
    {
        ServerCommandLine cl = Parse("--port", "--databases", "--databases", "2");
        Assert.Equal(ServerCommandLineAction.Fail, cl.Action);
        Assert.EndsWith(">>> 'port \"--databases\"'\nargument couldn't be parsed into an integer", cl.Error);
    }

    [Fact]
    public void BareSaveMeansEmptySave()
    {
        Assert.Equal(ServerCommandLineAction.Run, Parse("--save", "--port", "7003").Action);
        Assert.Equal(ServerCommandLineAction.Run, Parse("--port", "7003", "--save").Action);
        // A schedule is accepted and stored as Redis validates it (RespKv writes no RDB: it has no effect).
        ServerCommandLine withSchedule = Parse("--save", "900", "1", "--save", "300 10");
        Assert.Equal(ServerCommandLineAction.Run, withSchedule.Action);
        Assert.Equal("900 1 300 10", withSchedule.Options.Save);
        ServerCommandLine invalid = Parse("--save", "900");
        Assert.Equal(ServerCommandLineAction.Fail, invalid.Action);
        Assert.EndsWith(">>> 'save \"900\"'\nInvalid save parameters", invalid.Error);
    }

    [Fact]
    public void SingleValueSettingRejectsTwoValues()
    {
        ServerCommandLine cl = Parse("--port", "1", "2");
        Assert.EndsWith("at line 2\n>>> 'port \"1\" \"2\"'\nwrong number of arguments", cl.Error);
        Assert.EndsWith(">>> 'port'\nwrong number of arguments", Parse("--port").Error);
    }

    [Fact]
    public void ConfigFileLinesAreNumberedAndOptionsComeAfterThem()
    {
        string conf = Path.Combine(Path.GetTempPath(), $"respkv-exe-{Guid.NewGuid():N}.conf");
        File.WriteAllText(conf, "# comment\nport 7004\n\nDataBases 2\n");
        try
        {
            ServerCommandLine ok = Parse(conf, "--databases", "5");
            Assert.Equal(ServerCommandLineAction.Run, ok.Action);
            Assert.Equal(7004, ok.Options.Port);
            Assert.Equal(5, ok.Options.Databases);
            Assert.Equal(conf, ok.Options.ConfigFile);

            File.AppendAllText(conf, "maxclients lots\n");
            ServerCommandLine bad = Parse(conf);
            Assert.Equal(
                $"\n*** FATAL CONFIG FILE ERROR (RespKv {RespServer.Version}) ***\nReading the configuration file, at line 5\n>>> 'maxclients lots'\nargument couldn't be parsed into an integer",
                bad.Error);

            File.WriteAllText(conf, "dir \"unbalanced\n");
            Assert.EndsWith("at line 1\n>>> 'dir \"unbalanced'\nUnbalanced quotes in configuration line", Parse(conf).Error);
        }
        finally
        {
            File.Delete(conf);
        }
    }

    [Fact]
    public void StdinConfigIsReadBetweenFileAndOptions()
    {
        ServerCommandLine cl = ServerCommandLine.Parse(["-", "--databases", "7"], new StringReader("port 7005\ndatabases 2\n"));
        Assert.Equal(7005, cl.Options.Port);
        Assert.Equal(7, cl.Options.Databases);
    }

    [Fact]
    public void MissingConfigFileAndUnopenableLogFileAreFatal()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"respkv-missing-{Guid.NewGuid():N}.conf");
        Assert.Equal($"Fatal error, can't open config file '{missing}': No such file or directory", Parse(missing).Error);
        Assert.EndsWith("Can't open the log file: No such file or directory",
            Parse("--logfile", Path.Combine(missing, "x.log")).Error);
    }

    [Fact]
    public void VersionAndHelpAreRecognisedOnlyFirst()
    {
        Assert.Equal(ServerCommandLineAction.Version, Parse("-v").Action);
        Assert.Equal(ServerCommandLineAction.Help, Parse("--help").Action);
        Assert.EndsWith(">>> 'help'\nBad directive or wrong number of arguments", Parse("--port", "1", "--help").Error);
    }

    [Fact]
    public void LogLevelMapsOntoSerilogAndFollowsConfigSet()
    {
        var options = new ServerOptions { LogLevel = "verbose" };
        using var logging = new ServerLogging(options);
        Assert.Equal(LogEventLevel.Debug, logging.MinimumLevel);
        ConfigParameter loglevel = ConfigParameters.Find("loglevel")!;
        Assert.Null(loglevel.Set(options, "debug"));
        Assert.Equal(LogEventLevel.Verbose, logging.MinimumLevel);
        Assert.Null(loglevel.Set(options, "warning"));
        Assert.Equal(LogEventLevel.Warning, logging.MinimumLevel);
        Assert.Null(loglevel.Set(options, "nothing"));
        Assert.False(logging.Logger.IsEnabled(LogEventLevel.Fatal));
        Assert.Null(loglevel.Set(options, "notice"));
        Assert.Equal(LogEventLevel.Information, logging.MinimumLevel);
        Assert.True(logging.Logger.IsEnabled(LogEventLevel.Information));
    }

    [Fact]
    public void ConfigRewriteWritesTheStartupFileWithCommandLineOptionsAndConfigSetChanges()
    {
        string conf = Path.Combine(Path.GetTempPath(), $"respkv-rewrite-{Guid.NewGuid():N}.conf");
        File.WriteAllText(conf, "# kept comment\nport 0\nloglevel notice\n");
        try
        {
            using var server = ServerProcess.Start(conf, "--databases", "4");
            int port = server.WaitUntilReady();
            using (var c = new RespTestClient(port))
            {
                Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "loglevel", "warning", "maxmemory-policy", "allkeys-lru"));
                Assert.Equal("+OK\r\n", c.Call("CONFIG", "REWRITE"));
                Assert.Equal("+PONG\r\n", c.Call("PING"));
            }
            string dir = Path.Combine(server.WorkingDirectory, "data");
            // As redis-server: options from the command line differ from their defaults, so they are written too;
            // so is appendonly, whose executable default (yes) differs from Redis's and the library's (no); Redis always writes
            // latency-tracking-info-percentiles.
            Assert.Equal($"# kept comment\nport {port}\nloglevel warning\n# Generated by CONFIG REWRITE\n"
                + $"databases 4\ndir \"{dir}\"\nappendonly yes\nsave 3600 1\nsave 300 100\nsave 60 10000\nmaxmemory-policy allkeys-lru\n"
                + "latency-tracking-info-percentiles 50 99 99.9\nuser default on nopass ~* &* +@all\n", File.ReadAllText(conf));
            server.SendSignal("TERM");
            Assert.Equal(0, server.WaitForExit());
        }
        finally
        {
            File.Delete(conf);
        }
    }

    /// <summary>
    /// Debian's stock <c>/etc/redis/redis.conf</c> (redis-server 7.0's package) starts RespKv with only a foreground run's
    /// overrides, as .ci/run's stock-config step checks too: it serves PING, reads the file's settings, writes and removes the
    /// pidfile; without <c>--daemonize no</c> (the file says yes) start-up is refused with exit 1.
    /// </summary>
    [StockRedisConfFact]
    public void StartsOnDebiansStockRedisConf()
    {
        string work = Directory.CreateTempSubdirectory("respkv-stock-").FullName;
        try
        {
            string pidFile = Path.Combine(work, "respkv.pid");
            using (var server = ServerProcess.Start(StockRedisConfFactAttribute.Path, "--port", "0", "--dir", work, "--daemonize", "no", "--supervised", "no",
                       "--logfile", "", "--pidfile", pidFile))
            {
                int port = server.WaitUntilReady();
                using (var c = new RespTestClient(port))
                {
                    Assert.Equal("+PONG\r\n", c.Call("PING"));
                    Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", c.Call("CONFIG", "GET", "appendonly"));
                    Assert.Equal("*2\r\n$24\r\nhash-max-ziplist-entries\r\n$3\r\n512\r\n", c.Call("CONFIG", "GET", "hash-max-ziplist-entries"));
                    Assert.Equal("*2\r\n$22\r\nnotify-keyspace-events\r\n$0\r\n\r\n", c.Call("CONFIG", "GET", "notify-keyspace-events"));
                }
                Assert.Equal($"{server.Pid}\n", File.ReadAllText(pidFile));
                server.SendSignal("TERM");
                Assert.Equal(0, server.WaitForExit());
            }
            Assert.False(File.Exists(pidFile), "the pidfile is removed at shutdown");

            ServerCommandLine daemonized = Parse(StockRedisConfFactAttribute.Path, "--port", "0", "--dir", work, "--logfile", "");
            Assert.Equal(ServerCommandLineAction.Fail, daemonized.Action);
            Assert.Equal(ServerCommandLine.DaemonizeError, daemonized.Error);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A fact skipped where Debian's stock redis.conf is not installed (CI installs redis-server, so it runs there).</summary>
    private sealed class StockRedisConfFactAttribute : FactAttribute
    {
        /// <summary>Where the redis-server package puts its config file.</summary>
        public const string Path = "/etc/redis/redis.conf";

        public StockRedisConfFactAttribute()
        {
            if (!File.Exists(Path)) Skip = $"{Path} is not installed (apt-get install redis-server)";
        }
    }

    private static ServerCommandLine Parse(params string[] args) => ServerCommandLine.Parse(args, TextReader.Null);

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"mode=standalone, port=(\d+),")]
    private static partial Regex StartedLine();

    /// <summary>respkv-server.dll (copied next to the tests) run by the dotnet host as a child process; killed on dispose.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly StringBuilder _errors = new();
        private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _errorsClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The process's working directory: a fresh one per process, so the default <c>dir</c> (<c>./data</c>, with the AOF on) starts empty.</summary>
        private readonly string _workingDirectory;

        /// <summary>The process's working directory (fresh, deleted at dispose).</summary>
        public string WorkingDirectory => _workingDirectory;

        private ServerProcess(Process process, string workingDirectory)
        {
            _process = process;
            _workingDirectory = workingDirectory;
        }

        public int Pid => _process.Id;

        /// <summary>Standard output so far.</summary>
        public string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        /// <summary>Standard error so far.</summary>
        public string Errors
        {
            get { lock (_errors) return _errors.ToString(); }
        }

        public static ServerProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

        /// <summary>Starts the executable with <paramref name="environment"/> added to this process's environment.</summary>
        public static ServerProcess Start(Dictionary<string, string> environment, params string[] args)
        {
            var info = new ProcessStartInfo(DotnetHost())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = Directory.CreateTempSubdirectory("respkv-exe-").FullName,
            };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "respkv-server.dll"));
            foreach (string a in args) info.ArgumentList.Add(a);
            foreach ((string name, string value) in environment) info.Environment[name] = value;
            var process = new Process { StartInfo = info };
            var server = new ServerProcess(process, info.WorkingDirectory);
            process.OutputDataReceived += (_, e) => server.Append(server._output, server._outputClosed, e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(server._errors, server._errorsClosed, e.Data);
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return server;
        }

        /// <summary>Waits for "Ready to accept connections" in <paramref name="log"/> (default: standard output); returns the bound port.</summary>
        public int WaitUntilReady(Func<string>? log = null)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < StartTimeout)
            {
                string text = log?.Invoke() ?? Output;
                Match started = StartedLine().Match(text);
                if (started.Success && text.Contains("Ready to accept connections", StringComparison.Ordinal))
                    return int.Parse(started.Groups[1].Value);
                if (_process.HasExited) break;
                Thread.Sleep(20);
            }
            throw new TimeoutException($"server not ready within {StartTimeout}: stdout:\n{Output}\nstderr:\n{Errors}");
        }

        /// <summary>Sends a POSIX signal with kill(1); Process.Kill would send SIGKILL.</summary>
        public void SendSignal(string name)
        {
            using Process kill = Process.Start("kill", ["-" + name, Pid.ToString()]);
            Assert.True(kill.WaitForExit(ExitTimeout), "kill did not finish");
            Assert.Equal(0, kill.ExitCode);
        }

        /// <summary>Waits (bounded) for the process to exit and its output to be read; returns the exit code.</summary>
        public int WaitForExit()
        {
            if (!_process.WaitForExit(ExitTimeout))
                throw new TimeoutException($"server did not exit within {ExitTimeout}: stdout:\n{Output}\nstderr:\n{Errors}");
            Task.WaitAll([_outputClosed.Task, _errorsClosed.Task], ExitTimeout);
            return _process.ExitCode;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
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
                // a file still held open: leave it to the temp directory's cleanup
            }
        }

        private void Append(StringBuilder target, TaskCompletionSource closed, string? line)
        {
            if (line == null)
            {
                closed.TrySetResult();
                return;
            }
            lock (target) target.Append(line).Append('\n');
        }

        /// <summary>The dotnet host running these tests (the test host is started by it), else dotnet on PATH.</summary>
        private static string DotnetHost()
        {
            string? current = Environment.ProcessPath;
            if (current != null && Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
            return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        }
    }
}
