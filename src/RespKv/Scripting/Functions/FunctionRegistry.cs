namespace RespKv.Scripting.Functions;

/// <summary>
/// An engine that runs libraries (Redis 7.0's <c>engine</c> callbacks, <c>functions.h</c>): <c>LUA</c> is the only one.
/// Called under the registry's lock.
/// </summary>
public interface IFunctionEngine
{
    /// <summary>The engine's name as Redis spells it in <c>FUNCTION LIST</c> and <c>STATS</c> (<c>LUA</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Compiles and runs <paramref name="body"/> (the code after the shebang line, from its newline) so that it registers
    /// its functions into <paramref name="library"/> (<see cref="FunctionLibrary.Add"/>). Returns null, or the error
    /// (without <c>ERR </c>): <c>Error compiling function: …</c>, <c>Error registering functions: …</c>.
    /// <paramref name="timeoutMs"/> stops code that runs longer (<c>FUNCTION LOAD timeout</c>); 0 = no limit (AOF replay, RESTORE).
    /// </summary>
    string? Create(FunctionLibrary library, ReadOnlySpan<byte> body, int timeoutMs);

    /// <summary>Releases what the engine holds for <paramref name="library"/>'s functions (a library dropped, replaced or never linked).</summary>
    void Free(FunctionLibrary library);

    /// <summary>Bytes the engine's state holds (0 before it is created).</summary>
    long MemoryBytes { get; }
}

/// <summary>What <c>FUNCTION RESTORE</c> does with the libraries already loaded.</summary>
public enum RestorePolicy
{
    /// <summary><c>APPEND</c> (the default): add the payload's libraries; any name collision fails the restore.</summary>
    Append,

    /// <summary><c>REPLACE</c>: add them, replacing libraries of the same name (a function name collision still fails).</summary>
    Replace,

    /// <summary><c>FLUSH</c>: delete every library first.</summary>
    Flush,
}

/// <summary>
/// The server-wide function libraries (Redis 7.0's <c>functions.c</c>; functions are not per database): loading,
/// replacing, deleting, flushing and restoring libraries, each change atomic — a failure changes nothing — and published
/// as a new immutable <see cref="FunctionSet"/> (<see cref="Current"/>). Every change runs under <see cref="Sync"/>, the
/// lock of the functions' engine state, which FCALL also holds while a function runs. Lock order: a change runs inside
/// its command's shard locks (FUNCTION LOAD is a write), then takes <see cref="Sync"/> — as a script run does.
/// </summary>
public sealed class FunctionRegistry
{
    /// <summary>Redis's <c>LOAD_TIMEOUT_MS</c>: the longest a library's code may run while FUNCTION LOAD registers its functions.</summary>
    public const int LoadTimeoutMs = 500;

    private readonly IFunctionEngine _engine;
    private FunctionSet _current = FunctionSet.Empty;

    /// <summary>
    /// A registry of libraries run by <paramref name="engine"/>, changed under <paramref name="sync"/> (the server's
    /// <see cref="ScriptingState.ExecutionLock"/>: a change runs library code in the engine's state, which FCALL uses
    /// under that lock).
    /// </summary>
    public FunctionRegistry(IFunctionEngine engine, object sync)
    {
        _engine = engine;
        Sync = sync;
    }

    /// <summary>The lock every change (and the engine's use of its state) runs under.</summary>
    public object Sync { get; }

    /// <summary>The libraries now (read without a lock).</summary>
    public FunctionSet Current => Volatile.Read(ref _current);

    /// <summary>Bytes of the engine's state (INFO <c>used_memory_vm_functions</c>).</summary>
    public long MemoryBytes => _engine.MemoryBytes;

    /// <summary>The engines by name (one: <c>LUA</c>).</summary>
    public IFunctionEngine Engine => _engine;

    /// <summary>
    /// <c>FUNCTION LOAD [REPLACE] code</c> (<c>functionsCreateWithLibraryCtx</c>): on success returns null and the library's
    /// <paramref name="name"/>; else Redis's error (without <c>ERR </c>) — the shebang's (<see cref="LibraryMetadata.TryParse"/>),
    /// <see cref="LibraryMetadata.InvalidName"/>, <c>Engine 'x' not found</c>, <c>Library 'x' already exists</c>, the engine's,
    /// <c>No functions registered</c>, <c>Function x already exists</c>.
    /// </summary>
    public string? Load(byte[] code, bool replace, int timeoutMs, out string? name)
    {
        lock (Sync)
        {
            FunctionSet.Builder set = Current.ToBuilder();
            string? error = Create(set, code, replace, timeoutMs, out name, out FunctionLibrary? replaced);
            if (error != null) return error;
            Publish(set);
            if (replaced != null) _engine.Free(replaced);
            return null;
        }
    }

    /// <summary><c>FUNCTION DELETE name</c>: false when no library has exactly that name (<c>Library not found</c>).</summary>
    public bool Delete(string name)
    {
        lock (Sync)
        {
            FunctionSet.Builder set = Current.ToBuilder();
            if (set.Library(name) is not { } library) return false;
            set.Unlink(library);
            Publish(set);
            _engine.Free(library);
            return true;
        }
    }

    /// <summary><c>FUNCTION FLUSH</c>: deletes every library.</summary>
    public void Flush()
    {
        lock (Sync)
        {
            FunctionSet old = Current;
            Volatile.Write(ref _current, FunctionSet.Empty);
            foreach (FunctionLibrary library in old.Libraries) _engine.Free(library);
        }
    }

    /// <summary>
    /// <c>FUNCTION RESTORE payload [policy]</c> (<c>functionRestoreCommand</c>): null on success, else Redis's error (without
    /// <c>ERR </c>): <see cref="FunctionPayload.VersionOrChecksumWrong"/>, the payload's (<see cref="FunctionPayload.Read"/>), a
    /// library's as <see cref="Load"/> gives it (two libraries of one name in the payload: <c>Library 'x' already exists</c>),
    /// then <c>Library x already exists</c> (no quotes, under APPEND) or <c>Function x already exists</c>. Nothing changes on error.
    /// The CRC64 is not checked when <paramref name="skipChecksum"/> (DEBUG SET-SKIP-CHECKSUM-VALIDATION 1).
    /// </summary>
    public string? Restore(ReadOnlySpan<byte> payload, RestorePolicy policy, bool skipChecksum = false)
    {
        if (!FunctionPayload.Verify(payload, skipChecksum)) return FunctionPayload.VersionOrChecksumWrong;
        var codes = new List<byte[]>();
        if (FunctionPayload.Read(payload, codes) is { } readError) return readError;
        lock (Sync)
        {
            FunctionSet.Builder restored = FunctionSet.Empty.ToBuilder();
            foreach (byte[] code in codes)
            {
                if (Create(restored, code, replace: false, timeoutMs: 0, out _, out _) is { } error)
                {
                    FreeAll(restored.Libraries);
                    return error;
                }
            }
            FunctionSet old = Current;
            if (policy == RestorePolicy.Flush)
            {
                Publish(restored);
                FreeAll(old.Libraries);
                return null;
            }
            // libraryJoin: every collision is found before anything is linked.
            FunctionSet.Builder set = old.ToBuilder();
            var replaced = new List<FunctionLibrary>();
            string? joinError = null;
            foreach (FunctionLibrary library in restored.Libraries)
            {
                if (set.Library(library.Name) is not { } existing) continue;
                if (policy != RestorePolicy.Replace)
                {
                    joinError = $"Library {library.Name} already exists";
                    break;
                }
                set.Unlink(existing);
                replaced.Add(existing);
            }
            if (joinError == null)
                foreach (FunctionLibrary library in restored.Libraries)
                foreach (FunctionInfo f in library.Functions)
                    if (joinError == null && set.HasFunction(f.Name)) joinError = $"Function {f.Name} already exists";
            if (joinError != null)
            {
                FreeAll(restored.Libraries);
                return joinError;
            }
            foreach (FunctionLibrary library in restored.Libraries) set.Link(library);
            Publish(set);
            FreeAll(replaced);
            return null;
        }
    }

    /// <summary><c>FUNCTION DUMP</c>: the payload of every library (<see cref="FunctionPayload.Write"/>).</summary>
    public byte[] Dump() => FunctionPayload.Write(Current.Codes);

    private void Publish(FunctionSet.Builder set) => Volatile.Write(ref _current, set.ToSet());

    private void FreeAll(IEnumerable<FunctionLibrary> libraries)
    {
        foreach (FunctionLibrary library in libraries.ToList()) _engine.Free(library);
    }

    /// <summary>
    /// Redis's <c>functionsCreateWithLibraryCtx</c> on <paramref name="set"/>: parses, compiles and links the library;
    /// the library it replaced (to free once the change is published) comes back in <paramref name="replaced"/>.
    /// On error <paramref name="set"/> is as before and the new library's functions are freed.
    /// </summary>
    private string? Create(FunctionSet.Builder set, byte[] code, bool replace, int timeoutMs, out string? name, out FunctionLibrary? replaced)
    {
        name = null;
        replaced = null;
        if (LibraryMetadata.TryParse(code, out LibraryMetadata md) is { } metadataError) return metadataError;
        if (!LibraryMetadata.IsValidName(md.Name)) return LibraryMetadata.InvalidName;
        if (!string.Equals(md.Engine, _engine.Name, StringComparison.OrdinalIgnoreCase)) return $"Engine '{md.Engine}' not found";
        FunctionLibrary? old = set.Library(md.Name);
        if (old != null && !replace) return $"Library '{md.Name}' already exists";
        if (old != null) set.Unlink(old);
        var library = new FunctionLibrary(md.Name, _engine.Name, code);
        string? error = _engine.Create(library, code.AsSpan(md.BodyOffset), timeoutMs);
        if (error == null && library.Functions.Count == 0) error = "No functions registered";
        if (error == null)
            foreach (FunctionInfo f in library.Functions)
                if (set.HasFunction(f.Name))
                {
                    error = $"Function {f.Name} already exists";
                    break;
                }
        if (error != null)
        {
            _engine.Free(library);
            if (old != null) set.Link(old);
            return error;
        }
        set.Link(library);
        name = md.Name;
        replaced = old;
        return null;
    }
}
