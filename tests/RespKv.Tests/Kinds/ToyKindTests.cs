using System.Text;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Storage;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Tests.Kinds;

/// <summary>A counter value mutated in place (the test's own kind: TYPE <c>toy</c>).</summary>
internal sealed class ToyCounter(long value)
{
    public long Value = value;
}

/// <summary>
/// The toy kind: one file plus one <see cref="ValueKinds.Register"/>, like a real new type. Mutated in place (so COPY
/// must deep-copy it), its own encoding name, and an AOF rewrite that emits its own command (TOYSET).
/// </summary>
internal sealed class ToyKind : ValueKind<ToyCounter>
{
    public static readonly ToyKind Instance = new();

    private ToyKind() : base("toy", redisTypeCode: 100, mutatedInPlace: true)
    {
    }

    /// <summary>Bytes of a <see cref="ToyCounter"/> object: header and one long.</summary>
    public const long ObjectBytes = 24;

    protected override string Encoding(ToyCounter value, ServerOptions options) => value.Value < 100 ? "smallcounter" : "bigcounter";

    protected override long ValueBytes(ToyCounter value) => 8;

    protected override long MemoryBytes(ToyCounter value) => ObjectBytes;

    protected override void Rewrite(byte[] key, ToyCounter value, IAofRewriteOutput output)
    {
        output.Begin(3).Arg("TOYSET"u8).Arg(key).Arg(value.Value);
        output.EndRecord();
    }

    protected override ToyCounter Copy(ToyCounter value) => new(value.Value);

    protected override long SerializedLength(ToyCounter value, ServerOptions options) => 9;

    protected override void Digest(ToyCounter value, Span<byte> digest)
    {
        Span<byte> bytes = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, value.Value);
        RedisDigest.Mix(digest, bytes);
    }

    /// <summary>The toy's change event (TOYINCR changes its value in place).</summary>
    private static readonly KeyEvent ToyEvent = new("toyincr", 'g');

    /// <summary>The toy's commands: TOYSET key n (replace), TOYINCR key (in place, under the shard lock), TOYGET key.</summary>
    public static IEnumerable<CommandInfo> Commands =>
    [
        new("toyset", 3, Write, 1, 1, 1, "generic", "Set a toy counter", ToySet),
        new("toyincr", 2, Write, 1, 1, 1, "generic", "Increment a toy counter in place", ToyIncr),
        new("toyget", 2, ReadOnly, 1, 1, 1, "generic", "Read a toy counter", ToyGet),
    ];

    private static void ToySet(CommandContext client, in CommandArgs args)
    {
        if (!RespInteger.TryParse(args[2], out long n))
        {
            client.Writer.WriteError(CommandErrors.NotInteger);
            return;
        }
        using (client.Database.LockKey(args[1])) client.Database.Set(args[1], new ToyCounter(n));
        client.Writer.WriteOk();
    }

    private static void ToyIncr(CommandContext client, in CommandArgs args)
    {
        Database db = client.Database;
        using (db.LockKey(args[1], out KeySlot slot))
        {
            if (db.Find(slot, args[1])?.Value is not ToyCounter counter)
            {
                client.Writer.WriteError("ERR no toy");
                return;
            }
            counter.Value++;
            db.Mutated(slot, args[1], ToyEvent);
            client.Writer.WriteInteger(counter.Value);
        }
    }

    private static void ToyGet(CommandContext client, in CommandArgs args)
    {
        Database db = client.Database;
        using (db.LockKey(args[1]))
        {
            if (db.Find(args[1])?.Value is ToyCounter counter) client.Writer.WriteInteger(counter.Value);
            else client.Writer.WriteNullBulkString();
        }
    }
}

/// <summary>A kind registered by a test is handled by every generic command, the AOF rewrite and the reload.</summary>
public sealed class ToyKindTests
{
    static ToyKindTests() => ValueKinds.Register(ToyKind.Instance);

    private static async Task<RespKvHost> StartWithToy(string dir)
    {
        var options = new ServerOptions { Port = 0, Save = "", AppendOnly = true, Dir = dir, AppendFsync = "always", EnableDebugCommand = ProtectedAction.Yes };
        RespKvHost host = RespKvHost.Create(options, commands: CommandFamilies.WithDefaults(ToyKind.Commands));
        await host.StartAsync();
        return host;
    }

    [Fact]
    public async Task GenericCommandsRewriteAndRestartHandleARegisteredKind()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await StartWithToy(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("TOYSET", "t", "5"));
            Assert.Equal("+toy\r\n", c.Call("TYPE", "t"));
            Assert.Equal("$12\r\nsmallcounter\r\n", c.Call("OBJECT", "ENCODING", "t"));
            Assert.Equal(":1\r\n", c.Call("OBJECT", "REFCOUNT", "t"));
            // The node, the key's array, and the kind's own figure.
            Assert.Equal($":{KeyEntry.NodeBytes + KeyEntry.ArrayBytes(1) + ToyKind.ObjectBytes}\r\n", c.Call("MEMORY", "USAGE", "t"));
            Assert.StartsWith("+Value at:0x", c.Call("DEBUG", "OBJECT", "t"));

            // COPY deep-copies a kind mutated in place: the copies then change independently.
            Assert.Equal(":1\r\n", c.Call("COPY", "t", "t2"));
            Assert.Equal(":6\r\n", c.Call("TOYINCR", "t"));
            Assert.Equal(":5\r\n", c.Call("TOYGET", "t2"));
            Assert.Equal(":1\r\n", c.Call("COPY", "t", "t", "DB", "1"));
            Assert.Equal(":7\r\n", c.Call("TOYINCR", "t"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
            Assert.Equal("+toy\r\n", c.Call("TYPE", "t"));
            Assert.Equal(":6\r\n", c.Call("TOYGET", "t"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));

            Assert.Equal("+OK\r\n", c.Call("RENAME", "t2", "t3"));
            Assert.Equal("+toy\r\n", c.Call("TYPE", "t3"));
            Assert.Equal(":1\r\n", c.Call("MOVE", "t3", "2"));
            Assert.Equal("+OK\r\n", c.Call("SET", "s", "string"));
            Assert.Equal("*2\r\n$1\r\n0\r\n*1\r\n$1\r\nt\r\n", c.Call("SCAN", "0", "TYPE", "toy", "COUNT", "1000"));
            Assert.Equal("+OK\r\n", c.Call("TOYSET", "gone", "1"));
            Assert.Equal(":1\r\n", c.Call("DEL", "gone"));
            Assert.Equal(":1\r\n", c.Call("PEXPIRE", "t", "100000000"));

            Assert.Equal("+Background append only file rewriting started\r\n", c.Call("BGREWRITEAOF"));
            while (c.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1")) await Task.Delay(20);
            Assert.Contains("aof_last_bgrewrite_status:ok", c.Call("INFO", "persistence"));
            string aof = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(dir.Aof));
            Assert.Contains(AofTestSupport.Record("TOYSET", "t", "7"), aof);
            Assert.Contains(AofTestSupport.Record("TOYSET", "t3", "5"), aof);
            Assert.DoesNotContain("TOYINCR", aof); // the rewrite emits the kind's own commands, not the history
            Assert.Equal(":8\r\n", c.Call("TOYINCR", "t")); // logged after the rewrite, replayed on top of it
        }
        await using (RespKvHost host = await StartWithToy(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+toy\r\n", c.Call("TYPE", "t"));
            Assert.Equal(":8\r\n", c.Call("TOYGET", "t"));
            Assert.Matches(@"^:\d{8,9}\r\n$", c.Call("PTTL", "t"));
            Assert.Equal(":1\r\n", c.Call("EXISTS", "s"));
            Assert.Equal(":0\r\n", c.Call("EXISTS", "gone"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
            Assert.Equal(":6\r\n", c.Call("TOYGET", "t"));
            Assert.Equal("+OK\r\n", c.Call("SELECT", "2"));
            Assert.Equal("+toy\r\n", c.Call("TYPE", "t3"));
            Assert.Equal(":5\r\n", c.Call("TOYGET", "t3"));
        }
    }

    [Fact]
    public void TheRewriteSnapshotFreezesValuesMutatedInPlace()
    {
        var keyspace = new Keyspace(2);
        Database db = keyspace[1];
        var counter = new ToyCounter(5);
        using (db.LockKey("t"u8)) db.Set("t"u8, counter);
        var snapshot = new RespKv.Persistence.KeyspaceSnapshot();
        snapshot.Collect(keyspace);
        counter.Value = 99; // a write after the snapshot: it is in the AOF tail, not in the compacted part
        using var output = new MemoryStream();
        Assert.Equal(1, RespKv.Persistence.AofSnapshotWriter.Write(snapshot, output, -1));
        Assert.Equal(AofTestSupport.Record("SELECT", "1") + AofTestSupport.Record("TOYSET", "t", "5"), Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void AnUnregisteredValueTypeThrowsInsteadOfBeingSkipped()
    {
        Assert.Throws<InvalidOperationException>(() => ValueKinds.Of(new Version(1, 0)));
        Assert.Same(StringKind.Instance, ValueKinds.Of("x"u8.ToArray()));
        Assert.Same(HashKind.Instance, ValueKinds.Of(SortedHash.Empty));
        Assert.Same(HashKind.Instance, ValueKinds.ByName("HASH"u8));
        Assert.Null(ValueKinds.ByName("nosuch"u8));
    }

    [Fact]
    public void RegisteringAClashingKindThrows()
    {
        ValueKinds.Register(ToyKind.Instance); // the same instance again: no-op
        Assert.Contains(ToyKind.Instance, ValueKinds.All);
        Assert.Throws<InvalidOperationException>(() => ValueKinds.Register(new ClashingKind()));
    }

    private sealed class ClashingKind() : ValueKind<ToyCounter>("toy2", 101, mutatedInPlace: false)
    {
        protected override string Encoding(ToyCounter value, ServerOptions options) => "x";
        protected override long ValueBytes(ToyCounter value) => 0;
        protected override long MemoryBytes(ToyCounter value) => 0;
        protected override void Rewrite(byte[] key, ToyCounter value, IAofRewriteOutput output) { }
        protected override ToyCounter Copy(ToyCounter value) => value;
        protected override long SerializedLength(ToyCounter value, ServerOptions options) => 0;
        protected override void Digest(ToyCounter value, Span<byte> digest) { }
    }
}
