using System.Text.Json;

namespace RespKv.Execution;

/// <summary>
/// Redis 7.0's metadata for one command or subcommand, as redis-server 7.0.15's COMMAND INFO and COMMAND DOCS
/// report it (https://redis.io/commands/command-info/, https://redis.io/commands/command-docs/). RespKv ships
/// it for every Redis command in the embedded resource <c>CommandMetadata.jsonl</c> (JSON lines), which
/// <c>conformance/tools/gen_command_metadata.py</c> generates from a running redis-server; the command table
/// attaches each row's entry by full name (<c>config|get</c>).
/// </summary>
public sealed class CommandMetadata
{
    /// <summary>Full name: <c>get</c>, or <c>config|get</c> for a subcommand.</summary>
    public required string Name { get; init; }

    /// <summary>Arity as COMMAND INFO reports it (negative: minimum argument count, the name included).</summary>
    public required int Arity { get; init; }

    /// <summary>Command flag names in Redis's order (<c>write</c>, <c>denyoom</c>…).</summary>
    public required string[] Flags { get; init; }

    /// <summary>Legacy first key index (0 = none).</summary>
    public required int FirstKey { get; init; }

    /// <summary>Legacy last key index (negative: from the end).</summary>
    public required int LastKey { get; init; }

    /// <summary>Legacy key step.</summary>
    public required int Step { get; init; }

    /// <summary>ACL categories as COMMAND INFO prints them (<c>@write</c>, <c>@string</c>…), in Redis's order.</summary>
    public required string[] AclCategories { get; init; }

    /// <summary>Command tips (<c>nondeterministic_output</c>, <c>request_policy:all_shards</c>…), in Redis's order.</summary>
    public required string[] Tips { get; init; }

    /// <summary>Key specs, in Redis's order (a docs argument's <c>key_spec_index</c> indexes this).</summary>
    public required KeySpec[] KeySpecs { get; init; }

    /// <summary>The COMMAND DOCS document (without subcommands, which the command table attaches), parsed on first use.</summary>
    public CommandDocs Docs => _docs.Value;

    private readonly Lazy<CommandDocs> _docs = null!;

    /// <summary>Where <see cref="Docs"/> comes from: called once, on first use.</summary>
    public required Func<CommandDocs> DocsSource { init => _docs = new Lazy<CommandDocs>(value); }

    /// <summary>The metadata shipped with RespKv, read once from the embedded resource on first use.</summary>
    public static CommandMetadataSet Shipped => LazyShipped.Value;

    private static readonly Lazy<CommandMetadataSet> LazyShipped = new(() =>
    {
        using Stream stream = typeof(CommandMetadata).Assembly.GetManifestResourceStream("RespKv.Execution.CommandMetadata.jsonl")
            ?? throw new InvalidOperationException("The embedded resource RespKv.Execution.CommandMetadata.jsonl is missing.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return CommandMetadataSet.Parse(bytes);
    });
}

/// <summary>A COMMAND DOCS document; a null member is one Redis does not send for the command.</summary>
public sealed class CommandDocs
{
    /// <summary><c>summary</c>: one-line description.</summary>
    public string? Summary { get; init; }
    /// <summary><c>since</c>: the Redis version that added the command (<c>1.0.0</c>).</summary>
    public string? Since { get; init; }
    /// <summary><c>group</c>: <c>string</c>, <c>generic</c>, <c>server</c>….</summary>
    public string? Group { get; init; }
    /// <summary><c>complexity</c>: time complexity, as prose.</summary>
    public string? Complexity { get; init; }
    /// <summary><c>doc_flags</c>: <c>deprecated</c>, <c>syscmd</c>.</summary>
    public string[]? DocFlags { get; init; }
    /// <summary><c>deprecated_since</c>: the version that deprecated the command.</summary>
    public string? DeprecatedSince { get; init; }
    /// <summary><c>replaced_by</c>: what replaces a deprecated command, as prose.</summary>
    public string? ReplacedBy { get; init; }
    /// <summary><c>history</c>: (version, change) pairs, oldest first.</summary>
    public (string Version, string Description)[]? History { get; init; }
    /// <summary><c>arguments</c>: the command's arguments (after the name), nested for blocks and one-ofs.</summary>
    public CommandArgument[]? Arguments { get; init; }
}

/// <summary>One argument of a COMMAND DOCS document; a null member is one Redis does not send for it.</summary>
public sealed class CommandArgument
{
    /// <summary><c>name</c>.</summary>
    public required string Name { get; init; }
    /// <summary><c>type</c>: <c>string</c>, <c>integer</c>, <c>double</c>, <c>key</c>, <c>pattern</c>, <c>unix-time</c>, <c>pure-token</c>, <c>oneof</c>, <c>block</c>.</summary>
    public required string Type { get; init; }
    /// <summary><c>key_spec_index</c>: for a <c>key</c> argument, its key spec's index.</summary>
    public int? KeySpecIndex { get; init; }
    /// <summary><c>token</c>: the literal that precedes the value (<c>EX</c>).</summary>
    public string? Token { get; init; }
    /// <summary><c>since</c>: the version that added the argument.</summary>
    public string? Since { get; init; }
    /// <summary><c>deprecated_since</c>: the version that deprecated the argument.</summary>
    public string? DeprecatedSince { get; init; }
    /// <summary><c>flags</c>: <c>optional</c>, <c>multiple</c>, <c>multiple_token</c>.</summary>
    public string[]? Flags { get; init; }
    /// <summary><c>arguments</c>: the members of a <c>block</c> or <c>oneof</c>.</summary>
    public CommandArgument[]? Arguments { get; init; }
}

/// <summary>
/// The metadata of every command of one Redis version, by full name (<c>get</c>, <c>config|get</c>). Parsing only
/// indexes the JSON (each entry's byte range, one pass of <see cref="Utf8JsonReader"/>); an entry is parsed into a
/// <see cref="CommandMetadata"/> the first time <see cref="Find"/> asks for it, so start-up pays only for the rows
/// RespKv implements.
/// </summary>
public sealed class CommandMetadataSet
{
    private readonly byte[] _data;
    private readonly Dictionary<string, (int Start, int Length)> _lines;
    private readonly Dictionary<string, CommandMetadata> _parsed = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    private CommandMetadataSet(byte[] data, string redisVersion, Dictionary<string, (int, int)> lines)
    {
        _data = data;
        RedisVersion = redisVersion;
        _lines = lines;
    }

    /// <summary>The redis-server version the metadata was read from (<c>7.0.15</c>).</summary>
    public string RedisVersion { get; }

    /// <summary>Number of commands and subcommands.</summary>
    public int Count => _lines.Count;

    /// <summary>Every full name, in the file's (ordinal) order.</summary>
    public IEnumerable<string> Names => _lines.Keys;

    /// <summary>
    /// The entry for <paramref name="fullName"/> (lower case, <c>config|get</c>), or null. Parsed on first use
    /// (its docs on first use of <see cref="CommandMetadata.Docs"/>); throws <see cref="FormatException"/> or
    /// <see cref="JsonException"/> for a malformed entry.
    /// </summary>
    public CommandMetadata? Find(string fullName)
    {
        lock (_lock)
        {
            if (_parsed.TryGetValue(fullName, out CommandMetadata? found)) return found;
            if (!_lines.TryGetValue(fullName, out (int Start, int Length) line)) return null;
            ReadOnlyMemory<byte> json = _data.AsMemory(line.Start, line.Length);
            using JsonDocument document = JsonDocument.Parse(json);
            CommandMetadata parsed = ParseEntry(fullName, document.RootElement, json);
            _parsed.Add(fullName, parsed);
            return parsed;
        }
    }

    private static ReadOnlySpan<byte> NamePrefix => "{\"name\":\""u8;

    /// <summary>
    /// Indexes the JSON lines that <c>gen_command_metadata.py</c> writes (format in that script's header): the
    /// first line's version, then each line's full name (the line starts <c>{"name":"…"</c>) and byte range;
    /// no JSON is tokenised until <see cref="Find"/>. Throws <see cref="FormatException"/> on a line of another
    /// shape or a name given twice.
    /// </summary>
    public static CommandMetadataSet Parse(byte[] data)
    {
        int end = Array.IndexOf(data, (byte)'\n');
        if (end < 0) throw new FormatException("The command metadata has no header line.");
        string version;
        using (JsonDocument header = JsonDocument.Parse(data.AsMemory(0, end)))
            version = header.RootElement.TryGetProperty("redis_version", out JsonElement v) ? v.GetString()! : throw new FormatException("The command metadata has no redis_version.");
        var lines = new Dictionary<string, (int, int)>(512, StringComparer.Ordinal);
        for (int start = end + 1; start < data.Length; start = end + 1)
        {
            ReadOnlySpan<byte> rest = data.AsSpan(start);
            int length = rest.IndexOf((byte)'\n');
            if (length < 0) length = rest.Length;
            end = start + length;
            if (length == 0) continue;
            ReadOnlySpan<byte> line = rest[..length];
            int nameLength = line.StartsWith(NamePrefix) ? line[NamePrefix.Length..].IndexOf((byte)'"') : -1;
            if (nameLength <= 0) throw new FormatException($"Command metadata line at byte {start} does not start with {{\"name\":\"…\".");
            string name = System.Text.Encoding.UTF8.GetString(line.Slice(NamePrefix.Length, nameLength));
            if (!lines.TryAdd(name, (start, length))) throw new FormatException($"Command metadata names '{name}' twice.");
        }
        return new CommandMetadataSet(data, version, lines);
    }

    private static CommandMetadata ParseEntry(string name, JsonElement c, ReadOnlyMemory<byte> json) => new()
    {
        Name = name,
        Arity = c.GetProperty("arity").GetInt32(),
        Flags = Strings(c.GetProperty("flags")),
        FirstKey = c.GetProperty("first_key").GetInt32(),
        LastKey = c.GetProperty("last_key").GetInt32(),
        Step = c.GetProperty("step").GetInt32(),
        AclCategories = Strings(c.GetProperty("acl_categories")),
        Tips = Strings(c.GetProperty("tips")),
        KeySpecs = Array.ConvertAll(ToArray(c.GetProperty("key_specs")), ParseKeySpec),
        DocsSource = () =>
        {
            using JsonDocument document = JsonDocument.Parse(json);
            return ParseDocs(document.RootElement.GetProperty("docs"));
        },
    };

    private static JsonElement[] ToArray(JsonElement array)
    {
        var items = new JsonElement[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray()) items[i++] = item;
        return items;
    }

    private static string[] Strings(JsonElement array)
    {
        if (array.GetArrayLength() == 0) return [];
        var items = new string[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray()) items[i++] = item.GetString()!;
        return items;
    }

    private static string? OptionalString(JsonElement o, string name) => o.TryGetProperty(name, out JsonElement v) ? v.GetString() : null;

    private static string[]? OptionalStrings(JsonElement o, string name) => o.TryGetProperty(name, out JsonElement v) ? Strings(v) : null;

    private static KeySpec ParseKeySpec(JsonElement spec)
    {
        KeySpecFlags flags = KeySpecFlags.None;
        foreach (JsonElement f in spec.GetProperty("flags").EnumerateArray()) flags |= KeySpec.ParseFlag(f.GetString()!);
        JsonElement bs = spec.GetProperty("begin_search");
        BeginSearch begin = bs.GetProperty("type").GetString() switch
        {
            "index" => new BeginSearch(BeginSearchType.Index, Index: bs.GetProperty("index").GetInt32()),
            "keyword" => new BeginSearch(BeginSearchType.Keyword, Keyword: bs.GetProperty("keyword").GetString(),
                StartFrom: bs.GetProperty("startfrom").GetInt32()),
            "unknown" => new BeginSearch(BeginSearchType.Unknown),
            string other => throw new FormatException($"Unknown begin_search type '{other}'."),
            null => throw new FormatException("begin_search without a type."),
        };
        JsonElement fk = spec.GetProperty("find_keys");
        FindKeys find = fk.GetProperty("type").GetString() switch
        {
            "range" => new FindKeys(FindKeysType.Range, LastKey: fk.GetProperty("lastkey").GetInt32(),
                KeyStep: fk.GetProperty("keystep").GetInt32(), Limit: fk.GetProperty("limit").GetInt32()),
            "keynum" => new FindKeys(FindKeysType.Keynum, KeyNumIndex: fk.GetProperty("keynumidx").GetInt32(),
                FirstKey: fk.GetProperty("firstkey").GetInt32(), KeyStep: fk.GetProperty("keystep").GetInt32()),
            "unknown" => new FindKeys(FindKeysType.Unknown),
            string other => throw new FormatException($"Unknown find_keys type '{other}'."),
            null => throw new FormatException("find_keys without a type."),
        };
        return new KeySpec(flags, begin, find, OptionalString(spec, "notes"));
    }

    private static CommandDocs ParseDocs(JsonElement d)
    {
        (string, string)[]? history = null;
        if (d.TryGetProperty("history", out JsonElement h))
            history = Array.ConvertAll(ToArray(h), e => (e[0].GetString()!, e[1].GetString()!));
        return new CommandDocs
        {
            Summary = OptionalString(d, "summary"),
            Since = OptionalString(d, "since"),
            Group = OptionalString(d, "group"),
            Complexity = OptionalString(d, "complexity"),
            DocFlags = OptionalStrings(d, "doc_flags"),
            DeprecatedSince = OptionalString(d, "deprecated_since"),
            ReplacedBy = OptionalString(d, "replaced_by"),
            History = history,
            Arguments = d.TryGetProperty("arguments", out JsonElement a) ? Array.ConvertAll(ToArray(a), ParseArgument) : null,
        };
    }

    private static CommandArgument ParseArgument(JsonElement a) => new()
    {
        Name = a.GetProperty("name").GetString()!,
        Type = a.GetProperty("type").GetString()!,
        KeySpecIndex = a.TryGetProperty("key_spec_index", out JsonElement k) ? k.GetInt32() : null,
        Token = OptionalString(a, "token"),
        Since = OptionalString(a, "since"),
        DeprecatedSince = OptionalString(a, "deprecated_since"),
        Flags = OptionalStrings(a, "flags"),
        Arguments = a.TryGetProperty("arguments", out JsonElement nested) ? Array.ConvertAll(ToArray(nested), ParseArgument) : null,
    };
}
