using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Commands.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Server commands: COMMAND, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, INFO, SHUTDOWN, with Redis 7.0's
/// replies (https://redis.io/commands/?group=server).
/// </summary>
public static class ServerCommands
{
    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table => [];
}
