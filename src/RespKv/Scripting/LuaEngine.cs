using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Protocol;
using static RespKv.Scripting.LuaNative;

namespace RespKv.Scripting;

/// <summary>
/// One Lua interpreter state (KeraLua 1.4.11's Lua 5.4) set up as Redis 7.0's scripting engine: the Lua 5.1 globals
/// Redis scripts rely on, the <c>redis</c> API, the bundled libraries and the read-only sandbox (<see cref="LuaPrelude"/>).
/// Created once and reused for every call — EVAL has one (<see cref="ScriptingState"/>), FUNCTION keeps its own, as
/// Redis 7.0 keeps separate states — and dropped whole by SCRIPT FLUSH. Not thread-safe: callers hold
/// <see cref="ScriptingState.ExecutionLock"/>.
/// <para>
/// Compiled chunks live in the Lua registry (<see cref="TryCompile"/> returns their reference). A run
/// (<see cref="Run"/>) executes a chunk as a coroutine on one reused Lua thread, so the count hook can stop it by
/// yielding (SCRIPT KILL) — Lua raises nothing through managed frames — and converts its result to the caller's reply.
/// </para>
/// </summary>
public sealed unsafe partial class LuaEngine : IDisposable
{
    /// <summary>Default cap of a state's Lua heap (1 GB): an allocation beyond it fails the script with <c>not enough memory</c>.</summary>
    public const long DefaultHeapLimitBytes = 1L << 30;

    /// <summary>Instructions between two count-hook checks (Redis's <c>lua_sethook(..., LUA_MASKCOUNT, 100000)</c>).</summary>
    public const int HookInstructions = 100_000;

    /// <summary>Deepest nesting of tables converted to or from a reply (a self-referencing table stops there).</summary>
    private const int MaxDepth = 200;

    [ThreadStatic] private static LuaEngine? t_engine;

    /// <summary>True when the Lua build's function layout is the one <see cref="TailCalls"/> expects (checked once on a probe chunk).</summary>
    private static readonly bool s_tailCallsPatchable = TailCalls.Probe();

    private readonly KeraLua.Lua _lua;
    private readonly IntPtr _L;
    private readonly LuaHeap* _heap;
    private readonly IntPtr _thread;
    private readonly int _threadRef;
    private readonly int _realGlobalsRef;
    private readonly int _whereRef;
    private readonly ILogger? _logger;
    private ulong _rand48 = 0x1234ABCD330E;
    private int _runsSinceGc;
    private bool _disposed;

    /// <summary>
    /// A new state: standard libraries, <paramref name="openLibraries"/> (the bundled <c>cjson</c>, <c>cmsgpack</c>,
    /// <c>bit</c>, <c>struct</c>: <see cref="OpenBundledLibraries"/> by default), the prelude, then sealed. Redis log
    /// lines (<c>redis.log</c>, slow-script warnings) go to <paramref name="logger"/>.
    /// </summary>
    public LuaEngine(ILogger? logger = null, long heapLimitBytes = DefaultHeapLimitBytes, Action<KeraLua.Lua>? openLibraries = null)
    {
        _logger = logger;
        _lua = new KeraLua.Lua(openLibs: false);
        _L = _lua.Handle;
        _heap = LuaHeap.Create(heapLimitBytes);
        _heap->Used = Gc(_L, GcCount, 0, 0) * 1024L + Gc(_L, GcCountBytes, 0, 0);
        SetAllocF(_L, &LuaHeap.Allocate, (IntPtr)_heap);
        LuaEngine? previous = t_engine;
        t_engine = this;
        try
        {
            _lua.OpenLibs();
            (openLibraries ?? OpenBundledLibraries)(_lua);
            byte[] source = Encoding.UTF8.GetBytes(LuaPrelude.Source);
            byte[] name = Encoding.UTF8.GetBytes(LuaPrelude.ChunkName + "\0");
            fixed (byte* s = source)
            fixed (byte* n = name)
            fixed (byte* mode = "t\0"u8)
            {
                if (LoadBufferX(_L, s, (nuint)source.Length, n, mode) != StatusOk) throw new InvalidOperationException("Lua prelude: " + _lua.ToString(-1));
            }
            PushFunction(&CommandRaising);
            PushFunction(&CommandProtected);
            PushFunction(&Sha1Hex);
            PushFunction(&Log);
            PushFunction(&SetRunOption);
            PushFunction(&Rand48);
            PushFunction(&Srand48);
            PushFunction(&Frexp);
            PushFunction(&Known);
            PushBytes(_L, Encoding.ASCII.GetBytes(Server.RespServer.RedisCompatibleVersion));
            if (PCallK(_L, 10, 3, 0, 0, 0) != StatusOk) throw new InvalidOperationException("Lua prelude: " + _lua.ToString(-1));
            // Stack: globals proxy, real globals, where. The proxy becomes the registry's globals: every chunk loaded
            // from now on (scripts, loadstring) sees it as _ENV.
            _whereRef = Ref(_L, RegistryIndex);
            _realGlobalsRef = Ref(_L, RegistryIndex);
            RawSetI(_L, RegistryIndex, GlobalsSlot);
            _thread = NewThread(_L);
            _threadRef = Ref(_L, RegistryIndex);
            SetHook(_thread, &Hook, MaskCount, HookInstructions);
            SetTop(_L, 0);
        }
        finally
        {
            t_engine = previous;
        }
    }

    /// <summary>The KeraLua state (for libraries that register themselves with KeraLua's API).</summary>
    public KeraLua.Lua State => _lua;

    /// <summary>Bytes the Lua heap holds now (INFO <c>used_memory_lua</c>, <c>used_memory_vm_eval</c>).</summary>
    public long MemoryBytes => _heap->Used;

    /// <summary>
    /// Opens the bundled libraries (<c>cjson</c>, <c>cmsgpack</c>, <c>bit</c>, <c>struct</c>) into <paramref name="lua"/>:
    /// <see cref="Libraries.LuaLibraries.Open"/>.
    /// </summary>
    public static void OpenBundledLibraries(KeraLua.Lua lua) => Libraries.LuaLibraries.Open(lua);

    /// <summary>
    /// Compiles <paramref name="body"/> under <paramref name="chunkName"/> (<c>@user_script</c> for EVAL, so positions read
    /// <c>user_script:1:</c>), text only (no precompiled bytecode). True with the chunk's registry reference; false with
    /// Lua's message (<c>user_script:1: unexpected symbol near '+'</c>).
    /// </summary>
    public bool TryCompile(ReadOnlySpan<byte> body, string chunkName, out int functionRef, out string? error)
    {
        LuaEngine? previous = t_engine;
        t_engine = this;
        try
        {
            byte[] name = Encoding.UTF8.GetBytes(chunkName + "\0");
            int status;
            fixed (byte* s = body)
            fixed (byte* n = name)
            fixed (byte* mode = "t\0"u8)
            {
                status = LoadBufferX(_L, s == null ? (byte*)&status : s, (nuint)body.Length, n, mode);
            }
            if (status != StatusOk)
            {
                // Lua 5.4 prints the <eof> token bare; Lua 5.1 quoted it like every other token.
                error = (StringAt(_L, -1) ?? "unknown error").Replace("'<eof>'", "<eof>").Replace("<eof>", "'<eof>'");
                SetTop(_L, 0);
                functionRef = 0;
                return false;
            }
            if (s_tailCallsPatchable) TailCalls.Disable(ToPointer(_L, -1));
            functionRef = Ref(_L, RegistryIndex);
            error = null;
            return true;
        }
        finally
        {
            t_engine = previous;
        }
    }

    /// <summary>Releases a compiled chunk (<see cref="TryCompile"/>'s reference).</summary>
    public void Release(int functionRef) => Unref(_L, RegistryIndex, functionRef);

    /// <summary>
    /// Runs the chunk <paramref name="functionRef"/> for <paramref name="run"/> (already begun) and writes its reply to
    /// <paramref name="output"/> (Redis 7.0's <c>luaCallFunction</c>). The keys are <paramref name="keyCount"/> arguments
    /// of <paramref name="args"/> from <paramref name="firstKey"/>, the other arguments follow them to the end. In EVAL
    /// mode (<paramref name="globals"/>) they become the globals <c>KEYS</c> and <c>ARGV</c> and the chunk is called with
    /// no argument; otherwise (FCALL) they are its two arguments. Errors are replied as Redis does:
    /// <c>-&lt;err&gt; script: &lt;name&gt;, on @user_script:&lt;line&gt;.</c>; a kill answers
    /// <c>-ERR Script killed by user with SCRIPT KILL... script: …</c>.
    /// </summary>
    public void Run(ScriptRun run, int functionRef, in CommandArgs args, int firstKey, int keyCount, bool globals, RespWriter output)
    {
        LuaEngine? previous = t_engine;
        t_engine = this;
        IntPtr co = _thread;
        try
        {
            SetTop(co, 0);
            int argFirst = firstKey + keyCount, argCount = args.Count - argFirst;
            if (globals)
            {
                RawGetI(co, RegistryIndex, _realGlobalsRef);
                PushBytes(co, "KEYS"u8);
                PushArray(co, args, firstKey, keyCount);
                RawSet(co, 1);
                PushBytes(co, "ARGV"u8);
                PushArray(co, args, argFirst, argCount);
                RawSet(co, 1);
                SetTop(co, 0);
                RawGetI(co, RegistryIndex, functionRef);
            }
            else
            {
                RawGetI(co, RegistryIndex, functionRef);
                PushArray(co, args, firstKey, keyCount);
                PushArray(co, args, argFirst, argCount);
            }
            int results;
            _heap->Enforcing = 1;
            int status = Resume(co, _L, globals ? 0 : 2, &results);
            _heap->Enforcing = 0;
            if (status == StatusOk)
            {
                SetTop(co, 1);
                WriteReply(co, output, run.Resp, 0);
                SetTop(co, 0);
            }
            else
            {
                if (status == StatusYield)
                {
                    SetTop(co, 0);
                    PushBytes(co, run.Killed ? "Script killed by user with SCRIPT KILL..."u8 : "attempt to yield across metamethod/C-call boundary"u8);
                }
                if (status == StatusErrorMemory || (status != StatusYield && status != StatusErrorRun))
                {
                    string message = StringAt(co, -1) ?? "execution failure";
                    if (message.Length > 100) message = message[..100];
                    output.WriteError($"ERR Error running script {run.Name}, {message}");
                }
                else WriteError(co, run.Name, output);
                CloseThread(co, _L);
                SetTop(co, 0);
            }
            if (++_runsSinceGc == 50)
            {
                Gc(_L, GcStep, 50, 0);
                _runsSinceGc = 0;
            }
        }
        finally
        {
            _heap->Enforcing = 0;
            t_engine = previous;
        }
    }

    /// <summary>Formats the error object on top of <paramref name="co"/> with the prelude's position helper and replies it.</summary>
    private void WriteError(IntPtr co, string name, RespWriter output)
    {
        RawGetI(_L, RegistryIndex, _whereRef);
        RawGetI(_L, RegistryIndex, _threadRef);
        XMove(co, _L, 1);
        PushBytes(_L, Encoding.UTF8.GetBytes(name));
        if (PCallK(_L, 3, 1, 0, 0, 0) == StatusOk && TryGetBytes(_L, -1, out ReadOnlySpan<byte> text)) output.WriteError(text);
        else output.WriteError("ERR Error running script " + name + ", execution failure");
        SetTop(_L, 0);
    }

    private static void PushArray(IntPtr L, in CommandArgs args, int first, int count)
    {
        CreateTable(L, count, 0);
        for (int i = 0; i < count; i++)
        {
            PushBytes(L, args[first + i]);
            RawSetI(L, -2, i + 1);
        }
    }

    private static string? StringAt(IntPtr L, int index) =>
        TryGetBytes(L, index, out ReadOnlySpan<byte> bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private void PushFunction(delegate* unmanaged[Cdecl]<IntPtr, int> function) => PushCClosure(_L, function, 0);

    // ---- Lua value → reply (Redis 7.0's luaReplyToRedisReply) ----

    /// <summary>
    /// Writes the value on top of <paramref name="L"/> as a reply and pops it: string → bulk; number → integer
    /// (truncated toward zero; NaN and out-of-range → <c>-9223372036854775808</c> as x86's conversion gives Redis);
    /// boolean → <c>:1</c>/null when the script's RESP is 2, a RESP3 boolean when 3 (<c>:1</c>/<c>:0</c> to a RESP2
    /// caller); table → <c>{err=}</c> error, <c>{ok=}</c> status, <c>{double=}</c>, <c>{big_number=}</c>,
    /// <c>{verbatim_string={format=,string=}}</c>, <c>{map=}</c>, <c>{set=}</c>, else an array up to the first nil;
    /// anything else → null.
    /// </summary>
    private static void WriteReply(IntPtr L, RespWriter w, int scriptResp, int depth)
    {
        if (depth > MaxDepth || CheckStack(L, 4) == 0)
        {
            w.WriteError("ERR reached lua stack limit");
            Pop(L, 1);
            return;
        }
        switch (Type(L, -1))
        {
            case TypeString:
                TryGetBytes(L, -1, out ReadOnlySpan<byte> s);
                w.WriteBulkString(s);
                break;
            case TypeBoolean:
                bool b = ToBoolean(L, -1) != 0;
                if (scriptResp == 2)
                {
                    if (b) w.WriteInteger(1);
                    else w.WriteNullBulkString();
                }
                else if (w.Protocol >= 3) w.WriteRaw(b ? "#t\r\n"u8 : "#f\r\n"u8);
                else w.WriteInteger(b ? 1 : 0);
                break;
            case TypeNumber:
                w.WriteInteger(IsInteger(L, -1) != 0 ? ToIntegerX(L, -1, null) : Truncate(ToNumberX(L, -1, null)));
                break;
            case TypeTable:
                WriteTable(L, w, scriptResp, depth);
                break;
            default:
                w.WriteNullBulkString();
                break;
        }
        Pop(L, 1);
    }

    /// <summary>C's <c>(long long)</c> of a double on x86-64: truncation, and <c>LLONG_MIN</c> for NaN and out-of-range values.</summary>
    private static long Truncate(double d) => double.IsNaN(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0 ? long.MinValue : (long)d;

    private static void WriteTable(IntPtr L, RespWriter w, int scriptResp, int depth)
    {
        if (Field(L, "err"u8) == TypeString)
        {
            TryGetBytes(L, -1, out ReadOnlySpan<byte> e);
            w.WriteError(e);
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        if (Field(L, "ok"u8) == TypeString)
        {
            TryGetBytes(L, -1, out ReadOnlySpan<byte> ok);
            WriteLine(w, (byte)'+', ok);
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        if (Field(L, "double"u8) == TypeNumber)
        {
            double d = ToNumberX(L, -1, null);
            // glibc prints the NaN of 0/0 (sign bit set) as -nan, as Redis's %.17g reply shows it.
            if (double.IsNaN(d) && double.IsNegative(d)) w.WriteRaw(w.Protocol >= 3 ? ",-nan\r\n"u8 : "$4\r\n-nan\r\n"u8);
            else w.WriteDouble(d);
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        if (Field(L, "big_number"u8) == TypeString)
        {
            TryGetBytes(L, -1, out ReadOnlySpan<byte> big);
            if (w.Protocol >= 3) WriteLine(w, (byte)'(', big);
            else WriteBulkMapped(w, big);
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        int top = GetTop(L);
        if (Field(L, "verbatim_string"u8) == TypeTable && Field(L, "format"u8) == TypeString && Field(L, "string"u8, -2) == TypeString)
        {
            TryGetBytes(L, -2, out ReadOnlySpan<byte> format);
            TryGetBytes(L, -1, out ReadOnlySpan<byte> text);
            if (w.Protocol >= 3)
            {
                w.WriteRaw("="u8);
                WriteDigits(w, text.Length + 4);
                w.WriteRaw("\r\n"u8);
                w.WriteRaw(format.Length >= 3 ? format[..3] : format);
                w.WriteRaw(":"u8);
                w.WriteRaw(text);
                w.WriteRaw("\r\n"u8);
            }
            else w.WriteBulkString(text);
            SetTop(L, top);
            return;
        }
        SetTop(L, top);
        if (Field(L, "map"u8) == TypeTable)
        {
            w.WriteMapHeader(CountPairs(L));
            PushNil(L);
            while (Next(L, -2) != 0)
            {
                PushValue(L, -2);
                WriteReply(L, w, scriptResp, depth + 1);
                WriteReply(L, w, scriptResp, depth + 1);
            }
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        if (Field(L, "set"u8) == TypeTable)
        {
            w.WriteSetHeader(CountPairs(L));
            PushNil(L);
            while (Next(L, -2) != 0)
            {
                Pop(L, 1);
                PushValue(L, -1);
                WriteReply(L, w, scriptResp, depth + 1);
            }
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        long count = 0;
        while (RawGetI(L, -1, count + 1) != TypeNil)
        {
            Pop(L, 1);
            count++;
        }
        Pop(L, 1);
        w.WriteArrayHeader(count);
        for (long i = 1; i <= count; i++)
        {
            RawGetI(L, -1, i);
            WriteReply(L, w, scriptResp, depth + 1);
        }
    }

    /// <summary>Pushes <c>t[name]</c> (raw) of the table at <paramref name="table"/> and returns its type.</summary>
    private static int Field(IntPtr L, ReadOnlySpan<byte> name, int table = -1)
    {
        PushBytes(L, name);
        return RawGet(L, table - 1);
    }

    private static long CountPairs(IntPtr L)
    {
        long n = 0;
        PushNil(L);
        while (Next(L, -2) != 0)
        {
            Pop(L, 1);
            n++;
        }
        return n;
    }

    /// <summary><paramref name="prefix"/>text<c>\r\n</c> with CR and LF in the text mapped to spaces (Redis's <c>sdsmapchars</c>).</summary>
    private static void WriteLine(RespWriter w, byte prefix, ReadOnlySpan<byte> text)
    {
        Span<byte> one = stackalloc byte[1];
        one[0] = prefix;
        w.WriteRaw(one);
        WriteMapped(w, text);
        w.WriteRaw("\r\n"u8);
    }

    private static void WriteBulkMapped(RespWriter w, ReadOnlySpan<byte> text)
    {
        w.WriteRaw("$"u8);
        WriteDigits(w, text.Length);
        w.WriteRaw("\r\n"u8);
        WriteMapped(w, text);
        w.WriteRaw("\r\n"u8);
    }

    private static void WriteMapped(RespWriter w, ReadOnlySpan<byte> text)
    {
        while (text.Length > 0)
        {
            int cut = text.IndexOfAny((byte)'\r', (byte)'\n');
            if (cut < 0)
            {
                w.WriteRaw(text);
                return;
            }
            w.WriteRaw(text[..cut]);
            w.WriteRaw(" "u8);
            text = text[(cut + 1)..];
        }
    }

    private static void WriteDigits(RespWriter w, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        w.WriteRaw(digits[..n]);
    }

    // ---- reply → Lua value (Redis 7.0's redisProtocolToLuaType) ----

    /// <summary>
    /// Pushes the reply at <paramref name="pos"/> of <paramref name="reply"/> as a Lua value and advances past it: integer →
    /// number; bulk → string; RESP2 null bulk or array → false; status → <c>{ok=}</c>; error → <c>{err=}</c>; array →
    /// table; RESP3 map → <c>{map={…}}</c>, set → <c>{set={m=true}}</c>, null → nil, boolean → boolean, double →
    /// <c>{double=}</c>, big number → <c>{big_number=}</c>, verbatim → <c>{verbatim_string={string=,format=}}</c>; an
    /// attribute is skipped. True when the reply is an error.
    /// </summary>
    internal static bool PushReply(IntPtr L, ReadOnlySpan<byte> reply, ref int pos, int depth)
    {
        CheckStack(L, 5);
        byte kind = reply[pos];
        int lineEnd = reply[pos..].IndexOf("\r\n"u8) + pos;
        ReadOnlySpan<byte> line = reply[(pos + 1)..lineEnd];
        pos = lineEnd + 2;
        switch (kind)
        {
            case (byte)':':
                Utf8Parser.TryParse(line, out long integer, out _);
                PushInteger(L, integer);
                return false;
            case (byte)'$':
            {
                Utf8Parser.TryParse(line, out int length, out _);
                if (length < 0)
                {
                    PushBoolean(L, 0);
                    return false;
                }
                PushBytes(L, reply.Slice(pos, length));
                pos += length + 2;
                return false;
            }
            case (byte)'+':
                CreateTable(L, 0, 1);
                PushBytes(L, "ok"u8);
                PushBytes(L, line);
                RawSet(L, -3);
                return false;
            case (byte)'-':
                PushErrorTable(L, line);
                return true;
            case (byte)'*':
            case (byte)'>':
            {
                Utf8Parser.TryParse(line, out int count, out _);
                if (count < 0)
                {
                    PushBoolean(L, 0);
                    return false;
                }
                CreateTable(L, count, 0);
                for (int i = 1; i <= count; i++)
                {
                    PushReply(L, reply, ref pos, depth + 1);
                    RawSetI(L, -2, i);
                }
                return false;
            }
            case (byte)'%':
            case (byte)'~':
            {
                bool map = kind == (byte)'%';
                Utf8Parser.TryParse(line, out int count, out _);
                CreateTable(L, 0, 1);
                PushBytes(L, map ? "map"u8 : "set"u8);
                CreateTable(L, 0, count);
                for (int i = 0; i < count; i++)
                {
                    PushReply(L, reply, ref pos, depth + 1);
                    if (map) PushReply(L, reply, ref pos, depth + 1);
                    else PushBoolean(L, 1);
                    RawSetPair(L);
                }
                RawSet(L, -3);
                return false;
            }
            case (byte)'_':
                PushNil(L);
                return false;
            case (byte)'#':
                PushBoolean(L, line.Length > 0 && line[0] == (byte)'t' ? 1 : 0);
                return false;
            case (byte)',':
                CreateTable(L, 0, 1);
                PushBytes(L, "double"u8);
                PushNumber(L, ParseDouble(line));
                RawSet(L, -3);
                return false;
            case (byte)'(':
                CreateTable(L, 0, 1);
                PushBytes(L, "big_number"u8);
                PushBytes(L, line);
                RawSet(L, -3);
                return false;
            case (byte)'=':
            {
                Utf8Parser.TryParse(line, out int length, out _);
                ReadOnlySpan<byte> body = reply.Slice(pos, length);
                pos += length + 2;
                CreateTable(L, 0, 1);
                PushBytes(L, "verbatim_string"u8);
                CreateTable(L, 0, 2);
                PushBytes(L, "string"u8);
                PushBytes(L, body.Length >= 4 ? body[4..] : body);
                RawSet(L, -3);
                PushBytes(L, "format"u8);
                PushBytes(L, body.Length >= 3 ? body[..3] : body);
                RawSet(L, -3);
                RawSet(L, -3);
                return false;
            }
            case (byte)'|':
            {
                Utf8Parser.TryParse(line, out int count, out _);
                for (int i = 0; i < 2 * count; i++)
                {
                    PushReply(L, reply, ref pos, depth + 1);
                    Pop(L, 1);
                }
                return PushReply(L, reply, ref pos, depth);
            }
            default:
                PushNil(L);
                return false;
        }
    }

    /// <summary>Sets <c>t[k] = v</c> with the table at -3, the key at -2 and the value at -1, skipping a nil key (a RESP3 null member).</summary>
    private static void RawSetPair(IntPtr L)
    {
        if (Type(L, -2) == TypeNil)
        {
            Pop(L, 2);
            return;
        }
        RawSet(L, -3);
    }

    private static double ParseDouble(ReadOnlySpan<byte> text)
    {
        if (text.SequenceEqual("inf"u8)) return double.PositiveInfinity;
        if (text.SequenceEqual("-inf"u8)) return double.NegativeInfinity;
        if (text.SequenceEqual("nan"u8) || text.SequenceEqual("-nan"u8)) return double.NaN;
        return DoubleText.TryParseLenient(text, out double d) ? d : 0;
    }

    /// <summary>
    /// Pushes Redis's error table <c>{err="CODE message"}</c> for an error text (Redis's <c>luaPushErrorBuff</c>): the text's
    /// own code when it has one (a word before a space), else <c>ERR</c>; CR and LF trimmed from the message's ends.
    /// </summary>
    internal static void PushErrorTable(IntPtr L, ReadOnlySpan<byte> text)
    {
        CreateTable(L, 0, 1);
        PushBytes(L, "err"u8);
        ReadOnlySpan<byte> message = text;
        int space = text.IndexOf((byte)' ');
        if (space < 0) message = text;
        ReadOnlySpan<byte> trimmed = space < 0 ? message.Trim("\r\n"u8) : text[(space + 1)..].Trim("\r\n"u8);
        if (space < 0)
        {
            Span<byte> buffer = trimmed.Length + 4 <= 256 ? stackalloc byte[trimmed.Length + 4] : new byte[trimmed.Length + 4];
            "ERR "u8.CopyTo(buffer);
            trimmed.CopyTo(buffer[4..]);
            PushBytes(L, buffer);
        }
        else if (trimmed.Length == text.Length - space - 1) PushBytes(L, text);
        else
        {
            byte[] buffer = new byte[space + 1 + trimmed.Length];
            text[..(space + 1)].CopyTo(buffer);
            trimmed.CopyTo(buffer.AsSpan(space + 1));
            PushBytes(L, buffer);
        }
        RawSet(L, -3);
    }

    private static void PushErrorTable(IntPtr L, string text) => PushErrorTable(L, Encoding.UTF8.GetBytes(text));

    // ---- C functions the prelude receives ----

    /// <summary>The engine of the calling thread's current Lua call, with its heap cap lifted (C# is on the stack).</summary>
    private static LuaEngine EnterCallback()
    {
        LuaEngine engine = t_engine!;
        engine._heap->Enforcing = 0;
        return engine;
    }

    private static void LeaveCallback(LuaEngine engine, bool running) => engine._heap->Enforcing = running ? 1 : 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CommandRaising(IntPtr L) => Command(L, raise: true);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CommandProtected(IntPtr L) => Command(L, raise: false);

    /// <summary>
    /// <c>redis.call</c>/<c>redis.pcall</c> (Redis's <c>luaRedisGenericCommand</c>): the arguments (strings, or numbers
    /// written as <c>%.17g</c> — an integer as its digits) become a command run through <see cref="ScriptRun.Call"/>,
    /// whose reply is pushed as a Lua value. With <paramref name="raise"/>, an error reply is returned with a second
    /// value <c>true</c>, and the prelude's <c>redis.call</c> raises it.
    /// </summary>
    private static int Command(IntPtr L, bool raise)
    {
        LuaEngine engine = EnterCallback();
        try
        {
            ScriptRun? run = ScriptRun.Current;
            int argc = GetTop(L);
            string? error = null;
            if (run == null) error = "ERR redis.call/pcall can only be called inside a script invocation";
            else if (argc == 0) error = "ERR Please specify at least one argument for this redis lib call";
            else if (!CopyArguments(L, run, argc)) error = "ERR Lua redis lib command arguments must be strings or integers";
            ReadOnlySpan<byte> reply = default;
            if (error == null)
            {
                CommandArgs callArgs = run!.Arguments(argc);
                try
                {
                    error = run.Call(callArgs, out reply);
                }
                catch (Exception e)
                {
                    // A managed exception must not unwind into Lua's C frames (the process would die): it becomes the
                    // command's error, and the server log says what happened.
                    engine._logger?.LogError(e, "Command called from a script failed");
                    error = "ERR " + e.Message;
                }
            }
            SetTop(L, 0);
            bool isError;
            if (error != null)
            {
                PushErrorTable(L, error);
                isError = true;
            }
            else
            {
                int pos = 0;
                isError = reply.Length == 0 ? false : PushReply(L, reply, ref pos, 0);
                if (reply.Length == 0) PushNil(L);
            }
            if (!raise || !isError) return 1;
            PushBoolean(L, 1);
            return 2;
        }
        finally
        {
            LeaveCallback(engine, running: true);
        }
    }

    /// <summary>Copies the <paramref name="argc"/> arguments on the stack into <paramref name="run"/>'s argument buffer; false at the first that is neither a string nor a number.</summary>
    private static bool CopyArguments(IntPtr L, ScriptRun run, int argc)
    {
        Span<byte> number = stackalloc byte[DoubleText.MaxLength + 2];
        for (int i = 1; i <= argc; i++)
        {
            int type = Type(L, i);
            if (type == TypeNumber)
            {
                int n;
                if (IsInteger(L, i) != 0) Utf8Formatter.TryFormat(ToIntegerX(L, i, null), number, out n);
                else n = DoubleText.Format(ToNumberX(L, i, null), number);
                run.AddArgument(i - 1, number[..n]);
            }
            else if (type == TypeString && TryGetBytes(L, i, out ReadOnlySpan<byte> s)) run.AddArgument(i - 1, s);
            else return false;
        }
        return true;
    }

    /// <summary><c>redis.acl_check_cmd(cmd, ...)</c>: whether the caller's ACL user may run the command with those arguments (a known command), else the error <c>Invalid command passed to redis.acl_check_cmd()</c>.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Known(IntPtr L)
    {
        LuaEngine engine = EnterCallback();
        try
        {
            ScriptRun? run = ScriptRun.Current;
            int argc = GetTop(L);
            string? error = null;
            if (run == null) error = "redis.acl_check_cmd can only be called inside a script invocation";
            else if (argc == 0) error = "Please specify at least one argument for this redis lib call";
            else if (!CopyArguments(L, run, argc)) error = "Lua redis lib command arguments must be strings or integers";
            else if (!IsKnown(run, argc)) error = "Invalid command passed to redis.acl_check_cmd()";
            bool allowed = error == null && Allowed(run!, argc);
            SetTop(L, 0);
            if (error == null)
            {
                PushBoolean(L, allowed ? 1 : 0);
                return 1;
            }
            PushNil(L);
            PushBytes(L, Encoding.UTF8.GetBytes(error));
            return 2;
        }
        finally
        {
            LeaveCallback(engine, running: ScriptRun.Current != null);
        }
    }

    /// <summary>Redis's <c>luaRedisAclCheckCmdPermissionsCommand</c>: the caller's user may run the command with these arguments.</summary>
    private static bool Allowed(ScriptRun run, int argc)
    {
        CommandArgs args = run.Arguments(argc);
        Security.AclUser user = run.Caller.User;
        if (user.Rules.Unrestricted) return true;
        Execution.CommandInfo? command = run.Lookup(args);
        if (command == null || !command.AcceptsArgumentCount(args.Count)) return false;
        return Security.AccessControl.Check(user, command, args, out _) == Security.AclDenial.None;
    }

    private static bool IsKnown(ScriptRun run, int argc)
    {
        CommandArgs args = run.Arguments(argc);
        return run.Lookup(args) != null;
    }

    /// <summary><c>redis.sha1hex(s)</c>: the lower-case hex SHA1 of the string (of the empty string for a non-string).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sha1Hex(IntPtr L)
    {
        LuaEngine engine = EnterCallback();
        try
        {
            TryGetBytes(L, 1, out ReadOnlySpan<byte> s);
            Span<byte> hex = stackalloc byte[40];
            Sha1Hex(s, hex);
            SetTop(L, 0);
            PushBytes(L, hex);
            return 1;
        }
        finally
        {
            LeaveCallback(engine, running: ScriptRun.Current != null);
        }
    }

    /// <summary>Writes the lower-case hex SHA1 of <paramref name="data"/> (40 bytes) into <paramref name="hex"/>.</summary>
    public static void Sha1Hex(ReadOnlySpan<byte> data, Span<byte> hex)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(data, hash);
        for (int i = 0; i < 20; i++)
        {
            hex[2 * i] = (byte)"0123456789abcdef"[hash[i] >> 4];
            hex[2 * i + 1] = (byte)"0123456789abcdef"[hash[i] & 15];
        }
    }

    /// <summary><c>redis.log(level, message)</c> after the prelude's checks: to the server log at Redis's level (debug, verbose, notice, warning).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Log(IntPtr L)
    {
        LuaEngine engine = EnterCallback();
        try
        {
            int level = (int)ToIntegerX(L, 1, null);
            string message = StringAt(L, 2) ?? "";
            try
            {
                engine._logger?.Log(level switch { 0 or 1 => LogLevel.Debug, 2 => LogLevel.Information, _ => LogLevel.Warning }, "{Message}", message);
            }
            catch (Exception)
            {
                // A failing log sink must not unwind into Lua's C frames.
            }
            SetTop(L, 0);
            return 0;
        }
        finally
        {
            LeaveCallback(engine, running: ScriptRun.Current != null);
        }
    }

    /// <summary><c>redis.setresp(n)</c> (first argument 0) and <c>redis.set_repl(flags)</c> (first argument 1), after the prelude's checks.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetRunOption(IntPtr L)
    {
        ScriptRun? run = ScriptRun.Current;
        int value = (int)ToIntegerX(L, 2, null);
        if (run != null && ToIntegerX(L, 1, null) == 0) run.Resp = value;
        else if (run != null) run.Replication = value;
        SetTop(L, 0);
        return 0;
    }

    /// <summary>The next <c>lrand48</c> value (Redis's <c>redisLrand48</c>: a 48-bit LCG, a = 0x5DEECE66D, c = 0xB, top 31 bits).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Rand48(IntPtr L)
    {
        LuaEngine engine = t_engine!;
        engine._rand48 = (engine._rand48 * 0x5DEECE66DUL + 0xB) & 0xFFFF_FFFF_FFFFUL;
        PushInteger(L, (long)(engine._rand48 >> 17));
        return 1;
    }

    /// <summary><c>srand48(seed)</c> (Redis's <c>redisSrand48</c>): the state becomes <c>seed &lt;&lt; 16 | 0x330E</c>.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Srand48(IntPtr L)
    {
        LuaEngine engine = t_engine!;
        engine._rand48 = (((ulong)(uint)ToIntegerX(L, 1, null)) << 16 | 0x330E) & 0xFFFF_FFFF_FFFFUL;
        SetTop(L, 0);
        return 0;
    }

    /// <summary><c>math.frexp(x)</c> (Lua 5.1): <c>m, e</c> with <c>x = m·2^e</c>, <c>0.5 ≤ |m| &lt; 1</c>.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Frexp(IntPtr L)
    {
        double x = ToNumberX(L, 1, null);
        int e = 0;
        double m = x;
        if (x != 0 && double.IsFinite(x))
        {
            e = Math.ILogB(x) + 1;
            m = Math.ScaleB(x, -e);
        }
        SetTop(L, 0);
        PushNumber(L, m);
        PushInteger(L, e);
        return 2;
    }

    /// <summary>
    /// The count hook, every <see cref="HookInstructions"/> instructions of a script (Redis's <c>luaMaskCountHook</c>):
    /// past <c>busy-reply-threshold</c> the run is marked timed out (other clients get <c>-BUSY</c>) and a warning is
    /// logged once; once killed, the script's thread yields — where Lua allows it — and <see cref="Run"/> answers the
    /// kill. Where it may not yield (inside a metamethod or a C call such as <c>table.sort</c>'s comparator) the hook
    /// retries every instruction.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Hook(IntPtr L, IntPtr debug)
    {
        ScriptRun? run = ScriptRun.Current;
        LuaEngine? engine = t_engine;
        if (run == null || engine == null) return;
        if (!run.TimedOut)
        {
            long threshold = run.Caller.Server.Options.BusyReplyThreshold;
            long elapsed = run.ElapsedMs;
            if (threshold > 0 && elapsed >= threshold)
            {
                run.MarkTimedOut();
                engine._logger?.LogWarning("Slow script detected: still in execution after {Elapsed} milliseconds. You can try killing the script using the {Kill} command. Script name is: {Name}.",
                    elapsed, run.Kind == ScriptKind.Eval ? "SCRIPT KILL" : "FUNCTION KILL", run.Name);
            }
        }
        if (!run.Killed) return;
        if (IsYieldable(L) == 0)
        {
            SetHook(L, &Hook, MaskCount, 1);
            return;
        }
        engine._logger?.LogWarning("Lua script killed by user with SCRIPT KILL.");
        SetHook(L, &Hook, MaskCount, HookInstructions);
        YieldK(L, 0, 0, 0);
    }

    /// <summary>Closes the state.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _lua.Dispose();
        LuaHeap.Destroy(_heap);
    }
}
