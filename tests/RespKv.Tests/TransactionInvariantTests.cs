using System.Text;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The proof of isolation, with 8+ clients on the in-process server: bank transfers in MULTI/EXEC keep
/// the total, seen whole by readers inside MULTI/EXEC and by MGET; WATCH-based optimistic increments
/// reach the exact count; MSET and EXEC writes are never seen torn, not even by a client's consecutive
/// single-key GETs. Bounded by iteration counts. .ci/run runs this class 20 times in a row
/// (<c>--filter Category=TransactionInvariant</c>).
/// </summary>
[Trait("Category", "TransactionInvariant")]
public sealed class TransactionInvariantTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static void RunAll(IEnumerable<Action> workers)
    {
        Task[] tasks = workers.Select(w => Task.Factory.StartNew(w, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
    }

    /// <summary>The values of a RESP2 array reply of bulk strings (null as null).</summary>
    private static List<string?> BulkStrings(string reply)
    {
        string[] lines = reply.Split("\r\n");
        var values = new List<string?>();
        for (int i = 1; i < lines.Length - 1; i++)
        {
            if (lines[i] == "$-1") values.Add(null);
            else if (lines[i].StartsWith('$')) values.Add(lines[++i]);
            else if (lines[i].StartsWith('*')) continue;
            else throw new InvalidOperationException("unexpected reply line " + lines[i] + " in " + reply);
        }
        return values;
    }

    private static byte[] Frames(params string[][] commands)
    {
        var batch = new MemoryStream();
        foreach (string[] c in commands) batch.Write(RespTestClient.Encode(c));
        return batch.ToArray();
    }

    [Fact]
    public void BankTransfersKeepTheTotalForEveryReader()
    {
        const int accounts = 100, initial = 1_000, writers = 8, transfers = 300;
        string Account(int i) => $"bank:{i}";
        using (RespTestClient setup = server.Connect())
        {
            var mset = new List<string> { "MSET" };
            for (int i = 0; i < accounts; i++) { mset.Add(Account(i)); mset.Add(initial.ToString()); }
            Assert.Equal("+OK\r\n", setup.Call(mset.ToArray()));
        }
        const long total = (long)accounts * initial;
        int writersLeft = writers;
        long snapshots = 0;
        var workers = new List<Action>();
        for (int w = 0; w < writers; w++)
        {
            int seed = w;
            workers.Add(() =>
            {
                var random = new Random(seed);
                using RespTestClient c = server.Connect();
                for (int i = 0; i < transfers; i++)
                {
                    int from = random.Next(accounts), to = random.Next(accounts);
                    string amount = random.Next(1, 50).ToString();
                    c.SendRaw(Frames(["MULTI"], ["DECRBY", Account(from), amount], ["INCRBY", Account(to), amount], ["EXEC"]));
                    Assert.Equal("+OK\r\n", c.ReadReply());
                    Assert.Equal("+QUEUED\r\n", c.ReadReply());
                    Assert.Equal("+QUEUED\r\n", c.ReadReply());
                    Assert.StartsWith("*2\r\n:", c.ReadReply());
                }
                Interlocked.Decrement(ref writersLeft);
            });
        }
        // Reader 1: 100 GETs inside MULTI/EXEC. Reader 2: one MGET of all accounts outside a transaction.
        for (int r = 0; r < 2; r++)
        {
            bool inMulti = r == 0;
            workers.Add(() =>
            {
                using RespTestClient c = server.Connect();
                string[] mget = new[] { "MGET" }.Concat(Enumerable.Range(0, accounts).Select(Account)).ToArray();
                for (int n = 0; Volatile.Read(ref writersLeft) > 0 || n < 20; n++)
                {
                    string reply;
                    if (inMulti)
                    {
                        var frames = new List<string[]> { new[] { "MULTI" } };
                        for (int i = 0; i < accounts; i++) frames.Add(["GET", Account(i)]);
                        frames.Add(["EXEC"]);
                        c.SendRaw(Frames(frames.ToArray()));
                        for (int i = 0; i <= accounts; i++) c.ReadReply();
                        reply = c.ReadReply();
                    }
                    else
                    {
                        reply = c.Call(mget);
                    }
                    List<string?> values = BulkStrings(reply);
                    Assert.Equal(accounts, values.Count);
                    long sum = values.Sum(v => long.Parse(v!));
                    Assert.True(sum == total, $"a reader saw total {sum}, not {total} ({(inMulti ? "MULTI/EXEC" : "MGET")})");
                    Interlocked.Increment(ref snapshots);
                }
            });
        }
        RunAll(workers);
        Assert.True(snapshots >= 40);
        using RespTestClient check = server.Connect();
        string[] all = new[] { "MGET" }.Concat(Enumerable.Range(0, accounts).Select(Account)).ToArray();
        Assert.Equal(total, BulkStrings(check.Call(all)).Sum(v => long.Parse(v!)));
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }

    [Fact]
    public void WatchBasedOptimisticIncrementReachesTheExactCount()
    {
        const int clients = 8, increments = 150;
        long retries = 0;
        RunAll(Enumerable.Range(0, clients).Select(_ => (Action)(() =>
        {
            using RespTestClient c = server.Connect();
            for (int done = 0; done < increments;)
            {
                Assert.Equal("+OK\r\n", c.Call("WATCH", "optimistic:counter"));
                string get = c.Call("GET", "optimistic:counter");
                long value = get == "$-1\r\n" ? 0 : long.Parse(BulkStrings("*1\r\n" + get)[0]!);
                c.SendRaw(Frames(["MULTI"], ["SET", "optimistic:counter", (value + 1).ToString()], ["EXEC"]));
                Assert.Equal("+OK\r\n", c.ReadReply());
                Assert.Equal("+QUEUED\r\n", c.ReadReply());
                string exec = c.ReadReply();
                if (exec == "*1\r\n+OK\r\n") done++;
                else
                {
                    Assert.Equal("*-1\r\n", exec);
                    Interlocked.Increment(ref retries);
                }
            }
        })));
        using RespTestClient check = server.Connect();
        Assert.Equal($"${(clients * increments).ToString().Length}\r\n{clients * increments}\r\n", check.Call("GET", "optimistic:counter"));
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }

    /// <summary>
    /// 4 writers set keys a and b to the same number, with MSET and with MULTI SET b SET a EXEC; 4 readers'
    /// MGET a b (either order) must always see equal values: neither kind of write is ever seen torn.
    /// </summary>
    [Fact]
    public void MSetAndExecAreNeverSeenTornByMGet()
    {
        const int writers = 4, readers = 4, iterations = 1_500;
        // Two keys in different shards (64 shards; most pairs differ, and several pairs are used).
        (string A, string B)[] pairs = [("torn:a1", "torn:b1"), ("torn:a2", "torn:b2"), ("torn:a3", "torn:b3")];
        int writersLeft = writers;
        var counters = new long[pairs.Length];
        var workers = new List<Action>();
        for (int w = 0; w < writers; w++)
        {
            int id = w;
            workers.Add(() =>
            {
                using RespTestClient c = server.Connect();
                for (int i = 0; i < iterations; i++)
                {
                    int p = (i + id) % pairs.Length;
                    string v = Interlocked.Increment(ref counters[p]).ToString("D9");
                    (string a, string b) = pairs[p];
                    if (i % 2 == 0)
                    {
                        // Concurrent writers may reorder numbers, so a later MSET can carry a lower number:
                        // what matters is that a and b always hold the same one.
                        Assert.Equal("+OK\r\n", c.Call("MSET", a, v, b, v));
                    }
                    else
                    {
                        c.SendRaw(Frames(["MULTI"], ["SET", b, v], ["SET", a, v], ["EXEC"]));
                        for (int k = 0; k < 3; k++) c.ReadReply();
                        Assert.Equal("*2\r\n+OK\r\n+OK\r\n", c.ReadReply());
                    }
                }
                Interlocked.Decrement(ref writersLeft);
            });
        }
        for (int r = 0; r < readers; r++)
        {
            int id = r;
            workers.Add(() =>
            {
                using RespTestClient c = server.Connect();
                for (int n = 0; Volatile.Read(ref writersLeft) > 0 || n < 500; n++)
                {
                    (string a, string b) = pairs[(n + id) % pairs.Length];
                    List<string?> both = BulkStrings(n % 2 == 0 ? c.Call("MGET", a, b) : c.Call("MGET", b, a));
                    Assert.True(both[0] == both[1], $"MGET saw a torn write: {both[0]} / {both[1]}");
                }
            });
        }
        RunAll(workers);
        using RespTestClient check = server.Connect();
        foreach ((string a, string b) in pairs)
        {
            List<string?> both = BulkStrings(check.Call("MGET", a, b));
            Assert.Equal(both[0], both[1]);
        }
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }

    /// <summary>
    /// One writer, so values only grow: it writes seq:first, 200 filler keys, then seq:last to the same
    /// number in one atomic step — alternately one MSET and one MULTI … EXEC — while 8 readers issue GET
    /// seq:first then GET seq:last as two separate commands. The second key can never be older than the
    /// first. This is what fails when a lock-free GET may return the first half of a multi-key write
    /// (new first key, then old last key).
    /// </summary>
    [Fact]
    public void ConsecutiveGetsNeverSeeAnOlderSecondKey()
    {
        const int iterations = 600, readers = 8, fillers = 200;
        int writerDone = 0;
        var workers = new List<Action>
        {
            () =>
            {
                using RespTestClient c = server.Connect();
                for (int i = 1; i <= iterations; i++)
                {
                    string v = i.ToString("D9");
                    var keys = new List<string> { "seq:first" };
                    for (int f = 0; f < fillers; f++) keys.Add($"seq:filler:{f}");
                    keys.Add("seq:last");
                    if (i % 2 == 0)
                    {
                        var mset = new List<string> { "MSET" };
                        foreach (string k in keys) { mset.Add(k); mset.Add(v); }
                        Assert.Equal("+OK\r\n", c.Call(mset.ToArray()));
                    }
                    else
                    {
                        var frames = new List<string[]> { new[] { "MULTI" } };
                        foreach (string k in keys) frames.Add(["SET", k, v]);
                        frames.Add(["EXEC"]);
                        c.SendRaw(Frames(frames.ToArray()));
                        for (int k = 0; k <= keys.Count; k++) c.ReadReply();
                        Assert.StartsWith($"*{keys.Count}\r\n+OK\r\n", c.ReadReply());
                    }
                }
                Volatile.Write(ref writerDone, 1);
            },
        };
        long checks = 0;
        for (int r = 0; r < readers; r++)
        {
            workers.Add(() =>
            {
                using RespTestClient c = server.Connect();
                for (int n = 0; Volatile.Read(ref writerDone) == 0 || n < 200; n++)
                {
                    string first = c.Call("GET", "seq:first"), last = c.Call("GET", "seq:last");
                    if (first == "$-1\r\n") continue;
                    Assert.True(string.CompareOrdinal(last, first) >= 0, $"GET seq:last after GET seq:first went back: {first.Trim()} then {last.Trim()}");
                    Interlocked.Increment(ref checks);
                }
            });
        }
        RunAll(workers);
        Assert.True(checks > 0);
        using RespTestClient check = server.Connect();
        Assert.Single(BulkStrings(check.Call("MGET", "seq:first", "seq:filler:0", "seq:last")).Distinct());
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }
}
