using System.Buffers;
using System.Text;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The command path allocates nothing of its own per command: a pipelined batch of reads (GET, EXISTS, PING, HGET, list,
/// sorted-set and stream reads)
/// allocates nothing once warm (bitmap and HyperLogLog reads, and their writes that change nothing, too), and a SET that replaces a key allocates only what it stores (the value's array and
/// the entry node). Measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/> around whole batches through the
/// parser, the executor (admission gates, key specs, locks) and the handlers, AOF off and on.
/// </summary>
public sealed class HotPathAllocationTests
{
    private const int Commands = 2000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsAllocateNothingAndASetOnlyWhatItStores(bool withLog)
    {
        ClientSession session = NewSession(withLog, out ArrayBufferWriter<byte> output);
        Allocations.PerCommand(session, output, 1, "SET", "key:1", "value");
        Allocations.PerCommand(session, output, 1, "HSET", "h", "f", "v");

        // Any per-command allocation is at least 24 bytes (an object header and a field); a one-off allocation during a
        // batch (the runtime's own, e.g. tiered compilation) spreads to well under one byte per command.
        Assert.InRange(Allocations.PerCommand(session, output, Commands, "GET", "key:1"), 0, 4);
        Assert.InRange(Allocations.PerCommand(session, output, Commands, "EXISTS", "key:1", "key:2"), 0, 4);
        Assert.InRange(Allocations.PerCommand(session, output, Commands, "HGET", "h", "f"), 0, 4);
        Assert.InRange(Allocations.PerCommand(session, output, Commands, "PING"), 0, 4);
        // SET of an existing key: a new value array (24 + 8 bytes) and a new entry node (56 bytes), nothing else (with the
        // same allowance for one-off runtime allocations as above: anything per command would add at least 24 bytes).
        double set = Allocations.PerCommand(session, output, Commands, "SET", "key:1", "value");
        Assert.True(set <= KeyEntry.NodeBytes + KeyEntry.ArrayBytes(5) + 4, $"SET allocated {set} bytes per command");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StreamReadsAllocateNothingAndAnAppendOnlyItsNodes(bool withLog)
    {
        ClientSession session = NewSession(withLog, out ArrayBufferWriter<byte> output);
        Allocations.PerCommand(session, output, 300, "XADD", "s", "*", "f", "v");
        foreach (string[] read in new[]
                 {
                     ["XLEN", "s"], ["XRANGE", "s", "-", "+", "COUNT", "5"], ["XREVRANGE", "s", "+", "-", "COUNT", "5"],
                     ["XREAD", "COUNT", "5", "STREAMS", "s", "0"], new[] { "XRANGE", "s", "(0-1", "+", "COUNT", "1" },
                 })
        {
            double bytes = Allocations.PerCommand(session, output, Commands, read);
            Assert.True(bytes < 1, $"{string.Join(' ', read)} allocated {bytes} bytes per command");
        }
        // An append allocates only its node's share: one array and one node object per 100 entries (about 600 + 100 bytes).
        double xadd = Allocations.PerCommand(session, output, Commands, "XADD", "s", "*", "f", "v");
        Assert.True(xadd < 16, $"XADD allocated {xadd} bytes per command");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ListReadsAllocateNothingAndARotationOnlyItsNodes(bool withLog)
    {
        ClientSession session = NewSession(withLog, out ArrayBufferWriter<byte> output);
        Allocations.PerCommand(session, output, 100, "RPUSH", "l", "a", "bb", "ccc");

        // Below one byte per command: a one-off runtime allocation during the batch (tiered JIT's call counting on a busy
        // machine) spreads below it, while any allocation per command would be at least 24 bytes.
        double llen = Allocations.PerCommand(session, output, Commands, "LLEN", "l");
        Assert.True(llen < 1, $"LLEN allocated {llen} bytes per command");
        double lindex = Allocations.PerCommand(session, output, Commands, "LINDEX", "l", "-2");
        Assert.True(lindex < 1, $"LINDEX allocated {lindex} bytes per command");
        double lrange = Allocations.PerCommand(session, output, Commands, "LRANGE", "l", "0", "9");
        Assert.True(lrange < 1, $"LRANGE allocated {lrange} bytes per command");
        double lpos = Allocations.PerCommand(session, output, Commands, "LPOS", "l", "ccc", "RANK", "-2");
        Assert.True(lpos < 1, $"LPOS allocated {lpos} bytes per command");
        // A rotation (pop at one end, push at the other) reuses the space its pops free: it allocates nothing.
        double rotate = Allocations.PerCommand(session, output, Commands, "LMOVE", "l", "l", "LEFT", "RIGHT");
        Assert.True(rotate < 1, $"LMOVE allocated {rotate} bytes per command");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SortedSetReadsAndScoreUpdatesAllocateNothing(bool withLog)
    {
        ClientSession session = NewSession(withLog, out ArrayBufferWriter<byte> output);
        // 2,000 members: several leaves in each tree and an inner node above them.
        var zadd = new List<string> { "ZADD", "z" };
        for (int i = 0; i < 2000; i++) zadd.AddRange([(i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture), "member:" + i]);
        Allocations.PerCommand(session, output, 1, [.. zadd]);

        // Below 8 bytes per command: any allocation per command would be at least 24 bytes, while the runtime's one-off
        // allocations during a batch (tiered compilation on a busy machine) have been seen to reach 1.2 bytes per command.
        (string Name, string[] Command)[] reads =
        [
            ("ZSCORE", ["ZSCORE", "z", "member:1500"]),
            ("ZMSCORE", ["ZMSCORE", "z", "member:7", "nope"]),
            ("ZRANK", ["ZRANK", "z", "member:1234"]),
            ("ZREVRANK", ["ZREVRANK", "z", "member:3"]),
            ("ZCOUNT", ["ZCOUNT", "z", "100", "(2000"]),
            ("ZRANGE", ["ZRANGE", "z", "500", "509", "WITHSCORES"]),
            ("ZREVRANGE", ["ZREVRANGE", "z", "0", "9"]),
            ("ZRANGEBYSCORE", ["ZRANGEBYSCORE", "z", "(30", "60", "LIMIT", "2", "5"]),
            ("ZREVRANGEBYSCORE", ["ZREVRANGEBYSCORE", "z", "+inf", "2990"]),
            // The top member rising further moves within the last leaf of the score tree: nothing allocated.
            ("ZINCRBY", ["ZINCRBY", "z", "1", "member:1999"]),
            ("ZADD XX", ["ZADD", "z", "XX", "CH", "17", "member:10"]),
        ];
        foreach ((string name, string[] command) in reads)
        {
            double bytes = Allocations.PerCommand(session, output, Commands, command);
            Assert.True(bytes < 8, $"{name} allocated {bytes} bytes per command");
        }
    }

    /// <summary>A client of a new server (its write log a <see cref="NullLog"/> when <paramref name="withLog"/>) writing its replies into <paramref name="output"/>.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BitmapAndHyperLogLogReadsAndNoOpWritesAllocateNothing(bool withLog)
    {
        ClientSession session = NewSession(withLog, out ArrayBufferWriter<byte> output);
        Allocations.PerCommand(session, output, 1, "SETBIT", "b", "100000", "1");
        Allocations.PerCommand(session, output, 1, "PFADD", "h", "a", "b", "c");
        Allocations.PerCommand(session, output, 1, "PFCOUNT", "h");
        Allocations.PerCommand(session, output, 1, [.. new[] { "PFADD", "hd" }, .. Enumerable.Range(0, 3000).Select(i => "e" + i)]);
        // Below one byte per command: any allocation per command would be at least 24 bytes (see above). A write that
        // changes nothing (the bit already set, the field already holding the value, no register raised) stores nothing.
        (string Name, string[] Command)[] commands =
        [
            ("GETBIT", ["GETBIT", "b", "100000"]),
            ("BITCOUNT", ["BITCOUNT", "b", "0", "-1", "BIT"]),
            ("BITPOS", ["BITPOS", "b", "1", "2", "-1"]),
            ("BITFIELD_RO", ["BITFIELD_RO", "b", "GET", "i64", "99990", "GET", "u3", "#2"]),
            ("SETBIT unchanged", ["SETBIT", "b", "100000", "1"]),
            ("BITFIELD unchanged", ["BITFIELD", "b", "SET", "u8", "0", "0", "GET", "u8", "8"]),
            ("PFCOUNT cached", ["PFCOUNT", "h"]),
            ("PFADD unchanged", ["PFADD", "h", "a", "b"]),
            ("PFADD dense unchanged", ["PFADD", "hd", "e1", "e2999"]),
        ];
        foreach ((string name, string[] command) in commands)
        {
            double bytes = Allocations.PerCommand(session, output, Commands, command);
            Assert.True(bytes < 1, $"{name} allocated {bytes} bytes per command");
        }
    }

    private static ClientSession NewSession(bool withLog, out ArrayBufferWriter<byte> output)
    {
        var server = new RespServer(new ServerOptions());
        if (withLog) server.WriteLog = new NullLog();
        output = new ArrayBufferWriter<byte>(1 << 20);
        return new ClientSession(server, output);
    }

    private sealed class NullLog : Execution.IWriteLog
    {
        public void Append(PropagationBuffer records) { }

        public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key) { }

        public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field) { }

        public string? WriteError => null;
    }
}
