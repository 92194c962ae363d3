using RespKv.Execution;
using RespKv.Protocol;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Server.Commands;

/// <summary>
/// Pub/Sub (https://redis.io/docs/manual/pubsub/): SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH, the sharded
/// SSUBSCRIBE SUNSUBSCRIBE SPUBLISH, and PUBSUB CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP, with Redis 7.0's
/// frames: each (un)subscription is confirmed by a <c>[p|s][un]subscribe name count</c> array (RESP2) or push (RESP3),
/// where count is the client's channel + pattern subscriptions (shard channels: its shard subscriptions). Messages are
/// <c>message channel payload</c>, <c>pmessage pattern channel payload</c> and <c>smessage channel payload</c>, delivered
/// through each receiver's outbox (<see cref="PubSub"/>). Over RESP2 a subscribed client may only run the commands
/// flagged <see cref="CommandFlags.AllowedWhileSubscribed"/> (the admission pipeline's subscribed-mode gate).
/// </summary>
public static class PubSubCommands
{
    private const CommandFlags Subscription = Pubsub | NoScript | Loading | Stale | AllowedWhileSubscribed;

    /// <summary>This family's rows of the command table (arity, flags and key positions as Redis 7.0's COMMAND INFO reports them).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new SessionCommandInfo("subscribe", -2, Subscription, 0, 0, 0, "pubsub", "Listen for messages published to the given channels",
            (ClientSession c, in CommandArgs a) => Subscribe(c, a, shard: false)),
        new SessionCommandInfo("unsubscribe", -1, Subscription, 0, 0, 0, "pubsub", "Stop listening for messages posted to the given channels",
            (ClientSession c, in CommandArgs a) => Unsubscribe(c, a, shard: false)),
        new SessionCommandInfo("psubscribe", -2, Subscription, 0, 0, 0, "pubsub", "Listen for messages published to channels matching the given patterns", PSubscribe),
        new SessionCommandInfo("punsubscribe", -1, Subscription, 0, 0, 0, "pubsub", "Stop listening for messages posted to channels matching the given patterns", PUnsubscribe),
        new SessionCommandInfo("ssubscribe", -2, Subscription, 1, -1, 1, "pubsub", "Listen for messages published to the given shard channels",
            (ClientSession c, in CommandArgs a) => Subscribe(c, a, shard: true)),
        new SessionCommandInfo("sunsubscribe", -1, Subscription, 1, -1, 1, "pubsub", "Stop listening for messages posted to the given shard channels",
            (ClientSession c, in CommandArgs a) => Unsubscribe(c, a, shard: true)),
        new SessionCommandInfo("publish", 3, Pubsub | Loading | Stale | Fast | MayReplicate, 0, 0, 0, "pubsub", "Post a message to a channel",
            (ClientSession c, in CommandArgs a) => Publish(c, a, shard: false)),
        new SessionCommandInfo("spublish", 3, Pubsub | Loading | Stale | Fast | MayReplicate, 1, 1, 1, "pubsub", "Post a message to a shard channel",
            (ClientSession c, in CommandArgs a) => Publish(c, a, shard: true)),
        new SessionCommandInfo("pubsub", -2, None, 0, 0, 0, "pubsub", "A container for Pub/Sub commands", null,
            new SessionCommandInfo("channels", -2, Pubsub | Loading | Stale, 0, 0, 0, "pubsub", "List active channels",
                (ClientSession c, in CommandArgs a) => Channels(c, a, shard: false)),
            new SessionCommandInfo("help", 2, Loading | Stale, 0, 0, 0, "pubsub", "Show helpful text about the different subcommands", Help),
            new SessionCommandInfo("numpat", 2, Pubsub | Loading | Stale, 0, 0, 0, "pubsub", "Get the count of unique patterns pattern subscriptions",
                (ClientSession c, in CommandArgs a) => c.Writer.WriteInteger(c.Server.PubSub.PatternCount)),
            new SessionCommandInfo("numsub", -2, Pubsub | Loading | Stale, 0, 0, 0, "pubsub", "Get the count of subscribers for channels",
                (ClientSession c, in CommandArgs a) => NumSub(c, a, shard: false)),
            new SessionCommandInfo("shardchannels", -2, Pubsub | Loading | Stale, 0, 0, 0, "pubsub", "List active shard channels",
                (ClientSession c, in CommandArgs a) => Channels(c, a, shard: true)),
            new SessionCommandInfo("shardnumsub", -2, Pubsub | Loading | Stale, 0, 0, 0, "pubsub", "Get the count of subscribers for shard channels",
                (ClientSession c, in CommandArgs a) => NumSub(c, a, shard: true))),
    ];

    /// <summary>
    /// <c>SUBSCRIBE channel [channel ...]</c> / <c>SSUBSCRIBE shardchannel [shardchannel ...]</c>: one confirmation per
    /// argument (a repeat confirms again without a second subscription). Queued in MULTI, it subscribes when EXEC runs it,
    /// as Redis 7.0 allows for backward compatibility.
    /// </summary>
    private static void Subscribe(ClientSession client, in CommandArgs args, bool shard)
    {
        ReadOnlySpan<byte> kind = shard ? "ssubscribe"u8 : "subscribe"u8;
        for (int i = 1; i < args.Count; i++)
        {
            client.Subscribe(args[i], shard);
            Confirm(client, kind, args[i], shard ? client.ShardChannelCount : client.ChannelCount + client.PatternCount);
        }
    }

    /// <summary>
    /// <c>UNSUBSCRIBE [channel ...]</c> / <c>SUNSUBSCRIBE [shardchannel ...]</c>: one confirmation per argument, or per
    /// subscribed channel without arguments — or, subscribed to none, a single confirmation with a null channel.
    /// </summary>
    private static void Unsubscribe(ClientSession client, in CommandArgs args, bool shard)
    {
        ReadOnlySpan<byte> kind = shard ? "sunsubscribe"u8 : "unsubscribe"u8;
        if (args.Count > 1)
        {
            for (int i = 1; i < args.Count; i++)
            {
                client.Unsubscribe(args[i], shard);
                Confirm(client, kind, args[i], Count(client, shard));
            }
            return;
        }
        byte[][] channels = client.SubscribedChannels(shard);
        foreach (byte[] channel in channels)
        {
            client.Unsubscribe(channel, shard);
            Confirm(client, kind, channel, Count(client, shard));
        }
        if (channels.Length == 0) ConfirmNone(client, kind, Count(client, shard));
    }

    /// <summary><c>PSUBSCRIBE pattern [pattern ...]</c>: one confirmation per argument (glob patterns as KEYS matches them).</summary>
    private static void PSubscribe(ClientSession client, in CommandArgs args)
    {
        for (int i = 1; i < args.Count; i++)
        {
            client.PSubscribe(args[i]);
            Confirm(client, "psubscribe"u8, args[i], client.ChannelCount + client.PatternCount);
        }
    }

    /// <summary><c>PUNSUBSCRIBE [pattern ...]</c>: as UNSUBSCRIBE, for patterns.</summary>
    private static void PUnsubscribe(ClientSession client, in CommandArgs args)
    {
        if (args.Count > 1)
        {
            for (int i = 1; i < args.Count; i++)
            {
                client.PUnsubscribe(args[i]);
                Confirm(client, "punsubscribe"u8, args[i], client.ChannelCount + client.PatternCount);
            }
            return;
        }
        byte[][] patterns = client.SubscribedPatterns();
        foreach (byte[] pattern in patterns)
        {
            client.PUnsubscribe(pattern);
            Confirm(client, "punsubscribe"u8, pattern, client.ChannelCount + client.PatternCount);
        }
        if (patterns.Length == 0) ConfirmNone(client, "punsubscribe"u8, client.ChannelCount + client.PatternCount);
    }

    private static int Count(ClientSession client, bool shard) => shard ? client.ShardChannelCount : client.ChannelCount + client.PatternCount;

    /// <summary>A <c>kind name count</c> confirmation: a RESP2 array, a RESP3 push.</summary>
    private static void Confirm(ClientSession client, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, long count) =>
        Confirm(client, kind, name, nullName: false, count);

    /// <summary>The confirmation of an UNSUBSCRIBE/PUNSUBSCRIBE/SUNSUBSCRIBE without arguments from a client subscribed to none: a null name.</summary>
    private static void ConfirmNone(ClientSession client, ReadOnlySpan<byte> kind, long count) =>
        Confirm(client, kind, default, nullName: true, count);

    private static void Confirm(ClientSession client, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, bool nullName, long count)
    {
        RespWriter w = client.PushWriter;
        w.WritePushHeader(3);
        w.WriteBulkString(kind);
        if (nullName) w.WriteNullBulkString();
        else w.WriteBulkString(name);
        w.WriteInteger(count);
    }

    /// <summary><c>PUBLISH channel message</c> / <c>SPUBLISH shardchannel message</c>: <c>:n</c>, the number of clients that received it.</summary>
    private static void Publish(ClientSession client, in CommandArgs args, bool shard) =>
        client.Writer.WriteInteger(client.Server.PubSub.Publish(args[1], args[2], shard, client));

    /// <summary><c>PUBSUB CHANNELS [pattern]</c> / <c>SHARDCHANNELS [pattern]</c>: the channels with at least one subscriber, matching the pattern.</summary>
    private static void Channels(ClientSession client, in CommandArgs args, bool shard)
    {
        if (args.Count > 3)
        {
            // Redis 7.0's pubsubCommand falls through to addReplySubcommandSyntaxError, naming the subcommand as typed.
            client.Writer.WriteError($"ERR unknown subcommand or wrong number of arguments for '{System.Text.Encoding.UTF8.GetString(args[1])}'. Try PUBSUB HELP.");
            return;
        }
        List<byte[]> channels = client.Server.PubSub.ActiveChannels(args.Count == 3 ? args[2] : default, args.Count < 3, shard);
        client.Writer.WriteArrayHeader(channels.Count);
        foreach (byte[] channel in channels) client.Writer.WriteBulkString(channel);
    }

    /// <summary><c>PUBSUB NUMSUB [channel ...]</c> / <c>SHARDNUMSUB</c>: channel, count pairs as one flat array (in RESP3 too, as Redis 7.0).</summary>
    private static void NumSub(ClientSession client, in CommandArgs args, bool shard)
    {
        RespWriter w = client.Writer;
        w.WriteArrayHeader(2L * (args.Count - 2));
        for (int i = 2; i < args.Count; i++)
        {
            w.WriteBulkString(args[i]);
            w.WriteInteger(client.Server.PubSub.SubscriberCount(args[i], shard));
        }
    }

    private static void Help(ClientSession client, in CommandArgs args) => client.Writer.WriteHelp("PUBSUB",
    [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ]);
}
