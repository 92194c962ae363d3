using RespKv.Commands;
using RespKv.Execution;
using RespKv.Server.Commands;
using RespKv.Storage.Kinds;

namespace RespKv.Server;

/// <summary>
/// The command table RespKv serves: every family's rows — the data families of <c>Commands/</c> (strings, hashes,
/// lists, sets, sorted sets, streams, SORT, bitmaps, HyperLogLog, geo, LCS, LOLWUT, MODULE, keys, expiry, OBJECT, cluster), whose handlers see a <see cref="CommandContext"/>, and the connection and server families
/// of <c>Server/Commands/</c>, whose handlers see the whole <see cref="ClientSession"/>. Adding a family is one line here;
/// adding a value type is one line in <see cref="Types"/>.
/// </summary>
public static class CommandFamilies
{
    /// <summary>
    /// The value types RespKv serves, each its kind (<c>Storage/Kinds/</c>: TYPE name, encodings, memory, AOF rewrite,
    /// copy) and its command family (<c>Commands/</c>). The kinds are registered in <see cref="ValueKinds"/> before any
    /// table is built. A new type (lists, sets, sorted sets, streams) is one line here.
    /// </summary>
    public static IReadOnlyList<(ValueKind Kind, Func<IEnumerable<CommandInfo>> Commands)> Types { get; } =
    [
        (StringKind.Instance, () => StringCommands.Table),
        (HashKind.Instance, () => HashCommands.Table.Concat(HashFieldExpiryCommands.Table)),
        (ListKind.Instance, () => ListCommands.Table),
        (SortedSetKind.Instance, () => SortedSetCommands.Table),
        (SetKind.Instance, () => SetCommands.Table),
        (StreamKind.Instance, () => StreamCommands.Table),
    ];

    /// <summary>The table of every supported command.</summary>
    public static CommandTable Table { get; } = WithDefaults([]);

    /// <summary>
    /// A new table of every command family (fresh rows) plus <paramref name="extra"/> — for tests and embedders that add
    /// commands (e.g. a value kind's own commands) to what RespKv serves.
    /// </summary>
    public static CommandTable WithDefaults(IEnumerable<CommandInfo> extra)
    {
        foreach ((ValueKind kind, _) in Types) ValueKinds.Register(kind);
        return new CommandTable(ConnectionCommands.Table
            .Concat(AuthCommands.Table)
            .Concat(AclCommands.Table)
            .Concat(Types.SelectMany(t => t.Commands()))
            .Concat(KeyspaceCommands.Table)
            .Concat(DumpCommands.Table)
            .Concat(MigrateCommand.Table)
            .Concat(SortCommands.Table)
            .Concat(BitmapCommands.Table)
            .Concat(HyperLogLogCommands.Table)
            .Concat(GeoCommands.Table)
            .Concat(LcsCommand.Table)
            .Concat(LolwutCommand.Table)
            .Concat(ModuleCommands.Table)
            .Concat(ObjectCommands.Table)
            .Concat(ExpiryCommands.Table)
            .Concat(MemoryCommands.Table)
            .Concat(DebugCommands.Table)
            .Concat(ServerCommands.Table)
            .Concat(ReplicationCommands.Table)
            .Concat(CommandCommands.Table)
            .Concat(ClientCommands.Table)
            .Concat(TransactionCommands.Table)
            .Concat(PubSubCommands.Table)
            .Concat(ClusterCommands.Table)
            .Concat(ScriptingCommands.Table)
            .Concat(FunctionCommands.Table)
            .Concat(extra));
    }
}
