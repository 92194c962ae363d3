using RespKv.Execution;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using RespKv.Configuration;
using RespKv.Protocol;

namespace RespKv.Server;

/// <summary>
/// The slow log (https://redis.io/commands/slowlog-get/): commands whose handler ran for at least
/// <c>slowlog-log-slower-than</c> microseconds (negative: never; 0: every command), newest first, at most
/// <c>slowlog-max-len</c> entries. Entries are shaped as Redis 7.0's <c>slowlogCreateEntry</c> makes them:
/// at most 32 arguments (the 32nd replaced by <c>... (N more arguments)</c>), each at most 128 bytes
/// (followed by <c>... (N more bytes)</c>).
/// </summary>
public sealed class SlowLog
{
    /// <summary>Arguments kept per entry (Redis's <c>SLOWLOG_ENTRY_MAX_ARGC</c>).</summary>
    public const int MaxArguments = 32;

    /// <summary>Bytes kept per argument (Redis's <c>SLOWLOG_ENTRY_MAX_STRING</c>).</summary>
    public const int MaxArgumentBytes = 128;

    private readonly ServerOptions _options;
    private readonly Lock _lock = new();
    private readonly LinkedList<SlowLogEntry> _entries = new();
    private long _nextId;
    /// <summary>The threshold last converted to ticks, swapped as one reference so a reader never mixes two settings.</summary>
    private Threshold _threshold = new(long.MinValue, 0);

    private sealed record Threshold(long Microseconds, long Ticks);

    /// <summary>A slow log reading its two settings from <paramref name="options"/>.</summary>
    public SlowLog(ServerOptions options) => _options = options;

    /// <summary>
    /// True when a command that ran for <paramref name="elapsedTicks"/> (<see cref="Stopwatch"/> ticks) must be
    /// logged: the cheap test on the command path (the threshold in ticks is cached per setting value).
    /// </summary>
    internal bool IsSlow(long elapsedTicks)
    {
        long us = _options.SlowlogLogSlowerThan;
        if (us < 0) return false;
        Threshold threshold = Volatile.Read(ref _threshold);
        if (us != threshold.Microseconds)
        {
            threshold = new Threshold(us, (long)Math.Min(long.MaxValue, (double)us * Stopwatch.Frequency / 1_000_000));
            Volatile.Write(ref _threshold, threshold);
        }
        return elapsedTicks >= threshold.Ticks;
    }

    /// <summary>
    /// Logs <paramref name="args"/> run by <paramref name="client"/> for <paramref name="elapsedTicks"/>
    /// (Redis's <c>slowlogPushEntryIfNeeded</c>: nothing when <c>slowlog-max-len</c> is 0; trims to it).
    /// </summary>
    internal void Add(ClientSession client, in CommandArgs args, long elapsedTicks)
    {
        long maxLen = _options.SlowlogMaxLen;
        if (maxLen == 0) return;
        int argc = Math.Min(args.Count, MaxArguments);
        var argv = new byte[argc][];
        // Redis's redactClientCommandArgument: passwords and ACL rules are logged as "(redacted)".
        CommandInfo? command = client.CurrentCommand;
        bool[]? redacted = command == null ? null : CommandRedaction.Of(command, args);
        for (int j = 0; j < argc; j++)
        {
            if (redacted != null && redacted[j] && !(argc != args.Count && j == argc - 1))
            {
                argv[j] = "(redacted)"u8.ToArray();
                continue;
            }
            if (argc != args.Count && j == argc - 1)
            {
                argv[j] = Encoding.ASCII.GetBytes($"... ({args.Count - argc + 1} more arguments)");
                continue;
            }
            ReadOnlySpan<byte> a = args[j];
            if (a.Length <= MaxArgumentBytes)
            {
                argv[j] = a.ToArray();
                continue;
            }
            byte[] suffix = Encoding.ASCII.GetBytes($"... ({(a.Length - MaxArgumentBytes).ToString(CultureInfo.InvariantCulture)} more bytes)");
            argv[j] = [.. a[..MaxArgumentBytes], .. suffix];
        }
        long micros = elapsedTicks * 1_000_000 / Stopwatch.Frequency;
        long unixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        lock (_lock)
        {
            _entries.AddFirst(new SlowLogEntry(_nextId++, unixSeconds, micros, argv, client.RemoteAddress, client.Name ?? ""));
            while (_entries.Count > maxLen) _entries.RemoveLast();
        }
    }

    /// <summary>Entries in the log (SLOWLOG LEN).</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    /// <summary>The newest <paramref name="count"/> entries, newest first (SLOWLOG GET).</summary>
    public List<SlowLogEntry> Newest(long count)
    {
        var result = new List<SlowLogEntry>();
        lock (_lock)
            foreach (SlowLogEntry e in _entries)
            {
                if (result.Count >= count) break;
                result.Add(e);
            }
        return result;
    }

    /// <summary>Empties the log (SLOWLOG RESET); ids keep increasing, as in Redis.</summary>
    public void Reset()
    {
        lock (_lock) _entries.Clear();
    }
}

/// <summary>One slow log entry, as SLOWLOG GET replies it.</summary>
/// <param name="Id">Unique, increasing id.</param>
/// <param name="UnixSeconds">When it was logged, Unix time in seconds.</param>
/// <param name="Microseconds">Execution time in microseconds.</param>
/// <param name="Arguments">The command and its arguments, truncated as <see cref="SlowLog"/> describes.</param>
/// <param name="ClientAddress">The client's <c>ip:port</c>.</param>
/// <param name="ClientName">The client's name (CLIENT SETNAME), or empty.</param>
public sealed record SlowLogEntry(long Id, long UnixSeconds, long Microseconds, byte[][] Arguments, string ClientAddress, string ClientName);
