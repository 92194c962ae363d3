using System.Text.RegularExpressions;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Client-side caching across connections (CLIENT TRACKING, https://redis.io/docs/manual/client-side-caching/): RESP3
/// pushes and RESP2 redirection to <c>__redis__:invalidate</c> subscribers, in default, OPTIN/OPTOUT, BCAST and NOLOOP
/// modes; invalidations caused by other clients' writes, flushes, active and lazy expiry, maxmemory eviction and the
/// <c>tracking-table-max-keys</c> limit; broken redirects; TRACKINGINFO, GETREDIR, CLIENT LIST and INFO. Each test runs a
/// private server, since the tracking table is server-wide. Single-connection replies are compared with redis-server 7.0 by
/// the <c>tracking</c> conformance family.
/// </summary>
public sealed class ClientTrackingTests
{
    private static string Invalidate(params string[] keys) =>
        ">2\r\n$10\r\ninvalidate\r\n" + Keys(keys);

    private static string Message(params string[] keys) =>
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n" + Keys(keys);

    private static string Keys(string[] keys) =>
        $"*{keys.Length}\r\n" + string.Concat(keys.Select(k => $"${k.Length}\r\n{k}\r\n"));

    private static RespTestClient Resp3(RespKvHost host)
    {
        var client = new RespTestClient(host.Port);
        Assert.StartsWith("%7\r\n", client.Call("HELLO", "3"));
        return client;
    }

    private static string Id(RespTestClient client) => client.Call("CLIENT", "ID")[1..^2];

    [Fact]
    public async Task Resp3DefaultModeInvalidatesEachReadKeyOnceWhenAnotherClientWritesIt()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient tracker = Resp3(host);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        Assert.Equal("+OK\r\n", writer.Call("MSET", "a", "1", "b", "2"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$1\r\n2\r\n_\r\n", tracker.Call("MGET", "a", "b", "c"));
        Assert.Equal("+OK\r\n", writer.Call("MSET", "a", "x", "c", "y"));
        // Queued before the PING arrived, so written before its reply; one push per key.
        PushesBeforePong(tracker, Invalidate("a"), Invalidate("c"));
        // Forgotten once invalidated: a second write sends nothing until the key is read again.
        Assert.Equal("+OK\r\n", writer.Call("SET", "a", "z"));
        Assert.Equal(":1\r\n", writer.Call("DEL", "b"));
        PushesBeforePong(tracker, Invalidate("b"));
        Assert.Equal(":0\r\n", tracker.Call("CLIENT", "GETREDIR"));
        Assert.Equal("%3\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n", tracker.Call("CLIENT", "TRACKINGINFO"));
    }

    [Fact]
    public async Task OwnWritesInvalidateAfterTheReplyAndAfterExecAndNoLoopSkipsThem()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient client = Resp3(host);
        Assert.Equal("+OK\r\n", client.Call("CLIENT", "TRACKING", "on"));
        Assert.Equal("_\r\n", client.Call("GET", "k"));
        Assert.Equal("+OK\r\n", client.Call("SET", "k", "v"));
        Assert.Equal(Invalidate("k"), client.ReadReply());
        Assert.Equal("$1\r\nv\r\n", client.Call("GET", "k"));
        client.Call("MULTI");
        client.Call("SET", "k", "1");
        client.Call("GET", "k");
        client.Call("SET", "k", "2");
        Assert.Equal("*3\r\n+OK\r\n$1\r\n1\r\n+OK\r\n", client.Call("EXEC"));
        Assert.Equal(Invalidate("k"), client.ReadReply());
        Assert.Equal(Invalidate("k"), client.ReadReply());

        Assert.Equal("+OK\r\n", client.Call("CLIENT", "TRACKING", "on", "noloop"));
        Assert.Equal("$1\r\n2\r\n", client.Call("GET", "k"));
        Assert.Equal("+OK\r\n", client.Call("SET", "k", "3"));
        Assert.Equal("+PONG\r\n", client.Call("PING"));
        // Still tracked for the other clients' writes.
        Assert.Equal("$1\r\n3\r\n", client.Call("GET", "k"));
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", writer.Call("SET", "k", "4"));
        PushesBeforePong(client, Invalidate("k"));
    }

    [Fact]
    public async Task Resp2RedirectsToAnInvalidateChannelSubscriberAndFlushSendsNull()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var redirect = new RespTestClient(host.Port);
        string rid = Id(redirect);
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n", redirect.Call("SUBSCRIBE", "__redis__:invalidate"));
        using var tracker = new RespTestClient(host.Port);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on", "REDIRECT", rid));
        Assert.Equal($":{rid}\r\n", tracker.Call("CLIENT", "GETREDIR"));
        Assert.Equal("$-1\r\n", tracker.Call("GET", "r1"));
        Assert.Equal(":1\r\n", writer.Call("INCR", "r1"));
        Assert.Equal(Message("r1"), redirect.ReadReply());
        Assert.Equal("$1\r\n1\r\n", tracker.Call("GET", "r1"));
        Assert.Equal("+OK\r\n", writer.Call("FLUSHALL"));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n", redirect.ReadReply());
        Assert.Equal("*2\r\n$4\r\npong\r\n$0\r\n\r\n", redirect.Call("PING"));
        // The tracker itself (RESP2, no push) got nothing: its next reply is its own.
        Assert.Equal("+PONG\r\n", tracker.Call("PING"));
        Assert.Matches(new Regex(@"flags=t .* redir=" + rid + " "), tracker.Call("CLIENT", "INFO"));
    }

    [Fact]
    public async Task Resp2WithoutRedirectTracksButCannotBeSentAnything()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var tracker = new RespTestClient(host.Port);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        Assert.Equal("$-1\r\n", tracker.Call("GET", "q"));
        Assert.Equal("+OK\r\n", writer.Call("SET", "q", "1"));
        Assert.Equal("+PONG\r\n", tracker.Call("PING"));
        Assert.Contains("tracking_total_keys:0\r\n", writer.Call("INFO", "stats"));
    }

    [Fact]
    public async Task OptInRemembersOnlyAfterCachingYesAndOptOutSkipsAfterCachingNo()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient tracker = Resp3(host);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on", "OPTIN"));
        tracker.Call("GET", "o1");
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "CACHING", "yes"));
        Assert.Equal("%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n",
            tracker.Call("CLIENT", "TRACKINGINFO"));
        tracker.Call("GET", "o2");
        tracker.Call("GET", "o3");
        Assert.Equal("+OK\r\n", writer.Call("MSET", "o1", "1", "o2", "2", "o3", "3"));
        PushesBeforePong(tracker, Invalidate("o2"));
        // CACHING yes covers a whole transaction.
        tracker.Call("CLIENT", "CACHING", "yes");
        tracker.Call("MULTI");
        tracker.Call("GET", "o1");
        tracker.Call("GET", "o3");
        Assert.Equal("*2\r\n$1\r\n1\r\n$1\r\n3\r\n", tracker.Call("EXEC"));
        Assert.Equal("+OK\r\n", writer.Call("MSET", "o1", "1", "o2", "2", "o3", "3"));
        PushesBeforePong(tracker, Invalidate("o1"), Invalidate("o3"));

        Assert.Equal("-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n",
            tracker.Call("CLIENT", "TRACKING", "on", "OPTOUT"));
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "off"));
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on", "OPTOUT"));
        tracker.Call("GET", "o1");
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "CACHING", "no"));
        tracker.Call("GET", "o2");
        tracker.Call("GET", "o3");
        Assert.Equal("+OK\r\n", writer.Call("MSET", "o1", "1", "o2", "2", "o3", "3"));
        PushesBeforePong(tracker, Invalidate("o1"), Invalidate("o3"));
    }

    [Fact]
    public async Task BcastSendsOneMessagePerPrefixWithTheChangedKeysAndNoLoopLeavesOutItsOwn()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient bcast = Resp3(host);
        using RespTestClient noloop = Resp3(host);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", bcast.Call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"));
        Assert.Equal("+OK\r\n", noloop.Call("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"));
        Assert.Equal("%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            bcast.Call("CLIENT", "TRACKINGINFO"));
        Assert.Contains("tracking_total_prefixes:3\r\n", writer.Call("INFO", "stats"));
        // Keys are sent whether or not anyone read them, each once per message, in byte order.
        Assert.Equal("+OK\r\n", writer.Call("MSET", "ay", "1", "bx", "2", "ax", "3", "c", "4", "ay", "5"));
        PushesBeforePong(bcast, Invalidate("ax", "ay"), Invalidate("bx"));
        PushesBeforePong(noloop, Invalidate("ax", "ay", "bx", "c"));
        // NOLOOP: its own write is left out of its message; the other BCAST client gets it after the batch.
        Assert.Equal("+OK\r\n", noloop.Call("SET", "a1", "x"));
        Assert.Equal("+PONG\r\n", noloop.Call("PING"));
        PushesBeforePong(bcast, Invalidate("a1"));
        Assert.Matches(new Regex(@"flags=tB "), bcast.Call("CLIENT", "INFO"));
        Assert.Equal("+OK\r\n", bcast.Call("CLIENT", "TRACKING", "off"));
        Assert.Contains("tracking_total_prefixes:1\r\n", writer.Call("INFO", "stats"));
    }

    [Fact]
    public async Task ABrokenRedirectIsFlaggedAndReportedToAResp3Client()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        var redirect = new RespTestClient(host.Port);
        string rid = Id(redirect);
        using RespTestClient tracker = Resp3(host);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on", "REDIRECT", rid));
        tracker.Call("GET", "br");
        redirect.Dispose();
        await WaitUntil(() => !writer.Call("CLIENT", "LIST").Contains($"id={rid} "));
        Assert.Equal("+OK\r\n", writer.Call("SET", "br", "1"));
        PushesBeforePong(tracker, $">2\r\n$21\r\ntracking-redir-broken\r\n:{rid}\r\n");
        Assert.Equal($"%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{rid}\r\n$8\r\nprefixes\r\n*0\r\n",
            tracker.Call("CLIENT", "TRACKINGINFO"));
        Assert.Matches(new Regex(@"flags=tR "), tracker.Call("CLIENT", "INFO"));
        Assert.Equal("+RESET\r\n", tracker.Call("RESET"));
        Assert.Equal("*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n", tracker.Call("CLIENT", "TRACKINGINFO"));
    }

    [Fact]
    public async Task FlushDbSendsEveryTrackingClientTheNullInvalidationTheFlusherAfterItsReply()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient flusher = Resp3(host);
        using RespTestClient other = Resp3(host);
        Assert.Equal("+OK\r\n", flusher.Call("CLIENT", "TRACKING", "on"));
        Assert.Equal("+OK\r\n", other.Call("CLIENT", "TRACKING", "on", "BCAST"));
        flusher.Call("GET", "f");
        Assert.Equal("+OK\r\n", flusher.Call("FLUSHDB"));
        Assert.Equal(">2\r\n$10\r\ninvalidate\r\n_\r\n", flusher.ReadReply());
        PushesBeforePong(other, ">2\r\n$10\r\ninvalidate\r\n_\r\n");
        Assert.Contains("tracking_total_keys:0\r\n", flusher.Call("INFO", "stats"));
    }

    [Fact]
    public async Task ActiveAndLazyExpiryInvalidate()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = RespKv.Configuration.ProtectedAction.Yes);
        using RespTestClient tracker = Resp3(host);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        // TTLs long enough for the GET to come first on a loaded machine (400 ms was not, once, in a CI run).
        Assert.Equal("+OK\r\n", writer.Call("SET", "active", "v", "PX", "2000"));
        Assert.Equal("$1\r\nv\r\n", tracker.Call("GET", "active"));
        // The cron's expiry cycle removes it without any command touching it.
        Assert.Equal(Invalidate("active"), tracker.ReadReply());

        Assert.Equal("+OK\r\n", writer.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0"));
        Assert.Equal("+OK\r\n", writer.Call("SET", "lazy", "v", "PX", "2000"));
        Assert.Equal("$1\r\nv\r\n", tracker.Call("GET", "lazy"));
        await Task.Delay(2200);
        Assert.Equal("+PONG\r\n", tracker.Call("PING"));
        Assert.Equal("$-1\r\n", writer.Call("GET", "lazy"));
        PushesBeforePong(tracker, Invalidate("lazy"));
        writer.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    }

    [Fact]
    public async Task MaxmemoryEvictionInvalidates()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient tracker = Resp3(host);
        using var writer = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        // Only the tracked keys have a TTL, so volatile-ttl can evict nothing else.
        for (int i = 0; i < 10; i++) writer.Call("SET", "ev:" + i, new string('x', 100), "EX", "1000");
        for (int i = 0; i < 10; i++) tracker.Call("GET", "ev:" + i);
        long used = long.Parse(Regex.Match(writer.Call("INFO", "memory"), @"used_memory:(\d+)").Groups[1].Value);
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory-policy", "volatile-ttl"));
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory", (used + 2000).ToString()));
        for (int i = 0; i < 40 && writer.Call("INFO", "stats").Contains("evicted_keys:0\r\n"); i++)
            writer.Call("SET", "filler:" + i, new string('y', 200));
        Assert.DoesNotContain("evicted_keys:0\r\n", writer.Call("INFO", "stats"));
        Assert.Matches(new Regex(@"^>2\r\n\$10\r\ninvalidate\r\n\*1\r\n\$4\r\nev:\d\r\n$"), tracker.Call("PING"));
        writer.Call("CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task TheTableIsKeptWithinTrackingTableMaxKeysByInvalidatingRandomKeys()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient tracker = Resp3(host);
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "tracking-table-max-keys", "2"));
        Assert.Equal("*2\r\n$23\r\ntracking-table-max-keys\r\n$1\r\n2\r\n", admin.Call("CONFIG", "GET", "tracking-table-max-keys"));
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        var invalidated = new List<string>();
        for (int i = 1; i <= 5; i++)
        {
            string reply = tracker.Call("GET", "m" + i);
            while (reply.StartsWith('>'))
            {
                invalidated.Add(reply);
                reply = tracker.ReadReply();
            }
            Assert.Equal("_\r\n", reply);
        }
        // Before GET m4 and GET m5 (3 keys each time) one random key is forgotten: 3 left, then 2 after the next command.
        Assert.Equal(2, invalidated.Count);
        Assert.Contains("tracking_total_keys:2\r\n", admin.Call("INFO", "stats"));
        Assert.Contains("tracking_total_items:2\r\n", admin.Call("INFO", "stats"));
        string last = tracker.Call("PING");
        Assert.StartsWith(">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nm", last);
        Assert.Equal("+PONG\r\n", tracker.ReadReply());
        Assert.Equal(3, invalidated.Append(last).Distinct().Count());
    }

    [Fact]
    public async Task TrackingClientsAreCountedAndDisconnectingStopsTracking()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        var tracker = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        tracker.Call("GET", "d");
        Assert.Contains("tracking_clients:1\r\n", admin.Call("INFO", "clients"));
        Assert.Contains("tracking_total_items:1\r\n", admin.Call("INFO", "stats"));
        tracker.Dispose();
        await WaitUntil(() => admin.Call("INFO", "clients").Contains("tracking_clients:0\r\n"));
        // Its id leaves the table lazily, when the key is invalidated.
        Assert.Equal("+OK\r\n", admin.Call("SET", "d", "1"));
        Assert.Contains("tracking_total_items:0\r\n", admin.Call("INFO", "stats"));
    }

    [Fact]
    public async Task ACacheKeptByInvalidationsNeverHoldsAStaleValueWhileAnotherClientWrites()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient tracker = Resp3(host);
        Assert.Equal("+OK\r\n", tracker.Call("CLIENT", "TRACKING", "on"));
        string[] keys = ["c:0", "c:1", "c:2"];
        // The writer sets keys[i % 3] to i and publishes i once acknowledged: values only grow.
        long[] acked = [-1, -1, -1];
        Task writes = Task.Run(() =>
        {
            using var writer = new RespTestClient(host.Port);
            for (int i = 0; i < 3000; i++)
            {
                Assert.Equal("+OK\r\n", writer.Call("SET", keys[i % 3], i.ToString()));
                Volatile.Write(ref acked[i % 3], i);
            }
        });
        // The client-side cache: a key read is cached until its invalidation arrives.
        var cache = new Dictionary<int, long>();
        string Read(string reply)
        {
            while (reply.StartsWith('>'))
            {
                Assert.StartsWith(">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nc:", reply);
                cache.Remove(reply[^3] - '0');
                reply = tracker.ReadReply();
            }
            return reply;
        }
        int checks = 0;
        while (!writes.IsCompleted)
        {
            for (int k = 0; k < keys.Length; k++)
            {
                if (cache.ContainsKey(k)) continue;
                string value = Read(tracker.Call("GET", keys[k]));
                cache[k] = value == "_\r\n" ? -1 : long.Parse(value.Split("\r\n")[1]);
            }
            // A write acknowledged before this PING queued its invalidation before the PING's reply: a value still cached
            // after it must be at least as new (an invalidation missed by a read racing a write leaves an older one).
            long[] before = [Volatile.Read(ref acked[0]), Volatile.Read(ref acked[1]), Volatile.Read(ref acked[2])];
            Assert.Equal("+PONG\r\n", Read(tracker.Call("PING")));
            foreach ((int k, long value) in cache) Assert.True(value >= before[k], $"{keys[k]} cached {value} after {before[k]} was written");
            checks++;
        }
        await writes;
        Assert.True(checks > 30, $"only {checks} checks raced the writes");
    }

    /// <summary>Sends PING and expects <paramref name="pushes"/> (queued before it arrived), in order, then its <c>+PONG</c>.</summary>
    private static void PushesBeforePong(RespTestClient client, params string[] pushes)
    {
        client.SendRaw(RespTestClient.Encode("PING"));
        foreach (string push in pushes) Assert.Equal(push, client.ReadReply());
        Assert.Equal("+PONG\r\n", client.ReadReply());
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition());
    }
}
