using System.Diagnostics;
using RespKv.Server;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using Xunit.Abstractions;
using static RespKv.Tests.Replication.ReplicationSupport;

namespace RespKv.Tests.Replication;

/// <summary>
/// Replication against redis-server 7.0 and between RespKv servers: full resync (disk and diskless), the stream under write
/// load, partial resync (PSYNC2 after a promotion), kill -9 of a replica and of a primary, WAIT, min-replicas-to-write,
/// READONLY, MASTERDOWN, ROLE and INFO replication. Data is compared key by key (<see cref="ReplicationSupport.Digest"/>).
/// </summary>
public sealed class ReplicationTests(ITestOutputHelper output)
{
    private static async Task<RespKvHost> StartPrimary(string dir) =>
        await ServerFixture.StartFresh(o =>
        {
            o.Dir = dir;
            o.AppendOnly = false;
        });

    private static void Configure(RespTestClient c, string diskless)
    {
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "repl-diskless-sync-delay", "0"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "repl-diskless-sync", diskless));
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public async Task RedisServerReplicatesRespKvUnderWriteLoad(string diskless)
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return;
        }
        using var dir = new TempDir();
        await using RespKvHost primary = await StartPrimary(dir.Path);
        using var p = new RespTestClient(primary.Port);
        Configure(p, diskless);
        WriteLoad(primary.Port, 400, seed: 1);
        Task load = Task.Run(() => WriteLoad(primary.Port, 1500, seed: 2));
        using var redisDir = new TempDir();
        (Process redis, int port) = AofTestSupport.StartRedis(RedisServer, redisDir.Path, "--appendonly", "no", "--replicaof", "127.0.0.1", primary.Port.ToString());
        try
        {
            using var r = new RespTestClient(port);
            await load;
            WaitCaughtUp(p, r);
            AssertSameData(Digest(p), Digest(r));
            // INFO and ROLE on both sides, as Redis prints them.
            Assert.Equal("online", Between(InfoField(p, "slave0"), "state=", ","));
            Assert.Equal(port.ToString(), Between(InfoField(p, "slave0"), "port=", ","));
            Assert.Equal(InfoField(p, "master_replid"), InfoField(r, "master_replid"));
            Assert.Equal("1", InfoField(p, "repl_backlog_active"));
            Assert.StartsWith("*3\r\n$6\r\nmaster\r\n:", p.Call("ROLE"));
            Assert.Contains($"${port.ToString().Length}\r\n{port}\r\n", p.Call("ROLE"));
            // WAIT counts the replica's ACKs for this client's write.
            p.Call("SET", "after", "1");
            Assert.Equal(":1\r\n", p.Call("WAIT", "1", "5000"));
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
    }

    [Fact]
    public async Task RespKvReplicatesRedisServer()
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return;
        }
        using var redisDir = new TempDir();
        (Process redis, int port) = AofTestSupport.StartRedis(RedisServer, redisDir.Path, "--appendonly", "no", "--repl-diskless-sync-delay", "0");
        try
        {
            using var m = new RespTestClient(port);
            // A primary that requires authentication: the replica logs in as a user of its own.
            Assert.Equal("+OK\r\n", m.Call("ACL", "SETUSER", "repl", "on", ">replpass", "+@all", "~*", "&*"));
            Assert.Equal("+OK\r\n", m.Call("CONFIG", "SET", "requirepass", "defaultpass"));
            Assert.Equal("+OK\r\n", m.Call("AUTH", "defaultpass"));
            WriteLoad(port, 400, seed: 3, password: "defaultpass");
            using var dir = new TempDir();
            await using RespKvHost replica = await StartPrimary(dir.Path);
            using var r = new RespTestClient(replica.Port);
            // The handshake authenticates as masteruser with masterauth.
            Assert.Equal("+OK\r\n", r.Call("CONFIG", "SET", "masteruser", "repl"));
            Assert.Equal("+OK\r\n", r.Call("CONFIG", "SET", "masterauth", "replpass"));
            Assert.Equal("+OK\r\n", r.Call("REPLICAOF", "127.0.0.1", port.ToString()));
            Assert.Equal("+OK Already connected to specified master\r\n", r.Call("REPLICAOF", "127.0.0.1", port.ToString()));
            WriteLoad(port, 1500, seed: 4, password: "defaultpass");
            WaitCaughtUp(m, r);
            AssertSameData(Digest(m), Digest(r));
            Assert.Equal("-READONLY You can't write against a read only replica.\r\n", r.Call("SET", "x", "1"));
            Assert.Equal($"*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$9\r\nconnected\r\n:{InfoField(r, "slave_repl_offset")}\r\n", r.Call("ROLE"));
            Assert.StartsWith("-ERR WAIT cannot be used with replica instances.", r.Call("WAIT", "0", "0"));
            // An expired key on a replica reads as missing but stays until the primary's DEL.
            m.Call("SET", "short", "v", "PX", "300");
            WaitCaughtUp(m, r);
            Thread.Sleep(400);
            Assert.Equal("$-1\r\n", r.Call("GET", "short"));
            // Promotion keeps the data and accepts writes.
            SortedDictionary<string, string> before = Digest(r);
            before.Remove("0/short");
            Assert.Equal("+OK\r\n", r.Call("REPLICAOF", "NO", "ONE"));
            Assert.Equal("+OK\r\n", r.Call("SET", "x", "1"));
            SortedDictionary<string, string> after = Digest(r);
            after.Remove("0/x");
            after.Remove("0/short");
            AssertSameData(before, after);
            Assert.Equal("master", InfoField(r, "role"));
            Assert.Equal(InfoField(m, "master_replid"), InfoField(r, "master_replid2"));
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
    }

    [Fact]
    public async Task PromotedReplicaContinuesPartially()
    {
        using var dir = new TempDir();
        await using RespKvHost primary = await StartPrimary(Path.Combine(dir.Path, "p"));
        await using RespKvHost first = await StartPrimary(Path.Combine(dir.Path, "a"));
        await using RespKvHost second = await StartPrimary(Path.Combine(dir.Path, "b"));
        using var p = new RespTestClient(primary.Port);
        using var a = new RespTestClient(first.Port);
        using var b = new RespTestClient(second.Port);
        Configure(p, "yes");
        Configure(a, "yes");
        WriteLoad(primary.Port, 300, seed: 5);
        a.Call("REPLICAOF", "127.0.0.1", primary.Port.ToString());
        b.Call("REPLICAOF", "127.0.0.1", primary.Port.ToString());
        WriteLoad(primary.Port, 300, seed: 6);
        WaitCaughtUp(p, a);
        WaitCaughtUp(p, b);
        Assert.Equal(2, primary.Server.Replication.FullSyncs);
        // The old primary stops taking writes; A is promoted; B follows A and continues from the same offset (ID2).
        primary.Server.Replication.DisconnectReplicas();
        Assert.Equal("+OK\r\n", a.Call("REPLICAOF", "NO", "ONE"));
        Assert.Equal("+OK\r\n", b.Call("REPLICAOF", "127.0.0.1", first.Port.ToString()));
        WriteLoad(first.Port, 300, seed: 7);
        WaitCaughtUp(a, b);
        AssertSameData(Digest(a), Digest(b));
        Assert.Equal(1, first.Server.Replication.PartialSyncsAccepted);
        Assert.Equal(0, first.Server.Replication.FullSyncs);
    }

    [Fact]
    public async Task ReplicaReconnectsWithPartialResync()
    {
        using var dir = new TempDir();
        await using RespKvHost primary = await StartPrimary(Path.Combine(dir.Path, "p"));
        await using RespKvHost replica = await StartPrimary(Path.Combine(dir.Path, "r"));
        using var p = new RespTestClient(primary.Port);
        using var r = new RespTestClient(replica.Port);
        Configure(p, "no");
        WriteLoad(primary.Port, 300, seed: 11);
        r.Call("REPLICAOF", "127.0.0.1", primary.Port.ToString());
        WaitCaughtUp(p, r);
        Assert.Equal(1, primary.Server.Replication.FullSyncs);
        // The link drops; writes go on meanwhile (kept by the backlog); the replica reconnects with PSYNC and continues.
        primary.Server.Replication.DisconnectReplicas();
        WriteLoad(primary.Port, 300, seed: 12);
        WaitCaughtUp(p, r);
        AssertSameData(Digest(p), Digest(r));
        Assert.Equal(1, primary.Server.Replication.FullSyncs);
        Assert.Equal(1, primary.Server.Replication.PartialSyncsAccepted);
        Assert.Equal("1", InfoField(p, "connected_slaves"));
    }

    [Fact]
    public async Task FailoverSwitchesPrimaryAndReplica()
    {
        using var dir = new TempDir();
        await using RespKvHost primary = await StartPrimary(Path.Combine(dir.Path, "p"));
        await using RespKvHost replica = await StartPrimary(Path.Combine(dir.Path, "r"));
        using var p = new RespTestClient(primary.Port);
        using var r = new RespTestClient(replica.Port);
        Configure(p, "yes");
        Assert.Equal("-ERR FAILOVER requires connected replicas.\r\n", p.Call("FAILOVER"));
        Assert.Equal("-ERR No failover in progress.\r\n", p.Call("FAILOVER", "ABORT"));
        WriteLoad(primary.Port, 300, seed: 10);
        r.Call("REPLICAOF", "127.0.0.1", primary.Port.ToString());
        WaitCaughtUp(p, r);
        Assert.Equal("-ERR FAILOVER target HOST and PORT is not a replica.\r\n", p.Call("FAILOVER", "TO", "127.0.0.1", "1"));
        Assert.Equal("-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n", p.Call("FAILOVER", "FORCE"));
        Assert.Equal("-ERR FAILOVER timeout must be greater than 0\r\n", p.Call("FAILOVER", "TIMEOUT", "0"));
        Assert.Equal("-ERR FAILOVER is not valid when server is a replica.\r\n", r.Call("FAILOVER"));
        SortedDictionary<string, string> before = Digest(p);
        Assert.Equal("+OK\r\n", p.Call("FAILOVER", "TO", "127.0.0.1", replica.Port.ToString(), "TIMEOUT", "10000"));
        WaitFor(() => InfoField(r, "role") == "master" && InfoField(p, "role") == "slave" && InfoField(p, "master_link_status") == "up"
                      && InfoField(p, "master_failover_state") == "no-failover", "the failover to complete");
        Assert.Equal(1, replica.Server.Replication.PartialSyncsAccepted);
        AssertSameData(before, Digest(r));
        Assert.Equal("+OK\r\n", r.Call("SET", "after", "failover"));
        WaitCaughtUp(r, p);
        AssertSameData(Digest(r), Digest(p));
        Assert.Equal("-READONLY You can't write against a read only replica.\r\n", p.Call("SET", "x", "1"));
    }

    [Fact]
    public async Task WaitCountsOnlyRealAcks()
    {
        using var dir = new TempDir();
        await using RespKvHost primary = await StartPrimary(Path.Combine(dir.Path, "p"));
        using var p = new RespTestClient(primary.Port);
        // No replica: WAIT returns 0 at its timeout.
        p.Call("SET", "k", "v");
        var clock = Stopwatch.StartNew();
        Assert.Equal(":0\r\n", p.Call("WAIT", "1", "200"));
        Assert.True(clock.ElapsedMilliseconds >= 150, $"WAIT returned after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(":0\r\n", p.Call("WAIT", "0", "0"));
        Assert.Equal("-ERR timeout is negative\r\n", p.Call("WAIT", "1", "-1"));
        Configure(p, "yes");
        RespKvHost replica = await StartPrimary(Path.Combine(dir.Path, "r"));
        try
        {
            using var r = new RespTestClient(replica.Port);
            r.Call("REPLICAOF", "127.0.0.1", primary.Port.ToString());
            WaitCaughtUp(p, r);
            p.Call("SET", "k", "v2");
            Assert.Equal(":1\r\n", p.Call("WAIT", "1", "10000"));
            // min-replicas-to-write: one good replica is enough, two are not.
            p.Call("CONFIG", "SET", "min-replicas-to-write", "2");
            Assert.Equal("-NOREPLICAS Not enough good replicas to write.\r\n", p.Call("SET", "k", "v3"));
            p.Call("CONFIG", "SET", "min-replicas-to-write", "1");
            Assert.Equal("+OK\r\n", p.Call("SET", "k", "v3"));
            p.Call("CONFIG", "SET", "min-replicas-to-write", "0");
        }
        finally
        {
            await replica.DisposeAsync();
        }
        // The replica is gone: its ACKs no longer count.
        WaitFor(() => InfoField(p, "connected_slaves") == "0", "the replica to be dropped");
        p.Call("SET", "k", "v4");
        Assert.Equal(":0\r\n", p.Call("WAIT", "1", "300"));
    }

    [Fact]
    public async Task ReplicaWithoutItsPrimaryServesStaleDataOnlyWhenAllowed()
    {
        using var dir = new TempDir();
        await using RespKvHost replica = await StartPrimary(dir.Path);
        using var r = new RespTestClient(replica.Port);
        // A primary that is not there: the link stays down.
        Assert.Equal("+OK\r\n", r.Call("REPLICAOF", "127.0.0.1", AofTestSupport.FreePort().ToString()));
        Assert.Equal("down", InfoField(r, "master_link_status"));
        Assert.Equal("$-1\r\n", r.Call("GET", "k"));
        r.Call("CONFIG", "SET", "replica-serve-stale-data", "no");
        Assert.Equal("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n", r.Call("GET", "k"));
        Assert.StartsWith("-MASTERDOWN", r.Call("PING"));
        Assert.StartsWith("$", r.Call("INFO", "replication"));
        Assert.Equal("-1", InfoField(r, "master_link_down_since_seconds"));
        r.Call("CONFIG", "SET", "replica-serve-stale-data", "yes");
        Assert.Equal("-NOMASTERLINK Can't SYNC while not connected with my master\r\n", r.Call("PSYNC", "?", "-1"));
        Assert.Equal("+OK\r\n", r.Call("REPLICAOF", "NO", "ONE"));
        Assert.Equal("$-1\r\n", r.Call("GET", "k"));
    }

    [Fact]
    public void RespKvPairSurvivesKillNineOfReplicaAndPrimary()
    {
        using var dir = new TempDir();
        int primaryPort = AofTestSupport.FreePort(), replicaPort = AofTestSupport.FreePort();
        using RespKvProcess primary = RespKvProcess.Start(primaryPort, Path.Combine(dir.Path, "p"));
        RespKvProcess replica = RespKvProcess.Start(replicaPort, Path.Combine(dir.Path, "r"), "--replicaof", "127.0.0.1", primaryPort.ToString());
        try
        {
            using var p = new RespTestClient(primaryPort);
            Task load = Task.Run(() => WriteLoad(primaryPort, 3000, seed: 8));
            Thread.Sleep(300);
            // kill -9 of the replica under load; restarted, it resyncs and converges.
            replica.Kill();
            replica.Dispose();
            replica = RespKvProcess.Start(replicaPort, Path.Combine(dir.Path, "r"), "--replicaof", "127.0.0.1", primaryPort.ToString());
            load.Wait();
            using (var r = new RespTestClient(replicaPort))
            {
                WaitCaughtUp(p, r);
                AssertSameData(Digest(p), Digest(r));
            }
            // More writes, acknowledged by the replica (WAIT), then kill -9 of the primary: the replica keeps every one.
            WriteLoad(primaryPort, 500, seed: 9);
            p.Call("SET", "last", "write");
            Assert.Equal(":1\r\n", p.Call("WAIT", "1", "10000"));
            SortedDictionary<string, string> acknowledged = Digest(p);
            primary.Kill();
            using (var r = new RespTestClient(replicaPort))
            {
                WaitFor(() => InfoField(r, "master_link_status") == "down", "the replica to see its primary gone");
                AssertSameData(acknowledged, Digest(r));
                // Promoted, it serves the data and takes writes.
                Assert.Equal("+OK\r\n", r.Call("REPLICAOF", "NO", "ONE"));
                Assert.Equal("$5\r\nwrite\r\n", r.Call("GET", "last"));
                Assert.Equal("+OK\r\n", r.Call("SET", "new", "primary"));
            }
        }
        finally
        {
            replica.Dispose();
        }
    }

    private static string Between(string text, string start, string end)
    {
        int i = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        int j = text.IndexOf(end, i, StringComparison.Ordinal);
        return text[i..j];
    }
}
