using System.Buffers;
using System.Diagnostics;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, RENAMENX, RANDOMKEY, COPY: exact reply bytes as
/// redis-server 7.0.15 gives them (each expectation was first checked against the real server), plus
/// the concurrency guarantees (SCAN under concurrent inserts, all-or-nothing DEL).
/// Tests that need a known whole database SELECT their own database number; the others use their own
/// key names in database 0.
/// </summary>
public sealed class KeyspaceCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Pong = "+PONG\r\n";
    private const string EmptyScan = "*2\r\n$1\r\n0\r\n*0\r\n";

    // ---------------------------------------------------------------- command table

    [Theory]
    [InlineData("del", -2, CommandFlags.Write, 1, -1, 1)]
    [InlineData("unlink", -2, CommandFlags.Write | CommandFlags.Fast, 1, -1, 1)]
    [InlineData("exists", -2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, -1, 1)]
    [InlineData("type", 2, CommandFlags.ReadOnly | CommandFlags.Fast, 1, 1, 1)]
    [InlineData("keys", 2, CommandFlags.ReadOnly, 0, 0, 0)]
    [InlineData("scan", -2, CommandFlags.ReadOnly, 0, 0, 0)]
    [InlineData("rename", 3, CommandFlags.Write, 1, 2, 1)]
    [InlineData("renamenx", 3, CommandFlags.Write | CommandFlags.Fast, 1, 2, 1)]
    [InlineData("randomkey", 1, CommandFlags.ReadOnly, 0, 0, 0)]
    [InlineData("copy", -3, CommandFlags.Write | CommandFlags.DenyOom, 1, 2, 1)]
    public void TableRowsMatchRedisCommandInfo(string name, int arity, CommandFlags flags, int first, int last, int step)
    {
        // Expected values are redis-cli COMMAND INFO <name> of redis-server 7.0.15.
        CommandInfo? info = CommandFamilies.Table.Lookup(name);
        Assert.NotNull(info);
        Assert.Equal((arity, flags, first, last, step, "generic"), (info.Arity, info.RedisFlags, info.FirstKey, info.LastKey, info.Step, info.Group));
    }

    [Fact]
    public void WrongArityErrors()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'del' command\r\n", c.Call("DEL"));
        Assert.Equal("-ERR wrong number of arguments for 'unlink' command\r\n", c.Call("UNLINK"));
        Assert.Equal("-ERR wrong number of arguments for 'exists' command\r\n", c.Call("EXISTS"));
        Assert.Equal("-ERR wrong number of arguments for 'type' command\r\n", c.Call("TYPE"));
        Assert.Equal("-ERR wrong number of arguments for 'type' command\r\n", c.Call("TYPE", "a", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'keys' command\r\n", c.Call("KEYS"));
        Assert.Equal("-ERR wrong number of arguments for 'keys' command\r\n", c.Call("KEYS", "a", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'scan' command\r\n", c.Call("SCAN"));
        Assert.Equal("-ERR wrong number of arguments for 'rename' command\r\n", c.Call("RENAME", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'renamenx' command\r\n", c.Call("RENAMENX", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'randomkey' command\r\n", c.Call("RANDOMKEY", "x"));
        Assert.Equal("-ERR wrong number of arguments for 'copy' command\r\n", c.Call("COPY", "a"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ---------------------------------------------------------------- DEL / UNLINK / EXISTS / TYPE

    [Fact]
    public void DelCountsEachDeletedKeyOnce()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "del:a", "1"));
        Assert.Equal("+OK\r\n", c.Call("SET", "del:b", "2"));
        Assert.Equal(":2\r\n", c.Call("DEL", "del:a", "del:b", "del:a", "del:missing"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "del:a", "del:b"));
        Assert.Equal("$-1\r\n", c.Call("GET", "del:a"));
        Assert.Equal(":0\r\n", c.Call("DEL", "del:a"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void UnlinkDeletesLikeDel()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "unlink:a", "1"));
        Assert.Equal(":1\r\n", c.Call("UNLINK", "unlink:a", "unlink:a"));
        Assert.Equal(":0\r\n", c.Call("UNLINK", "unlink:a"));
        Assert.Equal("+none\r\n", c.Call("TYPE", "unlink:a"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ExistsCountsRepeatedKeys()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "exists:a", "1"));
        Assert.Equal(":2\r\n", c.Call("EXISTS", "exists:a", "exists:a", "exists:missing"));
        Assert.Equal(":1\r\n", c.Call("EXISTS", "exists:a"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "exists:missing"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void TypeNamesStringOrNone()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "type:s", "v"));
        Assert.Equal("+string\r\n", c.Call("TYPE", "type:s"));
        Assert.Equal("+none\r\n", c.Call("TYPE", "type:missing"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void BinaryKeysWorkThroughEveryCommand()
    {
        using RespTestClient c = server.Connect();
        const string key = "bin:k\0\xff", renamed = "bin:n\0\xfe", copy = "bin:c\0";
        Assert.Equal("+OK\r\n", c.Call("SET", key, "bin"));
        Assert.Equal(":1\r\n", c.Call("EXISTS", key));
        Assert.Equal("+string\r\n", c.Call("TYPE", key));
        Assert.Equal("+OK\r\n", c.Call("RENAME", key, renamed));
        Assert.Equal("$3\r\nbin\r\n", c.Call("GET", renamed));
        Assert.Equal("*1\r\n$7\r\nbin:n\0\xfe\r\n", c.Call("KEYS", "bin:n*"));
        Assert.Equal(":1\r\n", c.Call("COPY", renamed, copy));
        Assert.Equal(":0\r\n", c.Call("RENAMENX", renamed, copy));
        Assert.Equal(":2\r\n", c.Call("DEL", renamed, copy));
        Assert.Equal(":0\r\n", c.Call("EXISTS", key, renamed, copy));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void LookupsCountKeyspaceHitsAndMissesAsRedisDoes()
    {
        // Checked with INFO stats on redis-server 7.0.15: EXISTS, TYPE, COPY's source and SCAN TYPE's
        // per-key lookup count; DEL, UNLINK, RENAME, RENAMENX, KEYS, plain SCAN and RANDOMKEY do not.
        var session = new ClientSession(new RespServer(new ServerOptions()), new ArrayBufferWriter<byte>());
        Run(session, "SET", "a1", "v");
        Run(session, "SET", "a2", "v");
        Run(session, "SET", "b1", "v");
        AssertCounts(session, 2, 1, "EXISTS", "a1", "zz", "a1");
        AssertCounts(session, 1, 0, "TYPE", "a1");
        AssertCounts(session, 0, 1, "TYPE", "zz");
        AssertCounts(session, 1, 0, "COPY", "a1", "c1");
        AssertCounts(session, 0, 1, "COPY", "zz", "c2");
        AssertCounts(session, 2, 0, "SCAN", "0", "MATCH", "a*", "TYPE", "foo", "COUNT", "1000");
        AssertCounts(session, 0, 0, "SCAN", "0", "MATCH", "a*");
        AssertCounts(session, 0, 0, "KEYS", "*");
        AssertCounts(session, 0, 0, "RANDOMKEY");
        AssertCounts(session, 0, 0, "RENAME", "c1", "d1");
        AssertCounts(session, 0, 0, "RENAMENX", "d1", "a1");
        AssertCounts(session, 0, 0, "DEL", "d1", "zz");
        AssertCounts(session, 0, 0, "UNLINK", "zz");

        static void AssertCounts(ClientSession session, long hits, long misses, params string[] command)
        {
            long h = session.KeyspaceHits, m = session.KeyspaceMisses;
            Run(session, command);
            Assert.Equal((hits, misses), (session.KeyspaceHits - h, session.KeyspaceMisses - m));
        }

        static void Run(ClientSession session, params string[] command) =>
            session.ProcessReceived(new ReadOnlySequence<byte>(RespTestClient.Encode(command)));
    }

    // ---------------------------------------------------------------- KEYS

    [Fact]
    public void KeysMatchesGlobPatternsInItsDatabase()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
        Assert.Equal("*0\r\n", c.Call("KEYS", "*"));
        foreach (string k in new[] { "hello", "hallo", "hxllo", "h*llo" })
            Assert.Equal("+OK\r\n", c.Call("SET", k, "1"));
        AssertKeys(c.Call("KEYS", "*"), "hello", "hallo", "hxllo", "h*llo");
        AssertKeys(c.Call("KEYS", "h?llo"), "hello", "hallo", "hxllo", "h*llo");
        AssertKeys(c.Call("KEYS", "h[ae]llo"), "hello", "hallo");
        AssertKeys(c.Call("KEYS", "h[^e]llo"), "hallo", "hxllo", "h*llo");
        Assert.Equal("*1\r\n$5\r\nh*llo\r\n", c.Call("KEYS", "h\\*llo"));
        Assert.Equal("*1\r\n$5\r\nhello\r\n", c.Call("KEYS", "hello"));
        Assert.Equal("*0\r\n", c.Call("KEYS", "nomatch*"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
        Assert.Equal("*0\r\n", c.Call("KEYS", "h[ae]llo"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ---------------------------------------------------------------- SCAN

    [Fact]
    public void ScanOfEmptyDatabaseEndsAtOnce()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "2"));
        Assert.Equal(EmptyScan, c.Call("SCAN", "0"));
        Assert.Equal(EmptyScan, c.Call("SCAN", "0", "COUNT", "1", "MATCH", "*", "TYPE", "string"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ScanVisitsEveryKeyWithPositionCursors()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "3"));
        var expected = new HashSet<string>();
        for (int i = 0; i < 500; i++) expected.Add("scan:" + i);
        expected.Add("scan:bin\0\xff");
        SetAll(c, expected);

        // COUNT 1: many small steps; every cursor fits a signed 64-bit integer (StackExchange.Redis parses it as long).
        Assert.Equal(expected.OrderBy(k => k, StringComparer.Ordinal), ScanAll(c, "COUNT", "1").Distinct().OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(expected.OrderBy(k => k, StringComparer.Ordinal), ScanAll(c).Distinct().OrderBy(k => k, StringComparer.Ordinal));

        // Default COUNT 10: the first call stops early with a non-zero cursor and at least 10 keys.
        (string cursor, List<string> keys) = ParseScan(c.Call("SCAN", "0"));
        Assert.NotEqual("0", cursor);
        Assert.InRange(keys.Count, 10, 499);

        // A large COUNT finishes in one call.
        (cursor, keys) = ParseScan(c.Call("SCAN", "0", "COUNT", "100000"));
        Assert.Equal("0", cursor);
        Assert.Equal(expected.Count, keys.Count);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ScanFiltersByMatchAndType()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "4"));
        SetAll(c, ["m:1", "m:10", "m:2", "other"]);
        Assert.Equal(["m:1", "m:10"], ScanAll(c, "MATCH", "m:1*").Order(StringComparer.Ordinal));
        Assert.Equal(["m:1", "m:10", "m:2", "other"], ScanAll(c, "TYPE", "string").Order(StringComparer.Ordinal));
        Assert.Equal(["m:1", "m:10", "m:2", "other"], ScanAll(c, "TYPE", "STRING").Order(StringComparer.Ordinal));
        Assert.Equal(["m:2"], ScanAll(c, "MATCH", "m:2", "TYPE", "string"));
        Assert.Empty(ScanAll(c, "TYPE", "hash"));
        Assert.Empty(ScanAll(c, "TYPE", "foo")); // Redis 7.0: an unknown type name matches nothing, no error
        Assert.Empty(ScanAll(c, "MATCH", "nomatch*"));
        // The last of a repeated option wins; MATCH * matches everything.
        Assert.Equal(["other"], ScanAll(c, "MATCH", "m*", "MATCH", "o*").Order(StringComparer.Ordinal));
        Assert.Equal(4, ScanAll(c, "MATCH", "*", "COUNT", "5", "COUNT", "1").Count);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ScanArgumentErrors()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "x"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", " 1"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "1 "));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "-"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "+"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "0x10"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "18446744073709551616"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "-18446744073709551616"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "COUNT", "0"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "COUNT", "-1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("SCAN", "0", "COUNT", "x"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("SCAN", "0", "COUNT", "01"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "COUNT"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "MATCH"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "TYPE"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "FOO"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "FOO", "bar"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "MATCH", "a", "MATCH"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SCAN", "0", "COUNT", "1", "COUNT", "0"));
        // The cursor is checked before the options.
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SCAN", "x", "FOO"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ScanCursorParsesLikeStrtoul()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "5"));
        Assert.Equal("+OK\r\n", c.Call("SET", "only", "v"));
        const string all = "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n";
        // "", "+0", "-0" and "0\0junk" (a C string ends at NUL) all mean cursor 0, as with Redis's strtoul.
        Assert.Equal(all, c.Call("SCAN", ""));
        Assert.Equal(all, c.Call("SCAN", "+0"));
        Assert.Equal(all, c.Call("SCAN", "-0"));
        Assert.Equal(all, c.Call("SCAN", "0\0junk"));
        // Negative cursors wrap modulo 2^64 and are valid; the reply is a well-formed step.
        Assert.StartsWith("*2\r\n$", c.Call("SCAN", "-1"));
        Assert.StartsWith("*2\r\n$", c.Call("SCAN", "18446744073709551615"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ScanReturnsEveryPreexistingKeyWhileOthersInsertAndDelete()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port);
        var preexisting = new HashSet<string>();
        for (int i = 0; i < 20_000; i++) preexisting.Add("pre:" + i);
        SetAll(c, preexisting);

        using var scanDone = new CancellationTokenSource();
        int batchesDuringScan = 0;
        var started = new TaskCompletionSource();
        Task writer = Task.Factory.StartNew(() =>
        {
            using RespTestClient w = new(host.Port);
            for (int batch = 0; batch < 2_000 && !scanDone.IsCancellationRequested; batch++)
            {
                var keys = new List<string>(500);
                for (int i = 0; i < 500; i++) keys.Add($"new:{batch}:{i}");
                SetAll(w, keys);
                if (batch % 2 == 1) Assert.Equal($":{keys.Count}\r\n", w.Call(["DEL", .. keys]));
                if (batch == 0) started.SetResult();
                else Interlocked.Increment(ref batchesDuringScan);
            }
            started.TrySetResult();
        }, TaskCreationOptions.LongRunning); // a dedicated thread: never starved by blocking test loops
        await started.Task;
        List<string> seen = ScanAll(c);
        int during = Volatile.Read(ref batchesDuringScan);
        scanDone.Cancel();
        await writer;

        var returned = new HashSet<string>(seen);
        List<string> missing = preexisting.Where(k => !returned.Contains(k)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} pre-existing keys were never returned, e.g. {missing.FirstOrDefault()}");
        Assert.True(during > 0, "the writer made no progress during the scan, so the test proved nothing");
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ---------------------------------------------------------------- DEL atomicity

    [Fact]
    public async Task MultiKeyDelIsAllOrNothingToConcurrentExists()
    {
        // 64 keys span many shards, so a DEL that removed them shard by shard would leave a window in which
        // EXISTS counts some of them; several pipelining readers keep EXISTS running inside that window.
        const int keyCount = 64, readers = 4, pipeline = 32;
        string[] keys = Enumerable.Range(0, keyCount).Select(i => "delatomic:" + i).ToArray();
        string[] mset = ["MSET", .. keys.SelectMany(k => new[] { k, "v" })];
        string[] del = ["DEL", .. keys];
        byte[] exists = RespTestClient.Encode(["EXISTS", .. keys]);
        byte[] existsBatch = Enumerable.Repeat(exists, pipeline).SelectMany(b => b).ToArray();
        using var stop = new CancellationTokenSource();
        long writerCycles = 0;
        // Dedicated threads (LongRunning): blocking socket loops on thread-pool threads can starve each other
        // on a 2-core machine, and a writer that starts late would leave nothing to interleave with.
        Task writer = Task.Factory.StartNew(() =>
        {
            using RespTestClient w = server.Connect();
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal("+OK\r\n", w.Call(mset));
                Assert.Equal($":{keyCount}\r\n", w.Call(del));
                Interlocked.Increment(ref writerCycles);
            }
        }, TaskCreationOptions.LongRunning);
        long none = 0, all = 0;
        Task[] readerTasks = Enumerable.Range(0, readers).Select(_ => Task.Factory.StartNew(() =>
        {
            using RespTestClient c = server.Connect();
            var clock = Stopwatch.StartNew();
            // Bounded: until the writer has done enough cycles to interleave with (and 0.5 s passed), or 20 s.
            while (clock.ElapsedMilliseconds < 20_000 && (Interlocked.Read(ref writerCycles) < 200 || clock.ElapsedMilliseconds < 500))
            {
                c.SendRaw(existsBatch);
                for (int j = 0; j < pipeline; j++)
                {
                    string reply = c.ReadReply();
                    if (reply == ":0\r\n") Interlocked.Increment(ref none);
                    else if (reply == $":{keyCount}\r\n") Interlocked.Increment(ref all);
                    else Assert.Fail($"EXISTS saw a partial DEL or MSET: {reply}");
                }
            }
            Assert.Equal(Pong, c.Call("PING"));
        }, TaskCreationOptions.LongRunning)).ToArray();
        try
        {
            await Task.WhenAll(readerTasks);
        }
        finally
        {
            stop.Cancel();
            await writer;
        }
        Assert.True(none > 0 && all > 0, $"no interleaving observed (none={none}, all={all})");
    }

    // ---------------------------------------------------------------- RENAME / RENAMENX

    [Fact]
    public void RenameMovesValueAndOverwrites()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR no such key\r\n", c.Call("RENAME", "rename:missing", "rename:x"));
        Assert.Equal("-ERR no such key\r\n", c.Call("RENAME", "rename:missing", "rename:missing"));
        Assert.Equal("+OK\r\n", c.Call("SET", "rename:a", "1"));
        Assert.Equal("+OK\r\n", c.Call("RENAME", "rename:a", "rename:a"));
        Assert.Equal("$1\r\n1\r\n", c.Call("GET", "rename:a"));
        Assert.Equal("+OK\r\n", c.Call("SET", "rename:b", "2"));
        Assert.Equal("+OK\r\n", c.Call("RENAME", "rename:a", "rename:b"));
        Assert.Equal("$1\r\n1\r\n", c.Call("GET", "rename:b"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "rename:a"));
        Assert.Equal("+OK\r\n", c.Call("RENAME", "rename:b", "rename:c"));
        Assert.Equal("$1\r\n1\r\n", c.Call("GET", "rename:c"));
        Assert.Equal(":1\r\n", c.Call("EXISTS", "rename:a", "rename:b", "rename:c"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void RenameNxOnlyWhenNewKeyIsMissing()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR no such key\r\n", c.Call("RENAMENX", "renamenx:missing", "renamenx:x"));
        Assert.Equal("-ERR no such key\r\n", c.Call("RENAMENX", "renamenx:missing", "renamenx:missing"));
        Assert.Equal("+OK\r\n", c.Call("SET", "renamenx:a", "1"));
        Assert.Equal(":0\r\n", c.Call("RENAMENX", "renamenx:a", "renamenx:a"));
        Assert.Equal("+OK\r\n", c.Call("SET", "renamenx:b", "2"));
        Assert.Equal(":0\r\n", c.Call("RENAMENX", "renamenx:a", "renamenx:b"));
        Assert.Equal("$1\r\n1\r\n", c.Call("GET", "renamenx:a"));
        Assert.Equal("$1\r\n2\r\n", c.Call("GET", "renamenx:b"));
        Assert.Equal(":1\r\n", c.Call("RENAMENX", "renamenx:a", "renamenx:c"));
        Assert.Equal("$1\r\n1\r\n", c.Call("GET", "renamenx:c"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "renamenx:a"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void RenameAndCopyCarryTheSourceExpiry()
    {
        // No expiry command exists yet, so the expiry is set through the storage API.
        Database db = server.Host.Server.Keyspace[0];
        long expireAt = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
        byte[] source = "expiry:src"u8.ToArray(), target = "expiry:dst"u8.ToArray();
        using (db.LockKey(source)) db.Set(source, "v"u8.ToArray(), expireAt);
        using (db.LockKey(target)) db.Set(target, "old"u8.ToArray(), expireAt + 1000);
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("RENAME", "expiry:src", "expiry:dst"));
        Assert.Equal(expireAt, db.Find(target)!.ExpireAtMs);
        Assert.Equal(":1\r\n", c.Call("RENAMENX", "expiry:dst", "expiry:nx"));
        Assert.Equal(expireAt, db.Find("expiry:nx"u8)!.ExpireAtMs);
        Assert.Equal(":1\r\n", c.Call("COPY", "expiry:nx", "expiry:copy", "DB", "6"));
        Assert.Equal(expireAt, server.Host.Server.Keyspace[6].Find("expiry:copy"u8)!.ExpireAtMs);
        // Overwriting a key without expiry drops the destination's own expiry in favour of the source's (none).
        Assert.Equal("+OK\r\n", c.Call("SET", "expiry:plain", "p"));
        Assert.Equal("+OK\r\n", c.Call("RENAME", "expiry:plain", "expiry:nx"));
        Assert.Equal(0, db.Find("expiry:nx"u8)!.ExpireAtMs);
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ---------------------------------------------------------------- RANDOMKEY

    [Fact]
    public void RandomKeyOfEmptyDatabaseIsNil()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "7"));
        Assert.Equal("$-1\r\n", c.Call("RANDOMKEY"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void RandomKeyReturnsEachExistingKey()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "8"));
        SetAll(c, ["r1", "r2", "r3"]);
        var seen = new HashSet<string>();
        for (int i = 0; i < 300; i++)
        {
            string reply = c.Call("RANDOMKEY");
            Assert.Contains(reply, new[] { "$2\r\nr1\r\n", "$2\r\nr2\r\n", "$2\r\nr3\r\n" });
            seen.Add(reply);
        }
        Assert.Equal(3, seen.Count);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void RandomKeyIsQuickOnASparseTable()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "9"));
        var keys = new List<string>();
        for (int i = 0; i < 50_000; i++) keys.Add("sparse:" + i);
        SetAll(c, keys);
        Assert.Equal($":{keys.Count - 1}\r\n", c.Call(["DEL", .. keys.Skip(1)]));
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 200; i++) Assert.Equal("$8\r\nsparse:0\r\n", c.Call("RANDOMKEY"));
        Assert.InRange(clock.ElapsedMilliseconds, 0, 5_000);
        Assert.Equal(":1\r\n", c.Call("DEL", "sparse:0"));
        Assert.Equal("$-1\r\n", c.Call("RANDOMKEY"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ---------------------------------------------------------------- COPY

    [Fact]
    public void CopyWithinDatabase()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":0\r\n", c.Call("COPY", "copy:missing", "copy:d"));
        Assert.Equal("+OK\r\n", c.Call("SET", "copy:s", "v1"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copy:s", "copy:d"));
        Assert.Equal("$2\r\nv1\r\n", c.Call("GET", "copy:d"));
        Assert.Equal("+OK\r\n", c.Call("SET", "copy:s", "v2"));
        Assert.Equal(":0\r\n", c.Call("COPY", "copy:s", "copy:d"));
        Assert.Equal("$2\r\nv1\r\n", c.Call("GET", "copy:d"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copy:s", "copy:d", "replace"));
        Assert.Equal("$2\r\nv2\r\n", c.Call("GET", "copy:d"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copy:s", "copy:d", "REPLACE", "REPLACE"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copy:s", "copy:d", "DB", "0", "REPLACE"));
        Assert.Equal(":0\r\n", c.Call("COPY", "copy:s", "copy:d", "DB", "0"));
        Assert.Equal("$2\r\nv2\r\n", c.Call("GET", "copy:s"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CopyToAnotherDatabase()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "10"));
        Assert.Equal("+OK\r\n", c.Call("SET", "copydb:s", "v"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copydb:s", "copydb:s", "DB", "11"));
        Assert.Equal(":0\r\n", c.Call("COPY", "copydb:s", "copydb:s", "DB", "11"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copydb:s", "copydb:s", "DB", "11", "REPLACE"));
        // Copying from a higher database to a lower one (the locks are taken in database order).
        Assert.Equal("+OK\r\n", c.Call("SELECT", "11"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "copydb:s"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copydb:s", "copydb:back", "DB", "10"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "10"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "copydb:back"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CopyErrors()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "copyerr:s", "v"));
        Assert.Equal("-ERR source and destination objects are the same\r\n", c.Call("COPY", "copyerr:s", "copyerr:s"));
        Assert.Equal("-ERR source and destination objects are the same\r\n", c.Call("COPY", "copyerr:missing", "copyerr:missing"));
        Assert.Equal("-ERR source and destination objects are the same\r\n", c.Call("COPY", "copyerr:s", "copyerr:s", "DB", "0"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "16"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "-1"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("COPY", "copyerr:missing", "copyerr:d", "DB", "99"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "x"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "x", "FOO"));
        Assert.Equal("-ERR value is out of range, value must between -2147483648 and 2147483647\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "2147483648"));
        Assert.Equal("-ERR value is out of range, value must between -2147483648 and 2147483647\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "-2147483649"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "FOO"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "FOO", "DB", "x"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COPY", "copyerr:s", "copyerr:d", "DB", "1", "FOO"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "copyerr:d"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>SETs every key to "v", pipelined in batches; asserts each reply.</summary>
    private static void SetAll(RespTestClient c, IEnumerable<string> keys)
    {
        var batch = new List<string>(1000);
        foreach (string key in keys)
        {
            batch.Add(key);
            if (batch.Count == 1000) Flush();
        }
        Flush();

        void Flush()
        {
            if (batch.Count == 0) return;
            var frames = new MemoryStream();
            foreach (string key in batch) frames.Write(RespTestClient.Encode("SET", key, "v"));
            c.SendRaw(frames.ToArray());
            foreach (string _ in batch) Assert.Equal("+OK\r\n", c.ReadReply());
            batch.Clear();
        }
    }

    /// <summary>A full SCAN iteration with <paramref name="options"/>; every cursor must fit a signed 64-bit integer.</summary>
    private static List<string> ScanAll(RespTestClient c, params string[] options)
    {
        var all = new List<string>();
        string cursor = "0";
        for (int calls = 0; ; calls++)
        {
            Assert.True(calls < 1_000_000, "SCAN did not finish");
            (cursor, List<string> keys) = ParseScan(c.Call(["SCAN", cursor, .. options]));
            Assert.True(long.TryParse(cursor, out long value) && value >= 0, $"cursor {cursor} is not a non-negative 64-bit integer");
            all.AddRange(keys);
            if (cursor == "0") return all;
        }
    }

    /// <summary>Splits a SCAN reply (<c>*2</c> of a bulk cursor and an array of bulk keys), checking its shape.</summary>
    private static (string Cursor, List<string> Keys) ParseScan(string reply)
    {
        int pos = 0;
        Assert.Equal("*2", ReadLine(reply, ref pos));
        string cursor = ReadBulk(reply, ref pos);
        List<string> keys = ReadBulkArray(reply, ref pos);
        Assert.Equal(reply.Length, pos);
        return (cursor, keys);
    }

    /// <summary>Asserts <paramref name="reply"/> is an array of exactly <paramref name="expected"/> bulk strings, in any order.</summary>
    private static void AssertKeys(string reply, params string[] expected)
    {
        int pos = 0;
        List<string> keys = ReadBulkArray(reply, ref pos);
        Assert.Equal(reply.Length, pos);
        Assert.Equal(expected.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    private static List<string> ReadBulkArray(string reply, ref int pos)
    {
        string header = ReadLine(reply, ref pos);
        Assert.StartsWith("*", header);
        int n = int.Parse(header.AsSpan(1));
        var items = new List<string>(n);
        for (int i = 0; i < n; i++) items.Add(ReadBulk(reply, ref pos));
        return items;
    }

    private static string ReadBulk(string reply, ref int pos)
    {
        string header = ReadLine(reply, ref pos);
        Assert.StartsWith("$", header);
        int n = int.Parse(header.AsSpan(1));
        string value = reply.Substring(pos, n);
        pos += n;
        Assert.Equal("\r\n", reply.Substring(pos, 2));
        pos += 2;
        return value;
    }

    private static string ReadLine(string reply, ref int pos)
    {
        int end = reply.IndexOf("\r\n", pos, StringComparison.Ordinal);
        Assert.True(end >= 0, "truncated reply");
        string line = reply[pos..end];
        pos = end + 2;
        return line;
    }
}
