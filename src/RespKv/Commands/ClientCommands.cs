using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Commands.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// CLIENT subcommands: SETNAME, GETNAME, ID, SETINFO, LIST, INFO, with Redis's replies
/// (https://redis.io/commands/client/).
/// </summary>
public static class ClientCommands
{
    /// <summary>Redis's reply to a client name with spaces or special characters.</summary>
    public const string InvalidNameError = "ERR Client names cannot contain spaces, newlines or special characters.";

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table => [];

    /// <summary>True when every byte is printable ASCII other than space ('!'..'~'), as Redis requires of client names.</summary>
    public static bool IsValidClientName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
            if (b < '!' || b > '~') return false;
        return true;
    }
}
