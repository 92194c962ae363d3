using RespKv.Replication;

namespace RespKv.Tests.Replication;

/// <summary>The shared replication buffer: offsets, the backlog window, readers, and the replica output limit.</summary>
public sealed class ReplicationBufferTests
{
    private static byte[] Bytes(int n, byte seed) => Enumerable.Range(0, n).Select(i => (byte)(seed + i)).ToArray();

    [Fact]
    public void ReadersGetTheStreamFromTheirPosition()
    {
        var buffer = new ReplicationBuffer(start: 100, backlogSize: 1 << 20);
        ReplicationBuffer.Reader early = buffer.Attach(100)!;
        byte[] first = Bytes(40_000, 1), second = Bytes(10_000, 7);
        buffer.Append(first);
        ReplicationBuffer.Reader late = buffer.Attach(100 + first.Length)!;
        buffer.Append(second);
        Assert.Equal(100 + first.Length + second.Length, buffer.End);
        var all = new byte[first.Length + second.Length];
        int read = 0, n;
        while ((n = buffer.Read(early, all.AsSpan(read))) > 0) read += n;
        Assert.Equal(first.Concat(second).ToArray(), all);
        var tail = new byte[second.Length];
        Assert.Equal(second.Length, buffer.Read(late, tail));
        Assert.Equal(second, tail);
        Assert.Equal(0, buffer.Read(late, tail));
        Assert.True(buffer.WaitForData(late) is { IsCompleted: false } waiting);
        buffer.Append("x"u8);
        Assert.True(buffer.WaitForData(late).IsCompleted);
    }

    [Fact]
    public void BacklogKeepsAtLeastItsSizeAndReleasesOlderBlocks()
    {
        const int size = 3 * ReplicationBuffer.BlockBytes;
        var buffer = new ReplicationBuffer(start: 0, backlogSize: size);
        for (int i = 0; i < 100; i++) buffer.Append(Bytes(4096, (byte)i));
        long end = buffer.End;
        Assert.Equal(100 * 4096, end);
        Assert.True(buffer.BacklogLength >= size, $"histlen {buffer.BacklogLength}");
        Assert.True(buffer.BacklogLength < size + 2 * ReplicationBuffer.BlockBytes, $"histlen {buffer.BacklogLength}");
        Assert.True(buffer.RetainedBytes <= size + 2 * ReplicationBuffer.BlockBytes, $"retained {buffer.RetainedBytes}");
        Assert.True(buffer.BacklogHas(end - size));
        Assert.False(buffer.BacklogHas(0));
        Assert.Null(buffer.Attach(0));
        Assert.Null(buffer.Attach(end + 1));
    }

    [Fact]
    public void SlowReaderKeepsItsBytesUntilTheHardLimitDetachesIt()
    {
        var buffer = new ReplicationBuffer(start: 0, backlogSize: ReplicationBuffer.BlockBytes);
        ReplicationBuffer.Reader slow = buffer.Attach(0)!;
        for (int i = 0; i < 64; i++) buffer.Append(Bytes(4096, (byte)i));
        // Behind by 256 KB: its bytes are kept although the backlog is one block.
        Assert.True(buffer.RetainedBytes >= 64 * 4096);
        Assert.Empty(buffer.EnforceLimits(hardBytes: 1 << 20, softBytes: 0, softSeconds: 0, nowMs: 0));
        Assert.Equal([slow], buffer.EnforceLimits(hardBytes: 128 * 1024, softBytes: 0, softSeconds: 0, nowMs: 0));
        Assert.True(slow.Overrun);
        Assert.Equal(-1, buffer.Read(slow, new byte[16]));
        buffer.Append("y"u8);
        Assert.True(buffer.RetainedBytes <= 2 * ReplicationBuffer.BlockBytes, $"retained {buffer.RetainedBytes}");
    }

    [Fact]
    public void SoftLimitDetachesOnlyAfterItsSeconds()
    {
        var buffer = new ReplicationBuffer(start: 0, backlogSize: 1 << 20);
        ReplicationBuffer.Reader slow = buffer.Attach(0)!;
        buffer.Append(Bytes(10_000, 3));
        Assert.Empty(buffer.EnforceLimits(0, softBytes: 5_000, softSeconds: 2, nowMs: 1_000));
        Assert.Empty(buffer.EnforceLimits(0, softBytes: 5_000, softSeconds: 2, nowMs: 2_500));
        Assert.Equal([slow], buffer.EnforceLimits(0, softBytes: 5_000, softSeconds: 2, nowMs: 3_500));
    }
}
