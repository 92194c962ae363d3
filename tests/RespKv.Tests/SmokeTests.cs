using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>End-to-end smoke checks through a real socket.</summary>
public sealed class SmokeTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public void SetGetRoundTripsAndConnectionSurvives()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("+OK\r\n", c.Call("SET", "smoke:k", "v"));
        Assert.Equal("$1\r\nv\r\n", c.Call("GET", "smoke:k"));
        Assert.Equal("$-1\r\n", c.Call("GET", "smoke:missing"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
