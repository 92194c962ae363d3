using System.Collections.Concurrent;

namespace RespKv.Server;

/// <summary>
/// The connected clients, by id (CLIENT LIST, INFO clients, <c>maxclients</c>). While at least one
/// client is registered it runs the <see cref="ServerCron"/> of the clients' server.
/// </summary>
public sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, ClientSession> _clients = new();
    private readonly Lock _cronLock = new();
    private ServerCron? _cron;
    private long _nextId;

    /// <summary>Connected clients.</summary>
    public int Count => _clients.Count;

    /// <summary>A new, unique client id (CLIENT ID), starting at 1.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    internal void Add(ClientSession client)
    {
        _clients[client.Id] = client;
        lock (_cronLock) _cron ??= ServerCron.Start(client.Server);
    }

    internal void Remove(ClientSession client)
    {
        _clients.TryRemove(client.Id, out _);
        lock (_cronLock)
        {
            if (!_clients.IsEmpty || _cron == null) return;
            _cron.Dispose();
            _cron = null;
        }
    }

    /// <summary>The connected client with id <paramref name="id"/>, or null.</summary>
    public ClientSession? Find(long id) => _clients.TryGetValue(id, out ClientSession? client) ? client : null;

    /// <summary>The connected clients, ordered by id.</summary>
    public IReadOnlyList<ClientSession> Snapshot() => _clients.Values.OrderBy(c => c.Id).ToArray();
}
