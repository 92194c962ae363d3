namespace RespKv.Tests.Support;

/// <summary>
/// Whole HSCAN/SSCAN/ZSCAN iterations and the exactly-once check under concurrent writes that the hash, set and
/// sorted-set tests share (RespKv's cursor promise: an element present for the whole scan is returned exactly once).
/// </summary>
internal static class KeyScans
{
    /// <summary>
    /// Runs <c>command key cursor options…</c> from cursor 0 until it returns 0; returns the names returned (every
    /// <paramref name="stride"/>-th element: 2 for HSCAN/ZSCAN's name/value pairs, 1 for SSCAN), in order, and the call count.
    /// Each cursor must fit a signed 64-bit integer, as Redis's clients parse it.
    /// </summary>
    public static (List<string> Names, int Calls) ScanAll(RespTestClient c, string command, string key, int stride, params string[] options)
    {
        var names = new List<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            string raw = c.Call([command, key, cursor, .. options]);
            Assert.StartsWith("*2\r\n", raw);
            List<string> reply = Replies.Bulks(raw);
            cursor = reply[0];
            Assert.True(long.TryParse(cursor, out long asLong) && asLong >= 0, $"cursor {cursor} must fit a signed 64-bit integer");
            for (int i = 1; i < reply.Count; i += stride) names.Add(reply[i]);
            calls++;
        } while (cursor != "0");
        return (names, calls);
    }

    /// <summary>
    /// Runs <paramref name="scan"/> while another connection (from <paramref name="connect"/>) calls
    /// <paramref name="mutate"/>(connection, random, i) for random i below <paramref name="stable"/> until the scan ends;
    /// then asserts that more than 100 mutations ran, that nothing was returned twice, and that each of the stable names
    /// <c>s:000000</c>… (loaded before) was returned. Each mutation must answer an integer.
    /// </summary>
    public static async Task AssertStableNamesReturnedExactlyOnce(Func<RespTestClient> connect, Func<List<string>> scan, int stable,
        int seed, Func<RespTestClient, Random, int, string> mutate)
    {
        using var done = new CancellationTokenSource();
        long mutations = 0;
        Task mutator = Task.Factory.StartNew(() =>
        {
            using RespTestClient m = connect();
            var random = new Random(seed);
            while (!done.IsCancellationRequested)
            {
                Assert.StartsWith(":", mutate(m, random, random.Next(stable)));
                mutations++;
            }
        }, TaskCreationOptions.LongRunning); // a dedicated thread: never starved by blocking test loops
        List<string> seen;
        try
        {
            seen = scan();
        }
        finally
        {
            done.Cancel();
            await mutator;
        }
        Assert.True(mutations > 100, $"only {mutations} concurrent mutations");
        var counts = new Dictionary<string, int>();
        foreach (string name in seen) counts[name] = counts.GetValueOrDefault(name) + 1;
        Assert.All(counts, kv => Assert.Equal(1, kv.Value)); // nothing returned twice
        for (int i = 0; i < stable; i++) Assert.True(counts.ContainsKey($"s:{i:D6}"), $"s:{i:D6} was never returned");
    }
}
