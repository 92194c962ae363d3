using System.Runtime.InteropServices;

namespace RespKv.Persistence;

/// <summary>
/// fsync of a directory, which makes a rename inside it durable (.NET has no API for it): libc
/// <c>open(dir, O_RDONLY|O_DIRECTORY)</c>, <c>fsync</c>, <c>close</c>. On Windows it does nothing (NTFS journals renames).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int LinuxDirectoryFlag = 0x10000; // O_DIRECTORY on x86-64 and arm64 Linux

    /// <summary>fsyncs <paramref name="directory"/>; throws <see cref="IOException"/> naming errno on failure.</summary>
    public static void Fsync(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int flags = OperatingSystem.IsLinux() ? ReadOnly | LinuxDirectoryFlag : ReadOnly;
        int fd = Open(directory, flags);
        if (fd < 0) throw new IOException($"open({directory}) for fsync failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (FsyncNative(fd) != 0) throw new IOException($"fsync({directory}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
