using System.Security.Cryptography;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Authentication: <c>AUTH [username] password</c> against the default user's <c>requirepass</c>, as Redis 7.0
/// without ACL users (https://redis.io/commands/auth/). HELLO's <c>AUTH username password</c> option uses the
/// same check (<see cref="TryAuthenticate"/>).
/// </summary>
public static class AuthCommands
{
    /// <summary><c>-WRONGPASS …</c>: wrong password, or a user other than <c>default</c>.</summary>
    public const string WrongPassError = "WRONGPASS invalid username-password pair or user is disabled.";

    /// <summary><c>-NOAUTH Authentication required.</c>: a command other than AUTH, HELLO, QUIT or RESET before authenticating.</summary>
    public static ReadOnlySpan<byte> NoAuthError => "NOAUTH Authentication required."u8;

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("auth", -2, NoScript | Loading | Stale | Fast | NoAuth | AllowBusy, 0, 0, 0, "connection", "Authenticate to the server", Auth),
    ];

    /// <summary>
    /// <c>AUTH password</c> / <c>AUTH username password</c>: <c>+OK</c>, <c>-WRONGPASS …</c>, <c>-ERR syntax error</c>
    /// (more than 3 arguments), or, for the one-argument form without a password configured, Redis's
    /// <c>-ERR AUTH &lt;password&gt; called without any password configured …</c>.
    /// </summary>
    private static void Auth(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            client.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        if (args.Count == 2)
        {
            if (client.Server.Options.RequirePass.Length == 0)
            {
                client.Writer.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
                return;
            }
            if (TryAuthenticate(client, "default"u8, args[1])) client.Writer.WriteOk();
            else client.Writer.WriteError(WrongPassError);
            return;
        }
        if (TryAuthenticate(client, args[1], args[2])) client.Writer.WriteOk();
        else client.Writer.WriteError(WrongPassError);
    }

    /// <summary>
    /// Checks <paramref name="username"/>/<paramref name="password"/> against the only user, <c>default</c>
    /// (compared byte for byte, case-sensitive, as Redis's ACL user names): without <c>requirepass</c> it is
    /// <c>nopass</c> and any password passes; otherwise the password must equal <c>requirepass</c>, compared in
    /// constant time (SHA-256 of both, <see cref="CryptographicOperations.FixedTimeEquals"/>, as Redis compares
    /// password hashes). On success marks the client authenticated. Never logs either value.
    /// </summary>
    internal static bool TryAuthenticate(ClientSession client, ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        if (!username.SequenceEqual("default"u8)) return false;
        string required = client.Server.Options.RequirePass;
        if (required.Length > 0)
        {
            Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
            Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(Encoding.UTF8.GetBytes(required), expected);
            SHA256.HashData(password, given);
            if (!CryptographicOperations.FixedTimeEquals(expected, given)) return false;
        }
        client.Authenticated = true;
        return true;
    }
}
