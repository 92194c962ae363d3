using System.Net.Sockets;
using System.Text;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Malformed requests through a real socket: each is answered with redis-server 7.0.15's exact error
/// and the connection is closed, while another client connected meanwhile keeps being served. Also
/// command-level errors (unknown command with its 128-byte truncation, arity, integer, syntax) that
/// keep the connection open, and a 100 MB SET sent in small writes.
/// </summary>
public sealed class ProtocolErrorTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    /// <summary>
    /// Sends <paramref name="input"/> on a fresh connection and asserts the error reply, then that the
    /// server closed that connection, while a bystander connected beforehand answers PING before and after.
    /// </summary>
    private void AssertProtocolError(string input, string expectedReply)
    {
        using RespTestClient bystander = server.Connect();
        Assert.Equal("+PONG\r\n", bystander.Call("PING"));
        using RespTestClient c = server.Connect();
        c.SendRaw(input);
        Assert.Equal(expectedReply, c.ReadReply());
        Assert.True(c.IsClosedByServer());
        Assert.Equal("+PONG\r\n", bystander.Call("PING"));
    }

    [Theory]
    [InlineData("*abc\r\n")]
    [InlineData("*\r\n")]
    [InlineData("*01\r\n")]
    [InlineData("*+1\r\n")]
    // Redis 7.0 accepts counts up to INT_MAX (so redis-server rejects *2147483648 with this text);
    // RespKv intentionally keeps Redis 6's cap of 1,048,576 arguments, so *1048577 is rejected too.
    [InlineData("*2147483648\r\n")]
    [InlineData("*1048577\r\n")]
    public void InvalidMultibulkLengthClosesTheConnection(string input) =>
        AssertProtocolError(input, "-ERR Protocol error: invalid multibulk length\r\n");

    [Theory]
    [InlineData("*1\r\n$-1\r\n")]
    [InlineData("*1\r\n$abc\r\n")]
    [InlineData("*1\r\n$536870913\r\n")]
    [InlineData("*1\r\n$\r\n")]
    [InlineData("*1\r\n$04\r\nPING\r\n")]
    [InlineData("*1\r\n$4\nPING\r\n")]
    public void InvalidBulkLengthClosesTheConnection(string input) =>
        AssertProtocolError(input, "-ERR Protocol error: invalid bulk length\r\n");

    [Fact]
    public void MissingDollarClosesTheConnection() =>
        AssertProtocolError("*1\r\nx3\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n");

    [Theory]
    [InlineData("\"abc\r\n")]
    [InlineData("'abc\r\n")]
    [InlineData("SET \"a\"b c\r\n")]
    public void UnbalancedQuotesCloseTheConnection(string input) =>
        AssertProtocolError(input, "-ERR Protocol error: unbalanced quotes in request\r\n");

    [Fact]
    public void InlineRequestOver64KbWithoutNewlineClosesTheConnection() =>
        AssertProtocolError(new string('a', 64 * 1024 + 10), "-ERR Protocol error: too big inline request\r\n");

    [Fact]
    public void HeaderLinesOver64KbCloseTheConnection()
    {
        AssertProtocolError("*" + new string('1', 70_000), "-ERR Protocol error: too big mbulk count string\r\n");
        AssertProtocolError("*1\r\n$" + new string('1', 70_000), "-ERR Protocol error: too big bulk count string\r\n");
    }

    [Fact]
    public void RepliesBeforeTheBadFrameAreSentThenTheConnectionCloses()
    {
        using RespTestClient c = server.Connect();
        c.SendRaw("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nx3\r\nPING\r\n");
        Assert.Equal("+PONG\r\n", c.ReadReply());
        Assert.Equal("+PONG\r\n", c.ReadReply());
        Assert.Equal("-ERR Protocol error: expected '$', got 'x'\r\n", c.ReadReply());
        Assert.True(c.IsClosedByServer());
    }

    [Fact]
    public void FramesWithoutCommandsAreIgnored()
    {
        using RespTestClient c = server.Connect();
        c.SendRaw("*0\r\n*-1\r\n\r\n   \r\n*-5\r\nPING\r\n");
        Assert.Equal("+PONG\r\n", c.ReadReply());
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void BulkTerminatorBytesAreNotChecked()
    {
        using RespTestClient c = server.Connect();
        c.SendRaw("*2\r\n$4\r\nECHO\r\n$2\r\nhiXY*1\r\n$4\r\nPING\r\n");
        Assert.Equal("$2\r\nhi\r\n", c.ReadReply());
        Assert.Equal("+PONG\r\n", c.ReadReply());
    }

    [Fact]
    public void UnknownCommandListsItsArguments()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n", c.Call("foo", "a", "b"));
        Assert.Equal("-ERR unknown command 'foo', with args beginning with: \r\n", c.Call("foo"));
        // A NUL ends a name or argument (C's %s); CR and LF become spaces in any error reply.
        Assert.Equal("-ERR unknown command 'fo', with args beginning with: 'a' 'c' \r\n", c.Call("fo\0o", "a\0b", "c"));
        Assert.Equal("-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n", c.Call("foo", "a\r\nb"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void UnknownCommandTruncatesNameAndArgumentsAt128Bytes()
    {
        using RespTestClient c = server.Connect();
        string a = new('a', 100), b = new('b', 100);
        // The argument list stops growing once it reaches 128 bytes; each argument is cut to what remains.
        Assert.Equal($"-ERR unknown command 'foo', with args beginning with: '{a}' '{new string('b', 25)}' \r\n",
            c.Call("foo", a, b, "c"));
        Assert.Equal($"-ERR unknown command 'foo', with args beginning with: '{new string('a', 50)}' '{new string('b', 50)}' '{new string('c', 22)}' \r\n",
            c.Call("foo", new string('a', 50), new string('b', 50), new string('c', 50), "d"));
        Assert.Equal($"-ERR unknown command '{new string('f', 128)}', with args beginning with: '{new string('a', 128)}' \r\n",
            c.Call(new string('f', 200), new string('a', 200), "b"));
        // 127 bytes so far: one more argument fits, cut to 1 byte; at 128 the list stops.
        Assert.Equal($"-ERR unknown command 'foo', with args beginning with: '{new string('a', 124)}' 'b' \r\n",
            c.Call("foo", new string('a', 124), "bbb"));
        Assert.Equal($"-ERR unknown command 'foo', with args beginning with: '{new string('a', 125)}' \r\n",
            c.Call("foo", new string('a', 125), "b"));
        var many = new string[61];
        many[0] = "foo";
        for (int i = 1; i < many.Length; i++) many[i] = "x" + (i - 1);
        var expected = new StringBuilder("-ERR unknown command 'foo', with args beginning with: ");
        for (int i = 0; i <= 22; i++) expected.Append("'x").Append(i).Append("' ");
        Assert.Equal(expected.Append("\r\n").ToString(), c.Call(many));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void WrongArityNamesTheCommandInLowerCase()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'get' command\r\n", c.Call("get"));
        Assert.Equal("-ERR wrong number of arguments for 'get' command\r\n", c.Call("GET", "a", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'set' command\r\n", c.Call("SeT", "a"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void WrongTypeAgainstANonStringKey()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":1\r\n", c.Call("HSET", "perr:wt", "f", "v"));
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("GET", "perr:wt"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void IntegerAndSyntaxErrorsKeepTheConnection()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("INCRBY", "perr:i", "abc"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SET", "perr:s", "v", "foo"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void HundredMegabyteSetInSmallWritesThenGet()
    {
        const int size = 100 * 1024 * 1024;
        byte[] header = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n$10\r\nperr:large\r\n${size}\r\n");
        byte[] frame = new byte[header.Length + size + 2];
        header.CopyTo(frame, 0);
        for (int i = 0; i < size; i++) frame[header.Length + i] = (byte)('a' + i % 26);
        frame[^2] = (byte)'\r';
        frame[^1] = (byte)'\n';

        using RespTestClient c = server.Connect();
        for (int i = 0; i < frame.Length; i += 4096) c.SendRaw(frame.AsSpan(i, Math.Min(4096, frame.Length - i)).ToArray());
        Assert.Equal("+OK\r\n", c.ReadReply());
        Assert.Equal($":{size}\r\n", c.Call("STRLEN", "perr:large"));
        string reply = c.Call("GET", "perr:large");
        string prefix = $"${size}\r\n";
        Assert.Equal(prefix.Length + size + 2, reply.Length);
        Assert.StartsWith(prefix + "abcdefghijklmnopqrstuvwxyzabc", reply);
        int last = size - 1;
        Assert.Equal((char)('a' + last % 26), reply[prefix.Length + last]);
        Assert.Equal((char)('a' + 12345678 % 26), reply[prefix.Length + 12345678]);
        Assert.EndsWith("\r\n", reply);
        Assert.Equal("$5\r\nklmno\r\n", c.Call("GETRANGE", "perr:large", "52000010", "52000014"));
        Assert.Equal("+OK\r\n", c.Call("SET", "perr:large", "small")); // frees the 100 MB for the other tests
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
