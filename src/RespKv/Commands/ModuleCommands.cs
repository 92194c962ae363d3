using RespKv.Execution;
using RespKv.Protocol;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// MODULE (https://redis.io/commands/module/, Redis 7.0.15's <c>moduleCommand</c>). RespKv loads no modules: <c>MODULE
/// LIST</c> is an empty array, <c>MODULE LOAD</c>/<c>LOADEX</c> answer what redis-server answers when the library cannot be
/// loaded (<c>-ERR Error loading the extension. Please check the server logs.</c>), and <c>MODULE UNLOAD</c> what it answers
/// for a name no module has (<c>-ERR Error unloading module: no such module with that name</c>). LOAD, LOADEX and UNLOAD are
/// protected (<see cref="CommandFlags.Protected"/>): refused with <see cref="NotAllowed"/> unless <c>enable-module-command</c>
/// (default <c>no</c>) allows the client.
/// </summary>
public static class ModuleCommands
{
    /// <summary>Redis 7.0's refusal of a protected MODULE subcommand when <c>enable-module-command</c> does not allow the client.</summary>
    public const string NotAllowed = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

    /// <summary>This family's rows of the command table (arity and flags as Redis 7.0's COMMAND INFO).</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("module", -2, None, 0, 0, 0, "server", "A container for module commands", null,
            new CommandInfo("help", 2, Loading | Stale, 0, 0, 0, "server", "Show helpful text about the different subcommands", Help),
            new CommandInfo("list", 2, Admin | NoScript, 0, 0, 0, "server", "List all modules loaded by the server", (CommandContext c, in CommandArgs a) => c.Writer.WriteArrayHeader(0)),
            new CommandInfo("load", -3, Admin | NoScript | NoAsyncLoading | Protected, 0, 0, 0, "server", "Load a module", CannotLoad),
            new CommandInfo("loadex", -3, Admin | NoScript | NoAsyncLoading | Protected, 0, 0, 0, "server", "Load a module with extended parameters", CannotLoad),
            new CommandInfo("unload", 3, Admin | NoScript | NoAsyncLoading | Protected, 0, 0, 0, "server", "Unload a module",
                (CommandContext c, in CommandArgs a) => c.Writer.WriteError("ERR Error unloading module: no such module with that name"))),
    ];

    private static void CannotLoad(CommandContext context, in CommandArgs args) =>
        context.Writer.WriteError("ERR Error loading the extension. Please check the server logs.");

    /// <summary><c>MODULE HELP</c>: Redis 7.0's lines.</summary>
    private static void Help(CommandContext context, in CommandArgs args) => context.Writer.WriteHelp("MODULE", [
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module."]);
}
