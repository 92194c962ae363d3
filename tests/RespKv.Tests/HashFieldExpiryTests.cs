using System.Text;
using RespKv.Server;
using RespKv.Tests.Expiry;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests;

/// <summary>
/// Hash-field expiry (Redis 7.4's HEXPIRE family, HTTL family and HPERSIST; Redis 8.0's HGETEX, HSETEX and HGETDEL), with a
/// clock the test moves: every per-field reply code and error of Redis's <c>t_hash.c</c>, expired fields hidden from every
/// read, reclaimed by writes and by the active cycle without any read, the key deleted with its last field, what is logged
/// (absolute <c>HPEXPIREAT</c>, <c>HDEL</c> for expired fields), the AOF restart and rewrite, and a randomized comparison with a
/// simple model.
/// </summary>
public sealed class HashFieldExpiryTests
{
    private const long Start = 1_900_000_000_000;
    private const string WrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    private static string Ints(params long[] codes) => $"*{codes.Length}\r\n" + string.Concat(codes.Select(n => $":{n}\r\n"));

    private static string Bulk(string s) => $"${Encoding.Latin1.GetByteCount(s)}\r\n{s}\r\n";

    private static string Arr(params string?[] items) => $"*{items.Length}\r\n" + string.Concat(items.Select(s => s == null ? "$-1\r\n" : Bulk(s)));

    /// <summary>Sends each step's command on <paramref name="c"/> and checks its reply.</summary>
    private static void Check(RespTestClient c, params (string Reply, string[] Command)[] steps)
    {
        foreach ((string reply, string[] command) in steps) Assert.Equal(reply, c.Call(command));
    }

    /// <summary>A fresh server whose keyspace clock the test moves (starting at <see cref="Start"/>), and a client.</summary>
    private sealed record Fresh(RespKvHost Host, ManualClock Clock, RespTestClient Client) : IAsyncDisposable
    {
        public static async Task<Fresh> StartAsync()
        {
            RespKvHost host = await ServerFixture.StartFresh();
            var clock = new ManualClock(Start);
            host.Server.Keyspace.Lifetime.Clock = clock;
            return new Fresh(host, clock, new RespTestClient(host.Port));
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Host.DisposeAsync();
        }
    }

    [Fact]
    public async Task HExpireReplyCodesAndConditions()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock _, RespTestClient c) = fresh;
        c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        Check(c,
            (Ints(-2, -2), ["HEXPIRE", "none", "10", "FIELDS", "2", "a", "b"]), // missing key: -2 per field
            (":3\r\n", ["HSET", "h", "a", "1", "b", "2", "c", "3"]),
            (Ints(1, -2), ["HEXPIRE", "h", "100", "FIELDS", "2", "a", "zz"]),
            (Ints(0, 1), ["HEXPIRE", "h", "50", "NX", "FIELDS", "2", "a", "b"]),
            (Ints(1, 0), ["HPEXPIRE", "h", "200000", "XX", "FIELDS", "2", "a", "c"]), // c has no TTL: XX fails
            (Ints(0, 0), ["HPEXPIRE", "h", "100", "GT", "FIELDS", "2", "a", "c"]), // GT fails without a TTL too
            (Ints(1, 1), ["HPEXPIRE", "h", "100", "LT", "FIELDS", "2", "a", "c"]), // LT passes without a TTL
            (Ints(0), ["HPEXPIRE", "h", "100", "LT", "FIELDS", "1", "a"]), // not less
            (Ints(1), ["HEXPIREAT", "h", (Start / 1000 + 3600).ToString(), "GT", "FIELDS", "1", "a"]),
            (Ints(Start / 1000 + 3600, Start / 1000 + 50, Start / 1000 + 1, -2, -2), ["HEXPIRETIME", "h", "FIELDS", "5", "a", "b", "c", "zz", "nope"]),
            (Ints(Start + 3_600_000, Start + 50_000, Start + 100), ["HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "c"]),
            (Ints(3_600_000, 50_000, 100), ["HPTTL", "h", "FIELDS", "3", "a", "b", "c"]),
            (Ints(3600, 50, 1), ["HTTL", "h", "FIELDS", "3", "a", "b", "c"]), // rounded up
            (Ints(1, -1, -2), ["HPERSIST", "h", "FIELDS", "3", "b", "b", "zz"]),
            (Ints(-1), ["HTTL", "h", "FIELDS", "1", "b"]));
        // A time now or past deletes the field (2); the last field's deletion deletes the key.
        Check(c,
            (Ints(2, -2), ["HPEXPIREAT", "h", Start.ToString(), "FIELDS", "2", "b", "b"]),
            (Ints(2), ["HEXPIRE", "h", "0", "FIELDS", "1", "c"]),
            (":1\r\n", ["HLEN", "h"]),
            (Ints(2), ["HPEXPIREAT", "h", "1", "FIELDS", "1", "a"]),
            (":0\r\n", ["EXISTS", "h"]),
            ("+PONG\r\n", ["PING"]));
    }

    [Fact]
    public async Task ArgumentErrorsInRedisOrder()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock _, RespTestClient c) = fresh;
        c.Call("SET", "s", "v");
        c.Call("HSET", "h", "a", "1");
        (string Reply, string[] Command)[] cases =
        [
            ("-ERR wrong number of arguments for 'hexpire' command\r\n", ["HEXPIRE", "h", "10", "FIELDS", "1"]),
            (WrongType, ["HEXPIRE", "s", "x", "FIELDS", "1", "a"]), // type first
            ("-ERR value is not an integer or out of range\r\n", ["HEXPIRE", "h", "x", "FIELDS", "1", "a"]),
            ("-ERR invalid expire time, must be >= 0\r\n", ["HEXPIRE", "h", "-1", "FIELDS", "1", "a"]),
            ("-ERR invalid expire time in 'hexpire' command\r\n", ["HEXPIRE", "h", "70368744177664", "FIELDS", "1", "a"]),
            ("-ERR invalid expire time in 'hpexpireat' command\r\n", ["HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"]),
            (Ints(1), ["HPEXPIREAT", "h", "70368744177663", "FIELDS", "1", "a"]),
            ("-ERR Mandatory argument FIELDS is missing or not at the right position\r\n", ["HEXPIRE", "h", "10", "FIELD", "1", "a"]),
            ("-ERR Mandatory argument FIELDS is missing or not at the right position\r\n", ["HEXPIRE", "h", "10", "NX", "1", "a"]),
            ("-ERR Parameter `numFields` should be greater than 0\r\n", ["HEXPIRE", "h", "10", "FIELDS", "0", "a"]),
            ("-ERR Parameter `numFields` should be greater than 0\r\n", ["HEXPIRE", "h", "10", "FIELDS", "x", "a"]),
            ("-ERR The `numfields` parameter must match the number of arguments\r\n", ["HEXPIRE", "h", "10", "FIELDS", "2", "a"]),
            ("-ERR The `numfields` parameter must match the number of arguments\r\n", ["HEXPIRE", "none", "10", "FIELDS", "1", "a", "b"]),
            ("-ERR Number of fields must be a positive integer\r\n", ["HTTL", "h", "FIELDS", "0", "a"]),
            ("-ERR Number of fields must be a positive integer\r\n", ["HPERSIST", "h", "FIELDS", "-1", "a"]),
            ("-ERR The `numfields` parameter must match the number of arguments\r\n", ["HPTTL", "h", "FIELDS", "3", "a"]),
            (WrongType, ["HTTL", "s", "FIELDS", "1", "a"]),
            (WrongType, ["HPERSIST", "s", "FIELDS", "1", "a"]),
            (WrongType, ["HGETDEL", "s", "FIELDS", "1", "a"]),
            ("-ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified\r\n", ["HSETEX", "h", "EX", "1", "KEEPTTL", "FIELDS", "1", "a", "b"]),
            ("-ERR Only one of FXX or FNX arguments can be specified\r\n", ["HSETEX", "h", "FNX", "FXX", "FIELDS", "1", "a", "b"]),
            ("-ERR Only one of EX, PX, EXAT, PXAT or PERSIST arguments can be specified\r\n", ["HGETEX", "h", "EX", "1", "PERSIST", "FIELDS", "1", "a"]),
            ("-ERR invalid expire time in 'hgetex' command\r\n", ["HGETEX", "h", "EX", "-1", "FIELDS", "1", "a"]),
            ("-ERR The `numfields` parameter must match the number of arguments\r\n", ["HSETEX", "h", "FIELDS", "2", "a", "b"]),
            ("-ERR unknown command 'HEXPIREX', with args beginning with: 'h' \r\n", ["HEXPIREX", "h"]),
        ];
        Check(c, cases);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ExpiredFieldsVanishFromEveryReadAndWritesKeepOrClearTtls()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock clock, RespTestClient c) = fresh;
        c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        c.Call("HSET", "h", "a", "1", "b", "22", "c", "3", "d", "4");
        Check(c,
            (Bulk("listpack"), ["OBJECT", "ENCODING", "h"]),
            (Ints(1, 1, 1), ["HPEXPIRE", "h", "100", "FIELDS", "3", "a", "b", "d"]),
            (Bulk("listpackex"), ["OBJECT", "ENCODING", "h"]),
            (":5\r\n", ["HINCRBY", "h", "d", "1"]), // keeps its TTL
            (":0\r\n", ["HSET", "h", "a", "x"]), // clears its TTL
            (Ints(-1, 100, 100), ["HPTTL", "h", "FIELDS", "3", "a", "b", "d"]));
        clock.Advance(99);
        Assert.Equal(Bulk("22"), c.Call("HGET", "h", "b"));
        clock.Advance(1);
        Check(c,
            ("$-1\r\n", ["HGET", "h", "b"]),
            (Arr("x", null, "3", null), ["HMGET", "h", "a", "b", "c", "d"]),
            (Arr("a", "x", "c", "3"), ["HGETALL", "h"]),
            (Arr("a", "c"), ["HKEYS", "h"]),
            (Arr("x", "3"), ["HVALS", "h"]),
            (":0\r\n", ["HEXISTS", "h", "b"]),
            (":0\r\n", ["HSTRLEN", "h", "b"]),
            ("*2\r\n$1\r\n0\r\n" + Arr("a", "x", "c", "3"), ["HSCAN", "h", "0"]));
        for (int i = 0; i < 20; i++) Assert.Contains(c.Call("HRANDFIELD", "h"), new[] { Bulk("a"), Bulk("c") });
        Check(c,
            (Arr("a", "c"), ["HRANDFIELD", "h", "10"]),
            (Ints(-2, -2), ["HTTL", "h", "FIELDS", "2", "b", "d"]),
            (Ints(-2), ["HPERSIST", "h", "FIELDS", "1", "b"]),
            (":2\r\n", ["HLEN", "h"])); // the write above (HPERSIST) reclaimed them; HLEN counts only until then
        c.Call("HSET", "g", "a", "1");
        c.Call("HPEXPIRE", "g", "10", "FIELDS", "1", "a");
        clock.Advance(10);
        Check(c,
            (":1\r\n", ["HLEN", "g"]), // as Redis 7.4: counted until reclaimed
            (":1\r\n", ["EXISTS", "g"]),
            ("*0\r\n", ["HGETALL", "g"]),
            ("$-1\r\n", ["HRANDFIELD", "g"]),
            (":0\r\n", ["HDEL", "g", "a"]), // reclaims it first: the key goes
            (":0\r\n", ["EXISTS", "g"]),
            ("+PONG\r\n", ["PING"]));
    }

    [Fact]
    public async Task ActiveExpiryReclaimsFieldsWithoutReadsAndDeletesTheEmptiedKey()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock clock, RespTestClient c) = fresh;
        using var sub = new RespTestClient(host.Port);
        c.Call("CONFIG", "SET", "notify-keyspace-events", "KEA");
        sub.Call("SUBSCRIBE", "__keyspace@0__:h");
        c.Call("HSET", "h", "a", "1", "b", "2");
        c.Call("HPEXPIRE", "h", "50", "FIELDS", "1", "a");
        c.Call("HPEXPIRE", "h", "80", "FIELDS", "1", "b");
        for (int i = 0; i < 1000; i++) c.Call("HSET", "big" + i / 100, "f" + i, "v");
        for (int i = 0; i < 1000; i += 2) c.Call("HPEXPIRE", "big" + i / 100, "60", "FIELDS", "1", "f" + i);
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:h\r\n$4\r\nhset\r\n", sub.ReadReply());
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:h\r\n$7\r\nhexpire\r\n", sub.ReadReply());
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:h\r\n$7\r\nhexpire\r\n", sub.ReadReply());
        clock.Advance(60);
        // No read: the cron's cycle reclaims a and every second big field.
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:h\r\n$8\r\nhexpired\r\n", sub.ReadReply());
        for (int i = 0; i < 200 && c.Call("HLEN", "big0") != ":50\r\n"; i++) await Task.Delay(20);
        Assert.Equal(":50\r\n", c.Call("HLEN", "big0"));
        Assert.Equal(":1\r\n", c.Call("HLEN", "h"));
        clock.Advance(20);
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:h\r\n$8\r\nhexpired\r\n", sub.ReadReply());
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:h\r\n$3\r\ndel\r\n", sub.ReadReply());
        Assert.Equal(":0\r\n", c.Call("EXISTS", "h"));
        Assert.Equal(502, host.Server.Keyspace.Lifetime.ExpiredFields);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ExpiryIsLoggedAsAbsoluteTimesAndExpiredFieldsAsHdel()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock clock, RespTestClient c) = fresh;
        var log = new RecordingWriteLog();
        host.Server.WriteLog = log;
        c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        (string[] Command, string Reply, string[] Logged)[] cases =
        [
            (["HSET", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n", ["db0 HSET h a 1 b 2 c 3"]),
            (["HEXPIRE", "h", "10", "FIELDS", "3", "a", "zz", "b"], Ints(1, -2, 1), [$"db0 HPEXPIREAT h {Start + 10_000} FIELDS 2 a b"]),
            (["HPEXPIRE", "h", "5", "GT", "FIELDS", "1", "a"], Ints(0), []),
            (["HPEXPIRE", "h", "50000", "GT", "FIELDS", "1", "a"], Ints(1), [$"db0 HPEXPIREAT h {Start + 50_000} GT FIELDS 1 a"]),
            (["HEXPIREAT", "h", "1", "FIELDS", "2", "c", "b"], Ints(2, 2), ["db0 HDEL h c b"]),
            (["HPERSIST", "h", "FIELDS", "1", "a"], Ints(1), ["db0 HPERSIST h FIELDS 1 a"]),
            (["HTTL", "h", "FIELDS", "1", "a"], Ints(-1), []),
            (["HSETEX", "h", "PX", "100", "FIELDS", "1", "d", "4"], ":1\r\n", [$"db0 HSETEX h PXAT {Start + 100} FIELDS 1 d 4"]),
            (["HSETEX", "h", "FNX", "FIELDS", "1", "d", "5"], ":0\r\n", []),
            (["HGETEX", "h", "EX", "1", "FIELDS", "2", "a", "zz"], Arr("1", null), [$"db0 HPEXPIREAT h {Start + 1000} FIELDS 1 a"]),
            (["HGETEX", "h", "PERSIST", "FIELDS", "2", "a", "d"], Arr("1", "4"), ["db0 HPERSIST h FIELDS 2 a d"]),
            (["HGETEX", "h", "FIELDS", "1", "a"], Arr("1"), []),
            (["HGETDEL", "h", "FIELDS", "2", "a", "zz"], Arr("1", null), ["db0 HGETDEL h FIELDS 2 a zz"]),
            (["HPEXPIRE", "h", "10", "FIELDS", "1", "d"], Ints(1), [$"db0 HPEXPIREAT h {Start + 10} FIELDS 1 d"]),
        ];
        log.AssertEach(c, cases);
        clock.Advance(10);
        Assert.Equal(":1\r\n", c.Call("HSETNX", "h", "e", "5")); // reclaims d first: logged as HDEL
        Assert.Equal(["db0 HDEL h d"], log.ExpiredDeletions);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task AofRestartAndRewriteKeepFieldTtls()
    {
        using var dir = new TempDir();
        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3_600_000;
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            c.Call("HSET", "h", "a", "1", "b", "2", "c", "3");
            Check(c,
                (Ints(1), ["HPEXPIREAT", "h", at.ToString(), "FIELDS", "1", "a"]),
                (Ints(1), ["HEXPIRE", "h", "7200", "FIELDS", "1", "b"]),
                ("+PONG\r\n", ["PING"]));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(Ints(at, -1), c.Call("HPEXPIRETIME", "h", "FIELDS", "2", "a", "c"));
            Assert.Matches(@"^\*1\r\n:7[12]\d\d\r\n$", c.Call("HTTL", "h", "FIELDS", "1", "b"));
            Assert.Equal("+Background append only file rewriting started\r\n", c.Call("BGREWRITEAOF"));
            for (int i = 0; i < 200 && !c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:0"); i++) await Task.Delay(20);
            await Task.Delay(200);
            string all = string.Concat(Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories).Select(f => Encoding.Latin1.GetString(File.ReadAllBytes(f))));
            Assert.Contains(Record("HPEXPIREAT", "h", at.ToString(), "FIELDS", "1", "a"), all);
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Check(c,
                (Ints(at, -1), ["HPEXPIRETIME", "h", "FIELDS", "2", "a", "c"]),
                (Arr("a", "1", "b", "2", "c", "3"), ["HGETALL", "h"]),
                ("+PONG\r\n", ["PING"]));
        }
    }

    [Fact]
    public async Task HGetExHSetExHGetDel()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock clock, RespTestClient c) = fresh;
        c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        Check(c,
            (":0\r\n", ["HSETEX", "h", "FXX", "FIELDS", "1", "a", "1"]), // FXX on a missing key
            (":0\r\n", ["EXISTS", "h"]),
            (":1\r\n", ["HSETEX", "h", "EX", "10", "FIELDS", "2", "a", "1", "b", "2"]),
            (Ints(10, 10), ["HTTL", "h", "FIELDS", "2", "a", "b"]),
            (":0\r\n", ["HSETEX", "h", "FNX", "FIELDS", "2", "a", "x", "c", "3"]),
            (":1\r\n", ["HSETEX", "h", "FXX", "KEEPTTL", "FIELDS", "1", "a", "x"]),
            (Ints(10_000), ["HPTTL", "h", "FIELDS", "1", "a"]),
            (":1\r\n", ["HSETEX", "h", "FIELDS", "1", "a", "y"]), // no option: the TTL goes, as HSET
            (Ints(-1), ["HTTL", "h", "FIELDS", "1", "a"]),
            (Arr("y", "2", null), ["HGETEX", "h", "PXAT", (Start + 500).ToString(), "FIELDS", "3", "a", "b", "zz"]),
            (Ints(Start + 500, Start + 500), ["HPEXPIRETIME", "h", "FIELDS", "2", "a", "b"]),
            (Arr("y"), ["HGETEX", "h", "PERSIST", "FIELDS", "1", "a"]),
            (Arr("2"), ["HGETEX", "h", "EXAT", "1", "FIELDS", "1", "b"]), // past: returned, then deleted
            (":0\r\n", ["HEXISTS", "h", "b"]),
            (Arr("y", null), ["HGETDEL", "h", "FIELDS", "2", "a", "a"]),
            (":0\r\n", ["EXISTS", "h"]),
            (Arr(null, null), ["HGETDEL", "h", "FIELDS", "2", "a", "b"]));
        c.Call("HSETEX", "h", "PX", "5", "FIELDS", "1", "a", "1");
        clock.Advance(5);
        Assert.Equal(Arr(new string?[] { null }), c.Call("HGETEX", "h", "FIELDS", "1", "a"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task CopyRenameMoveKeepFieldTtls()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock _, RespTestClient c) = fresh;
        c.Call("HSET", "h", "a", "1", "b", "2");
        c.Call("HPEXPIRE", "h", "1000", "FIELDS", "1", "a");
        Check(c,
            (":1\r\n", ["COPY", "h", "h2"]),
            ("+OK\r\n", ["RENAME", "h2", "h3"]),
            (":1\r\n", ["MOVE", "h3", "1"]));
        c.Call("SELECT", "1");
        Assert.Equal(Ints(1000, -1), c.Call("HPTTL", "h3", "FIELDS", "2", "a", "b"));
        c.Call("SELECT", "0");
        long with = long.Parse(c.Call("MEMORY", "USAGE", "h").Trim(':', '\r', '\n'));
        c.Call("HPERSIST", "h", "FIELDS", "1", "a");
        long without = long.Parse(c.Call("MEMORY", "USAGE", "h").Trim(':', '\r', '\n'));
        Assert.True(with > without, $"{with} > {without}");
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task CommandInfoDocsAndGetKeysAnswerTheNewCommands()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        RespTestClient c = fresh.Client;
        string info = c.Call("COMMAND", "INFO", "hexpire", "httl");
        Assert.StartsWith("*2\r\n*10\r\n$7\r\nhexpire\r\n:-6\r\n*3\r\n+write\r\n+denyoom\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@hash\r\n+@fast\r\n", info);
        Assert.Contains("$4\r\nhttl\r\n:-5\r\n*2\r\n+readonly\r\n+fast\r\n", info);
        Assert.Contains("8.0.0", c.Call("COMMAND", "DOCS", "hsetex"));
        Assert.Contains("KEEPTTL", c.Call("COMMAND", "DOCS", "hsetex"));
        Check(c,
            ("*1\r\n$1\r\nh\r\n", ["COMMAND", "GETKEYS", "HEXPIRE", "h", "10", "FIELDS", "1", "f"]),
            ("*1\r\n$1\r\nh\r\n", ["COMMAND", "GETKEYS", "HSETEX", "h", "FIELDS", "1", "f", "v"]));
    }

    /// <summary>Random HSET/HDEL/HEXPIRE/HPERSIST/HGETDEL/HSETEX and clock moves, compared after each step with a dictionary of (value, expiry).</summary>
    [Fact]
    public async Task RandomizedAgainstAModel()
    {
        await using Fresh fresh = await Fresh.StartAsync();
        (RespKvHost host, ManualClock clock, RespTestClient c) = fresh;
        var random = new Random(20);
        var model = new SortedDictionary<string, (string Value, long At)>(StringComparer.Ordinal);
        string[] names = ["f0", "f1", "f2", "f3", "f4", "f5"];
        void Prune()
        {
            foreach (string f in model.Where(p => p.Value.At != 0 && p.Value.At <= clock.NowMs).Select(p => p.Key).ToList()) model.Remove(f);
        }
        for (int step = 0; step < 1500; step++)
        {
            string f = names[random.Next(names.Length)];
            int op = random.Next(7);
            Prune();
            switch (op)
            {
                case 0:
                    {
                        string v = "v" + random.Next(100);
                        Assert.Equal($":{(model.ContainsKey(f) ? 0 : 1)}\r\n", c.Call("HSET", "m", f, v));
                        model[f] = (v, 0);
                        break;
                    }
                case 1:
                    Assert.Equal($":{(model.Remove(f) ? 1 : 0)}\r\n", c.Call("HDEL", "m", f));
                    break;
                case 2:
                    {
                        long ms = random.Next(-5, 40);
                        if (ms < 0)
                        {
                            Assert.Equal("-ERR invalid expire time, must be >= 0\r\n", c.Call("HPEXPIRE", "m", ms.ToString(), "FIELDS", "1", f));
                            break;
                        }
                        long at = clock.NowMs + ms;
                        long code = !model.TryGetValue(f, out var e) ? -2 : at <= clock.NowMs ? 2 : 1;
                        Assert.Equal(Ints(code), c.Call("HPEXPIRE", "m", ms.ToString(), "FIELDS", "1", f));
                        if (code == 2) model.Remove(f);
                        else if (code == 1) model[f] = (e.Value, at);
                        break;
                    }
                case 3:
                    {
                        long code = !model.TryGetValue(f, out var e) ? -2 : e.At == 0 ? -1 : 1;
                        Assert.Equal(Ints(code), c.Call("HPERSIST", "m", "FIELDS", "1", f));
                        if (code == 1) model[f] = (e.Value, 0);
                        break;
                    }
                case 4:
                    {
                        Assert.Equal(Arr(model.TryGetValue(f, out var e) ? e.Value : null), c.Call("HGETDEL", "m", "FIELDS", "1", f));
                        model.Remove(f);
                        break;
                    }
                case 5:
                    {
                        long ms = random.Next(1, 40);
                        string v = "w" + random.Next(100);
                        Assert.Equal(":1\r\n", c.Call("HSETEX", "m", "PX", ms.ToString(), "FIELDS", "1", f, v));
                        model[f] = (v, clock.NowMs + ms);
                        break;
                    }
                default:
                    clock.Advance(random.Next(1, 15));
                    break;
            }
            Prune();
            var expected = new List<string?>();
            foreach (KeyValuePair<string, (string Value, long At)> pair in model)
            {
                expected.Add(pair.Key);
                expected.Add(pair.Value.Value);
            }
            Assert.Equal(Arr([.. expected]), c.Call("HGETALL", "m"));
            Assert.Equal(Ints([.. names.Select(n => model.TryGetValue(n, out var e) ? e.At == 0 ? -1 : e.At : -2)]),
                c.Call("HPEXPIRETIME", "m", "FIELDS", names.Length.ToString(), names[0], names[1], names[2], names[3], names[4], names[5]));
            if (model.Count == 0 && step % 5 == 0)
            {
                c.Call("HDEL", "m", "nothing"); // a write reclaims what expired
                Assert.Equal(":0\r\n", c.Call("EXISTS", "m"));
            }
        }
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
