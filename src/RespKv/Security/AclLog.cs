using System.Text;
using RespKv.Configuration;
using RespKv.Protocol;
using RespKv.Server;
using RespKv.Server.Commands;

namespace RespKv.Security;

/// <summary>Where a denial happened (Redis's <c>ACL_LOG_CTX_*</c>), as ACL LOG's <c>context</c> names it.</summary>
public enum AclLogContext
{
    /// <summary><c>toplevel</c>: a command sent by the client.</summary>
    TopLevel,
    /// <summary><c>multi</c>: inside MULTI (queued) or EXEC.</summary>
    Multi,
    /// <summary><c>lua</c>: a script's <c>redis.call</c>.</summary>
    Lua,
}

/// <summary>One ACL LOG entry (Redis 7.0's <c>ACLLogEntry</c>); <see cref="Count"/> grows while similar denials repeat within 60 s.</summary>
public sealed class AclLogEntry
{
    /// <summary>How many times this happened.</summary>
    public long Count { get; internal set; } = 1;

    /// <summary>Command, key, channel or auth.</summary>
    public AclDenial Reason { get; init; }

    /// <summary>Top level, MULTI or script.</summary>
    public AclLogContext Context { get; init; }

    /// <summary>The command's full name, the key, the channel, or (auth) the command name as sent (Latin-1 text).</summary>
    public string Object { get; init; } = "";

    /// <summary>The user (for auth: the name tried).</summary>
    public string Username { get; init; } = "";

    /// <summary>Unix time of the last occurrence, ms.</summary>
    public long TimeMs { get; internal set; }

    /// <summary>The CLIENT LIST line of the last client that caused it (no newline).</summary>
    public string ClientInfo { get; internal set; } = "";
}

/// <summary>
/// The ACL LOG (Redis 7.0 acl.c <c>addACLLogEntry</c>): newest first, at most <c>acllog-max-len</c> entries; a denial
/// equal to one of the 10 newest entries in reason, context, object and user, within 60 s of it, moves that entry to
/// the front and bumps its count. Passwords never appear (AUTH's object is the command name).
/// </summary>
public sealed class AclLog
{
    private const long GroupingMs = 60_000;
    private readonly ServerOptions _options;
    private readonly LinkedList<AclLogEntry> _entries = new();
    private readonly Lock _lock = new();

    internal AclLog(ServerOptions options) => _options = options;

    /// <summary>Records a denial of <paramref name="client"/>'s command.</summary>
    /// <param name="client">The client (a script's caller for a script's command).</param>
    /// <param name="reason">Why.</param>
    /// <param name="context">Where.</param>
    /// <param name="obj">The object (see <see cref="AclLogEntry.Object"/>).</param>
    /// <param name="username">The user, or null for the client's.</param>
    public void Add(ClientSession client, AclDenial reason, AclLogContext context, string obj, string? username = null)
    {
        var line = new StringBuilder();
        ClientCommands.AppendClientLine(line, client, 0);
        var entry = new AclLogEntry
        {
            Reason = reason,
            Context = context,
            Object = obj,
            Username = username ?? client.User.Name,
            TimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ClientInfo = line.ToString().TrimEnd('\n'),
        };
        lock (_lock)
        {
            int toScan = 10;
            for (LinkedListNode<AclLogEntry>? node = _entries.First; node != null && toScan-- > 0; node = node.Next)
            {
                AclLogEntry current = node.Value;
                if (current.Reason == entry.Reason && current.Context == entry.Context && Math.Abs(current.TimeMs - entry.TimeMs) <= GroupingMs
                    && current.Object == entry.Object && current.Username == entry.Username)
                {
                    _entries.Remove(node);
                    _entries.AddFirst(node);
                    current.ClientInfo = entry.ClientInfo;
                    current.TimeMs = entry.TimeMs;
                    current.Count++;
                    return;
                }
            }
            _entries.AddFirst(entry);
            while (_entries.Count > _options.AclLogMaxLen) _entries.RemoveLast();
        }
    }

    /// <summary>ACL LOG RESET.</summary>
    public void Reset()
    {
        lock (_lock) _entries.Clear();
    }

    /// <summary>The newest <paramref name="count"/> entries.</summary>
    public IReadOnlyList<AclLogEntry> Newest(long count)
    {
        lock (_lock) return _entries.Take((int)Math.Min(count, int.MaxValue)).ToArray();
    }

    /// <summary>
    /// Writes ACL LOG's reply: an array of maps of 7 fields each (<c>count reason context object username age-seconds
    /// client-info</c>), age as a double in seconds, as Redis 7.0.15 (no 7.2 entry-id fields).
    /// </summary>
    public void Write(RespWriter writer, long count)
    {
        IReadOnlyList<AclLogEntry> entries = Newest(count);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        writer.WriteArrayHeader(entries.Count);
        foreach (AclLogEntry e in entries)
        {
            writer.WriteMapHeader(7);
            writer.WriteBulkString("count"u8);
            writer.WriteInteger(e.Count);
            writer.WriteBulkString("reason"u8);
            writer.WriteBulkString(e.Reason switch
            {
                AclDenial.Command => "command",
                AclDenial.Key => "key",
                AclDenial.Channel => "channel",
                AclDenial.Auth => "auth",
                _ => "unknown",
            });
            writer.WriteBulkString("context"u8);
            writer.WriteBulkString(e.Context switch
            {
                AclLogContext.TopLevel => "toplevel",
                AclLogContext.Multi => "multi",
                _ => "lua",
            });
            writer.WriteBulkString("object"u8);
            writer.WriteBulkString(Encoding.Latin1.GetBytes(e.Object));
            writer.WriteBulkString("username"u8);
            writer.WriteBulkString(Encoding.Latin1.GetBytes(e.Username));
            writer.WriteBulkString("age-seconds"u8);
            writer.WriteDouble((now - e.TimeMs) / 1000.0);
            writer.WriteBulkString("client-info"u8);
            writer.WriteBulkString(e.ClientInfo);
        }
    }
}

/// <summary>The configured users or the ACL file could not be loaded at start-up: the server exits, as Redis's <c>ACLLoadUsersAtStartup</c>.</summary>
public sealed class AclStartupException(string message) : Exception(message);
