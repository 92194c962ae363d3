using RespKv.Configuration;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Execution;

/// <summary>
/// What a data command's handler gets besides its arguments (the families in <c>Commands/</c>: strings, hashes, keys,
/// expiry…): the reply writer, the selected database and the keyspace, the command's table row, the key-lookup
/// counters, and the hook to log its effect instead of its request. Locking and change announcement are not here:
/// the executor holds every lock a write needs before the handler runs, and storage announces each change itself
/// (<see cref="KeyspaceShard.Mutated"/>). The client behind it (its connection, transaction, name…) is not visible to
/// data handlers; connection and server families get the whole client (<c>Server/Commands/</c>).
/// </summary>
public abstract class CommandContext
{
    /// <summary>A context over <paramref name="keyspace"/>, starting in database 0, under <paramref name="options"/>.</summary>
    protected CommandContext(Keyspace keyspace, ServerOptions options, RespWriter writer)
    {
        Keyspace = keyspace;
        Options = options;
        Database = keyspace[0];
        Writer = writer;
    }

    /// <summary>
    /// The reply writer: one reply per command, written straight into the connection's output (its
    /// <see cref="RespWriter.Protocol"/> is the client's RESP version; a discarding writer under CLIENT REPLY OFF/SKIP).
    /// </summary>
    public RespWriter Writer { get; protected set; }

    /// <summary>The selected database (SELECT).</summary>
    public Database Database { get; protected set; }

    /// <summary>Every database (COPY … DB, MOVE, SWAPDB address others by index).</summary>
    public Keyspace Keyspace { get; }

    /// <summary>The server's settings (encoding thresholds for OBJECT ENCODING, the maxmemory policy…), read at each use.</summary>
    public ServerOptions Options { get; }

    /// <summary>The command being (or last) executed: its table row.</summary>
    public CommandInfo? CurrentCommand { get; internal set; }

    /// <summary>Successful key lookups (INFO <c>keyspace_hits</c>).</summary>
    public long KeyspaceHits { get; private set; }

    /// <summary>Failed key lookups (INFO <c>keyspace_misses</c>).</summary>
    public long KeyspaceMisses { get; private set; }

    /// <summary>
    /// Counts a read's lookup of <paramref name="key"/> for INFO's hit/miss counters; a miss is also a <c>keymiss</c>
    /// keyspace notification when <c>notify-keyspace-events</c> has class <c>m</c> (Redis 7.0's <c>lookupKey</c>: both at the
    /// same point, so a RESP3 client subscribed to its own misses gets the push where Redis writes it, e.g. between
    /// MGET's elements). With the class off a miss costs one field read more. <paramref name="notify"/> false is Redis's
    /// <c>LOOKUP_NONOTIFY</c> (OBJECT's lookups): counted, never announced.
    /// </summary>
    public void CountLookup(bool hit, ReadOnlySpan<byte> key, bool notify = true)
    {
        if (hit) KeyspaceHits++;
        else
        {
            KeyspaceMisses++;
            if (notify && (Options.NotifyKeyspaceEventFlags & KeyMissClass) != 0)
                Keyspace.Lifetime.KeyMissed?.Invoke(Database.Index, key, KeyEvent.KeyMiss);
        }
    }

    /// <summary>
    /// Writes now the pushes of this client's own keyspace notifications that its command (flagged
    /// <see cref="CommandFlags.RepliesBeforeNotifying"/>) holds until after its reply: for a path of the command where
    /// Redis notifies before replying (SINTERSTORE with a missing source deletes the destination, "del", then replies).
    /// </summary>
    public virtual void WriteHeldNotifications() { }

    /// <summary>
    /// Redis's <c>ACLUserCheckCmdWithUnrestrictedKeyAccess(c->user, cmd, argv, argc, CMD_KEY_ACCESS)</c>: true when the
    /// client's user may run the current command with read access to every key (SORT's BY and GET patterns read keys
    /// the arguments do not name). True where no user applies.
    /// </summary>
    public virtual bool HasFullKeyReadAccess(in CommandArgs args) => true;

    /// <summary>True while <c>notify-keyspace-events</c> has class <c>m</c> (key-miss events).</summary>
    public bool NotifiesKeyMiss => (Options.NotifyKeyspaceEventFlags & KeyMissClass) != 0;

    private static readonly int KeyMissClass = ServerOptions.KeyspaceEventClass('m');

    /// <summary>Scratch list for commands that collect entries (SCAN, KEYS); cleared by its user.</summary>
    internal List<KeyEntry> EntryScratch { get; } = new();

    /// <summary>Scratch list for multi-key reads (MGET: each key's value, null when missing); cleared by its user.</summary>
    internal List<object?> ValueScratch { get; } = new();

    /// <summary>
    /// The set of shards (a mask over the selected database) holding the current command's key arguments, located by
    /// the command table's key positions: what a multi-key read snapshots (<see cref="Database.ReadSnapshot{TState}"/>).
    /// </summary>
    public ulong KeyShardMask(in CommandArgs args) => AtomicUnit.KeyShardMask(CurrentCommand!, args, out _);

    /// <summary>Replies <c>-ERR wrong number of arguments for '…' command</c> for the current command.</summary>
    public void WriteArityError() => Writer.WriteError(CommandErrors.WrongArity(CurrentCommand!));

    /// <summary>
    /// For a handler whose effect differs from its request (Redis's <c>rewriteClientCommandVector</c>: <c>SET … GET</c>
    /// logged as <c>SET</c>, <c>INCRBYFLOAT</c> as <c>SET … KEEPTTL</c>, a relative expiry as <c>PXAT</c>): marks the
    /// current command's default record replaced and returns the buffer the handler adds the effect's records to
    /// (possibly none); null when no write log is set (nothing is recorded).
    /// </summary>
    public abstract PropagationBuffer? ReplacePropagation();

    /// <summary>
    /// True while a blocked command is re-run after a key it waits on changed (until it is answered). Redis 7.0 serves a
    /// woken client only from a key of the type it waits for, so a key that now holds another type leaves it blocked rather
    /// than answering WRONGTYPE (that error is for the first run only).
    /// </summary>
    public virtual bool ResumingBlock => false;

    /// <summary>
    /// For a blocking command (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP…) that found nothing to serve: blocks the client on
    /// <paramref name="keyCount"/> keys of <paramref name="args"/> from <paramref name="firstKey"/> in the selected database
    /// until one of them changes into a value of type <paramref name="servedBy"/> (the kind the command pops:
    /// <c>QuickList</c>, <c>SortedSetValue</c>) or <paramref name="timeoutMs"/> passes (0 = forever). See
    /// <see cref="BlockOutcome"/> for what the handler does next. A re-run keeps the client's place in each key's queue and
    /// its original deadline. The default (no client behind the context) cannot block.
    /// </summary>
    public virtual BlockOutcome BlockOnKeys(in CommandArgs args, int firstKey, int keyCount, long timeoutMs, Type servedBy) => BlockOutcome.CannotBlock;

    /// <summary>
    /// As <see cref="BlockOnKeys(in CommandArgs, int, int, long, Type)"/>; with <paramref name="wakeOnAnyChange"/> the client is
    /// also woken when a key is deleted or comes to hold another type (XREADGROUP, which then fails as Redis 7.0's
    /// <c>unblockDeletedStreamReadgroupClients</c>), and <paramref name="state"/> is kept for the re-runs
    /// (<see cref="BlockState"/>: the stream IDs XREAD resolved when it blocked).
    /// </summary>
    public virtual BlockOutcome BlockOnKeys(in CommandArgs args, int firstKey, int keyCount, long timeoutMs, Type servedBy, bool wakeOnAnyChange, object? state) =>
        BlockOutcome.CannotBlock;

    /// <summary>What the blocking command gave <see cref="BlockOnKeys(in CommandArgs, int, int, long, Type, bool, object?)"/> to keep, while <see cref="ResumingBlock"/>; else null.</summary>
    public virtual object? BlockState => null;

    /// <summary>
    /// True when the command comes from the AOF being loaded (Redis's <c>mustObeyClient</c>): XADD and XTRIM then trim without
    /// their LIMIT, as Redis does for a command from its master or AOF.
    /// </summary>
    public virtual bool ObeysSource => false;
}

/// <summary>What <see cref="CommandContext.BlockOnKeys(in CommandArgs, int, int, long, Type)"/> did, and so what the blocking handler replies.</summary>
public enum BlockOutcome
{
    /// <summary>
    /// Return without writing a reply: the client is blocked and will re-run the command when a key changes, or the
    /// context already replied (CLIENT UNBLOCK … ERROR's <c>-UNBLOCKED client unblocked via CLIENT UNBLOCK</c>).
    /// </summary>
    Blocked,

    /// <summary>The block's time ran out (a re-run after the timeout, or CLIENT UNBLOCK … TIMEOUT): write the timeout reply (Redis's <c>replyToBlockedClientTimedOut</c>: a null array).</summary>
    TimedOut,

    /// <summary>The command may not block here (inside MULTI/EXEC, the AOF replay): reply as Redis does for a client that cannot block.</summary>
    CannotBlock,
}
