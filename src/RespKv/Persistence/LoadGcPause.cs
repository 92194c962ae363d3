namespace RespKv.Persistence;

/// <summary>
/// A no-GC region around a bulk load (the AOF replay, an RDB file at start-up, DEBUG RELOAD or a replica's full sync).
/// Nearly everything a load allocates stays alive (keys, values, entries), so the collections it would trigger only copy
/// survivors between generations — a third of the load time measured on a 1,000,000-key AOF. The region is sized from
/// the files (a multiple of their bytes, capped at <see cref="MaxBytes"/>); beyond that the runtime ends it with one
/// collection and the load continues as usual. Process-wide: a load already inside a region (an AOF's RDB preamble)
/// starts none of its own.
/// </summary>
internal static class LoadGcPause
{
    /// <summary>Largest no-GC region asked for, in bytes (256 MB).</summary>
    internal const long MaxBytes = 256L << 20;

    /// <summary>Smallest load worth a region, in bytes of budget (16 MB): below it collections cost little.</summary>
    private const long MinBytes = 16L << 20;

    /// <summary>
    /// Starts a region of <paramref name="fileBytes"/> × <paramref name="ratio"/> bytes (capped); true when one started,
    /// false when the budget is too small, the runtime refuses it, or a region is already active.
    /// </summary>
    public static bool Suspend(long fileBytes, double ratio)
    {
        long budget = (long)Math.Min(MaxBytes, fileBytes * ratio);
        if (budget < MinBytes || System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) return false;
        try
        {
            return GC.TryStartNoGCRegion(budget);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
        {
            return false; // larger than this runtime allows, or already in one
        }
    }

    /// <summary>Ends the region <see cref="Suspend"/> started, unless its budget already ended it.</summary>
    public static void Resume()
    {
        try
        {
            if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // The region already ended (its budget was exceeded): nothing to undo.
        }
    }
}
