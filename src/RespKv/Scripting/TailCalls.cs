using System.Text;
using static RespKv.Scripting.LuaNative;

namespace RespKv.Scripting;

/// <summary>
/// Turns a compiled script's tail calls (<c>return f(x)</c>, Lua's <c>OP_TAILCALL</c>) into ordinary calls followed by
/// the return that already follows them (<c>OP_CALL … C=0</c>; <c>OP_RETURN A 0</c>). Why: <c>redis.call</c> is a Lua
/// wrapper here (it raises its errors in Lua, never from C#), and a tail call into it would drop the script's own frame,
/// so <c>return redis.call('nosuch')</c> could not report Redis's <c>on @user_script:1.</c> position; in Redis
/// <c>redis.call</c> is a C function, which Lua never tail-calls away. The cost: tail recursion deeper than Lua's stack
/// (about 200,000 frames) overflows instead of running in constant space.
/// <para>
/// Lua 5.4 has no API for a function's bytecode, so this reads the closure's <c>Proto</c> through its pointer, with the
/// 64-bit layout of Lua 5.4's <c>lobject.h</c>; <see cref="Probe"/> checks that layout once on a known chunk and, if it
/// does not match the library's build, patching stays off (positions of tail-called errors are then missing).
/// </para>
/// </summary>
internal static unsafe class TailCalls
{
    private const int OpCall = 68, OpTailCall = 69, OpReturn = 70, OpVarargPrep = 81;
    private const int ClosureProtoOffset = 24;
    private const int ProtoSizeCode = 24, ProtoSizeP = 32, ProtoCode = 64, ProtoChildren = 72;

    /// <summary>True when a probe chunk compiled by this Lua has the expected layout and bytecode.</summary>
    public static bool Probe()
    {
        try
        {
            using var lua = new KeraLua.Lua(openLibs: false);
            IntPtr L = lua.Handle;
            byte[] source = Encoding.ASCII.GetBytes("return f(1)");
            fixed (byte* s = source)
            fixed (byte* name = "=probe\0"u8)
            fixed (byte* mode = "t\0"u8)
            {
                if (LoadBufferX(L, s, (nuint)source.Length, name, mode) != StatusOk) return false;
            }
            byte* proto = *(byte**)((byte*)ToPointer(L, -1) + ClosureProtoOffset);
            int sizeCode = *(int*)(proto + ProtoSizeCode);
            if (sizeCode is < 3 or > 16 || *(int*)(proto + ProtoSizeP) != 0) return false;
            uint* code = *(uint**)(proto + ProtoCode);
            if ((code[0] & 0x7F) != OpVarargPrep) return false;
            for (int i = 0; i + 1 < sizeCode; i++)
                if ((code[i] & 0x7F) == OpTailCall && (code[i + 1] & 0x7F) == OpReturn) return true;
            return false;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Rewrites every tail call of the Lua closure at <paramref name="closure"/> and of its nested functions.</summary>
    public static void Disable(IntPtr closure) => Patch(*(byte**)((byte*)closure + ClosureProtoOffset));

    private static void Patch(byte* proto)
    {
        int sizeCode = *(int*)(proto + ProtoSizeCode);
        uint* code = *(uint**)(proto + ProtoCode);
        for (int i = 0; i + 1 < sizeCode; i++)
        {
            uint instruction = code[i];
            if ((instruction & 0x7F) != OpTailCall || (code[i + 1] & 0x7F) != OpReturn) continue;
            // OP_CALL A B C with C = 0 (keep every result up to the top): clear k (bit 15) and C (bits 24-31).
            code[i] = (instruction & ~0x7Fu & ~(1u << 15) & 0x00FF_FFFFu) | OpCall;
        }
        int children = *(int*)(proto + ProtoSizeP);
        byte** protos = *(byte***)(proto + ProtoChildren);
        for (int i = 0; i < children; i++) Patch(protos[i]);
    }
}
