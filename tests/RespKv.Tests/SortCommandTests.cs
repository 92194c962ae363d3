using System.Globalization;
using System.Text;
using RespKv.Commands;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// SORT and SORT_RO over sets (and, with <c>BY nosort</c>, lists and sorted sets): a randomized model test against LINQ's ordering (numeric and ALPHA, BY string keys and
/// hash fields, GET, LIMIT, DESC), the score parser against C's <c>strtod</c> rules as Redis applies them, and the errors
/// redis-server 7.0.15 gives (the conformance family <c>sets</c> compares the same against a live redis-server).
/// </summary>
public sealed class SortCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static string Arr(IEnumerable<string?> items)
    {
        var sb = new StringBuilder();
        int n = 0;
        foreach (string? s in items)
        {
            sb.Append(s == null ? "$-1\r\n" : $"${Encoding.Latin1.GetByteCount(s)}\r\n{s}\r\n");
            n++;
        }
        return $"*{n}\r\n" + sb;
    }

    [Theory]
    [InlineData("12", 12.0)]
    [InlineData("  -1.5e2", -150.0)]
    [InlineData("", 0.0)]
    [InlineData(".5", 0.5)]
    [InlineData("5.", 5.0)]
    [InlineData("+inf", double.PositiveInfinity)]
    [InlineData("-Infinity", double.NegativeInfinity)]
    [InlineData("0e-400", 0.0)]
    public void ScoresParseAsStrtod(string text, double expected)
    {
        Assert.True(SortCommands.TryParseScore(Encoding.ASCII.GetBytes(text), out double score));
        Assert.Equal(expected, score);
    }

    [Theory]
    [InlineData("2 ")]
    [InlineData(" ")]
    [InlineData("abc")]
    [InlineData("nan")]
    [InlineData("1e400")]
    [InlineData("1e-400")]
    [InlineData("1e")]
    [InlineData("--1")]
    public void NonNumbersAreRefused(string text) => Assert.False(SortCommands.TryParseScore(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void ErrorsAsRedis()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":2\r\n", c.Call("SADD", "e:s", "a", "1"));
        Assert.Equal("-ERR One or more scores can't be converted into double\r\n", c.Call("SORT", "e:s"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SORT_RO", "e:s", "STORE", "e:d"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SORT", "e:s", "LIMIT", "1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("SORT", "e:s", "LIMIT", "x", "1"));
        Assert.Equal("+OK\r\n", c.Call("SET", "e:str", "v"));
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("SORT", "e:str"));
        // STORE writes a list of the sorted elements (replacing the destination), or deletes it for an empty result.
        Assert.Equal(":2\r\n", c.Call("SORT", "e:s", "ALPHA", "STORE", "e:d"));
        Assert.Equal("*2\r\n$1\r\n1\r\n$1\r\na\r\n", c.Call("LRANGE", "e:d", "0", "-1"));
        Assert.Equal(":2\r\n", c.Call("SORT", "e:s", "ALPHA", "GET", "#", "GET", "nosuch_*", "LIMIT", "0", "1", "STORE", "e:d"));
        Assert.Equal("*2\r\n$1\r\n1\r\n$0\r\n\r\n", c.Call("LRANGE", "e:d", "0", "-1"));
        Assert.Equal(":0\r\n", c.Call("SORT", "e:none", "STORE", "e:d"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "e:d"));
        Assert.Equal("*0\r\n", c.Call("SORT", "e:none", "GET", "#", "GET", "x_*"));
    }

    /// <summary>Redis's LIMIT over <paramref name="ordered"/>: a negative offset is 0, a negative count takes the rest.</summary>
    private static IEnumerable<string> Limit(IEnumerable<string> ordered, long offset, long count) =>
        ordered.Skip((int)Math.Max(0, Math.Min(offset, int.MaxValue))).Take(count < 0 ? int.MaxValue : (int)Math.Min(count, int.MaxValue));

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 100)]
    [InlineData(3, 400)]
    public void SortedSetsSortByTheirMembersAndKeepScoreOrderUnsorted(int seed, int size)
    {
        using RespTestClient c = server.Connect();
        var random = new Random(seed);
        string key = $"zs:{seed}";
        c.Call("DEL", key);
        var members = new Dictionary<string, double>();
        while (members.Count < size) members[random.Next(-500, 500).ToString(CultureInfo.InvariantCulture)] = random.Next(20);
        foreach ((string member, double score) in members) c.Call("ZADD", key, score.ToString(CultureInfo.InvariantCulture), member);
        string[] byScore = members.OrderBy(m => m.Value).ThenBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key).ToArray();
        string[] numeric = members.Keys.OrderBy(m => long.Parse(m, CultureInfo.InvariantCulture)).ToArray();
        string[] alpha = members.Keys.OrderBy(m => m, StringComparer.Ordinal).ToArray();
        Assert.Equal(size <= 128 ? "$8\r\nlistpack\r\n" : "$8\r\nskiplist\r\n", c.Call("OBJECT", "ENCODING", key));
        for (int round = 0; round < 20; round++)
        {
            long offset = random.Next(-2, size + 2), count = random.Next(-2, size + 2);
            string o = offset.ToString(CultureInfo.InvariantCulture), n = count.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(Arr(Limit(numeric, offset, count)), c.Call("SORT", key, "LIMIT", o, n));
            Assert.Equal(Arr(Limit(alpha.Reverse(), offset, count)), c.Call("SORT_RO", key, "ALPHA", "DESC", "LIMIT", o, n));
            // BY nosort: score order, DESC from the highest, LIMIT a range of (reverse) ranks.
            Assert.Equal(Arr(Limit(byScore, offset, count)), c.Call("SORT", key, "BY", "nosort", "LIMIT", o, n));
            Assert.Equal(Arr(Limit(byScore.Reverse(), offset, count)), c.Call("SORT_RO", key, "BY", "nosort", "DESC", "LIMIT", o, n));
        }
        Assert.Equal(Arr(byScore.Reverse()), c.Call("SORT", key, "BY", "nosort", "DESC"));
        Assert.Equal($":{size}\r\n", c.Call("SORT", key, "BY", "nosort", "STORE", key + ":dst"));
        Assert.Equal(Arr(byScore), c.Call("LRANGE", key + ":dst", "0", "-1"));
        // Redis turns a listpack sorted set into a skiplist for SORT and SORT_RO (zsetConvert).
        Assert.Equal("$8\r\nskiplist\r\n", c.Call("OBJECT", "ENCODING", key));
    }

    [Fact]
    public void UnsortedListsAndStoredSetsFollowRedis()
    {
        using RespTestClient c = server.Connect();
        c.Call("DEL", "ns:l", "ns:s", "ns:d");
        c.Call("RPUSH", "ns:l", "3", "1", "b", "2");
        Assert.Equal(Arr(["3", "1", "b", "2"]), c.Call("SORT", "ns:l", "BY", "nosort"));
        // DESC reads the list from its tail; LIMIT counts from there.
        Assert.Equal(Arr(["2", "b", "1", "3"]), c.Call("SORT", "ns:l", "BY", "nosort", "DESC"));
        Assert.Equal(Arr(["b", "1"]), c.Call("SORT_RO", "ns:l", "BY", "nosort", "DESC", "LIMIT", "1", "2"));
        // A set stored unsorted is sorted ALPHA (BY dropped), DESC included.
        c.Call("SADD", "ns:s", "10", "9", "100", "2");
        Assert.Equal(":4\r\n", c.Call("SORT", "ns:s", "BY", "nosort", "STORE", "ns:d"));
        Assert.Equal(Arr(["10", "100", "2", "9"]), c.Call("LRANGE", "ns:d", "0", "-1"));
        Assert.Equal(":4\r\n", c.Call("SORT", "ns:s", "BY", "nosort", "DESC", "STORE", "ns:d"));
        Assert.Equal(Arr(["9", "2", "100", "10"]), c.Call("LRANGE", "ns:d", "0", "-1"));
    }

    [Fact]
    public void RandomizedSortsMatchAModel()
    {
        using RespTestClient c = server.Connect();
        var random = new Random(99);
        for (int round = 0; round < 60; round++)
        {
            string key = $"r:{round}";
            var members = new HashSet<string>();
            int size = random.Next(0, 40);
            bool numeric = random.Next(2) == 0;
            while (members.Count < size) members.Add(numeric ? random.Next(-500, 500).ToString() : "m" + random.Next(1000));
            if (members.Count > 0) Assert.StartsWith(":", c.Call(["SADD", key, .. members]));
            var weights = new Dictionary<string, long>();
            var names = new Dictionary<string, string>();
            foreach (string m in members)
            {
                if (random.Next(4) > 0)
                {
                    weights[m] = random.Next(-1000, 1000) * 1000 + weights.Count; // distinct: no ties to order
                    Assert.Equal("+OK\r\n", c.Call("SET", $"w:{round}:{m}", weights[m].ToString(CultureInfo.InvariantCulture)));
                }
                if (random.Next(3) > 0)
                {
                    names[m] = "n" + random.Next(100);
                    Assert.Equal(":1\r\n", c.Call("HSET", $"o:{round}:{m}", "name", names[m]));
                }
            }
            bool desc = random.Next(2) == 0, byWeight = random.Next(2) == 0;
            long offset = random.Next(-2, 45), count = random.Next(-2, 45);
            IEnumerable<string> ordered = byWeight
                ? (desc ? members.OrderByDescending(m => weights.GetValueOrDefault(m)).ThenByDescending(m => m, StringComparer.Ordinal)
                        : members.OrderBy(m => weights.GetValueOrDefault(m)).ThenBy(m => m, StringComparer.Ordinal))
                : numeric
                    ? (desc ? members.OrderByDescending(long.Parse) : members.OrderBy(long.Parse))
                    : (desc ? members.OrderByDescending(m => m, StringComparer.Ordinal) : members.OrderBy(m => m, StringComparer.Ordinal));
            long start = Math.Max(0, offset);
            List<string> page = [.. ordered.Skip((int)Math.Min(start, int.MaxValue)).Take(count < 0 ? int.MaxValue : (int)count)];
            var command = new List<string> { random.Next(2) == 0 ? "SORT" : "SORT_RO", key };
            if (byWeight) command.AddRange(["BY", $"w:{round}:*"]);
            if (!numeric && !byWeight) command.Add("ALPHA");
            if (desc) command.Add("DESC");
            command.AddRange(["LIMIT", offset.ToString(), count.ToString()]);
            command.AddRange(["GET", "#", "GET", $"o:{round}:*->name"]);
            string expected = Arr(page.SelectMany(m => new[] { m, names.GetValueOrDefault(m) }));
            Assert.Equal(expected, c.Call([.. command]));
        }
    }
}
