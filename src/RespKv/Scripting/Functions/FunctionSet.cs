using System.Text;

namespace RespKv.Scripting.Functions;

/// <summary>
/// The loaded libraries and their functions at one instant (Redis 7.0's <c>functionsLibCtx</c>), immutable: the
/// registry publishes a new set for each change, so FCALL's lookup, <c>FUNCTION LIST</c>, <c>STATS</c>, <c>DUMP</c> and the AOF
/// rewrite read one without a lock. Libraries are found by exact name (as Redis's <c>librariesDictType</c>), functions
/// case-insensitively (<c>functionDictType</c>); both list in load order (Redis lists in its hash tables' order, which
/// is arbitrary).
/// </summary>
public sealed class FunctionSet
{
    private readonly Dictionary<string, FunctionLibrary> _libraries;
    private readonly Dictionary<string, FunctionInfo> _functions;
    private readonly Dictionary<string, FunctionInfo>.AlternateLookup<ReadOnlySpan<char>> _functionsByChars;

    /// <summary>No library.</summary>
    public static FunctionSet Empty { get; } = new(new Dictionary<string, FunctionLibrary>(StringComparer.Ordinal));

    private FunctionSet(Dictionary<string, FunctionLibrary> libraries)
    {
        _libraries = libraries;
        _functions = new Dictionary<string, FunctionInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (FunctionLibrary library in libraries.Values)
            foreach (FunctionInfo f in library.Functions) _functions.Add(f.Name, f);
        _functionsByChars = _functions.GetAlternateLookup<ReadOnlySpan<char>>();
        Codes = [.. libraries.Values.Select(l => l.Code)];
        foreach (FunctionLibrary library in libraries.Values)
        {
            OverheadBytes += EntryBytes + library.Name.Length + library.Code.Length;
            foreach (FunctionInfo f in library.Functions) OverheadBytes += EntryBytes + f.Name.Length + (f.Description?.Length ?? 0);
        }
    }

    /// <summary>Bytes counted per library and per function besides their strings (objects and dictionary entries).</summary>
    private const int EntryBytes = 96;

    /// <summary>
    /// Estimated bytes of the libraries outside the engine (INFO <c>used_memory_functions</c>, Redis's
    /// <c>functionsMemoryOverhead</c>): code, names and descriptions, plus <see cref="EntryBytes"/> per library and function.
    /// </summary>
    public long OverheadBytes { get; }

    /// <summary>The libraries, in load order.</summary>
    public IReadOnlyCollection<FunctionLibrary> Libraries => _libraries.Values;

    /// <summary>Number of functions of every library.</summary>
    public int FunctionCount => _functions.Count;

    /// <summary>Each library's whole code, in load order (<c>FUNCTION DUMP</c>, the AOF rewrite).</summary>
    public IReadOnlyList<byte[]> Codes { get; }

    /// <summary>The library named exactly <paramref name="name"/>, or null.</summary>
    public FunctionLibrary? Library(string name) => _libraries.GetValueOrDefault(name);

    /// <summary>The function named <paramref name="name"/> (ASCII case-insensitive), or null; allocation-free.</summary>
    public FunctionInfo? Function(ReadOnlySpan<byte> name)
    {
        // Valid names are ASCII: a non-ASCII name matches nothing. (A name over 256 bytes, rare, is converted on the heap.)
        if (!Ascii.IsValid(name)) return null;
        Span<char> chars = name.Length <= 256 ? stackalloc char[name.Length] : new char[name.Length];
        Encoding.ASCII.GetChars(name, chars);
        return _functionsByChars.TryGetValue(chars, out FunctionInfo? f) ? f : null;
    }

    /// <summary>The function named <paramref name="name"/> (case-insensitive), or null.</summary>
    public FunctionInfo? Function(string name) => _functions.GetValueOrDefault(name);

    /// <summary>A mutable copy to change and publish (<see cref="Builder.ToSet"/>).</summary>
    internal Builder ToBuilder() => new(this);

    /// <summary>
    /// A set being changed (under the registry's lock): libraries linked and unlinked as Redis's <c>libraryLink</c> and
    /// <c>libraryUnlink</c>, then published as a new <see cref="FunctionSet"/>.
    /// </summary>
    internal sealed class Builder
    {
        private readonly Dictionary<string, FunctionLibrary> _libraries;
        private readonly HashSet<string> _functionNames = new(StringComparer.OrdinalIgnoreCase);

        internal Builder(FunctionSet from)
        {
            _libraries = new Dictionary<string, FunctionLibrary>(from._libraries, StringComparer.Ordinal);
            foreach (string name in from._functions.Keys) _functionNames.Add(name);
        }

        /// <summary>The libraries, in load order.</summary>
        public IEnumerable<FunctionLibrary> Libraries => _libraries.Values;

        /// <summary>The library named exactly <paramref name="name"/>, or null.</summary>
        public FunctionLibrary? Library(string name) => _libraries.GetValueOrDefault(name);

        /// <summary>True when a linked library has a function named <paramref name="name"/> (case-insensitive).</summary>
        public bool HasFunction(string name) => _functionNames.Contains(name);

        /// <summary>Adds <paramref name="library"/> and its functions (whose names are not taken).</summary>
        public void Link(FunctionLibrary library)
        {
            _libraries.Add(library.Name, library);
            foreach (FunctionInfo f in library.Functions) _functionNames.Add(f.Name);
        }

        /// <summary>Removes <paramref name="library"/> and its functions.</summary>
        public void Unlink(FunctionLibrary library)
        {
            _libraries.Remove(library.Name);
            foreach (FunctionInfo f in library.Functions) _functionNames.Remove(f.Name);
        }

        /// <summary>Removes every library.</summary>
        public void Clear()
        {
            _libraries.Clear();
            _functionNames.Clear();
        }

        /// <summary>The set as it now is.</summary>
        public FunctionSet ToSet() => new(new Dictionary<string, FunctionLibrary>(_libraries, StringComparer.Ordinal));
    }
}
