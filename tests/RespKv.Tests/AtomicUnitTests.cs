using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Storage;

namespace RespKv.Tests;

/// <summary>
/// <see cref="AtomicUnit"/>: locks in one go and holds them until the outermost End; a nested unit joins the outer one
/// (no new locks, records appended once, as one group) and refuses a shard the outer unit does not hold.
/// </summary>
public sealed class AtomicUnitTests
{
    private sealed class RecordingLog : IWriteLog
    {
        public readonly List<(int Records, bool Transaction)> Appends = new();

        public void Append(PropagationBuffer records) => Appends.Add((records.Count, records.IsTransaction));

        public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key) { }

        public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field) { }

        public string? WriteError => null;
    }

    private static byte[] Key(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void NestedUnitsJoinTheOuterOneAndLogOnceAtTheEnd()
    {
        var keyspace = new Keyspace(2);
        var records = new PropagationBuffer();
        var unit = new AtomicUnit(records);
        var log = new RecordingLog();
        Database db = keyspace[0];
        byte[] a = Key("{t}a"), b = Key("{t}b");
        unit.Add(db, Database.ShardMaskOf(a));
        unit.Begin(log, transaction: true);
        KeyspaceShard shard = db.Shards[Database.ShardOf(a)];
        Assert.True(shard.WriteLock.IsHeldByCurrentThread);
        Assert.True(shard.MultiKeyWriteInProgress);
        records.Add(0, new Protocol.CommandArgs(Key("SETab"), [new(0, 3), new(3, 1)]));

        // A nested unit over a held shard ({t} tags the same slot, so the same shard) joins: nothing is appended yet.
        unit.Add(db, Database.ShardMaskOf(b));
        unit.Begin(log, transaction: false);
        records.Add(0, new Protocol.CommandArgs(Key("SETbb"), [new(0, 3), new(3, 1)]));
        unit.End();
        Assert.Empty(log.Appends);
        Assert.True(shard.WriteLock.IsHeldByCurrentThread);

        unit.End();
        Assert.Equal([(2, true)], log.Appends);
        Assert.False(shard.WriteLock.IsHeldByCurrentThread);
        Assert.False(shard.MultiKeyWriteInProgress);
        Assert.False(unit.IsActive);
    }

    [Fact]
    public void ANestedUnitMayNotTakeANewLock()
    {
        var keyspace = new Keyspace(2);
        var unit = new AtomicUnit(new PropagationBuffer());
        Database db = keyspace[0];
        byte[] a = Key("a");
        byte[] other = Enumerable.Range(0, 1000).Select(i => Key("k" + i)).First(k => Database.ShardOf(k) != Database.ShardOf(a));
        unit.Add(db, Database.ShardMaskOf(a));
        unit.Begin(null, transaction: true);
        Assert.Throws<InvalidOperationException>(() => unit.Add(db, Database.ShardMaskOf(other)));
        Assert.Throws<InvalidOperationException>(() => unit.Add(keyspace[1], Database.ShardMaskOf(a)));
        unit.End();
        Assert.Throws<InvalidOperationException>(() => unit.End());
    }
}
