using Microsoft.AspNetCore.Connections;
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
        server.Stats.ConnectionAccepted();
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
        server.Clients.Add(client);
        server.Logger.LogDebug("Accepted {Address} id={Id}", client.RemoteAddress, client.Id);
        try
        {
            await client.RunAsync(connection.Transport, connection.ConnectionClosed);
        }
        finally
        {
            server.Clients.Remove(client);
            server.Stats.Retire(client);
        }
    }
}
