using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// MULTI/EXEC/DISCARD/WATCH/UNWATCH: every rule of Redis 7.0's transactions with the exact reply bytes
/// redis-server 7.0.15 gives (each compared against the real server), and the transaction log seam.
/// </summary>
public sealed class TransactionCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public void MultiQueuesAndExecRepliesInOrder()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:basic", "1"));
        Assert.Equal("+QUEUED\r\n", c.Call("INCR", "tx:basic"));
        Assert.Equal("+QUEUED\r\n", c.Call("GET", "tx:basic"));
        Assert.Equal("*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n", c.Call("EXEC"));
        Assert.Equal("$1\r\n2\r\n", c.Call("GET", "tx:basic"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("*0\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void NothingRunsBeforeExec()
    {
        using RespTestClient c = server.Connect();
        using RespTestClient other = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:late", "v"));
        Assert.Equal("$-1\r\n", other.Call("GET", "tx:late"));
        Assert.Equal("*1\r\n+OK\r\n", c.Call("EXEC"));
        Assert.Equal("$1\r\nv\r\n", other.Call("GET", "tx:late"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void RuntimeErrorIsReportedInItsSlotAndOthersApply()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:rt", "abc"));
        Assert.Equal("+QUEUED\r\n", c.Call("INCR", "tx:rt"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:rt2", "x", "FOO"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:rt3", "3"));
        Assert.Equal("*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n-ERR syntax error\r\n+OK\r\n", c.Call("EXEC"));
        Assert.Equal("$3\r\nabc\r\n", c.Call("GET", "tx:rt"));
        Assert.Equal("$1\r\n3\r\n", c.Call("GET", "tx:rt3"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Theory]
    [InlineData(new[] { "FOO", "x" }, "-ERR unknown command 'FOO', with args beginning with: 'x' \r\n")]
    [InlineData(new[] { "GET" }, "-ERR wrong number of arguments for 'get' command\r\n")]
    [InlineData(new[] { "CONFIG", "FOO" }, "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n")]
    [InlineData(new[] { "CONFIG" }, "-ERR wrong number of arguments for 'config' command\r\n")]
    [InlineData(new[] { "SHUTDOWN", "NOSAVE" }, "-ERR Command not allowed inside a transaction\r\n")]
    [InlineData(new[] { "DISCARD", "x" }, "-ERR wrong number of arguments for 'discard' command\r\n")]
    [InlineData(new[] { "WATCH" }, "-ERR wrong number of arguments for 'watch' command\r\n")]
    [InlineData(new[] { "MULTI", "x" }, "-ERR wrong number of arguments for 'multi' command\r\n")]
    public void RejectedCommandWhileQueuedAbortsExec(string[] command, string error)
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:rejected", "1"));
        Assert.Equal(error, c.Call(command));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", c.Call("GET", "tx:rejected"));
        Assert.Equal("-ERR EXEC without MULTI\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void ExecWithArgumentsInsideMultiAbortsAtOnce()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:execarity", "1"));
        Assert.Equal("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n", c.Call("EXEC", "x"));
        Assert.Equal("-ERR EXEC without MULTI\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", c.Call("GET", "tx:execarity"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void NestedMultiAndWatchInsideMultiErrorButKeepTheTransaction()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("-ERR MULTI calls can not be nested\r\n", c.Call("MULTI"));
        Assert.Equal("-ERR WATCH inside MULTI is not allowed\r\n", c.Call("WATCH", "tx:nested"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:nested", "1"));
        Assert.Equal("*1\r\n+OK\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void ExecAndDiscardWithoutMulti()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR EXEC without MULTI\r\n", c.Call("EXEC"));
        Assert.Equal("-ERR DISCARD without MULTI\r\n", c.Call("DISCARD"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void DiscardDropsTheQueue()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:discard", "1"));
        Assert.Equal("+OK\r\n", c.Call("DISCARD"));
        Assert.Equal("$-1\r\n", c.Call("GET", "tx:discard"));
        Assert.Equal("-ERR EXEC without MULTI\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void UnwatchIsQueuedInsideMultiAndOkOutside()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("UNWATCH"));
        Assert.Equal("+OK\r\n", c.Call("WATCH", "tx:uw1", "tx:uw2"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("UNWATCH"));
        Assert.Equal("+QUEUED\r\n", c.Call("PING"));
        Assert.Equal("+QUEUED\r\n", c.Call("ECHO", "e"));
        Assert.Equal("*3\r\n+OK\r\n+PONG\r\n$1\r\ne\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void SelectInsideMultiSwitchesTheFollowingCommandsAndStays()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SELECT", "3"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:select", "in3"));
        Assert.Equal("+QUEUED\r\n", c.Call("SELECT", "99"));
        Assert.Equal("+QUEUED\r\n", c.Call("GET", "tx:select"));
        Assert.Equal("*4\r\n+OK\r\n+OK\r\n-ERR DB index is out of range\r\n$3\r\nin3\r\n", c.Call("EXEC"));
        Assert.Equal("$3\r\nin3\r\n", c.Call("GET", "tx:select"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
        Assert.Equal("$-1\r\n", c.Call("GET", "tx:select"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void KeylessAndCrossDatabaseCommandsRunInsideExec()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SELECT", "5"));
        Assert.Equal("+OK\r\n", c.Call("FLUSHDB"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("MSET", "tx:kl1", "1", "tx:kl2", "2"));
        Assert.Equal("+QUEUED\r\n", c.Call("DBSIZE"));
        Assert.Equal("+QUEUED\r\n", c.Call("KEYS", "tx:kl1"));
        Assert.Equal("+QUEUED\r\n", c.Call("COPY", "tx:kl1", "tx:kl1", "DB", "6"));
        Assert.Equal("+QUEUED\r\n", c.Call("MGET", "tx:kl1", "tx:kl2"));
        Assert.Equal("+QUEUED\r\n", c.Call("DEL", "tx:kl1", "tx:kl2", "tx:kl3"));
        Assert.Equal("+QUEUED\r\n", c.Call("FLUSHDB"));
        Assert.Equal("*7\r\n+OK\r\n:2\r\n*1\r\n$6\r\ntx:kl1\r\n:1\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n:2\r\n+OK\r\n", c.Call("EXEC"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "6"));
        Assert.Equal("$1\r\n1\r\n", c.Call("GET", "tx:kl1"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void ResetDiscardsTheTransactionAndWatches()
    {
        using RespTestClient c = server.Connect();
        using RespTestClient other = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("WATCH", "tx:reset"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "tx:reset2", "1"));
        Assert.Equal("+RESET\r\n", c.Call("RESET"));
        Assert.Equal("-ERR EXEC without MULTI\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", c.Call("GET", "tx:reset2"));
        // The watch went with RESET: a write to the key no longer aborts.
        Assert.Equal("+OK\r\n", other.Call("SET", "tx:reset", "changed"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("*0\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void QuitInsideMultiClosesTheConnection()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+OK\r\n", c.Call("QUIT"));
        Assert.True(c.IsClosedByServer());
        using RespTestClient next = server.Connect();
        Assert.Equal("+PONG\r\n", next.Call("PING"));
    }

    /// <summary>Runs WATCH key, then <paramref name="interfere"/> on another connection, then MULTI; SET; EXEC and returns EXEC's reply.</summary>
    private string WatchThenExec(string key, Action<RespTestClient> interfere, int protocol = 2)
    {
        using RespTestClient c = server.Connect();
        using RespTestClient other = server.Connect();
        if (protocol == 3) c.Call("HELLO", "3");
        Assert.Equal("+OK\r\n", c.Call("WATCH", key));
        interfere(other);
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", key + ":side", "1"));
        string reply = c.Call("EXEC");
        Assert.Equal("+PONG\r\n", c.Call("PING"));
        return reply;
    }

    [Fact]
    public void WatchedKeyWrittenByAnotherClientAbortsWithNullArray()
    {
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:set", o => o.Call("SET", "tx:w:set", "x")));
        Assert.Equal("_\r\n", WatchThenExec("tx:w:resp3", o => o.Call("SET", "tx:w:resp3", "x"), protocol: 3));
        using RespTestClient c = server.Connect();
        Assert.Equal("$-1\r\n", c.Call("GET", "tx:w:set:side"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void HashFieldChangesAbortAWatchAndHashCommandsRunInsideExec()
    {
        using RespTestClient setup = server.Connect();
        Assert.Equal(":1\r\n", setup.Call("HSET", "tx:h:watched", "f", "1"));
        // Any field change of a watched hash aborts, as in Redis: a new field, a changed value, a deleted field.
        Assert.Equal("*-1\r\n", WatchThenExec("tx:h:watched", o => o.Call("HSET", "tx:h:watched", "g", "2")));
        Assert.Equal("*-1\r\n", WatchThenExec("tx:h:watched", o => o.Call("HINCRBY", "tx:h:watched", "f", "1")));
        Assert.Equal("*-1\r\n", WatchThenExec("tx:h:watched", o => o.Call("HDEL", "tx:h:watched", "g")));
        // Reading the hash does not.
        Assert.Equal("*1\r\n+OK\r\n", WatchThenExec("tx:h:watched", o => o.Call("HGETALL", "tx:h:watched")));

        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("HSET", "tx:h:exec", "a", "1", "b", "2"));
        Assert.Equal("+QUEUED\r\n", c.Call("HINCRBY", "tx:h:exec", "a", "41"));
        Assert.Equal("+QUEUED\r\n", c.Call("HGETALL", "tx:h:exec"));
        Assert.Equal("*3\r\n:2\r\n:42\r\n*4\r\n$1\r\na\r\n$2\r\n42\r\n$1\r\nb\r\n$1\r\n2\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void ExecWithWrongArityOutsideMultiAbortsAndUnwatches()
    {
        using RespTestClient c = server.Connect();
        using RespTestClient other = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("WATCH", "tx:execarity:outside"));
        // As redis-server 7.0.15: EXECABORT even outside MULTI, and the watches are dropped with it...
        Assert.Equal("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n", c.Call("EXEC", "x"));
        Assert.Equal("+OK\r\n", other.Call("SET", "tx:execarity:outside", "changed"));
        // ...so a later transaction is not aborted by a write to the formerly watched key.
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("*0\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void UntouchedWatchedKeyLetsExecRun()
    {
        Assert.Equal("*1\r\n+OK\r\n", WatchThenExec("tx:w:quiet", o => o.Call("SET", "tx:w:quiet:other", "x")));
        // The same name in another database is another key.
        Assert.Equal("*1\r\n+OK\r\n", WatchThenExec("tx:w:db", o => { o.Call("SELECT", "1"); o.Call("SET", "tx:w:db", "x"); }));
    }

    [Fact]
    public void EveryKindOfWriteToAWatchedKeyAborts()
    {
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:del", o => { o.Call("SET", "tx:w:del", "1"); }));
        server.Connect().Call("SET", "tx:w:del2", "1");
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:del2", o => o.Call("DEL", "tx:w:del2")));
        // Created and deleted again before EXEC: Redis still aborts.
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:gone", o => { o.Call("SET", "tx:w:gone", "1"); o.Call("DEL", "tx:w:gone"); }));
        server.Connect().Call("SET", "tx:w:src", "1");
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:onto", o => o.Call("RENAME", "tx:w:src", "tx:w:onto")));
        server.Connect().Call("SET", "tx:w:away", "1");
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:away", o => o.Call("RENAME", "tx:w:away", "tx:w:away2")));
        server.Connect().Call("MSET", "tx:w:cs", "1", "tx:w:cd", "1");
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:cd", o => o.Call("COPY", "tx:w:cs", "tx:w:cd", "REPLACE")));
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:mset", o => o.Call("MSET", "tx:w:x", "1", "tx:w:mset", "2")));
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:incr", o => o.Call("INCR", "tx:w:incr")));
        Assert.Equal("*-1\r\n", WatchThenExec("tx:w:append", o => o.Call("APPEND", "tx:w:append", "a")));
        // A failed write does not count: DEL of a missing key, SETNX of an existing one.
        Assert.Equal("*1\r\n+OK\r\n", WatchThenExec("tx:w:missing", o => o.Call("DEL", "tx:w:missing")));
    }

    [Fact]
    public void OwnWriteAfterWatchAborts()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("WATCH", "tx:w:own"));
        Assert.Equal("+OK\r\n", c.Call("SET", "tx:w:own", "mine"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("GET", "tx:w:own"));
        Assert.Equal("*-1\r\n", c.Call("EXEC"));
        // EXEC dropped the watch: the next transaction runs.
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("GET", "tx:w:own"));
        Assert.Equal("*1\r\n$4\r\nmine\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void UnwatchAndDiscardForgetTheWatch()
    {
        Assert.Equal("*1\r\n+OK\r\n", RunAfter("tx:w:unwatch", c => Assert.Equal("+OK\r\n", c.Call("UNWATCH"))));
        Assert.Equal("*1\r\n+OK\r\n", RunAfter("tx:w:discard", c =>
        {
            Assert.Equal("+OK\r\n", c.Call("MULTI"));
            Assert.Equal("+OK\r\n", c.Call("DISCARD"));
        }));

        string RunAfter(string key, Action<RespTestClient> forget)
        {
            using RespTestClient c = server.Connect();
            using RespTestClient other = server.Connect();
            Assert.Equal("+OK\r\n", c.Call("WATCH", key));
            forget(c);
            Assert.Equal("+OK\r\n", other.Call("SET", key, "x"));
            Assert.Equal("+OK\r\n", c.Call("MULTI"));
            Assert.Equal("+QUEUED\r\n", c.Call("SET", key, "y"));
            string reply = c.Call("EXEC");
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            return reply;
        }
    }

    [Fact]
    public void QueuedErrorTakesPrecedenceOverADirtyWatch()
    {
        using RespTestClient c = server.Connect();
        using RespTestClient other = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("WATCH", "tx:w:both"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        c.Call("FOO");
        Assert.Equal("+OK\r\n", other.Call("SET", "tx:w:both", "2"));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task FlushDbAndFlushAllAbortOnlyWatchersOfExistingKeys()
    {
        await using var host = await ServerFixture.StartFresh();
        using RespTestClient c = new(host.Port), other = new(host.Port);
        Assert.Equal("+OK\r\n", c.Call("WATCH", "absent"));
        Assert.Equal("+OK\r\n", other.Call("FLUSHDB"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("*0\r\n", c.Call("EXEC"));

        Assert.Equal("+OK\r\n", other.Call("SET", "present", "1"));
        Assert.Equal("+OK\r\n", c.Call("WATCH", "present"));
        Assert.Equal("+OK\r\n", other.Call("FLUSHALL"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("*-1\r\n", c.Call("EXEC"));

        Assert.Equal("+OK\r\n", other.Call("SET", "present", "1"));
        Assert.Equal("+OK\r\n", c.Call("WATCH", "present"));
        Assert.Equal("+OK\r\n", other.Call("FLUSHDB"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("*-1\r\n", c.Call("EXEC"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void QueuedCommandsAreCopiedOutOfTheReceiveBuffer()
    {
        using RespTestClient c = server.Connect();
        // One write carrying MULTI, many queued commands with large values, and EXEC: later frames
        // overwrite the receive buffer long before EXEC replays the queue.
        var batch = new MemoryStream();
        batch.Write(RespTestClient.Encode("MULTI"));
        const int n = 200;
        for (int i = 0; i < n; i++) batch.Write(RespTestClient.Encode("SET", $"tx:copy:{i}", new string((char)('a' + i % 26), 1000 + i)));
        batch.Write(RespTestClient.Encode("EXEC"));
        c.SendRaw(batch.ToArray());
        Assert.Equal("+OK\r\n", c.ReadReply());
        for (int i = 0; i < n; i++) Assert.Equal("+QUEUED\r\n", c.ReadReply());
        Assert.Equal("*" + n + "\r\n" + string.Concat(Enumerable.Repeat("+OK\r\n", n)), c.ReadReply());
        for (int i = 0; i < n; i += 37)
        {
            string value = new((char)('a' + i % 26), 1000 + i);
            Assert.Equal($"${value.Length}\r\n{value}\r\n", c.Call("GET", $"tx:copy:{i}"));
        }
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void ClientInfoShowsTheOpenTransaction()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "a", "1"));
        Assert.Equal("+QUEUED\r\n", c.Call("CLIENT", "INFO"));
        string exec = c.Call("EXEC");
        Assert.StartsWith("*2\r\n+OK\r\n$", exec);
        Assert.Contains(" flags=x db=0 sub=0 psub=0 ssub=0 multi=2 ", exec);
        Assert.Contains(" cmd=exec ", exec);
        string after = c.Call("CLIENT", "INFO");
        Assert.Contains(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 ", after);
        Assert.Contains(" multi-mem=0 ", after);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public void TransactionCommandsInCommandInfo()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*1\r\n*10\r\n$5\r\nmulti\r\n:1\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+allow_busy\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n",
            c.Call("COMMAND", "INFO", "multi"));
        Assert.Equal("*1\r\n*10\r\n$4\r\nexec\r\n:1\r\n*4\r\n+noscript\r\n+loading\r\n+stale\r\n+skip_slowlog\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n",
            c.Call("COMMAND", "INFO", "exec"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task WriteLogReceivesEachExecsWritesAsOneUnitInOrder()
    {
        await using var host = await ServerFixture.StartFresh();
        var log = new RecordingWriteLog();
        host.Server.WriteLog = log;
        using RespTestClient c = new(host.Port), other = new(host.Port);

        c.Call("MULTI");
        c.Call("SET", "a", "1");
        c.Call("GET", "a");
        c.Call("INCR", "a");
        c.Call("SELECT", "2");
        c.Call("MSET", "b", "2", "c", "3");
        c.Call("SETNX", "b", "no-op");
        c.Call("INCR", "b:missing:not-int");
        Assert.Equal("*7\r\n+OK\r\n$1\r\n1\r\n:2\r\n+OK\r\n+OK\r\n:0\r\n:1\r\n", c.Call("EXEC"));
        RecordingWriteLog.Unit unit = Assert.Single(log.Units);
        Assert.True(unit.IsTransaction);
        // Only writes that changed something: the SETNX that set nothing is not logged.
        Assert.Equal(["db0 SET a 1", "db0 INCR a", "db2 MSET b 2 c 3", "db2 INCR b:missing:not-int"], unit.Commands);

        // Read-only, discarded, aborted and watch-failed transactions record nothing.
        c.Call("MULTI"); c.Call("GET", "b"); c.Call("EXEC");
        c.Call("MULTI"); c.Call("SET", "x", "1"); c.Call("DISCARD");
        c.Call("MULTI"); c.Call("SET", "x", "1"); c.Call("NOSUCHCOMMAND"); c.Call("EXEC");
        other.Call("SELECT", "2"); // c is in database 2 since its EXEC
        c.Call("WATCH", "w"); other.Call("SET", "w", "1"); c.Call("MULTI"); c.Call("SET", "x", "1");
        Assert.Equal("*-1\r\n", c.Call("EXEC"));
        Assert.Equal(2, log.Units.Count);
        Assert.Equal(["db2 SET w 1"], log.Units[1].Commands);
        Assert.False(log.Units[1].IsTransaction);
        Assert.Equal("$-1\r\n", c.Call("GET", "x"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task WriteLogReceivesOnlyWritesThatChangedTheKeyspaceAndRepliedNoError()
    {
        await using var host = await ServerFixture.StartFresh();
        var log = new RecordingWriteLog();
        host.Server.WriteLog = log;
        using RespTestClient c = new(host.Port);

        c.Call("SET", "s", "v");
        c.Call("GET", "s");
        c.Call("SETNX", "s", "other");             // sets nothing
        c.Call("DEL", "missing");                  // deletes nothing
        c.Call("HSET", "s", "f", "v");             // WRONGTYPE
        c.Call("INCR", "s");                       // not an integer
        c.Call("HSET", "h", "f", "v");
        c.Call("DEL", "s", "missing");
        c.Call("COPY", "h", "h2", "DB", "3");
        c.Call("FLUSHDB");
        c.Call("FLUSHALL");
        c.Call("FLUSHALL");                        // nothing left to remove
        Assert.Equal(
            ["db0 SET s v", "db0 HSET h f v", "db0 DEL s missing", "db0 COPY h h2 DB 3", "db0 FLUSHDB", "db0 FLUSHALL"],
            log.Units.Select(u => Assert.Single(u.Commands)));
        Assert.All(log.Units, u => Assert.False(u.IsTransaction));
    }
}

/// <summary>An <see cref="IWriteLog"/> that keeps each unit as readable commands (<c>db0 SET k v</c>).</summary>
internal sealed class RecordingWriteLog : IWriteLog
{
    public sealed record Unit(bool IsTransaction, List<string> Commands);

    public readonly List<Unit> Units = new();
    public readonly List<string> ExpiredDeletions = new();

    public string? WriteError { get; set; }

    public void Append(PropagationBuffer records)
    {
        var commands = new List<string>();
        for (int i = 0; i < records.Count; i++)
            commands.Add($"db{records.DatabaseIndex(i)} " + string.Join(" ", DecodeMultibulk(records.Record(i))));
        lock (Units) Units.Add(new Unit(records.IsTransaction, commands));
    }

    /// <summary>
    /// Runs each case's command through <paramref name="client"/> and checks its reply and the records it added to this log
    /// (none for a command that must not be propagated).
    /// </summary>
    public void AssertEach(Support.RespTestClient client, IEnumerable<(string[] Command, string Reply, string[] Logged)> cases)
    {
        foreach ((string[] command, string reply, string[] logged) in cases)
        {
            int before = Units.Count;
            Assert.Equal(reply, client.Call(command));
            Assert.Equal(logged, Units.Skip(before).SelectMany(u => u.Commands).ToArray());
        }
    }

    public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key)
    {
        lock (Units) ExpiredDeletions.Add($"db{databaseIndex} DEL {System.Text.Encoding.Latin1.GetString(key)}");
    }

    public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field)
    {
        lock (Units) ExpiredDeletions.Add($"db{databaseIndex} HDEL {System.Text.Encoding.Latin1.GetString(key)} {System.Text.Encoding.Latin1.GetString(field)}");
    }

    /// <summary>The arguments of one RESP multibulk (<c>*N\r\n$len\r\narg\r\n…</c>), which must be exactly one whole frame.</summary>
    public static List<string> DecodeMultibulk(ReadOnlySpan<byte> frame)
    {
        string text = System.Text.Encoding.Latin1.GetString(frame);
        int pos = 0;
        int ReadLine(char prefix)
        {
            Assert.Equal(prefix, text[pos]);
            int end = text.IndexOf("\r\n", pos, StringComparison.Ordinal);
            int n = int.Parse(text.AsSpan(pos + 1, end - pos - 1));
            pos = end + 2;
            return n;
        }
        int count = ReadLine('*');
        var args = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            int length = ReadLine('$');
            args.Add(text.Substring(pos, length));
            Assert.Equal("\r\n", text.Substring(pos + length, 2));
            pos += length + 2;
        }
        Assert.Equal(text.Length, pos);
        return args;
    }
}
