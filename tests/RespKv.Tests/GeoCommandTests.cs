using System.Globalization;
using System.Text;
using RespKv.Commands;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using Xunit.Abstractions;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests;

/// <summary>
/// Geo commands: the scores, distances, coordinates and hashes redis-server 7.0.15 gives for known cities (values from
/// redis.io's GEOADD/GEODIST/GEOPOS/GEOHASH pages and a redis-server 7.0.15 session), seeded random GEOSEARCH, GEORADIUS and
/// store queries compared reply for reply with a fresh redis-server, and GEOADD's ZADD record in the AOF.
/// </summary>
public sealed class GeoCommandTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private static string Bulk(string s) => $"${Encoding.UTF8.GetByteCount(s)}\r\n{s}\r\n";

    [Fact]
    public void ScoresOfKnownCitiesAreRedisGeohashes()
    {
        Assert.Equal(3479099956230698UL, GeoHash.Score(13.361389, 38.115556));  // Palermo
        Assert.Equal(3479447370796909UL, GeoHash.Score(15.087269, 37.502669));  // Catania
        GeoHash.Decode(3479099956230698, out double lon, out double lat);
        Assert.Equal(13.361389338970184, lon);
        Assert.Equal(38.115556395496299, lat);
        Span<byte> hash = stackalloc byte[11];
        GeoHash.Text(3479099956230698, hash);
        Assert.Equal("sqc8b49rny0", Encoding.ASCII.GetString(hash));
    }

    [Fact]
    public void CitiesReplyAsRedis()
    {
        using RespTestClient c = server.Connect();
        c.Call("DEL", "geo:sicily");
        Assert.Equal(":2\r\n", c.Call("GEOADD", "geo:sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"));
        Assert.Equal(Bulk("3479099956230698"), c.Call("ZSCORE", "geo:sicily", "Palermo"));
        Assert.Equal(Bulk("166274.1516"), c.Call("GEODIST", "geo:sicily", "Palermo", "Catania"));
        Assert.Equal(Bulk("166.2742"), c.Call("GEODIST", "geo:sicily", "Palermo", "Catania", "km"));
        Assert.Equal(Bulk("103.3182"), c.Call("GEODIST", "geo:sicily", "Palermo", "Catania", "mi"));
        Assert.Equal("*2\r\n" + Bulk("sqc8b49rny0") + Bulk("sqdtr74hyu0"), c.Call("GEOHASH", "geo:sicily", "Palermo", "Catania"));
        Assert.Equal("*3\r\n*2\r\n" + Bulk("13.36138933897018433") + Bulk("38.11555639549629859") + "*2\r\n" + Bulk("15.08726745843887329") +
            Bulk("37.50266842333162032") + "*-1\r\n", c.Call("GEOPOS", "geo:sicily", "Palermo", "Catania", "NonExisting"));
        Assert.Equal("*2\r\n*2\r\n" + Bulk("Palermo") + Bulk("190.4424") + "*2\r\n" + Bulk("Catania") + Bulk("56.4413"),
            c.Call("GEORADIUS", "geo:sicily", "15", "37", "200", "km", "WITHDIST"));
        Assert.Equal("*2\r\n*3\r\n" + Bulk("Catania") + Bulk("56.4413") + ":3479447370796909\r\n*3\r\n" + Bulk("Palermo") + Bulk("190.4424") + ":3479099956230698\r\n",
            c.Call("GEOSEARCH", "geo:sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHDIST", "WITHHASH"));
        Assert.Equal("-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n", c.Call("GEOADD", "geo:sicily", "200", "100", "x"));
        Assert.Equal("-ERR could not decode requested zset member\r\n", c.Call("GEOSEARCH", "geo:sicily", "FROMMEMBER", "x", "BYRADIUS", "1", "m"));
    }

    [Fact]
    public async Task GeoAddIsLoggedAsTheZaddItRuns()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        Assert.Equal(":1\r\n", c.Call("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"));
        Assert.Equal(":0\r\n", c.Call("GEOADD", "g", "NX", "1", "1", "Palermo"));   // changes nothing: not logged
        Assert.Equal(":1\r\n", c.Call("GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d"));
        Assert.Equal("*0\r\n", c.Call("GEORADIUS", "g", "0", "0", "1", "km"));      // a write command that wrote nothing
        Assert.Equal("+PONG\r\n", c.Call("PING"));
        string expected = Record("SELECT", "0") + Record("zadd", "g", "CH", "3479099956230698", "Palermo") +
            Record("GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d");
        Assert.Equal(expected, Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof)));
    }

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// A search's probe (its trig-free rejection bound and the centre's terms computed once) decides every point and gives
    /// every distance exactly as Redis's formula (<see cref="GeoHash.Distance"/> of the decoded position against the radius):
    /// seeded random centres over the globe, points around them at up to three radii, and radii set to a point's own
    /// distance and one rounding step either side of it, so the points on the boundary are decided both ways.
    /// </summary>
    [Fact]
    public void SearchProbeDecidesAsRedisFormula()
    {
        var random = new Random(808);
        int inside = 0, outside = 0;
        for (int q = 0; q < 2000; q++)
        {
            double lon = -180 + random.NextDouble() * 360, lat = -85 + random.NextDouble() * 170;
            double radius = Math.Pow(10, random.NextDouble() * 7); // 1 m … 10,000 km
            double degrees = Math.Min(radius / 111_000 * 3, 90);
            for (int i = 0; i < 50; i++)
            {
                double plon = Math.Clamp(lon + (random.NextDouble() * 2 - 1) * degrees / Math.Max(0.05, Math.Cos(lat * Math.PI / 180)), -180, 180);
                double plat = Math.Clamp(lat + (random.NextDouble() * 2 - 1) * degrees, -85.05112878, 85.05112878);
                double score = GeoHash.Score(plon, plat);
                GeoHash.Decode(score, out double dlon, out double dlat);
                double exact = GeoHash.Distance(lon, lat, dlon, dlat);
                double r = i switch { 0 => exact, 1 => Math.BitDecrement(exact), 2 => Math.BitIncrement(exact), _ => radius };
                var shape = new GeoHash.Shape { Longitude = lon, Latitude = lat, Radius = r, Conversion = 1 };
                bool within = new GeoHash.Probe(shape).Within(score, out double plon2, out double plat2, out double distance);
                Assert.Equal(exact <= r, within);
                if (within)
                {
                    Assert.Equal(exact, distance);
                    Assert.Equal((dlon, dlat), (plon2, plat2));
                    inside++;
                }
                else outside++;
            }
        }
        Assert.True(inside > 10_000 && outside > 10_000, $"{inside} inside, {outside} outside");
    }

    /// <summary>
    /// A COUNT search sorts only its first k (a partial sort): its reply is the first k of the same search sorted in full,
    /// ties (a symmetric grid gives many equal distances) in search order, ascending and descending.
    /// </summary>
    [Fact]
    public void CountRepliesTheFirstOfTheFullOrder()
    {
        using RespTestClient c = server.Connect();
        c.Call("DEL", "geo:grid");
        var args = new List<string> { "GEOADD", "geo:grid" };
        for (int x = -20; x <= 20; x++)
            for (int y = -20; y <= 20; y++)
                args.AddRange([F(10 + x * 0.01), F(y * 0.01), $"p{x}:{y}"]);
        c.Call([.. args]);
        foreach (string order in new[] { "ASC", "DESC" })
        {
            string[] full = c.Call("GEOSEARCH", "geo:grid", "FROMLONLAT", "10", "0", "BYRADIUS", "25", "km", order, "WITHDIST")
                .Split("\r\n");
            int total = int.Parse(full[0][1..], CultureInfo.InvariantCulture);
            Assert.True(total > 1000, $"{total} matches");
            foreach (int k in new[] { 1, 2, 9, 17, 18, 100, 500, total - 1, total, total + 5 })
            {
                string[] some = c.Call("GEOSEARCH", "geo:grid", "FROMLONLAT", "10", "0", "BYRADIUS", "25", "km", order, "COUNT",
                    k.ToString(CultureInfo.InvariantCulture), "WITHDIST").Split("\r\n");
                int returned = Math.Min(k, total);
                Assert.Equal($"*{returned}", some[0]);
                // Each entry is *2, $len, member, $len, distance: five lines.
                Assert.Equal(full.Skip(1).Take(returned * 5), some.Skip(1).Take(returned * 5));
            }
        }
    }

    /// <summary>
    /// Seeded random points (clusters, a band near the antimeridian, near the poles and spread over the globe) and seeded
    /// random searches of every form, on RespKv and a fresh redis-server: every reply must be the same bytes.
    /// </summary>
    [Fact]
    public void RandomSearchesReplyAsRedisServer()
    {
        ReferenceRedis.Run(output, redis =>
        {
            using RespTestClient ours = server.Connect();
            ours.Call("DEL", "geo:rand", "geo:dst");
            var random = new Random(2007);
            double Between(double lo, double hi) => lo + random.NextDouble() * (hi - lo);
            (double Lon, double Lat) Point() => random.Next(4) switch
            {
                0 => (Between(13, 15.5), Between(37, 38.5)),
                1 => (Between(179, 180) * (random.Next(2) == 0 ? 1 : -1), Between(-10, 10)),
                2 => (Between(-180, 180), Between(80, 85.05) * (random.Next(2) == 0 ? 1 : -1)),
                _ => (Between(-180, 180), Between(-85.05, 85.05)),
            };
            var members = new List<string>();
            for (int batch = 0; batch < 20; batch++)
            {
                var args = new List<string> { "GEOADD", "geo:rand" };
                for (int i = 0; i < 100; i++)
                {
                    (double lon, double lat) = Point();
                    string name = $"m{batch}-{i}";
                    members.Add(name);
                    args.AddRange([F(lon), F(lat), name]);
                }
                Assert.Equal(redis.Call([.. args]), ours.Call([.. args]));
            }
            string[] units = ["m", "km", "ft", "mi"];
            string Unit() => units[random.Next(units.Length)];
            string Length(string unit) => F(unit switch { "m" => Between(0, 3e6), "ft" => Between(0, 1e7), "mi" => Between(0, 2000), _ => Between(0, 3000) });
            for (int q = 0; q < 400; q++)
            {
                var options = new List<string>();
                if (random.Next(2) == 0) options.Add("WITHDIST");
                if (random.Next(3) == 0) options.Add("WITHCOORD");
                if (random.Next(3) == 0) options.Add("WITHHASH");
                int order = random.Next(3);
                if (order == 1) options.Add("ASC");
                if (order == 2) options.Add("DESC");
                if (random.Next(3) == 0)
                {
                    options.AddRange(["COUNT", random.Next(1, 30).ToString(CultureInfo.InvariantCulture)]);
                    if (random.Next(3) == 0) options.Add("ANY");
                }
                (double lon, double lat) = Point();
                string unit = Unit();
                List<string> command = random.Next(4) switch
                {
                    0 => ["GEORADIUS", "geo:rand", F(lon), F(lat), Length(unit), unit],
                    1 => ["GEORADIUSBYMEMBER_RO", "geo:rand", members[random.Next(members.Count)], Length(unit), unit],
                    2 => ["GEOSEARCH", "geo:rand", "FROMLONLAT", F(lon), F(lat), "BYBOX", Length(unit), Length(unit), unit],
                    _ => ["GEOSEARCH", "geo:rand", "FROMMEMBER", members[random.Next(members.Count)], "BYRADIUS", Length(unit), unit],
                };
                command.AddRange(options);
                string expected = redis.Call([.. command]);
                Assert.True(expected == ours.Call([.. command]), string.Join(" ", command) + "\n" + expected);
                if (command[0] == "GEOSEARCH" && !options.Contains("WITHDIST") && !options.Contains("WITHCOORD") && !options.Contains("WITHHASH"))
                {
                    var store = new List<string> { "GEOSEARCHSTORE", "geo:dst" };
                    store.AddRange(command.Skip(1));
                    if (random.Next(2) == 0) store.Add("STOREDIST");
                    Assert.Equal(redis.Call([.. store]), ours.Call([.. store]));
                    Assert.Equal(redis.Call("ZRANGE", "geo:dst", "0", "-1", "WITHSCORES"), ours.Call("ZRANGE", "geo:dst", "0", "-1", "WITHSCORES"));
                }
            }
            string[] pair = [members[3], members[1500]];
            Assert.Equal(redis.Call("GEODIST", "geo:rand", pair[0], pair[1], "ft"), ours.Call("GEODIST", "geo:rand", pair[0], pair[1], "ft"));
            Assert.Equal(redis.Call([.. new[] { "GEOPOS", "geo:rand" }, .. members.Take(200)]), ours.Call([.. new[] { "GEOPOS", "geo:rand" }, .. members.Take(200)]));
            Assert.Equal(redis.Call([.. new[] { "GEOHASH", "geo:rand" }, .. members.Take(200)]), ours.Call([.. new[] { "GEOHASH", "geo:rand" }, .. members.Take(200)]));
            Assert.Equal(redis.Call("ZRANGE", "geo:rand", "0", "-1", "WITHSCORES"), ours.Call("ZRANGE", "geo:rand", "0", "-1", "WITHSCORES"));
        });
    }
}
