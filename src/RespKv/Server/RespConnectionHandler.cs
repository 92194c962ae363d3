using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace RespKv.Server;

/// <summary>
/// Kestrel's entry point for a RESP connection: registers a <see cref="ClientSession"/> and runs it over
/// the connection's <see cref="System.IO.Pipelines.IDuplexPipe"/>. Refuses clients beyond
/// <c>maxclients</c> with Redis's <c>-ERR max number of clients reached</c>, and, in protected mode without a
/// password, clients from non-loopback addresses with Redis's <c>-DENIED …</c> (<see cref="ProtectedModeError"/>).
/// </summary>
public sealed class RespConnectionHandler(RespServer server) : ConnectionHandler
{
    /// <summary>Redis 7.0's protected-mode refusal (networking.c <c>clientAcceptHandler</c>), without the leading <c>-</c>.</summary>
    public const string ProtectedModeError =
        "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. " +
        "If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
        "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
        "4) Setup a an authentication password for the default user. " +
        "NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var client = new ClientSession(server, connection.Transport.Output,
            connection.RemoteEndPoint?.ToString() ?? "", connection.LocalEndPoint?.ToString() ?? "");
        // Checked in Redis's order: maxclients (acceptCommonHandler), then protected mode (clientAcceptHandler).
        string? refusal = server.Clients.Count >= server.Options.MaxClients ? "ERR max number of clients reached"
            : IsProtectedFrom(connection.RemoteEndPoint) ? ProtectedModeError : null;
        if (refusal != null)
        {
            server.Stats.ConnectionRejected();
            client.Writer.WriteError(refusal);
            client.Writer.Commit();
            await connection.Transport.Output.FlushAsync();
            await connection.Transport.Output.CompleteAsync();
            await DrainBriefly(connection);
            return;
        }
        server.Stats.ConnectionAccepted();
        server.Clients.Add(client);
        server.Logger.LogDebug("Accepted {Address} id={Id}", client.RemoteAddress, client.Id);
        // Kestrel's graceful stop (SIGTERM, SHUTDOWN) only signals ConnectionClosedRequested: stop on it, or an idle client
        // would hold the stop until the host's 30 s shutdown timeout. ConnectionClosed (the peer's side ended) is not a
        // stop: a client that sends its commands and then half-closes (`nc -N`) still gets every reply, as from Redis —
        // its input completes after the buffered commands; only a wait that does not read (CLIENT PAUSE) watches it.
        CancellationToken closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        try
        {
            await client.RunAsync(connection.Transport, closing, connection.ConnectionClosed);
        }
        finally
        {
            server.Clients.Remove(client, server.Stats);
        }
    }

    /// <summary>
    /// After a refusal: reads and discards what the peer already sent, for at most 1 s or until it closes, so the
    /// socket is not closed with unread input (which would make the kernel send a reset that can destroy the
    /// refusal before the peer reads it).
    /// </summary>
    private static async Task DrainBriefly(ConnectionContext connection)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            while (true)
            {
                System.IO.Pipelines.ReadResult read = await connection.Transport.Input.ReadAsync(timeout.Token);
                connection.Transport.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The peer went away or stayed: either way the connection closes now.
        }
    }

    /// <summary>
    /// True when protected mode refuses <paramref name="remote"/>: <c>protected-mode yes</c>, no <c>requirepass</c>,
    /// and a peer that is not a loopback address (127.0.0.0/8, ::1, or IPv4-mapped loopback). Connections without
    /// an IP peer (in-memory transports) are local.
    /// </summary>
    private bool IsProtectedFrom(System.Net.EndPoint? remote) =>
        server.Options.ProtectedMode && server.Acl.Default.Rules.NoPass
        && remote is System.Net.IPEndPoint ip && !System.Net.IPAddress.IsLoopback(ip.Address);
}
