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
/// The command path allocates nothing of its own per command: a pipelined batch of reads (GET, EXISTS, PING, HGET)
/// allocates nothing once warm, and a SET that replaces a key allocates only what it stores (the value's array and
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
        var server = new RespServer(new ServerOptions());
        if (withLog) server.WriteLog = new NullLog();
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var session = new ClientSession(server, output);
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
    public void ListReadsAllocateNothingAndARotationOnlyItsNodes(bool withLog)
    {
        var server = new RespServer(new ServerOptions());
        if (withLog) server.WriteLog = new NullLog();
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var session = new ClientSession(server, output);
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

    private sealed class NullLog : Execution.IWriteLog
    {
        public void Append(PropagationBuffer records) { }

        public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key) { }

        public string? WriteError => null;
    }
}
