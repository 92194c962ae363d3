using System.Collections.Concurrent;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Clients blocked on keys by a blocking command (the list pops BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP and the sorted-set
/// pops BZPOPMIN BZPOPMAX BZMPOP), Redis's <c>blocked.c</c> for key-blocked clients, without a thread per client:
/// <list type="bullet">
/// <item>A handler that finds nothing to serve calls <see cref="CommandContext.BlockOnKeys(in CommandArgs, int, int, long, Type)"/>; the client joins the FIFO
/// queue of each of its keys (<see cref="KeyQueue"/>, one per (database, key), a <see cref="KeyObserver"/> registered with
/// <see cref="Database.Observe"/>) and its connection loop leaves the command unconsumed and awaits a wake-up, the
/// deadline, CLIENT UNBLOCK or the peer closing (<see cref="ClientConnection"/>).</item>
/// <item>Any change of a queued key (a push or ZADD, LMOVE into it, RENAME/MOVE/COPY onto it, SWAPDB, a write inside
/// EXEC…) calls <see cref="KeyQueue.KeyChanged"/> under the key's shard lock: if no waiter of that key holds the "turn",
/// the first waiter in blocking order whose command the key's value type serves (a list for the list pops, a sorted set
/// for the sorted-set pops: Redis's <c>serveClientsBlockedOnKey</c> serves only the clients blocked for the ready key's
/// type) gets it and is woken. The woken client re-runs its command from its own loop (as Redis re-runs it for a ready
/// key), after the changing command (or EXEC) released its locks: served, it leaves every queue and passes the turn on
/// (the next waiter of the key's type re-runs and, when nothing is left, keeps its place); not served, it keeps its place
/// and gives the turn back, to a waiter of the key's type behind it if there is one. So waiters are served in the order
/// they blocked, per key and type.</item>
/// <item>A re-run after the deadline (or CLIENT UNBLOCK … TIMEOUT) answers the timeout reply; CLIENT UNBLOCK … ERROR
/// answers <c>-UNBLOCKED client unblocked via CLIENT UNBLOCK</c>; a disconnect leaves every queue.</item>
/// </list>
/// Every queue's state is read and changed only under its key's shard lock. A block allocates (its wait, the key copies):
/// blocking is not a hot path.
/// </summary>
public sealed class BlockedClients
{
    /// <summary>The reply of a client unblocked by <c>CLIENT UNBLOCK id ERROR</c>.</summary>
    public const string UnblockedError = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

    private readonly ConcurrentDictionary<QueueId, KeyQueue> _queues = new();
    private int _count;

    /// <summary>Clients blocked on keys now (part of INFO <c>blocked_clients</c>).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Keys at least one client is blocked on (Redis's INFO <c>blocking_keys</c>).</summary>
    public int KeyCount => _queues.Count;

    private readonly record struct QueueId(Database Database, byte[] Key)
    {
        public bool Equals(QueueId other) => ReferenceEquals(Database, other.Database) && Key.AsSpan().SequenceEqual(other.Key);

        public override int GetHashCode() => HashCode.Combine(Database.Index, KeyHash.Compute(Key));
    }

    /// <summary>
    /// The clients blocked on one key of one database, in the order they blocked, and which of them holds the turn (was woken
    /// and has not yet re-run). Guarded by the key's shard lock.
    /// </summary>
    internal sealed class KeyQueue(BlockedClients owner, Database database, byte[] key) : KeyObserver
    {
        public readonly BlockedClients Owner = owner;
        public readonly Database Database = database;
        public readonly byte[] Key = key;
        public readonly LinkedList<BlockedClient> Waiters = new();
        public BlockedClient? Turn;

        /// <summary>
        /// The key changed (under its shard lock): unless a waiter already holds the turn, wakes the first waiter, in blocking
        /// order, whose command the key's value serves (none when the key is missing).
        /// </summary>
        public override void KeyChanged()
        {
            if (Turn != null || Waiters.First == null) return;
            object? value = Database.PeekValue(Key);
            WakeFrom(Waiters.First, value);
        }

        /// <summary>
        /// Gives the turn to the first waiter from <paramref name="node"/> on that the key's <paramref name="value"/> serves, or
        /// that waits for any change (XREADGROUP: a deleted key or one of another type fails it).
        /// </summary>
        public void WakeFrom(LinkedListNode<BlockedClient>? node, object? value)
        {
            for (; node != null; node = node.Next)
            {
                BlockedClient waiter = node.Value;
                if (!waiter.WakeOnAnyChange && (value == null || !waiter.ServedBy.IsInstanceOfType(value))) continue;
                Turn = waiter;
                Turn.Wake();
                return;
            }
        }
    }

    /// <summary>
    /// Blocks <paramref name="client"/> on the keys (see <see cref="CommandContext.BlockOnKeys(in CommandArgs, int, int, long, Type)"/>). Called by the handler under
    /// the executor's locks of those keys.
    /// </summary>
    internal BlockOutcome Block(ClientSession client, in CommandArgs args, int firstKey, int keyCount, long timeoutMs, Type servedBy,
        bool wakeOnAnyChange, object? state)
    {
        if (client.ReplaysAof || client.ExecCommand != null || TransactionLocks.HeldByCurrentThread) return BlockOutcome.CannotBlock;
        BlockedClient blocked = client.Blocking ??= new BlockedClient(client);
        if (blocked.Active)
        {
            switch (blocked.UnblockRequest)
            {
                case UnblockKind.Error:
                    Leave(blocked);
                    client.Writer.WriteError(UnblockedError);
                    return BlockOutcome.Blocked;
                case UnblockKind.Timeout:
                    Leave(blocked);
                    return BlockOutcome.TimedOut;
            }
            if (blocked.DeadlineMs != 0 && Environment.TickCount64 >= blocked.DeadlineMs)
            {
                Leave(blocked);
                return BlockOutcome.TimedOut;
            }
            // Still nothing to serve (no key holds a value of this command's type): keep the place in each queue, give the
            // turn back — to a waiter of another type behind this one when the key now holds that type.
            // The turn goes to the waiters behind this one only: one the key does not serve now must not be woken again.
            foreach ((KeyQueue queue, LinkedListNode<BlockedClient> node) in blocked.Queues)
            {
                if (queue.Turn != blocked) continue;
                queue.Turn = null;
                queue.WakeFrom(node.Next, queue.Database.PeekValue(queue.Key));
            }
            client.Connection.MarkBlocked();
            return BlockOutcome.Blocked;
        }
        Database db = client.Database;
        blocked.Start(timeoutMs == 0 ? 0 : Environment.TickCount64 + timeoutMs, servedBy, wakeOnAnyChange, state);
        for (int i = firstKey; i < firstKey + keyCount; i++)
        {
            ReadOnlySpan<byte> key = args[i];
            bool seen = false;
            foreach ((KeyQueue q, _) in blocked.Queues) seen |= key.SequenceEqual(q.Key);
            if (seen) continue;
            byte[] copy = key.ToArray();
            var id = new QueueId(db, copy);
            if (!_queues.TryGetValue(id, out KeyQueue? queue))
            {
                queue = new KeyQueue(this, db, copy);
                _queues[id] = queue;
                db.Observe(copy, queue);
            }
            blocked.Queues.Add((queue, queue.Waiters.AddLast(blocked)));
        }
        Interlocked.Increment(ref _count);
        client.Connection.MarkBlocked();
        return BlockOutcome.Blocked;
    }

    /// <summary>
    /// Takes <paramref name="blocked"/> out of every queue it is in (served, timed out, unblocked or disconnected): a queue
    /// whose turn it held passes the turn to its next waiter; an emptied queue stops observing its key. Idempotent.
    /// </summary>
    internal void Leave(BlockedClient blocked)
    {
        if (!blocked.Active) return;
        foreach ((KeyQueue queue, LinkedListNode<BlockedClient> node) in blocked.Queues)
        {
            using (queue.Database.LockKey(queue.Key))
            {
                queue.Waiters.Remove(node);
                bool hadTurn = queue.Turn == blocked;
                if (hadTurn) queue.Turn = null;
                if (queue.Waiters.Count == 0)
                {
                    _queues.TryRemove(new QueueId(queue.Database, queue.Key), out _);
                    queue.Database.StopObserving(queue.Key, queue);
                }
                else if (hadTurn) queue.KeyChanged();
            }
        }
        blocked.Queues.Clear();
        blocked.Active = false;
        Interlocked.Decrement(ref _count);
    }

    /// <summary>
    /// <c>CLIENT UNBLOCK</c>: ends <paramref name="client"/>'s block as a timeout, or with <see cref="UnblockedError"/> when
    /// <paramref name="error"/>; false when the client is not blocked on keys.
    /// </summary>
    internal static bool Unblock(ClientSession client, bool error)
    {
        BlockedClient? blocked = client.Blocking;
        if (blocked == null || !blocked.Active || !client.Connection.IsBlockedOnKeys) return false;
        blocked.UnblockRequest = error ? UnblockKind.Error : UnblockKind.Timeout;
        blocked.Wake();
        return true;
    }

    /// <summary>How CLIENT UNBLOCK ended a block.</summary>
    internal enum UnblockKind { None, Timeout, Error }

    /// <summary>
    /// One client's block (reused by its session): its queues and place in each, deadline, wake-up signal and any
    /// CLIENT UNBLOCK request.
    /// </summary>
    internal sealed class BlockedClient(ClientSession client)
    {
        /// <summary>The client.</summary>
        public ClientSession Client { get; } = client;

        /// <summary>True from the block until <see cref="Leave"/>.</summary>
        public volatile bool Active;

        /// <summary>Environment.TickCount64 at which the block times out; 0 = never.</summary>
        public long DeadlineMs;

        /// <summary>The value type that serves the blocked command (<c>QuickList</c> for the list pops, <c>SortedSetValue</c> for the sorted-set pops).</summary>
        public Type ServedBy = typeof(object);

        /// <summary>True for a command that fails when a key it waits on is deleted or changes type (XREADGROUP).</summary>
        public bool WakeOnAnyChange;

        /// <summary>What the blocked command kept for its re-runs (<see cref="CommandContext.BlockState"/>).</summary>
        public object? State;

        /// <summary>Set by CLIENT UNBLOCK.</summary>
        public volatile UnblockKind UnblockRequest;

        /// <summary>The queues joined and this client's node in each.</summary>
        public readonly List<(KeyQueue Queue, LinkedListNode<BlockedClient> Node)> Queues = new();

        private volatile TaskCompletionSource _signal = NewSignal();

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the client should re-run its command (continuations run on the thread pool, never under the waker's lock).</summary>
        public Task Signal => _signal.Task;

        /// <summary>
        /// Begins a block that times out at <paramref name="deadlineMs"/> (0 = never), served by values of type <paramref name="servedBy"/>
        /// (or woken by any change, <paramref name="wakeOnAnyChange"/>), keeping <paramref name="state"/> for the re-runs.
        /// </summary>
        public void Start(long deadlineMs, Type servedBy, bool wakeOnAnyChange, object? state)
        {
            Active = true;
            DeadlineMs = deadlineMs;
            ServedBy = servedBy;
            WakeOnAnyChange = wakeOnAnyChange;
            State = state;
            UnblockRequest = UnblockKind.None;
            _signal = NewSignal();
        }

        /// <summary>Arms a fresh signal before the re-run (a wake-up during the re-run then completes the new one).</summary>
        public void Rearm()
        {
            if (_signal.Task.IsCompleted) _signal = NewSignal();
        }

        /// <summary>Wakes the client's loop.</summary>
        public void Wake() => _signal.TrySetResult();
    }
}
