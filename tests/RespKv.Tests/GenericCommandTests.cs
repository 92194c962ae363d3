using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Server.Commands;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// MOVE, SWAPDB, COPY … DB, TOUCH, OBJECT, MEMORY and DEBUG: exact replies as redis-server 7.0.15 gives them, SWAPDB's
/// effect on WATCH, the AOF reproducing MOVE and SWAPDB, DEBUG's enable-debug-command gate, and the kinds' encodings at
/// Redis's thresholds. Each test starts its own server (SWAPDB and MOVE change whole databases).
/// </summary>
public sealed class GenericCommandTests
{
    [Theory]
    [InlineData("move", 3, CommandFlags.Write | CommandFlags.Fast, 1, 1, 1, "generic")]
    [InlineData("swapdb", 3, CommandFlags.Write | CommandFlags.Fast, 0, 0, 0, "server")]
    [InlineData("touch", -2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, -1, 1, "generic")]
    [InlineData("object|encoding", 3, CommandFlags.ReadOnly, 2, 2, 1, "generic")]
    [InlineData("object|refcount", 3, CommandFlags.ReadOnly, 2, 2, 1, "generic")]
    [InlineData("memory|usage", -3, CommandFlags.ReadOnly, 2, 2, 1, "server")]
    [InlineData("memory|stats", 2, CommandFlags.None, 0, 0, 0, "server")]
    [InlineData("memory|help", 2, CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server")]
    [InlineData("debug", -2, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, 0, 0, 0, "server")]
    public void TableRowsMatchRedisCommandInfo(string name, int arity, CommandFlags flags, int first, int last, int step, string group)
    {
        // Expected values are redis-cli COMMAND INFO / COMMAND DOCS of redis-server 7.0.15.
        CommandInfo? info = CommandFamilies.Table.Lookup(name);
        Assert.NotNull(info);
        Assert.Equal((arity, flags, first, last, step, group), (info.Arity, info.RedisFlags, info.FirstKey, info.LastKey, info.Step, info.Group));
    }

    [Fact]
    public void MoveAndSwapDbLockDatabasesBeyondTheirKeys()
    {
        Assert.True((CommandFamilies.Table.Lookup("move")!.Flags & CommandFlags.OtherDatabases) != 0);
        Assert.True((CommandFamilies.Table.Lookup("swapdb")!.Flags & CommandFlags.AllDatabases) != 0);
    }

    [Fact]
    public async Task MoveKeepsTheExpiryAndRefusesAnExistingKeyOrTheSameDatabase()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "v", "PX", "100000"));
        Assert.Equal("-ERR source and destination objects are the same\r\n", c.Call("MOVE", "k", "0"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("MOVE", "k", "16"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("MOVE", "k", "-1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("MOVE", "k", "one"));
        Assert.Equal(":0\r\n", c.Call("MOVE", "missing", "1"));
        Assert.Equal(":1\r\n", c.Call("MOVE", "k", "1"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "k"));
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "again"));
        Assert.Equal(":0\r\n", c.Call("MOVE", "k", "1")); // exists there: nothing moves
        Assert.Equal("$5\r\nagain\r\n", c.Call("GET", "k"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "k"));
        // The expiry moved with the key: at most the 100,000 ms set (exactly that when less than 1 ms has passed).
        string pttl = c.Call("PTTL", "k");
        Assert.Matches(@"^:\d+\r\n$", pttl);
        Assert.InRange(long.Parse(pttl[1..^2]), 50_000, 100_000);
        Assert.Equal(":1\r\n", c.Call("DBSIZE"));
    }

    [Fact]
    public async Task SwapDbExchangesEveryKeyForEveryClient()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var a = new RespTestClient(host.Port);
        using var b = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", a.Call("MSET", "x", "0", "y", "0"));
        Assert.Equal("+OK\r\n", b.Call("SELECT", "1"));
        Assert.Equal(":1\r\n", b.Call("HSET", "h", "f", "v"));
        long memory = host.Server.Keyspace.MemoryBytes, db0Memory = host.Server.Keyspace[0].MemoryBytes, db1Memory = host.Server.Keyspace[1].MemoryBytes;
        Assert.Equal("+OK\r\n", a.Call("SWAPDB", "1", "0"));
        Assert.Equal((memory, db1Memory, db0Memory), (host.Server.Keyspace.MemoryBytes, host.Server.Keyspace[0].MemoryBytes, host.Server.Keyspace[1].MemoryBytes));
        Assert.Equal(":1\r\n", a.Call("DBSIZE"));
        Assert.Equal("$1\r\nv\r\n", a.Call("HGET", "h", "f"));
        Assert.Equal(":2\r\n", b.Call("DBSIZE")); // b, in database 1, sees database 0's old keys
        Assert.Equal("$1\r\n0\r\n", b.Call("GET", "x"));
        Assert.Equal("+OK\r\n", a.Call("SWAPDB", "0", "0"));
        Assert.Equal("-ERR invalid first DB index\r\n", a.Call("SWAPDB", "x", "1"));
        Assert.Equal("-ERR invalid second DB index\r\n", a.Call("SWAPDB", "1", "x"));
        Assert.Equal("-ERR invalid first DB index\r\n", a.Call("SWAPDB", "99999999999", "1"));
        Assert.Equal("-ERR DB index is out of range\r\n", a.Call("SWAPDB", "0", "16"));
        Assert.Equal("-ERR DB index is out of range\r\n", a.Call("SWAPDB", "-1", "0"));
        Assert.Equal(1, host.Server.Keyspace[0].Count);
        Assert.Equal(2, host.Server.Keyspace[1].Count);
    }

    [Fact]
    public async Task ReadersNeverSeeHalfASwap()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var writer = new RespTestClient(host.Port);
        string[] keys = Enumerable.Range(0, 8).Select(i => $"k{i}").ToArray();
        Assert.Equal("+OK\r\n", writer.Call(["MSET", .. keys.SelectMany(k => new[] { k, "zero" })]));
        Assert.Equal("+OK\r\n", writer.Call("SELECT", "1"));
        Assert.Equal("+OK\r\n", writer.Call(["MSET", .. keys.SelectMany(k => new[] { k, "one!" })]));
        using var stop = new CancellationTokenSource();
        int reads = 0;
        Task reader = Task.Run(() =>
        {
            using var c = new RespTestClient(host.Port);
            while (!stop.IsCancellationRequested)
            {
                string reply = c.Call(["MGET", .. keys]);
                Assert.True(!reply.Contains("zero") || !reply.Contains("one!"), $"half a swap: {reply}");
                Interlocked.Increment(ref reads);
            }
        });
        // Swap for at least 1.5 s and until the reader made 200 reads meanwhile (a loaded machine may starve it), at most 20 s.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((clock.ElapsedMilliseconds < 1500 || Volatile.Read(ref reads) < 200) && clock.ElapsedMilliseconds < 20_000 && !reader.IsCompleted)
            Assert.Equal("+OK\r\n", writer.Call("SWAPDB", "0", "1"));
        stop.Cancel();
        await reader;
        Assert.True(reads >= 200, $"only {reads} reads");
    }

    [Fact]
    public async Task SwapDbTouchesWatchersOfKeysInEitherDatabase()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var watcher0 = new RespTestClient(host.Port);
        using var watcher1 = new RespTestClient(host.Port);
        using var bystander = new RespTestClient(host.Port);
        using var other = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", other.Call("SET", "only-in-0", "v"));
        Assert.Equal("+OK\r\n", other.Call("SELECT", "1"));
        Assert.Equal("+OK\r\n", other.Call("SET", "only-in-1", "v"));

        // Watching in database 0 a key that exists only in database 1: the swap brings it in.
        Assert.Equal("+OK\r\n", watcher0.Call("WATCH", "only-in-1"));
        // Watching in database 1 a key that exists only in database 0.
        Assert.Equal("+OK\r\n", watcher1.Call("SELECT", "1"));
        Assert.Equal("+OK\r\n", watcher1.Call("WATCH", "only-in-0"));
        // A key in neither database: untouched.
        Assert.Equal("+OK\r\n", bystander.Call("WATCH", "nowhere"));

        Assert.Equal("+OK\r\n", other.Call("SWAPDB", "0", "1"));
        foreach (RespTestClient c in new[] { watcher0, watcher1, bystander }) Assert.Equal("+OK\r\n", c.Call("MULTI"));
        foreach (RespTestClient c in new[] { watcher0, watcher1, bystander }) Assert.Equal("+QUEUED\r\n", c.Call("PING"));
        Assert.Equal("*-1\r\n", watcher0.Call("EXEC"));
        Assert.Equal("*-1\r\n", watcher1.Call("EXEC"));
        Assert.Equal("*1\r\n+PONG\r\n", bystander.Call("EXEC"));
    }

    [Fact]
    public async Task SwapDbInsideExecRunsWithEveryDatabaseLocked()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "0"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SWAPDB", "0", "9"));
        Assert.Equal("+QUEUED\r\n", c.Call("SELECT", "9"));
        Assert.Equal("+QUEUED\r\n", c.Call("GET", "k"));
        Assert.Equal("+QUEUED\r\n", c.Call("MOVE", "k", "3"));
        Assert.Equal("*4\r\n+OK\r\n+OK\r\n$1\r\n0\r\n:1\r\n", c.Call("EXEC"));
        Assert.Equal(1, host.Server.Keyspace[3].Count);
    }

    [Fact]
    public async Task AofRestartReproducesMoveAndSwapDb()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("SET", "a", "1"));
            Assert.Equal("+OK\r\n", c.Call("SET", "b", "2"));
            Assert.Equal(":1\r\n", c.Call("MOVE", "a", "4"));
            Assert.Equal(":0\r\n", c.Call("MOVE", "missing", "4")); // changes nothing: not logged
            Assert.Equal("+OK\r\n", c.Call("SWAPDB", "0", "5"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "4"));
            Assert.Equal(":1\r\n", c.Call("HSET", "h", "f", "v"));
            Assert.Equal("+OK\r\n", c.Call("SWAPDB", "4", "6"));
            string aof = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
            Assert.Contains(AofTestSupport.Record("MOVE", "a", "4"), aof);
            Assert.Contains(AofTestSupport.Record("SWAPDB", "0", "5"), aof);
            Assert.DoesNotContain("missing", aof);
        }
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            Keyspace keyspace = host.Server.Keyspace;
            Assert.Equal((0L, 0L, 1L, 2L), (keyspace[0].Count, keyspace[4].Count, keyspace[5].Count, keyspace[6].Count));
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("SELECT", "5"));
            Assert.Equal("$1\r\n2\r\n", c.Call("GET", "b"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "6"));
            Assert.Equal("$1\r\n1\r\n", c.Call("GET", "a"));
            Assert.Equal("$1\r\nv\r\n", c.Call("HGET", "h", "f"));
        }
    }

    [Fact]
    public async Task CopyToAnotherDatabaseKeepsTheExpiryAndHonoursReplace()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal(":2\r\n", c.Call("HSET", "h", "a", "1", "b", "2"));
        Assert.Equal(":1\r\n", c.Call("PEXPIRE", "h", "100000"));
        Assert.Equal(":1\r\n", c.Call("COPY", "h", "h", "DB", "2"));
        Assert.Equal(":0\r\n", c.Call("COPY", "h", "h", "DB", "2"));
        Assert.Equal("-ERR source and destination objects are the same\r\n", c.Call("COPY", "h", "h", "DB", "0"));
        Assert.Equal(":1\r\n", c.Call("HSET", "h", "c", "3"));
        Assert.Equal(":1\r\n", c.Call("COPY", "h", "h", "DB", "2", "REPLACE"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "2"));
        Assert.Equal(":3\r\n", c.Call("HLEN", "h"));
        Assert.Matches(@"^:\d{5,6}\r\n$", c.Call("PTTL", "h"));
        Assert.Equal(":1\r\n", c.Call("HDEL", "h", "a")); // the copy changes alone
        Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
        Assert.Equal(":3\r\n", c.Call("HLEN", "h"));
    }

    [Fact]
    public async Task TouchCountsExistingKeysAndRecordsAnAccess()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("MSET", "a", "1", "b", "2"));
        KeyEntry entry = host.Server.Keyspace[0].FindNoTouch("a"u8)!;
        entry.LruClock = 0; // long ago
        Assert.Equal(":3\r\n", c.Call("TOUCH", "a", "b", "a", "missing"));
        Assert.NotEqual(0, host.Server.Keyspace[0].FindNoTouch("a"u8)!.LruClock);
        Assert.Equal(":0\r\n", c.Call("OBJECT", "IDLETIME", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'touch' command\r\n", c.Call("TOUCH"));
    }

    [Theory]
    [InlineData("0", "int", 2147483647)]
    [InlineData("9999", "int", 2147483647)]
    [InlineData("10000", "int", 1)]
    [InlineData("-1", "int", 1)]
    [InlineData("-0", "embstr", 1)]
    [InlineData("01", "embstr", 1)]
    [InlineData("9223372036854775807", "int", 1)]
    [InlineData("9223372036854775808", "embstr", 1)]
    [InlineData("12345678901234567890", "embstr", 1)]
    [InlineData("", "embstr", 1)]
    public async Task StringEncodingsAndRefcountsMatchRedis(string value, string encoding, int refcount)
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "s", value));
        Assert.Equal($"${encoding.Length}\r\n{encoding}\r\n", c.Call("OBJECT", "ENCODING", "s"));
        Assert.Equal($":{refcount}\r\n", c.Call("OBJECT", "REFCOUNT", "s"));
    }

    [Fact]
    public void StringEncodingBoundariesAndSharedIntegersUnderLru()
    {
        var options = new ServerOptions();
        string Encoding(int length) => StringKind.Instance.Encoding(new byte[length], options);
        Assert.Equal("embstr", Encoding(StringKind.EmbstrSizeLimit));
        Assert.Equal("raw", Encoding(StringKind.EmbstrSizeLimit + 1));
        Assert.Equal(ValueKind.SharedRefCount, StringKind.Instance.RefCount("5"u8.ToArray(), options));
        // With maxmemory and an LRU/LFU policy Redis stops sharing integers (MAXMEMORY_FLAG_NO_SHARED_INTEGERS).
        options.MaxMemory = 1 << 30;
        options.MaxMemoryPolicy = "allkeys-lru";
        Assert.Equal(1, StringKind.Instance.RefCount("5"u8.ToArray(), options));
        options.MaxMemoryPolicy = "volatile-ttl";
        Assert.Equal(ValueKind.SharedRefCount, StringKind.Instance.RefCount("5"u8.ToArray(), options));
    }

    private static SortedHash Hash(int fields, int valueLength = 1)
    {
        SortedHash h = SortedHash.Empty;
        for (int i = 0; i < fields; i++) h = h.Set(System.Text.Encoding.ASCII.GetBytes($"f{i}"), new byte[valueLength], out _);
        return h;
    }

    [Fact]
    public void HashEncodingFollowsTheListpackThresholdsAndNeverConvertsBack()
    {
        var options = new ServerOptions();
        Assert.Equal((512, 64), (options.HashMaxListpackEntries, options.HashMaxListpackValue)); // redis-server 7.0.15's defaults
        Assert.Equal("listpack", HashKind.Instance.Encoding(Hash(512), options));
        Assert.Equal("hashtable", HashKind.Instance.Encoding(Hash(513), options));
        Assert.Equal("hashtable", HashKind.Instance.Encoding(Hash(513).Remove("f0"u8, out _), options));
        Assert.Equal("listpack", HashKind.Instance.Encoding(Hash(3, 64), options));
        SortedHash big = Hash(3, 65);
        Assert.Equal("hashtable", HashKind.Instance.Encoding(big, options));
        Assert.Equal("hashtable", HashKind.Instance.Encoding(big.Set("f0"u8, "v"u8, out _).Set("f1"u8, "v"u8, out _).Set("f2"u8, "v"u8, out _), options));
        // Other thresholds: judged on the current fields and values.
        options.HashMaxListpackEntries = 128;
        Assert.Equal("listpack", HashKind.Instance.Encoding(Hash(128), options));
        Assert.Equal("hashtable", HashKind.Instance.Encoding(Hash(129), options));
        options.HashMaxListpackValue = 10;
        Assert.Equal("hashtable", HashKind.Instance.Encoding(Hash(2, 11), options));
    }

    [Fact]
    public void SerializedLengthsMatchRedisDebugObject()
    {
        // redis-server 7.0.15 DEBUG OBJECT serializedlength: "123" 2, "hello" 6, "" 1, 70000 5, 5000000000 11, HSET h f v 14.
        var options = new ServerOptions();
        Assert.Equal(2, StringKind.Instance.SerializedLength("123"u8.ToArray(), options));
        Assert.Equal(6, StringKind.Instance.SerializedLength("hello"u8.ToArray(), options));
        Assert.Equal(1, StringKind.Instance.SerializedLength(Array.Empty<byte>(), options));
        Assert.Equal(5, StringKind.Instance.SerializedLength("70000"u8.ToArray(), options));
        Assert.Equal(11, StringKind.Instance.SerializedLength("5000000000"u8.ToArray(), options));
        Assert.Equal(14, HashKind.Instance.SerializedLength(SortedHash.Empty.Set("f"u8, "v"u8, out _), options));
    }

    [Fact]
    public async Task MemoryUsageIsTheEntrysEstimateAndParsesOptionsFirst()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "key", "value"));
        KeyEntry entry = host.Server.Keyspace[0].FindNoTouch("key"u8)!;
        Assert.Equal($":{entry.MemoryBytes}\r\n", c.Call("MEMORY", "USAGE", "key"));
        Assert.Equal($":{KeyEntry.NodeBytes + KeyEntry.ArrayBytes(3) + KeyEntry.ArrayBytes(5)}\r\n", c.Call("MEMORY", "USAGE", "key", "SAMPLES", "0"));
        Assert.Equal("$-1\r\n", c.Call("MEMORY", "USAGE", "missing"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("MEMORY", "USAGE", "missing", "SAMPLES"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("MEMORY", "USAGE", "key", "SAMPLES", "-1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("MEMORY", "USAGE", "missing", "SAMPLES", "x"));
        Assert.Equal("-ERR unknown subcommand 'NOSUCH'. Try MEMORY HELP.\r\n", c.Call("MEMORY", "NOSUCH"));
        string stats = c.Call("MEMORY", "STATS");
        Assert.StartsWith("*56\r\n$14\r\npeak.allocated\r\n", stats); // 27 fields + db.0, flat in RESP2
        Assert.Contains("$4\r\ndb.0\r\n*6\r\n$23\r\noverhead.hashtable.main\r\n", stats);
        Assert.Contains("$10\r\nkeys.count\r\n:1\r\n", stats);
        Assert.StartsWith("$", c.Call("MEMORY", "DOCTOR"));
        Assert.Equal("+OK\r\n", c.Call("MEMORY", "PURGE"));
    }

    [Fact]
    public void MemoryDoctorReportsWhatItMeasures()
    {
        const long mb = 1 << 20;
        MemoryFigures small = new(0, 4 * mb, 0, 0, 0, [], 1, 4 * mb, 4 * mb, 4 * mb, 4 * mb);
        Assert.StartsWith("Hi Sam, this instance is empty", MemoryCommands.DoctorReport(small, 1));
        MemoryFigures healthy = new(20 * mb, 20 * mb, 0, 0, 0, [], 1, 20 * mb, 20 * mb, 21 * mb, 22 * mb);
        Assert.Equal("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n", MemoryCommands.DoctorReport(healthy, 1));
        MemoryFigures peaked = healthy with { PeakAllocated = 40 * mb, ProcessRss = 60 * mb };
        string report = MemoryCommands.DoctorReport(peaked, 1);
        Assert.StartsWith("Sam, I detected a few issues in this Redis instance memory implants:\n\n * Peak memory:", report);
        Assert.Contains(" * High total RSS:", report);
        Assert.Contains(" * High process RSS overhead:", report);
        Assert.DoesNotContain("Big client buffers", report);
        Assert.EndsWith("I'm here to keep you safe, Sam. I want to help you.\n", report);
        Assert.Contains("Big client buffers", MemoryCommands.DoctorReport(healthy with { ClientsNormal = 3 * mb }, 2));
    }

    private const string DebugRefused = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

    [Theory]
    [InlineData("no", false)]
    [InlineData("local", true)]
    [InlineData("yes", true)]
    public async Task DebugIsGatedByEnableDebugCommand(string setting, bool allowed)
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = Enum.Parse<ProtectedAction>(setting, ignoreCase: true));
        using var c = new RespTestClient(host.Port); // a loopback client
        Assert.Equal(allowed ? "+OK\r\n" : DebugRefused, c.Call("DEBUG", "SLEEP", "0"));
        Assert.Equal(allowed ? "-ERR no such key\r\n" : DebugRefused, c.Call("DEBUG", "OBJECT", "missing"));
        Assert.Equal($"*2\r\n$20\r\nenable-debug-command\r\n${setting.Length}\r\n{setting}\r\n", c.Call("CONFIG", "GET", "enable-debug-command"));
    }

    [Fact]
    public async Task ARefusedDebugIsRejectedAtQueueTimeAndAbortsTheTransaction()
    {
        // redis-server 7.0.15 with enable-debug-command no: MULTI, DEBUG SLEEP 0 (refused, not queued), EXEC → EXECABORT.
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal(DebugRefused, c.Call("DEBUG", "SLEEP", "0"));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", c.Call("EXEC"));
    }

    [Fact]
    public void LocalMeansLoopbackOrNoIpPeer()
    {
        Assert.True(ClientSession.IsLocalAddress("127.0.0.1:5000"));
        Assert.True(ClientSession.IsLocalAddress("[::1]:5000"));
        Assert.True(ClientSession.IsLocalAddress("[::ffff:127.0.0.1]:5000"));
        Assert.True(ClientSession.IsLocalAddress(""));
        Assert.False(ClientSession.IsLocalAddress("10.1.2.3:5000"));
        Assert.False(ClientSession.IsLocalAddress("[2001:db8::1]:5000"));
    }

    [Fact]
    public async Task DebugSubcommandsAnswerAsRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = ProtectedAction.Yes);
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "n", "123"));
        Assert.Matches(@"^\+Value at:0x[0-9a-f]+ refcount:2147483647 encoding:int serializedlength:2 lru:\d+ lru_seconds_idle:0\r\n$", c.Call("DEBUG", "OBJECT", "n"));
        Assert.Equal(":1\r\n", c.Call("HSET", "h", "f", "v"));
        Assert.Matches(@"^\+Value at:0x[0-9a-f]+ refcount:1 encoding:listpack serializedlength:14 lru:\d+ lru_seconds_idle:0\r\n$", c.Call("DEBUG", "OBJECT", "h"));
        Assert.Equal("-MYERR went wrong\r\n", c.Call("DEBUG", "ERROR", "MYERR went wrong"));
        Assert.Equal("+OK\r\n", c.Call("DEBUG", "LOG", "hello"));
        Assert.Equal("-ERR unknown subcommand or wrong number of arguments for 'Nosuch'. Try DEBUG HELP.\r\n", c.Call("DEBUG", "Nosuch"));
        Assert.Equal("-ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.\r\n", c.Call("DEBUG", "object"));
        Assert.StartsWith("*51\r\n+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n", c.Call("DEBUG", "HELP"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("+OK\r\n", c.Call("DEBUG", "SLEEP", "0.2"));
        Assert.InRange(clock.ElapsedMilliseconds, 190, 5000);
        Assert.Equal(0.25, DebugCommands.ParseLeadingDouble("0.25s"u8));
        Assert.Equal(0, DebugCommands.ParseLeadingDouble("abc"u8));
        Assert.Equal(1000, DebugCommands.ParseLeadingDouble("1e3"u8));
        Assert.Equal(12, DebugCommands.ParseLeadingInt("12abc"u8));
    }

    [Fact]
    public async Task DebugDigestEqualsRedisServers()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = ProtectedAction.Yes);
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+0000000000000000000000000000000000000000\r\n", c.Call("DEBUG", "DIGEST"));
        Assert.Equal("+OK\r\n", c.Call("SET", "s", "v"));
        Assert.Equal(":2\r\n", c.Call("HSET", "h", "f1", "v1", "f2", "v2"));
        // redis-server 7.0.15 after the same two writes.
        Assert.Equal("*3\r\n+d79ee9fe5d5ad902d7f6620efc3b07b75ddd742f\r\n+047cc60ea73a34cde6d08a2721a4a26d19ee6570\r\n+0000000000000000000000000000000000000000\r\n",
            c.Call("DEBUG", "DIGEST-VALUE", "s", "h", "missing"));
        Assert.Equal("+f40f372b5e49ab70392287829f3ac81cc2588558\r\n", c.Call("DEBUG", "DIGEST"));
        Assert.Equal("+OK\r\n", c.Call("SWAPDB", "0", "1")); // the database number is part of the digest
        Assert.NotEqual("+f40f372b5e49ab70392287829f3ac81cc2588558\r\n", c.Call("DEBUG", "DIGEST"));
    }

    [Fact]
    public async Task DebugSetActiveExpireTurnsTheActiveCycleOffAndOn()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = ProtectedAction.Yes);
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0"));
        Assert.False(host.Server.Keyspace.ActiveExpiry.Enabled);
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "v", "PX", "1"));
        await Task.Delay(500); // five cron ticks: the cycle would have removed it
        Assert.Equal(":1\r\n", c.Call("DBSIZE")); // still counted: nobody removed it
        Assert.Equal("+OK\r\n", c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1"));
        for (int i = 0; i < 100 && c.Call("DBSIZE") != ":0\r\n"; i++) await Task.Delay(20);
        Assert.Equal(":0\r\n", c.Call("DBSIZE"));
    }

    [Fact]
    public async Task ObjectEncodingCountsAKeyspaceLookupAndMissingKeysAnswerNull()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("$-1\r\n", c.Call("OBJECT", "ENCODING", "missing"));
        Assert.Equal("$-1\r\n", c.Call("OBJECT", "REFCOUNT", "missing"));
        Assert.Equal("+OK\r\n", c.Call("SET", "big", new string('x', 45)));
        Assert.Equal("$3\r\nraw\r\n", c.Call("OBJECT", "ENCODING", "big"));
        string stats = c.Call("INFO", "stats");
        Assert.Contains("keyspace_hits:1\r\n", stats);
        Assert.Contains("keyspace_misses:2\r\n", stats);
        Assert.StartsWith("*15\r\n+OBJECT <subcommand>", c.Call("OBJECT", "HELP"));
    }
}
