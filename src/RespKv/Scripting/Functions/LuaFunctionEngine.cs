using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Protocol;
using static RespKv.Scripting.LuaNative;

namespace RespKv.Scripting.Functions;

/// <summary>
/// The <c>LUA</c> function engine (Redis 7.0's <c>function_lua.c</c>): its own <see cref="LuaEngine"/> — Redis keeps one
/// Lua state for functions apart from EVAL's — with the same Lua 5.1 globals, <c>redis</c> API and read-only sandbox.
/// <para>
/// Loading a library (<see cref="Create"/>) compiles its code as <c>@user_function</c> and runs it once with the globals'
/// <c>__index</c> switched to the load-time API, as Redis does: only <c>redis.register_function</c>, <c>redis.log</c> and
/// the <c>LOG_*</c> levels, <c>redis.REDIS_VERSION</c> and <c>REDIS_VERSION_NUM</c>; any other name read raises
/// <c>Script attempted to access nonexistent global variable 'x'</c> (so <c>redis.call</c>, <c>string</c>, <c>error</c> are not
/// there while loading), any global written <c>Attempt to modify a readonly table</c>. The callbacks it registers keep
/// the normal globals when FCALL runs them (<see cref="ScriptingState.RunScript"/>).
/// </para>
/// <para>
/// A dropped library's callbacks are released from the Lua registry only when no FCALL is between looking a function up
/// and running it (<see cref="EnterCall"/>/<see cref="ExitCall"/>), so a registry reference is never reused under a call
/// that still holds it.
/// </para>
/// </summary>
public sealed unsafe class LuaFunctionEngine : IFunctionEngine, IDisposable
{
    /// <summary>The chunk run once per Lua state, after the engine's prelude (arguments: the register C function, the flag names).</summary>
    private const string Prelude = """
local register, flagnames = ...
local error, type, next, tostring, select, setmetatable, lower = error, type, next, tostring, select, setmetatable, string.lower
local function fail(message) error({err = 'ERR ' .. message}, 0) end
local function isstring(v) local t = type(v) return t == 'string' or t == 'number' end

-- Redis's luaRegisterFunctionReadFlags: the array part up to the first nil, each a known flag (case-insensitive).
local function readflags(list)
  local flags, i = 0, 1
  while true do
    local v = list[i]
    if v == nil then return flags end
    if not isstring(v) then return nil end
    local f = flagnames[lower(tostring(v))]
    if f == nil then return nil end
    flags = flags | f
    i = i + 1
  end
end

local function named(args)
  if type(args) ~= 'table' then
    fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
  end
  local name, desc, callback, flags
  for k, v in next, args do
    if not isstring(k) then fail('named argument key given to redis.register_function is not a string') end
    local key = lower(tostring(k))
    if key == 'function_name' then
      if not isstring(v) then fail('function_name argument given to redis.register_function must be a string') end
      name = tostring(v)
    elseif key == 'description' then
      if not isstring(v) then fail('description argument given to redis.register_function must be a string') end
      desc = tostring(v)
    elseif key == 'callback' then
      if type(v) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
      callback = v
    elseif key == 'flags' then
      if type(v) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
      flags = readflags(v)
      if flags == nil then fail('unknown flag given') end
    else
      fail('unknown argument given to redis.register_function')
    end
  end
  if name == nil then fail('redis.register_function must get a function name argument') end
  if callback == nil then fail('redis.register_function must get a callback argument') end
  return name, callback, flags or 0, desc
end

local function register_function(...)
  local n = select('#', ...)
  if n < 1 or n > 2 then fail('wrong number of arguments to redis.register_function') end
  local name, callback, flags, desc
  if n == 1 then
    name, callback, flags, desc = named((...))
  else
    local a, b = ...
    if not isstring(a) then fail('first argument to redis.register_function must be a string') end
    if type(b) ~= 'function' then fail('second argument to redis.register_function must be a function') end
    name, callback, flags = tostring(a), b, 0
  end
  local err = register(name, callback, flags, desc)
  if err then fail(err) end
end

-- The load-time globals (Redis's LIBRARY_API): read-only, and a missing name raises as a missing global does.
local function missing(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
local function readonly() error('Attempt to modify a readonly table', 2) end
local function sealed(real)
  setmetatable(real, {__index = missing, __metatable = false})
  return setmetatable({}, {__index = real, __newindex = readonly, __metatable = false})
end
local api = {
  register_function = register_function,
  log = redis.log,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE, LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}
return sealed({redis = sealed(api)})
""";

    private readonly ILogger? _logger;
    private readonly List<int> _released = [];
    private LuaEngine? _lua;
    private int _proxyMetaRef;
    private int _libraryGlobalsRef;
    private int _inFlight;
    private int _pending;

    /// <summary>The library whose code is running at FUNCTION LOAD (its <c>redis.register_function</c> calls add to it), or null.</summary>
    [ThreadStatic] private static FunctionLibrary? t_loading;

    /// <summary>An engine whose Lua state is created on first use; <c>redis.log</c> lines go to <paramref name="logger"/>.</summary>
    public LuaFunctionEngine(ILogger? logger) => _logger = logger;

    /// <inheritdoc />
    public string Name => "LUA";

    /// <inheritdoc />
    public long MemoryBytes => _lua?.MemoryBytes ?? 0;

    /// <summary>The functions' Lua state (created on first use; use it holding <see cref="ScriptingState.ExecutionLock"/>).</summary>
    public LuaEngine Lua => _lua ??= CreateState();

    private LuaEngine CreateState()
    {
        var lua = new LuaEngine(_logger);
        IntPtr L = lua.State.Handle;
        if (!lua.TryCompile(Encoding.UTF8.GetBytes(Prelude), "=redis", out int prelude, out string? error))
            throw new InvalidOperationException("Function prelude: " + error);
        RawGetI(L, RegistryIndex, prelude);
        PushCClosure(L, &Register, 0);
        CreateTable(L, 0, ScriptFlagParser.Names.Length);
        foreach ((ScriptFlags flag, string name) in ScriptFlagParser.Names)
        {
            PushBytes(L, Encoding.ASCII.GetBytes(name));
            PushInteger(L, (long)flag);
            RawSet(L, -3);
        }
        if (PCallK(L, 2, 1, 0, 0, 0) != StatusOk) throw new InvalidOperationException("Function prelude: " + lua.State.ToString(-1));
        _libraryGlobalsRef = Ref(L, RegistryIndex);
        lua.Release(prelude);
        // The globals every chunk sees are a proxy whose metatable's __index is the real globals table; loading switches it.
        RawGetI(L, RegistryIndex, GlobalsSlot);
        lua.State.GetMetaTable(-1);
        _proxyMetaRef = Ref(L, RegistryIndex);
        SetTop(L, 0);
        return lua;
    }

    /// <summary>
    /// Compiles and runs a library's code (Redis's <c>luaEngineCreate</c>): <c>Error compiling function: user_function:N: …</c>
    /// for a syntax error, <c>Error registering functions: …</c> for an error while it runs (its own, a register_function
    /// refusal such as <c>ERR Function already exists in the library</c>, or <c>ERR FUNCTION LOAD timeout</c>). Call holding
    /// <see cref="ScriptingState.ExecutionLock"/>.
    /// </summary>
    public string? Create(FunctionLibrary library, ReadOnlySpan<byte> body, int timeoutMs)
    {
        LuaEngine lua = Lua;
        if (!lua.TryCompile(body, "@user_function", out int chunk, out string? compileError)) return "Error compiling function: " + compileError;
        IntPtr L = lua.State.Handle;
        RawGetI(L, RegistryIndex, _proxyMetaRef);
        PushBytes(L, "__index"u8);
        RawGet(L, -2);
        int realGlobals = Ref(L, RegistryIndex);
        SetIndex(L, _libraryGlobalsRef);
        t_loading = library;
        string? error;
        try
        {
            error = lua.RunLoader(chunk, timeoutMs);
        }
        finally
        {
            t_loading = null;
            RawGetI(L, RegistryIndex, _proxyMetaRef);
            SetIndex(L, realGlobals);
            Unref(L, RegistryIndex, realGlobals);
            lua.Release(chunk);
            SetTop(L, 0);
        }
        return error == null ? null : "Error registering functions: " + error;
    }

    /// <summary>Sets <c>__index</c> of the table on top of the main stack (the globals' metatable) to registry value <paramref name="reference"/>, and pops it.</summary>
    private static void SetIndex(IntPtr L, int reference)
    {
        PushBytes(L, "__index"u8);
        RawGetI(L, RegistryIndex, reference);
        RawSet(L, -3);
        Pop(L, 1);
    }

    /// <summary>
    /// Releases <paramref name="library"/>'s callbacks (Redis's <c>luaEngineFreeFunction</c>) — at once when no FCALL is in
    /// flight, else when the last one ends. Call holding <see cref="ScriptingState.ExecutionLock"/>.
    /// </summary>
    public void Free(FunctionLibrary library)
    {
        foreach (FunctionInfo f in library.Functions) _released.Add(f.Callback);
        // A full fence: the set without the library (published before this call) and the pending count are visible
        // before the in-flight count is read, as an FCALL increments it before reading the set (Dekker's pattern).
        Interlocked.Exchange(ref _pending, _released.Count);
        if (Volatile.Read(ref _inFlight) == 0) ReleasePending();
    }

    private void ReleasePending()
    {
        if (_released.Count == 0 || _lua == null) return;
        foreach (int reference in _released) _lua.Release(reference);
        _released.Clear();
        Volatile.Write(ref _pending, 0);
    }

    /// <summary>An FCALL is about to look a function up: its callback stays in the Lua registry until <see cref="ExitCall"/>.</summary>
    public void EnterCall() => Interlocked.Increment(ref _inFlight);

    /// <summary>The FCALL ended: the last one out releases the callbacks of libraries dropped meanwhile (taking <paramref name="executionLock"/>).</summary>
    public void ExitCall(object executionLock)
    {
        // The count is read without the lock: a release it misses happens at the next Free or the next last exit.
        if (Interlocked.Decrement(ref _inFlight) != 0 || Volatile.Read(ref _pending) == 0) return;
        lock (executionLock)
        {
            if (_released.Count != 0 && Volatile.Read(ref _inFlight) == 0) ReleasePending();
        }
    }

    /// <summary>
    /// <c>redis.register_function</c>'s C side, after the prelude checked the arguments (name, callback, flags, description):
    /// adds the function to the library being loaded and returns nothing, or returns Redis's refusal for the prelude to raise —
    /// <c>redis.register_function can only be called on FUNCTION LOAD command</c>, <see cref="LibraryMetadata.InvalidName"/>,
    /// <c>Function already exists in the library</c>.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Register(IntPtr L)
    {
        FunctionLibrary? library = t_loading;
        string? error;
        if (library == null) error = "redis.register_function can only be called on FUNCTION LOAD command";
        else
        {
            TryGetBytes(L, 1, out ReadOnlySpan<byte> name);
            long flags = ToIntegerX(L, 3, null);
            byte[]? description = TryGetBytes(L, 4, out ReadOnlySpan<byte> desc) ? desc.ToArray() : null;
            PushValue(L, 2);
            int callback = Ref(L, RegistryIndex);
            error = library.Add(new FunctionInfo(Encoding.UTF8.GetString(name), description, (ScriptFlags)flags, callback));
            if (error != null) Unref(L, RegistryIndex, callback);
        }
        SetTop(L, 0);
        if (error == null) return 0;
        PushBytes(L, Encoding.UTF8.GetBytes(error));
        return 1;
    }

    /// <summary>Closes the Lua state.</summary>
    public void Dispose() => _lua?.Dispose();
}
