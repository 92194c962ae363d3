using System.Runtime.InteropServices;
using System.Text;
using RespKv.Configuration;

namespace RespKv.Server;

/// <summary>What the command line asks the executable to do.</summary>
public enum ServerCommandLineAction
{
    /// <summary>Run the server with <see cref="ServerCommandLine.Options"/>.</summary>
    Run,

    /// <summary>Print <see cref="ServerCommandLine.VersionText"/> and exit 0 (<c>-v</c>, <c>--version</c>).</summary>
    Version,

    /// <summary>Print <see cref="ServerCommandLine.UsageText"/> and exit 0 (<c>-h</c>, <c>--help</c>).</summary>
    Help,

    /// <summary>Print <see cref="ServerCommandLine.Error"/> to standard error and exit 1.</summary>
    Fail,
}

/// <summary>
/// The executable's arguments, read as redis-server 7.0 reads them (server.c <c>main</c>):
/// <c>[/path/to/redis.conf] [--name value...] [-]</c>. The config file is read first, then standard
/// input when <c>-</c> is given, then every <c>--name value [value...]</c> option as if appended to the
/// file, so options override the file. An option takes every following argument up to the next
/// <c>--name</c> (<c>--bind 127.0.0.1 ::1</c>), and the first argument after a name is always its value.
/// </summary>
/// <param name="Action">What to do.</param>
/// <param name="Options">The settings to run with (defaults overridden by file and options).</param>
/// <param name="Error">For <see cref="ServerCommandLineAction.Fail"/>: the whole message for standard error.</param>
public sealed record ServerCommandLine(ServerCommandLineAction Action, ServerOptions Options, string? Error = null)
{
    /// <summary>The <c>--version</c> line, shaped like redis-server's <c>Redis server v=7.0.15 ... bits=64</c>.</summary>
    public static string VersionText =>
        $"RespKv server v={RespServer.Version} redis_version={RespServer.RedisCompatibleVersion} bits={IntPtr.Size * 8} runtime=\"{RuntimeInformation.FrameworkDescription}\"";

    /// <summary>The <c>--help</c> text.</summary>
    public static string UsageText => """
        Usage: respkv-server [/path/to/redis.conf] [options] [-]
               respkv-server - (read config from stdin)
               respkv-server -v or --version
               respkv-server -h or --help

        Options are redis.conf settings written as --name value; they override the config file:
               --port 6379            TCP port (0 = any free port)
               --bind 127.0.0.1 ::1   addresses to listen on (0.0.0.0 = every IPv4 interface)
               --dir ./data           data directory
               --databases 16         number of databases
               --loglevel notice      debug, verbose, notice, warning or nothing
               --logfile ""           log file ("" = standard output)
               --appendonly yes       append-only file in dir (no = memory only)
               --appendfsync everysec always (reply after fsync), everysec or no
               --maxclients 10000, --timeout 0, --appendfilename appendonly.aof, --aof-load-truncated yes,
               --auto-aof-rewrite-percentage 100, --auto-aof-rewrite-min-size 64mb,
               --save "", --maxmemory 0, --maxmemory-policy noeviction, --pidfile /run/respkv.pid
        Every other redis.conf 7.0 setting is accepted too (CONFIG GET * lists them); daemonize yes is refused.

        Examples:
               respkv-server
               respkv-server /etc/respkv/6379.conf
               respkv-server --port 7777
               respkv-server /etc/respkv/6379.conf --loglevel verbose --bind 127.0.0.1 ::1
        """;

    /// <summary>
    /// Why the executable refuses <c>daemonize yes</c>: it never forks into the background (a .NET process cannot fork safely);
    /// a service manager (systemd with <c>Type=simple</c>, Docker) runs it in the foreground instead.
    /// </summary>
    public const string DaemonizeError =
        "daemonize yes is not supported by RespKv: it always runs in the foreground. Start it with --daemonize no under a supervisor (systemd, Docker).";

    /// <summary>
    /// Reads <paramref name="args"/>; <paramref name="stdin"/> is read to the end only when an argument is <c>-</c>.
    /// Any unknown option, bad value or unreadable file gives <see cref="ServerCommandLineAction.Fail"/>
    /// with redis-server's message, e.g.
    /// <c>*** FATAL CONFIG FILE ERROR (RespKv 0.1.0) ***\nReading the configuration file, at line 2\n&gt;&gt;&gt; 'port "abc"'\nargument couldn't be parsed into an integer</c>.
    /// </summary>
    public static ServerCommandLine Parse(string[] args, TextReader stdin)
    {
        // The executable persists by default (appendonly yes in ./data); the library's default stays off.
        var options = new ServerOptions { AppendOnly = true };
        if (args.Length == 0) return new(ServerCommandLineAction.Run, options);
        if (args[0] is "-v" or "--version") return new(ServerCommandLineAction.Version, options);
        if (args[0] is "-h" or "--help") return new(ServerCommandLineAction.Help, options);

        var config = new StringBuilder();
        int j = 0;
        if (args[0].Length > 0 && args[0][0] != '-')
        {
            string path = Path.GetFullPath(args[0]);
            try
            {
                config.Append(File.ReadAllText(path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new(ServerCommandLineAction.Fail, options,
                    $"Fatal error, can't open config file '{path}': {SystemErrorText(e, path)}");
            }
            options.ConfigFile = path;
            j = 1;
        }

        // The options become redis.conf lines: "--port" starts the line "port", each value is appended quoted.
        var lines = new StringBuilder();
        bool expectValue = false;
        bool fromStdin = false;
        for (; j < args.Length; j++)
        {
            string arg = args[j];
            if (arg == "-" && (j == 0 || j == args.Length - 1))
            {
                fromStdin = true;
            }
            else if (!expectValue && arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (lines.Length > 0) lines.Append('\n');
                lines.Append(arg, 2, arg.Length - 2).Append(' ');
                // "--port 6380" as one argument carries its own value; a bare name takes the next argument.
                expectValue = RedisConfigText.SplitArgs(arg) is not { Count: > 1 };
                // Redis 7.0.1+: a bare `--save` followed by another option (or at the end) means `--save ""`.
                if (expectValue && arg.Equals("--save", StringComparison.OrdinalIgnoreCase) &&
                    (j == args.Length - 1 || args[j + 1].StartsWith("--", StringComparison.Ordinal)))
                {
                    lines.Append("\"\"");
                    expectValue = false;
                }
            }
            else
            {
                lines.Append(RedisConfigText.Quote(arg)).Append(' ');
                expectValue = false;
            }
        }
        if (fromStdin) config.Append(stdin.ReadToEnd());
        config.Append('\n').Append(lines);

        string? error = RedisConfigText.Apply(options, config.ToString());
        if (error != null)
            return new(ServerCommandLineAction.Fail, options, $"\n*** FATAL CONFIG FILE ERROR (RespKv {RespServer.Version}) ***\n{error}");
        // Redis forks into the background; RespKv stays in the foreground and leaves that to a supervisor.
        if (options.Daemonize) return new(ServerCommandLineAction.Fail, options, DaemonizeError);
        return new(ServerCommandLineAction.Run, options);
    }

    /// <summary>An exception from opening <paramref name="path"/> as the C library's strerror would word it.</summary>
    public static string SystemErrorText(Exception e, string path) => SystemErrors.Describe(e, path);
}
