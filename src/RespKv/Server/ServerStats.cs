namespace RespKv.Server;

/// <summary>
/// Server-wide counters for INFO <c>stats</c>. Hot counters live in each <see cref="ClientSession"/>
/// (no shared cache line per command) and are folded in here when a client disconnects; INFO sums both.
/// </summary>
public sealed class ServerStats
{
    private long _connectionsReceived;
    private long _rejectedConnections;
    private long _retiredCommands;
    private long _retiredHits;
    private long _retiredMisses;
    private long _retiredInputBytes;
    private long _retiredOutputBytes;

    /// <summary>Connections accepted since start (<c>total_connections_received</c>).</summary>
    public long ConnectionsReceived => Volatile.Read(ref _connectionsReceived);

    /// <summary>Connections refused for <c>maxclients</c> (<c>rejected_connections</c>).</summary>
    public long RejectedConnections => Volatile.Read(ref _rejectedConnections);

    internal void ConnectionAccepted() => Interlocked.Increment(ref _connectionsReceived);

    internal void ConnectionRejected() => Interlocked.Increment(ref _rejectedConnections);

    internal void Retire(ClientSession client)
    {
        Interlocked.Add(ref _retiredCommands, client.CommandsProcessed);
        Interlocked.Add(ref _retiredHits, client.KeyspaceHits);
        Interlocked.Add(ref _retiredMisses, client.KeyspaceMisses);
        Interlocked.Add(ref _retiredInputBytes, client.NetInputBytes);
        Interlocked.Add(ref _retiredOutputBytes, client.NetOutputBytes);
    }

    /// <summary>Totals over disconnected and connected clients.</summary>
    public (long Commands, long Hits, long Misses, long InputBytes, long OutputBytes) Totals(ClientRegistry clients)
    {
        long commands = Volatile.Read(ref _retiredCommands), hits = Volatile.Read(ref _retiredHits),
            misses = Volatile.Read(ref _retiredMisses), input = Volatile.Read(ref _retiredInputBytes),
            output = Volatile.Read(ref _retiredOutputBytes);
        foreach (ClientSession c in clients.Snapshot())
        {
            commands += c.CommandsProcessed;
            hits += c.KeyspaceHits;
            misses += c.KeyspaceMisses;
            input += c.NetInputBytes;
            output += c.NetOutputBytes;
        }
        return (commands, hits, misses, input, output);
    }
}
