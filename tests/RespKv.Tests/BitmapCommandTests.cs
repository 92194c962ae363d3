using System.Numerics;
using System.Text;
using RespKv.Commands;
using RespKv.Server;
using RespKv.Tests.Expiry;
using RespKv.Tests.Support;
using Xunit.Abstractions;

namespace RespKv.Tests;

/// <summary>
/// The bitmap commands (https://redis.io/commands/?group=bitmap) through a real socket: exact replies and errors of
/// redis-server 7.0.15 (each sequence was run against it first; the <c>bitmaps</c> conformance family compares many more
/// byte for byte), a seeded model-based randomized test of SETBIT/GETBIT/BITFIELD/BITCOUNT/BITPOS against a plain bit list
/// whose overflow rules are computed with <see cref="BigInteger"/> (not with the server's code), seeded random commands
/// (valid and invalid) answered exactly as a fresh redis-server answers them when it is installed, what is propagated to the
/// AOF (a BITFIELD of GETs and a SETBIT that changes nothing are not), and readers never seeing a half-written field.
/// </summary>
public sealed class BitmapCommandTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static string Bulk(string s) => $"${Latin1.GetByteCount(s)}\r\n{s}\r\n";

    private static string Int(long n) => $":{n}\r\n";

    [Fact]
    public void ExactRepliesOfRedis()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(0), c.Call("SETBIT", "b:k", "7", "1"));
        Assert.Equal(Int(1), c.Call("SETBIT", "b:k", "7", "0"));
        Assert.Equal(Bulk("\0"), c.Call("GET", "b:k"));
        Assert.Equal(Int(0), c.Call("SETBIT", "b:k", "1", "1"));
        Assert.Equal(Bulk("@"), c.Call("GET", "b:k"));
        Assert.Equal(Bulk("raw"), c.Call("OBJECT", "ENCODING", "b:k"));
        Assert.Equal("-ERR bit is not an integer or out of range\r\n", c.Call("SETBIT", "b:k", "0", "2"));
        Assert.Equal("-ERR bit offset is not an integer or out of range\r\n", c.Call("SETBIT", "b:k", "4294967296", "1"));
        Assert.Equal("-ERR bit offset is not an integer or out of range\r\n", c.Call("GETBIT", "b:k", "-1"));
        Assert.Equal(Int(0), c.Call("GETBIT", "b:k", "4294967295"));
        Assert.Equal("+OK\r\n", c.Call("SET", "b:s", "foobar"));
        Assert.Equal(Int(26), c.Call("BITCOUNT", "b:s"));
        Assert.Equal(Int(6), c.Call("BITCOUNT", "b:s", "1", "1"));
        Assert.Equal(Int(17), c.Call("BITCOUNT", "b:s", "5", "30", "BIT"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("BITCOUNT", "b:s", "0"));
        Assert.Equal(Int(0), c.Call("BITCOUNT", "b:missing", "x", "y"));
        Assert.Equal(Int(1), c.Call("BITPOS", "b:s", "1"));
        Assert.Equal(Int(-1), c.Call("BITPOS", "b:missing", "1"));
        Assert.Equal("-ERR The bit argument must be 1 or 0.\r\n", c.Call("BITPOS", "b:s", "2"));
        Assert.Equal(Int(6), c.Call("BITOP", "NOT", "b:d", "b:s"));
        Assert.Equal("-ERR BITOP NOT must be called with a single source key.\r\n", c.Call("BITOP", "NOT", "b:d", "b:s", "b:s"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("BITOP", "NAND", "b:d", "b:s"));
        Assert.Equal(Int(0), c.Call("BITOP", "AND", "b:d", "b:missing"));
        Assert.Equal(Int(0), c.Call("EXISTS", "b:d"));
        Assert.Equal("*3\r\n:0\r\n:1\r\n:-56\r\n", c.Call("BITFIELD", "b:f", "SET", "i8", "0", "100", "INCRBY", "u2", "100", "1", "INCRBY", "i8", "0", "100"));
        Assert.Equal("*2\r\n:3\r\n$-1\r\n", c.Call("BITFIELD", "b:f", "OVERFLOW", "SAT", "INCRBY", "u2", "100", "5", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "1"));
        Assert.Equal("-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n", c.Call("BITFIELD", "b:f", "GET", "u64", "0"));
        Assert.Equal("-ERR BITFIELD_RO only supports the GET subcommand\r\n", c.Call("BITFIELD_RO", "b:f", "SET", "u8", "0", "1"));
        Assert.Equal("-ERR Invalid OVERFLOW type specified\r\n", c.Call("BITFIELD", "b:f", "OVERFLOW", "X"));
        Assert.Equal("*1\r\n:-56\r\n", c.Call("BITFIELD_RO", "b:f", "GET", "i8", "#0"));
        Assert.Equal(":1\r\n", c.Call("LPUSH", "b:l", "x"));
        Assert.Equal("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", c.Call("SETBIT", "b:l", "0", "1"));
    }

    /// <summary>The model: a bit list, and the field rules of the BITFIELD documentation computed with big integers.</summary>
    private sealed class BitModel
    {
        public readonly List<byte> Bytes = [];

        public int Bit(long offset) => offset >> 3 < Bytes.Count ? (Bytes[(int)(offset >> 3)] >> (7 - (int)(offset & 7))) & 1 : 0;

        public void SetBit(long offset, int bit)
        {
            while (Bytes.Count <= offset >> 3) Bytes.Add(0);
            int mask = 1 << (7 - (int)(offset & 7));
            Bytes[(int)(offset >> 3)] = (byte)(bit != 0 ? Bytes[(int)(offset >> 3)] | mask : Bytes[(int)(offset >> 3)] & ~mask);
        }

        public BigInteger Field(long offset, int bits, bool signed)
        {
            BigInteger v = 0;
            for (int i = 0; i < bits; i++) v = v * 2 + Bit(offset + i);
            if (signed && v >= BigInteger.One << (bits - 1)) v -= BigInteger.One << bits;
            return v;
        }

        public void SetField(long offset, int bits, BigInteger value)
        {
            BigInteger u = value < 0 ? value + (BigInteger.One << bits) : value;
            for (int i = bits - 1; i >= 0; i--)
            {
                SetBit(offset + i, (int)(u % 2));
                u /= 2;
            }
        }

        /// <summary>Applies the overflow rule to <paramref name="v"/>: the stored value, or null for FAIL out of range.</summary>
        public static BigInteger? Fit(BigInteger v, int bits, bool signed, string overflow)
        {
            BigInteger min = signed ? -(BigInteger.One << (bits - 1)) : 0, max = signed ? (BigInteger.One << (bits - 1)) - 1 : (BigInteger.One << bits) - 1;
            if (v >= min && v <= max) return v;
            if (overflow == "FAIL") return null;
            if (overflow == "SAT") return v > max ? max : min;
            BigInteger modulus = BigInteger.One << bits, w = ((v - min) % modulus + modulus) % modulus + min;
            return w;
        }

        /// <summary>(start, end) normalized as the documentation says: negative from the end, clamped; null when empty.</summary>
        public static (long S, long E)? Range(long start, long end, long length)
        {
            if (start < 0) start += length;
            if (end < 0) end += length;
            start = Math.Max(start, 0);
            end = Math.Max(end, 0);
            end = Math.Min(end, length - 1);
            return start > end ? null : (start, end);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomOperationsMatchABitListModel(int seed)
    {
        using RespTestClient c = server.Connect();
        string key = $"b:model:{seed}";
        var model = new BitModel();
        var random = new Random(seed);
        string overflow;
        Assert.Equal(Int(0), c.Call("SETBIT", key, "0", "0"));
        model.SetBit(0, 0);
        for (int step = 0; step < 1500; step++)
        {
            int kind = random.Next(10);
            long maxBit = random.Next(4) == 0 ? 600 : 90;
            if (kind < 2)
            {
                long offset = random.NextInt64(maxBit);
                int bit = random.Next(2);
                Assert.Equal(Int(model.Bit(offset)), c.Call("SETBIT", key, offset.ToString(), bit.ToString()));
                model.SetBit(offset, bit);
            }
            else if (kind == 2)
            {
                long offset = random.NextInt64(maxBit + 50);
                Assert.Equal(Int(model.Bit(offset)), c.Call("GETBIT", key, offset.ToString()));
            }
            else if (kind < 7)
            {
                // One BITFIELD of 1..4 subcommands, OVERFLOW (WRAP at the start of each command) switched now and then.
                overflow = "WRAP";
                var args = new List<string> { "BITFIELD", key };
                var expected = new StringBuilder();
                int ops = random.Next(1, 5);
                expected.Append('*').Append(ops).Append("\r\n");
                for (int i = 0; i < ops; i++)
                {
                    if (random.Next(4) == 0)
                    {
                        overflow = new[] { "WRAP", "SAT", "FAIL" }[random.Next(3)];
                        args.AddRange(["OVERFLOW", overflow]);
                    }
                    bool signed = random.Next(2) == 0;
                    int bits = random.Next(1, signed ? 65 : 64);
                    long offset = random.NextInt64(maxBit);
                    bool hash = random.Next(5) == 0;
                    string offsetText = hash ? "#" + (offset / bits) : offset.ToString();
                    if (hash) offset = offset / bits * bits;
                    string type = (signed ? "i" : "u") + bits;
                    BigInteger old = model.Field(offset, bits, signed);
                    int op = random.Next(3);
                    if (op == 0)
                    {
                        args.AddRange(["GET", type, offsetText]);
                        expected.Append(':').Append(old).Append("\r\n");
                        continue;
                    }
                    long value = random.Next(3) switch
                    {
                        0 => random.NextInt64(-300, 300),
                        1 => random.NextInt64(long.MinValue, long.MaxValue),
                        _ => (random.Next(2) == 0 ? 1L : -1L) << random.Next(63),
                    };
                    BigInteger target = op == 1 ? (signed ? value : (BigInteger)(ulong)value) : old + value;
                    BigInteger? stored = BitModel.Fit(target, bits, signed, overflow);
                    args.AddRange([op == 1 ? "SET" : "INCRBY", type, offsetText, value.ToString()]);
                    if (stored == null)
                    {
                        expected.Append("$-1\r\n");
                        continue;
                    }
                    expected.Append(':').Append(op == 1 ? old : stored.Value).Append("\r\n");
                    model.SetField(offset, bits, stored.Value);
                }
                string reply = c.Call([.. args]);
                // A BITFIELD that must grow the string does so even if every write FAILs (Redis's lookupStringForBitCommand).
                Assert.True(expected.ToString() == reply, $"seed {seed} step {step}: {string.Join(' ', args)}\nexpected {expected}\nactual   {reply}");
                SyncLength(c, key, model);
            }
            else if (kind < 9)
            {
                bool bitUnit = random.Next(2) == 0;
                long length = bitUnit ? model.Bytes.Count * 8L : model.Bytes.Count;
                long start = random.NextInt64(-length - 3, length + 3), end = random.NextInt64(-length - 3, length + 3);
                long expectedCount = 0;
                if (!(start < 0 && end < 0 && start > end) && BitModel.Range(start, end, length) is (long s, long e))
                    for (long b = bitUnit ? s : s * 8; b <= (bitUnit ? e : e * 8 + 7); b++) expectedCount += model.Bit(b);
                Assert.Equal(Int(expectedCount), c.Call("BITCOUNT", key, start.ToString(), end.ToString(), bitUnit ? "BIT" : "BYTE"));
            }
            else
            {
                int bit = random.Next(2);
                bool endGiven = random.Next(2) == 0, bitUnit = endGiven && random.Next(2) == 0; // BIT needs an end
                long length = bitUnit ? model.Bytes.Count * 8L : model.Bytes.Count;
                long start = random.NextInt64(-length - 3, length + 3), end = endGiven ? random.NextInt64(-length - 3, length + 3) : length - 1;
                long expectedPos = -1;
                if (BitModel.Range(start, end, length) is (long s, long e))
                {
                    long first = bitUnit ? s : s * 8, last = bitUnit ? e : e * 8 + 7;
                    for (long b = first; b <= last && expectedPos < 0; b++)
                        if (model.Bit(b) == bit) expectedPos = b;
                    if (expectedPos < 0 && bit == 0 && !endGiven) expectedPos = last + 1;
                }
                string[] command = endGiven ? ["BITPOS", key, bit.ToString(), start.ToString(), end.ToString(), bitUnit ? "BIT" : "BYTE"]
                    : ["BITPOS", key, bit.ToString(), start.ToString()];
                Assert.True(Int(expectedPos) == c.Call(command), $"seed {seed} step {step}: {string.Join(' ', command)} on {Convert.ToHexString([.. model.Bytes])}");
            }
            if (step % 100 == 0) Assert.Equal(Bulk(Latin1.GetString([.. model.Bytes])), c.Call("GET", key));
        }
        Assert.Equal(Bulk(Latin1.GetString([.. model.Bytes])), c.Call("GET", key));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomCommandsGiveRedisServersReplies(int seed)
    {
        ReferenceRedis.Run(output, redis =>
        {
            using RespTestClient ours = server.Connect();
            var random = new Random(seed);
            string[] keys = [.. Enumerable.Range(0, 3).Select(i => $"b:rnd{seed}:{i}")];
            string Number(int range) => random.Next(range * 2) - range + "";
            string Type() => (random.Next(2) == 0 ? "i" : "u") + random.Next(0, 66);
            for (int step = 0; step < 1500; step++)
            {
                string key = keys[random.Next(keys.Length)];
                string[] command = random.Next(12) switch
                {
                    0 or 1 => ["SETBIT", key, random.Next(-2, 700) + "", random.Next(-1, 3) + ""],
                    2 => ["GETBIT", key, random.Next(-2, 800) + ""],
                    3 => ["BITCOUNT", key, Number(120), Number(120), random.Next(3) switch { 0 => "BIT", 1 => "BYTE", _ => "bit" }],
                    4 => ["BITCOUNT", key, Number(12), Number(12)],
                    5 => ["BITPOS", key, random.Next(-1, 3) + "", Number(120), Number(120), random.Next(2) == 0 ? "BIT" : "BYTE"],
                    6 => ["BITPOS", key, random.Next(2) + "", Number(12)],
                    7 => [.. new[] { "BITOP", new[] { "AND", "OR", "XOR", "NOT" }[random.Next(4)], keys[random.Next(keys.Length)] },
                        .. keys.OrderBy(_ => random.Next()).Take(random.Next(1, 4))],
                    8 => ["BITFIELD_RO", key, "GET", Type(), random.Next(3) == 0 ? "#" + random.Next(40) : random.Next(700) + ""],
                    _ => [.. new[] { "BITFIELD", key }, .. Enumerable.Range(0, random.Next(1, 4)).SelectMany(_ => random.Next(5) switch
                    {
                        0 => new[] { "OVERFLOW", new[] { "WRAP", "SAT", "FAIL" }[random.Next(3)] },
                        1 => ["GET", Type(), random.Next(700) + ""],
                        2 => ["SET", Type(), random.Next(3) == 0 ? "#" + random.Next(40) : random.Next(700) + "", random.NextInt64(long.MinValue, long.MaxValue) + ""],
                        _ => ["INCRBY", Type(), random.Next(700) + "", random.Next(2) == 0 ? Number(300) : random.NextInt64(long.MinValue, long.MaxValue) + ""],
                    })],
                };
                Assert.True(redis.Call(command) == ours.Call(command), $"seed {seed} step {step}: {string.Join(' ', command)}");
                if (step % 50 == 0)
                    foreach (string k in keys) Assert.Equal(redis.Call("GET", k), ours.Call("GET", k));
            }
            foreach (string k in keys) Assert.Equal(redis.Call("OBJECT", "ENCODING", k), ours.Call("OBJECT", "ENCODING", k));
        });
    }

    /// <summary>A BITFIELD grows the string to its highest written bit even when OVERFLOW FAIL refuses the write: the model follows STRLEN.</summary>
    private static void SyncLength(RespTestClient c, string key, BitModel model)
    {
        string reply = c.Call("STRLEN", key);
        long length = long.Parse(reply.AsSpan(1, reply.Length - 3));
        while (model.Bytes.Count < length) model.Bytes.Add(0);
    }

    [Fact]
    public async Task OnlyChangesArePropagated()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        var log = new RecordingWriteLog();
        host.Server.WriteLog = log;
        using RespTestClient c = new(host.Port);
        (string[] Command, string Reply, string[] Logged)[] cases =
        [
            (["SETBIT", "k", "3", "1"], ":0\r\n", ["db0 SETBIT k 3 1"]),
            (["SETBIT", "k", "3", "1"], ":1\r\n", []),
            (["SETBIT", "k", "4", "0"], ":0\r\n", []),
            (["SETBIT", "k", "9", "0"], ":0\r\n", ["db0 SETBIT k 9 0"]), // grows the string
            (["BITFIELD", "k", "GET", "u8", "0"], "*1\r\n:16\r\n", []),
            (["BITFIELD", "k", "SET", "u8", "0", "16"], "*1\r\n:16\r\n", []),
            (["BITFIELD", "k", "SET", "u8", "0", "17", "GET", "u4", "0"], "*2\r\n:16\r\n:1\r\n", ["db0 BITFIELD k SET u8 0 17 GET u4 0"]),
            (["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"], "*1\r\n$-1\r\n", []),
            (["BITOP", "NOT", "d", "k"], ":2\r\n", ["db0 BITOP NOT d k"]),
            (["BITOP", "AND", "d", "missing"], ":0\r\n", ["db0 BITOP AND d missing"]),
            (["BITOP", "AND", "d", "missing"], ":0\r\n", []),
            (["BITCOUNT", "k"], ":2\r\n", []),
        ];
        log.AssertEach(c, cases);
    }

    [Fact]
    public async Task ReadersNeverSeeAHalfWrittenField()
    {
        using RespTestClient writer = server.Connect();
        using RespTestClient reader = server.Connect();
        const string key = "b:torn";
        // A 64-bit field at bit 3 spans 9 bytes; it alternates between all ones and all zeros.
        Assert.Equal("*1\r\n:0\r\n", writer.Call("BITFIELD", key, "SET", "i64", "3", "0"));
        string zeros = writer.Call("GET", key);
        Assert.Equal("*1\r\n:0\r\n", writer.Call("BITFIELD", key, "SET", "i64", "3", "-1"));
        string ones = writer.Call("GET", key);
        // The writer goes on for a second and until the reader has read 50 times while it wrote (a loaded machine may give
        // the reader few turns in a second), or at most 30 s.
        int reads = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task writes = Task.Run(() =>
        {
            for (long i = 0; clock.Elapsed < TimeSpan.FromSeconds(30) && (clock.Elapsed < TimeSpan.FromSeconds(1) || Volatile.Read(ref reads) < 50); i++)
                writer.Call("BITFIELD", key, "SET", "i64", "3", i % 2 == 0 ? "0" : "-1");
        });
        while (!writes.IsCompleted)
        {
            string value = reader.Call("GET", key);
            Assert.True(value == zeros || value == ones, "a reader saw a half-written field: " + value);
            Interlocked.Increment(ref reads);
        }
        await writes;
        Assert.True(reads >= 50, $"only {reads} reads in 30 s of writes");
    }

    [Fact]
    public void PopCountAndFirstBitHelpers()
    {
        byte[] bytes = new byte[37];
        Assert.Equal(0, BitmapCommands.PopCount(bytes));
        Assert.Equal(-1, BitmapCommands.FirstBit(bytes, 1));
        Assert.Equal(0, BitmapCommands.FirstBit(bytes, 0));
        bytes[33] = 0x10;
        bytes[2] = 0xff;
        Assert.Equal(9, BitmapCommands.PopCount(bytes));
        Assert.Equal(16, BitmapCommands.FirstBit(bytes, 1));
        Array.Fill(bytes, (byte)0xff);
        Assert.Equal(37 * 8, BitmapCommands.FirstBit(bytes, 0));
        bytes[20] = 0xfd;
        Assert.Equal(20 * 8 + 6, BitmapCommands.FirstBit(bytes, 0));
    }
}
