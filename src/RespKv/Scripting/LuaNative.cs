using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RespKv.Scripting;

/// <summary>
/// The Lua 5.4 C API functions the engine calls on its hot paths, bound straight to KeraLua's native library
/// (<c>liblua54</c>, shipped by the KeraLua 1.4.11 package) without KeraLua's managed wrappers: arguments go in as
/// spans (<c>lua_pushlstring</c>), strings come out as pointers (<c>lua_tolstring</c>) and C functions are static
/// <see cref="UnmanagedCallersOnlyAttribute"/> methods, so a call allocates nothing.
/// <para>
/// Rule every caller keeps: nothing here may raise a Lua error (<c>longjmp</c>) through a managed frame — .NET does not
/// support unwinding managed frames with <c>longjmp</c>. Raw table access only (no metamethods), and allocation failures
/// are impossible while managed code is on the stack (<see cref="LuaHeap"/> enforces its cap only while Lua code runs).
/// Errors are raised by Lua code (the API wrappers in <see cref="LuaEngine"/>'s prelude), kills by yielding from the
/// count hook (<c>lua_yield</c> in a hook returns normally; Lua unwinds after the hook returned).
/// </para>
/// </summary>
internal static unsafe partial class LuaNative
{
    private const string Library = "lua54";

    /// <summary><c>LUA_REGISTRYINDEX</c> (Lua 5.4: <c>-LUAI_MAXSTACK - 1000</c>).</summary>
    public const int RegistryIndex = -1000000 - 1000;

    /// <summary><c>LUA_RIDX_GLOBALS</c>: the registry slot of the globals table.</summary>
    public const int GlobalsSlot = 2;

    /// <summary>Value types (<c>LUA_TNIL</c> …).</summary>
    public const int TypeNil = 0, TypeBoolean = 1, TypeNumber = 3, TypeString = 4, TypeTable = 5, TypeFunction = 6;

    /// <summary>Thread statuses (<c>LUA_OK</c> …).</summary>
    public const int StatusOk = 0, StatusYield = 1, StatusErrorRun = 2, StatusErrorSyntax = 3, StatusErrorMemory = 4;

    /// <summary>Hook mask of the count event (<c>LUA_MASKCOUNT</c>).</summary>
    public const int MaskCount = 8;

    /// <summary><c>lua_gc</c> options.</summary>
    public const int GcCount = 3, GcCountBytes = 4, GcStep = 5;

    [LibraryImport(Library, EntryPoint = "lua_settop")] [SuppressGCTransition] public static partial void SetTop(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_gettop")] [SuppressGCTransition] public static partial int GetTop(IntPtr L);
    [LibraryImport(Library, EntryPoint = "lua_pushlstring")] public static partial IntPtr PushLString(IntPtr L, byte* s, nuint length);
    [LibraryImport(Library, EntryPoint = "lua_tolstring")] public static partial byte* ToLString(IntPtr L, int index, nuint* length);
    [LibraryImport(Library, EntryPoint = "lua_type")] [SuppressGCTransition] public static partial int Type(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_rawgeti")] public static partial int RawGetI(IntPtr L, int index, long n);
    [LibraryImport(Library, EntryPoint = "lua_rawseti")] public static partial void RawSetI(IntPtr L, int index, long n);
    [LibraryImport(Library, EntryPoint = "lua_rawget")] public static partial int RawGet(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_rawset")] public static partial void RawSet(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_rawlen")] [SuppressGCTransition] public static partial ulong RawLen(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_createtable")] public static partial void CreateTable(IntPtr L, int arrayCount, int recordCount);
    [LibraryImport(Library, EntryPoint = "lua_resume")] public static partial int Resume(IntPtr L, IntPtr from, int argCount, int* resultCount);
    [LibraryImport(Library, EntryPoint = "lua_closethread")] public static partial int CloseThread(IntPtr L, IntPtr from);
    [LibraryImport(Library, EntryPoint = "lua_pushinteger")] [SuppressGCTransition] public static partial void PushInteger(IntPtr L, long n);
    [LibraryImport(Library, EntryPoint = "lua_pushnumber")] [SuppressGCTransition] public static partial void PushNumber(IntPtr L, double n);
    [LibraryImport(Library, EntryPoint = "lua_pushboolean")] [SuppressGCTransition] public static partial void PushBoolean(IntPtr L, int b);
    [LibraryImport(Library, EntryPoint = "lua_pushnil")] [SuppressGCTransition] public static partial void PushNil(IntPtr L);
    [LibraryImport(Library, EntryPoint = "lua_pushvalue")] [SuppressGCTransition] public static partial void PushValue(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_toboolean")] [SuppressGCTransition] public static partial int ToBoolean(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_tonumberx")] public static partial double ToNumberX(IntPtr L, int index, int* isNumber);
    [LibraryImport(Library, EntryPoint = "lua_tointegerx")] public static partial long ToIntegerX(IntPtr L, int index, int* isInteger);
    [LibraryImport(Library, EntryPoint = "lua_isinteger")] [SuppressGCTransition] public static partial int IsInteger(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_next")] public static partial int Next(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_checkstack")] public static partial int CheckStack(IntPtr L, int n);
    [LibraryImport(Library, EntryPoint = "lua_rotate")] public static partial void Rotate(IntPtr L, int index, int n);
    [LibraryImport(Library, EntryPoint = "lua_xmove")] public static partial void XMove(IntPtr from, IntPtr to, int n);
    [LibraryImport(Library, EntryPoint = "lua_newthread")] public static partial IntPtr NewThread(IntPtr L);
    [LibraryImport(Library, EntryPoint = "luaL_ref")] public static partial int Ref(IntPtr L, int table);
    [LibraryImport(Library, EntryPoint = "luaL_unref")] public static partial void Unref(IntPtr L, int table, int reference);
    [LibraryImport(Library, EntryPoint = "lua_isyieldable")] public static partial int IsYieldable(IntPtr L);
    [LibraryImport(Library, EntryPoint = "lua_yieldk")] public static partial int YieldK(IntPtr L, int resultCount, IntPtr context, IntPtr continuation);
    [LibraryImport(Library, EntryPoint = "lua_pcallk")] public static partial int PCallK(IntPtr L, int argCount, int resultCount, int errorHandler, IntPtr context, IntPtr continuation);
    [LibraryImport(Library, EntryPoint = "luaL_loadbufferx")] public static partial int LoadBufferX(IntPtr L, byte* buffer, nuint size, byte* name, byte* mode);
    [LibraryImport(Library, EntryPoint = "lua_topointer")] [SuppressGCTransition] public static partial IntPtr ToPointer(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_gc")] public static partial int Gc(IntPtr L, int what, int arg1, int arg2);
    [LibraryImport(Library, EntryPoint = "lua_pushcclosure")] public static partial void PushCClosure(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, int> function, int upvalues);
    [LibraryImport(Library, EntryPoint = "lua_sethook")] public static partial void SetHook(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> hook, int mask, int count);
    [LibraryImport(Library, EntryPoint = "lua_setallocf")] public static partial void SetAllocF(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, nuint, IntPtr> allocator, IntPtr userData);

    /// <summary>Pushes <paramref name="bytes"/> as a Lua string.</summary>
    public static void PushBytes(IntPtr L, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes) PushLString(L, p, (nuint)bytes.Length);
    }

    /// <summary>The string (or number, converted in place) at <paramref name="index"/> as a span of Lua's own memory, valid while the value is on the stack; false for other types.</summary>
    public static bool TryGetBytes(IntPtr L, int index, out ReadOnlySpan<byte> bytes)
    {
        nuint length;
        byte* p = ToLString(L, index, &length);
        if (p == null)
        {
            bytes = default;
            return false;
        }
        bytes = new ReadOnlySpan<byte>(p, checked((int)length));
        return true;
    }

    /// <summary>Pops <paramref name="n"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pop(IntPtr L, int n) => SetTop(L, -n - 1);
}
