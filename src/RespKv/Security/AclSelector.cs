using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Security;

/// <summary>A key pattern of a selector (<c>~pattern</c>, <c>%R~</c>, <c>%W~</c>, <c>%RW~</c>): the glob and the permissions it grants.</summary>
/// <param name="Pattern">The glob, as given (Latin-1 text: one char per byte).</param>
/// <param name="Permissions">Bit 1 = read (<c>R</c>), bit 2 = write (<c>W</c>); 3 (both) prints as <c>~pattern</c>.</param>
internal sealed record AclKeyPattern(string Pattern, int Permissions)
{
    /// <summary>The read permission bit (Redis's <c>ACL_READ_PERMISSION</c>).</summary>
    public const int Read = 1;

    /// <summary>The write permission bit (Redis's <c>ACL_WRITE_PERMISSION</c>).</summary>
    public const int Write = 2;

    /// <summary>The pattern's bytes, for matching.</summary>
    public byte[] Bytes { get; } = Encoding.Latin1.GetBytes(Pattern);

    /// <summary>The permissions widened by a repeated pattern (Redis ORs the flags of the same pattern).</summary>
    public int Permissions { get; set; } = Permissions;

    /// <summary>As ACL LIST and GETUSER print it (Redis's <c>sdsCatPatternString</c>): <c>~p</c>, <c>%R~p</c> or <c>%W~p</c>.</summary>
    public override string ToString() => Permissions switch
    {
        Read | Write => "~" + Pattern,
        Read => "%R~" + Pattern,
        _ => "%W~" + Pattern,
    };
}

/// <summary>
/// One ACL selector (Redis 7.0 acl.c <c>aclSelector</c>): the commands (a bitmap over the command table's rows,
/// indexed by <see cref="CommandInfo.StatsIndex"/>, plus first-argument exceptions), key patterns and channel
/// patterns a user may use. A user has a root selector (rules written outside parentheses) and any number of
/// <c>(…)</c> selectors; a command is allowed when one selector allows it whole. Mutated only while a rule set is
/// built (<see cref="AclRules"/> is copied on write), so checks read it without locks.
/// </summary>
internal sealed class AclSelector
{
    private readonly CommandTable _table;

    /// <summary>An empty selector (no command, key or channel) over <paramref name="table"/>; <paramref name="allChannels"/> as <c>acl-pubsub-default</c>.</summary>
    public AclSelector(CommandTable table, bool root, bool allChannels)
    {
        _table = table;
        Root = root;
        AllChannels = allChannels;
        Allowed = new ulong[(table.StatsRows.Count + 63) / 64];
    }

    /// <summary>True for the user's root selector.</summary>
    public bool Root { get; }

    /// <summary><c>allkeys</c> / <c>~*</c>: any key, read and write.</summary>
    public bool AllKeys { get; private set; }

    /// <summary><c>allchannels</c> / <c>&amp;*</c>: any channel.</summary>
    public bool AllChannels { get; private set; }

    /// <summary><c>allcommands</c> / <c>+@all</c> with nothing removed since (Redis's <c>SELECTOR_FLAG_ALLCOMMANDS</c>).</summary>
    public bool AllCommands { get; private set; }

    /// <summary>
    /// Set by <c>+@all</c>, cleared by <c>-@all</c> only (Redis's reserved last command bit): the description then starts
    /// from <c>+@all</c> and subtracts.
    /// </summary>
    public bool Future { get; private set; }

    /// <summary>The allowed-command bitmap, one bit per <see cref="CommandTable.StatsRows"/> row.</summary>
    public ulong[] Allowed { get; private set; }

    /// <summary>First arguments allowed for an otherwise denied command without subcommands (<c>+select|0</c>), by row index.</summary>
    public SortedDictionary<int, List<string>>? FirstArgs { get; private set; }

    /// <summary>Key patterns in the order added.</summary>
    public List<AclKeyPattern> Keys { get; private set; } = [];

    /// <summary>Channel patterns in the order added (Latin-1 text).</summary>
    public List<string> Channels { get; private set; } = [];

    private List<byte[]> _channelBytes = [];

    /// <summary>A deep copy.</summary>
    public AclSelector Clone()
    {
        var copy = new AclSelector(_table, Root, AllChannels)
        {
            AllKeys = AllKeys,
            AllCommands = AllCommands,
            Future = Future,
            Allowed = (ulong[])Allowed.Clone(),
            Keys = Keys.Select(k => new AclKeyPattern(k.Pattern, k.Permissions)).ToList(),
            Channels = [.. Channels],
            _channelBytes = [.. _channelBytes],
        };
        if (FirstArgs != null)
        {
            copy.FirstArgs = new SortedDictionary<int, List<string>>();
            foreach (var (id, list) in FirstArgs) copy.FirstArgs[id] = [.. list];
        }
        return copy;
    }

    /// <summary>True when the bit of row <paramref name="id"/> is set.</summary>
    public bool HasBit(int id) => (Allowed[id >> 6] & (1UL << (id & 63))) != 0;

    private void SetBit(int id, bool value)
    {
        if (value) Allowed[id >> 6] |= 1UL << (id & 63);
        else
        {
            Allowed[id >> 6] &= ~(1UL << (id & 63));
            AllCommands = false;
        }
    }

    /// <summary>Allows or denies <paramref name="command"/> and, for a container, every subcommand (Redis's <c>ACLChangeSelectorPerm</c>).</summary>
    public void ChangePermission(CommandInfo command, bool allow)
    {
        SetBit(command.StatsIndex, allow);
        FirstArgs?.Remove(command.StatsIndex);
        if (command.Subcommands != null)
            foreach (CommandInfo sub in command.Subcommands) SetBit(sub.StatsIndex, allow);
    }

    private void SetCategory(int categoryBit, bool allow)
    {
        foreach (CommandInfo command in _table.All)
        {
            if ((command.AclCategoryBits & categoryBit) != 0) ChangePermission(command, allow);
            if (command.Subcommands != null)
                foreach (CommandInfo sub in command.Subcommands)
                    if ((sub.AclCategoryBits & categoryBit) != 0) ChangePermission(sub, allow);
        }
    }

    /// <summary>
    /// Applies one selector rule (Redis 7.0's <c>ACLSetSelector</c>): <c>allkeys ~* resetkeys ~p %R~p %W~p %RW~p allchannels &amp;*
    /// resetchannels &amp;p allcommands +@all nocommands -@all +cmd -cmd +cmd|sub +cmd|firstarg +@cat -@cat</c>. Returns
    /// null, or the error Redis reports for it (<see cref="AclError"/>).
    /// </summary>
    public AclError? Apply(string op)
    {
        if (Is(op, "allkeys") || op == "~*")
        {
            AllKeys = true;
            Keys = [];
        }
        else if (Is(op, "resetkeys"))
        {
            AllKeys = false;
            Keys = [];
        }
        else if (Is(op, "allchannels") || op == "&*")
        {
            AllChannels = true;
            Channels = [];
            _channelBytes = [];
        }
        else if (Is(op, "resetchannels"))
        {
            AllChannels = false;
            Channels = [];
            _channelBytes = [];
        }
        else if (Is(op, "allcommands") || Is(op, "+@all"))
        {
            Array.Fill(Allowed, ulong.MaxValue);
            AllCommands = true;
            Future = true;
            FirstArgs = null;
        }
        else if (Is(op, "nocommands") || Is(op, "-@all"))
        {
            Array.Clear(Allowed);
            AllCommands = false;
            Future = false;
            FirstArgs = null;
        }
        else if (op[0] is '~' or '%')
        {
            if (AllKeys) return AclError.KeysAfterAll;
            int flags = 0, offset = 1;
            if (op[0] == '%')
            {
                for (; offset < op.Length; offset++)
                {
                    char c = char.ToUpperInvariant(op[offset]);
                    if (c == 'R' && (flags & AclKeyPattern.Read) == 0) flags |= AclKeyPattern.Read;
                    else if (c == 'W' && (flags & AclKeyPattern.Write) == 0) flags |= AclKeyPattern.Write;
                    else if (op[offset] == '~')
                    {
                        offset++;
                        break;
                    }
                    else return AclError.Syntax;
                }
            }
            else flags = AclKeyPattern.Read | AclKeyPattern.Write;
            string pattern = op[Math.Min(offset, op.Length)..];
            if (HasSpaces(pattern)) return AclError.Syntax;
            AclKeyPattern? existing = Keys.Find(k => k.Pattern == pattern);
            if (existing == null) Keys.Add(new AclKeyPattern(pattern, flags));
            else existing.Permissions |= flags;
            AllKeys = false;
        }
        else if (op[0] == '&')
        {
            if (AllChannels) return AclError.ChannelsAfterAll;
            string pattern = op[1..];
            if (HasSpaces(pattern)) return AclError.Syntax;
            if (!Channels.Contains(pattern))
            {
                Channels.Add(pattern);
                _channelBytes.Add(Encoding.Latin1.GetBytes(pattern));
            }
            AllChannels = false;
        }
        else if (op[0] == '+' && (op.Length < 2 || op[1] != '@'))
        {
            string name = op[1..];
            int bar = name.LastIndexOf('|');
            if (bar < 0)
            {
                CommandInfo? command = Lookup(name);
                if (command == null) return AclError.UnknownCommand;
                ChangePermission(command, true);
                return null;
            }
            CommandInfo? container = Lookup(name[..bar]);
            if (container == null) return AclError.UnknownCommand;
            if (container.Parent != null) return AclError.FirstArgOfSubcommand;
            string sub = name[(bar + 1)..];
            if (sub.Length == 0) return AclError.Syntax;
            if (container.Subcommands != null)
            {
                CommandInfo? subcommand = Lookup(name);
                if (subcommand == null) return AclError.UnknownCommand;
                ChangePermission(subcommand, true);
            }
            else
            {
                FirstArgs ??= new SortedDictionary<int, List<string>>();
                if (!FirstArgs.TryGetValue(container.StatsIndex, out List<string>? list)) FirstArgs[container.StatsIndex] = list = [];
                if (!list.Exists(s => string.Equals(s, sub, StringComparison.OrdinalIgnoreCase))) list.Add(sub);
            }
        }
        else if (op[0] == '-' && (op.Length < 2 || op[1] != '@'))
        {
            CommandInfo? command = Lookup(op[1..]);
            if (command == null) return AclError.UnknownCommand;
            ChangePermission(command, false);
        }
        else if (op[0] is '+' or '-' && op.Length > 1 && op[1] == '@')
        {
            int bit = AclCategories.BitOf(op[2..]);
            if (bit == 0) return AclError.UnknownCommand;
            SetCategory(bit, op[0] == '+');
        }
        else return AclError.Syntax;
        return null;
    }

    /// <summary>A command by name as ACL rules name it (<c>get</c>, <c>config|get</c>; any case), from the original table (rename-command does not affect ACLs).</summary>
    private CommandInfo? Lookup(string name) => name.Length == 0 ? null : _table.Lookup(name.ToLowerInvariant());

    private static bool Is(string op, string word) => string.Equals(op, word, StringComparison.OrdinalIgnoreCase);

    /// <summary>Redis's <c>ACLStringHasSpaces</c>: a space or NUL.</summary>
    internal static bool HasSpaces(string s) => s.AsSpan().IndexOfAny(' ', '\0') >= 0;

    /// <summary>
    /// Checks one command against this selector (Redis's <c>ACLSelectorCheckCmd</c>): the command bit (or an allowed first
    /// argument), then every key from the key specs with the permission its flags need, then the channels of
    /// PUBLISH/SUBSCRIBE-like commands. <paramref name="position"/> gets the denied key's or channel's argument index.
    /// </summary>
    public AclDenial Check(CommandInfo command, in CommandArgs args, ReadOnlySpan<KeyRef> keys, out int position)
    {
        position = 0;
        if (!AllCommands && (command.Flags & CommandFlags.NoAuth) == 0 && !HasBit(command.StatsIndex))
        {
            int index = command.Parent != null ? 2 : 1;
            if (args.Count <= index || FirstArgs == null || !FirstArgs.TryGetValue(command.StatsIndex, out List<string>? allowed)) return AclDenial.Command;
            bool found = false;
            foreach (string allowedFirst in allowed)
                if (AsciiEqualsIgnoreCase(args[index], allowedFirst))
                {
                    found = true;
                    break;
                }
            if (!found) return AclDenial.Command;
        }
        if (!AllKeys)
        {
            foreach (KeyRef key in keys)
                if (!CheckKey(args[key.Index], key.Flags))
                {
                    position = key.Index;
                    return AclDenial.Key;
                }
        }
        if (!AllChannels && AclChannels.Of(command, out int first, out int last, out bool pattern))
        {
            if (last < 0) last = args.Count - 1;
            for (int i = first; i <= last && i < args.Count; i++)
                if (!CheckChannel(args[i], pattern))
                {
                    position = i;
                    return AclDenial.Channel;
                }
        }
        return AclDenial.None;
    }

    private static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> arg, string text)
    {
        if (arg.Length != text.Length) return false;
        for (int i = 0; i < arg.Length; i++)
        {
            int a = arg[i], b = text[i];
            if (a is >= 'A' and <= 'Z') a += 32;
            if (b is >= 'A' and <= 'Z') b += 32;
            if (a != b) return false;
        }
        return true;
    }

    /// <summary>True when <paramref name="key"/> may be used with <paramref name="flags"/> (Redis's <c>ACLSelectorCheckKey</c>: access needs R; insert, delete, update need W).</summary>
    public bool CheckKey(ReadOnlySpan<byte> key, KeySpecFlags flags)
    {
        if (AllKeys) return true;
        int needed = Needed(flags);
        foreach (AclKeyPattern pattern in Keys)
        {
            if ((pattern.Permissions & needed) != needed) continue;
            if (GlobPattern.IsMatch(pattern.Bytes, key)) return true;
        }
        return false;
    }

    /// <summary>The permissions key-spec flags need: <c>access</c> → R; <c>insert</c>, <c>delete</c>, <c>update</c> → W.</summary>
    internal static int Needed(KeySpecFlags flags)
    {
        int needed = 0;
        if ((flags & KeySpecFlags.Access) != 0) needed |= AclKeyPattern.Read;
        if ((flags & (KeySpecFlags.Insert | KeySpecFlags.Delete | KeySpecFlags.Update)) != 0) needed |= AclKeyPattern.Write;
        return needed;
    }

    /// <summary>True when this selector has a pattern <c>*</c> with <paramref name="needed"/> permissions, or allkeys (Redis's <c>ACLSelectorHasUnrestrictedKeyAccess</c>).</summary>
    public bool HasUnrestrictedKeyAccess(int needed)
    {
        if (AllKeys) return true;
        foreach (AclKeyPattern pattern in Keys)
            if ((pattern.Permissions & needed) == needed && pattern.Pattern == "*") return true;
        return false;
    }

    /// <summary>
    /// True when <paramref name="channel"/> may be used (Redis's <c>ACLCheckChannelAgainstList</c>): a channel is matched
    /// against each pattern; a pattern (PSUBSCRIBE) must equal one literally.
    /// </summary>
    public bool CheckChannel(ReadOnlySpan<byte> channel, bool isPattern)
    {
        if (AllChannels) return true;
        foreach (byte[] pattern in _channelBytes)
            if (isPattern ? channel.SequenceEqual(pattern) : GlobPattern.IsMatch(pattern, channel)) return true;
        return false;
    }

    /// <summary>Number of commands of category <paramref name="bit"/> whose bit is on and off in <paramref name="bits"/>.</summary>
    private void CountCategory(ulong[] bits, int bit, out int on, out int off)
    {
        on = off = 0;
        foreach (CommandInfo command in _table.StatsRows)
        {
            if ((command.AclCategoryBits & bit) == 0) continue;
            int id = command.StatsIndex;
            if ((bits[id >> 6] & (1UL << (id & 63))) != 0) on++;
            else off++;
        }
    }

    /// <summary>
    /// The command rules that rebuild this selector's bitmap (Redis 7.0's <c>ACLDescribeSelectorCommandRules</c>):
    /// <c>+@all</c> or <c>-@all</c>, then the best-fitting categories one at a time, then single commands and first
    /// arguments. Redis walks its command dictionary in hash order; RespKv walks its table in name order.
    /// </summary>
    public string DescribeCommands()
    {
        var rules = new StringBuilder();
        bool additive = !Future;
        var fake = new AclSelector(_table, root: false, allChannels: false);
        fake.Apply(additive ? "-@all" : "+@all");
        rules.Append(additive ? "-@all " : "+@all ");
        ulong[] temp = (ulong[])Allowed.Clone();
        var tempSelector = new AclSelector(_table, false, false) { Allowed = temp };
        bool[] applied = new bool[AclCategories.Names.Length];
        while (true)
        {
            int best = -1, minDiff = int.MaxValue, maxSame = 0;
            for (int j = 0; j < AclCategories.Names.Length; j++)
            {
                if (applied[j]) continue;
                CountCategory(tempSelector.Allowed, 1 << j, out int on, out int off);
                int diff = additive ? off : on, same = additive ? on : off;
                if (same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)))
                {
                    best = j;
                    minDiff = diff;
                    maxSame = same;
                }
            }
            if (best < 0) break;
            string name = AclCategories.Names[best];
            fake.SetCategory(1 << best, additive);
            tempSelector.SetCategory(1 << best, !additive);
            rules.Append(additive ? "+@" : "-@").Append(name).Append(' ');
            applied[best] = true;
        }
        foreach (CommandInfo command in _table.All)
        {
            DescribeSingle(command, fake, rules);
            if (command.Subcommands != null)
                foreach (CommandInfo sub in command.Subcommands) DescribeSingle(sub, fake, rules);
        }
        if (rules.Length > 0) rules.Length--;
        return rules.ToString();
    }

    private void DescribeSingle(CommandInfo command, AclSelector fake, StringBuilder rules)
    {
        bool user = HasBit(command.StatsIndex);
        if (user != fake.HasBit(command.StatsIndex))
        {
            rules.Append(user ? '+' : '-').Append(command.FullName).Append(' ');
            fake.ChangePermission(command, user);
        }
        if (!user && FirstArgs != null && FirstArgs.TryGetValue(command.StatsIndex, out List<string>? firsts))
            foreach (string first in firsts) rules.Append('+').Append(command.FullName).Append('|').Append(first).Append(' ');
    }

    /// <summary>The selector as ACL LIST prints it (Redis's <c>ACLDescribeSelector</c>): keys, channels (after <c>resetchannels</c>), commands.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        if (AllKeys) text.Append("~* ");
        else foreach (AclKeyPattern k in Keys) text.Append(k).Append(' ');
        if (AllChannels) text.Append("&* ");
        else
        {
            text.Append("resetchannels ");
            foreach (string c in Channels) text.Append('&').Append(c).Append(' ');
        }
        text.Append(DescribeCommands());
        return text.ToString();
    }

    /// <summary>GETUSER's <c>keys</c> field: <c>~*</c>, or the patterns space-separated.</summary>
    public string DescribeKeys() => AllKeys ? "~*" : string.Join(' ', Keys.Select(k => k.ToString()));

    /// <summary>GETUSER's <c>channels</c> field: <c>&amp;*</c>, or the patterns space-separated.</summary>
    public string DescribeChannels() => AllChannels ? "&*" : string.Join(' ', Channels.Select(c => "&" + c));
}

/// <summary>Why a command is denied (Redis's <c>ACL_DENIED_*</c>, ordered as Redis ranks them when picking the error to report).</summary>
public enum AclDenial
{
    /// <summary>Allowed (<c>ACL_OK</c>).</summary>
    None = 0,
    /// <summary>The command or subcommand (<c>ACL_DENIED_CMD</c>).</summary>
    Command = 1,
    /// <summary>A key (<c>ACL_DENIED_KEY</c>).</summary>
    Key = 2,
    /// <summary>AUTH failed (<c>ACL_DENIED_AUTH</c>): only in ACL LOG.</summary>
    Auth = 3,
    /// <summary>A channel (<c>ACL_DENIED_CHANNEL</c>).</summary>
    Channel = 4,
}

/// <summary>The errors of a rule (Redis's <c>errno</c> values of <c>ACLSetUser</c>, read by <c>ACLSetUserStringError</c>).</summary>
public enum AclError
{
    /// <summary>EINVAL: <c>Syntax error</c>.</summary>
    Syntax,
    /// <summary>ENOENT: <c>Unknown command or category name in ACL</c>.</summary>
    UnknownCommand,
    /// <summary>EEXIST: a key pattern after <c>allkeys</c>.</summary>
    KeysAfterAll,
    /// <summary>EISDIR: a channel pattern after <c>allchannels</c>.</summary>
    ChannelsAfterAll,
    /// <summary>ENODEV: removing a password the user does not have.</summary>
    NoSuchPassword,
    /// <summary>EBADMSG: a malformed <c>#hash</c>/<c>!hash</c>.</summary>
    BadHash,
    /// <summary>ECHILD: <c>+cmd|sub|arg</c>.</summary>
    FirstArgOfSubcommand,
    /// <summary>EALREADY: a user defined twice in config files.</summary>
    Duplicate,
}

/// <summary>Which arguments of the Pub/Sub commands are channels for ACL checks (Redis 7.0 db.c <c>ChannelSpecs</c>, publish and subscribe flags only).</summary>
internal static class AclChannels
{
    /// <summary>True for SUBSCRIBE, SSUBSCRIBE, PSUBSCRIBE (patterns), PUBLISH, SPUBLISH: their channel arguments <paramref name="first"/>..<paramref name="last"/> (-1 = to the end).</summary>
    public static bool Of(CommandInfo command, out int first, out int last, out bool pattern)
    {
        first = 1;
        last = -1;
        pattern = false;
        if (command.Parent != null || (command.Flags & CommandFlags.Pubsub) == 0) return false;
        switch (command.Name)
        {
            case "subscribe":
            case "ssubscribe":
                return true;
            case "psubscribe":
                pattern = true;
                return true;
            case "publish":
            case "spublish":
                last = 1;
                return true;
            default:
                return false;
        }
    }
}

/// <summary>Redis 7.0's ACL categories, in acl.c's <c>ACLCommandCategories</c> order (bit j = category j).</summary>
public static class AclCategories
{
    /// <summary>The category names, without <c>@</c>, in Redis's order (ACL CAT prints them so).</summary>
    public static readonly string[] Names =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
        "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
        "transaction", "scripting",
    ];

    /// <summary>The bit of category <paramref name="name"/> (any case, without <c>@</c>), or 0 when unknown.</summary>
    public static int BitOf(string name)
    {
        for (int j = 0; j < Names.Length; j++)
            if (string.Equals(Names[j], name, StringComparison.OrdinalIgnoreCase)) return 1 << j;
        return 0;
    }

    /// <summary>The bits of <paramref name="categories"/> as COMMAND prints them (<c>@read</c>…).</summary>
    public static int BitsOf(IEnumerable<string> categories)
    {
        int bits = 0;
        foreach (string c in categories) bits |= BitOf(c.TrimStart('@'));
        return bits;
    }
}
