using System.Net;
using System.Net.Sockets;
using System.Text;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The three transports (<see cref="TransportKind"/>, issue 19 point 4) serve the same protocol: a pipelined batch, replies
/// larger than one pipe buffer, a server-side close, a peer that disconnects (also while blocked), a taken port, and the
/// <c>RESPKV_TRANSPORT</c> values.
/// </summary>
public sealed class TransportTests
{
    public static TheoryData<TransportKind> Kinds => new() { TransportKind.Kestrel, TransportKind.PipelinesSockets, TransportKind.SocketLoop };

    private static async Task<RespKvHost> Start(TransportKind kind, Action<ServerOptions>? configure = null)
    {
        var options = new ServerOptions { Port = 0, Save = "" };
        configure?.Invoke(options);
        RespKvHost host = RespKvHost.Create(options, kind);
        await host.StartAsync();
        return host;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task PipelinedBatchAndLargeValuesRoundTrip(TransportKind kind)
    {
        await using RespKvHost host = await Start(kind);
        using var c = new RespTestClient(host.Port);
        // 5,000 commands in one write: several receives and several flushes of replies.
        var batch = new MemoryStream();
        for (int i = 0; i < 5000; i++) batch.Write(RespTestClient.Encode("SET", $"k{i}", $"v{i}"));
        for (int i = 0; i < 5000; i++) batch.Write(RespTestClient.Encode("GET", $"k{i}"));
        c.SendRaw(batch.ToArray());
        for (int i = 0; i < 5000; i++) Assert.Equal("+OK\r\n", c.ReadReply());
        for (int i = 0; i < 5000; i++) Assert.Equal($"${$"v{i}".Length}\r\nv{i}\r\n", c.ReadReply());
        // A 3 MB value: received across many buffers, sent back from several pipe segments (a gather send).
        string big = new('x', 3 << 20);
        Assert.Equal("+OK\r\n", c.Call("SET", "big", big));
        Assert.Equal($"${big.Length}\r\n{big}\r\n", c.Call("GET", "big"));
        Assert.Equal(":5001\r\n", c.Call("DBSIZE"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task QuitClosesAndDisconnectsLeaveNothingBehind(TransportKind kind)
    {
        await using RespKvHost host = await Start(kind);
        using var admin = new RespTestClient(host.Port);
        using (var quitting = new RespTestClient(host.Port))
        {
            Assert.Equal("+OK\r\n", quitting.Call("QUIT"));
            Assert.True(quitting.IsClosedByServer());
        }
        var blocked = new RespTestClient(host.Port);
        Blocking.Send(blocked, "BLPOP", "nothing", "0");
        Blocking.WaitBlocked(admin, 1);
        blocked.Dispose(); // disconnects while blocked
        var plain = new RespTestClient(host.Port);
        Assert.Equal("+PONG\r\n", plain.Call("PING"));
        plain.Dispose();
        // Only the admin connection stays: the server noticed both disconnects.
        for (int i = 0; i < 200 && host.Server.Clients.Count > 1; i++) await Task.Delay(25);
        Assert.Equal(1, host.Server.Clients.Count);
        Assert.Equal(0, Blocking.BlockedClients(admin));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AClientThatHalfClosesGetsEveryReply(TransportKind kind)
    {
        await using RespKvHost host = await Start(kind);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, host.Port);
        // As `printf … | nc -N host port`: the commands, then the end of the client's side; redis-server answers them all.
        var requests = new MemoryStream();
        requests.Write(RespTestClient.Encode("SET", "k", "v"));
        for (int i = 0; i < 2000; i++) requests.Write(RespTestClient.Encode("GET", "k"));
        socket.Send(requests.ToArray());
        socket.Shutdown(SocketShutdown.Send);
        var replies = new MemoryStream();
        byte[] chunk = new byte[65536];
        socket.ReceiveTimeout = 10_000;
        int n;
        while ((n = socket.Receive(chunk)) > 0) replies.Write(chunk, 0, n);
        Assert.Equal("+OK\r\n" + string.Concat(Enumerable.Repeat("$1\r\nv\r\n", 2000)), Encoding.ASCII.GetString(replies.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AClientThatStopsReadingIsClosedAtItsOutputLimit(TransportKind kind)
    {
        await using RespKvHost host = await Start(kind);
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0"));
        Assert.Equal("+OK\r\n", admin.Call("SET", "v", new string('y', 100_000)));
        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        slow.Connect(IPAddress.Loopback, host.Port);
        byte[] get = RespTestClient.Encode("GET", "v");
        // Asks for 50 MB of replies and reads none of them: the server must close the connection, not buffer them.
        var requests = new MemoryStream();
        for (int i = 0; i < 500; i++) requests.Write(get);
        slow.Send(requests.ToArray());
        // Accepted (counted) first — until then the client count is 1 without any close — then closed.
        for (int i = 0; i < 400 && host.Server.Stats.ConnectionsReceived < 2; i++) await Task.Delay(25);
        Assert.Equal(2, host.Server.Stats.ConnectionsReceived);
        for (int i = 0; i < 400 && host.Server.Clients.Count > 1; i++) await Task.Delay(25);
        Assert.Equal(1, host.Server.Clients.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ATakenPortFailsStartUpAlike(TransportKind kind)
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        RespKvHost host = RespKvHost.Create(new ServerOptions { Port = port, Bind = ["127.0.0.1"], Save = "" }, kind);
        IOException e = await Assert.ThrowsAsync<IOException>(() => host.StartAsync());
        Assert.Contains("address already in use", e.Message);
        await host.DisposeAsync();
    }

    [Fact]
    public void TheEnvironmentVariableNamesATransportOrFails()
    {
        Assert.Equal(TransportKind.Kestrel, TransportSelection.Parse(null));
        Assert.Equal(TransportKind.Kestrel, TransportSelection.Parse(""));
        Assert.Equal(TransportKind.Kestrel, TransportSelection.Parse("Kestrel"));
        Assert.Equal(TransportKind.PipelinesSockets, TransportSelection.Parse("pipelines-sockets"));
        Assert.Equal(TransportKind.SocketLoop, TransportSelection.Parse(" socket-loop "));
        var e = Assert.Throws<ArgumentException>(() => TransportSelection.Parse("epoll"));
        Assert.Contains("RESPKV_TRANSPORT", e.Message);
    }
}
