using RespKv.Commands;
using RespKv.Execution;
using RespKv.Server.Commands;

namespace RespKv.Server;

/// <summary>
/// The command table RespKv serves: every family's rows — the data families of <c>Commands/</c> (strings, hashes,
/// keys, expiry, cluster), whose handlers see a <see cref="CommandContext"/>, and the connection and server families
/// of <c>Server/Commands/</c>, whose handlers see the whole <see cref="ClientSession"/>. Adding a family is one line here.
/// </summary>
public static class CommandFamilies
{
    /// <summary>The table of every supported command.</summary>
    public static CommandTable Table { get; } = WithDefaults([]);

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
            .Concat(CommandCommands.Table)
            .Concat(ClientCommands.Table)
            .Concat(TransactionCommands.Table)
            .Concat(ClusterCommands.Table)
            .Concat(extra));
}
