using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>The sections of INFO that RespKv produces, in the order Redis prints them.</summary>
[Flags]
public enum InfoSections
{
    /// <summary>No section: <c>INFO nosuch</c> replies with an empty string.</summary>
    None = 0,
    /// <summary><c># Server</c>: versions, process, port, uptime.</summary>
    Server = 1 << 0,
    /// <summary><c># Clients</c>: connected clients and the limit.</summary>
    Clients = 1 << 1,
    /// <summary><c># Stats</c>: connection, command, traffic and keyspace counters.</summary>
    Stats = 1 << 2,
    /// <summary><c># Keyspace</c>: one line per non-empty database.</summary>
    Keyspace = 1 << 3,
    /// <summary>What <c>INFO</c>, <c>INFO default</c>, <c>INFO all</c> and <c>INFO everything</c> print.</summary>
    All = Server | Clients | Stats | Keyspace,
}

/// <summary>
/// Builds the text of INFO (https://redis.io/commands/info/) in Redis 7.0's format: each section is
/// <c># Name\r\n</c> followed by <c>field:value\r\n</c> lines; sections are separated by an empty line
/// (<c>\r\n</c>). Fields RespKv cannot know (memory, persistence, replication) belong to sections it
/// does not produce yet.
/// </summary>
public static class InfoBuilder
{
    private static readonly string OsName = DescribeOs();

    /// <summary>
    /// The section named <paramref name="name"/> (any case; <c>default</c>, <c>all</c> and
    /// <c>everything</c> mean every section); <see cref="InfoSections.None"/> for a name RespKv does
    /// not produce, which Redis ignores too.
    /// </summary>
    public static InfoSections Parse(ReadOnlySpan<byte> name)
    {
        if (Ascii.EqualsIgnoreCase(name, "server"u8)) return InfoSections.Server;
        if (Ascii.EqualsIgnoreCase(name, "clients"u8)) return InfoSections.Clients;
        if (Ascii.EqualsIgnoreCase(name, "stats"u8)) return InfoSections.Stats;
        if (Ascii.EqualsIgnoreCase(name, "keyspace"u8)) return InfoSections.Keyspace;
        if (Ascii.EqualsIgnoreCase(name, "default"u8) || Ascii.EqualsIgnoreCase(name, "all"u8) ||
            Ascii.EqualsIgnoreCase(name, "everything"u8)) return InfoSections.All;
        return InfoSections.None;
    }

    /// <summary>The INFO text of <paramref name="sections"/> of <paramref name="server"/>; empty for <see cref="InfoSections.None"/>.</summary>
    public static string Build(RespServer server, InfoSections sections)
    {
        var text = new StringBuilder(1024);
        if ((sections & InfoSections.Server) != 0) AppendServer(Begin(text, "Server"), server);
        if ((sections & InfoSections.Clients) != 0) AppendClients(Begin(text, "Clients"), server);
        if ((sections & InfoSections.Stats) != 0) AppendStats(Begin(text, "Stats"), server);
        if ((sections & InfoSections.Keyspace) != 0) AppendKeyspace(Begin(text, "Keyspace"), server);
        return text.ToString();
    }

    private static StringBuilder Begin(StringBuilder text, string section)
    {
        if (text.Length > 0) text.Append("\r\n");
        return text.Append("# ").Append(section).Append("\r\n");
    }

    private static StringBuilder Field(this StringBuilder text, string name, string value) =>
        text.Append(name).Append(':').Append(value).Append("\r\n");

    private static StringBuilder Field(this StringBuilder text, string name, long value) =>
        text.Field(name, value.ToString(CultureInfo.InvariantCulture));

    private static void AppendServer(StringBuilder text, RespServer server)
    {
        long uptimeSeconds = (long)server.Uptime.Elapsed.TotalSeconds;
        long nowMicroseconds = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        text.Field("redis_version", RespServer.RedisCompatibleVersion)
            .Field("respkv_version", RespServer.Version)
            .Field("redis_mode", "standalone")
            .Field("os", OsName)
            .Field("arch_bits", IntPtr.Size * 8)
            .Field("process_id", Environment.ProcessId)
            .Field("run_id", server.RunId)
            .Field("tcp_port", server.BoundPort)
            .Field("server_time_usec", nowMicroseconds)
            .Field("uptime_in_seconds", uptimeSeconds)
            .Field("uptime_in_days", uptimeSeconds / 86400)
            .Field("executable", Environment.ProcessPath ?? "")
            .Field("config_file", server.Options.ConfigFile);
    }

    private static void AppendClients(StringBuilder text, RespServer server) =>
        text.Field("connected_clients", server.Clients.Count)
            .Field("maxclients", server.Options.MaxClients)
            // No blocking command (BLPOP, WAIT…) exists yet, so no client can be blocked.
            .Field("blocked_clients", 0);

    private static void AppendStats(StringBuilder text, RespServer server)
    {
        ServerStats stats = server.Stats;
        (long commands, long hits, long misses, long input, long output) = stats.Totals(server.Clients);
        text.Field("total_connections_received", stats.ConnectionsReceived)
            .Field("total_commands_processed", commands)
            .Field("instantaneous_ops_per_sec", stats.InstantaneousOpsPerSec)
            .Field("total_net_input_bytes", input)
            .Field("total_net_output_bytes", output)
            .Field("instantaneous_input_kbps", Kbps(stats.InstantaneousInputKbps))
            .Field("instantaneous_output_kbps", Kbps(stats.InstantaneousOutputKbps))
            .Field("rejected_connections", stats.RejectedConnections)
            // Keys with a TTL and eviction arrive with their own issues; until then no key can expire
            // or be evicted, so both counters are truly 0.
            .Field("expired_keys", 0)
            .Field("evicted_keys", 0)
            .Field("keyspace_hits", hits)
            .Field("keyspace_misses", misses);
    }

    private static void AppendKeyspace(StringBuilder text, RespServer server)
    {
        Keyspace keyspace = server.Keyspace;
        for (int i = 0; i < keyspace.DatabaseCount; i++)
        {
            long keys = keyspace[i].Count;
            if (keys == 0) continue;
            // expires and avg_ttl count keys with a TTL, which arrive with the expiry issue: 0 until then.
            text.Append("db").Append(i.ToString(CultureInfo.InvariantCulture)).Append(":keys=")
                .Append(keys.ToString(CultureInfo.InvariantCulture)).Append(",expires=0,avg_ttl=0\r\n");
        }
    }

    /// <summary>Redis prints rates with <c>%.2f</c>.</summary>
    private static string Kbps(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Redis prints <c>uname</c>'s sysname, release and machine: <c>Linux 6.1.0-18-amd64 x86_64</c>.</summary>
    private static string DescribeOs()
    {
        string machine = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            Architecture.X86 => "i686",
            Architecture.Arm => "armv7l",
            var other => other.ToString().ToLowerInvariant(),
        };
        const string releaseFile = "/proc/sys/kernel/osrelease";
        if (OperatingSystem.IsLinux() && File.Exists(releaseFile))
            return $"Linux {File.ReadAllText(releaseFile).Trim()} {machine}";
        return $"{RuntimeInformation.OSDescription} {machine}";
    }
}
