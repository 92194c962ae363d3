using System.Runtime.CompilerServices;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Scripting;
using RespKv.Scripting.Functions;
using RespKv.Server;
using RespKv.Server.Commands;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Redis 7.0's functions (https://redis.io/docs/manual/programmability/functions-intro/, <c>functions.c</c>):
/// <c>FUNCTION LOAD|LIST|DELETE|FLUSH|DUMP|RESTORE|STATS|KILL|HELP</c> over the server-wide <see cref="FunctionRegistry"/>,
/// and <c>FCALL</c>/<c>FCALL_RO</c>. LOAD, DELETE, FLUSH and RESTORE are logged to the AOF as received when they changed
/// the libraries (as Redis propagates them); the rewrite writes one <c>FUNCTION LOAD</c> per library.
/// </summary>
public static class FunctionCommands
{
    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("fcall", -3, NoScript | Stale | SkipMonitor | MayReplicate | NoMandatoryKeys | MovableKeys | RunsScript, 0, 0, 0,
            "scripting", "Invoke a function", (ClientSession c, in CommandArgs a) => Call(c, a, readOnly: false)),
        new SessionCommandInfo("fcall_ro", -3, ReadOnly | NoScript | Stale | SkipMonitor | NoMandatoryKeys | MovableKeys | RunsScript, 0, 0, 0,
            "scripting", "Invoke a read-only function", (ClientSession c, in CommandArgs a) => Call(c, a, readOnly: true)),
        new SessionCommandInfo("function", -2, None, 0, 0, 0, "scripting", "A container for function commands", null,
            new SessionCommandInfo("delete", 3, Write | NoScript, 0, 0, 0, "scripting", "Delete a function by name", Delete),
            new SessionCommandInfo("dump", 2, NoScript, 0, 0, 0, "scripting", "Dump all functions into a serialized binary payload", Dump),
            new SessionCommandInfo("flush", -2, Write | NoScript, 0, 0, 0, "scripting", "Deleting all functions", Flush),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "scripting", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("kill", 2, NoScript | AllowBusy, 0, 0, 0, "scripting", "Kill the function currently in execution.", Kill),
            new SessionCommandInfo("list", -2, NoScript, 0, 0, 0, "scripting", "List information about all the functions", List),
            new SessionCommandInfo("load", -3, Write | DenyOom | NoScript, 0, 0, 0, "scripting", "Create a function with the given arguments (name, code, description)", Load),
            new SessionCommandInfo("restore", -3, Write | DenyOom | NoScript, 0, 0, 0, "scripting", "Restore all the functions on the given payload", Restore),
            new SessionCommandInfo("stats", 2, NoScript | AllowBusy, 0, 0, 0, "scripting", "Return information about the function currently running (name, description, duration)", Stats)),
    ];

    /// <summary>
    /// <c>FCALL</c>/<c>FCALL_RO function numkeys [key …] [arg …]</c> (Redis's <c>fcallCommandGeneric</c>): <c>-ERR Function not
    /// found</c> (names compared case-insensitively), <c>-ERR Bad number of keys provided</c>, <c>-ERR Number of keys can't be
    /// greater than number of args</c>, <c>-ERR Number of keys can't be negative</c>; then the function runs as a script with
    /// its flags (<see cref="ScriptingState.RunScript"/>: <c>-ERR Can not execute a script with write flag using *_ro
    /// command.</c> for a function without <c>no-writes</c> on FCALL_RO, the OOM and MISCONF refusals, atomic over the
    /// selected database, effects propagated, BUSY/FUNCTION KILL), called with the keys and the arguments as two tables.
    /// </summary>
    private static void Call(ClientSession client, in CommandArgs args, bool readOnly)
    {
        FunctionRegistry functions = client.Server.Functions;
        var engine = (LuaFunctionEngine)functions.Engine;
        ScriptingState scripting = client.Server.Scripting;
        engine.EnterCall();
        try
        {
            if (functions.Current.Function(args[1]) is not { } function)
            {
                client.Writer.WriteError("ERR Function not found");
                return;
            }
            if (!ScriptingCommands.TryParseKeyCount(client, args, out int keyCount, "ERR Bad number of keys provided")) return;
            RunningCommands.GetValue(client, static _ => new CommandCopy()).Set(args);
            scripting.RunScript(client, engine.Lua, ScriptKind.Function, function.Name, function.Callback, function.Flags,
                function.Library.NeedsEveryDatabase, args, 3, keyCount, globals: false, readOnly);
        }
        finally
        {
            engine.ExitCall(scripting.ExecutionLock);
        }
    }

    /// <summary>Each caller's last FCALL request, copied for FUNCTION STATS (<c>running_script</c> → <c>command</c>) while it runs.</summary>
    private static readonly ConditionalWeakTable<ClientSession, CommandCopy> RunningCommands = new();

    /// <summary>A reusable copy of a request's arguments (a byte buffer and the arguments' ends), read by another client's FUNCTION STATS.</summary>
    private sealed class CommandCopy
    {
        private byte[] _bytes = new byte[64];
        private int[] _ends = new int[8];
        private int _count;

        /// <summary>Copies <paramref name="args"/> (grows its buffers once; no allocation afterwards).</summary>
        public void Set(in CommandArgs args)
        {
            int total = 0;
            for (int i = 0; i < args.Count; i++) total += args[i].Length;
            if (total > _bytes.Length) _bytes = new byte[Math.Max(total, _bytes.Length * 2)];
            if (args.Count > _ends.Length) _ends = new int[Math.Max(args.Count, _ends.Length * 2)];
            int end = 0;
            for (int i = 0; i < args.Count; i++)
            {
                args[i].CopyTo(_bytes.AsSpan(end));
                end += args[i].Length;
                _ends[i] = end;
            }
            _count = args.Count;
        }

        /// <summary>Writes the arguments as an array of bulk strings.</summary>
        public void Write(RespWriter w)
        {
            w.WriteArrayHeader(_count);
            for (int i = 0, start = 0; i < _count; start = _ends[i], i++) w.WriteBulkString(_bytes.AsSpan(start, _ends[i] - start));
        }
    }

    /// <summary>
    /// <c>FUNCTION KILL</c> (Redis's <c>scriptKill(c, 0)</c>): <c>+OK</c> and the running function stops, its caller getting
    /// <c>-ERR Script killed by user with SCRIPT KILL...</c>; <c>-NOTBUSY No scripts in execution right now.</c>;
    /// <c>-UNKILLABLE …</c> once it wrote; an EVAL script running answers <c>-BUSY … You can only call SCRIPT KILL or SHUTDOWN NOSAVE.</c>
    /// </summary>
    private static void Kill(ClientSession client, in CommandArgs args) => ScriptingCommands.KillRunning(client, ScriptKind.Function);

    /// <summary>
    /// <c>FUNCTION LOAD [REPLACE] code</c>: the library's name as a bulk string, or <c>-ERR Unknown option given: x</c>,
    /// <c>-ERR Function code is missing</c>, or the registry's error (<see cref="FunctionRegistry.Load"/>). Its code runs with a
    /// 500 ms limit, none while the AOF is replayed (Redis's <c>mustObeyClient</c>).
    /// </summary>
    private static void Load(ClientSession client, in CommandArgs args)
    {
        bool replace = false;
        int position = 2;
        while (position < args.Count - 1)
        {
            if (!args.Is(position, "REPLACE"u8))
            {
                client.Writer.WriteError("ERR Unknown option given: " + CString(args[position]));
                return;
            }
            replace = true;
            position++;
        }
        if (position >= args.Count)
        {
            client.Writer.WriteError("ERR Function code is missing");
            return;
        }
        int timeout = client.ReplaysAof ? 0 : FunctionRegistry.LoadTimeoutMs;
        string? error = client.Server.Functions.Load(args[position].ToArray(), replace, timeout, out string? name);
        if (error != null)
        {
            client.Writer.WriteError("ERR " + error);
            return;
        }
        Propagate(client, args);
        client.Writer.WriteBulkString(name!);
    }

    /// <summary><c>FUNCTION DELETE library</c>: <c>+OK</c>, or <c>-ERR Library not found</c> (the name compared exactly).</summary>
    private static void Delete(ClientSession client, in CommandArgs args)
    {
        if (!client.Server.Functions.Delete(Encoding.UTF8.GetString(args[2])))
        {
            client.Writer.WriteError("ERR Library not found");
            return;
        }
        Propagate(client, args);
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>FUNCTION FLUSH [ASYNC|SYNC]</c>: <c>+OK</c>; another option answers <c>-ERR FUNCTION FLUSH only supports SYNC|ASYNC option</c>,
    /// more arguments the subcommand syntax error. Both modes free the libraries at once.
    /// </summary>
    private static void Flush(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            WriteSyntaxError(client, args);
            return;
        }
        if (args.Count == 3 && !args.Is(2, "SYNC"u8) && !args.Is(2, "ASYNC"u8))
        {
            client.Writer.WriteError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        client.Server.Functions.Flush();
        Propagate(client, args);
        client.Writer.WriteOk();
    }

    /// <summary><c>FUNCTION DUMP</c>: the payload of every library as a bulk string (<see cref="FunctionPayload"/>).</summary>
    private static void Dump(ClientSession client, in CommandArgs args) => client.Writer.WriteBulkString(client.Server.Functions.Dump());

    /// <summary>
    /// <c>FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]</c>: <c>+OK</c>, or <c>-ERR Wrong restore policy given, value should be
    /// either FLUSH, APPEND or REPLACE.</c>, the subcommand syntax error for more arguments, or the registry's error
    /// (<see cref="FunctionRegistry.Restore"/>).
    /// </summary>
    private static void Restore(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 4)
        {
            WriteSyntaxError(client, args);
            return;
        }
        RestorePolicy policy = RestorePolicy.Append;
        if (args.Count == 4)
        {
            if (args.Is(3, "APPEND"u8)) policy = RestorePolicy.Append;
            else if (args.Is(3, "REPLACE"u8)) policy = RestorePolicy.Replace;
            else if (args.Is(3, "FLUSH"u8)) policy = RestorePolicy.Flush;
            else
            {
                client.Writer.WriteError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
                return;
            }
        }
        if (client.Server.Functions.Restore(args[2], policy, client.Server.Options.SkipChecksumValidation) is { } error)
        {
            client.Writer.WriteError("ERR " + error);
            return;
        }
        Propagate(client, args);
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]</c>: an array of one map per library (matching the glob pattern,
    /// case-insensitively): <c>library_name</c>, <c>engine</c>, <c>functions</c> (an array of maps: <c>name</c>,
    /// <c>description</c> — a null when none — and <c>flags</c>, a set of status strings), and with WITHCODE
    /// <c>library_code</c>. Errors: <c>-ERR library name argument was not given</c>, <c>-ERR Unknown argument x</c>.
    /// </summary>
    private static void List(ClientSession client, in CommandArgs args)
    {
        bool withCode = false;
        bool filtered = false;
        ReadOnlySpan<byte> pattern = default;
        RespWriter w = client.Writer;
        for (int i = 2; i < args.Count; i++)
        {
            if (!withCode && args.Is(i, "WITHCODE"u8))
            {
                withCode = true;
                continue;
            }
            if (!filtered && args.Is(i, "LIBRARYNAME"u8))
            {
                if (i >= args.Count - 1)
                {
                    w.WriteError("ERR library name argument was not given");
                    return;
                }
                filtered = true;
                pattern = args[++i];
                continue;
            }
            w.WriteError("ERR Unknown argument " + CString(args[i]));
            return;
        }
        FunctionSet set = client.Server.Functions.Current;
        var libraries = new List<FunctionLibrary>();
        foreach (FunctionLibrary library in set.Libraries)
            if (!filtered || GlobPattern.IsMatch(pattern, Encoding.UTF8.GetBytes(library.Name), ignoreCase: true)) libraries.Add(library);
        w.WriteArrayHeader(libraries.Count);
        foreach (FunctionLibrary library in libraries)
        {
            w.WriteMapHeader(withCode ? 4 : 3);
            w.WriteBulkString("library_name"u8);
            w.WriteBulkString(library.Name);
            w.WriteBulkString("engine"u8);
            w.WriteBulkString(library.Engine);
            w.WriteBulkString("functions"u8);
            w.WriteArrayHeader(library.Functions.Count);
            foreach (FunctionInfo f in library.Functions)
            {
                w.WriteMapHeader(3);
                w.WriteBulkString("name"u8);
                w.WriteBulkString(f.Name);
                w.WriteBulkString("description"u8);
                if (f.Description != null) w.WriteBulkString(f.Description);
                else w.WriteNullBulkString();
                w.WriteBulkString("flags"u8);
                WriteFlags(w, f.Flags);
            }
            if (withCode)
            {
                w.WriteBulkString("library_code"u8);
                w.WriteBulkString(library.Code);
            }
        }
    }

    /// <summary>The flags of a function as a set of status strings, in Redis's <c>scripts_flags_def</c> order.</summary>
    private static void WriteFlags(RespWriter w, ScriptFlags flags)
    {
        ReadOnlySpan<(ScriptFlags Flag, string Name)> all = ScriptFlagParser.Names;
        int count = 0;
        foreach ((ScriptFlags flag, _) in all)
            if ((flags & flag) != 0) count++;
        w.WriteSetHeader(count);
        foreach ((ScriptFlags flag, string name) in all)
            if ((flags & flag) != 0) w.WriteSimpleString(Encoding.ASCII.GetBytes(name));
    }

    /// <summary>
    /// <c>FUNCTION STATS</c>: a map of <c>running_script</c> (null, or a map of the running function's <c>name</c>, the
    /// <c>command</c> that runs it as an array, and <c>duration_ms</c>) and <c>engines</c> (a map: <c>LUA</c> → a map of
    /// <c>libraries_count</c> and <c>functions_count</c>). While an EVAL script runs: <c>-BUSY Redis is busy running a
    /// script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.</c>
    /// </summary>
    private static void Stats(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        ScriptRun? run = client.Server.ScriptingIfCreated?.Running;
        if (run is { Kind: ScriptKind.Eval })
        {
            w.WriteError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
            return;
        }
        FunctionSet set = client.Server.Functions.Current;
        w.WriteMapHeader(2);
        w.WriteBulkString("running_script"u8);
        if (run == null) w.WriteNullBulkString();
        else
        {
            w.WriteMapHeader(3);
            w.WriteBulkString("name"u8);
            w.WriteBulkString(run.Name);
            w.WriteBulkString("command"u8);
            if (RunningCommands.TryGetValue(run.Caller, out CommandCopy? command)) command.Write(w);
            else w.WriteArrayHeader(0);
            w.WriteBulkString("duration_ms"u8);
            w.WriteInteger(run.ElapsedMs);
        }
        w.WriteBulkString("engines"u8);
        w.WriteMapHeader(1);
        w.WriteBulkString(client.Server.Functions.Engine.Name);
        w.WriteMapHeader(2);
        w.WriteBulkString("libraries_count"u8);
        w.WriteInteger(set.Libraries.Count);
        w.WriteBulkString("functions_count"u8);
        w.WriteInteger(set.FunctionCount);
    }

    /// <summary><c>FUNCTION HELP</c>: Redis 7.0.15's text.</summary>
    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("FUNCTION",
    [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ]);

    /// <summary>Logs the request as it was received (Redis propagates FUNCTION LOAD/DELETE/FLUSH/RESTORE so, with <c>server.dirty++</c>).</summary>
    private static void Propagate(ClientSession client, in CommandArgs args) => client.ReplacePropagation()?.Add(client.Database.Index, args);

    /// <summary>Redis's <c>addReplySubcommandSyntaxError</c>: <c>-ERR unknown subcommand or wrong number of arguments for 'X'. Try FUNCTION HELP.</c></summary>
    private static void WriteSyntaxError(ClientSession client, in CommandArgs args) =>
        client.Writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{CString(args[1])}'. Try FUNCTION HELP.");

    /// <summary>An argument as Redis's <c>%s</c> prints it: up to its first NUL byte.</summary>
    private static string CString(ReadOnlySpan<byte> value)
    {
        int nul = value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? value[..nul] : value);
    }
}
