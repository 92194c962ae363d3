using System.Text;

namespace RespKv.Scripting;

/// <summary>
/// Script and function flags (Redis 7.0's <c>scripts_flags_def</c>, https://redis.io/docs/manual/programmability/lua-api/):
/// declared by an EVAL script's shebang (<c>#!lua flags=no-writes,allow-oom</c>) or a function's <c>flags</c> field.
/// </summary>
[Flags]
public enum ScriptFlags
{
    /// <summary>No flag: a script with a shebang and no flags may write, is refused under OOM and on <c>*_RO</c> commands.</summary>
    None = 0,
    /// <summary><c>no-writes</c>: the script only reads; a write command inside it answers <c>Write commands are not allowed from read-only scripts.</c></summary>
    NoWrites = 1 << 0,
    /// <summary><c>allow-oom</c>: runs (and writes) while used memory is over <c>maxmemory</c>.</summary>
    AllowOom = 1 << 1,
    /// <summary><c>allow-stale</c>: runs on a stale replica (RespKv has no replication: accepted, no effect).</summary>
    AllowStale = 1 << 2,
    /// <summary><c>no-cluster</c>: refused in cluster mode (RespKv is standalone: accepted, no effect).</summary>
    NoCluster = 1 << 3,
    /// <summary><c>allow-cross-slot-keys</c>: may touch keys of several slots (always true in a standalone server).</summary>
    AllowCrossSlotKeys = 1 << 4,
    /// <summary>An EVAL script without a shebang (Redis's <c>SCRIPT_FLAG_EVAL_COMPAT_MODE</c>): the pre-7.0 rules — it may
    /// write, a write under OOM fails only when it is the script's first, <c>*_RO</c> refuses its writes one by one.</summary>
    EvalCompatMode = 1 << 5,
}

/// <summary>Parses script flags: the names (shared with FUNCTION's <c>flags</c>) and an EVAL script's shebang line.</summary>
public static class ScriptFlagParser
{
    /// <summary>Every declarable flag with its name, in Redis 7.0's order (the order FUNCTION LIST prints them).</summary>
    public static readonly (ScriptFlags Flag, string Name)[] Names =
    [
        (ScriptFlags.NoWrites, "no-writes"), (ScriptFlags.AllowOom, "allow-oom"), (ScriptFlags.AllowStale, "allow-stale"),
        (ScriptFlags.NoCluster, "no-cluster"), (ScriptFlags.AllowCrossSlotKeys, "allow-cross-slot-keys"),
    ];

    /// <summary>The flag named <paramref name="name"/> (exact, case-sensitive, as Redis's <c>strcmp</c>); false for an unknown name.</summary>
    public static bool TryParseName(ReadOnlySpan<byte> name, out ScriptFlags flag)
    {
        foreach ((ScriptFlags f, string n) in Names)
        {
            if (name.Length != n.Length) continue;
            bool same = true;
            for (int i = 0; i < n.Length && same; i++) same = name[i] == n[i];
            if (!same) continue;
            flag = f;
            return true;
        }
        flag = ScriptFlags.None;
        return false;
    }

    /// <summary>
    /// Reads the shebang of an EVAL script as Redis 7.0's <c>evalExtractShebangFlags</c>: no <c>#!</c> at the start →
    /// <see cref="ScriptFlags.EvalCompatMode"/> and length 0; else the first line must be <c>#!lua</c> followed by
    /// <c>flags=a,b</c> options. <paramref name="shebangLength"/> is the line's length without its <c>\n</c> (the body
    /// compiled starts at the <c>\n</c>, so line numbers stay the user's). Errors (without <c>ERR </c>):
    /// <c>Invalid script shebang</c> (no newline), <c>Unexpected engine in script shebang: #!x</c>,
    /// <c>Unknown lua shebang option: x</c>, <c>Unexpected flag in script shebang: x</c>.
    /// </summary>
    public static bool TryParseShebang(ReadOnlySpan<byte> body, out ScriptFlags flags, out int shebangLength, out string? error)
    {
        flags = ScriptFlags.EvalCompatMode;
        shebangLength = 0;
        error = null;
        if (body.Length < 2 || body[0] != '#' || body[1] != '!') return true;
        int end = body.IndexOf((byte)'\n');
        if (end < 0)
        {
            error = "Invalid script shebang";
            return false;
        }
        shebangLength = end;
        string[] parts = Encoding.Latin1.GetString(body[..end]).Split([' ', '\t', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            error = "Invalid engine in script shebang";
            return false;
        }
        if (parts[0] != "#!lua")
        {
            error = "Unexpected engine in script shebang: " + parts[0];
            return false;
        }
        flags = ScriptFlags.None;
        for (int i = 1; i < parts.Length; i++)
        {
            if (!parts[i].StartsWith("flags=", StringComparison.Ordinal))
            {
                error = "Unknown lua shebang option: " + parts[i];
                return false;
            }
            string list = parts[i]["flags=".Length..];
            if (list.Length == 0) continue;
            foreach (string name in list.Split(','))
            {
                if (!TryParseName(Encoding.Latin1.GetBytes(name), out ScriptFlags flag))
                {
                    error = "Unexpected flag in script shebang: " + name;
                    return false;
                }
                flags |= flag;
            }
        }
        return true;
    }
}
