using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// Bitmap commands with Redis 7.0.15's replies and errors (https://redis.io/commands/?group=bitmap, Redis's
/// <c>bitops.c</c>): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO. A bitmap is a string value (the same
/// <c>byte[]</c> GET and SET use); bit 0 is the most significant bit of byte 0.
/// <para>
/// Writes are copy-on-write, as every string write in RespKv: the string is published to lock-free readers (GET,
/// GETRANGE, MGET's snapshots, COPY's shared array, the AOF rewrite's snapshot), so it is never changed once stored. A
/// write builds the next version — the old bytes copied once, grown with zeros to the highest byte addressed, then every
/// bit or field of the command applied to the copy — and replaces the key's entry (its expiry kept), so a reader sees all
/// of a SETBIT or BITFIELD or none of it, never a multi-byte field half written. An in-place scheme would have to prove
/// that no reader, snapshot or other key holds the array, which the immutable-string design does not track. The cost is one
/// copy of the string per write that changes something: cheap for the bitmaps of typical sizes (a 125 KB bitmap of a
/// million users is about 10 µs of copying), linear in the string for very large ones. A write that changes nothing (a bit
/// already at its value, a field set to what it holds) stores nothing, allocates nothing and is not propagated.
/// </para>
/// <para>
/// Strings these commands build are marked <c>raw</c> for OBJECT ENCODING (<see cref="StringKind.MarkRaw"/>), as Redis's
/// <c>dbUnshareStringValue</c>/<c>createObject</c> leave them. Bit offsets are bounded by <c>proto-max-bulk-len</c>
/// (512 MB: <c>ERR bit offset is not an integer or out of range</c>).
/// </para>
/// </summary>
public static class BitmapCommands
{
    /// <summary><c>setbit</c> (class <c>$</c>): SETBIT, and BITFIELD when it changed the string.</summary>
    public static readonly KeyEvent Setbit = new("setbit", '$');

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("setbit", 4, Write | DenyOom, 1, 1, 1, "bitmap", "Sets or clears the bit at offset in the string value stored at key", SetBit),
        new("getbit", 3, ReadOnly | Fast, 1, 1, 1, "bitmap", "Returns the bit value at offset in the string value stored at key", GetBit),
        new("bitcount", -2, ReadOnly, 1, 1, 1, "bitmap", "Count set bits in a string", BitCount),
        new("bitpos", -3, ReadOnly, 1, 1, 1, "bitmap", "Find first bit set or clear in a string", BitPos),
        new("bitop", -4, Write | DenyOom, 2, -1, 1, "bitmap", "Perform bitwise operations between strings", BitOp),
        new("bitfield", -2, Write | DenyOom | RepliesBeforeNotifying, 1, 1, 1, "bitmap", "Perform arbitrary bitfield integer operations on strings",
            (CommandContext c, in CommandArgs a) => BitField(c, a, readOnlyCommand: false)) { VariableKeyFlags = BitFieldKeyFlags },
        new("bitfield_ro", -2, ReadOnly | Fast, 1, 1, 1, "bitmap", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
            (CommandContext c, in CommandArgs a) => BitField(c, a, readOnlyCommand: true)),
    ];

    private const string BitOffsetError = "ERR bit offset is not an integer or out of range";
    private const string BitValueError = "ERR bit is not an integer or out of range";
    private const string BitfieldTypeError = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

    /// <summary>
    /// BITFIELD's key flags (its key spec is <c>variable_flags</c>), as Redis 7.0's <c>bitfieldGetKeys</c>: <c>RO access</c>
    /// while the arguments are only GET and OVERFLOW subcommands, <c>RW access update</c> from the first SET or INCRBY
    /// (or anything it does not recognise).
    /// </summary>
    private static KeySpecFlags BitFieldKeyFlags(in CommandArgs args, int keySpecIndex, KeySpecFlags specFlags)
    {
        for (int i = 2; i < args.Count; i++)
        {
            int remaining = args.Count - i - 1;
            if (args.Is(i, "GET"u8) && remaining >= 2) i += 2;
            else if (args.Is(i, "OVERFLOW"u8) && remaining >= 1) i += 1;
            else return KeySpecFlags.RW | KeySpecFlags.Access | KeySpecFlags.Update;
        }
        return KeySpecFlags.RO | KeySpecFlags.Access;
    }

    /// <summary>
    /// A bit offset argument (Redis's <c>getBitOffsetFromArgument</c>): a non-negative integer whose byte (offset / 8) is
    /// below <c>proto-max-bulk-len</c>; with <paramref name="bits"/> &gt; 0 a <c>#N</c> form means N × bits (BITFIELD).
    /// Otherwise replies <c>-ERR bit offset is not an integer or out of range</c> and returns false.
    /// </summary>
    private static bool TryBitOffset(CommandContext context, ReadOnlySpan<byte> text, int bits, out long offset)
    {
        bool hash = bits > 0 && text.Length > 0 && text[0] == (byte)'#';
        if (!RespInteger.TryParse(hash ? text[1..] : text, out offset)) offset = -1;
        else if (hash) offset = unchecked(offset * bits);
        if (offset < 0 || (offset >> 3) >= RespLimits.MaxStringLength)
        {
            context.Writer.WriteError(BitOffsetError);
            return false;
        }
        return true;
    }

    /// <summary>
    /// A copy of <paramref name="old"/> (null: empty) zero-padded to at least <paramref name="length"/> bytes, marked
    /// <c>raw</c>: the next version of a string a bit command writes (and BITOP's result, from its first source).
    /// </summary>
    private static byte[] NextVersion(byte[]? old, long length)
    {
        int oldLength = old?.Length ?? 0;
        // Not zeroed by the allocator: the copy fills the old part, only the grown tail is cleared (one pass over memory).
        byte[] next = GC.AllocateUninitializedArray<byte>((int)Math.Max(oldLength, length));
        old?.CopyTo(next, 0);
        next.AsSpan(oldLength).Clear();
        StringKind.MarkRaw(next);
        return next;
    }

    /// <summary>
    /// <c>SETBIT key offset value</c>: the bit's previous value (<c>:0</c>/<c>:1</c>). The string grows with zero bytes to
    /// hold the bit. Errors in Redis's order: the offset, then the value (<c>ERR bit is not an integer or out of range</c>
    /// unless 0 or 1), then WRONGTYPE. Announces <c>setbit</c> (after <c>new</c> for a new key) and is propagated only when
    /// the string was created, grown or the bit changed.
    /// </summary>
    private static void SetBit(CommandContext context, in CommandArgs args)
    {
        if (!TryBitOffset(context, args[2], 0, out long offset)) return;
        if (!RespInteger.TryParse(args[3], out long on) || (on & ~1L) != 0)
        {
            context.Writer.WriteError(BitValueError);
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!StringCommands.TryString(context, entry, out byte[]? old)) return;
        long byteIndex = offset >> 3;
        int mask = 1 << (7 - (int)(offset & 7));
        bool grows = old == null || byteIndex >= old.Length;
        int previous = grows ? 0 : (old![byteIndex] & mask) != 0 ? 1 : 0;
        if (grows || previous != on)
        {
            byte[] next = NextVersion(old, byteIndex + 1);
            if (on != 0) next[byteIndex] |= (byte)mask;
            else next[byteIndex] &= (byte)~mask;
            db.Set(slot, key, next, entry?.ExpireAtMs ?? 0, Setbit);
        }
        else StringKind.MarkRaw(old!); // Redis's dbUnshareStringValue makes it raw even when nothing changes
        context.Writer.WriteInteger(previous);
    }

    /// <summary><c>GETBIT key offset</c>: the bit (<c>:0</c> past the end or for a missing key); the offset is checked first.</summary>
    private static void GetBit(CommandContext context, in CommandArgs args)
    {
        if (!TryBitOffset(context, args[2], 0, out long offset)) return;
        if (!StringCommands.TryReadString(context, args[1], out byte[]? value)) return;
        long byteIndex = offset >> 3;
        int bit = value != null && byteIndex < value.Length ? (value[byteIndex] >> (7 - (int)(offset & 7))) & 1 : 0;
        context.Writer.WriteInteger(bit);
    }

    /// <summary>Set bits in <paramref name="bytes"/>: a popcount per 64-bit word, then per byte.</summary>
    public static long PopCount(ReadOnlySpan<byte> bytes)
    {
        long count = 0;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong w in words) count += BitOperations.PopCount(w);
        foreach (byte b in bytes[(words.Length * sizeof(ulong))..]) count += BitOperations.PopCount(b);
        return count;
    }

    /// <summary>
    /// Position of the first bit equal to <paramref name="bit"/> in <paramref name="bytes"/> (Redis's <c>redisBitpos</c>):
    /// for a 1 not found, -1; for a 0 not found, the first bit after the bytes (they are taken as zero-padded on the right).
    /// </summary>
    public static long FirstBit(ReadOnlySpan<byte> bytes, int bit)
    {
        int i = bit != 0 ? bytes.IndexOfAnyExcept((byte)0) : bytes.IndexOfAnyExcept((byte)0xFF);
        if (i < 0) return bit != 0 ? -1 : (long)bytes.Length << 3;
        uint b = bit != 0 ? bytes[i] : (uint)(byte)~bytes[i];
        return ((long)i << 3) + BitOperations.LeadingZeroCount(b) - 24;
    }

    /// <summary>
    /// A BITCOUNT/BITPOS range converted as Redis does: negative indexes count from the end, then clamped to the string of
    /// <paramref name="totalLength"/> units (bytes, or bits with <paramref name="isBit"/>); for a bit range, the edge masks
    /// of the bits of the first and last byte that lie outside it, and the range in bytes.
    /// </summary>
    private static void ClampRange(ref long start, ref long end, long totalLength, bool isBit, out byte firstMask, out byte lastMask)
    {
        firstMask = lastMask = 0;
        if (start < 0) start = totalLength + start;
        if (end < 0) end = totalLength + end;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= totalLength) end = totalLength - 1;
        if (isBit && start <= end)
        {
            firstMask = (byte)(~((1 << (8 - (int)(start & 7))) - 1) & 0xFF);
            lastMask = (byte)((1 << (7 - (int)(end & 7))) - 1);
            start >>= 3;
            end >>= 3;
        }
    }

    /// <summary>Reads the optional <c>BYTE|BIT</c> unit at <paramref name="index"/>; anything else replies <c>-ERR syntax error</c>.</summary>
    private static bool TryUnit(CommandContext context, in CommandArgs args, int index, ref bool isBit)
    {
        if (index >= args.Count) return true;
        if (args.Is(index, "BIT"u8)) isBit = true;
        else if (args.Is(index, "BYTE"u8)) isBit = false;
        else
        {
            context.Writer.WriteError(CommandErrors.Syntax);
            return false;
        }
        return true;
    }

    /// <summary>Parses a range bound (Redis's <c>getLongLongFromObjectOrReply</c>): <c>-ERR value is not an integer or out of range</c>.</summary>
    private static bool TryBound(CommandContext context, ReadOnlySpan<byte> text, out long value)
    {
        if (RespInteger.TryParse(text, out value)) return true;
        context.Writer.WriteError(CommandErrors.NotInteger);
        return false;
    }

    /// <summary>
    /// <c>BITCOUNT key [start end [BYTE|BIT]]</c>: set bits in the range (inclusive, negative from the end), as Redis's
    /// <c>bitcountCommand</c> — a missing key answers <c>:0</c> before the arguments are read; a start and an end both
    /// negative with start &gt; end answer <c>:0</c>; a lone start is a syntax error.
    /// </summary>
    private static void BitCount(CommandContext context, in CommandArgs args)
    {
        if (!StringCommands.TryReadString(context, args[1], out byte[]? value)) return;
        if (value == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        long start = 0, end = value.Length - 1;
        byte firstMask = 0, lastMask = 0;
        if (args.Count is 4 or 5)
        {
            if (!TryBound(context, args[2], out start) || !TryBound(context, args[3], out end)) return;
            if (start < 0 && end < 0 && start > end)
            {
                context.Writer.WriteInteger(0);
                return;
            }
            bool isBit = false;
            if (!TryUnit(context, args, 4, ref isBit)) return;
            ClampRange(ref start, ref end, isBit ? (long)value.Length << 3 : value.Length, isBit, out firstMask, out lastMask);
        }
        else if (args.Count != 2)
        {
            context.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        if (start > end)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        long count = PopCount(value.AsSpan((int)start, (int)(end - start + 1)));
        count -= BitOperations.PopCount((uint)(value[start] & firstMask)) + BitOperations.PopCount((uint)(value[end] & lastMask));
        context.Writer.WriteInteger(count);
    }

    /// <summary>
    /// <c>BITPOS key bit [start [end [BYTE|BIT]]]</c>: the first bit equal to <paramref name="args"/>[2] in the range, as
    /// Redis's <c>bitposCommand</c>: the bit must be 0 or 1 (<c>ERR The bit argument must be 1 or 0.</c>); a missing key
    /// answers <c>:-1</c> for 1 and <c>:0</c> for 0; an empty range <c>:-1</c>; looking for a 0 in a string of ones answers
    /// the bit just past it unless an end was given (then <c>:-1</c>).
    /// </summary>
    private static void BitPos(CommandContext context, in CommandArgs args)
    {
        if (!TryBound(context, args[2], out long bit)) return;
        if (bit is not (0 or 1))
        {
            context.Writer.WriteError("ERR The bit argument must be 1 or 0.");
            return;
        }
        if (!StringCommands.TryReadString(context, args[1], out byte[]? value)) return;
        if (value == null)
        {
            context.Writer.WriteInteger(bit != 0 ? -1 : 0);
            return;
        }
        long start = 0, end = value.Length - 1;
        bool endGiven = false;
        byte firstMask = 0, lastMask = 0;
        if (args.Count is 4 or 5 or 6)
        {
            bool isBit = false;
            if (!TryBound(context, args[3], out start)) return;
            if (args.Count == 6 && !TryUnit(context, args, 5, ref isBit)) return;
            if (args.Count >= 5)
            {
                if (!TryBound(context, args[4], out end)) return;
                endGiven = true;
            }
            else end = isBit ? ((long)value.Length << 3) + 7 : value.Length - 1;
            ClampRange(ref start, ref end, isBit ? (long)value.Length << 3 : value.Length, isBit, out firstMask, out lastMask);
        }
        else if (args.Count != 3)
        {
            context.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        if (start > end)
        {
            context.Writer.WriteInteger(-1);
            return;
        }
        long bytes = end - start + 1, pos = FindInRange(value, ref start, ref bytes, end, (int)bit, firstMask, lastMask);
        if (endGiven && bit == 0 && pos == bytes << 3) pos = -1;
        else if (pos != -1) pos += start << 3;
        context.Writer.WriteInteger(pos);
    }

    /// <summary>
    /// BITPOS's search over bytes <paramref name="start"/>..<paramref name="end"/> with the edge masks of a bit range (bits
    /// masked out never match): the position relative to the final <paramref name="start"/>, whose span is the final
    /// <paramref name="bytes"/> (as Redis's <c>bitposCommand</c> moves them while it skips the edge bytes).
    /// </summary>
    private static long FindInRange(byte[] value, ref long start, ref long bytes, long end, int bit, byte firstMask, byte lastMask)
    {
        Span<byte> one = stackalloc byte[1];
        long pos;
        if (firstMask != 0)
        {
            int b = bit != 0 ? value[start] & ~firstMask : value[start] | firstMask;
            if (lastMask != 0 && bytes == 1) b = bit != 0 ? b & ~lastMask : b | lastMask;
            one[0] = (byte)b;
            pos = FirstBit(one, bit);
            if (bytes == 1 || (pos != -1 && pos != 8)) return pos;
            start++;
            bytes--;
        }
        long whole = bytes - (lastMask != 0 ? 1 : 0);
        if (whole > 0)
        {
            pos = FirstBit(value.AsSpan((int)start, (int)whole), bit);
            if (bytes == whole || (pos != -1 && pos != whole << 3)) return pos;
            start += whole;
            bytes -= whole;
        }
        one[0] = (byte)(bit != 0 ? value[end] & ~lastMask : value[end] | lastMask);
        return FirstBit(one, bit);
    }

    private enum BitOperation { And, Or, Xor, Not }

    /// <summary>
    /// <c>BITOP AND|OR|XOR|NOT destkey key [key ...]</c>: stores the bitwise operation of the sources (missing keys and the
    /// bytes past a shorter string are zeros) in <c>destkey</c> as long as the longest source, and answers that length; when
    /// every source is empty or missing the destination is deleted (<c>del</c>) and the answer is 0. Errors: an unknown
    /// operation <c>-ERR syntax error</c>; NOT with more than one source <c>-ERR BITOP NOT must be called with a single
    /// source key.</c>; a source that is not a string WRONGTYPE. The destination loses any expiry (<c>set</c> event).
    /// </summary>
    private static void BitOp(CommandContext context, in CommandArgs args)
    {
        BitOperation op;
        if (args.Is(1, "AND"u8)) op = BitOperation.And;
        else if (args.Is(1, "OR"u8)) op = BitOperation.Or;
        else if (args.Is(1, "XOR"u8)) op = BitOperation.Xor;
        else if (args.Is(1, "NOT"u8)) op = BitOperation.Not;
        else
        {
            context.Writer.WriteError(CommandErrors.Syntax);
            return;
        }
        if (op == BitOperation.Not && args.Count != 4)
        {
            context.Writer.WriteError("ERR BITOP NOT must be called with a single source key.");
            return;
        }
        Database db = context.Database;
        int maxLength = 0;
        for (int i = 3; i < args.Count; i++)
        {
            if (!StringCommands.TryReadString(context, args[i], out byte[]? source)) return;
            if (source != null) maxLength = Math.Max(maxLength, source.Length);
        }
        ReadOnlySpan<byte> destination = args[2];
        KeySlot slot = db.Locate(destination);
        if (maxLength == 0)
        {
            if (db.Find(slot, destination) != null) db.Remove(destination);
            context.Writer.WriteInteger(0);
            return;
        }
        byte[] result = NextVersion(db.FindNoTouch(args[3])?.StringValue, maxLength);
        if (op == BitOperation.Not) Combine(result, result, op);
        for (int i = 4; i < args.Count; i++)
        {
            byte[] source = db.FindNoTouch(args[i])?.StringValue ?? [];
            Combine(result, source, op);
        }
        db.Set(slot, destination, result);
        context.Writer.WriteInteger(maxLength);
    }

    /// <summary>
    /// <paramref name="result"/> := <paramref name="result"/> op <paramref name="source"/> byte by byte, the source
    /// zero-padded to the result's length (NOT ignores the source and inverts the result); word by word where it can.
    /// </summary>
    private static void Combine(Span<byte> result, ReadOnlySpan<byte> source, BitOperation op)
    {
        int common = Math.Min(result.Length, source.Length);
        if (op == BitOperation.Not) common = result.Length;
        Span<ulong> rw = MemoryMarshal.Cast<byte, ulong>(result[..common]);
        ReadOnlySpan<ulong> sw = op == BitOperation.Not ? default : MemoryMarshal.Cast<byte, ulong>(source[..common]);
        for (int i = 0; i < rw.Length; i++)
            rw[i] = op switch { BitOperation.And => rw[i] & sw[i], BitOperation.Or => rw[i] | sw[i], BitOperation.Xor => rw[i] ^ sw[i], _ => ~rw[i] };
        for (int i = rw.Length * sizeof(ulong); i < common; i++)
            result[i] = op switch
            {
                BitOperation.And => (byte)(result[i] & source[i]),
                BitOperation.Or => (byte)(result[i] | source[i]),
                BitOperation.Xor => (byte)(result[i] ^ source[i]),
                _ => (byte)~result[i],
            };
        if (op == BitOperation.And) result[common..].Clear();
    }

    private enum FieldOpcode : byte { Get, Set, IncrBy }

    private enum Overflow : byte { Wrap, Sat, Fail }

    /// <summary>One parsed BITFIELD subcommand (Redis's <c>struct bitfieldOp</c>).</summary>
    private struct FieldOp
    {
        public long Offset;
        public long Value;
        public FieldOpcode Opcode;
        public Overflow Overflow;
        public byte Bits;
        public bool Signed;
    }

    /// <summary>
    /// <c>BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] …</c>
    /// and <c>BITFIELD_RO key [GET type offset] …</c> (<paramref name="readOnlyCommand"/>), as Redis's <c>bitfieldGeneric</c>:
    /// every subcommand is parsed first (<c>-ERR syntax error</c>, <c>-ERR Invalid OVERFLOW type specified</c>, the bitfield
    /// type error, the offset error, a value not an integer), then an array of one reply per GET/SET/INCRBY: GET the field,
    /// SET the old value, INCRBY the new one, or a null for a SET/INCRBY refused by OVERFLOW FAIL. Types are <c>i1</c>..<c>i64</c>
    /// and <c>u1</c>..<c>u63</c>; an offset <c>#N</c> is N times the type's width. BITFIELD_RO with a SET or INCRBY answers
    /// <c>-ERR BITFIELD_RO only supports the GET subcommand</c>. When a write changed the string (or created or grew it),
    /// <c>setbit</c> is announced after the reply and the command is propagated; a BITFIELD of GETs only changes nothing.
    /// </summary>
    private static void BitField(CommandContext context, in CommandArgs args, bool readOnlyCommand)
    {
        int maxOps = (args.Count - 2) / 3 + 1;
        FieldOp[]? rented = null;
        Span<FieldOp> ops = maxOps <= 32 ? stackalloc FieldOp[32] : (rented = ArrayPool<FieldOp>.Shared.Rent(maxOps));
        try
        {
            if (!TryParseFieldOps(context, args, ops, out int count, out bool readOnly, out long highestBit)) return;
            ops = ops[..count];
            if (readOnly)
            {
                if (!StringCommands.TryReadString(context, args[1], out byte[]? value)) return;
                context.Writer.WriteArrayHeader(count);
                foreach (ref FieldOp op in ops)
                {
                    ulong raw = ReadField(value, op.Offset, op.Bits);
                    context.Writer.WriteInteger(op.Signed ? SignExtend(raw, op.Bits) : (long)raw);
                }
                return;
            }
            if (readOnlyCommand)
            {
                context.Writer.WriteError("ERR BITFIELD_RO only supports the GET subcommand");
                return;
            }
            WriteFields(context, args[1], ops, highestBit);
        }
        finally
        {
            if (rented != null) ArrayPool<FieldOp>.Shared.Return(rented);
        }
    }

    /// <summary>Parses BITFIELD's subcommands into <paramref name="ops"/>, replying the first error as Redis does; see <see cref="BitField"/>.</summary>
    private static bool TryParseFieldOps(CommandContext context, in CommandArgs args, Span<FieldOp> ops, out int count, out bool readOnly, out long highestBit)
    {
        count = 0;
        readOnly = true;
        highestBit = 0;
        Overflow overflow = Overflow.Wrap;
        RespWriter w = context.Writer;
        for (int j = 2; j < args.Count; j++)
        {
            int remaining = args.Count - j - 1;
            FieldOpcode opcode;
            if (args.Is(j, "GET"u8) && remaining >= 2) opcode = FieldOpcode.Get;
            else if (args.Is(j, "SET"u8) && remaining >= 3) opcode = FieldOpcode.Set;
            else if (args.Is(j, "INCRBY"u8) && remaining >= 3) opcode = FieldOpcode.IncrBy;
            else if (args.Is(j, "OVERFLOW"u8) && remaining >= 1)
            {
                j++;
                if (args.Is(j, "WRAP"u8)) overflow = Overflow.Wrap;
                else if (args.Is(j, "SAT"u8)) overflow = Overflow.Sat;
                else if (args.Is(j, "FAIL"u8)) overflow = Overflow.Fail;
                else
                {
                    w.WriteError("ERR Invalid OVERFLOW type specified");
                    return false;
                }
                continue;
            }
            else
            {
                w.WriteError(CommandErrors.Syntax);
                return false;
            }
            if (!TryFieldType(args[j + 1], out bool signed, out int bits))
            {
                w.WriteError(BitfieldTypeError);
                return false;
            }
            if (!TryBitOffset(context, args[j + 2], bits, out long offset)) return false;
            long value = 0;
            if (opcode != FieldOpcode.Get)
            {
                readOnly = false;
                highestBit = Math.Max(highestBit, offset + bits - 1);
                if (!TryBound(context, args[j + 3], out value)) return false;
            }
            ops[count++] = new FieldOp { Offset = offset, Value = value, Opcode = opcode, Overflow = overflow, Bits = (byte)bits, Signed = signed };
            j += opcode == FieldOpcode.Get ? 2 : 3;
        }
        return true;
    }

    /// <summary>A bitfield type <c>i1</c>..<c>i64</c> or <c>u1</c>..<c>u63</c> (Redis's <c>getBitfieldTypeFromArgument</c>).</summary>
    private static bool TryFieldType(ReadOnlySpan<byte> text, out bool signed, out int bits)
    {
        bits = 0;
        signed = text.Length > 0 && text[0] == (byte)'i';
        if (text.Length == 0 || (text[0] != (byte)'i' && text[0] != (byte)'u')) return false;
        if (!RespInteger.TryParse(text[1..], out long n) || n < 1 || n > (signed ? 64 : 63)) return false;
        bits = (int)n;
        return true;
    }

    /// <summary>
    /// Runs BITFIELD's operations when at least one writes: looked up for writing (no hit/miss counted), a WRONGTYPE
    /// answered before anything else. As Redis's <c>lookupStringForBitCommand</c>, a missing key is created at once,
    /// zero-filled to <paramref name="highestBit"/> (its <c>new</c> event comes before the reply), and a shorter string is
    /// grown; the next version of the string is made then, or at the first SET/INCRBY that changes a field, and stored after
    /// the reply. As in Redis, once the string was created or grown every write that OVERFLOW FAIL did not refuse counts
    /// as a change (<c>setbit</c>, propagated); when none does, the grown string is stored without an event.
    /// </summary>
    private static void WriteFields(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<FieldOp> ops, long highestBit)
    {
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!StringCommands.TryString(context, entry, out byte[]? old)) return;
        long needed = (highestBit >> 3) + 1;
        bool dirty = old == null || needed > old.Length;
        byte[]? next = null;
        if (old == null)
        {
            old = NextVersion(null, needed);
            db.Set(slot, key, old, 0, KeyEvent.Unannounced);
        }
        else if (dirty) next = NextVersion(old, needed);
        int changes = 0;
        RespWriter w = context.Writer;
        w.WriteArrayHeader(ops.Length);
        foreach (ref readonly FieldOp op in ops)
        {
            byte[]? current = next ?? old;
            ulong raw = ReadField(current, op.Offset, op.Bits);
            if (op.Opcode == FieldOpcode.Get)
            {
                w.WriteInteger(op.Signed ? SignExtend(raw, op.Bits) : (long)raw);
                continue;
            }
            long reply;
            ulong stored;
            bool overflowed;
            if (op.Signed)
            {
                long oldValue = SignExtend(raw, op.Bits), newValue, wrapped;
                if (op.Opcode == FieldOpcode.IncrBy)
                {
                    overflowed = SignedOverflow(oldValue, op.Value, op.Bits, op.Overflow, out wrapped) != 0;
                    newValue = overflowed ? wrapped : unchecked(oldValue + op.Value);
                    reply = newValue;
                }
                else
                {
                    overflowed = SignedOverflow(op.Value, 0, op.Bits, op.Overflow, out wrapped) != 0;
                    newValue = overflowed ? wrapped : op.Value;
                    reply = oldValue;
                }
                stored = (ulong)newValue;
            }
            else
            {
                ulong newValue, wrapped;
                if (op.Opcode == FieldOpcode.IncrBy)
                {
                    overflowed = UnsignedOverflow(raw, op.Value, op.Bits, op.Overflow, out wrapped) != 0;
                    newValue = overflowed ? wrapped : unchecked(raw + (ulong)op.Value);
                    reply = (long)newValue;
                }
                else
                {
                    overflowed = UnsignedOverflow((ulong)op.Value, 0, op.Bits, op.Overflow, out wrapped) != 0;
                    newValue = overflowed ? wrapped : (ulong)op.Value;
                    reply = (long)raw;
                }
                stored = newValue;
            }
            if (overflowed && op.Overflow == Overflow.Fail)
            {
                w.WriteNullBulkString();
                continue;
            }
            w.WriteInteger(reply);
            ulong mask = op.Bits == 64 ? ulong.MaxValue : (1UL << op.Bits) - 1;
            if (dirty || (stored & mask) != raw) changes++;
            if ((stored & mask) != raw)
            {
                next ??= NextVersion(old, old.Length);
                WriteField(next, op.Offset, op.Bits, stored & mask);
            }
        }
        long expireAt = entry?.ExpireAtMs ?? 0;
        if (next != null) db.Set(slot, key, next, expireAt, changes > 0 ? Setbit : KeyEvent.Unannounced);
        else if (changes > 0) db.Set(slot, key, old, expireAt, Setbit); // created, written with zeros: announce it
        else StringKind.MarkRaw(old); // unshared (raw) by Redis even when nothing changed
    }

    /// <summary>
    /// The <paramref name="bits"/>-wide field at bit <paramref name="offset"/> of <paramref name="value"/> (null: empty) as
    /// an unsigned number, bytes past the end read as zeros: the up to 9 bytes it spans are read big-endian into a 72-bit
    /// window.
    /// </summary>
    private static ulong ReadField(byte[]? value, long offset, int bits)
    {
        long first = offset >> 3;
        UInt128 window = 0;
        int length = value?.Length ?? 0;
        for (int i = 0; i < 9; i++)
            window = (window << 8) | (first + i < length ? value![first + i] : 0u);
        int shift = 72 - (int)(offset & 7) - bits;
        ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        return (ulong)(window >> shift) & mask;
    }

    /// <summary>Writes <paramref name="field"/> (already masked to <paramref name="bits"/>) at bit <paramref name="offset"/>; <paramref name="value"/> holds every byte it spans.</summary>
    private static void WriteField(byte[] value, long offset, int bits, ulong field)
    {
        long first = offset >> 3;
        int span = (int)(((offset & 7) + bits + 7) >> 3);
        UInt128 window = 0;
        for (int i = 0; i < span; i++) window = (window << 8) | value[first + i];
        int shift = span * 8 - (int)(offset & 7) - bits;
        UInt128 mask = (bits == 64 ? (UInt128)ulong.MaxValue : (UInt128)((1UL << bits) - 1)) << shift;
        window = (window & ~mask) | ((UInt128)field << shift);
        for (int i = span - 1; i >= 0; i--)
        {
            value[first + i] = (byte)window;
            window >>= 8;
        }
    }

    /// <summary>A <paramref name="bits"/>-wide two's complement field read as a signed 64-bit number.</summary>
    private static long SignExtend(ulong raw, int bits) =>
        bits < 64 && (raw & (1UL << (bits - 1))) != 0 ? (long)(raw | (ulong.MaxValue << bits)) : (long)raw;

    /// <summary>
    /// Redis's <c>checkUnsignedBitfieldOverflow</c>: 1 when <paramref name="value"/> + <paramref name="increment"/> exceeds
    /// the <paramref name="bits"/>-wide unsigned range, -1 when it goes below 0, else 0; on overflow <paramref name="limit"/>
    /// is the wrapped sum (WRAP) or the bound reached (SAT).
    /// </summary>
    private static int UnsignedOverflow(ulong value, long increment, int bits, Overflow overflow, out ulong limit)
    {
        unchecked
        {
            ulong max = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
            long maxIncrement = (long)(max - value), minIncrement = -(long)value;
            limit = 0;
            int result;
            if (value > max || (increment > 0 && increment > maxIncrement)) result = 1;
            else if (increment < 0 && increment < minIncrement) result = -1;
            else return 0;
            if (overflow == Overflow.Wrap) limit = (value + (ulong)increment) & max;
            else if (overflow == Overflow.Sat) limit = result > 0 ? max : 0;
            return result;
        }
    }

    /// <summary>
    /// Redis's <c>checkSignedBitfieldOverflow</c>: 1 when <paramref name="value"/> + <paramref name="increment"/> exceeds
    /// the <paramref name="bits"/>-wide signed range, -1 when it goes below it, else 0; on overflow <paramref name="limit"/>
    /// is the two's complement wrap of the sum (WRAP) or the bound reached (SAT).
    /// </summary>
    private static int SignedOverflow(long value, long increment, int bits, Overflow overflow, out long limit)
    {
        unchecked
        {
            long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1, min = -max - 1;
            long maxIncrement = (long)((ulong)max - (ulong)value), minIncrement = min - value;
            limit = 0;
            int result;
            if (value > max || (bits != 64 && increment > maxIncrement) || (value >= 0 && increment > 0 && increment > maxIncrement)) result = 1;
            else if (value < min || (bits != 64 && increment < minIncrement) || (value < 0 && increment < 0 && increment < minIncrement)) result = -1;
            else return 0;
            if (overflow == Overflow.Wrap)
            {
                ulong sum = (ulong)value + (ulong)increment;
                if (bits < 64)
                {
                    ulong high = ulong.MaxValue << bits;
                    sum = (sum & (1UL << (bits - 1))) != 0 ? sum | high : sum & ~high;
                }
                limit = (long)sum;
            }
            else if (overflow == Overflow.Sat) limit = result > 0 ? max : min;
            return result;
        }
    }
}
