using System.Text;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// LCS, LOLWUT, MODULE and the latency reports (LATENCY DOCTOR, GRAPH, HISTOGRAM, INFO latencystats): replies from
/// redis.io's examples and Redis 7.0.15's sources (the conformance family <c>misc</c> compares the rest with redis-server).
/// </summary>
public sealed class MiscCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static string Bulk(string s) => $"${Encoding.UTF8.GetByteCount(s)}\r\n{s}\r\n";

    [Fact]
    public void LcsRepliesAsTheDocumentedExample()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MSET", "lcs:key1", "ohmytext", "lcs:key2", "mynewtext"));
        Assert.Equal(Bulk("mytext"), c.Call("LCS", "lcs:key1", "lcs:key2"));
        Assert.Equal(":6\r\n", c.Call("LCS", "lcs:key1", "lcs:key2", "LEN"));
        Assert.Equal("*4\r\n" + Bulk("matches") + "*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n" + Bulk("len") + ":6\r\n",
            c.Call("LCS", "lcs:key1", "lcs:key2", "IDX"));
        Assert.Equal("*4\r\n" + Bulk("matches") + "*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n" + Bulk("len") + ":6\r\n",
            c.Call("LCS", "lcs:key1", "lcs:key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"));
        Assert.Equal("-ERR If you want both the length and indexes, please just use IDX.\r\n", c.Call("LCS", "lcs:key1", "lcs:key2", "LEN", "IDX"));
        c.Call("RPUSH", "lcs:list", "x");
        Assert.Equal("-ERR The specified keys must contain string values\r\n", c.Call("LCS", "lcs:key1", "lcs:list"));
    }

    [Fact]
    public void LcsRefusesATableAboveProtoMaxBulkLen()
    {
        using RespTestClient c = server.Connect();
        string big = new('a', 12_000); // 12001² × 4 bytes > 512 MB
        c.Call("MSET", "lcs:big1", big, "lcs:big2", big);
        Assert.Equal("-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n", c.Call("LCS", "lcs:big1", "lcs:big2"));
        Assert.Equal(":0\r\n", c.Call("LCS", "lcs:big1", "lcs:missing", "LEN")); // a missing key is the empty string
    }

    [Fact]
    public void LolwutEndsWithTheVersion()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Bulk("Redis ver. 7.0.15\n"), c.Call("LOLWUT"));
        string schotter = c.Call("LOLWUT", "VERSION", "5", "20", "4", "6");
        Assert.EndsWith("Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n\r\n", schotter);
        Assert.Contains("\u00e2\u00a0", schotter); // Braille pixels (U+28xx in UTF-8, read as Latin-1)
        Assert.EndsWith("Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n\r\n", c.Call("LOLWUT", "VERSION", "6", "10", "5"));
    }

    [Fact]
    public async Task ModuleLoadAnswersAsAServerThatCannotLoadTheLibrary()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*0\r\n", c.Call("MODULE", "LIST"));
        Assert.StartsWith("-ERR MODULE command not allowed.", c.Call("MODULE", "LOAD", "/x.so"));
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableModuleCommand = ProtectedAction.Yes);
        using var allowed = new RespTestClient(host.Port);
        Assert.Equal("-ERR Error loading the extension. Please check the server logs.\r\n", allowed.Call("MODULE", "LOAD", "/x.so"));
        Assert.Equal("-ERR Error loading the extension. Please check the server logs.\r\n", allowed.Call("MODULE", "LOADEX", "/x.so", "ARGS", "a"));
        Assert.Equal("-ERR Error unloading module: no such module with that name\r\n", allowed.Call("MODULE", "UNLOAD", "x"));
    }

    [Fact]
    public async Task LatencyHistogramCountsEveryCallCumulatively()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        for (int i = 0; i < 50; i++) c.Call("SET", "k", "v");
        c.Call("CONFIG", "GET", "maxmemory");
        string reply = c.Call("LATENCY", "HISTOGRAM", "set", "config");
        Assert.StartsWith("*4\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:50\r\n$14\r\nhistogram_usec\r\n", reply);
        Assert.Contains("$10\r\nconfig|get\r\n*4\r\n$5\r\ncalls\r\n:1\r\n", reply);
        // The set's buckets: cumulative counts that grow and end at 50.
        string[] lines = reply.Split("\r\n");
        int start = Array.IndexOf(lines, "$14") + 3; // after "$14", "histogram_usec" and the "*N" header
        int pairs = int.Parse(lines[start - 1][1..]) / 2;
        long last = 0;
        for (int p = 0; p < pairs; p++)
        {
            long cumulative = long.Parse(lines[start + 2 * p + 1][1..]);
            Assert.True(cumulative > last);
            last = cumulative;
        }
        Assert.Equal(50, last);
        string info = c.Call("INFO", "latencystats");
        Assert.StartsWith("$", info);
        Assert.Contains("# Latencystats\r\n", info);
        Assert.Contains("\nlatency_percentiles_usec_set:p50=", info);
        Assert.Contains(",p99=", info);
        Assert.Contains(",p99.9=", info);
        Assert.DoesNotContain("latencystats", c.Call("INFO"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "RESETSTAT"));
        Assert.Equal("*0\r\n", c.Call("LATENCY", "HISTOGRAM", "set"));
    }

    [Fact]
    public void HistogramBucketsAndPercentilesAreHdrHistogramsOfTwoSignificantDigits()
    {
        var h = new LatencyHistograms.Histogram();
        for (int i = 0; i < 10; i++) h.Record(1000);        // 1 µs: bucket [1000, 1003]
        for (int i = 0; i < 10; i++) h.Record(5_000_000);   // 5 ms: bucket [4980736, 5013503]
        h.Record(0);                                         // clamped to 1 ns
        Assert.Equal(21, h.TotalCount);
        Assert.Equal(1003, h.ValueAtPercentile(50));
        Assert.Equal(5013503, h.ValueAtPercentile(99));
        Assert.Equal(1, h.ValueAtPercentile(0));
        Assert.Equal([(1, 11), (8454, 21)], h.Cumulative()); // levels 1024 ns × 2ⁿ, each its bucket's highest value in µs
    }

    [Fact]
    public void LatencyDoctorAndGraphDescribeTheSamples()
    {
        var options = new ServerOptions();
        Assert.StartsWith("I'm sorry, Dave, I can't do that.", LatencyReport.Doctor([], options, 1000, anonHugePages: false));
        options.LatencyMonitorThreshold = 100;
        Assert.StartsWith("Dave, no latency spike was observed", LatencyReport.Doctor([], options, 1000, anonHugePages: false));
        List<(long Time, long Latency)> samples = [(900, 120), (990, 300), (1000, 150)];
        string doctor = LatencyReport.Doctor([("command", 300, samples)], options, 1000, anonHugePages: false);
        Assert.StartsWith("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n" +
            "1. command: 3 latency spikes (average 190ms, mean deviation 73ms, period 33.33 sec). Worst all time event 300ms.\n\nI have a few advices for you:\n\n", doctor);
        Assert.Contains("- Check your Slow Log", doctor);
        string graph = LatencyReport.Graph("command", 300, samples, 1000);
        Assert.Equal("command - high 300 ms, low 120 ms (all time high 300 ms)\n" + new string('-', 80) + "\n" +
            " # \n | \n | \n_|#\n   \n110\nm0s\n s \n", graph);
    }
}
