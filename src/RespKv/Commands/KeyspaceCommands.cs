using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Commands.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, RENAMENX, RANDOMKEY, COPY,
/// with Redis 7.0's replies (https://redis.io/commands/?group=generic).
/// </summary>
public static class KeyspaceCommands
{
    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table => [];
}
