using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Server.Commands;

/// <summary>Runs a connection or server command, which acts on the whole client (its connection, transaction, name…) or the server.</summary>
public delegate void SessionCommandHandler(ClientSession client, in CommandArgs args);

/// <summary>
/// A command-table row of a connection or server family (<c>Server/Commands/</c>): its handler receives the whole
/// <see cref="ClientSession"/>. The executor calls every handler with the client's <see cref="CommandContext"/>; for
/// these rows that context is the session itself, handed on as such. Data families (<c>Commands/</c>) use
/// <see cref="CommandInfo"/> and see only the narrow context.
/// </summary>
public sealed class SessionCommandInfo : CommandInfo
{
    /// <summary>A row as <see cref="CommandInfo"/>'s, with a handler that receives the client.</summary>
    public SessionCommandInfo(string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step,
        string group, string summary, SessionCommandHandler? handler, params CommandInfo[] subcommands)
        : base(name, arity, flags, firstKey, lastKey, step, group, summary, Adapt(handler), subcommands)
    {
    }

    private static CommandHandler? Adapt(SessionCommandHandler? handler) =>
        handler == null ? null : (CommandContext context, in CommandArgs args) => handler((ClientSession)context, args);
}
