using System.Text;
using RespKv.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Tests;

/// <summary>
/// StackExchange.Redis 1.2.6, unchanged, against the in-process server: connect (it sends its own
/// handshake: CLIENT SETNAME, INFO, CONFIG GET, CLUSTER NODES, ECHO, PING…), then SET/GET, MSET/MGET,
/// DEL of several keys, INFO/CONFIG/DBSIZE/TIME through IServer, error replies (alone and inside a
/// batch), a pipelined batch of 10,000 asynchronous SETs, hashes (HashSet, HashGetAll, HashScan paging
/// through HSCAN cursors it parses as <c>long</c>, HashIncrement, HashDelete), transactions with conditions, and bitmaps
/// and HyperLogLog (StringSetBit, StringBitCount, StringBitOperation, HyperLogLogAdd/Length/Merge).
/// </summary>
public sealed class StackExchangeRedisTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private ConnectionMultiplexer Connect()
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            AllowAdmin = true,
            ConnectTimeout = 15_000,
            SyncTimeout = 15_000,
            ResponseTimeout = 15_000,
        };
        options.EndPoints.Add("127.0.0.1", server.Port);
        var log = new StringWriter();
        ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(options, log);
        Assert.True(mux.IsConnected, "StackExchange.Redis did not connect:\n" + log);
        return mux;
    }

    [Fact]
    public void SetGetAndMissingKey()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        Assert.True(db.StringSet("se:k", "v"));
        Assert.Equal("v", (string?)db.StringGet("se:k"));
        Assert.True(db.StringGet("se:missing").IsNull);
        byte[] binary = [0, 1, (byte)'\r', (byte)'\n', 255];
        Assert.True(db.StringSet("se:bin", binary));
        Assert.Equal(binary, (byte[]?)db.StringGet("se:bin"));
        Assert.Equal(11, db.StringIncrement("se:counter", 11));
        Assert.Equal(10.5, db.StringIncrement("se:float", 10.5));
        Assert.True(db.Ping() >= TimeSpan.Zero);
    }

    [Fact]
    public void MSetAndMGet()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        var pairs = new KeyValuePair<RedisKey, RedisValue>[50];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = new($"se:m:{i}", $"value {i}");
        Assert.True(db.StringSet(pairs)); // MSET
        RedisKey[] keys = pairs.Select(p => p.Key).Append("se:m:missing").ToArray();
        RedisValue[] values = db.StringGet(keys); // MGET
        Assert.Equal(keys.Length, values.Length);
        for (int i = 0; i < pairs.Length; i++) Assert.Equal($"value {i}", (string?)values[i]);
        Assert.True(values[^1].IsNull);
    }

    [Fact]
    public void DeleteSeveralKeys()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        var pairs = new KeyValuePair<RedisKey, RedisValue>[50];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = new($"se:d:{i}", i);
        Assert.True(db.StringSet(pairs));
        RedisKey[] keys = pairs.Select(p => p.Key).Append("se:d:missing").ToArray();
        Assert.Equal(pairs.Length, db.KeyDelete(keys)); // DEL of 51 keys, 50 of them present
        Assert.All(db.StringGet(keys), v => Assert.True(v.IsNull));
        Assert.Equal(0, db.KeyDelete(keys));
    }

    [Fact]
    public void ServerInfoAndConfig()
    {
        using ConnectionMultiplexer mux = Connect();
        Assert.True(mux.GetDatabase().StringSet("se:info:k", "v"));
        IServer srv = mux.GetServer("127.0.0.1", server.Port);
        IGrouping<string, KeyValuePair<string, string>>[] info = srv.Info(); // INFO
        Dictionary<string, string> serverSection = info.Single(g => g.Key == "Server").ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("7.0.15", serverSection["redis_version"]);
        Assert.Equal(server.Port.ToString(), serverSection["tcp_port"]);
        Assert.Contains(info, g => g.Key == "Clients" && g.Any(p => p.Key == "connected_clients" && int.Parse(p.Value) >= 1));
        Assert.Contains(info, g => g.Key == "Keyspace" && g.Any(p => p.Key == "db0" && p.Value.StartsWith("keys=", StringComparison.Ordinal)));
        Assert.Equal(new Version(7, 0, 15), srv.Version); // parsed by the library from its handshake INFO
        Assert.StartsWith("# Stats\r\n", srv.InfoRaw("stats"));
        Assert.Equal("16", srv.ConfigGet("databases").Single().Value);
        Assert.True(srv.DatabaseSize() >= 1); // DBSIZE
        Assert.True(Math.Abs((srv.Time() - DateTime.UtcNow).TotalMinutes) < 1); // TIME
        Assert.NotEmpty(srv.ClientList());
    }

    [Fact]
    public async Task ErrorsAreReportedAndTheConnectionSurvives()
    {
        ConnectionMultiplexer mux = Connect();
        try
        {
            IDatabase db = mux.GetDatabase();
            Assert.True(db.StringSet("se:err:text", "abc"));
            RedisServerException incr = Assert.Throws<RedisServerException>(() => db.StringIncrement("se:err:text"));
            Assert.Equal("ERR value is not an integer or out of range", incr.Message);
            RedisServerException incrFloat = Assert.Throws<RedisServerException>(() => db.StringIncrement("se:err:text", 1.5));
            Assert.Equal("ERR value is not a valid float", incrFloat.Message);
            RedisServerException rename = Assert.Throws<RedisServerException>(() => db.KeyRename("se:err:missing", "se:err:x"));
            Assert.Equal("ERR no such key", rename.Message);

            // In a batch (one pipelined write) only the failing command faults.
            IBatch batch = db.CreateBatch();
            Task<bool> set = batch.StringSetAsync("se:err:n", "1");
            Task<long> bad = batch.StringIncrementAsync("se:err:text");
            Task<long> good = batch.StringIncrementAsync("se:err:n");
            batch.Execute();
            Assert.True(await set);
            RedisServerException batched = await Assert.ThrowsAsync<RedisServerException>(() => bad);
            Assert.Equal("ERR value is not an integer or out of range", batched.Message);
            Assert.Equal(2, await good);
            Assert.Equal("abc", (string?)db.StringGet("se:err:text"));
            Assert.True(db.Ping() >= TimeSpan.Zero);
        }
        finally
        {
            await Task.Run(mux.Dispose); // see PipelinedBatchOfTenThousandSets
        }
    }

    [Fact]
    public async Task PipelinedBatchOfTenThousandSets()
    {
        ConnectionMultiplexer mux = Connect();
        try
        {
            await PipelinedBatch(mux.GetDatabase(3)); // its own database, so the count below is exact
        }
        finally
        {
            // StackExchange.Redis 1.2.6 resumes awaits on its reader thread; disposing there would wait
            // for that very thread (until SyncTimeout), so dispose from the thread pool.
            await Task.Run(mux.Dispose);
        }
    }

    private static async Task PipelinedBatch(IDatabase db)
    {
        const int count = 10_000;
        var sets = new Task<bool>[count];
        for (int i = 0; i < count; i++) sets[i] = db.StringSetAsync($"se:p:{i}", $"v{i}");
        bool[] results = await Task.WhenAll(sets);
        Assert.All(results, Assert.True);

        for (int i = 0; i < count; i += 997) Assert.Equal($"v{i}", (string?)await db.StringGetAsync($"se:p:{i}"));
        Assert.Equal($"v{count - 1}", (string?)await db.StringGetAsync($"se:p:{count - 1}"));

        // DBSIZE-equivalent: every key is there, and nothing else (MGET of all 10,000 keys plus one).
        RedisKey[] keys = Enumerable.Range(0, count).Select(i => (RedisKey)$"se:p:{i}").Append("se:p:none").ToArray();
        RedisValue[] values = await db.StringGetAsync(keys);
        Assert.Equal(count, values.Count(v => !v.IsNull));
        for (int i = 0; i < count; i++) Assert.Equal($"v{i}", (string?)values[i]);

        // The same batch through the pipelined INCR path, interleaved with GETs on one connection.
        var incrs = new Task<long>[1000];
        for (int i = 0; i < incrs.Length; i++) incrs[i] = db.StringIncrementAsync("se:p:counter");
        long[] counters = await Task.WhenAll(incrs);
        Assert.Equal(Enumerable.Range(1, incrs.Length).Select(i => (long)i), counters); // replies in order
    }

    [Fact]
    public void HashSetGetAllAndScan()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        Assert.True(db.HashSet("se:h", "name", "Ada"));
        Assert.False(db.HashSet("se:h", "name", "Ada L."));
        HashEntry[] entries = Enumerable.Range(0, 1000).Select(i => new HashEntry($"f{i:D4}", $"value {i}")).ToArray();
        db.HashSet("se:h", entries); // HMSET
        Assert.Equal(1001, db.HashLength("se:h"));
        Assert.Equal("Ada L.", (string?)db.HashGet("se:h", "name"));
        Assert.True(db.HashGet("se:h", "missing").IsNull);

        HashEntry[] all = db.HashGetAll("se:h");
        Assert.Equal(1001, all.Length);
        Assert.Equal(entries.Select(e => (string?)e.Name).Append("name"), all.Select(e => (string?)e.Name)); // sorted by field bytes
        Assert.Equal("value 7", (string?)all[7].Value);

        List<HashEntry> scanned = db.HashScan("se:h", pageSize: 10).ToList();
        Assert.Equal(all.Select(e => (string?)e.Name), scanned.Select(e => (string?)e.Name));
        List<HashEntry> prefix = db.HashScan("se:h", "f01*", pageSize: 10).ToList();
        Assert.Equal(100, prefix.Count);
        Assert.All(prefix, e => Assert.StartsWith("f01", (string?)e.Name));

        Assert.Equal(5, db.HashIncrement("se:h", "counter", 5));
        Assert.Equal(2.5, db.HashIncrement("se:h", "float", 2.5));
        Assert.True(db.HashDelete("se:h", "name"));
        Assert.Equal(2, db.HashDelete("se:h", ["counter", "float", "missing"]));
        Assert.Equal(1000, db.HashLength("se:h"));
        Assert.Throws<RedisServerException>(() => db.StringGet("se:h")); // WRONGTYPE
    }

    /// <summary>
    /// Streams through <c>IDatabase.Execute</c>: StackExchange.Redis 1.2.6 predates <c>StreamAdd</c>/<c>StreamReadGroup</c>/
    /// <c>StreamAcknowledge</c> (2.x), so the commands go as raw commands and their replies are read as <see cref="RedisResult"/>s.
    /// </summary>
    [Fact]
    public void StreamsThroughRawCommands()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        db.KeyDelete("se:s");
        Assert.Equal("1-1", (string?)db.Execute("XADD", "se:s", "1-1", "order", "42"));
        string? generated = (string?)db.Execute("XADD", "se:s", "*", "order", "43");
        Assert.Matches(@"^\d+-0$", generated);
        Assert.Equal("OK", (string?)db.Execute("XGROUP", "CREATE", "se:s", "billing", "0"));
        var read = (RedisResult[])db.Execute("XREADGROUP", "GROUP", "billing", "worker-1", "COUNT", "10", "STREAMS", "se:s", ">")!;
        var stream = (RedisResult[])read[0]!;
        Assert.Equal("se:s", (string?)stream[0]);
        var entries = (RedisResult[])stream[1]!;
        Assert.Equal(2, entries.Length);
        Assert.Equal("1-1", (string?)((RedisResult[])entries[0]!)[0]);
        Assert.Equal(["order", "42"], ((string[])((RedisResult[])entries[0]!)[1]!));
        Assert.Equal(1, (long)db.Execute("XACK", "se:s", "billing", "1-1"));
        var pending = (RedisResult[])db.Execute("XPENDING", "se:s", "billing")!;
        Assert.Equal(1, (long)pending[0]);
        Assert.Equal(generated, (string?)pending[1]);
        Assert.Equal(2, (long)db.Execute("XLEN", "se:s"));
        var error = Assert.Throws<RedisServerException>(() => db.Execute("XGROUP", "CREATE", "se:s", "billing", "0"));
        Assert.Equal("BUSYGROUP Consumer Group name already exists", error.Message);
    }

    // CreateTransaction with conditions: SE.Redis sends WATCH, checks its conditions, then MULTI … EXEC (or
    // UNWATCH when a condition fails), and reads EXEC's null array as "not committed".

    [Fact]
    public async Task TransactionWithMetConditionsCommits()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        db.StringSet("se:tx:balance", "100");
        db.KeyDelete("se:tx:lock");
        ITransaction tran = db.CreateTransaction();
        tran.AddCondition(Condition.StringEqual("se:tx:balance", "100"));
        tran.AddCondition(Condition.KeyNotExists("se:tx:lock"));
        Task<long> decrement = tran.StringDecrementAsync("se:tx:balance", 30);
        Task<long> increment = tran.StringIncrementAsync("se:tx:other", 30);
        Task<bool> set = tran.StringSetAsync("se:tx:note", "moved");
        Assert.True(tran.Execute());
        Assert.Equal(70, await decrement);
        Assert.Equal(30, await increment);
        Assert.True(await set);
        Assert.Equal("moved", (string?)db.StringGet("se:tx:note"));
    }

    [Fact]
    public void TransactionWithAFailedConditionDoesNothing()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        db.StringSet("se:tx:cond", "actual");
        db.KeyDelete("se:tx:untouched");
        ITransaction tran = db.CreateTransaction();
        tran.AddCondition(Condition.StringEqual("se:tx:cond", "expected"));
        _ = tran.StringSetAsync("se:tx:untouched", "x");
        Assert.False(tran.Execute());
        Assert.True(db.StringGet("se:tx:untouched").IsNull);
        // The connection is still usable for the next transaction.
        ITransaction next = db.CreateTransaction();
        next.AddCondition(Condition.StringEqual("se:tx:cond", "actual"));
        _ = next.StringSetAsync("se:tx:untouched", "y");
        Assert.True(next.Execute());
        Assert.Equal("y", (string?)db.StringGet("se:tx:untouched"));
    }

    [Fact]
    public async Task ConcurrentConditionalIncrementsLoseNothing()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        db.KeyDelete("se:tx:counter");
        db.StringSet("se:tx:counter", "0");
        const int clients = 8, each = 40;
        Task[] tasks = Enumerable.Range(0, clients).Select(client => Task.Factory.StartNew(() =>
        {
            using ConnectionMultiplexer own = Connect();
            IDatabase d = own.GetDatabase();
            for (int done = 0; done < each;)
            {
                string current = d.StringGet("se:tx:counter")!;
                ITransaction tran = d.CreateTransaction();
                tran.AddCondition(Condition.StringEqual("se:tx:counter", current));
                _ = tran.StringSetAsync("se:tx:counter", (long.Parse(current) + 1).ToString());
                if (tran.Execute()) done++;
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks);
        Assert.Equal(clients * each, (long)db.StringGet("se:tx:counter"));
    }

    [Fact]
    public async Task SubscriberReceivesEveryMessageInOrderAndPatternSubscriptions()
    {
        using ConnectionMultiplexer mux = Connect();
        ISubscriber subscriber = mux.GetSubscriber();
        const int count = 100_000;
        var received = new List<string>(count);
        var patterned = 0;
        var done = new TaskCompletionSource();
        // Ordered delivery: StackExchange.Redis hands one channel's messages to the handler in arrival order.
        mux.PreserveAsyncOrder = true;
        await subscriber.SubscribeAsync("se:news", (_, message) =>
        {
            lock (received)
            {
                received.Add(message);
                if (received.Count == count) done.TrySetResult();
            }
        });
        await subscriber.SubscribeAsync(new RedisChannel("se:n*", RedisChannel.PatternMode.Pattern), (_, _) => Interlocked.Increment(ref patterned));
        using ConnectionMultiplexer publisherMux = Connect();
        IDatabase publisher = publisherMux.GetDatabase();
        Assert.Equal(2, await publisher.PublishAsync("se:news", "m-first"));
        var sends = new Task<long>[count - 1];
        for (int i = 1; i < count; i++) sends[i - 1] = publisher.PublishAsync("se:news", "m" + i);
        await Task.WhenAll(sends);
        Assert.All(sends, t => Assert.Equal(2, t.Result));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("m-first", received[0]);
        for (int i = 1; i < count; i++) Assert.Equal("m" + i, received[i]);
        for (int i = 0; i < 200 && Volatile.Read(ref patterned) < count; i++) await Task.Delay(50);
        Assert.Equal(count, Volatile.Read(ref patterned));
        await subscriber.UnsubscribeAllAsync();
        Assert.Equal(0, await publisher.PublishAsync("se:news", "after"));
    }

    [Fact]
    public void BitmapsAndHyperLogLog()
    {
        using ConnectionMultiplexer mux = Connect();
        IDatabase db = mux.GetDatabase();
        Assert.False(db.StringSetBit("se:bits", 7, true)); // SETBIT answers the previous bit
        Assert.True(db.StringSetBit("se:bits", 7, true));
        Assert.True(db.StringGetBit("se:bits", 7));
        Assert.False(db.StringGetBit("se:bits", 1000));
        Assert.True(db.StringSet("se:foobar", "foobar"));
        Assert.Equal(26, db.StringBitCount("se:foobar"));
        Assert.Equal(6, db.StringBitCount("se:foobar", 1, 1));
        Assert.Equal(1, db.StringBitPosition("se:foobar", true));
        Assert.Equal(6, db.StringBitOperation(Bitwise.Not, "se:not", "se:foobar"));
        Assert.Equal(6, db.StringBitOperation(Bitwise.Xor, "se:xor", "se:foobar", "se:not"));
        Assert.Equal(Enumerable.Repeat((byte)0xff, 6).ToArray(), (byte[]?)db.StringGet("se:xor"));
        // The same elements and estimates as redis-server 7.0.15 (1003 for these 1000, 2504 for the union of 2500).
        Assert.True(db.HyperLogLogAdd("se:hll", Enumerable.Range(0, 1000).Select(i => (RedisValue)$"user-{i}").ToArray()));
        Assert.False(db.HyperLogLogAdd("se:hll", "user-1"));
        Assert.Equal(1003, db.HyperLogLogLength("se:hll"));
        Assert.True(db.HyperLogLogAdd("se:hll2", Enumerable.Range(500, 2000).Select(i => (RedisValue)$"user-{i}").ToArray()));
        Assert.Equal(2504, db.HyperLogLogLength(["se:hll", "se:hll2"]));
        db.HyperLogLogMerge("se:merged", "se:hll", "se:hll2");
        Assert.Equal(2504, db.HyperLogLogLength("se:merged"));
        Assert.Throws<RedisServerException>(() => db.HyperLogLogAdd("se:foobar", "x")); // not a HyperLogLog
    }
}
