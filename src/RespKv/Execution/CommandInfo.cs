using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Execution;

/// <summary>Command flags, named as Redis 7.0's COMMAND reply names them (server.h CMD_*).</summary>
[Flags]
public enum CommandFlags : long
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary><c>write</c>: may modify the keyspace (logged to the AOF, refused under OOM when also <see cref="DenyOom"/>).</summary>
    Write = 1 << 0,
    /// <summary><c>readonly</c>: reads keys only.</summary>
    ReadOnly = 1 << 1,
    /// <summary><c>admin</c>: server administration.</summary>
    Admin = 1 << 2,
    /// <summary><c>fast</c>: O(1) or O(log n).</summary>
    Fast = 1 << 3,
    /// <summary><c>denyoom</c>: may grow memory; refused when used memory exceeds maxmemory.</summary>
    DenyOom = 1 << 4,
    /// <summary><c>noscript</c>: not allowed in scripts.</summary>
    NoScript = 1 << 5,
    /// <summary><c>loading</c>: allowed while the dataset is loading.</summary>
    Loading = 1 << 6,
    /// <summary><c>stale</c>: allowed on a stale replica.</summary>
    Stale = 1 << 7,
    /// <summary><c>no_auth</c>: allowed before AUTH.</summary>
    NoAuth = 1 << 8,
    /// <summary><c>no_multi</c>: not queued by MULTI.</summary>
    NoMulti = 1 << 9,
    /// <summary><c>skip_slowlog</c>: never recorded in the slow log.</summary>
    SkipSlowlog = 1 << 10,
    /// <summary><c>allow_busy</c>: allowed while a script is busy.</summary>
    AllowBusy = 1 << 11,
    /// <summary><c>may_replicate</c>: may produce replication traffic (Redis 7.0's COMMAND does not print it).</summary>
    MayReplicate = 1 << 12,
    /// <summary><c>pubsub</c>: a Pub/Sub command.</summary>
    Pubsub = 1 << 13,
    /// <summary><c>blocking</c>: may block the client.</summary>
    Blocking = 1 << 14,
    /// <summary><c>skip_monitor</c>: never shown to MONITOR.</summary>
    SkipMonitor = 1 << 15,
    /// <summary><c>asking</c>: cluster-related, accepted on an importing slot after ASKING.</summary>
    Asking = 1 << 16,
    /// <summary><c>no_mandatory_keys</c>: may have no key arguments (EVAL with numkeys 0); COMMAND GETKEYS answers an empty array instead of an error.</summary>
    NoMandatoryKeys = 1 << 17,
    /// <summary><c>no_async_loading</c>: refused while the dataset loads asynchronously.</summary>
    NoAsyncLoading = 1 << 18,
    /// <summary><c>movablekeys</c>: key positions are not given by first/last/step alone (a keyword or keynum key spec, or arguments that decide).</summary>
    MovableKeys = 1 << 19,

    // RespKv's own flags below: not Redis flags, never printed by COMMAND.

    /// <summary>
    /// Runs at once inside MULTI instead of being queued: MULTI, EXEC, DISCARD, WATCH, QUIT, RESET (the
    /// commands Redis 7.0's <c>processCommand</c> lets through a transaction).
    /// </summary>
    RunsInMulti = 1 << 20,
    /// <summary>Changes the client's database (SELECT): a transaction's later commands address that database.</summary>
    SelectsDatabase = 1 << 21,
    /// <summary>Touches every key of every database (FLUSHALL): a transaction running it locks every shard of every database.</summary>
    AllDatabases = 1 << 22,
    /// <summary>Its keys may also name another database (COPY … DB n): a transaction locks the keys' shards in every database.</summary>
    OtherDatabases = 1 << 23,
    /// <summary>
    /// Runs a transaction's queue (EXEC): a rejection at admission answers <c>-EXECABORT Transaction discarded because of: …</c>
    /// and discards the transaction; it is refused under OOM or a disk error only for what it queued.
    /// </summary>
    RunsQueue = 1 << 24,
    /// <summary>Ends a transaction without running it (DISCARD, QUIT, RESET): still admitted inside MULTI while memory is over maxmemory.</summary>
    DiscardsTransaction = 1 << 25,
    /// <summary>Refused while the AOF cannot be written although it is no write (PING, as Redis's <c>writeCommandsDeniedByDiskError</c>).</summary>
    RefusedOnDiskError = 1 << 26,
    /// <summary>Redis's <c>CMD_PROTECTED</c> (DEBUG): runs only for the clients <c>enable-debug-command</c> allows.</summary>
    Protected = 1 << 27,
    /// <summary>
    /// A read of a value kind that is changed in place (<c>ValueKind.MutatedInPlace</c>: lists, sets, sorted sets): the
    /// executor runs it holding its keys' shard locks, as it runs a write, since such a value is not immutable once
    /// published. Reads of immutable kinds (strings, hashes) run lock-free.
    /// </summary>
    ReadsUnderLock = 1 << 28,
    /// <summary>
    /// Runs while a RESP2 client is subscribed (SUBSCRIBE and the other subscription commands, PING, QUIT, RESET); any
    /// other command then answers <c>-ERR Can't execute '…': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET
    /// are allowed in this context</c>.
    /// </summary>
    AllowedWhileSubscribed = 1 << 29,
    /// <summary>
    /// Replies before it notifies (Redis's HSET, LPUSH, ZADD and *STORE families, EXPIRE, LMOVE, SPOP call <c>addReply</c>
    /// before <c>notifyKeyspaceEvent</c>): a RESP3 client notified of its own write gets the pushes of its events after this
    /// command's reply — except the events of a key lookup or creation (<see cref="CommandInfo.AnnouncedAtLookup"/>) and those
    /// of <see cref="CommandInfo.EventsBeforeReply"/>, which it gets at once, where they happen. A command without the flag
    /// gets every push at once, in the order its handler changes keys and writes its reply.
    /// </summary>
    RepliesBeforeNotifying = 1 << 30,
    /// <summary>
    /// Runs a script (EVAL, EVALSHA, their <c>_RO</c> forms, FCALL, FCALL_RO): its handler makes the script atomic itself
    /// (every shard of the selected database, or of every database, in the client's <see cref="AtomicUnit"/>), and EXEC
    /// locks every database for it, since a script may touch keys it did not declare.
    /// </summary>
    RunsScript = 1L << 31,
    /// <summary>
    /// Waits on another server over the network while it runs (MIGRATE: connect, send, read the target's replies, each up to
    /// its timeout, as Redis's synchronous <c>connSyncWrite</c>/<c>connSyncReadLine</c>): like a script it is run off the
    /// socket thread (directly or queued in EXEC), so the other connections that thread serves are not stalled.
    /// </summary>
    WaitsOnNetwork = 1L << 32,

    /// <summary>The flags of a command that may run long and so is never run on a socket thread (<see cref="RunsScript"/>, <see cref="WaitsOnNetwork"/>).</summary>
    RunsLong = RunsScript | WaitsOnNetwork,

    /// <summary>Every RespKv-own flag (bit 20 and up): none is printed by COMMAND.</summary>
    RespKvOwn = ~((1L << 20) - 1),
}

/// <summary>Redis's command flags as COMMAND INFO names them, in the order it prints them (server.c's reply of a command's flags).</summary>
public static class CommandFlagNames
{
    /// <summary>Each printed flag with its name, in Redis 7.0's order; <c>may_replicate</c> is not printed.</summary>
    public static readonly (CommandFlags Flag, string Name)[] Printed =
    [
        (CommandFlags.Write, "write"), (CommandFlags.ReadOnly, "readonly"), (CommandFlags.DenyOom, "denyoom"),
        (CommandFlags.Admin, "admin"), (CommandFlags.Pubsub, "pubsub"), (CommandFlags.NoScript, "noscript"),
        (CommandFlags.Blocking, "blocking"), (CommandFlags.Loading, "loading"), (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"), (CommandFlags.SkipSlowlog, "skip_slowlog"), (CommandFlags.Asking, "asking"),
        (CommandFlags.Fast, "fast"), (CommandFlags.NoAuth, "no_auth"), (CommandFlags.NoMandatoryKeys, "no_mandatory_keys"),
        (CommandFlags.NoAsyncLoading, "no_async_loading"), (CommandFlags.NoMulti, "no_multi"), (CommandFlags.MovableKeys, "movablekeys"),
        (CommandFlags.AllowBusy, "allow_busy"),
    ];
}

/// <summary>
/// Runs one command: reads <paramref name="args"/> (slices of the receive buffer, valid during the call), acts, writes
/// exactly one reply to <c>context.Writer</c>. A write command's handler runs holding every lock it needs (the executor
/// takes them from the key positions); it takes none itself.
/// </summary>
public delegate void CommandHandler(CommandContext context, in CommandArgs args);

/// <summary>
/// One row of the command table: name, arity, flags and key positions as Redis 7.0's command table
/// holds them (https://redis.io/commands/command/), plus the handler. This data answers arity errors,
/// COMMAND/COMMAND INFO/COMMAND DOCS, and later which commands MULTI queues and which shards a
/// command must lock. When the table is built, each row gets Redis 7.0's <see cref="CommandMetadata"/> of
/// the same full name (key specs, ACL categories, tips, docs); every row has one (CommandMetadataTests checks it).
/// </summary>
public class CommandInfo
{
    /// <summary>A command; <paramref name="name"/> is lower-case (<c>get</c>, or <c>get</c> under <c>config</c> for CONFIG GET).</summary>
    public CommandInfo(string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step,
        string group, string summary, CommandHandler? handler, params CommandInfo[] subcommands)
    {
        Name = name;
        Arity = arity;
        Flags = flags;
        FirstKey = firstKey;
        LastKey = lastKey;
        Step = step;
        Group = group;
        Summary = summary;
        Handler = handler;
        Subcommands = subcommands.Length == 0 ? null : subcommands;
        if (Subcommands != null)
            foreach (CommandInfo sub in Subcommands) sub.Parent = this;
    }

    /// <summary>Lower-case name; for a subcommand, the subcommand alone (<c>get</c>).</summary>
    public string Name { get; }

    /// <summary>Name as Redis reports it in errors and COMMAND: <c>get</c>, or <c>config|get</c> for a subcommand.</summary>
    public string FullName => Parent == null ? Name : Parent.Name + "|" + Name;

    /// <summary>Arity: exact argument count including the name when positive, minimum when negative.</summary>
    public int Arity { get; }

    /// <summary>
    /// This row's position in its <see cref="CommandTable.StatsRows"/> (INFO <c>commandstats</c>, SLOWLOG);
    /// assigned when the table is built, -1 for a row in no table. A row belongs to one table.
    /// </summary>
    public int StatsIndex { get; internal set; } = -1;

    /// <summary>Flags: Redis's, plus RespKv's own (<see cref="CommandFlags.RunsInMulti"/> and after).</summary>
    public CommandFlags Flags { get; }

    /// <summary>Only the Redis flags of <see cref="Flags"/> (what Redis's COMMAND INFO reports).</summary>
    public CommandFlags RedisFlags => Flags & ~CommandFlags.RespKvOwn;

    /// <summary>
    /// Redis 7.0's metadata for this row (attached by full name when a <see cref="CommandTable"/> is built), or
    /// null for a row Redis 7.0 does not have or one in no table.
    /// </summary>
    public CommandMetadata? Metadata { get; internal set; }

    private readonly KeySpec[]? _keySpecs;

    /// <summary>
    /// The key specs (https://redis.io/docs/reference/key-specs/): those the row declares (init; for a command
    /// Redis 7.0 lacks, or a test's synthetic row), else <see cref="Metadata"/>'s, else none.
    /// </summary>
    public KeySpec[] KeySpecs
    {
        get => _keySpecs ?? Metadata?.KeySpecs ?? [];
        init => _keySpecs = value;
    }

    /// <summary>
    /// For a command with a <c>variable_flags</c> key spec (SET): the flags of its keys given the arguments, as
    /// Redis's getkeys procedure for the command decides them; null = the spec's flags as declared.
    /// </summary>
    public KeyFlagsResolver? VariableKeyFlags { get; init; }

    /// <summary>
    /// For a command flagged <see cref="CommandFlags.RepliesBeforeNotifying"/>: its own events whose pushes still come at once,
    /// before the reply (LMOVE: the destination's <c>lpush</c>/<c>rpush</c>; EXPIRE: <c>del</c>; SPOP: <c>spop</c>). Events
    /// of a key lookup or creation always come at once (<see cref="AnnouncedAtLookup"/>).
    /// </summary>
    public KeyEvent[] EventsBeforeReply { get; init; } = [];

    /// <summary>
    /// Events Redis announces while a command looks keys up or creates them, before any command replies: <c>new</c>
    /// (<c>dbAdd</c>), <c>keymiss</c> and <c>expired</c> (<c>lookupKey</c>), <c>evicted</c> (before the command runs).
    /// </summary>
    public static bool AnnouncedAtLookup(KeyEvent keyEvent) =>
        ReferenceEquals(keyEvent, KeyEvent.New) || ReferenceEquals(keyEvent, KeyEvent.KeyMiss)
        || ReferenceEquals(keyEvent, KeyEvent.Expired) || ReferenceEquals(keyEvent, KeyEvent.Evicted);

    /// <summary>True when this command's push of <paramref name="keyEvent"/> (on its own connection) waits for its reply (<see cref="CommandFlags.RepliesBeforeNotifying"/>).</summary>
    public bool NotifiesAfterReply(KeyEvent keyEvent) =>
        (Flags & CommandFlags.RepliesBeforeNotifying) != 0 && !AnnouncedAtLookup(keyEvent) && Array.IndexOf(EventsBeforeReply, keyEvent) < 0;

    /// <summary>Command tips (<c>nondeterministic_output</c>…) from <see cref="Metadata"/>, or none.</summary>
    public string[] Tips => Metadata?.Tips ?? [];

    private CommandDocs? _ownDocs;

    /// <summary>ACL categories as COMMAND prints them (<c>@write</c>, <c>@string</c>…), from <see cref="Metadata"/>.</summary>
    public string[] AclCategories => Metadata?.AclCategories ?? [];

    private int _aclCategoryBits = -1;

    /// <summary>
    /// <see cref="AclCategories"/> as bits in Redis's category order (<see cref="Security.AclCategories.Names"/>): what
    /// <c>+@category</c> rules and ACL CAT select by. Computed once.
    /// </summary>
    public int AclCategoryBits => _aclCategoryBits >= 0 ? _aclCategoryBits : (_aclCategoryBits = Security.AclCategories.BitsOf(AclCategories));

    /// <summary>The COMMAND DOCS document: <see cref="Metadata"/>'s, else this row's summary and group.</summary>
    public CommandDocs Docs => Metadata?.Docs ?? (_ownDocs ??= new CommandDocs { Summary = Summary, Group = Group });

    /// <summary>
    /// True when some key spec names keys (one not flagged <c>not_key</c>): COMMAND GETKEYS answers
    /// <c>-ERR The command has no key arguments</c> otherwise.
    /// </summary>
    public bool HasKeys
    {
        get
        {
            foreach (KeySpec spec in KeySpecs)
                if ((spec.Flags & KeySpecFlags.NotKey) == 0) return true;
            return false;
        }
    }

    /// <summary>
    /// Finds the key arguments of <paramref name="args"/> (args[0] = this command's name; for a subcommand
    /// args[1] is its name) from <see cref="KeySpecs"/>, in spec order, without allocating: writes up to
    /// <c>into.Length</c> of them to <paramref name="into"/> and returns how many there are (call again with a
    /// larger span when the result exceeds <c>into.Length</c>). Returns -1 when a spec cannot be applied
    /// (see <see cref="KeySpec.AppendKeys"/>: keyword missing, bad key count, keys past the arguments), where
    /// Redis's COMMAND GETKEYS answers <c>-ERR Invalid arguments specified for command</c> and the command itself
    /// a syntax error. Specs flagged <c>not_key</c> are skipped unless <paramref name="includeNotKeys"/>.
    /// A <c>variable_flags</c> spec's keys get their flags from <see cref="VariableKeyFlags"/>. As Redis 7.0's
    /// <c>getKeysFromCommandWithSpecs</c>, a spec that cannot be applied, or an <c>incomplete</c> one that found keys,
    /// hands the search to the command's <see cref="KeysProcedure"/> (its <c>getkeys_proc</c>) when it has one.
    /// </summary>
    public int GetKeys(in CommandArgs args, Span<KeyRef> into, bool includeNotKeys = false)
    {
        KeySpec[] specs = KeySpecs;
        int count = 0;
        for (int s = 0; s < specs.Length; s++)
        {
            KeySpec spec = specs[s];
            if ((spec.Flags & KeySpecFlags.NotKey) != 0 && !includeNotKeys) continue;
            KeySpecFlags flags = spec.Flags;
            if ((flags & KeySpecFlags.VariableFlags) != 0 && VariableKeyFlags != null) flags = VariableKeyFlags(args, s, flags);
            int before = count;
            count = spec.AppendKeys(args, into, count, flags);
            if (count < 0 || ((spec.Flags & KeySpecFlags.Incomplete) != 0 && count != before))
                return KeysProcedure != null ? KeysProcedure(args, into) : -1;
        }
        return count;
    }

    /// <summary>
    /// The key arguments with their key-spec flags (Redis's <c>getKeysFromCommandWithSpecs</c>); SORT/SORT_RO, whose STORE
    /// key Redis finds with <c>sortGetKeys</c>, are read here the same way (ACL key checks, COMMAND GETKEYS) — not through
    /// <see cref="KeysProcedure"/>, since SORT's BY and GET read keys no key finder names and it must lock every shard. Returns the count (more than
    /// <c>into.Length</c>: call again with room), 0 when the arguments do not parse.
    /// </summary>
    public int FindKeysAsRedis(in CommandArgs args, Span<KeyRef> into)
    {
        if (Parent == null && Name is "sort" or "sort_ro")
        {
            // sortGetKeys: the sorted key, then the last STORE's key (options taking arguments are skipped past them);
            // sortROGetKeys: the sorted key alone.
            int n = 0, store = 0;
            if (args.Count > 1 && into.Length > 0) into[n++] = new KeyRef(1, KeySpecFlags.RO | KeySpecFlags.Access);
            for (int i = 2; Name == "sort" && i < args.Count; i++)
            {
                if (args.Is(i, "LIMIT"u8)) i += 2;
                else if (args.Is(i, "GET"u8) || args.Is(i, "BY"u8)) i += 1;
                else if (args.Is(i, "STORE"u8) && i + 1 < args.Count) store = i + 1;
            }
            if (store == 0) return n;
            if (n < into.Length) into[n] = new KeyRef(store, KeySpecFlags.OW | KeySpecFlags.Update);
            return n + 1;
        }
        if (KeySpecs.Length == 0) return 0;
        int count = GetKeys(args, into);
        return count < 0 ? 0 : count;
    }

    /// <summary>
    /// Redis's <c>getkeys_proc</c> for a command whose key specs may not find its keys (MIGRATE's <c>KEYS</c>, an
    /// <c>incomplete</c> spec): finds them from the arguments themselves, with the same contract as <see cref="GetKeys"/>.
    /// Null: the key specs decide alone.
    /// </summary>
    public KeysProcedure? KeysProcedure { get; init; }

    /// <summary>Index of the first key argument (0 = no keys).</summary>
    public int FirstKey { get; }

    /// <summary>Index of the last key argument; negative counts from the end (-1 = last argument).</summary>
    public int LastKey { get; }

    /// <summary>Step between key arguments (2 for MSET's key value pairs).</summary>
    public int Step { get; }

    /// <summary>Command group as COMMAND DOCS names it: <c>string</c>, <c>generic</c>, <c>connection</c>, <c>server</c>, <c>hash</c>, <c>transactions</c>.</summary>
    public string Group { get; }

    /// <summary>One-line summary for COMMAND DOCS.</summary>
    public string Summary { get; }

    /// <summary>The handler; null for a container whose subcommand is required (CONFIG, CLIENT).</summary>
    public CommandHandler? Handler { get; }

    /// <summary>Subcommands (CONFIG GET, CLIENT ID…), or null.</summary>
    public CommandInfo[]? Subcommands { get; }

    /// <summary>The container command of a subcommand, or null.</summary>
    public CommandInfo? Parent { get; private set; }

    /// <summary>True when <paramref name="argc"/> arguments (name included) satisfy the arity.</summary>
    public bool AcceptsArgumentCount(int argc) => Arity >= 0 ? argc == Arity : argc >= -Arity;

    /// <summary>True for a write command.</summary>
    public bool IsWrite => (Flags & CommandFlags.Write) != 0;

    /// <summary>
    /// True when the command reads or writes the keyspace but names no key (no key spec: FLUSHDB, KEYS, SCAN,
    /// RANDOMKEY, DBSIZE): it is locked as touching every shard of the database.
    /// </summary>
    public bool TouchesWholeDatabase => (Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) != 0 && !HasKeys;

    /// <summary>
    /// Visits the indexes of the key arguments of a command of <paramref name="argc"/> arguments, from
    /// <see cref="FirstKey"/> through <see cref="LastKey"/> by <see cref="Step"/>.
    /// </summary>
    public KeyIndexRange KeyIndexes(int argc)
    {
        if (FirstKey == 0) return new KeyIndexRange(0, -1, 1);
        int last = LastKey >= 0 ? Math.Min(LastKey, argc - 1) : argc + LastKey;
        return new KeyIndexRange(FirstKey, last, Math.Max(Step, 1));
    }
}

/// <summary>
/// A command's own key search (Redis's <c>getkeys_proc</c>): writes up to <c>into.Length</c> key arguments of
/// <paramref name="args"/> (args[0] = the command's name) to <paramref name="into"/> and returns how many there are (more
/// than <c>into.Length</c>: call again with room), 0 when the arguments name none, -1 when they cannot be read.
/// </summary>
public delegate int KeysProcedure(in CommandArgs args, Span<KeyRef> into);

/// <summary>Indexes <c>First, First+Step, … ≤ Last</c> of a command's key arguments.</summary>
/// <param name="First">First key index.</param>
/// <param name="Last">Last key index (inclusive).</param>
/// <param name="Step">Distance between keys.</param>
public readonly record struct KeyIndexRange(int First, int Last, int Step);
