using RespKv.Commands;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// One client's MULTI/WATCH state (Redis's <c>multiState</c> and watched keys): whether a transaction is
/// open, whether a queued command was rejected (EXEC then answers <c>-EXECABORT</c>), the queued commands,
/// and the watched keys.
/// <para>
/// Queued commands outlive the receive buffer their arguments point into, so each is copied: all queued
/// arguments go into one growable byte buffer, located by one growable array of slices, and each queued
/// command is its table row plus a range of those slices. Nothing is allocated per argument; the buffers
/// are kept for the next transaction (and shrunk after a very large one).
/// </para>
/// </summary>
public sealed class Transaction
{
    /// <summary>Buffers larger than this are dropped when a transaction ends, so one huge MULTI does not pin memory.</summary>
    private const int RetainedBufferBytes = 64 * 1024;

    private byte[] _buffer = new byte[256];
    private int _bufferUsed;
    private ArgSlice[] _slices = new ArgSlice[16];
    private int _sliceCount;
    private QueuedCommand[] _commands = new QueuedCommand[8];
    private int _count;
    private readonly List<(Database Database, byte[] Key)> _watched = new();

    private readonly record struct QueuedCommand(CommandInfo Command, int FirstSlice, int SliceCount);

    /// <summary>True between MULTI and EXEC/DISCARD.</summary>
    public bool InMulti { get; private set; }

    /// <summary>True when a command was rejected while queuing (unknown, wrong arity, not allowed in MULTI): EXEC will abort.</summary>
    public bool Aborted { get; set; }

    /// <summary>The union of the queued commands' flags (EXEC of a queued <c>denyoom</c> command is refused under OOM).</summary>
    public CommandFlags QueuedFlags { get; private set; }

    /// <summary>True when a queued command lacks the <c>stale</c> flag (Redis's <c>cmd_inv_flags &amp; CMD_STALE</c>): EXEC then answers -MASTERDOWN on a replica without its link.</summary>
    public bool QueuedDenyStale { get; private set; }

    /// <summary>Number of queued commands.</summary>
    public int Count => _count;

    /// <summary>The WATCH flag: set when a watched key was modified.</summary>
    public KeyWatcher Watcher { get; } = new();

    /// <summary>Bytes held by queued arguments (CLIENT LIST <c>multi-mem</c>).</summary>
    public int QueuedBytes => _bufferUsed;

    /// <summary>Opens a transaction (MULTI).</summary>
    public void Begin()
    {
        InMulti = true;
        Aborted = false;
    }

    /// <summary>Copies <paramref name="args"/> into the queue as a command of <paramref name="command"/> (+QUEUED).</summary>
    public void Queue(CommandInfo command, in CommandArgs args)
    {
        int bytes = 0;
        for (int i = 0; i < args.Count; i++) bytes += args.Slices[i].Length;
        EnsureCapacity(ref _buffer, _bufferUsed + bytes);
        EnsureCapacity(ref _slices, _sliceCount + args.Count);
        EnsureCapacity(ref _commands, _count + 1);
        int first = _sliceCount;
        for (int i = 0; i < args.Count; i++)
        {
            ReadOnlySpan<byte> arg = args[i];
            arg.CopyTo(_buffer.AsSpan(_bufferUsed));
            _slices[_sliceCount++] = new ArgSlice(_bufferUsed, arg.Length);
            _bufferUsed += arg.Length;
        }
        _commands[_count++] = new QueuedCommand(command, first, args.Count);
        QueuedFlags |= command.Flags;
        QueuedDenyStale |= (command.Flags & CommandFlags.Stale) == 0;
    }

    /// <summary>The table row of queued command <paramref name="index"/>.</summary>
    public CommandInfo CommandAt(int index) => _commands[index].Command;

    /// <summary>The arguments of queued command <paramref name="index"/>; valid until the transaction ends.</summary>
    public CommandArgs ArgsAt(int index)
    {
        QueuedCommand c = _commands[index];
        return new CommandArgs(_buffer, _slices.AsSpan(c.FirstSlice, c.SliceCount));
    }

    /// <summary>Closes the transaction and forgets the queue (EXEC done, DISCARD, RESET).</summary>
    public void End()
    {
        InMulti = false;
        Aborted = false;
        Array.Clear(_commands, 0, _count);
        _count = 0;
        QueuedFlags = CommandFlags.None;
        QueuedDenyStale = false;
        _bufferUsed = 0;
        _sliceCount = 0;
        if (_buffer.Length > RetainedBufferBytes) _buffer = new byte[256];
        if (_slices.Length > RetainedBufferBytes / 8) _slices = new ArgSlice[16];
        if (_commands.Length > RetainedBufferBytes / 8) _commands = new QueuedCommand[8];
    }

    /// <summary>
    /// Watches <paramref name="key"/> of <paramref name="database"/> (WATCH); a key already watched there is skipped.
    /// A key whose expiry has already passed is removed first (by a lookup), so its removal is not a change the
    /// watch sees — Redis gets the same effect with its per-watch <c>expired</c> flag.
    /// </summary>
    public void Watch(Database database, ReadOnlySpan<byte> key)
    {
        foreach ((Database d, byte[] k) in _watched)
            if (d == database && key.SequenceEqual(k)) return;
        database.FindNoTouch(key);
        byte[] copy = key.ToArray();
        database.Observe(copy, Watcher);
        _watched.Add((database, copy));
    }

    /// <summary>
    /// True when a watched key's expiry has passed though no lookup has removed it yet (Redis 7.0's
    /// <c>isWatchedKeyExpired</c>): EXEC treats that as a modification. Called holding the watched keys' shard locks.
    /// </summary>
    public bool WatchedKeyExpired()
    {
        foreach ((Database d, byte[] k) in _watched)
        {
            KeySlot slot = d.Locate(k);
            if (slot.Shard.FindExpired(k, slot.Hash)) return true;
        }
        return false;
    }

    /// <summary>Forgets every watched key and clears the modified flag (UNWATCH; after EXEC and DISCARD; on disconnect).</summary>
    public void UnwatchAll()
    {
        foreach ((Database d, byte[] k) in _watched) d.StopObserving(k, Watcher);
        _watched.Clear();
        Watcher.Reset();
    }

    /// <summary>
    /// Adds to <paramref name="unit"/> the lock set of an EXEC starting in database <paramref name="startDatabase"/>: the
    /// shards of every watched key, and of every queued command's keys (table key positions) in the database it will
    /// run in — following queued SELECTs; every shard of the database for a command without key positions that touches
    /// the keyspace; every database for FLUSHALL; the key shards in every database for a command whose keys may name
    /// another database (COPY … DB) — see <see cref="AtomicUnit.AddCommand"/>.
    /// </summary>
    public void CollectLocks(AtomicUnit unit, Keyspace keyspace, Database startDatabase)
    {
        foreach ((Database d, byte[] k) in _watched) unit.Add(d, Database.ShardMaskOf(k));
        Database db = startDatabase;
        for (int i = 0; i < _count; i++)
        {
            CommandInfo command = _commands[i].Command;
            CommandArgs args = ArgsAt(i);
            if ((command.Flags & CommandFlags.SelectsDatabase) != 0)
            {
                if (CommandErrors.TryParseDatabaseIndex(keyspace, args[1], out int index, out _)) db = keyspace[index];
            }
            else unit.AddCommand(keyspace, db, command, args);
        }
    }

    private static void EnsureCapacity<T>(ref T[] array, int needed)
    {
        if (needed <= array.Length) return;
        Array.Resize(ref array, Math.Max(needed, array.Length * 2));
    }
}
