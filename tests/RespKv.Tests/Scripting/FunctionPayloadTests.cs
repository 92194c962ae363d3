using System.Buffers.Binary;
using System.Text;
using RespKv.Scripting.Functions;
using RespKv.Persistence.Rdb;

namespace RespKv.Tests.Scripting;

/// <summary>
/// The <c>FUNCTION DUMP</c> payload format on its own: Redis's CRC64 (Jones) on its test vector, RDB lengths in each
/// form, LZF decompression, reading a payload redis-server 7.0.15 wrote (compressed), the shebang parser's error texts.
/// </summary>
public sealed class FunctionPayloadTests
{
    /// <summary>The code of the library in <see cref="RedisDump"/>.</summary>
    private const string RedisDumpCode = "#!lua name=mylib\n" +
        "local function hello(keys, args) return 'hello ' .. (args[1] or 'world') .. ' hello hello hello' end\n" +
        "redis.register_function{function_name='hello', callback=hello, flags={'no-writes'}, description='says hello'}";

    /// <summary><c>FUNCTION DUMP</c> of redis-server 7.0.15 holding only that library: its code is stored LZF-compressed.</summary>
    private const string RedisDump = "f5c340bf40e31f23216c7561206e616d653d6d796c69620a6c6f63616c2066756e6374696f6e201968656c6c6f286b6579732c2061726773292072657475726e20276019062027202e2e202840190e5b315d206f722027776f726c64272940170027803ee00305142720656e640a72656469732e72656769737465725fc06d007bc008005f6090806202272c202091056c6261636b3d60731d2c20666c6167733d7b276e6f2d777269746573277d2c206465736372697040b5053d2773617973807601277d0a00e0ec7f63d90161fb";

    [Fact]
    public void Crc64MatchesRedisTestVector()
    {
        Assert.Equal(0xe9c6d914c4b8d9caUL, Crc64Jones.Compute("123456789"u8));
        // Continuing a checksum equals computing it at once (Redis's crc64(crc, …) chaining).
        var running = Crc64Jones.CreateRunning();
        running.Append("12345"u8);
        running.Append("6789"u8);
        Assert.Equal(Crc64Jones.Compute("123456789"u8), running.GetCurrentHashAsUInt64());
        Assert.Equal(0UL, Crc64Jones.Compute([]));
    }

    [Fact]
    public void ReadsARedisServerPayloadWithLzfCompressedCode()
    {
        byte[] payload = Convert.FromHexString(RedisDump);
        Assert.True(FunctionPayload.Verify(payload));
        var codes = new List<byte[]>();
        Assert.Null(FunctionPayload.Read(payload, codes));
        Assert.Equal(RedisDumpCode, Encoding.UTF8.GetString(Assert.Single(codes)));
    }

    [Fact]
    public void WritesTheSameBytesAsRedisServer()
    {
        // redis-server's payload of the same library: its code LZF-compressed by liblzf, which Lzf.Compress reproduces.
        Assert.Equal(RedisDump, Convert.ToHexStringLower(FunctionPayload.Write([Encoding.UTF8.GetBytes(RedisDumpCode)])));
        // A short library LZF cannot shrink by 4 bytes is stored as it is (redis-server's DUMP of it, RDB string 0x40 0x45).
        byte[] shortCode = Encoding.ASCII.GetBytes("#!lua name=d\nredis.register_function('fd', function() return 'd' end)");
        byte[] payload = FunctionPayload.Write([shortCode]);
        Assert.Equal([FunctionPayload.OpcodeFunction2, 0x40, 0x45], payload[..3]);
        Assert.Equal("0a0058257e0f396be8ae", Convert.ToHexStringLower(payload[^10..]));
        // Strings of an integer's canonical text are integer-encoded, as rdbSaveRawString does.
        var ints = new MemoryStream();
        foreach (string text in new[] { "-128", "300", "-70000", "007", "2147483648" }) Rdb.WriteString(ints, Encoding.ASCII.GetBytes(text));
        Assert.Equal("c080c12c01c290eefeff03303037 0a32313437343833363438".Replace(" ", ""), Convert.ToHexStringLower(ints.ToArray()));
    }

    [Fact]
    public void LzfRoundTripsWhatItCompresses()
    {
        var random = new Random(7);
        string[] words = ["hello ", "world ", "redis ", "lua ", "function "];
        foreach (int wordCount in new[] { 8, 100, 5000, 20_000 })
        {
            var text = new StringBuilder();
            for (int i = 0; i < wordCount; i++) text.Append(words[random.Next(words.Length)]);
            byte[] data = Encoding.ASCII.GetBytes(text.ToString());
            int length = data.Length;
            var output = new byte[length + 4];
            int compressed = Lzf.Compress(data, length - 4, output);
            Assert.True(compressed > 0);
            var back = new byte[length];
            Assert.Equal(length, Lzf.Decompress(output.AsSpan(0, compressed), back));
            Assert.Equal(data, back);
        }
        byte[] noise = new byte[64];
        random.NextBytes(noise);
        Assert.Equal(0, Lzf.Compress(noise, 60, new byte[68])); // incompressible: stored plain
    }

    [Fact]
    public void WritesWhatItReadsAndRedisFooter()
    {
        byte[] a = Encoding.ASCII.GetBytes("#!lua name=a\nredis.register_function('fa', function() return 1 end)");
        byte[] big = Encoding.ASCII.GetBytes("#!lua name=big\n--" + new string('x', 20_000) + "\nredis.register_function('fb', function() return 2 end)");
        byte[] payload = FunctionPayload.Write([a, big]);
        Assert.Equal(FunctionPayload.OpcodeFunction2, payload[0]);
        Assert.Equal([0x40, (byte)a.Length], payload[1..3]); // a 14-bit length (67 bytes), not compressible by 4 bytes
        Assert.Equal(10, BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(payload.Length - 10)));
        Assert.Equal(Crc64Jones.Compute(payload.AsSpan(0, payload.Length - 8)), BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(payload.Length - 8)));
        Assert.True(FunctionPayload.Verify(payload));
        var codes = new List<byte[]>();
        Assert.Null(FunctionPayload.Read(payload, codes));
        Assert.Equal([a, big], codes);
        // An empty payload: just the footer.
        byte[] empty = FunctionPayload.Write([]);
        Assert.Equal(10, empty.Length);
        Assert.True(FunctionPayload.Verify(empty));
        codes.Clear();
        Assert.Null(FunctionPayload.Read(empty, codes));
        Assert.Empty(codes);
    }

    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(63UL, "3f")]
    [InlineData(64UL, "4040")]
    [InlineData(16383UL, "7fff")]
    [InlineData(16384UL, "8000004000")]
    [InlineData(4294967295UL, "80ffffffff")]
    [InlineData(4294967296UL, "810000000100000000")]
    public void RdbLengthsInEachForm(ulong length, string hex)
    {
        Span<byte> buffer = stackalloc byte[9];
        int n = Rdb.WriteLength(buffer, length);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer[..n]));
    }

    [Fact]
    public void ReadsIntegerEncodedAndLongLengthStrings()
    {
        // A payload Redis never writes for a library but reads: opcode + INT16-encoded "-300" (c1 d4 fe),
        // then opcode + a 32-bit length form of a short string.
        byte[] body = [FunctionPayload.OpcodeFunction2, 0xc1, 0xd4, 0xfe, FunctionPayload.OpcodeFunction2, 0x80, 0, 0, 0, 2, (byte)'h', (byte)'i'];
        var codes = new List<byte[]>();
        Assert.Null(FunctionPayload.Read(WithFooter(body), codes));
        Assert.Equal(["-300"u8.ToArray(), "hi"u8.ToArray()], codes);
    }

    [Fact]
    public void ReadsThePreReleaseLayout()
    {
        // RDB_OPCODE_FUNCTION: name, engine, has-description, description, code.
        byte[] body = [FunctionPayload.OpcodeFunction, 1, (byte)'n', 3, (byte)'L', (byte)'U', (byte)'A', 1, 1, (byte)'d', 4, (byte)'c', (byte)'o', (byte)'d', (byte)'e'];
        var codes = new List<byte[]>();
        Assert.Null(FunctionPayload.Read(WithFooter(body), codes));
        Assert.Equal("#!LUA name=n\ncode", Encoding.ASCII.GetString(Assert.Single(codes)));
    }

    [Fact]
    public void ErrorsAsRedis()
    {
        var codes = new List<byte[]>();
        Assert.Equal("given type is not a function", FunctionPayload.Read(WithFooter([0, 1, (byte)'x']), codes));
        Assert.Equal("Failed loading library payload", FunctionPayload.Read(WithFooter([FunctionPayload.OpcodeFunction2, 0x80, 0, 0, 1, 0]), codes));
        // An LZF string claiming 2 GB from 2 bytes is refused without allocating it.
        Assert.Equal("Failed loading library payload", FunctionPayload.Read(WithFooter([FunctionPayload.OpcodeFunction2, 0xc3, 2, 0x80, 0x7f, 0xff, 0xff, 0xff, 0, 0]), codes));
        // A corrupt LZF string (back reference before the start).
        Assert.Equal("Failed loading library payload", FunctionPayload.Read(WithFooter([FunctionPayload.OpcodeFunction2, 0xc3, 2, 5, 0x20, 0x05]), codes));
        byte[] good = FunctionPayload.Write([Encoding.ASCII.GetBytes("#!lua name=x\n")]);
        Assert.False(FunctionPayload.Verify(good.AsSpan(0, 9)));
        byte[] badCrc = (byte[])good.Clone();
        badCrc[^1] ^= 1;
        Assert.False(FunctionPayload.Verify(badCrc));
        byte[] newer = (byte[])good.Clone();
        newer[^10] = 11; // RDB version 11
        BinaryPrimitives.WriteUInt64LittleEndian(newer.AsSpan(newer.Length - 8), Crc64Jones.Compute(newer.AsSpan(0, newer.Length - 8)));
        Assert.False(FunctionPayload.Verify(newer));
    }

    [Fact]
    public void LzfDecompressesLiteralsAndOverlappingReferences()
    {
        // Literal "ab" (ctrl 1), then a reference of length 2+4=6 one byte back... to offset 2 back: "ababab".
        byte[] compressed = [1, (byte)'a', (byte)'b', (4 << 5) | 0, 1];
        var output = new byte[8];
        Assert.Equal(8, Lzf.Decompress(compressed, output));
        Assert.Equal("abababab", Encoding.ASCII.GetString(output));
        Assert.Equal(-1, Lzf.Decompress(compressed, new byte[7])); // output too small
        Assert.Equal(-1, Lzf.Decompress([1, 0], new byte[4])); // literal past the input's end
    }

    [Theory]
    [InlineData("redis.register_function('f', f)", "Missing library metadata")]
    [InlineData("#!lua name=x", "Invalid library metadata")]
    [InlineData("#!lua name=\"x\nbody", "Invalid library metadata")]
    [InlineData("#!lua\nbody", "Library name was not given")]
    [InlineData("#!lua name=a foo=bar\nbody", "Invalid metadata value given: foo=bar")]
    [InlineData("#!lua name=a NAME=b\nbody", "Invalid metadata value, name argument was given multiple times")]
    public void ShebangErrors(string code, string error)
    {
        Assert.Equal(error, LibraryMetadata.TryParse(Encoding.ASCII.GetBytes(code), out _));
    }

    [Fact]
    public void ShebangParts()
    {
        Assert.Null(LibraryMetadata.TryParse("#!LUA   Name=my_lib \nreturn"u8, out LibraryMetadata md));
        Assert.Equal(new LibraryMetadata("LUA", "my_lib", 20), md);
        Assert.True(LibraryMetadata.IsValidName("a_Z9"));
        Assert.False(LibraryMetadata.IsValidName(""));
        Assert.False(LibraryMetadata.IsValidName("a-b"));
        Assert.False(LibraryMetadata.IsValidName("é"));
    }

    private static byte[] WithFooter(byte[] body)
    {
        var payload = new byte[body.Length + 10];
        body.CopyTo(payload, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(body.Length), 10);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(body.Length + 2), Crc64Jones.Compute(payload.AsSpan(0, body.Length + 2)));
        return payload;
    }
}
