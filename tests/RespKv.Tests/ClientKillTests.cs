using System.Globalization;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// CLIENT KILL, NO-EVICT, REPLY, GETREDIR, PAUSE and UNPAUSE, each reply and error compared with redis-server 7.0.15.
/// Tests that pause or kill run a private server, so they cannot disturb other tests.
/// </summary>
public sealed class ClientKillTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Ok = "+OK\r\n";
    private const string Pong = "+PONG\r\n";

    private static long IdOf(RespTestClient c) => long.Parse(c.Call("CLIENT", "ID").AsSpan(1).TrimEnd("\r\n"), CultureInfo.InvariantCulture);

    /// <summary>This connection's <c>addr</c> and <c>laddr</c> from CLIENT INFO.</summary>
    internal static (string Addr, string LAddr) AddressesOf(RespTestClient c)
    {
        string info = ServerCommandTests.Payload(c.Call("CLIENT", "INFO"));
        string Field(string name) => info.Split(' ').First(f => f.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        return (Field("addr"), Field("laddr"));
    }

    [Fact]
    public void KillErrorsMatchRedis()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'client|kill' command\r\n", c.Call("CLIENT", "KILL"));
        Assert.Equal("-ERR No such client\r\n", c.Call("CLIENT", "KILL", "1.2.3.4:5"));
        Assert.Equal("-ERR No such client\r\n", c.Call("CLIENT", "KILL", "ID"));
        Assert.Equal("-ERR client-id should be greater than 0\r\n", c.Call("CLIENT", "KILL", "ID", "abc"));
        Assert.Equal("-ERR client-id should be greater than 0\r\n", c.Call("CLIENT", "KILL", "ID", "0"));
        Assert.Equal("-ERR client-id should be greater than 0\r\n", c.Call("CLIENT", "KILL", "ID", "-1"));
        Assert.Equal(":0\r\n", c.Call("CLIENT", "KILL", "ID", "999999"));
        Assert.Equal("-ERR Unknown client type 'foo'\r\n", c.Call("CLIENT", "KILL", "TYPE", "foo"));
        Assert.Equal(":0\r\n", c.Call("CLIENT", "KILL", "TYPE", "master"));
        Assert.Equal(":0\r\n", c.Call("CLIENT", "KILL", "TYPE", "pubsub"));
        Assert.Equal(":0\r\n", c.Call("CLIENT", "KILL", "TYPE", "replica", "SKIPME", "no"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "KILL", "SKIPME", "maybe"));
        Assert.Equal("-ERR No such user 'nobody'\r\n", c.Call("CLIENT", "KILL", "USER", "nobody"));
        Assert.Equal(":0\r\n", c.Call("CLIENT", "KILL", "ADDR", "1.1.1.1:1"));
        Assert.Equal(":0\r\n", c.Call("CLIENT", "KILL", "LADDR", "1.1.1.1:1"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "KILL", "FOO", "bar"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "KILL", "ID", "1", "ID"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void KillByIdClosesTheOtherConnection()
    {
        using RespTestClient killer = server.Connect();
        using RespTestClient victim = server.Connect();
        long id = IdOf(victim);
        Assert.Equal(":1\r\n", killer.Call("CLIENT", "KILL", "ID", id.ToString(CultureInfo.InvariantCulture)));
        Assert.True(victim.IsClosedByServer());
        Assert.Equal(":0\r\n", killer.Call("CLIENT", "KILL", "ID", id.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(Pong, killer.Call("PING"));
    }

    [Fact]
    public void KillOldFormByAddressRepliesOkAndMayKillTheCaller()
    {
        using RespTestClient killer = server.Connect();
        using RespTestClient victim = server.Connect();
        (string addr, _) = AddressesOf(victim);
        Assert.Equal(Ok, killer.Call("CLIENT", "KILL", addr));
        Assert.True(victim.IsClosedByServer());
        Assert.Equal("-ERR No such client\r\n", killer.Call("CLIENT", "KILL", addr));
        Assert.Equal(Pong, killer.Call("PING"));

        // The old form does not skip the caller: it gets +OK, then its connection closes.
        (string own, _) = AddressesOf(killer);
        Assert.Equal(Ok, killer.Call("CLIENT", "KILL", own));
        Assert.True(killer.IsClosedByServer());
    }

    [Fact]
    public async Task KillFiltersCombineAndSkipMeDefaultsToYes()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var caller = new RespTestClient(host.Port);
        using var a = new RespTestClient(host.Port);
        using var b = new RespTestClient(host.Port);
        (string addrA, string laddr) = AddressesOf(a);
        Assert.Equal(Pong, b.Call("PING"));
        // ADDR and LADDR must both match.
        Assert.Equal(":0\r\n", caller.Call("CLIENT", "KILL", "ADDR", addrA, "LADDR", "1.1.1.1:1"));
        Assert.Equal(":1\r\n", caller.Call("CLIENT", "KILL", "ADDR", addrA, "LADDR", laddr));
        Assert.True(a.IsClosedByServer());
        // Every client is normal and user default; SKIPME yes (the default) spares the caller.
        Assert.Equal(":1\r\n", caller.Call("CLIENT", "KILL", "TYPE", "normal", "USER", "default"));
        Assert.True(b.IsClosedByServer());
        Assert.Equal(":0\r\n", caller.Call("CLIENT", "KILL", "LADDR", laddr));
        Assert.Equal(Pong, caller.Call("PING"));
        // SKIPME no: the caller counts itself, gets the reply, then is closed.
        Assert.Equal(":1\r\n", caller.Call("CLIENT", "KILL", "LADDR", laddr, "SKIPME", "no"));
        Assert.True(caller.IsClosedByServer());
    }

    [Fact]
    public void NoEvictSetsTheFlagShownByClientList()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'client|no-evict' command\r\n", c.Call("CLIENT", "NO-EVICT"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "NO-EVICT", "maybe"));
        Assert.Equal(Ok, c.Call("CLIENT", "NO-EVICT", "ON"));
        Assert.Contains(" flags=e ", ServerCommandTests.Payload(c.Call("CLIENT", "INFO")));
        using RespTestClient observer = server.Connect();
        string id = IdOf(c).ToString(CultureInfo.InvariantCulture);
        Assert.Equal("+OK\r\n+QUEUED\r\n", c.Call("MULTI") + c.Call("CLIENT", "ID"));
        Assert.Contains(" flags=xe ", ServerCommandTests.Payload(observer.Call("CLIENT", "LIST", "ID", id)));
        Assert.Equal(Ok, c.Call("DISCARD"));
        Assert.Equal(Ok, c.Call("CLIENT", "NO-EVICT", "off"));
        Assert.Contains(" flags=N ", ServerCommandTests.Payload(c.Call("CLIENT", "INFO")));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void GetRedirIsMinusOneWithoutTracking()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":-1\r\n", c.Call("CLIENT", "GETREDIR"));
        Assert.Equal("-ERR wrong number of arguments for 'client|getredir' command\r\n", c.Call("CLIENT", "GETREDIR", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ReplyOffAndSkipSuppressRepliesAsRedis()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'client|reply' command\r\n", c.Call("CLIENT", "REPLY"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CLIENT", "REPLY", "maybe"));
        Assert.Equal(Ok, c.Call("CLIENT", "REPLY", "ON"));

        // OFF: nothing until ON, whose +OK is the next reply read.
        c.SendRaw(RespTestClient.Encode("CLIENT", "REPLY", "OFF"));
        c.SendRaw(RespTestClient.Encode("SET", "ReplyOff:k", "v"));
        c.SendRaw(RespTestClient.Encode("FOO"));
        Assert.Equal(Ok, c.Call("CLIENT", "REPLY", "ON"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "ReplyOff:k"));

        // SKIP: only the next command's reply is dropped (even an error's).
        c.SendRaw(RespTestClient.Encode("CLIENT", "REPLY", "SKIP"));
        c.SendRaw(RespTestClient.Encode("FOO"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "ReplyOff:k"));

        // SKIP while OFF is ignored; SKIP then ON: ON turns replies on before answering, so its +OK is sent.
        c.SendRaw(RespTestClient.Encode("CLIENT", "REPLY", "OFF"));
        c.SendRaw(RespTestClient.Encode("CLIENT", "REPLY", "SKIP"));
        c.SendRaw(RespTestClient.Encode("PING"));
        Assert.Equal(Ok, c.Call("CLIENT", "REPLY", "ON"));
        c.SendRaw(RespTestClient.Encode("CLIENT", "REPLY", "SKIP"));
        Assert.Equal(Ok, c.Call("CLIENT", "REPLY", "ON"));
        Assert.Equal(Pong, c.Call("PING"));

        // OFF inside EXEC: the array header is already out, later replies are not (Redis 7.0.15: "*1\r\n").
        Assert.Equal(Ok, c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("CLIENT", "REPLY", "OFF"));
        c.SendRaw(RespTestClient.Encode("EXEC"));
        c.SendRaw(RespTestClient.Encode("PING"));
        // RESET turns replies back on: after EXEC's lone header, RESET's reply is the next thing sent.
        Assert.Equal("*1\r\n+RESET\r\n", c.Call("RESET"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ReplyOffStillCountsErrorsAndCalls()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        c.SendRaw(RespTestClient.Encode("CLIENT", "REPLY", "OFF"));
        c.SendRaw(RespTestClient.Encode("INCR", "nonint-free-key"));
        c.SendRaw(RespTestClient.Encode("SET", "x", "abc"));
        c.SendRaw(RespTestClient.Encode("INCR", "x"));
        Assert.Equal(Ok, c.Call("CLIENT", "REPLY", "ON"));
        string info = ServerCommandTests.Payload(c.Call("INFO", "commandstats", "errorstats"));
        Assert.Contains("cmdstat_incr:calls=2,", info);
        Assert.Contains(",rejected_calls=0,failed_calls=1\r\n", info[info.IndexOf("cmdstat_incr:", StringComparison.Ordinal)..]);
        Assert.Contains("errorstat_ERR:count=1\r\n", info);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void PauseErrorsMatchRedis()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR wrong number of arguments for 'client|pause' command\r\n", c.Call("CLIENT", "PAUSE"));
        Assert.Equal("-ERR timeout is not an integer or out of range\r\n", c.Call("CLIENT", "PAUSE", "abc"));
        Assert.Equal("-ERR timeout is negative\r\n", c.Call("CLIENT", "PAUSE", "-1"));
        Assert.Equal("-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n", c.Call("CLIENT", "PAUSE", "abc", "foo"));
        Assert.Equal("-ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.\r\n", c.Call("client", "pause", "10", "ALL", "x"));
        Assert.Equal("-ERR wrong number of arguments for 'client|unpause' command\r\n", c.Call("CLIENT", "UNPAUSE", "x"));
        Assert.Equal(Ok, c.Call("CLIENT", "UNPAUSE"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task PauseWriteDelaysWritesAndTransactionsWithWritesUntilUnpause()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        using var reader = new RespTestClient(host.Port);
        using var writer = new RespTestClient(host.Port);
        using var tx = new RespTestClient(host.Port);
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "60000", "WRITE"));
        Assert.Equal("$-1\r\n", reader.Call("GET", "k"));
        Assert.Equal(Ok, reader.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", reader.Call("GET", "k"));
        Assert.Equal("*1\r\n$-1\r\n", reader.Call("EXEC"));
        Task<string> write = Task.Run(() => writer.Call("SET", "k", "1"));
        // A write inside MULTI waits already when queued, as in Redis 7.0.15.
        Assert.Equal(Ok, tx.Call("MULTI"));
        Task<string> queued = Task.Run(() => tx.Call("INCR", "n"));
        await Task.Delay(300);
        Assert.False(write.IsCompleted);
        Assert.False(queued.IsCompleted);
        // Held-back clients show as blocked (flag b, their waiting command as cmd), as in Redis 7.0.15.
        string list = ServerCommandTests.Payload(admin.Call("CLIENT", "LIST"));
        Assert.Single(list.Split('\n'), line => line.Contains(" flags=b ", StringComparison.Ordinal) && line.Contains(" cmd=set ", StringComparison.Ordinal));
        Assert.Single(list.Split('\n'), line => line.Contains(" flags=xb ", StringComparison.Ordinal) && line.Contains(" cmd=incr ", StringComparison.Ordinal));
        Assert.Contains("\r\nblocked_clients:2\r\n", ServerCommandTests.Payload(admin.Call("INFO", "clients")));
        Assert.Equal(Pong, admin.Call("PING"));
        Assert.Equal(Ok, admin.Call("CLIENT", "UNPAUSE"));
        Assert.Equal(Ok, await write.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("+QUEUED\r\n", await queued.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("*1\r\n:1\r\n", tx.Call("EXEC"));
        Assert.Contains("\r\nblocked_clients:0\r\n", ServerCommandTests.Payload(admin.Call("INFO", "clients")));
        Assert.Equal(Pong, writer.Call("PING"));
    }

    [Fact]
    public async Task PauseWriteHoldsExecOfAQueuedWrite()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        using var tx = new RespTestClient(host.Port);
        Assert.Equal(Ok, tx.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", tx.Call("SET", "k", "v"));
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "400", "WRITE"));
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("*1\r\n+OK\r\n", tx.Call("EXEC"));
        Assert.True(started.ElapsedMilliseconds >= 250, $"EXEC returned after {started.ElapsedMilliseconds} ms");
        Assert.Equal(Pong, tx.Call("PING"));
    }

    [Fact]
    public async Task PauseAllHoldsEveryClientUntilItsTimeoutAndOnlyExtends()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        using var other = new RespTestClient(host.Port);
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "500", "ALL"));
        // A shorter WRITE pause neither shortens nor weakens it.
        var started = System.Diagnostics.Stopwatch.StartNew();
        Task<string> unpause = Task.Run(() => other.Call("CLIENT", "UNPAUSE"));
        Assert.Equal(Pong, admin.Call("PING"));
        Assert.True(started.ElapsedMilliseconds >= 350, $"PING returned after {started.ElapsedMilliseconds} ms");
        Assert.Equal(Ok, await unpause.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "400", "WRITE"));
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "100", "ALL"));
        started.Restart();
        Assert.Equal(Pong, admin.Call("PING"));
        Assert.True(started.ElapsedMilliseconds >= 250, $"PING returned after {started.ElapsedMilliseconds} ms");
        // A timeout that overflows Redis's end time ends at once (+OK, no pause).
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "9223372036854775807"));
        Assert.Equal(Pong, other.Call("PING"));
    }

    [Fact]
    public async Task PausedClientCanBeKilled()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        using var waiting = new RespTestClient(host.Port);
        long id = IdOf(waiting);
        Assert.Equal(Ok, admin.Call("CLIENT", "PAUSE", "60000", "WRITE"));
        waiting.SendRaw(RespTestClient.Encode("SET", "k", "v"));
        await Task.Delay(200);
        Assert.Equal(":1\r\n", admin.Call("CLIENT", "KILL", "ID", id.ToString(CultureInfo.InvariantCulture)));
        Assert.True(waiting.IsClosedByServer());
        Assert.Equal(Ok, admin.Call("CLIENT", "UNPAUSE"));
        Assert.Equal("$-1\r\n", admin.Call("GET", "k"));
        Assert.Equal(Pong, admin.Call("PING"));
    }
}
