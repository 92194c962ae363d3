using System.Buffers.Binary;
using System.Text;

namespace RespKv.Storage;

/// <summary>
/// Redis 7.0's HyperLogLog representation (<c>hyperloglog.c</c>), byte for byte, so a value written by redis-server counts
/// the same here and back. A HyperLogLog is a string value:
/// <list type="bullet">
/// <item>a 16-byte header: the magic <c>HYLL</c>, the encoding (0 dense, 1 sparse), 3 unused bytes (zero), and the cached
/// cardinality as 8 little-endian bytes whose most significant bit set means "cache invalid";</item>
/// <item>dense: 16384 registers (p = 14) of 6 bits each, 12288 bytes, register <c>i</c> at bit <c>6i</c> counting from the
/// least significant bit of each byte (12304 bytes in all);</item>
/// <item>sparse: run-length opcodes over the registers — <c>00xxxxxx</c> ZERO (1..64 zero registers), <c>01xxxxxx yyyyyyyy</c>
/// XZERO (1..16384 zero registers, 14 bits), <c>1vvvvvxx</c> VAL (1..4 registers of value 1..32). A new HyperLogLog is sparse
/// (one XZERO of 16384: 18 bytes); it turns dense when a register needs a value above 32 or the string would grow past
/// <c>hll-sparse-max-bytes</c>.</item>
/// </list>
/// Elements are hashed with MurmurHash64A (seed <c>0xadc83b19</c>): the low 14 bits pick the register, the run of zeros
/// above them (+1, at most 51) is its candidate value. The cardinality is Otmar Ertl's improved estimator
/// ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284) that Redis 7.0's <c>hllCount</c> uses.
/// </summary>
public static class HyperLogLog
{
    /// <summary>Bytes of the header (<c>struct hllhdr</c>).</summary>
    public const int HeaderSize = 16;

    /// <summary>Register index bits (HLL_P).</summary>
    public const int P = 14;

    /// <summary>Hash bits left for the run of zeros (HLL_Q = 64 − P).</summary>
    public const int Q = 64 - P;

    /// <summary>Number of registers (16384).</summary>
    public const int Registers = 1 << P;

    /// <summary>Largest register value (6 bits).</summary>
    public const int RegisterMax = 63;

    /// <summary>Length of a dense HyperLogLog value: header plus 16384 × 6 bits (12304 bytes).</summary>
    public const int DenseSize = HeaderSize + (Registers * 6 + 7) / 8;

    /// <summary>The encoding byte of a dense value.</summary>
    public const byte DenseEncoding = 0;

    /// <summary>The encoding byte of a sparse value.</summary>
    public const byte SparseEncoding = 1;

    /// <summary>The seed Redis hashes elements with.</summary>
    public const uint Seed = 0xadc83b19;

    /// <summary>Largest register value a sparse VAL opcode holds.</summary>
    public const int SparseValueMax = 32;

    private const int SparseValueMaxLength = 4, ZeroMaxLength = 64, XZeroMaxLength = 16384;

    /// <summary>A new, empty HyperLogLog as <c>createHLLObject</c> makes it: sparse, one XZERO opcode, cached cardinality 0 (valid).</summary>
    public static byte[] CreateEmpty()
    {
        byte[] value = new byte[HeaderSize + 2];
        "HYLL"u8.CopyTo(value);
        value[4] = SparseEncoding;
        value[HeaderSize] = (byte)(0x40 | ((XZeroMaxLength - 1) >> 8));
        value[HeaderSize + 1] = (XZeroMaxLength - 1) & 0xff;
        return value;
    }

    /// <summary>
    /// Whether <paramref name="value"/> passes Redis's <c>isHLLObjectOrReply</c>: at least a header, the <c>HYLL</c> magic,
    /// encoding 0 or 1, and a dense value exactly <see cref="DenseSize"/> bytes. (A sparse value's opcodes are checked when
    /// read: <c>-INVALIDOBJ</c>.)
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize && value.StartsWith("HYLL"u8) && value[4] <= SparseEncoding
        && (value[4] != DenseEncoding || value.Length == DenseSize);

    /// <summary>True for the dense encoding.</summary>
    public static bool IsDense(ReadOnlySpan<byte> value) => value[4] == DenseEncoding;

    /// <summary>True when the cached cardinality is valid (the top bit of its last byte clear).</summary>
    public static bool HasValidCache(ReadOnlySpan<byte> value) => (value[15] & 0x80) == 0;

    /// <summary>The cached cardinality (meaningful when <see cref="HasValidCache"/>).</summary>
    public static long CachedCardinality(ReadOnlySpan<byte> value) => (long)BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);

    /// <summary>Stores <paramref name="cardinality"/> as the cached, valid cardinality.</summary>
    public static void SetCachedCardinality(Span<byte> value, long cardinality) => BinaryPrimitives.WriteUInt64LittleEndian(value[8..], (ulong)cardinality);

    /// <summary>Marks the cached cardinality invalid (HLL_INVALIDATE_CACHE).</summary>
    public static void InvalidateCache(Span<byte> value) => value[15] |= 0x80;

    /// <summary>MurmurHash2, 64-bit version (<c>MurmurHash64A</c>), as Redis reads it: 8-byte blocks little-endian.</summary>
    public static ulong MurmurHash64A(ReadOnlySpan<byte> key, uint seed)
    {
        const ulong m = 0xc6a4a7935bd1e995;
        const int r = 47;
        unchecked
        {
            ulong h = seed ^ ((ulong)key.Length * m);
            int blocks = key.Length & ~7;
            for (int i = 0; i < blocks; i += 8)
            {
                ulong k = BinaryPrimitives.ReadUInt64LittleEndian(key[i..]);
                k *= m;
                k ^= k >> r;
                k *= m;
                h ^= k;
                h *= m;
            }
            int rest = key.Length & 7;
            if (rest != 0)
            {
                for (int i = rest - 1; i >= 0; i--) h ^= (ulong)key[blocks + i] << (8 * i);
                h *= m;
            }
            h ^= h >> r;
            h *= m;
            h ^= h >> r;
            return h;
        }
    }

    /// <summary>
    /// The register <paramref name="element"/> maps to (<paramref name="index"/>) and its candidate value: the length of the
    /// <c>000…1</c> pattern above the index bits of its hash, 1..Q+1 (Redis's <c>hllPatLen</c>).
    /// </summary>
    public static int PatternLength(ReadOnlySpan<byte> element, out int index)
    {
        ulong hash = MurmurHash64A(element, Seed);
        index = (int)(hash & (Registers - 1));
        hash >>= P;
        hash |= 1UL << Q;
        return System.Numerics.BitOperations.TrailingZeroCount(hash) + 1;
    }

    /// <summary>Dense register <paramref name="index"/> of the 12288 register bytes (HLL_DENSE_GET_REGISTER).</summary>
    public static int DenseGet(ReadOnlySpan<byte> registers, int index)
    {
        int bit = index * 6, b0 = bit >> 3, fb = bit & 7;
        int b1 = b0 + 1 < registers.Length ? registers[b0 + 1] : 0;
        return ((registers[b0] >> fb) | (b1 << (8 - fb))) & RegisterMax;
    }

    /// <summary>Sets dense register <paramref name="index"/> to <paramref name="value"/> (HLL_DENSE_SET_REGISTER).</summary>
    public static void DenseSet(Span<byte> registers, int index, int value)
    {
        int bit = index * 6, b0 = bit >> 3, fb = bit & 7, fb8 = 8 - fb;
        registers[b0] = (byte)((registers[b0] & ~(RegisterMax << fb)) | (value << fb));
        if (b0 + 1 < registers.Length)
            registers[b0 + 1] = (byte)((registers[b0 + 1] & ~(RegisterMax >> fb8)) | (value >> fb8));
    }

    /// <summary>
    /// The register histogram of <paramref name="value"/> (dense or sparse) into <paramref name="histogram"/> (64 counters);
    /// false when sparse opcodes do not cover exactly 16384 registers (a corrupt value).
    /// </summary>
    private static bool Histogram(ReadOnlySpan<byte> value, Span<int> histogram)
    {
        ReadOnlySpan<byte> data = value[HeaderSize..];
        if (IsDense(value))
        {
            for (int i = 0; i < Registers; i++) histogram[DenseGet(data, i)]++;
            return true;
        }
        int index = 0;
        for (var runs = new SparseRuns(data); runs.Next();)
        {
            index += runs.Length;
            histogram[runs.Value] += runs.Length;
        }
        return index == Registers;
    }

    /// <summary>
    /// The estimated cardinality of <paramref name="value"/> (Redis's <c>hllCount</c>); <paramref name="invalid"/> when its
    /// sparse opcodes are corrupt (Redis still returns the estimate it computed; the commands answer <c>-INVALIDOBJ</c>).
    /// </summary>
    public static long Count(ReadOnlySpan<byte> value, out bool invalid)
    {
        Span<int> histogram = stackalloc int[64];
        invalid = !Histogram(value, histogram);
        return Estimate(histogram);
    }

    /// <summary>The estimated cardinality of 16384 registers held one per byte (the merged registers of PFCOUNT of several keys).</summary>
    public static long CountRegisters(ReadOnlySpan<byte> registers)
    {
        Span<int> histogram = stackalloc int[64];
        foreach (byte r in registers) histogram[r & 63]++;
        return Estimate(histogram);
    }

    private const double AlphaInf = 0.721347520444481703680; // 0.5 / ln(2)

    /// <summary>Ertl's estimate from a register histogram (the tail of Redis's <c>hllCount</c>), rounded half away from zero.</summary>
    private static long Estimate(ReadOnlySpan<int> histogram)
    {
        const double m = Registers;
        double z = m * Tau((m - histogram[Q + 1]) / m);
        for (int j = Q; j >= 1; --j)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(AlphaInf * m * m / z, MidpointRounding.AwayFromZero);
    }

    /// <summary>Ertl's σ(x) (<c>hllSigma</c>): ∞ at 1.</summary>
    private static double Sigma(double x)
    {
        if (x == 1.0) return double.PositiveInfinity;
        double zPrime, y = 1, z = x;
        do
        {
            x *= x;
            zPrime = z;
            z += x * y;
            y += y;
        } while (zPrime != z);
        return z;
    }

    /// <summary>Ertl's τ(x) (<c>hllTau</c>): 0 at 0 and 1.</summary>
    private static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0) return 0.0;
        double zPrime, y = 1.0, z = 1 - x;
        do
        {
            x = Math.Sqrt(x);
            zPrime = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        } while (zPrime != z);
        return z / 3;
    }

    /// <summary>
    /// <paramref name="max"/>[i] := max(<paramref name="max"/>[i], register i of <paramref name="value"/>) over the 16384
    /// registers (Redis's <c>hllMerge</c>); false when sparse opcodes are corrupt.
    /// </summary>
    public static bool MergeInto(Span<byte> max, ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> data = value[HeaderSize..];
        if (IsDense(value))
        {
            for (int i = 0; i < Registers; i++)
            {
                int r = DenseGet(data, i);
                if (r > max[i]) max[i] = (byte)r;
            }
            return true;
        }
        int index = 0;
        for (var runs = new SparseRuns(data); runs.Next();)
        {
            if (runs.Value == 0)
            {
                index += runs.Length;
                continue;
            }
            if (runs.Length + index > Registers) break;
            for (int run = runs.Length; run > 0; run--, index++)
                if (runs.Value > max[index]) max[index] = (byte)runs.Value;
        }
        return index == Registers;
    }

    /// <summary>
    /// PFDEBUG DECODE's text of a sparse value: <c>z:len</c> (ZERO), <c>Z:len</c> (XZERO), <c>v:value,len</c> (VAL), separated
    /// by spaces.
    /// </summary>
    public static string DecodeSparse(ReadOnlySpan<byte> value)
    {
        var text = new StringBuilder();
        ReadOnlySpan<byte> data = value[HeaderSize..];
        for (var runs = new SparseRuns(data); runs.Next();)
        {
            if (runs.Value != 0) text.Append("v:").Append(runs.Value).Append(',').Append(runs.Length).Append(' ');
            else text.Append(runs.IsXZero ? "Z:" : "z:").Append(runs.Length).Append(' ');
        }
        return text.ToString().TrimEnd(' ');
    }

    /// <summary>
    /// Reads a sparse value's opcodes in order: each run of <see cref="Length"/> registers holding <see cref="Value"/>
    /// (0 for ZERO and XZERO). An XZERO cut off by the end of the value reads its missing byte as 0.
    /// </summary>
    private ref struct SparseRuns(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _p;

        /// <summary>The current run's register value (0 for a zero run).</summary>
        public int Value;

        /// <summary>The current run's register count.</summary>
        public int Length;

        /// <summary>True when the current run is an XZERO opcode.</summary>
        public bool IsXZero;

        /// <summary>Moves to the next opcode; false at the end.</summary>
        public bool Next()
        {
            if (_p >= _data.Length) return false;
            byte op = _data[_p];
            IsXZero = (op & 0xc0) == 0x40;
            if ((op & 0xc0) == 0)
            {
                Value = 0;
                Length = (op & 0x3f) + 1;
                _p++;
            }
            else if (IsXZero)
            {
                Value = 0;
                Length = (((op & 0x3f) << 8) | (_p + 1 < _data.Length ? _data[_p + 1] : 0)) + 1;
                _p += 2;
            }
            else
            {
                Value = ((op >> 2) & 0x1f) + 1;
                Length = (op & 3) + 1;
                _p++;
            }
            return true;
        }
    }

    /// <summary>
    /// A mutable working copy of one HyperLogLog, where PFADD, PFMERGE and PFDEBUG make their changes before the result is
    /// published as a new string (values are immutable once stored). One per thread (<see cref="ForThread"/>), its buffer
    /// reused, so an update allocates only the published result.
    /// </summary>
    public sealed class Builder
    {
        [ThreadStatic] private static Builder? t_builder;

        /// <summary>This thread's builder.</summary>
        public static Builder ForThread => t_builder ??= new Builder();

        private byte[] _buffer = new byte[DenseSize + 8];
        private byte[] _spare = new byte[DenseSize + 8];
        private int _length;

        /// <summary>The working value's bytes.</summary>
        public Span<byte> Value => _buffer.AsSpan(0, _length);

        /// <summary>True when the working value is dense.</summary>
        public bool IsDense => _buffer[4] == DenseEncoding;

        /// <summary>Starts from a copy of <paramref name="value"/> (a value <see cref="IsValid"/> accepts).</summary>
        public void Load(ReadOnlySpan<byte> value)
        {
            Reserve(value.Length + 3);
            value.CopyTo(_buffer);
            _length = value.Length;
        }

        /// <summary>Starts from a new, empty HyperLogLog (<see cref="CreateEmpty"/>).</summary>
        public void LoadEmpty() => Load(CreateEmpty());

        /// <summary>The working value as a new array (the value to publish).</summary>
        public byte[] ToArray() => Value.ToArray();

        private void Reserve(int length)
        {
            if (_buffer.Length < length) Array.Resize(ref _buffer, Math.Max(length, _buffer.Length * 2));
        }

        /// <summary>Adds <paramref name="element"/> (Redis's <c>hllAdd</c>): 1 when a register grew, 0 when not, -1 for a corrupt sparse value.</summary>
        public int Add(ReadOnlySpan<byte> element, long sparseMaxBytes)
        {
            int count = PatternLength(element, out int index);
            return Set(index, count, sparseMaxBytes);
        }

        /// <summary>
        /// Raises register <paramref name="index"/> to <paramref name="count"/> when it is lower (<c>hllDenseSet</c> /
        /// <c>hllSparseSet</c>, promoting a sparse value to dense as Redis does): 1 when it grew, 0 when not, -1 for a corrupt
        /// sparse value. A sparse change invalidates the cached cardinality; a dense one leaves that to the caller, as Redis.
        /// </summary>
        public int Set(int index, int count, long sparseMaxBytes)
        {
            if (IsDense) return DenseRaise(index, count);
            return SparseSet(index, count, sparseMaxBytes);
        }

        private int DenseRaise(int index, int count)
        {
            Span<byte> registers = _buffer.AsSpan(HeaderSize, DenseSize - HeaderSize);
            if (count <= DenseGet(registers, index)) return 0;
            DenseSet(registers, index, count);
            return 1;
        }

        /// <summary>Converts a sparse working value to dense, keeping the header (cached cardinality included); false when corrupt (Redis's <c>hllSparseToDense</c>).</summary>
        public bool ToDense()
        {
            if (IsDense) return true;
            if (_spare.Length < DenseSize) _spare = new byte[DenseSize + 8];
            Span<byte> dense = _spare.AsSpan(0, DenseSize);
            dense.Clear();
            _buffer.AsSpan(0, HeaderSize).CopyTo(dense);
            dense[4] = DenseEncoding;
            Span<byte> registers = dense[HeaderSize..];
            ReadOnlySpan<byte> data = _buffer.AsSpan(HeaderSize, _length - HeaderSize);
            int index = 0;
            for (var runs = new SparseRuns(data); runs.Next();)
            {
                if (runs.Value == 0)
                {
                    index += runs.Length;
                    continue;
                }
                if (runs.Length + index > Registers) break;
                for (int run = runs.Length; run > 0; run--) DenseSet(registers, index++, runs.Value);
            }
            if (index != Registers) return false;
            (_buffer, _spare) = (_spare, _buffer);
            _length = DenseSize;
            return true;
        }

        private static byte Val(int value, int length) => (byte)(0x80 | ((value - 1) << 2) | (length - 1));

        /// <summary>Writes a ZERO or XZERO opcode for <paramref name="length"/> zero registers at <paramref name="seq"/>[n]; returns the new n.</summary>
        private static int Zeros(Span<byte> seq, int n, int length)
        {
            if (length > ZeroMaxLength)
            {
                seq[n++] = (byte)(0x40 | ((length - 1) >> 8));
                seq[n++] = (byte)((length - 1) & 0xff);
            }
            else seq[n++] = (byte)(length - 1);
            return n;
        }

        /// <summary>Redis's <c>hllSparseSet</c> on the working value: find the opcode covering the register, split it, merge neighbours.</summary>
        private int SparseSet(int index, int count, long sparseMaxBytes)
        {
            if (count > SparseValueMax) return Promote(index, count);
            Reserve(_length + 3);
            byte[] b = _buffer;
            b[_length] = 0; // what Redis reads past a cut-off XZERO: the sds terminator
            int start = HeaderSize, end = _length, p = start, prev = -1;
            long first = 0, span = 0;
            while (p < end)
            {
                int opLength = 1;
                byte op = b[p];
                if ((op & 0xc0) == 0) span = (op & 0x3f) + 1;
                else if ((op & 0x80) != 0) span = (op & 3) + 1;
                else
                {
                    span = (((op & 0x3f) << 8) | b[p + 1]) + 1;
                    opLength = 2;
                }
                if (index <= first + span - 1) break;
                prev = p;
                p += opLength;
                first += span;
            }
            if (span == 0 || p >= end) return -1;
            byte current = b[p];
            bool isXZero = (current & 0xc0) == 0x40, isZero = (current & 0xc0) == 0, isVal = (current & 0x80) != 0;
            int next = isXZero ? p + 2 : p + 1;
            long runLength = isZero ? (current & 0x3f) + 1 : isXZero ? (((current & 0x3f) << 8) | b[p + 1]) + 1 : (current & 3) + 1;
            if (isVal)
            {
                int old = ((current >> 2) & 0x1f) + 1;
                if (old >= count) return 0;
                if (runLength == 1)
                {
                    b[p] = Val(count, 1);
                    return Updated(prev);
                }
            }
            if (isZero && runLength == 1)
            {
                b[p] = Val(count, 1);
                return Updated(prev);
            }
            Span<byte> seq = stackalloc byte[5];
            int n = 0;
            long last = first + span - 1;
            if (isZero || isXZero)
            {
                if (index != first) n = Zeros(seq, n, (int)(index - first));
                seq[n++] = Val(count, 1);
                if (index != last) n = Zeros(seq, n, (int)(last - index));
            }
            else
            {
                int value = ((current >> 2) & 0x1f) + 1;
                if (index != first) seq[n++] = Val(value, (int)(index - first));
                seq[n++] = Val(count, 1);
                if (index != last) seq[n++] = Val(value, (int)(last - index));
            }
            int oldLength = isXZero ? 2 : 1, delta = n - oldLength;
            if (delta > 0 && _length + delta > sparseMaxBytes) return Promote(index, count);
            if (delta != 0 && next < end) b.AsSpan(next, end - next).CopyTo(b.AsSpan(next + delta));
            _length += delta;
            seq[..n].CopyTo(b.AsSpan(p));
            return Updated(prev);
        }

        /// <summary>Step 4 of <c>hllSparseSet</c>: merges adjacent VAL opcodes of equal value over up to 5 opcodes from <paramref name="prev"/>; invalidates the cache.</summary>
        private int Updated(int prev)
        {
            byte[] b = _buffer;
            int p = prev >= 0 ? prev : HeaderSize, end = _length, scan = 5;
            while (p < end && scan-- > 0)
            {
                byte op = b[p];
                if ((op & 0xc0) == 0x40)
                {
                    p += 2;
                    continue;
                }
                if ((op & 0xc0) == 0)
                {
                    p++;
                    continue;
                }
                if (p + 1 < end && (b[p + 1] & 0x80) != 0)
                {
                    int v1 = ((op >> 2) & 0x1f) + 1, v2 = ((b[p + 1] >> 2) & 0x1f) + 1;
                    if (v1 == v2)
                    {
                        int length = (op & 3) + 1 + (b[p + 1] & 3) + 1;
                        if (length <= SparseValueMaxLength)
                        {
                            b[p + 1] = Val(v1, length);
                            b.AsSpan(p + 1, end - p - 1).CopyTo(b.AsSpan(p));
                            _length--;
                            end--;
                            continue;
                        }
                    }
                }
                p++;
            }
            InvalidateCache(Value);
            return 1;
        }

        /// <summary>Converts to dense and sets the register there (the <c>promote</c> path of <c>hllSparseSet</c>).</summary>
        private int Promote(int index, int count)
        {
            if (!ToDense()) return -1;
            return DenseRaise(index, count);
        }
    }
}
