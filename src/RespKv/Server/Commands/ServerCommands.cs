using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Server commands: COMMAND, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, INFO, SHUTDOWN, SLOWLOG, MONITOR, LATENCY, with Redis 7.0's
/// replies (https://redis.io/commands/?group=server). COMMAND describes the command table itself
/// (<see cref="CommandTable.All"/>); CONFIG reads and writes <see cref="ConfigParameters"/>.
/// </summary>
public static class ServerCommands
{
    /// <summary>Serialises CONFIG SET so that two clients never interleave their validate-apply-restore steps.</summary>
    private static readonly Lock ConfigSetLock = new();

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        // Redis 7.0 also flags it no_async_loading (RespKv never loads asynchronously, so has no such flag).
        new SessionCommandInfo("bgrewriteaof", 1, Admin | NoScript, 0, 0, 0, "server", "Asynchronously rewrite the append-only file", BgRewriteAof),
        new SessionCommandInfo("command", -1, Loading | Stale, 0, 0, 0, "server", "Get array of Redis command details", Command,
            new SessionCommandInfo("count", 2, Loading | Stale, 0, 0, 0, "server", "Get total number of Redis commands", CommandCount),
            new SessionCommandInfo("docs", -2, Loading | Stale, 0, 0, 0, "server", "Get array of specific Redis command documentation", CommandDocs),
            new SessionCommandInfo("getkeys", -4, Loading | Stale, 0, 0, 0, "server", "Extract keys given a full Redis command", CommandGetKeys),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", CommandHelp),
            new SessionCommandInfo("info", -2, Loading | Stale, 0, 0, 0, "server", "Get array of specific Redis command details, or all when no argument is given.", CommandInfoReply),
            new SessionCommandInfo("list", -2, Loading | Stale, 0, 0, 0, "server", "Get an array of Redis command names", CommandList)),
        new SessionCommandInfo("config", -2, None, 0, 0, 0, "server", "A container for server configuration commands", null,
            new SessionCommandInfo("get", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Get the values of configuration parameters", ConfigGet),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", ConfigHelp),
            new SessionCommandInfo("resetstat", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Reset the stats returned by INFO", ConfigResetStat),
            new SessionCommandInfo("rewrite", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Rewrite the configuration file with the in memory configuration", ConfigRewrite),
            new SessionCommandInfo("set", -4, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Set configuration parameters to the given values", ConfigSet)),
        new SessionCommandInfo("dbsize", 1, ReadOnly | Fast, 0, 0, 0, "server", "Return the number of keys in the selected database", DbSize),
        new SessionCommandInfo("flushall", -1, Write | AllDatabases, 0, 0, 0, "server", "Remove all keys from all databases", FlushAll),
        new SessionCommandInfo("flushdb", -1, Write, 0, 0, 0, "server", "Remove all keys from the current database", FlushDb),
        new SessionCommandInfo("info", -1, Loading | Stale, 0, 0, 0, "server", "Get information and statistics about the server", Info),
        new SessionCommandInfo("latency", -2, None, 0, 0, 0, "server", "A container for latency diagnostics commands", null,
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands.", LatencyHelp),
            new SessionCommandInfo("history", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return timestamp-latency samples for the event.", LatencyHistory),
            new SessionCommandInfo("latest", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Return the latest latency samples for all events.", LatencyLatest),
            new SessionCommandInfo("reset", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Reset latency data for one or more events.", LatencyReset)),
        new SessionCommandInfo("monitor", 1, Admin | NoScript | Loading | Stale, 0, 0, 0, "server", "Listen for all requests received by the server in real time", Monitor),
        new SessionCommandInfo("shutdown", -1, Admin | NoScript | Loading | Stale | NoMulti | AllowBusy, 0, 0, 0, "server",
            "Synchronously save the dataset to disk and then shut down the server", Shutdown),
        new SessionCommandInfo("slowlog", -2, None, 0, 0, 0, "server", "A container for slow log commands", null,
            new SessionCommandInfo("get", -2, Admin | Loading | Stale, 0, 0, 0, "server", "Get the slow log's entries", SlowlogGet),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", SlowlogHelp),
            new SessionCommandInfo("len", 2, Admin | Loading | Stale, 0, 0, 0, "server", "Get the slow log's length", SlowlogLen),
            new SessionCommandInfo("reset", 2, Admin | Loading | Stale, 0, 0, 0, "server", "Clear all entries from the slow log", SlowlogReset)),
        new SessionCommandInfo("time", 1, Loading | Stale | Fast, 0, 0, 0, "server", "Return the current server time", Time),
    ];

    /// <summary>
    /// Writes a HELP reply as Redis's <c>addReplyHelp</c> does: an array of simple strings, first
    /// <c>&lt;COMMAND&gt; &lt;subcommand&gt; [&lt;arg&gt; [value] [opt] ...]. Subcommands are:</c>, then
    /// <paramref name="lines"/>, then <c>HELP</c> / <c>    Prints this help.</c>. Containers list only
    /// the subcommands RespKv implements, in Redis's wording and order.
    /// </summary>
    internal static void WriteHelp(RespWriter writer, string command, ReadOnlySpan<string> lines)
    {
        writer.WriteArrayHeader(lines.Length + 3);
        writer.WriteSimpleString(Encoding.ASCII.GetBytes($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        foreach (string line in lines) writer.WriteSimpleString(Encoding.ASCII.GetBytes(line));
        writer.WriteSimpleString("HELP"u8);
        writer.WriteSimpleString("    Prints this help."u8);
    }

    // ---------------------------------------------------------------- COMMAND

    /// <summary>COMMAND flag names in the order Redis 7.0 prints them (<c>addCommandFlags</c>); <c>may_replicate</c> is hidden there too.</summary>
    private static readonly (CommandFlags Flag, byte[] Name)[] FlagNames =
    [
        (Write, "write"u8.ToArray()), (ReadOnly, "readonly"u8.ToArray()), (DenyOom, "denyoom"u8.ToArray()),
        (Admin, "admin"u8.ToArray()), (NoScript, "noscript"u8.ToArray()), (Loading, "loading"u8.ToArray()),
        (Stale, "stale"u8.ToArray()), (SkipSlowlog, "skip_slowlog"u8.ToArray()), (Fast, "fast"u8.ToArray()),
        (NoAuth, "no_auth"u8.ToArray()), (NoMulti, "no_multi"u8.ToArray()), (AllowBusy, "allow_busy"u8.ToArray()),
    ];

    /// <summary>Redis's ACL categories, in its bit order (acl.c <c>ACLCommandCategories</c>), which is the order COMMAND prints them in.</summary>
    private static readonly string[] AclCategoryNames =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
        "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
        "transaction", "scripting",
    ];

    /// <summary><see cref="AclCategoryNames"/> as COMMAND prints them: <c>@keyspace</c>…</summary>
    private static readonly byte[][] AclCategoryReplies = Array.ConvertAll(AclCategoryNames, n => Encoding.ASCII.GetBytes("@" + n));

    private static ulong CategoryBit(string name) => 1UL << Array.IndexOf(AclCategoryNames, name);

    /// <summary>
    /// The ACL categories of <paramref name="command"/> as a bit set over <see cref="AclCategoryNames"/>,
    /// derived the way Redis derives most of them: the flags give <c>@write</c>/<c>@read</c>/<c>@admin</c>
    /// <c>@dangerous</c>/<c>@fast</c>, else <c>@slow</c> (server.c <c>setImplicitACLCategories</c>); the
    /// group gives the data-type category (<c>string</c> → <c>@string</c>, <c>generic</c> →
    /// <c>@keyspace</c>…), except for a pure container (CONFIG, CLIENT), which Redis gives no group
    /// category. Server commands that read or write the keyspace (DBSIZE, FLUSHDB, FLUSHALL) are
    /// <c>@keyspace</c>, and those that write it all are <c>@dangerous</c>.
    /// Known differences, because the table has no column for Redis's explicit categories: COMMAND lacks
    /// <c>@connection</c>, INFO and KEYS lack <c>@dangerous</c>.
    /// </summary>
    private static ulong AclCategories(CommandInfo command)
    {
        CommandFlags f = command.Flags;
        bool container = command.Handler == null && command.Subcommands != null;
        bool writesAllKeys = command.Group == "server" && (f & Write) != 0;
        string? group = container ? null : command.Group switch
        {
            "generic" => "keyspace",
            "sorted-set" => "sortedset",
            "transactions" => "transaction",
            "server" => (f & (Write | ReadOnly)) != 0 ? "keyspace" : null,
            "string" or "hash" or "list" or "set" or "bitmap" or "hyperloglog" or "geo" or "stream"
                or "pubsub" or "connection" or "scripting" => command.Group,
            _ => null,
        };
        ulong bits = group == null ? 0 : CategoryBit(group);
        if ((f & Write) != 0) bits |= CategoryBit("write");
        if ((f & ReadOnly) != 0) bits |= CategoryBit("read");
        if ((f & Admin) != 0) bits |= CategoryBit("admin");
        if ((f & Admin) != 0 || writesAllKeys) bits |= CategoryBit("dangerous");
        bits |= CategoryBit((f & Fast) != 0 ? "fast" : "slow");
        return bits;
    }

    /// <summary>
    /// One COMMAND INFO entry, Redis 7.0's ten elements: name, arity, flags, first key, last key, step,
    /// ACL categories, tips, key specs, subcommands. Flags, categories, tips and key specs are sets in
    /// RESP3. Tips and key specs are always empty: the table has neither (clients fall back to the
    /// first/last/step key positions, which it has).
    /// </summary>
    private static void WriteCommandEntry(RespWriter w, CommandInfo command)
    {
        w.WriteArrayHeader(10);
        w.WriteBulkString(command.FullName);
        w.WriteInteger(command.Arity);
        int flagCount = 0;
        foreach ((CommandFlags flag, _) in FlagNames)
            if ((command.Flags & flag) != 0) flagCount++;
        w.WriteSetHeader(flagCount);
        foreach ((CommandFlags flag, byte[] name) in FlagNames)
            if ((command.Flags & flag) != 0) w.WriteSimpleString(name);
        w.WriteInteger(command.FirstKey);
        w.WriteInteger(command.LastKey);
        w.WriteInteger(command.Step);
        ulong categories = AclCategories(command);
        w.WriteSetHeader((long)ulong.PopCount(categories));
        for (int i = 0; i < AclCategoryNames.Length; i++)
            if ((categories & (1UL << i)) != 0) w.WriteSimpleString(AclCategoryReplies[i]);
        w.WriteSetHeader(0); // tips
        w.WriteSetHeader(0); // key specs
        // Redis writes "no subcommands" as an empty set, and subcommands as an array.
        if (command.Subcommands == null)
        {
            w.WriteSetHeader(0);
            return;
        }
        w.WriteArrayHeader(command.Subcommands.Length);
        foreach (CommandInfo sub in command.Subcommands) WriteCommandEntry(w, sub);
    }

    /// <summary>
    /// One COMMAND DOCS document: a map of <c>summary</c>, <c>group</c> and, for a container,
    /// <c>subcommands</c> (a map of full name → document). Redis also sends <c>since</c>,
    /// <c>complexity</c>, <c>history</c> and <c>arguments</c> when its table has them; RespKv's table does
    /// not, so they are omitted, as Redis omits them for commands without them (a module's, DBSIZE's
    /// arguments).
    /// </summary>
    private static void WriteCommandDoc(RespWriter w, CommandInfo command)
    {
        CommandInfo[]? subcommands = command.Subcommands;
        w.WriteMapHeader(subcommands == null ? 2 : 3);
        w.WriteBulkString("summary"u8);
        w.WriteBulkString(command.Summary);
        w.WriteBulkString("group"u8);
        w.WriteBulkString(command.Group);
        if (subcommands == null) return;
        w.WriteBulkString("subcommands"u8);
        w.WriteMapHeader(subcommands.Length);
        foreach (CommandInfo sub in subcommands)
        {
            w.WriteBulkString(sub.FullName);
            WriteCommandDoc(w, sub);
        }
    }

    /// <summary><c>COMMAND</c>: every command's entry.</summary>
    private static void Command(ClientSession client, in CommandArgs args) => WriteAllEntries(client);

    private static void WriteAllEntries(ClientSession client)
    {
        IReadOnlyList<CommandInfo> all = client.Server.Commands.All;
        client.Writer.WriteArrayHeader(all.Count);
        foreach (CommandInfo command in all) WriteCommandEntry(client.Writer, command);
    }

    /// <summary><c>COMMAND COUNT</c>: the number of top-level commands.</summary>
    private static void CommandCount(ClientSession client, in CommandArgs args) =>
        client.Writer.WriteInteger(client.Server.Commands.All.Count);

    /// <summary><c>COMMAND INFO [name ...]</c>: each named command's entry (<c>config|get</c> names a subcommand), null for an unknown name; all without names.</summary>
    private static void CommandInfoReply(ClientSession client, in CommandArgs args)
    {
        if (args.Count == 2)
        {
            WriteAllEntries(client);
            return;
        }
        client.Writer.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            CommandInfo? command = client.Server.Commands.Lookup(Encoding.UTF8.GetString(args[i]));
            if (command == null) client.Writer.WriteNullBulkString();
            else WriteCommandEntry(client.Writer, command);
        }
    }

    /// <summary><c>COMMAND DOCS [name ...]</c>: a map of name → document; unknown names are left out; all without names.</summary>
    private static void CommandDocs(ClientSession client, in CommandArgs args)
    {
        IReadOnlyList<CommandInfo> found;
        if (args.Count == 2) found = client.Server.Commands.All;
        else
        {
            var named = new List<CommandInfo>(args.Count - 2);
            for (int i = 2; i < args.Count; i++)
                if (client.Server.Commands.Lookup(Encoding.UTF8.GetString(args[i])) is { } command) named.Add(command);
            found = named;
        }
        client.Writer.WriteMapHeader(found.Count);
        foreach (CommandInfo command in found)
        {
            client.Writer.WriteBulkString(command.FullName);
            WriteCommandDoc(client.Writer, command);
        }
    }

    /// <summary>
    /// <c>COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]</c>: names of all
    /// commands and subcommands (<c>config|get</c>). RespKv has no modules, so MODULE matches nothing.
    /// </summary>
    private static void CommandList(ClientSession client, in CommandArgs args)
    {
        Predicate<CommandInfo> match;
        if (args.Count == 2) match = static _ => true;
        else if (args.Count == 5 && args.Is(2, "FILTERBY"u8) && args.Is(3, "MODULE"u8)) match = static _ => false;
        else if (args.Count == 5 && args.Is(2, "FILTERBY"u8) && args.Is(3, "ACLCAT"u8))
        {
            string name = Encoding.UTF8.GetString(args[4]);
            int category = Array.FindIndex(AclCategoryNames, n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
            match = c => category >= 0 && (AclCategories(c) & (1UL << category)) != 0;
        }
        else if (args.Count == 5 && args.Is(2, "FILTERBY"u8) && args.Is(3, "PATTERN"u8))
        {
            byte[] pattern = args[4].ToArray();
            match = c => GlobPattern.IsMatch(pattern, Encoding.UTF8.GetBytes(c.FullName), ignoreCase: true);
        }
        else
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        var names = new List<string>();
        CollectNames(client.Server.Commands.All, names, match);
        client.Writer.WriteArrayHeader(names.Count);
        foreach (string name in names) client.Writer.WriteBulkString(name);
    }

    /// <summary>Adds the full names of <paramref name="commands"/> and their subcommands that satisfy <paramref name="match"/>, each command before its subcommands.</summary>
    private static void CollectNames(IEnumerable<CommandInfo> commands, List<string> names, Predicate<CommandInfo> match)
    {
        foreach (CommandInfo command in commands)
        {
            if (match(command)) names.Add(command.FullName);
            if (command.Subcommands != null) CollectNames(command.Subcommands, names, match);
        }
    }

    /// <summary>
    /// <c>COMMAND GETKEYS command [arg ...]</c>: the key arguments of a full command, from the table's
    /// first/last/step key positions. Errors as Redis: <c>-ERR Invalid command specified</c>,
    /// <c>-ERR The command has no key arguments</c>, <c>-ERR Invalid number of arguments specified for command</c>.
    /// </summary>
    private static void CommandGetKeys(ClientSession client, in CommandArgs args)
    {
        CommandTable table = client.Server.Commands;
        CommandInfo? command = table.Lookup(args[2]);
        if (command?.Subcommands != null && args.Count > 3) command = table.LookupSubcommand(command, args[3]);
        int argc = args.Count - 2;
        if (command == null) client.Writer.WriteError("ERR Invalid command specified");
        else if (command.FirstKey == 0) client.Writer.WriteError("ERR The command has no key arguments");
        else if (!command.AcceptsArgumentCount(argc)) client.Writer.WriteError("ERR Invalid number of arguments specified for command");
        else
        {
            KeyIndexRange keys = command.KeyIndexes(argc);
            client.Writer.WriteArrayHeader(keys.Last < keys.First ? 0 : (keys.Last - keys.First) / keys.Step + 1);
            for (int i = keys.First; i <= keys.Last; i += keys.Step) client.Writer.WriteBulkString(args[2 + i]);
        }
    }

    private static void CommandHelp(ClientSession client, in CommandArgs args) => WriteHelp(client.Writer, "COMMAND",
    [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
    ]);

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
    /// alias). As in Redis 7.0, a setting and its alias count as two parameters (no duplicate error).
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
            else if (p.Protected && !ServerOptions.IsAllowed(options.EnableProtectedConfigs, IsLocalClient(client)))
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
            }
        }
        if (unknownName != null) client.Writer.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{unknownName}'");
        else if (reason != null) client.Writer.WriteError($"ERR CONFIG SET failed (possibly related to argument '{failedName}') - {reason}");
        else client.Writer.WriteOk();
    }

    /// <summary>
    /// Redis's <c>islocalClient</c>: a connection from a loopback address (127.0.0.0/8, ::1), or one with no IP peer
    /// (an in-process connection, as Redis counts a Unix socket).
    /// </summary>
    private static bool IsLocalClient(ClientSession client) =>
        !System.Net.IPEndPoint.TryParse(client.RemoteAddress, out System.Net.IPEndPoint? peer) || System.Net.IPAddress.IsLoopback(peer.Address);

    /// <summary><c>CONFIG RESETSTAT</c>: restarts INFO's <c>stats</c> counters from zero; <c>+OK</c>.</summary>
    private static void ConfigResetStat(ClientSession client, in CommandArgs args)
    {
        client.Server.Stats.Reset(client.Server.Clients);
        client.Server.CommandStats.Reset(client.Server.Clients);
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
        lock (ConfigSetLock) error = ConfigRewriter.RewriteFile(options);
        if (error != null)
        {
            client.Server.Logger.LogWarning("CONFIG REWRITE failed: {Reason}", error);
            client.Writer.WriteError("ERR Rewriting config file: " + error);
            return;
        }
        client.Server.Logger.LogInformation("CONFIG REWRITE executed with success.");
        client.Writer.WriteOk();
    }

    private static void ConfigHelp(ClientSession client, in CommandArgs args) => WriteHelp(client.Writer, "CONFIG",
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
        client.Writer.WriteOk();
    }

    /// <summary><c>FLUSHALL [ASYNC|SYNC]</c>: empties every database.</summary>
    private static void FlushAll(ClientSession client, in CommandArgs args)
    {
        if (!IsFlushModeValid(client, args)) return;
        client.Server.Keyspace.FlushAll();
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
        if (save)
        {
            log.LogWarning("SHUTDOWN SAVE: RespKv does not write RDB snapshots{Action}",
                force ? "; FORCE given, shutting down anyway" : "; refusing to shut down (use NOSAVE, or FORCE)");
            if (!force)
            {
                client.Writer.WriteError(ShutdownFailed);
                return;
            }
        }
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
        stop();
    }

    private const string ShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";

    /// <summary>
    /// <c>BGREWRITEAOF</c>: starts a background rewrite of the AOF (<see cref="Persistence.AofPersistence.StartRewrite"/>) and
    /// answers <c>+Background append only file rewriting started</c>; while one runs, <c>-ERR Background append only file
    /// rewriting already in progress</c> (Redis 7.0's texts).
    /// </summary>
    private static void BgRewriteAof(ClientSession client, in CommandArgs args)
    {
        if (Persistence.AofPersistence.StartRewrite(client.Server))
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
    private static void SlowlogHelp(ClientSession client, in CommandArgs args) => WriteHelp(client.Writer, "SLOWLOG", [
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

    /// <summary><c>LATENCY HELP</c>: Redis 7.0's lines for the subcommands RespKv implements.</summary>
    private static void LatencyHelp(ClientSession client, in CommandArgs args) => WriteHelp(client.Writer, "LATENCY", [
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)"]);
}
