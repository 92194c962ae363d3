using System.Text;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Every hash command (https://redis.io/commands/?group=hash) through a real socket, with the exact reply
/// bytes redis-server 7.0.15 gives for the same sequence (each sequence was run against it first; where
/// Redis's field order is unspecified, RespKv's sorted order is asserted and the set of fields matched
/// Redis's). Plus: a randomized model test, HSCAN under concurrent mutation, prefix seeks, and the generic
/// keyspace commands on hashes. Each test uses its own key prefix and ends with PING.
/// </summary>
public sealed class HashCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string WrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    private const string NotInteger = "-ERR value is not an integer or out of range\r\n";
    private const string NotFloat = "-ERR value is not a valid float\r\n";
    private const string Syntax = "-ERR syntax error\r\n";
    private const string Ok = "+OK\r\n";
    private const string Null = "$-1\r\n";
    private const string Empty = "*0\r\n";
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static string Bulk(string s) => $"${Latin1.GetByteCount(s)}\r\n{s}\r\n";

    private static string Int(long n) => $":{n}\r\n";

    private static string Arr(params string[] items) => $"*{items.Length}\r\n" + string.Concat(items.Select(Bulk));

    private static string Arity(string command) => $"-ERR wrong number of arguments for '{command}' command\r\n";

    private static string ScanReply(string cursor, params string[] items) => "*2\r\n" + Bulk(cursor) + Arr(items);

    private static void AssertPing(RespTestClient c) => Assert.Equal("+PONG\r\n", c.Call("PING"));

    /// <summary>Sends HSET key with many pairs per command (pipelined).</summary>
    private static void Load(RespTestClient c, string key, IEnumerable<string> fields, string value, int perCommand = 1000)
    {
        int sent = 0;
        foreach (string[] chunk in fields.Chunk(perCommand))
        {
            var args = new List<string> { "HSET", key };
            foreach (string f in chunk)
            {
                args.Add(f);
                args.Add(value);
            }
            c.SendRaw(RespTestClient.Encode([.. args]));
            sent++;
        }
        for (int i = 0; i < sent; i++) Assert.StartsWith(":", c.ReadReply());
    }

    [Fact]
    public void HSetHGetHMSetHSetNx()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:set";
        Assert.Equal(Arity("hset"), c.Call("HSET", k, "a", "1", "b"));
        Assert.Equal(Arity("hset"), c.Call("HSET", k, "a"));
        Assert.Equal(Int(2), c.Call("HSET", k, "a", "1", "b", "2"));
        Assert.Equal(Int(1), c.Call("HSET", k, "a", "3", "c", "x"));
        Assert.Equal(Int(0), c.Call("HSET", k, "c", "y", "c", "z"));
        Assert.Equal(Bulk("z"), c.Call("HGET", k, "c"));
        Assert.Equal(Arity("hmset"), c.Call("HMSET", k, "a"));
        Assert.Equal(Arity("hmset"), c.Call("HMSET", k, "a", "1", "b"));
        Assert.Equal(Ok, c.Call("HMSET", k, "d", "4"));
        Assert.Equal(Int(0), c.Call("HSETNX", k, "a", "5"));
        Assert.Equal(Int(1), c.Call("HSETNX", k, "z", "5"));
        Assert.Equal(Int(1), c.Call("HSETNX", "h:set:new", "f", "v"));
        Assert.Equal(Arity("hsetnx"), c.Call("HSETNX", k, "a"));
        Assert.Equal(Bulk("3"), c.Call("HGET", k, "a"));
        Assert.Equal(Null, c.Call("HGET", k, "nosuch"));
        Assert.Equal(Null, c.Call("HGET", "h:set:nosuch", "a"));
        Assert.Equal(Arity("hget"), c.Call("HGET", k));
        Assert.Equal(Int(1), c.Call("HSET", k, "", ""));
        Assert.Equal(Bulk(""), c.Call("HGET", k, ""));
        Assert.Equal(Int(1), c.Call("HSET", k, "bin\0\r\n\u00ff", "\0"));
        Assert.Equal(Bulk("\0"), c.Call("HGET", k, "bin\0\r\n\u00ff"));
        AssertPing(c);
    }

    [Fact]
    public void HMGetHGetAllHKeysHValsInFieldOrder()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:all";
        Assert.Equal(Int(5), c.Call("HSET", k, "b", "2", "a", "1", "\u00ff", "hi", "B", "up", "ab", "x"));
        Assert.Equal($"*3\r\n{Bulk("1")}{Null}{Bulk("2")}", c.Call("HMGET", k, "a", "zz", "b"));
        Assert.Equal($"*2\r\n{Null}{Null}", c.Call("HMGET", "h:all:none", "a", "b"));
        Assert.Equal(Arity("hmget"), c.Call("HMGET", k));
        // Unsigned byte order: 'B' (0x42) < 'a' < "ab" < 'b' < 0xFF.
        Assert.Equal(Arr("B", "up", "a", "1", "ab", "x", "b", "2", "\u00ff", "hi"), c.Call("HGETALL", k));
        Assert.Equal(Arr("B", "a", "ab", "b", "\u00ff"), c.Call("HKEYS", k));
        Assert.Equal(Arr("up", "1", "x", "2", "hi"), c.Call("HVALS", k));
        Assert.Equal(Empty, c.Call("HGETALL", "h:all:none"));
        Assert.Equal(Empty, c.Call("HKEYS", "h:all:none"));
        Assert.Equal(Empty, c.Call("HVALS", "h:all:none"));
        Assert.Equal(Arity("hgetall"), c.Call("HGETALL", k, "x"));
        AssertPing(c);
    }

    [Fact]
    public void Resp3Shapes()
    {
        using RespTestClient c = server.Connect();
        c.Call("HELLO", "3");
        const string k = "h:r3";
        Assert.Equal(Int(1), c.Call("HSET", k, "f", "v"));
        Assert.Equal($"%1\r\n{Bulk("f")}{Bulk("v")}", c.Call("HGETALL", k));
        Assert.Equal("%0\r\n", c.Call("HGETALL", "h:r3:none"));
        Assert.Equal($"*1\r\n*2\r\n{Bulk("f")}{Bulk("v")}", c.Call("HRANDFIELD", k, "1", "WITHVALUES"));
        Assert.Equal($"*1\r\n*2\r\n{Bulk("f")}{Bulk("v")}", c.Call("HRANDFIELD", k, "5", "WITHVALUES"));
        Assert.Equal($"*2\r\n*2\r\n{Bulk("f")}{Bulk("v")}*2\r\n{Bulk("f")}{Bulk("v")}", c.Call("HRANDFIELD", k, "-2", "WITHVALUES"));
        Assert.Equal($"*2\r\n{Bulk("f")}{Bulk("f")}", c.Call("HRANDFIELD", k, "-2"));
        Assert.Equal("_\r\n", c.Call("HRANDFIELD", "h:r3:none"));
        Assert.Equal(Empty, c.Call("HRANDFIELD", "h:r3:none", "1", "WITHVALUES"));
        Assert.Equal($"*2\r\n{Bulk("v")}_\r\n", c.Call("HMGET", k, "f", "x"));
        Assert.Equal("_\r\n", c.Call("HGET", k, "x"));
        Assert.Equal(ScanReply("0", "f", "v"), c.Call("HSCAN", k, "0"));
        AssertPing(c);
    }

    [Fact]
    public void HDelHLenHExistsHStrLen()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:del";
        Assert.Equal(Int(3), c.Call("HSET", k, "a", "1", "b", "22", "c", "333"));
        Assert.Equal(Int(3), c.Call("HLEN", k));
        Assert.Equal(Int(0), c.Call("HLEN", "h:del:none"));
        Assert.Equal(Int(1), c.Call("HEXISTS", k, "a"));
        Assert.Equal(Int(0), c.Call("HEXISTS", k, "q"));
        Assert.Equal(Int(0), c.Call("HEXISTS", "h:del:none", "a"));
        Assert.Equal(Int(3), c.Call("HSTRLEN", k, "c"));
        Assert.Equal(Int(0), c.Call("HSTRLEN", k, "nosuch"));
        Assert.Equal(Int(0), c.Call("HSTRLEN", "h:del:none", "a"));
        Assert.Equal(Arity("hstrlen"), c.Call("HSTRLEN", k));
        Assert.Equal(Int(0), c.Call("HDEL", k, "nosuch"));
        Assert.Equal(Int(0), c.Call("HDEL", "h:del:none", "a"));
        Assert.Equal(Int(2), c.Call("HDEL", k, "a", "b", "a", "zz"));
        Assert.Equal(Int(1), c.Call("HLEN", k));
        Assert.Equal(Int(1), c.Call("EXISTS", k));
        Assert.Equal(Int(1), c.Call("HDEL", k, "c", "c")); // the last field goes: so does the key
        Assert.Equal(Int(0), c.Call("EXISTS", k));
        Assert.Equal("+none\r\n", c.Call("TYPE", k));
        Assert.Equal(Arity("hdel"), c.Call("HDEL", k));
        AssertPing(c);
    }

    [Fact]
    public void HIncrBy()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:incr";
        Assert.Equal(Int(5), c.Call("HINCRBY", k, "n", "5"));
        Assert.Equal(Int(2), c.Call("HINCRBY", k, "n", "-3"));
        Assert.Equal(NotInteger, c.Call("HINCRBY", k, "n", "x"));
        Assert.Equal(NotInteger, c.Call("HINCRBY", k, "n", " 1"));
        Assert.Equal(Int(1), c.Call("HSET", k, "s", "abc"));
        Assert.Equal("-ERR hash value is not an integer\r\n", c.Call("HINCRBY", k, "s", "1"));
        Assert.Equal(Int(1), c.Call("HSET", k, "max", "9223372036854775807"));
        Assert.Equal(Int(9223372036854775807), c.Call("HINCRBY", k, "max", "0"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", c.Call("HINCRBY", k, "max", "1"));
        Assert.Equal(Int(long.MinValue), c.Call("HINCRBY", k, "min", "-9223372036854775808"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", c.Call("HINCRBY", k, "min", "-1"));
        Assert.Equal(Bulk("-9223372036854775808"), c.Call("HGET", k, "min"));
        Assert.Equal(Arity("hincrby"), c.Call("HINCRBY", k, "n"));
        AssertPing(c);
    }

    [Fact]
    public void HIncrByFloat()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:incrf";
        Assert.Equal(Int(1), c.Call("HSET", k, "f", "10"));
        Assert.Equal(Bulk("10.1"), c.Call("HINCRBYFLOAT", k, "f", "0.1"));
        Assert.Equal(Bulk("-0.5"), c.Call("HINCRBYFLOAT", k, "g", "-5e-1"));
        Assert.Equal(Bulk("3000"), c.Call("HINCRBYFLOAT", k, "r", "3.0e3"));
        Assert.Equal(Bulk("3016"), c.Call("HINCRBYFLOAT", k, "r", "0x10"));
        Assert.Equal(Bulk("3016"), c.Call("HGET", k, "r"));
        Assert.Equal(Bulk("4.5"), c.Call("HINCRBYFLOAT", k, "a", "4.5"));
        Assert.Equal(NotFloat, c.Call("HINCRBYFLOAT", k, "a", "x"));
        Assert.Equal(NotFloat, c.Call("HINCRBYFLOAT", k, "a", "nan"));
        Assert.Equal("-ERR value is NaN or Infinity\r\n", c.Call("HINCRBYFLOAT", k, "a", "inf"));
        Assert.Equal("-ERR value is NaN or Infinity\r\n", c.Call("HINCRBYFLOAT", k, "a", "-inf"));
        Assert.Equal(Int(1), c.Call("HSET", k, "s", "v"));
        Assert.Equal("-ERR hash value is not a float\r\n", c.Call("HINCRBYFLOAT", k, "s", "1"));
        Assert.Equal(Int(1), c.Call("HSET", k, "big", "9223372036854775807"));
        Assert.Equal(Bulk("9223372036854775808"), c.Call("HINCRBYFLOAT", k, "big", "1"));
        Assert.Equal(Int(1), c.Call("HSET", k, "huge", "1e308"));
        string twice = c.Call("HINCRBYFLOAT", k, "huge", "1e308"); // x87 long double: no overflow, 309 digits as Redis prints
        Assert.StartsWith("$309\r\n1999999999999999999933717593116912913211201996948311344155940959898434697", twice);
        Assert.Equal(Arity("hincrbyfloat"), c.Call("HINCRBYFLOAT", k, "f"));
        AssertPing(c);
    }

    [Fact]
    public void HRandField()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:rand";
        string[] fields = ["a", "b", "c", "d", "e", "f", "g"];
        foreach (string f in fields) c.Call("HSET", k, f, "v" + f);
        Assert.Contains(Replies.Bulks(c.Call("HRANDFIELD", k)).Single(), fields);
        Assert.Equal(Null, c.Call("HRANDFIELD", "h:rand:none"));
        Assert.Equal(Empty, c.Call("HRANDFIELD", "h:rand:none", "5"));
        Assert.Equal(Empty, c.Call("HRANDFIELD", "h:rand:none", "5", "withvalues"));
        Assert.Equal(Empty, c.Call("HRANDFIELD", k, "0"));
        Assert.Equal(Empty, c.Call("HRANDFIELD", k, "0", "WITHVALUES"));
        // Count ≥ size: the whole hash (in field order here).
        Assert.Equal(Arr(fields), c.Call("HRANDFIELD", k, "100"));
        Assert.Equal(Arr(fields.SelectMany(f => new[] { f, "v" + f }).ToArray()), c.Call("HRANDFIELD", k, "7", "WITHVALUES"));
        // Positive count < size: distinct fields.
        for (int i = 0; i < 50; i++)
        {
            List<string> picked = Replies.Bulks(c.Call("HRANDFIELD", k, (1 + i % 6).ToString()));
            Assert.Equal(1 + i % 6, picked.Count);
            Assert.Equal(picked.Count, picked.Distinct().Count());
            Assert.All(picked, p => Assert.Contains(p, fields));
        }
        List<string> pairs = Replies.Bulks(c.Call("HRANDFIELD", k, "3", "WITHVALUES"));
        Assert.Equal(6, pairs.Count);
        for (int i = 0; i < 6; i += 2) Assert.Equal("v" + pairs[i], pairs[i + 1]);
        // Negative count: exactly |count| picks, repeats allowed (200 picks of 7 fields must repeat).
        List<string> many = Replies.Bulks(c.Call("HRANDFIELD", k, "-200"));
        Assert.Equal(200, many.Count);
        Assert.True(many.Distinct().Count() < 200);
        Assert.All(many, p => Assert.Contains(p, fields));
        Assert.Equal(7, many.Distinct().Count()); // 200 uniform picks miss a field with probability < 1e-12
        Assert.Equal(20, Replies.Bulks(c.Call("HRANDFIELD", k, "-10", "WITHVALUES")).Count);
        // Errors, as Redis 7.0.15.
        Assert.Equal("-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            c.Call("HRANDFIELD", k, "-9223372036854775808"));
        Assert.Equal("-ERR value is out of range\r\n", c.Call("HRANDFIELD", k, "9223372036854775807", "withvalues"));
        Assert.Equal("-ERR value is out of range\r\n", c.Call("HRANDFIELD", k, "4611686018427387904", "withvalues"));
        Assert.Equal(Syntax, c.Call("HRANDFIELD", k, "5", "foo"));
        Assert.Equal(Syntax, c.Call("HRANDFIELD", k, "5", "withvalues", "x"));
        Assert.Equal(NotInteger, c.Call("HRANDFIELD", k, "x"));
        Assert.Equal(NotInteger, c.Call("HRANDFIELD", k, "x", "withvalues"));
        // RespKv's one difference: a negative count beyond 100,000,000 (Redis would exhaust its memory).
        Assert.Equal("-ERR value is out of range\r\n", c.Call("HRANDFIELD", k, "-9223372036854775807"));
        AssertPing(c);
    }

    [Fact]
    public void HRandFieldDistinctSamplingOnALargerHash()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:rand:large";
        Load(c, k, Enumerable.Range(0, 3000).Select(i => $"f{i:D4}"), "v");
        foreach (int count in new[] { 10, 999, 1001, 2999 })
        {
            List<string> picked = Replies.Bulks(c.Call("HRANDFIELD", k, count.ToString()));
            Assert.Equal(count, picked.Count);
            Assert.Equal(count, picked.Distinct().Count());
        }
        Assert.Equal(3000, Replies.Bulks(c.Call("HRANDFIELD", k, "3000")).Count);
        AssertPing(c);
    }

    [Fact]
    public void WrongTypeBothWays()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Ok, c.Call("SET", "h:wt:str", "v"));
        Assert.Equal(Int(1), c.Call("HSET", "h:wt:hash", "f", "v"));
        foreach (string[] cmd in new[]
                 {
                     new[] { "HSET", "h:wt:str", "a", "b" }, ["HMSET", "h:wt:str", "a", "b"], ["HSETNX", "h:wt:str", "a", "b"],
                     ["HGET", "h:wt:str", "a"], ["HMGET", "h:wt:str", "a"], ["HGETALL", "h:wt:str"], ["HKEYS", "h:wt:str"],
                     ["HVALS", "h:wt:str"], ["HDEL", "h:wt:str", "a"], ["HLEN", "h:wt:str"], ["HEXISTS", "h:wt:str", "a"],
                     ["HSTRLEN", "h:wt:str", "a"], ["HINCRBY", "h:wt:str", "a", "1"], ["HINCRBYFLOAT", "h:wt:str", "a", "1"],
                     ["HRANDFIELD", "h:wt:str"], ["HRANDFIELD", "h:wt:str", "3"], ["HSCAN", "h:wt:str", "0"],
                     ["HSCAN", "h:wt:str", "0", "COUNT", "0"],
                     ["GET", "h:wt:hash"], ["APPEND", "h:wt:hash", "x"], ["INCR", "h:wt:hash"], ["STRLEN", "h:wt:hash"],
                     ["GETRANGE", "h:wt:hash", "0", "1"], ["SETRANGE", "h:wt:hash", "0", "x"], ["GETSET", "h:wt:hash", "x"],
                     ["GETDEL", "h:wt:hash"], ["INCRBYFLOAT", "h:wt:hash", "1"], ["SET", "h:wt:hash", "x", "GET"],
                 })
        {
            Assert.Equal(WrongType, c.Call(cmd));
        }
        // Argument errors come before the type check, as in Redis.
        Assert.Equal(NotInteger, c.Call("HINCRBY", "h:wt:str", "a", "x"));
        Assert.Equal(NotFloat, c.Call("HINCRBYFLOAT", "h:wt:str", "a", "x"));
        Assert.Equal($"*1\r\n{Null}", c.Call("MGET", "h:wt:hash"));
        Assert.Equal(Ok, c.Call("SET", "h:wt:hash", "now a string")); // SET replaces any type
        Assert.Equal("+string\r\n", c.Call("TYPE", "h:wt:hash"));
        AssertPing(c);
    }

    [Fact]
    public void KeyspaceCommandsHandleHashes()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(2), c.Call("HSET", "h:ks:a", "f", "1", "g", "2"));
        Assert.Equal("+hash\r\n", c.Call("TYPE", "h:ks:a"));
        Assert.Equal(Int(1), c.Call("EXISTS", "h:ks:a"));
        Assert.Equal(Int(1), c.Call("COPY", "h:ks:a", "h:ks:b"));
        Assert.Equal(Int(1), c.Call("HSET", "h:ks:b", "h", "3")); // the copy is independent
        Assert.Equal(Int(2), c.Call("HLEN", "h:ks:a"));
        Assert.Equal(Int(3), c.Call("HLEN", "h:ks:b"));
        Assert.Equal(Ok, c.Call("RENAME", "h:ks:b", "h:ks:c"));
        Assert.Equal(Arr("f", "1", "g", "2", "h", "3"), c.Call("HGETALL", "h:ks:c"));
        Assert.Equal(Arr("h:ks:a", "h:ks:c"), Arr([.. Replies.Bulks(c.Call("KEYS", "h:ks:*")).Order(StringComparer.Ordinal)]));
        Assert.Equal(Ok, c.Call("SET", "h:ks:s", "v"));
        var scanned = new List<string>();
        string cursor = "0";
        do
        {
            List<string> reply = Replies.Bulks(c.Call("SCAN", cursor, "MATCH", "h:ks:*", "TYPE", "hash", "COUNT", "100"));
            cursor = reply[0];
            scanned.AddRange(reply.Skip(1));
        } while (cursor != "0");
        Assert.Equal(["h:ks:a", "h:ks:c"], scanned.Order(StringComparer.Ordinal));
        Assert.Equal(Int(2), c.Call("DEL", "h:ks:a", "h:ks:c", "h:ks:none"));
        Assert.Equal(Int(0), c.Call("EXISTS", "h:ks:a", "h:ks:c"));
        AssertPing(c);
    }

    [Fact]
    public async Task DbSizeAndFlushDbCountHashes()
    {
        await using RespKv.Server.RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal(Int(2), c.Call("HSET", "a", "f", "1", "g", "2"));
        Assert.Equal(Int(1), c.Call("HSET", "b", "f", "1"));
        Assert.Equal(Ok, c.Call("SET", "s", "v"));
        Assert.Equal(Int(3), c.Call("DBSIZE"));
        Assert.Equal(Int(1), c.Call("HDEL", "b", "f"));
        Assert.Equal(Int(2), c.Call("DBSIZE"));
        Assert.Equal(Ok, c.Call("FLUSHDB"));
        Assert.Equal(Int(0), c.Call("DBSIZE"));
        Assert.Equal(Empty, c.Call("HGETALL", "a"));
        AssertPing(c);
    }

    [Fact]
    public void HScanErrorsAndSmallHashes()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:scan:small";
        Assert.Equal(Int(3), c.Call("HSET", k, "b", "2", "a", "1", "ab", "x"));
        Assert.Equal(ScanReply("0"), c.Call("HSCAN", "h:scan:none", "0"));
        Assert.Equal(ScanReply("0"), c.Call("HSCAN", "h:scan:none", "0", "COUNT", "0")); // missing key answers before options
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("HSCAN", "h:scan:none", "x"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("HSCAN", k, "1x"));
        Assert.Equal(Syntax, c.Call("HSCAN", k, "0", "COUNT", "0"));
        Assert.Equal(NotInteger, c.Call("HSCAN", k, "0", "COUNT", "x"));
        Assert.Equal(Syntax, c.Call("HSCAN", k, "0", "TYPE", "string"));
        Assert.Equal(Syntax, c.Call("HSCAN", k, "0", "MATCH"));
        Assert.Equal(Arity("hscan"), c.Call("HSCAN", k));
        // A small hash (Redis's listpack) comes back whole, whatever COUNT.
        Assert.Equal(ScanReply("0", "a", "1", "ab", "x", "b", "2"), c.Call("HSCAN", k, "0", "COUNT", "1"));
        Assert.Equal(ScanReply("0", "a", "1", "ab", "x"), c.Call("HSCAN", k, "0", "MATCH", "a*"));
        Assert.Equal(ScanReply("0", "a", "1", "b", "2"), c.Call("HSCAN", k, "0", "MATCH", "?"));
        Assert.Equal(ScanReply("0"), c.Call("HSCAN", k, "0", "MATCH", "z*"));
        // A cursor RespKv never issued (a saved-position id that does not exist): an error, never a silent end.
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("HSCAN", k, "4611686018427387903"));
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("HSCAN", k, "-1"));
        AssertPing(c);
    }

    /// <summary>Runs a whole HSCAN with the given options and returns the fields in the order returned, and the call count.</summary>
    private static (List<string> Fields, int Calls) ScanAll(RespTestClient c, string key, params string[] options) =>
        KeyScans.ScanAll(c, "HSCAN", key, 2, options);

    [Fact]
    public void HScanLargeHashReturnsEveryFieldOnceInOrderWithCountBoundingEachCall()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:scan:large";
        string[] fields = Enumerable.Range(0, 2000).Select(i => $"field:{i:D5}:{new string('x', i % 13)}").ToArray();
        Load(c, k, fields, "value");
        string first = c.Call("HSCAN", k, "0", "COUNT", "7");
        Assert.Equal(14 + 1, Replies.Bulks(first).Count);
        (List<string> got, int calls) = ScanAll(c, k, "COUNT", "7");
        Assert.Equal(fields.Order(StringComparer.Ordinal), got);
        Assert.InRange(calls, 2000 / 7, 2000 / 7 + 2);
        AssertPing(c);
    }

    [Fact]
    public void HScanPrefixMatchSeeksInsteadOfFiltering()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:scan:prefix";
        Load(c, k, Enumerable.Range(0, 200_000).Select(i => $"user:{i % 2000}:{i:D6}"), "v");
        // 100 fields start with "user:42:"; with COUNT 10 a prefix seek needs ~10 calls, a filtering scan ~20,000.
        (List<string> got, int calls) = ScanAll(c, k, "MATCH", "user:42:*", "COUNT", "10");
        Assert.Equal(Enumerable.Range(0, 100).Select(j => $"user:42:{j * 2000 + 42:D6}"), got);
        Assert.InRange(calls, 10, 11);
        // Pattern after the prefix still filters; the seek still bounds the work.
        (got, calls) = ScanAll(c, k, "MATCH", "user:42:*42", "COUNT", "10");
        Assert.Equal(got.Count, got.Distinct().Count());
        Assert.All(got, f => Assert.EndsWith("42", f));
        Assert.InRange(calls, 10, 11);
        AssertPing(c);
    }

    [Fact]
    public async Task HScanUnderConcurrentMutationReturnsEveryStableFieldExactlyOnce()
    {
        const string k = "h:scan:mut";
        const int stable = 100_000;
        using RespTestClient scanner = server.Connect();
        // Stable fields s:000000..s:099999; the mutator adds and removes s:NNNNNN:x (interleaved in order) and new:*.
        Load(scanner, k, Enumerable.Range(0, stable).Select(i => $"s:{i:D6}"), "v");
        await KeyScans.AssertStableNamesReturnedExactlyOnce(server.Connect, () => ScanAll(scanner, k, "COUNT", "10").Fields, stable, 7,
            (m, random, i) => random.Next(3) switch
            {
                0 => m.Call("HSET", k, $"s:{i:D6}:x", "t", $"a{i}", "t"),
                1 => m.Call("HDEL", k, $"s:{i:D6}:x", $"a{i}"),
                _ => m.Call("HSET", k, $"s:{i:D6}", "changed"), // updates a stable field's value
            });
        AssertPing(scanner);
    }

    [Fact]
    public void RandomizedCommandsMatchASortedModel()
    {
        using RespTestClient c = server.Connect();
        const string k = "h:model";
        var random = new Random(2024);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal); // Latin-1 ordinal = unsigned byte order
        for (int step = 0; step < 3000; step++)
        {
            string field = random.Next(5) == 0 ? "\u00e9" + random.Next(50) : "f" + random.Next(400);
            switch (random.Next(10))
            {
                case < 5:
                {
                    string value = new((char)('a' + random.Next(26)), random.Next(1, 40));
                    string field2 = "g" + random.Next(100);
                    long added = (model.ContainsKey(field) ? 0 : 1) + (model.ContainsKey(field2) || field2 == field ? 0 : 1);
                    Assert.Equal(Int(added), c.Call("HSET", k, field, value, field2, value));
                    model[field] = value;
                    model[field2] = value;
                    break;
                }
                case < 8:
                {
                    string field2 = "f" + random.Next(400);
                    long removed = (model.Remove(field) ? 1 : 0) + (model.Remove(field2) ? 1 : 0);
                    Assert.Equal(Int(removed), c.Call("HDEL", k, field, field2));
                    break;
                }
                default:
                {
                    string f = "n" + random.Next(20);
                    long by = random.Next(-1000, 1000);
                    long now = (model.TryGetValue(f, out string? old) ? long.Parse(old) : 0) + by;
                    Assert.Equal(Int(now), c.Call("HINCRBY", k, f, by.ToString()));
                    model[f] = now.ToString();
                    break;
                }
            }
            Assert.Equal(Int(model.Count), c.Call("HLEN", k));
            string all = c.Call("HGETALL", k);
            Assert.Equal(Arr(model.SelectMany(kv => new[] { kv.Key, kv.Value }).ToArray()), all);
        }
        Assert.True(model.Count > 300, "the hash must grow past a single leaf");
        AssertPing(c);
    }

    private string Cli(params string[] args)
    {
        (int exit, string output, string error) = RedisCli.Run(server.Port, null, 30_000, args);
        Assert.True(exit == 0, $"redis-cli {string.Join(' ', args)} exited {exit}: {error}");
        return output;
    }

    /// <summary>A redis-cli session whose output was first recorded from redis-server 7.0.15 (HGETALL is compared as a set there; here it is sorted).</summary>
    [RedisCliFact]
    public void RedisCliSession()
    {
        Assert.Equal("3\n", Cli("hset", "cli:user:1", "name", "Ada", "age", "36", "lang", "en"));
        Assert.Equal("Ada\n", Cli("hget", "cli:user:1", "name"));
        Assert.Equal("Ada\n\n36\n", Cli("hmget", "cli:user:1", "name", "nope", "age"));
        Assert.Equal("3\n", Cli("hlen", "cli:user:1"));
        Assert.Equal("37\n", Cli("hincrby", "cli:user:1", "age", "1"));
        Assert.Equal("37.5\n", Cli("hincrbyfloat", "cli:user:1", "age", "0.5"));
        Assert.Equal("125\n", Cli("hincrbyfloat", "cli:user:1", "score", "1.25e2"));
        Assert.Equal("0\n", Cli("hsetnx", "cli:user:1", "name", "Bob"));
        Assert.Equal("1\n", Cli("hdel", "cli:user:1", "lang", "nope"));
        Assert.Equal("0\nage\n37.5\n", Cli("hscan", "cli:user:1", "0", "match", "a*"));
        Assert.Equal("hash\n", Cli("type", "cli:user:1"));
        Assert.Equal("ERR hash value is not an integer\n\n", Cli("hincrby", "cli:user:1", "name", "1"));
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value\n\n", Cli("get", "cli:user:1"));
        Assert.Equal("1) \"age\"\n2) \"37.5\"\n3) \"name\"\n4) \"Ada\"\n5) \"score\"\n6) \"125\"\n", Cli("--no-raw", "hgetall", "cli:user:1"));
        Assert.Equal("age 37.5\nname Ada\nscore 125\n", Cli("-3", "hgetall", "cli:user:1"));
        Assert.Equal("3\n", Cli("hdel", "cli:user:1", "name", "age", "score"));
        Assert.Equal("0\n", Cli("exists", "cli:user:1"));
    }
}
