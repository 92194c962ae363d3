using RespKv.Storage;

namespace RespKv.Tests.Expiry;

/// <summary>Runs alone: it measures the live managed heap, which other tests' allocations would disturb.</summary>
[CollectionDefinition(nameof(MemoryEstimateCollection), DisableParallelization = true)]
public sealed class MemoryEstimateCollection;

/// <summary>
/// The memory estimate (INFO <c>used_memory</c>, what maxmemory is checked against) follows the live managed heap the
/// data takes: within 10% for strings and hashes, and back to the empty tables' size after deletes and FLUSHDB.
/// (The RSS comparison of the issue — 1,000,000 100-byte keys, estimate 232 MB, RSS growth 280 MB — is in the README.)
/// </summary>
[Collection(nameof(MemoryEstimateCollection))]
public sealed class MemoryEstimateTests
{
    private static long LiveHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Theory]
    [InlineData(300_000, 100, false)]
    [InlineData(300_000, 10, false)]
    [InlineData(20_000, 0, true)]
    public void EstimateTracksTheLiveHeap(int keys, int valueSize, bool hashes)
    {
        // The heap is the whole process's: a server another test class disposed just before (its connections' buffers
        // released while this one loads) can move it. A wrong estimate misses on every attempt; interference does not.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                MeasureOnce(keys, valueSize, hashes);
                return;
            }
            catch (Xunit.Sdk.InRangeException) when (attempt < 3)
            {
            }
        }
    }

    private static void MeasureOnce(int keys, int valueSize, bool hashes)
    {
        var db = new Database(0);
        long emptyEstimate = db.MemoryBytes;
        long heapBefore = LiveHeap();
        byte[] value = new byte[valueSize];
        for (int i = 0; i < keys; i++)
        {
            byte[] key = System.Text.Encoding.ASCII.GetBytes($"mem:{i:D9}");
            using (db.LockKey(key, out KeySlot slot))
            {
                object stored = value.ToArray();
                if (hashes)
                {
                    SortedHash h = SortedHash.Empty;
                    for (int f = 0; f < 20; f++) h = h.Set(System.Text.Encoding.ASCII.GetBytes($"field:{f}"), new byte[20], out _);
                    stored = h;
                }
                db.Set(slot, key, stored, i % 2 == 0 ? 0 : 32503680000000);
            }
        }
        long heapGrowth = LiveHeap() - heapBefore;
        long estimate = db.MemoryBytes - emptyEstimate;
        Assert.InRange((double)estimate / heapGrowth, 0.9, 1.1);
        Assert.Equal(keys / 2, db.VolatileCount);

        for (int i = 0; i < keys; i += 2)
        {
            byte[] key = System.Text.Encoding.ASCII.GetBytes($"mem:{i:D9}");
            using (db.LockKey(key)) db.Remove(key);
        }
        Assert.Equal(keys / 2, db.VolatileCount);
        Assert.InRange((double)(db.MemoryBytes - emptyEstimate) / estimate, 0.4, 0.6);
        db.Flush();
        Assert.Equal(emptyEstimate, db.MemoryBytes);
        Assert.Equal(0, db.VolatileCount);
        GC.KeepAlive(db);
    }
}
