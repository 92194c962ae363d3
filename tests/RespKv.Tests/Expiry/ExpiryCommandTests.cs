using RespKv.Tests.Support;

namespace RespKv.Tests.Expiry;

/// <summary>
/// Expiry commands' exact replies and errors, each compared with redis-server 7.0.15 (conformance/corpus/expiry.txt
/// replays the same sessions against both servers). Remaining TTLs are read with large values so they are exact.
/// </summary>
public sealed class ExpiryCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Ok = "+OK\r\n";
    private const string Null = "$-1\r\n";
    private const string Syntax = "-ERR syntax error\r\n";
    private const string NotInteger = "-ERR value is not an integer or out of range\r\n";
    private const string WrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    private static string Int(long n) => $":{n}\r\n";

    private static string Bulk(string s) => $"${s.Length}\r\n{s}\r\n";

    private static string Invalid(string command) => $"-ERR invalid expire time in '{command}' command\r\n";

    private static void AssertPing(RespTestClient c) => Assert.Equal("+PONG\r\n", c.Call("PING"));

    [Fact]
    public void ExpireOptionErrorsComeBeforeTheTime()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:errors";
        c.Call("SET", k, "v");
        Assert.Equal("-ERR wrong number of arguments for 'expire' command\r\n", c.Call("EXPIRE", k));
        Assert.Equal(NotInteger, c.Call("EXPIRE", k, "abc"));
        Assert.Equal("-ERR Unsupported option foo\r\n", c.Call("EXPIRE", k, "abc", "foo"));
        Assert.Equal("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", c.Call("EXPIRE", k, "abc", "nx", "xx"));
        Assert.Equal("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", c.Call("EXPIRE", k, "10", "NX", "GT"));
        Assert.Equal("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", c.Call("EXPIRE", k, "10", "nx", "lt"));
        Assert.Equal("-ERR GT and LT options at the same time are not compatible\r\n", c.Call("EXPIRE", k, "10", "gt", "lt"));
        Assert.Equal("-ERR GT and LT options at the same time are not compatible\r\n", c.Call("PEXPIRE", k, "10", "xx", "gt", "lt"));
        Assert.Equal(Invalid("expire"), c.Call("EXPIRE", k, "9223372036854775807"));
        Assert.Equal(Invalid("expire"), c.Call("EXPIRE", k, "9223372036854775"));
        Assert.Equal(Invalid("expire"), c.Call("EXPIRE", k, "-9223372036854775808"));
        Assert.Equal(Invalid("pexpire"), c.Call("PEXPIRE", k, "9223372036854775807"));
        Assert.Equal(Invalid("expireat"), c.Call("EXPIREAT", k, "9223372036854776"));
        Assert.Equal(Int(-1), c.Call("TTL", k));
        Assert.Equal(Int(1), c.Call("PEXPIREAT", k, "9223372036854775807", "nx"));
        Assert.Equal(Int(9223372036854775807), c.Call("PEXPIRETIME", k));
        AssertPing(c);
    }

    [Fact]
    public void ExpireConditions()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:cond";
        c.Call("SET", k, "v");
        Assert.Equal(Int(0), c.Call("EXPIRE", k, "1000", "xx"));
        Assert.Equal(Int(0), c.Call("EXPIRE", k, "1000", "gt")); // no expiry counts as infinite
        Assert.Equal(Int(1), c.Call("EXPIRE", k, "1000", "lt"));
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Int(0), c.Call("EXPIRE", k, "2000", "nx"));
        Assert.Equal(Int(0), c.Call("EXPIRE", k, "2000", "lt"));
        Assert.Equal(Int(0), c.Call("EXPIRE", k, "500", "gt"));
        Assert.Equal(Int(1), c.Call("EXPIRE", k, "2000", "gt"));
        Assert.Equal(Int(2000), c.Call("TTL", k));
        Assert.Equal(Int(1), c.Call("EXPIRE", k, "500", "lt"));
        Assert.Equal(Int(500), c.Call("TTL", k));
        Assert.Equal(Int(1), c.Call("EXPIRE", k, "700", "xx"));
        Assert.Equal(Int(700), c.Call("TTL", k));
        Assert.Equal(Int(0), c.Call("EXPIRE", "exp:cond:missing", "10"));
        Assert.Equal(Int(0), c.Call("PEXPIREAT", "exp:cond:missing", "10"));
        AssertPing(c);
    }

    [Fact]
    public void ExpireInThePastDeletes()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:past";
        foreach (string[] command in new[] { new[] { "EXPIRE", k, "-1" }, ["PEXPIRE", k, "0"], ["EXPIREAT", k, "1"], ["PEXPIREAT", k, "1000"] })
        {
            Assert.Equal(Ok, c.Call("SET", k, "v"));
            Assert.Equal(Int(1), c.Call(command));
            Assert.Equal(Int(0), c.Call("EXISTS", k));
            Assert.Equal(Int(-2), c.Call("TTL", k));
        }
        c.Call("HSET", "exp:past:h", "f", "v");
        Assert.Equal(Int(1), c.Call("EXPIRE", "exp:past:h", "0"));
        Assert.Equal(Int(0), c.Call("EXISTS", "exp:past:h"));
        AssertPing(c);
    }

    [Fact]
    public void TtlFamily()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:ttl";
        foreach (string command in new[] { "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME" })
            Assert.Equal(Int(-2), c.Call(command, k));
        c.Call("SET", k, "v");
        foreach (string command in new[] { "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME" })
            Assert.Equal(Int(-1), c.Call(command, k));
        Assert.Equal(Int(1), c.Call("PEXPIREAT", k, "32503680000000"));
        Assert.Equal(Int(32503680000000), c.Call("PEXPIRETIME", k));
        Assert.Equal(Int(32503680000), c.Call("EXPIRETIME", k));
        c.Call("PEXPIREAT", k, "32503680000499");
        Assert.Equal(Int(32503680000), c.Call("EXPIRETIME", k));
        c.Call("PEXPIREAT", k, "32503680000500");
        Assert.Equal(Int(32503680001), c.Call("EXPIRETIME", k)); // rounds to the nearest second, as Redis
        Assert.Equal(Int(1), c.Call("EXPIREAT", k, "32503680000"));
        Assert.Equal(Int(32503680000000), c.Call("PEXPIRETIME", k));
        Assert.Equal("-ERR wrong number of arguments for 'pttl' command\r\n", c.Call("PTTL", k, "extra"));
        c.Call("SET", k, "v", "EX", "1000");
        long pttl = long.Parse(c.Call("PTTL", k)[1..^2]);
        Assert.InRange(pttl, 990_000, 1_000_000);
        AssertPing(c);
    }

    [Fact]
    public void Persist()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:persist";
        Assert.Equal(Int(0), c.Call("PERSIST", k));
        c.Call("SET", k, "v");
        Assert.Equal(Int(0), c.Call("PERSIST", k));
        c.Call("EXPIRE", k, "1000");
        Assert.Equal(Int(1), c.Call("PERSIST", k));
        Assert.Equal(Int(-1), c.Call("TTL", k));
        Assert.Equal(Bulk("v"), c.Call("GET", k));
        Assert.Equal(Int(0), c.Call("PERSIST", k));
        Assert.Equal("-ERR wrong number of arguments for 'persist' command\r\n", c.Call("PERSIST", k, "extra"));
        AssertPing(c);
    }

    [Fact]
    public void SetExpiryOptions()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:set";
        Assert.Equal(Ok, c.Call("SET", k, "v", "EX", "1000"));
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Ok, c.Call("SET", k, "v", "PX", "1000000"));
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Ok, c.Call("SET", k, "v", "EXAT", "32503680000"));
        Assert.Equal(Int(32503680000000), c.Call("PEXPIRETIME", k));
        Assert.Equal(Ok, c.Call("SET", k, "v", "PXAT", "32503680000123"));
        Assert.Equal(Int(32503680000123), c.Call("PEXPIRETIME", k));
        Assert.Equal(Ok, c.Call("SET", k, "v2", "KEEPTTL"));
        Assert.Equal(Int(32503680000123), c.Call("PEXPIRETIME", k));
        Assert.Equal(Ok, c.Call("SET", k, "v3"));
        Assert.Equal(Int(-1), c.Call("TTL", k));
        Assert.Equal(Ok, c.Call("SET", k, "v", "EX", "10", "EX", "1000")); // a repeat replaces, as in Redis
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Bulk("v"), c.Call("SET", k, "w", "PX", "2000000", "XX", "GET"));
        Assert.Equal(Int(2000), c.Call("TTL", k));
        Assert.Equal(Null, c.Call("SET", k, "x", "EX", "10", "NX"));
        Assert.Equal(Ok, c.Call("SET", k, "v", "EXAT", "1")); // already past: the key is gone
        Assert.Equal(Int(0), c.Call("EXISTS", k));
        AssertPing(c);
    }

    [Theory]
    [InlineData(new[] { "EX", "0" }, "set")]
    [InlineData(new[] { "EX", "-1" }, "set")]
    [InlineData(new[] { "PX", "0" }, "set")]
    [InlineData(new[] { "EXAT", "0" }, "set")]
    [InlineData(new[] { "PXAT", "0" }, "set")]
    [InlineData(new[] { "EX", "9223372036854775807" }, "set")]
    [InlineData(new[] { "EX", "9223372036854775" }, "set")]
    [InlineData(new[] { "PX", "9223372036854775807" }, "set")]
    [InlineData(new[] { "EXAT", "9223372036854776" }, "set")]
    public void SetInvalidExpireTime(string[] options, string command)
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Invalid(command), c.Call(["SET", "exp:set:invalid", "v", .. options]));
        Assert.Equal(Null, c.Call("GET", "exp:set:invalid"));
        AssertPing(c);
    }

    [Theory]
    [InlineData("EX", "10", "PX", "10")]
    [InlineData("EX", "10", "EXAT", "10")]
    [InlineData("PX", "10", "PXAT", "10")]
    [InlineData("EX", "10", "KEEPTTL")]
    [InlineData("KEEPTTL", "EX", "10")]
    [InlineData("KEEPTTL", "PXAT", "10")]
    [InlineData("EX")]
    [InlineData("PX")]
    [InlineData("PERSIST")]
    [InlineData("NX", "XX")]
    public void SetConflictingOptionsAreASyntaxError(params string[] options)
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Syntax, c.Call(["SET", "exp:set:syntax", "v", .. options]));
        Assert.Equal(NotInteger, c.Call("SET", "exp:set:syntax", "v", "EX", "abc"));
        Assert.Equal(NotInteger, c.Call("SET", "exp:set:syntax", "v", "PX", "1.5"));
        AssertPing(c);
    }

    [Fact]
    public void SetExAndPSetEx()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:setex";
        Assert.Equal(Ok, c.Call("SETEX", k, "1000", "v"));
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Bulk("v"), c.Call("GET", k));
        Assert.Equal(Ok, c.Call("PSETEX", k, "1000000", "v2"));
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Bulk("v2"), c.Call("GET", k));
        Assert.Equal(Invalid("setex"), c.Call("SETEX", k, "0", "v"));
        Assert.Equal(Invalid("setex"), c.Call("SETEX", k, "-1", "v"));
        Assert.Equal(Invalid("setex"), c.Call("SETEX", k, "9223372036854775807", "v"));
        Assert.Equal(NotInteger, c.Call("SETEX", k, "abc", "v"));
        Assert.Equal(Invalid("psetex"), c.Call("PSETEX", k, "0", "v"));
        Assert.Equal(Invalid("psetex"), c.Call("PSETEX", k, "9223372036854775807", "v"));
        Assert.Equal("-ERR wrong number of arguments for 'setex' command\r\n", c.Call("SETEX", k, "10"));
        c.Call("HSET", "exp:setex:h", "f", "v");
        Assert.Equal(Ok, c.Call("SETEX", "exp:setex:h", "1000", "v")); // overwrites any type, as SET
        Assert.Equal("+string\r\n", c.Call("TYPE", "exp:setex:h"));
        AssertPing(c);
    }

    [Fact]
    public void GetEx()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:getex";
        Assert.Equal(Null, c.Call("GETEX", "exp:getex:missing"));
        Assert.Equal(Null, c.Call("GETEX", "exp:getex:missing", "EX", "0")); // missing is checked before the time
        Assert.Equal(Syntax, c.Call("GETEX", "exp:getex:missing", "foo")); // but after the options
        c.Call("SET", k, "v");
        Assert.Equal(Bulk("v"), c.Call("GETEX", k));
        Assert.Equal(Int(-1), c.Call("TTL", k));
        Assert.Equal(Bulk("v"), c.Call("GETEX", k, "EX", "1000"));
        Assert.Equal(Int(1000), c.Call("TTL", k));
        Assert.Equal(Bulk("v"), c.Call("GETEX", k, "PX", "2000000"));
        Assert.Equal(Int(2000), c.Call("TTL", k));
        Assert.Equal(Bulk("v"), c.Call("GETEX", k, "EXAT", "32503680000"));
        Assert.Equal(Int(32503680000000), c.Call("PEXPIRETIME", k));
        Assert.Equal(Bulk("v"), c.Call("GETEX", k, "PXAT", "32503680000123"));
        Assert.Equal(Int(32503680000123), c.Call("PEXPIRETIME", k));
        Assert.Equal(Bulk("v"), c.Call("GETEX", k, "PERSIST"));
        Assert.Equal(Int(-1), c.Call("TTL", k));
        Assert.Equal(Invalid("getex"), c.Call("GETEX", k, "EX", "0"));
        Assert.Equal(Invalid("getex"), c.Call("GETEX", k, "PX", "-1"));
        Assert.Equal(Invalid("getex"), c.Call("GETEX", k, "EX", "9223372036854775807"));
        Assert.Equal(NotInteger, c.Call("GETEX", k, "EX", "abc"));
        foreach (string[] options in new[] { new[] { "EX", "10", "PX", "10" }, ["PERSIST", "EX", "10"], ["EX", "10", "PERSIST"], ["KEEPTTL"], ["NX"], ["GET"], ["EX"], ["foo"] })
            Assert.Equal(Syntax, c.Call(["GETEX", k, .. options]));
        Assert.Equal(Bulk("v"), c.Call("GETEX", k, "EXAT", "1"));
        Assert.Equal(Int(0), c.Call("EXISTS", k));
        c.Call("HSET", "exp:getex:h", "f", "v");
        Assert.Equal(WrongType, c.Call("GETEX", "exp:getex:h"));
        Assert.Equal(WrongType, c.Call("GETEX", "exp:getex:h", "EX", "0"));
        AssertPing(c);
    }

    [Fact]
    public void OverwritesClearOrKeepTheTtlAsRedis()
    {
        using RespTestClient c = server.Connect();
        const string k = "exp:keep";
        const string at = ":32503680000123\r\n";
        c.Call("SET", k, "1", "PXAT", "32503680000123");
        foreach (string[] command in new[] { new[] { "INCR", k }, ["INCRBY", k, "5"], ["DECR", k], ["INCRBYFLOAT", k, "1"], ["APPEND", k, "0"], ["SETRANGE", k, "0", "9"] })
        {
            c.Call(command);
            Assert.Equal(at, c.Call("PEXPIRETIME", k));
        }
        foreach (string[] command in new[] { new[] { "SET", k, "2" }, ["GETSET", k, "3"], ["MSET", k, "4", "exp:keep:other", "5"] })
        {
            c.Call("EXPIRE", k, "1000");
            c.Call(command);
            Assert.Equal(Int(-1), c.Call("TTL", k));
        }
        const string h = "exp:keep:h";
        c.Call("HSET", h, "a", "1");
        c.Call("PEXPIREAT", h, "32503680000123");
        c.Call("HSET", h, "b", "2");
        c.Call("HDEL", h, "a");
        c.Call("HINCRBY", h, "n", "1");
        Assert.Equal(at, c.Call("PEXPIRETIME", h));
        c.Call("HDEL", h, "b", "n");
        Assert.Equal(Int(-2), c.Call("TTL", h));
        AssertPing(c);
    }

    [Fact]
    public void RenameAndCopyCarryTheTtl()
    {
        using RespTestClient c = server.Connect();
        c.Call("SET", "exp:ren", "v", "PXAT", "32503680000123");
        Assert.Equal(Ok, c.Call("RENAME", "exp:ren", "exp:ren2"));
        Assert.Equal(Int(32503680000123), c.Call("PEXPIRETIME", "exp:ren2"));
        Assert.Equal(Int(1), c.Call("COPY", "exp:ren2", "exp:ren3"));
        Assert.Equal(Int(32503680000123), c.Call("PEXPIRETIME", "exp:ren3"));
        c.Call("SET", "exp:ren:plain", "v");
        Assert.Equal(Ok, c.Call("RENAME", "exp:ren:plain", "exp:ren3"));
        Assert.Equal(Int(-1), c.Call("TTL", "exp:ren3"));
        AssertPing(c);
    }

    [Fact]
    public void ObjectIdleTimeAndFreq()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'object' command\r\n", c.Call("OBJECT"));
        Assert.Equal(Null, c.Call("OBJECT", "IDLETIME", "exp:obj:missing"));
        Assert.Equal(Null, c.Call("OBJECT", "FREQ", "exp:obj:missing"));
        Assert.Equal("-ERR wrong number of arguments for 'object|idletime' command\r\n", c.Call("OBJECT", "IDLETIME"));
        Assert.Equal("-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n", c.Call("OBJECT", "foo", "k"));
        c.Call("SET", "exp:obj", "v");
        Assert.Equal(Int(0), c.Call("OBJECT", "IDLETIME", "exp:obj"));
        Assert.Equal("-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
            c.Call("OBJECT", "FREQ", "exp:obj"));
        // Redis 7.0's help: ENCODING, FREQ, IDLETIME, REFCOUNT, HELP.
        Assert.StartsWith("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n", c.Call("OBJECT", "HELP"));
        AssertPing(c);
    }

    [Fact]
    public void InfoKeyspaceCountsExpires()
    {
        using RespTestClient c = server.Connect();
        c.Call("SELECT", "9");
        c.Call("FLUSHDB");
        c.Call("SET", "a", "v", "EX", "1000");
        c.Call("SET", "b", "v");
        c.Call("HSET", "h", "f", "v");
        c.Call("PEXPIREAT", "h", "32503680000000");
        string info = c.Call("INFO", "keyspace");
        Assert.Matches(@"db9:keys=3,expires=2,avg_ttl=\d+\r\n", info);
        c.Call("PERSIST", "h");
        Assert.Matches(@"db9:keys=3,expires=1,avg_ttl=\d+\r\n", c.Call("INFO", "keyspace"));
        c.Call("FLUSHDB");
        AssertPing(c);
    }
}
