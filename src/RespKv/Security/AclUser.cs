using System.Security.Cryptography;
using System.Text;
using RespKv.Execution;

namespace RespKv.Security;

/// <summary>
/// A user's rules (Redis 7.0 acl.c <c>user</c> minus its name): on/off, <c>nopass</c>, password hashes (lower-case hex
/// SHA-256, never the passwords), and selectors — the root one first. Built by applying rules to a copy
/// (<see cref="Clone"/>, <see cref="Apply"/>), then published whole to <see cref="AclUser.Rules"/>, so a permission
/// check reads one consistent snapshot without locks.
/// </summary>
public sealed class AclRules
{
    private readonly CommandTable _table;
    private readonly Func<bool> _pubsubAll;

    /// <summary>
    /// A new user's rules (Redis's <c>ACLCreateUser</c>): off, no password, a root selector with nothing allowed;
    /// <paramref name="pubsubAll"/> reads <c>acl-pubsub-default</c> when a selector is created or <c>reset</c> runs.
    /// </summary>
    internal AclRules(CommandTable table, Func<bool> pubsubAll)
    {
        _table = table;
        _pubsubAll = pubsubAll;
        Selectors.Add(new AclSelector(table, root: true, allChannels: pubsubAll()));
    }

    /// <summary><c>on</c>: the user may authenticate.</summary>
    public bool Enabled { get; private set; }

    /// <summary><c>nopass</c>: any password authenticates.</summary>
    public bool NoPass { get; private set; }

    /// <summary>
    /// <c>skip-sanitize-payload</c>, <c>sanitize-payload</c> or null (neither given): a flag RESTORE would honour; RespKv has
    /// no RESTORE, so it is only kept and printed, in Redis's flag order.
    /// </summary>
    public string? Sanitize { get; private set; }

    /// <summary>The flags as GETUSER lists them, in Redis's <c>ACLUserFlags</c> order.</summary>
    public IEnumerable<string> Flags()
    {
        yield return Enabled ? "on" : "off";
        if (NoPass) yield return "nopass";
        if (Sanitize != null) yield return Sanitize;
    }

    /// <summary>SHA-256 password hashes, lower-case hex, in the order added.</summary>
    public List<string> Passwords { get; private set; } = [];

    /// <summary>The selectors; [0] is the root selector.</summary>
    internal List<AclSelector> Selectors { get; private set; } = [];

    /// <summary>The root selector (rules outside parentheses).</summary>
    internal AclSelector Root => Selectors[0];

    /// <summary>
    /// True when the rules allow everything — one selector with allcommands, allkeys and allchannels (the default
    /// user's <c>+@all ~* &amp;*</c>): the executor's per-command check is then one field read.
    /// </summary>
    public bool Unrestricted { get; private set; }

    /// <summary>A deep copy to change.</summary>
    internal AclRules Clone()
    {
        var copy = new AclRules(_table, _pubsubAll)
        {
            Enabled = Enabled,
            NoPass = NoPass,
            Sanitize = Sanitize,
            Passwords = [.. Passwords],
            Selectors = Selectors.Select(s => s.Clone()).ToList(),
        };
        copy.Seal();
        return copy;
    }

    /// <summary>Computes <see cref="Unrestricted"/> once the rules are complete.</summary>
    internal AclRules Seal()
    {
        AclSelector root = Root;
        Unrestricted = Selectors.Count == 1 && root.AllCommands && root.AllKeys && root.AllChannels;
        return this;
    }

    /// <summary>
    /// Applies one rule (Redis 7.0's <c>ACLSetUser</c>): <c>on off nopass resetpass &gt;pass &lt;pass #hash !hash
    /// (selector rules) clearselectors reset skip-sanitize-payload sanitize-payload</c>, else a selector rule of the root
    /// selector. <paramref name="op"/> is Latin-1 text (one char per byte of the argument). Returns null or the error.
    /// </summary>
    internal AclError? Apply(string op)
    {
        if (op.Length == 0) return null;
        AclError? error = ApplyCore(op);
        Seal();
        return error;
    }

    private AclError? ApplyCore(string op)
    {
        if (Is(op, "on")) Enabled = true;
        else if (Is(op, "off")) Enabled = false;
        else if (Is(op, "skip-sanitize-payload")) Sanitize = "skip-sanitize-payload";
        else if (Is(op, "sanitize-payload")) Sanitize = "sanitize-payload";
        else if (Is(op, "nopass"))
        {
            NoPass = true;
            Passwords = [];
        }
        else if (Is(op, "resetpass"))
        {
            NoPass = false;
            Passwords = [];
        }
        else if (op[0] is '>' or '#')
        {
            if (PasswordHash(op, clearText: '>') is not { } hash) return AclError.BadHash;
            if (!Passwords.Contains(hash)) Passwords.Add(hash);
            NoPass = false;
        }
        else if (op[0] is '<' or '!')
        {
            if (PasswordHash(op, clearText: '<') is not { } hash) return AclError.BadHash;
            if (!Passwords.Remove(hash)) return AclError.NoSuchPassword;
        }
        else if (op[0] == '(' && op[^1] == ')')
        {
            var selector = new AclSelector(_table, root: false, allChannels: _pubsubAll());
            List<string>? rules = Protocol.SdsText.SplitArgs(op[1..^1]);
            if (rules == null) return AclError.Syntax;
            foreach (string rule in rules)
                if (rule.Length > 0 && selector.Apply(rule) is { } error) return error;
            Selectors.Add(selector);
        }
        else if (Is(op, "clearselectors")) Selectors.RemoveRange(1, Selectors.Count - 1);
        else if (Is(op, "reset"))
        {
            NoPass = false;
            Passwords = [];
            Root.Apply("resetkeys");
            Root.Apply("resetchannels");
            if (_pubsubAll()) Root.Apply("allchannels");
            Enabled = false;
            Sanitize = "sanitize-payload";
            Selectors.RemoveRange(1, Selectors.Count - 1);
            Root.Apply("-@all");
        }
        else return Root.Apply(op);
        return null;
    }

    private static bool Is(string op, string word) => string.Equals(op, word, StringComparison.OrdinalIgnoreCase);

    /// <summary>The lower-case hex SHA-256 of <paramref name="password"/> (Redis's <c>ACLHashPassword</c>).</summary>
    public static string HashPassword(ReadOnlySpan<byte> password) => Convert.ToHexStringLower(SHA256.HashData(password));

    /// <summary>
    /// The stored form of a password rule's operand: <c>&gt;pass</c>/<c>&lt;pass</c> (<paramref name="clearText"/> first) hash
    /// the clear text; <c>#hash</c>/<c>!hash</c> give the hash itself, or null when it is not one (<c>-ERR … hash</c>).
    /// </summary>
    private static string? PasswordHash(string op, char clearText)
    {
        if (op[0] == clearText) return HashPassword(Encoding.Latin1.GetBytes(op, 1, op.Length - 1));
        string hash = op[1..];
        return IsHash(hash) ? hash : null;
    }

    /// <summary>Redis's <c>ACLCheckPasswordHash</c>: exactly 64 characters, each <c>0-9</c> or <c>a-f</c>.</summary>
    private static bool IsHash(string hash)
    {
        if (hash.Length != 64) return false;
        foreach (char c in hash)
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        return true;
    }

    /// <summary>
    /// True when <paramref name="password"/> is one of the user's (or the user is <c>nopass</c>): its SHA-256 is compared
    /// with every stored hash in constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>, as Redis's
    /// <c>time_independent_strcmp</c>).
    /// </summary>
    public bool CheckPassword(ReadOnlySpan<byte> password)
    {
        if (NoPass) return true;
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> stored = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(password, given);
        bool match = false;
        foreach (string hash in Passwords)
        {
            Convert.FromHexString(hash, stored, out _, out _);
            match |= CryptographicOperations.FixedTimeEquals(given, stored);
        }
        return match;
    }

    /// <summary>
    /// The rules as ACL LIST, ACL SAVE and CONFIG REWRITE print them after the name (Redis 7.0's <c>ACLDescribeUser</c>):
    /// <c>on|off [nopass] #hash… keys channels commands (selector)…</c>.
    /// </summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (string flag in Flags()) text.Append(flag).Append(' ');
        foreach (string hash in Passwords) text.Append('#').Append(hash).Append(' ');
        foreach (AclSelector selector in Selectors)
        {
            if (selector.Root) text.Append(selector.Describe());
            else text.Append(" (").Append(selector.Describe()).Append(')');
        }
        return text.ToString();
    }
}

/// <summary>
/// An ACL user (Redis 7.0's <c>user</c>): a name (case-sensitive, Latin-1 text of its bytes) and its current
/// <see cref="Rules"/>, replaced whole by ACL SETUSER. Clients hold the user they authenticated as.
/// </summary>
public sealed class AclUser
{
    internal AclUser(string name, AclRules rules)
    {
        Name = name;
        _rules = rules;
    }

    /// <summary>The user name.</summary>
    public string Name { get; }

    private volatile AclRules _rules;

    /// <summary>The current rules (a snapshot; never mutated once published).</summary>
    public AclRules Rules
    {
        get => _rules;
        internal set => _rules = value;
    }

    /// <summary>True once ACL DELUSER (or ACL LOAD) removed the user.</summary>
    public bool Deleted { get; internal set; }
}
