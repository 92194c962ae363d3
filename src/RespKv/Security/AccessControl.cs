using System.Buffers;
using System.Globalization;
using System.Text;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Server.Commands;

namespace RespKv.Security;

/// <summary>
/// The server's users and their permission checks (Redis 7.0 acl.c, https://redis.io/docs/management/security/acl/):
/// the user table (the <c>default</c> user always exists: <c>on nopass ~* &amp;* +@all</c>, or with <c>requirepass</c>'s
/// password), ACL SETUSER's all-or-nothing rule application, the check every command passes
/// (<see cref="Check"/>), the ACL LOG, and the ACL file (<see cref="LoadFile"/>, <see cref="SaveFile"/>). Users are
/// replaced copy-on-write, so checks never lock.
/// </summary>
public sealed class AccessControl
{
    private readonly RespServer _server;
    private readonly Lock _lock = new();
    private SortedDictionary<string, AclUser> _users = new(StringComparer.Ordinal);

    /// <summary>The ACL of <paramref name="server"/>: the default user only, its password from <c>requirepass</c>.</summary>
    public AccessControl(RespServer server)
    {
        _server = server;
        Default = new AclUser("default", DefaultRules(server.Options.RequirePass));
        _users["default"] = Default;
        server.Options.RequirePassChanged += UpdateDefaultPassword;
        Log = new AclLog(server.Options);
    }

    private CommandTable Table => _server.Commands.Original;

    private bool ReadPubsubAll() => _server.Options.AclPubsubDefaultAll;

    private Func<bool> PubsubAll => _pubsubAll ??= ReadPubsubAll;

    private Func<bool>? _pubsubAll;

    /// <summary>The <c>default</c> user (new connections start as it).</summary>
    public AclUser Default { get; private set; }

    /// <summary>The ACL LOG.</summary>
    public AclLog Log { get; }

    /// <summary>Redis's <c>ACLCreateDefaultUser</c>, then <c>ACLUpdateDefaultUserPassword(requirepass)</c>.</summary>
    private AclRules DefaultRules(string requirePass)
    {
        var rules = new AclRules(Table, PubsubAll);
        foreach (string op in new[] { "+@all", "~*", "&*", "on", "nopass" }) rules.Apply(op);
        if (requirePass.Length > 0)
        {
            rules.Apply("resetpass");
            rules.Apply(">" + Latin1(Encoding.UTF8.GetBytes(requirePass)));
        }
        return rules.Seal();
    }

    /// <summary>CONFIG SET requirepass: the default user's passwords become that one (empty: <c>nopass</c>).</summary>
    private void UpdateDefaultPassword(string password)
    {
        lock (_lock)
        {
            AclRules rules = Default.Rules.Clone();
            rules.Apply("resetpass");
            rules.Apply(password.Length > 0 ? ">" + Latin1(Encoding.UTF8.GetBytes(password)) : "nopass");
            Default.Rules = rules.Seal();
        }
    }

    /// <summary>Bytes as Latin-1 text (one char per byte), the form ACL names, rules and patterns take internally.</summary>
    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The user named <paramref name="name"/>, or null.</summary>
    public AclUser? Find(string name)
    {
        lock (_lock) return _users.GetValueOrDefault(name);
    }

    /// <summary>Every user, by name (byte order, as Redis's radix tree).</summary>
    public IReadOnlyList<AclUser> Users
    {
        get
        {
            lock (_lock) return _users.Values.ToArray();
        }
    }

    /// <summary>
    /// True when a new connection starts authenticated (Redis's <c>createClient</c>): the default user is <c>nopass</c>
    /// and enabled.
    /// </summary>
    public bool DefaultNeedsNoAuth
    {
        get
        {
            AclRules rules = Default.Rules;
            return rules.NoPass && rules.Enabled;
        }
    }

    /// <summary>
    /// Redis's <c>ACLCheckUserCredentials</c>: the user when <paramref name="username"/> exists, is on, and
    /// <paramref name="password"/> is one of its passwords (or it is nopass); else null.
    /// </summary>
    public AclUser? CheckCredentials(ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        AclUser? user = Find(Latin1(username));
        if (user == null) return null;
        AclRules rules = user.Rules;
        if (!rules.Enabled) return null;
        return rules.CheckPassword(password) ? user : null;
    }

    /// <summary>
    /// ACL SETUSER (Redis 7.0's <c>ACLStringSetUser</c>): merges selectors split over several arguments, applies every
    /// rule to a copy of the user (a new user when absent) and publishes it only when all apply. Returns null, or the
    /// error without <c>ERR</c>: <c>Error in ACL SETUSER modifier '…': reason</c> or <c>Unmatched parenthesis in acl
    /// selector starting at '…'.</c>. Subscribed clients of the user whose channels were revoked are disconnected.
    /// </summary>
    public string? SetUser(string name, IReadOnlyList<string> ops)
    {
        List<string>? merged = MergeSelectors(ops, out int invalid);
        if (merged == null) return $"Unmatched parenthesis in acl selector starting at '{ops[invalid]}'.";
        lock (_lock)
        {
            AclUser? user = _users.GetValueOrDefault(name);
            AclRules rules = user?.Rules.Clone() ?? new AclRules(Table, PubsubAll);
            foreach (string op in merged)
                if (rules.Apply(op) is { } error)
                    return $"Error in ACL SETUSER modifier '{op}': {ErrorText(error)}";
            rules.Seal();
            if (user == null) _users[name] = new AclUser(name, rules);
            else
            {
                AclRules old = user.Rules;
                user.Rules = rules;
                KillPubsubClientsIfNeeded(user, old, rules);
            }
        }
        return null;
    }

    /// <summary>
    /// Redis's <c>ACLMergeSelectorArguments</c>: an argument opening with <c>(</c> but not closing with <c>)</c> is joined with
    /// the following ones (space-separated) up to the one that closes; null when one never closes (<paramref name="invalid"/> = its index).
    /// </summary>
    public static List<string>? MergeSelectors(IReadOnlyList<string> ops, out int invalid)
    {
        invalid = -1;
        var merged = new List<string>(ops.Count);
        StringBuilder? selector = null;
        for (int j = 0; j < ops.Count; j++)
        {
            string op = ops[j];
            if (op.Length > 0 && op[0] == '(' && op[^1] != ')')
            {
                selector = new StringBuilder(op);
                invalid = j;
                continue;
            }
            if (invalid >= 0)
            {
                selector!.Append(' ').Append(op);
                if (op.Length > 0 && op[^1] == ')')
                {
                    invalid = -1;
                    merged.Add(selector.ToString());
                }
                continue;
            }
            merged.Add(op);
        }
        return invalid >= 0 ? null : merged;
    }

    /// <summary>Redis's <c>ACLSetUserStringError</c> texts.</summary>
    public static string ErrorText(AclError error) => error switch
    {
        AclError.UnknownCommand => "Unknown command or category name in ACL",
        AclError.Syntax => "Syntax error",
        AclError.KeysAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
        AclError.ChannelsAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        AclError.NoSuchPassword => "The password you are trying to remove from the user does not exist",
        AclError.BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        AclError.Duplicate => "Duplicate user found. A user can only be defined once in config files",
        AclError.FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        _ => "Wrong format",
    };

    /// <summary>
    /// ACL DELUSER: removes the users (never <c>default</c>: the caller checks) and disconnects their clients (Redis's
    /// <c>ACLFreeUserAndKillClients</c>: the calling client closes after its reply). Returns how many existed.
    /// </summary>
    public int DeleteUsers(IEnumerable<string> names, ClientSession caller)
    {
        int deleted = 0;
        var gone = new List<AclUser>();
        lock (_lock)
        {
            foreach (string name in names)
                if (_users.Remove(name, out AclUser? user))
                {
                    user.Deleted = true;
                    gone.Add(user);
                    deleted++;
                }
        }
        if (gone.Count > 0) DisconnectUsers(gone, caller);
        return deleted;
    }

    /// <summary>Disconnects every client authenticated as one of <paramref name="users"/>, as Redis frees them (the caller after its reply).</summary>
    private void DisconnectUsers(ICollection<AclUser> users, ClientSession? caller)
    {
        foreach (ClientSession client in _server.Clients.Snapshot())
        {
            if (!users.Contains(client.User)) continue;
            client.User = Default;
            client.Authenticated = false;
            if (ReferenceEquals(client, caller)) client.CloseRequested = true;
            else client.Close();
        }
    }

    /// <summary>
    /// Redis's <c>ACLKillPubsubClientsIfNeeded</c>: when the new rules no longer allow every channel the old ones did, the
    /// user's subscribed clients with a channel or pattern the new rules refuse are disconnected.
    /// </summary>
    private void KillPubsubClientsIfNeeded(AclUser user, AclRules old, AclRules next)
    {
        if (next.Selectors.Exists(s => s.AllChannels)) return;
        var upcoming = next.Selectors.SelectMany(s => s.Channels).ToList();
        bool superset = !old.Selectors.Exists(s => s.AllChannels) && old.Selectors.SelectMany(s => s.Channels).All(upcoming.Contains);
        if (superset) return;
        var check = new AclSelector(Table, root: false, allChannels: false);
        foreach (string channel in upcoming) check.Apply("&" + channel);
        foreach (ClientSession client in _server.Clients.Snapshot())
        {
            if (!ReferenceEquals(client.User, user) || !client.IsSubscribed) continue;
            bool kill = client.SubscribedPatterns().Any(p => !check.CheckChannel(p, isPattern: true))
                || client.SubscribedChannels(shard: false).Any(c => !check.CheckChannel(c, isPattern: false))
                || client.SubscribedChannels(shard: true).Any(c => !check.CheckChannel(c, isPattern: false));
            if (kill) client.Close();
        }
    }

    /// <summary>
    /// Checks <paramref name="command"/> with <paramref name="args"/> for <paramref name="user"/> (Redis 7.0's
    /// <c>ACLCheckAllUserCommandPerm</c>): allowed when one selector allows it whole; otherwise the reason to report — the
    /// command when no selector allows it, else the key or channel that the highest-ranked failure names
    /// (<paramref name="position"/>: its argument index). An unrestricted user (<see cref="AclRules.Unrestricted"/>)
    /// returns at once; no path allocates for a command with up to 16 keys.
    /// </summary>
    public static AclDenial Check(AclUser user, CommandInfo command, in CommandArgs args, out int position)
    {
        position = 0;
        AclRules rules = user.Rules;
        if (rules.Unrestricted) return AclDenial.None;
        Span<KeyRef> keys = stackalloc KeyRef[16];
        KeyRef[]? rented = null;
        int count = command.FindKeysAsRedis(args, keys);
        if (count > keys.Length)
        {
            rented = ArrayPool<KeyRef>.Shared.Rent(count);
            count = command.FindKeysAsRedis(args, rented);
            keys = rented;
        }
        try
        {
            ReadOnlySpan<KeyRef> found = keys[..Math.Max(count, 0)];
            AclDenial relevant = AclDenial.Command;
            int lastIndex = 0;
            foreach (AclSelector selector in rules.Selectors)
            {
                AclDenial result = selector.Check(command, args, found, out int index);
                if (result == AclDenial.None) return AclDenial.None;
                if (result > relevant || (result == relevant && index > lastIndex))
                {
                    relevant = result;
                    lastIndex = index;
                }
            }
            position = lastIndex;
            return relevant;
        }
        finally
        {
            if (rented != null) ArrayPool<KeyRef>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Redis's <c>ACLUserCheckCmdWithUnrestrictedKeyAccess</c> (SORT's BY and GET): true when a selector allows the command
    /// and grants <paramref name="needed"/> on every key (<c>~*</c>, <c>%R~*</c> or allkeys).
    /// </summary>
    public static bool HasUnrestrictedKeyAccess(AclUser user, CommandInfo command, in CommandArgs args, int needed)
    {
        AclRules rules = user.Rules;
        if (rules.Unrestricted) return true;
        Span<KeyRef> keys = stackalloc KeyRef[16];
        int count = Math.Min(command.FindKeysAsRedis(args, keys), keys.Length);
        foreach (AclSelector selector in rules.Selectors)
            if (selector.Check(command, args, keys[..count], out _) == AclDenial.None && selector.HasUnrestrictedKeyAccess(needed)) return true;
        return false;
    }

    /// <summary>
    /// The <c>-NOPERM</c> error of a command refused at admission (Redis 7.0's <c>processCommand</c>), without the leading
    /// <c>-</c>: <c>NOPERM this user has no permissions to run the 'cmd' command</c>, <c>… to access one of the keys used as
    /// arguments</c>, <c>… to access one of the channels used as arguments</c>.
    /// </summary>
    public static string DenialError(AclDenial denial, CommandInfo command) => denial switch
    {
        AclDenial.Command => $"NOPERM this user has no permissions to run the '{command.FullName}' command",
        AclDenial.Key => "NOPERM this user has no permissions to access one of the keys used as arguments",
        AclDenial.Channel => "NOPERM this user has no permissions to access one of the channels used as arguments",
        _ => "no permission",
    };

    /// <summary>Redis's <c>getAclErrorMessage</c> (the script error reads <c>The user executing the script </c> and this).</summary>
    public static string DenialMessage(AclDenial denial) => denial switch
    {
        AclDenial.Command => "can't run this command or subcommand",
        AclDenial.Key => "can't access at least one of the keys mentioned in the command arguments",
        AclDenial.Channel => "can't publish to the channel mentioned in the command",
        _ => "lacking the permissions for the command",
    };

    /// <summary>The lines of ACL LIST, ACL SAVE and CONFIG REWRITE: <c>user name rules</c> for every user, by name.</summary>
    public IReadOnlyList<string> DescribeUsers() => Users.Select(u => "user " + u.Name + " " + u.Rules.Describe()).ToList();

    /// <summary>
    /// Loads the <c>user</c> directives of the config files at start-up (Redis's <c>ACLLoadConfiguredUsers</c>): a user
    /// named twice is an error, <c>default</c> is reset first. Returns null or the error to exit with.
    /// </summary>
    public string? LoadConfigured(IReadOnlyList<string[]> users)
    {
        lock (_lock)
        {
            foreach (string[] line in users)
            {
                string name = line[0];
                if (AclSelector.HasSpaces(name)) return "Spaces not allowed in ACL usernames";
                AclRules rules;
                if (name == "default")
                {
                    rules = Default.Rules.Clone();
                    rules.Apply("reset");
                }
                else rules = new AclRules(Table, PubsubAll);
                for (int j = 1; j < line.Length; j++)
                    if (rules.Apply(line[j]) is { } error)
                        return $"Error loading ACL rule '{line[j]}' for the user named '{name}': {ErrorText(error)}";
                rules.Seal();
                if (name == "default") Default.Rules = rules;
                else _users[name] = new AclUser(name, rules);
            }
        }
        return null;
    }

    /// <summary>
    /// Checks one config-file <c>user</c> directive as Redis's <c>ACLAppendUserForLoading</c> (before the server exists):
    /// returns null and the merged rules, or the error <c>Error in user declaration 'arg': reason</c>.
    /// </summary>
    public static string? ValidateConfigUser(IReadOnlyList<string> argv, IReadOnlyList<string[]> already, out string[] merged)
    {
        merged = [];
        if (already.Any(u => u[0] == argv[1])) return $"Error in user declaration '{argv[1]}': {ErrorText(AclError.Duplicate)}";
        List<string>? rules = MergeSelectors(argv.Skip(2).ToList(), out int invalid);
        if (rules == null) return $"Error in user declaration '{argv[invalid]}': {ErrorText(AclError.Syntax)}";
        var fake = new AclRules(RespKv.Server.CommandFamilies.Table, static () => false);
        for (int j = 0; j < rules.Count; j++)
            if (fake.Apply(rules[j]) is { } error and not AclError.UnknownCommand)
                return $"Error in user declaration '{argv[j]}': {ErrorText(error)}";
        merged = [argv[1], .. rules];
        return null;
    }

    /// <summary>
    /// ACL LOAD and start-up with <c>aclfile</c> (Redis 7.0's <c>ACLLoadFromFile</c>): every line is <c>user name rules…</c>
    /// (blank lines allowed); all lines are checked and, only if none fails, the users are replaced (the default user is
    /// updated in place and recreated when the file lacks it) and every client of a replaced user other than default is
    /// disconnected. Returns null or the one-line description of every problem, ending in <c>WARNING: ACL errors detected,
    /// no change to the previously active ACL rules was performed</c>.
    /// </summary>
    public string? LoadFile(string path, ClientSession? caller)
    {
        string content;
        try
        {
            content = Encoding.Latin1.GetString(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"Error loading ACLs, opening file '{path}': {SystemErrors.Describe(e, path)}";
        }
        var errors = new StringBuilder();
        var loaded = new SortedDictionary<string, AclRules>(StringComparer.Ordinal);
        string[] lines = content.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNumber = i + 1;
            string line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0) continue;
            string[] argv = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (argv.Length == 0) continue;
            if (argv[0] != "user" || argv.Length < 2)
            {
                errors.Append(CultureInfo.InvariantCulture, $"{path}:{lineNumber} should start with user keyword followed by the username. ");
                continue;
            }
            if (AclSelector.HasSpaces(argv[1]))
            {
                errors.Append(CultureInfo.InvariantCulture, $"'{path}:{lineNumber}: username '{argv[1]}' contains invalid characters. ");
                continue;
            }
            if (loaded.ContainsKey(argv[1]))
            {
                errors.Append(CultureInfo.InvariantCulture, $"WARNING: Duplicate user '{argv[1]}' found on line {lineNumber}. ");
                continue;
            }
            var rules = new AclRules(Table, PubsubAll);
            loaded[argv[1]] = rules;
            List<string>? merged = MergeSelectors(argv.Skip(2).ToList(), out _);
            if (merged == null)
            {
                errors.Append(CultureInfo.InvariantCulture, $"{path}:{lineNumber}: Unmatched parenthesis in selector definition.");
                continue;
            }
            bool syntaxError = false;
            foreach (string raw in merged)
            {
                string op = raw.Trim('\t', '\r', '\n');
                if (rules.Apply(op) is not { } error) continue;
                if (error == AclError.UnknownCommand)
                    errors.Append(CultureInfo.InvariantCulture, $"{path}:{lineNumber}: Error in applying operation '{op}': {ErrorText(error)}. ");
                else if (!syntaxError)
                {
                    errors.Append(CultureInfo.InvariantCulture, $"{path}:{lineNumber}: {ErrorText(error)}. ");
                    syntaxError = true;
                }
            }
            rules.Seal();
        }
        if (errors.Length > 0)
            return errors.Append("WARNING: ACL errors detected, no change to the previously active ACL rules was performed").ToString();
        List<AclUser> replaced;
        lock (_lock)
        {
            replaced = _users.Values.Where(u => !ReferenceEquals(u, Default)).ToList();
            var users = new SortedDictionary<string, AclUser>(StringComparer.Ordinal);
            foreach (var (name, rules) in loaded)
                if (name != "default") users[name] = new AclUser(name, rules);
            Default.Rules = loaded.TryGetValue("default", out AclRules? defaultRules) ? defaultRules : DefaultRules("");
            users["default"] = Default;
            foreach (AclUser user in replaced) user.Deleted = true;
            _users = users;
        }
        if (replaced.Count > 0) DisconnectUsers(replaced, caller);
        return null;
    }

    /// <summary>
    /// ACL SAVE (Redis 7.0's <c>ACLSaveToFile</c>): writes every user's line to a temporary file next to
    /// <paramref name="path"/> and renames it over the file (atomic). False on an I/O error (logged).
    /// </summary>
    public bool SaveFile(string path)
    {
        var text = new StringBuilder();
        foreach (string line in DescribeUsers()) text.Append(line).Append('\n');
        string temp = $"{path}.tmp-{Environment.ProcessId}-{Environment.TickCount64}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encoding.Latin1.GetBytes(text.ToString()));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(_server.Logger, "Writing ACL file for ACL SAVE: {Error}", e.Message);
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
            }
            return false;
        }
    }

    /// <summary>
    /// Loads users at start-up (Redis's <c>ACLLoadUsersAtStartup</c>): the config file's <c>user</c> lines and an
    /// <c>aclfile</c> cannot be combined; then the configured users, then the file. Returns null or the fatal message.
    /// </summary>
    public string? LoadAtStartup()
    {
        ServerOptions options = _server.Options;
        if (options.AclFile.Length > 0 && options.ConfigUsers.Count > 0)
            return "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";
        if (LoadConfigured(options.ConfigUsers) is { } error) return error;
        if (options.AclFile.Length > 0 && LoadFile(options.AclFile, null) is { } fileError)
            return "Aborting Redis startup because of ACL errors: " + fileError;
        return null;
    }
}
