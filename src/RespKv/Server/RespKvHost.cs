using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;

namespace RespKv.Server;

/// <summary>
/// Hosts a <see cref="RespServer"/> on Kestrel: one TCP listener per <c>bind</c> address on <c>port</c>, and one on
/// <c>tls-port</c> behind Kestrel's TLS middleware (<see cref="TlsConfiguration"/>) when it is set, each running
/// <see cref="RespConnectionHandler"/>. Port 0 binds a free port (see <see cref="Port"/>),
/// so tests and benchmarks run the real server in-process.
/// </summary>
public sealed class RespKvHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<ListenOptions> _listeners = new();
    private readonly List<ListenOptions> _tlsListeners = new();
    private volatile TlsConfiguration? _tls;

    /// <summary>How long a TLS client has to complete its handshake before the connection is closed.</summary>
    private static readonly TimeSpan TlsHandshakeTimeout = TimeSpan.FromSeconds(10);
    private ServerCron? _cron;
    private string? _temporaryDir;

    private RespKvHost(ServerOptions options, Action<ILoggingBuilder>? configureLogging, CommandTable? commands, TransportKind transport)
    {
        PreferInlineSocketCompletions();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        builder.WebHost.UseKestrelCore();
        if (transport == TransportKind.Kestrel)
        {
            builder.WebHost.UseSockets(sockets =>
            {
                // Run the RESP loop on the socket's completion thread: no thread-pool hop per request.
                sockets.UnsafePreferInlineScheduling = true;
                sockets.NoDelay = true;
            });
        }
        else
        {
            // A measured alternative (SocketTransports.cs) behind the same seam: Kestrel's pipeline and handler stay.
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(new SocketListenerFactory(transport));
        }
        builder.Services.AddSingleton(sp => new RespServer(options, sp.GetRequiredService<ILoggerFactory>(), commands));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // With a TLS port, "port 0" disables the plain listener as in Redis 7.0; without one it binds a free port.
            bool plain = options.Port != 0 || options.TlsPort == 0;
            foreach (string address in options.Bind)
            {
                IPAddress ip = ParseBindAddress(address);
                // "-addr" is optional, as in Redis 7.0: skipped when this machine cannot bind it (no IPv6,
                // address not on any interface) instead of failing start-up.
                if (address.StartsWith('-') && !CanBind(ip)) continue;
                if (plain)
                {
                    kestrel.Listen(ip, options.Port, listen =>
                    {
                        listen.UseConnectionHandler<RespConnectionHandler>();
                        _listeners.Add(listen);
                    });
                }
                if (options.TlsPort != 0)
                {
                    kestrel.Listen(ip, options.TlsPort, listen =>
                    {
                        // Kestrel's TLS connection middleware (SslStream) in front of the same RESP handler; each handshake
                        // takes the configuration in force when it starts, so CONFIG SET reaches new connections only.
                        listen.UseHttps(new TlsHandshakeCallbackOptions
                        {
                            OnConnection = _ => ValueTask.FromResult(_tls!.CreateAuthenticationOptions()),
                            HandshakeTimeout = TlsHandshakeTimeout,
                        });
                        listen.UseConnectionHandler<RespConnectionHandler>();
                        _tlsListeners.Add(listen);
                    });
                }
            }
        });
        _app = builder.Build();
        Server = _app.Services.GetRequiredService<RespServer>();
        Server.ShutdownRequested = () => _app.Lifetime.StopApplication();
        if (Server.Acl.LoadAtStartup() is { } aclError) throw new Security.AclStartupException(aclError);
    }

    /// <summary>The served state.</summary>
    public RespServer Server { get; }

    /// <summary>The plain-text port actually bound (after <see cref="StartAsync"/>); 0 when only TLS is served (<c>port 0</c> with a <c>tls-port</c>).</summary>
    public int Port => Server.BoundPort;

    /// <summary>The TLS port bound (after <see cref="StartAsync"/>), or 0 without <c>tls-port</c>.</summary>
    public int TlsPort { get; private set; }

    /// <summary>The TLS configuration new TLS connections use (rebuilt by CONFIG SET of a <c>tls-*</c> setting), or null without <c>tls-port</c>.</summary>
    public TlsConfiguration? Tls => _tls;

    /// <summary>
    /// Where clients connect (after <see cref="StartAsync"/>): the first listener's address and <see cref="Port"/>, with
    /// a wildcard bind address (<c>0.0.0.0</c>, <c>::</c>) given as the matching loopback address.
    /// </summary>
    public IPEndPoint EndPoint
    {
        get
        {
            IPAddress address = _listeners.Count > 0 && _listeners[0].IPEndPoint is { } bound ? bound.Address : IPAddress.Loopback;
            if (address.Equals(IPAddress.Any)) address = IPAddress.Loopback;
            else if (address.Equals(IPAddress.IPv6Any)) address = IPAddress.IPv6Loopback;
            return new IPEndPoint(address, Port);
        }
    }

    /// <summary>
    /// <see cref="EndPoint"/> as <c>host:port</c> (<c>127.0.0.1:41234</c>, <c>[::1]:41234</c>): a StackExchange.Redis
    /// configuration string, or the host and port of any other client.
    /// </summary>
    public string ConnectionString => EndPoint.ToString();

    /// <summary>
    /// Creates and starts a server for tests: defaults as in <see cref="ServerOptions"/> (no persistence) except a free
    /// port on 127.0.0.1 (port 0) and, for the data directory, a new temporary directory; <paramref name="configure"/>
    /// changes any of them (a directory it sets instead stays). Connect to <see cref="EndPoint"/>; <see cref="DisposeAsync"/> (or <see cref="StopAsync"/>)
    /// stops it. Logging goes where <paramref name="configureLogging"/> sends it (nowhere by default).
    /// </summary>
    public static async Task<RespKvHost> StartNewAsync(Action<ServerOptions>? configure = null, Action<ILoggingBuilder>? configureLogging = null,
        CancellationToken cancellation = default)
    {
        string temporary = Directory.CreateTempSubdirectory("respkv-").FullName;
        var options = new ServerOptions { Port = 0, Bind = ["127.0.0.1"], Dir = temporary };
        configure?.Invoke(options);
        RespKvHost host = Create(options, configureLogging);
        host._temporaryDir = temporary;
        try
        {
            await host.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return host;
    }

    /// <summary>Completes when the host has stopped (SHUTDOWN, SIGTERM, or <see cref="StopAsync"/>).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>
    /// Builds a host for <paramref name="options"/>; logging goes where <paramref name="configureLogging"/> sends it; it serves
    /// <paramref name="commands"/> (<see cref="CommandFamilies.Table"/> when null; see <see cref="CommandFamilies.WithDefaults"/>).
    /// </summary>
    public static RespKvHost Create(ServerOptions options, Action<ILoggingBuilder>? configureLogging = null, CommandTable? commands = null) =>
        new(options, configureLogging, commands, TransportSelection.FromEnvironment());

    /// <summary>As <see cref="Create(ServerOptions, Action{ILoggingBuilder}?, CommandTable?)"/>, on <paramref name="transport"/> whatever <c>RESPKV_TRANSPORT</c> says (tests of each transport).</summary>
    public static RespKvHost Create(ServerOptions options, TransportKind transport, Action<ILoggingBuilder>? configureLogging = null) =>
        new(options, configureLogging, null, transport);

    /// <summary>
    /// Binds the listeners and starts accepting connections. With a <c>tls-port</c>, the TLS configuration is built first
    /// (<see cref="TlsConfiguration.Build"/>; a <see cref="TlsConfigurationException"/> stops start-up, as Redis's
    /// <c>Failed to configure TLS. Check logs for more info.</c>), and CONFIG SET of a TLS setting rebuilds it from then on. With <c>appendonly yes</c> it then loads the AOF
    /// (<see cref="AofPersistence.LoadAndOpen"/>): clients connecting meanwhile get
    /// <c>-LOADING RespKv is loading the dataset in memory</c>; the returned task completes once the AOF is loaded,
    /// rewritten and open for writes. A load failure stops the host and throws <see cref="Persistence.AofLoadException"/>.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        ServerOptions options = Server.Options;
        if (options.TlsPort != 0)
        {
            _tls = TlsConfiguration.Build(options);
            options.TlsSettingsChanged = ReconfigureTls;
        }
        if (options.AppendOnly || File.Exists(Server.Snapshots.FilePath)) Server.Loading = true;
        await _app.StartAsync(cancellation).ConfigureAwait(false);
        if (_listeners.Count > 0 && _listeners[0].IPEndPoint is { } endpoint) Server.BoundPort = endpoint.Port;
        if (_tlsListeners.Count > 0 && _tlsListeners[0].IPEndPoint is { } tlsEndpoint) TlsPort = tlsEndpoint.Port;
        // "port 0" asked for any free port: from now on the setting is the port in effect (CONFIG GET port).
        if (options.Port == 0) options.Port = Server.BoundPort;
        _cron = ServerCron.Start(Server);
        try
        {
            if (options.AppendOnly) await Task.Run(() => AofPersistence.LoadAndOpen(Server), cancellation).ConfigureAwait(false);
            else if (File.Exists(Server.Snapshots.FilePath))
            {
                // Redis's loadDataFromDisk without an AOF: dir/dbfilename, clients answered -LOADING meanwhile.
                Server.Loading = true;
                try
                {
                    await Task.Run(Server.Snapshots.LoadAtStartup, cancellation).ConfigureAwait(false);
                }
                finally
                {
                    Server.Loading = false;
                }
            }
        }
        catch
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
        // replicaof host port (config file or --replicaof): replicate from it from the start, as Redis.
        string replicaOf = Configuration.ConfigParameters.Find("replicaof")?.Get(options) ?? "";
        if (replicaOf.Split(' ') is [var masterHost, var masterPort] && int.TryParse(masterPort, out int port))
            Server.Replication.SetMaster(masterHost, port, offerOwnHistory: false);
        options.AppendOnlyChanged = on =>
        {
            if (on) return AofPersistence.Enable(Server);
            AofPersistence.Disable(Server);
            return null;
        };
    }

    /// <summary>Runs until SHUTDOWN, SIGTERM or SIGINT.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>Stops accepting and closes connections, then flushes, fsyncs and closes the AOF.</summary>
    public async Task StopAsync()
    {
        StopCron();
        await _app.StopAsync().ConfigureAwait(false);
        ClosePersistence();
    }

    /// <summary>Stops the host as <see cref="StopAsync"/> does and releases it; a temporary data directory <see cref="StartNewAsync"/> created is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        StopCron();
        await _app.DisposeAsync().ConfigureAwait(false);
        ClosePersistence();
        if (_temporaryDir != null)
        {
            try
            {
                Directory.Delete(_temporaryDir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            _temporaryDir = null;
        }
    }

    /// <summary>
    /// CONFIG SET of a TLS setting (<see cref="ServerOptions.TlsSettingsChanged"/>): builds the new configuration for new
    /// connections; on failure logs the reason and keeps the old one (<see cref="TlsConfiguration.UpdateFailedError"/>).
    /// </summary>
    private string? ReconfigureTls()
    {
        try
        {
            _tls = TlsConfiguration.Build(Server.Options);
            return null;
        }
        catch (TlsConfigurationException e)
        {
            Server.Logger.LogWarning("{Reason}", e.Message);
            return TlsConfiguration.UpdateFailedError;
        }
    }

    private void ClosePersistence()
    {
        Server.MigrateSockets.CloseAll();
        Server.Options.TlsSettingsChanged = null;
        Server.Options.AppendOnlyChanged = null;
        Server.Replication.Shutdown();
        AofPersistence.Disable(Server);
    }

    private void StopCron()
    {
        _cron?.Dispose();
        _cron = null;
    }

    /// <summary>
    /// Runs socket completions on the epoll threads instead of queueing them to the thread pool
    /// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). Together with Kestrel's
    /// <c>UnsafePreferInlineScheduling</c> a request is parsed, executed and answered on the thread that
    /// received it: measured on this machine kind, pinned to one core, it roughly halves CPU per request
    /// (no thread hop, no thread-pool spinning). The runtime reads the variable once, when its socket
    /// engine starts, so this only takes effect if no socket was used before the first host is created;
    /// an explicit value in the environment is respected. Commands therefore must never block.
    /// </summary>
    private static void PreferInlineSocketCompletions()
    {
        const string name = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(name) == null) Environment.SetEnvironmentVariable(name, "1");
    }

    /// <summary>True when a TCP socket can be bound to <paramref name="ip"/> (on a free port): probes an optional bind address.</summary>
    private static bool CanBind(IPAddress ip)
    {
        try
        {
            using var probe = new System.Net.Sockets.Socket(ip.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(ip, 0));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static IPAddress ParseBindAddress(string address)
    {
        string a = address.TrimStart('-');
        return a switch
        {
            "*" or "0.0.0.0" => IPAddress.Any,
            "::*" or "::" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.Parse(a),
        };
    }
}
