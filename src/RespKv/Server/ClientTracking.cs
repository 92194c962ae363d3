using System.Buffers.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Server-assisted client-side caching (https://redis.io/docs/manual/client-side-caching/), as Redis 7.0.15's
/// <c>tracking.c</c>: the tracking table (key → ids of the clients that may cache it; keys are global, not per
/// database), the broadcast prefixes (BCAST mode) and the delivery of invalidation messages.
/// <list type="bullet">
/// <item><b>Default mode</b>: after a <c>readonly</c> command of a tracking client (OPTIN: only after <c>CLIENT CACHING yes</c>;
/// OPTOUT: unless <c>CLIENT CACHING no</c>) its keys (from the command's key specs) are remembered
/// (<see cref="Remember"/>). The read and the remembering run holding the keys' shard locks, so a concurrent write of
/// those keys is seen either before the read or as an invalidation after it. When a key is then changed by anyone —
/// a command, expiry or eviction, through the keyspace's one change hook <see cref="KeyLifetime.KeyChanged"/>
/// (<see cref="OnKeyChanged"/>) — each client remembered for it gets one <c>invalidate</c> message and the key is
/// forgotten. NOLOOP: not the client that changed it. The client running the command that changed a key it tracks gets
/// the message after the command's reply (after EXEC's, for a transaction), as Redis 7.0.15's
/// <c>tracking_pending_keys</c>.</item>
/// <item><b>BCAST</b>: every key changed that starts with one of a client's prefixes (<c>""</c> = every key) is
/// collected per prefix and sent as one message per prefix and client (keys in byte order, each once) when the batch of
/// commands that changed it ends (<see cref="FlushBroadcasts"/>; Redis sends them in <c>beforeSleep</c>, once per event
/// loop iteration), and by the server cron for keys expired or evicted there.</item>
/// <item><b>Delivery</b>: a RESP3 client receives <c>&gt;2 $10 invalidate *N keys</c> pushes; with <c>REDIRECT id</c> the
/// messages go to that client instead — a push when it speaks RESP3, else, when it is subscribed to anything (e.g.
/// <c>__redis__:invalidate</c>), <c>*3 message __redis__:invalidate *N keys</c> — and nothing otherwise. A redirect client
/// that disconnected marks the tracking client <c>broken_redirect</c> and, over RESP3, sends it
/// <c>&gt;2 tracking-redir-broken :id</c>. FLUSHDB and FLUSHALL send every tracking client the null invalidation
/// (<c>invalidate</c> with <c>_</c> / <c>$-1</c>) and empty the table (<see cref="InvalidateAll"/>).</item>
/// <item><b>Limit</b>: over <c>tracking-table-max-keys</c> keys, random keys are invalidated as if changed (not
/// broadcast) until under it, with an effort growing while it stays over (Redis's <c>trackingLimitUsedSlots</c>), before
/// each command (after the admission gates; Redis: in <c>processCommand</c>) and in the server cron.</item>
/// </list>
/// One lock guards the table, the prefixes and every client's tracking flags; a write when nothing is tracked costs two
/// volatile reads. Disconnected clients' ids are dropped from the table lazily, when their keys are invalidated, as in Redis.
/// </summary>
public sealed class ClientTracking
{
    /// <summary>The Pub/Sub channel RESP2 redirect clients receive invalidations on.</summary>
    public const string InvalidationChannel = "__redis__:invalidate";

    private static readonly IComparer<byte[]> ByteOrder = Comparer<byte[]>.Create(static (a, b) => a.AsSpan().SequenceCompareTo(b));

    private readonly RespServer _server;
    private readonly Lock _lock = new();
    private readonly Dictionary<byte[], TrackedKey> _keys = new(ByteStringComparer.Instance);
    private readonly List<byte[]> _keyList = [];
    private readonly SortedDictionary<byte[], BroadcastPrefix> _prefixes = new(ByteOrder);
    private volatile int _keyCount;
    private volatile int _prefixCount;
    private volatile bool _broadcastPending;
    private long _items;
    private int _trackingClients;
    private int _limitRounds;

    /// <summary>Tracking for the clients of <paramref name="server"/>; subscribe <see cref="OnKeyChanged"/> to its change hook.</summary>
    public ClientTracking(RespServer server) => _server = server;

    /// <summary>Clients with tracking on (INFO <c>tracking_clients</c>).</summary>
    public int TrackingClients => Volatile.Read(ref _trackingClients);

    /// <summary>Keys in the tracking table (INFO <c>tracking_total_keys</c>).</summary>
    public long TotalKeys => _keyCount;

    /// <summary>Client ids stored over all keys of the table (INFO <c>tracking_total_items</c>).</summary>
    public long TotalItems => Interlocked.Read(ref _items);

    /// <summary>Distinct BCAST prefixes (INFO <c>tracking_total_prefixes</c>).</summary>
    public long TotalPrefixes => _prefixCount;

    /// <summary>
    /// <c>CLIENT TRACKING ON</c> once the options are validated (Redis's <c>enableTracking</c>): turns tracking on for
    /// <paramref name="client"/> (again: its mode flags and redirect are replaced; BCAST adds <paramref name="prefixes"/>,
    /// none meaning <c>""</c>, to those it has).
    /// </summary>
    internal void Enable(ClientSession client, long redirect, TrackingMode mode, List<byte[]> prefixes)
    {
        TrackingState state = client.Tracking;
        lock (_lock)
        {
            if (!state.On) _trackingClients++;
            state.On = true;
            state.BrokenRedirect = false;
            state.Redirect = redirect;
            state.Mode = mode;
            if ((mode & TrackingMode.Bcast) == 0) return;
            if (prefixes.Count == 0) AddPrefix(client, []);
            foreach (byte[] prefix in prefixes) AddPrefix(client, prefix);
            _prefixCount = _prefixes.Count;
        }
    }

    private void AddPrefix(ClientSession client, byte[] prefix)
    {
        if (!_prefixes.TryGetValue(prefix, out BroadcastPrefix? bp)) _prefixes[prefix] = bp = new BroadcastPrefix();
        if (bp.Clients.Contains(client)) return;
        bp.Clients.Add(client);
        client.Tracking.Prefixes.Add(prefix);
    }

    /// <summary>
    /// <c>CLIENT TRACKING OFF</c>, RESET and disconnect (Redis's <c>disableTracking</c>): leaves the BCAST prefixes and clears
    /// every tracking flag. The client's ids stay in the table until their keys are invalidated.
    /// </summary>
    internal void Disable(ClientSession client)
    {
        TrackingState state = client.Tracking;
        lock (_lock)
        {
            foreach (byte[] prefix in state.Prefixes)
            {
                BroadcastPrefix bp = _prefixes[prefix];
                bp.Clients.Remove(client);
                if (bp.Clients.Count == 0) _prefixes.Remove(prefix);
            }
            state.Prefixes.Clear();
            _prefixCount = _prefixes.Count;
            if (!state.On) return;
            _trackingClients--;
            state.On = false;
            state.BrokenRedirect = false;
            state.Mode = TrackingMode.None;
            state.Caching = false;
            state.Redirect = 0;
        }
    }

    /// <summary>
    /// Redis's <c>checkPrefixCollisionsOrReply</c>: the error text when one of <paramref name="prefixes"/> is a prefix of, or
    /// starts with, one the client has or another of them; else null.
    /// </summary>
    internal string? PrefixCollision(ClientSession client, List<byte[]> prefixes)
    {
        lock (_lock)
        {
            for (int i = 0; i < prefixes.Count; i++)
            {
                foreach (byte[] existing in client.Tracking.Prefixes)
                    if (Overlap(existing, prefixes[i]))
                        return $"ERR Prefix '{Text(prefixes[i])}' overlaps with an existing prefix '{Text(existing)}'. Prefixes for a single client must not overlap.";
                for (int j = i + 1; j < prefixes.Count; j++)
                    if (Overlap(prefixes[i], prefixes[j]))
                        return $"ERR Prefix '{Text(prefixes[i])}' overlaps with another provided prefix '{Text(prefixes[j])}'. Prefixes for a single client must not overlap.";
            }
        }
        return null;

        static bool Overlap(byte[] a, byte[] b) => a.AsSpan(0, Math.Min(a.Length, b.Length)).SequenceEqual(b.AsSpan(0, Math.Min(a.Length, b.Length)));
        static string Text(byte[] s) => System.Text.Encoding.UTF8.GetString(s);
    }

    /// <summary>A consistent copy of <paramref name="client"/>'s tracking flags, redirect and prefixes (CLIENT TRACKINGINFO, CLIENT LIST).</summary>
    internal TrackingInfo Info(ClientSession client)
    {
        TrackingState state = client.Tracking;
        lock (_lock) return new TrackingInfo(state.On, state.Mode, state.Caching, state.BrokenRedirect, state.Redirect, [.. state.Prefixes]);
    }

    /// <summary>
    /// After a read-only command of <paramref name="client"/> (Redis's <c>trackingRememberKeys</c>): adds its id to the
    /// table for each key <paramref name="command"/>'s key specs find in <paramref name="args"/>. The caller holds the keys'
    /// shard locks (see the class remarks) and has checked <see cref="TrackingState.RemembersNextRead"/>.
    /// </summary>
    internal void Remember(ClientSession client, CommandInfo command, in CommandArgs args)
    {
        if ((command.Flags & CommandFlags.Pubsub) != 0) return;
        Span<KeyRef> inline = stackalloc KeyRef[16];
        int count = command.GetKeys(args, inline);
        if (count <= 0) return;
        KeyRef[]? rented = null;
        Span<KeyRef> keys = inline;
        if (count > inline.Length)
        {
            rented = System.Buffers.ArrayPool<KeyRef>.Shared.Rent(count);
            keys = rented;
            command.GetKeys(args, keys);
        }
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> key = args[keys[i].Index];
                if (!_keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out TrackedKey? tracked))
                {
                    byte[] copy = key.ToArray();
                    tracked = new TrackedKey(_keyList.Count);
                    _keys.Add(copy, tracked);
                    _keyList.Add(copy);
                }
                if (tracked.Ids.Add(client.Id)) _items++;
            }
            _keyCount = _keys.Count;
        }
        if (rented != null) System.Buffers.ArrayPool<KeyRef>.Shared.Return(rented);
    }

    /// <summary>
    /// The keyspace change hook's body (Redis's <c>trackingInvalidateKey</c> from <c>signalModifiedKey</c>), on the changing
    /// thread under the key's shard lock: queues <paramref name="key"/> for the BCAST prefixes it matches and sends
    /// its tracking clients their invalidation. The <c>new</c> event is skipped (the command's own event follows it).
    /// </summary>
    public void OnKeyChanged(int database, ReadOnlySpan<byte> key, KeyEvent keyEvent)
    {
        if (_keyCount == 0 && _prefixCount == 0) return;
        if (ReferenceEquals(keyEvent, KeyEvent.New)) return;
        // Expiry and eviction change a key on no client's behalf (Redis passes a NULL client): no NOLOOP exclusion in BCAST.
        bool byCommand = !ReferenceEquals(keyEvent, KeyEvent.Expired) && !ReferenceEquals(keyEvent, KeyEvent.Evicted);
        Invalidate(key, broadcast: true, byCommand, deferForRunningClient: true);
    }

    /// <summary>
    /// Forgets <paramref name="key"/> and sends its tracking clients an invalidation (a NOLOOP client is skipped when it is
    /// the one running on this thread; that client's own invalidation waits for its command's reply when
    /// <paramref name="deferForRunningClient"/>); with <paramref name="broadcast"/> also queues it for the matching prefixes,
    /// recording the running NOLOOP subscriber as its modifier when <paramref name="byCommand"/>.
    /// </summary>
    private void Invalidate(ReadOnlySpan<byte> key, bool broadcast, bool byCommand, bool deferForRunningClient)
    {
        List<ClientSession>? targets = null;
        byte[]? copy = null;
        lock (_lock)
        {
            if (broadcast && _prefixes.Count > 0)
            {
                foreach ((byte[] prefix, BroadcastPrefix bp) in _prefixes)
                {
                    if (!key.StartsWith(prefix)) continue;
                    copy ??= key.ToArray();
                    bp.Keys[copy] = byCommand ? RunningClient(bp.Clients) : null;
                    _broadcastPending = true;
                }
            }
            if (!_keys.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(key, out byte[]? stored, out TrackedKey? tracked)) return;
            RemoveFromList(tracked.Index);
            _items -= tracked.Ids.Count;
            _keyCount = _keys.Count;
            copy ??= stored;
            foreach (long id in tracked.Ids)
            {
                ClientSession? target = _server.Clients.Find(id);
                // A client that turned tracking off, or switched to BCAST, no longer gets default-mode invalidations.
                if (target == null || !target.Tracking.On || (target.Tracking.Mode & TrackingMode.Bcast) != 0) continue;
                bool running = target.Executor.IsRunningOnCurrentThread;
                // NOLOOP compares with the running client whatever changed the key (Redis: target == server.current_client).
                if (running && (target.Tracking.Mode & TrackingMode.NoLoop) != 0) continue;
                if (running && deferForRunningClient) target.Tracking.Pending.Add(copy);
                else (targets ??= []).Add(target);
            }
        }
        if (targets == null) return;
        byte[] keys = KeyArray(copy);
        foreach (ClientSession target in targets) Send(target, keys);
    }

    /// <summary>The NOLOOP client among <paramref name="clients"/> running on this thread (the key's modifier for BCAST NOLOOP), or null.</summary>
    private static ClientSession? RunningClient(List<ClientSession> clients)
    {
        foreach (ClientSession c in clients)
            if ((c.Tracking.Mode & TrackingMode.NoLoop) != 0 && c.Executor.IsRunningOnCurrentThread) return c;
        return null;
    }

    private void RemoveFromList(int index)
    {
        int last = _keyList.Count - 1;
        if (index != last)
        {
            byte[] moved = _keyList[last];
            _keyList[index] = moved;
            _keys[moved].Index = index;
        }
        _keyList.RemoveAt(last);
    }

    /// <summary>
    /// FLUSHDB / FLUSHALL (Redis's <c>trackingInvalidateKeysOnFlush</c>): every tracking client gets the null invalidation —
    /// the client running the flush after its reply — and the table is emptied.
    /// </summary>
    public void InvalidateAll()
    {
        List<ClientSession>? targets = null;
        lock (_lock)
        {
            if (_trackingClients > 0)
            {
                foreach (ClientSession c in _server.Clients.Live)
                {
                    if (!c.Tracking.On) continue;
                    if (c.Executor.IsRunningOnCurrentThread) c.Tracking.Pending.Add(null);
                    else (targets ??= []).Add(c);
                }
            }
            _keys.Clear();
            _keyList.Clear();
            _items = 0;
            _keyCount = 0;
        }
        if (targets == null) return;
        foreach (ClientSession c in targets) Send(c, null);
    }

    /// <summary>
    /// Sends <paramref name="client"/> the invalidations its own commands caused (Redis's
    /// <c>trackingHandlePendingKeyInvalidations</c>); its connection calls it after each command it runs, and before one
    /// once the admission gates (which may evict keys) passed. Its own thread only.
    /// </summary>
    internal void SendPending(ClientSession client)
    {
        List<byte[]?> pending = client.Tracking.Pending;
        if (pending.Count == 0) return;
        foreach (byte[]? key in pending) Send(client, key == null ? null : KeyArray(key));
        pending.Clear();
    }

    /// <summary>
    /// Sends the keys collected per BCAST prefix since the last call (Redis's <c>trackingBroadcastInvalidationMessages</c>):
    /// one message per prefix and subscribed client, the keys in byte order; a NOLOOP client's message leaves out the keys
    /// it changed last, and it gets none when nothing is left. Called when a batch of commands ends and by the server cron.
    /// </summary>
    public void FlushBroadcasts()
    {
        if (!_broadcastPending) return;
        List<(ClientSession Client, byte[] Keys)> sends = [];
        lock (_lock)
        {
            _broadcastPending = false;
            foreach (BroadcastPrefix bp in _prefixes.Values)
            {
                if (bp.Keys.Count == 0) continue;
                byte[] all = BroadcastArray(bp.Keys, exclude: null)!;
                foreach (ClientSession c in bp.Clients)
                {
                    if ((c.Tracking.Mode & TrackingMode.NoLoop) == 0) sends.Add((c, all));
                    else if (BroadcastArray(bp.Keys, exclude: c) is { } own) sends.Add((c, own));
                }
                bp.Keys.Clear();
            }
        }
        foreach ((ClientSession c, byte[] keys) in sends) Send(c, keys);
    }

    /// <summary>
    /// Keeps the table within <c>tracking-table-max-keys</c> (Redis's <c>trackingLimitUsedSlots</c>): invalidates random keys,
    /// at most 100 × (rounds over the limit so far + 1) per call, until the table is back under the limit.
    /// </summary>
    public void LimitUsedSlots()
    {
        long max = _server.Options.TrackingTableMaxKeys;
        if (max == 0) return;
        if (_keyCount <= max)
        {
            _limitRounds = 0;
            return;
        }
        int effort = 100 * (_limitRounds + 1);
        while (effort-- > 0)
        {
            byte[] key;
            lock (_lock)
            {
                if (_keyList.Count == 0) break;
                key = _keyList[Random.Shared.Next(_keyList.Count)];
            }
            Invalidate(key, broadcast: false, byCommand: false, deferForRunningClient: false);
            if (_keyCount <= max)
            {
                _limitRounds = 0;
                return;
            }
        }
        _limitRounds++;
    }

    /// <summary>
    /// Redis's <c>sendTrackingMessage</c>: delivers <paramref name="keys"/> (a RESP array of keys; null for the flush's null,
    /// in <paramref name="target"/>'s protocol) to <paramref name="target"/> or its redirect client.
    /// </summary>
    private void Send(ClientSession target, byte[]? keys)
    {
        TrackingState state = target.Tracking;
        ClientSession destination = target;
        long redirect = state.Redirect;
        if (redirect != 0)
        {
            ClientSession? other = _server.Clients.Find(redirect);
            if (other == null || other.CloseRequested)
            {
                state.BrokenRedirect = true;
                if (target.Writer.Protocol >= 3)
                    target.Deliver(new OutboxItem(Frame(">2\r\n$21\r\ntracking-redir-broken\r\n"u8, RespInteger(redirect)), OutboxItemKind.Raw), null);
                return;
            }
            destination = other;
        }
        ReadOnlySpan<byte> value = keys ?? (target.Writer.Protocol >= 3 ? "_\r\n"u8 : "$-1\r\n"u8);
        byte[] frame;
        if (destination.Writer.Protocol >= 3) frame = Frame(">2\r\n$10\r\ninvalidate\r\n"u8, value);
        else if (redirect != 0 && destination.IsSubscribed) frame = Frame("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"u8, value);
        else return; // RESP2 without a redirect: nothing can be delivered.
        destination.Deliver(new OutboxItem(frame, OutboxItemKind.Raw), null);
    }

    private static byte[] Frame(ReadOnlySpan<byte> head, ReadOnlySpan<byte> value)
    {
        byte[] frame = new byte[head.Length + value.Length];
        head.CopyTo(frame);
        value.CopyTo(frame.AsSpan(head.Length));
        return frame;
    }

    private static byte[] RespInteger(long value)
    {
        Span<byte> digits = stackalloc byte[24];
        digits[0] = (byte)':';
        Utf8Formatter.TryFormat(value, digits[1..], out int n);
        digits[n + 1] = (byte)'\r';
        digits[n + 2] = (byte)'\n';
        return digits[..(n + 3)].ToArray();
    }

    /// <summary><c>*1 $len key</c>: a one-key invalidation's value.</summary>
    private static byte[] KeyArray(byte[] key)
    {
        var frame = new List<byte>(key.Length + 24);
        AddHeader(frame, (byte)'*', 1);
        AddBulk(frame, key);
        return [.. frame];
    }

    /// <summary>The array of <paramref name="keys"/> (byte order) not last changed by <paramref name="exclude"/>; null when that leaves none.</summary>
    private static byte[]? BroadcastArray(SortedDictionary<byte[], ClientSession?> keys, ClientSession? exclude)
    {
        int count = 0;
        foreach (ClientSession? modifier in keys.Values)
            if (exclude == null || !ReferenceEquals(modifier, exclude)) count++;
        if (count == 0) return null;
        var frame = new List<byte>(count * 16 + 16);
        AddHeader(frame, (byte)'*', count);
        foreach ((byte[] key, ClientSession? modifier) in keys)
            if (exclude == null || !ReferenceEquals(modifier, exclude)) AddBulk(frame, key);
        return [.. frame];
    }

    private static void AddHeader(List<byte> frame, byte type, long length)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(length, digits, out int n);
        frame.Add(type);
        frame.AddRange(digits[..n]);
        frame.Add((byte)'\r');
        frame.Add((byte)'\n');
    }

    private static void AddBulk(List<byte> frame, ReadOnlySpan<byte> value)
    {
        AddHeader(frame, (byte)'$', value.Length);
        frame.AddRange(value);
        frame.Add((byte)'\r');
        frame.Add((byte)'\n');
    }

    /// <summary>A key of the table: the ids of the clients that may cache it, and its place in the list random picks use.</summary>
    private sealed class TrackedKey(int index)
    {
        public int Index = index;
        public readonly HashSet<long> Ids = [];
    }

    /// <summary>A BCAST prefix: its clients and the keys changed since the last broadcast, each with the NOLOOP client that changed it last (or null).</summary>
    private sealed class BroadcastPrefix
    {
        public readonly List<ClientSession> Clients = [];
        public readonly SortedDictionary<byte[], ClientSession?> Keys = new(ByteOrder);
    }

    /// <summary>Unsigned byte order (Redis's radix trees list prefixes and broadcast keys in it).</summary>
    internal static IComparer<byte[]> PrefixOrder => ByteOrder;
}

/// <summary>CLIENT TRACKING's mode options (Redis's <c>CLIENT_TRACKING_BCAST</c>, <c>_OPTIN</c>, <c>_OPTOUT</c>, <c>_NOLOOP</c>).</summary>
[Flags]
internal enum TrackingMode
{
    /// <summary>Default mode.</summary>
    None = 0,

    /// <summary>BCAST: invalidations for every key matching a prefix.</summary>
    Bcast = 1,

    /// <summary>OPTIN: keys are remembered only for the command after <c>CLIENT CACHING yes</c>.</summary>
    OptIn = 2,

    /// <summary>OPTOUT: keys are remembered except for the command after <c>CLIENT CACHING no</c>.</summary>
    OptOut = 4,

    /// <summary>NOLOOP: no invalidations for keys the client changed itself.</summary>
    NoLoop = 8,
}

/// <summary>
/// One client's tracking state (Redis's <c>CLIENT_TRACKING*</c> flags, <c>client_tracking_redirection</c>,
/// <c>client_tracking_prefixes</c>). Written under <see cref="ClientTracking"/>'s lock; <see cref="Caching"/> and
/// <see cref="Pending"/> only by the client's own thread.
/// </summary>
public sealed class TrackingState
{
    /// <summary>Tracking is on (CLIENT LIST flag <c>t</c>).</summary>
    public bool On { get; internal set; }

    /// <summary>The mode options given to CLIENT TRACKING ON.</summary>
    internal TrackingMode Mode { get; set; }

    /// <summary><c>CLIENT CACHING yes</c> (OPTIN) or <c>no</c> (OPTOUT) was given for the next command (or transaction).</summary>
    internal bool Caching { get; set; }

    /// <summary>The redirect client disconnected (CLIENT LIST flag <c>R</c>, TRACKINGINFO <c>broken_redirect</c>).</summary>
    public bool BrokenRedirect { get; internal set; }

    /// <summary>The client id invalidations go to (0 = this client).</summary>
    public long Redirect { get; internal set; }

    /// <summary>True in BCAST mode (CLIENT LIST flag <c>B</c>).</summary>
    public bool Bcast => (Mode & TrackingMode.Bcast) != 0;

    /// <summary>True in OPTIN mode.</summary>
    public bool OptIn => (Mode & TrackingMode.OptIn) != 0;

    /// <summary>True in OPTOUT mode.</summary>
    public bool OptOut => (Mode & TrackingMode.OptOut) != 0;

    /// <summary>The CLIENT container row of the CACHING that set <see cref="Caching"/>: CLIENT commands in between keep it.</summary>
    private Execution.CommandInfo? _cachingContainer;

    /// <summary><c>CLIENT CACHING</c> (its row's container is <paramref name="clientContainer"/>): applies to the next command or transaction.</summary>
    internal void SetCaching(Execution.CommandInfo? clientContainer)
    {
        _cachingContainer = clientContainer;
        Caching = true;
    }

    /// <summary>
    /// After each command the connection read (Redis's <c>resetClient</c>; <paramref name="command"/> is its row, null for
    /// an unknown command, run or rejected): CACHING ends unless a transaction is open or the command was a CLIENT subcommand.
    /// </summary>
    internal void AfterCommand(Execution.CommandInfo? command, bool inMulti)
    {
        if (Caching && !inMulti && (command == null || !ReferenceEquals(command, _cachingContainer))) Caching = false;
    }

    /// <summary>The BCAST prefixes, in byte order.</summary>
    internal SortedSet<byte[]> Prefixes { get; } = new(ClientTracking.PrefixOrder);

    /// <summary>Invalidations of keys this client's running command changed (null = the flush's null), sent after its reply.</summary>
    internal List<byte[]?> Pending { get; } = [];

    /// <summary>True when a read-only command run now would remember its keys (tracking on, not BCAST, OPTIN/OPTOUT and CACHING agreeing).</summary>
    internal bool RemembersNextRead =>
        On && (Mode & TrackingMode.Bcast) == 0
        && ((Mode & TrackingMode.OptIn) == 0 || Caching)
        && ((Mode & TrackingMode.OptOut) == 0 || !Caching);
}

/// <summary>A copy of a client's tracking state for CLIENT TRACKINGINFO and CLIENT LIST.</summary>
internal readonly record struct TrackingInfo(bool On, TrackingMode Mode, bool Caching, bool BrokenRedirect, long Redirect, byte[][] Prefixes);
