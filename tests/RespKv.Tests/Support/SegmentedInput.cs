using System.Buffers;
using RespKv.Protocol;

namespace RespKv.Tests.Support;

/// <summary>
/// Feeds bytes to a <see cref="RespParser"/> the way a <c>ClientSession</c> does with a pipe: each piece
/// is its own buffer segment; the parser sees everything received since the current frame began; on
/// <see cref="ParseStatus.Incomplete"/> the next piece is appended. Every segment's memory comes from a
/// <see cref="CountingMemory"/>, so a test can tell how many times the parser looked into a segment.
/// </summary>
public static class SegmentedInput
{
    /// <summary>What the parser produced for one frame: its arguments (copied) or an error text.</summary>
    public sealed record Frame(ParseStatus Status, byte[][] Args, string? Error);

    /// <summary>Splits <paramref name="data"/> at <paramref name="cuts"/> (ascending offsets).</summary>
    public static List<ReadOnlyMemory<byte>> Split(byte[] data, params int[] cuts)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        int start = 0;
        foreach (int cut in cuts)
        {
            if (cut <= start || cut >= data.Length) continue;
            pieces.Add(data.AsMemory(start, cut - start));
            start = cut;
        }
        pieces.Add(data.AsMemory(start));
        return pieces;
    }

    /// <summary>Splits <paramref name="data"/> into pieces of <paramref name="size"/> bytes (the last may be shorter).</summary>
    public static List<ReadOnlyMemory<byte>> Chunks(byte[] data, int size)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < data.Length; i += size) pieces.Add(data.AsMemory(i, Math.Min(size, data.Length - i)));
        return pieces;
    }

    /// <summary>
    /// Runs <paramref name="parser"/> over <paramref name="pieces"/> as a session would and returns every
    /// frame it produced (<see cref="ParseStatus.Command"/>, <see cref="ParseStatus.Empty"/>, and a final
    /// <see cref="ParseStatus.Error"/> if any). <paramref name="parseCalls"/> counts TryParse calls.
    /// </summary>
    public static List<Frame> Parse(RespParser parser, IReadOnlyList<ReadOnlyMemory<byte>> pieces, out int parseCalls, CountingMemory.Counter? counter = null)
    {
        var frames = new List<Frame>();
        parseCalls = 0;
        if (pieces.Count == 0) return frames;
        Segment first = new(Wrap(pieces[0], counter), 0), last = first;
        var segments = new List<Segment> { first };
        for (int i = 1; i < pieces.Count; i++)
        {
            last = last.Append(Wrap(pieces[i], counter));
            segments.Add(last);
        }
        // The current frame starts at (startSegment, startIndex); pieces [0, received) have arrived.
        Segment startSegment = first;
        int startIndex = 0;
        int received = 1;
        while (true)
        {
            Segment end = segments[received - 1];
            var buffer = new ReadOnlySequence<byte>(startSegment, startIndex, end, end.Memory.Length);
            if (buffer.IsEmpty)
            {
                if (received == pieces.Count) return frames;
                received++;
                continue;
            }
            parseCalls++;
            ParseStatus status = parser.TryParse(buffer, out long consumed, out CommandArgs args, out string? error);
            switch (status)
            {
                case ParseStatus.Command:
                    var copied = new byte[args.Count][];
                    for (int i = 0; i < args.Count; i++) copied[i] = args[i].ToArray();
                    frames.Add(new Frame(status, copied, null));
                    break;
                case ParseStatus.Empty:
                    frames.Add(new Frame(status, [], null));
                    break;
                case ParseStatus.Incomplete:
                    if (received == pieces.Count) return frames; // input ended mid-frame
                    received++;
                    continue;
                default:
                    frames.Add(new Frame(status, [], error));
                    return frames;
            }
            Assert.True(consumed > 0);
            SequencePosition next = buffer.GetPosition(consumed);
            startSegment = (Segment)next.GetObject()!;
            startIndex = next.GetInteger();
        }
    }

    private static ReadOnlyMemory<byte> Wrap(ReadOnlyMemory<byte> piece, CountingMemory.Counter? counter) =>
        counter == null ? piece : new CountingMemory(piece, counter).Memory;

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>
/// Memory over an existing buffer that counts every <see cref="MemoryManager{T}.GetSpan"/>: each time a
/// reader turns this segment's <c>Memory</c> into a span (that is, looks at its bytes) the shared
/// <see cref="Counter"/> goes up. Used to prove a parser does not rescan old segments.
/// </summary>
public sealed class CountingMemory : MemoryManager<byte>
{
    private readonly ReadOnlyMemory<byte> _source;
    private readonly Counter _counter;

    /// <summary>A shared tally of span accesses.</summary>
    public sealed class Counter
    {
        /// <summary>Number of GetSpan calls so far.</summary>
        public long SpanAccesses;
    }

    /// <summary>Wraps <paramref name="source"/>, counting into <paramref name="counter"/>.</summary>
    public CountingMemory(ReadOnlyMemory<byte> source, Counter counter)
    {
        _source = source;
        _counter = counter;
    }

    /// <inheritdoc />
    public override Span<byte> GetSpan()
    {
        _counter.SpanAccesses++;
        return System.Runtime.InteropServices.MemoryMarshal.AsMemory(_source).Span;
    }

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Unpin() { }

    /// <inheritdoc />
    protected override void Dispose(bool disposing) { }
}
