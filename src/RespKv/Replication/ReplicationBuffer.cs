namespace RespKv.Replication;

/// <summary>
/// The replication stream held in memory (Redis 7.0's shared replication buffer, replication.c <c>feedReplicationBuffer</c>
/// and <c>incrementalTrimReplicationBacklog</c>): fixed-size blocks of the bytes propagated to replicas, addressed by stream
/// position, shared by the replication backlog and every replica's unsent output.
/// <para>
/// Positions count bytes: the stream byte at position <c>p</c> is Redis's replication offset <c>p + 1</c>, so
/// <see cref="End"/> is <c>master_repl_offset</c> and the backlog's first byte is <c>repl_backlog_first_byte_offset</c> =
/// <see cref="BacklogStart"/> + 1. Block <c>k</c> of the ring holds positions <c>[base + k·BlockBytes, base + (k+1)·BlockBytes)</c>.
/// </para>
/// <para>
/// The backlog keeps at least the last <c>repl-backlog-size</c> bytes (block-granular, as Redis: a head block is dropped from
/// the backlog only when what remains still covers the size). A block is released when it is behind both the backlog's start
/// and every attached reader (a replica's send position): a replica that falls behind keeps its bytes alive, up to its
/// <c>client-output-buffer-limit replica</c> — <see cref="Trim"/> reports the readers beyond the hard limit, which the caller
/// disconnects (Redis's <c>checkClientOutputBufferLimits</c> for replicas). Released blocks are reused (a few are kept), so a
/// steady stream allocates nothing.
/// </para>
/// Thread-safe: every member takes the buffer's lock; appends happen under the writing command's shard locks.
/// </summary>
public sealed class ReplicationBuffer
{
    /// <summary>Bytes per block (Redis's <c>PROTO_REPLY_CHUNK_BYTES</c>, 16 KB).</summary>
    public const int BlockBytes = 16 * 1024;

    private const int SpareBlocks = 64;

    private readonly object _sync = new();
    private byte[][] _ring = new byte[16][];
    private int _head;
    private int _count;
    private long _base;
    private long _end;
    private long _backlogStart;
    private long _backlogSize;
    private readonly Stack<byte[]> _spare = new();
    private readonly List<Reader> _readers = new();

    /// <summary>A buffer whose stream starts at position <paramref name="start"/> (Redis's <c>master_repl_offset</c> when the backlog is created).</summary>
    public ReplicationBuffer(long start, long backlogSize)
    {
        _base = _end = _backlogStart = start;
        _backlogSize = Math.Max(1, backlogSize);
    }

    /// <summary>A reader of the stream (one per attached replica): its next position to send.</summary>
    public sealed class Reader
    {
        internal Reader(long position) => _position = position;

        private long _position;

        /// <summary>The next stream position this reader sends.</summary>
        public long Position => Volatile.Read(ref _position);

        internal void Advance(long to) => Volatile.Write(ref _position, to);

        /// <summary>Set when the reader fell behind beyond its hard limit and was detached: its data is gone.</summary>
        public volatile bool Overrun;

        /// <summary>Environment.TickCount64 since when it has been at or above its soft limit, or 0.</summary>
        internal long SoftSinceMs;

        /// <summary>Completed (and replaced) when bytes were appended while the reader waited.</summary>
        internal TaskCompletionSource? Waiting;
    }

    /// <summary>Stream position after the last byte (Redis's <c>master_repl_offset</c>).</summary>
    public long End
    {
        get
        {
            lock (_sync) return _end;
        }
    }

    /// <summary>First position the backlog can serve (Redis's <c>repl_backlog_first_byte_offset</c> - 1).</summary>
    public long BacklogStart
    {
        get
        {
            lock (_sync) return _backlogStart;
        }
    }

    /// <summary>Bytes the backlog holds (Redis's <c>repl_backlog_histlen</c>).</summary>
    public long BacklogLength
    {
        get
        {
            lock (_sync) return _end - _backlogStart;
        }
    }

    /// <summary>Bytes of all retained blocks (INFO <c>mem_total_replication_buffers</c>).</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_sync) return (long)_count * BlockBytes;
        }
    }

    /// <summary><c>repl-backlog-size</c> in bytes; a smaller size trims at the next append.</summary>
    public long BacklogSize
    {
        get
        {
            lock (_sync) return _backlogSize;
        }
        set
        {
            lock (_sync) _backlogSize = Math.Max(1, value);
        }
    }

    /// <summary>Appends <paramref name="bytes"/> to the stream and wakes waiting readers.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        lock (_sync)
        {
            AppendLocked(bytes);
            WakeLocked();
        }
    }

    /// <summary>Appends under the lock already held (<see cref="Locked"/>); the caller wakes readers with <see cref="WakeLocked"/>.</summary>
    internal void AppendLocked(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int offset = (int)((_end - _base) % BlockBytes);
            if (offset == 0 && _end - _base == (long)_count * BlockBytes) AddBlockLocked();
            byte[] block = _ring[(_head + _count - 1) % _ring.Length];
            int n = Math.Min(bytes.Length, BlockBytes - offset);
            bytes[..n].CopyTo(block.AsSpan(offset));
            bytes = bytes[n..];
            _end += n;
        }
    }

    /// <summary>Stream position after the last byte; caller holds <see cref="Locked"/>.</summary>
    internal long EndLocked => _end;

    /// <summary>The buffer's lock, for a writer that appends several pieces as one unit (the feed's SELECT + record).</summary>
    internal object Locked => _sync;

    /// <summary>Wakes every reader waiting for bytes; caller holds <see cref="Locked"/>.</summary>
    internal void WakeLocked()
    {
        for (int i = 0; i < _readers.Count; i++)
        {
            Reader r = _readers[i];
            if (r.Waiting is { } waiting)
            {
                r.Waiting = null;
                waiting.TrySetResult();
            }
        }
    }

    private void AddBlockLocked()
    {
        if (_count == _ring.Length)
        {
            var grown = new byte[_ring.Length * 2][];
            for (int i = 0; i < _count; i++) grown[i] = _ring[(_head + i) % _ring.Length];
            _ring = grown;
            _head = 0;
        }
        _ring[(_head + _count) % _ring.Length] = _spare.Count > 0 ? _spare.Pop() : new byte[BlockBytes];
        _count++;
        // A new block is the moment to release old ones (once per 16 KB of stream, not per write).
        if (_count > 1) TrimLocked();
    }

    /// <summary>
    /// Attaches a reader at <paramref name="position"/>; null when the buffer no longer holds it (below the retained blocks or
    /// beyond <see cref="End"/>).
    /// </summary>
    public Reader? Attach(long position)
    {
        lock (_sync)
        {
            if (position < _base || position > _end) return null;
            var reader = new Reader(position);
            _readers.Add(reader);
            return reader;
        }
    }

    /// <summary>Detaches <paramref name="reader"/> (its replica is gone); its blocks can be released.</summary>
    public void Detach(Reader reader)
    {
        lock (_sync)
        {
            _readers.Remove(reader);
            reader.Waiting?.TrySetResult();
            reader.Waiting = null;
        }
    }

    /// <summary>True when position <paramref name="position"/> is within the backlog (a partial resync from it is possible).</summary>
    public bool BacklogHas(long position)
    {
        lock (_sync) return position >= _backlogStart && position <= _end;
    }

    /// <summary>
    /// Copies the bytes from <paramref name="reader"/>'s position into <paramref name="destination"/> (as many as fit and
    /// exist) and advances it; 0 when nothing is pending. -1 when the reader was detached for falling too far behind.
    /// </summary>
    public int Read(Reader reader, Span<byte> destination)
    {
        lock (_sync)
        {
            if (reader.Overrun) return -1;
            long position = reader.Position;
            int total = 0;
            while (total < destination.Length && position < _end)
            {
                long relative = position - _base;
                byte[] block = _ring[(_head + (int)(relative / BlockBytes)) % _ring.Length];
                int offset = (int)(relative % BlockBytes);
                int n = (int)Math.Min(Math.Min(BlockBytes - offset, destination.Length - total), _end - position);
                block.AsSpan(offset, n).CopyTo(destination[total..]);
                total += n;
                position += n;
            }
            reader.Advance(position);
            return total;
        }
    }

    /// <summary>
    /// A task that completes when bytes beyond <paramref name="reader"/>'s position exist (at once when they already do),
    /// or when it is detached.
    /// </summary>
    public Task WaitForData(Reader reader)
    {
        lock (_sync)
        {
            if (reader.Position < _end || reader.Overrun || !_readers.Contains(reader)) return Task.CompletedTask;
            reader.Waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return reader.Waiting.Task;
        }
    }

    /// <summary>Releases what neither the backlog nor a reader needs (also run on each new block).</summary>
    public void Trim()
    {
        lock (_sync) TrimLocked();
    }

    /// <summary>
    /// Marks readers over <paramref name="hardBytes"/> of unsent stream, or over <paramref name="softBytes"/> for more than
    /// <paramref name="softSeconds"/>, as overrun and detaches them (0 = no limit); returns them, for the caller to disconnect.
    /// </summary>
    public List<Reader> EnforceLimits(long hardBytes, long softBytes, long softSeconds, long nowMs)
    {
        var overrun = new List<Reader>();
        lock (_sync)
        {
            for (int i = _readers.Count - 1; i >= 0; i--)
            {
                Reader r = _readers[i];
                long lag = _end - r.Position;
                bool exceeded = hardBytes > 0 && lag >= hardBytes;
                if (!exceeded && softBytes > 0 && lag >= softBytes)
                {
                    if (r.SoftSinceMs == 0) r.SoftSinceMs = nowMs;
                    else exceeded = nowMs - r.SoftSinceMs > softSeconds * 1000;
                }
                else if (!exceeded) r.SoftSinceMs = 0;
                if (!exceeded) continue;
                r.Overrun = true;
                _readers.RemoveAt(i);
                r.Waiting?.TrySetResult();
                r.Waiting = null;
                overrun.Add(r);
            }
            if (overrun.Count > 0) TrimLocked();
        }
        return overrun;
    }

    /// <summary>Largest unsent stream of any reader, in bytes.</summary>
    public long MaxLag
    {
        get
        {
            lock (_sync)
            {
                long max = 0;
                foreach (Reader r in _readers) max = Math.Max(max, _end - r.Position);
                return max;
            }
        }
    }

    private void TrimLocked()
    {
        // The backlog drops its first block while the rest still covers repl-backlog-size (Redis's incrementalTrimReplicationBacklog).
        while (true)
        {
            long firstBlockEnd = _base + (_backlogStart - _base) / BlockBytes * BlockBytes + BlockBytes;
            if (firstBlockEnd > _end || _end - firstBlockEnd < _backlogSize) break;
            _backlogStart = firstBlockEnd;
        }
        long keep = _backlogStart;
        foreach (Reader r in _readers) keep = Math.Min(keep, r.Position);
        while (_count > 1 && _base + BlockBytes <= keep)
        {
            byte[] block = _ring[_head];
            _ring[_head] = null!;
            _head = (_head + 1) % _ring.Length;
            _count--;
            _base += BlockBytes;
            if (_spare.Count < SpareBlocks) _spare.Push(block);
        }
    }
}
