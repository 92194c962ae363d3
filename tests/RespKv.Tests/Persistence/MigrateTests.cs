using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;
using Xunit.Abstractions;

namespace RespKv.Tests.Persistence;

/// <summary>A private RespKv (DEBUG enabled) and, when installed, a redis-server 7.0 beside it: MIGRATE's two ends for <see cref="MigrateTests"/>.</summary>
public sealed class MigrateFixture : IAsyncLifetime
{
    private Process? _redis;
    private TempDir? _redisDir;

    /// <summary>The RespKv host.</summary>
    public RespKvHost Host { get; private set; } = null!;

    /// <summary>redis-server's port, or 0 when it is not installed.</summary>
    public int RedisPort { get; private set; }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = ProtectedAction.Yes);
        string? redisServer = AofTestSupport.FindTool("redis-server");
        if (redisServer == null) return;
        _redisDir = new TempDir();
        (_redis, RedisPort) = AofTestSupport.StartRedis(redisServer, _redisDir.Path, "--appendonly", "no", "--enable-debug-command", "yes");
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_redis != null) AofTestSupport.Stop(_redis);
        _redisDir?.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>
/// MIGRATE as Redis 7.0.15's <c>migrateCommand</c>: every type moved from RespKv to redis-server 7.0 and back (values compared
/// with DEBUG DIGEST-VALUE, encodings and TTLs), and the same scenario of options (COPY, REPLACE, AUTH, AUTH2, KEYS, the
/// destination database) and failures (the target's errors, a closed port, a silent target, a cached connection the target
/// closed) run with RespKv as the source and with redis-server as the source, whose replies must be equal byte for byte.
/// </summary>
public sealed class MigrateTests(MigrateFixture fixture, ITestOutputHelper output) : IClassFixture<MigrateFixture>
{
    private RespTestClient RespKv() => new(fixture.Host.Port);

    private RespTestClient Redis() => new(fixture.RedisPort);

    private bool RedisMissing()
    {
        if (fixture.RedisPort != 0) return false;
        output.WriteLine("SKIPPED: redis-server is not installed");
        return true;
    }

    private static string P(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Values of every type and encoding, each built by commands on key <c>K</c>.</summary>
    private static readonly (string Name, string[][] Commands)[] Values =
    [
        ("string", [["SET", "K", "hello"]]),
        ("string-int", [["SET", "K", "12345"]]),
        ("string-long", [["SET", "K", string.Concat(Enumerable.Repeat("abcdefgh", 100))]]),
        ("string-5mb", [["SET", "K", string.Concat(Enumerable.Range(0, 5 << 20).Select(i => (char)('a' + i * 7 % 26)))]]),
        ("list", [["RPUSH", "K", "a", "1", "-70000", "x y"]]),
        ("list-quicklist", [["RPUSH", "K", .. Enumerable.Range(0, 300).Select(i => $"element-{i}")]]),
        ("set-intset", [["SADD", "K", "1", "-2", "70000"]]),
        ("set-hashtable", [["SADD", "K", .. Enumerable.Range(0, 200).Select(i => $"m{i}")]]),
        ("hash-listpack", [["HSET", "K", "f1", "v1", "f2", "2"]]),
        ("hash-hashtable", [["HSET", "K", .. Enumerable.Range(0, 200).SelectMany(i => new[] { $"f{i}", $"v{i}" })]]),
        ("zset-listpack", [["ZADD", "K", "1", "a", "2.5", "b", "-3", "c"]]),
        ("zset-skiplist", [["ZADD", "K", .. Enumerable.Range(0, 200).SelectMany(i => new[] { $"{i * 0.5}", $"member:{i}" })]]),
        ("stream-groups",
        [
            ["XADD", "K", "1-1", "a", "1"], ["XADD", "K", "1-2", "a", "2"], ["XGROUP", "CREATE", "K", "g1", "0"],
            ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "K", ">"],
        ]),
    ];

    private static void Build(RespTestClient c, string[][] commands, string key)
    {
        c.Call("DEL", key);
        foreach (string[] command in commands)
        {
            string reply = c.Call([.. command.Select(a => a == "K" ? key : a)]);
            Assert.False(reply.StartsWith('-'), $"{string.Join(' ', command.Take(3))} → {reply}");
        }
    }

    /// <summary>
    /// Every value moves RespKv → redis-server (one MIGRATE per key, then all at once with KEYS, with TTLs) and back redis-server
    /// → RespKv: the moved value has the source's digest and encoding, the source key is gone, the TTL is kept.
    /// </summary>
    [Fact]
    public void MovesEveryTypeBothWays()
    {
        if (RedisMissing()) return;
        using RespTestClient ours = RespKv(), redis = Redis();
        ours.Call("FLUSHALL");
        redis.Call("FLUSHALL");
        var digests = new Dictionary<string, string>();
        foreach ((string name, string[][] commands) in Values)
        {
            string key = "mig:" + name;
            Build(ours, commands, key);
            digests[key] = ours.Call("DEBUG", "DIGEST-VALUE", key);
            string encoding = ours.Call("OBJECT", "ENCODING", key);
            Assert.Equal("+OK\r\n", ours.Call("MIGRATE", "127.0.0.1", P(fixture.RedisPort), key, "0", "5000"));
            Assert.Equal(":0\r\n", ours.Call("EXISTS", key));
            Assert.Equal(digests[key], redis.Call("DEBUG", "DIGEST-VALUE", key));
            Assert.Equal(encoding, redis.Call("OBJECT", "ENCODING", key));
            Assert.Equal(":-1\r\n", redis.Call("PTTL", key));
        }
        // All back at once, with a TTL on each: KEYS, one batch.
        string[] keys = [.. digests.Keys];
        foreach (string key in keys)
        {
            Assert.Equal(":1\r\n", redis.Call("PEXPIRE", key, "300000"));
            digests[key] = redis.Call("DEBUG", "DIGEST-VALUE", key); // DIGEST-VALUE mixes in whether the key has a TTL
        }
        Assert.Equal("+OK\r\n", redis.Call(["MIGRATE", "127.0.0.1", P(fixture.Host.Port), "", "0", "5000", "KEYS", .. keys]));
        Assert.Equal(":0\r\n", redis.Call(["EXISTS", .. keys]));
        foreach (string key in keys)
        {
            Assert.Equal(digests[key], ours.Call("DEBUG", "DIGEST-VALUE", key));
            long pttl = long.Parse(ours.Call("PTTL", key)[1..^2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(pttl, 200_000, 300_000);
        }
        // And RespKv → redis-server in one batch too, keeping the TTLs.
        Assert.Equal("+OK\r\n", ours.Call(["MIGRATE", "127.0.0.1", P(fixture.RedisPort), "", "0", "5000", "KEYS", .. keys]));
        foreach (string key in keys)
        {
            Assert.Equal(digests[key], redis.Call("DEBUG", "DIGEST-VALUE", key));
            Assert.InRange(long.Parse(redis.Call("PTTL", key)[1..^2], System.Globalization.CultureInfo.InvariantCulture), 200_000, 300_000);
        }
        // The stream's group moved whole.
        Assert.Contains("alice", redis.Call("XINFO", "STREAM", "mig:stream-groups", "FULL"));
    }

    /// <summary>
    /// One scenario of options and failures run from a source to a target; returns every reply of the source and the target
    /// (what must not differ between a RespKv source and a redis-server source).
    /// </summary>
    private static List<string> Scenario(RespTestClient source, RespTestClient target, int targetPort, int closedPort, int silentPort)
    {
        var replies = new List<string>();
        string port = P(targetPort);
        void Src(params string[] args) => replies.Add("src " + string.Join(' ', args.Take(2)) + " → " + source.Call(args));
        void Dst(params string[] args) => replies.Add("dst " + string.Join(' ', args.Take(2)) + " → " + target.Call(args));
        string[] Migrate(string key, string db, params string[] options) => ["MIGRATE", "127.0.0.1", port, key, db, "5000", .. options];

        source.Call("FLUSHALL");
        target.Call("FLUSHALL");
        // Connections cached by earlier tests are closed by the target: the source finds out (and reconnects) on first use.
        target.Call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        target.Call("CONFIG", "RESETSTAT");
        // Argument errors, before any connection.
        Src("MIGRATE", "127.0.0.1", port, "k", "0");
        Src(Migrate("k", "0", "BOGUS"));
        Src(Migrate("k", "0", "AUTH"));
        Src(Migrate("k", "0", "AUTH2", "user"));
        Src(Migrate("k", "0", "KEYS", "a"));
        Src(Migrate("k", "x"));
        Src("MIGRATE", "127.0.0.1", port, "k", "0", "soon");
        Src(Migrate("k", "0", "COPY", "REPLACE"));          // no such key: NOKEY
        Src(Migrate("", "0", "KEYS"));
        Src(Migrate("", "0", "KEYS", "nokey1", "nokey2"));
        Src("SET", "k", "v1");
        Src("MIGRATE", "127.0.0.1", "-1", "k", "0", "1000");  // no such port: the connection cannot start
        Src("MIGRATE", "", port, "k", "0", "1000");           // nor without a host name
        Src("MIGRATE", "127.0.0.1 ", port, "k", "0", "1000"); // nor with a blank in it
        Src("MIGRATE", "127.0.0.1", P(closedPort), "k", "0", "1000"); // refused (twice: the retry)
        Src("EXISTS", "k");

        // The target asks for a password.
        target.Call("ACL", "SETUSER", "mover", "on", ">moverpw", "~*", "+@all");
        target.Call("CONFIG", "SET", "requirepass", "secret");
        Src(Migrate("k", "0"));
        Src(Migrate("k", "0", "AUTH", "wrong"));
        Src(Migrate("k", "0", "AUTH2", "mover", "wrong"));
        Src("EXISTS", "k");
        Src(Migrate("k", "0", "AUTH", "secret"));
        Src("EXISTS", "k");
        target.Call("AUTH", "secret");
        Dst("GET", "k");
        // The key exists there now: BUSYKEY unless REPLACE; COPY keeps it here.
        Src("SET", "k", "v2");
        Src(Migrate("k", "0", "AUTH", "secret"));
        Src("EXISTS", "k");
        Src(Migrate("k", "0", "AUTH2", "mover", "moverpw", "COPY", "REPLACE"));
        Src("GET", "k");
        Dst("GET", "k");
        Src(Migrate("k", "0", "REPLACE", "AUTH", "secret"));
        Src("EXISTS", "k");
        // A key named twice: two RESTOREs; with REPLACE both succeed.
        Src("SET", "twice", "1");
        Src(Migrate("", "0", "AUTH", "secret", "REPLACE", "KEYS", "twice", "twice"));
        Src("EXISTS", "twice");
        Dst("GET", "twice");
        // KEYS: some missing, some there; one already on the target: the others move, the error is the target's.
        Src("MSET", "a", "1", "b", "2", "c", "3");
        Src("PEXPIRE", "c", "100000");
        Dst("SET", "b", "taken");
        Src(Migrate("", "0", "AUTH", "secret", "KEYS", "a", "missing", "b", "c"));
        Src("EXISTS", "a", "b", "c");
        Dst("MGET", "a", "b", "c");
        Dst("PTTL", "a");
        replies.Add("c's ttl in range: " + (long.Parse(target.Call("PTTL", "c")[1..^2], System.Globalization.CultureInfo.InvariantCulture) is > 90_000 and <= 100_000));
        // Other databases: SELECT is sent only when the connection's database changes.
        Src("SET", "d", "1");
        Src(Migrate("d", "3", "AUTH", "secret", "COPY"));
        Src(Migrate("d", "3", "AUTH", "secret", "COPY", "REPLACE"));
        Src(Migrate("d", "5", "AUTH", "secret", "COPY"));
        Src(Migrate("d", "99", "AUTH", "secret"));
        Src(Migrate("d", "-1", "AUTH", "secret"));
        Src(Migrate("d", "5", "AUTH", "secret", "REPLACE"));
        Dst("SELECT", "5");
        Dst("GET", "d");
        Dst("SELECT", "0");
        replies.Add("selects: " + string.Join(',', target.Call("INFO", "commandstats").Split("\r\n").Order(StringComparer.Ordinal).Where(l => l.StartsWith("cmdstat_select:", StringComparison.Ordinal) || l.StartsWith("cmdstat_restore:", StringComparison.Ordinal)).Select(l => l.Split(",usec=")[0] + l[l.IndexOf(",rejected", StringComparison.Ordinal)..])));
        replies.Add(source.Call("INFO", "stats").Split("\r\n").Single(l => l.StartsWith("migrate_cached_sockets:", StringComparison.Ordinal)));
        // The target closes the cached connection: the next MIGRATE reconnects (one retry) and succeeds.
        target.Call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        Src("SET", "e", "1");
        Src(Migrate("e", "0", "AUTH", "secret"));
        Dst("GET", "e");
        // A target that never answers: the timeout, no retry; the key stays.
        Src("SET", "f", "1");
        Src("MIGRATE", "127.0.0.1", P(silentPort), "f", "0", "300");
        Src("EXISTS", "f");
        target.Call("CONFIG", "SET", "requirepass", "");
        target.Call("ACL", "DELUSER", "mover");
        return replies;
    }

    /// <summary>
    /// The scenario above from RespKv to redis-server and from redis-server to RespKv: every reply the same, as redis-server
    /// 7.0.15 gives it (the target's errors passed back as <c>-ERR Target instance replied with error: …</c>, <c>+NOKEY</c>,
    /// <c>-IOERR error or timeout writing to target instance</c> for a refused connection and <c>… reading …</c> for a silent
    /// target, a retry over a connection the target closed, SELECT only when the database changes).
    /// </summary>
    [Fact]
    public void OptionsAndErrorsMatchRedis()
    {
        if (RedisMissing()) return;
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true) held.Add(await silent.AcceptSocketAsync());
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        });
        int silentPort = ((IPEndPoint)silent.LocalEndpoint).Port;
        int closedPort = AofTestSupport.FreePort();
        try
        {
            List<string> fromRespKv, fromRedis;
            using (RespTestClient ours = RespKv(), redis = Redis())
            {
                fromRespKv = Scenario(ours, redis, fixture.RedisPort, closedPort, silentPort);
                fromRedis = Scenario(redis, ours, fixture.Host.Port, closedPort, silentPort);
            }
            for (int i = 0; i < Math.Max(fromRedis.Count, fromRespKv.Count); i++)
                output.WriteLine($"{fromRedis.ElementAtOrDefault(i)?.Trim()} | {fromRespKv.ElementAtOrDefault(i)?.Trim()}");
            Assert.Equal(fromRedis, fromRespKv);
            // Spot checks of what both agree on.
            string all = string.Join("\n", fromRespKv);
            foreach (string reply in (string[])[
                "-ERR Target instance replied with error: NOAUTH Authentication required.",
                "-ERR Target instance replied with error: BUSYKEY Target key name already exists.",
                "-ERR Target instance replied with error: ERR DB index is out of range",
                "-IOERR error or timeout writing to target instance", "-IOERR error or timeout reading to target instance",
                "-IOERR error or timeout connecting to the client", "+NOKEY"])
                Assert.Contains(reply, all);
        }
        finally
        {
            silent.Stop();
            accepting.Wait(5000);
            foreach (Socket s in held) s.Dispose();
        }
    }

    /// <summary>
    /// MIGRATE's key search (Redis's <c>migrateGetKeys</c>: KEYS found past AUTH/AUTH2 values, an <c>incomplete</c> key spec),
    /// COMMAND INFO/GETKEYS/GETKEYSANDFLAGS, ACL key permissions and the redaction of its passwords in SLOWLOG, compared with
    /// redis-server.
    /// </summary>
    [Fact]
    public void KeysAclAndRedactionMatchRedis()
    {
        if (RedisMissing()) return;
        using RespTestClient ours = RespKv(), redis = Redis();
        string[][] commands =
        [
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10"],
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH", "KEYS", "KEYS", "a", "b"],
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH2", "KEYS", "x", "KEYS", "a"],
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "keys", "k", "0", "10"],
            ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"],
            ["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "", "0", "10", "COPY", "KEYS", "a", "b"],
            ["COMMAND", "INFO", "MIGRATE"],
            ["COMMAND", "DOCS", "MIGRATE"],
        ];
        foreach (string[] command in commands)
            Assert.Equal(redis.Call(command), ours.Call(command));

        foreach (RespTestClient c in new[] { ours, redis })
        {
            c.Call("ACL", "SETUSER", "limited", "on", "nopass", "~a*", "+@all");
            c.Call("SET", "b", "1");
            c.Call("SET", "a1", "1");
        }
        string[] denied = ["MIGRATE", "127.0.0.1", "1", "", "0", "10", "KEYS", "a1", "b"];
        string[] allowed = ["MIGRATE", "127.0.0.1", "1", "", "0", "10", "COPY", "KEYS", "a1"];
        using (RespTestClient ourLimited = RespKv(), redisLimited = Redis())
        {
            Assert.Equal("+OK\r\n", ourLimited.Call("AUTH", "limited", "x"));
            Assert.Equal("+OK\r\n", redisLimited.Call("AUTH", "limited", "x"));
            Assert.Equal(redisLimited.Call(denied), ourLimited.Call(denied));
            Assert.StartsWith("-NOPERM", ourLimited.Call(denied));
            Assert.Equal(redisLimited.Call(allowed), ourLimited.Call(allowed));
        }
        foreach (RespTestClient c in new[] { ours, redis })
        {
            c.Call("ACL", "DELUSER", "limited");
            c.Call("CONFIG", "SET", "slowlog-log-slower-than", "0");
            c.Call("SLOWLOG", "RESET");
        }
        string[] secret = ["MIGRATE", "127.0.0.1", "1", "", "0", "10", "COPY", "AUTH", "pw1", "AUTH2", "user", "pw2", "KEYS", "none"];
        Assert.Equal(redis.Call(secret), ours.Call(secret));
        List<string> ourEntry = Replies.Bulks(ours.Call("SLOWLOG", "GET", "2")), redisEntry = Replies.Bulks(redis.Call("SLOWLOG", "GET", "2"));
        foreach (RespTestClient c in new[] { ours, redis }) c.Call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        output.WriteLine(string.Join(' ', ourEntry));
        Assert.Contains("(redacted)", ourEntry);
        Assert.DoesNotContain("pw1", ourEntry);
        Assert.DoesNotContain("pw2", ourEntry);
        // The entries' arguments (after the time fields, without the client's address and name) are the same.
        Assert.Equal(redisEntry.SkipWhile(a => a != "MIGRATE").Take(secret.Length), ourEntry.SkipWhile(a => a != "MIGRATE").Take(secret.Length));
    }

    /// <summary>
    /// Propagation as Redis: MIGRATE is logged as <c>DEL</c> of the keys the target acknowledged; with COPY, or when nothing moved,
    /// nothing is logged. Keyspace events: <c>del</c> for each moved key.
    /// </summary>
    [Fact]
    public async Task MovedKeysAreLoggedAsDel()
    {
        using var dir = new TempDir();
        await using RespKvHost target = await ServerFixture.StartFresh();
        using (var t = new RespTestClient(target.Port)) t.Call("SET", "busy", "x");
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            using var sub = new RespTestClient(host.Port);
            c.Call("CONFIG", "SET", "notify-keyspace-events", "Eg");
            sub.Call("SUBSCRIBE", "__keyevent@0__:del");
            c.Call("MSET", "a", "1", "b", "2", "busy", "3", "kept", "4");
            string port = P(target.Port);
            Assert.Equal("+OK\r\n", c.Call("MIGRATE", "127.0.0.1", port, "kept", "0", "5000", "COPY"));
            Assert.StartsWith("-ERR Target instance replied with error: BUSYKEY", c.Call("MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", "a", "busy", "b"));
            Assert.Equal("+NOKEY\r\n", c.Call("MIGRATE", "127.0.0.1", port, "gone", "0", "5000"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            Assert.Equal(AofTestSupport.Record("SELECT", "0") + AofTestSupport.Record("MSET", "a", "1", "b", "2", "busy", "3", "kept", "4")
                + AofTestSupport.Record("DEL", "a", "b"), await File.ReadAllTextAsync(dir.Aof, Encoding.Latin1));
            Assert.Contains("$1\r\na\r\n", sub.ReadReply());
            Assert.Contains("$1\r\nb\r\n", sub.ReadReply());
        }
    }

    /// <summary>
    /// The connection cache (Redis's <c>migrate_cached_sockets</c>): one per host:port, counted by INFO, reused, and closed by
    /// the cron once unused for more than 10 seconds (the cache's clock moved forward here).
    /// </summary>
    [Fact]
    public async Task CachedConnectionsCloseAfterTenIdleSeconds()
    {
        await using RespKvHost first = await ServerFixture.StartFresh();
        await using RespKvHost second = await ServerFixture.StartFresh();
        await using RespKvHost source = await ServerFixture.StartFresh();
        long now = 1000;
        source.Server.MigrateSockets.Clock = () => Volatile.Read(ref now);
        using var c = new RespTestClient(source.Port);
        using var t1 = new RespTestClient(first.Port);
        using var t2 = new RespTestClient(second.Port);
        int Clients(RespTestClient t) => Replies.Bulks(t.Call("CLIENT", "LIST"))[0].Split('\n').Count(l => l.StartsWith("id=", StringComparison.Ordinal));
        void WaitFor(Func<bool> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);
            Assert.True(condition());
        }
        c.Call("MSET", "a", "1", "b", "2", "c", "3", "d", "4");
        Assert.Equal("+OK\r\n", c.Call("MIGRATE", "127.0.0.1", P(first.Port), "a", "0", "5000"));
        Assert.Equal("+OK\r\n", c.Call("MIGRATE", "127.0.0.1", P(second.Port), "b", "0", "5000"));
        Assert.Contains("migrate_cached_sockets:2\r\n", c.Call("INFO", "stats"));
        // Reused: the target still has one connection from the source besides the test's own.
        Volatile.Write(ref now, 1008);
        Assert.Equal("+OK\r\n", c.Call("MIGRATE", "127.0.0.1", P(first.Port), "c", "0", "5000"));
        Assert.Equal(2, Clients(t1));
        Assert.Equal(2, Clients(t2));
        // 11 s after its last use the second target's connection goes; the first one's, used 8 s later, stays.
        Volatile.Write(ref now, 1011);
        WaitFor(() => c.Call("INFO", "stats").Contains("migrate_cached_sockets:1\r\n"));
        WaitFor(() => Clients(t2) == 1);
        Assert.Equal(2, Clients(t1));
        Volatile.Write(ref now, 1020);
        WaitFor(() => c.Call("INFO", "stats").Contains("migrate_cached_sockets:0\r\n"));
        WaitFor(() => Clients(t1) == 1);
        // A new MIGRATE connects again.
        Assert.Equal("+OK\r\n", c.Call("MIGRATE", "127.0.0.1", P(first.Port), "d", "0", "5000"));
        Assert.Equal("$1\r\n4\r\n", t1.Call("GET", "d"));
    }

    /// <summary>Redis's <c>atoi</c> reading of the port, then as <c>getaddrinfo</c> takes it.</summary>
    [Theory]
    [InlineData("6379", 6379)]
    [InlineData(" +12abc", 12)]
    [InlineData("abc", 0)]
    [InlineData("70000", 70000 & 0xFFFF)]
    [InlineData("-5", -1)]
    [InlineData("99999999999999999999", -1)]
    public void PortIsReadAsRedisReadsIt(string text, int port) =>
        Assert.Equal(port, MigrateSockets.ParsePort(Encoding.ASCII.GetBytes(text)));
}
