using System.Net.Sockets;
using System.Text;
using RespKv.Tests.Support;

namespace RespKv.Tests;

public sealed partial class ExecutableTests
{
    /// <summary>
    /// A PUBLISH fanned out to 10,000 subscribers, on the executable (a process of its own, so that neither process holds
    /// more than about 10,000 of the 20,000 file descriptors a process may open here): every subscriber receives every
    /// message, in publish order; each PUBLISH returns 10,000; and another client's commands are answered between the
    /// publishes (within the test client's 10 s timeout), so the fan-out does not stall other clients.
    /// </summary>
    [Fact]
    public void FanOutToTenThousandSubscribersReachesEveryoneWhileOtherClientsGoOn()
    {
        const int subscribers = 10_000, messages = 20;
        using var server = ServerProcess.Start("--port", "0", "--maxclients", "10100", "--appendonly", "no");
        int port = server.WaitUntilReady();
        var sockets = new List<Socket>(subscribers);
        try
        {
            byte[] subscribe = RespTestClient.Encode("SUBSCRIBE", "fan");
            for (int i = 0; i < subscribers; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
                sockets.Add(s);
                s.Connect("127.0.0.1", port);
                s.Send(subscribe);
            }
            byte[] confirmation = Encoding.ASCII.GetBytes("*3\r\n$9\r\nsubscribe\r\n$3\r\nfan\r\n:1\r\n");
            foreach (Socket s in sockets) Assert.Equal(confirmation, ReadExactly(s, confirmation.Length));

            using var publisher = new RespTestClient(port);
            using var other = new RespTestClient(port);
            Assert.Equal($"*2\r\n$3\r\nfan\r\n:{subscribers}\r\n", publisher.Call("PUBSUB", "NUMSUB", "fan"));
            var expected = new StringBuilder();
            for (int m = 0; m < messages; m++)
            {
                string payload = $"message-{m:D2}";
                Assert.Equal($":{subscribers}\r\n", publisher.Call("PUBLISH", "fan", payload));
                Assert.Equal("+OK\r\n", other.Call("SET", "while-fanning-out", payload));
                Assert.Equal($"${payload.Length}\r\n{payload}\r\n", other.Call("GET", "while-fanning-out"));
                expected.Append($"*3\r\n$7\r\nmessage\r\n$3\r\nfan\r\n${payload.Length}\r\n{payload}\r\n");
            }
            byte[] all = Encoding.ASCII.GetBytes(expected.ToString());
            foreach (Socket s in sockets) Assert.Equal(all, ReadExactly(s, all.Length));
        }
        finally
        {
            foreach (Socket s in sockets) s.Dispose();
        }
    }

    private static byte[] ReadExactly(Socket socket, int length)
    {
        byte[] buffer = new byte[length];
        for (int read = 0; read < length;)
        {
            int n = socket.Receive(buffer, read, length - read, SocketFlags.None);
            if (n == 0) throw new IOException($"connection closed after {read} of {length} bytes");
            read += n;
        }
        return buffer;
    }
}
