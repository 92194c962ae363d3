using RespKv.Tests.Support;

namespace RespKv.Tests.Scripting;

/// <summary>
/// A script is one atomic unit against every other client, including the keys it touches without declaring them (as
/// in a standalone Redis): scripts moving amounts between two undeclared keys keep their sum for MGET readers, for
/// readers inside MULTI/EXEC and for read-only scripts; a script reads its own writes; concurrent scripts never lose an
/// update.
/// </summary>
[Trait("Category", "TransactionInvariant")]
public sealed class ScriptingInvariantTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static void RunAll(IEnumerable<Action> workers) =>
        Task.WaitAll(workers.Select(w => Task.Factory.StartNew(w, TaskCreationOptions.LongRunning)).ToArray());

    private static long Integer(string reply) => long.Parse(reply.AsSpan(1, reply.Length - 3));

    [Fact]
    public void TransfersBetweenUndeclaredKeysKeepTheSum()
    {
        const int writers = 4, transfers = 400, total = 1000;
        // The keys are in ARGV, not KEYS: the script declares no key at all.
        const string move = "local a = tonumber(redis.call('get', ARGV[1])) local b = tonumber(redis.call('get', ARGV[2])) " +
                            "redis.call('set', ARGV[1], a - ARGV[3]) redis.call('set', ARGV[2], b + ARGV[3]) return 1";
        string[] keys = ["inv:a", "inv:b{x}", "inv:c{y}"]; // different shards
        using (RespTestClient setup = server.Connect())
            Assert.Equal("+OK\r\n", setup.Call("MSET", keys[0], total.ToString(), keys[1], "0", keys[2], "0"));
        int writersLeft = writers;
        long checks = 0;
        List<Action> workers = Enumerable.Range(0, writers).Select(seed => (Action)(() =>
        {
            var random = new Random(seed);
            using RespTestClient c = server.Connect();
            for (int i = 0; i < transfers; i++)
            {
                int from = random.Next(3), to = (from + 1 + random.Next(2)) % 3;
                Assert.Equal(":1\r\n", c.Call("EVAL", move, "0", keys[from], keys[to], random.Next(1, 20).ToString()));
            }
            Interlocked.Decrement(ref writersLeft);
        })).ToList();
        workers.Add(() =>
        {
            using RespTestClient c = server.Connect();
            while (Volatile.Read(ref writersLeft) > 0)
            {
                string reply = c.Call("MGET", keys[0], keys[1], keys[2]);
                long sum = reply.Split("\r\n").Where(l => l.Length > 0 && (char.IsDigit(l[0]) || l[0] == '-')).Sum(long.Parse);
                Assert.Equal(total, sum);
                Interlocked.Increment(ref checks);
            }
        });
        workers.Add(() =>
        {
            using RespTestClient c = server.Connect();
            const string sum = "return tonumber(redis.call('get', ARGV[1])) + tonumber(redis.call('get', ARGV[2])) + tonumber(redis.call('get', ARGV[3]))";
            while (Volatile.Read(ref writersLeft) > 0)
            {
                Assert.Equal($":{total}\r\n", c.Call("EVAL_RO", sum, "0", keys[0], keys[1], keys[2]));
                Interlocked.Increment(ref checks);
            }
        });
        RunAll(workers);
        Assert.True(checks > 0);
        using RespTestClient check = server.Connect();
        Assert.Equal($":{total}\r\n", check.Call("EVAL", "return redis.call('get', ARGV[1]) + redis.call('get', ARGV[2]) + redis.call('get', ARGV[3])", "0", keys[0], keys[1], keys[2]));
    }

    [Fact]
    public void ConcurrentReadModifyWriteScriptsLoseNoUpdate()
    {
        const int clients = 6, increments = 300;
        const string bump = "local v = redis.call('get', ARGV[1]) or '0' redis.call('set', ARGV[1], v + 1) return redis.call('get', ARGV[1])";
        RunAll(Enumerable.Range(0, clients).Select(_ => (Action)(() =>
        {
            using RespTestClient c = server.Connect();
            for (int i = 0; i < increments; i++) Assert.StartsWith("$", c.Call("EVAL", bump, "0", "inv:counter"));
        })));
        using RespTestClient check = server.Connect();
        Assert.Equal($"$4\r\n{clients * increments}\r\n", check.Call("GET", "inv:counter"));
    }

    [Fact]
    public void ScriptsInsideMultiExecAreAtomicWithTheTransaction()
    {
        using RespTestClient c = server.Connect();
        c.Call("SET", "inv:m", "1");
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("INCR", "inv:m"));
        Assert.Equal("+QUEUED\r\n", c.Call("EVAL", "redis.call('incr', ARGV[1]) return redis.call('get', ARGV[1])", "0", "inv:m"));
        Assert.Equal("+QUEUED\r\n", c.Call("EVAL", "redis.call('select', 3) return redis.call('set', 'inv:other', 'v')", "0"));
        Assert.Equal("*3\r\n:2\r\n$1\r\n3\r\n+OK\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", c.Call("GET", "inv:other"));
        // COMMAND GETKEYS still answers the declared keys.
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nb\r\n", c.Call("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"));
    }
}
