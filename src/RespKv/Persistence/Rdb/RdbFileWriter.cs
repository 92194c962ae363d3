using System.Globalization;
using System.Text;
using RespKv.Configuration;
using RespKv.Storage;

namespace RespKv.Persistence.Rdb;

/// <summary>
/// What a replication full sync adds to an RDB file (Redis's <c>rdbSaveInfo</c>): the aux fields <c>repl-stream-db</c>,
/// <c>repl-id</c> and <c>repl-offset</c>, which a replica loading the file (or a restarted primary) continues from.
/// </summary>
/// <param name="StreamDb">The database the replication stream has selected (<c>repl-stream-db</c>), or -1 for none.</param>
/// <param name="ReplId">The replication ID, 40 hex digits (<c>repl-id</c>).</param>
/// <param name="Offset">The replication offset the file's data corresponds to (<c>repl-offset</c>), in bytes of the stream.</param>
public sealed record RdbReplicationInfo(int StreamDb, string ReplId, long Offset);

/// <summary>How an RDB file is written (<see cref="RdbFileWriter"/>).</summary>
/// <param name="Server">Encoding thresholds (listpack sizes…), and <c>maxmemory-policy</c>: under an LRU policy each key gets an
/// <c>IDLE</c> opcode (idle seconds), under an LFU one a <c>FREQ</c> opcode (the counter), as Redis's <c>rdbSaveKeyValuePair</c>.</param>
/// <param name="Lifetime">The keyspace's clock for the IDLE/FREQ hints; null writes none.</param>
/// <param name="Compression"><c>rdbcompression</c>.</param>
/// <param name="Checksum"><c>rdbchecksum</c>: the CRC64 trailer, else 8 zero bytes.</param>
/// <param name="AofBase">True for an AOF base file / preamble: aux <c>aof-base</c> is 1.</param>
/// <param name="Replication">The <c>repl-*</c> aux fields, or null to write none (a plain SAVE/BGSAVE).</param>
public sealed record RdbWriteOptions(ServerOptions Server, KeyLifetime? Lifetime = null, bool Compression = true, bool Checksum = true,
    bool AofBase = false, RdbReplicationInfo? Replication = null)
{
    /// <summary>The options <paramref name="server"/>'s settings ask for (<c>rdbcompression</c>, <c>rdbchecksum</c>).</summary>
    public static RdbWriteOptions From(ServerOptions server, KeyLifetime? lifetime, bool aofBase = false, RdbReplicationInfo? replication = null) =>
        new(server, lifetime, server.RdbCompression, server.RdbChecksum, aofBase, replication);
}

/// <summary>What <see cref="RdbFileWriter.Write"/> wrote.</summary>
/// <param name="Keys">Keys written (keys already expired at the snapshot are left out).</param>
/// <param name="Bytes">Bytes of the whole file, trailer included.</param>
public readonly record struct RdbWriteResult(long Keys, long Bytes);

/// <summary>
/// Writes a whole RDB version 10 file from a <see cref="KeyspaceSnapshot"/>, as Redis 7.0's <c>rdbSaveRio</c>: the magic
/// <c>REDIS0010</c>; aux fields <c>redis-ver</c> (7.0.15), <c>redis-bits</c> (64), <c>ctime</c> (Unix seconds), <c>used-mem</c>
/// (bytes), then <c>repl-stream-db</c>, <c>repl-id</c>, <c>repl-offset</c> when given, then <c>aof-base</c> (0/1); one
/// <c>FUNCTION2</c> opcode (245) and the library code per function library; per non-empty database <c>SELECTDB</c> (254) and
/// <c>RESIZEDB</c> (251: keys, keys with an expiry), then per key <c>EXPIRETIME_MS</c> (252) when it has an expiry, <c>IDLE</c>
/// (248) or <c>FREQ</c> (249) under an LRU/LFU <c>maxmemory-policy</c>, the object type, the key and the object
/// (<see cref="Storage.Kinds.ValueKind.WriteRdb"/>); <c>EOF</c> (255) and the CRC64 (<see cref="RdbOutputStream.Finish"/>).
/// <para>
/// The output is only written forward (a socket for a diskless full sync works). Runs on any thread, with no lock: the
/// snapshot's entries keep their values until it is released, which <see cref="Write"/> does when it ends. An I/O failure
/// of <c>output</c> propagates (the file is then incomplete).
/// </para>
/// </summary>
internal static class RdbFileWriter
{
    /// <summary>Writes <paramref name="snapshot"/> to <paramref name="output"/> (see the class summary), then releases it (<see cref="KeyspaceSnapshot.Release"/>).</summary>
    public static RdbWriteResult Write(KeyspaceSnapshot snapshot, Stream output, RdbWriteOptions options)
    {
        try
        {
            return WriteEntries(snapshot, output, options);
        }
        finally
        {
            snapshot.Release(); // written (or failed): the keyspace may change its entries in place again
        }
    }

    private static RdbWriteResult WriteEntries(KeyspaceSnapshot snapshot, Stream output, RdbWriteOptions options)
    {
        var rdb = new RdbOutputStream(output, options.Compression, options.Checksum);
        rdb.Write("REDIS0010"u8);
        WriteAux(rdb, "redis-ver", Server.RespServer.RedisCompatibleVersion);
        WriteAux(rdb, "redis-bits", "64");
        WriteAux(rdb, "ctime", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        WriteAux(rdb, "used-mem", snapshot.UsedMemory.ToString(CultureInfo.InvariantCulture));
        if (options.Replication is { } repl)
        {
            WriteAux(rdb, "repl-stream-db", repl.StreamDb.ToString(CultureInfo.InvariantCulture));
            WriteAux(rdb, "repl-id", repl.ReplId);
            WriteAux(rdb, "repl-offset", repl.Offset.ToString(CultureInfo.InvariantCulture));
        }
        WriteAux(rdb, "aof-base", options.AofBase ? "1" : "0");
        foreach (byte[] code in snapshot.FunctionLibraries)
        {
            rdb.WriteByte(Rdb.OpcodeFunction2);
            Rdb.WriteString(rdb, code);
        }
        EvictionPolicy policy = MemoryLimiter.ParsePolicy(options.Server.MaxMemoryPolicy);
        KeyLifetime? lifetime = options.Lifetime;
        bool saveLfu = lifetime != null && MemoryLimiter.IsLfu(policy);
        bool saveLru = lifetime != null && policy is EvictionPolicy.AllKeysLru or EvictionPolicy.VolatileLru;
        long nowMs = snapshot.NowMs;
        long keys = 0;
        for (int d = 0; d < snapshot.DatabaseCount; d++)
        {
            List<KeyEntry> entries = snapshot[d];
            long live = 0, volatileKeys = 0;
            foreach (KeyEntry e in entries)
            {
                if (e.ExpireAtMs != 0 && e.ExpireAtMs <= nowMs) continue;
                live++;
                if (e.ExpireAtMs != 0) volatileKeys++;
            }
            if (live == 0) continue;
            rdb.WriteByte(Rdb.OpcodeSelectDb);
            Rdb.WriteLength(rdb, (ulong)d);
            rdb.WriteByte(Rdb.OpcodeResizeDb);
            Rdb.WriteLength(rdb, (ulong)live);
            Rdb.WriteLength(rdb, (ulong)volatileKeys);
            foreach (KeyEntry e in entries)
            {
                if (e.ExpireAtMs != 0 && e.ExpireAtMs <= nowMs) continue;
                if (e.ExpireAtMs != 0)
                {
                    rdb.WriteByte(Rdb.OpcodeExpireTimeMs);
                    Rdb.WriteMillisecondTime(rdb, e.ExpireAtMs);
                }
                if (saveLru)
                {
                    rdb.WriteByte(Rdb.OpcodeIdle);
                    Rdb.WriteLength(rdb, (ulong)lifetime!.IdleSeconds(e));
                }
                else if (saveLfu)
                {
                    rdb.WriteByte(Rdb.OpcodeFreq);
                    rdb.WriteByte((byte)lifetime!.LfuFrequency(e));
                }
                if (e.Value is byte[] s)
                {
                    rdb.WriteByte(Rdb.TypeString);
                    Rdb.WriteString(rdb, e.Key);
                    Rdb.WriteString(rdb, s);
                }
                else
                {
                    rdb.BeginKey(e.Key);
                    e.Kind.WriteRdb(rdb, e.Value, options.Server);
                }
                keys++;
            }
        }
        rdb.WriteByte(Rdb.OpcodeEof);
        rdb.Finish();
        return new RdbWriteResult(keys, rdb.BytesWritten);
    }

    private static void WriteAux(Stream rdb, string key, string value)
    {
        rdb.WriteByte(Rdb.OpcodeAux);
        Rdb.WriteString(rdb, Encoding.ASCII.GetBytes(key));
        Rdb.WriteString(rdb, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>
    /// Writes <paramref name="snapshot"/> to <paramref name="path"/> as Redis's <c>rdbSave</c>: to <c>temp-PID.rdb</c> in the same
    /// directory, fsynced, renamed over <paramref name="path"/>, the directory fsynced; the temporary file is deleted on failure
    /// (the exception propagates). <paramref name="commit"/>, when given, is asked just before the rename: false abandons the
    /// file (deleted; <see cref="OperationCanceledException"/>), as a background save FLUSHALL cancels. <paramref name="tempName"/>
    /// replaces the temporary file's name (two saves may run at once: SAVE and a background one).
    /// </summary>
    public static RdbWriteResult WriteFile(KeyspaceSnapshot snapshot, string path, RdbWriteOptions options, Func<bool>? commit = null, string? tempName = null)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, tempName ?? $"temp-{Environment.ProcessId}.rdb");
        try
        {
            RdbWriteResult result;
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                result = Write(snapshot, file, options);
                file.Flush(flushToDisk: true);
            }
            if (commit != null && !commit()) throw new OperationCanceledException("the save was cancelled");
            File.Move(temp, path, overwrite: true);
            FileSync.FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            return result;
        }
        catch
        {
            AofSnapshotWriter.TryDelete(temp);
            throw;
        }
    }
}
