using System.Text;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests;

/// <summary>
/// Lists: the <see cref="QuickList"/> against a <see cref="List{T}"/> model (seeded random operations, elements of every
/// size so nodes fill, split and empty), every list command through a socket against the same model, the exact replies
/// redis-server 7.0.15 gives, and the AOF round trip. Blocking commands: <see cref="BlockingListTests"/>.
/// </summary>
public sealed class ListCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static string Bulk(string s) => $"${Latin1.GetByteCount(s)}\r\n{s}\r\n";

    private static string Int(long n) => $":{n}\r\n";

    private static string Arr(IEnumerable<string> items)
    {
        string[] all = items.ToArray();
        return $"*{all.Length}\r\n" + string.Concat(all.Select(Bulk));
    }

    private static string Element(Random random)
    {
        int kind = random.Next(10);
        int length = kind < 6 ? random.Next(0, 4) : kind < 9 ? random.Next(4, 300) : random.Next(300, 20_000);
        if (length < 4) return ((char)('a' + random.Next(3))).ToString() + (length > 1 ? "x" : "");
        return new string((char)('a' + random.Next(26)), length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void QuickListMatchesAListModel(int seed)
    {
        var random = new Random(seed);
        var list = new QuickList();
        var model = new List<string>();
        for (int step = 0; step < 20_000; step++)
        {
            int op = random.Next(100);
            if (op < 30) { string e = Element(random); list.PushTail(Latin1.GetBytes(e)); model.Add(e); }
            else if (op < 55) { string e = Element(random); list.PushHead(Latin1.GetBytes(e)); model.Insert(0, e); }
            else if (op < 70 && model.Count > 0) { Assert.Equal(model[0], Latin1.GetString(list.Pop(true))); model.RemoveAt(0); }
            else if (op < 85 && model.Count > 0) { Assert.Equal(model[^1], Latin1.GetString(list.Pop(false))); model.RemoveAt(model.Count - 1); }
            else if (op < 92 && model.Count > 0)
            {
                int i = random.Next(model.Count);
                string e = Element(random);
                list.Set(random.Next(2) == 0 ? i : i - model.Count, Latin1.GetBytes(e));
                model[i] = e;
            }
            else if (model.Count > 0)
            {
                int i = random.Next(-model.Count, model.Count);
                Assert.True(list.TryGet(i, out ReadOnlySpan<byte> v));
                Assert.Equal(model[i < 0 ? i + model.Count : i], Latin1.GetString(v));
            }
            Assert.Equal(model.Count, list.Count);
            if (step % 500 == 0)
            {
                var all = new List<string>();
                foreach (ReadOnlySpan<byte> e in list) all.Add(Latin1.GetString(e));
                Assert.Equal(model, all);
                Assert.Equal(model.Sum(e => (long)e.Length), list.Bytes);
                Assert.Equal(model, Enumerate(list.Clone()));
                var backwards = new List<string>();
                foreach (ReadOnlySpan<byte> e in list.Backwards()) backwards.Add(Latin1.GetString(e));
                backwards.Reverse();
                Assert.Equal(model, backwards);
            }
        }
        Assert.False(list.TryGet(model.Count, out _));
        Assert.False(list.TryGet(-model.Count - 1, out _));
    }

    private static List<string> Enumerate(QuickList list)
    {
        var all = new List<string>();
        foreach (ReadOnlySpan<byte> e in list) all.Add(Latin1.GetString(e));
        return all;
    }

    /// <summary>Redis's inclusive range with negative indexes, clamped, as a model.</summary>
    private static List<string> ModelRange(List<string> model, long start, long stop)
    {
        long n = model.Count;
        if (start < 0) start += n;
        if (stop < 0) stop += n;
        if (start < 0) start = 0;
        if (stop >= n) stop = n - 1;
        return start > stop || start >= n ? [] : model.GetRange((int)start, (int)(stop - start + 1));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void EveryCommandMatchesAListModel(int seed)
    {
        var random = new Random(seed);
        using RespTestClient c = server.Connect();
        string key = $"model:{seed}", other = $"model:{seed}:other";
        var model = new List<string>();
        var otherModel = new List<string>();
        string[] pool = ["a", "b", "c", "d"];
        string Pick() => random.Next(8) == 0 ? new string('z', random.Next(200, 2000)) : pool[random.Next(pool.Length)];
        for (int step = 0; step < 3000; step++)
        {
            int n = model.Count;
            switch (random.Next(13))
            {
                case 0:
                {
                    string[] es = Enumerable.Range(0, random.Next(1, 5)).Select(_ => Pick()).ToArray();
                    foreach (string e in es) model.Insert(0, e);
                    Assert.Equal(Int(model.Count), c.Call(["LPUSH", key, .. es]));
                    break;
                }
                case 1:
                {
                    string[] es = Enumerable.Range(0, random.Next(1, 5)).Select(_ => Pick()).ToArray();
                    model.AddRange(es);
                    Assert.Equal(Int(model.Count), c.Call(["RPUSH", key, .. es]));
                    break;
                }
                case 2:
                {
                    int count = random.Next(0, 4);
                    bool head = random.Next(2) == 0;
                    string reply = c.Call(head ? "LPOP" : "RPOP", key, count.ToString());
                    if (n == 0) Assert.Equal("*-1\r\n", reply);
                    else
                    {
                        var popped = new List<string>();
                        for (int i = 0; i < Math.Min(count, n); i++)
                        {
                            int at = head ? 0 : model.Count - 1;
                            popped.Add(model[at]);
                            model.RemoveAt(at);
                        }
                        Assert.Equal(Arr(popped), reply);
                    }
                    break;
                }
                case 3:
                {
                    long start = random.Next(-n - 3, n + 3), stop = random.Next(-n - 3, n + 3);
                    Assert.Equal(Arr(ModelRange(model, start, stop)), c.Call("LRANGE", key, start.ToString(), stop.ToString()));
                    break;
                }
                case 4:
                {
                    long start = random.Next(-n - 2, n + 2), stop = random.Next(-n - 2, n + 2);
                    if (random.Next(4) != 0) stop = Math.Max(stop, n - 1);
                    List<string> kept = ModelRange(model, start, stop);
                    model.Clear();
                    model.AddRange(kept);
                    Assert.Equal("+OK\r\n", c.Call("LTRIM", key, start.ToString(), stop.ToString()));
                    break;
                }
                case 5:
                {
                    int index = random.Next(-n - 2, n + 2);
                    string reply = c.Call("LINDEX", key, index.ToString());
                    int at = index < 0 ? index + n : index;
                    Assert.Equal(at >= 0 && at < n ? Bulk(model[at]) : "$-1\r\n", reply);
                    break;
                }
                case 6:
                {
                    int index = random.Next(-n - 2, n + 2);
                    string e = Pick();
                    string reply = c.Call("LSET", key, index.ToString(), e);
                    int at = index < 0 ? index + n : index;
                    if (n == 0) Assert.Equal("-ERR no such key\r\n", reply);
                    else if (at < 0 || at >= n) Assert.Equal("-ERR index out of range\r\n", reply);
                    else
                    {
                        model[at] = e;
                        Assert.Equal("+OK\r\n", reply);
                    }
                    break;
                }
                case 7:
                {
                    bool before = random.Next(2) == 0;
                    string pivot = pool[random.Next(pool.Length)], e = Pick();
                    string reply = c.Call("LINSERT", key, before ? "BEFORE" : "AFTER", pivot, e);
                    int at = model.IndexOf(pivot);
                    if (n == 0) Assert.Equal(Int(0), reply);
                    else if (at < 0) Assert.Equal(Int(-1), reply);
                    else
                    {
                        model.Insert(before ? at : at + 1, e);
                        Assert.Equal(Int(model.Count), reply);
                    }
                    break;
                }
                case 8:
                {
                    int count = random.Next(-3, 4);
                    string e = pool[random.Next(pool.Length)];
                    int removed = 0;
                    if (count >= 0)
                        for (int i = 0; i < model.Count && (count == 0 || removed < count);)
                            if (model[i] == e) { model.RemoveAt(i); removed++; }
                            else i++;
                    else
                        for (int i = model.Count - 1; i >= 0 && removed < -count; i--)
                            if (model[i] == e) { model.RemoveAt(i); removed++; }
                    Assert.Equal(Int(removed), c.Call("LREM", key, count.ToString(), e));
                    break;
                }
                case 9:
                {
                    string e = pool[random.Next(pool.Length)];
                    int rank = random.Next(-3, 4);
                    if (rank == 0) rank = 1;
                    int count = random.Next(0, 3), maxLen = random.Next(0, n + 2);
                    var matches = new List<long>();
                    int skip = Math.Abs(rank) - 1;
                    int limit = maxLen == 0 ? n : Math.Min(maxLen, n);
                    for (int k = 0; k < limit; k++)
                    {
                        int i = rank > 0 ? k : n - 1 - k;
                        if (model[i] != e) continue;
                        if (skip > 0) { skip--; continue; }
                        matches.Add(i);
                        if (count != 0 && matches.Count == count) break;
                    }
                    string reply = c.Call("LPOS", key, e, "RANK", rank.ToString(), "COUNT", count.ToString(), "MAXLEN", maxLen.ToString());
                    Assert.Equal($"*{matches.Count}\r\n" + string.Concat(matches.Select(Int)), reply);
                    string single = c.Call("LPOS", key, e, "RANK", rank.ToString(), "MAXLEN", maxLen.ToString());
                    Assert.Equal(matches.Count > 0 ? Int(matches[0]) : "$-1\r\n", single);
                    break;
                }
                case 10:
                {
                    bool fromLeft = random.Next(2) == 0, toLeft = random.Next(2) == 0;
                    bool toSelf = random.Next(3) == 0;
                    string reply = c.Call("LMOVE", key, toSelf ? key : other, fromLeft ? "LEFT" : "RIGHT", toLeft ? "LEFT" : "RIGHT");
                    if (n == 0) { Assert.Equal("$-1\r\n", reply); break; }
                    string e = fromLeft ? model[0] : model[^1];
                    model.RemoveAt(fromLeft ? 0 : model.Count - 1);
                    List<string> target = toSelf ? model : otherModel;
                    if (toLeft) target.Insert(0, e);
                    else target.Add(e);
                    Assert.Equal(Bulk(e), reply);
                    break;
                }
                case 11:
                {
                    Assert.Equal(Int(model.Count), c.Call("LLEN", key));
                    Assert.Equal(Int(model.Count > 0 ? 1 : 0), c.Call("EXISTS", key));
                    break;
                }
                default:
                {
                    string reply = c.Call("LMPOP", "2", other, key, "RIGHT", "COUNT", "2");
                    if (otherModel.Count > 0)
                    {
                        var popped = otherModel.TakeLast(2).Reverse().ToList();
                        otherModel.RemoveRange(otherModel.Count - popped.Count, popped.Count);
                        Assert.Equal("*2\r\n" + Bulk(other) + Arr(popped), reply);
                    }
                    else if (model.Count > 0)
                    {
                        var popped = model.TakeLast(2).Reverse().ToList();
                        model.RemoveRange(model.Count - popped.Count, popped.Count);
                        Assert.Equal("*2\r\n" + Bulk(key) + Arr(popped), reply);
                    }
                    else Assert.Equal("*-1\r\n", reply);
                    break;
                }
            }
        }
        Assert.Equal(Arr(model), c.Call("LRANGE", key, "0", "-1"));
        Assert.Equal(Arr(otherModel), c.Call("LRANGE", other, "0", "-1"));
    }

    [Fact]
    public void RepliesAreRedisBytes()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":3\r\n", c.Call("RPUSH", "exact:l", "a", "b", "c"));
        Assert.Equal("+list\r\n", c.Call("TYPE", "exact:l"));
        Assert.Equal("$9\r\nquicklist\r\n", c.Call("OBJECT", "ENCODING", "exact:l"));
        Assert.Equal("*-1\r\n", c.Call("LPOP", "exact:none", "2"));
        Assert.Equal("$-1\r\n", c.Call("LPOP", "exact:none"));
        Assert.Equal("*0\r\n", c.Call("LPOP", "exact:l", "0"));
        Assert.Equal("-ERR value is out of range, must be positive\r\n", c.Call("LPOP", "exact:l", "-1"));
        Assert.Equal("-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
            c.Call("LPOS", "exact:l", "a", "RANK", "0"));
        Assert.Equal("-ERR numkeys should be greater than 0\r\n", c.Call("LMPOP", "0", "exact:l", "LEFT"));
        Assert.Equal("-ERR timeout is negative\r\n", c.Call("BLPOP", "exact:l", "-1"));
        Assert.Equal("-ERR timeout is not a float or out of range\r\n", c.Call("BLPOP", "exact:l", "x"));
        Assert.Equal("*2\r\n$7\r\nexact:l\r\n$1\r\na\r\n", c.Call("BLPOP", "exact:none", "exact:l", "0"));
        Assert.Equal("*2\r\n$7\r\nexact:l\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n", c.Call("LMPOP", "1", "exact:l", "RIGHT", "COUNT", "5"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "exact:l"));
        Assert.Equal("+OK\r\n", c.Call("SET", "exact:s", "x"));
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("LPUSH", "exact:s", "a"));
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("LRANGE", "exact:s", "0", "1"));
    }

    [Fact]
    public void CopyIsDeepAndMemoryFollowsTheList()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":2\r\n", c.Call("RPUSH", "copy:l", "a", "b"));
        Assert.Equal(":1\r\n", c.Call("COPY", "copy:l", "copy:m"));
        Assert.Equal(":3\r\n", c.Call("RPUSH", "copy:l", "c"));
        Assert.Equal(Arr(["a", "b"]), c.Call("LRANGE", "copy:m", "0", "-1"));
        long before = long.Parse(c.Call("MEMORY", "USAGE", "copy:l").AsSpan(1).TrimEnd("\r\n"));
        c.Call(["RPUSH", "copy:l", .. Enumerable.Repeat(new string('x', 1000), 50)]);
        long after = long.Parse(c.Call("MEMORY", "USAGE", "copy:l").AsSpan(1).TrimEnd("\r\n"));
        Assert.InRange(after - before, 50 * 1002, 50 * 1002 + 4 * 8192);
    }

    [Fact]
    public async Task ListsSurviveAnAofRestartAndRewrite()
    {
        using var dir = new TempDir();
        string[] many = Enumerable.Range(0, 200).Select(i => $"e{i}").ToArray();
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            c.Call(["RPUSH", "big", .. many]);
            c.Call("LPUSH", "l", "a", "b", "c");
            c.Call("LSET", "l", "0", "C");
            c.Call("LINSERT", "l", "AFTER", "a", "z");
            c.Call("LREM", "l", "1", "b");
            c.Call("RPUSH", "moved", "m1", "m2");
            c.Call("LMOVE", "moved", "l", "LEFT", "RIGHT");
            Assert.Equal("*2\r\n$5\r\nmoved\r\n$2\r\nm2\r\n", c.Call("BLPOP", "nokey", "moved", "0"));
            c.Call("LTRIM", "big", "10", "-11");
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(Arr(["C", "a", "z", "m1"]), c.Call("LRANGE", "l", "0", "-1"));
            Assert.Equal(Arr(many[10..^10]), c.Call("LRANGE", "big", "0", "-1"));
            Assert.Equal(":0\r\n", c.Call("EXISTS", "moved"));
            Assert.StartsWith("+Background append only file rewriting", c.Call("BGREWRITEAOF"));
            for (int i = 0; i < 100 && c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1"); i++) await Task.Delay(50);
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(Arr(["C", "a", "z", "m1"]), c.Call("LRANGE", "l", "0", "-1"));
            Assert.Equal(Arr(many[10..^10]), c.Call("LRANGE", "big", "0", "-1"));
        }
    }
}
