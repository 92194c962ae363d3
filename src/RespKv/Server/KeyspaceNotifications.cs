using System.Text;
using RespKv.Configuration;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Keyspace notifications (https://redis.io/docs/manual/keyspace-notifications/): subscribed to the keyspace's single
/// change hook (<see cref="KeyLifetime.KeyChanged"/>, called for every change any command, expiry or eviction makes, under
/// the key's shard lock), so no command can forget one. For an event whose class <c>notify-keyspace-events</c> enables
/// (<see cref="ServerOptions.NotifyKeyspaceEventFlags"/>), it publishes the event name on
/// <c>__keyspace@&lt;db&gt;__:&lt;key&gt;</c> (class <c>K</c>) and the key on <c>__keyevent@&lt;db&gt;__:&lt;event&gt;</c>
/// (class <c>E</c>), through <see cref="PubSub"/>. With the option empty (the default) the cost per change is one field read.
/// </summary>
public sealed class KeyspaceNotifications(ServerOptions options, PubSub pubSub)
{
    /// <summary>The hook's body: publishes <paramref name="keyEvent"/> on <paramref name="key"/> of database <paramref name="database"/> when enabled.</summary>
    public void Notify(int database, ReadOnlySpan<byte> key, KeyEvent keyEvent)
    {
        int flags = options.NotifyKeyspaceEventFlags;
        if (flags == 0 || (flags & ServerOptions.KeyspaceEventClass(keyEvent.Class)) == 0) return;
        byte[] name = Encoding.ASCII.GetBytes(keyEvent.Name);
        if ((flags & ServerOptions.KeyspaceEventClass('K')) != 0)
            pubSub.Publish(Channel("__keyspace@", database, key), name, shard: false, publisher: null, keyEvent);
        if ((flags & ServerOptions.KeyspaceEventClass('E')) != 0)
            pubSub.Publish(Channel("__keyevent@", database, name), key, shard: false, publisher: null, keyEvent);
    }

    /// <summary><c>prefix + db + "__:" + suffix</c>, e.g. <c>__keyspace@0__:mykey</c>.</summary>
    private static byte[] Channel(string prefix, int database, ReadOnlySpan<byte> suffix)
    {
        string head = prefix + database.ToString(System.Globalization.CultureInfo.InvariantCulture) + "__:";
        byte[] channel = new byte[head.Length + suffix.Length];
        Encoding.ASCII.GetBytes(head, channel);
        suffix.CopyTo(channel.AsSpan(head.Length));
        return channel;
    }
}
