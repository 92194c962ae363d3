using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Scripting;
using RespKv.Server;
using RespKv.Server.Commands;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// EVAL scripting (https://redis.io/docs/manual/programmability/eval-intro/, Redis 7.0's <c>eval.c</c>): EVAL, EVALSHA,
/// EVAL_RO, EVALSHA_RO and SCRIPT LOAD|EXISTS|FLUSH|KILL|DEBUG|HELP. The engine is <see cref="LuaEngine"/>, the cache and
/// the running-script record <see cref="ScriptingState"/>. A script runs atomically inside the caller's
/// <see cref="AtomicUnit"/>: every shard of the selected database — so keys it did not declare are covered, as Redis
/// allows in a standalone server — or of every database when its body names SELECT, FLUSHALL, SWAPDB, MOVE or COPY.
/// Its writes are logged as the commands it ran (Redis 7.0's effects replication), never as EVAL.
/// </summary>
public static class ScriptingCommands
{
    /// <summary>This family's rows of the command table (flags as Redis 7.0's COMMAND INFO reports them; keys from the metadata's key specs).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("eval", -3, NoScript | Stale | SkipMonitor | MayReplicate | NoMandatoryKeys | MovableKeys | RunsScript, 0, 0, 0,
            "scripting", "Execute a Lua script server side", (ClientSession c, in CommandArgs a) => Eval(c, a, sha: false, readOnly: false)),
        new SessionCommandInfo("evalsha", -3, NoScript | Stale | SkipMonitor | MayReplicate | NoMandatoryKeys | MovableKeys | RunsScript, 0, 0, 0,
            "scripting", "Execute a Lua script server side", (ClientSession c, in CommandArgs a) => Eval(c, a, sha: true, readOnly: false)),
        new SessionCommandInfo("eval_ro", -3, ReadOnly | NoScript | Stale | SkipMonitor | NoMandatoryKeys | MovableKeys | RunsScript, 0, 0, 0,
            "scripting", "Execute a read-only Lua script server side", (ClientSession c, in CommandArgs a) => Eval(c, a, sha: false, readOnly: true)),
        new SessionCommandInfo("evalsha_ro", -3, ReadOnly | NoScript | Stale | SkipMonitor | NoMandatoryKeys | MovableKeys | RunsScript, 0, 0, 0,
            "scripting", "Execute a read-only Lua script server side", (ClientSession c, in CommandArgs a) => Eval(c, a, sha: true, readOnly: true)),
        new SessionCommandInfo("script", -2, None, 0, 0, 0, "scripting", "A container for Lua scripts management commands", null,
            new SessionCommandInfo("debug", 3, NoScript, 0, 0, 0, "scripting", "Set the debug mode for executed scripts.", Debug),
            new SessionCommandInfo("exists", -3, NoScript, 0, 0, 0, "scripting", "Check existence of scripts in the script cache.", Exists),
            new SessionCommandInfo("flush", -2, NoScript, 0, 0, 0, "scripting", "Remove all the scripts from the script cache.", Flush),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "scripting", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("kill", 2, NoScript | AllowBusy, 0, 0, 0, "scripting", "Kill the script currently in execution.", Kill),
            new SessionCommandInfo("load", 3, NoScript | Stale, 0, 0, 0, "scripting", "Load the specified Lua script into the script cache.", Load)),
    ];

    /// <summary>
    /// EVAL/EVALSHA/EVAL_RO/EVALSHA_RO <c>script|sha1 numkeys [key …] [arg …]</c>: EVALSHA of a name that is not 40
    /// characters or not cached answers <c>-NOSCRIPT No matching script. Please use EVAL.</c>; NUMKEYS must be an integer
    /// (<c>-ERR value is not an integer or out of range</c>), not negative (<c>-ERR Number of keys can't be negative</c>)
    /// nor above the arguments given (<c>-ERR Number of keys can't be greater than number of args</c>); EVAL compiles a
    /// new body (<c>-ERR Error compiling script (new function): user_script:1: …</c>) and caches it under its SHA1.
    /// </summary>
    private static void Eval(ClientSession client, in CommandArgs args, bool sha, bool readOnly)
    {
        if (sha && args[1].Length != 40)
        {
            client.Writer.WriteError(NoScriptError);
            return;
        }
        if (!TryParseKeyCount(client, args, out int keyCount)) return;
        ScriptingState scripting = client.Server.Scripting;
        EvalScript? script;
        if (sha)
        {
            script = scripting.Find(args[1]);
            if (script == null)
            {
                client.Writer.WriteError(NoScriptError);
                return;
            }
        }
        else
        {
            script = scripting.GetOrCompile(args[1], out string? error);
            if (script == null)
            {
                client.Writer.WriteError(error!);
                return;
            }
        }
        scripting.RunEval(client, script, args, keyCount, readOnly);
    }

    /// <summary>The error of an unknown EVALSHA name.</summary>
    private const string NoScriptError = "NOSCRIPT No matching script. Please use EVAL.";

    /// <summary>
    /// Reads NUMKEYS (<c>args[2]</c>) as Redis's <c>evalGenericCommand</c>/<c>fcallCommandGeneric</c>: an integer between 0 and
    /// the number of arguments after it, else the error is written and false returned. Not an integer answers
    /// <paramref name="notInteger"/> (EVAL's <c>-ERR value is not an integer or out of range</c> by default; FCALL's is
    /// <c>-ERR Bad number of keys provided</c>).
    /// </summary>
    public static bool TryParseKeyCount(ClientSession client, in CommandArgs args, out int keyCount, string notInteger = CommandErrors.NotInteger)
    {
        keyCount = 0;
        if (!RespInteger.TryParse(args[2], out long n))
        {
            client.Writer.WriteError(notInteger);
            return false;
        }
        if (n > args.Count - 3)
        {
            client.Writer.WriteError("ERR Number of keys can't be greater than number of args");
            return false;
        }
        if (n < 0)
        {
            client.Writer.WriteError("ERR Number of keys can't be negative");
            return false;
        }
        keyCount = (int)n;
        return true;
    }

    /// <summary><c>SCRIPT LOAD script</c>: caches the script and answers its SHA1 (compile errors as EVAL's).</summary>
    private static void Load(ClientSession client, in CommandArgs args)
    {
        EvalScript? script = client.Server.Scripting.GetOrCompile(args[2], out string? error);
        if (script == null) client.Writer.WriteError(error!);
        else client.Writer.WriteBulkString(script.Sha);
    }

    /// <summary><c>SCRIPT EXISTS sha1 [sha1 …]</c>: an array of <c>1</c>/<c>0</c>, one per name (any case).</summary>
    private static void Exists(ClientSession client, in CommandArgs args)
    {
        ScriptingState scripting = client.Server.Scripting;
        client.Writer.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++) client.Writer.WriteInteger(scripting.Find(args[i]) != null ? 1 : 0);
    }

    /// <summary>
    /// <c>SCRIPT FLUSH [ASYNC|SYNC]</c>: drops every cached script and the Lua state (both modes flush at once: the state
    /// is small); another argument answers <c>-ERR SCRIPT FLUSH only support SYNC|ASYNC option</c>.
    /// </summary>
    private static void Flush(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 3 || (args.Count == 3 && !System.Text.Ascii.EqualsIgnoreCase(args[2], "sync"u8) && !System.Text.Ascii.EqualsIgnoreCase(args[2], "async"u8)))
        {
            client.Writer.WriteError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        client.Server.Scripting.Flush();
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>SCRIPT KILL</c> (Redis's <c>scriptKill</c>): <c>-NOTBUSY No scripts in execution right now.</c> when none runs;
    /// <c>-UNKILLABLE Sorry the script already executed write commands against the dataset. …</c> once it wrote; a
    /// running function answers <c>-BUSY … You can only call FUNCTION KILL or SHUTDOWN NOSAVE.</c>; else <c>+OK</c> and
    /// the script stops at its next hook check, its caller getting <c>-ERR Script killed by user with SCRIPT KILL...</c>.
    /// </summary>
    private static void Kill(ClientSession client, in CommandArgs args) => KillRunning(client, ScriptKind.Eval);

    /// <summary>SCRIPT KILL and FUNCTION KILL (<paramref name="kind"/>: what the command may kill), with Redis 7.0's replies.</summary>
    public static void KillRunning(ClientSession client, ScriptKind kind)
    {
        ScriptRun? run = client.Server.ScriptingIfCreated?.Running;
        if (run == null)
        {
            client.Writer.WriteError("NOTBUSY No scripts in execution right now.");
            return;
        }
        if (run.Wrote)
        {
            client.Writer.WriteError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
            return;
        }
        if (run.Kind != kind)
        {
            client.Writer.WriteError(kind == ScriptKind.Eval
                ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
                : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
            return;
        }
        run.Kill();
        client.Writer.WriteOk();
    }

    /// <summary>
    /// <c>SCRIPT DEBUG YES|SYNC|NO</c>: RespKv has no Lua debugger (LDB), so NO answers <c>+OK</c> (debugging is off) and
    /// YES/SYNC answer <c>-ERR RespKv has no Lua debugger: SCRIPT DEBUG YES|SYNC is not supported</c>; another mode answers
    /// Redis's <c>-ERR Use SCRIPT DEBUG YES/SYNC/NO</c>.
    /// </summary>
    private static void Debug(ClientSession client, in CommandArgs args)
    {
        ReadOnlySpan<byte> mode = args[2];
        if (System.Text.Ascii.EqualsIgnoreCase(mode, "no"u8)) client.Writer.WriteOk();
        else if (System.Text.Ascii.EqualsIgnoreCase(mode, "yes"u8) || System.Text.Ascii.EqualsIgnoreCase(mode, "sync"u8))
            client.Writer.WriteError("ERR RespKv has no Lua debugger: SCRIPT DEBUG YES|SYNC is not supported");
        else client.Writer.WriteError("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }

    /// <summary><c>SCRIPT HELP</c>: Redis 7.0's help text.</summary>
    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("SCRIPT",
    [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ]);
}
