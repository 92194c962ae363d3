using System.Buffers;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Overlaps the cache misses of a pipelined batch's key lookups (Valkey 8's batch key prefetch). A keyspace lookup reads
/// three things one after another — the bucket slot, the first chain node, the node's key bytes — and in a large keyspace
/// each is a cache miss (bench/PROFILE.md, finding 2), so a batch of 16 SETs waits for 48 misses in a row. Before the
/// first command of a group of up to <see cref="GroupSize"/> frames runs, this scans the group's frames in the receive
/// buffer for their keys and asks the CPU for every key's bucket slot, then every first node, then every key's bytes
/// (<see cref="Database.Prefetch"/>): the misses of one stage overlap, and the group waits for about three.
/// <para>
/// Hints only: the scan reads a frame's RESP headers for its second argument (the key of every single-key command; for
/// EVAL, EVALSHA, FCALL and their read-only forms the first declared key, after the script and numkeys), in
/// the receive buffer's current segment only; a frame it does not recognise (an inline command, a frame split across
/// segments, one of more than <see cref="MaxScannedArguments"/> arguments) ends the group, and the look-ahead for the rest
/// of the batch. A group of one frame (unpipelined) gets no hints, nor a database of fewer than <see cref="MinKeys"/> keys
/// (its lookups hit the caches: measured, the hints then cost more than they save), and a key repeated from the frame
/// before (one hot list or set) is asked for once. It changes nothing and never affects what a command does. One per
/// connection; not thread-safe.
/// </para>
/// </summary>
internal sealed class PipelinePrefetch
{
    /// <summary>Most frames whose lookups are prefetched together.</summary>
    internal const int GroupSize = 16;

    /// <summary>A frame with more arguments than this is not scanned (a multi-key command hints its keys itself, e.g. MSET).</summary>
    private const int MaxScannedArguments = 32;

    private readonly int[] _keyStarts = new int[GroupSize];
    private readonly int[] _keyLengths = new int[GroupSize];
    private readonly int[] _hashes = new int[GroupSize];
    private readonly byte[] _shards = new byte[GroupSize];

    /// <summary>Frames of the current group still to run after the one running now.</summary>
    private int _pending;

    /// <summary>True once the look-ahead met a frame it does not scan: no more for this batch.</summary>
    private bool _stopped;

    /// <summary>Starts a batch (a read's buffer).</summary>
    public void Begin()
    {
        _pending = 0;
        _sized = null;
        _stopped = !System.Runtime.Intrinsics.X86.Sse.IsSupported;
    }

    /// <summary>
    /// Called before the command of the frame at the start of <paramref name="buffer"/> runs in <paramref name="database"/>:
    /// unless that frame belongs to a group already prefetched, prefetches the group that starts with it.
    /// </summary>
    public void BeforeCommand(in ReadOnlySequence<byte> buffer, Database database)
    {
        if (_pending > 0)
        {
            _pending--;
            return;
        }
        if (_stopped) return;
        ReadOnlySpan<byte> span = buffer.FirstSpan;
        int count = 0, offset = 0;
        while (count < GroupSize && offset < span.Length)
        {
            if (count == 1 && !IsLarge(database))
            {
                // A keyspace small enough to stay in the CPU's caches: no hints for the rest of this batch.
                _stopped = true;
                break;
            }
            if (!TryScanFrame(span[offset..], out int length, out int keyStart, out int keyLength))
            {
                _stopped = true; // unrecognised, or not all in this segment: the rest of the batch runs unhinted
                break;
            }
            _keyStarts[count] = offset + keyStart;
            _keyLengths[count] = keyLength;
            offset += length;
            count++;
        }
        if (count == 0) return;
        _pending = count - 1;
        if (count == 1) return; // nothing to overlap with (unpipelined)
        int hinted = 0;
        ReadOnlySpan<byte> previous = default;
        for (int i = 0; i < count; i++)
        {
            if (_keyLengths[i] <= 0) continue;
            ReadOnlySpan<byte> key = span.Slice(_keyStarts[i], _keyLengths[i]);
            if (key.SequenceEqual(previous)) continue; // a hot key repeated: asked for once
            previous = key;
            _shards[hinted] = (byte)Database.ShardOf(key);
            _hashes[hinted] = KeyHash.Compute(key);
            hinted++;
        }
        if (hinted >= 2) database.Prefetch(_hashes.AsSpan(0, hinted), _shards.AsSpan(0, hinted));
    }

    /// <summary>Whether <paramref name="database"/> holds at least <see cref="MinKeys"/> keys, read once per batch and database.</summary>
    private bool IsLarge(Database database)
    {
        if (!ReferenceEquals(_sized, database))
        {
            _sized = database;
            _large = database.Count >= MinKeys;
        }
        return _large;
    }

    private Database? _sized;
    private bool _large;

    /// <summary>Keys a database holds before its lookups are prefetched (below it the table and its entries mostly stay in cache).</summary>
    internal const long MinKeys = 1 << 16;

    /// <summary>
    /// Reads the RESP headers of the frame at the start of <paramref name="span"/>: its length in bytes and its second
    /// argument (empty when it has one argument); false when the frame is incomplete in <paramref name="span"/>, not a
    /// multibulk of bulk strings, or longer than <see cref="MaxScannedArguments"/> arguments.
    /// </summary>
    internal static bool TryScanFrame(ReadOnlySpan<byte> span, out int length, out ReadOnlySpan<byte> key)
    {
        bool scanned = TryScanFrame(span, out length, out int start, out int keyLength);
        key = scanned && keyLength > 0 ? span.Slice(start, keyLength) : default;
        return scanned;
    }

    /// <summary>As <see cref="TryScanFrame(ReadOnlySpan{byte}, out int, out ReadOnlySpan{byte})"/>, the key as its offset and length in <paramref name="span"/> (length -1: no second argument).</summary>
    private static bool TryScanFrame(ReadOnlySpan<byte> span, out int length, out int keyStart, out int keyLength)
    {
        length = 0;
        keyStart = 0;
        keyLength = -1;
        int p = 0;
        if (span.IsEmpty || span[0] != (byte)'*' || !TryReadNumber(span, ref p, out int count) || count < 1 || count > MaxScannedArguments)
            return false;
        int nameStart = 0, nameLength = 0, numKeysStart = 0, numKeysLength = 0, firstKeyStart = 0, firstKeyLength = -1;
        for (int i = 0; i < count; i++)
        {
            if (p >= span.Length || span[p] != (byte)'$' || !TryReadNumber(span, ref p, out int size) || size < 0) return false;
            if (span.Length - p < size + 2L) return false;
            switch (i)
            {
                case 0: (nameStart, nameLength) = (p, size); break;
                case 1: (keyStart, keyLength) = (p, size); break;
                case 2: (numKeysStart, numKeysLength) = (p, size); break;
                case 3: (firstKeyStart, firstKeyLength) = (p, size); break;
            }
            p += size + 2;
        }
        length = p;
        // A script's first declared key (EVAL script numkeys key …): its second argument is the script or its name.
        if (count >= 4 && IsScriptCommand(span.Slice(nameStart, nameLength)))
        {
            bool declares = numKeysLength > 0 && span[numKeysStart] is >= (byte)'1' and <= (byte)'9';
            (keyStart, keyLength) = declares ? (firstKeyStart, firstKeyLength) : (0, -1);
        }
        return true;
    }

    /// <summary>EVAL, EVALSHA, FCALL and their <c>_RO</c> forms, in any letter case: their keys follow a numkeys argument.</summary>
    private static bool IsScriptCommand(ReadOnlySpan<byte> name) =>
        name.Length is >= 4 and <= 10 && (name[0] | 0x20) is 'e' or 'f'
        && (System.Text.Ascii.EqualsIgnoreCase(name, "EVALSHA"u8) || System.Text.Ascii.EqualsIgnoreCase(name, "EVAL"u8)
            || System.Text.Ascii.EqualsIgnoreCase(name, "FCALL"u8) || System.Text.Ascii.EqualsIgnoreCase(name, "EVALSHA_RO"u8)
            || System.Text.Ascii.EqualsIgnoreCase(name, "EVAL_RO"u8) || System.Text.Ascii.EqualsIgnoreCase(name, "FCALL_RO"u8));

    /// <summary>Reads the decimal after the type byte at <paramref name="p"/> and its CRLF; advances past them.</summary>
    private static bool TryReadNumber(ReadOnlySpan<byte> span, ref int p, out int value)
    {
        value = 0;
        int i = p + 1, digits = 0;
        while (i < span.Length && (uint)(span[i] - '0') <= 9)
        {
            if (++digits > 9) return false;
            value = value * 10 + (span[i] - '0');
            i++;
        }
        if (digits == 0 || i + 1 >= span.Length || span[i] != (byte)'\r' || span[i + 1] != (byte)'\n') return false;
        p = i + 2;
        return true;
    }
}
