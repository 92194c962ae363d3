using System.Text;
using RespKv.Storage;

namespace RespKv.Tests;

/// <summary>
/// A shard's table doubles as keys arrive (<see cref="KeyspaceShard"/>'s Grow moves each chain's tail run as it is and
/// copies the nodes before it). These tests hold it to its promises: after any number of doublings, with keys
/// replaced and removed between them, every key is found with its value; and a lock-free reader looking up keys
/// that exist throughout never misses one or sees a wrong value while another thread grows, replaces and removes.
/// </summary>
public sealed class KeyspaceGrowthTests
{
    private static byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);

    private static void Set(Database db, string key, string value)
    {
        byte[] k = Bytes(key);
        using (db.LockKey(k)) db.Set(k, Bytes(value));
    }

    private static void Remove(Database db, string key)
    {
        byte[] k = Bytes(key);
        using (db.LockKey(k)) db.Remove(k);
    }

    private static string? Get(Database db, string key) =>
        db.FindNoTouch(Bytes(key))?.StringValue is { } v ? Encoding.ASCII.GetString(v) : null;

    [Fact]
    public void EveryKeySurvivesDoublingsWithReplacesAndRemovesBetween()
    {
        var db = new Database(0);
        const int keys = 50_000;
        for (int i = 0; i < keys; i++)
        {
            Set(db, $"k:{i}", $"v:{i}");
            // Between doublings: replace an earlier key, remove another, so chains hold replaced nodes and gaps.
            if (i % 7 == 3) Set(db, $"k:{i / 2}", $"r:{i / 2}");
            if (i % 11 == 5) Remove(db, $"k:{i / 3}");
        }
        // The model: the same sequence applied to a dictionary.
        var expected = new Dictionary<string, string>();
        for (int i = 0; i < keys; i++)
        {
            expected[$"k:{i}"] = $"v:{i}";
            if (i % 7 == 3) expected[$"k:{i / 2}"] = $"r:{i / 2}";
            if (i % 11 == 5) expected.Remove($"k:{i / 3}");
        }
        Assert.Equal(expected.Count, db.Count);
        for (int i = 0; i < keys; i++)
            Assert.Equal(expected.GetValueOrDefault($"k:{i}"), Get(db, $"k:{i}"));
        foreach (KeyspaceShard shard in db.Shards) Assert.True(shard.BucketCount >= shard.Count, "every shard grew to at least one bucket per key");
    }

    [Fact]
    public async Task LockFreeReadersFindStableKeysWhileTheTableGrows()
    {
        var db = new Database(0);
        const int stable = 2_000, inserted = 200_000;
        for (int i = 0; i < stable; i++) Set(db, $"stable:{i}", $"s:{i}");
        int writerDone = 0;
        long lookups = 0;
        var writer = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < inserted; i++)
            {
                Set(db, $"new:{i}", "x");
                // Rewrite stable keys to the same value and churn neighbours, so chains are relinked under the readers.
                if (i % 3 == 0) Set(db, $"stable:{i % stable}", $"s:{i % stable}");
                if (i % 5 == 0) Remove(db, $"new:{i / 2}");
            }
            Volatile.Write(ref writerDone, 1);
        }, TaskCreationOptions.LongRunning);
        Task[] readers = Enumerable.Range(0, 2).Select(r => Task.Factory.StartNew(() =>
        {
            for (int n = 0; Volatile.Read(ref writerDone) == 0 || n < stable; n++)
            {
                int i = (int)(((long)n * 7919 + r) % stable);
                string? value = Get(db, $"stable:{i}");
                Assert.True(value == $"s:{i}", $"stable:{i} read as {value ?? "(missing)"} while the table grew");
                Interlocked.Increment(ref lookups);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll([writer, .. readers]);
        Assert.True(lookups >= 2 * stable);
        for (int i = 0; i < stable; i++) Assert.Equal($"s:{i}", Get(db, $"stable:{i}"));
        Assert.Equal(stable + inserted - inserted / 5, db.Count);
    }
}
