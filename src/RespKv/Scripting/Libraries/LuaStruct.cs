using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// Redis 7.0's <c>struct</c> library (Roberto Ierusalimschy's lstrlib-style <c>struct</c> 0.2, deps/lua/src/lua_struct.c,
/// as built on x86-64 Linux) in C#: <c>pack(fmt, …)</c>, <c>unpack(fmt, s [, pos])</c> (the values, then the position
/// after them) and <c>size(fmt)</c>.
/// </summary>
/// <remarks>
/// Format: <c>&gt;</c> big endian, <c>&lt;</c> little endian (the default, x86-64's), <c>![n]</c> alignment n (a power of
/// 2; 8 without n), <c>x</c> a zero byte, <c>b/B</c> signed/unsigned char, <c>h/H</c> short (2), <c>l/L</c> long (8),
/// <c>T</c> size_t (8), <c>i/I[n]</c> int of n bytes (default 4, at most 32), <c>f</c> float, <c>d</c> double,
/// <c>s</c> zero-terminated string, <c>c[n]</c> n bytes (<c>c0</c>: the whole string when packing, the length the
/// previous value gave when unpacking), spaces ignored. Integers are packed from the number truncated to 64 bits (two's
/// complement for negatives; bytes past the eighth are zero) and unpacked through a double, as in Lua 5.1; errors keep
/// the library's texts (<c>bad argument #1 to 'pack' (invalid format option 'q')</c>,
/// <c>alignment 3 is not a power of 2</c>, <c>integral size 33 is larger than limit of 32</c>,
/// <c>data string too short</c>, <c>unfinished string in data</c>, …). C#, not Lua source: binary layout over spans.
/// </remarks>
internal static unsafe class LuaStruct
{
    /// <summary>The raw functions, by field name, for <see cref="LuaLibraries"/> to wrap.</summary>
    public static readonly (string Name, IntPtr Function)[] Functions =
    {
        ("pack", (IntPtr)(delegate*<IntPtr, int>)&Pack),
        ("unpack", (IntPtr)(delegate*<IntPtr, int>)&Unpack),
        ("size", (IntPtr)(delegate*<IntPtr, int>)&Size),
    };

    private const int MaxIntSize = 32;
    private const int MaxAlign = 8;

    /// <summary>A failure met while reading the format or the arguments; <see cref="Arg"/> &gt; 0 makes it a
    /// <c>bad argument #Arg</c> error, 0 a plain one.</summary>
    private sealed class StructError(string message, int arg = 0, bool typeError = false) : Exception(message)
    {
        public int Arg { get; } = arg;
        public bool IsTypeError { get; } = typeError;
    }

    private struct Header
    {
        public bool Little;
        public int Align;
    }

    private static int Fail(IntPtr L, StructError e, string name) =>
        e.IsTypeError ? LuaArgs.TypeError(L, e.Arg, e.Message, name)
        : e.Arg > 0 ? LuaArgs.ArgError(L, e.Arg, e.Message, name)
        : LuaArgs.Fail(L, e.Message);

    /// <summary><c>getnum</c>: the decimal number at the format position, or <paramref name="fallback"/>.</summary>
    private static int GetNum(ReadOnlySpan<byte> fmt, ref int at, int fallback)
    {
        if (at >= fmt.Length || !char.IsAsciiDigit((char)fmt[at])) return fallback;
        int a = 0;
        do
        {
            int digit = fmt[at] - '0';
            if (a > int.MaxValue / 10 || a * 10 > int.MaxValue - digit) throw new StructError("integral size overflow");
            a = a * 10 + digit;
            at++;
        } while (at < fmt.Length && char.IsAsciiDigit((char)fmt[at]));
        return a;
    }

    /// <summary><c>optsize</c>: the size of option <paramref name="opt"/> (0 for options without one).</summary>
    private static int OptSize(byte opt, ReadOnlySpan<byte> fmt, ref int at)
    {
        switch ((char)opt)
        {
            case 'B': case 'b': case 'x': return 1;
            case 'H': case 'h': return 2;
            case 'L': case 'l': case 'T': case 'd': return 8;
            case 'f': return 4;
            case 'c': return GetNum(fmt, ref at, 1);
            case 'i': case 'I':
                int size = GetNum(fmt, ref at, 4);
                if (size > MaxIntSize) throw new StructError($"integral size {size} is larger than limit of {MaxIntSize}");
                return size;
            default: return 0;
        }
    }

    /// <summary><c>gettoalign</c>: padding before an option of <paramref name="size"/> at offset <paramref name="len"/>.</summary>
    private static long ToAlign(long len, Header h, byte opt, int size)
    {
        if (size == 0 || opt == (byte)'c') return 0;
        if (size > h.Align) size = h.Align;
        return (size - (len & (size - 1))) & (size - 1);
    }

    /// <summary><c>controloptions</c>: endianness, alignment and spaces; any other option is invalid.</summary>
    private static void ControlOptions(byte opt, ReadOnlySpan<byte> fmt, ref int at, ref Header h)
    {
        switch ((char)opt)
        {
            case ' ': return;
            case '>': h.Little = false; return;
            case '<': h.Little = true; return;
            case '!':
                int a = GetNum(fmt, ref at, MaxAlign);
                if (a <= 0 || (a & (a - 1)) != 0) throw new StructError($"alignment {a} is not a power of 2");
                h.Align = a;
                return;
            default:
                throw new StructError($"invalid format option '{(char)opt}'", 1);
        }
    }

    private static ReadOnlySpan<byte> Format(IntPtr L, Span<byte> scratch)
    {
        if (!LuaArgs.TryString(L, 1, scratch, out var fmt)) throw new StructError("string", 1, typeError: true);
        return fmt;
    }

    private static double Number(IntPtr L, int arg)
    {
        if (!LuaArgs.TryNumber(L, arg, out double n)) throw new StructError("number", arg, typeError: true);
        return n;
    }

    private static int Pack(IntPtr L)
    {
        try
        {
            Span<byte> fmtScratch = stackalloc byte[CNumberText.MaxLength];
            Span<byte> argScratch = stackalloc byte[CNumberText.MaxLength];
            ReadOnlySpan<byte> fmt = Format(L, fmtScratch);
            var h = new Header { Little = true, Align = 1 };
            var b = ScratchBuffer.ForThread();
            int arg = 2, at = 0;
            long total = 0;
            while (at < fmt.Length)
            {
                byte opt = fmt[at++];
                int size = OptSize(opt, fmt, ref at);
                long pad = ToAlign(total, h, opt, size);
                total += pad;
                for (; pad > 0; pad--) b.Add(0);
                switch ((char)opt)
                {
                    case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
                        double n = Number(L, arg++);
                        ulong value = n < 0 ? (ulong)LuaArgs.TruncateToInt64(n) : ToUInt64(n);
                        Span<byte> bytes = b.GetSpan(size);
                        for (int i = 0; i < size; i++)
                        {
                            bytes[h.Little ? i : size - 1 - i] = (byte)value;
                            value >>= 8;
                        }
                        b.Advance(size);
                        break;
                    case 'x':
                        b.Add(0);
                        break;
                    case 'f':
                        uint fbits = BitConverter.SingleToUInt32Bits((float)Number(L, arg++));
                        WriteOrdered(b, fbits, 4, h.Little);
                        break;
                    case 'd':
                        WriteOrdered(b, BitConverter.DoubleToUInt64Bits(Number(L, arg++)), 8, h.Little);
                        break;
                    case 'c':
                    case 's':
                        if (!LuaArgs.TryString(L, arg++, argScratch, out var s)) throw new StructError("string", arg - 1, typeError: true);
                        if (size == 0) size = s.Length;
                        if (s.Length < size) throw new StructError("string too short", arg);
                        b.Add(s[..size]);
                        if (opt == (byte)'s')
                        {
                            b.Add(0);
                            size++;
                        }
                        break;
                    default:
                        ControlOptions(opt, fmt, ref at, ref h);
                        break;
                }
                total += size;
            }
            b.PushTo(L);
            return 1;
        }
        catch (StructError e) when (e.IsTypeError && e.Arg >= 2 && e.Arg == LuaNative.GetTop(L) + 1)
        {
            // b_pack pushes a nil marker after its arguments: a missing one reads as nil, not "no value".
            return LuaArgs.ArgError(L, e.Arg, $"{e.Message} expected, got nil", "pack");
        }
        catch (StructError e)
        {
            return Fail(L, e, "pack");
        }
    }

    /// <summary>C's <c>(unsigned long)d</c> for d ≥ 0 on x86-64 (0 past 2^64, as the conversion's overflow gives).</summary>
    private static ulong ToUInt64(double d) => d < 18446744073709551616.0 ? (ulong)d : 0;

    private static void WriteOrdered(ScratchBuffer b, ulong bits, int size, bool little)
    {
        Span<byte> bytes = b.GetSpan(size);
        for (int i = 0; i < size; i++)
        {
            bytes[little ? i : size - 1 - i] = (byte)bits;
            bits >>= 8;
        }
        b.Advance(size);
    }

    private static ulong ReadOrdered(ReadOnlySpan<byte> data, int size, bool little)
    {
        ulong l = 0;
        for (int i = 0; i < size; i++)
        {
            l <<= 8;
            l |= data[little ? size - 1 - i : i];
        }
        return l;
    }

    private static int Unpack(IntPtr L)
    {
        try
        {
            Span<byte> fmtScratch = stackalloc byte[CNumberText.MaxLength];
            Span<byte> dataScratch = stackalloc byte[CNumberText.MaxLength];
            ReadOnlySpan<byte> fmt = Format(L, fmtScratch);
            if (!LuaArgs.TryString(L, 2, dataScratch, out var data)) throw new StructError("string", 2, typeError: true);
            ulong ld = (ulong)data.Length;
            ulong pos = 1;
            if (LuaNative.Type(L, 3) > LuaNative.TypeNil)
            {
                if (!LuaArgs.TryInteger(L, 3, out long p)) throw new StructError("number", 3, typeError: true);
                pos = (ulong)p;
            }
            if (pos == 0) throw new StructError("offset must be 1 or greater", 3);
            pos--;
            var h = new Header { Little = true, Align = 1 };
            int n = 0, at = 0;
            while (at < fmt.Length)
            {
                byte opt = fmt[at++];
                ulong size = (ulong)OptSize(opt, fmt, ref at);
                pos += (ulong)ToAlign((long)pos, h, opt, (int)size);
                if (!(size <= ld && pos <= ld - size)) throw new StructError("data string too short", 2);
                if (!LuaArgs.CheckStack(L, 2)) throw new StructError("stack overflow (too many results)");
                switch ((char)opt)
                {
                    case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
                        ulong l = ReadOrdered(data[(int)pos..], (int)size, h.Little);
                        double result;
                        if (char.IsAsciiLetterUpper((char)opt)) result = l;
                        else
                        {
                            ulong mask = ~0UL << (int)(size * 8 - 1); // C's shift on x86-64 takes the count modulo 64
                            if ((l & mask) != 0) l |= mask;
                            result = (long)l;
                        }
                        LuaArgs.PushNumber(L, result);
                        n++;
                        break;
                    case 'x':
                        break;
                    case 'f':
                        LuaArgs.PushNumber(L, BitConverter.UInt32BitsToSingle((uint)ReadOrdered(data[(int)pos..], 4, h.Little)));
                        n++;
                        break;
                    case 'd':
                        LuaArgs.PushNumber(L, BitConverter.UInt64BitsToDouble(ReadOrdered(data[(int)pos..], 8, h.Little)));
                        n++;
                        break;
                    case 'c':
                        if (size == 0)
                        {
                            if (n == 0 || !LuaArgs.TryNumber(L, -1, out double previous))
                                throw new StructError("format 'c0' needs a previous size");
                            size = (ulong)LuaArgs.TruncateToInt64(previous);
                            LuaNative.Pop(L, 1);
                            n--;
                            if (!(size <= ld && pos <= ld - size)) throw new StructError("data string too short", 2);
                        }
                        LuaNative.PushBytes(L, data.Slice((int)pos, (int)size));
                        n++;
                        break;
                    case 's':
                        int end = data[(int)pos..].IndexOf((byte)0);
                        if (end < 0) throw new StructError("unfinished string in data");
                        LuaNative.PushBytes(L, data.Slice((int)pos, end));
                        size = (ulong)end + 1;
                        n++;
                        break;
                    default:
                        ControlOptions(opt, fmt, ref at, ref h);
                        break;
                }
                pos += size;
            }
            LuaNative.PushInteger(L, (long)pos + 1);
            return n + 1;
        }
        catch (StructError e)
        {
            return Fail(L, e, "unpack");
        }
    }

    private static int Size(IntPtr L)
    {
        try
        {
            Span<byte> fmtScratch = stackalloc byte[CNumberText.MaxLength];
            ReadOnlySpan<byte> fmt = Format(L, fmtScratch);
            var h = new Header { Little = true, Align = 1 };
            long pos = 0;
            int at = 0;
            while (at < fmt.Length)
            {
                byte opt = fmt[at++];
                int size = OptSize(opt, fmt, ref at);
                pos += ToAlign(pos, h, opt, size);
                if (opt == (byte)'s') throw new StructError("option 's' has no fixed size", 1);
                if (opt == (byte)'c' && size == 0) throw new StructError("option 'c0' has no fixed size", 1);
                if (!char.IsAsciiLetterOrDigit((char)opt)) ControlOptions(opt, fmt, ref at, ref h);
                pos += size;
            }
            LuaNative.PushInteger(L, pos);
            return 1;
        }
        catch (StructError e)
        {
            return Fail(L, e, "size");
        }
    }
}
