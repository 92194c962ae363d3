using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

// Transaction load generator (redis-benchmark cannot group commands): N connections, each sending
// "MULTI; SET key:<r> v; SET key:<r> v; INCR counter:<r>; EXEC" as one write (random keys from a
// keyspace like redis-benchmark -r), waiting for the whole reply, then the next transaction.
// Every reply is checked byte for byte (+OK +QUEUED×3, then *3 +OK +OK :n).
// Prints: "<label>: <tx/s> transactions/s (<commands/s> commands/s), <clients> clients, <n> transactions".
//
// Usage: respkv-txnload --port P [--host 127.0.0.1] [--clients 50] [--transactions 100000]
//                       [--keyspace 100000] [--label name]
string host = "127.0.0.1", label = "server";
int port = 6379, clients = 50, transactions = 100_000, keyspace = 100_000;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    string value = args[i + 1];
    switch (args[i])
    {
        case "--host": host = value; break;
        case "--port": port = int.Parse(value); break;
        case "--clients": clients = int.Parse(value); break;
        case "--transactions": transactions = int.Parse(value); break;
        case "--keyspace": keyspace = int.Parse(value); break;
        case "--label": label = value; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

int remaining = transactions;
var sockets = new Socket[clients];
for (int c = 0; c < clients; c++)
{
    sockets[c] = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    await sockets[c].ConnectAsync(host, port);
}
var clock = Stopwatch.StartNew();
await Task.WhenAll(sockets.Select((s, c) => RunClient(s, c)));
clock.Stop();
foreach (Socket s in sockets) s.Dispose();
double perSecond = transactions / clock.Elapsed.TotalSeconds;
Console.WriteLine($"{label}: {perSecond:F0} transactions/s ({perSecond * 5:F0} commands/s), {clients} clients, {transactions} transactions");
return 0;

async Task RunClient(Socket socket, int id)
{
    var random = new Random(id);
    byte[] receive = new byte[4096];
    byte[] value = Encoding.ASCII.GetBytes(new string('x', 3));
    byte[] expectedStart = "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n:"u8.ToArray();
    var request = new MemoryStream();
    while (Interlocked.Decrement(ref remaining) >= 0)
    {
        request.SetLength(0);
        Command(request, "MULTI");
        Command(request, "SET", $"key:{random.Next(keyspace):D12}", "xxx");
        Command(request, "SET", $"key:{random.Next(keyspace):D12}", "xxx");
        Command(request, "INCR", $"counter:{random.Next(keyspace):D12}");
        Command(request, "EXEC");
        await socket.SendAsync(request.GetBuffer().AsMemory(0, (int)request.Length), SocketFlags.None);
        // The reply has exactly 8 lines and no bulk payload.
        int length = 0, lines = 0;
        while (lines < 8)
        {
            int n = await socket.ReceiveAsync(receive.AsMemory(length), SocketFlags.None);
            if (n == 0) throw new IOException("server closed the connection");
            for (int i = length; i < length + n; i++) if (receive[i] == '\n') lines++;
            length += n;
        }
        if (!receive.AsSpan(0, length).StartsWith(expectedStart))
            throw new InvalidDataException("unexpected reply: " + Encoding.ASCII.GetString(receive, 0, length));
    }
}

static void Command(MemoryStream output, params string[] parts)
{
    var sb = new StringBuilder();
    sb.Append('*').Append(parts.Length).Append("\r\n");
    foreach (string p in parts) sb.Append('$').Append(p.Length).Append("\r\n").Append(p).Append("\r\n");
    output.Write(Encoding.ASCII.GetBytes(sb.ToString()));
}
