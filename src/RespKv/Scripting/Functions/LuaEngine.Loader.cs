using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static RespKv.Scripting.LuaNative;

namespace RespKv.Scripting;

/// <summary>The function engine's use of a <see cref="LuaEngine"/>: running a library's code at FUNCTION LOAD.</summary>
public sealed unsafe partial class LuaEngine
{
    /// <summary>Stopwatch timestamp after which the loader's count hook stops the library code (0: no limit).</summary>
    [ThreadStatic] private static long t_loadDeadline;

    /// <summary>
    /// Runs the compiled chunk <paramref name="functionRef"/> with no arguments and outside any script run — a library's
    /// code registering its functions at FUNCTION LOAD (Redis 7.0's <c>luaEngineCreate</c>) — and stops it once
    /// <paramref name="timeoutMs"/> have passed (0: no limit), checking every <see cref="HookInstructions"/> instructions as
    /// Redis's <c>luaEngineLoadHook</c>. Returns null, or Redis's text of the error (<c>luaExtractErrorInformation</c>):
    /// <c>ERR &lt;message&gt;</c> for a string error (<c>ERR user_function:2: …</c>), the <c>err</c> field of an error table,
    /// <c>ERR FUNCTION LOAD timeout</c>. Call holding <see cref="ScriptingState.ExecutionLock"/>.
    /// </summary>
    public string? RunLoader(int functionRef, int timeoutMs)
    {
        LuaEngine? previous = t_engine;
        t_engine = this;
        IntPtr co = _thread;
        try
        {
            t_loadDeadline = timeoutMs > 0 ? Stopwatch.GetTimestamp() + timeoutMs * Stopwatch.Frequency / 1000 : 0;
            SetHook(co, &LoadHook, MaskCount, HookInstructions);
            SetTop(co, 0);
            RawGetI(co, RegistryIndex, functionRef);
            int results;
            int status = Resume(co, _L, 0, &results);
            string? error = null;
            if (status == StatusYield) error = "ERR FUNCTION LOAD timeout";
            else if (status != StatusOk) error = LoaderError(co);
            if (status != StatusOk) CloseThread(co, _L);
            SetTop(co, 0);
            return error;
        }
        finally
        {
            SetHook(co, &Hook, MaskCount, HookInstructions);
            t_loadDeadline = 0;
            t_engine = previous;
        }
    }

    /// <summary>The error on top of <paramref name="co"/> as Redis's <c>luaExtractErrorInformation</c> reads it for FUNCTION LOAD.</summary>
    private static string LoaderError(IntPtr co)
    {
        int type = Type(co, -1);
        if (type is TypeString or TypeNumber) return "ERR " + (StringAt(co, -1) ?? "");
        if (type == TypeTable)
        {
            PushBytes(co, "err"u8);
            RawGet(co, -2);
            string? message = Type(co, -1) == TypeString ? StringAt(co, -1) : null;
            Pop(co, 1);
            // Redis formats a missing message with %s of NULL.
            return message ?? "(null)";
        }
        return "ERR execution failure";
    }

    /// <summary>The loader's count hook: past the deadline the library code yields (where Lua allows it; else it retries every instruction).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void LoadHook(IntPtr L, IntPtr debug)
    {
        long deadline = t_loadDeadline;
        if (deadline == 0 || Stopwatch.GetTimestamp() <= deadline) return;
        if (IsYieldable(L) == 0)
        {
            SetHook(L, &LoadHook, MaskCount, 1);
            return;
        }
        SetHook(L, &LoadHook, MaskCount, HookInstructions);
        YieldK(L, 0, 0, 0);
    }
}
