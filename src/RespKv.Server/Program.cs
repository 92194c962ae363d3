// respkv-server: the thin executable. Reads redis-server-style arguments, sets up Serilog, runs the
// Kestrel host until SHUTDOWN, SIGTERM or SIGINT (Ctrl+C), and exits 0; a bad option exits 1.
using System.Runtime.InteropServices;
using RespKv.Server;
using RespKv.Configuration;

ServerCommandLine commandLine = ServerCommandLine.Parse(args, Console.In);
switch (commandLine.Action)
{
    case ServerCommandLineAction.Version:
        Console.WriteLine(ServerCommandLine.VersionText);
        return 0;
    case ServerCommandLineAction.Help:
        // redis-server prints its usage to stderr and exits 1; asking for help is not an error here.
        Console.WriteLine(ServerCommandLine.UsageText);
        return 0;
    case ServerCommandLineAction.Fail:
        Console.Error.WriteLine(commandLine.Error);
        return 1;
}

// RESPKV_TRANSPORT (a measured alternative to Kestrel's socket transport, SocketTransports.cs): a bad value stops start-up.
try
{
    TransportSelection.FromEnvironment();
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

ServerOptions options = commandLine.Options;
using var logging = new ServerLogging(options);
Serilog.ILogger log = logging.Logger;
log.Warning("oO0OoO0OoO0Oo RespKv is starting oO0OoO0OoO0Oo");
log.Warning(options.ConfigFile.Length > 0 ? "Configuration loaded from {ConfigFile}" : "Configuration loaded", options.ConfigFile);

// Before the host starts its threads, so they inherit the policy (see BatchScheduling).
int batchThreads = BatchScheduling.Apply(out int batchFailed);
if (batchFailed > 0) log.Warning("Could not set SCHED_BATCH on {Failed} of {Threads} threads", batchFailed, batchFailed + batchThreads);
else if (batchThreads > 0) log.Debug("SCHED_BATCH set on {Threads} threads", batchThreads);

RespKvHost? host = null;
try
{
    try
    {
        host = RespKvHost.Create(options, logging.Configure);
        await host.StartAsync();
    }
    catch (TlsConfigurationException e)
    {
        // Redis 7.0 server.c: the reason (tls.c's log line), then this, and exit 1.
        log.Warning("{Reason}", e.Message);
        log.Warning("Failed to configure TLS. Check logs for more info.");
        return 1;
    }
    catch (RespKv.Security.AclStartupException e)
    {
        // Redis exits when the configured users or the ACL file cannot be loaded (ACLLoadUsersAtStartup).
        log.Error("{Reason}", e.Message);
        return 1;
    }
    catch (RespKv.Persistence.Rdb.RdbLoadException e)
    {
        // Redis's loadDataFromDisk: a dump.rdb that cannot be loaded stops start-up rather than serving part of it.
        log.Error("Fatal error loading the DB: {Reason}. Exiting.", e.Message);
        return 1;
    }
    catch (RespKv.Persistence.AofLoadException e)
    {
        // Never serve partial data: a corrupt, truncated (aof-load-truncated no) or unsupported AOF stops start-up.
        log.Error("Fatal error loading the append only file: {Reason}", e.Message);
        return 1;
    }
    catch (Exception e)
    {
        log.Debug(e, "Start-up failed");
        log.Warning("Could not create server TCP listening socket {Bind}:{Port}: {Reason}",
            string.Join(' ', options.Bind), options.Port, e.GetBaseException().Message);
        log.Warning("Failed listening on port {Port} (tcp), aborting.", options.Port);
        return 1;
    }

    // The host's console lifetime turns SIGTERM and SIGINT into a graceful stop; these only log it, as Redis
    // does. Registered after the host's own handlers because the runtime calls the newest registration first.
    using PosixSignalRegistration onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM,
        _ => log.Warning("Received SIGTERM scheduling shutdown..."));
    using PosixSignalRegistration onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT,
        _ => log.Warning("Received SIGINT scheduling shutdown..."));
    host.Stopping.Register(() => log.Warning("User requested shutdown..."));
    log.Information("RespKv version={Version}, redis_version={RedisVersion}, bits={Bits}, pid={ProcessId}, mode=standalone, port={Port}, bind={Bind}",
        RespServer.Version, RespServer.RedisCompatibleVersion, IntPtr.Size * 8, Environment.ProcessId, host.Port, string.Join(' ', options.Bind));
    if (host.TlsPort != 0) log.Information("TLS on port {TlsPort}", host.TlsPort);
    bool pidFileWritten = PidFile.TryWrite(options.PidFile, log);
    log.Information("Ready to accept connections");
    await host.WaitForShutdownAsync();
    // A signal's shutdown (SIGTERM/SIGINT) saves when save points are set, as Redis's prepareForShutdown; SHUTDOWN decided itself.
    RespKv.Server.RdbPersistence snapshots = host.Server.Snapshots;
    if (!snapshots.ShutdownHandled && snapshots.HasSavePoints)
    {
        log.Information("Saving the final RDB snapshot before exiting.");
        snapshots.WaitForBackground(TimeSpan.FromSeconds(60));
        if (snapshots.Save() is null) log.Information("DB saved on disk");
        else log.Warning("Error trying to save the DB, can't exit.");
    }
    if (pidFileWritten) PidFile.Remove(options.PidFile);
    log.Warning("RespKv is now ready to exit, bye bye...");
    return 0;
}
finally
{
    if (host != null) await host.DisposeAsync();
}
