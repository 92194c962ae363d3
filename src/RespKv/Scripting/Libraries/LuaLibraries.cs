using System.Runtime.InteropServices;
using KeraLua;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// The libraries Redis 7.0 bundles into its Lua (deps/lua/src): <c>cjson</c> (<see cref="CJson"/>), <c>cmsgpack</c>
/// (<see cref="CMsgPack"/>), <c>bit</c> (<see cref="LuaBit"/>) and <c>struct</c> (<see cref="LuaStruct"/>), as global
/// tables of a KeraLua (Lua 5.4) state, returning what redis-server 7.0.15's versions return through <c>EVAL</c>.
/// </summary>
/// <remarks>
/// <para>Each function is a C# method working on the Lua stack and Lua's string memory directly, pushed as a C closure
/// of one <c>[UnmanagedCallersOnly]</c> trampoline (<see cref="PushFunction"/>) whose upvalue 1 is the method's address:
/// the trampoline turns any exception into a Lua error and, under the scripting engine's heap cap
/// (<see cref="LuaHeap"/>), lifts the cap while C# runs, so no allocation a method makes can fail and
/// <c>longjmp</c> through it. A C# callback cannot raise a Lua error (<c>lua_error</c> would
/// <c>longjmp</c> across managed frames), so each callback sits inside a small Lua function from one chunk compiled at
/// <see cref="Open"/> (<see cref="ChunkName"/>): the callback returns an error sentinel and the finished message
/// (<see cref="LuaArgs"/>), and the Lua function raises it with <c>error(message, 0)</c>. The message carries the calling
/// line as lauxlib's <c>luaL_error</c> would (<c>user_script:1: bad argument #1 to 'decode' (…)</c>), except after a
/// tail call (<c>return cjson.decode(x)</c>) in code the engine did not compile, which in Lua 5.4 leaves no caller
/// frame to name.</para>
/// <para>Stack levels: an error handler walking the stack from such an error meets <c>error</c> (a C function) and
/// then a frame of this chunk before the script's own frame; the engine, which reports the script's line (Redis's
/// <c>on @user_script:1.</c>), skips frames whose source is <see cref="ChunkName"/>. The engine also compiles scripts
/// without tail calls (<see cref="TailCalls"/>), so the calling frame is there to name.</para>
/// <para>Lua 5.1 numbers: Redis's Lua has doubles only. Results a script prints come out as 5.1 prints them
/// (<see cref="LuaArgs.PushNumber"/>: integral values below 10^14 are pushed as integers, so <c>tostring</c> gives
/// <c>3</c>, not <c>3.0</c>), and arguments are read as doubles, so a Lua 5.4 integer packs, encodes and shifts as
/// the same 5.1 double would.</para>
/// </remarks>
public static unsafe class LuaLibraries
{
    /// <summary>Chunk name (<c>source</c> in <c>lua_Debug</c>, with its leading <c>=</c>) of the Lua glue around the
    /// library functions: the engine prelude's (<see cref="LuaPrelude.ChunkName"/>), whose frames the engine's error
    /// position skips, as it must skip these.</summary>
    public const string ChunkName = LuaPrelude.ChunkName;

    /// <summary>The Lua part: wraps each raw callback so that an error it returns is raised, and assembles the tables.
    /// Arguments: the error sentinel, <c>cjson.null</c>, the cjson factory, then the raw function tables of cmsgpack,
    /// bit and struct. Returns the four library tables.</summary>
    private const string Glue = """
        local E, NULL, cjsonraw, msgpackraw, bitraw, structraw = ...
        local error, select, pairs = error, select, pairs
        local function check(...)
          if ... == E then error((select(2, ...)), 0) end
          return ...
        end
        local function lib(raw)
          local t = {}
          for name, f in pairs(raw) do
            t[name] = function(...) return check(f(...)) end
          end
          return t
        end
        local function newcjson()
          local t = lib(cjsonraw())
          t.new = newcjson
          t.null = NULL
          t._NAME = 'cjson'
          t._VERSION = '2.1.0'
          return t
        end
        local msgpack = lib(msgpackraw)
        msgpack._NAME = 'cmsgpack'
        msgpack._VERSION = 'lua-cmsgpack 0.4.0'
        msgpack._COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo'
        msgpack._DESCRIPTION = 'MessagePack C implementation for Lua'
        return newcjson(), msgpack, lib(bitraw), lib(structraw)
        """;

    /// <summary>
    /// Creates the globals <c>cjson</c>, <c>cmsgpack</c>, <c>bit</c> and <c>struct</c> in <paramref name="state"/>
    /// (plain tables: the caller makes them read-only as Redis does). Needs the base library's <c>error</c>,
    /// <c>select</c> and <c>pairs</c> in the globals when called (captured then, so a later sandbox may remove them).
    /// </summary>
    /// <exception cref="InvalidOperationException">The glue chunk failed to load or run (a bug).</exception>
    public static unsafe void Open(Lua state)
    {
        IntPtr L = state.Handle;
        int top = state.GetTop();
        if (state.LoadString(Glue, ChunkName) != LuaStatus.OK)
            throw new InvalidOperationException("lualibs: " + state.ToString(-1));
        LuaNative.PushLightUserData(L, LuaArgs.ErrorSentinel);
        LuaNative.PushLightUserData(L, null);
        PushFunction(L, CJson.Factory, 0);
        PushRawTable(L, CMsgPack.Functions);
        PushRawTable(L, LuaBit.Functions);
        PushRawTable(L, LuaStruct.Functions);
        if (state.PCall(6, 4, 0) != LuaStatus.OK)
        {
            string message = state.ToString(-1);
            state.SetTop(top);
            throw new InvalidOperationException("lualibs: " + message);
        }
        state.SetGlobal("struct");
        state.SetGlobal("bit");
        state.SetGlobal("cmsgpack");
        state.SetGlobal("cjson");
    }

    private static unsafe void PushRawTable(IntPtr L, (string Name, IntPtr Function)[] functions)
    {
        LuaNative.CreateTable(L, 0, functions.Length);
        foreach (var (name, function) in functions)
        {
            LuaNative.PushBytes(L, System.Text.Encoding.ASCII.GetBytes(name));
            PushFunction(L, function, 0);
            LuaNative.RawSet(L, -3);
        }
    }

    /// <summary>
    /// Pushes the library method at <paramref name="function"/> (a managed <c>delegate*&lt;IntPtr, int&gt;</c>) as a C
    /// closure of <see cref="Trampoline"/>, with the <paramref name="upvalues"/> values on top of the stack as its
    /// upvalues 2 and up (which it pops).
    /// </summary>
    internal static unsafe void PushFunction(IntPtr L, IntPtr function, int upvalues)
    {
        LuaNative.PushLightUserData(L, (void*)function);
        if (upvalues > 0) LuaNative.Insert(L, -upvalues - 1);
        LuaNative.PushCClosure(L, &Trampoline, upvalues + 1);
    }

    private static readonly IntPtr EngineAllocator =
        (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, nuint, IntPtr>)&LuaHeap.Allocate;

    /// <summary>The C function every library method runs through: calls the method in upvalue 1 with the heap cap
    /// lifted, and answers an exception as an error (the wrapper raises it).</summary>
    [UnmanagedCallersOnly(CallConvs = new[] { typeof(System.Runtime.CompilerServices.CallConvCdecl) })]
    private static unsafe int Trampoline(IntPtr L)
    {
        void* ud;
        LuaHeap* heap = LuaNative.GetAllocF(L, &ud) == EngineAllocator ? (LuaHeap*)ud : null;
        int enforcing = heap != null ? heap->Enforcing : 0;
        if (heap != null) heap->Enforcing = 0;
        try
        {
            var method = (delegate*<IntPtr, int>)LuaNative.ToUserData(L, LuaNative.UpValueIndex(1));
            return method(L);
        }
        catch (Exception e)
        {
            return LuaArgs.Fail(L, e is InsufficientExecutionStackException ? "stack overflow" : e.Message);
        }
        finally
        {
            if (heap != null) heap->Enforcing = enforcing;
        }
    }
}
