using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace RespKv.Server;

/// <summary>
/// The TCP transports a <see cref="RespKvHost"/> can run its connections on (issue 19, point 4: the transport chosen by
/// measurement). All three hand the same <see cref="IDuplexPipe"/> to Kestrel's connection pipeline (TLS middleware, then
/// <see cref="RespConnectionHandler"/>), so nothing above the socket changes. Selected by the environment variable
/// <c>RESPKV_TRANSPORT</c> (<see cref="TransportSelection.EnvironmentVariable"/>): <c>kestrel</c> (the default, the one kept),
/// <c>pipelines-sockets</c> or <c>socket-loop</c>. bench/PROFILE.md gives the side-by-side figures.
/// </summary>
public enum TransportKind
{
    /// <summary>Kestrel's socket transport (<c>UseSockets</c>) with inline scheduling and zero-byte reads: the default.</summary>
    Kestrel,

    /// <summary>Pipelines.Sockets.Unofficial 2.2.16's <c>SocketConnection</c> (StackExchange.Redis's transport), inline reads and writes.</summary>
    PipelinesSockets,

    /// <summary>RespKv's own loop over <see cref="Socket"/>: one receive straight into the input pipe's memory (no zero-byte read), one send per flush.</summary>
    SocketLoop,
}

/// <summary>Reads the transport choice (<see cref="TransportKind"/>) from the environment.</summary>
public static class TransportSelection
{
    /// <summary>The variable naming the transport: <c>kestrel</c>, <c>pipelines-sockets</c> or <c>socket-loop</c>; unset means <c>kestrel</c>.</summary>
    public const string EnvironmentVariable = "RESPKV_TRANSPORT";

    /// <summary>
    /// The transport <paramref name="value"/> names (case-insensitive; null or empty: <see cref="TransportKind.Kestrel"/>).
    /// Throws <see cref="ArgumentException"/> for any other value, so a typo does not silently measure the default.
    /// </summary>
    public static TransportKind Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "kestrel" => TransportKind.Kestrel,
        "pipelines-sockets" => TransportKind.PipelinesSockets,
        "socket-loop" => TransportKind.SocketLoop,
        _ => throw new ArgumentException($"{EnvironmentVariable} must be kestrel, pipelines-sockets or socket-loop, not '{value}'"),
    };

    /// <summary>The transport <c>RESPKV_TRANSPORT</c> selects.</summary>
    public static TransportKind FromEnvironment() => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
}

/// <summary>
/// Kestrel's transport seam (<see cref="IConnectionListenerFactory"/>) for <see cref="TransportKind.PipelinesSockets"/> and
/// <see cref="TransportKind.SocketLoop"/>: binds a listening socket as Kestrel's own socket transport does (backlog 512,
/// dual-mode for <c>::</c>, <see cref="AddressInUseException"/> when the port is taken) and accepts connections with
/// <c>TCP_NODELAY</c>. Pipe limits match Kestrel's defaults: reading pauses at 1 MB unread (512 KB to resume), a flush
/// waits beyond 64 KB unsent (32 KB to resume); pipe continuations run inline, on the socket's completion thread.
/// </summary>
internal sealed class SocketListenerFactory(TransportKind kind) : IConnectionListenerFactory
{
    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endpoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
        try
        {
            socket.Bind(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(e.Message, e);
        }
        socket.Listen(512);
        return ValueTask.FromResult<IConnectionListener>(new SocketListener(kind, socket));
    }

    private sealed class SocketListener(TransportKind kind, Socket socket) : IConnectionListener
    {
        private long _nextId;

        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket accepted;
                try
                {
                    accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException
                                              || e is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
                {
                    return null; // unbound: Kestrel stops accepting
                }
                catch (SocketException)
                {
                    continue; // the peer reset before the accept completed (ECONNABORTED): take the next one
                }
                accepted.NoDelay = true;
                string id = "respkv-" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return kind == TransportKind.PipelinesSockets
                    ? new PipelinesSocketsConnection(accepted, id)
                    : new SocketLoopConnection(accepted, id);
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Kestrel's default limits (1 MB unread input, 64 KB unsent output), continuations inline.</summary>
    internal static PipeOptions InputOptions { get; } = new(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19,
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    internal static PipeOptions OutputOptions { get; } = new(pauseWriterThreshold: 64 << 10, resumeWriterThreshold: 32 << 10,
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
}

/// <summary>
/// What both alternative transports share as a Kestrel <see cref="ConnectionContext"/>: the socket, the endpoints, a
/// feature collection Kestrel fills, <see cref="ConnectionClosed"/> (cancelled once the peer's side ended) and
/// <see cref="Abort"/>.
/// </summary>
internal abstract class SocketConnectionContext : ConnectionContext
{
    private readonly CancellationTokenSource _closed = new();

    protected SocketConnectionContext(Socket socket, string id)
    {
        Socket = socket;
        ConnectionId = id;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionClosed = _closed.Token;
    }

    protected Socket Socket { get; }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; } = null!;

    public override CancellationToken ConnectionClosed { get; set; }

    /// <summary>Signals <see cref="ConnectionClosed"/> off the calling thread (its callbacks may run long).</summary>
    protected void FireClosed() =>
        ThreadPool.UnsafeQueueUserWorkItem(static closed =>
        {
            try { closed.Cancel(); }
            catch (ObjectDisposedException) { }
        }, _closed, preferLocal: false);

    public override void Abort(ConnectionAbortedException abortReason)
    {
        try { Socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }
}

/// <summary><see cref="TransportKind.PipelinesSockets"/>: the connection is Pipelines.Sockets.Unofficial's <c>SocketConnection</c>.</summary>
internal sealed class PipelinesSocketsConnection : SocketConnectionContext
{
    private readonly Pipelines.Sockets.Unofficial.SocketConnection _connection;

    public PipelinesSocketsConnection(Socket socket, string id) : base(socket, id)
    {
        _connection = Pipelines.Sockets.Unofficial.SocketConnection.Create(socket, SocketListenerFactory.OutputOptions,
            SocketListenerFactory.InputOptions,
            Pipelines.Sockets.Unofficial.SocketConnectionOptions.InlineReads | Pipelines.Sockets.Unofficial.SocketConnectionOptions.InlineWrites
            | Pipelines.Sockets.Unofficial.SocketConnectionOptions.ZeroLengthReads, id);
        Transport = _connection;
    }

    public override ValueTask DisposeAsync()
    {
        _connection.Dispose();
        FireClosed();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// <see cref="TransportKind.SocketLoop"/>: two loops over the socket. Receive: <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/>
/// straight into the input pipe's next buffer (at least 4 KB), flushed to the session, which runs inline on the socket's
/// completion thread. Send: each flush of the session's output pipe is sent with one send (a gather send when the
/// replies span several buffers).
/// </summary>
internal sealed class SocketLoopConnection : SocketConnectionContext
{
    private const int MinReceiveBytes = 4096;

    private readonly Pipe _input = new(SocketListenerFactory.InputOptions);
    private readonly Pipe _output = new(SocketListenerFactory.OutputOptions);
    private readonly Task _receiving;
    private readonly Task _sending;
    private readonly List<ArraySegment<byte>> _gather = new();

    public SocketLoopConnection(Socket socket, string id) : base(socket, id)
    {
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        _receiving = ReceiveLoop();
        _sending = SendLoop();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    private async Task ReceiveLoop()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = _input.Writer.GetMemory(MinReceiveBytes);
                int received = await Socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0) break;
                _input.Writer.Advance(received);
                FlushResult flush = await _input.Writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled) break;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
                                            or SocketError.OperationAborted or SocketError.Interrupted)
        {
            error = new ConnectionResetException(e.Message, e);
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            error = e;
        }
        await _input.Writer.CompleteAsync(error).ConfigureAwait(false);
        FireClosed();
    }

    private async Task SendLoop()
    {
        try
        {
            while (true)
            {
                ReadResult read = await _output.Reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = read.Buffer;
                if (read.IsCanceled) break;
                if (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment) await SendAll(buffer.First).ConfigureAwait(false);
                    else await SendGathered(buffer).ConfigureAwait(false);
                }
                _output.Reader.AdvanceTo(buffer.End);
                if (read.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ConnectionAbortedException)
        {
            // The peer went away (the session sees its input end), or the session aborted the connection (output
            // buffer limit): what was not sent is dropped.
        }
        await _output.Reader.CompleteAsync().ConfigureAwait(false);
        try { Socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private async ValueTask SendAll(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await Socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    private async ValueTask SendGathered(ReadOnlySequence<byte> buffer)
    {
        _gather.Clear();
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
            {
                // Not array-backed (a custom pool): send segment by segment.
                _gather.Clear();
                foreach (ReadOnlyMemory<byte> each in buffer) await SendAll(each).ConfigureAwait(false);
                return;
            }
            _gather.Add(array);
        }
        long left = buffer.Length;
        while (left > 0)
        {
            int sent = await Socket.SendAsync(_gather, SocketFlags.None).ConfigureAwait(false);
            left -= sent;
            if (left == 0) break;
            // A partial gather send: drop what went out and send the rest.
            while (sent > 0)
            {
                ArraySegment<byte> first = _gather[0];
                if (sent >= first.Count)
                {
                    sent -= first.Count;
                    _gather.RemoveAt(0);
                }
                else
                {
                    _gather[0] = first[sent..];
                    sent = 0;
                }
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        // The session completed its side of both pipes (a no-op here then): the send loop sends what is left and shuts
        // the socket down, which ends the receive loop; a peer that stops reading gets 5 s before the socket closes.
        _output.Writer.Complete();
        _input.Reader.Complete();
        try
        {
            await _sending.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        try { Socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        Socket.Dispose();
        try
        {
            await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }
}
