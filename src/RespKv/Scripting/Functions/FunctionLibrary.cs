namespace RespKv.Scripting.Functions;

/// <summary>
/// One function of a library (Redis 7.0's <c>functionInfo</c>): its name (letters, digits and <c>_</c>), its optional
/// description, its flags (<c>no-writes</c>, <c>allow-oom</c>, <c>allow-stale</c>, <c>no-cluster</c>,
/// <c>allow-cross-slot-keys</c>, as a shebang script's), and the engine's handle of its compiled callback.
/// </summary>
/// <param name="Name">The name FCALL calls it by (looked up case-insensitively, as Redis's function dictionary).</param>
/// <param name="Description">The <c>description</c> given to <c>redis.register_function</c>, or null.</param>
/// <param name="Flags">The flags given to <c>redis.register_function</c>.</param>
/// <param name="Callback">The engine's reference to the callback (a Lua registry reference in the functions' Lua state).</param>
public sealed record FunctionInfo(string Name, byte[]? Description, ScriptFlags Flags, int Callback)
{
    /// <summary>The library that registered it (set when the library is created).</summary>
    public FunctionLibrary Library { get; internal set; } = null!;
}

/// <summary>
/// A loaded library (Redis 7.0's <c>functionLibInfo</c>): its name from the shebang, its engine (<c>LUA</c>), its whole
/// code as given to <c>FUNCTION LOAD</c> (shebang included: what <c>FUNCTION LIST WITHCODE</c>, <c>FUNCTION DUMP</c> and the AOF
/// rewrite give back), and the functions its code registered, in registration order. Immutable once linked.
/// </summary>
public sealed class FunctionLibrary
{
    private readonly List<FunctionInfo> _functions = [];

    /// <summary>A library named <paramref name="name"/> of <paramref name="engine"/> with <paramref name="code"/>, without functions yet.</summary>
    public FunctionLibrary(string name, string engine, byte[] code)
    {
        Name = name;
        Engine = engine;
        Code = code;
        NeedsEveryDatabase = ScriptingState.NamesOtherDatabases(code);
    }

    /// <summary>
    /// True when the code names a command reaching other databases (<see cref="ScriptingState.NamesOtherDatabases"/>): its
    /// functions then run holding every database, as such an EVAL script does.
    /// </summary>
    public bool NeedsEveryDatabase { get; }

    /// <summary>The library's name.</summary>
    public string Name { get; }

    /// <summary>The engine's name as Redis spells it (<c>LUA</c>).</summary>
    public string Engine { get; }

    /// <summary>The whole code, shebang included.</summary>
    public byte[] Code { get; }

    /// <summary>The functions, in registration order.</summary>
    public IReadOnlyList<FunctionInfo> Functions => _functions;

    /// <summary>
    /// Adds a function while the library's code runs (<c>functionLibCreateFunction</c>); returns null or Redis's error:
    /// <see cref="LibraryMetadata.InvalidName"/>, or <c>Function already exists in the library</c> — compared
    /// case-insensitively, since FCALL finds functions so (redis-server 7.0.15 compares case-sensitively here and then
    /// asserts when such a library is deleted).
    /// </summary>
    internal string? Add(FunctionInfo function)
    {
        if (!LibraryMetadata.IsValidName(function.Name)) return LibraryMetadata.InvalidName;
        foreach (FunctionInfo f in _functions)
            if (string.Equals(f.Name, function.Name, StringComparison.OrdinalIgnoreCase)) return "Function already exists in the library";
        function.Library = this;
        _functions.Add(function);
        return null;
    }
}
