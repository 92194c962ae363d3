using RespKv.Persistence;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// The client the AOF loader replays through (<see cref="IAofReplayTarget"/>): a <see cref="ClientSession"/> that is
/// authenticated, marked as replaying (statistics, slow log and the write log are skipped; LOADING does not refuse it)
/// and whose replies are discarded — so the replay runs the very executor, locks and handlers clients use.
/// </summary>
public sealed class AofReplayClient : IAofReplayTarget
{
    private readonly RespServer _server;
    private readonly ClientSession _session;

    /// <summary>A replay client of <paramref name="server"/>.</summary>
    public AofReplayClient(RespServer server)
    {
        _server = server;
        _session = new ClientSession(server, new DiscardingBufferWriter()) { Authenticated = true, ReplaysAof = true };
    }

    /// <inheritdoc />
    public bool IsKnownCommand(ReadOnlySpan<byte> name) => _server.Commands.Lookup(name) != null;

    /// <inheritdoc />
    public void Execute(in CommandArgs args) => _session.Execute(args);

    /// <inheritdoc />
    public long ErrorsWritten => _session.Writer.ErrorsWritten;

    /// <inheritdoc />
    public void DropReplies() => _session.Writer.Commit();

    /// <inheritdoc />
    public bool InMulti => _session.InMulti;

    /// <inheritdoc />
    public void DiscardTransaction() => _session.DiscardTransaction();

    /// <inheritdoc />
    public Persistence.Rdb.RdbLoadResult LoadRdb(Stream input) =>
        Persistence.Rdb.RdbFileLoader.Load(input, _server.Keyspace, _server.Snapshots.LoadOptions(skipExpired: false));
}
