using System.Net.Sockets;
using System.Text;

namespace RespKv.Tests.Support;

/// <summary>
/// A minimal raw RESP client for exact-bytes tests: sends commands (as multibulk frames or raw bytes)
/// and reads back exactly one whole reply, returned as its raw bytes decoded as Latin-1 so that
/// <c>"$3\r\nabc\r\n"</c> compares literally. Every read has a timeout, so a hung server fails the test.
/// </summary>
public sealed class RespTestClient : IDisposable
{
    private static readonly Encoding Latin1 = Encoding.Latin1;
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>.</summary>
    public RespTestClient(int port, int timeoutMs = 10_000) : this("127.0.0.1", port, timeoutMs)
    {
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> (e.g. a non-loopback address of this machine).</summary>
    public RespTestClient(string host, int port, int timeoutMs = 10_000)
    {
        _tcp = new TcpClient { NoDelay = true };
        _tcp.Connect(host, port);
        _stream = _tcp.GetStream();
        _stream.ReadTimeout = timeoutMs;
        _stream.WriteTimeout = timeoutMs;
    }

    /// <summary>
    /// Connects to 127.0.0.1:<paramref name="port"/> over TLS: <paramref name="authenticate"/> runs the client handshake on the
    /// connection's stream (e.g. <c>ssl.AuthenticateAsClient(…)</c>) and the client then talks through that <see cref="System.Net.Security.SslStream"/>.
    /// </summary>
    public RespTestClient(int port, Action<System.Net.Security.SslStream> authenticate, int timeoutMs = 10_000)
    {
        _tcp = new TcpClient { NoDelay = true };
        _tcp.Connect("127.0.0.1", port);
        NetworkStream network = _tcp.GetStream();
        network.ReadTimeout = timeoutMs;
        network.WriteTimeout = timeoutMs;
        var ssl = new System.Net.Security.SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            authenticate(ssl);
        }
        catch
        {
            ssl.Dispose();
            _tcp.Dispose();
            throw;
        }
        ssl.ReadTimeout = timeoutMs;
        ssl.WriteTimeout = timeoutMs;
        _stream = ssl;
    }

    /// <summary>Encodes <paramref name="args"/> (Latin-1, so "\xff" is one byte) as a multibulk frame.</summary>
    public static byte[] Encode(params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (string a in args) sb.Append('$').Append(Latin1.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Latin1.GetBytes(sb.ToString());
    }

    /// <summary>Sends raw bytes.</summary>
    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    /// <summary>Sends raw text (Latin-1).</summary>
    public void SendRaw(string text) => SendRaw(Latin1.GetBytes(text));

    /// <summary>Sends one command and returns its whole reply's raw text.</summary>
    public string Call(params string[] args)
    {
        SendRaw(Encode(args));
        return ReadReply();
    }

    /// <summary>Reads one whole reply (nested aggregates included) and returns its raw text.</summary>
    public string ReadReply()
    {
        var sb = new StringBuilder();
        ReadValue(sb);
        return sb.ToString();
    }

    /// <summary>True when the server closed the connection (reads end of stream within the timeout).</summary>
    public bool IsClosedByServer()
    {
        try
        {
            if (_start < _end) return false;
            return _stream.Read(_buffer, 0, _buffer.Length) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private void ReadValue(StringBuilder sb)
    {
        string line = ReadLine();
        sb.Append(line).Append("\r\n");
        char type = line[0];
        switch (type)
        {
            case '$' or '=' or '!':
            {
                long n = long.Parse(line.AsSpan(1));
                if (n >= 0) sb.Append(ReadExactly((int)n + 2));
                break;
            }
            case '*' or '~' or '>' or '%' or '|':
            {
                long n = long.Parse(line.AsSpan(1));
                if (type is '%' or '|') n *= 2;
                for (long i = 0; i < n; i++) ReadValue(sb);
                break;
            }
        }
    }

    private string ReadLine()
    {
        while (true)
        {
            int i = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (i >= 0)
            {
                string line = Latin1.GetString(_buffer, _start, i - 1 - _start);
                _start = i + 1;
                return line;
            }
            Fill();
        }
    }

    private string ReadExactly(int count)
    {
        var sb = new StringBuilder(count);
        while (count > 0)
        {
            if (_start == _end) Fill();
            int n = Math.Min(count, _end - _start);
            sb.Append(Latin1.GetString(_buffer, _start, n));
            _start += n;
            count -= n;
        }
        return sb.ToString();
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new InvalidOperationException("reply line longer than the test client's buffer");
        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) throw new IOException("server closed the connection");
        _end += n;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}
