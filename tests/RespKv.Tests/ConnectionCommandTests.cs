using System.Text.RegularExpressions;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Connection commands (https://redis.io/commands/?group=connection): PING, ECHO, SELECT, QUIT, HELLO,
/// RESET, and case-insensitive command names, with the exact bytes redis-server 7.0.15 sends.
/// </summary>
public sealed partial class ConnectionCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static void AssertPing(RespTestClient c) => Assert.Equal("+PONG\r\n", c.Call("PING"));

    /// <summary>HELLO's reply with <paramref name="proto"/> and client <paramref name="id"/>: a RESP3 map, or a flat array in RESP2.</summary>
    private static string HelloReply(int proto, long id) =>
        (proto == 3 ? "%7\r\n" : "*14\r\n") +
        "$6\r\nserver\r\n$5\r\nredis\r\n" +
        "$7\r\nversion\r\n$6\r\n7.0.15\r\n" +
        $"$5\r\nproto\r\n:{proto}\r\n" +
        $"$2\r\nid\r\n:{id}\r\n" +
        "$4\r\nmode\r\n$10\r\nstandalone\r\n" +
        "$4\r\nrole\r\n$6\r\nmaster\r\n" +
        "$7\r\nmodules\r\n*0\r\n";

    [GeneratedRegex("\\$2\r\nid\r\n:(\\d+)\r\n")]
    private static partial Regex IdField();

    private static long IdOf(string helloReply)
    {
        Match m = IdField().Match(helloReply);
        Assert.True(m.Success, helloReply);
        return long.Parse(m.Groups[1].Value);
    }

    [Fact]
    public void PingAndEcho()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+PONG\r\n", c.Call("PING"));
        Assert.Equal("$5\r\nhello\r\n", c.Call("PING", "hello"));
        Assert.Equal("$0\r\n\r\n", c.Call("PING", ""));
        Assert.Equal("-ERR wrong number of arguments for 'ping' command\r\n", c.Call("PING", "a", "b"));
        Assert.Equal("$1\r\nx\r\n", c.Call("ECHO", "x"));
        Assert.Equal("$4\r\na\r\n\0\r\n", c.Call("ECHO", "a\r\n\0"));
        Assert.Equal("-ERR wrong number of arguments for 'echo' command\r\n", c.Call("ECHO"));
        Assert.Equal("-ERR wrong number of arguments for 'echo' command\r\n", c.Call("ECHO", "a", "b"));
        AssertPing(c);
    }

    [Fact]
    public void SelectSwitchesDatabaseAndChecksItsArgument()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
        Assert.Equal("+OK\r\n", c.Call("SET", "conn:sel", "db1"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:sel"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "15"));
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:sel"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
        Assert.Equal("$3\r\ndb1\r\n", c.Call("GET", "conn:sel"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("SELECT", "16"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("SELECT", "-1"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("SELECT", "2147483647"));
        Assert.Equal("-ERR DB index is out of range\r\n", c.Call("SELECT", "-2147483648"));
        const string notInt32 = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";
        Assert.Equal(notInt32, c.Call("SELECT", "2147483648"));
        Assert.Equal(notInt32, c.Call("SELECT", "-2147483649"));
        Assert.Equal(notInt32, c.Call("SELECT", "9223372036854775807"));
        foreach (string bad in new[] { "x", "1.5", "", "01", " 1", "9223372036854775808" })
            Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("SELECT", bad));
        Assert.Equal("-ERR wrong number of arguments for 'select' command\r\n", c.Call("SELECT"));
        Assert.Equal("$3\r\ndb1\r\n", c.Call("GET", "conn:sel")); // errors left the selection alone

        using RespTestClient other = server.Connect(); // the selection is per connection
        Assert.Equal("$-1\r\n", other.Call("GET", "conn:sel"));
        AssertPing(c);
    }

    [Fact]
    public void QuitRepliesOkThenCloses()
    {
        using RespTestClient c = server.Connect();
        c.SendRaw(RespTestClient.Encode("QUIT"));
        c.SendRaw(RespTestClient.Encode("PING")); // pipelined after QUIT: never answered
        Assert.Equal("+OK\r\n", c.ReadReply());
        Assert.True(c.IsClosedByServer());

        using RespTestClient d = server.Connect();
        Assert.Equal("+OK\r\n", d.Call("quit", "extra", "args")); // QUIT takes any arguments
        Assert.True(d.IsClosedByServer());

        using RespTestClient e = server.Connect();
        AssertPing(e);
    }

    [Fact]
    public void HelloWithoutArgumentsKeepsResp2()
    {
        using RespTestClient c = server.Connect();
        string reply = c.Call("HELLO");
        Assert.Equal(HelloReply(2, IdOf(reply)), reply);
        Assert.Equal(HelloReply(2, IdOf(reply)), c.Call("HELLO", "2"));
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:hello:missing"));
        AssertPing(c);
    }

    [Fact]
    public void Hello3SwitchesToResp3()
    {
        using RespTestClient c = server.Connect();
        string reply = c.Call("HELLO", "3");
        long id = IdOf(reply);
        Assert.Equal(HelloReply(3, id), reply);
        Assert.Equal("_\r\n", c.Call("GET", "conn:hello3:missing"));
        Assert.Equal("*1\r\n_\r\n", c.Call("MGET", "conn:hello3:missing"));
        Assert.Equal("+OK\r\n", c.Call("SET", "conn:hello3:k", "v"));
        Assert.Equal("_\r\n", c.Call("SET", "conn:hello3:k", "w", "NX"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "conn:hello3:k"));
        Assert.Equal(HelloReply(2, id), c.Call("HELLO", "2")); // and back
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:hello3:missing"));
        AssertPing(c);
    }

    [Fact]
    public void HelloErrors()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-NOPROTO unsupported protocol version\r\n", c.Call("HELLO", "4"));
        Assert.Equal("-NOPROTO unsupported protocol version\r\n", c.Call("HELLO", "1"));
        Assert.Equal("-NOPROTO unsupported protocol version\r\n", c.Call("HELLO", "-1"));
        Assert.Equal("-ERR Protocol version is not an integer or out of range\r\n", c.Call("HELLO", "x"));
        Assert.Equal("-ERR Syntax error in HELLO option 'foo'\r\n", c.Call("HELLO", "3", "foo"));
        Assert.Equal("-ERR Syntax error in HELLO option 'setname'\r\n", c.Call("HELLO", "3", "setname"));
        Assert.Equal("-ERR Syntax error in HELLO option 'auth'\r\n", c.Call("HELLO", "3", "auth", "default"));
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", c.Call("HELLO", "3", "setname", "a b"));
        Assert.Equal("-WRONGPASS invalid username-password pair or user is disabled.\r\n", c.Call("HELLO", "3", "auth", "u", "x"));
        // None of the failed calls switched the protocol.
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:helloerr:missing"));
        AssertPing(c);
    }

    [Fact]
    public void HelloWithSetNameAndAuth()
    {
        using RespTestClient c = server.Connect();
        string reply = c.Call("HELLO", "3", "SETNAME", "n");
        Assert.Equal(HelloReply(3, IdOf(reply)), reply);
        // Without requirepass the default user takes any password, as redis-server does.
        Assert.Equal(HelloReply(3, IdOf(reply)), c.Call("HELLO", "3", "AUTH", "default", "x"));
        Assert.Equal(HelloReply(2, IdOf(reply)), c.Call("hello", "2", "setname", ""));
        AssertPing(c);
    }

    [Fact]
    public void ResetReturnsToDefaults()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "2"));
        Assert.Equal("+OK\r\n", c.Call("SET", "conn:reset", "db2"));
        c.Call("HELLO", "3");
        Assert.Equal("_\r\n", c.Call("GET", "conn:reset:missing"));
        Assert.Equal("+RESET\r\n", c.Call("RESET"));
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:reset:missing")); // RESP2 again
        Assert.Equal("$-1\r\n", c.Call("GET", "conn:reset"));         // database 0 again
        Assert.Equal("-ERR wrong number of arguments for 'reset' command\r\n", c.Call("RESET", "x"));
        AssertPing(c);
    }

    [Fact]
    public void CommandNamesAreCaseInsensitive()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("set", "conn:case", "v"));
        Assert.Equal("$1\r\nv\r\n", c.Call("get", "conn:case"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GeT", "conn:case"));
        Assert.Equal("$1\r\nv\r\n", c.Call("gEt", "conn:case"));
        Assert.Equal("$1\r\nv\r\n", c.Call("sEt", "conn:case", "w", "nX", "gEt")); // options too
        Assert.Equal("+PONG\r\n", c.Call("PiNg"));
        c.SendRaw("pInG\r\n"); // inline too
        Assert.Equal("+PONG\r\n", c.ReadReply());
        AssertPing(c);
    }
}
