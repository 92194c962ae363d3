using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// Redis's intset (<c>intset.c</c>), a set of integers as one blob: encoding (4 bytes little-endian: 2, 4 or 8, the width of
/// every member), member count (4 bytes little-endian), then the members ascending, each that many bytes little-endian.
/// </summary>
public static class Intset
{
    /// <summary>The intset of <paramref name="ascending"/> (strictly ascending), in the narrowest width that holds every member, as <c>intsetAdd</c> leaves it.</summary>
    public static byte[] Write(IReadOnlyList<long> ascending)
    {
        int width = 2;
        foreach (long v in ascending)
            width = Math.Max(width, v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8);
        var blob = new byte[8 + width * ascending.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), (uint)ascending.Count);
        for (int i = 0; i < ascending.Count; i++)
        {
            Span<byte> at = blob.AsSpan(8 + i * width);
            if (width == 2) BinaryPrimitives.WriteInt16LittleEndian(at, (short)ascending[i]);
            else if (width == 4) BinaryPrimitives.WriteInt32LittleEndian(at, (int)ascending[i]);
            else BinaryPrimitives.WriteInt64LittleEndian(at, ascending[i]);
        }
        return blob;
    }

    /// <summary>
    /// Reads the members of <paramref name="blob"/> after <c>intsetValidateIntegrity(deep)</c>'s checks: a known width, the size
    /// equal to header plus count × width, not empty, members strictly ascending. False when a check fails.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> blob, List<long> members)
    {
        if (blob.Length < 8) return false;
        uint width = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (width is not (2 or 4 or 8)) return false;
        ulong count = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        if (8 + count * width != (ulong)blob.Length || count == 0) return false;
        for (int i = 0; i < (int)count; i++)
        {
            ReadOnlySpan<byte> at = blob[(8 + i * (int)width)..];
            long v = width == 2 ? BinaryPrimitives.ReadInt16LittleEndian(at) : width == 4 ? BinaryPrimitives.ReadInt32LittleEndian(at) : BinaryPrimitives.ReadInt64LittleEndian(at);
            if (members.Count > 0 && v <= members[^1]) return false;
            members.Add(v);
        }
        return true;
    }
}

/// <summary>
/// Redis's ziplist (<c>ziplist.c</c>; RDB types of Redis 2.6 to 6.2, loaded only): header <c>zlbytes</c> (4 bytes
/// little-endian), <c>zltail</c> (offset of the last entry, 4 bytes), <c>zllen</c> (2 bytes, 65535 when unknown); entries, each
/// the previous entry's length (1 byte below 254, else <c>0xFE</c> and 4 bytes little-endian), an encoding — string:
/// <c>00pppppp</c>, <c>01pppppp qqqqqqqq</c> (14-bit big-endian) or <c>0x80</c> and a 32-bit big-endian length, then the bytes;
/// integer: <c>0xC0</c> int16, <c>0xD0</c> int32, <c>0xE0</c> int64, <c>0xF0</c> int24, <c>0xFE</c> int8 (little-endian), or
/// <c>0xF1</c>..<c>0xFD</c> the value 0..12 — then <c>0xFF</c>.
/// </summary>
public static class Ziplist
{
    private const int HeaderSize = 10;

    /// <summary>
    /// Reads every entry of <paramref name="zl"/> into <paramref name="entries"/> (integers as decimal text) after the checks
    /// of <c>ziplistValidateIntegrity(deep)</c>: header, size and end byte, every entry inside the buffer, each entry's
    /// previous-length equal to the previous entry's size, <c>zltail</c> at the last entry, the count (unless 65535).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> zl, List<byte[]> entries)
    {
        if (zl.Length < HeaderSize + 1) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(zl) != (uint)zl.Length || zl[^1] != 0xFF) return false;
        uint tail = BinaryPrimitives.ReadUInt32LittleEndian(zl[4..]);
        if (tail > zl.Length - 1) return false;
        int declared = BinaryPrimitives.ReadUInt16LittleEndian(zl[8..]);
        int p = HeaderSize, previousSize = 0, last = HeaderSize, count = 0;
        while (zl[p] != 0xFF)
        {
            int start = p, left = zl.Length - 1 - p;
            long prevlen;
            if (zl[p] < 254) { prevlen = zl[p]; p++; }
            else if (zl[p] == 254 && left >= 5) { prevlen = BinaryPrimitives.ReadUInt32LittleEndian(zl[(p + 1)..]); p += 5; }
            else return false;
            if (prevlen != previousSize) return false;
            if (p >= zl.Length - 1) return false;
            byte b = zl[p];
            left = zl.Length - 1 - p;
            long header, length = 0;
            long? integer = null;
            switch (b >> 6)
            {
                case 0: header = 1; length = b & 0x3f; break;
                case 1:
                    if (left < 2) return false;
                    header = 2; length = ((b & 0x3f) << 8) | zl[p + 1];
                    break;
                case 2:
                    if (b != 0x80 || left < 5) return false;
                    header = 5; length = BinaryPrimitives.ReadUInt32BigEndian(zl[(p + 1)..]);
                    break;
                default:
                    int size = b switch { 0xC0 => 2, 0xD0 => 4, 0xE0 => 8, 0xF0 => 3, 0xFE => 1, >= 0xF1 and <= 0xFD => 0, _ => -1 };
                    if (size < 0 || left < 1 + size) return false;
                    header = 1 + size;
                    ReadOnlySpan<byte> v = zl.Slice(p + 1, size);
                    integer = b switch
                    {
                        0xC0 => BinaryPrimitives.ReadInt16LittleEndian(v),
                        0xD0 => BinaryPrimitives.ReadInt32LittleEndian(v),
                        0xE0 => BinaryPrimitives.ReadInt64LittleEndian(v),
                        0xF0 => (v[0] | (v[1] << 8) | (v[2] << 16)) << 8 >> 8,
                        0xFE => (sbyte)v[0],
                        _ => (b & 0x0F) - 1,
                    };
                    break;
            }
            if (header + length > left) return false;
            entries.Add(integer is { } n ? Encoding.ASCII.GetBytes(n.ToString(CultureInfo.InvariantCulture)) : zl.Slice(p + (int)header, (int)length).ToArray());
            p += (int)(header + length);
            previousSize = p - start;
            last = start;
            count++;
        }
        if (p != zl.Length - 1 || tail != last) return false;
        return declared == ushort.MaxValue || declared == count;
    }
}

/// <summary>
/// Redis 2.4's zipmap (<c>zipmap.c</c>; <c>RDB_TYPE_HASH_ZIPMAP</c>, loaded only): a count byte (254 when unknown), then per
/// pair the field's length (1 byte below 254, else 254 and 4 bytes little-endian), the field, the value's length, a free-space
/// byte, the value and that many unused bytes; then <c>0xFF</c>.
/// </summary>
public static class Zipmap
{
    /// <summary>Reads the fields and values of <paramref name="zm"/> (alternating) after <c>zipmapValidateIntegrity(deep)</c>'s checks; false when one fails.</summary>
    public static bool TryRead(ReadOnlySpan<byte> zm, List<byte[]> pairs)
    {
        if (zm.Length < 2 || zm[^1] != 0xFF) return false;
        int p = 1, count = 0;
        while (zm[p] != 0xFF)
        {
            if (!TryLength(zm, ref p, out long fieldLength) || fieldLength > zm.Length - 1 - p) return false;
            byte[] field = zm.Slice(p, (int)fieldLength).ToArray();
            p += (int)fieldLength;
            if (!TryLength(zm, ref p, out long valueLength) || p >= zm.Length - 1) return false;
            int free = zm[p++];
            if (valueLength + free > zm.Length - 1 - p) return false;
            pairs.Add(field);
            pairs.Add(zm.Slice(p, (int)valueLength).ToArray());
            p += (int)valueLength + free;
            count++;
        }
        return count > 0 && (zm[0] == 254 || zm[0] == count);
    }

    private static bool TryLength(ReadOnlySpan<byte> zm, ref int p, out long length)
    {
        length = 0;
        if (p >= zm.Length - 1) return false;
        byte b = zm[p];
        if (b < 254)
        {
            length = b;
            p++;
            return true;
        }
        if (b != 254 || p + 5 > zm.Length - 1) return false;
        length = BinaryPrimitives.ReadUInt32LittleEndian(zm[(p + 1)..]);
        p += 5;
        return true;
    }
}
