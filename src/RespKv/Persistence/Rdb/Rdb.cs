using System.Buffers.Binary;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// The generic pieces of Redis 7.0's RDB format (<c>rdb.h</c>, <c>rdb.c</c>, RDB version 10) that DUMP/RESTORE, FUNCTION
/// DUMP/RESTORE and the RDB file (<see cref="RdbFileWriter"/>) share: the object type bytes, lengths (<c>WriteLength</c>), strings
/// (<c>WriteString</c>, integer- and LZF-encoded as <c>rdbSaveRawString</c>), millisecond times, binary doubles, and
/// the DUMP payload footer (<see cref="AppendFooter"/>, <see cref="Verify"/>: RDB version as 2 bytes little-endian, then the
/// <see cref="Crc64Jones"/> checksum of everything before it as 8 bytes little-endian, <c>cluster.c</c>
/// <c>createDumpPayload</c>/<c>verifyDumpPayload</c>). Reading is <see cref="RdbReader"/>.
/// <para>
/// Lengths (<c>rdbSaveLen</c>): first byte's top two bits 00: 6-bit length; 01: 14-bit length (the next byte is the low 8
/// bits); <c>0x80</c>: 32-bit big-endian length follows; <c>0x81</c>: 64-bit big-endian length follows; 11: a special
/// string encoding (low 6 bits: 0/1/2 an 8/16/32-bit little-endian signed integer written as its decimal text, 3 an LZF
/// string: compressed length, uncompressed length, then the <see cref="Lzf"/> data).
/// </para>
/// </summary>
public static class Rdb
{
    /// <summary>Redis 7.0's <c>RDB_VERSION</c>: a payload of a later version is refused.</summary>
    public const int Version = 10;

    /// <summary>Bytes of the DUMP footer: RDB version (2) and CRC64 (8).</summary>
    public const int FooterLength = 10;

    /// <summary>The error text of a payload whose footer is wrong (Redis: <c>-ERR DUMP payload version or checksum are wrong</c>).</summary>
    public const string VersionOrChecksumWrong = "DUMP payload version or checksum are wrong";

    /// <summary><c>RDB_TYPE_STRING</c>.</summary>
    public const byte TypeString = 0;
    /// <summary><c>RDB_TYPE_LIST</c> (a count then each element as a string; before Redis 2.6 / loaded only).</summary>
    public const byte TypeList = 1;
    /// <summary><c>RDB_TYPE_SET</c>: a count then each member as a string.</summary>
    public const byte TypeSet = 2;
    /// <summary><c>RDB_TYPE_ZSET</c>: a count then member, score as a length-prefixed decimal text (loaded only).</summary>
    public const byte TypeZset = 3;
    /// <summary><c>RDB_TYPE_HASH</c>: a count then field, value strings.</summary>
    public const byte TypeHash = 4;
    /// <summary><c>RDB_TYPE_ZSET_2</c>: a count then member, score as 8 bytes little-endian IEEE 754 (greatest first).</summary>
    public const byte TypeZset2 = 5;
    /// <summary><c>RDB_TYPE_HASH_ZIPMAP</c> (Redis 2.4; loaded only).</summary>
    public const byte TypeHashZipmap = 9;
    /// <summary><c>RDB_TYPE_LIST_ZIPLIST</c> (loaded only).</summary>
    public const byte TypeListZiplist = 10;
    /// <summary><c>RDB_TYPE_SET_INTSET</c>: the intset's bytes as one string.</summary>
    public const byte TypeSetIntset = 11;
    /// <summary><c>RDB_TYPE_ZSET_ZIPLIST</c> (loaded only).</summary>
    public const byte TypeZsetZiplist = 12;
    /// <summary><c>RDB_TYPE_HASH_ZIPLIST</c> (loaded only).</summary>
    public const byte TypeHashZiplist = 13;
    /// <summary><c>RDB_TYPE_LIST_QUICKLIST</c>: nodes as ziplists (Redis 3.2 to 6.2; loaded only).</summary>
    public const byte TypeListQuicklist = 14;
    /// <summary><c>RDB_TYPE_STREAM_LISTPACKS</c> (Redis 5 to 6.2; loaded only).</summary>
    public const byte TypeStreamListpacks = 15;
    /// <summary><c>RDB_TYPE_HASH_LISTPACK</c>: the listpack's bytes as one string.</summary>
    public const byte TypeHashListpack = 16;
    /// <summary><c>RDB_TYPE_ZSET_LISTPACK</c>: the listpack's bytes as one string.</summary>
    public const byte TypeZsetListpack = 17;
    /// <summary><c>RDB_TYPE_LIST_QUICKLIST_2</c>: a node count, then per node its container (1 plain, 2 packed) and its bytes.</summary>
    public const byte TypeListQuicklist2 = 18;
    /// <summary><c>RDB_TYPE_STREAM_LISTPACKS_2</c>: the stream's nodes, counters, consumer groups.</summary>
    public const byte TypeStreamListpacks2 = 19;

    /// <summary><c>RDB_TYPE_MODULE</c> (module values, Redis 4.0 RCs; refused without the module).</summary>
    public const byte TypeModule = 6;
    /// <summary><c>RDB_TYPE_MODULE_2</c> (module values; refused without the module).</summary>
    public const byte TypeModule2 = 7;

    /// <summary><c>RDB_OPCODE_FUNCTION2</c>: a function library's code follows as a string.</summary>
    public const byte OpcodeFunction2 = 245;
    /// <summary><c>RDB_OPCODE_FUNCTION</c> (Redis 7.0 rc1/rc2): library name, engine, description flag and description, code.</summary>
    public const byte OpcodeFunction = 246;
    /// <summary><c>RDB_OPCODE_MODULE_AUX</c>: module data outside the keyspace.</summary>
    public const byte OpcodeModuleAux = 247;
    /// <summary><c>RDB_OPCODE_IDLE</c>: the next key's LRU idle time in seconds (a length).</summary>
    public const byte OpcodeIdle = 248;
    /// <summary><c>RDB_OPCODE_FREQ</c>: the next key's LFU counter (one byte).</summary>
    public const byte OpcodeFreq = 249;
    /// <summary><c>RDB_OPCODE_AUX</c>: an aux field, two strings.</summary>
    public const byte OpcodeAux = 250;
    /// <summary><c>RDB_OPCODE_RESIZEDB</c>: the database's key count and keys-with-expiry count (lengths).</summary>
    public const byte OpcodeResizeDb = 251;
    /// <summary><c>RDB_OPCODE_EXPIRETIME_MS</c>: the next key's expiry, Unix ms as 8 bytes little-endian.</summary>
    public const byte OpcodeExpireTimeMs = 252;
    /// <summary><c>RDB_OPCODE_EXPIRETIME</c>: the next key's expiry, Unix seconds as 4 bytes little-endian (old files).</summary>
    public const byte OpcodeExpireTime = 253;
    /// <summary><c>RDB_OPCODE_SELECTDB</c>: the database of the keys that follow (a length).</summary>
    public const byte OpcodeSelectDb = 254;
    /// <summary><c>RDB_OPCODE_EOF</c>: the end of the data; the 8-byte CRC64 trailer follows (RDB version ≥ 5).</summary>
    public const byte OpcodeEof = 255;

    /// <summary><c>QUICKLIST_NODE_CONTAINER_PLAIN</c>: a quicklist node holding one element as it is.</summary>
    public const int ContainerPlain = 1;
    /// <summary><c>QUICKLIST_NODE_CONTAINER_PACKED</c>: a quicklist node holding a listpack.</summary>
    public const int ContainerPacked = 2;

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

    /// <summary>Writes an RDB length (<c>rdbSaveLen</c>) to <paramref name="output"/>.</summary>
    public static void WriteLength(Stream output, ulong length)
    {
        Span<byte> header = stackalloc byte[9];
        output.Write(header[..WriteLength(header, length)]);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as Redis's <c>rdbSaveRawString</c> does: a string of up to 11 bytes that is a 32-bit
    /// integer's canonical text as that integer; one longer than 20 bytes LZF-compressed (<see cref="Lzf.Compress"/>) when that
    /// saves at least 4 bytes — unless <paramref name="output"/> is an <see cref="RdbOutputStream"/> written with
    /// <c>rdbcompression no</c> (<see cref="RdbOutputStream.Compress"/>); else its length and bytes.
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
        if (value.Length > 20 && output is not RdbOutputStream { Compress: false })
        {
            // Compressed into a per-thread scratch buffer (a one-off one past 1 MB, so a huge value is not kept alive).
            byte[] scratch = value.Length + 4 <= (t_lzfScratch?.Length ?? 0) ? t_lzfScratch!
                : value.Length > 1 << 20 ? new byte[value.Length + 4] : (t_lzfScratch = new byte[Math.Max(value.Length + 4, 1024)]);
            int compressed = Lzf.Compress(value, value.Length - 4, scratch);
            if (compressed > 0)
            {
                output.WriteByte(0xc3);
                output.Write(header[..WriteLength(header, (ulong)compressed)]);
                output.Write(header[..WriteLength(header, (ulong)value.Length)]);
                output.Write(scratch.AsSpan(0, compressed));
                return;
            }
        }
        output.Write(header[..WriteLength(header, (ulong)value.Length)]);
        output.Write(value);
    }

    [ThreadStatic] private static byte[]? t_lzfScratch;

    /// <summary>True when <paramref name="text"/> is a 32-bit integer's canonical decimal text (Redis's <c>string2ll</c>: no sign but '-', no leading zero).</summary>
    private static bool IsInt32Text(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (!System.Buffers.Text.Utf8Parser.TryParse(text, out value, out int consumed) || consumed != text.Length) return false;
        Span<byte> canonical = stackalloc byte[11];
        return System.Buffers.Text.Utf8Formatter.TryFormat(value, canonical, out int written) && canonical[..written].SequenceEqual(text);
    }

    /// <summary><c>rdbSaveMillisecondTime</c>: <paramref name="ms"/> as 8 bytes little-endian.</summary>
    public static void WriteMillisecondTime(Stream output, long ms)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, ms);
        output.Write(bytes);
    }

    /// <summary><c>rdbSaveBinaryDoubleValue</c>: <paramref name="value"/> as 8 bytes little-endian IEEE 754.</summary>
    public static void WriteBinaryDouble(Stream output, double value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        output.Write(bytes);
    }

    /// <summary>
    /// Appends the DUMP footer to the payload written so far in <paramref name="output"/> (<c>createDumpPayload</c>): the RDB
    /// version (<see cref="Version"/>) as 2 bytes little-endian, then the CRC64 of everything before it as 8 bytes little-endian.
    /// </summary>
    public static void AppendFooter(MemoryStream output)
    {
        Span<byte> footer = stackalloc byte[FooterLength];
        BinaryPrimitives.WriteUInt16LittleEndian(footer, Version);
        output.Write(footer[..2]);
        ulong crc = Crc64Jones.Compute(output.GetBuffer().AsSpan(0, (int)output.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(footer[2..], crc);
        output.Write(footer[2..]);
    }

    /// <summary>
    /// True when <paramref name="payload"/> has a footer Redis accepts (<c>verifyDumpPayload</c>): at least 10 bytes, an RDB
    /// version not above <see cref="Version"/>, and the CRC64 of everything before the checksum (not compared with
    /// <paramref name="skipChecksum"/>: DEBUG SET-SKIP-CHECKSUM-VALIDATION 1).
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> payload, bool skipChecksum = false)
    {
        if (payload.Length < FooterLength) return false;
        ReadOnlySpan<byte> footer = payload[^FooterLength..];
        if (BinaryPrimitives.ReadUInt16LittleEndian(footer) > Version) return false;
        if (skipChecksum) return true;
        return Crc64Jones.Compute(payload[..^8]) == BinaryPrimitives.ReadUInt64LittleEndian(footer[2..]);
    }
}

/// <summary>
/// Reads RDB values from a buffer (Redis's <c>rio</c> over a buffer, <c>rdbLoadLen</c>, <c>rdbGenericLoadStringObject</c>,
/// <c>rdbLoadMillisecondTime</c>, <c>rdbLoadBinaryDoubleValue</c>, <c>rdbLoadDoubleValue</c>): every read fails (returns
/// false or null) rather than throws past the end or on a malformed encoding.
/// </summary>
public ref struct RdbReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    /// <summary>Offset of the next byte to read.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _data.Length - Position;

    /// <summary>
    /// True once a read failed because the buffer ended (rather than because the data is malformed): an RDB file's streaming
    /// reader then reads more of the file and tries again, or reports the file truncated.
    /// </summary>
    public bool HitEnd { get; private set; }

    /// <summary>Records a read that failed at the end of the buffer (<see cref="HitEnd"/>); returns false.</summary>
    private bool End()
    {
        HitEnd = true;
        return false;
    }

    /// <summary>One byte.</summary>
    public bool TryReadByte(out byte value)
    {
        value = 0;
        if (Position >= _data.Length) return End();
        value = _data[Position++];
        return true;
    }

    /// <summary><paramref name="count"/> raw bytes (a view of the buffer).</summary>
    public bool TryRead(int count, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (count < 0) return false;
        if (count > _data.Length - Position) return End();
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

    /// <summary><c>rdbLoadLen(rdb, NULL)</c>: a length (a special encoding's number counts as one, as in Redis).</summary>
    public bool TryReadLength(out ulong length) => TryReadLength(out length, out _);

    /// <summary><c>rdbLoadMillisecondTime</c>: 8 bytes little-endian.</summary>
    public bool TryReadMillisecondTime(out long ms)
    {
        ms = 0;
        if (!TryRead(8, out ReadOnlySpan<byte> bytes)) return false;
        ms = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        return true;
    }

    /// <summary><c>rdbLoadBinaryDoubleValue</c>: 8 bytes little-endian IEEE 754.</summary>
    public bool TryReadBinaryDouble(out double value)
    {
        value = 0;
        if (!TryRead(8, out ReadOnlySpan<byte> bytes)) return false;
        value = BinaryPrimitives.ReadDoubleLittleEndian(bytes);
        return true;
    }

    /// <summary>
    /// <c>rdbLoadDoubleValue</c> (<c>RDB_TYPE_ZSET</c>): a length byte — 253 NaN, 254 +inf, 255 −inf — else that many
    /// bytes of decimal text.
    /// </summary>
    public bool TryReadTextDouble(out double value)
    {
        value = 0;
        if (!TryReadByte(out byte length)) return false;
        switch (length)
        {
            case 253: value = double.NaN; return true;
            case 254: value = double.PositiveInfinity; return true;
            case 255: value = double.NegativeInfinity; return true;
        }
        if (!TryRead(length, out ReadOnlySpan<byte> text)) return false;
        return double.TryParse(System.Text.Encoding.ASCII.GetString(text), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    /// <summary><c>rdbGenericLoadStringObject</c>: a plain, integer-encoded or LZF-compressed string; null when it cannot be read.</summary>
    public byte[]? ReadString()
    {
        if (!TryReadLength(out ulong length, out bool encoded)) return null;
        if (!encoded)
        {
            if (length > (ulong)(_data.Length - Position))
            {
                End();
                return null;
            }
            return TryRead((int)length, out ReadOnlySpan<byte> plain) ? plain.ToArray() : null;
        }
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
                if (original > compressed * 132 + 33) return null;
                if (compressed > (ulong)(_data.Length - Position))
                {
                    End();
                    return null;
                }
                TryRead((int)compressed, out ReadOnlySpan<byte> lzf);
                var value = new byte[original];
                // lzf_decompress into 0 bytes returns 0 (E2BIG), which Redis takes as the expected length.
                return value.Length == 0 || Lzf.Decompress(lzf, value) == value.Length ? value : null;
            default:
                return null;
        }
    }

    private static byte[] Decimal(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
