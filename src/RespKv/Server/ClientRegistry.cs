using System.Collections.Concurrent;

namespace RespKv.Server;

/// <summary>The connected clients, by id (CLIENT LIST, INFO clients, <c>maxclients</c>).</summary>
public sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, ClientSession> _clients = new();
    private long _nextId;

    /// <summary>Connected clients.</summary>
    public int Count => _clients.Count;

    /// <summary>A new, unique client id (CLIENT ID), starting at 1.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    internal void Add(ClientSession client) => _clients[client.Id] = client;

    internal void Remove(ClientSession client) => _clients.TryRemove(client.Id, out _);

    /// <summary>The connected clients, ordered by id.</summary>
    public IReadOnlyList<ClientSession> Snapshot() => _clients.Values.OrderBy(c => c.Id).ToArray();
}
