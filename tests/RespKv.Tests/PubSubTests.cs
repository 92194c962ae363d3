using System.Text.RegularExpressions;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Pub/Sub across connections: every message reaches every subscriber in publish order, as RESP2 arrays or RESP3
/// pushes interleaved with replies; a subscriber that stops reading is cut off by <c>client-output-buffer-limit pubsub</c>
/// while publishers go on; CLIENT LIST/KILL see subscribers as type pubsub; disconnecting drops the subscriptions.
/// Single-connection frames are compared with redis-server 7.0 by the <c>pubsub</c> conformance family.
/// </summary>
public sealed class PubSubTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static string Message(string channel, string payload) =>
        $"*3\r\n$7\r\nmessage\r\n${channel.Length}\r\n{channel}\r\n${payload.Length}\r\n{payload}\r\n";

    [Fact]
    public void EveryMessageReachesChannelAndPatternSubscribersInOrder()
    {
        using RespTestClient subscriber = server.Connect();
        using RespTestClient publisher = server.Connect();
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$5\r\norder\r\n:1\r\n", subscriber.Call("SUBSCRIBE", "order"));
        Assert.Equal("*3\r\n$10\r\npsubscribe\r\n$3\r\nor*\r\n:2\r\n", subscriber.Call("PSUBSCRIBE", "or*"));
        const int count = 5000;
        for (int i = 0; i < count; i++) Assert.Equal(":2\r\n", publisher.Call("PUBLISH", "order", "m" + i));
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(Message("order", "m" + i), subscriber.ReadReply());
            Assert.Equal($"*4\r\n$8\r\npmessage\r\n$3\r\nor*\r\n$5\r\norder\r\n${("m" + i).Length}\r\nm{i}\r\n", subscriber.ReadReply());
        }
        Assert.Equal(":0\r\n", publisher.Call("PUBLISH", "other", "x"));
    }

    [Fact]
    public void Resp3PushesInterleaveWithReplies()
    {
        using RespTestClient subscriber = server.Connect();
        using RespTestClient publisher = server.Connect();
        subscriber.Call("HELLO", "3");
        Assert.Equal(">3\r\n$9\r\nsubscribe\r\n$4\r\nr3ch\r\n:1\r\n", subscriber.Call("SUBSCRIBE", "r3ch"));
        Assert.Equal(":1\r\n", publisher.Call("PUBLISH", "r3ch", "one"));
        // A RESP3 subscriber may run any command; the message, published before the GET was sent, comes first.
        Assert.Equal(">3\r\n$7\r\nmessage\r\n$4\r\nr3ch\r\n$3\r\none\r\n", subscriber.Call("GET", "r3-missing"));
        Assert.Equal("_\r\n", subscriber.ReadReply());
    }

    /// <summary>A private server logging to <see cref="Log"/>, and a connection (<see cref="Admin"/>) that set its <c>client-output-buffer-limit</c>.</summary>
    private sealed record LimitedServer(RespKvHost Host, RespTestClient Admin, CapturingLoggerProvider Log) : IAsyncDisposable
    {
        public static async Task<LimitedServer> Start(string limit)
        {
            var log = new CapturingLoggerProvider();
            RespKvHost host = await ServerFixture.StartFresh(null, log);
            var admin = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "client-output-buffer-limit", limit));
            return new LimitedServer(host, admin, log);
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            await Host.DisposeAsync();
        }
    }

    [Fact]
    public async Task ASubscriberThatStopsReadingIsCutOffWhilePublishersGoOn()
    {
        await using LimitedServer server = await LimitedServer.Start("pubsub 256kb 128kb 60");
        (RespKvHost host, RespTestClient admin, CapturingLoggerProvider log) = (server.Host, server.Admin, server.Log);
        using var slow = new RespTestClient(host.Port);
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$4\r\nslow\r\n:1\r\n", slow.Call("SUBSCRIBE", "slow"));
        using var fast = new RespTestClient(host.Port);
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$4\r\nslow\r\n:1\r\n", fast.Call("SUBSCRIBE", "slow"));
        using var publisher = new RespTestClient(host.Port);
        string payload = new('x', 64 * 1024);
        int toSlow = 0;
        // 64 MB published; the slow subscriber never reads, the fast one reads everything it is sent.
        for (int i = 0; i < 1024; i++)
        {
            string reply = publisher.Call("PUBLISH", "slow", payload);
            Assert.Contains(reply, new[] { ":2\r\n", ":1\r\n" });
            if (reply == ":2\r\n") toSlow++;
            Assert.Equal(Message("slow", payload), fast.ReadReply());
        }
        // Cut off once what it had not taken (its outbox, its pending flush) reached 256 KB beyond what the sockets
        // hold: far fewer than the 1,024 messages were addressed to it, and it is no longer subscribed.
        Assert.True(toSlow < 512, $"{toSlow} messages were still addressed to the slow subscriber");
        Assert.Equal("*2\r\n$4\r\nslow\r\n:1\r\n", publisher.Call("PUBSUB", "NUMSUB", "slow"));
        Assert.Equal("*2\r\n$4\r\npong\r\n$0\r\n\r\n", fast.Call("PING"));
        // Redis's line for a client closed as output is added to it (closeClientOnOutputBufferLimitReached, async).
        Assert.Contains(log.Messages, m => Regex.IsMatch(m,
            @"^Client id=\d+ addr=127\.0\.0\.1:\d+ laddr=\S+ fd=-1 name= age=\d+ idle=\d+ flags=P db=0 sub=1 psub=0 ssub=0 .* cmd=subscribe .*"
            + @" scheduled to be closed ASAP for overcoming of output buffer limits\.$"));
    }

    [Fact]
    public async Task ASubscriberStalledAboveThePubSubSoftLimitIsClosedAfterItsSeconds()
    {
        // No hard limit: only the soft limit (256 KB for over 1 s) may close it.
        await using LimitedServer server = await LimitedServer.Start("pubsub 0 256kb 1");
        (RespKvHost host, RespTestClient admin, CapturingLoggerProvider log) = (server.Host, server.Admin, server.Log);
        using var stalled = new System.Net.Sockets.TcpClient();
        stalled.ReceiveBufferSize = 4096;
        stalled.Connect(System.Net.IPAddress.Loopback, host.Port);
        stalled.GetStream().Write(RespTestClient.Encode("SUBSCRIBE", "soft"));
        for (int i = 0; i < 200 && admin.Call("PUBSUB", "NUMSUB", "soft") != "*2\r\n$4\r\nsoft\r\n:1\r\n"; i++) await Task.Delay(10);
        string payload = new('x', 64 * 1024);
        // 8 MB the subscriber never reads: far above the soft limit once the socket buffers are full, never a hard limit.
        for (int i = 0; i < 128; i++) admin.Call("PUBLISH", "soft", payload);
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (admin.Call("PUBSUB", "NUMSUB", "soft") != "*2\r\n$4\r\nsoft\r\n:0\r\n" && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal("*2\r\n$4\r\nsoft\r\n:0\r\n", admin.Call("PUBSUB", "NUMSUB", "soft"));
        // Found over the soft limit by the server cron: Redis's synchronous form of the line.
        Assert.Contains(log.Messages, m => Regex.IsMatch(m, @"^Client id=\d+ .* flags=P .* closed for overcoming of output buffer limits\.$"));
        Assert.Equal("+PONG\r\n", admin.Call("PING"));
    }

    [Fact]
    public void SubscribersShowAsPubSubClientsAndDisconnectingDropsTheirSubscriptions()
    {
        using RespTestClient observer = server.Connect();
        var subscriber = server.Connect();
        subscriber.Call("SUBSCRIBE", "typed");
        subscriber.Call("PSUBSCRIBE", "ty*");
        subscriber.Call("SSUBSCRIBE", "typed-shard");
        string list = observer.Call("CLIENT", "LIST", "TYPE", "PUBSUB");
        Assert.Matches(new Regex(@"flags=P db=0 sub=1 psub=1 ssub=1 "), list);
        Assert.DoesNotMatch(new Regex(@"flags=P"), observer.Call("CLIENT", "LIST", "TYPE", "NORMAL"));
        Assert.Equal("*2\r\n$5\r\ntyped\r\n:1\r\n", observer.Call("PUBSUB", "NUMSUB", "typed"));
        Assert.Equal(":1\r\n", observer.Call("CLIENT", "KILL", "TYPE", "pubsub"));
        Assert.True(subscriber.IsClosedByServer());
        subscriber.Dispose();
        for (int i = 0; i < 100 && observer.Call("PUBSUB", "NUMSUB", "typed") != "*2\r\n$5\r\ntyped\r\n:0\r\n"; i++) Thread.Sleep(20);
        Assert.Equal("*2\r\n$5\r\ntyped\r\n:0\r\n", observer.Call("PUBSUB", "NUMSUB", "typed"));
        Assert.Equal("*2\r\n$11\r\ntyped-shard\r\n:0\r\n", observer.Call("PUBSUB", "SHARDNUMSUB", "typed-shard"));
        Assert.DoesNotContain("ty*", observer.Call("PUBSUB", "CHANNELS"));
    }
}
