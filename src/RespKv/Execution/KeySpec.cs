using RespKv.Protocol;

namespace RespKv.Execution;

/// <summary>
/// Key spec flags, as Redis 7.0's COMMAND INFO names them (https://redis.io/docs/reference/key-specs/#flags):
/// one access type (<c>RO</c>/<c>RW</c>/<c>OW</c>/<c>RM</c>), the logical operations on the key's data
/// (<c>access</c>, <c>update</c>, <c>insert</c>, <c>delete</c>), and the miscellaneous flags.
/// </summary>
[Flags]
public enum KeySpecFlags
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary><c>RO</c>: read-only access to the key's value.</summary>
    RO = 1 << 0,
    /// <summary><c>RW</c>: read-write access to the key's value.</summary>
    RW = 1 << 1,
    /// <summary><c>OW</c>: overwrites the key's value without reading it.</summary>
    OW = 1 << 2,
    /// <summary><c>RM</c>: deletes the key.</summary>
    RM = 1 << 3,
    /// <summary><c>access</c>: returns, copies or uses the user data in the key.</summary>
    Access = 1 << 4,
    /// <summary><c>update</c>: updates the data in the key (overwrites, or modifies).</summary>
    Update = 1 << 5,
    /// <summary><c>insert</c>: adds data to the key's value without modifying or deleting existing data.</summary>
    Insert = 1 << 6,
    /// <summary><c>delete</c>: deletes data from the key's value.</summary>
    Delete = 1 << 7,
    /// <summary><c>not_key</c>: the argument is not a key name but is hashed to a slot like one (SPUBLISH's channel); COMMAND GETKEYS leaves it out.</summary>
    NotKey = 1 << 8,
    /// <summary><c>incomplete</c>: the spec may not find every key (a keyword that could also be a value).</summary>
    Incomplete = 1 << 9,
    /// <summary><c>variable_flags</c>: the key's flags depend on the arguments (SET … GET reads the key; SET alone overwrites it).</summary>
    VariableFlags = 1 << 10,
}

/// <summary>How a key spec's begin search finds where its keys start (Redis's <c>begin_search</c> <c>type</c>).</summary>
public enum BeginSearchType
{
    /// <summary><c>unknown</c>: the keys cannot be found from the spec (SORT's BY/GET patterns).</summary>
    Unknown,
    /// <summary><c>index</c>: keys start at a fixed argument index.</summary>
    Index,
    /// <summary><c>keyword</c>: keys start after a keyword (XREAD's <c>STREAMS</c>).</summary>
    Keyword,
}

/// <summary>How a key spec's find keys finds its keys once the begin search has found the first (Redis's <c>find_keys</c> <c>type</c>).</summary>
public enum FindKeysType
{
    /// <summary><c>unknown</c>: the keys cannot be found from the spec.</summary>
    Unknown,
    /// <summary><c>range</c>: keys run to a last key, a fixed or end-relative offset, every <c>keystep</c> arguments.</summary>
    Range,
    /// <summary><c>keynum</c>: an argument gives the number of keys that follow (EVAL's <c>numkeys</c>).</summary>
    Keynum,
}

/// <summary>
/// A key spec's begin search (https://redis.io/docs/reference/key-specs/#begin_search).
/// <c>index</c>: the first key is argument <see cref="Index"/> (0 = the command name).
/// <c>keyword</c>: the first key follows the first argument equal to <see cref="Keyword"/> (ASCII, any case),
/// searched from argument <see cref="StartFrom"/> towards the end, or, when negative, from
/// <c>argc + StartFrom</c> towards the start.
/// </summary>
/// <param name="Type">index, keyword or unknown.</param>
/// <param name="Index">For <c>index</c>: the argument index of the first key.</param>
/// <param name="Keyword">For <c>keyword</c>: the keyword as Redis prints it (upper case).</param>
/// <param name="StartFrom">For <c>keyword</c>: where the search starts; negative counts from the end.</param>
public readonly record struct BeginSearch(BeginSearchType Type, int Index = 0, string? Keyword = null, int StartFrom = 0)
{
    /// <summary><see cref="Keyword"/> as ASCII bytes, for comparing with arguments without allocating.</summary>
    public byte[]? KeywordBytes { get; } = Keyword == null ? null : System.Text.Encoding.ASCII.GetBytes(Keyword);
}

/// <summary>
/// A key spec's find keys (https://redis.io/docs/reference/key-specs/#find_keys).
/// <c>range</c>: keys from the begin search's first key to <see cref="LastKey"/> (relative to the first key when
/// ≥ 0; when negative, relative to the end: -1 is the last argument, and with a <see cref="Limit"/> above 0 only
/// <c>1/Limit</c> of the remaining arguments are keys), every <see cref="KeyStep"/> arguments.
/// <c>keynum</c>: argument <c>first + KeyNumIndex</c> holds the number of keys, which start at
/// <c>first + FirstKey</c>, every <see cref="KeyStep"/> arguments.
/// </summary>
/// <param name="Type">range, keynum or unknown.</param>
/// <param name="LastKey">For <c>range</c>: the last key's offset (negative: from the end).</param>
/// <param name="KeyStep">Arguments from one key to the next (2 for MSET's key value pairs).</param>
/// <param name="Limit">For <c>range</c> with a negative <see cref="LastKey"/>: 0 = no limit, n = keys are the first 1/n of what remains (XREAD's 2).</param>
/// <param name="KeyNumIndex">For <c>keynum</c>: offset of the key count argument from the first argument the begin search found.</param>
/// <param name="FirstKey">For <c>keynum</c>: offset of the first key from the first argument the begin search found.</param>
public readonly record struct FindKeys(FindKeysType Type, int LastKey = 0, int KeyStep = 1, int Limit = 0, int KeyNumIndex = 0, int FirstKey = 0);

/// <summary>
/// One key spec of a command, as Redis 7.0's COMMAND INFO reports it
/// (https://redis.io/docs/reference/key-specs/): optional notes, flags, a begin search and a find keys.
/// </summary>
/// <param name="Flags">The flags of the keys this spec finds.</param>
/// <param name="BeginSearch">Where the keys start.</param>
/// <param name="FindKeys">Which arguments from there are keys.</param>
/// <param name="Notes">Redis's note on the spec, or null.</param>
public sealed record KeySpec(KeySpecFlags Flags, BeginSearch BeginSearch, FindKeys FindKeys, string? Notes = null)
{
    /// <summary>Key spec flag names in the order Redis prints them, with their flags.</summary>
    public static readonly (KeySpecFlags Flag, string Name)[] FlagNames =
    [
        (KeySpecFlags.RO, "RO"), (KeySpecFlags.RW, "RW"), (KeySpecFlags.OW, "OW"), (KeySpecFlags.RM, "RM"),
        (KeySpecFlags.Access, "access"), (KeySpecFlags.Update, "update"), (KeySpecFlags.Insert, "insert"),
        (KeySpecFlags.Delete, "delete"), (KeySpecFlags.NotKey, "not_key"), (KeySpecFlags.Incomplete, "incomplete"),
        (KeySpecFlags.VariableFlags, "variable_flags"),
    ];

    /// <summary>The flag named <paramref name="name"/> (case-sensitive, as COMMAND prints it); throws for an unknown name.</summary>
    public static KeySpecFlags ParseFlag(string name)
    {
        foreach ((KeySpecFlags flag, string n) in FlagNames)
            if (n == name) return flag;
        throw new FormatException($"Unknown key spec flag '{name}'.");
    }

    /// <summary>
    /// Appends the keys this spec finds in <paramref name="args"/> (args[0] = command name) to
    /// <paramref name="into"/> from position <paramref name="count"/>, as Redis 7.0's key-spec search does:
    /// returns the new count (which may exceed <c>into.Length</c>: positions past the span are counted, not
    /// written), or -1 when the spec cannot be applied to these arguments: unknown begin search or find keys,
    /// a key count that is not a non-negative integer or lies past the arguments, or a first or last key out of the
    /// arguments (Redis treats that as a syntax error the command reports, and its COMMAND GETKEYS as <c>-ERR Invalid
    /// arguments specified for command</c>). A keyword that is not found adds no key, as Redis's
    /// <c>getKeysUsingKeySpecs</c> skips the spec (GEORADIUS without STORE names only its source key).
    /// </summary>
    public int AppendKeys(in CommandArgs args, Span<KeyRef> into, int count, KeySpecFlags flags)
    {
        int argc = args.Count;
        int first;
        switch (BeginSearch.Type)
        {
            case BeginSearchType.Index:
                first = BeginSearch.Index;
                break;
            case BeginSearchType.Keyword:
                first = FindKeyword(args);
                if (first == 0) return count; // keyword not found: the spec names no key (Redis's getKeysUsingKeySpecs "continue")
                break;
            default:
                return -1;
        }
        int last, step;
        switch (FindKeys.Type)
        {
            case FindKeysType.Range:
                step = FindKeys.KeyStep;
                if (FindKeys.LastKey >= 0) last = first + FindKeys.LastKey;
                else if (FindKeys.Limit <= 0) last = argc + FindKeys.LastKey;
                else last = first + ((argc - first) / FindKeys.Limit + FindKeys.LastKey);
                break;
            case FindKeysType.Keynum:
                step = FindKeys.KeyStep;
                int countIndex = first + FindKeys.KeyNumIndex;
                if (countIndex >= argc || !long.TryParse(args[countIndex], System.Globalization.NumberStyles.AllowLeadingSign,
                        System.Globalization.CultureInfo.InvariantCulture, out long keys) || keys < 0 || keys > argc)
                    return -1;
                first += FindKeys.FirstKey;
                last = first + ((int)keys - 1) * step;
                break;
            default:
                return -1;
        }
        if (step < 1 || first >= argc || last >= argc || last < first) return -1;
        for (int i = first; i <= last; i += step)
        {
            if (count < into.Length) into[count] = new KeyRef(i, flags);
            count++;
        }
        return count;
    }

    /// <summary>The index after the keyword's argument, or 0 when the keyword is not found (the last argument in a forward search, and argument 1 in a backward one, are not searched).</summary>
    private int FindKeyword(in CommandArgs args)
    {
        int argc = args.Count;
        int start = BeginSearch.StartFrom > 0 ? BeginSearch.StartFrom : argc + BeginSearch.StartFrom;
        int end = BeginSearch.StartFrom > 0 ? argc - 1 : 1;
        for (int i = start; i != end; i = start <= end ? i + 1 : i - 1)
        {
            if (i >= argc || i < 1) break;
            if (System.Text.Ascii.EqualsIgnoreCase(args[i], BeginSearch.KeywordBytes!)) return i + 1;
        }
        return 0;
    }
}

/// <summary>A key argument found by a key spec: its argument index (0 = the command name) and the key spec's flags for it.</summary>
/// <param name="Index">Argument index of the key.</param>
/// <param name="Flags">The key's flags (the spec's, or those a <see cref="KeyFlagsResolver"/> gave for a <c>variable_flags</c> spec).</param>
public readonly record struct KeyRef(int Index, KeySpecFlags Flags);

/// <summary>
/// The flags of a key found by a <c>variable_flags</c> key spec, from the arguments (Redis's command-specific
/// getkeys procedures): SET's key is <c>RW access update</c> with GET, otherwise <c>OW update</c>.
/// </summary>
/// <param name="args">The command's arguments (args[0] = name).</param>
/// <param name="keySpecIndex">Index of the key spec in the command's <see cref="CommandInfo.KeySpecs"/>.</param>
/// <param name="specFlags">The spec's declared flags.</param>
public delegate KeySpecFlags KeyFlagsResolver(in CommandArgs args, int keySpecIndex, KeySpecFlags specFlags);
