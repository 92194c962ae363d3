using System.Diagnostics;

namespace RespKv.Ecosystem.Tests.Support;

/// <summary>Polling for an outcome that another process or host brings about asynchronously (a backplane message, a job run).</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task True(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"not within {timeout}: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Polls a synchronous <paramref name="condition"/>; see <see cref="True(Func{Task{bool}}, TimeSpan, string)"/>.</summary>
    public static Task True(Func<bool> condition, TimeSpan timeout, string what) => True(() => Task.FromResult(condition()), timeout, what);
}
