using System.Text;
using RespKv.Configuration;
using RespKv.Persistence;
using RespKv.Server;
using RespKv.Tests.Support;
using static RespKv.Tests.Persistence.AofTestSupport;

namespace RespKv.Tests.Persistence;

/// <summary>Start-up recovery (torn tail, corruption) and disk errors (MISCONF).</summary>
public sealed class AofRecoveryTests
{
    /// <summary>The file's last three units: SET t1, a MULTI block, HSET t4; before them a prefix that always loads.</summary>
    private static readonly string Prefix = Record("SELECT", "0") + Record("SET", "base", "1");
    private static readonly string[] Units =
    [
        Record("SET", "t1", "one"),
        Record("MULTI") + Record("SET", "t2", "two") + Record("SET", "t3", "three") + Record("EXEC"),
        Record("HSET", "t4", "f", "four"),
    ];

    /// <summary>Loads <paramref name="content"/> with a bare server (no listener); returns the server, or throws <see cref="AofLoadException"/>.</summary>
    private static RespServer Load(string dir, byte[] content, bool loadTruncated = true)
    {
        File.WriteAllBytes(Path.Combine(dir, "appendonly.aof"), content);
        var server = new RespServer(new ServerOptions { Dir = dir, AppendOnly = true, AofLoadTruncated = loadTruncated });
        AofLoader.Load(new AofReplayClient(server), server.Keyspace, server.Logger, AofLoader.FindFiles(server.Options), loadTruncated);
        return server;
    }

    [Fact]
    public void TornTailAtEveryByteOfTheLastThreeRecordsLoadsTheValidPrefixAndTruncates()
    {
        using var dir = new TempDir();
        byte[] full = Encoding.ASCII.GetBytes(Prefix + string.Concat(Units));
        int[] ends = new int[Units.Length];
        int at = Prefix.Length;
        for (int u = 0; u < Units.Length; u++) ends[u] = at += Units[u].Length;
        for (int cut = Prefix.Length; cut <= full.Length; cut++)
        {
            RespServer server = Load(dir.Path, full[..cut]);
            int whole = ends.Count(e => e <= cut);
            long expectedLength = whole == 0 ? Prefix.Length : ends[whole - 1];
            Assert.Equal(expectedLength, new FileInfo(dir.Aof).Length);
            var db = server.Keyspace[0];
            Assert.NotNull(db.Find("base"u8));
            Assert.Equal(whole >= 1, db.Find("t1"u8) != null);
            Assert.Equal(whole >= 2, db.Find("t2"u8) != null);
            Assert.Equal(whole >= 2, db.Find("t3"u8) != null);
            Assert.Equal(whole >= 3, db.Find("t4"u8) != null);
        }
    }

    [Fact]
    public void TornTailWithAofLoadTruncatedNoRefusesToStart()
    {
        using var dir = new TempDir();
        byte[] full = Encoding.ASCII.GetBytes(Prefix + string.Concat(Units));
        byte[] torn = full[..(full.Length - 3)];
        var e = Assert.Throws<AofLoadException>(() => Load(dir.Path, torn, loadTruncated: false));
        Assert.StartsWith("Unexpected end of file reading the append only file", e.Message);
        Assert.Contains("aof-load-truncated", e.Message);
        Assert.Equal(torn.Length, new FileInfo(dir.Aof).Length); // left as it was
        // The whole file loads either way.
        Assert.Equal(5, Load(dir.Path, full, loadTruncated: false).Keyspace.TotalKeys);
    }

    [Fact]
    public void MultiWithoutExecAtTheEndIsDroppedWhole()
    {
        using var dir = new TempDir();
        string content = Prefix + Record("MULTI") + Record("SET", "half", "1");
        RespServer server = Load(dir.Path, Encoding.ASCII.GetBytes(content));
        Assert.Null(server.Keyspace[0].Find("half"u8));
        Assert.Equal(Prefix.Length, new FileInfo(dir.Aof).Length);
    }

    [Fact]
    public void GarbageBeforeTheTailRefusesToStartNamingTheByteOffset()
    {
        using var dir = new TempDir();
        string good = Prefix + Record("SET", "a", "1");
        string content = good + "garbage\r\n" + Record("SET", "b", "2");
        var e = Assert.Throws<AofLoadException>(() => Load(dir.Path, Encoding.ASCII.GetBytes(content)));
        Assert.StartsWith($"Bad file format reading the append only file {dir.Aof} at byte offset {good.Length} ", e.Message);
        Assert.Contains("redis-check-aof --fix", e.Message);
        Assert.Equal(content.Length, new FileInfo(dir.Aof).Length); // never truncated

        // A bulk length that lies: the byte after the bulk is not CR LF.
        string lying = Prefix + "*3\r\n$3\r\nSET\r\n$1\r\nkk\r\n$1\r\nv\r\n";
        e = Assert.Throws<AofLoadException>(() => Load(dir.Path, Encoding.ASCII.GetBytes(lying)));
        Assert.Contains($"at byte offset {Prefix.Length + "*3\r\n$3\r\nSET\r\n$1\r\nk".Length} ", e.Message);

        e = Assert.Throws<AofLoadException>(() => Load(dir.Path, Encoding.ASCII.GetBytes(Prefix + Record("NOSUCHCMD", "x"))));
        Assert.Equal($"Unknown command 'NOSUCHCMD' reading the append only file {dir.Aof} at byte offset {Prefix.Length}", e.Message);
    }

    [Fact]
    public async Task HostStartOnACorruptFileFailsAndStopsListening()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Aof, Prefix + "\0\0\0\0" + Record("SET", "b", "2"));
        var e = await Assert.ThrowsAsync<AofLoadException>(() => Start(dir.Path));
        Assert.Contains($"at byte offset {Prefix.Length} ", e.Message);
    }

    [Fact]
    public async Task ExecutableExitsOneOnACorruptFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Aof, Prefix + "xyz" + Record("SET", "b", "2"));
        string dll = Path.Combine(AppContext.BaseDirectory, "respkv-server.dll");
        (int code, string output) = await Task.Run(() => Run("dotnet", dll, "--port", "0", "--dir", dir.Path));
        Assert.Equal(1, code);
        Assert.Contains("Fatal error loading the append only file: Bad file format", output);
        Assert.Contains($"at byte offset {Prefix.Length} ", output);
    }

    [Fact]
    public async Task ExecutableExitsOneOnATornFileWithAofLoadTruncatedNo()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Aof, Prefix + "*3\r\n$3\r\nSET\r\n$1\r\nb");
        string dll = Path.Combine(AppContext.BaseDirectory, "respkv-server.dll");
        (int code, string output) = await Task.Run(() => Run("dotnet", dll, "--port", "0", "--dir", dir.Path, "--aof-load-truncated", "no"));
        Assert.Equal(1, code);
        Assert.Contains("Unexpected end of file reading the append only file", output);
    }

    [Fact]
    public async Task FailingWritesAnswerMisconfUntilTheyRecoverAndLoseNothing()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path, "everysec"))
        {
            AppendOnlyFile aof = host.Server.Aof!;
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("SET", "ok1", "1"));
            Assert.True(aof.Flush(TimeSpan.FromSeconds(5)));
            // /dev/full: every write fails with ENOSPC, a real error from a real device.
            aof.ReplaceStreamForTesting(new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0));
            // Applied, but its record cannot be written: no reply until it is (even under everysec, replies follow the write).
            using var waiting = new RawClient(host.Port);
            waiting.Send("SET", "pending", "2");
            for (int i = 0; i < 200 && aof.WriteError == null; i++) await Task.Delay(10);
            await Task.Delay(200);
            Assert.Equal("", waiting.ReadAvailable());
            const string Misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n";
            Assert.Equal(Misconf, c.Call("SET", "refused", "3"));
            Assert.Equal(Misconf, c.Call("PING"));
            Assert.Equal("$1\r\n2\r\n", c.Call("GET", "pending"));   // reads keep working
            Assert.Contains("aof_last_write_status:err", c.Call("INFO", "persistence"));
            Assert.Equal("+OK\r\n", c.Call("MULTI"));
            Assert.Equal(Misconf, c.Call("DEL", "ok1"));
            Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", c.Call("EXEC"));
            Assert.Equal("+OK\r\n", c.Call("MULTI"));
            Assert.Equal("+QUEUED\r\n", c.Call("GET", "ok1"));
            Assert.Equal("*1\r\n$1\r\n1\r\n", c.Call("EXEC"));
            aof.ReplaceStreamForTesting(null);
            for (int i = 0; i < 400 && aof.WriteError != null; i++) await Task.Delay(10);
            Assert.Null(aof.WriteError);
            Assert.Equal("+OK\r\n", waiting.ReadExactly(5));
            Assert.Equal("+OK\r\n", c.Call("SET", "later", "4"));
            Assert.Contains("aof_last_write_status:ok", c.Call("INFO", "persistence"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n4\r\n", c.Call("MGET", "ok1", "pending", "refused", "later"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task UnderAlwaysAReplyWaitsUntilItsRecordIsOnDisk()
    {
        using var dir = new TempDir();
        await using (RespKvHost host = await Start(dir.Path, "always"))
        {
            AppendOnlyFile aof = host.Server.Aof!;
            using var c = new RawClient(host.Port);
            using var reader = new RespTestClient(host.Port);
            aof.ReplaceStreamForTesting(new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0));
            c.Send("SET", "waits", "1");
            for (int i = 0; i < 200 && aof.WriteError == null; i++) await Task.Delay(10);
            await Task.Delay(300);
            Assert.Equal("", c.ReadAvailable()); // no reply while the record cannot be written and fsynced
            Assert.Equal("$1\r\n1\r\n", reader.Call("GET", "waits"));
            Assert.StartsWith("-MISCONF Errors writing to the AOF file: ", reader.Call("SET", "other", "x"));
            aof.ReplaceStreamForTesting(null);
            Assert.Equal("+OK\r\n", c.ReadExactly(5)); // released by the retry's fsync
            using var c2 = new RespTestClient(host.Port);
            for (int i = 0; i < 400 && aof.WriteError != null; i++) await Task.Delay(10);
            Assert.Equal("+OK\r\n", c2.Call("SET", "after", "2"));
            Assert.Equal("+PONG\r\n", c2.Call("PING"));
        }
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("*2\r\n$1\r\n1\r\n$1\r\n2\r\n", c.Call("MGET", "waits", "after"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }
}

/// <summary>A raw socket client that can check for the absence of a reply without breaking the connection.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly System.Net.Sockets.Socket _socket;

    public RawClient(int port)
    {
        _socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        _socket.Connect(System.Net.IPAddress.Loopback, port);
        _socket.ReceiveTimeout = 10_000;
    }

    public void Send(params string[] args) => _socket.Send(RespTestClient.Encode(args));

    /// <summary>Whatever bytes have arrived, without waiting.</summary>
    public string ReadAvailable()
    {
        int n = _socket.Available;
        if (n == 0) return "";
        byte[] buffer = new byte[n];
        int read = _socket.Receive(buffer);
        return Encoding.Latin1.GetString(buffer, 0, read);
    }

    /// <summary>Exactly <paramref name="count"/> bytes (waiting up to 10 s).</summary>
    public string ReadExactly(int count)
    {
        byte[] buffer = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = _socket.Receive(buffer, got, count - got, System.Net.Sockets.SocketFlags.None);
            if (n == 0) throw new IOException("closed");
            got += n;
        }
        return Encoding.Latin1.GetString(buffer);
    }

    public void Dispose() => _socket.Dispose();
}
