using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server.Commands;

namespace RespKv.Server;

/// <summary>
/// The arguments Redis 7.0 hides as <c>(redacted)</c> from MONITOR and the slow log (<c>redactClientCommandArgument</c>, called
/// by the commands as they parse): every argument of AUTH, the rules of ACL SETUSER, HELLO's AUTH username and password, and
/// MIGRATE's AUTH password and AUTH2 username and password.
/// </summary>
internal static class CommandRedaction
{
    /// <summary>
    /// Which arguments of <paramref name="args"/> (<paramref name="command"/>'s) are redacted: null when none, else one flag per
    /// argument.
    /// </summary>
    public static bool[]? Of(CommandInfo command, in CommandArgs args)
    {
        int from;
        if (command.Parent == null && command.Name == "auth") from = 1;
        else if (command.Parent?.Name == "acl" && command.Name == "setuser") from = 2;
        else if (command.Parent == null && command.Name is "hello" or "migrate")
        {
            var marked = new bool[args.Count];
            if (command.Name == "hello") MarkHelloAuth(args, marked);
            else MigrateCommand.MarkRedacted(args, marked);
            return Array.IndexOf(marked, true) < 0 ? null : marked;
        }
        else return null;
        if (from >= args.Count) return null;
        var redacted = new bool[args.Count];
        redacted.AsSpan(from).Fill(true);
        return redacted;
    }

    /// <summary>
    /// HELLO's AUTH username and password (Redis's helloCommand redacts them as it parses the options). RespKv redacts them
    /// even when the protocol version is invalid, where Redis returns before redacting and would show the password.
    /// </summary>
    private static void MarkHelloAuth(in CommandArgs args, Span<bool> redacted)
    {
        for (int j = 2; j < args.Count; j++)
        {
            int more = args.Count - 1 - j;
            if (args.Is(j, "AUTH"u8) && more >= 2)
            {
                redacted[j + 1] = true;
                redacted[j + 2] = true;
                j += 2;
            }
            else if (args.Is(j, "SETNAME"u8) && more >= 1) j++;
            else return;
        }
    }
}
