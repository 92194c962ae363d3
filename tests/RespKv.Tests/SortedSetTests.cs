using System.Globalization;
using System.Text;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Sorted sets: the packed trees against a .NET model (seeded random operations), score parsing and printing against the
/// texts redis-server 7.0.15 gives, the commands through a socket against the same model, exact RESP3 bytes (each checked
/// against redis-server 7.0.15), and the AOF rewrite and restart round trip.
/// </summary>
public sealed class SortedSetTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly Comparer<(double Score, string Member)> Order = Comparer<(double Score, string Member)>.Create((a, b) =>
        a.Score != b.Score ? a.Score.CompareTo(b.Score) : string.CompareOrdinal(a.Member, b.Member));

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    private static string S(byte[] b) => Encoding.ASCII.GetString(b);

    [Theory]
    [InlineData(1, 64, 1024, 64)]
    [InlineData(2, 3000, 1024, 64)]
    [InlineData(3, 20000, 1024, 64)]
    [InlineData(4, 20000, 96, 4)]
    [InlineData(5, 40000, 160, 5)]
    [InlineData(6, 20000, 96, 16)] // small leaves under 16-child nodes: the route count four at a time, with tied scores
    public void TheTreesAgreeWithASortedSetModel(int seed, int operations, int leafBytes, int children)
    {
        var random = new Random(seed);
        var set = new SortedSetValue(false, leafBytes, children);
        var model = new SortedSet<(double Score, string Member)>(Order);
        var scores = new Dictionary<string, double>();
        double[] special = [0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, 1, 2];
        string NewMember()
        {
            int n = random.Next(operations / 4 + 10);
            // Prefixes of one another, and now and then a member longer than a small leaf.
            return random.Next(50) == 0 ? "m" + n + new string('x', random.Next(leafBytes, 2 * leafBytes)) : "m" + n + new string('a', n % 3);
        }
        double NewScore() => random.Next(8) switch
        {
            0 => special[random.Next(special.Length)],
            1 or 2 => random.Next(5),
            _ => Math.Round(random.NextDouble() * 100, 2),
        };
        void Put(string member, double score)
        {
            if (scores.TryGetValue(member, out double old))
            {
                Assert.True(set.TryGetScore(B(member), out double current));
                Assert.Equal(old, current);
                set.UpdateScore(B(member), current, score);
                model.Remove((old, member));
            }
            else
            {
                Assert.False(set.Contains(B(member)));
                set.Add(B(member), score, long.MaxValue, long.MaxValue);
            }
            model.Add((score, member));
            scores[member] = score;
        }
        void Drop((double Score, string Member) entry)
        {
            model.Remove(entry);
            scores.Remove(entry.Member);
        }
        for (int op = 0; op < operations; op++)
        {
            string member = NewMember();
            int action = random.Next(20);
            if (action < 9) Put(member, NewScore()); // ZADD
            else if (action < 11 && scores.TryGetValue(member, out double old)) // ZINCRBY
            {
                double sum = old + random.Next(-3, 4);
                if (!double.IsNaN(sum)) Put(member, sum);
            }
            else if (action < 14) // ZREM
            {
                bool removed = set.Remove(B(member));
                Assert.Equal(scores.ContainsKey(member), removed);
                if (removed) Drop((scores[member], member));
            }
            else if (action < 16 && model.Count > 0) // ZPOPMIN / ZPOPMAX
            {
                bool high = random.Next(2) == 0;
                SortedSetValue.Position end = high ? set.Last : set.First;
                (double Score, string Member) expected = high ? model.Max : model.Min;
                Assert.Equal(expected, (end.Score, S(end.Member.ToArray())));
                set.Remove(end);
                Drop(expected);
            }
            else if (action < 17 && model.Count > 0) // ZREMRANGEBYRANK of a few
            {
                int start = random.Next(model.Count), count = Math.Min(model.Count - start, random.Next(1, 6));
                foreach ((double Score, string Member) e in model.Skip(start).Take(count).ToList()) Drop(e);
                for (int k = 0; k < count; k++) set.Remove(set.ByRank(start));
            }
            Assert.Equal(model.Count, set.Count);
            if (op % 97 == 0) set.Validate();
            if (model.Count == 0)
            {
                Assert.False(set.First.Exists);
                Assert.False(set.Last.Exists);
                continue;
            }
            // ZRANK, the member at a rank and a few steps either way from it.
            int rank = random.Next(model.Count);
            (double Score, string Member)[] around = model.Skip(Math.Max(0, rank - 3)).Take(7).ToArray();
            SortedSetValue.Position at = set.ByRank(rank);
            Assert.Equal(model.ElementAt(rank), (at.Score, S(at.Member.ToArray())));
            Assert.True(set.TryGetRank(B(model.ElementAt(rank).Member), out long found));
            Assert.Equal(rank, found);
            Assert.False(set.TryGetRank(B("absent"), out _));
            SortedSetValue.Position forward = at, back = at;
            for (int k = 1; k <= 3; k++)
            {
                forward = forward.Next;
                back = back.Previous;
                Assert.Equal(rank + k < model.Count, forward.Exists);
                Assert.Equal(rank - k >= 0, back.Exists);
                if (forward.Exists) Assert.Equal(around[Math.Min(rank, 3) + k].Member, S(forward.Member.ToArray()));
                if (back.Exists) Assert.Equal(around[Math.Min(rank, 3) - k].Member, S(back.Member.ToArray()));
            }
            // A score range's ranks, and ZSCAN's resume point.
            double min = random.Next(10) == 0 ? double.NegativeInfinity : Math.Round(random.NextDouble() * 100, 1), max = min + random.Next(30);
            var range = new ScoreRange(min, max, random.Next(2) == 0, random.Next(2) == 0);
            List<int> inRange = model.Select((e, i) => (e, i)).Where(x => range.AtLeastMin(x.e.Score) && range.AtMostMax(x.e.Score)).Select(x => x.i).ToList();
            Assert.Equal(inRange.Count > 0, set.TryGetRankRange(range, out long first, out long last));
            if (inRange.Count > 0) Assert.Equal((inRange[0], inRange[^1]), ((int)first, (int)last));
            (double Score, string Member) after = model.ElementAt(rank);
            SortedSetValue.Position resume = set.FirstAfter(after.Score, B(after.Member));
            Assert.Equal(rank + 1 < model.Count ? model.ElementAt(rank + 1).Member : null, resume.Exists ? S(resume.Member.ToArray()) : null);
        }
        set.Validate();
        Assert.Equal(model.Select(e => e.Member), Walk(set).Select(n => n.Member));
        Assert.Equal(model.Reverse().Select(e => e.Member), WalkBack(set).Select(n => n.Member));
        SortedSetValue copy = set.Clone();
        copy.Validate();
        Assert.Equal(Walk(set), Walk(copy));
        Assert.Equal(set.MemoryBytes, copy.MemoryBytes);
        // Emptied, the trees shrink back to one leaf each.
        while (set.Count > 0) set.Remove(random.Next(2) == 0 ? set.First : set.ByRank(random.Next((int)set.Count)));
        set.Validate();
        Assert.Equal(model.Count, copy.Count);
    }

    [Theory]
    [InlineData(false, 56)]
    [InlineData(true, 60)]
    public void TenByteMembersTakeLittleMoreThanTheirTwoPackedEntries(bool shuffled, int bytesPerMember)
    {
        // Two entries of 19 and 23 bytes per member. Loaded in order the score tree's leaves fill up; the member index (hash
        // order) and a shuffled load insert at random, where a full leaf first shares with a neighbour before splitting
        // (splits alone leave leaves about 70% full: 62 bytes per member in order). Everything counted: leaves, inner
        // nodes, separators.
        var set = new SortedSetValue(listpack: false);
        int[] order = Enumerable.Range(0, 50_000).ToArray();
        if (shuffled) new Random(11).Shuffle(order);
        foreach (int i in order) set.Add(B($"m{i:D9}"), i, 0, 0);
        set.Validate();
        Assert.InRange(set.MemoryBytes / (double)set.Count, 42, bytesPerMember);
    }

    [Theory]
    [InlineData(0.5)] // a member moves past a neighbour or two: within its leaf, or over a separator into the next
    [InlineData(37.0)] // across many leaves: removed and inserted again
    public void RescoresKeepBothIndexesInOrder(double step)
    {
        // Re-scores found through one member-index lookup (the spot then overwritten in place), as ZADD and ZINCRBY do them.
        var set = new SortedSetValue(false, 128, 4);
        var scores = new Dictionary<string, double>();
        for (int i = 0; i < 2000; i++)
        {
            set.Add(B($"m{i}"), i % 200, long.MaxValue, long.MaxValue);
            scores[$"m{i}"] = i % 200;
        }
        var random = new Random(3);
        for (int k = 0; k < 20_000; k++)
        {
            string member = $"m{random.Next(2000)}";
            SortedSetValue.MemberSpot spot = set.Find(B(member));
            Assert.True(spot.Found);
            Assert.Equal(scores[member], spot.Score);
            double score = spot.Score + (random.Next(2) == 0 ? step : -step) * random.Next(1, 4);
            Assert.Equal(score, set.UpdateScore(spot, B(member), score));
            scores[member] = score;
            if (k % 500 == 0) set.Validate();
        }
        set.Validate();
        var expected = scores.Select(e => (e.Value, e.Key)).ToList();
        expected.Sort(Order);
        Assert.Equal(expected, Walk(set));
        foreach ((string member, double score) in scores)
        {
            Assert.True(set.TryGetScore(B(member), out double stored));
            Assert.Equal(score, stored);
        }
    }

    [Fact]
    public void LexRangesAmongEqualScoresAgreeWithAModel()
    {
        var random = new Random(7);
        var set = new SortedSetValue(false, 64, 4);
        var model = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 3000; i++)
        {
            string member = new string((char)('a' + random.Next(6)), 1) + random.Next(200);
            if (model.Add(member)) set.Add(B(member), 0, long.MaxValue, long.MaxValue);
            else if (random.Next(3) == 0)
            {
                model.Remove(member);
                Assert.True(set.Remove(B(member)));
            }
            string a = "" + (char)('a' + random.Next(6)) + random.Next(200), b = "" + (char)('a' + random.Next(6)) + random.Next(200);
            bool aEx = random.Next(2) == 0, bEx = random.Next(2) == 0;
            string min = random.Next(10) == 0 ? "-" : (aEx ? "(" : "[") + a, max = random.Next(10) == 0 ? "+" : (bEx ? "(" : "[") + b;
            Assert.True(LexRange.TryParse(B(min), B(max), out LexRange range));
            List<int> inRange = model.Select((m, k) => (m, k)).Where(x =>
                (min == "-" || (aEx ? string.CompareOrdinal(x.m, a) > 0 : string.CompareOrdinal(x.m, a) >= 0)) &&
                (max == "+" || (bEx ? string.CompareOrdinal(x.m, b) < 0 : string.CompareOrdinal(x.m, b) <= 0))).Select(x => x.k).ToList();
            Assert.Equal(inRange.Count > 0, set.TryGetRankRange(range, out long first, out long last));
            if (inRange.Count > 0) Assert.Equal((inRange[0], inRange[^1]), ((int)first, (int)last));
        }
        set.Validate();
    }

    private static List<(double Score, string Member)> Walk(SortedSetValue set)
    {
        var list = new List<(double, string)>();
        for (SortedSetValue.Position n = set.First; n.Exists; n = n.Next) list.Add((n.Score, S(n.Member.ToArray())));
        return list;
    }

    private static List<(double Score, string Member)> WalkBack(SortedSetValue set)
    {
        var list = new List<(double, string)>();
        for (SortedSetValue.Position n = set.Last; n.Exists; n = n.Previous) list.Add((n.Score, S(n.Member.ToArray())));
        return list;
    }

    [Theory]
    [InlineData(0.1, "0.10000000000000001")]
    [InlineData(3.0, "3")]
    [InlineData(-3.25, "-3.25")]
    [InlineData(1e20, "1e+20")]
    [InlineData(1e16, "10000000000000000")]
    [InlineData(1e17, "1e+17")]
    [InlineData(123456789012345678.0, "1.2345678901234568e+17")]
    [InlineData(5e-324, "4.9406564584124654e-324")]
    [InlineData(1.5e-7, "1.4999999999999999e-07")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(-0.0, "-0")]
    [InlineData(0.0, "0")]
    [InlineData(-42.0, "-42")]
    [InlineData(99999999999999984.0, "99999999999999984")] // the largest double below 10^17: the integer fast path's edge
    [InlineData(-1e16, "-10000000000000000")]
    [InlineData(9007199254740994.0, "9007199254740994")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void ScoresPrintAsRedisPercent17g(double value, string expected)
    {
        Span<byte> text = stackalloc byte[DoubleText.MaxLength];
        Assert.Equal(expected, Encoding.ASCII.GetString(text[..DoubleText.Format(value, text)]));
    }

    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("-2.5E-3", -0.0025)]
    [InlineData(".5", 0.5)]
    [InlineData("5.", 5.0)]
    [InlineData("+7", 7.0)]
    [InlineData("0x10", 16.0)]
    [InlineData("0x1p-2", 0.25)]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData("-Infinity", double.NegativeInfinity)]
    [InlineData("+INF", double.PositiveInfinity)]
    [InlineData("-42", -42.0)]
    [InlineData("007", 7.0)]
    [InlineData("-0", -0.0)]
    [InlineData("999999999999999", 999999999999999.0)] // 15 digits: the integer fast path's edge
    [InlineData("9007199254740993", 9007199254740992.0)] // 16 digits, 2^53 + 1: rounded as strtod rounds
    [InlineData("12345678901234567890123", 1.2345678901234568e22)]
    public void ScoresParseAsStrtod(string text, double expected)
    {
        Assert.True(DoubleText.TryParse(B(text), out double value));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("1e400")]
    [InlineData("1e-400")]
    [InlineData("1e")]
    [InlineData("abc")]
    [InlineData(".")]
    [InlineData("1,5")]
    [InlineData("0x")]
    public void InvalidScoresAreRefused(string text) => Assert.False(DoubleText.TryParse(B(text), out _));

    [Theory]
    [InlineData("", 0.0, true)]
    [InlineData(" 1", 1.0, true)]
    [InlineData("1e400", double.PositiveInfinity, true)]
    [InlineData(" ", 0.0, false)]
    [InlineData("nan", 0.0, false)]
    [InlineData("1x", 0.0, false)]
    public void RangeBoundsParseAsBareStrtod(string text, double expected, bool ok)
    {
        Assert.Equal(ok, DoubleText.TryParseLenient(B(text), out double value));
        if (ok) Assert.Equal(expected, value);
    }

    private static string Fmt(double d)
    {
        Span<byte> text = stackalloc byte[DoubleText.MaxLength];
        return Encoding.ASCII.GetString(text[..DoubleText.Format(d, text)]);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void CommandsAgreeWithTheModel(int seed)
    {
        using RespTestClient c = server.Connect();
        var random = new Random(seed);
        string key = $"zmodel:{seed}", other = $"zmodel:{seed}:other", dst = $"zmodel:{seed}:dst";
        c.Call("DEL", key, other, dst);
        var model = new SortedSet<(double Score, string Member)>(Order);
        var scores = new Dictionary<string, double>();
        var otherModel = new Dictionary<string, double>();
        void Put(string m, double s)
        {
            if (scores.TryGetValue(m, out double old)) model.Remove((old, m));
            scores[m] = s;
            model.Add((s, m));
        }
        void Drop(string m)
        {
            model.Remove((scores[m], m));
            scores.Remove(m);
        }
        for (int op = 0; op < 1500; op++)
        {
            string m = "m" + random.Next(200);
            int score = random.Next(-50, 50);
            switch (random.Next(12))
            {
                case 0:
                case 1:
                case 2:
                {
                    bool isNew = !scores.ContainsKey(m);
                    Assert.Equal($":{(isNew ? 1 : 0)}\r\n", c.Call("ZADD", key, score.ToString(CultureInfo.InvariantCulture), m));
                    Put(m, score);
                    break;
                }
                case 3:
                {
                    double result = (scores.TryGetValue(m, out double s) ? s : 0) + 0.5;
                    Assert.Equal(Fmt(result), Replies.Bulks(c.Call("ZINCRBY", key, "0.5", m)).Single());
                    Put(m, result);
                    break;
                }
                case 4:
                {
                    bool had = scores.ContainsKey(m);
                    Assert.Equal($":{(had ? 1 : 0)}\r\n", c.Call("ZREM", key, m));
                    if (had) Drop(m);
                    break;
                }
                case 5:
                {
                    string reply = c.Call("ZRANK", key, m);
                    Assert.Equal(scores.TryGetValue(m, out double s) ? $":{model.GetViewBetween(model.Min, (s, m)).Count - 1}\r\n" : "$-1\r\n", reply);
                    break;
                }
                case 6:
                {
                    int start = random.Next(-20, 20), stop = random.Next(-20, 60);
                    List<string> got = Replies.Bulks(c.Call("ZRANGE", key, start.ToString(CultureInfo.InvariantCulture), stop.ToString(CultureInfo.InvariantCulture), "WITHSCORES"));
                    int n = model.Count, a = start < 0 ? Math.Max(0, n + start) : start, b = stop < 0 ? n + stop : Math.Min(stop, n - 1);
                    var expected = a > b || a >= n ? [] : model.Skip(a).Take(b - a + 1).SelectMany(e => new[] { e.Member, Fmt(e.Score) }).ToList();
                    Assert.Equal(expected, got);
                    break;
                }
                case 7:
                {
                    int lo = random.Next(-50, 50), hi = lo + random.Next(30), offset = random.Next(3), count = random.Next(-1, 10);
                    List<string> got = Replies.Bulks(c.Call("ZREVRANGEBYSCORE", key, $"({hi}", lo.ToString(CultureInfo.InvariantCulture), "LIMIT", offset.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture)));
                    IEnumerable<string> expected = model.Reverse().Where(e => e.Score < hi && e.Score >= lo).Skip(offset).Select(e => e.Member);
                    if (count >= 0) expected = expected.Take(count);
                    Assert.Equal(expected, got);
                    break;
                }
                case 8:
                {
                    int count = random.Next(1, 4);
                    bool max = random.Next(2) == 0;
                    List<string> got = Replies.Bulks(c.Call(max ? "ZPOPMAX" : "ZPOPMIN", key, count.ToString(CultureInfo.InvariantCulture)));
                    var expected = (max ? model.Reverse() : model).Take(count).ToList();
                    Assert.Equal(expected.SelectMany(e => new[] { e.Member, Fmt(e.Score) }), got);
                    foreach ((double _, string member) in expected) Drop(member);
                    break;
                }
                case 9:
                {
                    int lo = random.Next(-50, 50), hi = lo + random.Next(5);
                    var doomed = model.Where(e => e.Score >= lo && e.Score <= hi).ToList();
                    Assert.Equal($":{doomed.Count}\r\n", c.Call("ZREMRANGEBYSCORE", key, lo.ToString(CultureInfo.InvariantCulture), hi.ToString(CultureInfo.InvariantCulture)));
                    foreach ((double _, string member) in doomed) Drop(member);
                    break;
                }
                case 10:
                {
                    c.Call("ZADD", other, score.ToString(CultureInfo.InvariantCulture), m);
                    otherModel[m] = score;
                    var union = new Dictionary<string, double>(scores);
                    foreach ((string member, double s) in otherModel) union[member] = union.TryGetValue(member, out double v) ? v + 2 * s : 2 * s;
                    Assert.Equal($":{union.Count}\r\n", c.Call("ZUNIONSTORE", dst, "2", key, other, "WEIGHTS", "1", "2"));
                    var expected = union.Select(kv => (Score: kv.Value, Member: kv.Key)).Order(Order).SelectMany(e => new[] { e.Member, Fmt(e.Score) });
                    Assert.Equal(expected, Replies.Bulks(c.Call("ZRANGE", dst, "0", "-1", "WITHSCORES")));
                    var inter = scores.Where(kv => otherModel.ContainsKey(kv.Key)).Select(kv => (Score: Math.Min(kv.Value, otherModel[kv.Key]), Member: kv.Key)).Order(Order);
                    Assert.Equal(inter.Select(e => e.Member), Replies.Bulks(c.Call("ZINTER", "2", key, other, "AGGREGATE", "MIN")));
                    break;
                }
                default:
                {
                    Assert.Equal($":{model.Count}\r\n", c.Call("ZCARD", key));
                    int lo = random.Next(-50, 50), hi = lo + random.Next(20);
                    Assert.Equal($":{model.Count(e => e.Score >= lo && e.Score <= hi)}\r\n", c.Call("ZCOUNT", key, lo.ToString(CultureInfo.InvariantCulture), hi.ToString(CultureInfo.InvariantCulture)));
                    break;
                }
            }
        }
        Assert.Equal(model.Count == 0 ? ":0\r\n" : ":1\r\n", c.Call("EXISTS", key));
    }

    [Fact]
    public void Resp3RepliesHaveRedisShapes()
    {
        using RespTestClient c = server.Connect();
        c.Call("DEL", "z3");
        Assert.StartsWith("%", c.Call("HELLO", "3"));
        Assert.Equal(":2\r\n", c.Call("ZADD", "z3", "1", "a", "2.5", "b"));
        Assert.Equal(",2.5\r\n", c.Call("ZSCORE", "z3", "b"));
        Assert.Equal("_\r\n", c.Call("ZSCORE", "z3", "x"));
        Assert.Equal("*2\r\n,1\r\n_\r\n", c.Call("ZMSCORE", "z3", "a", "x"));
        Assert.Equal("*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n", c.Call("ZRANGE", "z3", "0", "-1", "WITHSCORES"));
        Assert.Equal("*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n", c.Call("ZSCAN", "z3", "0"));
        Assert.Equal("*2\r\n$1\r\na\r\n,1\r\n", c.Call("ZPOPMIN", "z3"));
        Assert.Equal("*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n", c.Call("ZPOPMIN", "z3", "1"));
        Assert.Equal("_\r\n", c.Call("ZMPOP", "1", "z3", "MIN"));
        Assert.Equal(",inf\r\n", c.Call("ZINCRBY", "z3", "inf", "i"));
        Assert.Equal("*2\r\n$2\r\nz3\r\n*1\r\n*2\r\n$1\r\ni\r\n,inf\r\n", c.Call("ZMPOP", "1", "z3", "MAX", "COUNT", "3"));
        Assert.Equal("_\r\n", c.Call("ZADD", "z3", "XX", "INCR", "1", "a"));
    }

    [Fact]
    public void ZscanReturnsEachSteadyMemberOnceUnderConcurrentChanges()
    {
        using RespTestClient c = server.Connect();
        c.Call("DEL", "zscan:live");
        var steady = Enumerable.Range(0, 500).Select(i => $"s{i:D4}").ToList();
        var args = new List<string> { "ZADD", "zscan:live" };
        foreach (string m in steady) args.AddRange([(m.GetHashCode() % 100).ToString(CultureInfo.InvariantCulture), m]);
        c.Call([.. args]);
        var seen = new Dictionary<string, int>();
        string cursor = "0";
        int round = 0;
        do
        {
            // Between calls: insert and remove other members all over the order.
            c.Call("ZADD", "zscan:live", (round % 100).ToString(CultureInfo.InvariantCulture), $"t{round}");
            if (round > 3) c.Call("ZREM", "zscan:live", $"t{round - 3}");
            List<string> items = Replies.Bulks(c.Call("ZSCAN", "zscan:live", cursor, "COUNT", "17"));
            cursor = items[0];
            for (int i = 1; i < items.Count; i += 2) seen[items[i]] = seen.GetValueOrDefault(items[i]) + 1;
            round++;
        } while (cursor != "0");
        foreach (string m in steady) Assert.Equal(1, seen.GetValueOrDefault(m));
    }

    [Fact]
    public async Task RewriteAndRestartRestoreSortedSets()
    {
        using var dir = new TempDir();
        var members = Enumerable.Range(0, 150).Select(i => ($"member{i}", i * 0.1)).ToList();
        string before;
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            var args = new List<string> { "ZADD", "big" };
            foreach ((string m, double s) in members) args.AddRange([s.ToString("R", CultureInfo.InvariantCulture), m]);
            Assert.Equal(":150\r\n", c.Call([.. args]));
            Assert.Equal(":2\r\n", c.Call("ZADD", "small", "-inf", "lo", "1e20", "hi"));
            Assert.Equal("+OK\r\n", c.Call("SET", "x", "1"));
            Assert.Equal("+Background append only file rewriting started\r\n", c.Call("BGREWRITEAOF"));
            while (c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1")) await Task.Delay(20);
            string aof = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
            Assert.Contains(AofTestSupport.Record("ZADD", "small", "-inf", "lo", "1e+20", "hi"), aof);
            Assert.Contains("*130\r\n$4\r\nZADD\r\n$3\r\nbig\r\n$1\r\n0\r\n$7\r\nmember0\r\n$19\r\n0.10000000000000001\r\n$7\r\nmember1\r\n", aof);
            // Changes after the rewrite are replayed on top of it.
            Assert.Equal("*2\r\n$7\r\nmember0\r\n$1\r\n0\r\n", c.Call("ZPOPMIN", "big"));
            Assert.Equal("$3\r\n1.5\r\n", c.Call("ZINCRBY", "small", "1.5", "mid"));
            Assert.Equal(":1\r\n", c.Call("ZREM", "big", "member5"));
            Assert.Equal(":3\r\n", c.Call("ZUNIONSTORE", "copy", "1", "small", "WEIGHTS", "2"));
            Assert.StartsWith("*2\r\n$3\r\nbig\r\n*1\r\n*2\r\n$9\r\nmember149\r\n$", c.Call("ZMPOP", "2", "nokey", "big", "MAX"));
            before = c.Call("ZRANGE", "big", "0", "-1", "WITHSCORES") + c.Call("ZRANGE", "small", "0", "-1", "WITHSCORES") + c.Call("ZRANGE", "copy", "0", "-1", "WITHSCORES");
        }
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(before, c.Call("ZRANGE", "big", "0", "-1", "WITHSCORES") + c.Call("ZRANGE", "small", "0", "-1", "WITHSCORES") + c.Call("ZRANGE", "copy", "0", "-1", "WITHSCORES"));
            Assert.Equal(":147\r\n", c.Call("ZCARD", "big"));
            Assert.Equal("$8\r\nskiplist\r\n", c.Call("OBJECT", "ENCODING", "big"));
            Assert.Equal("$8\r\nlistpack\r\n", c.Call("OBJECT", "ENCODING", "small"));
            Assert.Equal("+zset\r\n", c.Call("TYPE", "small"));
        }
    }

    [Fact]
    public void ReadsAndScoreUpdatesAllocateNothingPerCommand()
    {
        var respServer = new RespServer(new RespKv.Configuration.ServerOptions());
        var output = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        var session = new ClientSession(respServer, output);
        var load = new StringBuilder();
        for (int i = 0; i < 300; i++) load.Append(Command("ZADD", "z", i.ToString(CultureInfo.InvariantCulture), $"member:{i}"));
        session.ProcessReceived(new System.Buffers.ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(load.ToString())));
        session.Writer.Commit();
        const int commands = 2000;
        double PerCommand(params string[] args) => Allocations.PerCommand(session, output, commands, args);
        // Any allocation of a command would be at least 24 bytes; below 1 byte per command on average is none.
        Assert.InRange(PerCommand("ZSCORE", "z", "member:7"), 0, 0.99);
        Assert.InRange(PerCommand("ZRANK", "z", "member:150"), 0, 0.99);
        Assert.InRange(PerCommand("ZCARD", "z"), 0, 0.99);
        Assert.InRange(PerCommand("ZRANGE", "z", "10", "19", "WITHSCORES"), 0, 0.99);
        Assert.InRange(PerCommand("ZRANGEBYSCORE", "z", "(10", "20", "LIMIT", "2", "5"), 0, 0.99);
        Assert.InRange(PerCommand("ZMSCORE", "z", "member:1", "nope"), 0, 0.99);
        // ZINCRBY moves the member through the order each time: the node is relinked, not reallocated.
        Assert.InRange(PerCommand("ZINCRBY", "z", "1", "member:3"), 0, 0.99);
        Assert.InRange(PerCommand("ZADD", "z", "XX", "CH", "1.5", "member:4"), 0, 0.99);
    }

    private static string Command(params string[] args) =>
        $"*{args.Length}\r\n" + string.Concat(args.Select(a => $"${a.Length}\r\n{a}\r\n"));

    [Fact]
    public async Task ConcurrentWritersAndReadersSeeWholeChanges()
    {
        const int writers = 3, increments = 400, members = 3000;
        using (RespTestClient setup = server.Connect())
        {
            setup.Call("DEL", "zconc");
            // A long skiplist (every reply walks 3,000 nodes), all at score 0, so the increments move members through it.
            setup.Call([.. new[] { "ZADD", "zconc" }.Concat(Enumerable.Range(0, members).SelectMany(i => new[] { "0", $"m{i}" }))]);
        }
        var tasks = new List<Task>();
        for (int w = 0; w < writers; w++)
        {
            int seed = w;
            tasks.Add(Task.Run(() =>
            {
                using RespTestClient c = server.Connect();
                var random = new Random(seed);
                for (int i = 0; i < increments; i++) c.Call("ZINCRBY", "zconc", "1", $"m{random.Next(members)}");
            }));
        }
        var readers = Task.Run(() =>
        {
            using RespTestClient c = server.Connect();
            for (int i = 0; i < 200; i++)
            {
                // The scores of a whole reply are ascending and its length matches its pairs: no torn skiplist read.
                List<string> items = Replies.Bulks(c.Call("ZRANGE", "zconc", "0", "-1", "WITHSCORES"));
                Assert.Equal(members * 2, items.Count);
                var scores = items.Where((_, k) => k % 2 == 1).Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(scores.Order(), scores);
            }
        });
        await Task.WhenAll([.. tasks, readers]);
        using RespTestClient check = server.Connect();
        List<string> final = Replies.Bulks(check.Call("ZRANGE", "zconc", "0", "-1", "WITHSCORES"));
        Assert.Equal(writers * increments, final.Where((_, k) => k % 2 == 1).Sum(t => double.Parse(t, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void EverySortedSetReadRunsUnderItsKeysLocks()
    {
        // Sorted sets change in place: a read without its shard locks could walk a skiplist being relinked.
        foreach (RespKv.Execution.CommandInfo row in RespKv.Commands.SortedSetCommands.Table)
        {
            bool read = (row.Flags & RespKv.Execution.CommandFlags.ReadOnly) != 0;
            Assert.Equal(read, (row.Flags & RespKv.Execution.CommandFlags.ReadsUnderLock) != 0);
        }
    }

    [Fact]
    public void PlainSetsAreSetAlgebraInputsWithScoreOne()
    {
        using RespTestClient c = server.Connect();
        const string wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        c.Call("DEL", "ps:s", "ps:z", "ps:i", "ps:z2", "ps:out", "ps:str");
        c.Call("SADD", "ps:s", "a", "b", "c");
        c.Call("ZADD", "ps:z", "1", "a", "2", "x");
        string Pairs(params string[] items) => Blocking.BulkArray(items);
        Assert.Equal(Pairs("b", "1", "c", "1", "a", "2", "x", "2"), c.Call("ZUNION", "2", "ps:s", "ps:z", "WITHSCORES"));
        Assert.Equal(Pairs("b", "3", "c", "3", "x", "4", "a", "5"), c.Call("ZUNION", "2", "ps:s", "ps:z", "WEIGHTS", "3", "2", "WITHSCORES"));
        Assert.Equal(Pairs("a", "2"), c.Call("ZINTER", "2", "ps:s", "ps:z", "WITHSCORES"));
        Assert.Equal(Pairs("b", "1", "c", "1"), c.Call("ZDIFF", "2", "ps:s", "ps:z", "WITHSCORES"));
        Assert.Equal(":1\r\n", c.Call("ZINTERCARD", "2", "ps:s", "ps:z"));
        Assert.Equal(":4\r\n", c.Call("ZUNIONSTORE", "ps:out", "2", "ps:s", "ps:z", "AGGREGATE", "MAX"));
        Assert.Equal(Pairs("a", "1", "b", "1", "c", "1", "x", "2"), c.Call("ZRANGE", "ps:out", "0", "-1", "WITHSCORES"));
        Assert.Equal(":2\r\n", c.Call("ZDIFFSTORE", "ps:out", "2", "ps:s", "ps:z"));
        Assert.Equal("$8\r\nlistpack\r\n", c.Call("OBJECT", "ENCODING", "ps:out"));
        // An intset's members too, weighted.
        c.Call("SADD", "ps:i", "1", "2", "3");
        c.Call("ZADD", "ps:z2", "5", "2");
        Assert.Equal(Pairs("2", "6"), c.Call("ZINTER", "2", "ps:i", "ps:z2", "WITHSCORES"));
        Assert.Equal(Pairs("2", "2"), c.Call("ZINTER", "2", "ps:i", "ps:z2", "WEIGHTS", "2", "1", "AGGREGATE", "MIN", "WITHSCORES"));
        Assert.Equal(":1\r\n", c.Call("ZINTERSTORE", "ps:out", "2", "ps:i", "ps:z2"));
        // Other types are still refused, and the set commands refuse sorted sets.
        c.Call("SET", "ps:str", "v");
        Assert.Equal(wrongType, c.Call("ZUNION", "2", "ps:s", "ps:str"));
        Assert.Equal(wrongType, c.Call("SINTER", "ps:s", "ps:z"));
        Assert.Equal(wrongType, c.Call("SINTERCARD", "1", "ps:z"));
        Assert.Equal(wrongType, c.Call("SUNION", "ps:z"));
        Assert.Equal(wrongType, c.Call("SDIFF", "ps:s", "ps:z"));
        Assert.Equal(wrongType, c.Call("SMOVE", "ps:s", "ps:z", "a"));
    }

    [Fact]
    public void GenericCommandsHandleSortedSets()
    {
        using RespTestClient c = server.Connect();
        c.Call("DEL", "zg", "zg2", "zg3");
        Assert.Equal(":2\r\n", c.Call("ZADD", "zg", "1", "a", "2", "b"));
        Assert.Equal(":1\r\n", c.Call("COPY", "zg", "zg2"));
        Assert.Equal(":1\r\n", c.Call("ZADD", "zg", "3", "c"));
        Assert.Equal(":2\r\n", c.Call("ZCARD", "zg2"));
        Assert.Equal("+OK\r\n", c.Call("RENAME", "zg2", "zg3"));
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nb\r\n", c.Call("ZRANGE", "zg3", "0", "-1"));
        Assert.Matches(@"^:\d+\r\n$", c.Call("MEMORY", "USAGE", "zg"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
