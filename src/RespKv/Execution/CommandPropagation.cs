using RespKv.Protocol;

namespace RespKv.Execution;

/// <summary>
/// Where applied writes go to be made durable: the append-only file implements it and is set as
/// the server's write log (<c>RespServer.WriteLog</c>). Follows Redis's propagation (server.c <c>call()</c> →
/// <c>propagatePendingCommands</c>, <c>alsoPropagate</c>): what is logged is the effect of a command, not the request.
/// <para>
/// Ordering contract: every call is made while the caller still holds the write locks of the shards the
/// records touch (the executor, <c>Server.CommandExecutor</c>, takes them around a write command; an
/// <see cref="AtomicUnit"/> holds its whole lock set), so for any two writes to the same key, log order equals apply order.
/// </para>
/// </summary>
public interface IWriteLog
{
    /// <summary>
    /// Appends the records of one command, or of one EXEC, as one unit: a <c>SELECT</c> before a record whose
    /// database differs from the last one logged, and <c>MULTI</c> … <c>EXEC</c> around the unit when
    /// <see cref="PropagationBuffer.Count"/> &gt; 1 or <see cref="PropagationBuffer.IsTransaction"/>.
    /// Copies what it needs; <paramref name="records"/> is reused after the call.
    /// </summary>
    void Append(PropagationBuffer records);

    /// <summary>
    /// Appends <c>DEL key</c> in database <paramref name="databaseIndex"/> for a key that expiry removed
    /// (Redis's <c>deleteExpiredKeyAndPropagate</c>), so a reader of the log that does not expire keys
    /// while loading (redis-server) reaches the same state. Called holding the key's shard lock.
    /// </summary>
    void AppendExpiredDeletion(int databaseIndex, ReadOnlySpan<byte> key);

    /// <summary>
    /// Appends <c>HDEL key field</c> in database <paramref name="databaseIndex"/> for a hash field that its expiry removed
    /// (Redis 7.4's <c>propagateHashFieldDeletion</c>). Called holding the key's shard lock.
    /// </summary>
    void AppendExpiredFieldDeletion(int databaseIndex, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field);

    /// <summary>
    /// Null when writes may proceed; otherwise the reason the log cannot take them (the last write or
    /// fsync failed), which write commands answer as <c>-MISCONF Errors writing to the AOF file: &lt;reason&gt;</c>.
    /// </summary>
    string? WriteError { get; }
}
