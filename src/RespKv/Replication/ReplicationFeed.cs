using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Replication;

/// <summary>
/// The primary's replication stream (Redis's <c>replicationFeedSlaves</c>): the write log replicas and the backlog receive,
/// in exactly the form Redis sends — <c>SELECT db</c> when a record's database differs from the last one sent (Redis's
/// <c>server.slaveseldb</c>; forgotten at every full resync so the stream after a snapshot starts with one), the propagated
/// form of each write, <c>MULTI</c> … <c>EXEC</c> around a multi-record unit, <c>DEL</c> for keys expiry and eviction removed,
/// and the primary's own <c>PING</c> and <c>REPLCONF GETACK *</c>. Each unit is appended to the <see cref="ReplicationBuffer"/>
/// under its lock, in the order units are applied (appends run under the writing command's shard locks).
/// </summary>
public sealed class ReplicationFeed : IWriteLog
{
    [ThreadStatic] private static long t_appendEnd;

    private readonly ReplicationBuffer _buffer;
    private readonly PropagationBuffer _framing = new();
    private int _lastDatabase = -1;

    /// <summary>A feed appending to <paramref name="buffer"/>.</summary>
    public ReplicationFeed(ReplicationBuffer buffer) => _buffer = buffer;

    /// <summary>The buffer this feed appends to.</summary>
    public ReplicationBuffer Buffer => _buffer;

    /// <summary>
    /// The stream position after the last unit appended on this thread since the last call, then 0: the executor reads it
    /// after each command to keep the client's write offset (Redis's <c>c->woff</c>, which WAIT waits for).
    /// </summary>
    public static long TakeThreadAppendEnd()
    {
        long end = t_appendEnd;
        t_appendEnd = 0;
        return end;
    }

    /// <inheritdoc />
    public string? WriteError => null;

    /// <inheritdoc />
    public void Append(PropagationBuffer records)
    {
        int count = records.Count;
        if (count == 0) return;
        bool wrap = count > 1 || records.IsTransaction;
        lock (_buffer.Locked)
        {
            if (wrap)
            {
                SelectLocked(records.DatabaseIndex(0));
                _buffer.AppendLocked("*1\r\n$5\r\nMULTI\r\n"u8);
            }
            for (int i = 0; i < count; i++)
            {
                SelectLocked(records.DatabaseIndex(i));
                _buffer.AppendLocked(records.Record(i));
            }
            if (wrap) _buffer.AppendLocked("*1\r\n$4\r\nEXEC\r\n"u8);
            Done();
        }
    }

    /// <inheritdoc />
    public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key)
    {
        lock (_buffer.Locked)
        {
            SelectLocked(databaseIndex);
            AppendFramedLocked(_framing.Begin(databaseIndex, 2).Arg("DEL"u8).Arg(key));
            Done();
        }
    }

    /// <inheritdoc />
    public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field)
    {
        lock (_buffer.Locked)
        {
            SelectLocked(databaseIndex);
            AppendFramedLocked(_framing.Begin(databaseIndex, 3).Arg("HDEL"u8).Arg(key).Arg(field));
            Done();
        }
    }

    /// <summary>Appends the primary's keep-alive <c>PING</c> (every <c>repl-ping-replica-period</c> seconds), with no SELECT.</summary>
    public void AppendPing()
    {
        lock (_buffer.Locked)
        {
            _buffer.AppendLocked("*1\r\n$4\r\nPING\r\n"u8);
            _buffer.WakeLocked();
        }
    }

    /// <summary>Appends <c>REPLCONF GETACK *</c> (WAIT asks every replica for its offset through the stream, as Redis).</summary>
    public void AppendGetAck()
    {
        lock (_buffer.Locked)
        {
            _buffer.AppendLocked("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"u8);
            _buffer.WakeLocked();
        }
    }

    /// <summary>
    /// Forgets the database last sent, so the next unit starts with <c>SELECT</c> (Redis sets <c>slaveseldb</c> to -1 when a
    /// replica starts a full resync). Called with every shard locked, at the snapshot's instant; returns the stream position there.
    /// </summary>
    public long MarkSnapshot()
    {
        lock (_buffer.Locked)
        {
            _lastDatabase = -1;
            return _buffer.End;
        }
    }

    private void Done()
    {
        _buffer.WakeLocked();
        t_appendEnd = _buffer.EndLocked;
    }

    private void SelectLocked(int database)
    {
        if (database == _lastDatabase) return;
        AppendFramedLocked(_framing.Begin(database, 2).Arg("SELECT"u8).Arg(database));
        _lastDatabase = database;
    }

    private void AppendFramedLocked(PropagationBuffer record)
    {
        _buffer.AppendLocked(record.AllRecords);
        record.Clear();
    }
}
