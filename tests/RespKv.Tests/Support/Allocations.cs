using System.Buffers;
using System.Text;
using RespKv.Server;

namespace RespKv.Tests.Support;

/// <summary>
/// Bytes the command path allocates per command: a batch of one command repeated, run through a session's parser,
/// executor and handler (<see cref="ClientSession.ProcessReceived"/>), measured with
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/>. Three warm-up runs, then the least of three measured runs: an
/// allocation made per command shows in every run, a one-off of the runtime's (tiered compilation, a timer) in one.
/// Any per-command allocation is at least 24 bytes (an object header and a field).
/// </summary>
internal static class Allocations
{
    /// <summary>Average bytes allocated per command by <paramref name="count"/> copies of <paramref name="command"/>.</summary>
    /// <param name="session">The session that runs them (its replies go to <paramref name="output"/>, reset before each run).</param>
    /// <param name="output">The session's reply buffer; large enough for a run's replies, so it does not grow.</param>
    /// <param name="count">Commands in the batch.</param>
    /// <param name="command">The command and its arguments (ASCII).</param>
    public static double PerCommand(ClientSession session, ArrayBufferWriter<byte> output, int count, params string[] command)
    {
        string one = $"*{command.Length}\r\n" + string.Concat(command.Select(a => $"${a.Length}\r\n{a}\r\n"));
        var batch = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(one, count))));
        long least = long.MaxValue;
        // A command that a loaded machine slows past slowlog-log-slower-than gets a slow-log entry: an allocation of the
        // measurement's circumstances, not of the command. The slow log is off while measuring.
        var options = session.Server.Options;
        long slowlog = options.SlowlogLogSlowerThan;
        options.SlowlogLogSlowerThan = -1;
        try
        {
            for (int run = 0; run < 6; run++) Run(run);
        }
        finally
        {
            options.SlowlogLogSlowerThan = slowlog;
        }
        return least / (double)count;

        void Run(int run)
        {
            output.ResetWrittenCount();
            long before = GC.GetAllocatedBytesForCurrentThread();
            session.ProcessReceived(batch);
            session.Writer.Commit();
            if (run >= 3) least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    /// <summary>Loads <paramref name="script"/> with SCRIPT LOAD through <paramref name="session"/> and returns its SHA1.</summary>
    public static string Sha(ClientSession session, ArrayBufferWriter<byte> output, string script)
    {
        PerCommand(session, output, 1, "SCRIPT", "LOAD", script);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(script)));
    }
}
