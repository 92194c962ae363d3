using System.Security.Cryptography;
using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Security;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// The ACL command (https://redis.io/commands/acl/, Redis 7.0 acl.c <c>aclCommand</c>): CAT, DELUSER, DRYRUN, GENPASS,
/// GETUSER, HELP, LIST, LOAD, LOG, SAVE, SETUSER, USERS, WHOAMI over the server's <see cref="AccessControl"/>. Replies
/// and error texts are Redis 7.0.15's; a subcommand with arguments it does not take answers <c>-ERR unknown subcommand
/// or wrong number of arguments for 'sub'. Try ACL HELP.</c>
/// </summary>
public static class AclCommands
{
    private const CommandFlags Admin_ = Admin | NoScript | Loading | Stale;

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("acl", -2, None, 0, 0, 0, "server", "A container for Access List Control commands", null,
            new SessionCommandInfo("cat", -2, NoScript | Loading | Stale, 0, 0, 0, "server", "List the ACL categories or the commands inside a category", Cat),
            new SessionCommandInfo("deluser", -3, Admin_, 0, 0, 0, "server", "Remove the specified ACL users and the associated rules", DelUser),
            new SessionCommandInfo("dryrun", -4, Admin_, 0, 0, 0, "server", "Returns whether the user can execute the given command without executing the command.", DryRun),
            new SessionCommandInfo("genpass", -2, NoScript | Loading | Stale, 0, 0, 0, "server", "Generate a pseudorandom secure password to use for ACL users", GenPass),
            new SessionCommandInfo("getuser", 3, Admin_, 0, 0, 0, "server", "Get the rules for a specific ACL user", GetUser),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("list", 2, Admin_, 0, 0, 0, "server", "List the current ACL rules in ACL config file format", List),
            new SessionCommandInfo("load", 2, Admin_, 0, 0, 0, "server", "Reload the ACLs from the configured ACL file", Load),
            new SessionCommandInfo("log", -2, Admin_, 0, 0, 0, "server", "List latest events denied because of ACLs in place", Log),
            new SessionCommandInfo("save", 2, Admin_, 0, 0, 0, "server", "Save the current ACL rules in the configured ACL file", Save),
            new SessionCommandInfo("setuser", -3, Admin_, 0, 0, 0, "server", "Modify or create the rules for a specific ACL user", SetUser),
            new SessionCommandInfo("users", 2, Admin_, 0, 0, 0, "server", "List the username of all the configured ACL rules", Users),
            new SessionCommandInfo("whoami", 2, NoScript | Loading | Stale, 0, 0, 0, "server", "Return the name of the user associated to the current connection", WhoAmI)),
    ];

    private const string NoAclFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

    private static string Text(ReadOnlySpan<byte> bytes) => AccessControl.Latin1(bytes);

    private static void WriteText(RespWriter w, string latin1) => w.WriteBulkString(Encoding.Latin1.GetBytes(latin1));

    /// <summary>Redis's <c>addReplySubcommandSyntaxError</c> for ACL.</summary>
    private static void SyntaxError(ClientSession client, in CommandArgs args) =>
        client.Writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{Text(args[1])}'. Try ACL HELP.");

    /// <summary>
    /// <c>ACL SETUSER username rule…</c>: <c>+OK</c>, <c>-ERR Usernames can't contain spaces or null characters</c>, or the
    /// first failing rule's error (nothing applied): <c>-ERR Error in ACL SETUSER modifier 'rule': reason</c>.
    /// </summary>
    private static void SetUser(ClientSession client, in CommandArgs args)
    {
        string name = Text(args[2]);
        if (AclSelector.HasSpaces(name))
        {
            client.Writer.WriteError("ERR Usernames can't contain spaces or null characters");
            return;
        }
        var ops = new List<string>(args.Count - 3);
        for (int i = 3; i < args.Count; i++) ops.Add(Text(args[i]));
        string? error = client.Server.Acl.SetUser(name, ops);
        if (error == null) client.Writer.WriteOk();
        else client.Writer.WriteError(Encoding.Latin1.GetBytes("ERR " + error.Replace('\r', ' ').Replace('\n', ' ')));
    }

    /// <summary>
    /// <c>ACL DELUSER username…</c>: how many existed (their clients are disconnected);
    /// <c>-ERR The 'default' user cannot be removed</c> when one is <c>default</c> (nothing deleted).
    /// </summary>
    private static void DelUser(ClientSession client, in CommandArgs args)
    {
        var names = new List<string>();
        for (int i = 2; i < args.Count; i++)
        {
            if (args[i].SequenceEqual("default"u8))
            {
                client.Writer.WriteError("ERR The 'default' user cannot be removed");
                return;
            }
            names.Add(Text(args[i]));
        }
        client.Writer.WriteInteger(client.Server.Acl.DeleteUsers(names, client));
    }

    /// <summary>
    /// <c>ACL GETUSER username</c>: null for an unknown user, else a map: <c>flags</c> (a set), <c>passwords</c> (hashes),
    /// the root selector's <c>commands</c>, <c>keys</c>, <c>channels</c>, and <c>selectors</c> (a map of the same three per
    /// other selector).
    /// </summary>
    private static void GetUser(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        AclUser? user = client.Server.Acl.Find(Text(args[2]));
        if (user == null)
        {
            w.WriteNullBulkString();
            return;
        }
        AclRules rules = user.Rules;
        w.WriteMapHeader(6);
        w.WriteBulkString("flags"u8);
        string[] flags = rules.Flags().ToArray();
        w.WriteSetHeader(flags.Length);
        foreach (string flag in flags) w.WriteBulkString(flag);
        w.WriteBulkString("passwords"u8);
        w.WriteArrayHeader(rules.Passwords.Count);
        foreach (string hash in rules.Passwords) w.WriteBulkString(hash);
        WriteSelector(w, rules.Root);
        w.WriteBulkString("selectors"u8);
        w.WriteArrayHeader(rules.Selectors.Count - 1);
        for (int i = 1; i < rules.Selectors.Count; i++)
        {
            w.WriteMapHeader(3);
            WriteSelector(w, rules.Selectors[i]);
        }
    }

    private static void WriteSelector(RespWriter w, AclSelector selector)
    {
        w.WriteBulkString("commands"u8);
        WriteText(w, selector.DescribeCommands());
        w.WriteBulkString("keys"u8);
        WriteText(w, selector.DescribeKeys());
        w.WriteBulkString("channels"u8);
        WriteText(w, selector.DescribeChannels());
    }

    /// <summary><c>ACL LIST</c>: every user as a config line (<c>user name rules</c>), by name.</summary>
    private static void List(ClientSession client, in CommandArgs args)
    {
        IReadOnlyList<string> lines = client.Server.Acl.DescribeUsers();
        client.Writer.WriteArrayHeader(lines.Count);
        foreach (string line in lines) WriteText(client.Writer, line);
    }

    /// <summary><c>ACL USERS</c>: every user name, by name.</summary>
    private static void Users(ClientSession client, in CommandArgs args)
    {
        IReadOnlyList<AclUser> users = client.Server.Acl.Users;
        client.Writer.WriteArrayHeader(users.Count);
        foreach (AclUser user in users) WriteText(client.Writer, user.Name);
    }

    /// <summary><c>ACL WHOAMI</c>: the client's user name.</summary>
    private static void WhoAmI(ClientSession client, in CommandArgs args) => WriteText(client.Writer, client.User.Name);

    /// <summary>
    /// <c>ACL LOAD</c>: reloads the users from <c>aclfile</c> (all or nothing; clients of replaced users are disconnected):
    /// <c>+OK</c>, the errors found, or, without an ACL file, Redis's <c>-ERR This Redis instance is not configured to use an ACL file…</c>.
    /// </summary>
    private static void Load(ClientSession client, in CommandArgs args)
    {
        string path = client.Server.Options.AclFile;
        if (path.Length == 0)
        {
            client.Writer.WriteError(NoAclFile);
            return;
        }
        string? errors = client.Server.Acl.LoadFile(path, client);
        if (errors == null) client.Writer.WriteOk();
        else client.Writer.WriteError(Encoding.Latin1.GetBytes("ERR " + errors.Replace('\r', ' ').Replace('\n', ' ')));
    }

    /// <summary><c>ACL SAVE</c>: writes the users to <c>aclfile</c> through a temporary file renamed over it.</summary>
    private static void Save(ClientSession client, in CommandArgs args)
    {
        string path = client.Server.Options.AclFile;
        if (path.Length == 0)
        {
            client.Writer.WriteError(NoAclFile);
            return;
        }
        if (client.Server.Acl.SaveFile(path)) client.Writer.WriteOk();
        else client.Writer.WriteError("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
    }

    /// <summary>
    /// <c>ACL CAT [category]</c>: the category names in Redis's order, or the commands (and subcommands, as
    /// <c>container|sub</c>) in <paramref name="args"/>[2]; <c>-ERR Unknown category 'x'</c>.
    /// </summary>
    private static void Cat(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        if (args.Count == 2)
        {
            w.WriteArrayHeader(AclCategories.Names.Length);
            foreach (string name in AclCategories.Names) w.WriteBulkString(name);
            return;
        }
        if (args.Count != 3)
        {
            SyntaxError(client, args);
            return;
        }
        int bit = AclCategories.BitOf(Text(args[2]));
        if (bit == 0)
        {
            string name = Text(args[2]);
            w.WriteError(Encoding.Latin1.GetBytes($"ERR Unknown category '{(name.Length > 128 ? name[..128] : name)}'"));
            return;
        }
        var names = new List<string>();
        foreach (CommandInfo command in client.Server.Commands.Original.All)
        {
            if ((command.AclCategoryBits & bit) != 0) names.Add(command.FullName);
            if (command.Subcommands != null)
                foreach (CommandInfo sub in command.Subcommands)
                    if ((sub.AclCategoryBits & bit) != 0) names.Add(sub.FullName);
        }
        w.WriteArrayHeader(names.Count);
        foreach (string name in names) w.WriteBulkString(name);
    }

    /// <summary>
    /// <c>ACL GENPASS [bits]</c>: <c>ceil(bits/4)</c> random hex characters (256 bits by default);
    /// <c>-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096</c>.
    /// </summary>
    private static void GenPass(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            SyntaxError(client, args);
            return;
        }
        long bits = 256;
        if (args.Count == 3 && !RespInteger.TryParse(args[2], out bits))
        {
            client.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        if (bits <= 0 || bits > 4096)
        {
            client.Writer.WriteError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
            return;
        }
        int chars = (int)((bits + 3) / 4);
        string hex = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes((chars + 1) / 2));
        client.Writer.WriteBulkString(hex[..chars]);
    }

    /// <summary><c>ACL LOG [count|RESET]</c>: the newest entries (10 by default; a negative count is 0), or <c>+OK</c> after clearing.</summary>
    private static void Log(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            SyntaxError(client, args);
            return;
        }
        long count = 10;
        if (args.Count == 3)
        {
            if (args.Is(2, "RESET"u8))
            {
                client.Server.Acl.Log.Reset();
                client.Writer.WriteOk();
                return;
            }
            if (!RespInteger.TryParse(args[2], out count))
            {
                client.Writer.WriteError(CommandErrors.NotInteger);
                return;
            }
            if (count < 0) count = 0;
        }
        client.Server.Acl.Log.Write(client.Writer, count);
    }

    /// <summary>
    /// <c>ACL DRYRUN username command [arg…]</c>: <c>+OK</c> when the user may run it, else a bulk string saying why
    /// (<c>This user has no permissions to run the 'cmd' command</c>, <c>… to access the 'key' key</c>, <c>… the 'ch'
    /// channel</c>); <c>-ERR User 'u' not found</c>, <c>-ERR Command 'c' not found</c>, or the command's arity error.
    /// </summary>
    private static void DryRun(ClientSession client, in CommandArgs args)
    {
        RespWriter w = client.Writer;
        AclUser? user = client.Server.Acl.Find(Text(args[2]));
        if (user == null)
        {
            w.WriteError(Encoding.Latin1.GetBytes($"ERR User '{Text(args[2])}' not found"));
            return;
        }
        CommandArgs rest = args.Slice(3);
        CommandTable table = client.Server.Commands;
        CommandInfo? command = table.Lookup(rest[0]);
        if (command?.Subcommands != null && rest.Count > 1) command = table.LookupSubcommand(command, rest[1]);
        if (command == null)
        {
            w.WriteError(Encoding.Latin1.GetBytes($"ERR Command '{Text(rest[0])}' not found"));
            return;
        }
        if (!command.AcceptsArgumentCount(rest.Count))
        {
            w.WriteError(CommandErrors.WrongArity(command));
            return;
        }
        AclDenial denial = AccessControl.Check(user, command, rest, out int position);
        string? why = denial switch
        {
            AclDenial.None => null,
            AclDenial.Command => $"This user has no permissions to run the '{command.FullName}' command",
            AclDenial.Key => $"This user has no permissions to access the '{Text(rest[position])}' key",
            _ => $"This user has no permissions to access the '{Text(rest[position])}' channel",
        };
        if (why == null) w.WriteOk();
        else w.WriteBulkString(Encoding.Latin1.GetBytes(why));
    }

    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("ACL",
    [
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
    ]);
}
