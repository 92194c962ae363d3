using System.Text;
using RespKv.Protocol;

namespace RespKv.Scripting.Functions;

/// <summary>
/// A library's shebang line, <c>#!&lt;engine&gt; name=&lt;library&gt;</c> (Redis 7.0 <c>functions.c</c>
/// <c>functionExtractLibMetaData</c>): the first line of the code, split as <c>sdssplitargs</c> does; the first word after
/// <c>#!</c> is the engine, the only option is <c>name=</c> (case-insensitive). <see cref="BodyOffset"/> is where the
/// code the engine compiles starts — at the shebang's newline, so line numbers in errors count from the shebang.
/// </summary>
/// <param name="Engine">The engine's name as written (looked up case-insensitively: <c>LUA</c>).</param>
/// <param name="Name">The library's name (not yet validated: <see cref="IsValidName"/>).</param>
/// <param name="BodyOffset">Offset of the shebang line's <c>\n</c> in the code.</param>
public readonly record struct LibraryMetadata(string Engine, string Name, int BodyOffset)
{
    /// <summary>
    /// The error text for a library or function name that is not <c>[A-Za-z0-9_]+</c> — Redis 7.0.15 says "Library names"
    /// for both (<c>functionsVerifyName</c>, <c>functionLibCreateFunction</c>).
    /// </summary>
    public const string InvalidName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

    /// <summary>
    /// Parses the metadata of <paramref name="code"/>. Returns null, or Redis's error (without <c>ERR </c>):
    /// <c>Missing library metadata</c> (no <c>#!</c>), <c>Invalid library metadata</c> (no newline, unbalanced quotes),
    /// <c>Invalid metadata value given: x</c>, <c>Invalid metadata value, name argument was given multiple times</c>,
    /// <c>Library name was not given</c>. The code is read as a C string (up to a NUL byte), as Redis reads it.
    /// </summary>
    public static string? TryParse(ReadOnlySpan<byte> code, out LibraryMetadata metadata)
    {
        metadata = default;
        int nul = code.IndexOf((byte)0);
        ReadOnlySpan<byte> text = nul >= 0 ? code[..nul] : code;
        if (!text.StartsWith("#!"u8)) return "Missing library metadata";
        int newline = text.IndexOf((byte)'\n');
        if (newline < 0) return "Invalid library metadata";
        List<string>? parts = SdsText.SplitArgs(Encoding.Latin1.GetString(text[..newline]));
        if (parts == null || parts.Count == 0) return "Invalid library metadata";
        string engine = parts[0].Length >= 2 ? parts[0][2..] : "";
        string? name = null;
        for (int i = 1; i < parts.Count; i++)
        {
            string part = parts[i];
            if (part.StartsWith("name=", StringComparison.OrdinalIgnoreCase))
            {
                if (name != null) return "Invalid metadata value, name argument was given multiple times";
                name = part[5..];
                continue;
            }
            return "Invalid metadata value given: " + part;
        }
        if (name == null) return "Library name was not given";
        metadata = new LibraryMetadata(engine, name, newline);
        return null;
    }

    /// <summary>True for a valid library or function name: one or more of <c>a-z A-Z 0-9 _</c> (Redis's <c>functionsVerifyName</c>).</summary>
    public static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty) return false;
        foreach (char c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        return true;
    }
}
