using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using RespKv.Persistence.Rdb;
using RespKv.Protocol;
using RespKv.Server;

namespace RespKv.Replication;

/// <summary>Where a replica attached to this primary is (Redis's <c>slave->replstate</c>).</summary>
public enum ReplicaState
{
    /// <summary>Waiting for its snapshot (INFO <c>wait_bgsave</c>).</summary>
    WaitBgsave,
    /// <summary>Receiving the RDB (INFO <c>send_bulk</c>).</summary>
    SendBulk,
    /// <summary>Receiving the command stream (INFO <c>online</c>).</summary>
    Online,
}

/// <summary>What a replica declared with REPLCONF before SYNC/PSYNC (Redis's <c>slave_listening_port</c>, <c>slave_addr</c>, <c>slave_capa</c>).</summary>
public sealed class ReplicaHandshake
{
    /// <summary>REPLCONF listening-port.</summary>
    public long ListeningPort { get; set; }

    /// <summary>REPLCONF ip-address, or null.</summary>
    public string? IpAddress { get; set; }

    /// <summary>REPLCONF capa eof: can read a diskless RDB (<c>$EOF:&lt;mark&gt;</c>).</summary>
    public bool CapaEof { get; set; }

    /// <summary>REPLCONF capa psync2: understands <c>+CONTINUE &lt;replid&gt;</c>.</summary>
    public bool CapaPsync2 { get; set; }
}

/// <summary>
/// One replica attached to this primary, over the connection that sent SYNC or PSYNC (Redis's client with <c>CLIENT_SLAVE</c>):
/// after a full resync's <c>+FULLRESYNC &lt;replid&gt; &lt;offset&gt;</c> the RDB — disk-style <c>$&lt;len&gt;\r\n&lt;bytes&gt;</c>
/// (written to a temporary file in <c>dir</c> first; a <c>\n</c> keep-alive each second meanwhile) or, with
/// <c>repl-diskless-sync yes</c> and the replica's <c>capa eof</c>, diskless <c>$EOF:&lt;40 chars&gt;\r\n&lt;bytes&gt;&lt;40 chars&gt;</c>
/// streamed as it is encoded — then the command stream from the snapshot's offset; after a partial resync's
/// <c>+CONTINUE [replid]</c> the stream from the requested offset. The stream is read from the shared
/// <see cref="ReplicationBuffer"/> (nothing is copied per replica); what the replica has not received stays there, bounded by
/// <c>client-output-buffer-limit replica</c>. The replica's <c>REPLCONF ACK &lt;offset&gt;</c> frames are read meanwhile.
/// After a diskless transfer the stream starts at the replica's first ACK, as Redis 7.0 (a replica reading up to the end
/// mark must not find stream bytes behind it in the same read).
/// </summary>
public sealed class ReplicaLink
{
    private readonly ClientSession _client;
    private readonly ReplicationState _state;
    private readonly bool _fullSync;
    private readonly bool _prePsync;
    private readonly ReplicaHandshake _handshake;
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _firstAck = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _partialReply = "";
    private long _ackOffset;
    private long _ackUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private volatile ReplicaState _replState = ReplicaState.WaitBgsave;

    private ReplicaLink(ClientSession client, ReplicationState state, bool fullSync, bool prePsync, ReplicationBuffer.Reader? reader)
    {
        _client = client;
        _state = state;
        _fullSync = fullSync;
        _prePsync = prePsync;
        _handshake = client.ReplicaInfo ?? new ReplicaHandshake();
        Reader = reader;
        if (!fullSync) _replState = ReplicaState.Online;
    }

    /// <summary>
    /// SYNC or PSYNC from <paramref name="client"/> (Redis's <c>syncCommand</c>): a partial resync when <paramref name="replId"/>
    /// and <paramref name="offset"/> allow it, else a full one. Registers the replica; the connection becomes the link once the
    /// batch's replies are flushed (<see cref="ClientSession.ReplicaHandoff"/>).
    /// </summary>
    internal static ReplicaLink Attach(ClientSession client, string? replId, long offset)
    {
        ReplicationState state = client.Server.Replication;
        string name = client.RemoteAddress;
        ReplicationBuffer.Reader? reader = replId == null ? null : state.TryPartialResync(replId, offset, name);
        var link = new ReplicaLink(client, state, reader == null, replId == null, reader);
        if (reader != null)
        {
            link._partialReply = link._handshake.CapaPsync2 ? $"+CONTINUE {state.ReplId}\r\n" : "+CONTINUE\r\n";
            client.Server.Logger.LogInformation("Partial resynchronization request from {Replica} accepted. Sending {Bytes} bytes of backlog starting from offset {Offset}.",
                name, state.MasterReplOffset - (offset - 1), offset);
        }
        state.AddReplica(link, reader == null);
        client.ReplicaHandoff = link;
        return link;
    }

    /// <summary>The replica's read position in the stream (null until its snapshot is taken).</summary>
    public ReplicationBuffer.Reader? Reader { get; private set; }

    /// <summary>Its state.</summary>
    public ReplicaState State => _replState;

    /// <summary>The state as INFO prints it: <c>wait_bgsave</c>, <c>send_bulk</c> or <c>online</c>.</summary>
    public string StateName => _replState switch
    {
        ReplicaState.WaitBgsave => "wait_bgsave",
        ReplicaState.SendBulk => "send_bulk",
        _ => "online",
    };

    /// <summary>The offset the replica last acknowledged (REPLCONF ACK), 0 before its first.</summary>
    public long AckOffset => Interlocked.Read(ref _ackOffset);

    /// <summary>When it last acknowledged (or came online), in Unix seconds.</summary>
    public long AckUnixSeconds => Interlocked.Read(ref _ackUnixSeconds);

    /// <summary>True for a replica that used SYNC (Redis's <c>CLIENT_PRE_PSYNC</c>): it sends no ACKs, so it never times out on them.</summary>
    public bool PrePsync => _prePsync;

    /// <summary>Its address for INFO and ROLE: REPLCONF ip-address, else the connection's peer IP.</summary>
    public string Address
    {
        get
        {
            if (_handshake.IpAddress != null) return _handshake.IpAddress;
            string remote = _client.RemoteAddress;
            int colon = remote.LastIndexOf(':');
            string ip = colon > 0 ? remote[..colon] : remote;
            if (ip.StartsWith('[') && ip.EndsWith(']')) ip = ip[1..^1];
            return ip.StartsWith("::ffff:", StringComparison.Ordinal) ? ip["::ffff:".Length..] : ip;
        }
    }

    /// <summary>REPLCONF listening-port (0 when not sent).</summary>
    public long ListeningPort => _handshake.ListeningPort;

    /// <summary>The replica's name in logs (<c>ip:port</c>).</summary>
    public string Name => $"{Address}:{ListeningPort}";

    /// <summary>Closes the link (REPLICAOF, overrun, timeout, shutdown); the connection ends.</summary>
    public void Close()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _client.Close();
    }

    /// <summary>Records REPLCONF ACK <paramref name="offset"/> (Redis's <c>replconfCommand</c> ack branch).</summary>
    internal void Ack(long offset)
    {
        long current;
        while ((current = Interlocked.Read(ref _ackOffset)) < offset && Interlocked.CompareExchange(ref _ackOffset, offset, current) != current)
        {
        }
        Interlocked.Exchange(ref _ackUnixSeconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        _firstAck.TrySetResult();
        _state.OnAck();
    }

    /// <summary>Serves the link until either side closes it.</summary>
    internal async Task RunAsync(PipeReader input, PipeWriter output, CancellationToken cancellation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _closed.Token);
        CancellationToken token = linked.Token;
        Task reading = ReadAcksAsync(input, token);
        try
        {
            if (_fullSync)
            {
                await FullSyncAsync(output, reading, token).ConfigureAwait(false);
            }
            else
            {
                WriteAscii(output, _partialReply);
                await output.FlushAsync(token).ConfigureAwait(false);
            }
            await StreamAsync(output, reading, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException
                                      or Microsoft.AspNetCore.Connections.ConnectionResetException or RdbLoadException)
        {
            _client.Server.Logger.LogInformation("Connection with replica {Replica} lost: {Reason}", Name, e.Message);
        }
        finally
        {
            if (Reader != null) _state.Buffer?.Detach(Reader);
            _state.RemoveReplica(this);
            _closed.Cancel();
            try
            {
                await reading.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException
                                          or Microsoft.AspNetCore.Connections.ConnectionResetException)
            {
            }
        }
    }

    private async Task FullSyncAsync(PipeWriter output, Task reading, CancellationToken token)
    {
        RespServer server = _client.Server;
        bool diskless = _handshake.CapaEof && _state.Setting("repl-diskless-sync") == "yes";
        if (diskless)
        {
            // repl-diskless-sync-delay: wait for more replicas to arrive (Redis then serves them all from one child; RespKv takes a
            // snapshot per replica, which costs no fork).
            int delay = _state.ParseInt("repl-diskless-sync-delay", 5);
            if (delay > 0) await Task.WhenAny(Task.Delay(delay * 1000, token), reading).ConfigureAwait(false);
            token.ThrowIfCancellationRequested();
            if (reading.IsCompleted) throw new IOException("the replica closed the connection");
        }
        server.Logger.LogInformation("Starting BGSAVE for SYNC with target: {Target}", diskless ? "replicas sockets" : "disk");
        // Every shard locked for the collection: never on a thread that could hold one (this is the connection's loop).
        (Persistence.KeyspaceSnapshot snapshot, string replId, long offset, ReplicationBuffer.Reader reader) =
            await Task.Run(_state.TakeSnapshot, token).ConfigureAwait(false);
        Reader = reader;
        if (!_prePsync)
        {
            WriteAscii(output, $"+FULLRESYNC {replId} {offset.ToString(CultureInfo.InvariantCulture)}\r\n");
            await output.FlushAsync(token).ConfigureAwait(false);
        }
        var options = RdbWriteOptions.From(server.Options, server.Keyspace.Lifetime,
            replication: new RdbReplicationInfo(StreamDb: 0, ReplId: replId, Offset: offset));
        if (diskless)
        {
            _replState = ReplicaState.SendBulk;
            string mark = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
            WriteAscii(output, "$EOF:" + mark + "\r\n");
            Stream socket = output.AsStream(leaveOpen: true);
            RdbWriteResult written = await Task.Factory.StartNew(() => RdbFileWriter.Write(snapshot, socket, options), token,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            WriteAscii(output, mark);
            await output.FlushAsync(token).ConfigureAwait(false);
            server.Logger.LogInformation("Diskless sync to replica {Replica}: {Keys} keys, {Bytes} bytes; waiting for its first ACK", Name, written.Keys, written.Bytes);
            // Redis 7.0's repl_start_cmd_stream_on_ack: the replica reads the RDB up to the end mark in blocks, so no stream
            // byte may follow the mark until it has loaded and acknowledged.
            await Task.WhenAny(_firstAck.Task, reading, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false);
            token.ThrowIfCancellationRequested();
            if (!_firstAck.Task.IsCompleted && !_prePsync) throw new IOException("the replica closed the connection before acknowledging");
        }
        else
        {
            string path = Path.Combine(server.Options.Dir, $"temp-repl-{Environment.ProcessId}-{_client.Id}.rdb");
            try
            {
                Directory.CreateDirectory(server.Options.Dir);
                Task<RdbWriteResult> saving = Task.Factory.StartNew(() =>
                {
                    using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
                    return RdbFileWriter.Write(snapshot, file, options);
                }, token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                // The replica waits for the bulk: a newline each second keeps its link alive (Redis's replicationCron).
                while (await Task.WhenAny(saving, Task.Delay(1000, token)).ConfigureAwait(false) != saving)
                {
                    output.Write("\n"u8);
                    await output.FlushAsync(token).ConfigureAwait(false);
                }
                RdbWriteResult written = await saving.ConfigureAwait(false);
                _replState = ReplicaState.SendBulk;
                WriteAscii(output, $"${written.Bytes.ToString(CultureInfo.InvariantCulture)}\r\n");
                await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
                {
                    while (true)
                    {
                        Memory<byte> memory = output.GetMemory(64 * 1024);
                        int n = await file.ReadAsync(memory, token).ConfigureAwait(false);
                        if (n == 0) break;
                        output.Advance(n);
                        FlushResult flushed = await output.FlushAsync(token).ConfigureAwait(false);
                        if (flushed.IsCompleted || flushed.IsCanceled) throw new IOException("the replica closed the connection");
                    }
                }
                server.Logger.LogInformation("Synchronization with replica {Replica}: {Keys} keys, {Bytes} bytes sent from disk", Name, written.Keys, written.Bytes);
            }
            finally
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    server.Logger.LogWarning("Could not remove the temporary replication RDB {Path}: {Reason}", path, e.Message);
                }
            }
        }
        Interlocked.Exchange(ref _ackUnixSeconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        _replState = ReplicaState.Online;
        server.Logger.LogInformation("Synchronization with replica {Replica} succeeded", Name);
    }

    private async Task StreamAsync(PipeWriter output, Task reading, CancellationToken token)
    {
        ReplicationBuffer buffer = _state.Buffer ?? throw new InvalidOperationException("the replication backlog was freed");
        ReplicationBuffer.Reader reader = Reader!;
        const int flushBytes = 64 * 1024;
        int unflushed = 0;
        while (!token.IsCancellationRequested)
        {
            // The transport's own pooled segment (no size hint: nothing is allocated per read); flushed every 64 KB and when idle.
            int n = buffer.Read(reader, output.GetSpan());
            if (n < 0) throw new IOException("the replica fell behind beyond client-output-buffer-limit replica");
            if (n > 0)
            {
                output.Advance(n);
                unflushed += n;
                if (unflushed < flushBytes && reader.Position < buffer.End) continue;
                unflushed = 0;
                FlushResult flushed = await output.FlushAsync(token).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled) return;
                continue;
            }
            Task data = buffer.WaitForData(reader);
            if (!data.IsCompleted) await Task.WhenAny(data, reading, Task.Delay(Timeout.Infinite, token)).ConfigureAwait(false);
            if (reading.IsCompleted) return;
        }
    }

    /// <summary>Reads what the replica sends: <c>REPLCONF ACK &lt;offset&gt;</c> (anything else is ignored, as Redis replies nothing to a replica).</summary>
    private async Task ReadAcksAsync(PipeReader input, CancellationToken token)
    {
        var parser = new RespParser();
        while (!token.IsCancellationRequested)
        {
            ReadResult result = await input.ReadAsync(token).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (true)
            {
                ParseStatus status = parser.TryParse(buffer, out long consumed, out CommandArgs args, out string? error);
                if (status == ParseStatus.Incomplete) break;
                if (status != ParseStatus.Command && status != ParseStatus.Empty) throw new IOException("protocol error from replica: " + error);
                if (status == ParseStatus.Command && args.Count >= 3 && args.Is(0, "REPLCONF"u8) && args.Is(1, "ACK"u8)
                    && RespInteger.TryParse(args[2], out long offset))
                    Ack(offset);
                buffer = buffer.Slice(consumed);
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled) return;
        }
    }

    private static void WriteAscii(PipeWriter output, string text)
    {
        Span<byte> span = output.GetSpan(text.Length);
        int n = Encoding.ASCII.GetBytes(text, span);
        output.Advance(n);
    }
}
