using System.Globalization;
using System.Text.RegularExpressions;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>CLIENT subcommands against Redis 7.0.15's replies.</summary>
public sealed class ClientCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Pong = "+PONG\r\n";

    private static long Id(RespTestClient c)
    {
        string reply = c.Call("CLIENT", "ID");
        Assert.Matches(@"^:\d+\r\n$", reply);
        return long.Parse(reply.AsSpan(1, reply.Length - 3), CultureInfo.InvariantCulture);
    }

    /// <summary>The whole CLIENT LIST line RespKv writes for a client, with the fields that vary as patterns.</summary>
    private static string LinePattern(long id, int port, string name = "", int db = 0, int argvMem = 10, string cmd = "client\\|info",
        int resp = 2, int qbuf = 0) =>
        $@"id={id} addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:{port} fd=-1 name={name} age=\d+ idle=\d+ flags=N db={db} " +
        $@"sub=0 psub=0 ssub=0 multi=-1 qbuf={qbuf} qbuf-free=0 argv-mem={argvMem} multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 " +
        $@"tot-mem={argvMem} events=r cmd={cmd} user=default redir=-1 resp={resp}\n";

    [Fact]
    public void ClientIdIsUniquePerConnectionAndIncreasing()
    {
        using RespTestClient a = server.Connect();
        // The server creates a connection's session (and its id) after accepting it: b connects only once a's session
        // has answered, so "b connected later" holds on the server too.
        long ida = Id(a);
        using RespTestClient b = server.Connect();
        long idb = Id(b);
        Assert.True(idb > ida);
        Assert.Equal($":{ida}\r\n", a.Call("CLIENT", "ID"));
        Assert.Equal("-ERR wrong number of arguments for 'client|id' command\r\n", a.Call("CLIENT", "ID", "x"));
        Assert.Equal(Pong, a.Call("PING"));
        Assert.Equal(Pong, b.Call("PING"));
    }

    [Fact]
    public void SetNameGetNameAndClear()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("$-1\r\n", c.Call("CLIENT", "GETNAME"));
        Assert.Equal("+OK\r\n", c.Call("CLIENT", "SETNAME", "setname-test"));
        Assert.Equal("$12\r\nsetname-test\r\n", c.Call("client", "getname"));
        Assert.Equal("+OK\r\n", c.Call("CLIENT", "SETNAME", ""));
        Assert.Equal("$-1\r\n", c.Call("CLIENT", "GETNAME"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void SetNameRejectsSpacesAndSpecialCharacters()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("CLIENT", "SETNAME", "kept"));
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", c.Call("CLIENT", "SETNAME", "a b"));
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", c.Call("CLIENT", "SETNAME", "a\nb"));
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", c.Call("CLIENT", "SETNAME", "caf\xc3\xa9"));
        Assert.Equal("$4\r\nkept\r\n", c.Call("CLIENT", "GETNAME"));
        Assert.Equal("-ERR wrong number of arguments for 'client|setname' command\r\n", c.Call("CLIENT", "SETNAME"));
        Assert.Equal("-ERR wrong number of arguments for 'client|setname' command\r\n", c.Call("CLIENT", "SETNAME", "a", "b"));
        Assert.Equal("-ERR wrong number of arguments for 'client|getname' command\r\n", c.Call("CLIENT", "GETNAME", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ClientInfoDescribesTheCallerInRedisFormat()
    {
        using RespTestClient c = server.Connect();
        long id = Id(c);
        string reply = c.Call("CLIENT", "INFO");
        string line = ServerCommandTests.Payload(reply);
        // qbuf: the request being run, as Redis's sdslen(querybuf) (26 bytes of RESP for CLIENT INFO).
        Assert.Matches("^" + LinePattern(id, server.Port, cmd: @"client\|info", qbuf: 26) + "$", line);
        Assert.Equal("-ERR wrong number of arguments for 'client|info' command\r\n", c.Call("CLIENT", "INFO", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ClientInfoFollowsNameDatabaseAndProtocol()
    {
        using RespTestClient c = server.Connect();
        long id = Id(c);
        c.Call("CLIENT", "SETNAME", "info-fields");
        c.Call("SELECT", "3");
        c.Call("HELLO", "3");
        string reply = c.Call("CLIENT", "INFO");
        Assert.StartsWith("=", reply);
        Assert.Matches("^" + LinePattern(id, server.Port, name: "info-fields", db: 3, resp: 3, qbuf: 26) + "$",
            ServerCommandTests.Payload(reply));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void SetInfoIsUnknownAsInRedis70()
    {
        // CLIENT SETINFO arrived in Redis 7.2; 7.0.15 answers this, and clients that send it on connect ignore the error.
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR unknown subcommand 'setinfo'. Try CLIENT HELP.\r\n", c.Call("CLIENT", "setinfo", "lib-name", "redis-py"));
        Assert.Equal("-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n", c.Call("CLIENT", "SETINFO", "LIB-VER", "1"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ClientListShowsEveryConnectionOneLineEach()
    {
        using RespTestClient a = server.Connect();
        // The server creates a connection's session (and its id) after accepting it: b connects only once a's session
        // has answered, so "b connected later" holds on the server too.
        long ida = Id(a);
        using RespTestClient b = server.Connect();
        long idb = Id(b);
        b.Call("CLIENT", "SETNAME", "list-b");
        b.Call("CLIENT", "ID");
        string reply = a.Call("CLIENT", "LIST");
        string text = ServerCommandTests.Payload(reply);
        Assert.EndsWith("\n", text);
        string[] lines = text[..^1].Split('\n');
        Assert.True(lines.Length >= 2, text);
        Assert.Single(lines, l => Regex.IsMatch(l + "\n", "^" + LinePattern(ida, server.Port, cmd: @"client\|list", qbuf: 26) + "$"));
        Assert.Single(lines, l => Regex.IsMatch(l + "\n", "^" + LinePattern(idb, server.Port, name: "list-b", argvMem: 0, cmd: @"client\|id") + "$"));
        Assert.Equal(Pong, a.Call("PING"));
        Assert.Equal(Pong, b.Call("PING"));
    }

    [Fact]
    public void ClientListFiltersByTypeAndId()
    {
        using RespTestClient a = server.Connect();
        // The server creates a connection's session (and its id) after accepting it: b connects only once a's session
        // has answered, so "b connected later" holds on the server too.
        long ida = Id(a);
        using RespTestClient b = server.Connect();
        long idb = Id(b);
        string byId = ServerCommandTests.Payload(a.Call("CLIENT", "LIST", "ID", idb.ToString(CultureInfo.InvariantCulture), "999999", ida.ToString(CultureInfo.InvariantCulture), idb.ToString(CultureInfo.InvariantCulture)));
        string[] lines = byId[..^1].Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"id={idb} ", lines[0]);
        Assert.StartsWith($"id={ida} ", lines[1]);
        Assert.StartsWith($"id={idb} ", lines[2]);
        Assert.Contains(" argv-mem=0 ", lines[0]);
        Assert.DoesNotContain(" argv-mem=0 ", lines[1]);
        Assert.Equal("$0\r\n\r\n", a.Call("CLIENT", "LIST", "ID", "-1", "0"));
        string normal = ServerCommandTests.Payload(a.Call("CLIENT", "LIST", "TYPE", "NORMAL"));
        Assert.Contains($"id={ida} ", normal);
        Assert.Contains($"id={idb} ", normal);
        Assert.Equal("$0\r\n\r\n", a.Call("CLIENT", "LIST", "TYPE", "pubsub"));
        Assert.Equal("$0\r\n\r\n", a.Call("CLIENT", "LIST", "TYPE", "master"));
        Assert.Equal("$0\r\n\r\n", a.Call("CLIENT", "LIST", "TYPE", "replica"));
        Assert.Equal("$0\r\n\r\n", a.Call("CLIENT", "LIST", "TYPE", "slave"));
        Assert.Equal(Pong, a.Call("PING"));
    }

    [Fact]
    public void ClientListRejectsBadArguments()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR Unknown client type 'foo'\r\n", c.Call("CLIENT", "LIST", "TYPE", "foo"));
        Assert.Equal("-ERR Invalid client ID\r\n", c.Call("CLIENT", "LIST", "ID", "x"));
        Assert.Equal("-ERR Invalid client ID\r\n", c.Call("CLIENT", "LIST", "ID", "3", "TYPE", "normal"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "LIST", "ID"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "LIST", "TYPE"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "LIST", "foo"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "LIST", "TYPE", "normal", "ID", "3"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ClientListInResp3IsVerbatim()
    {
        using RespTestClient c = server.Connect();
        long id = Id(c);
        c.Call("HELLO", "3");
        string reply = c.Call("CLIENT", "LIST", "ID", id.ToString(CultureInfo.InvariantCulture));
        Assert.Matches("^=\\d+\r\ntxt:" + LinePattern(id, server.Port, argvMem: 12 + id.ToString(CultureInfo.InvariantCulture).Length, cmd: @"client\|list", resp: 3,
            qbuf: Persistence.AofTestSupport.Record("CLIENT", "LIST", "ID", id.ToString(CultureInfo.InvariantCulture)).Length) + "\r\n$", reply);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ClientHelpAndUnknownSubcommands()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(
            "*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n" +
            "+CACHING (YES|NO)\r\n+    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.\r\n" +
            "+GETREDIR\r\n+    Return the client ID we are redirecting to when tracking is enabled.\r\n" +
            "+GETNAME\r\n+    Return the name of the current connection.\r\n" +
            "+ID\r\n+    Return the ID of the current connection.\r\n" +
            "+INFO\r\n+    Return information about the current client connection.\r\n" +
            "+KILL <ip:port>\r\n+    Kill connection made from <ip:port>.\r\n" +
            "+KILL <option> <value> [<option> <value> [...]]\r\n+    Kill connections. Options are:\r\n" +
            "+    * ADDR (<ip:port>|<unixsocket>:0)\r\n+      Kill connections made from the specified address\r\n" +
            "+    * LADDR (<ip:port>|<unixsocket>:0)\r\n+      Kill connections made to specified local address\r\n" +
            "+    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)\r\n+      Kill connections by type.\r\n" +
            "+    * USER <username>\r\n+      Kill connections authenticated by <username>.\r\n" +
            "+    * SKIPME (YES|NO)\r\n+      Skip killing current connection (default: yes).\r\n" +
            "+LIST [options ...]\r\n+    Return information about client connections. Options:\r\n" +
            "+    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)\r\n+      Return clients of specified type.\r\n" +
            "+UNPAUSE\r\n+    Stop the current client pause, resuming traffic.\r\n" +
            "+PAUSE <timeout> [WRITE|ALL]\r\n+    Suspend all, or just write, clients for <timeout> milliseconds.\r\n" +
            "+REPLY (ON|OFF|SKIP)\r\n+    Control the replies sent to the current connection.\r\n" +
            "+SETNAME <name>\r\n+    Assign the name <name> to the current connection.\r\n" +
            "+UNBLOCK <clientid> [TIMEOUT|ERROR]\r\n+    Unblock the specified blocked client.\r\n" +
            "+TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]\r\n+         [OPTIN] [OPTOUT] [NOLOOP]\r\n" +
            "+    Control server assisted client side caching.\r\n" +
            "+TRACKINGINFO\r\n+    Report tracking status for the current connection.\r\n" +
            "+NO-EVICT (ON|OFF)\r\n+    Protect current client connection from eviction.\r\n" +
            "+HELP\r\n+    Prints this help.\r\n",
            c.Call("CLIENT", "HELP"));
        Assert.Equal("-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n", c.Call("CLIENT", "foo"));
        Assert.Equal("-ERR unknown subcommand 'trackingx'. Try CLIENT HELP.\r\n", c.Call("CLIENT", "trackingx", "on"));
        Assert.Equal("-ERR wrong number of arguments for 'client' command\r\n", c.Call("CLIENT"));
        Assert.Equal(Pong, c.Call("PING"));
    }
}
