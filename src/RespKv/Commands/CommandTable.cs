using System.Text;
using RespKv.Protocol;

namespace RespKv.Commands;

/// <summary>
/// The command table: every supported command, looked up by name case-insensitively without
/// allocating (a dictionary keyed by name bytes with a span-based alternate lookup). Built from the
/// per-family tables (<see cref="StringCommands"/>, <see cref="KeyspaceCommands"/>, …). A command that
/// is not here answers <c>-ERR unknown command …</c>, as Redis does.
/// </summary>
public sealed class CommandTable
{
    private readonly CommandNameLookup _commands;
    private readonly Dictionary<CommandInfo, CommandNameLookup> _subcommands = new(ReferenceEqualityComparer.Instance);

    /// <summary>A table of <paramref name="commands"/>.</summary>
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
    }

    private static void AddStatsRow(List<CommandInfo> rows, CommandInfo row)
    {
        if (row.StatsIndex >= 0) throw new InvalidOperationException($"Command row '{row.FullName}' already belongs to a command table.");
        row.StatsIndex = rows.Count;
        rows.Add(row);
    }

    /// <summary>Every row, commands and subcommands, indexed by <see cref="CommandInfo.StatsIndex"/> (the rows INFO <c>commandstats</c> reports on).</summary>
    public IReadOnlyList<CommandInfo> StatsRows { get; }

    /// <summary>The table RespKv serves: every command family.</summary>
    public static CommandTable Default { get; } = WithDefaults([]);

    /// <summary>
    /// A new table of every command family (fresh rows) plus <paramref name="extra"/> — for tests and embedders that add
    /// commands (e.g. a value kind's own commands) to what RespKv serves.
    /// </summary>
    public static CommandTable WithDefaults(IEnumerable<CommandInfo> extra) => new(
        ConnectionCommands.Table
            .Concat(AuthCommands.Table)
            .Concat(StringCommands.Table)
            .Concat(HashCommands.Table)
            .Concat(KeyspaceCommands.Table)
            .Concat(ObjectCommands.Table)
            .Concat(ExpiryCommands.Table)
            .Concat(MemoryCommands.Table)
            .Concat(DebugCommands.Table)
            .Concat(ServerCommands.Table)
            .Concat(ClientCommands.Table)
            .Concat(TransactionCommands.Table)
            .Concat(extra));

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
