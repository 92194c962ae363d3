using System.Buffers;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Command introspection: COMMAND and its subcommands COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS and HELP,
/// answering as redis-server 7.0.15 does (https://redis.io/commands/command/) for the commands RespKv
/// implements (<see cref="CommandTable.All"/>): each row's flags, legacy key positions and Redis 7.0's
/// <see cref="CommandMetadata"/> (ACL categories, tips, key specs, docs). Commands RespKv does not implement are
/// absent (COMMAND INFO answers a null for one, COMMAND DOCS leaves it out). Redis lists commands and
/// subcommands in its hash tables' order, which changes from run to run; RespKv lists them in table order.
/// </summary>
public static class CommandCommands
{
    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("command", -1, Loading | Stale, 0, 0, 0, "server", "Get array of Redis command details", Command,
            new SessionCommandInfo("count", 2, Loading | Stale, 0, 0, 0, "server", "Get total number of Redis commands", CommandCount),
            new SessionCommandInfo("docs", -2, Loading | Stale, 0, 0, 0, "server", "Get array of specific Redis command documentation", CommandDocsReply),
            new SessionCommandInfo("getkeys", -4, Loading | Stale, 0, 0, 0, "server", "Extract keys given a full Redis command", CommandGetKeys),
            new SessionCommandInfo("getkeysandflags", -4, Loading | Stale, 0, 0, 0, "server", "Extract keys and access flags given a full Redis command", CommandGetKeysAndFlags),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", CommandHelp),
            new SessionCommandInfo("info", -2, Loading | Stale, 0, 0, 0, "server", "Get array of specific Redis command details, or all when no argument is given.", CommandInfoReply),
            new SessionCommandInfo("list", -2, Loading | Stale, 0, 0, 0, "server", "Get an array of Redis command names", CommandList)),
    ];

    /// <summary>Writes <paramref name="text"/> (ASCII) as a simple string.</summary>
    private static void WriteSimple(RespWriter w, string text)
    {
        Span<byte> bytes = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        Encoding.ASCII.GetBytes(text, bytes);
        w.WriteSimpleString(bytes);
    }

    /// <summary>Writes <paramref name="items"/> as a set (RESP2: an array) of simple strings.</summary>
    private static void WriteSimpleSet(RespWriter w, string[] items)
    {
        w.WriteSetHeader(items.Length);
        foreach (string item in items) WriteSimple(w, item);
    }

    /// <summary>
    /// One COMMAND INFO entry, Redis 7.0's ten elements: name, arity, flags (set of simple strings), first key,
    /// last key, step, ACL categories (set), tips (set of bulk strings), key specs (set of maps), subcommands
    /// (an array of entries; an empty set when there are none). Sets and maps are RESP3's; RESP2 sends arrays.
    /// </summary>
    private static void WriteCommandEntry(RespWriter w, CommandInfo command)
    {
        w.WriteArrayHeader(10);
        w.WriteBulkString(command.FullName);
        w.WriteInteger(command.Arity);
        WriteFlagSet(w, command.Flags, CommandFlagNames.Printed);
        w.WriteInteger(command.FirstKey);
        w.WriteInteger(command.LastKey);
        w.WriteInteger(command.Step);
        WriteSimpleSet(w, command.AclCategories);
        w.WriteSetHeader(command.Tips.Length);
        foreach (string tip in command.Tips) w.WriteBulkString(tip);
        w.WriteSetHeader(command.KeySpecs.Length);
        foreach (KeySpec spec in command.KeySpecs) WriteKeySpec(w, spec);
        if (command.Subcommands == null)
        {
            w.WriteSetHeader(0);
            return;
        }
        w.WriteArrayHeader(command.Subcommands.Length);
        foreach (CommandInfo sub in command.Subcommands) WriteCommandEntry(w, sub);
    }

    /// <summary>
    /// A key spec as Redis 7.0 writes it: a map of <c>notes</c> (when it has them), <c>flags</c> (set),
    /// <c>begin_search</c> and <c>find_keys</c>, each a map of <c>type</c> and <c>spec</c> (a map of the
    /// type's fields; empty for <c>unknown</c>).
    /// </summary>
    private static void WriteKeySpec(RespWriter w, KeySpec spec)
    {
        w.WriteMapHeader(spec.Notes == null ? 3 : 4);
        if (spec.Notes != null)
        {
            w.WriteBulkString("notes"u8);
            w.WriteBulkString(spec.Notes);
        }
        w.WriteBulkString("flags"u8);
        WriteFlagSet(w, spec.Flags, KeySpec.FlagNames);

        w.WriteBulkString("begin_search"u8);
        BeginSearch bs = spec.BeginSearch;
        switch (bs.Type)
        {
            case BeginSearchType.Index:
                WriteSearchHeader(w, "index"u8, 1);
                WriteField(w, "index"u8, bs.Index);
                break;
            case BeginSearchType.Keyword:
                WriteSearchHeader(w, "keyword"u8, 2);
                w.WriteBulkString("keyword"u8);
                w.WriteBulkString(bs.Keyword!);
                WriteField(w, "startfrom"u8, bs.StartFrom);
                break;
            default:
                WriteSearchHeader(w, "unknown"u8, 0);
                break;
        }

        w.WriteBulkString("find_keys"u8);
        FindKeys fk = spec.FindKeys;
        switch (fk.Type)
        {
            case FindKeysType.Range:
                WriteSearchHeader(w, "range"u8, 3);
                WriteField(w, "lastkey"u8, fk.LastKey);
                WriteField(w, "keystep"u8, fk.KeyStep);
                WriteField(w, "limit"u8, fk.Limit);
                break;
            case FindKeysType.Keynum:
                WriteSearchHeader(w, "keynum"u8, 3);
                WriteField(w, "keynumidx"u8, fk.KeyNumIndex);
                WriteField(w, "firstkey"u8, fk.FirstKey);
                WriteField(w, "keystep"u8, fk.KeyStep);
                break;
            default:
                WriteSearchHeader(w, "unknown"u8, 0);
                break;
        }
    }

    /// <summary>The start of a <c>begin_search</c> or <c>find_keys</c> map: <c>type</c>, then <c>spec</c> with a map of <paramref name="fields"/> fields to follow.</summary>
    private static void WriteSearchHeader(RespWriter w, ReadOnlySpan<byte> type, int fields)
    {
        w.WriteMapHeader(2);
        w.WriteBulkString("type"u8);
        w.WriteBulkString(type);
        w.WriteBulkString("spec"u8);
        w.WriteMapHeader(fields);
    }

    /// <summary>Writes the names of the flags set in <paramref name="flags"/> as a set of simple strings, in <paramref name="names"/>' order.</summary>
    private static void WriteFlagSet<TFlags>(RespWriter w, TFlags flags, (TFlags Flag, string Name)[] names) where TFlags : struct, Enum
    {
        int count = 0;
        foreach ((TFlags flag, _) in names)
            if (flags.HasFlag(flag)) count++;
        w.WriteSetHeader(count);
        foreach ((TFlags flag, string name) in names)
            if (flags.HasFlag(flag)) WriteSimple(w, name);
    }

    private static void WriteField(RespWriter w, ReadOnlySpan<byte> name, long value)
    {
        w.WriteBulkString(name);
        w.WriteInteger(value);
    }

    private static int Present(object? value) => value == null ? 0 : 1;

    private static void WriteOptional(RespWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value == null) return;
        w.WriteBulkString(name);
        w.WriteBulkString(value);
    }

    /// <summary>
    /// One COMMAND DOCS document, a map with Redis 7.0's fields in its order, each only when the command has
    /// it: <c>summary</c>, <c>since</c>, <c>group</c>, <c>complexity</c>, <c>doc_flags</c> (set),
    /// <c>deprecated_since</c>, <c>replaced_by</c>, <c>history</c> (set of [version, text] arrays),
    /// <c>arguments</c> (array of argument maps), <c>subcommands</c> (map of full name → document, for the
    /// subcommands RespKv implements). A row Redis 7.0 lacks documents its summary and group.
    /// </summary>
    private static void WriteCommandDoc(RespWriter w, CommandInfo command)
    {
        CommandDocs docs = command.Docs;
        CommandInfo[]? subcommands = command.Subcommands;
        w.WriteMapHeader(Present(docs.Summary) + Present(docs.Since) + Present(docs.Group) + Present(docs.Complexity)
            + Present(docs.DocFlags) + Present(docs.DeprecatedSince) + Present(docs.ReplacedBy) + Present(docs.History)
            + Present(docs.Arguments) + Present(subcommands));
        WriteOptional(w, "summary"u8, docs.Summary);
        WriteOptional(w, "since"u8, docs.Since);
        WriteOptional(w, "group"u8, docs.Group);
        WriteOptional(w, "complexity"u8, docs.Complexity);
        if (docs.DocFlags != null)
        {
            w.WriteBulkString("doc_flags"u8);
            WriteSimpleSet(w, docs.DocFlags);
        }
        WriteOptional(w, "deprecated_since"u8, docs.DeprecatedSince);
        WriteOptional(w, "replaced_by"u8, docs.ReplacedBy);
        if (docs.History != null)
        {
            w.WriteBulkString("history"u8);
            w.WriteSetHeader(docs.History.Length);
            foreach ((string version, string description) in docs.History)
            {
                w.WriteArrayHeader(2);
                w.WriteBulkString(version);
                w.WriteBulkString(description);
            }
        }
        if (docs.Arguments != null)
        {
            w.WriteBulkString("arguments"u8);
            WriteArguments(w, docs.Arguments);
        }
        if (subcommands == null) return;
        w.WriteBulkString("subcommands"u8);
        w.WriteMapHeader(subcommands.Length);
        foreach (CommandInfo sub in subcommands)
        {
            w.WriteBulkString(sub.FullName);
            WriteCommandDoc(w, sub);
        }
    }

    /// <summary>COMMAND DOCS arguments: an array of maps of <c>name</c>, <c>type</c>, <c>key_spec_index</c>, <c>token</c>, <c>since</c>, <c>deprecated_since</c>, <c>flags</c> (set), <c>arguments</c>, each when present.</summary>
    private static void WriteArguments(RespWriter w, CommandArgument[] arguments)
    {
        w.WriteArrayHeader(arguments.Length);
        foreach (CommandArgument a in arguments)
        {
            w.WriteMapHeader(2 + Present(a.KeySpecIndex) + Present(a.Token) + Present(a.Since) + Present(a.DeprecatedSince)
                + Present(a.Flags) + Present(a.Arguments));
            WriteOptional(w, "name"u8, a.Name);
            WriteOptional(w, "type"u8, a.Type);
            if (a.KeySpecIndex is int index) WriteField(w, "key_spec_index"u8, index);
            WriteOptional(w, "token"u8, a.Token);
            WriteOptional(w, "since"u8, a.Since);
            WriteOptional(w, "deprecated_since"u8, a.DeprecatedSince);
            if (a.Flags != null)
            {
                w.WriteBulkString("flags"u8);
                WriteSimpleSet(w, a.Flags);
            }
            if (a.Arguments != null)
            {
                w.WriteBulkString("arguments"u8);
                WriteArguments(w, a.Arguments);
            }
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
    private static void CommandDocsReply(ClientSession client, in CommandArgs args)
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
    /// commands and subcommands (<c>config|get</c>). RespKv has no modules, so MODULE matches nothing; an
    /// unknown category matches nothing. Other forms: <c>-ERR syntax error</c>.
    /// </summary>
    private static void CommandList(ClientSession client, in CommandArgs args)
    {
        Predicate<CommandInfo> match;
        if (args.Count == 2) match = static _ => true;
        else if (args.Count == 5 && args.Is(2, "FILTERBY"u8) && args.Is(3, "MODULE"u8)) match = static _ => false;
        else if (args.Count == 5 && args.Is(2, "FILTERBY"u8) && args.Is(3, "ACLCAT"u8))
        {
            string category = "@" + Encoding.UTF8.GetString(args[4]);
            match = c => Array.Exists(c.AclCategories, n => n.Equals(category, StringComparison.OrdinalIgnoreCase));
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

    /// <summary><c>COMMAND GETKEYS command [arg ...]</c>: the key arguments of a full command, found by its key specs.</summary>
    private static void CommandGetKeys(ClientSession client, in CommandArgs args) => WriteKeys(client, args, withFlags: false);

    /// <summary><c>COMMAND GETKEYSANDFLAGS command [arg ...]</c>: each key argument with its key spec flags (an array of [key, set of flags]).</summary>
    private static void CommandGetKeysAndFlags(ClientSession client, in CommandArgs args) => WriteKeys(client, args, withFlags: true);

    /// <summary>
    /// GETKEYS and GETKEYSANDFLAGS. Errors as redis-server 7.0.15's: <c>-ERR Invalid command specified</c> (no such
    /// command or subcommand), <c>-ERR The command has no key arguments</c> (no key specs),
    /// <c>-ERR Invalid number of arguments specified for command</c> (arity), and, when the key specs find no
    /// key or cannot be applied, <c>-ERR Invalid arguments specified for command</c> (an empty array for a
    /// <c>no_mandatory_keys</c> command).
    /// </summary>
    private static void WriteKeys(ClientSession client, in CommandArgs args, bool withFlags)
    {
        RespWriter w = client.Writer;
        CommandTable table = client.Server.Commands;
        CommandInfo? command = table.Lookup(args[2]);
        if (command?.Subcommands != null && args.Count > 3) command = table.LookupSubcommand(command, args[3]);
        var full = new CommandArgs(args.Buffer, args.Slices[2..]);
        if (command == null)
        {
            w.WriteError("ERR Invalid command specified");
            return;
        }
        if (!command.HasKeys)
        {
            w.WriteError("ERR The command has no key arguments");
            return;
        }
        if (!command.AcceptsArgumentCount(full.Count))
        {
            w.WriteError("ERR Invalid number of arguments specified for command");
            return;
        }
        KeyRef[] keys = ArrayPool<KeyRef>.Shared.Rent(16);
        try
        {
            int count = command.FindKeysAsRedis(full, keys);
            if (count > keys.Length)
            {
                ArrayPool<KeyRef>.Shared.Return(keys);
                keys = ArrayPool<KeyRef>.Shared.Rent(count);
                count = command.FindKeysAsRedis(full, keys);
            }
            if (count <= 0)
            {
                if ((command.Flags & NoMandatoryKeys) != 0) w.WriteArrayHeader(0);
                else w.WriteError("ERR Invalid arguments specified for command");
                return;
            }
            w.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                KeyRef key = keys[i];
                if (!withFlags)
                {
                    w.WriteBulkString(full[key.Index]);
                    continue;
                }
                w.WriteArrayHeader(2);
                w.WriteBulkString(full[key.Index]);
                WriteFlagSet(w, key.Flags, KeySpec.FlagNames);
            }
        }
        finally
        {
            ArrayPool<KeyRef>.Shared.Return(keys);
        }
    }

    private static void CommandHelp(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("COMMAND",
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
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ]);
}
