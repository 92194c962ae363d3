using System.Buffers.Text;
using RespKv.Commands;
using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// The clients in MONITOR mode (https://redis.io/commands/monitor/) and the feed of executed commands to them,
/// as Redis 7.0's <c>replicationFeedMonitors</c>: after a command runs (also each command EXEC runs, before the
/// EXEC line itself; a script's EVAL/FCALL before the commands the script runs, which show <c>lua</c> as their address), every monitor receives
/// <c>+1700000000.123456 [db ip:port] "arg" "arg"…</c> — Unix time with microseconds, the database selected
/// after the command, the client's address, each argument quoted as <c>sdscatrepr</c> does. Commands flagged
/// <c>admin</c> (CONFIG, CLIENT LIST, MONITOR, SLOWLOG…) are not shown, nor rejected ones (unknown, wrong arity,
/// NOAUTH, queued inside MULTI). Passwords and ACL rules (<see cref="CommandRedaction"/>) show as <c>"(redacted)"</c>. Lines are queued per monitor and written by that monitor's own session
/// (<see cref="ClientSession.EnqueueMonitorLine"/>), so commands on other threads never touch its writer.
/// With no monitor attached the cost on the command path is one volatile read (<see cref="Active"/>).
/// </summary>
public sealed class MonitorFeed
{
    private static readonly byte[] Redacted = "(redacted)"u8.ToArray();

    private readonly Lock _lock = new();
    private ClientSession[] _monitors = [];

    /// <summary>True when at least one client is monitoring.</summary>
    public bool Active => Volatile.Read(ref _monitors).Length != 0;

    /// <summary>Clients in MONITOR mode.</summary>
    public int Count => Volatile.Read(ref _monitors).Length;

    /// <summary>Adds <paramref name="client"/> to the monitors; false when it already is one.</summary>
    internal bool Add(ClientSession client)
    {
        lock (_lock)
        {
            if (Array.IndexOf(_monitors, client) >= 0) return false;
            Volatile.Write(ref _monitors, [.. _monitors, client]);
            return true;
        }
    }

    /// <summary>Removes <paramref name="client"/> from the monitors (RESET, disconnect); false when it was not one.</summary>
    internal bool Remove(ClientSession client)
    {
        lock (_lock)
        {
            int at = Array.IndexOf(_monitors, client);
            if (at < 0) return false;
            ClientSession[] rest = new ClientSession[_monitors.Length - 1];
            Array.Copy(_monitors, 0, rest, 0, at);
            Array.Copy(_monitors, at + 1, rest, at, rest.Length - at);
            Volatile.Write(ref _monitors, rest);
            return true;
        }
    }

    /// <summary>Sends the line for <paramref name="command"/>, just run by <paramref name="source"/> with <paramref name="args"/>, to every monitor.</summary>
    internal void Feed(ClientSession source, CommandInfo command, in CommandArgs args)
    {
        if ((command.Flags & CommandFlags.Admin) != 0) return;
        ClientSession[] monitors = Volatile.Read(ref _monitors);
        if (monitors.Length == 0) return;
        byte[] line = FormatLine(source, command, args, DateTime.UtcNow);
        foreach (ClientSession monitor in monitors) monitor.EnqueueMonitorLine(line, source);
    }

    /// <summary>The monitor line (without <c>+</c> and CRLF) for a command run at <paramref name="now"/>.</summary>
    internal static byte[] FormatLine(ClientSession source, CommandInfo command, in CommandArgs args, DateTime now)
    {
        var text = new List<byte>(64 + (int)Math.Min(args.Count * 16L, 4096));
        long microseconds = (now.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        AppendNumber(text, microseconds / 1_000_000, 0);
        text.Add((byte)'.');
        AppendNumber(text, microseconds % 1_000_000, 6);
        text.AddRange(" ["u8);
        AppendNumber(text, source.Database.Index, 0);
        text.Add((byte)' ');
        // A command a script runs shows "lua" for its address (Redis's replicationFeedMonitors for a CLIENT_SCRIPT client).
        if (Scripting.ScriptRun.Current is { } script && ReferenceEquals(script.Caller, source)) text.AddRange("lua"u8);
        else foreach (char c in source.RemoteAddress) text.Add((byte)c);
        text.AddRange("] "u8);
        bool[]? redacted = CommandRedaction.Of(command, args);
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0) text.Add((byte)' ');
            SdsText.AppendRepr(text, redacted != null && redacted[i] ? Redacted : args[i]);
        }
        return text.ToArray();
    }

    private static void AppendNumber(List<byte> text, long value, int digits)
    {
        Span<byte> buffer = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, buffer, out int n, digits > 0 ? new System.Buffers.StandardFormat('D', (byte)digits) : default);
        text.AddRange(buffer[..n]);
    }
}
