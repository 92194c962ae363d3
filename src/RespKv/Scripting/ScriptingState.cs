using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Scripting;

/// <summary>An EVAL script in the cache: its body, SHA1, compiled chunk, shebang flags and lock scope.</summary>
/// <param name="Sha">Lower-case hex SHA1 of the body (the EVALSHA name).</param>
/// <param name="Body">The script as given, shebang included.</param>
/// <param name="FunctionRef">The compiled chunk's reference in the EVAL engine's registry.</param>
/// <param name="Flags">Shebang flags, or <see cref="ScriptFlags.EvalCompatMode"/> without a shebang.</param>
/// <param name="NeedsEveryDatabase">The body names a command reaching other databases (see <see cref="ScriptingState.NamesOtherDatabases"/>).</param>
public sealed record EvalScript(string Sha, byte[] Body, int FunctionRef, ScriptFlags Flags, bool NeedsEveryDatabase);

/// <summary>
/// A server's scripting state: the EVAL engine and its script cache (SHA1 → compiled chunk, Redis's <c>lctx.lua_scripts</c>),
/// the lock that lets one script run at a time, and the record of the running script (<see cref="Running"/>) that the
/// BUSY admission gate, SCRIPT KILL and FUNCTION KILL read.
/// <para>
/// Lock order: a script runs inside its caller's <see cref="AtomicUnit"/> — shard locks first — and then takes
/// <see cref="ExecutionLock"/>; compiling (SCRIPT LOAD, a new EVAL) takes only <see cref="ExecutionLock"/>. So the
/// order is always shards → scripting lock, and no cycle can form.
/// </para>
/// </summary>
public sealed class ScriptingState : IDisposable
{
    private readonly RespServer _server;
    private readonly Dictionary<string, EvalScript> _scripts = new(StringComparer.Ordinal);
    private readonly ScriptRun _run = new();
    private LuaEngine? _engine;
    private volatile ScriptRun? _running;
    private long _bodyBytes;
    private volatile EvalScript? _lastEval;

    /// <summary>The scripting state of <paramref name="server"/>; its Lua state is created on first use.</summary>
    public ScriptingState(RespServer server) => _server = server;

    /// <summary>Held while a script runs or compiles, after any shard lock. One script runs at a time, as in Redis.</summary>
    public object ExecutionLock { get; } = new();

    /// <summary>The running script, or null (read without the lock by other clients' BUSY gate and SCRIPT KILL).</summary>
    public ScriptRun? Running => _running;

    /// <summary>The reusable run record (take <see cref="ExecutionLock"/> before <see cref="ScriptRun.Begin"/>).</summary>
    public ScriptRun Run => _run;

    /// <summary>Scripts in the cache (INFO <c>number_of_cached_scripts</c>).</summary>
    public int CachedScripts
    {
        get
        {
            lock (_scripts) return _scripts.Count;
        }
    }

    /// <summary>Bytes of the EVAL Lua heap (INFO <c>used_memory_lua</c>/<c>used_memory_vm_eval</c>); 0 before the state is created.</summary>
    public long EvalMemoryBytes => _engine?.MemoryBytes ?? 0;

    /// <summary>Approximate bytes of the cache (INFO <c>used_memory_scripts_eval</c>, as Redis's <c>evalScriptsMemory</c> counts bodies and entries).</summary>
    public long EvalScriptsBytes
    {
        get
        {
            lock (_scripts) return _bodyBytes + _scripts.Count * (40 + 24 + 16);
        }
    }

    /// <summary>The EVAL engine (created on first use; call holding <see cref="ExecutionLock"/>).</summary>
    public LuaEngine EvalEngine => _engine ??= new LuaEngine(_server.Logger);

    /// <summary>Marks <paramref name="run"/> as the running script (null when it ended): what the BUSY gate and SCRIPT KILL see.</summary>
    public void SetRunning(ScriptRun? run) => _running = run;

    /// <summary>
    /// True when a script body names a command that reaches databases other than the selected one — SELECT, FLUSHALL,
    /// SWAPDB, MOVE, COPY — case-insensitively anywhere in its text: such a script runs holding every database, others
    /// hold every shard of the selected one.
    /// </summary>
    public static bool NamesOtherDatabases(ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<string> words = ["select", "flushall", "swapdb", "move", "copy"];
        foreach (string word in words)
            if (ContainsIgnoreCase(body, word)) return true;
        return false;
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> text, string word)
    {
        for (int i = 0; i + word.Length <= text.Length; i++)
        {
            int j = 0;
            while (j < word.Length && (text[i + j] | 0x20) == word[j]) j++;
            if (j == word.Length) return true;
        }
        return false;
    }

    /// <summary>The cached script named <paramref name="sha"/> (40 hex digits, any case), or null.</summary>
    public EvalScript? Find(ReadOnlySpan<byte> sha)
    {
        if (sha.Length != 40) return null;
        Span<char> name = stackalloc char[40];
        for (int i = 0; i < 40; i++) name[i] = (char)(sha[i] is >= (byte)'A' and <= (byte)'Z' ? sha[i] + 32 : sha[i]);
        lock (_scripts)
            return _scripts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out EvalScript? script) ? script : null;
    }

    private bool IsCached(EvalScript script)
    {
        lock (_scripts) return _scripts.TryGetValue(script.Sha, out EvalScript? cached) && ReferenceEquals(cached, script);
    }

    /// <summary>
    /// The cached script of <paramref name="body"/>, compiled and added when new (Redis's <c>luaCreateFunction</c>): null
    /// with <paramref name="error"/> for a bad shebang (<c>ERR Unexpected flag in script shebang: x</c>…) or a compile
    /// error (<c>ERR Error compiling script (new function): user_script:1: …</c>).
    /// </summary>
    public EvalScript? GetOrCompile(ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        // The same body as the last EVAL has the same SHA1: a client repeating one script skips hashing it (still cached?).
        if (_lastEval is { } last && body.SequenceEqual(last.Body) && IsCached(last)) return last;
        Span<byte> sha = stackalloc byte[40];
        LuaEngine.Sha1Hex(body, sha);
        EvalScript? script = Find(sha);
        if (script != null) return _lastEval = script;
        if (!ScriptFlagParser.TryParseShebang(body, out ScriptFlags flags, out int shebangLength, out string? shebangError))
        {
            error = "ERR " + shebangError;
            return null;
        }
        lock (ExecutionLock)
        {
            script = Find(sha);
            if (script != null) return script;
            if (!EvalEngine.TryCompile(body[shebangLength..], "@user_script", out int functionRef, out string? compileError))
            {
                error = "ERR Error compiling script (new function): " + compileError;
                return null;
            }
            script = new EvalScript(Encoding.ASCII.GetString(sha), body.ToArray(), functionRef, flags, NamesOtherDatabases(body));
            lock (_scripts)
            {
                _scripts[script.Sha] = script;
                _bodyBytes += script.Body.Length;
            }
            return _lastEval = script;
        }
    }

    /// <summary>SCRIPT FLUSH: drops every cached script and the EVAL Lua state itself (a new one is made on next use).</summary>
    public void Flush()
    {
        lock (ExecutionLock)
        {
            lock (_scripts)
            {
                _scripts.Clear();
                _bodyBytes = 0;
            }
            _lastEval = null;
            _engine?.Dispose();
            _engine = null;
        }
    }

    /// <summary>
    /// Runs <paramref name="script"/> for <paramref name="client"/> (EVAL/EVALSHA and their <c>_RO</c> forms, after
    /// NUMKEYS was checked) and writes its reply: <see cref="RunScript"/> in the EVAL engine, KEYS and ARGV as globals.
    /// </summary>
    public void RunEval(ClientSession client, EvalScript script, in CommandArgs args, int keyCount, bool readOnly)
    {
        RunScript(client, null, ScriptKind.Eval, script.Sha, script.FunctionRef, script.Flags, script.NeedsEveryDatabase,
            args, 3, keyCount, globals: true, readOnly, script);
    }

    /// <summary>
    /// Runs a compiled chunk of <paramref name="engine"/> for <paramref name="client"/> and writes its reply — the common
    /// path of EVAL and FCALL: first Redis 7.0's <c>scriptPrepareForRun</c> refusals for a script that declared flags
    /// (<see cref="MayRun"/>), then, inside the caller's atomic unit (<see cref="BeginUnit"/>: every shard of the selected
    /// database, or of every database when <paramref name="needsEveryDatabase"/>) and holding <see cref="ExecutionLock"/>,
    /// the run (<see cref="LuaEngine.Run"/>) as the <see cref="Running"/> script. The keys are <paramref name="keyCount"/>
    /// arguments from <paramref name="firstKey"/>, the rest are the arguments; <paramref name="globals"/> passes them as
    /// KEYS/ARGV (EVAL) rather than as the function's two arguments (FCALL). A script SHUTDOWN abandoned logs nothing.
    /// For EVAL, <paramref name="engine"/> is null and <paramref name="evalScript"/> the cached script: the EVAL engine is
    /// taken under the lock, and a script a concurrent SCRIPT FLUSH dropped answers <c>-NOSCRIPT</c>.
    /// </summary>
    public void RunScript(ClientSession client, LuaEngine? engine, ScriptKind kind, string name, int functionRef, ScriptFlags flags,
        bool needsEveryDatabase, in CommandArgs args, int firstKey, int keyCount, bool globals, bool readOnly, EvalScript? evalScript = null)
    {
        if (!MayRun(client, flags, readOnly)) return;
        AtomicUnit unit = client.Unit;
        bool began = BeginUnit(client, needsEveryDatabase, out bool holdsEveryDatabase);
        try
        {
            lock (ExecutionLock)
            {
                if (evalScript != null)
                {
                    if (!IsCached(evalScript))
                    {
                        client.Writer.WriteError("NOSCRIPT No matching script. Please use EVAL.");
                        return;
                    }
                    engine = EvalEngine;
                }
                int records = client.Propagation.Count;
                _run.Begin(kind, name, client, flags, readOnly, holdsEveryDatabase);
                SetRunning(_run);
                try
                {
                    engine!.Run(_run, functionRef, args, firstKey, keyCount, globals, client.Writer);
                    if (_run.CalledRead && client.CurrentCommand is { } caller) client.Server.Tracking.Remember(client, caller, args);
                }
                finally
                {
                    SetRunning(null);
                    if (_run.Abandoned) client.Propagation.TruncateTo(records);
                    _run.End();
                }
            }
        }
        finally
        {
            if (began) unit.End();
        }
    }

    /// <summary>
    /// The refusals of a script that declared flags (a shebang, or a function), as Redis 7.0 answers them — its
    /// <c>processCommand</c> treats such a call as a write (<c>-MISCONF Errors writing to the AOF file: …</c> while the AOF
    /// cannot be written) and, without <c>allow-oom</c>/<c>no-writes</c>, as <c>denyoom</c> (<c>-OOM command not allowed
    /// when used memory &gt; 'maxmemory'.</c>); <c>scriptPrepareForRun</c> refuses a write script on a <c>*_RO</c> command
    /// (<c>-ERR Can not execute a script with write flag using *_ro command.</c>). Writes the refusal and returns false.
    /// </summary>
    public static bool MayRun(ClientSession client, ScriptFlags flags, bool readOnly)
    {
        if ((flags & ScriptFlags.EvalCompatMode) != 0) return true;
        RespServer server = client.Server;
        var options = server.Options;
        // Redis's processCommand refuses it first: without allow-oom/no-writes the shebang makes EVAL denyoom, and a write.
        if (options.MaxMemory != 0 && (flags & (ScriptFlags.AllowOom | ScriptFlags.NoWrites)) == 0
            && !server.Keyspace.Limiter.MakeRoom(options.MaxMemory, options.MaxMemoryPolicy, options.MaxMemorySamples))
        {
            client.Writer.WriteError(CommandErrors.OutOfMemory);
            return false;
        }
        if ((flags & ScriptFlags.NoWrites) == 0)
        {
            if (server.WriteLog is { WriteError: { } diskError })
            {
                client.Writer.WriteError("MISCONF Errors writing to the AOF file: " + diskError);
                return false;
            }
            if (readOnly)
            {
                client.Writer.WriteError("ERR Can not execute a script with write flag using *_ro command.");
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Makes the script atomic: unless the caller's unit is already active (EXEC, which locked every database for a
    /// script command), it locks every shard of the selected database — or of every database when
    /// <paramref name="everyDatabase"/> — and begins the unit, whose records go to the write log at its end (wrapped in
    /// MULTI/EXEC when there are several, as Redis 7.0 propagates a script's effects). True when it began the unit (the
    /// caller ends it).
    /// </summary>
    public static bool BeginUnit(ClientSession client, bool everyDatabase, out bool holdsEveryDatabase)
    {
        AtomicUnit unit = client.Unit;
        if (unit.IsActive)
        {
            holdsEveryDatabase = true;
            return false;
        }
        holdsEveryDatabase = everyDatabase;
        if (everyDatabase) unit.AddEveryDatabase(client.Server.Keyspace);
        else unit.Add(client.Database, Database.AllShards);
        unit.Begin(client.ReplaysAof ? null : client.Server.WriteLog, transaction: false);
        return true;
    }

    /// <summary>Closes the EVAL engine.</summary>
    public void Dispose() => _engine?.Dispose();
}
