using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// LATENCY LATEST, HISTORY, RESET and HELP: RespKv records no latency events (it has no latency-monitor-threshold,
/// whose Redis default 0 disables the monitor), so the replies are redis-server 7.0.15's with monitoring off.
/// </summary>
public sealed class LatencyTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public void RepliesAreShapedAsRedisWithNoEvents()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*0\r\n", c.Call("LATENCY", "LATEST"));
        Assert.Equal("*0\r\n", c.Call("LATENCY", "HISTORY", "command"));
        Assert.Equal(":0\r\n", c.Call("LATENCY", "RESET"));
        Assert.Equal(":0\r\n", c.Call("LATENCY", "RESET", "command", "fast-command"));
        Assert.Equal("-ERR wrong number of arguments for 'latency|history' command\r\n", c.Call("LATENCY", "HISTORY"));
        Assert.Equal("-ERR wrong number of arguments for 'latency|latest' command\r\n", c.Call("LATENCY", "LATEST", "x"));
        Assert.Equal("-ERR wrong number of arguments for 'latency' command\r\n", c.Call("LATENCY"));
        Assert.Equal("-ERR unknown subcommand 'nosuch'. Try LATENCY HELP.\r\n", c.Call("LATENCY", "nosuch"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void HelpListsTheImplementedSubcommandsInRedisWording()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(
            "*10\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
            + "+HISTORY <event>\r\n+    Return time-latency samples for the <event> class.\r\n"
            + "+LATEST\r\n+    Return the latest latency samples for all events.\r\n"
            + "+RESET [<event> ...]\r\n+    Reset latency data of one or more <event> classes.\r\n"
            + "+    (default: reset all data for all event classes)\r\n"
            + "+HELP\r\n+    Prints this help.\r\n",
            c.Call("LATENCY", "HELP"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
