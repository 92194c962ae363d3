using System.Net;
using System.Net.Sockets;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// <see cref="RespKvHost.StartNewAsync"/>, the entry point of the RespKv package for integration tests: a free port on
/// 127.0.0.1, a temporary data directory removed on dispose, <see cref="RespKvHost.EndPoint"/> and
/// <see cref="RespKvHost.ConnectionString"/>.
/// </summary>
public sealed class InProcessHostTests
{
    [Fact]
    public async Task StartNewAsyncServesOnAFreeLoopbackPortAndCleansUp()
    {
        string dir;
        int port;
        await using (RespKvHost host = await RespKvHost.StartNewAsync())
        {
            port = host.Port;
            Assert.NotEqual(0, port);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), host.EndPoint);
            Assert.Equal($"127.0.0.1:{port}", host.ConnectionString);
            dir = host.Server.Options.Dir;
            Assert.True(Directory.Exists(dir));
            Assert.StartsWith(Path.GetTempPath().TrimEnd('/'), dir);
            using var c = new RespTestClient(port);
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            Assert.Equal("+OK\r\n", c.Call("SET", "k", "v"));
            Assert.Equal($"*2\r\n$4\r\nport\r\n${port.ToString().Length}\r\n{port}\r\n", c.Call("CONFIG", "GET", "port"));
            Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", c.Call("CONFIG", "GET", "appendonly"));
        }
        Assert.False(Directory.Exists(dir));
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Throws<SocketException>(() => probe.Connect(IPAddress.Loopback, port)); // stopped: nothing listens
    }

    [Fact]
    public async Task StartNewAsyncAppliesOptionsAndTwoServersAreIndependent()
    {
        await using RespKvHost a = await RespKvHost.StartNewAsync(o => o.Databases = 4);
        await using RespKvHost b = await RespKvHost.StartNewAsync(o => o.RequirePass = "secret");
        Assert.NotEqual(a.Port, b.Port);
        using var ca = new RespTestClient(a.Port);
        using var cb = new RespTestClient(b.Port);
        Assert.Equal("-ERR DB index is out of range\r\n", ca.Call("SELECT", "4"));
        Assert.Equal("-NOAUTH Authentication required.\r\n", cb.Call("GET", "k"));
        Assert.Equal("+OK\r\n", cb.Call("AUTH", "secret"));
        Assert.Equal("+OK\r\n", ca.Call("SET", "k", "a"));
        Assert.Equal("$-1\r\n", cb.Call("GET", "k"));
    }
}
