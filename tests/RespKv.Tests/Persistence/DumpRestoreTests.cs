using System.Buffers.Binary;
using System.Text;
using RespKv.Configuration;
using RespKv.Persistence.Rdb;
using RespKv.Server;
using RespKv.Storage.Kinds;
using RespKv.Tests.Support;
using Xunit.Abstractions;

namespace RespKv.Tests.Persistence;

/// <summary>A private RespKv with DEBUG enabled (DEBUG DIGEST-VALUE compares values), shared by <see cref="DumpRestoreTests"/>.</summary>
public sealed class DumpServerFixture : IAsyncLifetime
{
    /// <summary>The running host.</summary>
    public RespKvHost Host { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = ProtectedAction.Yes);

    /// <inheritdoc />
    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>
/// DUMP / RESTORE with Redis 7.0's RDB object format: round trips of every type and encoding (small and large), the payload
/// bytes against a real redis-server 7.0.15 where the encoding and layout are the same, payloads crossing both ways, the
/// legacy encodings of older RDB files (zipmap, ziplist, intset, quicklist v1), RESTORE's options and errors, and corrupt
/// payloads (truncated, bytes flipped with a valid checksum) that must be refused without harm.
/// </summary>
public sealed class DumpRestoreTests(DumpServerFixture fixture, ITestOutputHelper output) : IClassFixture<DumpServerFixture>
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private RespTestClient Connect() => new(fixture.Host.Port);

    /// <summary>The bytes of a bulk-string reply; null for a null bulk string.</summary>
    private static byte[]? Bulk(string reply)
    {
        if (reply is "$-1\r\n" or "_\r\n") return null;
        Assert.StartsWith("$", reply);
        int eol = reply.IndexOf("\r\n", StringComparison.Ordinal);
        int n = int.Parse(reply[1..eol], System.Globalization.CultureInfo.InvariantCulture);
        return Latin1.GetBytes(reply.Substring(eol + 2, n));
    }

    private static string S(byte[] bytes) => Latin1.GetString(bytes);

    /// <summary>A value built by commands on key <c>K</c>, and whether redis-server 7.0 dumps it to the same bytes as RespKv.</summary>
    public sealed record Case(string Name, bool SameBytes, string[][] Commands)
    {
        /// <inheritdoc />
        public override string ToString() => Name;
    }

    private static string[] Args(params string[] args) => args;

    private static string[] Many(string command, int count, Func<int, string[]> items) =>
        [command, "K", .. Enumerable.Range(0, count).SelectMany(items)];

    internal static readonly Case[] Cases =
    [
        new("string-short", true, [Args("SET", "K", "hello")]),
        new("string-int8", true, [Args("SET", "K", "-12")]),
        new("string-int16", true, [Args("SET", "K", "3000")]),
        new("string-int32", true, [Args("SET", "K", "-2000000000")]),
        new("string-int64", true, [Args("SET", "K", "12345678901234")]),
        new("string-not-canonical", true, [Args("SET", "K", "007")]),
        new("string-lzf", true, [Args("SET", "K", string.Concat(Enumerable.Repeat("abcdefgh", 40)))]),
        new("string-incompressible", true, [Args("SET", "K", S(Noise(300, 1)))]),
        new("string-large", true, [Args("SET", "K", string.Concat(Enumerable.Range(0, 20000).Select(i => (char)('a' + i % 26))))]),
        new("bitmap", true, [Args("SETBIT", "K", "1000", "1"), Args("SETBIT", "K", "7", "1")]),
        new("hyperloglog", true, [Args("PFADD", "K", "a", "b", "c", "d")]),
        new("list-small", true, [Args("RPUSH", "K", "a", "1", "-5", "300", "-70000", "5000000000", "x y z", new string('w', 80))]),
        new("list-many-nodes", true, [Many("RPUSH", 5000, i => [$"element-{i}"])]),
        new("list-big-elements", true, [Many("RPUSH", 60, i => [new string((char)('a' + i % 26), 700 + i)])]),
        new("list-huge-element", true, [Args("RPUSH", "K", "a", new string('q', 20000), "b")]),
        new("set-intset", true, [Args("SADD", "K", "1", "-2", "300", "70000")]),
        new("set-intset64", true, [Args("SADD", "K", "5", "-9000000000")]),
        new("set-one-string", true, [Args("SADD", "K", "member")]),
        new("set-hashtable", false, [Many("SADD", 40, i => [$"m{i}"])]),
        new("set-large-intset-converted", false, [Many("SADD", 600, i => [$"{i * 7}"])]),
        new("zset-listpack", true, [Args("ZADD", "K", "1", "a", "2.5", "b", "-3", "c", "1e20", "d", "inf", "e", "-inf", "f", "100000000000000000", "g", "0.1", "h")]),
        new("zset-skiplist-count", true, [Many("ZADD", 300, i => [$"{i * 0.5}", $"member:{i}"])]),
        new("zset-skiplist-long-member", true, [Args("ZADD", "K", "1", new string('m', 100), "2", "b")]),
        new("hash-one-field", true, [Args("HSET", "K", "field", "value")]),
        new("hash-one-int", true, [Args("HSET", "K", "1", "-70000")]),
        new("hash-listpack", false, [Args("HSET", "K", "f1", "v1", "f2", "2", "f3", new string('v', 60))]),
        new("hash-hashtable-count", false, [Many("HSET", 600, i => [$"f{i}", $"v{i}"])]),
        new("hash-hashtable-long-value", false, [Args("HSET", "K", "a", "1", "b", new string('x', 100))]),
        new("stream", true, [Args("XADD", "K", "1-1", "a", "1", "b", "2"), Args("XADD", "K", "1-2", "a", "3", "b", "4"), Args("XADD", "K", "5-0", "c", "x")]),
        new("stream-deleted", true, [Args("XADD", "K", "1-1", "a", "1"), Args("XADD", "K", "1-2", "a", "2"), Args("XADD", "K", "1-3", "a", "3"), Args("XDEL", "K", "1-2")]),
        new("stream-empty", true, [Args("XADD", "K", "1-1", "a", "1"), Args("XDEL", "K", "1-1")]),
        new("stream-many-nodes", true, [.. Enumerable.Range(1, 450).Select(i => Args("XADD", "K", $"{i}-{i % 3}", "field", $"value{i}", "n", $"{i}"))]),
        new("stream-groups", false,
        [
            Args("XADD", "K", "1-1", "a", "1"), Args("XADD", "K", "1-2", "a", "2"), Args("XADD", "K", "2-0", "b", "3"),
            Args("XGROUP", "CREATE", "K", "g1", "0"), Args("XGROUP", "CREATE", "K", "g2", "$"),
            Args("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "K", ">"),
            Args("XREADGROUP", "GROUP", "g1", "carol", "COUNT", "1", "STREAMS", "K", ">"),
            Args("XGROUP", "CREATECONSUMER", "K", "g1", "bob"), Args("XDEL", "K", "1-1"),
        ]),
    ];

    /// <summary>Every case, for theories.</summary>
    public static TheoryData<string> CaseNames => [.. Cases.Select(c => c.Name)];

    private static Case Get(string name) => Cases.Single(c => c.Name == name);

    internal static void Build(RespTestClient c, Case value, string key)
    {
        c.Call("DEL", key);
        foreach (string[] command in value.Commands)
        {
            string reply = c.Call([.. command.Select(a => a == "K" ? key : a)]);
            Assert.False(reply.StartsWith('-'), $"{value.Name}: {string.Join(' ', command.Take(4))} → {reply}");
        }
    }

    private static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>RespKv → DUMP → RESTORE under another key: same value (DEBUG DIGEST-VALUE), same encoding, same payload again.</summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void DumpRestoreRoundTrip(string name)
    {
        Case value = Get(name);
        using RespTestClient c = Connect();
        string key = "dump:rt:" + name, copy = key + ":copy";
        Build(c, value, key);
        byte[] payload = Bulk(c.Call("DUMP", key))!;
        Assert.True(Rdb.Verify(payload));
        c.Call("DEL", copy);
        Assert.Equal("+OK\r\n", c.Call("RESTORE", copy, "0", S(payload)));
        Assert.Equal(c.Call("DEBUG", "DIGEST-VALUE", key), c.Call("DEBUG", "DIGEST-VALUE", copy));
        // A restored string is re-encoded from its bytes (embstr, int or raw), as Redis's tryObjectEncoding does.
        if (!name.StartsWith("string", StringComparison.Ordinal) && name is not ("bitmap" or "hyperloglog"))
            Assert.Equal(c.Call("OBJECT", "ENCODING", key), c.Call("OBJECT", "ENCODING", copy));
        Assert.Equal(c.Call("TYPE", key), c.Call("TYPE", copy));
        Assert.Equal(Convert.ToHexString(payload), Convert.ToHexString(Bulk(c.Call("DUMP", copy))!));
        Assert.Equal(":-1\r\n", c.Call("PTTL", copy));
    }

    /// <summary>
    /// Against redis-server 7.0.15: the same commands give the same DUMP bytes where the layout is the same; Redis's payload
    /// restored in RespKv and RespKv's restored in Redis hold the same value (DEBUG DIGEST-VALUE on each side).
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void PayloadsMatchAndCrossWithRedis(string name)
    {
        Case value = Get(name);
        using RespTestClient ours = Connect();
        string key = "dump:x:" + name;
        Build(ours, value, key);
        byte[] ourPayload = Bulk(ours.Call("DUMP", key))!;
        string ourDigest = ours.Call("DEBUG", "DIGEST-VALUE", key);
        ReferenceRedis.Run(output, ["--enable-debug-command", "yes"], redis =>
        {
            Build(redis, value, key);
            byte[] redisPayload = Bulk(redis.Call("DUMP", key))!;
            if (value.SameBytes) Assert.Equal(Convert.ToHexString(redisPayload), Convert.ToHexString(ourPayload));
            Assert.Equal(redis.Call("DEBUG", "DIGEST-VALUE", key), ourDigest);
            // Redis's payload into RespKv, RespKv's into Redis.
            Assert.Equal("+OK\r\n", ours.Call("RESTORE", key + ":from-redis", "0", S(redisPayload), "REPLACE"));
            Assert.Equal(ourDigest, ours.Call("DEBUG", "DIGEST-VALUE", key + ":from-redis"));
            Assert.Equal("+OK\r\n", redis.Call("RESTORE", key + ":from-respkv", "0", S(ourPayload), "REPLACE"));
            Assert.Equal(ourDigest, redis.Call("DEBUG", "DIGEST-VALUE", key + ":from-respkv"));
            // Both sides restore to the same encoding.
            Assert.Equal(redis.Call("OBJECT", "ENCODING", key + ":from-respkv"), ours.Call("OBJECT", "ENCODING", key + ":from-redis"));
            if (name == "stream-groups")
            {
                // Groups, consumers and PELs cross whole: XINFO STREAM FULL agrees on both sides but for times.
                string theirs = redis.Call("XINFO", "STREAM", key + ":from-respkv", "FULL");
                string mine = ours.Call("XINFO", "STREAM", key + ":from-redis", "FULL");
                Assert.Equal(Replies.Bulks(theirs).Count, Replies.Bulks(mine).Count);
                Assert.Contains("alice", mine);
                Assert.Contains("carol", mine);
                Assert.Contains("bob", mine);
            }
        });
    }

    /// <summary>
    /// Redis 7.0.15's test RDB files, written by Redis 2.x–6.x: each key's object (zipmap, ziplist and listpack hashes,
    /// ziplist lists, intsets, ziplist sorted sets, quicklist v1) is cut out of the file, framed as a DUMP payload of the
    /// file's RDB version, and restored in RespKv and in redis-server 7.0.15: both hold the same value.
    /// </summary>
    [Theory]
    [InlineData(nameof(LegacyRdbAssets.Encodings))]
    [InlineData(nameof(LegacyRdbAssets.HashZiplist))]
    [InlineData(nameof(LegacyRdbAssets.HashZipmap))]
    [InlineData(nameof(LegacyRdbAssets.ListQuicklist))]
    [InlineData(nameof(LegacyRdbAssets.ZsetZiplist))]
    public void RestoresLegacyEncodings(string asset)
    {
        string hex = (string)typeof(LegacyRdbAssets).GetField(asset)!.GetValue(null)!;
        List<(string Key, byte Type, byte[] Payload)> objects = CutObjects(Convert.FromHexString(hex));
        Assert.NotEmpty(objects);
        using RespTestClient ours = Connect();
        var digests = new Dictionary<string, string>();
        foreach ((string key, byte type, byte[] payload) in objects)
        {
            Assert.Equal("+OK\r\n", ours.Call("RESTORE", "legacy:" + key, "0", S(payload), "REPLACE"));
            digests[key] = ours.Call("DEBUG", "DIGEST-VALUE", "legacy:" + key);
            output.WriteLine($"{asset} {key}: type {type} → {ours.Call("TYPE", "legacy:" + key).Trim()} {ours.Call("OBJECT", "ENCODING", "legacy:" + key).Trim()}");
        }
        Assert.Contains(objects, o => o.Type is Rdb.TypeHashZipmap or Rdb.TypeHashZiplist or Rdb.TypeListZiplist or Rdb.TypeZsetZiplist or Rdb.TypeListQuicklist or Rdb.TypeSetIntset);
        ReferenceRedis.Run(output, ["--enable-debug-command", "yes"], redis =>
        {
            foreach ((string key, _, byte[] payload) in objects)
            {
                Assert.Equal("+OK\r\n", redis.Call("RESTORE", "legacy:" + key, "0", S(payload), "REPLACE"));
                Assert.Equal(redis.Call("DEBUG", "DIGEST-VALUE", "legacy:" + key), digests[key]);
                Assert.Equal(redis.Call("OBJECT", "ENCODING", "legacy:" + key), ours.Call("OBJECT", "ENCODING", "legacy:" + key));
            }
        });
    }

    /// <summary>
    /// Walks an RDB file (header <c>REDISnnnn</c>, opcodes AUX, RESIZEDB, SELECTDB, EXPIRETIME[_MS], IDLE, FREQ, EOF) and returns each
    /// key with its object framed as a DUMP payload: type byte and body, the file's RDB version, CRC64.
    /// </summary>
    private static List<(string, byte, byte[])> CutObjects(byte[] file)
    {
        Assert.Equal("REDIS", Encoding.ASCII.GetString(file, 0, 5));
        int version = int.Parse(Encoding.ASCII.GetString(file, 5, 4), System.Globalization.CultureInfo.InvariantCulture);
        var result = new List<(string, byte, byte[])>();
        var reader = new RdbReader(file.AsSpan(9));
        var options = new ServerOptions();
        while (reader.TryReadByte(out byte op))
        {
            switch (op)
            {
                case 0xFF: return result;
                case 0xFE: Assert.True(reader.TryReadLength(out _)); continue;
                case 0xFB: Assert.True(reader.TryReadLength(out _) && reader.TryReadLength(out _)); continue;
                case 0xFA: Assert.NotNull(reader.ReadString()); Assert.NotNull(reader.ReadString()); continue;
                case 0xFD: Assert.True(reader.TryRead(4, out _)); continue;
                case 0xFC: Assert.True(reader.TryRead(8, out _)); continue;
                case 0xF8: Assert.True(reader.TryReadLength(out _)); continue;
                case 0xF9: Assert.True(reader.TryRead(1, out _)); continue;
            }
            string key = Latin1.GetString(reader.ReadString()!);
            int start = reader.Position;
            Assert.NotNull(RdbObjectReader.ReadObject(ref reader, op, options, 0));
            var payload = new MemoryStream();
            payload.WriteByte(op);
            payload.Write(file.AsSpan(9 + start, reader.Position - start));
            Span<byte> footer = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(footer, (ushort)version);
            payload.Write(footer);
            Span<byte> crc = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(crc, Crc64Jones.Compute(payload.GetBuffer().AsSpan(0, (int)payload.Length)));
            payload.Write(crc);
            result.Add((key, op, payload.ToArray()));
        }
        return result;
    }

    /// <summary>Frames an RDB object (type byte and body) as a DUMP payload with a valid footer.</summary>
    private static byte[] Frame(ReadOnlySpan<byte> body)
    {
        var payload = new MemoryStream();
        payload.Write(body);
        Rdb.AppendFooter(payload);
        return payload.ToArray();
    }

    [Fact]
    public void DumpOfAMissingKeyIsNil()
    {
        using RespTestClient c = Connect();
        c.Call("DEL", "dump:missing");
        Assert.Equal("$-1\r\n", c.Call("DUMP", "dump:missing"));
        Assert.Equal("-ERR wrong number of arguments for 'dump' command\r\n", c.Call("DUMP"));
        Assert.Equal("-ERR wrong number of arguments for 'restore' command\r\n", c.Call("RESTORE", "k", "0"));
    }

    /// <summary>RESTORE's errors, in Redis 7.0's order and words.</summary>
    [Fact]
    public void RestoreErrors()
    {
        using RespTestClient c = Connect();
        c.Call("SET", "dump:e", "v");
        string payload = S(Bulk(c.Call("DUMP", "dump:e"))!);
        Assert.Equal("-BUSYKEY Target key name already exists.\r\n", c.Call("RESTORE", "dump:e", "0", payload));
        // Options are parsed first, before the key and the TTL are looked at.
        Assert.Equal("-ERR syntax error\r\n", c.Call("RESTORE", "dump:e", "0", payload, "BOGUS"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("RESTORE", "dump:e", "0", payload, "IDLETIME"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("RESTORE", "dump:e", "0", payload, "IDLETIME", "1", "FREQ", "1"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("RESTORE", "dump:e", "0", payload, "FREQ", "1", "IDLETIME", "1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("RESTORE", "dump:e", "0", payload, "IDLETIME", "x"));
        Assert.Equal("-ERR Invalid IDLETIME value, must be >= 0\r\n", c.Call("RESTORE", "dump:e", "0", payload, "IDLETIME", "-1"));
        Assert.Equal("-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n", c.Call("RESTORE", "dump:e", "0", payload, "FREQ", "256"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("RESTORE", "dump:e2", "x", payload));
        Assert.Equal("-ERR Invalid TTL value, must be >= 0\r\n", c.Call("RESTORE", "dump:e2", "-1", payload));
        Assert.Equal("-ERR DUMP payload version or checksum are wrong\r\n", c.Call("RESTORE", "dump:e2", "0", "short"));
        string flipped = payload[..^1] + (char)(payload[^1] ^ 1);
        Assert.Equal("-ERR DUMP payload version or checksum are wrong\r\n", c.Call("RESTORE", "dump:e2", "0", flipped));
        // RDB version 11 (above 7.0's 10) is refused even with a right checksum.
        byte[] v11 = Latin1.GetBytes(payload);
        v11[^10] = 11;
        BinaryPrimitives.WriteUInt64LittleEndian(v11.AsSpan(v11.Length - 8), Crc64Jones.Compute(v11.AsSpan(0, v11.Length - 8)));
        Assert.Equal("-ERR DUMP payload version or checksum are wrong\r\n", c.Call("RESTORE", "dump:e2", "0", S(v11)));
        // Redis 7.2's RDB_TYPE_SET_LISTPACK (20), a module type (7), an empty list: Bad data format.
        Assert.Equal("-ERR Bad data format\r\n", c.Call("RESTORE", "dump:e2", "0", S(Frame([20, 0x07, 0x07, 0, 0, 0, 0, 0, 0xFF]))));
        Assert.Equal("-ERR Bad data format\r\n", c.Call("RESTORE", "dump:e2", "0", S(Frame([7, 1]))));
        Assert.Equal("-ERR Bad data format\r\n", c.Call("RESTORE", "dump:e2", "0", S(Frame([Rdb.TypeListQuicklist2, 0]))));
        Assert.Equal("-ERR Bad data format\r\n", c.Call("RESTORE", "dump:e2", "0", S(Frame([Rdb.TypeSet, 2, 1, (byte)'a', 1, (byte)'a']))));
        // A count of 2^63 pairs (2 × count would wrap to 0) and 2^64-1 members: refused, never an empty value.
        Assert.Equal("-ERR Bad data format\r\n", c.Call("RESTORE", "dump:e2", "0", S(Frame([Rdb.TypeHash, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0]))));
        Assert.Equal("-ERR Bad data format\r\n", c.Call("RESTORE", "dump:e2", "0", S(Frame([Rdb.TypeSet, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "dump:e2"));
    }

    /// <summary>TTL (relative and ABSTTL), a TTL already past, REPLACE, IDLETIME and FREQ, and the <c>restore</c> event.</summary>
    [Fact]
    public void RestoreOptions()
    {
        using RespTestClient c = Connect();
        c.Call("SET", "dump:o", "value");
        string payload = S(Bulk(c.Call("DUMP", "dump:o"))!);
        Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:ttl", "100000", payload));
        long pttl = long.Parse(c.Call("PTTL", "dump:o:ttl")[1..^2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pttl, 90_000, 100_000);
        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 200_000;
        Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:abs", at.ToString(System.Globalization.CultureInfo.InvariantCulture), payload, "ABSTTL"));
        Assert.Equal($":{at}\r\n", c.Call("PEXPIRETIME", "dump:o:abs"));
        // A time already past: OK, nothing created; with REPLACE the old key goes.
        Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:past", "1", payload, "ABSTTL"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "dump:o:past"));
        c.Call("SET", "dump:o:past", "old");
        Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:past", "1", payload, "ABSTTL", "REPLACE"));
        Assert.Equal(":0\r\n", c.Call("EXISTS", "dump:o:past"));
        // REPLACE over another type.
        c.Call("RPUSH", "dump:o:list", "x");
        Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:list", "0", payload, "REPLACE", "IDLETIME", "1000"));
        Assert.InRange(int.Parse(c.Call("OBJECT", "IDLETIME", "dump:o:list")[1..^2], System.Globalization.CultureInfo.InvariantCulture), 999, 1010);
        Assert.Equal("$5\r\nvalue\r\n", c.Call("GET", "dump:o:list"));
        // FREQ without an LFU policy is accepted and ignored, as Redis; with one it sets the counter.
        Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:freq", "0", payload, "FREQ", "100"));
        c.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
        try
        {
            Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:freq", "0", payload, "FREQ", "100", "REPLACE"));
            Assert.Equal(":100\r\n", c.Call("OBJECT", "FREQ", "dump:o:freq"));
        }
        finally
        {
            c.Call("CONFIG", "SET", "maxmemory-policy", "noeviction");
        }
        // Keyspace events: new, then restore (class g).
        using RespTestClient sub = Connect();
        c.Call("CONFIG", "SET", "notify-keyspace-events", "KEA");
        try
        {
            sub.Call("SUBSCRIBE", "__keyevent@0__:restore");
            Assert.Equal("+OK\r\n", c.Call("RESTORE", "dump:o:event", "0", payload));
            Assert.Contains("dump:o:event", sub.ReadReply());
        }
        finally
        {
            c.Call("CONFIG", "SET", "notify-keyspace-events", "");
        }
    }

    private static string Latin1Record(params string[] args)
    {
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (string a in args) sb.Append('$').Append(Latin1.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return sb.ToString();
    }

    /// <summary>
    /// Propagation as Redis's restoreCommand: a relative TTL is logged as the absolute time with ABSTTL appended, other
    /// RESTOREs as they came, a RESTORE … REPLACE whose time has passed as DEL; the file replays to the same keys.
    /// </summary>
    [Fact]
    public async Task RestoreIsLoggedWithAnAbsoluteTtl()
    {
        using var dir = new TempDir();
        string payload;
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            c.Call("RPUSH", "src", "a", "b");
            payload = S(Bulk(c.Call("DUMP", "src"))!);
            Assert.Equal("+OK\r\n", c.Call("RESTORE", "rel", "500000", payload));
            string at = c.Call("PEXPIRETIME", "rel")[1..^2];
            Assert.Equal("+OK\r\n", c.Call("RESTORE", "plain", "0", payload, "IDLETIME", "5"));
            Assert.Equal("+OK\r\n", c.Call("RESTORE", "plain", "1", payload, "ABSTTL", "REPLACE"));
            Assert.Equal("+OK\r\n", c.Call("RESTORE", "gone", "1", payload, "ABSTTL")); // nothing happens: not logged
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            string expected = Latin1Record("SELECT", "0") + Latin1Record("RPUSH", "src", "a", "b")
                + Latin1Record("RESTORE", "rel", at, payload, "ABSTTL")
                + Latin1Record("RESTORE", "plain", "0", payload, "IDLETIME", "5") + Latin1Record("DEL", "plain");
            Assert.Equal(expected, Latin1.GetString(await File.ReadAllBytesAsync(dir.Aof)));
        }
        await using (RespKvHost host = await AofTestSupport.Start(dir.Path))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nb\r\n", c.Call("LRANGE", "rel", "0", "-1"));
            Assert.Matches(@"^:\d{13}\r\n$", c.Call("PEXPIRETIME", "rel"));
            Assert.Equal(":0\r\n", c.Call("EXISTS", "plain"));
        }
    }

    /// <summary>
    /// Corrupt payloads straight into the reader: every truncation of each case's object and thousands of random byte changes.
    /// The reader never throws; what it accepts is a whole value that serializes again.
    /// </summary>
    [Fact]
    public void CorruptObjectsAreRefusedWithoutHarm()
    {
        using RespTestClient c = Connect();
        var options = new ServerOptions();
        var random = new Random(23);
        int accepted = 0, refused = 0;
        foreach (Case value in Cases)
        {
            string key = "dump:fuzz:" + value.Name;
            Build(c, value, key);
            byte[] payload = Bulk(c.Call("DUMP", key))!;
            byte[] body = payload[..^Rdb.FooterLength];
            int step = Math.Max(1, body.Length / 300);
            for (int length = 0; length < body.Length; length += step)
                Check(body.AsSpan(0, length).ToArray());
            for (int i = 0; i < 600; i++)
            {
                byte[] mutated = (byte[])body.Clone();
                int flips = 1 + random.Next(3);
                for (int f = 0; f < flips; f++)
                {
                    int at = random.Next(mutated.Length);
                    mutated[at] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)(mutated[at] ^ (1 << random.Next(8)));
                }
                Check(mutated);
            }
        }
        output.WriteLine($"accepted {accepted}, refused {refused}");
        Assert.True(refused > 1000);

        void Check(byte[] body)
        {
            byte[] framed = Frame(body);
            object? restored = RdbObjectReader.Read(framed, options, 0);
            if (restored == null)
            {
                refused++;
                return;
            }
            accepted++;
            var again = new MemoryStream();
            ValueKinds.Of(restored).WriteRdb(again, restored, options);
            Assert.True(again.Length > 0);
        }
    }

    /// <summary>Corrupt payloads through RESTORE: the checksum error or Bad data format (or OK for a change that still reads), and the server lives on.</summary>
    [Fact]
    public void CorruptPayloadsThroughRestore()
    {
        using RespTestClient c = Connect();
        var random = new Random(7);
        foreach (string name in new[] { "list-small", "zset-listpack", "hash-listpack", "stream-groups", "set-intset", "string-lzf" })
        {
            string key = "dump:corrupt:" + name;
            Build(c, Get(name), key);
            byte[] payload = Bulk(c.Call("DUMP", key))!;
            for (int length = 0; length < payload.Length; length++)
            {
                string reply = c.Call("RESTORE", key + ":t", "0", S(payload[..length]), "REPLACE");
                Assert.Equal("-ERR DUMP payload version or checksum are wrong\r\n", reply);
            }
            for (int i = 0; i < 150; i++)
            {
                byte[] body = payload[..^Rdb.FooterLength];
                body[random.Next(body.Length)] ^= (byte)(1 << random.Next(8));
                string reply = c.Call("RESTORE", key + ":f", "0", S(Frame(body)), "REPLACE");
                Assert.True(reply is "+OK\r\n" or "-ERR Bad data format\r\n", reply);
                if (reply == "+OK\r\n") Assert.StartsWith("$", c.Call("DUMP", key + ":f"));
            }
        }
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }
}
