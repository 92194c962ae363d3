using System.Text;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Model-based randomized tests of streams: a seeded sequence of operations applied both to RespKv and to a plain model —
/// a sorted list of entries, and per group its last ID and a PEL of (ID → consumer, delivery count) — and every reply
/// compared. <see cref="PackedNodesMatchAListOfEntries"/> drives <see cref="StreamValue"/> itself with tiny nodes (so seeks,
/// tombstones, dropped nodes and both directions of range reads cross node boundaries); <see cref="CommandsMatchTheModel"/>
/// drives the server's commands (XADD, XDEL, XTRIM, XRANGE, XREVRANGE, XLEN, XREAD, XGROUP CREATE, XREADGROUP, XACK,
/// XPENDING, XCLAIM) with <c>stream-node-max-entries</c> changing on the way.
/// </summary>
public sealed class StreamModelTests
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
