using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Server commands: CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, INFO, SHUTDOWN, SLOWLOG, MONITOR, LATENCY (DOCTOR GRAPH HISTOGRAM HISTORY LATEST RESET), with Redis 7.0's
/// replies (https://redis.io/commands/?group=server); COMMAND is <see cref="CommandCommands"/>. CONFIG reads and writes <see cref="ConfigParameters"/>.
/// </summary>
public static class ServerCommands
{
    /// <summary>Serialises CONFIG SET so that two clients never interleave their validate-apply-restore steps.</summary>
    private static readonly Lock ConfigSetLock = new();

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("bgrewriteaof", 1, Admin | NoScript | NoAsyncLoading, 0, 0, 0, "server", "Asynchronously rewrite the append-only file", BgRewriteAof),
        new SessionCommandInfo("bgsave", -1, Admin | NoScript | NoAsyncLoading, 0, 0, 0, "server", "Asynchronously save the dataset to disk", BgSave),
        new SessionCommandInfo("config", -2, None, 0, 0, 0, "server", "A container for server configuration commands", null,
            new SessionCommandInfo("get", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Get the values of configuration parameters", ConfigGet),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", ConfigHelp),
            new SessionCommandInfo("resetstat", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Reset the stats returned by INFO", ConfigResetStat),
            new SessionCommandInfo("rewrite", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Rewrite the configuration file with the in memory configuration", ConfigRewrite),
            new SessionCommandInfo("set", -4, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Set configuration parameters to the given values", ConfigSet)),
        new SessionCommandInfo("dbsize", 1, ReadOnly | Fast, 0, 0, 0, "server", "Return the number of keys in the selected database", DbSize),
        new SessionCommandInfo("flushall", -1, Write | AllDatabases, 0, 0, 0, "server", "Remove all keys from all databases", FlushAll),
        new SessionCommandInfo("flushdb", -1, Write, 0, 0, 0, "server", "Remove all keys from the current database", FlushDb),
        new SessionCommandInfo("lastsave", 1, Loading | Stale | Fast, 0, 0, 0, "server", "Get the UNIX time stamp of the last successful save to disk", LastSave),
        new SessionCommandInfo("info", -1, Loading | Stale, 0, 0, 0, "server", "Get information and statistics about the server", Info),
        new SessionCommandInfo("latency", -2, None, 0, 0, 0, "server", "A container for latency diagnostics commands", null,
            new SessionCommandInfo("doctor", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return a human readable latency analysis report.", LatencyDoctor),
            new SessionCommandInfo("graph", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return a latency graph for the event.", LatencyGraph),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands.", LatencyHelp),
            new SessionCommandInfo("histogram", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return the cumulative distribution of latencies of a subset of commands or all.",
                (ClientSession c, in CommandArgs a) => c.Server.LatencyHistograms.WriteHistogram(c.Writer, a)),
            new SessionCommandInfo("history", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return timestamp-latency samples for the event.", LatencyHistory),
            new SessionCommandInfo("latest", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return the latest latency samples for all events.", LatencyLatest),
            new SessionCommandInfo("reset", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Reset latency data for one or more events.", LatencyReset)),
        new SessionCommandInfo("monitor", 1, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Listen for all requests received by the server in real time", Monitor),
        new SessionCommandInfo("save", 1, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, "server", "Synchronously save the dataset to disk", Save),
        new SessionCommandInfo("shutdown", -1, Admin | NoScript | Loading | Stale | NoMulti | AllowBusy, 0, 0, 0, "server",
            "Synchronously save the dataset to disk and then shut down the server", Shutdown),
        new SessionCommandInfo("slowlog", -2, None, 0, 0, 0, "server", "A container for slow log commands", null,
            new SessionCommandInfo("get", -2, Admin | Loading | Stale, 0, 0, 0, "server", "Get the slow log's entries", SlowlogGet),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", SlowlogHelp),
            new SessionCommandInfo("len", 2, Admin | Loading | Stale, 0, 0, 0, "server", "Get the slow log's length", SlowlogLen),
            new SessionCommandInfo("reset", 2, Admin | Loading | Stale, 0, 0, 0, "server", "Clear all entries from the slow log", SlowlogReset)),
        new SessionCommandInfo("time", 1, Loading | Stale | Fast, 0, 0, 0, "server", "Return the current server time", Time),
    ];

    // ---------------------------------------------------------------- CONFIG

    /// <summary>
    /// <c>CONFIG GET pattern [pattern ...]</c>: a map (RESP2: flat array) of every setting matching a
    /// pattern (glob, case-insensitive), each name once. A pattern without <c>*</c>, <c>?</c> or <c>[</c> is
    /// looked up by name and echoed as given (<c>CONFIG GET PORT</c> → <c>PORT</c>), as Redis does. Aliases are
    /// names of their own, as in Redis 7.0: <c>CONFIG GET *</c> lists both <c>hash-max-listpack-entries</c> and
    /// <c>hash-max-ziplist-entries</c>.
    /// </summary>
    private static void ConfigGet(ClientSession client, in CommandArgs args)
    {
        var matches = new List<(string Name, ConfigParameter Parameter)>();
        for (int i = 2; i < args.Count; i++)
        {
            ReadOnlySpan<byte> pattern = args[i];
            if (pattern.IndexOfAny("[*?"u8) < 0)
            {
                string name = Encoding.UTF8.GetString(pattern);
                if (!IsMatched(matches, name) && ConfigParameters.Find(name) is { } exact) matches.Add((name, exact));
                continue;
            }
            foreach ((string name, ConfigParameter p) in ConfigParameters.Names)
                if (!IsMatched(matches, name) && GlobPattern.IsMatch(pattern, Encoding.ASCII.GetBytes(name), ignoreCase: true))
                    matches.Add((name, p));
        }
        client.Writer.WriteMapHeader(matches.Count);
        foreach ((string name, ConfigParameter p) in matches)
        {
            client.Writer.WriteBulkString(name);
            client.Writer.WriteBulkString(p.Get(client.Server.Options));
        }
    }

    private static bool IsMatched(List<(string Name, ConfigParameter Parameter)> matches, string name)
    {
        foreach ((string m, _) in matches)
            if (m.Equals(name, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// <c>CONFIG SET name value [name value ...]</c>, all or nothing, checked in Redis 7.0's order: an
    /// odd count is <c>-ERR syntax error</c>; then the first of, over the names in order, an unknown name
    /// (<c>-ERR Unknown option or number of arguments for CONFIG SET - 'foo'</c>), an immutable one, a protected
    /// one the client may not change (<c>enable-protected-configs</c>), or a repeated one
    /// (<c>-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config</c> /
    /// <c>- can't set protected config</c> / <c>- duplicate parameter</c>); then the values are applied in order and,
    /// if one is invalid, every value already applied is restored and the reply is <c>-ERR CONFIG SET failed
    /// (possibly related to argument 'name') - reason</c>, naming the setting as it was found (an alias stays the
    /// alias); then each distinct apply function (<see cref="ConfigParameter.Apply"/>, e.g. the TLS listener's rebuild) runs
    /// once, and a failure likewise restores every value (<c>- Unable to update TLS configuration. Check server logs.</c>).
    /// As in Redis 7.0, a setting and its alias count as two parameters (no duplicate error).
    /// </summary>
    private static void ConfigSet(ClientSession client, in CommandArgs args)
    {
        if ((args.Count & 1) != 0)
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        int count = (args.Count - 2) / 2;
        var parameters = new ConfigParameter[count];
        var names = new string[count];
        var values = new string[count];
        ServerOptions options = client.Server.Options;
        string? unknownName = null, failedName = null, reason = null;
        for (int i = 0; i < count && reason == null && unknownName == null; i++)
        {
            string name = Encoding.UTF8.GetString(args[2 + 2 * i]);
            if (!ConfigParameters.TryFind(name, out ConfigParameter p, out string registered)) unknownName = name;
            else if (!p.Mutable) (failedName, reason) = (name, "can't set immutable config");
            else if (p.Protected && !ServerOptions.IsAllowed(options.EnableProtectedConfigs, client.IsLocal))
                (failedName, reason) = (name, "can't set protected config");
            else if (Array.IndexOf(names, registered, 0, i) >= 0) (failedName, reason) = (name, "duplicate parameter");
            else
            {
                parameters[i] = p;
                names[i] = registered;
                values[i] = Encoding.UTF8.GetString(args[3 + 2 * i]);
            }
        }
        if (unknownName == null && reason == null)
        {
            lock (ConfigSetLock)
            {
                var previous = new string[count];
                for (int i = 0; i < count; i++) previous[i] = parameters[i].Get(options);
                for (int i = 0; i < count && reason == null; i++)
                {
                    reason = parameters[i].Set(options, values[i]);
                    if (reason == null) continue;
                    failedName = names[i];
                    for (int j = i - 1; j >= 0; j--) parameters[j].Set(options, previous[j]);
                }
                // Then each distinct apply function once (Redis 7.0's configSetCommand): on failure every value is restored
                // and the apply functions run again on the restored values.
                for (int i = 0; i < count && reason == null; i++)
                {
                    if (parameters[i].Apply is not { } apply || IndexOfApply(parameters, apply, i) < i) continue;
                    reason = apply(options);
                    if (reason == null) continue;
                    failedName = names[i];
                    for (int j = count - 1; j >= 0; j--) parameters[j].Set(options, previous[j]);
                    for (int j = 0; j < count; j++)
                        if (parameters[j].Apply is { } restore && IndexOfApply(parameters, restore, j) == j) restore(options);
                }
            }
        }
        if (unknownName != null) client.Writer.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{unknownName}'");
        else if (reason != null) client.Writer.WriteError($"ERR CONFIG SET failed (possibly related to argument '{failedName}') - {reason}");
        else client.Writer.WriteOk();
    }

    /// <summary>The first index of <paramref name="parameters"/> whose apply function is <paramref name="apply"/> (before <paramref name="limit"/>, else <paramref name="limit"/>).</summary>
    private static int IndexOfApply(ConfigParameter[] parameters, Func<ServerOptions, string?> apply, int limit)
    {
        for (int i = 0; i < limit; i++)
            if (ReferenceEquals(parameters[i].Apply, apply)) return i;
        return limit;
    }

    /// <summary><c>CONFIG RESETSTAT</c>: restarts INFO's <c>stats</c> counters from zero; <c>+OK</c>.</summary>
    private static void ConfigResetStat(ClientSession client, in CommandArgs args)
    {
        client.Server.Stats.Reset(client.Server.Clients);
        client.Server.CommandStats.Reset(client.Server.Clients);
        client.Server.LatencyHistograms.Reset();
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>CONFIG REWRITE</c>: writes the running settings back to the config file (<see cref="ConfigRewriter"/>); <c>+OK</c>.
    /// Without a config file: <c>-ERR The server is running without a config file</c>; when the file cannot be
    /// written: <c>-ERR Rewriting config file: reason</c> (strerror's text), as Redis 7.0.
    /// </summary>
    private static void ConfigRewrite(ClientSession client, in CommandArgs args)
    {
        ServerOptions options = client.Server.Options;
        if (options.ConfigFile.Length == 0)
        {
            client.Writer.WriteError(ConfigRewriter.NoConfigFileError);
            return;
        }
        string? error;
        lock (ConfigSetLock) error = ConfigRewriter.RewriteFile(options, options.AclFile.Length > 0 ? [] : client.Server.Acl.DescribeUsers());
        if (error != null)
        {
            client.Server.Logger.LogWarning("CONFIG REWRITE failed: {Reason}", error);
            client.Writer.WriteError("ERR Rewriting config file: " + error);
            return;
        }
        client.Server.Logger.LogInformation("CONFIG REWRITE executed with success.");
        client.Writer.WriteOk();
    }

    private static void ConfigHelp(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("CONFIG",
    [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ]);

    // ---------------------------------------------------------------- keyspace-wide commands

    /// <summary><c>DBSIZE</c>: keys in the selected database.</summary>
    private static void DbSize(ClientSession client, in CommandArgs args) => client.Writer.WriteInteger(client.Database.Count);

    /// <summary><c>FLUSHDB [ASYNC|SYNC]</c>: empties the selected database; ASYNC also runs synchronously (the keys are simply dropped for the GC).</summary>
    private static void FlushDb(ClientSession client, in CommandArgs args)
    {
        if (!IsFlushModeValid(client, args)) return;
        client.Database.Flush();
        client.Server.Tracking.InvalidateAll();
        client.Writer.WriteOk();
    }

    /// <summary><c>FLUSHALL [ASYNC|SYNC]</c>: empties every database.</summary>
    private static void FlushAll(ClientSession client, in CommandArgs args)
    {
        if (!IsFlushModeValid(client, args)) return;
        long keys = client.Server.Keyspace.TotalKeys;
        client.Server.Keyspace.FlushAll();
        client.Server.Snapshots.AddChanges(keys);
        // With save points, Redis 7.0 saves the empty dataset at once (flushAllDataAndResetRDB); every shard lock is held here.
        client.Server.Snapshots.SaveAfterFlushAll();
        client.Server.Tracking.InvalidateAll();
        client.Writer.WriteOk();
    }

    /// <summary>Accepts no option or exactly one of ASYNC/SYNC; otherwise replies <c>-ERR syntax error</c>.</summary>
    private static bool IsFlushModeValid(ClientSession client, in CommandArgs args)
    {
        if (args.Count == 1 || (args.Count == 2 && (args.Is(1, "ASYNC"u8) || args.Is(1, "SYNC"u8)))) return true;
        client.Writer.WriteError(CommandErrors.Syntax);
        return false;
    }

    /// <summary><c>TIME</c>: two bulk strings, Unix time in seconds and the microseconds within that second.</summary>
    private static void Time(ClientSession client, in CommandArgs args)
    {
        long microseconds = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        client.Writer.WriteArrayHeader(2);
        client.Writer.WriteBulkString(microseconds / 1_000_000);
        client.Writer.WriteBulkString(microseconds % 1_000_000);
    }

    // ---------------------------------------------------------------- INFO, SHUTDOWN

    /// <summary>
    /// <c>INFO [section ...]</c>: the named sections (any case; default, all and everything mean all),
    /// always in Redis's section order; unknown names add nothing, so only unknown names give an empty
    /// reply. A bulk string in RESP2, a verbatim <c>txt</c> string in RESP3.
    /// </summary>
    private static void Info(ClientSession client, in CommandArgs args)
    {
        InfoSections sections = args.Count == 1 ? InfoSections.Default : InfoSections.None;
        for (int i = 1; i < args.Count; i++) sections |= InfoBuilder.Parse(args[i]);
        client.Writer.WriteVerbatimText(InfoBuilder.Build(client.Server, sections));
    }

    /// <summary>
    /// <c>SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]</c>: stops the server without replying; the
    /// connection closes, as with Redis. An unknown option, ABORT with another option, or NOSAVE with
    /// SAVE is <c>-ERR syntax error</c>. ABORT answers <c>-ERR No shutdown in progress.</c>: RespKv has no
    /// replicas to wait for, so a shutdown never stays in progress. SAVE asks for an RDB snapshot,
    /// which RespKv cannot write: like a Redis whose save fails, it answers <c>-ERR Errors trying to
    /// SHUTDOWN. Check logs.</c> and keeps running, unless FORCE says to stop regardless.
    /// </summary>
    private static void Shutdown(ClientSession client, in CommandArgs args)
    {
        bool noSave = false, save = false, now = false, force = false, abort = false;
        for (int i = 1; i < args.Count; i++)
        {
            if (args.Is(i, "NOSAVE"u8)) noSave = true;
            else if (args.Is(i, "SAVE"u8)) save = true;
            else if (args.Is(i, "NOW"u8)) now = true;
            else if (args.Is(i, "FORCE"u8)) force = true;
            else if (args.Is(i, "ABORT"u8)) abort = true;
            else
            {
                client.Writer.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        if ((abort && (noSave || save || now || force)) || (noSave && save))
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        if (abort)
        {
            client.Writer.WriteError("ERR No shutdown in progress.");
            return;
        }
        // "User requested shutdown..." is logged by the host's stopping hook, for SHUTDOWN and signals alike.
        ILogger log = client.Server.Logger;
        if (client.Server.ShutdownRequested is null)
        {
            log.LogWarning("SHUTDOWN: this server has no host to stop");
            client.Writer.WriteError(ShutdownFailed);
            return;
        }
        // Redis's prepareForShutdown: SAVE, or save points without NOSAVE, save the dataset first; a failed save stops the
        // shutdown unless FORCE is given.
        RdbPersistence snapshots = client.Server.Snapshots;
        if (save || (snapshots.HasSavePoints && !noSave))
        {
            log.LogInformation("Saving the final RDB snapshot before exiting.");
            snapshots.WaitForBackground(TimeSpan.FromSeconds(60));
            if (snapshots.Save() is not null)
            {
                log.LogWarning("Error trying to save the DB, can't exit.");
                if (!force)
                {
                    client.Writer.WriteError(ShutdownFailed);
                    return;
                }
            }
        }
        snapshots.ShutdownHandled = true;
        if (client.Server.ShutdownRequested is not { } stop)
        {
            log.LogWarning("SHUTDOWN: this server has no host to stop");
            client.Writer.WriteError(ShutdownFailed);
            return;
        }
        // As Redis's prepareForShutdown: the AOF is written and fsynced before the server stops (the host closes it after).
        if (client.Server.Aof is { } aof && !aof.Flush(TimeSpan.FromSeconds(10)))
            log.LogWarning("SHUTDOWN: the append only file could not be flushed and fsynced: {Reason}", aof.WriteError ?? "timeout");
        client.CloseRequested = true;
        // A running script (SHUTDOWN NOSAVE is allowed while busy) is stopped and its effects are not logged, as Redis
        // exits without propagating the unfinished script.
        client.Server.ScriptingIfCreated?.Running?.Abandon();
        stop();
    }

    private const string ShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";

    /// <summary>
    /// <c>SAVE</c>: writes the dataset to <c>dir/dbfilename</c> before answering <c>+OK</c> (<see cref="RdbPersistence.Save"/>);
    /// <c>-ERR Background save already in progress</c> while a BGSAVE runs; <c>-ERR</c> when the file cannot be written.
    /// </summary>
    private static void Save(ClientSession client, in CommandArgs args)
    {
        if (client.Server.Snapshots.Save() is { } error) client.Writer.WriteError(error);
        else client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>BGSAVE [SCHEDULE]</c> (Redis's <c>bgsaveCommand</c>): <c>+Background saving started</c>; <c>+Background saving scheduled</c>
    /// when an AOF rewrite runs and SCHEDULE is given (or inside EXEC); errors in <see cref="RdbPersistence.StartBgsave"/>; another
    /// argument: <c>-ERR syntax error</c>.
    /// </summary>
    private static void BgSave(ClientSession client, in CommandArgs args)
    {
        bool schedule = false;
        if (args.Count > 1)
        {
            if (args.Count == 2 && args.Is(1, "SCHEDULE"u8)) schedule = true;
            else
            {
                client.Writer.WriteError(CommandErrors.Syntax);
                return;
            }
        }
        (bool ok, string reply) = client.Server.Snapshots.StartBgsave(schedule, inExec: false);
        if (ok) client.Writer.WriteSimpleString(Encoding.ASCII.GetBytes(reply));
        else client.Writer.WriteError(reply);
    }

    /// <summary><c>LASTSAVE</c>: the Unix time in seconds of the last successful save (the start time before any), an integer.</summary>
    private static void LastSave(ClientSession client, in CommandArgs args) => client.Writer.WriteInteger(client.Server.Snapshots.LastSaveUnix);

    /// <summary>
    /// <c>BGREWRITEAOF</c>: starts a background rewrite of the AOF (<see cref="AofPersistence.StartRewrite"/>) and
    /// answers <c>+Background append only file rewriting started</c>; while one runs, <c>-ERR Background append only file
    /// rewriting already in progress</c> (Redis 7.0's texts).
    /// </summary>
    private static void BgRewriteAof(ClientSession client, in CommandArgs args)
    {
        if (AofPersistence.StartRewrite(client.Server))
            client.Writer.WriteSimpleString("Background append only file rewriting started"u8);
        else
            client.Writer.WriteError("ERR Background append only file rewriting already in progress");
    }

    /// <summary>
    /// <c>SLOWLOG GET [count]</c>: the newest <c>count</c> entries (default 10, -1 all), each
    /// <c>[id, unix-seconds, microseconds, [args…], "ip:port", "name"]</c>. A count below -1 or not an integer:
    /// <c>-ERR count should be greater than or equal to -1</c>; extra arguments: Redis's subcommand syntax error.
    /// </summary>
    private static void SlowlogGet(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        if (args.Count > 3)
        {
            w.WriteError("ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.");
            return;
        }
        long count = 10;
        if (args.Count == 3)
        {
            // getRangeLongFromObjectOrReply: one message for text that is not an integer and for a count below -1.
            if (!RespInteger.TryParse(args[2], out count) || count < -1)
            {
                w.WriteError("ERR count should be greater than or equal to -1");
                return;
            }
            if (count == -1) count = long.MaxValue;
        }
        List<SlowLogEntry> entries = client.Server.SlowLog.Newest(count);
        w.WriteArrayHeader(entries.Count);
        foreach (SlowLogEntry e in entries)
        {
            w.WriteArrayHeader(6);
            w.WriteInteger(e.Id);
            w.WriteInteger(e.UnixSeconds);
            w.WriteInteger(e.Microseconds);
            w.WriteArrayHeader(e.Arguments.Length);
            foreach (byte[] a in e.Arguments) w.WriteBulkString(a);
            w.WriteBulkString(e.ClientAddress);
            w.WriteBulkString(e.ClientName);
        }
    }

    /// <summary><c>SLOWLOG LEN</c>: entries in the log.</summary>
    private static void SlowlogLen(ClientSession client, in CommandArgs args) => client.Writer.WriteInteger(client.Server.SlowLog.Count);

    /// <summary><c>SLOWLOG RESET</c>: empties the log; <c>+OK</c>.</summary>
    private static void SlowlogReset(ClientSession client, in CommandArgs args)
    {
        client.Server.SlowLog.Reset();
        client.Writer.WriteOk();
    }

    /// <summary><c>SLOWLOG HELP</c>: Redis 7.0's help lines.</summary>
    private static void SlowlogHelp(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("SLOWLOG", [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog."]);

    // ---------------------------------------------------------------- MONITOR, LATENCY

    /// <summary>
    /// <c>MONITOR</c>: <c>+OK</c>, then a line for every command the server runs (<see cref="MonitorFeed"/>). Again on a
    /// monitor: no reply, as Redis ignores it. Inside EXEC: <c>-ERR MONITOR isn't allowed for DENY BLOCKING client</c>.
    /// </summary>
    private static void Monitor(ClientSession client, in CommandArgs args)
    {
        if (client.ExecCommand != null)
        {
            client.Writer.WriteError("ERR MONITOR isn't allowed for DENY BLOCKING client");
            return;
        }
        if (client.StartMonitor()) client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>LATENCY LATEST</c>: one <c>[event, unix-time, latest-ms, max-ms]</c> entry per recorded event
    /// (<see cref="LatencyMonitor"/>); an empty array while <c>latency-monitor-threshold</c> is 0 (the default) and nothing was recorded.
    /// </summary>
    private static void LatencyLatest(ClientSession client, in CommandArgs args)
    {
        List<(string Event, long Time, long Latency, long Max)> rows = client.Server.Latency.Latest();
        client.Writer.WriteArrayHeader(rows.Count);
        foreach ((string name, long time, long latency, long max) in rows)
        {
            client.Writer.WriteArrayHeader(4);
            client.Writer.WriteBulkString(name);
            client.Writer.WriteInteger(time);
            client.Writer.WriteInteger(latency);
            client.Writer.WriteInteger(max);
        }
    }

    /// <summary><c>LATENCY HISTORY event</c>: the event's <c>[unix-time, latency-ms]</c> samples, oldest first; an empty array for an event without samples.</summary>
    private static void LatencyHistory(ClientSession client, in CommandArgs args)
    {
        List<(long Time, long Latency)> samples = client.Server.Latency.History(Encoding.UTF8.GetString(args[2]));
        client.Writer.WriteArrayHeader(samples.Count);
        foreach ((long time, long latency) in samples)
        {
            client.Writer.WriteArrayHeader(2);
            client.Writer.WriteInteger(time);
            client.Writer.WriteInteger(latency);
        }
    }

    /// <summary><c>LATENCY RESET [event ...]</c>: forgets the named events (all without names); the number forgotten.</summary>
    private static void LatencyReset(ClientSession client, in CommandArgs args)
    {
        LatencyMonitor latency = client.Server.Latency;
        long reset = args.Count == 2 ? latency.Reset(null) : 0;
        for (int i = 2; i < args.Count; i++) reset += latency.Reset(Encoding.UTF8.GetString(args[i]));
        client.Writer.WriteInteger(reset);
    }

    /// <summary><c>LATENCY DOCTOR</c>: <see cref="LatencyReport.Doctor"/>'s text, a verbatim <c>txt</c> reply (RESP2: a bulk string).</summary>
    private static void LatencyDoctor(ClientSession client, in CommandArgs args) =>
        client.Writer.WriteVerbatimText(LatencyReport.Doctor(client.Server.Latency.Snapshot(), client.Server.Options,
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(), LatencyReport.HasAnonHugePages()));

    /// <summary>
    /// <c>LATENCY GRAPH event</c>: <see cref="LatencyReport.Graph"/>'s text (verbatim <c>txt</c>); an event without samples
    /// <c>-ERR No samples available for event '&lt;event&gt;'</c>.
    /// </summary>
    private static void LatencyGraph(ClientSession client, in CommandArgs args)
    {
        string name = Encoding.UTF8.GetString(args[2]);
        foreach ((string eventName, long max, List<(long Time, long Latency)> samples) in client.Server.Latency.Snapshot())
        {
            if (eventName != name) continue;
            client.Writer.WriteVerbatimText(LatencyReport.Graph(eventName, max, samples, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            return;
        }
        client.Writer.WriteError($"ERR No samples available for event '{name}'");
    }

    /// <summary><c>LATENCY HELP</c>: Redis 7.0's lines for the subcommands RespKv implements.</summary>
    private static void LatencyHelp(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("LATENCY", [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied."]);
}
