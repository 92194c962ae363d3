using System.Globalization;

namespace RespKv.Configuration;

/// <summary>
/// One client class's output-buffer limit (redis.conf <c>client-output-buffer-limit &lt;class&gt; hard soft seconds</c>):
/// a client is closed when its pending replies reach <see cref="HardBytes"/>, or stay at or above
/// <see cref="SoftBytes"/> for longer than <see cref="SoftSeconds"/>. 0 bytes = no limit.
/// </summary>
/// <param name="HardBytes">Hard limit in bytes; 0 = none.</param>
/// <param name="SoftBytes">Soft limit in bytes; 0 = none.</param>
/// <param name="SoftSeconds">How long the soft limit may be exceeded, in seconds.</param>
public readonly record struct OutputBufferLimit(long HardBytes, long SoftBytes, long SoftSeconds);

/// <summary>
/// The <c>client-output-buffer-limit</c> setting: a limit per client class (normal, replica, pubsub), parsed
/// and printed as Redis 7.0's config.c does (<c>setConfigClientOutputBufferLimitOption</c>).
/// </summary>
/// <param name="Normal">Limit of normal clients (enforced).</param>
/// <param name="Replica">Limit of replicas (kept for CONFIG GET; RespKv has no replication).</param>
/// <param name="PubSub">Limit of clients subscribed to any channel, pattern or shard channel (enforced: Redis's client type <c>pubsub</c>).</param>
public sealed record OutputBufferLimits(OutputBufferLimit Normal, OutputBufferLimit Replica, OutputBufferLimit PubSub)
{
    /// <summary>Redis 7.0's defaults: <c>normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60</c>.</summary>
    public static OutputBufferLimits Default { get; } =
        new(new(0, 0, 0), new(256L << 20, 64L << 20, 60), new(32L << 20, 8L << 20, 60));

    /// <summary>The value as CONFIG GET prints it: <c>normal H S s slave H S s pubsub H S s</c>, in bytes.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"normal {Normal.HardBytes} {Normal.SoftBytes} {Normal.SoftSeconds} slave {Replica.HardBytes} {Replica.SoftBytes} {Replica.SoftSeconds} pubsub {PubSub.HardBytes} {PubSub.SoftBytes} {PubSub.SoftSeconds}");

    /// <summary>
    /// Applies <paramref name="text"/> (<c>class hard soft seconds</c>, repeated; classes <c>normal</c>,
    /// <c>slave</c>/<c>replica</c>, <c>pubsub</c>, any case; sizes with k/kb/m/mb/g/gb) over <paramref name="current"/>.
    /// Every group is checked before any applies. Returns null, or Redis's reason:
    /// <c>Wrong number of arguments in buffer limit configuration.</c>,
    /// <c>Invalid client class specified in buffer limit configuration.</c>,
    /// <c>Error in hard, soft or soft_seconds setting in buffer limit configuration.</c>
    /// </summary>
    public static string? TryApply(OutputBufferLimits current, string text, out OutputBufferLimits result)
    {
        result = current;
        string[] argv = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (argv.Length % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
        for (int j = 0; j < argv.Length; j += 4)
        {
            int cls = ClassOf(argv[j]);
            if (cls < 0) return "Invalid client class specified in buffer limit configuration.";
            if (!ServerOptions.TryParseMemory(argv[j + 1], out long hard) || !ServerOptions.TryParseMemory(argv[j + 2], out long soft)
                || !long.TryParse(argv[j + 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds) || seconds < 0)
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            var limit = new OutputBufferLimit(hard, soft, seconds);
            result = cls switch
            {
                0 => result with { Normal = limit },
                1 => result with { Replica = limit },
                _ => result with { PubSub = limit },
            };
        }
        return null;
    }

    /// <summary>Redis's <c>getClientTypeByName</c>: 0 normal, 1 replica, 2 pubsub; -1 for anything else (master included).</summary>
    private static int ClassOf(string name) => name.ToLowerInvariant() switch
    {
        "normal" => 0,
        "slave" or "replica" => 1,
        "pubsub" => 2,
        _ => -1,
    };
}
