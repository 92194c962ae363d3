namespace RespKv.Persistence.Rdb;

/// <summary>
/// Redis's CRC-64 (<c>src/crc64.c</c>, the "Jones" coefficients): reflected input and output, polynomial
/// <c>0xad93d23594c935a9</c> (normal form; <c>0x95ac9329ac4bc9b5</c> reflected), initial value 0, no final xor — the
/// checksum that ends a <c>DUMP</c>/<c>FUNCTION DUMP</c> payload and an RDB file, stored little-endian.
/// Not the ECMA-182 CRC-64 of <c>System.IO.Hashing.Crc64</c>. Check value: <c>Compute("123456789") == 0xe9c6d914c4b8d9ca</c>
/// (Redis's own test vector in <c>crc64.c</c>).
/// </summary>
public static class Crc64Jones
{
    /// <summary>The reflected polynomial, as the table-driven (least significant bit first) loop uses it.</summary>
    private const ulong ReflectedPolynomial = 0x95ac9329ac4bc9b5UL;

    private static readonly ulong[] s_table = BuildTable();

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (uint i = 0; i < 256; i++)
        {
            ulong crc = i;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPolynomial : crc >> 1;
            table[i] = crc;
        }
        return table;
    }

    /// <summary>
    /// Continues <paramref name="crc"/> (0 to start, as Redis's <c>crc64(0, p, len)</c>) over <paramref name="data"/>
    /// and returns the new checksum.
    /// </summary>
    public static ulong Compute(ReadOnlySpan<byte> data, ulong crc = 0)
    {
        ulong[] table = s_table;
        foreach (byte b in data) crc = table[(byte)(crc ^ b)] ^ (crc >> 8);
        return crc;
    }
}
