using System.Buffers.Text;
using System.Collections.Concurrent;
using RespKv.Protocol;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// The server's Pub/Sub registry (https://redis.io/docs/manual/pubsub/): who is subscribed to which channel, pattern and
/// shard channel, and the fan-out of a published message into each receiver's <see cref="ClientOutbox"/>.
/// <para>
/// Publishing takes no lock: each channel's subscribers are an immutable array replaced on (un)subscribe, and the
/// patterns one immutable array too, so a PUBLISH reads a snapshot, encodes the message once per RESP version and
/// queues the same bytes to every receiver (a connection writes its outbox from its own loop; a slow one is cut off by
/// <c>client-output-buffer-limit pubsub</c>). Messages from one publisher reach each subscriber in publish order: they
/// are queued in that order into a FIFO outbox. (Un)subscribing takes <see cref="_lock"/>.
/// </para>
/// </summary>
public sealed class PubSub
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<byte[], ClientSession[]> _channels = new(ByteStringComparer.Instance);
    private readonly ConcurrentDictionary<byte[], ClientSession[]> _shardChannels = new(ByteStringComparer.Instance);
    private (byte[] Pattern, ClientSession Client)[] _patterns = [];

    /// <summary>Channels with at least one subscriber (INFO <c>pubsub_channels</c>).</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Shard channels with at least one subscriber (INFO <c>pubsubshard_channels</c>).</summary>
    public int ShardChannelCount => _shardChannels.Count;

    /// <summary>
    /// Distinct patterns with at least one subscriber (INFO <c>pubsub_patterns</c>, PUBSUB NUMPAT: Redis 7.0's
    /// <c>dictSize(server.pubsub_patterns)</c>, so two clients on one pattern count once). O(subscriptions): read rarely.
    /// </summary>
    public int PatternCount
    {
        get
        {
            (byte[] Pattern, ClientSession Client)[] patterns = Volatile.Read(ref _patterns);
            if (patterns.Length <= 1) return patterns.Length;
            var distinct = new HashSet<byte[]>(ByteStringComparer.Instance);
            foreach ((byte[] pattern, _) in patterns) distinct.Add(pattern);
            return distinct.Count;
        }
    }

    private ConcurrentDictionary<byte[], ClientSession[]> Channels(bool shard) => shard ? _shardChannels : _channels;

    /// <summary>Adds <paramref name="client"/> to <paramref name="channel"/>'s subscribers (the client's own set already said it was new).</summary>
    internal void AddChannel(byte[] channel, ClientSession client, bool shard)
    {
        lock (_lock)
        {
            ConcurrentDictionary<byte[], ClientSession[]> channels = Channels(shard);
            channels[channel] = channels.TryGetValue(channel, out ClientSession[]? subscribers) ? [.. subscribers, client] : [client];
        }
    }

    /// <summary>Removes <paramref name="client"/> from <paramref name="channel"/>'s subscribers; a channel left without any is forgotten.</summary>
    internal void RemoveChannel(byte[] channel, ClientSession client, bool shard)
    {
        lock (_lock)
        {
            ConcurrentDictionary<byte[], ClientSession[]> channels = Channels(shard);
            if (!channels.TryGetValue(channel, out ClientSession[]? subscribers)) return;
            ClientSession[] rest = Array.FindAll(subscribers, c => !ReferenceEquals(c, client));
            if (rest.Length == 0) channels.TryRemove(channel, out _);
            else channels[channel] = rest;
        }
    }

    /// <summary>Adds <paramref name="client"/>'s subscription to <paramref name="pattern"/>.</summary>
    internal void AddPattern(byte[] pattern, ClientSession client)
    {
        lock (_lock) Volatile.Write(ref _patterns, [.. _patterns, (pattern, client)]);
    }

    /// <summary>Removes <paramref name="client"/>'s subscription to <paramref name="pattern"/>.</summary>
    internal void RemovePattern(byte[] pattern, ClientSession client)
    {
        lock (_lock)
        {
            Volatile.Write(ref _patterns, Array.FindAll(_patterns,
                p => !(ReferenceEquals(p.Client, client) && p.Pattern.AsSpan().SequenceEqual(pattern))));
        }
    }

    /// <summary>
    /// <c>PUBLISH</c> / <c>SPUBLISH</c>: queues <paramref name="message"/> for every subscriber of <paramref name="channel"/>
    /// (a <c>message</c>, or <c>smessage</c> for a shard channel) and, for a plain channel, every client whose pattern
    /// matches it (a <c>pmessage</c> per matching pattern subscription); returns how many messages were queued (the
    /// reply, Redis's receiver count). A receiver that is running the publishing command itself on this thread — the
    /// <paramref name="publisher"/> (a RESP3 client publishing to its own channel), or the client whose command caused a
    /// keyspace notification (<paramref name="publisher"/> null) — gets the message in its reply stream at once, before
    /// the command's reply, as Redis writes it.
    /// </summary>
    /// <param name="channel">The channel.</param>
    /// <param name="message">The payload.</param>
    /// <param name="shard">True for a shard channel (SPUBLISH).</param>
    /// <param name="publisher">The publishing client, or null for a keyspace notification.</param>
    /// <param name="keyEvent">For a keyspace notification, its event: a command flagged
    /// <see cref="Execution.CommandFlags.RepliesBeforeNotifying"/> holds its own client's push of it until after its reply
    /// (<see cref="Execution.CommandInfo.NotifiesAfterReply"/>).</param>
    public long Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message, bool shard, ClientSession? publisher, KeyEvent? keyEvent = null)
    {
        long receivers = 0;
        var encoded = new EncodedMessages();
        if (Channels(shard).GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out ClientSession[]? subscribers))
        {
            ReadOnlySpan<byte> kind = shard ? "smessage"u8 : "message"u8;
            foreach (ClientSession subscriber in subscribers)
            {
                byte[] frame = encoded.For(subscriber.Writer.Protocol, kind, channel, message);
                subscriber.Deliver(new OutboxItem(frame, OutboxItemKind.Raw), publisher, keyEvent);
                receivers++;
            }
        }
        if (shard) return receivers;
        foreach ((byte[] pattern, ClientSession client) in Volatile.Read(ref _patterns))
        {
            if (!GlobPattern.IsMatch(pattern, channel)) continue;
            // One frame per pattern: the pattern is part of the message.
            byte[] frame = EncodedMessages.Encode(client.Writer.Protocol, "pmessage"u8, pattern, channel, message, pattern: true);
            client.Deliver(new OutboxItem(frame, OutboxItemKind.Raw), publisher, keyEvent);
            receivers++;
        }
        return receivers;
    }

    /// <summary>Subscribed channels (or shard channels) matching <paramref name="pattern"/> (null: all), for PUBSUB (SHARD)CHANNELS.</summary>
    public List<byte[]> ActiveChannels(ReadOnlySpan<byte> pattern, bool all, bool shard)
    {
        var found = new List<byte[]>();
        foreach (byte[] channel in Channels(shard).Keys)
            if (all || GlobPattern.IsMatch(pattern, channel)) found.Add(channel);
        return found;
    }

    /// <summary>Subscribers of <paramref name="channel"/> (PUBSUB NUMSUB / SHARDNUMSUB).</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel, bool shard) =>
        Channels(shard).GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out ClientSession[]? subscribers) ? subscribers.Length : 0;

    /// <summary>A message encoded once per RESP version for one PUBLISH (RESP2 <c>*3</c> array, RESP3 <c>&gt;3</c> push).</summary>
    private struct EncodedMessages
    {
        private byte[]? _resp2, _resp3;

        /// <summary>The <c>message</c>/<c>smessage</c> frame for a receiver speaking <paramref name="protocol"/>, encoded on first use.</summary>
        public byte[] For(int protocol, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
        {
            ref byte[]? slot = ref protocol >= 3 ? ref _resp3 : ref _resp2;
            return slot ??= Encode(protocol, kind, default, channel, message, pattern: false);
        }

        /// <summary><c>[p]message [pattern] channel payload</c> as a RESP2 array or a RESP3 push, in one exactly sized array.</summary>
        public static byte[] Encode(int protocol, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> patternText, ReadOnlySpan<byte> channel,
            ReadOnlySpan<byte> message, bool pattern)
        {
            int length = 4 + BulkLength(kind) + (pattern ? BulkLength(patternText) : 0) + BulkLength(channel) + BulkLength(message);
            byte[] frame = new byte[length];
            frame[0] = protocol >= 3 ? (byte)'>' : (byte)'*';
            frame[1] = pattern ? (byte)'4' : (byte)'3';
            frame[2] = (byte)'\r';
            frame[3] = (byte)'\n';
            int at = 4;
            at = AddBulk(frame, at, kind);
            if (pattern) at = AddBulk(frame, at, patternText);
            at = AddBulk(frame, at, channel);
            AddBulk(frame, at, message);
            return frame;
        }

        /// <summary>Bytes of <c>$len\r\nvalue\r\n</c>.</summary>
        private static int BulkLength(ReadOnlySpan<byte> value) => 5 + Digits(value.Length) + value.Length;

        private static int Digits(int n)
        {
            int digits = 1;
            while (n >= 10) { n /= 10; digits++; }
            return digits;
        }

        /// <summary>Writes <c>$len\r\nvalue\r\n</c> at <paramref name="at"/>; returns the offset after it.</summary>
        private static int AddBulk(byte[] frame, int at, ReadOnlySpan<byte> value)
        {
            frame[at++] = (byte)'$';
            Utf8Formatter.TryFormat(value.Length, frame.AsSpan(at), out int n);
            at += n;
            frame[at++] = (byte)'\r';
            frame[at++] = (byte)'\n';
            value.CopyTo(frame.AsSpan(at));
            at += value.Length;
            frame[at++] = (byte)'\r';
            frame[at++] = (byte)'\n';
            return at;
        }
    }
}
