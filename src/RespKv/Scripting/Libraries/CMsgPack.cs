using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// Redis 7.0's <c>cmsgpack</c> library (lua-cmsgpack 0.4.0, deps/lua/src/lua_cmsgpack.c) in C#:
/// <c>pack(v1, v2, …)</c> (the encodings of all arguments, concatenated), <c>unpack(s)</c> (every value in
/// <c>s</c>), <c>unpack_one(s [, offset])</c> and <c>unpack_limit(s, limit [, offset])</c> (the next
/// offset, -1 at the end, then the values), <c>_NAME _VERSION _COPYRIGHT _DESCRIPTION</c>.
/// </summary>
/// <remarks>
/// As lua-cmsgpack under Redis's Lua 5.1, where every number is a double: a number equal to its 64-bit integer
/// truncation packs as the smallest MessagePack integer (fixint, uint/int 8..64), any other as a float 32 when the
/// float holds it exactly (<c>1.5</c>, <c>inf</c>) else a float 64; strings as fixstr/str 8/16/32; a table whose keys are
/// exactly 1..n as an array, any other as a map (keys in Lua 5.1's order, <see cref="Lua51TableOrder"/>); tables nested 16 deep as nil; other
/// types as nil. Unpacked integers and floats become numbers as a Redis script would print them
/// (<see cref="LuaArgs.PushNumber"/>); bin and ext types are <c>Bad data format in input.</c>, a cut input
/// <c>Missing bytes in input.</c>; unpacking more values than Lua 5.1's C stack holds fails as it does there.
/// C#, not Lua source: binary encoding over spans, with no per-call allocation.
/// </remarks>
internal static unsafe class CMsgPack
{
    /// <summary>The raw functions, by field name, for <see cref="LuaLibraries"/> to wrap.</summary>
    public static readonly (string Name, IntPtr Function)[] Functions =
    {
        ("pack", (IntPtr)(delegate*<IntPtr, int>)&Pack),
        ("unpack", (IntPtr)(delegate*<IntPtr, int>)&Unpack),
        ("unpack_one", (IntPtr)(delegate*<IntPtr, int>)&UnpackOne),
        ("unpack_limit", (IntPtr)(delegate*<IntPtr, int>)&UnpackLimit),
    };

    private const int MaxNesting = 16;

    // ------------------------------------------------------------------------------------------------ packing

    private static int Pack(IntPtr L)
    {
        int nargs = LuaNative.GetTop(L);
        if (nargs == 0) return LuaArgs.ArgError(L, 0, "MessagePack pack needs input.", "pack");
        if (!LuaArgs.CheckStack(L, nargs)) return LuaArgs.ArgError(L, 0, "Too many arguments for MessagePack pack.", "pack");
        var buffer = ScratchBuffer.ForThread();
        for (int i = 1; i <= nargs; i++)
        {
            LuaNative.PushValue(L, i);
            EncodeValue(L, buffer, 0);
        }
        buffer.PushTo(L);
        return 1;
    }

    /// <summary><c>mp_encode_lua_type</c>: encodes the value on top and pops it.</summary>
    private static void EncodeValue(IntPtr L, ScratchBuffer buffer, int level)
    {
        int type = LuaNative.Type(L, -1);
        if (type == LuaNative.TypeTable && level == MaxNesting) type = LuaNative.TypeNil;
        switch (type)
        {
            case LuaNative.TypeString:
                EncodeBytes(LuaNative.StringAt(L, -1), buffer);
                break;
            case LuaNative.TypeBoolean:
                buffer.Add(LuaNative.ToBoolean(L, -1) != 0 ? (byte)0xc3 : (byte)0xc2);
                break;
            case LuaNative.TypeNumber:
                double n = LuaNative.ToNumberX(L, -1, null);
                long i = LuaArgs.TruncateToInt64(n);
                if (!double.IsInfinity(n) && i == n) EncodeInteger(i, buffer);
                else EncodeDouble(n, buffer);
                break;
            case LuaNative.TypeTable:
                EncodeTable(L, buffer, level);
                break;
            default:
                buffer.Add(0xc0);
                break;
        }
        LuaNative.Pop(L, 1);
    }

    private static void EncodeBytes(ReadOnlySpan<byte> s, ScratchBuffer buffer)
    {
        int len = s.Length;
        if (len < 32) buffer.Add((byte)(0xa0 | len));
        else if (len <= 0xff)
        {
            buffer.Add(0xd9);
            buffer.Add((byte)len);
        }
        else if (len <= 0xffff) Header(buffer, 0xda, (ushort)len);
        else Header(buffer, 0xdb, (uint)len);
        buffer.Add(s);
    }

    private static void Header(ScratchBuffer buffer, byte code, ushort value)
    {
        buffer.Add(code);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.GetSpan(2), value);
        buffer.Advance(2);
    }

    private static void Header(ScratchBuffer buffer, byte code, uint value)
    {
        buffer.Add(code);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    private static void Header(ScratchBuffer buffer, byte code, ulong value)
    {
        buffer.Add(code);
        BinaryPrimitives.WriteUInt64BigEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }

    /// <summary><c>mp_encode_double</c>: float 32 when the value survives the round trip through float.</summary>
    private static void EncodeDouble(double d, ScratchBuffer buffer)
    {
        float f = (float)d;
        if (d == f) Header(buffer, 0xca, BitConverter.SingleToUInt32Bits(f));
        else Header(buffer, 0xcb, BitConverter.DoubleToUInt64Bits(d));
    }

    private static void EncodeInteger(long n, ScratchBuffer buffer)
    {
        if (n >= 0)
        {
            if (n <= 127) buffer.Add((byte)n);
            else if (n <= 0xff)
            {
                buffer.Add(0xcc);
                buffer.Add((byte)n);
            }
            else if (n <= 0xffff) Header(buffer, 0xcd, (ushort)n);
            else if (n <= 0xffffffffL) Header(buffer, 0xce, (uint)n);
            else Header(buffer, 0xcf, (ulong)n);
        }
        else
        {
            if (n >= -32) buffer.Add((byte)(sbyte)n);
            else if (n >= -128)
            {
                buffer.Add(0xd0);
                buffer.Add((byte)(sbyte)n);
            }
            else if (n >= -32768) Header(buffer, 0xd1, (ushort)(short)n);
            else if (n >= -2147483648L) Header(buffer, 0xd2, (uint)(int)n);
            else Header(buffer, 0xd3, (ulong)n);
        }
    }

    private static void EncodeCount(ScratchBuffer buffer, ulong n, byte fix, byte code16, byte code32)
    {
        if (n <= 15) buffer.Add((byte)(fix | (byte)n));
        else if (n <= 65535) Header(buffer, code16, (ushort)n);
        else Header(buffer, code32, (uint)n);
    }

    /// <summary><c>table_is_an_array</c> (Lua 5.1 form): every key a positive number that is an int, and the largest
    /// equal to the count.</summary>
    private static bool IsArray(IntPtr L)
    {
        int count = 0, max = 0;
        LuaNative.PushNil(L);
        while (LuaNative.Next(L, -2) != 0)
        {
            LuaNative.Pop(L, 1);
            double n;
            if (LuaNative.Type(L, -1) != LuaNative.TypeNumber || (n = LuaNative.ToNumberX(L, -1, null)) <= 0
                || !(n >= -2147483648.0 && n < 2147483648.0 && (int)n == n))
            {
                LuaNative.Pop(L, 1);
                return false;
            }
            if (n > max) max = (int)n;
            count++;
        }
        return max == count;
    }

    private static void EncodeTable(IntPtr L, ScratchBuffer buffer, int level)
    {
        // luaL_checkstack of mp_encode_lua_table_as_map/array: a key, its value and a copy at each level.
        if (LuaNative.CheckStack(L, 4) == 0) throw new InsufficientExecutionStackException("stack overflow");
        if (IsArray(L))
        {
            ulong len = LuaNative.RawLen(L, -1);
            EncodeCount(buffer, len, 0x90, 0xdc, 0xdd);
            for (ulong j = 1; j <= len; j++)
            {
                LuaNative.RawGetI(L, -1, (long)j);
                EncodeValue(L, buffer, level + 1);
            }
            return;
        }
        int table = LuaNative.GetTop(L);
        int count = Lua51TableOrder.Push(L, table, out int[] order);
        try
        {
            EncodeCount(buffer, (ulong)count, 0x80, 0xde, 0xdf);
            for (int i = 0; i < count; i++)
            {
                LuaNative.RawGetI(L, table + 1, order[i]);
                LuaNative.PushValue(L, -1);
                LuaNative.RawGet(L, table);
                LuaNative.PushValue(L, -2);
                EncodeValue(L, buffer, level + 1);
                EncodeValue(L, buffer, level + 1);
                LuaNative.Pop(L, 1);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(order);
        }
        LuaNative.Pop(L, 1);
    }

    // ------------------------------------------------------------------------------------------------ unpacking

    private enum CursorError { None, Eof, BadFormat }

    /// <summary>An error of Lua's own (a stack or table-index limit) met while unpacking.</summary>
    private sealed class UnpackError(string message) : Exception(message);

    private ref struct Cursor
    {
        public ReadOnlySpan<byte> Data;
        public int Pos;
        public CursorError Error;

        public readonly int Left => Data.Length - Pos;

        /// <summary><c>mp_cur_need</c>: false (and EOF) when fewer than <paramref name="n"/> bytes are left.</summary>
        public bool Need(long n)
        {
            if (Left >= n) return true;
            Error = CursorError.Eof;
            return false;
        }
    }

    private static int Unpack(IntPtr L) => UnpackFull(L, 0, 0, "unpack");

    private static int UnpackOne(IntPtr L)
    {
        long offset = 0;
        if (LuaNative.Type(L, 2) > LuaNative.TypeNil && !LuaArgs.TryInteger(L, 2, out offset))
            return LuaArgs.TypeError(L, 2, "number", "unpack_one");
        KeepFirstArgument(L);
        return UnpackFull(L, 1, offset, "unpack_one");
    }

    private static int UnpackLimit(IntPtr L)
    {
        if (!LuaArgs.TryInteger(L, 2, out long limit)) return LuaArgs.TypeError(L, 2, "number", "unpack_limit");
        long offset = 0;
        if (LuaNative.Type(L, 3) > LuaNative.TypeNil && !LuaArgs.TryInteger(L, 3, out offset))
            return LuaArgs.TypeError(L, 3, "number", "unpack_limit");
        KeepFirstArgument(L);
        return UnpackFull(L, limit, offset, "unpack_limit");
    }

    /// <summary><c>lua_pop(L, lua_gettop(L) - 1)</c>: drops all but the first argument (none stays none).</summary>
    private static void KeepFirstArgument(IntPtr L)
    {
        if (LuaNative.GetTop(L) > 1) LuaNative.SetTop(L, 1);
    }

    /// <summary><c>mp_unpack_full</c>: up to <paramref name="limit"/> values from <paramref name="offset"/> (0 and 0:
    /// all values, without the offset result).</summary>
    private static int UnpackFull(IntPtr L, long limit, long offset, string name)
    {
        try
        {
            Span<byte> scratch = stackalloc byte[CNumberText.MaxLength];
            if (!LuaArgs.TryString(L, 1, scratch, out var data))
                return LuaArgs.TypeError(L, 1, "string", name);
            int len = data.Length;
            if (offset < 0 || limit < 0)
                return LuaArgs.Fail(L, $"Invalid request to unpack with offset of {(int)offset} and limit of {len}.");
            if (offset > len) return LuaArgs.Fail(L, $"Start offset {(int)offset} greater than input length {len}.");
            bool all = limit == 0 && offset == 0;
            if (all) limit = int.MaxValue;
            var cursor = new Cursor { Data = data, Pos = (int)offset };
            int count = 0;
            for (; cursor.Left > 0 && count < limit; count++)
            {
                DecodeValue(L, ref cursor);
                if (cursor.Error == CursorError.Eof) return LuaArgs.Fail(L, "Missing bytes in input.");
                if (cursor.Error == CursorError.BadFormat) return LuaArgs.Fail(L, "Bad data format in input.");
            }
            if (!all)
            {
                if (!LuaArgs.CheckStack(L, 1)) return LuaArgs.Fail(L, "stack overflow (in function mp_unpack_full)");
                LuaNative.PushInteger(L, cursor.Left == 0 ? -1 : cursor.Pos);
                LuaNative.Insert(L, 2);
                count++;
            }
            return count;
        }
        catch (UnpackError e)
        {
            return LuaArgs.Fail(L, e.Message);
        }
    }

    private static void Check(IntPtr L, string what)
    {
        if (!LuaArgs.CheckStack(L, 1) || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new UnpackError($"stack overflow ({what})");
    }

    private static void DecodeArray(IntPtr L, ref Cursor c, long len)
    {
        LuaNative.CreateTable(L, 0, 0);
        Check(L, "in function mp_decode_to_lua_array");
        for (long index = 1; len-- > 0; index++)
        {
            LuaNative.PushInteger(L, index);
            DecodeValue(L, ref c);
            if (c.Error != CursorError.None) return;
            LuaNative.RawSet(L, -3);
        }
    }

    private static void DecodeMap(IntPtr L, ref Cursor c, long len)
    {
        LuaNative.CreateTable(L, 0, 0);
        while (len-- > 0)
        {
            DecodeValue(L, ref c);
            if (c.Error != CursorError.None) return;
            DecodeValue(L, ref c);
            if (c.Error != CursorError.None) return;
            // lua_settable's own errors on a fresh table, raised here instead (Lua must not longjmp through C#).
            int keyType = LuaNative.Type(L, -2);
            if (keyType == LuaNative.TypeNil) throw new UnpackError("table index is nil");
            if (keyType == LuaNative.TypeNumber && double.IsNaN(LuaNative.ToNumberX(L, -2, null)))
                throw new UnpackError("table index is NaN");
            LuaNative.RawSet(L, -3);
        }
    }

    private static void PushString(IntPtr L, ref Cursor c, int header, long len)
    {
        if (!c.Need(header + len)) return;
        LuaNative.PushBytes(L, c.Data.Slice(c.Pos + header, (int)len));
        c.Pos += header + (int)len;
    }

    /// <summary><c>mp_decode_to_lua_type</c>: pushes the next value, or sets the cursor's error.</summary>
    private static void DecodeValue(IntPtr L, ref Cursor c)
    {
        if (!c.Need(1)) return;
        Check(L, "too many return values at once; use unpack_one or unpack_limit instead.");
        ReadOnlySpan<byte> p = c.Data[c.Pos..];
        switch (p[0])
        {
            case 0xcc:
                if (!c.Need(2)) return;
                LuaArgs.PushNumber(L, p[1]);
                c.Pos += 2;
                break;
            case 0xd0:
                if (!c.Need(2)) return;
                LuaArgs.PushNumber(L, (sbyte)p[1]);
                c.Pos += 2;
                break;
            case 0xcd:
                if (!c.Need(3)) return;
                LuaArgs.PushNumber(L, BinaryPrimitives.ReadUInt16BigEndian(p[1..]));
                c.Pos += 3;
                break;
            case 0xd1:
                if (!c.Need(3)) return;
                LuaArgs.PushNumber(L, BinaryPrimitives.ReadInt16BigEndian(p[1..]));
                c.Pos += 3;
                break;
            case 0xce:
                if (!c.Need(5)) return;
                LuaArgs.PushNumber(L, BinaryPrimitives.ReadUInt32BigEndian(p[1..]));
                c.Pos += 5;
                break;
            case 0xd2:
                if (!c.Need(5)) return;
                LuaArgs.PushNumber(L, BinaryPrimitives.ReadInt32BigEndian(p[1..]));
                c.Pos += 5;
                break;
            case 0xcf: // lua_pushunsigned is lua_pushinteger on 64-bit: above 2^63 the value wraps negative
            case 0xd3:
                if (!c.Need(9)) return;
                LuaArgs.PushNumber(L, BinaryPrimitives.ReadInt64BigEndian(p[1..]));
                c.Pos += 9;
                break;
            case 0xc0:
                LuaNative.PushNil(L);
                c.Pos += 1;
                break;
            case 0xc3:
            case 0xc2:
                LuaNative.PushBoolean(L, p[0] == 0xc3 ? 1 : 0);
                c.Pos += 1;
                break;
            case 0xca:
                if (!c.Need(5)) return;
                LuaArgs.PushNumber(L, BitConverter.UInt32BitsToSingle(BinaryPrimitives.ReadUInt32BigEndian(p[1..])));
                c.Pos += 5;
                break;
            case 0xcb:
                if (!c.Need(9)) return;
                LuaArgs.PushNumber(L, BitConverter.UInt64BitsToDouble(BinaryPrimitives.ReadUInt64BigEndian(p[1..])));
                c.Pos += 9;
                break;
            case 0xd9:
                if (!c.Need(2)) return;
                PushString(L, ref c, 2, p[1]);
                break;
            case 0xda:
                if (!c.Need(3)) return;
                PushString(L, ref c, 3, BinaryPrimitives.ReadUInt16BigEndian(p[1..]));
                break;
            case 0xdb:
                if (!c.Need(5)) return;
                PushString(L, ref c, 5, BinaryPrimitives.ReadUInt32BigEndian(p[1..]));
                break;
            case 0xdc:
                if (!c.Need(3)) return;
                c.Pos += 3;
                DecodeArray(L, ref c, BinaryPrimitives.ReadUInt16BigEndian(p[1..]));
                break;
            case 0xdd:
                if (!c.Need(5)) return;
                c.Pos += 5;
                DecodeArray(L, ref c, BinaryPrimitives.ReadUInt32BigEndian(p[1..]));
                break;
            case 0xde:
                if (!c.Need(3)) return;
                c.Pos += 3;
                DecodeMap(L, ref c, BinaryPrimitives.ReadUInt16BigEndian(p[1..]));
                break;
            case 0xdf:
                if (!c.Need(5)) return;
                c.Pos += 5;
                DecodeMap(L, ref c, BinaryPrimitives.ReadUInt32BigEndian(p[1..]));
                break;
            default:
                byte b = p[0];
                if ((b & 0x80) == 0)
                {
                    LuaArgs.PushNumber(L, b);
                    c.Pos += 1;
                }
                else if ((b & 0xe0) == 0xe0)
                {
                    LuaArgs.PushNumber(L, (sbyte)b);
                    c.Pos += 1;
                }
                else if ((b & 0xe0) == 0xa0) PushString(L, ref c, 1, b & 0x1f);
                else if ((b & 0xf0) == 0x90)
                {
                    c.Pos += 1;
                    DecodeArray(L, ref c, b & 0xf);
                }
                else if ((b & 0xf0) == 0x80)
                {
                    c.Pos += 1;
                    DecodeMap(L, ref c, b & 0xf);
                }
                else c.Error = CursorError.BadFormat;
                break;
        }
    }
}
