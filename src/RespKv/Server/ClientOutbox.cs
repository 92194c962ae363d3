using System.Collections.Concurrent;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// A connection's out-of-band replies: what other clients' commands produce for it — MONITOR lines, pub/sub
/// messages, keyspace notifications and client-side caching invalidations (a blocked command is not served through
/// it: the blocked client re-runs its command on its own loop). Any thread may
/// <see cref="Enqueue"/>; only the connection's own loop <see cref="Drain"/>s, between batches, into its reply
/// writer, so no other thread ever touches that writer. Each item is already encoded for the receiving connection
/// (its RESP version is known when the item is made). The bytes queued count toward the client's output-buffer limit.
/// </summary>
public sealed class ClientOutbox
{
    private readonly ConcurrentQueue<OutboxItem> _items = new();
    private long _queuedBytes;

    // 1 from the first ClaimWake after a drain until the next drain: while it is set, the connection's loop is already
    // woken (or running) and will drain, so further producers queue without waking it again.
    private int _wakePending;

    /// <summary>Bytes waiting to be drained (their encoded size on the wire).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>True when nothing waits.</summary>
    public bool IsEmpty => _items.IsEmpty;

    /// <summary>Queues <paramref name="item"/>; returns the bytes now queued (for the caller's output-buffer limit check).</summary>
    public long Enqueue(OutboxItem item)
    {
        _items.Enqueue(item);
        return Interlocked.Add(ref _queuedBytes, item.WireBytes);
    }

    /// <summary>
    /// After an <see cref="Enqueue"/>: true when the caller must wake the connection's loop — the first producer since the
    /// loop's last <see cref="Drain"/>. A burst of messages (a PUBLISH pipeline, a fan-out) so costs the receiver one
    /// wake-up and one flush, not one per message.
    /// </summary>
    public bool ClaimWake() => Volatile.Read(ref _wakePending) == 0 && Interlocked.Exchange(ref _wakePending, 1) == 0;

    /// <summary>
    /// Writes every queued item to <paramref name="writer"/>, in queue order (the connection's own loop only). Re-arms
    /// <see cref="ClaimWake"/> first, with a full fence, so an item queued after the queue is seen empty always wakes the loop.
    /// </summary>
    public void Drain(RespWriter writer)
    {
        if (Volatile.Read(ref _wakePending) != 0) Interlocked.Exchange(ref _wakePending, 0);
        while (_items.TryDequeue(out OutboxItem item))
        {
            Interlocked.Add(ref _queuedBytes, -item.WireBytes);
            item.WriteTo(writer);
        }
    }

    /// <summary>Drops everything queued (e.g. a MONITOR line queued while RESET was ending monitoring).</summary>
    public void Clear()
    {
        Interlocked.Exchange(ref _wakePending, 0);
        while (_items.TryDequeue(out OutboxItem item)) Interlocked.Add(ref _queuedBytes, -item.WireBytes);
    }
}

/// <summary>How an <see cref="OutboxItem"/>'s bytes are written.</summary>
public enum OutboxItemKind : byte
{
    /// <summary>A simple string (<c>+payload\r\n</c>): a MONITOR line.</summary>
    SimpleString,

    /// <summary>Complete RESP bytes, encoded for the receiver's protocol (a pub/sub message, an invalidation push).</summary>
    Raw,
}

/// <summary>One out-of-band reply: its payload and how to write it.</summary>
/// <param name="Payload">The simple string's text (without <c>+</c> and CRLF), or whole RESP bytes.</param>
/// <param name="Kind">How <paramref name="Payload"/> is written.</param>
public readonly record struct OutboxItem(byte[] Payload, OutboxItemKind Kind)
{
    /// <summary>The item's size on the wire, in bytes.</summary>
    public long WireBytes => Kind == OutboxItemKind.SimpleString ? Payload.Length + 3 : Payload.Length;

    /// <summary>Writes the item (through the writer: CLIENT REPLY OFF/SKIP drops it as any reply).</summary>
    public void WriteTo(RespWriter writer)
    {
        if (Kind == OutboxItemKind.SimpleString) writer.WriteSimpleString(Payload);
        else writer.WriteRaw(Payload);
    }
}

/// <summary>
/// Wake-ups of other connections' loops (<see cref="ClientConnection.Wake"/>) asked for by the batch this thread is
/// running, sent when the batch ends — as Redis writes every client's pending output once per event-loop iteration
/// (<c>beforeSleep</c> → <c>handleClientsWithPendingWrites</c>), not once per message. Connections run their
/// continuations inline, so waking a subscriber at once would run its loop on this thread, one write per message;
/// deferred, a subscriber of a pipelined PUBLISH batch drains the whole batch's messages with one write.
/// </summary>
internal static class DeferredWakes
{
    [ThreadStatic] private static List<ClientConnection>? t_pending;
    [ThreadStatic] private static int t_depth;

    /// <summary>A batch starts on this thread: wakes asked for until the matching <see cref="Exit"/> wait for it.</summary>
    public static void Enter() => t_depth++;

    /// <summary>
    /// The batch ended: wakes each connection asked for during it, in order, from one thread-pool work item — off this
    /// thread, so this connection's replies go out first and messages of the batches that run meanwhile join the same
    /// drain; one work item for all of them, so a fan-out to 1,000 subscribers costs one dispatch, not 1,000.
    /// </summary>
    public static void Exit()
    {
        if (--t_depth != 0 || t_pending is not { Count: > 0 } pending) return;
        t_pending = null; // the list now belongs to the work item
        ThreadPool.UnsafeQueueUserWorkItem(static list =>
        {
            foreach (ClientConnection connection in list) connection.Wake(flushToo: false);
        }, pending, preferLocal: false);
    }

    /// <summary>Wakes <paramref name="connection"/>'s loop: at the end of this thread's batch, or now outside one (the cron, the AOF writer).</summary>
    public static void Wake(ClientConnection connection)
    {
        if (t_depth > 0) (t_pending ??= []).Add(connection);
        else connection.Wake(flushToo: false);
    }
}
