using System.Buffers;
using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using RespKv.Tests.Kinds;

namespace RespKv.Tests;

/// <summary>
/// The executor owns locking and propagation: a write command's handler runs holding its keys' shard locks (with or
/// without a write log), and what it changed is known from <see cref="KeyspaceShard.Mutated"/> alone — a value changed
/// in place and announced through <see cref="Database.Mutated"/> is logged and wakes WATCH, one that announces nothing
/// is not logged. Driven through a command table with two test commands over a value mutated in place.
/// </summary>
public sealed class ExecutorTests
{
    static ExecutorTests() => ValueKinds.Register(ToyKind.Instance);

    /// <summary>Records what the executor appends, one string per record (SELECTs are the log's own business).</summary>
    private sealed class RecordingLog : IWriteLog
    {
        public readonly List<string> Records = new();

        public void Append(PropagationBuffer records)
        {
            for (int i = 0; i < records.Count; i++) Records.Add(Encoding.ASCII.GetString(records.Record(i)));
        }

        public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key) => Records.Add("expired " + Encoding.ASCII.GetString(key));

        public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field) =>
            Records.Add("expired " + Encoding.ASCII.GetString(key) + " " + Encoding.ASCII.GetString(field));

        public string? WriteError => null;
    }

    private static readonly KeyEvent Bumped = new("bumped", 'g');

    /// <summary>Shard locks a handler found held by its thread, per call (true = held).</summary>
    private static readonly List<bool> LockHeld = new();

    /// <summary><c>TOYBUMP key</c>: adds 1 to the key's boxed counter in place (creating it at 1), announcing the change.</summary>
    private static void ToyBump(CommandContext client, in CommandArgs args)
    {
        Database db = client.Database;
        KeySlot slot = db.Locate(args[1]);
        lock (LockHeld) LockHeld.Add(slot.Shard.WriteLock.IsHeldByCurrentThread);
        if (db.Find(slot, args[1])?.Value is ToyCounter box)
        {
            box.Value++;
            db.Mutated(slot, args[1], Bumped);
        }
        else db.Set(slot, args[1], new ToyCounter(1));
        client.Writer.WriteOk();
    }

    /// <summary><c>TOYPEEK key</c>: a write-flagged command that changes nothing (must not be logged).</summary>
    private static void ToyPeek(CommandContext client, in CommandArgs args) =>
        client.Writer.WriteInteger(client.Database.Find(args[1])?.Value is ToyCounter box ? box.Value : 0);

    private static readonly CommandTable Table = new(CommandFamilies.Table.All.Where(c => c.Name is not ("toybump" or "toypeek"))
        .Select(Clone).Concat([
            new CommandInfo("toybump", 2, CommandFlags.Write, 1, 1, 1, "generic", "test: bump in place", ToyBump),
            new CommandInfo("toypeek", 2, CommandFlags.Write, 1, 1, 1, "generic", "test: write-flagged read", ToyPeek),
        ]));

    /// <summary>A table row belongs to one table: copy the default rows (handlers shared) for this test's table.</summary>
    private static CommandInfo Clone(CommandInfo c) => new(c.Name, c.Arity, c.Flags, c.FirstKey, c.LastKey, c.Step, c.Group, c.Summary, c.Handler,
        c.Subcommands?.Select(Clone).ToArray() ?? []);

    private static (ClientSession Session, ArrayBufferWriter<byte> Output) Connect(RespServer server)
    {
        var output = new ArrayBufferWriter<byte>();
        return (new ClientSession(server, output), output);
    }

    private static string Run(ClientSession session, ArrayBufferWriter<byte> output, params string[] args)
    {
        output.ResetWrittenCount();
        var request = new StringBuilder($"*{args.Length}\r\n");
        foreach (string a in args) request.Append($"${a.Length}\r\n{a}\r\n");
        session.ProcessReceived(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(request.ToString())));
        session.Writer.Commit();
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WriteHandlersRunHoldingTheirShardLockWithOrWithoutALog(bool withLog)
    {
        var server = new RespServer(new ServerOptions(), commands: Table);
        if (withLog) server.WriteLog = new RecordingLog();
        (ClientSession session, ArrayBufferWriter<byte> output) = Connect(server);
        lock (LockHeld) LockHeld.Clear();
        Assert.Equal("+OK\r\n", Run(session, output, "TOYBUMP", "k"));
        Assert.Equal("+OK\r\n", Run(session, output, "TOYBUMP", "k"));
        lock (LockHeld) Assert.Equal([true, true], LockHeld);
    }

    [Fact]
    public void AnInPlaceChangeIsLoggedAndAWriteThatChangesNothingIsNot()
    {
        var server = new RespServer(new ServerOptions(), commands: Table);
        var log = new RecordingLog();
        server.WriteLog = log;
        (ClientSession session, ArrayBufferWriter<byte> output) = Connect(server);
        Run(session, output, "TOYBUMP", "k");
        Run(session, output, "TOYBUMP", "k");
        Assert.Equal(":2\r\n", Run(session, output, "TOYPEEK", "k"));
        Assert.Equal(["*2\r\n$7\r\nTOYBUMP\r\n$1\r\nk\r\n", "*2\r\n$7\r\nTOYBUMP\r\n$1\r\nk\r\n"], log.Records);
        // Inside EXEC: the in-place change is recorded in the transaction's unit, the non-change is not.
        log.Records.Clear();
        Run(session, output, "MULTI");
        Run(session, output, "TOYPEEK", "k");
        Run(session, output, "TOYBUMP", "k");
        Assert.Equal("*2\r\n:2\r\n+OK\r\n", Run(session, output, "EXEC"));
        Assert.Equal(["*2\r\n$7\r\nTOYBUMP\r\n$1\r\nk\r\n"], log.Records);
    }

    [Fact]
    public void AnInPlaceChangeWakesWatch()
    {
        var server = new RespServer(new ServerOptions(), commands: Table);
        (ClientSession watcher, ArrayBufferWriter<byte> watcherOutput) = Connect(server);
        (ClientSession other, ArrayBufferWriter<byte> otherOutput) = Connect(server);
        Run(other, otherOutput, "TOYBUMP", "k");
        Run(watcher, watcherOutput, "WATCH", "k");
        Run(other, otherOutput, "TOYBUMP", "k");
        Run(watcher, watcherOutput, "MULTI");
        Run(watcher, watcherOutput, "TOYPEEK", "k");
        Assert.Equal("*-1\r\n", Run(watcher, watcherOutput, "EXEC"));
        // Not changed since the WATCH: EXEC runs.
        Run(watcher, watcherOutput, "WATCH", "k");
        Run(watcher, watcherOutput, "MULTI");
        Run(watcher, watcherOutput, "TOYPEEK", "k");
        Assert.Equal("*1\r\n:2\r\n", Run(watcher, watcherOutput, "EXEC"));
    }

    [Fact]
    public void TheChangeHookSeesEveryAnnouncedChangeWithItsEvent()
    {
        var server = new RespServer(new ServerOptions(), commands: Table);
        var events = new List<string>();
        server.Keyspace.Lifetime.KeyChanged = (db, key, e) => events.Add($"{db}:{Encoding.ASCII.GetString(key)}:{e.Name}");
        (ClientSession session, ArrayBufferWriter<byte> output) = Connect(server);
        Run(session, output, "TOYBUMP", "k");
        Run(session, output, "TOYBUMP", "k");
        Run(session, output, "SET", "s", "v");
        Run(session, output, "DEL", "s", "k");
        Assert.Equal(["0:k:new", "0:k:set", "0:k:bumped", "0:s:new", "0:s:set", "0:s:del", "0:k:del"], events);
    }
}
