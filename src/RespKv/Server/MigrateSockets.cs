using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RespKv.Server;

/// <summary>
/// MIGRATE's connections to its targets, kept open between commands as Redis 7.0's <c>migrate_cached_sockets</c>
/// (<c>cluster.c</c> <c>migrateGetSocket</c>, <c>migrateCloseSocket</c>, <c>migrateCloseTimedoutSockets</c>): one per
/// <c>host:port</c> as the command spells them (the two arguments joined by <c>:</c>, so <c>localhost</c> and <c>127.0.0.1</c>
/// are two entries), at most <see cref="MaxItems"/> (a new one then drops a random idle one), each remembering the database
/// it last selected on the target; the server cron closes those unused for more than <see cref="IdleSeconds"/> seconds.
/// INFO stats' <c>migrate_cached_sockets</c> is <see cref="Count"/>.
/// <para>
/// Redis runs one command at a time; RespKv runs clients in parallel, so a cached connection is lent to one MIGRATE at a time
/// (<see cref="MigrateConnection.InUse"/>): a second MIGRATE to the same target meanwhile opens a connection of its own, closed
/// when that command ends. Thread-safe.
/// </para>
/// </summary>
public sealed class MigrateSockets
{
    /// <summary>Most cached connections (Redis's <c>MIGRATE_SOCKET_CACHE_ITEMS</c>).</summary>
    public const int MaxItems = 64;

    /// <summary>A cached connection unused for more than this many seconds is closed (Redis's <c>MIGRATE_SOCKET_CACHE_TTL</c>).</summary>
    public const int IdleSeconds = 10;

    private readonly Dictionary<string, MigrateConnection> _cache = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _count;

    /// <summary>Cached connections (INFO stats <c>migrate_cached_sockets</c>), those lent to a running MIGRATE included.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The clock the idle time is measured with, in whole seconds (Redis compares <c>server.unixtime</c>); tests may move it.</summary>
    internal Func<long> Clock { get; set; } = static () => Environment.TickCount64 / 1000;

    private long NowSeconds => Clock();

    /// <summary>
    /// Redis's <c>migrateGetSocket</c>: the cached connection to <paramref name="host"/>:<paramref name="port"/>, lent to the
    /// caller (its last-use time refreshed), or a new one connected within <paramref name="timeoutMs"/> and cached. Null when
    /// the connection cannot even be started (the host does not resolve, the port is negative): MIGRATE then answers
    /// <c>-IOERR error or timeout connecting to the client</c>. A connection refused or not established in time is returned
    /// as Redis's blocking connect returns it (connected as far as it knows): its first write fails. Give it back with
    /// <see cref="Return"/> or <see cref="Close"/>.
    /// </summary>
    public MigrateConnection? Get(ReadOnlySpan<byte> host, ReadOnlySpan<byte> port, long timeoutMs)
    {
        string name = Encoding.Latin1.GetString(host) + ":" + Encoding.Latin1.GetString(port);
        lock (_gate)
        {
            if (_cache.TryGetValue(name, out MigrateConnection? cached) && !cached.InUse)
            {
                cached.InUse = true;
                cached.LastUseSeconds = NowSeconds;
                return cached;
            }
        }
        MigrateConnection? connection = MigrateConnection.Connect(name, Encoding.Latin1.GetString(host), ParsePort(port), timeoutMs);
        if (connection == null) return null;
        connection.InUse = true;
        connection.LastUseSeconds = NowSeconds;
        lock (_gate)
        {
            if (_cache.ContainsKey(name)) return connection; // another MIGRATE to this target holds the cached one: this one is private
            if (_cache.Count >= MaxItems && !DropRandomIdle()) return connection;
            _cache.Add(name, connection);
            connection.Cached = true;
            _count = _cache.Count;
        }
        return connection;
    }

    /// <summary>Ends a MIGRATE's use of <paramref name="connection"/>: a cached one stays for the next, a private one is closed.</summary>
    public void Return(MigrateConnection connection)
    {
        lock (_gate)
        {
            connection.InUse = false;
            if (connection.Cached) return;
        }
        connection.Dispose();
    }

    /// <summary>Redis's <c>migrateCloseSocket</c>: closes <paramref name="connection"/> (after a socket error) and forgets it, so the next MIGRATE connects again.</summary>
    public void Close(MigrateConnection connection)
    {
        lock (_gate)
        {
            connection.InUse = false;
            if (connection.Cached && _cache.Remove(connection.Name)) _count = _cache.Count;
            connection.Cached = false;
        }
        connection.Dispose();
    }

    /// <summary>Redis's <c>migrateCloseTimedoutSockets</c> (serverCron, once a second): closes cached connections unused for more than <see cref="IdleSeconds"/> seconds.</summary>
    public void CloseIdle()
    {
        if (Count == 0) return;
        long now = NowSeconds;
        List<MigrateConnection>? closed = null;
        lock (_gate)
        {
            foreach (MigrateConnection c in _cache.Values)
                if (!c.InUse && now - c.LastUseSeconds > IdleSeconds) (closed ??= []).Add(c);
            if (closed == null) return;
            foreach (MigrateConnection c in closed)
            {
                _cache.Remove(c.Name);
                c.Cached = false;
            }
            _count = _cache.Count;
        }
        foreach (MigrateConnection c in closed) c.Dispose();
    }

    /// <summary>Closes every cached connection (the server stops).</summary>
    public void CloseAll()
    {
        MigrateConnection[] all;
        lock (_gate)
        {
            all = [.. _cache.Values];
            _cache.Clear();
            _count = 0;
            foreach (MigrateConnection c in all) c.Cached = false;
        }
        foreach (MigrateConnection c in all)
            if (!c.InUse) c.Dispose();
    }

    /// <summary>The cache is full: drops one idle entry at random (Redis's <c>dictGetRandomKey</c>); false when all are in use. Under <see cref="_gate"/>.</summary>
    private bool DropRandomIdle()
    {
        MigrateConnection[] idle = [.. _cache.Values.Where(c => !c.InUse)];
        if (idle.Length == 0) return false;
        MigrateConnection victim = idle[Random.Shared.Next(idle.Length)];
        _cache.Remove(victim.Name);
        victim.Cached = false;
        victim.Dispose();
        return true;
    }

    /// <summary>
    /// The port as Redis reads it, <c>atoi(port)</c> (leading blanks, a sign, digits up to the first other character; 0 when
    /// none; <c>strtol</c>'s saturation then C's truncation to int), as a TCP port the way <c>getaddrinfo</c> takes the
    /// decimal text: a negative number is not a service (-1 here: the connection cannot start), a larger one wraps to 16 bits.
    /// </summary>
    internal static int ParsePort(ReadOnlySpan<byte> port)
    {
        int i = 0;
        while (i < port.Length && port[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') i++;
        bool negative = false;
        if (i < port.Length && port[i] is (byte)'+' or (byte)'-') negative = port[i++] == '-';
        long value = 0;
        bool saturated = false;
        for (; i < port.Length && port[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            int digit = port[i] - '0';
            if (value > (long.MaxValue - digit) / 10)
            {
                saturated = true;
                break;
            }
            value = value * 10 + digit;
        }
        if (negative) value = saturated ? long.MinValue : -value;
        else if (saturated) value = long.MaxValue;
        int asInt = unchecked((int)value);
        return asInt < 0 ? -1 : asInt & 0xFFFF;
    }
}

/// <summary>
/// One MIGRATE connection (Redis's <c>migrateCachedSocket</c>): a blocking TCP socket, the database last selected through it
/// (<see cref="LastDatabase"/>, -1 for none: the next MIGRATE sends SELECT), and the synchronous I/O Redis's <c>syncio.c</c>
/// does on it: whole writes and reply lines, each within a timeout in milliseconds.
/// </summary>
public sealed class MigrateConnection : IDisposable
{
    /// <summary>Longest reply line read, in bytes (Redis reads each into a 1024-byte buffer: 1023 and the terminator).</summary>
    public const int MaxLineBytes = 1023;

    private readonly Socket? _socket;
    private readonly SocketError _connectError;
    private readonly byte[] _input = new byte[4096];
    private int _inputStart, _inputEnd;

    private MigrateConnection(string name, Socket? socket, SocketError connectError)
    {
        Name = name;
        _socket = socket;
        _connectError = connectError;
    }

    /// <summary>The cache's name of the target: <c>host:port</c> as MIGRATE's arguments spell them.</summary>
    public string Name { get; }

    /// <summary>The database last selected on the target through this connection, or -1 (Redis's <c>last_dbid</c>).</summary>
    public long LastDatabase { get; set; } = -1;

    /// <summary>True while a MIGRATE uses it.</summary>
    internal bool InUse { get; set; }

    /// <summary>True while it is in the cache (a private connection is closed after its one use).</summary>
    internal bool Cached { get; set; }

    /// <summary>When a MIGRATE last took it (seconds of <see cref="MigrateSockets.Clock"/>).</summary>
    internal long LastUseSeconds { get; set; }

    /// <summary>True when the last failed write or read failed by running out of time (Redis's <c>errno == ETIMEDOUT</c>: MIGRATE does not retry then).</summary>
    public bool TimedOut { get; private set; }

    /// <summary>
    /// Redis's <c>connBlockingConnect</c>: resolves <paramref name="host"/> (null when it does not resolve — an empty name
    /// or one with blanks included — or <paramref name="port"/> is -1) and starts a non-blocking connect to the first address that accepts the attempt, waiting
    /// up to <paramref name="timeoutMs"/> for it. As in Redis 7.0 a refusal or the wait running out is not reported here: the
    /// connection is returned and its first write fails (refused: a failure MIGRATE retries once; out of time: a timeout).
    /// </summary>
    internal static MigrateConnection? Connect(string name, string host, int port, long timeoutMs)
    {
        // getaddrinfo refuses an empty name and one with blanks or control characters (.NET would read "" as this host).
        if (port < 0 || host.Length == 0 || host.Any(c => c <= ' ' || c == '\x7f')) return null;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out IPAddress? literal) ? [literal] : Dns.GetHostAddresses(host);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return null;
        }
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Blocking = false;
                try
                {
                    socket.Connect(new IPEndPoint(address, port));
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
                {
                }
            }
            catch (SocketException)
            {
                // This address refused the attempt at once (anetTcpGenericConnect tries the next one).
                socket.Dispose();
                continue;
            }
            // Wait for the connect to finish (or fail) within the timeout; Redis ignores the outcome (aeWait).
            bool done = socket.Poll(Microseconds(timeoutMs), SelectMode.SelectWrite) || socket.Poll(0, SelectMode.SelectError);
            var error = done ? (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! : SocketError.TimedOut;
            if (error != SocketError.Success)
            {
                socket.Dispose();
                return new MigrateConnection(name, null, error);
            }
            socket.Blocking = true;
            socket.NoDelay = true;
            return new MigrateConnection(name, socket, SocketError.Success);
        }
        return null;
    }

    private static int Microseconds(long ms) => ms >= int.MaxValue / 1000 ? int.MaxValue : (int)ms * 1000;

    private static int Milliseconds(long ms) => ms >= int.MaxValue ? int.MaxValue : (int)ms;

    /// <summary>
    /// Redis's <c>connSyncWrite</c> of MIGRATE's whole request in 64 KB pieces, each within <paramref name="timeoutMs"/>: true
    /// when all of <paramref name="data"/> was written; false on an error or timeout (<see cref="TimedOut"/> tells which).
    /// </summary>
    public bool Write(ReadOnlySpan<byte> data, long timeoutMs)
    {
        TimedOut = false;
        if (_socket == null)
        {
            TimedOut = _connectError == SocketError.TimedOut;
            return false;
        }
        try
        {
            _socket.SendTimeout = Milliseconds(timeoutMs);
            while (!data.IsEmpty)
            {
                ReadOnlySpan<byte> piece = data[..Math.Min(data.Length, 64 * 1024)];
                while (!piece.IsEmpty)
                {
                    int n = _socket.Send(piece);
                    piece = piece[n..];
                    data = data[n..];
                }
            }
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return Failed(e);
        }
    }

    /// <summary>
    /// Redis's <c>connSyncReadLine</c>: reads one reply line into <paramref name="line"/>, waiting up to
    /// <paramref name="timeoutMs"/> for its bytes; <paramref name="length"/> is its length without the CR before its LF. A line
    /// longer than <see cref="MaxLineBytes"/> is cut there and its rest is read as the next line, as Redis's 1024-byte buffer
    /// does. Returns the bytes read before the LF (a CR included, as Redis's <c>syncReadLine</c> counts it: MIGRATE treats 0, a
    /// bare LF, as a failure), or -1 when the peer closed or the time ran out (<see cref="TimedOut"/>).
    /// </summary>
    public int ReadLine(Span<byte> line, long timeoutMs, out int length)
    {
        TimedOut = false;
        length = 0;
        if (_socket == null) return -1;
        int n = 0;
        int max = Math.Min(line.Length, MaxLineBytes);
        while (n < max)
        {
            if (_inputStart == _inputEnd && !Fill(timeoutMs)) return -1;
            byte b = _input[_inputStart++];
            if (b == (byte)'\n')
            {
                length = n > 0 && line[n - 1] == (byte)'\r' ? n - 1 : n;
                return n;
            }
            line[n++] = b;
        }
        length = n;
        return n;
    }

    private bool Fill(long timeoutMs)
    {
        try
        {
            _socket!.ReceiveTimeout = Milliseconds(timeoutMs);
            int read = _socket.Receive(_input);
            if (read == 0) return false;
            _inputStart = 0;
            _inputEnd = read;
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return Failed(e);
        }
    }

    /// <summary>A write or read failed: false, with <see cref="TimedOut"/> telling whether the time ran out.</summary>
    private bool Failed(Exception e)
    {
        TimedOut = e is SocketException { SocketErrorCode: SocketError.TimedOut };
        return false;
    }

    /// <inheritdoc />
    public void Dispose() => _socket?.Dispose();
}
