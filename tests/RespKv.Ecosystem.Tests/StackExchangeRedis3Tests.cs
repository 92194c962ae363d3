using System.Collections.Concurrent;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// StackExchange.Redis 3.4.35 against the respkv-server executable, as applications configure it (<c>allowAdmin</c> off),
/// over RESP2 and over RESP3 (<c>protocol=resp3</c>): its connect handshake (HELLO, CLIENT SETNAME/SETINFO/ID, CONFIG GET,
/// INFO, CLUSTER NODES, ECHO, SUBSCRIBE __Booksleeve_MasterChanged) ends in a connected standalone 7.0.15 primary of the
/// asked protocol; then the typed APIs 1.2.6 lacked or that applications lean on: strings, keys, lists, sets, sorted sets,
/// hashes with field expiry, streams with consumer groups, geo, HyperLogLog, Lua scripts (<see cref="LuaScript"/>),
/// transactions with conditions, and pub/sub.
/// </summary>
public sealed class StackExchangeRedis3Tests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    /// <summary>A key of this test class, unique to one call (tests run on one shared server).</summary>
    private static string Key(string name, bool resp3) => $"se3:{(resp3 ? "r3" : "r2")}:{name}";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConnectsAsAStandalonePrimaryOfTheAskedProtocol(bool resp3)
    {
        var log = new StringWriter();
        using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(server.Configuration(resp3), log);
        string text = log.ToString();
        Assert.True(mux.IsConnected, text);
        IServer srv = mux.GetServer("127.0.0.1", server.Port);
        Assert.Equal(resp3 ? RedisProtocol.Resp3 : RedisProtocol.Resp2, srv.Protocol);
        Assert.Equal(new Version(7, 0, 15), srv.Version);
        Assert.Equal(ServerType.Standalone, srv.ServerType);
        Assert.False(srv.IsReplica);
        Assert.Equal(16, srv.DatabaseCount); // from its handshake CONFIG GET databases
        // The handshake's replies were all understood: HELLO's fields, CONFIG GET, INFO replication/server.
        Assert.Contains($"Auto-configured (HELLO) protocol: {(resp3 ? "Resp3" : "Resp2")}", text);
        Assert.Contains("Auto-configured (HELLO) server-version: 7.0.15", text);
        Assert.Contains("Auto-configured (HELLO) role: primary", text);
        Assert.Contains("Auto-configured (CONFIG) databases: 16", text);
        Assert.Contains("Auto-configured (INFO) role: primary", text);
        Assert.Contains("Auto-configured (INFO) server-type: Standalone", text);
        Assert.Contains("Single primary detected", text);
        // Admin commands stay refused client-side without allowAdmin, as users run it.
        Assert.Throws<RedisCommandException>(() => srv.ConfigGet("databases"));
        Assert.Throws<RedisCommandException>(() => srv.ClientList());
        // CLIENT SETNAME arrived (an admin connection lists the clients).
        using (ConnectionMultiplexer admin = server.Connect(resp3, "allowAdmin=true"))
        {
            ClientInfo[] clients = admin.GetServer("127.0.0.1", server.Port).ClientList();
            Assert.Contains(clients, c => c.Name.Contains("SE.Redis-v3.4.35", StringComparison.Ordinal));
            Dictionary<string, string> info = admin.GetServer("127.0.0.1", server.Port).Info("server").SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
            Assert.Equal("7.0.15", info["redis_version"]);
            Assert.Equal(server.Port.ToString(), info["tcp_port"]);
        }
        Assert.True(mux.GetDatabase().Ping() >= TimeSpan.Zero);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StringsKeysAndErrors(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string k = Key("s", resp3);
        Assert.True(db.StringSet(k, "v", TimeSpan.FromSeconds(100)));
        Assert.Equal("v", (string?)db.StringGet(k));
        TimeSpan? ttl = db.KeyTimeToLive(k);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalSeconds, 90, 100);
        Assert.True(db.KeyPersist(k));
        Assert.Null(db.KeyTimeToLive(k));
        Assert.False(db.StringSet(k, "other", when: When.NotExists));
        Assert.Equal("v", (string?)db.StringSetAndGet(k, "w"));
        Assert.Equal("w", (string?)db.StringGetDelete(k));
        Assert.False(db.KeyExists(k));
        Assert.Equal(5, db.StringIncrement(k + ":n", 5));
        Assert.Equal(7.5, db.StringIncrement(k + ":n", 2.5));
        Assert.Equal(RedisType.String, db.KeyType(k + ":n"));
        var pairs = Enumerable.Range(0, 20).Select(i => new KeyValuePair<RedisKey, RedisValue>($"{k}:m:{i}", i)).ToArray();
        Assert.True(db.StringSet(pairs));
        RedisValue[] values = db.StringGet(pairs.Select(p => p.Key).Append(k + ":missing").ToArray());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (RedisValue)i).Append(RedisValue.Null), values);
        Assert.Equal(20, db.KeyDelete(pairs.Select(p => p.Key).ToArray()));
        Assert.True(db.StringSet(k + ":text", "abc"));
        RedisServerException error = Assert.Throws<RedisServerException>(() => db.StringIncrement(k + ":text"));
        Assert.Equal("ERR value is not an integer or out of range", error.Message);
        RedisServerException wrongType = await Assert.ThrowsAsync<RedisServerException>(() => db.ListLeftPushAsync(k + ":text", "x"));
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value", wrongType.Message);
        // A pipelined burst of asynchronous commands (one socket write for many) all complete, in order.
        Task<bool>[] sets = Enumerable.Range(0, 5000).Select(i => db.StringSetAsync($"{k}:p:{i}", i)).ToArray();
        Assert.All(await Task.WhenAll(sets), Assert.True);
        Assert.Equal(4999, (long)await db.StringGetAsync($"{k}:p:4999"));
        // SCAN through IServer.Keys, with a pattern, paging by cursor.
        IServer srv = mux.GetServer("127.0.0.1", server.Port);
        Assert.Equal(5000, srv.Keys(pattern: $"{k}:p:*", pageSize: 250).Count());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ListsSetsAndSortedSets(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string l = Key("list", resp3), s = Key("set", resp3), s2 = Key("set2", resp3), z = Key("zset", resp3);
        db.KeyDelete([l, s, s2, z]);
        Assert.Equal(3, db.ListRightPush(l, ["a", "b", "c"]));
        Assert.Equal(4, db.ListLeftPush(l, "z"));
        Assert.Equal(["z", "a", "b", "c"], db.ListRange(l).Select(v => (string)v!));
        Assert.Equal("b", (string?)db.ListGetByIndex(l, 2));
        Assert.Equal(2, db.ListPosition(l, "b"));
        Assert.Equal("z", (string?)db.ListLeftPop(l));
        Assert.Equal("c", (string?)db.ListMove(l, l + ":dst", ListSide.Right, ListSide.Left));
        db.ListTrim(l, 0, 0);
        Assert.Equal(1, db.ListLength(l));
        ListPopResult popped = db.ListLeftPop([l + ":none", l], 5); // LMPOP
        Assert.Equal((RedisKey)l, popped.Key);
        Assert.Equal(["a"], popped.Values.Select(v => (string)v!));

        Assert.Equal(3, db.SetAdd(s, ["x", "y", "z"]));
        Assert.Equal(2, db.SetAdd(s2, ["y", "w"]));
        Assert.True(db.SetContains(s, "x"));
        Assert.Equal([true, false], db.SetContains(s, ["y", "nope"])); // SMISMEMBER
        Assert.Equal(["y"], db.SetCombine(SetOperation.Intersect, s, s2).Select(v => (string)v!));
        Assert.Equal(["w", "x", "y", "z"], db.SetCombine(SetOperation.Union, s, s2).Select(v => (string)v!).Order());
        Assert.Equal(1, db.SetIntersectionLength([s, s2])); // SINTERCARD
        Assert.Equal(3, db.SetScan(s, pageSize: 1).Count());
        Assert.True(db.SetRemove(s, "x"));
        Assert.Equal(2, db.SetLength(s));

        Assert.Equal(3, db.SortedSetAdd(z, [new("a", 1), new("b", 2), new("c", 3)]));
        Assert.Equal(4.5, db.SortedSetIncrement(z, "a", 3.5));
        Assert.Equal(["b", "c", "a"], db.SortedSetRangeByRank(z).Select(v => (string)v!));
        Assert.Equal(["a", "c"], db.SortedSetRangeByScore(z, 3, 10, order: Order.Descending).Select(v => (string)v!));
        SortedSetEntry[] withScores = db.SortedSetRangeByRankWithScores(z, 0, 0);
        Assert.Equal(new SortedSetEntry("b", 2), withScores.Single());
        Assert.Equal(2, db.SortedSetRank(z, "a"));
        Assert.Equal(3.0, db.SortedSetScore(z, "c"));
        Assert.Equal([3.0, null], db.SortedSetScores(z, ["c", "missing"])); // ZMSCORE
        db.SortedSetAdd(z + ":lex", [new("a", 0), new("b", 0), new("c", 0)]);
        Assert.Equal(2, db.SortedSetLengthByValue(z + ":lex", "a", "b")); // ZLEXCOUNT
        Assert.Equal(["b", "c"], db.SortedSetRangeByValue(z + ":lex", "b").Select(v => (string)v!)); // ZRANGEBYLEX
        Assert.Equal(new SortedSetEntry("b", 2), db.SortedSetPop(z)!.Value);
        Assert.Equal(["c", "a"], db.SortedSetRangeAndStore(z, z + ":copy", 0, -1) == 2
            ? db.SortedSetRangeByRank(z + ":copy").Select(v => (string)v!) : []);
        Assert.Equal(2, db.SortedSetScan(z).Count());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HashesWithFieldExpiry(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string h = Key("hash", resp3);
        db.KeyDelete(h);
        db.HashSet(h, [new("f1", "v1"), new("f2", "v2"), new("n", 1)]);
        Assert.Equal("v1", (string?)db.HashGet(h, "f1"));
        Assert.Equal(11, db.HashIncrement(h, "n", 10));
        Assert.Equal(3, db.HashGetAll(h).Length);
        Assert.Equal(3, db.HashScan(h, pageSize: 1).Count());
        Assert.False(db.HashSet(h, "f1", "x", When.NotExists));
        Assert.Equal(["f1", "f2", "n"], db.HashKeys(h).Select(v => (string)v!).Order());

        // HEXPIRE / HTTL / HPEXPIRETIME / HPERSIST through the typed APIs.
        ExpireResult[] set = db.HashFieldExpire(h, ["f1", "f2", "missing"], TimeSpan.FromSeconds(100));
        Assert.Equal([ExpireResult.Success, ExpireResult.Success, ExpireResult.NoSuchField], set);
        Assert.Equal([ExpireResult.ConditionNotMet], db.HashFieldExpire(h, ["f1"], TimeSpan.FromSeconds(200), ExpireWhen.HasNoExpiry));
        long[] ttls = db.HashFieldGetTimeToLive(h, ["f1", "n", "missing"]);
        Assert.InRange(ttls[0], 90_000, 100_000);
        Assert.Equal([-1L, -2L], ttls[1..]);
        long[] at = db.HashFieldGetExpireDateTime(h, ["f2"]);
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(at[0]).UtcDateTime, DateTime.UtcNow.AddSeconds(90), DateTime.UtcNow.AddSeconds(101));
        Assert.Equal([PersistResult.Success, PersistResult.ConditionNotMet], db.HashFieldPersist(h, ["f1", "n"]));
        Assert.Equal(-1, db.HashFieldGetTimeToLive(h, ["f1"])[0]);
        // A field whose expiry passes disappears; the others stay.
        Assert.Equal([ExpireResult.Success], db.HashFieldExpire(h, ["f2"], TimeSpan.FromMilliseconds(50)));
        Thread.Sleep(200);
        Assert.False(db.HashExists(h, "f2"));
        Assert.Equal(2, db.HashLength(h));
        // An expiry in the past deletes the field at once.
        Assert.Equal([ExpireResult.Due], db.HashFieldExpire(h, ["n"], DateTime.UtcNow.AddMinutes(-1)));
        Assert.Equal(["f1"], db.HashKeys(h).Select(v => (string)v!));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StreamsWithConsumerGroups(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string st = Key("stream", resp3);
        db.KeyDelete(st);
        Assert.True(db.StreamCreateConsumerGroup(st, "g", StreamPosition.NewMessages, createStream: true));
        RedisValue id1 = db.StreamAdd(st, "field", "one");
        RedisValue id2 = db.StreamAdd(st, [new("a", 1), new("b", 2)]);
        Assert.Equal(2, db.StreamLength(st));
        StreamEntry[] range = db.StreamRange(st);
        Assert.Equal([id1, id2], range.Select(e => e.Id));
        Assert.Equal("one", (string?)range[0]["field"]);
        Assert.Equal(2, range[1].Values.Length);

        StreamEntry[] read = db.StreamReadGroup(st, "g", "alice", StreamPosition.NewMessages, count: 1);
        Assert.Equal(id1, read.Single().Id);
        StreamEntry[] readBob = db.StreamReadGroup(st, "g", "bob", StreamPosition.NewMessages);
        Assert.Equal(id2, readBob.Single().Id);
        Assert.Empty(db.StreamReadGroup(st, "g", "bob", StreamPosition.NewMessages));
        StreamPendingInfo pending = db.StreamPending(st, "g");
        Assert.Equal(2, pending.PendingMessageCount);
        Assert.Equal(id1, pending.LowestPendingMessageId);
        Assert.Equal(id2, pending.HighestPendingMessageId);
        Assert.Equal(2, pending.Consumers.Length);
        Assert.Equal(1, db.StreamAcknowledge(st, "g", id1));
        Assert.Equal(0, db.StreamAcknowledge(st, "g", id1));
        StreamPendingMessageInfo[] bobs = db.StreamPendingMessages(st, "g", 10, "bob");
        Assert.Equal(id2, bobs.Single().MessageId);
        // Alice claims bob's message (XCLAIM, min idle 0) and acknowledges it.
        StreamEntry[] claimed = db.StreamClaim(st, "g", "alice", 0, [id2]);
        Assert.Equal(id2, claimed.Single().Id);
        Assert.Equal(1, db.StreamAcknowledge(st, "g", [id2]));
        Assert.Equal(0, db.StreamPending(st, "g").PendingMessageCount);
        StreamGroupInfo group = db.StreamGroupInfo(st).Single();
        Assert.Equal("g", group.Name);
        Assert.Equal(id2, (RedisValue)group.LastDeliveredId);
        StreamInfo info = db.StreamInfo(st);
        Assert.Equal(2, info.Length);
        Assert.Equal(1, info.ConsumerGroupCount);
        Assert.Equal(1, db.StreamTrim(st, 1));
        Assert.Equal(id2, db.StreamRange(st).Single().Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GeoAndHyperLogLog(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string g = Key("geo", resp3), hll = Key("hll", resp3);
        db.KeyDelete([g, hll, hll + ":2", hll + ":m"]);
        Assert.Equal(3, db.GeoAdd(g, [new(13.361389, 38.115556, "Palermo"), new(15.087269, 37.502669, "Catania"), new(2.3522, 48.8566, "Paris")]));
        double? distance = db.GeoDistance(g, "Palermo", "Catania", GeoUnit.Kilometers);
        Assert.NotNull(distance);
        Assert.InRange(distance.Value, 166.2, 166.3);
        GeoRadiusResult[] near = db.GeoSearch(g, "Palermo", new GeoSearchCircle(200, GeoUnit.Kilometers), order: Order.Ascending,
            options: GeoRadiusOptions.WithDistance | GeoRadiusOptions.WithCoordinates);
        Assert.Equal(["Palermo", "Catania"], near.Select(r => (string)r.Member!));
        Assert.InRange(near[1].Distance!.Value, 166.2, 166.3);
        Assert.InRange(near[1].Position!.Value.Longitude, 15.08, 15.09);
        GeoRadiusResult[] box = db.GeoSearch(g, 14, 38, new GeoSearchBox(400, 400, GeoUnit.Kilometers));
        Assert.Equal(["Catania", "Palermo"], box.Select(r => (string)r.Member!).Order());
        GeoPosition? paris = db.GeoPosition(g, "Paris");
        Assert.InRange(paris!.Value.Latitude, 48.85, 48.86);
        Assert.Equal(2, db.GeoSearchAndStore(g, g + ":sicily", 14, 38, new GeoSearchCircle(300, GeoUnit.Kilometers)));

        Assert.True(db.HyperLogLogAdd(hll, Enumerable.Range(0, 1000).Select(i => (RedisValue)$"a{i}").ToArray()));
        Assert.False(db.HyperLogLogAdd(hll, "a1"));
        db.HyperLogLogAdd(hll + ":2", Enumerable.Range(500, 1000).Select(i => (RedisValue)$"a{i}").ToArray());
        Assert.InRange(db.HyperLogLogLength(hll), 980, 1020);
        Assert.InRange(db.HyperLogLogLength([hll, hll + ":2"]), 1470, 1530);
        db.HyperLogLogMerge(hll + ":m", hll, hll + ":2");
        Assert.InRange(db.HyperLogLogLength(hll + ":m"), 1470, 1530);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LuaScripts(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string k = Key("lua", resp3);
        RedisResult sum = db.ScriptEvaluate("return redis.call('INCRBY', KEYS[1], ARGV[1]) + tonumber(ARGV[2])", [k], [5, 100]);
        Assert.Equal(105, (long)sum);
        RedisResult list = db.ScriptEvaluate("return {KEYS[1], ARGV[1], 3, {'nested'}}", [k], ["x"]);
        RedisResult[] items = (RedisResult[])list!;
        Assert.Equal(k, (string?)items[0]);
        Assert.Equal("x", (string?)items[1]);
        Assert.Equal(3, (long)items[2]);
        Assert.Equal("nested", (string?)((RedisResult[])items[3]!)[0]);
        RedisServerException error = Assert.Throws<RedisServerException>(() => db.ScriptEvaluate("return redis.call('NOSUCH')"));
        Assert.Contains("Unknown Redis command called from script", error.Message);
        // LuaScript: named @parameters, sent as EVALSHA after the first EVAL (or on NOSCRIPT, SCRIPT LOAD).
        LuaScript script = LuaScript.Prepare("redis.call('SET', @key, @value) return redis.call('GET', @key)");
        for (int i = 0; i < 3; i++)
            Assert.Equal($"v{i}", (string?)db.ScriptEvaluate(script, new { key = (RedisKey)(k + ":p"), value = $"v{i}" }));
        Assert.Equal("v2", (string?)db.StringGet(k + ":p"));
        RedisResult status = db.ScriptEvaluate("return redis.status_reply('FINE')");
        Assert.Equal("FINE", status.ToString());
        RedisResult nil = db.ScriptEvaluate("return nil");
        Assert.True(nil.IsNull);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TransactionsWithConditions(bool resp3)
    {
        using ConnectionMultiplexer mux = server.Connect(resp3);
        IDatabase db = mux.GetDatabase();
        string k = Key("tx", resp3);
        db.KeyDelete([k, k + ":h", k + ":l"]);
        db.HashSet(k + ":h", "state", "open");

        ITransaction ok = db.CreateTransaction();
        ok.AddCondition(Condition.KeyNotExists(k));
        ok.AddCondition(Condition.HashEqual(k + ":h", "state", "open"));
        Task<bool> set = ok.StringSetAsync(k, "1");
        Task<long> push = ok.ListRightPushAsync(k + ":l", "a");
        Task<long> incr = ok.StringIncrementAsync(k);
        Assert.True(await ok.ExecuteAsync());
        Assert.True(await set);
        Assert.Equal(1, await push);
        Assert.Equal(2, await incr);

        // A condition that does not hold: nothing runs, the queued tasks are cancelled.
        ITransaction failed = db.CreateTransaction();
        failed.AddCondition(Condition.KeyNotExists(k));
        Task<long> never = failed.StringIncrementAsync(k);
        Assert.False(await failed.ExecuteAsync());
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => never);
        Assert.Equal(2, (long)db.StringGet(k));

        // WATCH broken by another connection's write between the condition check and EXEC.
        using ConnectionMultiplexer other = server.Connect(resp3);
        ITransaction raced = db.CreateTransaction();
        raced.AddCondition(Condition.StringEqual(k, 2));
        raced.AddCondition(Condition.ListLengthEqual(k + ":l", 1));
        Task<long> racedIncr = raced.StringIncrementAsync(k);
        Assert.True(await raced.ExecuteAsync());
        Assert.Equal(3, await racedIncr);
        ITransaction stale = db.CreateTransaction();
        stale.AddCondition(Condition.StringEqual(k, 2)); // no longer true
        _ = stale.StringSetAsync(k, "overwritten");
        Assert.False(await stale.ExecuteAsync());
        Assert.Equal(3, (long)await other.GetDatabase().StringGetAsync(k));

        // An error inside EXEC faults only its own command.
        ITransaction mixed = db.CreateTransaction();
        Task<long> bad = mixed.StringIncrementAsync(k + ":h");
        Task<long> good = mixed.StringIncrementAsync(k);
        Assert.True(await mixed.ExecuteAsync());
        RedisServerException wrongType = await Assert.ThrowsAsync<RedisServerException>(() => bad);
        Assert.StartsWith("WRONGTYPE", wrongType.Message);
        Assert.Equal(4, await good);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PubSub(bool resp3)
    {
        using ConnectionMultiplexer subscriberMux = server.Connect(resp3);
        using ConnectionMultiplexer publisherMux = server.Connect(resp3);
        ISubscriber sub = subscriberMux.GetSubscriber();
        string prefix = Key("ps", resp3);
        const int count = 5000;
        var literal = new ConcurrentQueue<string>();
        var pattern = new ConcurrentQueue<(string Channel, string Message)>();
        var allLiteral = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allPattern = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ChannelMessageQueue queue = await sub.SubscribeAsync(RedisChannel.Literal(prefix + ":news"));
        queue.OnMessage(m =>
        {
            literal.Enqueue(m.Message!);
            if (literal.Count == count) allLiteral.TrySetResult();
        });
        await sub.SubscribeAsync(RedisChannel.Pattern(prefix + ":*"), (channel, message) =>
        {
            pattern.Enqueue((channel!, message!));
            if (pattern.Count == count + 1) allPattern.TrySetResult();
        });
        ISubscriber pub = publisherMux.GetSubscriber();
        IDatabase db = publisherMux.GetDatabase();
        Assert.Equal(2, await db.PublishAsync(RedisChannel.Literal(prefix + ":news"), "m0")); // the channel and the pattern
        for (int i = 1; i < count; i++) _ = pub.PublishAsync(RedisChannel.Literal(prefix + ":news"), $"m{i}", CommandFlags.FireAndForget);
        Assert.Equal(1, await pub.PublishAsync(RedisChannel.Literal(prefix + ":other"), "o"));
        await allLiteral.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await allPattern.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"m{i}"), literal); // all, in order
        Assert.Contains((prefix + ":other", "o"), pattern);
        // PUBSUB CHANNELS / NUMSUB / NUMPAT see the subscriptions.
        IServer srv = publisherMux.GetServer("127.0.0.1", server.Port);
        Assert.Contains((RedisChannel)(prefix + ":news"), srv.SubscriptionChannels(RedisChannel.Pattern(prefix + ":*")));
        Assert.Equal(1, srv.SubscriptionSubscriberCount(RedisChannel.Literal(prefix + ":news")));
        // After unsubscribing, publishing reaches only the pattern.
        await queue.UnsubscribeAsync();
        Assert.Equal(1, await db.PublishAsync(RedisChannel.Literal(prefix + ":news"), "late"));
        await sub.UnsubscribeAllAsync();
        Assert.Equal(0, await db.PublishAsync(RedisChannel.Literal(prefix + ":news"), "later"));
        // The subscriber's connection still answers commands (RESP3 multiplexes them on one connection).
        Assert.True(await subscriberMux.GetDatabase().PingAsync() >= TimeSpan.Zero);
    }
}
