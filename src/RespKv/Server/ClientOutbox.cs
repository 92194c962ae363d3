using System.Collections.Concurrent;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// A connection's out-of-band replies: what other clients' commands produce for it — MONITOR lines, pub/sub
/// messages and client-side caching invalidations (blocked-command replies next). Any thread may
/// <see cref="Enqueue"/>; only the connection's own loop <see cref="Drain"/>s, between batches, into its reply
/// writer, so no other thread ever touches that writer. Each item is already encoded for the receiving connection
/// (its RESP version is known when the item is made). The bytes queued count toward the client's output-buffer limit.
/// </summary>
public sealed class ClientOutbox
{
    private readonly ConcurrentQueue<OutboxItem> _items = new();
    private long _queuedBytes;

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

    /// <summary>Writes every queued item to <paramref name="writer"/>, in queue order (the connection's own loop only).</summary>
    public void Drain(RespWriter writer)
    {
        while (_items.TryDequeue(out OutboxItem item))
        {
            Interlocked.Add(ref _queuedBytes, -item.WireBytes);
            item.WriteTo(writer);
        }
    }

    /// <summary>Drops everything queued (e.g. a MONITOR line queued while RESET was ending monitoring).</summary>
    public void Clear()
    {
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
