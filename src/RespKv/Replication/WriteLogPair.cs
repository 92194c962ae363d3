using RespKv.Execution;
using RespKv.Protocol;

namespace RespKv.Replication;

/// <summary>
/// The server's write log while both the AOF and the replication stream take writes: each unit goes to the AOF, then to the
/// replication feed (Redis's <c>propagateNow</c>: <c>feedAppendOnlyFile</c> then <c>replicationFeedSlaves</c>), both under
/// the writing command's shard locks. Write errors are the AOF's.
/// </summary>
public sealed class WriteLogPair(IWriteLog aof, IWriteLog feed) : IWriteLog
{
    /// <inheritdoc />
    public void Append(PropagationBuffer records)
    {
        aof.Append(records);
        feed.Append(records);
    }

    /// <inheritdoc />
    public void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key)
    {
        aof.AppendExpiredDeletion(databaseIndex, key);
        feed.AppendExpiredDeletion(databaseIndex, key);
    }

    /// <inheritdoc />
    public void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field)
    {
        aof.AppendExpiredFieldDeletion(databaseIndex, key, field);
        feed.AppendExpiredFieldDeletion(databaseIndex, key, field);
    }

    /// <inheritdoc />
    public string? WriteError => aof.WriteError;
}
