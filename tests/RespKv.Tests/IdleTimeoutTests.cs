using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>The <c>timeout</c> setting closes idle clients only; <c>port 0</c> reports the port it bound.</summary>
public sealed class IdleTimeoutTests
{
    [Fact]
    public async Task IdleClientIsClosedWhileActiveClientStays()
    {
        // 2 s, not 1: the active client's 200 ms cadence must stay well inside it even when a loaded test run delays it.
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.Timeout = 2);
        using var idle = new RespTestClient(host.Port);
        using var active = new RespTestClient(host.Port);
        Assert.Equal("+PONG\r\n", idle.Call("PING"));

        // Within 10 s the idle client must be dropped; the active one keeps talking every 200 ms.
        bool idleClosed = false;
        for (int i = 0; i < 50 && !idleClosed; i++)
        {
            Assert.Equal("+PONG\r\n", active.Call("PING"));
            await Task.Delay(200);
            idleClosed = host.Server.Clients.Count == 1;
        }
        Assert.True(idleClosed, "the idle client was not closed");
        Assert.True(idle.IsClosedByServer());
        Assert.Equal("+PONG\r\n", active.Call("PING"));
    }

    [Fact]
    public async Task TimeoutZeroNeverClosesAndConfigGetPortIsTheBoundPort()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var client = new RespTestClient(host.Port);
        string port = host.Port.ToString();
        Assert.Equal($"*2\r\n$4\r\nport\r\n${port.Length}\r\n{port}\r\n", client.Call("CONFIG", "GET", "port"));
        Assert.Equal("*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n", client.Call("CONFIG", "GET", "timeout"));
        Assert.Equal("+PONG\r\n", client.Call("PING"));
    }
}
