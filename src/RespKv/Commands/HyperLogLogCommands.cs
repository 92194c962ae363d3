using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Storage;
using RespKv.Storage.Kinds;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// HyperLogLog commands with Redis 7.0.15's replies and errors (https://redis.io/commands/?group=hyperloglog, Redis's
/// <c>hyperloglog.c</c>): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, on string values in Redis's representation
/// (<see cref="HyperLogLog"/>), so the bytes GET returns are those redis-server would hold.
/// <para>
/// Values are immutable once stored: a change is made on this thread's <see cref="HyperLogLog.Builder"/> (a working copy)
/// and published as a new string, keeping the key's expiry; a PFADD that raises no register stores nothing. A string that
/// is not a HyperLogLog answers <c>-WRONGTYPE Key is not a valid HyperLogLog string value.</c>; corrupt sparse opcodes
/// <c>-INVALIDOBJ Corrupted HLL object detected</c>; another type the usual WRONGTYPE. Strings these commands build are
/// <c>raw</c> for OBJECT ENCODING.
/// </para>
/// <para>
/// PFCOUNT of one key whose cached cardinality is invalid stores the count in the header (as Redis does): it is a read
/// that runs holding its keys' shard locks (<see cref="CommandFlags.ReadsUnderLock"/>) so it may replace the value. Redis
/// also propagates that PFCOUNT to the AOF; RespKv does not (a read is not logged), so after a restart from the AOF the
/// cache is invalid until the next PFCOUNT recomputes the same count.
/// </para>
/// </summary>
public static class HyperLogLogCommands
{
    /// <summary><c>pfadd</c> (class <c>$</c>): PFADD that raised a register or created the key, and every PFMERGE.</summary>
    public static readonly KeyEvent Pfadd = new("pfadd", '$');

    /// <summary>This family's rows of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("pfadd", -2, Write | DenyOom | Fast, 1, 1, 1, "hyperloglog", "Adds the specified elements to the specified HyperLogLog.", PfAdd),
        new("pfcount", -2, ReadOnly | MayReplicate | ReadsUnderLock, 1, -1, 1, "hyperloglog", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", PfCount),
        new("pfmerge", -2, Write | DenyOom, 1, -1, 1, "hyperloglog", "Merge N different HyperLogLogs into a single one.", PfMerge),
        new("pfdebug", 3, Write | DenyOom | Admin, 2, 2, 1, "hyperloglog", "Internal commands for debugging HyperLogLog values", PfDebug),
        new("pfselftest", 1, Admin, 0, 0, 0, "hyperloglog", "An internal command for testing HyperLogLog values", PfSelfTest),
    ];

    private const string InvalidHll = "INVALIDOBJ Corrupted HLL object detected";
    private const string NotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";

    /// <summary>
    /// The HyperLogLog in <paramref name="entry"/> (null when missing), as Redis's <c>isHLLObjectOrReply</c>: another type
    /// replies WRONGTYPE, a string that is not a HyperLogLog <c>-WRONGTYPE Key is not a valid HyperLogLog string value.</c>;
    /// both return false.
    /// </summary>
    private static bool TryHll(CommandContext context, KeyEntry? entry, out byte[]? value)
    {
        if (!StringCommands.TryString(context, entry, out value)) return false;
        if (value == null || HyperLogLog.IsValid(value)) return true;
        context.Writer.WriteError(NotHll);
        return false;
    }

    /// <summary>
    /// Merges the HyperLogLogs of keys <paramref name="args"/>[1..] into <paramref name="max"/> (each register's maximum,
    /// one per byte; missing keys are empty), looked up for reading (hits and misses counted); <paramref name="anyDense"/>
    /// when one of them is dense. Replies the first error (WRONGTYPE, not a HyperLogLog, <c>-INVALIDOBJ</c>) and returns false.
    /// </summary>
    private static bool TryMergeKeys(CommandContext context, in CommandArgs args, Span<byte> max, out bool anyDense)
    {
        max.Clear();
        anyDense = false;
        Database db = context.Database;
        for (int j = 1; j < args.Count; j++)
        {
            KeyEntry? source = db.Find(args[j]);
            context.CountLookup(source != null, args[j]);
            if (!TryHll(context, source, out byte[]? value)) return false;
            if (value == null) continue;
            anyDense |= HyperLogLog.IsDense(value);
            if (HyperLogLog.MergeInto(max, value)) continue;
            context.Writer.WriteError(InvalidHll);
            return false;
        }
        return true;
    }

    /// <summary>Publishes the builder's value as <paramref name="key"/>'s (expiry kept), marked <c>raw</c>, announced as <paramref name="keyEvent"/>.</summary>
    private static void Publish(Database db, in KeySlot slot, ReadOnlySpan<byte> key, KeyEntry? entry, byte[] value, KeyEvent keyEvent)
    {
        StringKind.MarkRaw(value);
        db.Set(slot, key, value, entry?.ExpireAtMs ?? 0, keyEvent);
    }

    /// <summary>
    /// <c>PFADD key [element ...]</c>: <c>:1</c> when the key was created or a register grew (then the cached cardinality is
    /// invalidated and <c>pfadd</c> announced), else <c>:0</c>. Raises registers as Redis's <c>hllAdd</c>, a sparse value turning
    /// dense past <c>hll-sparse-max-bytes</c> or for a register above 32.
    /// </summary>
    private static void PfAdd(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        if (!TryHll(context, entry, out byte[]? old)) return;
        if (old != null && HyperLogLog.IsDense(old) && !RaisesARegister(old, args))
        {
            // The common case of a large HyperLogLog: nothing to change, nothing copied.
            StringKind.MarkRaw(old);
            context.Writer.WriteInteger(0);
            return;
        }
        HyperLogLog.Builder hll = HyperLogLog.Builder.ForThread;
        int updated = 0;
        if (old == null)
        {
            hll.LoadEmpty();
            updated++;
        }
        else hll.Load(old);
        long sparseMax = context.Options.HllSparseMaxBytes;
        for (int j = 2; j < args.Count; j++)
        {
            int result = hll.Add(args[j], sparseMax);
            if (result < 0)
            {
                context.Writer.WriteError(InvalidHll);
                return;
            }
            updated += result;
        }
        if (updated > 0)
        {
            HyperLogLog.InvalidateCache(hll.Value);
            Publish(db, slot, key, entry, hll.ToArray(), Pfadd);
        }
        else StringKind.MarkRaw(old!);
        context.Writer.WriteInteger(updated > 0 ? 1 : 0);
    }

    /// <summary>True when one of the elements <paramref name="args"/>[2..] would raise a register of the dense value <paramref name="dense"/>.</summary>
    private static bool RaisesARegister(byte[] dense, in CommandArgs args)
    {
        ReadOnlySpan<byte> registers = dense.AsSpan(HyperLogLog.HeaderSize);
        for (int j = 2; j < args.Count; j++)
        {
            int count = HyperLogLog.PatternLength(args[j], out int index);
            if (count > HyperLogLog.DenseGet(registers, index)) return true;
        }
        return false;
    }

    /// <summary>
    /// <c>PFCOUNT key [key ...]</c>: the estimated cardinality. One key: the cached cardinality when valid, else the count,
    /// then stored as the valid cache; a missing key <c>:0</c>. Several keys: the count of their union (registers merged into
    /// a temporary; missing keys are empty), nothing stored.
    /// </summary>
    private static void PfCount(CommandContext context, in CommandArgs args)
    {
        Database db = context.Database;
        if (args.Count > 2)
        {
            Span<byte> max = stackalloc byte[HyperLogLog.Registers];
            if (!TryMergeKeys(context, args, max, out _)) return;
            context.Writer.WriteInteger(HyperLogLog.CountRegisters(max));
            return;
        }
        ReadOnlySpan<byte> key = args[1];
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        context.CountLookup(entry != null, key);
        if (!TryHll(context, entry, out byte[]? old)) return;
        if (old == null)
        {
            context.Writer.WriteInteger(0);
            return;
        }
        if (HyperLogLog.HasValidCache(old))
        {
            StringKind.MarkRaw(old);
            context.Writer.WriteInteger(HyperLogLog.CachedCardinality(old));
            return;
        }
        long count = HyperLogLog.Count(old, out bool invalid);
        if (invalid)
        {
            context.Writer.WriteError(InvalidHll);
            return;
        }
        byte[] next = (byte[])old.Clone();
        HyperLogLog.SetCachedCardinality(next, count);
        Publish(db, slot, key, entry, next, KeyEvent.Unannounced);
        context.Writer.WriteInteger(count);
    }

    /// <summary>
    /// <c>PFMERGE destkey [sourcekey ...]</c>: <c>+OK</c>; the destination (itself one of the inputs, created empty when
    /// missing) gets every register's maximum over the inputs, dense when any input is dense, its cache invalidated; always
    /// announced as <c>pfadd</c> and propagated, as Redis does.
    /// </summary>
    private static void PfMerge(CommandContext context, in CommandArgs args)
    {
        Database db = context.Database;
        Span<byte> max = stackalloc byte[HyperLogLog.Registers];
        if (!TryMergeKeys(context, args, max, out bool useDense)) return;
        ReadOnlySpan<byte> key = args[1];
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        HyperLogLog.Builder hll = HyperLogLog.Builder.ForThread;
        byte[]? old = entry?.StringValue;
        if (old == null) hll.LoadEmpty();
        else hll.Load(old);
        if (useDense && !hll.ToDense())
        {
            context.Writer.WriteError(InvalidHll);
            return;
        }
        long sparseMax = context.Options.HllSparseMaxBytes;
        for (int j = 0; j < HyperLogLog.Registers; j++)
            if (max[j] != 0) hll.Set(j, max[j], sparseMax);
        HyperLogLog.InvalidateCache(hll.Value);
        Publish(db, slot, key, entry, hll.ToArray(), Pfadd);
        context.Writer.WriteOk();
    }

    /// <summary>
    /// <c>PFDEBUG GETREG|DECODE|ENCODING|TODENSE key</c> (Redis's <c>pfdebugCommand</c>): a missing key answers
    /// <c>-ERR The specified key does not exist</c> (before the subcommand is looked at). GETREG: the 16384 registers
    /// (converting a sparse value to dense first); DECODE: the sparse opcodes as text (<c>-ERR HLL encoding is not sparse</c>
    /// for a dense one); ENCODING: <c>+dense</c> or <c>+sparse</c>; TODENSE: converts, <c>:1</c> if it was sparse else
    /// <c>:0</c>; another subcommand <c>-ERR Unknown PFDEBUG subcommand '…'</c>. A conversion is stored and propagated,
    /// with no notification.
    /// </summary>
    private static void PfDebug(CommandContext context, in CommandArgs args)
    {
        ReadOnlySpan<byte> key = args[2];
        Database db = context.Database;
        KeySlot slot = db.Locate(key);
        KeyEntry? entry = db.Find(slot, key);
        RespWriter w = context.Writer;
        if (entry == null)
        {
            w.WriteError("ERR The specified key does not exist");
            return;
        }
        if (!TryHll(context, entry, out byte[]? old)) return;
        byte[] value = old!;
        StringKind.MarkRaw(value);
        bool getReg = args.Is(1, "GETREG"u8), toDense = args.Is(1, "TODENSE"u8);
        bool converted = false;
        if ((getReg || toDense) && !HyperLogLog.IsDense(value))
        {
            HyperLogLog.Builder hll = HyperLogLog.Builder.ForThread;
            hll.Load(value);
            if (!hll.ToDense())
            {
                w.WriteError(InvalidHll);
                return;
            }
            value = hll.ToArray();
            Publish(db, slot, key, entry, value, KeyEvent.Unannounced);
            converted = true;
        }
        if (getReg)
        {
            ReadOnlySpan<byte> registers = value.AsSpan(HyperLogLog.HeaderSize);
            w.WriteArrayHeader(HyperLogLog.Registers);
            for (int j = 0; j < HyperLogLog.Registers; j++) w.WriteInteger(HyperLogLog.DenseGet(registers, j));
        }
        else if (toDense) w.WriteInteger(converted ? 1 : 0);
        else if (args.Is(1, "DECODE"u8))
        {
            if (HyperLogLog.IsDense(value)) w.WriteError("ERR HLL encoding is not sparse");
            else w.WriteBulkString(HyperLogLog.DecodeSparse(value));
        }
        else if (args.Is(1, "ENCODING"u8)) w.WriteSimpleString(HyperLogLog.IsDense(value) ? "dense"u8 : "sparse"u8);
        else w.WriteError($"ERR Unknown PFDEBUG subcommand '{System.Text.Encoding.UTF8.GetString(args[1])}'");
    }

    /// <summary>
    /// <c>PFSELFTEST</c> (Redis's <c>pfselftestCommand</c>): <c>+OK</c> after (1) 1000 rounds of setting all 16384 dense
    /// registers to random values and reading them back, and (2) adding 10,000,000 distinct elements to a dense and a sparse
    /// HyperLogLog at once, checking at 1, 10, 100… elements that the sparse one is still sparse below half of
    /// <c>hll-sparse-max-bytes</c>, that both count the same, and that the error is within 6 standard errors (1 at 10
    /// elements). A failure answers <c>-TESTFAILED …</c> as Redis words it. Takes seconds, as in Redis.
    /// </summary>
    private static void PfSelfTest(CommandContext context, in CommandArgs args)
    {
        string? failure = SelfTest(context.Options.HllSparseMaxBytes);
        if (failure == null) context.Writer.WriteOk();
        else context.Writer.WriteError(failure);
    }

    /// <summary>The self-test of <see cref="PfSelfTest"/>: null when it passed, else the error reply.</summary>
    internal static string? SelfTest(long sparseMaxBytes)
    {
        byte[] dense = new byte[HyperLogLog.DenseSize];
        Span<byte> registers = dense.AsSpan(HyperLogLog.HeaderSize);
        byte[] expected = new byte[HyperLogLog.Registers];
        var random = new Random();
        for (int cycle = 0; cycle < 1000; cycle++)
        {
            for (int i = 0; i < HyperLogLog.Registers; i++)
            {
                int r = random.Next() & HyperLogLog.RegisterMax;
                expected[i] = (byte)r;
                HyperLogLog.DenseSet(registers, i, r);
            }
            for (int i = 0; i < HyperLogLog.Registers; i++)
            {
                int value = HyperLogLog.DenseGet(registers, i);
                if (value != expected[i]) return $"TESTFAILED Register {i} should be {expected[i]} but is {value}";
            }
        }
        "HYLL"u8.CopyTo(dense);
        registers.Clear();
        HyperLogLog.Builder sparse = HyperLogLog.Builder.ForThread;
        sparse.LoadEmpty();
        double relativeError = 1.04 / Math.Sqrt(HyperLogLog.Registers);
        long checkpoint = 1;
        ulong seed = (ulong)random.NextInt64();
        Span<byte> element = stackalloc byte[8];
        for (long j = 1; j <= 10_000_000; j++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(element, (ulong)j ^ seed);
            int count = HyperLogLog.PatternLength(element, out int index);
            if (count > HyperLogLog.DenseGet(registers, index)) HyperLogLog.DenseSet(registers, index, count);
            sparse.Set(index, count, sparseMaxBytes);
            if (j != checkpoint) continue;
            if (j < sparseMaxBytes / 2 && sparse.IsDense) return "TESTFAILED sparse encoding not used";
            long denseCount = HyperLogLog.Count(dense, out _);
            if (denseCount != HyperLogLog.Count(sparse.Value, out _)) return "TESTFAILED dense/sparse disagree";
            long absoluteError = Math.Abs(checkpoint - denseCount);
            long maxError = j == 10 ? 1 : (long)Math.Ceiling(relativeError * 6 * checkpoint);
            if (absoluteError > maxError) return $"TESTFAILED Too big error. card:{checkpoint} abserr:{absoluteError}";
            checkpoint *= 10;
        }
        return null;
    }
}
