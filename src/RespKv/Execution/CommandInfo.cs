using RespKv.Protocol;

namespace RespKv.Execution;

/// <summary>Command flags, named as Redis 7.0's COMMAND reply names them (server.h CMD_*).</summary>
[Flags]
public enum CommandFlags
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
    /// <summary><c>may_replicate</c>: may produce replication traffic.</summary>
    MayReplicate = 1 << 12,

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

    /// <summary>Every RespKv-own flag (bit 20 and up): none is printed by COMMAND.</summary>
    RespKvOwn = ~((1 << 20) - 1),
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
/// command must lock.
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
    /// True when the command reads or writes the keyspace but its keys cannot be known from its arguments
    /// (no key positions: FLUSHDB, KEYS, SCAN, RANDOMKEY, DBSIZE): a transaction running it locks every
    /// shard of the database.
    /// </summary>
    public bool TouchesWholeDatabase => FirstKey == 0 && (Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) != 0;

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

/// <summary>Indexes <c>First, First+Step, … ≤ Last</c> of a command's key arguments.</summary>
/// <param name="First">First key index.</param>
/// <param name="Last">Last key index (inclusive).</param>
/// <param name="Step">Distance between keys.</param>
public readonly record struct KeyIndexRange(int First, int Last, int Step);
