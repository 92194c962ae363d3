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

    /// <summary>Bytes allocated per command by running <paramref name="batch"/> (after a warm-up run of it).</summary>
    private static double BytesPerCommand(ClientSession session, ArrayBufferWriter<byte> output, byte[] batch)
    {
        var sequence = new ReadOnlySequence<byte>(batch);
        for (int warm = 0; warm < 3; warm++)
        {
            output.ResetWrittenCount();
            session.ProcessReceived(sequence);
            session.Writer.Commit();
        }
        output.ResetWrittenCount();
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.ProcessReceived(sequence);
        session.Writer.Commit();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Commands;
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
        // SET of an existing key: a new value array (24 + 8 bytes) and a new entry node (56 bytes), nothing else.
        double set = BytesPerCommand(session, output, Batch(Commands, "SET", "key:1", "value"));
        Assert.True(set <= KeyEntry.NodeBytes + KeyEntry.ArrayBytes(5), $"SET allocated {set} bytes per command");
    }

    private sealed class NullLog : Execution.IWriteLog
    {
        public void Append(PropagationBuffer records) { }

        public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key) { }

        public string? WriteError => null;
    }
}
