using System.Buffers.Binary;
using System.Text;

namespace RespKv.Scripting.Functions;

/// <summary>
/// The <c>FUNCTION DUMP</c> / <c>FUNCTION RESTORE</c> payload, in Redis 7.0's format (<c>functions.c</c>
/// <c>functionDumpCommand</c>/<c>functionRestoreCommand</c>, <c>rdb.c</c> <c>rdbSaveFunctions</c>/<c>rdbFunctionLoad</c>,
/// <c>cluster.c</c> <c>verifyDumpPayload</c>): for each library the opcode <c>RDB_OPCODE_FUNCTION2</c> (245) and the
/// library's whole code (shebang included) as an RDB string; then the RDB version as 2 bytes little-endian
/// (<see cref="RdbVersion"/>, 10) and the <see cref="Crc64Jones"/> checksum of everything before it, 8 bytes little-endian.
/// <para>
/// RDB strings (<c>rdbSaveRawString</c>/<c>rdbGenericLoadStringObject</c>): a length — first byte's top two bits 00: 6-bit
/// length; 01: 14-bit length (the next byte is the low 8 bits); <c>0x80</c>: 32-bit big-endian length follows; <c>0x81</c>:
/// 64-bit big-endian length follows — then the bytes; or, top bits 11, a special encoding: 0/1/2 an 8/16/32-bit
/// little-endian signed integer written as its decimal text, 3 an LZF-compressed string (compressed length, uncompressed
/// length, then the <see cref="Lzf"/> data). RespKv writes them as redis-server does (<see cref="WriteString"/>), so a
/// DUMP has the same bytes on both servers, and reads every form.
/// The pre-release 7.0 opcode <c>RDB_OPCODE_FUNCTION</c> (246: name, engine, description flag [and description], code)
/// is read too, as <c>#!engine name=name\n</c> plus the code, as Redis does.
/// </para>
/// </summary>
public static class FunctionPayload
{
    /// <summary>Redis 7.0's <c>RDB_VERSION</c>: a payload of a later version is refused.</summary>
    public const int RdbVersion = 10;

    /// <summary><c>RDB_OPCODE_FUNCTION2</c>: a library, as its code.</summary>
    public const byte OpcodeFunction2 = 245;

    /// <summary><c>RDB_OPCODE_FUNCTION</c>: a library in the 7.0-rc1/rc2 layout.</summary>
    public const byte OpcodeFunction = 246;

    /// <summary>Bytes of the footer: RDB version (2) and CRC64 (8).</summary>
    public const int FooterLength = 10;

    /// <summary>The error of a payload whose footer is wrong (as Redis: <c>-ERR DUMP payload version or checksum are wrong</c>).</summary>
    public const string VersionOrChecksumWrong = "DUMP payload version or checksum are wrong";

    /// <summary>Builds the payload of <paramref name="libraryCodes"/> (each library's whole code, in the order given).</summary>
    public static byte[] Write(IEnumerable<byte[]> libraryCodes)
    {
        var output = new MemoryStream();
        foreach (byte[] code in libraryCodes)
        {
            output.WriteByte(OpcodeFunction2);
            WriteString(output, code);
        }
        Span<byte> footer = stackalloc byte[FooterLength];
        BinaryPrimitives.WriteUInt16LittleEndian(footer, RdbVersion);
        output.Write(footer[..2]);
        ulong crc = Crc64Jones.Compute(output.GetBuffer().AsSpan(0, (int)output.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(footer[2..], crc);
        output.Write(footer[2..]);
        return output.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="value"/> as Redis's <c>rdbSaveRawString</c> does with <c>rdbcompression yes</c> (its default): a
    /// string of up to 11 bytes that is a 32-bit integer's canonical text as that integer; one longer than 20 bytes
    /// LZF-compressed (<see cref="Lzf.Compress"/>) when that saves at least 4 bytes; else its length and bytes.
    /// </summary>
    public static void WriteString(Stream output, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[9];
        if (value.Length <= 11 && IsInt32Text(value, out int n))
        {
            if (n >= sbyte.MinValue && n <= sbyte.MaxValue)
            {
                output.Write([0xc0, (byte)n]);
                return;
            }
            if (n >= short.MinValue && n <= short.MaxValue)
            {
                output.Write([0xc1, (byte)n, (byte)(n >> 8)]);
                return;
            }
            output.Write([0xc2, (byte)n, (byte)(n >> 8), (byte)(n >> 16), (byte)(n >> 24)]);
            return;
        }
        if (value.Length > 20 && Lzf.Compress(value, value.Length - 4) is { } compressed)
        {
            output.WriteByte(0xc3);
            output.Write(header[..WriteLength(header, (ulong)compressed.Length)]);
            output.Write(header[..WriteLength(header, (ulong)value.Length)]);
            output.Write(compressed);
            return;
        }
        output.Write(header[..WriteLength(header, (ulong)value.Length)]);
        output.Write(value);
    }

    /// <summary>True when <paramref name="text"/> is a 32-bit integer's canonical decimal text (Redis's <c>string2ll</c>: no sign but '-', no leading zero).</summary>
    private static bool IsInt32Text(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (!System.Buffers.Text.Utf8Parser.TryParse(text, out value, out int consumed) || consumed != text.Length) return false;
        Span<byte> canonical = stackalloc byte[11];
        return System.Buffers.Text.Utf8Formatter.TryFormat(value, canonical, out int written) && canonical[..written].SequenceEqual(text);
    }

    /// <summary>
    /// Writes an RDB length (<c>rdbSaveLen</c>) into <paramref name="destination"/> (9 bytes suffice) and returns the
    /// bytes written: 1 below 64, 2 below 16384, 5 up to 2³²−1, else 9.
    /// </summary>
    public static int WriteLength(Span<byte> destination, ulong length)
    {
        if (length < 1 << 6)
        {
            destination[0] = (byte)length;
            return 1;
        }
        if (length < 1 << 14)
        {
            destination[0] = (byte)(0x40 | (length >> 8));
            destination[1] = (byte)length;
            return 2;
        }
        if (length <= uint.MaxValue)
        {
            destination[0] = 0x80;
            BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
            return 5;
        }
        destination[0] = 0x81;
        BinaryPrimitives.WriteUInt64BigEndian(destination[1..], length);
        return 9;
    }

    /// <summary>
    /// True when <paramref name="payload"/> has a footer Redis accepts (<c>verifyDumpPayload</c>): at least 10 bytes, an RDB
    /// version not above <see cref="RdbVersion"/>, and the CRC64 of everything before the checksum.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FooterLength) return false;
        ReadOnlySpan<byte> footer = payload[^FooterLength..];
        if (BinaryPrimitives.ReadUInt16LittleEndian(footer) > RdbVersion) return false;
        return Crc64Jones.Compute(payload[..^8]) == BinaryPrimitives.ReadUInt64LittleEndian(footer[2..]);
    }

    /// <summary>
    /// Reads the libraries of a payload that passed <see cref="Verify"/> into <paramref name="codes"/> (each library's
    /// whole code). Returns null, or Redis's error text (without <c>ERR </c>): <c>given type is not a function</c>,
    /// <c>can not read data type</c>, <c>Failed loading library payload</c> (and the old layout's <c>Failed loading library
    /// name</c>, <c>… engine name</c>, <c>… library description indicator</c>, <c>… library description</c>, <c>… library blob</c>).
    /// As Redis, records are read while more than the footer's 10 bytes remain, from the whole buffer.
    /// </summary>
    public static string? Read(ReadOnlySpan<byte> payload, List<byte[]> codes)
    {
        var reader = new RdbReader(payload);
        // Redis's loop condition is on size_t: once past the start of the footer it wraps and goes on reading.
        while ((ulong)(payload.Length - reader.Position) > FooterLength)
        {
            if (!reader.TryReadByte(out byte type)) return "can not read data type";
            if (type != OpcodeFunction && type != OpcodeFunction2) return "given type is not a function";
            if (type == OpcodeFunction2)
            {
                byte[]? code = reader.ReadString();
                if (code == null) return "Failed loading library payload";
                codes.Add(code);
                continue;
            }
            byte[]? name = reader.ReadString();
            if (name == null) return "Failed loading library name";
            byte[]? engine = reader.ReadString();
            if (engine == null) return "Failed loading engine name";
            if (!reader.TryReadLength(out ulong hasDescription, out _)) return "Failed loading library description indicator";
            if (hasDescription != 0 && reader.ReadString() == null) return "Failed loading library description";
            byte[]? blob = reader.ReadString();
            if (blob == null) return "Failed loading library blob";
            codes.Add([.. "#!"u8, .. engine, .. " name="u8, .. name, (byte)'\n', .. blob]);
        }
        return null;
    }

    /// <summary>Reads RDB values from a buffer (Redis's <c>rio</c> over a buffer): every read fails, rather than throws, past the end.</summary>
    private ref struct RdbReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; }

        public bool TryReadByte(out byte value)
        {
            value = 0;
            if (Position >= _data.Length) return false;
            value = _data[Position++];
            return true;
        }

        private bool TryRead(int count, out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (count < 0 || count > _data.Length - Position) return false;
            bytes = _data.Slice(Position, count);
            Position += count;
            return true;
        }

        /// <summary>
        /// <c>rdbLoadLenByRef</c>: a length, or (<paramref name="encoded"/>) a special encoding's number — which Redis's
        /// <c>rdbLoadLen(rdb, NULL)</c> callers take as a length.
        /// </summary>
        public bool TryReadLength(out ulong length, out bool encoded)
        {
            length = 0;
            encoded = false;
            if (!TryReadByte(out byte first)) return false;
            switch (first >> 6)
            {
                case 3:
                    encoded = true;
                    length = (ulong)(first & 0x3f);
                    return true;
                case 0:
                    length = (ulong)(first & 0x3f);
                    return true;
                case 1:
                    if (!TryReadByte(out byte low)) return false;
                    length = ((ulong)(first & 0x3f) << 8) | low;
                    return true;
            }
            if (first == 0x80 && TryRead(4, out ReadOnlySpan<byte> four))
            {
                length = BinaryPrimitives.ReadUInt32BigEndian(four);
                return true;
            }
            if (first == 0x81 && TryRead(8, out ReadOnlySpan<byte> eight))
            {
                length = BinaryPrimitives.ReadUInt64BigEndian(eight);
                return true;
            }
            return false;
        }

        /// <summary><c>rdbGenericLoadStringObject</c>: a plain, integer-encoded or LZF-compressed string; null when it cannot be read.</summary>
        public byte[]? ReadString()
        {
            if (!TryReadLength(out ulong length, out bool encoded)) return null;
            if (!encoded) return length <= (ulong)(_data.Length - Position) && TryRead((int)length, out ReadOnlySpan<byte> plain) ? plain.ToArray() : null;
            switch (length)
            {
                case 0:
                    return TryRead(1, out ReadOnlySpan<byte> i8) ? Decimal((sbyte)i8[0]) : null;
                case 1:
                    return TryRead(2, out ReadOnlySpan<byte> i16) ? Decimal(BinaryPrimitives.ReadInt16LittleEndian(i16)) : null;
                case 2:
                    return TryRead(4, out ReadOnlySpan<byte> i32) ? Decimal(BinaryPrimitives.ReadInt32LittleEndian(i32)) : null;
                case 3:
                    if (!TryReadLength(out ulong compressed, out _) || !TryReadLength(out ulong original, out _)) return null;
                    // A back reference of 2-3 bytes expands to at most 264: a larger claimed length is corrupt, and is
                    // refused before allocating it (Redis's ztrymalloc fails instead).
                    if (compressed > (ulong)(_data.Length - Position) || original > compressed * 132 + 33) return null;
                    TryRead((int)compressed, out ReadOnlySpan<byte> lzf);
                    var value = new byte[original];
                    // lzf_decompress into 0 bytes returns 0 (E2BIG), which Redis takes as the expected length.
                    return value.Length == 0 || Lzf.Decompress(lzf, value) == value.Length ? value : null;
                default:
                    return null;
            }
        }

        private static byte[] Decimal(long value) => Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
