namespace RespKv.Storage;

/// <summary>
/// Unsigned LEB128 lengths (7 bits a byte, low group first, high bit set on every byte but the last) as the packed
/// leaves of <see cref="SortedHash"/> and <see cref="ScoredMemberTree"/> prefix their strings with: one byte below 128.
/// </summary>
internal static class Varint
{
    /// <summary>Bytes <paramref name="v"/> (≥ 0) takes: 1 to 5.</summary>
    public static int Size(int v)
    {
        int size = 1;
        while ((uint)v >= 0x80)
        {
            v = (int)((uint)v >> 7);
            size++;
        }
        return size;
    }

    /// <summary>Writes <paramref name="v"/> (≥ 0) at <paramref name="p"/>, advancing it.</summary>
    public static void Write(byte[] target, ref int p, int v)
    {
        uint u = (uint)v;
        while (u >= 0x80)
        {
            target[p++] = (byte)(u | 0x80);
            u >>= 7;
        }
        target[p++] = (byte)u;
    }

    /// <summary>Reads the value at <paramref name="p"/>, advancing it.</summary>
    public static int Read(byte[] source, ref int p)
    {
        uint result = 0;
        int shift = 0;
        byte b;
        do
        {
            b = source[p++];
            result |= (uint)(b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return (int)result;
    }
}
