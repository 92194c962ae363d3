using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>The executable (socket completions inline on its socket threads) while a script loops.</summary>
public sealed partial class ExecutableTests
{
    /// <summary>
    /// A looping script never wedges the server: it runs off the socket threads, so every other connection — whichever
    /// socket thread serves it — is answered <c>-BUSY</c> past <c>busy-reply-threshold</c>; SHUTDOWN NOSAVE then exits.
    /// </summary>
    [Fact]
    public void ALoopingScriptLeavesEveryConnectionAnsweredAndShutdownNosaveExits()
    {
        using var server = ServerProcess.Start("--port", "0", "--busy-reply-threshold", "100");
        int port = server.WaitUntilReady();
        var others = Enumerable.Range(0, 16).Select(_ => new RespTestClient(port)).ToList();
        using var caller = new RespTestClient(port);
        try
        {
            caller.SendRaw(RespTestClient.Encode("EVAL", "redis.call('set', 'exe:w', '1') while true do end", "0"));
            others.AddRange(Enumerable.Range(0, 16).Select(_ => new RespTestClient(port)));
            foreach (RespTestClient c in others)
            {
                string reply = "";
                for (int i = 0; i < 250 && !reply.StartsWith("-BUSY", StringComparison.Ordinal); i++)
                {
                    reply = c.Call("PING");
                    if (!reply.StartsWith("-BUSY", StringComparison.Ordinal)) Thread.Sleep(20);
                }
                Assert.Equal("-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n", reply);
            }
            Assert.StartsWith("-UNKILLABLE", others[0].Call("SCRIPT", "KILL"));
            others[1].SendRaw(RespTestClient.Encode("SHUTDOWN", "NOSAVE"));
            Assert.Equal(0, server.WaitForExit());
        }
        finally
        {
            foreach (RespTestClient c in others) c.Dispose();
        }
    }
}
