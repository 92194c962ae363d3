using System.Diagnostics;
using System.Text;
using RespKv.Configuration;
using RespKv.Persistence.Rdb;
using RespKv.Server;
using RespKv.Storage;
using RespKv.Tests.Support;
using Xunit.Abstractions;

namespace RespKv.Tests.Persistence;

/// <summary>
/// RDB files (<see cref="RdbFileWriter"/>, <see cref="RdbFileLoader"/>) and snapshots (<see cref="RdbPersistence"/>): every type
/// and encoding of <see cref="DumpRestoreTests"/>' cases saved by RespKv, checked by <c>redis-check-rdb</c> 7.0 and loaded by
/// redis-server 7.0 (same DEBUG DIGEST), and saved by redis-server then loaded by RespKv; Redis's own test assets (legacy
/// encodings, empty keys, the <c>lua</c> aux field, an RDB-preamble AOF); Redis 7.0's default <c>appendonlydir/</c> opened by
/// RespKv and RespKv's preamble AOF opened by redis-server; truncated and corrupted files refused with the offset, never half
/// loaded; SAVE, BGSAVE, LASTSAVE, save points, -MISCONF, FLUSHALL and SHUTDOWN saves, the start-up load.
/// </summary>
public sealed class RdbFileTests(ITestOutputHelper output)
{
    private static readonly string? RedisServer = AofTestSupport.FindTool("redis-server");
    private static readonly string? CheckRdb = AofTestSupport.FindTool("redis-check-rdb");

    private static Task<RespKvHost> Start(string dir, Action<ServerOptions>? configure = null) =>
        ServerFixture.StartFresh(o =>
        {
            o.Dir = dir;
            o.EnableDebugCommand = ProtectedAction.Yes;
            o.EnableProtectedConfigs = ProtectedAction.Yes;
            configure?.Invoke(o);
        });

    private const string Library = "#!lua name=rdblib\nredis.register_function('rdbf', function() return 42 end)";

    /// <summary>Every DUMP case under its own key, plus expiries, other databases, a large LZF string and a function library.</summary>
    private static void Populate(RespTestClient c)
    {
        foreach (DumpRestoreTests.Case value in DumpRestoreTests.Cases) DumpRestoreTests.Build(c, value, "rdb:" + value.Name);
        Assert.Equal("+OK\r\n", c.Call("SET", "volatile", "v", "PX", "3600000"));
        Assert.Equal("+OK\r\n", c.Call("SET", "lzf", string.Concat(Enumerable.Repeat("0123456789", 5000))));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "7"));
        Assert.Equal("+OK\r\n", c.Call("SET", "in-db-7", "x", "EX", "5000"));
        Assert.Equal(":3\r\n", c.Call("RPUSH", "list-db-7", "a", "b", "c"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
        Assert.Equal("$6\r\nrdblib\r\n", c.Call("FUNCTION", "LOAD", Library));
    }

    private static string Digest(RespTestClient c) => c.Call("DEBUG", "DIGEST");

    private static (Process Process, int Port) StartRedis(string dir, params string[] extra) =>
        AofTestSupport.StartRedis(RedisServer!, dir, ["--appendonly", "no", "--enable-debug-command", "yes", .. extra]);

    private bool HaveTools()
    {
        if (RedisServer != null && CheckRdb != null) return true;
        output.WriteLine("SKIPPED: redis-server or redis-check-rdb is not installed");
        return false;
    }

    /// <summary>RespKv's SAVE: redis-check-rdb finds it OK; redis-server and a restarted RespKv load the same data.</summary>
    [Fact]
    public async Task RespKvDumpPassesRedisCheckRdbAndLoadsInRedisServerAndRespKv()
    {
        if (!HaveTools()) return;
        using var dir = new TempDir();
        string digest;
        await using (RespKvHost host = await Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Populate(c);
            digest = Digest(c);
            Assert.Equal("+OK\r\n", c.Call("SAVE"));
            Assert.Matches(@"rdb_saves:1\r\n", c.Call("INFO", "persistence"));
            Assert.Matches(@"rdb_changes_since_last_save:0\r\n", c.Call("INFO", "persistence"));
        }
        string file = Path.Combine(dir.Path, "dump.rdb");
        (int code, string check) = AofTestSupport.Run(CheckRdb!, file);
        output.WriteLine(check);
        Assert.Equal(0, code);
        Assert.Contains("RDB looks OK", check);
        Assert.Contains("AUX FIELD redis-ver = '7.0.15'", check);

        using (var redisDir = new TempDir())
        {
            File.Copy(file, Path.Combine(redisDir.Path, "dump.rdb"));
            (Process redis, int port) = StartRedis(redisDir.Path);
            try
            {
                using var r = new RespTestClient(port);
                Assert.Equal(digest, Digest(r));
                Assert.Equal(":42\r\n", r.Call("FCALL", "rdbf", "0"));
                Assert.Matches(@"^:\d+\r\n$", r.Call("PTTL", "volatile"));
            }
            finally
            {
                AofTestSupport.Stop(redis);
            }
        }

        await using (RespKvHost again = await Start(dir.Path))
        {
            using var c = new RespTestClient(again.Port);
            Assert.Equal(digest, Digest(c));
            Assert.Equal(":42\r\n", c.Call("FCALL", "rdbf", "0"));
            Assert.Matches($@"rdb_last_load_keys_loaded:{DumpRestoreTests.Cases.Length + 4}\r\n", c.Call("INFO", "persistence"));
            // DEBUG RELOAD saves and loads back the same data.
            Assert.Equal("+OK\r\n", c.Call("DEBUG", "RELOAD"));
            Assert.Equal(digest, Digest(c));
            Assert.Equal("-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n", c.Call("DEBUG", "RELOAD", "FOO"));
        }
    }

    /// <summary>redis-server's SAVE (with small list nodes, so quicklists have many nodes) loaded by RespKv: the same data.</summary>
    [Fact]
    public async Task RedisServerDumpLoadsInRespKv()
    {
        if (!HaveTools()) return;
        using var redisDir = new TempDir();
        string digest;
        (Process redis, int port) = StartRedis(redisDir.Path, "--list-max-listpack-size", "4");
        try
        {
            using var r = new RespTestClient(port);
            Populate(r);
            digest = Digest(r);
            Assert.Equal("+OK\r\n", r.Call("SAVE"));
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
        using var dir = new TempDir();
        File.Copy(Path.Combine(redisDir.Path, "dump.rdb"), Path.Combine(dir.Path, "dump.rdb"));
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        Assert.Equal(digest, Digest(c));
        Assert.Equal(":42\r\n", c.Call("FCALL", "rdbf", "0"));
        Assert.StartsWith("*2\r\n", c.Call("XINFO", "GROUPS", "rdb:stream-groups"));
    }

    public static TheoryData<string> Assets => ["Encodings", "HashZiplist", "HashZipmap", "ListQuicklist", "ZsetZiplist", "EmptyKeys", "ScriptBackup"];

    /// <summary>Redis 7.0.15's test assets (files of Redis 2.x to 7.0, legacy encodings, empty keys, a <c>lua</c> aux field) load as in redis-server.</summary>
    [Theory]
    [MemberData(nameof(Assets))]
    public async Task RedisTestAssetsLoadAsInRedisServer(string asset)
    {
        if (!HaveTools()) return;
        byte[] bytes = Convert.FromHexString((string)typeof(LegacyRdbAssets).GetField(asset)!.GetValue(null)!);
        using var redisDir = new TempDir();
        File.WriteAllBytes(Path.Combine(redisDir.Path, "dump.rdb"), bytes);
        string digest, size;
        (Process redis, int port) = StartRedis(redisDir.Path);
        try
        {
            using var r = new RespTestClient(port);
            digest = Digest(r);
            size = r.Call("DBSIZE");
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "dump.rdb"), bytes);
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        Assert.Equal(digest, Digest(c));
        Assert.Equal(size, c.Call("DBSIZE"));
        // scriptbackup.rdb's "lua" aux field is not loaded (Redis 7.0: scripts are not persisted).
        if (asset == "ScriptBackup") Assert.Equal("*1\r\n:0\r\n", c.Call("SCRIPT", "EXISTS", "a0c38691e9fffe4563723c32ba77a34398e090e6"));
    }

    /// <summary>Redis's <c>rdb-preamble.aof</c> asset (RDB preamble then AOF records) loads as an AOF: k1, k2 from the RDB, k3 from the tail.</summary>
    [Fact]
    public async Task RdbPreambleAofAssetLoads()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "appendonly.aof"), Convert.FromHexString(LegacyRdbAssets.RdbPreambleAof));
        await using RespKvHost host = await AofTestSupport.Start(dir.Path, configure: o => o.EnableDebugCommand = ProtectedAction.Yes);
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*3\r\n$2\r\nv1\r\n$2\r\nv2\r\n$2\r\nv3\r\n", c.Call("MGET", "k1", "k2", "k3"));
    }

    /// <summary>Redis 7.0's default data directory (appendonlydir/ with an RDB base and an incr file) opens in RespKv, and RespKv's preamble AOF in redis-server.</summary>
    [Fact]
    public async Task AofDirectoriesCrossBothWays()
    {
        if (!HaveTools()) return;
        using var redisDir = new TempDir();
        string digest;
        (Process redis, int port) = AofTestSupport.StartRedis(RedisServer!, redisDir.Path, "--appendonly", "yes", "--enable-debug-command", "yes");
        try
        {
            using var r = new RespTestClient(port);
            Populate(r);
            Assert.StartsWith("+Background append only file rewriting", r.Call("BGREWRITEAOF"));
            var clock = Stopwatch.StartNew();
            while (r.Call("INFO", "persistence").Contains("aof_rewrite_in_progress:1") || r.Call("INFO", "persistence").Contains("aof_rewrite_scheduled:1"))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
                Thread.Sleep(50);
            }
            Assert.Equal("+OK\r\n", r.Call("SET", "after-rewrite", "tail"));
            digest = Digest(r);
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
        Assert.Single(Directory.GetFiles(Path.Combine(redisDir.Path, "appendonlydir"), "*.base.rdb"));
        string respkvDigest;
        await using (RespKvHost host = await AofTestSupport.Start(redisDir.Path, configure: o =>
        {
            o.EnableDebugCommand = ProtectedAction.Yes;
            o.AofUseRdbPreamble = true;
        }))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(digest, Digest(c));
            Assert.Equal(":42\r\n", c.Call("FCALL", "rdbf", "0"));
            // RespKv's own file now: an RDB preamble (aof-use-rdb-preamble yes) then records appended after it.
            Assert.Equal("+OK\r\n", c.Call("SET", "respkv-tail", "1"));
            respkvDigest = Digest(c);
        }
        string own = Path.Combine(redisDir.Path, "appendonly.aof");
        Assert.Equal("REDIS0010", Encoding.ASCII.GetString(File.ReadAllBytes(own), 0, 9));
        using var back = new TempDir();
        File.Copy(own, Path.Combine(back.Path, "appendonly.aof"));
        (redis, port) = AofTestSupport.StartRedis(RedisServer!, back.Path, "--appendonly", "yes", "--enable-debug-command", "yes");
        try
        {
            using var r = new RespTestClient(port);
            Assert.Equal(respkvDigest, Digest(r));
        }
        finally
        {
            AofTestSupport.Stop(redis);
        }
    }

    /// <summary>A small valid RDB file written by RespKv (every type, an expiry, two databases, a function library).</summary>
    private static async Task<byte[]> SmallFile()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        foreach (string name in (string[])["string-short", "list-small", "set-intset", "hash-listpack", "zset-listpack", "stream-groups"])
            DumpRestoreTests.Build(c, DumpRestoreTests.Cases.Single(x => x.Name == name), name);
        c.Call("SET", "volatile", "v", "PX", "3600000");
        c.Call("SELECT", "3");
        c.Call("SET", "db3", string.Concat(Enumerable.Repeat("abc", 30)));
        c.Call("FUNCTION", "LOAD", Library);
        Assert.Equal("+OK\r\n", c.Call("SAVE"));
        return File.ReadAllBytes(Path.Combine(dir.Path, "dump.rdb"));
    }

    /// <summary>Reads at most <c>chunk</c> bytes per call and cannot seek: the loader's refill paths.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : Stream
    {
        private int _position;
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A <c>RESIZEDB</c> hint sizes the empty shards' tables before the keys come (no doubling during the load), within what
    /// the rest of the file could hold: a hint of 2³⁰ keys in a small file reserves no more than its bytes allow. Every key
    /// loads either way.
    /// </summary>
    [Fact]
    public void ResizeDbHintSizesTablesWithinTheFile()
    {
        static byte[] File(int keys, ulong hint)
        {
            var bytes = new List<byte>("REDIS0010"u8.ToArray()) { 0xFE, 0, 0xFB };
            // RDB lengths: 6-bit, 14-bit or 32-bit (0x80 then four big-endian bytes).
            foreach (ulong length in new[] { hint, 0UL })
            {
                if (length < 64) bytes.Add((byte)length);
                else bytes.AddRange([0x80, (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length]);
            }
            for (int i = 0; i < keys; i++)
            {
                byte[] key = Encoding.ASCII.GetBytes($"key:{i:D6}");
                bytes.AddRange([0, (byte)key.Length, .. key, 1, (byte)'v']);
            }
            bytes.Add(0xFF);
            bytes.AddRange(new byte[8]); // no checksum
            return [.. bytes];
        }

        var sized = new Keyspace(16);
        RdbFileLoader.Load(new MemoryStream(File(20_000, 40_000)), sized, Options());
        Assert.Equal(20_000, sized.TotalKeys);
        // A hint of 40,000 keys over 64 shards: each table sized at once for its share (626 → 1,024 buckets), where the
        // 20,000 keys alone would have doubled it to 512.
        Assert.All(sized[0].Shards.ToArray(), shard => Assert.Equal(1024, shard.BucketCount));

        var lying = new Keyspace(16);
        byte[] small = File(100, 1UL << 30);
        RdbFileLoader.Load(new MemoryStream(small), lying, Options());
        Assert.Equal(100, lying.TotalKeys);
        long reservedBuckets = lying[0].Shards.ToArray().Sum(shard => (long)shard.BucketCount);
        Assert.True(reservedBuckets <= 2 * (small.Length / 3 + 64 * 2), $"{reservedBuckets} buckets reserved for a {small.Length}-byte file");
    }

    private static RdbLoadOptions Options(List<byte[]>? functions = null) =>
        new(new ServerOptions(), LoadFunction: code =>
        {
            functions?.Add(code);
            return null;
        });

    /// <summary>
    /// Every prefix of a valid file is refused as truncated (offset and reason) and every single flipped byte is refused (a
    /// format error or the CRC64), never another exception, and the keyspace is left empty; read a few bytes at a time, the
    /// whole file loads with its aux fields, and trailing bytes come back.
    /// </summary>
    [Fact]
    public async Task TruncatedAndCorruptedFilesAreRefusedWithTheOffset()
    {
        byte[] file = await SmallFile();
        var functions = new List<byte[]>();
        var keyspace = new Keyspace(16);
        RdbLoadResult ok = RdbFileLoader.Load(new TrickleStream([.. file, .. "tail"u8], 3), keyspace, Options(functions));
        Assert.Equal(8, ok.KeysLoaded);
        Assert.Equal(file.Length, ok.Bytes);
        Assert.True(ok.ChecksumChecked);
        Assert.Equal("tail", Encoding.ASCII.GetString(ok.Trailing.Span));
        Assert.Equal("7.0.15", ok.Aux["redis-ver"]);
        Assert.Equal(-1, ok.ReplOffset);
        Assert.Single(functions);
        Assert.Equal(1, keyspace[3].Count);

        for (int length = 0; length < file.Length; length++)
        {
            var empty = new Keyspace(16);
            RdbLoadException e = Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream(file, 0, length), empty, Options()));
            Assert.InRange(e.Offset, 0, length);
            Assert.Equal(0, empty.TotalKeys);
            if (length >= 9) Assert.Contains("Unexpected EOF", e.Reason);
        }
        for (int at = 0; at < file.Length; at++)
        {
            byte[] bad = (byte[])file.Clone();
            bad[at] ^= 0x5a;
            var empty = new Keyspace(16);
            RdbLoadException e = Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream(bad), empty, Options()));
            Assert.InRange(e.Offset, 0, file.Length);
            Assert.Equal(0, empty.TotalKeys);
        }
        // A zero checksum is not checked (rdbchecksum no wrote it).
        byte[] unchecked_ = (byte[])file.Clone();
        Array.Clear(unchecked_, file.Length - 8, 8);
        Assert.False(RdbFileLoader.Load(new MemoryStream(unchecked_), new Keyspace(16), Options()).ChecksumChecked);
        // A wrong checksum names both values, at the trailer's offset.
        byte[] wrong = (byte[])file.Clone();
        wrong[^1] ^= 1;
        RdbLoadException crc = Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream(wrong), new Keyspace(16), Options()));
        Assert.Equal(file.Length - 8, crc.Offset);
        Assert.StartsWith("Wrong RDB checksum expected:", crc.Reason);
        // Not RDB, a later version, a database beyond 'databases', a module's data.
        Assert.Contains("Wrong signature", Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream("NOTRDB0010"u8.ToArray()), new Keyspace(16), Options())).Reason);
        Assert.Contains("Can't handle RDB format version 11", Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream([.. "REDIS0011"u8, 0xff]), new Keyspace(16), Options())).Reason);
        Assert.Contains("more than 2 databases", Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream(file), new Keyspace(2), Options())).Reason);
        Assert.Contains("no matching module", Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream([.. "REDIS0010"u8, 247, 0x81, 0, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0xff]), new Keyspace(16), Options())).Reason);
        // A duplicated key.
        byte[] twice = [.. "REDIS0010"u8, 0, 1, (byte)'k', 1, (byte)'v', 0, 1, (byte)'k', 1, (byte)'w', 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
        var dup = new Keyspace(16);
        Assert.Contains("RDB has duplicated key 'k' in DB 0", Assert.Throws<RdbLoadException>(() => RdbFileLoader.Load(new MemoryStream(twice), dup, Options())).Reason);
        Assert.Equal(0, dup.TotalKeys);
        // The Redis 7.0 rc1/rc2 function record becomes today's code.
        byte[] preGa = [.. "REDIS0010"u8, 246, 3, .. "lib"u8, 3, .. "lua"u8, 0, 5, .. "body!"u8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
        var codes = new List<byte[]>();
        RdbFileLoader.Load(new MemoryStream(preGa), new Keyspace(16), Options(codes));
        Assert.Equal("#!lua name=lib\nbody!", Encoding.ASCII.GetString(codes.Single()));
    }

    /// <summary>Values larger than the loader's 1 MB buffer load whole, read a chunk at a time.</summary>
    [Fact]
    public void LargeValuesLoadThroughASmallReadSize()
    {
        var source = new Keyspace(1);
        byte[] big = new byte[3 << 20];
        new Random(5).NextBytes(big);
        using (source[0].LockKey("big"u8)) source[0].Set("big"u8, big);
        var list = new Storage.Kinds.QuickList();
        for (int i = 0; i < 200_000; i++) list.PushTail(Encoding.ASCII.GetBytes("element-" + i));
        using (source[0].LockKey("list"u8)) source[0].Set("list"u8, list);
        KeyspaceSnapshotFor(source, out var snapshot);
        var output = new MemoryStream();
        RdbWriteResult written = RdbFileWriter.Write(snapshot, output, new RdbWriteOptions(new ServerOptions()));
        Assert.Equal(2, written.Keys);
        Assert.Equal(output.Length, written.Bytes);
        var target = new Keyspace(1);
        RdbLoadResult loaded = RdbFileLoader.Load(new TrickleStream(output.ToArray(), 70_000), target, Options());
        Assert.Equal(2, loaded.KeysLoaded);
        Assert.Equal(big, target[0].Find("big"u8)!.StringValue);
        Assert.Equal(200_000, ((Storage.Kinds.QuickList)target[0].Find("list"u8)!.Value).Count);
    }

    private static void KeyspaceSnapshotFor(Keyspace keyspace, out RespKv.Persistence.KeyspaceSnapshot snapshot) =>
        snapshot = RespKv.Persistence.KeyspaceSnapshot.CollectLocked(keyspace);

    private static void WaitForBgsave(RespTestClient c)
    {
        var clock = Stopwatch.StartNew();
        while (c.Call("INFO", "persistence").Contains("rdb_bgsave_in_progress:1"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "BGSAVE did not finish");
            Thread.Sleep(20);
        }
    }

    /// <summary>BGSAVE, LASTSAVE, the INFO fields, a failed background save (-MISCONF for writes and PING), save points, FLUSHALL.</summary>
    [Fact]
    public async Task BackgroundSavesSavePointsAndMisconf()
    {
        using var dir = new TempDir();
        await using RespKvHost host = await Start(dir.Path);
        using var c = new RespTestClient(host.Port);
        long started = long.Parse(c.Call("LASTSAVE")[1..^2]);
        Assert.Equal("+OK\r\n", c.Call("SET", "a", "1"));
        Assert.Matches(@"rdb_changes_since_last_save:1\r\n", c.Call("INFO", "persistence"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("BGSAVE", "NOW"));
        Assert.Equal("+Background saving started\r\n", c.Call("BGSAVE"));
        WaitForBgsave(c);
        string info = c.Call("INFO", "persistence");
        Assert.Contains("rdb_last_bgsave_status:ok\r\n", info);
        Assert.Contains("rdb_saves:1\r\n", info);
        Assert.Contains("rdb_changes_since_last_save:0\r\n", info);
        Assert.Matches(@"rdb_last_bgsave_time_sec:\d+\r\n", info);
        Assert.True(long.Parse(c.Call("LASTSAVE")[1..^2]) >= started);
        Assert.True(File.Exists(Path.Combine(dir.Path, "dump.rdb")));

        // FLUSHALL with save points saves the empty dataset at once.
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "save", "3600 1"));
        Assert.Equal("+OK\r\n", c.Call("FLUSHALL"));
        Assert.Equal(0, RdbFileLoader.LoadFile(Path.Combine(dir.Path, "dump.rdb"), new Keyspace(16), Options()).KeysLoaded);

        // The file cannot be written (dir/dbfilename is a directory): the background save fails, writes and PING answer MISCONF.
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "dbfilename", "blocked.rdb"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "blocked.rdb"));
        Assert.Equal("+Background saving started\r\n", c.Call("BGSAVE", "SCHEDULE"));
        WaitForBgsave(c);
        Assert.Contains("rdb_last_bgsave_status:err\r\n", c.Call("INFO", "persistence"));
        string misconf = "-" + RdbPersistence.BgsaveError + "\r\n";
        Assert.Equal(misconf, c.Call("SET", "b", "2"));
        Assert.Equal(misconf, c.Call("PING"));
        Assert.Equal("$-1\r\n", c.Call("GET", "b"));
        Assert.Equal("-ERR\r\n", c.Call("SAVE"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"));
        Assert.Equal("+OK\r\n", c.Call("SET", "b", "2"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"));
        Assert.Equal(misconf, c.Call("SET", "b", "3"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "dbfilename", "dump.rdb"));
        Assert.Equal("+OK\r\n", c.Call("SAVE"));
        Assert.Equal("+OK\r\n", c.Call("SET", "b", "3"));

        // A save point: at least 1 change and more than 1 second since the last save starts a background save.
        string saves = System.Text.RegularExpressions.Regex.Match(c.Call("INFO", "persistence"), @"rdb_saves:(\d+)").Groups[1].Value;
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "save", "1 1"));
        var clock = Stopwatch.StartNew();
        while (System.Text.RegularExpressions.Regex.Match(c.Call("INFO", "persistence"), @"rdb_saves:(\d+)").Groups[1].Value == saves)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the save point did not save");
            Thread.Sleep(100);
        }
        WaitForBgsave(c);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "save", ""));
        Assert.Equal(1, RdbFileLoader.LoadFile(Path.Combine(dir.Path, "dump.rdb"), new Keyspace(16), Options()).KeysLoaded);
    }

    /// <summary>A dump.rdb that cannot be loaded stops start-up (never serving part of it); SHUTDOWN with save points saves.</summary>
    [Fact]
    public async Task StartupRefusesABadFileAndShutdownSaves()
    {
        byte[] file = await SmallFile();
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "dump.rdb"), file[..^20]);
        RdbLoadException e = await Assert.ThrowsAsync<RdbLoadException>(() => Start(dir.Path));
        Assert.Contains("byte offset", e.Message);

        File.Delete(Path.Combine(dir.Path, "dump.rdb"));
        RespKvHost host = await Start(dir.Path, o => o.Save = "3600 1");
        try
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+OK\r\n", c.Call("SET", "saved-at-shutdown", "1"));
            c.SendRaw(RespTestClient.Encode("SHUTDOWN"));
            Assert.True(c.IsClosedByServer());
        }
        finally
        {
            await host.DisposeAsync();
        }
        Assert.Equal(1, RdbFileLoader.LoadFile(Path.Combine(dir.Path, "dump.rdb"), new Keyspace(16), Options()).KeysLoaded);
    }
}
