using System.Runtime.InteropServices;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// The few Lua 5.4 C API entry points the bundled libraries call directly on the <c>lua_State*</c> their callbacks
/// receive (KeraLua's own <c>lua54</c> native library, so the same loaded <c>liblua54.so</c>): pointer-and-length strings
/// without copying them into managed strings, and no KeraLua <see cref="KeraLua.Lua"/> object per call. None of these
/// raises a Lua error in the way the libraries use them (no metamethods are triggered; only out-of-memory could), so no
/// <c>longjmp</c> crosses a managed frame.
/// </summary>
internal static unsafe class LuaNative
{
    private const string Library = "lua54";

    /// <summary>Lua 5.4's <c>LUA_REGISTRYINDEX</c> (<c>-LUAI_MAXSTACK - 1000</c>).</summary>
    public const int RegistryIndex = -1_000_000 - 1000;

    /// <summary>Pseudo-index of the running C closure's upvalue <paramref name="n"/> (1-based): <c>lua_upvalueindex</c>.</summary>
    public static int UpValueIndex(int n) => RegistryIndex - n;

    /// <summary>Lua type tags (<c>LUA_T*</c>).</summary>
    public const int TNone = -1, TNil = 0, TBoolean = 1, TLightUserData = 2, TNumber = 3, TString = 4, TTable = 5,
        TFunction = 6, TUserData = 7, TThread = 8;

    /// <summary>Lua 5.1's <c>LUAI_MAXCSTACK</c>: the stack slots a C function may use in Redis's Lua. Checks of the
    /// bundled libraries (<c>luaL_checkstack</c>) fail beyond it there, with the errors this port reproduces.</summary>
    public const int MaxCStack51 = 8000;

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_gettop(IntPtr L);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_settop(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_type(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_checkstack(IntPtr L, int n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern double lua_tonumberx(IntPtr L, int index, int* isnum);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_toboolean(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern byte* lua_tolstring(IntPtr L, int index, nuint* len);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void* lua_touserdata(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushnil(IntPtr L);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushnumber(IntPtr L, double n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushinteger(IntPtr L, long n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern byte* lua_pushlstring(IntPtr L, byte* s, nuint len);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushboolean(IntPtr L, int b);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushlightuserdata(IntPtr L, void* p);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushvalue(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_pushcclosure(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, int> fn, int n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_createtable(IntPtr L, int narr, int nrec);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern IntPtr lua_getallocf(IntPtr L, void** ud);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void* lua_newuserdatauv(IntPtr L, nuint size, int nuvalue);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_rawgeti(IntPtr L, int index, long n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_rawseti(IntPtr L, int index, long n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_rawset(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_rawget(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern ulong lua_rawlen(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_next(IntPtr L, int index);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void lua_rotate(IntPtr L, int index, int n);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_getstack(IntPtr L, int level, LuaDebugInfo* ar);
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern int lua_getinfo(IntPtr L, byte* what, LuaDebugInfo* ar);

    /// <summary>Pops <paramref name="n"/> values: <c>lua_pop</c>.</summary>
    public static void Pop(IntPtr L, int n) => lua_settop(L, -n - 1);

    /// <summary>Moves the top value to <paramref name="index"/>, shifting the values above it up: <c>lua_insert</c>.</summary>
    public static void Insert(IntPtr L, int index) => lua_rotate(L, index, 1);

    /// <summary>Pushes a copy of <paramref name="bytes"/> as a Lua string.</summary>
    public static void PushBytes(IntPtr L, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes) lua_pushlstring(L, p, (nuint)bytes.Length);
    }

    /// <summary>The string at <paramref name="index"/> (it must be one: no number conversion) as a span over Lua's own
    /// memory, valid while the value stays on the stack.</summary>
    public static ReadOnlySpan<byte> StringAt(IntPtr L, int index)
    {
        nuint len;
        byte* p = lua_tolstring(L, index, &len);
        return new ReadOnlySpan<byte>(p, (int)len);
    }
}

/// <summary>Lua 5.4's <c>lua_Debug</c> (lua.h), for <c>lua_getstack</c>/<c>lua_getinfo</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LuaDebugInfo
{
    public int Event;
    public byte* Name;
    public byte* NameWhat;
    public byte* What;
    public byte* Source;
    public nuint SourceLength;
    public int CurrentLine;
    public int LineDefined;
    public int LastLineDefined;
    public byte NumberOfUpValues;
    public byte NumberOfParameters;
    public byte IsVarArg;
    public byte IsTailCall;
    public ushort FirstTransferred;
    public ushort NumberTransferred;
    public fixed byte ShortSource[60];
    public IntPtr CallInfo;
}
