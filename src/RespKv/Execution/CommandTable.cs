using System.Text;
using RespKv.Protocol;

namespace RespKv.Execution;

/// <summary>
/// The command table: every supported command, looked up by name case-insensitively without
/// allocating (a dictionary keyed by name bytes with a span-based alternate lookup). Built from the
/// per-family tables (the server's is <c>Server.CommandFamilies.Table</c>). A command that is not here answers
/// <c>-ERR unknown command …</c>, as Redis does.
/// </summary>
public sealed class CommandTable
{
    private readonly CommandNameLookup _commands;
    private readonly Dictionary<CommandInfo, CommandNameLookup> _subcommands = new(ReferenceEqualityComparer.Instance);

    /// <summary>A table of <paramref name="commands"/>; each row and subcommand gets Redis 7.0's <see cref="CommandMetadata"/> of its full name.</summary>
    public CommandTable(IEnumerable<CommandInfo> commands)
    {
        All = commands.OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();
        _commands = new CommandNameLookup(All);
        foreach (CommandInfo c in All)
            if (c.Subcommands != null) _subcommands[c] = new CommandNameLookup(c.Subcommands);
        var rows = new List<CommandInfo>(All.Count * 2);
        foreach (CommandInfo c in All)
        {
            AddStatsRow(rows, c);
            if (c.Subcommands != null)
                foreach (CommandInfo sub in c.Subcommands) AddStatsRow(rows, sub);
        }
        StatsRows = rows.ToArray();
        Original = this;
    }

    /// <summary>
    /// <paramref name="original"/> served under other names (config-file <c>rename-command old new</c>, Redis's
    /// <c>server.commands</c> beside <c>server.orig_commands</c>): each renamed command is looked up by its new name only,
    /// or not at all when the new name is empty. The rows, statistics indexes and metadata are the original's; ACL rules
    /// and COMMAND still use the original names (<see cref="Original"/>). Returns null and an error as Redis words it:
    /// <c>No such command in rename-command</c>, <c>Target command name already exists</c>.
    /// </summary>
    public static CommandTable? WithRenames(CommandTable original, IEnumerable<(string From, string To)> renames, out string? error)
    {
        error = null;
        var names = new Dictionary<string, CommandInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (CommandInfo c in original.All) names[c.Name] = c;
        foreach ((string from, string to) in renames)
        {
            if (!names.Remove(from, out CommandInfo? command))
            {
                error = "No such command in rename-command";
                return null;
            }
            if (to.Length == 0) continue;
            if (!names.TryAdd(to, command))
            {
                error = "Target command name already exists";
                return null;
            }
        }
        return new CommandTable(original, names);
    }

    private CommandTable(CommandTable original, Dictionary<string, CommandInfo> names)
    {
        All = original.All;
        StatsRows = original.StatsRows;
        _subcommands = original._subcommands;
        _commands = new CommandNameLookup(names);
        Original = original;
    }

    /// <summary>The table under the commands' own names: itself, or the table a renamed one was made from (ACL rules name commands by it).</summary>
    public CommandTable Original { get; }

    private static void AddStatsRow(List<CommandInfo> rows, CommandInfo row)
    {
        if (row.StatsIndex >= 0) throw new InvalidOperationException($"Command row '{row.FullName}' already belongs to a command table.");
        row.StatsIndex = rows.Count;
        row.Metadata = CommandMetadata.Shipped.Find(row.FullName);
        rows.Add(row);
    }

    /// <summary>Every row, commands and subcommands, indexed by <see cref="CommandInfo.StatsIndex"/> (the rows INFO <c>commandstats</c> reports on).</summary>
    public IReadOnlyList<CommandInfo> StatsRows { get; }

    /// <summary>All top-level commands, sorted by name.</summary>
    public IReadOnlyList<CommandInfo> All { get; }

    /// <summary>The command named <paramref name="name"/> (any case), or null.</summary>
    public CommandInfo? Lookup(ReadOnlySpan<byte> name) => _commands.Lookup(name);

    /// <summary>The subcommand <paramref name="name"/> of <paramref name="container"/>, or null.</summary>
    public CommandInfo? LookupSubcommand(CommandInfo container, ReadOnlySpan<byte> name) =>
        _subcommands.TryGetValue(container, out CommandNameLookup? lookup) ? lookup.Lookup(name) : null;

    /// <summary>The command named <paramref name="name"/>, for COMMAND INFO/DOCS (<c>config|get</c> names a subcommand).</summary>
    public CommandInfo? Lookup(string name)
    {
        int bar = name.IndexOf('|');
        if (bar < 0) return Lookup(Encoding.UTF8.GetBytes(name));
        CommandInfo? container = Lookup(Encoding.UTF8.GetBytes(name[..bar]));
        return container == null ? null : LookupSubcommand(container, Encoding.UTF8.GetBytes(name[(bar + 1)..]));
    }

    private sealed class CommandNameLookup
    {
        private readonly Dictionary<byte[], CommandInfo> _byName;
        private readonly Dictionary<byte[], CommandInfo>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;

        public CommandNameLookup(Dictionary<string, CommandInfo> names)
        {
            _byName = new Dictionary<byte[], CommandInfo>(AsciiCaseInsensitiveComparer.Instance);
            foreach (var (name, c) in names) _byName.Add(Encoding.UTF8.GetBytes(name), c);
            _bySpan = _byName.GetAlternateLookup<ReadOnlySpan<byte>>();
        }

        public CommandNameLookup(IEnumerable<CommandInfo> commands)
        {
            _byName = new Dictionary<byte[], CommandInfo>(AsciiCaseInsensitiveComparer.Instance);
            foreach (CommandInfo c in commands) _byName.Add(Encoding.ASCII.GetBytes(c.Name), c);
            _bySpan = _byName.GetAlternateLookup<ReadOnlySpan<byte>>();
        }

        public CommandInfo? Lookup(ReadOnlySpan<byte> name) => _bySpan.TryGetValue(name, out CommandInfo? c) ? c : null;
    }
}

/// <summary>Equality of byte strings ignoring ASCII case, for byte[] keys and span lookups.</summary>
internal sealed class AsciiCaseInsensitiveComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly AsciiCaseInsensitiveComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x != null && y != null && Ascii.EqualsIgnoreCase(x, y);

    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => Ascii.EqualsIgnoreCase(alternate, other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = new HashCode();
        foreach (byte b in alternate) hash.Add((byte)(b is >= (byte)'a' and <= (byte)'z' ? b - 32 : b));
        return hash.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
