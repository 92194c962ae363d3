using System.Collections.Concurrent;

namespace RespKv.Server;

/// <summary>The connected clients, by id (CLIENT LIST, INFO clients, <c>maxclients</c>, idle <c>timeout</c>).</summary>
public sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, ClientSession> _clients = new();
    private long _nextId;

    /// <summary>
    /// Held while a client leaves (removed and its counters folded into <see cref="ServerStats"/>) and while
    /// the stats sum retired and live counters, so no reading counts a client twice or not at all.
    /// </summary>
    internal Lock MembershipLock { get; } = new();

    /// <summary>The server-wide CLIENT PAUSE.</summary>
    public ClientPause Pause { get; } = new();

    /// <summary>The clients in MONITOR mode and the feed of executed commands to them.</summary>
    public MonitorFeed Monitors { get; } = new();

    /// <summary>Connected clients.</summary>
    public int Count => _clients.Count;

    /// <summary>A new, unique client id (CLIENT ID), starting at 1.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>The live clients, unordered; enumerate under <see cref="MembershipLock"/> for exact sums.</summary>
    internal ICollection<ClientSession> Live => _clients.Values;

    internal void Add(ClientSession client) => _clients[client.Id] = client;

    /// <summary>Removes a disconnected client and folds its counters into <paramref name="stats"/>, atomically.</summary>
    internal void Remove(ClientSession client, ServerStats stats)
    {
        if (client.IsMonitor) Monitors.Remove(client);
        lock (MembershipLock)
        {
            _clients.TryRemove(client.Id, out _);
            stats.Retire(client);
        }
    }

    /// <summary>Connected clients blocked on keys (BLPOP…) or whose next command waits for a CLIENT PAUSE to end (INFO <c>blocked_clients</c>).</summary>
    public int BlockedCount
    {
        get
        {
            int blocked = 0;
            foreach (ClientSession c in _clients.Values)
                if (c.IsBlocked) blocked++;
            return blocked;
        }
    }

    /// <summary>The connected client with id <paramref name="id"/>, or null.</summary>
    public ClientSession? Find(long id) => _clients.TryGetValue(id, out ClientSession? client) ? client : null;

    /// <summary>The connected clients, ordered by id.</summary>
    public IReadOnlyList<ClientSession> Snapshot() => _clients.Values.OrderBy(c => c.Id).ToArray();
}
