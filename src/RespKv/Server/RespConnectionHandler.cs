using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace RespKv.Server;

/// <summary>
/// Kestrel's entry point for a RESP connection: registers a <see cref="ClientSession"/> and runs it over
/// the connection's <see cref="System.IO.Pipelines.IDuplexPipe"/>. Refuses clients beyond
/// <c>maxclients</c> with Redis's <c>-ERR max number of clients reached</c>.
/// </summary>
public sealed class RespConnectionHandler(RespServer server) : ConnectionHandler
{
    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var client = new ClientSession(server, connection.Transport.Output,
            connection.RemoteEndPoint?.ToString() ?? "", connection.LocalEndPoint?.ToString() ?? "");
        if (server.Clients.Count >= server.Options.MaxClients)
        {
            server.Stats.ConnectionRejected();
            client.Writer.WriteError("ERR max number of clients reached");
            client.Writer.Commit();
            await connection.Transport.Output.FlushAsync();
            return;
        }
        server.Stats.ConnectionAccepted();
        server.Clients.Add(client);
        server.Logger.LogDebug("Accepted {Address} id={Id}", client.RemoteAddress, client.Id);
        // Kestrel's graceful stop (SIGTERM, SHUTDOWN) only signals ConnectionClosedRequested: watch it too,
        // or an idle client would hold the stop until the host's 30 s shutdown timeout.
        CancellationToken closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, closing);
        try
        {
            await client.RunAsync(connection.Transport, stop.Token);
        }
        finally
        {
            server.Clients.Remove(client, server.Stats);
        }
    }
}
