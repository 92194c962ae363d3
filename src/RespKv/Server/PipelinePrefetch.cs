using System.Buffers;
using RespKv.Storage;

namespace RespKv.Server;

/// <summary>
/// Overlaps the cache misses of a pipelined batch's key lookups with the work of the commands before them (as Valkey 8's
/// batch key prefetch, spread over the batch instead of done at its start). A keyspace lookup reads three things one
/// after another — the bucket slot, the first chain node, the node's key bytes — and in a large keyspace each is a cache
/// miss (bench/PROFILE.md, finding 2). Before each command of a batch runs, this looks ahead at the next frames still in
/// the receive buffer and asks the CPU to start loading: the bucket of the frame three ahead, the node of the frame two
/// ahead (its bucket was asked for a command ago), and the key bytes of the next frame (its node likewise), so that each
/// lookup finds its three lines loaded.
/// <para>
/// Hints only (<see cref="Database.Prefetch"/>): the look-ahead is a quick scan of a frame's RESP headers for its second
/// argument (the key of every single-key command), in the receive buffer's current segment only; anything it does not
/// recognise (an inline command, a frame split across segments, a frame of more than <see cref="MaxScannedArguments"/>
/// arguments) ends the look-ahead for the rest of the batch. It changes nothing and never affects what a command does.
/// One per connection; not thread-safe.
/// </para>
/// </summary>
internal sealed class PipelinePrefetch
{
    /// <summary>Frames the look-ahead runs ahead of the command about to run (one per prefetch stage).</summary>
    private const int Depth = 3;

    /// <summary>A frame with more arguments than this is not scanned (its key is hinted by the command itself, e.g. MSET).</summary>
    private const int MaxScannedArguments = 32;

    // A ring of the frames scanned and not yet run: the key's bucket hash and shard (-1: no key) and the stage reached.
    private readonly int[] _hashes = new int[Depth + 1];
    private readonly int[] _shards = new int[Depth + 1];
    private int _head, _count;

    /// <summary>
    /// Bytes from the start of the frame about to run to the first frame not yet scanned: the ring holds exactly the frames
    /// after the running one that start before it.
    /// </summary>
    private long _scanned;

    /// <summary>Length of the frame that ran last in this batch (consumed since), 0 at the batch's start.</summary>
    private long _previousLength;

    /// <summary>True once the look-ahead met a frame it does not scan: no more for this batch.</summary>
    private bool _stopped;

    /// <summary>Starts a batch (a read's buffer): nothing scanned yet.</summary>
    public void Begin()
    {
        _head = _count = 0;
        _scanned = _previousLength = 0;
        _stopped = !System.Runtime.Intrinsics.X86.Sse.IsSupported;
    }

    /// <summary>
    /// Called before the command of the frame at the start of <paramref name="buffer"/> (<paramref name="frameLength"/> bytes)
    /// runs in <paramref name="database"/>: drops that frame from the ring, scans ahead so the ring holds the next
    /// <see cref="Depth"/> frames, and advances each one's prefetch by one stage.
    /// </summary>
    public void BeforeCommand(in ReadOnlySequence<byte> buffer, long frameLength, Database database)
    {
        _scanned -= _previousLength;
        _previousLength = frameLength;
        if (_count > 0)
        {
            // The ring's first frame is the one about to run: its lines were asked for over the last three commands.
            _head = (_head + 1) % _hashes.Length;
            _count--;
        }
        if (_scanned < frameLength) _scanned = frameLength;
        if (!_stopped)
        {
            ReadOnlySpan<byte> span = buffer.FirstSpan;
            while (_count < Depth && _scanned < span.Length)
            {
                if (!TryScanFrame(span[(int)_scanned..], out int length, out ReadOnlySpan<byte> key))
                {
                    _stopped = true; // unrecognised, or not all in this segment: the rest of the batch runs unhinted
                    break;
                }
                int slot = (_head + _count) % _hashes.Length;
                _count++;
                _scanned += length;
                _shards[slot] = key.IsEmpty ? -1 : Database.ShardOf(key);
                if (!key.IsEmpty) _hashes[slot] = KeyHash.Compute(key);
            }
        }
        // Frame k of the ring (k = 0 runs next) gets stage Depth - 1 - k: its key bytes, its node, its bucket.
        for (int k = 0; k < _count; k++)
        {
            int slot = (_head + k) % _hashes.Length;
            if (_shards[slot] >= 0) database.Prefetch(_hashes[slot], _shards[slot], Depth - 1 - k);
        }
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
