using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Several connections at once: multi-key writes are atomic to multi-key readers (an MGET never sees
/// half of an MSET), and concurrent read-modify-writes (INCR, MSETNX) lose nothing. Bounded by
/// iteration counts, never by time.
/// </summary>
public sealed class ConcurrencyTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static void RunAll(params Action[] workers)
    {
        Task[] tasks = workers.Select(w => Task.Factory.StartNew(w, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
    }

    [Fact]
    public void MGetNeverSeesHalfOfAnMSet()
    {
        const int writers = 4, readers = 4, iterations = 5_000;
        int writersLeft = writers;
        long reads = 0;
        var actions = new List<Action>();
        for (int w = 0; w < writers; w++)
        {
            int id = w;
            actions.Add(() =>
            {
                using RespTestClient c = server.Connect();
                for (int i = 0; i < iterations; i++)
                {
                    string v = $"{id}:{i}";
                    // Keys chosen to fall in different shards most of the time; one also in another order.
                    Assert.Equal("+OK\r\n", i % 2 == 0 ? c.Call("MSET", "conc:a", v, "conc:b", v) : c.Call("MSET", "conc:b", v, "conc:a", v));
                }
                Interlocked.Decrement(ref writersLeft);
            });
        }
        for (int r = 0; r < readers; r++)
        {
            actions.Add(() =>
            {
                using RespTestClient c = server.Connect();
                // Read until every writer is done, and at least a few thousand times.
                for (int n = 0; Volatile.Read(ref writersLeft) > 0 || n < 2_000; n++)
                {
                    string reply = c.Call("MGET", "conc:a", "conc:b");
                    string[] parts = reply.Split("\r\n");
                    // "*2", "$len", a, "$len", b, "" — or "*2", "$-1", "$-1", "" before the first MSET.
                    if (parts[1] == "$-1") Assert.Equal("*2\r\n$-1\r\n$-1\r\n", reply);
                    else Assert.True(parts[2] == parts[4], $"MGET saw a torn MSET: {reply}");
                    Interlocked.Increment(ref reads);
                }
            });
        }
        RunAll(actions.ToArray());
        Assert.True(reads >= readers * 2_000L);

        using RespTestClient check = server.Connect();
        string last = check.Call("MGET", "conc:a", "conc:b");
        Assert.EndsWith($":{iterations - 1}\r\n", last);
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }

    [Fact]
    public void ConcurrentIncrementsSumExactly()
    {
        const int clients = 8, iterations = 2_000;
        RunAll(Enumerable.Range(0, clients).Select(id => (Action)(() =>
        {
            using RespTestClient c = server.Connect();
            for (int i = 0; i < iterations; i++)
            {
                string reply = id % 2 == 0 ? c.Call("INCR", "conc:counter") : c.Call("INCRBY", "conc:counter", "3");
                Assert.StartsWith(":", reply);
            }
            // Pipelined: a whole batch in one write.
            var batch = new MemoryStream();
            for (int i = 0; i < 100; i++) batch.Write(RespTestClient.Encode("DECR", "conc:counter"));
            c.SendRaw(batch.ToArray());
            for (int i = 0; i < 100; i++) Assert.StartsWith(":", c.ReadReply());
        })).ToArray());

        using RespTestClient check = server.Connect();
        long expected = clients / 2 * iterations * 1L + clients / 2 * iterations * 3L - clients * 100L;
        Assert.Equal($"${expected.ToString().Length}\r\n{expected}\r\n", check.Call("GET", "conc:counter"));
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }

    [Fact]
    public void ConcurrentAppendsLoseNothing()
    {
        const int clients = 6, iterations = 1_000;
        RunAll(Enumerable.Range(0, clients).Select(id => (Action)(() =>
        {
            using RespTestClient c = server.Connect();
            for (int i = 0; i < iterations; i++) Assert.StartsWith(":", c.Call("APPEND", "conc:append", ((char)('a' + id)).ToString()));
        })).ToArray());

        using RespTestClient check = server.Connect();
        Assert.Equal($":{clients * iterations}\r\n", check.Call("STRLEN", "conc:append"));
        string value = check.Call("GET", "conc:append");
        for (int id = 0; id < clients; id++) Assert.Equal(iterations, value.Count(ch => ch == (char)('a' + id)));
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }

    [Fact]
    public void ExactlyOneMSetNxWinsARace()
    {
        const int clients = 8, rounds = 200;
        int[] wins = new int[rounds];
        RunAll(Enumerable.Range(0, clients).Select(id => (Action)(() =>
        {
            using RespTestClient c = server.Connect();
            for (int round = 0; round < rounds; round++)
            {
                string reply = c.Call("MSETNX", $"conc:nx:{round}:x", id.ToString(), $"conc:nx:{round}:y", id.ToString());
                if (reply == ":1\r\n") Interlocked.Increment(ref wins[round]);
                else Assert.Equal(":0\r\n", reply);
            }
        })).ToArray());

        Assert.All(wins, w => Assert.Equal(1, w));
        using RespTestClient check = server.Connect();
        for (int round = 0; round < rounds; round += 17)
        {
            string[] parts = check.Call("MGET", $"conc:nx:{round}:x", $"conc:nx:{round}:y").Split("\r\n");
            Assert.Equal(parts[2], parts[4]); // both keys from the same winner
        }
        Assert.Equal("+PONG\r\n", check.Call("PING"));
    }
}
