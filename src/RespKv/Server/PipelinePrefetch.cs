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
/// Hints only: the scan reads a frame's RESP headers for its second argument (the key of every single-key command), in
/// the receive buffer's current segment only; a frame it does not recognise (an inline command, a frame split across
/// segments, one of more than <see cref="MaxScannedArguments"/> arguments) ends the group, and the look-ahead for the rest
/// of the batch. A batch of one frame (unpipelined) is not scanned. It changes nothing and never affects what a command
/// does. One per connection; not thread-safe.
/// </para>
/// </summary>
internal sealed class PipelinePrefetch
{
    /// <summary>Most frames whose lookups are prefetched together.</summary>
    internal const int GroupSize = 16;

    /// <summary>A frame with more arguments than this is not scanned (a multi-key command hints its keys itself, e.g. MSET).</summary>
    private const int MaxScannedArguments = 32;

    private readonly int[] _hashes = new int[GroupSize];
    private readonly int[] _shards = new int[GroupSize];

    /// <summary>Frames of the current group still to run after the one running now.</summary>
    private int _pending;

    /// <summary>True once the look-ahead met a frame it does not scan: no more for this batch.</summary>
    private bool _stopped;

    /// <summary>Starts a batch (a read's buffer).</summary>
    public void Begin()
    {
        _pending = 0;
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
            if (!TryScanFrame(span[offset..], out int length, out ReadOnlySpan<byte> key))
            {
                _stopped = true; // unrecognised, or not all in this segment: the rest of the batch runs unhinted
                break;
            }
            offset += length;
            _shards[count] = key.IsEmpty ? -1 : Database.ShardOf(key);
            _hashes[count] = key.IsEmpty ? 0 : KeyHash.Compute(key);
            count++;
        }
        if (count == 0) return;
        _pending = count - 1;
        if (count == 1) return; // nothing to overlap with
        for (int stage = 0; stage < 3; stage++)
            for (int i = 0; i < count; i++)
                if (_shards[i] >= 0) database.Prefetch(_hashes[i], _shards[i], stage);
    }

    /// <summary>
    /// Reads the RESP headers of the frame at the start of <paramref name="span"/>: its length in bytes and its second
    /// argument (empty when it has one argument); false when the frame is incomplete in <paramref name="span"/>, not a
    /// multibulk of bulk strings, or longer than <see cref="MaxScannedArguments"/> arguments.
    /// </summary>
    internal static bool TryScanFrame(ReadOnlySpan<byte> span, out int length, out ReadOnlySpan<byte> key)
    {
        length = 0;
        key = default;
        int p = 0;
        if (span.IsEmpty || span[0] != (byte)'*' || !TryReadNumber(span, ref p, out int count) || count < 1 || count > MaxScannedArguments)
            return false;
        for (int i = 0; i < count; i++)
        {
            if (p >= span.Length || span[p] != (byte)'$' || !TryReadNumber(span, ref p, out int size) || size < 0) return false;
            if (span.Length - p < size + 2L) return false;
            if (i == 1) key = span.Slice(p, size);
            p += size + 2;
        }
        length = p;
        return true;
    }

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
