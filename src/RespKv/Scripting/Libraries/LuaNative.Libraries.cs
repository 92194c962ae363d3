using System.Runtime.InteropServices;

namespace RespKv.Scripting;

/// <summary>
/// The Lua 5.4 C API entry points only the bundled libraries (<see cref="Libraries.LuaLibraries"/>) call: userdata,
/// light userdata, the allocator query and the debug interface (<c>luaL_where</c>'s and <c>luaL_argerror</c>'s stack
/// questions), plus the type tags and helpers they need. Same rule as the rest of the class: nothing here raises a Lua
/// error through a managed frame (no metamethods; allocation never fails while C# runs, see
/// <see cref="Libraries.LuaLibraries"/>' trampoline).
/// </summary>
internal static unsafe partial class LuaNative
{
    /// <summary>Value types <c>LUA_TNONE</c>, <c>LUA_TLIGHTUSERDATA</c>, <c>LUA_TUSERDATA</c>, <c>LUA_TTHREAD</c>.</summary>
    public const int TypeNone = -1, TypeLightUserData = 2, TypeUserData = 7, TypeThread = 8;

    [LibraryImport(Library, EntryPoint = "lua_touserdata")] [SuppressGCTransition] public static partial void* ToUserData(IntPtr L, int index);
    [LibraryImport(Library, EntryPoint = "lua_pushlightuserdata")] [SuppressGCTransition] public static partial void PushLightUserData(IntPtr L, void* p);
    [LibraryImport(Library, EntryPoint = "lua_newuserdatauv")] public static partial void* NewUserDataUV(IntPtr L, nuint size, int userValues);
    [LibraryImport(Library, EntryPoint = "lua_getallocf")] [SuppressGCTransition] public static partial IntPtr GetAllocF(IntPtr L, void** userData);
    [LibraryImport(Library, EntryPoint = "lua_getstack")] public static partial int GetStack(IntPtr L, int level, LuaDebugInfo* ar);
    [LibraryImport(Library, EntryPoint = "lua_getinfo")] public static partial int GetInfo(IntPtr L, byte* what, LuaDebugInfo* ar);

    /// <summary>Pseudo-index of the running C closure's upvalue <paramref name="n"/> (1-based): <c>lua_upvalueindex</c>.</summary>
    public static int UpValueIndex(int n) => RegistryIndex - n;

    /// <summary>Moves the top value to <paramref name="index"/>, shifting the values above it up: <c>lua_insert</c>.</summary>
    public static void Insert(IntPtr L, int index) => Rotate(L, index, 1);

    /// <summary>The string at <paramref name="index"/> (it must be one: unlike <see cref="TryGetBytes"/>, no number is
    /// converted in place) as a span over Lua's own memory, valid while the value stays on the stack.</summary>
    public static ReadOnlySpan<byte> StringAt(IntPtr L, int index)
    {
        nuint len;
        byte* p = ToLString(L, index, &len);
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
