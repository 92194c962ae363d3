using System.Diagnostics;
using System.Text.RegularExpressions;
using RespKv.Server;

namespace RespKv.Tests.Support;

/// <summary>Helpers of the multi-connection blocking tests (BLPOP…, BZPOPMIN…): sending without waiting, INFO's blocked_clients.</summary>
internal static class Blocking
{
    /// <summary>INFO <c>blocked_clients</c> as <paramref name="c"/> reads it.</summary>
    public static int BlockedClients(RespTestClient c) =>
        int.Parse(Regex.Match(c.Call("INFO", "clients"), @"blocked_clients:(\d+)").Groups[1].Value);

    /// <summary>Waits (at most 5 s) until INFO reports <paramref name="count"/> blocked clients.</summary>
    public static void WaitBlocked(RespTestClient c, int count)
    {
        var clock = Stopwatch.StartNew();
        while (BlockedClients(c) != count)
        {
            Assert.True(clock.ElapsedMilliseconds < 5000, $"blocked_clients never reached {count}");
            Thread.Sleep(5);
        }
    }

    /// <summary>Sends a command without reading its reply (a command that blocks).</summary>
    public static void Send(RespTestClient c, params string[] args) => c.SendRaw(RespTestClient.Encode(args));

    /// <summary>RESP2 array of bulk strings <paramref name="items"/> (a served BLPOP's [key, element], BZPOPMIN's [key, member, score]).</summary>
    public static string BulkArray(params string[] items) =>
        $"*{items.Length}\r\n" + string.Concat(items.Select(i => $"${i.Length}\r\n{i}\r\n"));

    /// <summary>
    /// Sends <paramref name="command"/> on <paramref name="waiter"/>, waits until it blocks (the only blocked client), runs
    /// <paramref name="write"/> (on another connection) and asserts the waiter's reply is <paramref name="expected"/>.
    /// </summary>
    public static void ServedAfter(RespTestClient waiter, RespTestClient other, string[] command, Action write, string expected)
    {
        Send(waiter, command);
        WaitBlocked(other, 1);
        write();
        Assert.Equal(expected, waiter.ReadReply());
    }

    /// <summary>A client blocked by <paramref name="command"/> that disconnects leaves no blocked client and no key queue behind.</summary>
    public static void DisconnectLeavesNothingBehind(RespKvHost host, RespTestClient other, params string[] command)
    {
        using (RespTestClient gone = new(host.Port))
        {
            Send(gone, command);
            WaitBlocked(other, 1);
        }
        WaitBlocked(other, 0);
        Assert.Equal(0, host.Server.BlockedClients.KeyCount);
    }

    /// <summary>
    /// CLIENT UNBLOCK on <paramref name="c"/> (whose CLIENT ID is <paramref name="id"/>): blocked by
    /// <paramref name="timeoutCommand"/> (CLIENT LIST shows flag <c>b</c> and the command), <c>TIMEOUT</c> answers a null
    /// array; blocked by <paramref name="errorCommand"/>, <c>ERROR</c> answers <c>-UNBLOCKED …</c>; nothing is left blocked.
    /// </summary>
    public static void ClientUnblockEndsBlocks(RespKvHost host, RespTestClient c, string id, RespTestClient admin, string[] timeoutCommand, string[] errorCommand)
    {
        Send(c, timeoutCommand);
        WaitBlocked(admin, 1);
        string list = admin.Call("CLIENT", "LIST", "ID", id);
        Assert.Contains(" flags=b ", list);
        Assert.Contains($" cmd={timeoutCommand[0].ToLowerInvariant()} ", list);
        Assert.Equal(":1\r\n", admin.Call("CLIENT", "UNBLOCK", id, "TIMEOUT"));
        Assert.Equal("*-1\r\n", c.ReadReply());
        WaitBlocked(admin, 0);
        Send(c, errorCommand);
        WaitBlocked(admin, 1);
        Assert.Equal(":1\r\n", admin.Call("CLIENT", "UNBLOCK", id, "ERROR"));
        Assert.Equal("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n", c.ReadReply());
        WaitBlocked(admin, 0);
        Assert.Equal(0, host.Server.BlockedClients.KeyCount);
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    /// <summary>Every file under <paramref name="dir"/> (the AOF's base and increments), concatenated as text.</summary>
    public static string AofText(string dir) =>
        string.Concat(Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(File.ReadAllText));
}
