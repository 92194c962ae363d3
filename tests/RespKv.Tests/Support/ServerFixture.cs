using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Server;

namespace RespKv.Tests.Support;

/// <summary>
/// The real server, in-process, on 127.0.0.1 and a free port (port 0). One per test class
/// (<c>IClassFixture&lt;ServerFixture&gt;</c>); tests isolate themselves with their own key names or
/// database, or with <see cref="StartFresh"/> for a private server.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private RespKvHost? _host;

    /// <summary>The running host.</summary>
    public RespKvHost Host => _host ?? throw new InvalidOperationException("not started");

    /// <summary>The bound port.</summary>
    public int Port => Host.Port;

    /// <summary>Starts a private server with <paramref name="configure"/> applied to default options.</summary>
    public static async Task<RespKvHost> StartFresh(Action<ServerOptions>? configure = null) => await StartFresh(configure, log: null);

    /// <summary>Starts a private server with <paramref name="configure"/> applied, logging every level to <paramref name="log"/> when given.</summary>
    public static async Task<RespKvHost> StartFresh(Action<ServerOptions>? configure, CapturingLoggerProvider? log)
    {
        // No save points (Redis 7.0's default has them): a test server writes no dump.rdb unless its test asks for one.
        var options = new ServerOptions { Port = 0, Save = "" };
        configure?.Invoke(options);
        RespKvHost host = log == null ? RespKvHost.Create(options) : RespKvHost.Create(options, logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(log);
        });
        await host.StartAsync();
        return host;
    }

    /// <summary>A new raw RESP connection to this server.</summary>
    public RespTestClient Connect() => new(Port);

    /// <inheritdoc />
    public async Task InitializeAsync() => _host = await StartFresh();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_host != null) await _host.DisposeAsync();
    }
}
