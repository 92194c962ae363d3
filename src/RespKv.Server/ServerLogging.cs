using System.Globalization;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Sinks.SystemConsole.Themes;
using Serilog;

namespace RespKv.Server;

/// <summary>
/// The executable's Serilog pipeline: Redis-shaped lines (<c>pid:M 21 Nov 2025 16:43:21.198 * Ready to accept connections</c>,
/// with Redis's level marks <c>.</c> debug, <c>-</c> verbose, <c>*</c> notice, <c>#</c> warning) written to
/// standard output, or appended to <c>logfile</c> when one is set. The level follows <c>loglevel</c>
/// through a <see cref="LoggingLevelSwitch"/>, also when CONFIG SET changes it at runtime.
/// </summary>
public sealed class ServerLogging : IDisposable
{
    /// <summary>Redis's log line layout (server.c <c>serverLogRaw</c>).</summary>
    public const string OutputTemplate =
        "{Pid}:M {Timestamp:dd MMM yyyy HH:mm:ss.fff} {LevelMark} {Message:lj}{NewLine}{Exception}";

    /// <summary>Above <see cref="LogEventLevel.Fatal"/>: nothing passes (<c>loglevel nothing</c>).</summary>
    private const LogEventLevel Nothing = (LogEventLevel)(1 + (int)LogEventLevel.Fatal);

    private readonly LoggingLevelSwitch _level;

    // ASP.NET Core's own categories ("Microsoft.*") are quieter: only their warnings, as Redis logs no framework chatter.
    private readonly LoggingLevelSwitch _frameworkLevel;

    /// <summary>
    /// Builds the pipeline for <paramref name="options"/> (<c>loglevel</c>, <c>logfile</c>) and subscribes to
    /// <see cref="ServerOptions.LogLevelChanged"/>.
    /// </summary>
    public ServerLogging(ServerOptions options)
    {
        _level = new LoggingLevelSwitch(ToSerilogLevel(options.LogLevel));
        _frameworkLevel = new LoggingLevelSwitch(FrameworkLevel(_level.MinimumLevel));
        LoggerConfiguration configuration = new LoggerConfiguration()
            .MinimumLevel.ControlledBy(_level)
            .MinimumLevel.Override("Microsoft", _frameworkLevel)
            // The host's "Hosting failed to start" error repeats what Program logs as Redis does; its detail is at verbose.
            .MinimumLevel.Override("Microsoft.Extensions.Hosting", Nothing)
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            .Enrich.With<RedisLevelMark>();
        if (options.LogFile.Length > 0)
            configuration.WriteTo.File(options.LogFile, outputTemplate: OutputTemplate, formatProvider: CultureInfo.InvariantCulture);
        else
            configuration.WriteTo.Console(outputTemplate: OutputTemplate, formatProvider: CultureInfo.InvariantCulture, theme: ConsoleTheme.None);
        Logger = configuration.CreateLogger();
        options.LogLevelChanged = SetLevel;
    }

    /// <summary>The Serilog logger (the executable's own start-up and shutdown lines).</summary>
    public Logger Logger { get; }

    /// <summary>The current minimum level.</summary>
    public LogEventLevel MinimumLevel => _level.MinimumLevel;

    /// <summary>
    /// Routes the host's Microsoft.Extensions.Logging (the RespKv library, Kestrel, the generic host) into this pipeline,
    /// through Serilog.Extensions.Hosting's registration (<c>AddSerilog</c>: the logger factory and the diagnostic context).
    /// </summary>
    public void Configure(ILoggingBuilder logging)
    {
        // Let every event reach Serilog; the level switch decides, so CONFIG SET loglevel can lower it later.
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.Services.AddSerilog(Logger, dispose: false);
    }

    /// <summary>Re-levels the pipeline to the Redis level <paramref name="redisLevel"/> (see <see cref="ToSerilogLevel"/>).</summary>
    public void SetLevel(string redisLevel)
    {
        _level.MinimumLevel = ToSerilogLevel(redisLevel);
        _frameworkLevel.MinimumLevel = FrameworkLevel(_level.MinimumLevel);
    }

    /// <summary>
    /// Maps a Redis <c>loglevel</c> onto Serilog: debug → Verbose (Microsoft Trace), verbose → Debug,
    /// notice → Information, warning → Warning, nothing → above Fatal (nothing is written).
    /// </summary>
    /// <exception cref="ArgumentException">Not one of Redis's five levels.</exception>
    public static LogEventLevel ToSerilogLevel(string redisLevel) => redisLevel.ToLowerInvariant() switch
    {
        "debug" => LogEventLevel.Verbose,
        "verbose" => LogEventLevel.Debug,
        "notice" => LogEventLevel.Information,
        "warning" => LogEventLevel.Warning,
        "nothing" => Nothing,
        _ => throw new ArgumentException($"unknown loglevel '{redisLevel}'", nameof(redisLevel)),
    };

    private static LogEventLevel FrameworkLevel(LogEventLevel level) =>
        level > LogEventLevel.Warning ? level : LogEventLevel.Warning;

    /// <summary>Flushes and closes the sink.</summary>
    public void Dispose() => Logger.Dispose();

    /// <summary>Adds <c>LevelMark</c>: Redis's one-character level (<c>.</c> <c>-</c> <c>*</c> <c>#</c>).</summary>
    private sealed class RedisLevelMark : ILogEventEnricher
    {
        private static readonly LogEventProperty Debug = new("LevelMark", new ScalarValue('.'));
        private static readonly LogEventProperty Verbose = new("LevelMark", new ScalarValue('-'));
        private static readonly LogEventProperty Notice = new("LevelMark", new ScalarValue('*'));
        private static readonly LogEventProperty Warning = new("LevelMark", new ScalarValue('#'));

        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory) =>
            logEvent.AddPropertyIfAbsent(logEvent.Level switch
            {
                LogEventLevel.Verbose => Debug,
                LogEventLevel.Debug => Verbose,
                LogEventLevel.Information => Notice,
                _ => Warning,
            });
    }
}
