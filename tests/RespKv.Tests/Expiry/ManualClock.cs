namespace RespKv.Tests.Expiry;

/// <summary>A clock the test moves by hand (for <c>KeyLifetime.Clock</c>): starts at a fixed Unix time.</summary>
internal sealed class ManualClock(long startUnixMs) : TimeProvider
{
    private long _nowMs = startUnixMs;

    /// <summary>Now, Unix ms.</summary>
    public long NowMs => Interlocked.Read(ref _nowMs);

    /// <summary>Moves the clock forward by <paramref name="ms"/>.</summary>
    public void Advance(long ms) => Interlocked.Add(ref _nowMs, ms);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(NowMs);
}
