namespace RespKv.Storage;

/// <summary>
/// Unsigned LEB128 lengths (7 bits a byte, low group first, high bit set on every byte but the last) as the packed
/// leaves of <see cref="SortedHash"/> and <see cref="ScoredMemberTree"/> prefix their strings with: one byte below 128;
/// 64-bit values (a stream node's ID deltas) the same way, up to 10 bytes.
/// </summary>
internal static class Varint
{
    /// <summary>Bytes <paramref name="v"/> (≥ 0) takes: 1 to 5.</summary>
    public static int Size(int v) => Size((ulong)(uint)v);

    /// <summary>Writes <paramref name="v"/> (≥ 0) at <paramref name="p"/>, advancing it.</summary>
    public static void Write(byte[] target, ref int p, int v) => Write(target, ref p, (ulong)(uint)v);

    /// <summary>Reads the value at <paramref name="p"/>, advancing it.</summary>
    public static int Read(byte[] source, ref int p) => (int)Read64(source, ref p);

    /// <summary>Bytes <paramref name="v"/> takes: 1 to 10.</summary>
    public static int Size(ulong v)
    {
        int size = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            size++;
        }
        return size;
    }

    /// <summary>Writes the 64-bit <paramref name="v"/> at <paramref name="p"/>, advancing it.</summary>
    public static void Write(byte[] target, ref int p, ulong v)
    {
        while (v >= 0x80)
        {
            target[p++] = (byte)(v | 0x80);
            v >>= 7;
        }
        target[p++] = (byte)v;
    }

    /// <summary>Reads a 64-bit value at <paramref name="p"/>, advancing it.</summary>
    public static ulong Read64(byte[] source, scoped ref int p)
    {
        ulong result = 0;
        int shift = 0;
        byte b;
        do
        {
            b = source[p++];
            result |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return result;
    }
}
