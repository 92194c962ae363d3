using System.Buffers;
using System.Text;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;

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

    private static byte[] Batch(int count, params string[] args)
    {
        var one = new StringBuilder($"*{args.Length}\r\n");
        foreach (string a in args) one.Append($"${a.Length}\r\n{a}\r\n");
        return Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(one.ToString(), count)));
    }

    /// <summary>Bytes allocated per command by running <paramref name="batch"/> (after warm-up runs of it; the least of three).</summary>
    private static double BytesPerCommand(ClientSession session, ArrayBufferWriter<byte> output, byte[] batch)
    {
        var sequence = new ReadOnlySequence<byte>(batch);
        for (int warm = 0; warm < 3; warm++)
        {
            output.ResetWrittenCount();
            session.ProcessReceived(sequence);
            session.Writer.Commit();
        }
        // The least of three measured runs: a one-off allocation of the runtime's (tiering, a timer) lands in one of them.
        double least = double.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            output.ResetWrittenCount();
            long before = GC.GetAllocatedBytesForCurrentThread();
            session.ProcessReceived(sequence);
            session.Writer.Commit();
            least = Math.Min(least, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Commands);
        }
        return least;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsAllocateNothingAndASetOnlyWhatItStores(bool withLog)
    {
        var server = new RespServer(new ServerOptions());
        if (withLog) server.WriteLog = new NullLog();
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var session = new ClientSession(server, output);
        session.ProcessReceived(new ReadOnlySequence<byte>(Batch(1, "SET", "key:1", "value")));
        session.ProcessReceived(new ReadOnlySequence<byte>(Batch(1, "HSET", "h", "f", "v")));
        session.Writer.Commit();

        // Any per-command allocation is at least 24 bytes (an object header and a field); a one-off allocation during a
        // batch (the runtime's own, e.g. tiered compilation) spreads to well under one byte per command.
        Assert.InRange(BytesPerCommand(session, output, Batch(Commands, "GET", "key:1")), 0, 4);
        Assert.InRange(BytesPerCommand(session, output, Batch(Commands, "EXISTS", "key:1", "key:2")), 0, 4);
        Assert.InRange(BytesPerCommand(session, output, Batch(Commands, "HGET", "h", "f")), 0, 4);
        Assert.InRange(BytesPerCommand(session, output, Batch(Commands, "PING")), 0, 4);
        // SET of an existing key: a new value array (24 + 8 bytes) and a new entry node (56 bytes), nothing else (with the
        // same allowance for one-off runtime allocations as above: anything per command would add at least 24 bytes).
        double set = BytesPerCommand(session, output, Batch(Commands, "SET", "key:1", "value"));
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
        session.ProcessReceived(new ReadOnlySequence<byte>(Batch(100, "RPUSH", "l", "a", "bb", "ccc")));
        session.Writer.Commit();

        // Below one byte per command: a one-off runtime allocation during the batch (tiered JIT's call counting on a busy
        // machine) spreads below it, while any allocation per command would be at least 24 bytes.
        double llen = BytesPerCommand(session, output, Batch(Commands, "LLEN", "l"));
        Assert.True(llen < 1, $"LLEN allocated {llen} bytes per command");
        double lindex = BytesPerCommand(session, output, Batch(Commands, "LINDEX", "l", "-2"));
        Assert.True(lindex < 1, $"LINDEX allocated {lindex} bytes per command");
        double lrange = BytesPerCommand(session, output, Batch(Commands, "LRANGE", "l", "0", "9"));
        Assert.True(lrange < 1, $"LRANGE allocated {lrange} bytes per command");
        double lpos = BytesPerCommand(session, output, Batch(Commands, "LPOS", "l", "ccc", "RANK", "-2"));
        Assert.True(lpos < 1, $"LPOS allocated {lpos} bytes per command");
        // A rotation (pop at one end, push at the other) reuses the space its pops free: it allocates nothing.
        double rotate = BytesPerCommand(session, output, Batch(Commands, "LMOVE", "l", "l", "LEFT", "RIGHT"));
        Assert.True(rotate < 1, $"LMOVE allocated {rotate} bytes per command");
    }

    private sealed class NullLog : Execution.IWriteLog
    {
        public void Append(PropagationBuffer records) { }

        public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key) { }

        public string? WriteError => null;
    }
}
