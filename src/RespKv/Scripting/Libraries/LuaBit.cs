using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// Redis 7.0's <c>bit</c> library (LuaBitOp 1.0.2, deps/lua/src/lua_bit.c) in C#: 32-bit operations on Lua numbers
/// whose results are signed 32-bit integers, whatever Lua 5.4's 64-bit integers would give. An argument is reduced to
/// 32 bits as LuaBitOp does on a double: <c>n + 2^52 + 2^51</c> and its low word (round to nearest even, modulo 2^32;
/// <c>bit.tobit(2^32 + 5)</c> = 5, <c>bit.tobit(1.5)</c> = 2); a non-number is <c>bad argument #1 to 'band' (number
/// expected, got nil)</c>. Functions: <c>tobit bnot band bor bxor lshift rshift arshift rol ror bswap tohex</c>; shift
/// counts are taken modulo 32; <c>tohex(x [, n])</c> writes |n| (at most 8) hex digits, upper case when n is negative.
/// C#, not Lua source over 5.4's operators: each function is one callback with LuaBitOp's conversion, and 5.4's own
/// operators would refuse fractional numbers (<c>number has no integer representation</c>).
/// </summary>
internal static unsafe class LuaBit
{
    /// <summary>The raw functions, by field name, for <see cref="LuaLibraries"/> to wrap.</summary>
    public static readonly (string Name, IntPtr Function)[] Functions =
    {
        ("tobit", (IntPtr)(delegate*<IntPtr, int>)&ToBit),
        ("bnot", (IntPtr)(delegate*<IntPtr, int>)&BNot),
        ("band", (IntPtr)(delegate*<IntPtr, int>)&BAnd),
        ("bor", (IntPtr)(delegate*<IntPtr, int>)&BOr),
        ("bxor", (IntPtr)(delegate*<IntPtr, int>)&BXor),
        ("lshift", (IntPtr)(delegate*<IntPtr, int>)&LShift),
        ("rshift", (IntPtr)(delegate*<IntPtr, int>)&RShift),
        ("arshift", (IntPtr)(delegate*<IntPtr, int>)&ArShift),
        ("rol", (IntPtr)(delegate*<IntPtr, int>)&Rol),
        ("ror", (IntPtr)(delegate*<IntPtr, int>)&Ror),
        ("bswap", (IntPtr)(delegate*<IntPtr, int>)&BSwap),
        ("tohex", (IntPtr)(delegate*<IntPtr, int>)&ToHex),
    };

    /// <summary>LuaBitOp's <c>barg</c>: the argument's low 32 bits after adding 2^52 + 2^51 to the double.</summary>
    private static bool Arg(IntPtr L, int index, out uint bits)
    {
        bits = 0;
        if (!LuaArgs.TryNumber(L, index, out double n)) return false;
        bits = (uint)BitConverter.DoubleToInt64Bits(n + 6755399441055744.0);
        return true;
    }

    private static int Return(IntPtr L, uint bits)
    {
        LuaNative.PushInteger(L, (int)bits);
        return 1;
    }

    private static int Bad(IntPtr L, int index, string name) => LuaArgs.TypeError(L, index, "number", name);

    private enum Op { And, Or, Xor }

    private static int Fold(IntPtr L, Op op, string name)
    {
        if (!Arg(L, 1, out uint b)) return Bad(L, 1, name);
        for (int i = LuaNative.GetTop(L); i > 1; i--)
        {
            if (!Arg(L, i, out uint x)) return Bad(L, i, name);
            b = op switch { Op.And => b & x, Op.Or => b | x, _ => b ^ x };
        }
        return Return(L, b);
    }

    private enum Shift { Left, Right, Arithmetic, RotateLeft, RotateRight }

    private static int Shifted(IntPtr L, Shift kind, string name)
    {
        if (!Arg(L, 1, out uint b)) return Bad(L, 1, name);
        if (!Arg(L, 2, out uint count)) return Bad(L, 2, name);
        int n = (int)(count & 31);
        return Return(L, kind switch
        {
            Shift.Left => b << n,
            Shift.Right => b >> n,
            Shift.Arithmetic => (uint)((int)b >> n),
            Shift.RotateLeft => BitOperations.RotateLeft(b, n),
            _ => BitOperations.RotateRight(b, n),
        });
    }

    private static int ToBit(IntPtr L) => Arg(L, 1, out uint b) ? Return(L, b) : Bad(L, 1, "tobit");

    private static int BNot(IntPtr L) => Arg(L, 1, out uint b) ? Return(L, ~b) : Bad(L, 1, "bnot");

    private static int BAnd(IntPtr L) => Fold(L, Op.And, "band");

    private static int BOr(IntPtr L) => Fold(L, Op.Or, "bor");

    private static int BXor(IntPtr L) => Fold(L, Op.Xor, "bxor");

    private static int LShift(IntPtr L) => Shifted(L, Shift.Left, "lshift");

    private static int RShift(IntPtr L) => Shifted(L, Shift.Right, "rshift");

    private static int ArShift(IntPtr L) => Shifted(L, Shift.Arithmetic, "arshift");

    private static int Rol(IntPtr L) => Shifted(L, Shift.RotateLeft, "rol");

    private static int Ror(IntPtr L) => Shifted(L, Shift.RotateRight, "ror");

    private static int BSwap(IntPtr L) =>
        Arg(L, 1, out uint b) ? Return(L, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(b)) : Bad(L, 1, "bswap");

    private static int ToHex(IntPtr L)
    {
        if (!Arg(L, 1, out uint b)) return Bad(L, 1, "tohex");
        int n = 8;
        if (LuaNative.Type(L, 2) != LuaNative.TypeNone)
        {
            if (!Arg(L, 2, out uint count)) return Bad(L, 2, "tohex");
            n = (int)count;
        }
        ReadOnlySpan<byte> digits = "0123456789abcdef"u8;
        if (n < 0)
        {
            // -INT32_MIN overflows in C; Redis's build then takes the "more than 8" branch (its "lua bit.tohex bug" test).
            n = n == int.MinValue ? 8 : -n;
            digits = "0123456789ABCDEF"u8;
        }
        if (n > 8) n = 8;
        Span<byte> text = stackalloc byte[8];
        for (int i = n; --i >= 0;)
        {
            text[i] = digits[(int)(b & 15)];
            b >>= 4;
        }
        LuaNative.PushBytes(L, text[..n]);
        return 1;
    }
}
