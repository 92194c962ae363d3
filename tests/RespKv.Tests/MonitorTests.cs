using System.Text.RegularExpressions;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// MONITOR: the lines and their order compared with what redis-server 7.0.15 streamed for the same commands
/// (timestamps aside). Each test runs a private server, so no other test's commands show up.
/// </summary>
public sealed partial class MonitorTests
{
    private const string Ok = "+OK\r\n";
    private const string Pong = "+PONG\r\n";

    /// <summary>Reads one monitor line, checks its timestamp shape and returns the part after it.</summary>
    private static string ReadLine(RespTestClient monitor)
    {
        string line = monitor.ReadReply();
        Match m = LinePattern().Match(line);
        Assert.True(m.Success, $"not a MONITOR line: {line}");
        long seconds = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        return m.Groups[2].Value;
    }

    private static string AddressOf(RespTestClient c) => ClientKillTests.AddressesOf(c).Addr;

    [Fact]
    public async Task StreamsCommandsInRedisFormatWithAuthRedacted()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var monitor = new RespTestClient(host.Port);
        using var c = new RespTestClient(host.Port);
        string addr = AddressOf(c);
        Assert.Equal(Ok, monitor.Call("MONITOR"));

        c.Call("SET", "k", "v \"q\"\n\u0001\u00ff\\");
        c.Call("AUTH", "pw");
        c.Call("AUTH", "u", "pw");
        c.Call("HELLO", "3", "AUTH", "default", "x");
        c.Call("HELLO", "2", "SETNAME", "z");
        c.Call("SELECT", "1");
        c.Call("MULTI");
        c.Call("SET", "a", "1");
        c.Call("INCR", "a");
        c.Call("EXEC");
        c.Call("CONFIG", "GET", "port");   // admin: not shown
        c.Call("CLIENT", "LIST");          // admin: not shown
        c.Call("FOO");                     // rejected: not shown
        c.Call("GET");                     // rejected: not shown
        c.Call("CLIENT", "SETNAME", "x");
        c.Call("MULTI");
        c.Call("GET", "k");                // queued, then discarded: not shown
        c.Call("DISCARD");
        c.Call("ECHO", "");
        c.Call("QUIT");

        string[] expected =
        [
            $"[0 {addr}] \"SET\" \"k\" \"v \\\"q\\\"\\n\\x01\\xff\\\\\"",
            $"[0 {addr}] \"AUTH\" \"(redacted)\"",
            $"[0 {addr}] \"AUTH\" \"(redacted)\" \"(redacted)\"",
            $"[0 {addr}] \"HELLO\" \"3\" \"AUTH\" \"(redacted)\" \"(redacted)\"",
            $"[0 {addr}] \"HELLO\" \"2\" \"SETNAME\" \"z\"",
            $"[1 {addr}] \"SELECT\" \"1\"",
            $"[1 {addr}] \"MULTI\"",
            $"[1 {addr}] \"SET\" \"a\" \"1\"",
            $"[1 {addr}] \"INCR\" \"a\"",
            $"[1 {addr}] \"EXEC\"",
            $"[1 {addr}] \"CLIENT\" \"SETNAME\" \"x\"",
            $"[1 {addr}] \"MULTI\"",
            $"[1 {addr}] \"DISCARD\"",
            $"[1 {addr}] \"ECHO\" \"\"",
            $"[1 {addr}] \"QUIT\"",
        ];
        foreach (string line in expected) Assert.Equal(line, ReadLine(monitor));
    }

    [Fact]
    public async Task MonitorMayNotTouchKeysAndSeesItsOwnCommandsAfterTheirReplies()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var monitor = new RespTestClient(host.Port);
        string addr = AddressOf(monitor);
        Assert.Equal(Ok, monitor.Call("MONITOR"));
        Assert.Equal("-ERR Replica can't interact with the keyspace\r\n", monitor.Call("GET", "k"));
        Assert.Equal("-ERR Replica can't interact with the keyspace\r\n", monitor.Call("SET", "k", "v"));
        Assert.Equal(Pong, monitor.Call("PING"));
        Assert.Equal($"[0 {addr}] \"PING\"", ReadLine(monitor));
        // MONITOR again: no reply (the next reply is PING's); MONITOR inside EXEC is refused.
        monitor.SendRaw(RespTestClient.Encode("MONITOR"));
        Assert.Equal(Pong, monitor.Call("PING"));
        Assert.Equal($"[0 {addr}] \"PING\"", ReadLine(monitor));
        Assert.Equal(Ok, monitor.Call("MULTI"));
        Assert.Equal($"[0 {addr}] \"MULTI\"", ReadLine(monitor));
        Assert.Equal("+QUEUED\r\n", monitor.Call("MONITOR"));
        Assert.Equal("*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n", monitor.Call("EXEC"));
        Assert.Equal($"[0 {addr}] \"EXEC\"", ReadLine(monitor));
        Assert.Contains(" flags=O ", ServerCommandTests.Payload(monitor.Call("CLIENT", "INFO")));
        Assert.Equal($"[0 {addr}] \"CLIENT\" \"INFO\"", ReadLine(monitor));
        // RESET leaves MONITOR mode.
        Assert.Equal("+RESET\r\n", monitor.Call("RESET"));
        Assert.Equal("$-1\r\n", monitor.Call("GET", "k"));
        Assert.Equal(Pong, monitor.Call("PING"));
    }

    [Fact]
    public async Task EveryMonitorGetsLinesFromManyClientsAndDisconnectingStopsTheFeed()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var first = new RespTestClient(host.Port);
        using var second = new RespTestClient(host.Port);
        Assert.Equal(Ok, first.Call("MONITOR"));
        Assert.Equal(Ok, second.Call("MONITOR"));
        Assert.Equal(2, host.Server.Clients.Monitors.Count);
        const int Clients = 4, Commands = 50;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => Task.Run(() =>
        {
            using var c = new RespTestClient(host.Port);
            for (int j = 0; j < Commands; j++) Assert.Equal(":" + (j + 1) + "\r\n", c.Call("INCR", "counter" + i));
        })));
        foreach (RespTestClient monitor in new[] { first, second })
        {
            var perClient = new int[Clients];
            for (int n = 0; n < Clients * Commands; n++)
            {
                Match m = IncrPattern().Match(ReadLine(monitor));
                Assert.True(m.Success);
                perClient[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]++;
            }
            Assert.All(perClient, count => Assert.Equal(Commands, count));
        }
        second.Dispose();
        for (int i = 0; i < 100 && host.Server.Clients.Monitors.Count > 1; i++) await Task.Delay(20);
        Assert.Equal(1, host.Server.Clients.Monitors.Count);
        using var c2 = new RespTestClient(host.Port);
        Assert.Equal(Pong, c2.Call("PING"));
        Assert.EndsWith("\"PING\"", ReadLine(first));
    }

    [GeneratedRegex(@"^\+(\d+)\.\d{6} (\[.*)\r\n$", RegexOptions.Singleline)]
    private static partial Regex LinePattern();

    [GeneratedRegex("^\\[0 [^\\]]+\\] \"INCR\" \"counter(\\d+)\"$")]
    private static partial Regex IncrPattern();
}
