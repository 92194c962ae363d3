namespace RespKv.Configuration;

/// <summary>File-system failures worded as the C library's <c>strerror</c> words them, as redis-server's messages quote it.</summary>
public static class SystemErrors
{
    /// <summary>An exception from opening or writing <paramref name="path"/> as strerror would word it (e.g. <c>No such file or directory</c>).</summary>
    public static string Describe(Exception e, string path) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException when Directory.Exists(path) => "Is a directory",
        UnauthorizedAccessException => "Permission denied",
        _ => e.Message,
    };
}
