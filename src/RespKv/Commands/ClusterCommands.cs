using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// CLUSTER (https://redis.io/commands/?group=cluster). RespKv runs as a standalone server, as redis-server 7.0 does
/// with <c>cluster-enabled no</c>, so every subcommand answers <c>-ERR This instance has cluster support disabled</c>
/// — except <c>CLUSTER KEYSLOT key</c>, which answers the key's hash slot (0..16383, CRC16 of the key or its
/// <c>{hash tag}</c>, <see cref="KeyHash.Slot"/>) as a cluster node does: RespKv places keys in shards by that slot,
/// so a client may group keys by it to make multi-key commands take a single shard lock.
/// </summary>
public static class ClusterCommands
{
    private const string Disabled = "ERR This instance has cluster support disabled";

    /// <summary>This family's rows of the command table: the container and the subcommands a client or tool asks a standalone server (arity and flags as Redis 7.0's COMMAND INFO).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("cluster", -2, None, 0, 0, 0, "cluster", "A container for cluster commands", null,
            new CommandInfo("countkeysinslot", 3, Stale, 0, 0, 0, "cluster", "Return the number of local keys in the specified hash slot", WriteDisabled),
            new CommandInfo("getkeysinslot", 4, Stale, 0, 0, 0, "cluster", "Return local key names in the specified hash slot", WriteDisabled),
            new CommandInfo("help", 2, Loading | Stale, 0, 0, 0, "cluster", "Show helpful text about the different subcommands", WriteDisabled),
            new CommandInfo("info", 2, Stale, 0, 0, 0, "cluster", "Provides info about Redis Cluster node state", WriteDisabled),
            new CommandInfo("keyslot", 3, Stale, 0, 0, 0, "cluster", "Returns the hash slot of the specified key", KeySlot),
            new CommandInfo("links", 2, Stale, 0, 0, 0, "cluster", "Returns a list of all TCP links to and from peer nodes in cluster", WriteDisabled),
            new CommandInfo("myid", 2, Stale, 0, 0, 0, "cluster", "Return the node id", WriteDisabled),
            new CommandInfo("nodes", 2, Stale, 0, 0, 0, "cluster", "Get Cluster config for the node", WriteDisabled),
            new CommandInfo("shards", 2, Stale, 0, 0, 0, "cluster", "Get array of cluster slots to node mappings", WriteDisabled),
            new CommandInfo("slots", 2, Stale, 0, 0, 0, "cluster", "Get array of Cluster slot to node mappings", WriteDisabled)),
    ];

    /// <summary><c>CLUSTER KEYSLOT key</c>: <c>:slot</c>, e.g. <c>foo</c> → 12182, <c>{user1000}.following</c> → 3443.</summary>
    private static void KeySlot(CommandContext context, in CommandArgs args) => context.Writer.WriteInteger(KeyHash.Slot(args[2]));

    private static void WriteDisabled(CommandContext context, in CommandArgs args) => context.Writer.WriteError(Disabled);
}
