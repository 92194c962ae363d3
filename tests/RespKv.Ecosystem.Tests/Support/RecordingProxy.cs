using System.Net;
using System.Net.Sockets;

namespace RespKv.Ecosystem.Tests.Support;

/// <summary>
/// A TCP proxy on a free loopback port that forwards each connection to <c>127.0.0.1:target</c> and records the bytes each
/// way, to see what a client library sends and what a server answers (MONITOR shows neither admin commands nor replies).
/// </summary>
public sealed class RecordingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<Connection> _connections = [];
    private readonly CancellationTokenSource _stop = new();

    /// <summary>The bytes of one proxied connection: what the client sent, what the server answered.</summary>
    public sealed class Connection
    {
        /// <summary>Client to server.</summary>
        public MemoryStream Sent { get; } = new();

        /// <summary>Server to client.</summary>
        public MemoryStream Received { get; } = new();
    }

    /// <summary>Starts listening; connections are forwarded to <paramref name="target"/>.</summary>
    public RecordingProxy(int target)
    {
        _target = target;
        _listener.Start();
        _ = AcceptLoop();
    }

    /// <summary>The port clients connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>A snapshot of every connection's recorded bytes (sent, received), in accept order.</summary>
    public List<(byte[] Sent, byte[] Received)> Snapshot()
    {
        lock (_connections)
            return _connections.Select(c =>
            {
                lock (c) return (c.Sent.ToArray(), c.Received.ToArray());
            }).ToList();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var upstream = new TcpClient { NoDelay = true };
            await upstream.ConnectAsync(IPAddress.Loopback, _target);
            client.NoDelay = true;
            var connection = new Connection();
            lock (_connections) _connections.Add(connection);
            _ = Pump(client, upstream, connection, connection.Sent);
            _ = Pump(upstream, client, connection, connection.Received);
        }
    }

    private async Task Pump(TcpClient from, TcpClient to, Connection connection, MemoryStream record)
    {
        byte[] buffer = new byte[16384];
        try
        {
            NetworkStream input = from.GetStream(), output = to.GetStream();
            int n;
            while ((n = await input.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (connection) record.Write(buffer, 0, n);
                await output.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
