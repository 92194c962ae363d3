using System.Diagnostics;
using RespKv.Tests.Persistence;
using Xunit.Abstractions;

namespace RespKv.Tests.Support;

/// <summary>A fresh reference redis-server (7.0.15 here) for differential tests, when it is installed.</summary>
internal static class ReferenceRedis
{
    private static readonly string? RedisServer = AofTestSupport.FindTool("redis-server");

    /// <summary>
    /// Runs <paramref name="test"/> with a client of a fresh redis-server (no persistence) and stops it after; when
    /// redis-server is not installed, writes <c>SKIPPED: …</c> to <paramref name="output"/> and returns false.
    /// </summary>
    public static bool Run(ITestOutputHelper output, Action<RespTestClient> test) => Run(output, [], test);

    /// <summary><see cref="Run(ITestOutputHelper, Action{RespTestClient})"/> with <paramref name="extra"/> redis-server options (e.g. <c>--enable-debug-command yes</c>).</summary>
    public static bool Run(ITestOutputHelper output, string[] extra, Action<RespTestClient> test)
    {
        if (RedisServer == null)
        {
            output.WriteLine("SKIPPED: redis-server is not installed");
            return false;
        }
        using var dir = new TempDir();
        (Process redis, int port) = AofTestSupport.StartRedis(RedisServer, dir.Path, ["--appendonly", "no", .. extra]);
        try
        {
            using var c = new RespTestClient(port);
            test(c);
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
        return true;
    }
}
