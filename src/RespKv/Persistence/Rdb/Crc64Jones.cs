using System.IO.Hashing;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// Redis's CRC-64 (<c>src/crc64.c</c>, the "Jones" coefficients): reflected input and output, polynomial
/// <c>0xad93d23594c935a9</c> (normal form), initial value 0, no final xor — the checksum that ends a
/// <c>DUMP</c>/<c>FUNCTION DUMP</c> payload and an RDB file, stored little-endian. Not the ECMA-182 CRC-64 of
/// <see cref="Crc64"/>'s default parameters: System.IO.Hashing computes it from this <see cref="Parameters"/> set
/// (vectorized, about ten times the speed of a byte-at-a-time table on this machine kind). Check value:
/// <c>Compute("123456789") == 0xe9c6d914c4b8d9ca</c> (Redis's own test vector in <c>crc64.c</c>).
/// </summary>
public static class Crc64Jones
{
    /// <summary>The CRC-64/Jones parameters (Redis's <c>crc64.c</c>).</summary>
    public static Crc64ParameterSet Parameters { get; } = Crc64ParameterSet.Create(0xad93d23594c935a9UL, 0, 0, reflectValues: true);

    /// <summary>The checksum of <paramref name="data"/> (Redis's <c>crc64(0, p, len)</c>); allocates nothing.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data) => Crc64.HashToUInt64(Parameters, data);

    /// <summary>A running checksum (<see cref="Crc64.Append"/> each part, <see cref="Crc64.GetCurrentHashAsUInt64"/> for the value so far), for a stream checksummed as it is read or written.</summary>
    public static Crc64 CreateRunning() => new(Parameters);
}
