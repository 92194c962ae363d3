using System.Text;
using RespKv.Scripting;
using RespKv.Scripting.Functions;

namespace RespKv.Tests.Scripting;

/// <summary>
/// The library registry's rules without Lua (a line engine: each body line <c>f NAME</c> registers a function,
/// <c>boom</c> fails the load): load, replace, name and function collisions, atomic failure, delete, flush, and
/// FUNCTION RESTORE's three policies — each with Redis 7.0.15's error text — and that the engine frees exactly the
/// libraries dropped.
/// </summary>
public sealed class FunctionRegistryTests
{
    /// <summary>A test engine: registers <c>f NAME</c> lines; <c>boom</c> fails as a Lua error would.</summary>
    private sealed class LineEngine : IFunctionEngine
    {
        public List<string> Freed { get; } = [];

        public string Name => "LUA";

        public long MemoryBytes => 0;

        public string? Create(FunctionLibrary library, ReadOnlySpan<byte> body, int timeoutMs)
        {
            foreach (string line in Encoding.ASCII.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line == "boom") return "Error registering functions: boom";
                if (library.Add(new FunctionInfo(line[2..], null, ScriptFlags.None, 0)) is { } error) return "Error registering functions: ERR " + error;
            }
            return null;
        }

        public void Free(FunctionLibrary library) => Freed.Add(library.Name + ":" + string.Join(",", library.Functions.Select(f => f.Name)));
    }

    private static byte[] Lib(string name, params string[] functions) =>
        Encoding.ASCII.GetBytes($"#!lua name={name}\n" + string.Join("\n", functions.Select(f => "f " + f)));

    private static string? Load(FunctionRegistry r, byte[] code, bool replace = false) => r.Load(code, replace, 0, out _);

    [Fact]
    public void LoadReplaceAndCollisions()
    {
        var engine = new LineEngine();
        var r = new FunctionRegistry(engine, new object());
        Assert.Null(r.Load(Lib("a", "f1", "f2"), false, 0, out string? name));
        Assert.Equal("a", name);
        Assert.Equal("Library 'a' already exists", Load(r, Lib("a", "g")));
        Assert.Equal("Function F1 already exists", Load(r, Lib("b", "F1"))); // the new function's spelling, as Redis
        Assert.Equal("No functions registered", Load(r, Lib("b")));
        Assert.Equal("Engine 'js' not found", Load(r, Encoding.ASCII.GetBytes("#!js name=b\nf x")));
        Assert.Equal(LibraryMetadata.InvalidName, Load(r, Encoding.ASCII.GetBytes("#!lua name=b-c\nf x")));
        Assert.Equal("Error registering functions: ERR Function already exists in the library", Load(r, Lib("b", "x", "X")));
        Assert.Equal("Error registering functions: boom", Load(r, Encoding.ASCII.GetBytes("#!lua name=b\nf x\nboom")));
        // Every failed load freed what it had registered, and changed nothing.
        Assert.Equal(["b:F1", "b:", "b:x", "b:x"], engine.Freed.Where(f => f.StartsWith("b:")).ToList());
        Assert.Equal(["a"], r.Current.Libraries.Select(l => l.Name));
        Assert.Equal(2, r.Current.FunctionCount);

        // REPLACE may keep or rename the library's own functions; the old library is freed after the switch.
        engine.Freed.Clear();
        Assert.Null(Load(r, Lib("a", "f2", "f3"), replace: true));
        Assert.Equal(["a:f1,f2"], engine.Freed);
        Assert.Null(r.Current.Function("f1"u8));
        Assert.Equal("a", r.Current.Function("F3"u8)!.Library.Name);
        // Names have no length limit.
        string longName = new('n', 300);
        Assert.Null(Load(r, Lib("long", longName)));
        Assert.Equal(longName, r.Current.Function(System.Text.Encoding.ASCII.GetBytes(longName.ToUpperInvariant()))!.Name);
        // A failed REPLACE keeps the old library.
        Assert.Null(Load(r, Lib("other", "o1")));
        Assert.Equal("Function o1 already exists", Load(r, Lib("a", "o1"), replace: true));
        Assert.Equal(["f2", "f3"], r.Current.Library("a")!.Functions.Select(f => f.Name));
        Assert.NotNull(r.Current.Function("f2"u8));
    }

    [Fact]
    public void DeleteAndFlush()
    {
        var engine = new LineEngine();
        var r = new FunctionRegistry(engine, new object());
        Assert.Null(Load(r, Lib("a", "f1")));
        Assert.Null(Load(r, Lib("b", "f2")));
        Assert.False(r.Delete("A")); // library names are exact
        Assert.True(r.Delete("a"));
        Assert.Null(r.Current.Function("f1"u8));
        Assert.Equal(["a:f1"], engine.Freed);
        r.Flush();
        Assert.Empty(r.Current.Libraries);
        Assert.Equal(0, r.Current.FunctionCount);
        Assert.Equal(["a:f1", "b:f2"], engine.Freed);
        Assert.Empty(r.Current.Codes);
    }

    [Fact]
    public void RestorePolicies()
    {
        var engine = new LineEngine();
        var source = new FunctionRegistry(engine, new object());
        Assert.Null(Load(source, Lib("a", "fa")));
        Assert.Null(Load(source, Lib("b", "fb")));
        byte[] payload = source.Dump();

        var r = new FunctionRegistry(engine, new object());
        Assert.Null(r.Restore(payload, RestorePolicy.Append));
        Assert.Equal(["a", "b"], r.Current.Libraries.Select(l => l.Name).Order());
        Assert.Equal("Library a already exists", r.Restore(payload, RestorePolicy.Append));
        Assert.Null(r.Restore(payload, RestorePolicy.Replace));
        Assert.Equal(2, r.Current.Libraries.Count);

        // REPLACE still fails on a function another library holds; nothing changes.
        Assert.True(r.Delete("a"));
        Assert.Null(Load(r, Lib("c", "fa")));
        Assert.Equal("Function fa already exists", r.Restore(payload, RestorePolicy.Replace));
        Assert.Equal(["b", "c"], r.Current.Libraries.Select(l => l.Name).Order());
        // FLUSH drops everything first.
        Assert.Null(r.Restore(payload, RestorePolicy.Flush));
        Assert.Equal(["a", "b"], r.Current.Libraries.Select(l => l.Name).Order());

        // A payload naming one library twice, a bad checksum, a non-function type.
        byte[] twice = FunctionPayload.Write([Lib("x", "x1"), Lib("x", "x2")]);
        Assert.Equal("Library 'x' already exists", r.Restore(twice, RestorePolicy.Append));
        payload[^1] ^= 1;
        Assert.Equal(FunctionPayload.VersionOrChecksumWrong, r.Restore(payload, RestorePolicy.Flush));
        Assert.Equal(["a", "b"], r.Current.Libraries.Select(l => l.Name).Order());
    }
}
