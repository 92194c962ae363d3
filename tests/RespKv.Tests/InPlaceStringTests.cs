using System.Text;
using RespKv.Configuration;
using RespKv.Persistence;
using RespKv.Persistence.Rdb;
using RespKv.Storage;

namespace RespKv.Tests;

/// <summary>
/// A string written over a string with the same expiry is swapped into its node (<see cref="KeyEntry.ReplaceValue"/>)
/// instead of a new node, with the memory and value-byte counts kept exact; any other write (another expiry, another
/// type) replaces the node; and while a keyspace snapshot holds entries the nodes are replaced, so the snapshot keeps the
/// values of its instant until its writer releases it.
/// </summary>
public sealed class InPlaceStringTests
{
    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    private static void Set(Database db, string key, string value, long expireAtMs = 0)
    {
        using (db.LockKey(B(key))) db.Set(B(key), B(value), expireAtMs);
    }

    private static string Value(KeyEntry entry) => Encoding.ASCII.GetString((byte[])entry.Value);

    /// <summary>The shard's counts equal what its entries add up to now.</summary>
    private static void AssertCountsExact(Database db)
    {
        long memory = 0, valueBytes = 0;
        foreach (KeyspaceShard shard in db.Shards)
        {
            long entries = 0;
            shard.ForEach(ref entries, static (ref long n, KeyEntry e) => n += e.MemoryBytes);
            memory += entries + shard.BucketCount * 8L;
        }
        Assert.Equal(memory, db.MemoryBytes);
        foreach (KeyspaceShard shard in db.Shards)
        {
            long bytes = 0;
            shard.ForEach(ref bytes, static (ref long n, KeyEntry e) => n += e.ValueBytes);
            valueBytes += bytes;
        }
        Assert.Equal(valueBytes, db.Shards.ToArray().Sum(s => s.ValueBytes));
    }

    [Fact]
    public void SameExpiryStringWritesReuseTheNode()
    {
        var keyspace = new Keyspace(1);
        Database db = keyspace[0];
        Set(db, "k", "first");
        KeyEntry node = db.Find(B("k"))!;
        Set(db, "k", "a longer second value");
        Assert.Same(node, db.Find(B("k")));
        Assert.Equal("a longer second value", Value(node));
        AssertCountsExact(db);

        long expireAt = keyspace.Lifetime.NowMs + 60_000;
        Set(db, "k", "with a ttl", expireAt);
        KeyEntry timed = db.Find(B("k"))!;
        Assert.NotSame(node, timed); // another expiry: a new node
        Set(db, "k", "same ttl", expireAt);
        Assert.Same(timed, db.Find(B("k")));
        Assert.Equal(expireAt, timed.ExpireAtMs);
        AssertCountsExact(db);
    }

    [Fact]
    public void ASnapshotKeepsItsValuesUntilReleased()
    {
        var keyspace = new Keyspace(1);
        Database db = keyspace[0];
        Set(db, "k", "v1");
        KeyspaceSnapshot snapshot = KeyspaceSnapshot.CollectLocked(keyspace);
        Assert.True(keyspace.Lifetime.SnapshotHeld);
        KeyEntry collected = snapshot[0].Single();
        Set(db, "k", "v2");
        Assert.Equal("v1", Value(collected)); // the snapshot's node is untouched: the write made a new one
        KeyEntry current = db.Find(B("k"))!;
        Assert.NotSame(collected, current);

        // Its writer releases it: strings are swapped in place again.
        RdbFileWriter.Write(snapshot, new MemoryStream(), new RdbWriteOptions(new ServerOptions()));
        Assert.False(keyspace.Lifetime.SnapshotHeld);
        snapshot.Release(); // idempotent
        Assert.False(keyspace.Lifetime.SnapshotHeld);
        Set(db, "k", "v3");
        Assert.Same(current, db.Find(B("k")));
        Assert.Equal("v1", Value(collected));
        AssertCountsExact(db);
    }

    [Fact]
    public void AnAofRewriteReleasesItsSnapshotEvenWhenItFails()
    {
        var keyspace = new Keyspace(1);
        Set(keyspace[0], "k", "v");
        KeyspaceSnapshot snapshot = KeyspaceSnapshot.CollectLocked(keyspace);
        Assert.True(keyspace.Lifetime.SnapshotHeld);
        var closed = new MemoryStream();
        closed.Dispose();
        Assert.ThrowsAny<Exception>(() => AofSnapshotWriter.Write(snapshot, closed, 0));
        Assert.False(keyspace.Lifetime.SnapshotHeld);
    }
}
