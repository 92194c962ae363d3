using System.Text.RegularExpressions;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// LATENCY LATEST, HISTORY, RESET and HELP against redis-server 7.0.15's replies: with the default
/// latency-monitor-threshold 0 nothing is recorded; above 0, slow commands add samples.
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
    public void HelpIsRedisText()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(
            "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
            + "+DOCTOR\r\n"
            + "+    Return a human readable latency analysis report.\r\n"
            + "+GRAPH <event>\r\n"
            + "+    Return an ASCII latency graph for the <event> class.\r\n"
            + "+HISTORY <event>\r\n"
            + "+    Return time-latency samples for the <event> class.\r\n"
            + "+LATEST\r\n"
            + "+    Return the latest latency samples for all events.\r\n"
            + "+RESET [<event> ...]\r\n"
            + "+    Reset latency data of one or more <event> classes.\r\n"
            + "+    (default: reset all data for all event classes)\r\n"
            + "+HISTOGRAM [COMMAND ...]\r\n"
            + "+    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.\r\n"
            + "+    If no commands are specified then all histograms are replied.\r\n"
            + "+HELP\r\n"
            + "+    Prints this help.\r\n",
            c.Call("LATENCY", "HELP"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void SeriesKeepOneSamplePerSecondItsMaximumAnd160Samples()
    {
        var monitor = new LatencyMonitor(new ServerOptions());
        monitor.AddSample("command", 5, 1000);
        monitor.AddSample("command", 3, 1000);   // same second, lower: ignored
        monitor.AddSample("command", 9, 1000);   // same second, higher: replaces
        monitor.AddSample("command", 2, 1001);
        monitor.AddSample("fast-command", 1, 1001);
        Assert.Equal([("command", 1001L, 2L, 9L), ("fast-command", 1001L, 1L, 1L)], monitor.Latest());
        Assert.Equal([(1000L, 9L), (1001L, 2L)], monitor.History("command"));
        for (long t = 2000; t < 2000 + LatencyMonitor.SamplesPerEvent + 5; t++) monitor.AddSample("command", t - 1990, t);
        List<(long Time, long Latency)> history = monitor.History("command");
        Assert.Equal(LatencyMonitor.SamplesPerEvent, history.Count);
        Assert.Equal(2005, history[0].Time);
        Assert.Equal(2000 + LatencyMonitor.SamplesPerEvent + 4, history[^1].Time);
        Assert.Equal(1, monitor.Reset("command"));
        Assert.Equal(0, monitor.Reset("command"));
        Assert.Equal(1, monitor.Reset(null));
        Assert.Empty(monitor.Latest());
    }

    [Fact]
    public async Task SlowCommandsAddSamplesAboveTheThreshold()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must be between 0 and 9223372036854775807 inclusive\r\n",
            c.Call("CONFIG", "SET", "latency-monitor-threshold", "-1"));
        // 200,000 keys make KEYS * take well over a millisecond.
        for (int batch = 0; batch < 200; batch++)
        {
            var mset = new List<string> { "MSET" };
            for (int i = 0; i < 1000; i++) mset.AddRange([$"latency:{batch}:{i}", "v"]);
            Assert.Equal("+OK\r\n", c.Call([.. mset]));
        }
        Assert.Equal("*0\r\n", c.Call("LATENCY", "LATEST"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "latency-monitor-threshold", "1"));
        Assert.StartsWith("*200000\r\n", c.Call("KEYS", "*"));
        Match latest = Regex.Match(c.Call("LATENCY", "LATEST"), "^\\*1\r\n\\*4\r\n\\$7\r\ncommand\r\n:(\\d+)\r\n:(\\d+)\r\n:(\\d+)\r\n$");
        Assert.True(latest.Success);
        Assert.InRange(long.Parse(latest.Groups[1].Value), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.True(long.Parse(latest.Groups[2].Value) >= 1);
        Assert.Equal(latest.Groups[2].Value, latest.Groups[3].Value);
        // KEYS' sample; on a loaded machine LATENCY LATEST itself may take over 1 ms and add a sample in a later second.
        Assert.Matches("^\\*[12]\r\n(\\*2\r\n:\\d+\r\n:\\d+\r\n){1,2}$", c.Call("LATENCY", "HISTORY", "command"));
        Assert.Equal(":1\r\n", c.Call("LATENCY", "RESET", "command", "nosuch"));
        Assert.Equal("*0\r\n", c.Call("LATENCY", "LATEST"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
