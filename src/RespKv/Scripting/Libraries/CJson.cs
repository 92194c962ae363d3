using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RespKv.Scripting.Libraries;

/// <summary>
/// Redis 7.0's <c>cjson</c> library (lua-cjson 2.1.0 as bundled in deps/lua/src/lua_cjson.c, with its strbuf and fpconv)
/// in C#: <c>encode decode encode_sparse_array encode_max_depth decode_max_depth encode_number_precision
/// encode_keep_buffer encode_invalid_numbers decode_invalid_numbers new</c>, <c>null</c> (a NULL light userdata),
/// <c>_NAME</c> = <c>cjson</c>, <c>_VERSION</c> = <c>2.1.0</c>. Each <c>cjson</c> table (and each <c>cjson.new()</c>)
/// has its own settings, kept in a Lua userdata its functions hold as upvalue 1.
/// </summary>
/// <remarks>
/// Encoding: numbers as <c>%.14g</c> (the precision setting), strings with <c>"</c> <c>\</c> <c>/</c> and control bytes
/// escaped (<c>\/</c>, <c>\u001f</c>, <c>\u007f</c>; other bytes as they are), a table whose keys are all positive
/// integers as an array (holes are <c>null</c>; <c>Cannot serialise table: excessively sparse array</c> when the largest
/// index is over twice the count and over 10), any other table as an object with number or string keys in Lua 5.1's
/// iteration order (<see cref="Lua51TableOrder"/>). Decoding: RFC 4627
/// JSON plus what lua-cjson's <c>strtod</c> accepts by default (hexadecimal, <c>inf</c>, <c>nan</c>, leading zeros
/// and <c>+</c>), errors as <c>Expected value but found invalid token at character 1</c>; numbers become Lua numbers as
/// a Redis script would see them (see <see cref="LuaArgs.PushNumber"/>). C#, not Lua source: a byte-level tokenizer and
/// writer over the Lua string memory, with no per-call allocation.
/// </remarks>
internal static unsafe class CJson
{
    /// <summary>lua_cjson's <c>json_config_t</c> settings (its defaults in <see cref="Create"/>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Config
    {
        public int SparseConvert, SparseRatio, SparseSafe, EncodeMaxDepth, DecodeMaxDepth, EncodeInvalidNumbers,
            NumberPrecision, KeepBuffer, DecodeInvalidNumbers;
    }

    private static readonly (string Name, IntPtr Function)[] Functions =
    {
        ("encode", (IntPtr)(delegate*<IntPtr, int>)&Encode),
        ("decode", (IntPtr)(delegate*<IntPtr, int>)&Decode),
        ("encode_sparse_array", (IntPtr)(delegate*<IntPtr, int>)&EncodeSparseArray),
        ("encode_max_depth", (IntPtr)(delegate*<IntPtr, int>)&EncodeMaxDepth),
        ("decode_max_depth", (IntPtr)(delegate*<IntPtr, int>)&DecodeMaxDepth),
        ("encode_number_precision", (IntPtr)(delegate*<IntPtr, int>)&EncodeNumberPrecision),
        ("encode_keep_buffer", (IntPtr)(delegate*<IntPtr, int>)&EncodeKeepBuffer),
        ("encode_invalid_numbers", (IntPtr)(delegate*<IntPtr, int>)&EncodeInvalidNumbers),
        ("decode_invalid_numbers", (IntPtr)(delegate*<IntPtr, int>)&DecodeInvalidNumbers),
    };

    /// <summary>The factory <see cref="LuaLibraries"/> calls for <c>cjson</c> and each <c>cjson.new()</c>: a table of
    /// the raw functions, all bound to one new settings userdata.</summary>
    public static readonly IntPtr Factory = (IntPtr)(delegate*<IntPtr, int>)&Create;

    private static int Create(IntPtr L)
    {
        LuaNative.CreateTable(L, 0, Functions.Length);
        var cfg = (Config*)LuaNative.NewUserDataUV(L, (nuint)sizeof(Config), 0);
        *cfg = new Config
        {
            SparseConvert = 0, SparseRatio = 2, SparseSafe = 10, EncodeMaxDepth = 1000, DecodeMaxDepth = 1000,
            EncodeInvalidNumbers = 0, NumberPrecision = 14, KeepBuffer = 1, DecodeInvalidNumbers = 1,
        };
        foreach (var (name, function) in Functions)
        {
            LuaNative.PushBytes(L, System.Text.Encoding.ASCII.GetBytes(name));
            LuaNative.PushValue(L, -2);
            LuaLibraries.PushFunction(L, function, 1);
            LuaNative.RawSet(L, -4);
        }
        LuaNative.Pop(L, 1);
        return 1;
    }

    private static Config* Settings(IntPtr L) => (Config*)LuaNative.ToUserData(L, LuaNative.UpValueIndex(2));

    /// <summary>An error raised while encoding or decoding, carried to the callback's boundary.</summary>
    private sealed class JsonError(string message) : Exception(message);

    // ------------------------------------------------------------------------------------------- configuration

    private static bool IsNil(IntPtr L, int index) => LuaNative.Type(L, index) <= LuaNative.TypeNil;

    /// <summary><c>json_arg_init</c>: false when there are more than <paramref name="args"/> arguments, else pads them
    /// with nils to that count (so the settings pushed after them do not take their places).</summary>
    private static bool ArgInit(IntPtr L, int args)
    {
        if (LuaNative.GetTop(L) > args) return false;
        LuaNative.SetTop(L, args);
        return true;
    }

    /// <summary><c>json_integer_option</c>: sets the setting from an integer argument in [min, max] (an error out of
    /// range names argument 1, as lua_cjson does) and pushes its value. Returns -1 when it pushed, else the error's
    /// result count.</summary>
    private static int IntegerOption(IntPtr L, int index, int* setting, int min, int max, string name)
    {
        if (!IsNil(L, index))
        {
            if (!LuaArgs.TryInteger(L, index, out long wide)) return LuaArgs.TypeError(L, index, "number", name);
            int value = (int)wide;
            if (value < min || value > max) return LuaArgs.ArgError(L, 1, $"expected integer between {min} and {max}", name);
            *setting = value;
        }
        LuaNative.PushInteger(L, *setting);
        return -1;
    }

    private static readonly string[] OnOff = { "off", "on" };
    private static readonly string[] OnOffNull = { "off", "on", "null" };

    /// <summary><c>json_enum_option</c> with <c>bool_true</c> = 1: a boolean, or one of <paramref name="options"/> by
    /// name; pushes a boolean for off/on, else the option's name. Returns -1 when it pushed, else the error's result
    /// count.</summary>
    private static int EnumOption(IntPtr L, int index, int* setting, string[] options, string name)
    {
        if (!IsNil(L, index))
        {
            if (LuaNative.Type(L, index) == LuaNative.TypeBoolean) *setting = LuaNative.ToBoolean(L, index);
            else
            {
                Span<byte> scratch = stackalloc byte[CNumberText.MaxLength];
                if (!LuaArgs.TryString(L, index, scratch, out var text)) return LuaArgs.TypeError(L, index, "string", name);
                int found = -1;
                for (int i = 0; i < options.Length && found < 0; i++)
                    if (text.SequenceEqual(System.Text.Encoding.ASCII.GetBytes(options[i]))) found = i;
                if (found < 0) return LuaArgs.ArgError(L, index, $"invalid option '{System.Text.Encoding.UTF8.GetString(text)}'", name);
                *setting = found;
            }
        }
        if (*setting is 0 or 1) LuaNative.PushBoolean(L, *setting);
        else LuaNative.PushBytes(L, System.Text.Encoding.ASCII.GetBytes(options[*setting]));
        return -1;
    }

    private static int EncodeSparseArray(IntPtr L)
    {
        const string name = "encode_sparse_array";
        if (!ArgInit(L, 3)) return LuaArgs.ArgError(L, 4, "found too many arguments", name);
        Config* cfg = Settings(L);
        int r = EnumOption(L, 1, &cfg->SparseConvert, OnOff, name);
        if (r < 0) r = IntegerOption(L, 2, &cfg->SparseRatio, 0, int.MaxValue, name);
        if (r < 0) r = IntegerOption(L, 3, &cfg->SparseSafe, 0, int.MaxValue, name);
        return r < 0 ? 3 : r;
    }

    private static int IntegerSetting(IntPtr L, int* setting, int min, int max, string name)
    {
        if (!ArgInit(L, 1)) return LuaArgs.ArgError(L, 2, "found too many arguments", name);
        int r = IntegerOption(L, 1, setting, min, max, name);
        return r < 0 ? 1 : r;
    }

    private static int EnumSetting(IntPtr L, int* setting, string[] options, string name)
    {
        if (!ArgInit(L, 1)) return LuaArgs.ArgError(L, 2, "found too many arguments", name);
        int r = EnumOption(L, 1, setting, options, name);
        return r < 0 ? 1 : r;
    }

    private static int EncodeMaxDepth(IntPtr L) =>
        IntegerSetting(L, &Settings(L)->EncodeMaxDepth, 1, int.MaxValue, "encode_max_depth");

    private static int DecodeMaxDepth(IntPtr L) =>
        IntegerSetting(L, &Settings(L)->DecodeMaxDepth, 1, int.MaxValue, "decode_max_depth");

    private static int EncodeNumberPrecision(IntPtr L) =>
        IntegerSetting(L, &Settings(L)->NumberPrecision, 1, 14, "encode_number_precision");

    private static int EncodeKeepBuffer(IntPtr L) => EnumSetting(L, &Settings(L)->KeepBuffer, OnOff, "encode_keep_buffer");

    private static int EncodeInvalidNumbers(IntPtr L) =>
        EnumSetting(L, &Settings(L)->EncodeInvalidNumbers, OnOffNull, "encode_invalid_numbers");

    private static int DecodeInvalidNumbers(IntPtr L) =>
        EnumSetting(L, &Settings(L)->DecodeInvalidNumbers, OnOff, "decode_invalid_numbers");

    // ------------------------------------------------------------------------------------------------ encoding

    private static int Encode(IntPtr L)
    {
        try
        {
            if (LuaNative.GetTop(L) != 1) return LuaArgs.ArgError(L, 1, "expected 1 argument", "encode");
            var json = ScratchBuffer.ForThread();
            AppendValue(L, Settings(L), 0, json);
            json.PushTo(L);
            return 1;
        }
        catch (JsonError e)
        {
            return LuaArgs.Fail(L, e.Message);
        }
    }

    /// <summary>Escapes of bytes 0..127 (<c>char2escape</c>); null where the byte is written as is.</summary>
    private static readonly byte[]?[] Escapes = BuildEscapes();

    private static byte[]?[] BuildEscapes()
    {
        var table = new byte[]?[128];
        for (int c = 0; c < 32; c++) table[c] = System.Text.Encoding.ASCII.GetBytes($"\\u{c:x4}");
        table['\b'] = "\\b"u8.ToArray();
        table['\t'] = "\\t"u8.ToArray();
        table['\n'] = "\\n"u8.ToArray();
        table['\f'] = "\\f"u8.ToArray();
        table['\r'] = "\\r"u8.ToArray();
        table['"'] = "\\\""u8.ToArray();
        table['/'] = "\\/"u8.ToArray();
        table['\\'] = "\\\\"u8.ToArray();
        table[127] = "\\u007f"u8.ToArray();
        return table;
    }

    private static void AppendString(ReadOnlySpan<byte> text, ScratchBuffer json)
    {
        json.Add((byte)'"');
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            byte c = text[i];
            if (c >= 128 || Escapes[c] is not { } escape) continue;
            json.Add(text[start..i]);
            json.Add(escape);
            start = i + 1;
        }
        json.Add(text[start..]);
        json.Add((byte)'"');
    }

    private static void AppendNumber(IntPtr L, Config* cfg, int index, ScratchBuffer json)
    {
        double number = LuaNative.ToNumberX(L, index, null);
        bool invalid = double.IsInfinity(number) || double.IsNaN(number);
        if (invalid)
        {
            if (cfg->EncodeInvalidNumbers == 0) throw new JsonError("Cannot serialise number: must not be NaN or Inf");
            if (cfg->EncodeInvalidNumbers == 2)
            {
                json.Add("null"u8);
                return;
            }
            if (double.IsNaN(number))
            {
                json.Add("nan"u8);
                return;
            }
        }
        json.Advance(CNumberText.FormatG(number, cfg->NumberPrecision, json.GetSpan(CNumberText.MaxLength)));
    }

    /// <summary>C's <c>(int)d</c> on x86-64 (cvttsd2si): truncation, <c>INT_MIN</c> when out of range.</summary>
    private static int CInt(double d) => d >= -2147483648.0 && d < 2147483648.0 ? (int)d : int.MinValue;

    /// <summary><c>lua_array_length</c> of the table on top: its largest index when every key is a positive integer
    /// (and it is not too sparse), else -1 (an object).</summary>
    private static int ArrayLength(IntPtr L, Config* cfg)
    {
        int max = 0, items = 0;
        LuaNative.PushNil(L);
        while (LuaNative.Next(L, -2) != 0)
        {
            double k;
            if (LuaNative.Type(L, -2) == LuaNative.TypeNumber && (k = LuaNative.ToNumberX(L, -2, null)) != 0
                && Math.Floor(k) == k && k >= 1)
            {
                if (k > max) max = CInt(k);
                items++;
                LuaNative.Pop(L, 1);
                continue;
            }
            LuaNative.Pop(L, 2);
            return -1;
        }
        if (cfg->SparseRatio > 0 && max > unchecked(items * cfg->SparseRatio) && max > cfg->SparseSafe)
        {
            if (cfg->SparseConvert == 0) throw new JsonError("Cannot serialise table: excessively sparse array");
            return -1;
        }
        return max;
    }

    private static void AppendValue(IntPtr L, Config* cfg, int depth, ScratchBuffer json)
    {
        switch (LuaNative.Type(L, -1))
        {
            case LuaNative.TypeString:
                AppendString(LuaNative.StringAt(L, -1), json);
                break;
            case LuaNative.TypeNumber:
                AppendNumber(L, cfg, -1, json);
                break;
            case LuaNative.TypeBoolean:
                json.Add(LuaNative.ToBoolean(L, -1) != 0 ? "true"u8 : "false"u8);
                break;
            case LuaNative.TypeTable:
                depth++;
                // Lua 5.1's json_check_encode_depth limit (3 slots within its C stack), and room for this level's
                // key table, key, value and key copy on the real stack.
                if (depth > cfg->EncodeMaxDepth || !LuaArgs.CheckStack(L, 3) || LuaNative.CheckStack(L, 6) == 0
                    || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
                    throw new JsonError($"Cannot serialise, excessive nesting ({depth})");
                int length = ArrayLength(L, cfg);
                if (length > 0) AppendArray(L, cfg, depth, json, length);
                else AppendObject(L, cfg, depth, json);
                break;
            case LuaNative.TypeNil:
                json.Add("null"u8);
                break;
            case LuaNative.TypeLightUserData when LuaNative.ToUserData(L, -1) == null:
                json.Add("null"u8);
                break;
            default:
                throw new JsonError($"Cannot serialise {LuaArgs.TypeName(LuaNative.Type(L, -1))}: type not supported");
        }
    }

    private static void AppendArray(IntPtr L, Config* cfg, int depth, ScratchBuffer json, int length)
    {
        json.Add((byte)'[');
        for (int i = 1; i <= length; i++)
        {
            if (i > 1) json.Add((byte)',');
            LuaNative.RawGetI(L, -1, i);
            AppendValue(L, cfg, depth, json);
            LuaNative.Pop(L, 1);
        }
        json.Add((byte)']');
    }

    /// <summary>Appends the table on top as an object, its keys in Lua 5.1's order (<see cref="Lua51TableOrder"/>).</summary>
    private static void AppendObject(IntPtr L, Config* cfg, int depth, ScratchBuffer json)
    {
        json.Add((byte)'{');
        int table = LuaNative.GetTop(L);
        int count = Lua51TableOrder.Push(L, table, out int[] order);
        try
        {
            for (int i = 0; i < count; i++)
            {
                if (i > 0) json.Add((byte)',');
                LuaNative.RawGetI(L, table + 1, order[i]);
                LuaNative.PushValue(L, -1);
                LuaNative.RawGet(L, table);
                int keyType = LuaNative.Type(L, -2);
                if (keyType == LuaNative.TypeNumber)
                {
                    json.Add((byte)'"');
                    AppendNumber(L, cfg, -2, json);
                    json.Add("\":"u8);
                }
                else if (keyType == LuaNative.TypeString)
                {
                    AppendString(LuaNative.StringAt(L, -2), json);
                    json.Add((byte)':');
                }
                else throw new JsonError($"Cannot serialise {LuaArgs.TypeName(keyType)}: table key must be a number or string");
                AppendValue(L, cfg, depth, json);
                LuaNative.Pop(L, 2);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(order);
        }
        LuaNative.Pop(L, 1);
        json.Add((byte)'}');
    }

    // ------------------------------------------------------------------------------------------------ decoding

    private enum Token { ObjBegin, ObjEnd, ArrBegin, ArrEnd, String, Number, Boolean, Null, Colon, Comma, End, Whitespace, Error, Unknown }

    private static readonly string[] TokenNames =
        { "T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN" };

    /// <summary><c>ch2token</c>: the token a byte starts.</summary>
    private static readonly Token[] CharTokens = BuildCharTokens();

    private static Token[] BuildCharTokens()
    {
        var table = new Token[256];
        Array.Fill(table, Token.Error);
        table['{'] = Token.ObjBegin;
        table['}'] = Token.ObjEnd;
        table['['] = Token.ArrBegin;
        table[']'] = Token.ArrEnd;
        table[','] = Token.Comma;
        table[':'] = Token.Colon;
        table[0] = Token.End;
        table[' '] = table['\t'] = table['\n'] = table['\r'] = Token.Whitespace;
        foreach (char c in "fiInNt\"+-0123456789") table[c] = Token.Unknown;
        return table;
    }

    /// <summary><c>escape2char</c>: what a byte after a backslash stands for (0: invalid, 'u': a \uXXXX escape).</summary>
    private static readonly byte[] EscapeChars = BuildEscapeChars();

    private static byte[] BuildEscapeChars()
    {
        var table = new byte[256];
        table['"'] = (byte)'"';
        table['\\'] = (byte)'\\';
        table['/'] = (byte)'/';
        table['b'] = (byte)'\b';
        table['t'] = (byte)'\t';
        table['n'] = (byte)'\n';
        table['f'] = (byte)'\f';
        table['r'] = (byte)'\r';
        table['u'] = (byte)'u';
        return table;
    }

    /// <summary>One JSON text being decoded (lua_cjson's <c>json_parse_t</c> and current <c>json_token_t</c>).</summary>
    private ref struct Parser
    {
        public ReadOnlySpan<byte> Data;
        public int Pos;
        public int Depth;
        public Config* Cfg;
        public ScratchBuffer Tmp;
        public Token Type;
        public int Index;
        public string? ErrorText;
        public double Number;
        public bool Boolean;

        /// <summary>The byte at <paramref name="at"/>, 0 past the end (the C string's terminator).</summary>
        public readonly byte At(int at) => at < Data.Length ? Data[at] : (byte)0;
    }

    private static int Decode(IntPtr L)
    {
        try
        {
            if (LuaNative.GetTop(L) != 1) return LuaArgs.ArgError(L, 1, "expected 1 argument", "decode");
            Span<byte> scratch = stackalloc byte[CNumberText.MaxLength];
            if (!LuaArgs.TryString(L, 1, scratch, out var data)) return LuaArgs.TypeError(L, 1, "string", "decode");
            if (data.Length >= 2 && (data[0] == 0 || data[1] == 0))
                return LuaArgs.Fail(L, "JSON parser does not support UTF-16 or UTF-32");
            var json = new Parser { Data = data, Cfg = Settings(L), Tmp = ScratchBuffer.ForThread() };
            NextToken(ref json);
            ProcessValue(L, ref json);
            NextToken(ref json);
            if (json.Type != Token.End) ThrowParseError(ref json, "the end");
            return 1;
        }
        catch (JsonError e)
        {
            return LuaArgs.Fail(L, e.Message);
        }
    }

    private static void SetTokenError(ref Parser json, string text)
    {
        json.Type = Token.Error;
        json.Index = json.Pos;
        json.ErrorText = text;
    }

    private static void NextToken(ref Parser json)
    {
        Token type;
        while ((type = CharTokens[json.At(json.Pos)]) == Token.Whitespace) json.Pos++;
        json.Type = type;
        json.Index = json.Pos;
        if (type == Token.Error)
        {
            SetTokenError(ref json, "invalid token");
            return;
        }
        if (type == Token.End) return;
        if (type != Token.Unknown)
        {
            json.Pos++;
            return;
        }
        byte ch = json.At(json.Pos);
        ReadOnlySpan<byte> rest = json.Pos < json.Data.Length ? json.Data[json.Pos..] : default;
        if (ch == (byte)'"') NextStringToken(ref json);
        else if (ch == (byte)'-' || (ch >= (byte)'0' && ch <= (byte)'9'))
        {
            if (json.Cfg->DecodeInvalidNumbers == 0 && IsInvalidNumber(ref json)) SetTokenError(ref json, "invalid number");
            else NextNumberToken(ref json);
        }
        else if (rest.StartsWith("true"u8)) Literal(ref json, Token.Boolean, true, 4);
        else if (rest.StartsWith("false"u8)) Literal(ref json, Token.Boolean, false, 5);
        else if (rest.StartsWith("null"u8)) Literal(ref json, Token.Null, false, 4);
        else if (json.Cfg->DecodeInvalidNumbers != 0 && IsInvalidNumber(ref json)) NextNumberToken(ref json);
        else SetTokenError(ref json, "invalid token");
    }

    private static void Literal(ref Parser json, Token type, bool value, int length)
    {
        json.Type = type;
        json.Boolean = value;
        json.Pos += length;
    }

    /// <summary><c>json_is_invalid_number</c>: forms strtod takes that strict JSON does not (<c>+1</c>, <c>0x10</c>,
    /// <c>01</c>, <c>inf</c>, <c>nan</c>).</summary>
    private static bool IsInvalidNumber(ref Parser json)
    {
        int p = json.Pos;
        if (json.At(p) == (byte)'+') return true;
        if (json.At(p) == (byte)'-') p++;
        byte c = json.At(p);
        if (c == (byte)'0')
        {
            byte c2 = json.At(p + 1);
            return (c2 | 0x20) == (byte)'x' || (c2 >= (byte)'0' && c2 <= (byte)'9');
        }
        if (c <= (byte)'9') return false;
        ReadOnlySpan<byte> rest = p < json.Data.Length ? json.Data[p..] : default;
        return rest.Length >= 3 && (System.Text.Ascii.EqualsIgnoreCase(rest[..3], "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(rest[..3], "nan"u8));
    }

    private static void NextNumberToken(ref Parser json)
    {
        json.Type = Token.Number;
        int consumed = json.Pos < json.Data.Length ? CNumberText.Strtod(json.Data[json.Pos..], out json.Number) : 0;
        if (consumed == 0) SetTokenError(ref json, "invalid number");
        else json.Pos += consumed;
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        _ when (c | 0x20) >= 'a' && (c | 0x20) <= 'f' => 10 + (c | 0x20) - 'a',
        _ => -1,
    };

    private static int DecodeHex4(ref Parser json, int at)
    {
        int value = 0;
        for (int i = 0; i < 4; i++)
        {
            int digit = HexDigit(json.At(at + i));
            if (digit < 0) return -1;
            value = (value << 4) | digit;
        }
        return value;
    }

    /// <summary><c>json_append_unicode_escape</c> at the backslash of <c>\uXXXX</c> (with a following low surrogate
    /// for a high one): appends the code point as UTF-8. False on a bad escape.</summary>
    private static bool AppendUnicodeEscape(ref Parser json)
    {
        int escapeLength = 6;
        int codepoint = DecodeHex4(ref json, json.Pos + 2);
        if (codepoint < 0) return false;
        if ((codepoint & 0xF800) == 0xD800)
        {
            if ((codepoint & 0x400) != 0) return false;
            if (json.At(json.Pos + 6) != (byte)'\\' || json.At(json.Pos + 7) != (byte)'u') return false;
            int low = DecodeHex4(ref json, json.Pos + 8);
            if (low < 0 || (low & 0xFC00) != 0xDC00) return false;
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escapeLength = 12;
        }
        var tmp = json.Tmp;
        if (codepoint <= 0x7F) tmp.Add((byte)codepoint);
        else if (codepoint <= 0x7FF)
        {
            tmp.Add((byte)((codepoint >> 6) | 0xC0));
            tmp.Add((byte)((codepoint & 0x3F) | 0x80));
        }
        else if (codepoint <= 0xFFFF)
        {
            tmp.Add((byte)((codepoint >> 12) | 0xE0));
            tmp.Add((byte)(((codepoint >> 6) & 0x3F) | 0x80));
            tmp.Add((byte)((codepoint & 0x3F) | 0x80));
        }
        else
        {
            tmp.Add((byte)((codepoint >> 18) | 0xF0));
            tmp.Add((byte)(((codepoint >> 12) & 0x3F) | 0x80));
            tmp.Add((byte)(((codepoint >> 6) & 0x3F) | 0x80));
            tmp.Add((byte)((codepoint & 0x3F) | 0x80));
        }
        json.Pos += escapeLength;
        return true;
    }

    private static void NextStringToken(ref Parser json)
    {
        json.Pos++;
        json.Tmp.Length = 0;
        byte ch;
        while ((ch = json.At(json.Pos)) != (byte)'"')
        {
            if (ch == 0)
            {
                SetTokenError(ref json, "unexpected end of string");
                return;
            }
            if (ch == (byte)'\\')
            {
                ch = EscapeChars[json.At(json.Pos + 1)];
                if (ch == (byte)'u')
                {
                    if (AppendUnicodeEscape(ref json)) continue;
                    SetTokenError(ref json, "invalid unicode escape code");
                    return;
                }
                if (ch == 0)
                {
                    SetTokenError(ref json, "invalid escape code");
                    return;
                }
                json.Pos++;
            }
            json.Tmp.Add(ch);
            json.Pos++;
        }
        json.Pos++;
        json.Type = Token.String;
    }

    private static void ThrowParseError(ref Parser json, string expected)
    {
        string found = json.Type == Token.Error ? json.ErrorText! : TokenNames[(int)json.Type];
        throw new JsonError($"Expected {expected} but found {found} at character {json.Index + 1}");
    }

    private static void Descend(IntPtr L, ref Parser json, int slots)
    {
        json.Depth++;
        if (json.Depth <= json.Cfg->DecodeMaxDepth && LuaArgs.CheckStack(L, slots) && RuntimeHelpers.TryEnsureSufficientExecutionStack())
            return;
        throw new JsonError($"Found too many nested data structures ({json.Depth}) at character {json.Pos}");
    }

    /// <summary><c>json_parse_object_context</c> / <c>json_parse_array_context</c>: the object or array whose
    /// opening bracket was just read, as a new table on the stack.</summary>
    private static void ParseContainer(IntPtr L, ref Parser json, bool isObject)
    {
        Descend(L, ref json, isObject ? 3 : 2);
        LuaNative.CreateTable(L, 0, 0);
        Token end = isObject ? Token.ObjEnd : Token.ArrEnd;
        NextToken(ref json);
        if (json.Type == end)
        {
            json.Depth--;
            return;
        }
        for (long i = 1; ; i++)
        {
            if (isObject)
            {
                if (json.Type != Token.String) ThrowParseError(ref json, "object key string");
                LuaNative.PushBytes(L, json.Tmp.Written);
                NextToken(ref json);
                if (json.Type != Token.Colon) ThrowParseError(ref json, "colon");
                NextToken(ref json);
            }
            ProcessValue(L, ref json);
            if (isObject) LuaNative.RawSet(L, -3);
            else LuaNative.RawSetI(L, -2, i);
            NextToken(ref json);
            if (json.Type == end)
            {
                json.Depth--;
                return;
            }
            if (json.Type != Token.Comma) ThrowParseError(ref json, isObject ? "comma or object end" : "comma or array end");
            NextToken(ref json);
        }
    }

    private static void ProcessValue(IntPtr L, ref Parser json)
    {
        switch (json.Type)
        {
            case Token.String:
                LuaNative.PushBytes(L, json.Tmp.Written);
                break;
            case Token.Number:
                LuaArgs.PushNumber(L, json.Number);
                break;
            case Token.Boolean:
                LuaNative.PushBoolean(L, json.Boolean ? 1 : 0);
                break;
            case Token.ObjBegin:
            case Token.ArrBegin:
                ParseContainer(L, ref json, json.Type == Token.ObjBegin);
                break;
            case Token.Null:
                LuaNative.PushLightUserData(L, null);
                break;
            default:
                ThrowParseError(ref json, "value");
                break;
        }
    }
}
