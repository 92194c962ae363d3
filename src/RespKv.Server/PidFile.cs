namespace RespKv.Server;

/// <summary>
/// The <c>pidfile</c> setting, as redis-server 7.0 handles it (server.c <c>createPidFile</c>, <c>prepareForShutdown</c>):
/// once the server listens, the process id and a newline are written to the file; at shutdown the file is removed.
/// A file that cannot be written is logged (<c>Failed to write PID file: reason</c>) and start-up goes on.
/// </summary>
public static class PidFile
{
    /// <summary>Writes <c>pid\n</c> to <paramref name="path"/> when it is not empty; true when it was written.</summary>
    public static bool TryWrite(string path, Serilog.ILogger log)
    {
        if (path.Length == 0) return false;
        try
        {
            File.WriteAllText(path, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warning("Failed to write PID file: {Reason}", ServerCommandLine.SystemErrorText(e, path));
            return false;
        }
    }

    /// <summary>Removes the file written by <see cref="TryWrite"/> (a file already gone is fine).</summary>
    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // As Redis's unlink at shutdown: nothing more to do when it fails.
        }
    }
}
