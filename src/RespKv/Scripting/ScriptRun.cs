using System.Buffers;
using System.Diagnostics;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Scripting;

/// <summary>What is running: an EVAL script or a FUNCTION (their kill commands and BUSY texts differ).</summary>
public enum ScriptKind
{
    /// <summary>EVAL, EVALSHA and their <c>_RO</c> forms: killed by SCRIPT KILL.</summary>
    Eval,
    /// <summary>FCALL and FCALL_RO: killed by FUNCTION KILL.</summary>
    Function,
}

/// <summary>
/// The script running now (Redis 7.0's <c>scriptRunCtx</c>, <c>script.c</c>): who called it, since when, what it may do
/// (read-only, allow-oom, the RESP version of its <c>redis.call</c> replies, its propagation flags), whether it wrote,
/// timed out (past <c>busy-reply-threshold</c>: other clients get <c>-BUSY</c>) or was killed. At most one script runs
/// at a time (<see cref="ScriptingState.ExecutionLock"/>), so one record per server is reused for every run.
/// <para>
/// It is also <c>redis.call</c>'s plumbing (<see cref="Call"/>, Redis's <c>scriptCall</c>): the command is looked up and
/// checked as Redis checks a script's command, then run by the caller's own executor (<see cref="CommandExecutor.Dispatch"/>)
/// — its locks are the script's atomic unit, its writes are recorded into the unit's records, keyspace notifications,
/// WATCH touches and blocked-client wakes happen as for any command — with the reply captured in a reusable buffer
/// (RESP2 or RESP3 as <c>redis.setresp</c> chose) for the engine to turn into Lua values.
/// </para>
/// </summary>
public sealed class ScriptRun
{
    [ThreadStatic] private static ScriptRun? t_current;

    /// <summary>The run on the calling thread (set while a script executes on it), or null.</summary>
    public static ScriptRun? Current => t_current;

    private readonly ArrayBufferWriter<byte> _capture = new(256);
    private readonly RespWriter _captureWriter;
    private byte[] _argBuffer = new byte[256];
    private ArgSlice[] _argSlices = new ArgSlice[8];
    private long _start;
    private volatile bool _timedOut;
    private volatile bool _killed;
    private volatile bool _wrote;
    private bool _oomAtStart;
    private bool _inCall;
    private Database? _callerDatabase;
    private CommandInfo? _callerCommand;

    /// <summary>A reusable record (one per server).</summary>
    public ScriptRun()
    {
        _captureWriter = new RespWriter(_capture);
    }

    /// <summary>EVAL or FUNCTION.</summary>
    public ScriptKind Kind { get; private set; }

    /// <summary>The name in errors and logs: the script's SHA1 (EVAL) or the function's name (FCALL).</summary>
    public string Name { get; private set; } = "";

    /// <summary>The client that called the script.</summary>
    public ClientSession Caller { get; private set; } = null!;

    /// <summary>The script's flags (<see cref="ScriptFlags.EvalCompatMode"/> for an EVAL without shebang).</summary>
    public ScriptFlags Flags { get; private set; }

    /// <summary>Read-only run (<c>*_RO</c> command or <c>no-writes</c>): write commands answer <c>Write commands are not allowed from read-only scripts.</c></summary>
    public bool ReadOnly { get; private set; }

    /// <summary>True when the atomic unit holds every database (SELECT, FLUSHALL, SWAPDB, MOVE, COPY … DB may run).</summary>
    public bool HoldsEveryDatabase { get; private set; }

    /// <summary>The RESP version <c>redis.call</c> replies are converted from (<c>redis.setresp</c>; 2 at start).</summary>
    public int Resp { get; set; } = 2;

    /// <summary><c>redis.set_repl</c> flags: bit 1 AOF, bit 2 replicas (<c>REPL_ALL</c> = 3 at start).</summary>
    public int Replication { get; set; } = 3;

    /// <summary>
    /// True once the script ran a read-only command for a caller with client-side caching on: the caller then remembers the
    /// keys the script declared (Redis 7.0's <c>call()</c> runs <c>trackingRememberKeys</c> on the script caller, whose
    /// command is the EVAL/FCALL, for each read-only command a script calls; the keys the script read are not tracked).
    /// </summary>
    public bool CalledRead { get; set; }

    /// <summary>True once the script ran a write command (Redis's <c>SCRIPT_WRITE_DIRTY</c>: SCRIPT KILL then answers <c>-UNKILLABLE</c>).</summary>
    public bool Wrote => _wrote;

    /// <summary>True once the script ran past <c>busy-reply-threshold</c> (Redis's <c>SCRIPT_TIMEDOUT</c>).</summary>
    public bool TimedOut => _timedOut;

    /// <summary>True once SCRIPT KILL / FUNCTION KILL asked it to stop.</summary>
    public bool Killed => _killed;

    /// <summary>Milliseconds since the run started.</summary>
    public long ElapsedMs => (long)Stopwatch.GetElapsedTime(_start).TotalMilliseconds;

    /// <summary>
    /// Starts a run for <paramref name="caller"/> (Redis's <c>scriptPrepareForRun</c> after its checks): resets the
    /// record and makes it the thread's current run. <paramref name="holdsEveryDatabase"/> tells whether the atomic
    /// unit holds every database.
    /// </summary>
    public void Begin(ScriptKind kind, string name, ClientSession caller, ScriptFlags flags, bool readOnly, bool holdsEveryDatabase)
    {
        Kind = kind;
        Name = name;
        Caller = caller;
        Flags = flags;
        ReadOnly = readOnly || ((flags & ScriptFlags.EvalCompatMode) == 0 && (flags & ScriptFlags.NoWrites) != 0);
        HoldsEveryDatabase = holdsEveryDatabase;
        Resp = 2;
        Replication = 3;
        _wrote = false;
        CalledRead = false;
        _killed = false;
        _abandoned = false;
        _timedOut = false;
        _inCall = false;
        _callerDatabase = caller.Database;
        _callerCommand = caller.CurrentCommand;
        ServerOptions options = caller.Server.Options;
        _oomAtStart = options.MaxMemory != 0 && !caller.Server.Keyspace.Limiter.MakeRoom(options.MaxMemory, options.MaxMemoryPolicy, options.MaxMemorySamples);
        _start = Stopwatch.GetTimestamp();
        KeyLifetime.FreezeNow(0);
        KeyLifetime.FreezeNow(caller.Server.Keyspace.Lifetime.NowMs);
        t_current = this;
    }

    /// <summary>Ends the run: the caller's selected database and current command are restored (SELECT inside a script changes only the script's database).</summary>
    public void End()
    {
        t_current = null;
        KeyLifetime.FreezeNow(0);
        if (_callerDatabase != null) Caller.Select(_callerDatabase.Index);
        Caller.CurrentCommand = _callerCommand;
        _callerDatabase = null;
        if (_capture.Capacity > 64 * 1024) _capture.Clear();
    }

    /// <summary>SCRIPT KILL / FUNCTION KILL: the count hook stops the script at its next check.</summary>
    public void Kill() => _killed = true;

    /// <summary>
    /// SHUTDOWN while the script runs: it is stopped even if it wrote, and what it wrote is not logged (Redis exits
    /// without propagating an unfinished script).
    /// </summary>
    public void Abandon()
    {
        _abandoned = true;
        _killed = true;
    }

    private volatile bool _abandoned;

    /// <summary>True once SHUTDOWN abandoned the run (<see cref="Abandon"/>).</summary>
    public bool Abandoned => _abandoned;

    /// <summary>Marks the run as timed out (the hook saw it past <c>busy-reply-threshold</c>): other clients now get <c>-BUSY</c>.</summary>
    internal void MarkTimedOut() => _timedOut = true;

    /// <summary>
    /// Copies the arguments of a <c>redis.call</c> into the reusable argument buffer; the engine then passes them to
    /// <see cref="Call"/>. <paramref name="index"/> counts from 0, in order.
    /// </summary>
    internal void AddArgument(int index, ReadOnlySpan<byte> value)
    {
        int offset = index == 0 ? 0 : _argSlices[index - 1].Offset + _argSlices[index - 1].Length;
        if (offset + value.Length > _argBuffer.Length) Array.Resize(ref _argBuffer, Math.Max(offset + value.Length, _argBuffer.Length * 2));
        if (index >= _argSlices.Length) Array.Resize(ref _argSlices, _argSlices.Length * 2);
        value.CopyTo(_argBuffer.AsSpan(offset));
        _argSlices[index] = new ArgSlice(offset, value.Length);
    }

    /// <summary>The arguments added so far (<paramref name="count"/> of them).</summary>
    internal CommandArgs Arguments(int count) => new(_argBuffer, _argSlices.AsSpan(0, count));

    /// <summary>Looks a script's command up as Redis's <c>lookupCommand</c> does (a container needs a known subcommand); null when unknown.</summary>
    internal CommandInfo? Lookup(in CommandArgs args)
    {
        CommandTable table = Caller.Server.Commands;
        CommandInfo? command = table.Lookup(args[0]);
        if (command?.Subcommands != null)
            command = args.Count > 1 ? table.LookupSubcommand(command, args[1]) : null;
        return command;
    }

    /// <summary>
    /// Runs one <c>redis.call</c> (Redis 7.0's <c>scriptCall</c>): null and the reply in <paramref name="reply"/>, or the
    /// script error that refused the command (without a leading <c>-</c>): <c>ERR Unknown Redis command called from
    /// script</c>, <c>ERR Wrong number of args calling Redis command from script</c>, <c>ERR This Redis command is not
    /// allowed from script</c> (<c>noscript</c>), <c>ERR Write commands are not allowed from read-only scripts.</c>, the
    /// OOM error for a <c>denyoom</c> command while over <c>maxmemory</c> before the script wrote (scripts without
    /// <c>allow-oom</c>), MISCONF on an AOF error, and RespKv's own error for a command needing a database the script
    /// does not hold. The reply span is valid until the next call.
    /// </summary>
    internal string? Call(scoped in CommandArgs args, out ReadOnlySpan<byte> reply)
    {
        reply = default;
        if (_inCall) return "ERR luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?";
        CommandInfo? command = Lookup(args);
        if (command == null) return "ERR Unknown Redis command called from script";
        if (!command.AcceptsArgumentCount(args.Count) || command.Handler == null) return "ERR Wrong number of args calling Redis command from script";
        if ((command.Flags & CommandFlags.NoScript) != 0 && !Caller.Server.Options.DisableDenyScripts) return "ERR This Redis command is not allowed from script";
        if (!Caller.User.Rules.Unrestricted && !Caller.ReplaysAof)
        {
            // Redis's scriptVerifyACL: checked with the calling client's user, logged with context "lua".
            Security.AclDenial denial = Security.AccessControl.Check(Caller.User, command, args, out int position);
            if (denial != Security.AclDenial.None)
            {
                AdmissionGates.LogDenial(Caller, denial, command, args, position, Security.AclLogContext.Lua);
                return "ERR The user executing the script " + Security.AccessControl.DenialMessage(denial);
            }
        }
        if (ReadOnly && (command.Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0) return "ERR Write commands are not allowed from read-only scripts.";
        RespServer server = Caller.Server;
        if (command.IsWrite && !_wrote && server.WriteLog is { WriteError: { } diskError }) return "MISCONF Errors writing to the AOF file: " + diskError;
        bool allowOom = (Flags & ScriptFlags.EvalCompatMode) == 0 && (Flags & ScriptFlags.AllowOom) != 0;
        if (!allowOom && !_wrote && _oomAtStart && (command.Flags & CommandFlags.DenyOom) != 0) return CommandErrors.OutOfMemory;
        if (!HoldsEveryDatabase && NeedsOtherDatabase(command, args))
            return "ERR RespKv locks every database only for scripts whose body names SELECT, FLUSHALL, SWAPDB, MOVE or COPY; this script did not";
        if (command.IsWrite) _wrote = true;

        ClientSession client = Caller;
        PropagationBuffer records = client.Propagation;
        int recordsBefore = records.Count;
        _capture.ResetWrittenCount();
        _captureWriter.Protocol = Resp;
        _inCall = true;
        client.BeginScriptCapture(_captureWriter);
        try
        {
            client.Executor.Dispatch(command, args);
        }
        finally
        {
            client.EndScriptCapture();
            client.CurrentCommand = _callerCommand;
            _inCall = false;
        }
        _captureWriter.Commit();
        if ((Replication & 1) == 0) records.TruncateTo(recordsBefore);
        reply = _capture.WrittenSpan;
        return null;
    }

    /// <summary>True when <paramref name="command"/> would touch a database other than the selected one (SELECT of another, FLUSHALL, SWAPDB, MOVE, COPY … DB).</summary>
    private bool NeedsOtherDatabase(CommandInfo command, in CommandArgs args)
    {
        if ((command.Flags & (CommandFlags.AllDatabases | CommandFlags.OtherDatabases)) != 0) return true;
        if ((command.Flags & CommandFlags.SelectsDatabase) == 0 || args.Count < 2) return false;
        return !CommandErrors.TryParseDatabaseIndex(Caller.Keyspace, args[1], out int index, out _) ? false : index != Caller.Database.Index;
    }
}
