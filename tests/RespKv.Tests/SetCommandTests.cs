using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The set commands (https://redis.io/commands/?group=set) through a real socket, with the exact reply bytes
/// redis-server 7.0.15 gives for the same sequences (each was run against it first; an intset lists members in numeric
/// order on both). Plus: a randomized model test against <see cref="HashSet{T}"/> with the encoding Redis would choose,
/// SSCAN exactly-once under concurrent SADD/SREM, the intset/hashtable boundaries, the AOF (SPOP logged as SREM, the
/// rewrite as SADD batches) across a restart, and the value class's own invariants. Each test uses its own key prefix.
/// </summary>
public sealed class SetCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string WrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static string Bulk(string s) => $"${Latin1.GetByteCount(s)}\r\n{s}\r\n";

    private static string Int(long n) => $":{n}\r\n";

    private static string Arr(params string[] items) => $"*{items.Length}\r\n" + string.Concat(items.Select(Bulk));

    private static List<string> Bulks(string reply) => Replies.Bulks(reply);

    private static void Load(RespTestClient c, string key, IEnumerable<string> members, int perCommand = 1000)
    {
        foreach (string[] chunk in members.Chunk(perCommand)) Assert.StartsWith(":", c.Call([.. new[] { "SADD", key }, .. chunk]));
    }

    private static (List<string> Members, int Calls) ScanAll(RespTestClient c, string key, params string[] options) =>
        KeyScans.ScanAll(c, "SSCAN", key, 1, options);

    [Fact]
    public void ExactRepliesOfRedis()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(3), c.Call("SADD", "x:s", "3", "1", "2"));
        Assert.Equal(Int(1), c.Call("SADD", "x:s", "1", "-7"));
        Assert.Equal(Arr("-7", "1", "2", "3"), c.Call("SMEMBERS", "x:s"));
        Assert.Equal(Bulk("intset"), c.Call("OBJECT", "ENCODING", "x:s"));
        Assert.Equal("*3\r\n:1\r\n:0\r\n:0\r\n", c.Call("SMISMEMBER", "x:s", "2", "02", "a"));
        Assert.Equal(Int(0), c.Call("SISMEMBER", "x:s", "+1"));
        Assert.Equal(Int(2), c.Call("SREM", "x:s", "-7", "9", "3"));
        Assert.Equal(Arr("1", "2"), c.Call("SINTER", "x:s", "x:s"));
        Assert.Equal(Arr(), c.Call("SINTER", "x:s", "x:none"));
        Assert.Equal(Arr("1", "2"), c.Call("SDIFF", "x:s", "x:none"));
        Assert.Equal(Int(2), c.Call("SINTERCARD", "1", "x:s"));
        Assert.Equal(Int(1), c.Call("SINTERCARD", "1", "x:s", "LIMIT", "1"));
        Assert.Equal("-ERR numkeys should be greater than 0\r\n", c.Call("SINTERCARD", "0", "x:s"));
        Assert.Equal("-ERR Number of keys can't be greater than number of args\r\n", c.Call("SINTERCARD", "2", "x:s"));
        Assert.Equal("-ERR LIMIT can't be negative\r\n", c.Call("SINTERCARD", "1", "x:s", "LIMIT", "-1"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SINTERCARD", "1", "x:s", "LIMIT"));
        Assert.Equal("-ERR value is out of range, must be positive\r\n", c.Call("SPOP", "x:s", "-1"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SPOP", "x:s", "1", "2"));
        Assert.Equal("*0\r\n", c.Call("SPOP", "x:none", "3"));
        Assert.Equal("$-1\r\n", c.Call("SPOP", "x:none"));
        Assert.Equal("$-1\r\n", c.Call("SRANDMEMBER", "x:none"));
        Assert.Equal("*0\r\n", c.Call("SRANDMEMBER", "x:none", "-3"));
        Assert.Equal(Int(1), c.Call("SADD", "x:one", "1"));
        Assert.Equal(Arr("1", "1", "1"), c.Call("SRANDMEMBER", "x:one", "-3"));
        Assert.Equal("+OK\r\n", c.Call("SET", "x:str", "v"));
        Assert.Equal(WrongType, c.Call("SADD", "x:str", "a"));
        Assert.Equal(WrongType, c.Call("SINTER", "x:none", "x:str"));
        Assert.Equal(Int(0), c.Call("SMOVE", "x:none", "x:str", "a"));
        Assert.Equal(WrongType, c.Call("SMOVE", "x:s", "x:str", "1"));
        Assert.Equal(Int(1), c.Call("SMOVE", "x:s", "x:t", "1"));
        Assert.Equal(Int(1), c.Call("SMOVE", "x:s", "x:t", "2"));
        Assert.Equal(Int(0), c.Call("EXISTS", "x:s"));
        Assert.Equal(Int(2), c.Call("SUNIONSTORE", "x:u", "x:t", "x:one"));
        Assert.Equal(Int(0), c.Call("SDIFFSTORE", "x:u", "x:t", "x:t"));
        Assert.Equal(Int(0), c.Call("EXISTS", "x:u"));
        Assert.Equal(WrongType, c.Call("SINTERSTORE", "x:u", "x:t", "x:str"));
        Assert.Equal("*2\r\n$1\r\n0\r\n*0\r\n", c.Call("SSCAN", "x:none", "0", "BOGUS"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SSCAN", "x:t", "0", "TYPE", "set"));
        Assert.Equal("*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n", c.Call("SSCAN", "x:t", "0", "COUNT", "1"));
    }

    [Fact]
    public void Resp3RepliesSets()
    {
        using RespTestClient c = server.Connect();
        Assert.StartsWith("%", c.Call("HELLO", "3"));
        Assert.Equal(Int(3), c.Call("SADD", "r3:s", "1", "2", "3"));
        Assert.Equal("~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", c.Call("SMEMBERS", "r3:s"));
        Assert.Equal("~0\r\n", c.Call("SUNION", "r3:none"));
        Assert.Equal("~0\r\n", c.Call("SPOP", "r3:none", "1"));
        Assert.Equal("_\r\n", c.Call("SPOP", "r3:none"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", c.Call("SRANDMEMBER", "r3:s", "5"));
        Assert.Equal("~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", c.Call("SPOP", "r3:s", "3"));
    }

    [Fact]
    public void IntsetBoundariesAndNoConversionBack()
    {
        using RespTestClient c = server.Connect();
        Load(c, "b:s", Enumerable.Range(1, 512).Select(i => i.ToString()));
        Assert.Equal(Bulk("intset"), c.Call("OBJECT", "ENCODING", "b:s"));
        Assert.Equal(Int(0), c.Call("SADD", "b:s", "512"));
        Assert.Equal(Bulk("intset"), c.Call("OBJECT", "ENCODING", "b:s"));
        Assert.Equal(Int(1), c.Call("SADD", "b:s", "513"));
        Assert.Equal(Bulk("hashtable"), c.Call("OBJECT", "ENCODING", "b:s"));
        Assert.Equal(Int(1), c.Call("SREM", "b:s", "513"));
        Assert.Equal(Bulk("hashtable"), c.Call("OBJECT", "ENCODING", "b:s")); // Redis 7.0 never converts back
        Assert.Equal(Int(2), c.Call("SADD", "b:t", "1", "2"));
        Assert.Equal(Int(1), c.Call("SADD", "b:t", "x"));
        Assert.Equal(Bulk("hashtable"), c.Call("OBJECT", "ENCODING", "b:t"));
        Assert.Equal(Int(1), c.Call("SADD", "b:u", "007")); // not canonical: a string
        Assert.Equal(Bulk("hashtable"), c.Call("OBJECT", "ENCODING", "b:u"));
        // A stored result is an intset again when it qualifies (Redis builds it from createIntsetObject).
        Assert.Equal(Int(2), c.Call("SINTERSTORE", "b:i", "b:t", "b:s"));
        Assert.Equal(Bulk("intset"), c.Call("OBJECT", "ENCODING", "b:i"));
    }

    [Fact]
    public void SScanOfALargeSetReturnsEveryMemberOnceInTheSetsOrder()
    {
        using RespTestClient c = server.Connect();
        string[] members = [.. Enumerable.Range(0, 3000).Select(i => "m" + i)];
        Load(c, "sc:large", members);
        (List<string> got, int calls) = ScanAll(c, "sc:large", "COUNT", "7");
        // The set's own (hash, member) order, which SMEMBERS lists too; every member once.
        Assert.Equal(Bulks(c.Call("SMEMBERS", "sc:large")), got);
        Assert.Equal(members.Order(StringComparer.Ordinal), got.Order(StringComparer.Ordinal));
        Assert.InRange(calls, 3000 / 7, 3000 / 7 + 2);
        // MATCH filters what each call examined (no seek in hash order): every call examines COUNT members, as Redis's.
        (List<string> prefixed, int matchCalls) = ScanAll(c, "sc:large", "MATCH", "m12*", "COUNT", "5");
        Assert.Equal(members.Where(m => m.StartsWith("m12", StringComparison.Ordinal)).Order(StringComparer.Ordinal), prefixed.Order(StringComparer.Ordinal));
        Assert.InRange(matchCalls, 3000 / 5, 3000 / 5 + 2);
        Assert.Equal("-ERR invalid cursor\r\n", c.Call("SSCAN", "sc:large", "12345678"));
    }

    [Fact]
    public async Task SScanUnderConcurrentMutationReturnsEveryStableMemberExactlyOnce()
    {
        const string k = "sc:mut";
        const int stable = 50_000;
        using RespTestClient scanner = server.Connect();
        Load(scanner, k, Enumerable.Range(0, stable).Select(i => $"s:{i:D6}"));
        await KeyScans.AssertStableNamesReturnedExactlyOnce(server.Connect, () => ScanAll(scanner, k, "COUNT", "10").Members, stable, 11,
            (m, random, i) => random.Next(2) == 0
                ? m.Call("SADD", k, $"s:{i:D6}:x", $"a{i}", $"s:{i:D5}")
                : m.Call("SREM", k, $"s:{i:D6}:x", $"a{i}", $"s:{i:D5}"));
    }

    /// <summary>Redis's encoding rule: intset while every member ever added was an integer and the set never exceeded 512.</summary>
    private sealed class Model
    {
        public readonly HashSet<string> Members = [];
        public bool Hashtable;

        public static bool IsInteger(string s) => RespInteger.TryParse(System.Text.Encoding.ASCII.GetBytes(s), out _);

        public int Add(IEnumerable<string> members)
        {
            int added = 0;
            foreach (string m in members)
            {
                if (!Members.Add(m)) continue;
                added++;
                if (!IsInteger(m) || Members.Count > 512) Hashtable = true;
            }
            return added;
        }

        public string Name => Hashtable ? "hashtable" : "intset";

        /// <summary>
        /// Asserts <paramref name="reply"/> lists exactly <paramref name="members"/>: in numeric order for an intset (as
        /// Redis); in any order for a hashtable (its (hash, member) order has a per-process random seed).
        /// </summary>
        public void AssertListing(IEnumerable<string> members, string reply)
        {
            if (Hashtable) Assert.Equal(members.Order(StringComparer.Ordinal), Bulks(reply).Order(StringComparer.Ordinal));
            else Assert.Equal(Arr([.. members.OrderBy(long.Parse)]), reply);
        }
    }

    [Fact]
    public void RandomizedCommandsMatchAHashSetModel()
    {
        using RespTestClient c = server.Connect();
        var random = new Random(4242);
        string[] keys = ["m:{t}a", "m:{t}b", "m:{t}c"];
        var models = keys.ToDictionary(k => k, _ => new Model());
        string Member(bool ints) => ints || random.Next(30) > 0 ? random.Next(-50, 700).ToString() : "w" + random.Next(40);
        for (int step = 0; step < 4000; step++)
        {
            string k = keys[random.Next(keys.Length)], other = keys[random.Next(keys.Length)];
            Model model = models[k];
            bool ints = step < 2000; // the first half keeps sets integer-only (intsets crossing 512), the second mixes strings in
            switch (random.Next(12))
            {
                case < 4:
                {
                    string[] add = [.. Enumerable.Range(0, random.Next(1, 40)).Select(_ => Member(ints))];
                    Assert.Equal(Int(model.Add(add)), c.Call(["SADD", k, .. add]));
                    break;
                }
                case < 6:
                {
                    string[] remove = [.. Enumerable.Range(0, random.Next(1, 10)).Select(_ => Member(ints))];
                    int removed = remove.Distinct().Count(model.Members.Remove);
                    Assert.Equal(Int(removed), c.Call(["SREM", k, .. remove]));
                    break;
                }
                case 6:
                {
                    string reply = c.Call("SPOP", k, random.Next(0, 5).ToString());
                    foreach (string popped in Bulks(reply)) Assert.True(model.Members.Remove(popped), $"{popped} popped but not a member");
                    break;
                }
                case 7:
                {
                    string m = model.Members.Count > 0 && random.Next(2) == 0 ? model.Members.First() : Member(ints);
                    bool moved = model.Members.Contains(m) && k != other;
                    Assert.Equal(Int(model.Members.Contains(m) ? 1 : 0), c.Call("SMOVE", k, other, m));
                    if (moved)
                    {
                        model.Members.Remove(m);
                        models[other].Add([m]);
                    }
                    break;
                }
                case 8:
                {
                    var expected = model.Members.Intersect(models[other].Members).ToHashSet();
                    Assert.Equal(expected.Order(StringComparer.Ordinal), Bulks(c.Call("SINTER", k, other)).Order(StringComparer.Ordinal));
                    Assert.Equal(Int(expected.Count), c.Call("SINTERCARD", "2", k, other));
                    Assert.Equal(Int(Math.Min(3, expected.Count)), c.Call("SINTERCARD", "2", k, other, "LIMIT", "3"));
                    break;
                }
                case 9:
                {
                    var union = model.Members.Union(models[other].Members).ToHashSet();
                    Assert.Equal(Int(union.Count), c.Call("SUNIONSTORE", "m:{t}dest", k, other));
                    var dest = new Model();
                    dest.Add(union);
                    if (union.Count > 0) Assert.Equal(Bulk(dest.Name), c.Call("OBJECT", "ENCODING", "m:{t}dest"));
                    dest.AssertListing(union, c.Call("SMEMBERS", "m:{t}dest"));
                    break;
                }
                case 10:
                {
                    var diff = model.Members.Except(models[other].Members).ToHashSet();
                    Assert.Equal(diff.Order(StringComparer.Ordinal), Bulks(c.Call("SDIFF", k, other)).Order(StringComparer.Ordinal));
                    string probe = Member(ints);
                    Assert.Equal(Int(model.Members.Contains(probe) ? 1 : 0), c.Call("SISMEMBER", k, probe));
                    break;
                }
                default:
                {
                    string reply = c.Call("SRANDMEMBER", k, random.Next(-5, 8).ToString());
                    Assert.All(Bulks(reply), m => Assert.Contains(m, model.Members));
                    break;
                }
            }
            foreach (string key in keys)
            {
                Model m = models[key];
                if (m.Members.Count == 0) m.Hashtable = false; // the key is gone; a new one starts as an intset
                Assert.Equal(Int(m.Members.Count), c.Call("SCARD", key));
            }
            if (step % 50 == 0)
            {
                foreach (string key in keys)
                {
                    Model m = models[key];
                    m.AssertListing(m.Members, c.Call("SMEMBERS", key));
                    if (m.Members.Count > 0) Assert.Equal(Bulk(m.Name), c.Call("OBJECT", "ENCODING", key));
                }
            }
        }
        Assert.Contains(models.Values, m => m.Hashtable);
    }

    [Fact]
    public async Task AofLogsSPopAsSRemAndTheRewriteAsSAddBatches()
    {
        using var dir = new TempDir();
        List<string> popped;
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(Int(1), c.Call("SADD", "one", "only"));
            Assert.Equal(Bulk("only"), c.Call("SPOP", "one"));
            Assert.Equal(Int(3), c.Call("SADD", "small", "a", "b", "c"));
            Assert.Equal("*3\r\n", c.Call("SPOP", "small", "5")[..4]);
            Assert.Equal(Int(4), c.Call("SADD", "p", "1", "2", "3", "4"));
            popped = Bulks(c.Call("SPOP", "p", "2"));
            Assert.Empty(Bulks(c.Call("SRANDMEMBER", "p", "-2")).Except(["1", "2", "3", "4"]));
            string aof = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
            Assert.Contains(AofTestSupport.Record("SREM", "one", "only"), aof);
            Assert.Contains(AofTestSupport.Record("DEL", "small"), aof);
            Assert.Contains(AofTestSupport.Record(["SREM", "p", .. popped]), aof);
            long logged = new FileInfo(dir.Aof).Length;
            Assert.Equal(Int(0), c.Call("SADD", "p", new[] { "1", "2", "3", "4" }.Except(popped).First()));
            Assert.Equal(Int(0), c.Call("SREM", "p", "absent"));
            Assert.Equal(Int(0), c.Call("SMOVE", "p", "elsewhere", "absent"));
            Assert.Equal(logged, new FileInfo(dir.Aof).Length); // writes that changed nothing are not logged
            Assert.DoesNotContain("SPOP", aof);
            Assert.DoesNotContain("SRANDMEMBER", aof);
            Load(c, "big", Enumerable.Range(0, 1000).Select(i => "m" + i));
            Load(c, "ints", Enumerable.Range(0, 100).Select(i => i.ToString()));
            Assert.Equal(Int(1), c.Call("SMOVE", "big", "moved", "m5"));
            Assert.Equal(Int(1), c.Call("PEXPIRE", "ints", "100000000"));
            Assert.Equal("+Background append only file rewriting started\r\n", c.Call("BGREWRITEAOF"));
            while (c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1")) await Task.Delay(20);
            aof = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
            Assert.Contains(AofTestSupport.Record(["SADD", "ints", .. Enumerable.Range(0, 64).Select(i => i.ToString())]), aof);
            Assert.Contains(AofTestSupport.Record(["SADD", "ints", .. Enumerable.Range(64, 36).Select(i => i.ToString())]), aof);
            Assert.Equal(16, aof.Split("$4\r\nSADD\r\n$3\r\nbig\r\n").Length - 1); // 999 members: 15 × 64 + 39
            Assert.Equal(Int(1), c.Call("SADD", "big", "after-rewrite"));
        }
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(Int(0), c.Call("EXISTS", "one"));
            Assert.Equal(Int(0), c.Call("EXISTS", "small"));
            Assert.Equal(Int(2), c.Call("SCARD", "p"));
            Assert.Equal("*1\r\n:0\r\n", c.Call("SMISMEMBER", "p", popped[0]));
            Assert.Equal(Int(1000), c.Call("SCARD", "big"));
            Assert.Equal(Int(0), c.Call("SISMEMBER", "big", "m5"));
            Assert.Equal(Int(1), c.Call("SISMEMBER", "big", "after-rewrite"));
            Assert.Equal(Arr("m5"), c.Call("SMEMBERS", "moved"));
            Assert.Equal(Bulk("intset"), c.Call("OBJECT", "ENCODING", "ints"));
            Assert.Equal(Bulk("hashtable"), c.Call("OBJECT", "ENCODING", "big"));
            Assert.Matches(@"^:\d{8,9}\r\n$", c.Call("PTTL", "ints"));
        }
    }

    [Fact]
    public void GenericCommandsHandleSets()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(3), c.Call("SADD", "g:s", "a", "b", "c"));
        Assert.Equal("+set\r\n", c.Call("TYPE", "g:s"));
        Assert.Equal(Int(1), c.Call("COPY", "g:s", "g:copy"));
        Assert.Equal(Int(1), c.Call("SREM", "g:s", "a"));
        Assert.Equal(Int(3), c.Call("SCARD", "g:copy")); // a deep copy
        Assert.Equal("+OK\r\n", c.Call("RENAME", "g:copy", "g:renamed"));
        Assert.Equal(["a", "b", "c"], Bulks(c.Call("SMEMBERS", "g:renamed")).Order(StringComparer.Ordinal));
        Assert.StartsWith(":", c.Call("MEMORY", "USAGE", "g:renamed"));
        Assert.Equal(Int(1), c.Call("SADD", "g:i", "5"));
        Assert.Equal(Int(1), c.Call("COPY", "g:i", "g:i2"));
        Assert.Equal(Int(1), c.Call("SADD", "g:i", "6"));
        Assert.Equal(Arr("5"), c.Call("SMEMBERS", "g:i2"));
    }

    [Fact]
    public async Task DebugDigestAndObjectMatchRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = ProtectedAction.Yes);
        using var c = new RespTestClient(host.Port);
        Assert.Equal(Int(3), c.Call("SADD", "d", "a", "b", "1"));
        Assert.Equal(Int(3), c.Call("SADD", "i", "1", "2", "3"));
        Assert.Equal(Int(2), c.Call("SADD", "ww", "70000", "1"));
        Load(c, "big", Enumerable.Range(1, 600).Select(i => i.ToString()));
        // Each figure as redis-server 7.0.15 printed it for the same sets.
        Assert.Equal("*1\r\n+e8f32bbb1ad9bf537c8867de4f19fec9e001296d\r\n", c.Call("DEBUG", "DIGEST-VALUE", "d"));
        Assert.Equal("*1\r\n+2a462a3f51a1db89738ebbeef0c47ce1bbc85246\r\n", c.Call("DEBUG", "DIGEST-VALUE", "i"));
        Assert.Contains(" encoding:intset serializedlength:15 ", c.Call("DEBUG", "OBJECT", "i"));
        Assert.Contains(" encoding:intset serializedlength:17 ", c.Call("DEBUG", "OBJECT", "ww"));
        Assert.Contains(" encoding:hashtable serializedlength:1675 ", c.Call("DEBUG", "OBJECT", "big"));

        // DEBUG reads a value under its key's shard lock (outside a transaction; inside one, under the transaction's locks):
        // the in-place tree is never walked mid-change. A digest is order-independent: the same members, the same digest.
        Load(c, "h", Enumerable.Range(0, 5000).Select(i => "member:" + i));
        string digest = c.Call("DEBUG", "DIGEST-VALUE", "h");
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("DEBUG", "DIGEST-VALUE", "h"));
        Assert.Equal("+QUEUED\r\n", c.Call("DEBUG", "DIGEST"));
        Assert.StartsWith("*2\r\n" + digest, c.Call("EXEC"));
        using var done = new CancellationTokenSource();
        Task mutator = Task.Factory.StartNew(() =>
        {
            using var m = new RespTestClient(host.Port);
            var random = new Random(3);
            while (!done.IsCancellationRequested)
            {
                string[] members = [.. Enumerable.Range(0, 50).Select(_ => "x:" + random.Next(20_000))];
                Assert.StartsWith(":", m.Call(["SADD", "h", .. members]));
                Assert.StartsWith(":", m.Call(["SREM", "h", .. members]));
            }
        }, TaskCreationOptions.LongRunning);
        try
        {
            for (int i = 0; i < 200; i++)
            {
                Assert.StartsWith("*1\r\n+", c.Call("DEBUG", "DIGEST-VALUE", "h"));
                Assert.Contains(" encoding:hashtable ", c.Call("DEBUG", "OBJECT", "h"));
                if (i % 20 == 0) Assert.StartsWith("+", c.Call("DEBUG", "DIGEST"));
            }
        }
        finally
        {
            done.Cancel();
            await mutator;
        }
        Assert.Equal(digest, c.Call("DEBUG", "DIGEST-VALUE", "h"));
    }

    [Fact]
    public void WatchSeesInPlaceChangesAndScanFindsSetsByType()
    {
        using RespTestClient c = server.Connect(), other = server.Connect();
        Assert.Equal(Int(1), c.Call("SADD", "w:{x}s", "a"));
        Assert.Equal("+OK\r\n", c.Call("WATCH", "w:{x}s"));
        Assert.Equal(Int(0), other.Call("SADD", "w:{x}s", "a")); // no change: the watch stays clean
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SCARD", "w:{x}s"));
        Assert.Equal("*1\r\n:1\r\n", c.Call("EXEC"));
        Assert.Equal("+OK\r\n", c.Call("WATCH", "w:{x}s"));
        Assert.Equal(Int(1), other.Call("SADD", "w:{x}s", "b")); // changed in place: the watch is dirty
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SMOVE", "w:{x}s", "w:{x}t", "a"));
        Assert.Equal("*-1\r\n", c.Call("EXEC"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SMOVE", "w:{x}s", "w:{x}t", "a"));
        Assert.Equal("+QUEUED\r\n", c.Call("SMEMBERS", "w:{x}t"));
        Assert.Equal("*2\r\n:1\r\n*1\r\n$1\r\na\r\n", c.Call("EXEC"));
        string scan = c.Call("SCAN", "0", "MATCH", "w:{x}*", "TYPE", "set", "COUNT", "100000");
        Assert.Equal(["w:{x}s", "w:{x}t"], Bulks(scan).Skip(1).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsAndNoOpWritesAllocateNothing(bool withLog)
    {
        var rs = new RespServer(new ServerOptions());
        var log = new RecordingWriteLog();
        if (withLog) rs.WriteLog = log;
        var output = new System.Buffers.ArrayBufferWriter<byte>(8 << 20); // SMEMBERS' replies must fit: no growth
        var session = new ClientSession(rs, output);
        double PerCommand(params string[] command) => Allocations.PerCommand(session, output, 1000, command);
        PerCommand(["SADD", "ints", .. Enumerable.Range(0, 100).Select(i => i.ToString())]);
        PerCommand(["SADD", "strs", .. Enumerable.Range(0, 100).Select(i => "m" + i)]);
        foreach (string key in new[] { "ints", "strs" })
        {
            string member = key == "ints" ? "42" : "m42";
            Assert.Equal(0, PerCommand("SISMEMBER", key, member));
            Assert.Equal(0, PerCommand("SMISMEMBER", key, member, "nope"));
            Assert.Equal(0, PerCommand("SCARD", key));
            // A listing writes ~800 KB per batch; the least run still shows ~0.2 bytes per command of output bookkeeping.
            Assert.True(PerCommand("SMEMBERS", key) < 1);
            Assert.Equal(0, PerCommand("SRANDMEMBER", key));
            Assert.Equal(0, PerCommand("SRANDMEMBER", key, "-5"));
            Assert.Equal(0, PerCommand("SINTERCARD", "1", key));
            Assert.Equal(0, PerCommand("SADD", key, member));
            Assert.Equal(0, PerCommand("SREM", key, "absent"));
        }
        // Sets changed in place: removing and re-adding a member allocates nothing — an intset's array keeps its size, and
        // a hashtable's tree (here 5,000 members: many leaves under an inner node) changes one leaf where it lies.
        PerCommand(["SADD", "big", .. Enumerable.Range(0, 5000).Select(i => "member:" + i)]);
        int logged = log.Units.Count;
        foreach ((string key, string member) in new[] { ("ints", "7"), ("strs", "m7"), ("big", "member:4321") })
        {
            string toggle = $"*3\r\n$4\r\nSREM\r\n${key.Length}\r\n{key}\r\n${member.Length}\r\n{member}\r\n"
                + $"*3\r\n$4\r\nSADD\r\n${key.Length}\r\n{key}\r\n${member.Length}\r\n{member}\r\n";
            var pairs = new System.Buffers.ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(toggle, 500))));
            session.ProcessReceived(pairs);
            session.Writer.Commit();
            output.ResetWrittenCount();
            // The least of three rounds, as Allocations.PerCommand takes: a one-time runtime allocation on this thread (the
            // JIT tiering a method up mid-round on a loaded machine) is not a per-command cost.
            long allocated = long.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                long start = GC.GetAllocatedBytesForCurrentThread();
                session.ProcessReceived(pairs);
                session.Writer.Commit();
                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - start);
                output.ResetWrittenCount();
            }
            if (!withLog) Assert.True(allocated == 0, $"SREM/SADD of {key} allocated {allocated} bytes for 1,000 commands");
            // With a log, every toggle is recorded (the recording log itself allocates) and nothing before them was: the
            // reads and no-op writes above changed nothing.
            else Assert.Equal(4 * 1000, log.Units.Count(u => u.Commands.Single() == $"db0 SREM {key} {member}" || u.Commands.Single() == $"db0 SADD {key} {member}"));
        }
        Assert.Equal(withLog ? 3 + 3 * 4 * 1000 : 0, log.Units.Count);
        Assert.Equal(withLog ? 3 : 0, logged);
    }

    [Fact]
    public void SInterCardKeysComeFromItsNumkeys()
    {
        CommandInfo row = CommandFamilies.Table.Lookup("sintercard"u8)!;
        byte[] buffer = "SINTERCARD2abLIMIT1"u8.ToArray();
        ArgSlice[] slices = [new(0, 10), new(10, 1), new(11, 1), new(12, 1), new(13, 5), new(18, 1)];
        var into = new KeyRef[4];
        Assert.Equal(2, row.GetKeys(new CommandArgs(buffer, slices), into));
        Assert.Equal([2, 3], into[..2].Select(k => k.Index));
    }

    [Fact]
    public void SetValueKeepsCountsBytesAndOrderAndCopiesDeeply()
    {
        var set = new SetValue();
        var random = new Random(5);
        var model = new HashSet<string>();
        for (int i = 0; i < 3000; i++)
        {
            string m = random.Next(3) == 0 ? "s" + random.Next(2000) : random.Next(-3000, 3000).ToString();
            if (random.Next(4) == 0) Assert.Equal(model.Remove(m), set.Remove(Encoding.ASCII.GetBytes(m)));
            else Assert.Equal(model.Add(m), set.Add(Encoding.ASCII.GetBytes(m), 512));
            if (i == 100) Assert.False(set.IsIntset);
        }
        Assert.Equal(model.Count, set.Count);
        Assert.Equal(model.Sum(m => (long)m.Length), set.Bytes);
        var listed = new List<string>();
        var collector = new Collector(listed);
        set.ForEach(ref collector);
        Assert.Equal(model.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        Span<byte> rankScratch = stackalloc byte[SetValue.MaxIntegerLength];
        for (int r = 0; r < listed.Count; r++) Assert.Equal(listed[r], Encoding.ASCII.GetString(set.ElementAt(r, rankScratch)));
        SetValue copy = set.Copy();
        Assert.True(copy.Add("new"u8, 512));
        Assert.False(set.Contains("new"u8));

        var ints = new SetValue();
        for (int i = 0; i < 100; i++) ints.Add(Encoding.ASCII.GetBytes(((i * 37) % 100 - 50).ToString()), 512);
        Assert.True(ints.IsIntset);
        Span<byte> scratch = stackalloc byte[SetValue.MaxIntegerLength];
        Assert.Equal("-50", Encoding.ASCII.GetString(ints.ElementAt(0, scratch)));
        Assert.Equal("49", Encoding.ASCII.GetString(ints.ElementAt(99, scratch)));
        SetValue intCopy = ints.Copy();
        Assert.True(ints.Remove("0"u8));
        Assert.True(intCopy.Contains("0"u8));
        Assert.Equal(SetKind.Instance.MemoryBytes(ints), SetKind.Estimate(ints));
    }

    /// <summary>
    /// The hashtable encoding against a <see cref="HashSet{T}"/> over 30,000 random operations, on trees with small leaves
    /// (128 bytes) and inner nodes (4 children) so that splits, shares, merges and root changes all happen: SADD, SREM,
    /// SPOP (a random rank), SISMEMBER; SSCAN-style walks resumed after a member while the set changes between steps (a
    /// member present for the whole walk is seen exactly once, nothing is seen twice); every rank maps to a distinct member
    /// (so a random rank is a uniform member); the tree's invariants, <see cref="SetKind.Estimate"/> equal to the tree's
    /// own size, and a deep <see cref="SetValue.Copy"/>. With 16 children a descent counts an inner node's route keys four
    /// at a time (<c>Vector256</c>); with 4 it counts them one by one.
    /// </summary>
    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    public void HashtableEncodingMatchesAHashSetModel(int maxChildren)
    {
        var random = new Random(2026);
        var set = new SetValue(new ScoredMemberTree(byScore: false, maxLeafBytes: 128, maxChildren: maxChildren));
        var model = new HashSet<string>();
        string Member() => random.Next(8) == 0 ? new string('x', random.Next(1, 90)) + random.Next(50) : "m" + random.Next(3000);
        byte[] B(string m) => Encoding.ASCII.GetBytes(m);
        Span<byte> scratch = stackalloc byte[SetValue.MaxIntegerLength];
        // An SSCAN-like walk in progress: the members present since it began, those it has returned, where it stands.
        HashSet<string>? stable = null;
        var seen = new HashSet<string>();
        string? after = null;
        int walks = 0;
        for (int op = 0; op < 30_000; op++)
        {
            switch (random.Next(10))
            {
                case < 4:
                {
                    string m = Member();
                    Assert.Equal(model.Add(m), set.Add(B(m), 512));
                    break;
                }
                case < 6:
                {
                    string m = model.Count > 0 && random.Next(2) == 0 ? model.ElementAt(random.Next(model.Count)) : Member();
                    bool removed = model.Remove(m);
                    Assert.Equal(removed, set.Remove(B(m)));
                    stable?.Remove(m);
                    break;
                }
                case 6 when model.Count > 0:
                {
                    string popped = Encoding.ASCII.GetString(set.ElementAt(random.NextInt64(set.Count), scratch));
                    Assert.True(model.Remove(popped), $"{popped} is not a member");
                    Assert.True(set.Remove(B(popped)));
                    stable?.Remove(popped);
                    break;
                }
                case 7:
                {
                    string m = Member();
                    Assert.Equal(model.Contains(m), set.Contains(B(m)));
                    break;
                }
                default:
                {
                    // One step of the walk: up to 7 members strictly after the last one returned (or from the start).
                    stable ??= [.. model];
                    var step = new Collector([], 7);
                    set.ForEachFrom(after == null ? default : B(after), exclusive: after != null, ref step);
                    foreach (string m in step.Into)
                    {
                        Assert.True(seen.Add(m), $"{m} returned twice by one walk");
                        Assert.Contains(m, model);
                    }
                    if (step.Into.Count < 7)
                    {
                        Assert.Empty(stable.Except(seen));
                        stable = null;
                        seen.Clear();
                        after = null;
                        walks++;
                    }
                    else after = step.Into[^1];
                    break;
                }
            }
            Assert.Equal(model.Count, set.Count);
            if (op % 500 == 0 || op == 29_999)
            {
                var listed = new List<string>();
                set.Table!.Validate((_, member) => listed.Add(Encoding.ASCII.GetString(member)));
                Assert.Equal(model.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
                for (int r = 0; r < listed.Count; r++) Assert.Equal(listed[r], Encoding.ASCII.GetString(set.ElementAt(r, scratch)));
                Assert.Equal(model.Sum(m => (long)m.Length), set.Bytes);
                Assert.Equal(SetKind.ObjectBytes + set.Table.HeapBytes, SetKind.Estimate(set));
                SetValue copy = set.Copy();
                copy.Table!.Validate((_, _) => { });
                Assert.True(copy.Add("only-in-the-copy"u8, 512));
                Assert.False(set.Contains("only-in-the-copy"u8));
                if (listed.Count > 0)
                {
                    Assert.True(copy.Remove(B(listed[0])));
                    Assert.True(set.Contains(B(listed[0])));
                }
            }
        }
        Assert.True(walks > 5, $"only {walks} walks completed");
        Assert.False(set.IsIntset);
    }

    private readonly struct Collector(List<string> into, int limit = int.MaxValue) : IHashVisitor
    {
        public List<string> Into => into;

        public bool Visit(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            into.Add(Encoding.Latin1.GetString(member));
            return into.Count < limit;
        }
    }

    [Fact]
    public async Task InfoMemoryFollowsInPlaceChanges()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        long Used() => host.Server.Keyspace[0].MemoryBytes;
        long empty = Used();
        Load(c, "mem", Enumerable.Range(0, 5000).Select(i => "member:" + i));
        long full = Used();
        Assert.True(full - empty > 5000 * 12, $"{full - empty} bytes for 5000 members");
        Assert.Equal(Int(5000), c.Call(["SREM", "mem", .. Enumerable.Range(0, 5000).Select(i => "member:" + i)]));
        Assert.Equal(empty, Used()); // every delta announced; the key's removal takes the rest
    }
}
