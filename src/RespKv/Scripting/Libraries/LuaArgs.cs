using System.Text;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// Argument checks and errors of the bundled libraries' C# functions, with Lua 5.1's <c>lauxlib</c> texts as Redis 7.0
/// scripts see them: <c>bad argument #1 to 'decode' (string expected, got nil)</c>, with the calling line's
/// <c>user_script:1: </c> position in front (<c>luaL_error</c>'s <c>luaL_where(L, 1)</c>).
/// </summary>
/// <remarks>
/// A C# callback must not raise a Lua error itself (<c>lua_error</c> is a <c>longjmp</c>, which must not cross managed
/// frames), so a failing function returns <see cref="Fail(IntPtr, string)"/>: the error sentinel and the whole message,
/// which the Lua wrapper <see cref="LuaLibraries"/> puts around every function raises with <c>error(message, 0)</c>.
/// Stack levels inside a callback: 0 is the callback, 1 the wrapper, 2 the code that called the library function.
/// </remarks>
internal static unsafe class LuaArgs
{
    /// <summary>Lua 5.1's <c>LUAI_MAXCSTACK</c>: the stack slots a C function may use in Redis's Lua. Checks of the
    /// bundled libraries (<c>luaL_checkstack</c>) fail beyond it there, with the errors this port reproduces.</summary>
    public const int MaxCStack51 = 8000;

    /// <summary>The light userdata a callback returns first to report an error (see <see cref="Fail"/>).</summary>
    public static readonly void* ErrorSentinel = (void*)1;

    /// <summary>Returns (from a callback) the error <paramref name="message"/>, with the caller's position in front as
    /// <c>luaL_error</c> does: pushes the sentinel and the message and returns 2, the callback's result count.</summary>
    public static int Fail(IntPtr L, string message)
    {
        string text = Where(L) + message;
        LuaNative.CheckStack(L, 2);
        LuaNative.PushLightUserData(L, ErrorSentinel);
        int count = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = count <= 512 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(text, bytes);
        LuaNative.PushBytes(L, bytes);
        return 2;
    }

    /// <summary><c>luaL_argerror</c>: <c>bad argument #n to 'name' (extra)</c>, Lua 5.1's text. The name is how the
    /// script called the function (<c>'?'</c> when called from C, such as <c>pcall(cjson.encode)</c>); a method call
    /// counts <c>self</c> out of <paramref name="arg"/>.</summary>
    /// <param name="L">The state.</param>
    /// <param name="arg">1-based argument number (0 for the function itself, as <c>cmsgpack.pack()</c>).</param>
    /// <param name="extra">The reason in parentheses.</param>
    /// <param name="ownName">The function's field name, used when a tail call hid the caller's name for it.</param>
    public static int ArgError(IntPtr L, int arg, string extra, string ownName)
    {
        LuaDebugInfo ar;
        string name = "?";
        if (LuaNative.GetStack(L, 1, &ar) != 0)
        {
            byte* what = stackalloc byte[] { (byte)'n', (byte)'t', 0 };
            LuaNative.GetInfo(L, what, &ar);
            if (ar.IsTailCall != 0) name = ownName;
            else if (ar.Name != null)
            {
                name = Utf8(ar.Name);
                if (ar.NameWhat != null && Utf8(ar.NameWhat) == "method")
                {
                    arg--;
                    if (arg == 0) return Fail(L, $"calling '{name}' on bad self ({extra})");
                }
            }
        }
        return Fail(L, $"bad argument #{arg} to '{name}' ({extra})");
    }

    /// <summary><c>luaL_typerror</c>: <c>bad argument #n to 'name' (number expected, got nil)</c>.</summary>
    public static int TypeError(IntPtr L, int arg, string expected, string ownName) =>
        ArgError(L, arg, $"{expected} expected, got {TypeName(LuaNative.Type(L, arg))}", ownName);

    /// <summary>Lua 5.1's <c>lua_typename</c>, with <c>no value</c> for a missing argument.</summary>
    public static string TypeName(int type) => type switch
    {
        LuaNative.TypeNone => "no value",
        LuaNative.TypeNil => "nil",
        LuaNative.TypeBoolean => "boolean",
        LuaNative.TypeLightUserData or LuaNative.TypeUserData => "userdata",
        LuaNative.TypeNumber => "number",
        LuaNative.TypeString => "string",
        LuaNative.TypeTable => "table",
        LuaNative.TypeFunction => "function",
        _ => "thread",
    };

    /// <summary><c>luaL_where(L, 1)</c> as seen from the script: <c>user_script:3: </c> when Lua code called the library
    /// function, empty when C code (<c>pcall</c>) did or a tail call replaced the caller's frame.</summary>
    private static string Where(IntPtr L)
    {
        LuaDebugInfo ar;
        if (LuaNative.GetStack(L, 1, &ar) == 0) return "";
        byte* tail = stackalloc byte[] { (byte)'t', 0 };
        LuaNative.GetInfo(L, tail, &ar);
        if (ar.IsTailCall != 0 || LuaNative.GetStack(L, 2, &ar) == 0) return "";
        byte* what = stackalloc byte[] { (byte)'S', (byte)'l', 0 };
        LuaNative.GetInfo(L, what, &ar);
        if (ar.CurrentLine <= 0) return "";
        return $"{Utf8(ar.ShortSource)}:{ar.CurrentLine}: ";
    }

    private static string Utf8(byte* text) => new((sbyte*)text);

    /// <summary>
    /// <c>luaL_checknumber</c>: the number at <paramref name="arg"/> as Lua 5.1's double (a numeric string converts);
    /// false when it is not one (the caller then returns <see cref="TypeError"/>).
    /// </summary>
    public static bool TryNumber(IntPtr L, int arg, out double value)
    {
        int isNumber;
        value = LuaNative.ToNumberX(L, arg, &isNumber);
        return isNumber != 0;
    }

    /// <summary><c>luaL_checkinteger</c> of Lua 5.1 on x86-64: the number truncated toward zero to 64 bits.</summary>
    public static bool TryInteger(IntPtr L, int arg, out long value)
    {
        bool ok = TryNumber(L, arg, out double d);
        value = ok ? TruncateToInt64(d) : 0;
        return ok;
    }

    /// <summary>C's <c>(int64_t)d</c> on x86-64: truncation, and <c>INT64_MIN</c> for NaN or out of range.</summary>
    public static long TruncateToInt64(double d) =>
        double.IsNaN(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0 ? long.MinValue : (long)d;

    /// <summary>
    /// <c>luaL_checklstring</c> of Lua 5.1: a string as is, a number as its <c>%.14g</c> text (written to
    /// <paramref name="scratch"/>, at least 32 bytes; Lua 5.4 would print an integral float as <c>3.0</c>); false for
    /// any other type (the caller then returns <see cref="TypeError"/>).
    /// </summary>
    public static bool TryString(IntPtr L, int arg, Span<byte> scratch, out ReadOnlySpan<byte> text)
    {
        switch (LuaNative.Type(L, arg))
        {
            case LuaNative.TypeString:
                text = LuaNative.StringAt(L, arg);
                return true;
            case LuaNative.TypeNumber:
                int n = CNumberText.FormatG(LuaNative.ToNumberX(L, arg, null), 14, scratch);
                text = scratch[..n];
                return true;
            default:
                text = default;
                return false;
        }
    }

    /// <summary>
    /// Pushes a number the way a Redis 7.0 script (Lua 5.1, doubles only) would print it: an integral value below 10^14
    /// in magnitude as a Lua 5.4 integer (so <c>tostring</c> gives <c>3</c>, not <c>3.0</c>, as <c>%.14g</c> does),
    /// anything else as a float (which 5.4 prints with the same <c>%.14g</c>).
    /// </summary>
    public static void PushNumber(IntPtr L, double value)
    {
        if (value == Math.Floor(value) && Math.Abs(value) < 1e14 && (value != 0 || !double.IsNegative(value)))
            LuaNative.PushInteger(L, (long)value);
        else
            LuaNative.PushNumber(L, value);
    }

    /// <summary>Lua 5.1's <c>luaL_checkstack</c> limit for a C function: false when <paramref name="extra"/> more slots
    /// would pass <see cref="LuaArgs.MaxCStack51"/> (or the 5.4 stack cannot grow).</summary>
    public static bool CheckStack(IntPtr L, int extra) =>
        LuaNative.GetTop(L) + extra <= LuaArgs.MaxCStack51 && LuaNative.CheckStack(L, extra) != 0;
}
