using System.Buffers.Binary;
using RespKv.Protocol;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// Redis 7.0's listpack (<c>listpack.c</c>), the packed container of small hashes, sorted sets, quicklist nodes and stream
/// nodes in an RDB: a 6-byte header (total bytes, 4 bytes little-endian; element count, 2 bytes little-endian, 65535 when
/// unknown), the elements, then <c>0xFF</c>. Each element is its encoding — an integer as 1 (7-bit unsigned, <c>0xxxxxxx</c>),
/// 2 (13-bit, <c>110xxxxx</c>), 3 (<c>0xF1</c> 16-bit), 4 (<c>0xF2</c> 24-bit), 5 (<c>0xF3</c> 32-bit) or 9 (<c>0xF4</c> 64-bit)
/// bytes, two's complement little-endian; a string as a 6-bit (<c>10xxxxxx</c>), 12-bit (<c>1110xxxx</c> + 1 byte) or 32-bit
/// (<c>0xF0</c> + 4 bytes little-endian) length then its bytes — followed by its back-length: the encoding's size in 1 to 5
/// bytes of 7 bits, most significant first, every byte but the first with bit 7 set (<c>lpEncodeBacklen</c>).
/// <see cref="Builder"/> writes as <c>lpAppend</c> (a string that is a canonical 64-bit integer is stored as that integer,
/// <c>lpStringToInt64</c>); <see cref="TryRead"/> validates as <c>lpValidateIntegrity</c> with deep checking.
/// </summary>
public static class Listpack
{
    /// <summary><c>LP_HDR_SIZE</c>: total bytes and element count.</summary>
    public const int HeaderSize = 6;

    /// <summary><c>LP_EOF</c>.</summary>
    public const byte End = 0xFF;

    /// <summary>Builds a listpack element by element (<c>lpAppend</c>/<c>lpAppendInteger</c>).</summary>
    public sealed class Builder
    {
        private readonly MemoryStream _body = new();
        private readonly byte[] _scratch = new byte[16];

        /// <summary>Elements appended so far.</summary>
        public int Count { get; private set; }

        /// <summary>Bytes the listpack would take now (<c>lpBytes</c>): header, elements and the end byte.</summary>
        public long Bytes => HeaderSize + _body.Length + 1;

        /// <summary>Appends <paramref name="element"/>: as an integer when it is a canonical 64-bit integer's text, else as a string.</summary>
        public void Append(ReadOnlySpan<byte> element)
        {
            if (element.Length <= 20 && RespInteger.TryParse(element, out long n))
            {
                AppendInteger(n);
                return;
            }
            int header;
            if (element.Length < 64)
            {
                _scratch[0] = (byte)(0x80 | element.Length);
                header = 1;
            }
            else if (element.Length < 4096)
            {
                _scratch[0] = (byte)(0xE0 | (element.Length >> 8));
                _scratch[1] = (byte)element.Length;
                header = 2;
            }
            else
            {
                _scratch[0] = 0xF0;
                BinaryPrimitives.WriteInt32LittleEndian(_scratch.AsSpan(1), element.Length);
                header = 5;
            }
            _body.Write(_scratch, 0, header);
            _body.Write(element);
            WriteBacklen((ulong)(header + element.Length));
            Count++;
        }

        /// <summary>Appends <paramref name="value"/> in the smallest integer encoding (<c>lpEncodeIntegerGetType</c>).</summary>
        public void AppendInteger(long value)
        {
            int size;
            if (value is >= 0 and <= 127)
            {
                _scratch[0] = (byte)value;
                size = 1;
            }
            else if (value is >= -4096 and <= 4095)
            {
                long v = value < 0 ? (1L << 13) + value : value;
                _scratch[0] = (byte)((v >> 8) | 0xC0);
                _scratch[1] = (byte)v;
                size = 2;
            }
            else if (value is >= short.MinValue and <= short.MaxValue)
            {
                _scratch[0] = 0xF1;
                BinaryPrimitives.WriteInt16LittleEndian(_scratch.AsSpan(1), (short)value);
                size = 3;
            }
            else if (value is >= -8388608 and <= 8388607)
            {
                _scratch[0] = 0xF2;
                _scratch[1] = (byte)value;
                _scratch[2] = (byte)(value >> 8);
                _scratch[3] = (byte)(value >> 16);
                size = 4;
            }
            else if (value is >= int.MinValue and <= int.MaxValue)
            {
                _scratch[0] = 0xF3;
                BinaryPrimitives.WriteInt32LittleEndian(_scratch.AsSpan(1), (int)value);
                size = 5;
            }
            else
            {
                _scratch[0] = 0xF4;
                BinaryPrimitives.WriteInt64LittleEndian(_scratch.AsSpan(1), value);
                size = 9;
            }
            _body.Write(_scratch, 0, size);
            WriteBacklen((ulong)size);
            Count++;
        }

        private void WriteBacklen(ulong l)
        {
            int n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
            for (int i = 0; i < n; i++)
            {
                byte b = (byte)((l >> (7 * (n - 1 - i))) & 127);
                _scratch[i] = i == 0 ? b : (byte)(b | 128);
            }
            _body.Write(_scratch, 0, n);
        }

        /// <summary>The listpack's bytes: header (total bytes; count, or 65535 from 65535 elements on), elements, <c>0xFF</c>.</summary>
        public byte[] ToArray()
        {
            var lp = new byte[Bytes];
            BinaryPrimitives.WriteUInt32LittleEndian(lp, (uint)lp.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(lp.AsSpan(4), (ushort)Math.Min(Count, ushort.MaxValue));
            _body.GetBuffer().AsSpan(0, (int)_body.Length).CopyTo(lp.AsSpan(HeaderSize));
            lp[^1] = End;
            return lp;
        }
    }

    /// <summary>
    /// Reads every element of <paramref name="lp"/> into <paramref name="elements"/> (integers as their decimal text), after
    /// checking it as <c>lpValidateIntegrity(deep)</c>: at least 7 bytes, the header's total equal to the length, the last
    /// byte <c>0xFF</c>, every element inside the buffer with a back-length that matches, and the header's count (unless
    /// 65535). False, with <paramref name="elements"/> partly filled, when any check fails.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> lp, List<byte[]> elements)
    {
        if (lp.Length < HeaderSize + 1) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(lp) != (uint)lp.Length || lp[^1] != End) return false;
        int declared = BinaryPrimitives.ReadUInt16LittleEndian(lp[4..]);
        int p = HeaderSize, count = 0;
        while (lp[p] != End)
        {
            byte b = lp[p];
            long header, length;
            long? integer = null;
            int left = lp.Length - 1 - p;
            if ((b & 0x80) == 0) { header = 1; length = 0; integer = b & 0x7f; }
            else if ((b & 0xC0) == 0x80) { header = 1; length = b & 0x3f; }
            else if ((b & 0xE0) == 0xC0)
            {
                if (left < 2) return false;
                header = 2; length = 0;
                int v = ((b & 0x1f) << 8) | lp[p + 1];
                integer = v >= 1 << 12 ? v - (1 << 13) : v;
            }
            else if ((b & 0xF0) == 0xE0)
            {
                if (left < 2) return false;
                header = 2; length = ((b & 0x0f) << 8) | lp[p + 1];
            }
            else if (b == 0xF0)
            {
                if (left < 5) return false;
                header = 5; length = BinaryPrimitives.ReadUInt32LittleEndian(lp[(p + 1)..]);
            }
            else if (b is 0xF1 or 0xF2 or 0xF3 or 0xF4)
            {
                int bytes = b switch { 0xF1 => 2, 0xF2 => 3, 0xF3 => 4, _ => 8 };
                if (left < 1 + bytes) return false;
                header = 1 + bytes; length = 0;
                ReadOnlySpan<byte> v = lp.Slice(p + 1, bytes);
                integer = b switch
                {
                    0xF1 => BinaryPrimitives.ReadInt16LittleEndian(v),
                    0xF2 => (v[0] | (v[1] << 8) | (v[2] << 16)) << 8 >> 8,
                    0xF3 => BinaryPrimitives.ReadInt32LittleEndian(v),
                    _ => BinaryPrimitives.ReadInt64LittleEndian(v),
                };
            }
            else return false;
            long encoded = header + length;
            int backlen = encoded <= 127 ? 1 : encoded < 16383 ? 2 : encoded < 2097151 ? 3 : encoded < 268435455 ? 4 : 5;
            if (encoded + backlen > left) return false;
            int next = p + (int)encoded + backlen;
            if (DecodeBacklen(lp, next - 1) != encoded) return false;
            elements.Add(integer is { } n
                ? System.Text.Encoding.ASCII.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture))
                : lp.Slice(p + (int)header, (int)length).ToArray());
            count++;
            p = next;
        }
        return p == lp.Length - 1 && (declared == ushort.MaxValue || declared == count);
    }

    /// <summary><c>lpDecodeBacklen</c>: the back-length ending at <paramref name="last"/> (read backwards), or -1 when malformed.</summary>
    private static long DecodeBacklen(ReadOnlySpan<byte> lp, int last)
    {
        long value = 0;
        int shift = 0;
        for (int p = last; p >= HeaderSize && shift <= 28; p--)
        {
            value |= (long)(lp[p] & 127) << shift;
            if ((lp[p] & 128) == 0) return value;
            shift += 7;
        }
        return -1;
    }
}
