using System.Text;
using RespKv.Storage;

namespace RespKv.Tests;

/// <summary>
/// The hash structure itself (<see cref="SortedHash"/>): randomized operations against a sorted model with
/// the tree's invariants checked, immutability of old versions (copy-on-write), rank lookups, HSCAN cursor
/// encoding, and the cost of a prefix seek measured in tree nodes entered (not time).
/// </summary>
public sealed class SortedHashTests
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static byte[] B(string s) => Latin1.GetBytes(s);

    private static string S(ReadOnlySpan<byte> b) => Latin1.GetString(b);

    /// <summary>Collects every visited pair.</summary>
    private struct Collect : IHashVisitor
    {
        public List<KeyValuePair<string, string>> Items;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Items.Add(new(S(field), S(value)));
            return true;
        }
    }

    private static List<KeyValuePair<string, string>> All(SortedHash hash)
    {
        var c = new Collect { Items = [] };
        hash.ForEach(ref c);
        return c.Items;
    }

    [Fact]
    public void RandomOperationsMatchASortedModel()
    {
        var random = new Random(12345);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal); // ordinal over Latin-1 = unsigned byte order
        SortedHash hash = SortedHash.Empty;
        for (int step = 0; step < 40_000; step++)
        {
            // Fields share prefixes and include bytes above 0x7F, so unsigned order matters.
            string field = random.Next(4) switch
            {
                0 => "f" + random.Next(3000),
                1 => "\u00ff" + random.Next(500),
                2 => "f" + random.Next(300) + ":" + new string('x', random.Next(40)),
                _ => random.Next(2) == 0 ? "" : "\u0080",
            };
            if (random.Next(10) < 6)
            {
                string value = new('v', random.Next(0, random.Next(20) == 0 ? 3000 : 30));
                hash = hash.Set(B(field), B(value), out bool added);
                Assert.Equal(!model.ContainsKey(field), added);
                model[field] = value;
            }
            else
            {
                hash = hash.Remove(B(field), out bool removed);
                Assert.Equal(model.Remove(field), removed);
            }
            Assert.Equal(model.Count, hash.Count);
            if (step % 500 == 0)
            {
                hash.CheckInvariants();
                Assert.Equal(model.ToList(), All(hash));
            }
        }
        hash.CheckInvariants();
        Assert.Equal(model.ToList(), All(hash));
        Assert.True(hash.Depth >= 2, "the test must exercise inner nodes");
        foreach (string f in model.Keys.ToList()) hash = hash.Remove(B(f), out _);
        Assert.Equal(0, hash.Count);
        Assert.Equal(0, hash.Bytes);
        hash.CheckInvariants();
    }

    /// <summary>
    /// Inner nodes route a descent on 8-byte words after their separators' common prefix: fields that share long prefixes,
    /// end inside a route word, hold zero bytes (where zero-padding ties) or leave the prefix on either side are all found,
    /// and absent ones are not.
    /// </summary>
    [Fact]
    public void RoutedDescentFindsFieldsAroundLongCommonPrefixes()
    {
        var random = new Random(7);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        SortedHash hash = SortedHash.Empty;
        string Field() => random.Next(5) switch
        {
            0 => "element:00000000" + random.Next(20_000).ToString("D6"),
            1 => "element:00000000" + random.Next(200).ToString("D3") + new string('\0', random.Next(12)),
            2 => "element:" + new string('0', random.Next(14)),
            3 => "elem" + (char)random.Next(256),
            _ => new string((char)random.Next(0x60, 0x70), random.Next(1, 3)),
        };
        for (int i = 0; i < 30_000; i++)
        {
            string field = Field();
            hash = hash.Set(B(field), B("v" + i), out bool added);
            Assert.Equal(!model.ContainsKey(field), added);
            model[field] = "v" + i;
        }
        hash.CheckInvariants();
        Assert.True(hash.Depth >= 3, "the test must exercise inner nodes below the root");
        foreach ((string field, string value) in model)
        {
            Assert.True(hash.TryGet(B(field), out ReadOnlySpan<byte> found), field);
            Assert.Equal(value, Encoding.Latin1.GetString(found));
        }
        for (int i = 0; i < 20_000; i++)
        {
            string probe = Field() + (random.Next(2) == 0 ? "" : "\0");
            Assert.Equal(model.ContainsKey(probe), hash.TryGet(B(probe), out _));
        }
    }

    [Fact]
    public void OldVersionsNeverChange()
    {
        SortedHash v1 = SortedHash.Empty;
        for (int i = 0; i < 5000; i++) v1 = v1.Set(B($"k{i:D5}"), B($"v{i}"), out _);
        List<KeyValuePair<string, string>> before = All(v1);
        SortedHash v2 = v1;
        for (int i = 0; i < 5000; i += 3) v2 = v2.Remove(B($"k{i:D5}"), out _);
        for (int i = 0; i < 5000; i += 7) v2 = v2.Set(B($"k{i:D5}"), B("changed"), out _);
        Assert.Equal(before, All(v1));
        Assert.Equal(5000, v1.Count);
        v1.CheckInvariants();
        v2.CheckInvariants();
        Assert.True(v1.TryGet(B("k00003"), out ReadOnlySpan<byte> value));
        Assert.Equal("v3", S(value));
        Assert.False(v2.Contains(B("k00003")));
    }

    /// <summary>
    /// In-place writes (<see cref="SortedHash.Put"/>, <see cref="SortedHash.Delete"/>) interleaved with snapshots and
    /// persistent operations: every snapshot and every persistent version keeps exactly the fields it had when taken, however
    /// the live hash changes afterwards (the ownership bits never let a write reach a shared node), and the live hash matches
    /// its model throughout.
    /// </summary>
    [Fact]
    public void InPlaceWritesNeverReachASnapshot()
    {
        var random = new Random(2026);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        SortedHash live = SortedHash.CreateEmpty();
        var frozen = new List<(SortedHash Hash, List<KeyValuePair<string, string>> Expected)>();
        for (int step = 0; step < 60_000; step++)
        {
            string field = random.Next(3) switch
            {
                0 => "f" + random.Next(4000),
                1 => "\u00ff" + random.Next(400),
                _ => "f" + random.Next(300) + ":" + new string('x', random.Next(30)),
            };
            int op = random.Next(100);
            if (op < 55)
            {
                string value = new((char)('a' + random.Next(26)), random.Next(0, random.Next(40) == 0 ? 2000 : 12));
                Assert.Equal(!model.ContainsKey(field), live.Put(B(field), B(value)));
                model[field] = value;
            }
            else if (op < 95) Assert.Equal(model.Remove(field), live.Delete(B(field)));
            else if (op < 98)
            {
                // A persistent write: the live hash is left as it was, and the result becomes the live one.
                SortedHash before = live;
                List<KeyValuePair<string, string>> expected = model.ToList();
                if (random.Next(2) == 0)
                {
                    live = live.Set(B(field), B("p"), out _);
                    model[field] = "p";
                }
                else
                {
                    live = live.Remove(B(field), out _);
                    model.Remove(field);
                }
                // (Removing an absent field returns the same instance, which is still the live one.)
                if (!ReferenceEquals(before, live)) frozen.Add((before, expected));
            }
            else frozen.Add((live.Snapshot(), model.ToList()));
            Assert.Equal(model.Count, live.Count);
            if (step % 2000 == 0)
            {
                live.CheckInvariants();
                Assert.Equal(model.ToList(), All(live));
            }
        }
        live.CheckInvariants();
        Assert.Equal(model.ToList(), All(live));
        Assert.True(live.Depth >= 2, "the test must exercise inner nodes");
        Assert.True(frozen.Count > 1000);
        foreach ((SortedHash hash, List<KeyValuePair<string, string>> expected) in frozen)
        {
            hash.CheckInvariants();
            Assert.Equal(expected, All(hash));
        }
    }

    /// <summary>
    /// A write to an owned leaf with room allocates nothing: overwriting values (same or another length) and inserting and
    /// deleting fields in a 100,000-field hash allocate, on average, far less than one leaf (1 KB) per write — the
    /// copy-on-write path allocated a leaf and every inner node on the path for each.
    /// </summary>
    [Fact]
    public void InPlaceWritesAllocateAlmostNothing()
    {
        SortedHash hash = SortedHash.CreateEmpty();
        for (int i = 0; i < 100_000; i++) hash.Put(B($"element:{i * 2:D7}"), B("v"));
        byte[][] fields = Enumerable.Range(0, 20_000).Select(i => B($"element:{(i * 7919) % 200_000:D7}")).ToArray();
        byte[] small = B("w"), longer = B("value-longer");
        foreach (byte[] f in fields.Take(100)) hash.Put(f, small); // warm the pool and the JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (byte[] f in fields)
        {
            hash.Put(f, small);
            hash.Put(f, longer);
            hash.Delete(f);
            hash.Put(f, small);
        }
        long perWrite = (GC.GetAllocatedBytesForCurrentThread() - before) / (4L * fields.Length);
        hash.CheckInvariants();
        Assert.True(perWrite < 64, $"{perWrite} bytes allocated per write");
    }

    [Fact]
    public void ElementAtFollowsFieldOrder()
    {
        SortedHash hash = SortedHash.Empty;
        for (int i = 9999; i >= 0; i--) hash = hash.Set(B($"r{i:D5}"), B(i.ToString()), out _);
        for (int rank = 0; rank < 10_000; rank += 37)
        {
            hash.ElementAt(rank, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value);
            Assert.Equal($"r{rank:D5}", S(field));
            Assert.Equal(rank.ToString(), S(value));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => hash.ElementAt(10_000, out _, out _));
    }

    [Fact]
    public void BytesCountFieldsAndValuesIncrementally()
    {
        SortedHash hash = SortedHash.Empty.Set(B("abc"), B("12345"), out _);
        Assert.Equal(8, hash.Bytes);
        hash = hash.Set(B("abc"), B("1"), out bool added);
        Assert.False(added);
        Assert.Equal(4, hash.Bytes);
        hash = hash.Set(B("d"), B(""), out _);
        Assert.Equal(5, hash.Bytes);
        hash = hash.Remove(B("abc"), out _);
        Assert.Equal(1, hash.Bytes);
        Assert.Same(hash, hash.Remove(B("missing"), out bool removed));
        Assert.False(removed);
    }

    [Fact]
    public void IsSmallFollowsRedisListpackLimits()
    {
        SortedHash hash = SortedHash.Empty;
        for (int i = 0; i < 512; i++) hash = hash.Set(B($"f{i}"), B("v"), out _);
        Assert.True(hash.IsSmall); // Redis 7.0's hash-max-listpack-entries is 512
        Assert.Equal(SortedHash.SmallMaxFields, hash.Count);
        Assert.False(hash.Set(B("f999"), B("v"), out _).IsSmall);
        Assert.False(hash.Set(B("f1"), new byte[65], out _).IsSmall);
        Assert.True(hash.Set(B("f1"), new byte[64], out _).IsSmall);
        Assert.False(hash.Set(B("f1"), new byte[65], out _).Remove(B("f1"), out _).IsSmall); // never converts back, like Redis
    }

    /// <summary>Counts the fields a prefix scan examines, stopping at the first field past the prefix (as HSCAN does).</summary>
    private struct PrefixCounter(byte[] prefix) : IHashVisitor
    {
        public int Examined;
        public int Matched;

        public bool Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            Examined++;
            if (!field.StartsWith(prefix)) return false;
            Matched++;
            return true;
        }
    }

    [Fact]
    public void PrefixSeekCostsLogNPlusMatchesOnAMillionFields()
    {
        SortedHash hash = SortedHash.Empty;
        for (int i = 0; i < 1_000_000; i++) hash = hash.Set(B($"user:{i % 1000}:{i:D7}"), B("0123456789"), out _);
        Assert.Equal(1_000_000, hash.Count);
        int depth = hash.Depth;
        Assert.InRange(depth, 3, 6);

        byte[] prefix = B("user:42:");
        var counter = new PrefixCounter(prefix);
        int nodes = hash.ForEachFrom(prefix, exclusive: false, ref counter);
        Assert.Equal(1000, counter.Matched);
        Assert.Equal(1001, counter.Examined); // the matches and the one field that ends the range
        // Leaves hold at least MinLeafBytes of entries (~30 bytes each here), so 1,000 matches span a bounded
        // number of leaves; a full scan would enter ~20,000 leaves.
        int leavesForMatches = 1000 * 40 / SortedHash.MinLeafBytes + 2;
        Assert.True(nodes <= depth + 2 * leavesForMatches, $"prefix scan entered {nodes} nodes (depth {depth})");

        // A resumed scan (strictly after a field) costs the same seek.
        var resumed = new PrefixCounter(prefix);
        hash.ForEachFrom(B("user:42:0000042"), exclusive: true, ref resumed);
        Assert.Equal(999, resumed.Matched);
    }

    [Fact]
    public void CursorsEncodeShortFieldsInlineAndSaveLongOnes()
    {
        HashScanCursors cursors = HashScanCursors.Shared;
        Span<byte> buffer = stackalloc byte[HashScanCursors.MaxInlineLength];
        foreach (string f in new[] { "", "a", "\u00ff\u0000\u00ff", "123456", "\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff" })
        {
            ulong c = cursors.Save(B(f));
            Assert.NotEqual(0UL, c);
            Assert.True(c <= (1UL << 53) - 1, $"cursor {c} is not exact as a JavaScript number"); // node-redis parses cursors with Number()
            Assert.Equal(c, (ulong)(double)c);
            Assert.True(cursors.TryResolve(c, buffer, out ReadOnlySpan<byte> back));
            Assert.Equal(f, S(back));
        }
        ulong saved = cursors.Save(B("1234567"));
        Assert.True(saved < HashScanCursors.InlineFlag);
        Assert.True(cursors.TryResolve(saved, buffer, out ReadOnlySpan<byte> field));
        Assert.Equal("1234567", S(field));
        Assert.NotEqual(saved, cursors.Save(B("1234567"))); // ids are never reused
        Assert.False(cursors.TryResolve(1UL << 63, buffer, out _));
        Assert.False(cursors.TryResolve(1UL << 53, buffer, out _));
        Assert.False(cursors.TryResolve(HashScanCursors.InlineFlag | (7UL << 48), buffer, out _)); // length 7 is never inline
        Assert.False(cursors.TryResolve(HashScanCursors.InlineFlag | (1UL << 48) | 1, buffer, out _)); // non-canonical
    }

    [Fact]
    public void RegistryForgetsTheOldestBeyondItsCapacity()
    {
        var cursors = new HashScanCursors();
        Span<byte> buffer = stackalloc byte[HashScanCursors.MaxInlineLength];
        ulong first = cursors.Save(B("a long field 0"));
        for (int i = 1; i <= HashScanCursors.Capacity; i++) cursors.Save(B($"a long field {i}"));
        Assert.Equal(HashScanCursors.Capacity, cursors.SavedCount);
        Assert.False(cursors.TryResolve(first, buffer, out _));
        Assert.True(cursors.TryResolve(first + 1, buffer, out ReadOnlySpan<byte> second));
        Assert.Equal("a long field 1", S(second));
    }
}
