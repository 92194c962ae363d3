using System.Security.Cryptography;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Authentication: <c>AUTH [username] password</c> against the ACL users (https://redis.io/commands/auth/); the
/// one-argument form names the <c>default</c> user, whose password <c>requirepass</c> sets. HELLO's <c>AUTH username password</c> option uses the
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
            if (client.Server.Acl.Default.Rules.NoPass)
            {
                client.Writer.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
                return;
            }
            if (TryAuthenticate(client, "default"u8, args[1], args[0])) client.Writer.WriteOk();
            else client.Writer.WriteError(WrongPassError);
            return;
        }
        if (TryAuthenticate(client, args[1], args[2], args[0])) client.Writer.WriteOk();
        else client.Writer.WriteError(WrongPassError);
    }

    /// <summary>
    /// Authenticates <paramref name="client"/> as <paramref name="username"/> (Redis 7.0's <c>ACLAuthenticateUser</c>): the
    /// user must exist and be <c>on</c>, and <paramref name="password"/> must be one of its passwords (SHA-256 compared in
    /// constant time) or the user <c>nopass</c>. On success the client runs as that user; on failure an ACL LOG entry of
    /// reason <c>auth</c> records the command name and the user name tried — never the password.
    /// </summary>
    internal static bool TryAuthenticate(ClientSession client, ReadOnlySpan<byte> username, ReadOnlySpan<byte> password, ReadOnlySpan<byte> commandName)
    {
        Security.AclUser? user = client.Server.Acl.CheckCredentials(username, password);
        if (user != null)
        {
            client.User = user;
            client.Authenticated = true;
            return true;
        }
        client.Server.Acl.Log.Add(client, Security.AclDenial.Auth, client.InMulti ? Security.AclLogContext.Multi : Security.AclLogContext.TopLevel,
            Security.AccessControl.Latin1(commandName), Security.AccessControl.Latin1(username));
        return false;
    }
}
