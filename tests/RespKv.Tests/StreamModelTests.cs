using System.Text;
using System.Text.RegularExpressions;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;
using Xunit.Abstractions;

namespace RespKv.Tests;

/// <summary>
/// Model-based randomized tests of streams: a seeded sequence of operations applied both to RespKv and to a plain model —
/// a sorted list of entries, and per group its last ID and a PEL of (ID → consumer, delivery count) — and every reply
/// compared. <see cref="PackedNodesMatchAListOfEntries"/> drives <see cref="StreamValue"/> itself with tiny nodes (so seeks,
/// tombstones, dropped nodes and both directions of range reads cross node boundaries); <see cref="CommandsMatchTheModel"/>
/// drives the server's commands (XADD, XDEL, XTRIM, XRANGE, XREVRANGE, XLEN, XREAD, XGROUP CREATE, XREADGROUP, XACK,
/// XPENDING, XCLAIM) with <c>stream-node-max-entries</c> changing on the way; <see cref="RandomCommandsGiveRedisServersReplies"/>
/// sends the same seeded random stream commands to a fresh redis-server 7.0.15 and compares every reply byte for byte (times
/// masked).
/// </summary>
public sealed class StreamModelTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private sealed record ModelEntry(StreamId Id, string[] Pairs);

    private readonly struct Strings(string[] items) : IFieldValues
    {
        public ReadOnlySpan<byte> this[int index] => Encoding.ASCII.GetBytes(items[index]);
    }

    private static string[] RandomPairs(Random r)
    {
        int n = r.Next(1, 4);
        var pairs = new string[2 * n];
        for (int i = 0; i < n; i++)
        {
            pairs[2 * i] = r.Next(3) == 0 ? "f" + r.Next(5) : "field" + i;
            pairs[2 * i + 1] = r.Next(4) == 0 ? new string('x', r.Next(0, 200)) : r.Next(1000).ToString();
        }
        return pairs;
    }

    private static List<ModelEntry> Read(StreamValue s, StreamId start, StreamId end, bool reverse)
    {
        var list = new List<ModelEntry>();
        StreamValue.RangeEnumerator e = s.Range(start, end, reverse);
        while (e.MoveNext())
        {
            var pairs = new List<string>();
            StreamValue.PairReader p = e.Current.Pairs;
            while (p.MoveNext())
            {
                pairs.Add(Encoding.ASCII.GetString(p.Field));
                pairs.Add(Encoding.ASCII.GetString(p.Value));
            }
            list.Add(new ModelEntry(e.Current.Id, [.. pairs]));
        }
        e.Dispose();
        return list;
    }

    private static void AssertSame(IReadOnlyList<ModelEntry> expected, IReadOnlyList<ModelEntry> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {expected.Count} entries expected, {actual.Count} read");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Id, actual[i].Id);
            Assert.Equal(expected[i].Pairs, actual[i].Pairs);
        }
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 3, 0)]
    [InlineData(3, 5, 120)]
    [InlineData(4, 0, 300)]
    [InlineData(5, 100, 4096)]
    public void PackedNodesMatchAListOfEntries(int seed, long nodeMaxEntries, long nodeMaxBytes)
    {
        var r = new Random(seed);
        var s = new StreamValue();
        var model = new List<ModelEntry>();
        ulong ms = 1;
        for (int step = 0; step < 3000; step++)
        {
            int op = r.Next(100);
            if (op < 55)
            {
                ms += (ulong)r.Next(0, 3);
                StreamId id = new(ms, model.Count > 0 && model[^1].Id.Ms == ms ? model[^1].Id.Seq + (ulong)r.Next(1, 3) : (ulong)r.Next(0, 2));
                if (id <= s.LastId) id = new StreamId(s.LastId.Ms, s.LastId.Seq + 1);
                string[] pairs = RandomPairs(r);
                s.Append(id, new Strings(pairs), pairs.Length / 2, nodeMaxEntries, nodeMaxBytes);
                model.Add(new ModelEntry(id, pairs));
            }
            else if (op < 70 && model.Count > 0)
            {
                StreamId id = r.Next(4) == 0 ? new StreamId(ms + 5, 0) : model[r.Next(model.Count)].Id;
                bool expected = model.RemoveAll(e => e.Id == id) > 0;
                Assert.Equal(expected, s.Delete(id));
                s.UpdateFirstId(true);
            }
            else if (op < 75)
            {
                long maxLen = r.Next(0, model.Count + 2);
                long removed = s.Trim(maxLen, default, approximate: false, limit: 0);
                long expected = Math.Max(0, model.Count - maxLen);
                model.RemoveRange(0, (int)expected);
                Assert.Equal(expected, removed);
            }
            else if (op < 78 && model.Count > 0)
            {
                StreamId min = model[r.Next(model.Count)].Id;
                long removed = s.Trim(-1, min, approximate: false, limit: 0);
                Assert.Equal(model.RemoveAll(e => e.Id < min), removed);
            }
            else if (op < 80)
            {
                // Approximate: whole nodes only, never below the threshold.
                long maxLen = r.Next(0, model.Count + 1);
                long removed = s.Trim(maxLen, default, approximate: true, limit: 0);
                Assert.True(model.Count - removed >= maxLen);
                model.RemoveRange(0, (int)removed);
            }
            else
            {
                StreamId a = model.Count > 0 ? model[r.Next(model.Count)].Id : default;
                StreamId b = r.Next(3) == 0 ? StreamId.Max : new StreamId(a.Ms + (ulong)r.Next(0, 4), (ulong)r.Next(0, 3));
                bool reverse = r.Next(2) == 0;
                var expected = model.Where(e => e.Id >= a && e.Id <= b).ToList();
                if (reverse) expected.Reverse();
                AssertSame(expected, Read(s, a, b, reverse), $"range {a}..{b} reverse={reverse} at step {step}");
            }
            Assert.Equal(model.Count, s.Length);
            Assert.Equal(model.Count > 0 ? model[0].Id : default, s.FirstId);
        }
        AssertSame(model, Read(s, StreamId.Zero, StreamId.Max, false), "all");
        AssertSame(model, Read(s.Clone(), StreamId.Zero, StreamId.Max, false), "clone");
    }

    // ------------------------------------------------------------------------------------------------ against redis-server

    /// <summary>Idle times (XPENDING's third field, XINFO CONSUMERS' idle) and XINFO STREAM's radix-tree-nodes replaced.</summary>
    private static string Mask(string reply)
    {
        reply = Regex.Replace(reply, @"(\*4\r\n\$\d+\r\n[0-9-]+\r\n\$\d+\r\n[a-z]+\r\n):\d+\r\n", "$1:T\r\n");
        reply = Regex.Replace(reply, @"(\$4\r\nidle\r\n):\d+\r\n", "$1:T\r\n");
        return Regex.Replace(reply, @"(\$16\r\nradix-tree-nodes\r\n):\d+\r\n", "$1:N\r\n");
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void RandomCommandsGiveRedisServersReplies(int seed)
    {
        ReferenceRedis.Run(output, redis =>
        {
            using RespTestClient ours = server.Connect();
            var r = new Random(seed);
            string key = $"x:rnd{seed}";
            ulong ms = 10;
            string[] groups = ["g0", "g1"];
            string[] consumers = ["alice", "bob", "carol"];
            string Id() => r.Next(6) switch
            {
                0 => "-",
                1 => "+",
                2 => "(" + (ms - (ulong)r.Next(0, 4)) + "-" + r.Next(0, 3),
                _ => (ms - (ulong)r.Next(0, 5)) + (r.Next(3) == 0 ? "" : "-" + r.Next(0, 3)),
            };
            string Exact() => (ms - (ulong)r.Next(0, 6)) + "-" + r.Next(0, 3);
            foreach (RespTestClient c in new[] { redis, ours }) c.Call("CONFIG", "SET", "stream-node-max-entries", "4");
            int succeeded = 0, delivered = 0;
            for (int step = 0; step < 1200; step++)
            {
                string g = groups[r.Next(groups.Length)], who = consumers[r.Next(consumers.Length)];
                string[] command = r.Next(30) switch
                {
                    < 9 => r.Next(8) switch
                    {
                        0 => ["XADD", key, "MAXLEN", r.Next(2) == 0 ? "~" : "=", r.Next(0, 12) + "", (ms += (ulong)r.Next(0, 2)) + "-*", "f", "v"],
                        1 => ["XADD", key, "MINID", "~", Exact(), (ms += 1) + "", "f", r.Next(100) + ""],
                        2 => ["XADD", key, Exact(), "a", "b"],
                        _ => ["XADD", key, (ms += (ulong)r.Next(0, 2)) + "-*", "f", r.Next(3) == 0 ? "other" : "v", .. r.Next(4) == 0 ? new[] { "g", "w" } : []],
                    },
                    9 => ["XDEL", key, Exact(), Exact()],
                    10 => ["XTRIM", key, r.Next(2) == 0 ? "MAXLEN" : "MINID", r.Next(2) == 0 ? "~" : "=", r.Next(2) == 0 ? r.Next(0, 10) + "" : Exact(), .. r.Next(3) == 0 ? new[] { "LIMIT", r.Next(0, 8) + "" } : []],
                    11 or 12 => [r.Next(2) == 0 ? "XRANGE" : "XREVRANGE", key, Id(), Id(), .. r.Next(2) == 0 ? new[] { "COUNT", r.Next(-1, 5) + "" } : []],
                    13 => ["XREAD", "COUNT", r.Next(0, 4) + "", "STREAMS", key, Exact()],
                    14 => ["XGROUP", "CREATE", key, g, r.Next(3) == 0 ? "$" : Exact(), .. r.Next(3) == 0 ? new[] { "ENTRIESREAD", r.Next(-1, 20) + "" } : []],
                    15 => ["XGROUP", "SETID", key, g, r.Next(3) == 0 ? "$" : Exact(), .. r.Next(2) == 0 ? new[] { "ENTRIESREAD", r.Next(0, 20) + "" } : []],
                    16 => r.Next(4) switch
                    {
                        0 => ["XGROUP", "DESTROY", key, g],
                        1 => ["XGROUP", "CREATECONSUMER", key, g, who],
                        _ => ["XGROUP", "DELCONSUMER", key, g, who],
                    },
                    < 21 => ["XREADGROUP", "GROUP", g, who, "COUNT", r.Next(1, 4) + "", .. r.Next(5) == 0 ? new[] { "NOACK" } : [], "STREAMS", key,
                        r.Next(4) == 0 ? Exact() : ">"],
                    21 or 22 => ["XACK", key, g, Exact(), Exact()],
                    23 => ["XPENDING", key, g, .. r.Next(2) == 0 ? new[] { "-", "+", r.Next(0, 6) + "" } : [], .. r.Next(3) == 0 ? new[] { "-", "+", "9", who } : []],
                    24 => ["XCLAIM", key, g, who, "0", Exact(), Exact(), "JUSTID", .. r.Next(3) == 0 ? new[] { "FORCE" } : [],
                        .. r.Next(3) == 0 ? new[] { "RETRYCOUNT", r.Next(0, 5) + "" } : [], .. r.Next(4) == 0 ? new[] { "LASTID", Exact() } : []],
                    25 => ["XAUTOCLAIM", key, g, who, "0", r.Next(2) == 0 ? "0" : Exact(), "COUNT", r.Next(1, 4) + "", .. r.Next(2) == 0 ? new[] { "JUSTID" } : []],
                    26 => ["XINFO", r.Next(3) switch { 0 => "GROUPS", 1 => "STREAM", _ => "CONSUMERS" }, key, .. r.Next(3) == 2 ? new[] { g } : []],
                    27 => ["XSETID", key, (ms + (ulong)r.Next(0, 2)) + "-" + r.Next(0, 3), .. r.Next(2) == 0 ? new[] { "ENTRIESADDED", r.Next(0, 200) + "" } : [],
                        .. r.Next(3) == 0 ? new[] { "MAXDELETEDID", Exact() } : []],
                    28 => ["CONFIG", "SET", "stream-node-max-entries", r.Next(0, 8) + ""],
                    _ => r.Next(10) == 0 ? ["DEL", key] : ["XLEN", key],
                };
                string expected = Mask(redis.Call(command)), actual = Mask(ours.Call(command));
                Assert.True(expected == actual, $"seed {seed} step {step}: {string.Join(' ', command)}\nredis:  {expected}\nrespkv: {actual}");
                if (expected[0] != '-') succeeded++;
                if (command[0] == "XREADGROUP" && expected.StartsWith("*1\r\n")) delivered++;
            }
            // Not a sequence of errors: most commands succeed, and group reads deliver entries.
            output.WriteLine($"seed {seed}: {succeeded} of 1200 commands succeeded, {delivered} group reads delivered");
            Assert.True(succeeded > 700 && delivered > 50, $"{succeeded} succeeded, {delivered} delivered");
            Assert.Equal(redis.Call("XRANGE", key, "-", "+"), ours.Call("XRANGE", key, "-", "+"));
            foreach (RespTestClient c in new[] { redis, ours }) c.Call("CONFIG", "SET", "stream-node-max-entries", "100");
        });
    }

    // ------------------------------------------------------------------------------------------------ commands

    private sealed class ModelGroup
    {
        public StreamId LastId;
        public readonly SortedDictionary<StreamId, (string Consumer, long Count)> Pel = new();
    }

    private static string Id(StreamId id) => id.ToString();

    private static string Bulk(string s) => $"${Encoding.UTF8.GetByteCount(s)}\r\n{s}\r\n";

    private static string EntryReply(ModelEntry e) =>
        "*2\r\n" + Bulk(Id(e.Id)) + $"*{e.Pairs.Length}\r\n" + string.Concat(e.Pairs.Select(Bulk));

    private static string EntriesReply(IReadOnlyCollection<ModelEntry> entries) => $"*{entries.Count}\r\n" + string.Concat(entries.Select(EntryReply));

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public async Task CommandsMatchTheModel(int seed)
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        var r = new Random(seed);
        var model = new List<ModelEntry>();
        var groups = new Dictionary<string, ModelGroup>();
        string[] consumers = ["alice", "bob", "carol"];
        ulong ms = 1;
        StreamId lastId = default;
        bool exists = false;
        for (int step = 0; step < 1500; step++)
        {
            int op = r.Next(100);
            string at = $"step {step}";
            if (op < 2) Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "stream-node-max-entries", r.Next(0, 6).ToString()));
            else if (op < 35)
            {
                ms += (ulong)r.Next(0, 2);
                StreamId id = new(ms, lastId.Ms == ms ? lastId.Seq + 1 : 0);
                lastId = id;
                string[] pairs = RandomPairs(r);
                Assert.Equal(Bulk(Id(id)), c.Call(["XADD", "s", Id(id), .. pairs]));
                model.Add(new ModelEntry(id, pairs));
                exists = true;
            }
            else if (op < 43 && model.Count > 0)
            {
                StreamId id = model[r.Next(model.Count)].Id;
                Assert.Equal(":1\r\n", c.Call("XDEL", "s", Id(id)));
                model.RemoveAll(e => e.Id == id);
            }
            else if (op < 46)
            {
                int maxLen = r.Next(0, model.Count + 1);
                int removed = Math.Max(0, model.Count - maxLen);
                Assert.Equal(exists ? $":{removed}\r\n" : ":0\r\n", c.Call("XTRIM", "s", "MAXLEN", maxLen.ToString()));
                model.RemoveRange(0, removed);
            }
            else if (op < 60)
            {
                StreamId a = model.Count > 0 ? model[r.Next(model.Count)].Id : default;
                StreamId b = new(a.Ms + (ulong)r.Next(0, 3), ulong.MaxValue);
                int count = r.Next(0, 4);
                bool reverse = r.Next(2) == 0;
                var expected = model.Where(e => e.Id >= a && e.Id <= b).ToList();
                if (reverse) expected.Reverse();
                if (count > 0) expected = expected.Take(count).ToList();
                string[] command = reverse ? ["XREVRANGE", "s", b.Ms.ToString(), Id(a)] : ["XRANGE", "s", Id(a), b.Ms.ToString()];
                if (count > 0) command = [.. command, "COUNT", count.ToString()];
                Assert.Equal(EntriesReply(expected), c.Call(command));
            }
            else if (op < 63) Assert.Equal($":{model.Count}\r\n", c.Call("XLEN", "s"));
            else if (op < 66)
            {
                StreamId after = model.Count > 0 ? model[r.Next(model.Count)].Id : default;
                var expected = model.Where(e => e.Id > after).ToList();
                Assert.Equal(expected.Count == 0 ? "*-1\r\n" : "*1\r\n*2\r\n" + Bulk("s") + EntriesReply(expected), c.Call("XREAD", "STREAMS", "s", Id(after)));
            }
            else if (op < 68 && exists)
            {
                string g = "g" + r.Next(3);
                string reply = c.Call("XGROUP", "CREATE", "s", g, "0");
                if (groups.ContainsKey(g)) Assert.Equal("-BUSYGROUP Consumer Group name already exists\r\n", reply);
                else
                {
                    Assert.Equal("+OK\r\n", reply);
                    groups[g] = new ModelGroup();
                }
            }
            else if (op < 80 && groups.Count > 0)
            {
                string g = groups.Keys.ElementAt(r.Next(groups.Count));
                string who = consumers[r.Next(consumers.Length)];
                int count = r.Next(1, 4);
                ModelGroup mg = groups[g];
                var delivered = model.Where(e => e.Id > mg.LastId).Take(count).ToList();
                string expected = delivered.Count == 0 ? "*-1\r\n" : "*1\r\n*2\r\n" + Bulk("s") + EntriesReply(delivered);
                Assert.Equal(expected, c.Call("XREADGROUP", "GROUP", g, who, "COUNT", count.ToString(), "STREAMS", "s", ">"));
                foreach (ModelEntry e in delivered)
                {
                    mg.Pel[e.Id] = (who, 1);
                    mg.LastId = e.Id;
                }
            }
            else if (op < 88 && groups.Count > 0)
            {
                string g = groups.Keys.ElementAt(r.Next(groups.Count));
                ModelGroup mg = groups[g];
                if (mg.Pel.Count == 0) continue;
                StreamId id = mg.Pel.Keys.ElementAt(r.Next(mg.Pel.Count));
                Assert.Equal(":1\r\n", c.Call("XACK", "s", g, Id(id)));
                mg.Pel.Remove(id);
            }
            else if (op < 94 && groups.Count > 0)
            {
                string g = groups.Keys.ElementAt(r.Next(groups.Count));
                ModelGroup mg = groups[g];
                var byConsumer = mg.Pel.Values.GroupBy(v => v.Consumer).OrderBy(x => x.Key, StringComparer.Ordinal).ToList();
                string expected = mg.Pel.Count == 0
                    ? "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
                    : $"*4\r\n:{mg.Pel.Count}\r\n" + Bulk(Id(mg.Pel.Keys.First())) + Bulk(Id(mg.Pel.Keys.Last()))
                      + $"*{byConsumer.Count}\r\n" + string.Concat(byConsumer.Select(x => "*2\r\n" + Bulk(x.Key) + Bulk(x.Count().ToString())));
                Assert.Equal(expected, c.Call("XPENDING", "s", g));
            }
            else if (groups.Count > 0)
            {
                // XCLAIM … JUSTID of one pending ID: moves it to another consumer, its count unchanged; an ID whose entry
                // was deleted leaves the PEL without a reply entry.
                string g = groups.Keys.ElementAt(r.Next(groups.Count));
                ModelGroup mg = groups[g];
                if (mg.Pel.Count == 0) continue;
                StreamId id = mg.Pel.Keys.ElementAt(r.Next(mg.Pel.Count));
                string who = consumers[r.Next(consumers.Length)];
                bool live = model.Any(e => e.Id == id);
                Assert.Equal(live ? "*1\r\n" + Bulk(Id(id)) : "*0\r\n", c.Call("XCLAIM", "s", g, who, "0", Id(id), "JUSTID"));
                if (live) mg.Pel[id] = (who, mg.Pel[id].Count);
                else mg.Pel.Remove(id);
            }
            _ = at;
        }
        Assert.Equal(EntriesReply(model), c.Call("XRANGE", "s", "-", "+"));
    }
}
