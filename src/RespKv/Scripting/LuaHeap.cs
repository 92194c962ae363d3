using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RespKv.Scripting;

/// <summary>
/// The allocator of one Lua state (<c>lua_Alloc</c>, installed with <c>lua_setallocf</c>): C's <c>realloc</c>/<c>free</c>
/// (the allocator Lua's own <c>luaL_newstate</c> uses, so blocks allocated before the switch are freed correctly) plus a
/// running byte count and a cap. The cap is enforced only while Lua code runs (<see cref="Enforcing"/>): an allocation
/// over it then fails, and Lua raises <c>not enough memory</c> inside the script — which fails the script, not the
/// server. While managed code is on the stack (the engine's setup, a C# function called by Lua) nothing may fail,
/// since Lua's error <c>longjmp</c> must not cross a managed frame.
/// </summary>
internal unsafe struct LuaHeap
{
    /// <summary>Bytes currently allocated by the state.</summary>
    public long Used;

    /// <summary>The cap in bytes (<see cref="LuaEngine.DefaultHeapLimitBytes"/> by default).</summary>
    public long Limit;

    /// <summary>Non-zero while Lua code runs: allocations beyond <see cref="Limit"/> fail.</summary>
    public int Enforcing;

    /// <summary>Allocates the heap record in native memory (it must not move: Lua keeps its address).</summary>
    public static LuaHeap* Create(long limit)
    {
        LuaHeap* heap = (LuaHeap*)NativeMemory.AllocZeroed((nuint)sizeof(LuaHeap));
        heap->Limit = limit;
        return heap;
    }

    /// <summary>Frees the record (after <c>lua_close</c>).</summary>
    public static void Destroy(LuaHeap* heap) => NativeMemory.Free(heap);

    /// <summary>The <c>lua_Alloc</c> function: <paramref name="ud"/> is the <see cref="LuaHeap"/>.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static IntPtr Allocate(IntPtr ud, IntPtr block, nuint oldSize, nuint newSize)
    {
        LuaHeap* heap = (LuaHeap*)ud;
        long old = block == IntPtr.Zero ? 0 : (long)oldSize;
        if (newSize == 0)
        {
            if (block != IntPtr.Zero)
            {
                NativeMemory.Free((void*)block);
                heap->Used -= old;
            }
            return IntPtr.Zero;
        }
        long growth = (long)newSize - old;
        if (growth > 0 && heap->Enforcing != 0 && heap->Used + growth > heap->Limit) return IntPtr.Zero;
        void* result = NativeMemory.Realloc((void*)block, newSize);
        if (result == null) return IntPtr.Zero;
        heap->Used += growth;
        return (IntPtr)result;
    }
}
