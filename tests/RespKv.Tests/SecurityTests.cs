using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.Logging;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Tests;

/// <summary>
/// Security defaults, every reply checked against redis-server 7.0.15: requirepass with AUTH / HELLO AUTH
/// (NOAUTH, WRONGPASS), the unauthenticated request limits, protected mode's DENIED, maxclients, the
/// normal clients' output-buffer limit, optional bind addresses, redis-cli -a and StackExchange.Redis with
/// a password, and passwords kept out of the log. Each test runs a private server.
/// </summary>
public sealed class SecurityTests
{
    private const string Password = "s3cret-pass";
    private const string NoAuth = "-NOAUTH Authentication required.\r\n";
    private const string WrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    private const string HelloNoAuth = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";

    private static Task<RespKvHost> StartWithPassword() => ServerFixture.StartFresh(o => o.RequirePass = Password);

    [Fact]
    public async Task EveryCommandButAuthHelloQuitAnswersNoAuthUntilAuthenticated()
    {
        await using RespKvHost host = await StartWithPassword();
        using var c = new RespTestClient(host.Port);
        Assert.Equal(NoAuth, c.Call("GET", "k"));
        Assert.Equal(NoAuth, c.Call("PING"));
        // Unknown commands and arity errors come first, as in Redis's processCommand.
        Assert.Equal("-ERR unknown command 'FOO', with args beginning with: \r\n", c.Call("FOO"));
        Assert.Equal("-ERR wrong number of arguments for 'get' command\r\n", c.Call("GET"));
        Assert.Equal("-ERR wrong number of arguments for 'auth' command\r\n", c.Call("AUTH"));
        Assert.Equal(WrongPass, c.Call("AUTH", "wrong"));
        Assert.Equal(WrongPass, c.Call("AUTH", "default", "wrong"));
        Assert.Equal(WrongPass, c.Call("AUTH", "DEFAULT", Password));
        Assert.Equal(WrongPass, c.Call("AUTH", "other", Password));
        Assert.Equal("-ERR syntax error\r\n", c.Call("AUTH", "a", "b", "c"));
        Assert.Equal(HelloNoAuth, c.Call("HELLO", "3"));
        Assert.Equal(HelloNoAuth, c.Call("HELLO"));
        Assert.Equal(WrongPass, c.Call("HELLO", "3", "AUTH", "default", "wrong"));
        Assert.Equal("-ERR Syntax error in HELLO option 'AUTH'\r\n", c.Call("HELLO", "3", "AUTH", "x"));
        Assert.Equal(NoAuth, c.Call("MULTI"));
        Assert.Equal("-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n", c.Call("EXEC"));
        Assert.Equal("+OK\r\n", c.Call("AUTH", Password));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
        Assert.Equal(WrongPass, c.Call("AUTH", "wrong"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task QuitNeedsNoAuthentication()
    {
        await using RespKvHost host = await StartWithPassword();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("QUIT"));
        Assert.True(c.IsClosedByServer());
    }

    [Fact]
    public async Task AuthWithUserNameAndHelloAuth()
    {
        await using RespKvHost host = await StartWithPassword();
        using (var c = new RespTestClient(host.Port))
        {
            Assert.Equal("+OK\r\n", c.Call("AUTH", "default", Password));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        using (var c = new RespTestClient(host.Port))
        {
            string hello = c.Call("HELLO", "3", "AUTH", "default", Password, "SETNAME", "sec");
            Assert.Matches(@"^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$6\r\n7\.0\.15\r\n\$5\r\nproto\r\n:3\r\n\$2\r\nid\r\n:\d+\r\n", hello);
            Assert.Equal("$3\r\nsec\r\n", c.Call("CLIENT", "GETNAME"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        using (var c = new RespTestClient(host.Port))
        {
            // Each HELLO option takes effect as it is read (Redis 7.0): AUTH succeeds before the bad option fails.
            Assert.Equal("-ERR Syntax error in HELLO option 'b'\r\n", c.Call("HELLO", "3", "AUTH", "default", Password, "SETNAME", "a", "b"));
            Assert.Equal("$1\r\na\r\n", c.Call("CLIENT", "GETNAME"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    [Fact]
    public async Task AuthWithoutAPasswordConfigured()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n", c.Call("AUTH", "x"));
        // The default user is "nopass": any password is accepted with its name.
        Assert.Equal("+OK\r\n", c.Call("AUTH", "default", "x"));
        Assert.Equal(WrongPass, c.Call("AUTH", "foo", "x"));
        Assert.Equal(WrongPass, c.Call("HELLO", "2", "AUTH", "foo", "x"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetRequirepassAppliesToNewConnections()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("*2\r\n$11\r\nrequirepass\r\n$0\r\n\r\n", admin.Call("CONFIG", "GET", "requirepass"));
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "requirepass", Password));
        Assert.Equal($"*2\r\n$11\r\nrequirepass\r\n${Password.Length}\r\n{Password}\r\n", admin.Call("CONFIG", "GET", "requirepass"));
        // A connection made while there was no password stays authenticated, as in Redis.
        Assert.Equal("+PONG\r\n", admin.Call("PING"));
        using (var c = new RespTestClient(host.Port))
        {
            Assert.Equal(NoAuth, c.Call("PING"));
            Assert.Equal("+OK\r\n", c.Call("AUTH", Password));
            Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "requirepass", ""));
        }
        using var d = new RespTestClient(host.Port);
        Assert.Equal("+PONG\r\n", d.Call("PING"));
    }

    [Fact]
    public async Task UnauthenticatedClientsMaySendTenArgumentsAndSixteenKilobyteBulks()
    {
        await using RespKvHost host = await StartWithPassword();
        using (var c = new RespTestClient(host.Port))
        {
            c.SendRaw("*11\r\n");
            Assert.Equal("-ERR Protocol error: unauthenticated multibulk length\r\n", c.ReadReply());
            Assert.True(c.IsClosedByServer());
        }
        using (var c = new RespTestClient(host.Port))
        {
            c.SendRaw("*2\r\n$3\r\nGET\r\n$16385\r\n");
            Assert.Equal("-ERR Protocol error: unauthenticated bulk length\r\n", c.ReadReply());
            Assert.True(c.IsClosedByServer());
        }
        using (var c = new RespTestClient(host.Port))
        {
            string[] ten = ["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e"];
            Assert.Equal(NoAuth, c.Call(ten));
            Assert.Equal(NoAuth, c.Call("GET", new string('x', 16384)));
            Assert.Equal("+OK\r\n", c.Call("AUTH", Password));
            Assert.Equal("+OK\r\n", c.Call("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"));
            Assert.Equal("$-1\r\n", c.Call("GET", new string('x', 16385)));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
    }

    /// <summary>A non-loopback IPv4 address of this machine (e.g. its eth0 address).</summary>
    private static IPAddress NonLoopbackAddress()
    {
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up) continue;
            foreach (UnicastIPAddressInformation a in nic.GetIPProperties().UnicastAddresses)
                if (a.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address)) return a.Address;
        }
        throw new InvalidOperationException("this machine has no non-loopback IPv4 address to test protected mode with");
    }

    private static Task<RespKvHost> StartOnNonLoopback(IPAddress address, Action<ServerOptions>? configure = null) =>
        ServerFixture.StartFresh(o =>
        {
            o.Bind = [address.ToString()];
            configure?.Invoke(o);
        });

    private static RespTestClient ConnectTo(IPAddress address, int port) => new(address.ToString(), port);

    [Fact]
    public async Task ProtectedModeDeniesNonLoopbackClientsWithoutAPassword()
    {
        IPAddress address = NonLoopbackAddress();
        await using RespKvHost host = await StartOnNonLoopback(address);
        using (RespTestClient c = ConnectTo(address, host.Port))
        {
            c.SendRaw("PING\r\n");
            Assert.Equal("-" + RespConnectionHandler.ProtectedModeError + "\r\n", c.ReadReply());
            Assert.True(c.IsClosedByServer());
        }
        Assert.StartsWith("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface",
            "-" + RespConnectionHandler.ProtectedModeError);
        Assert.EndsWith("4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.",
            RespConnectionHandler.ProtectedModeError);
        Assert.Equal(1, host.Server.Stats.RejectedConnections);
    }

    [Fact]
    public async Task ProtectedModeAllowsNonLoopbackClientsWithAPasswordOrWhenDisabled()
    {
        IPAddress address = NonLoopbackAddress();
        await using (RespKvHost host = await StartOnNonLoopback(address, o => o.RequirePass = Password))
        {
            using RespTestClient c = ConnectTo(address, host.Port);
            Assert.Equal(NoAuth, c.Call("PING"));
            Assert.Equal("+OK\r\n", c.Call("AUTH", Password));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await using (RespKvHost host = await StartOnNonLoopback(address, o => o.ProtectedMode = false))
        {
            using RespTestClient c = ConnectTo(address, host.Port);
            Assert.Equal("*2\r\n$14\r\nprotected-mode\r\n$2\r\nno\r\n", c.Call("CONFIG", "GET", "protected-mode"));
            Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "protected-mode", "yes"));
            Assert.Equal("+PONG\r\n", c.Call("PING"));
            using RespTestClient d = ConnectTo(address, host.Port);
            Assert.Equal("-" + RespConnectionHandler.ProtectedModeError + "\r\n", d.Call("PING"));
        }
    }

    [Fact]
    public async Task OneClientMoreThanMaxclientsIsRefusedAndClosed()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.MaxClients = 2);
        using var a = new RespTestClient(host.Port);
        using var b = new RespTestClient(host.Port);
        Assert.Equal("+PONG\r\n", a.Call("PING"));
        Assert.Equal("+PONG\r\n", b.Call("PING"));
        using (var c = new RespTestClient(host.Port))
        {
            c.SendRaw("PING\r\n");
            Assert.Equal("-ERR max number of clients reached\r\n", c.ReadReply());
            Assert.True(c.IsClosedByServer());
        }
        Assert.Equal("+PONG\r\n", a.Call("PING"));
    }

    [Fact]
    public async Task ClientOutputBufferLimitSettingAsRedis()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n",
            c.Call("CONFIG", "GET", "client-output-buffer-limit"));
        const string prefix = "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ";
        Assert.Equal(prefix + "Wrong number of arguments in buffer limit configuration.\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"));
        Assert.Equal(prefix + "Invalid client class specified in buffer limit configuration.\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"));
        Assert.Equal(prefix + "Invalid client class specified in buffer limit configuration.\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"));
        Assert.Equal(prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "normal x 2 3"));
        Assert.Equal(prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 -3"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2kb 3"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 3 replica 4 5 6"));
        Assert.Equal("*2\r\n$26\r\nclient-output-buffer-limit\r\n$46\r\nnormal 1048576 2048 3 slave 4 5 6 pubsub 1 2 3\r\n",
            c.Call("CONFIG", "GET", "client-output-buffer-limit"));
        Assert.Equal("+PONG\r\n", c.Call("PING"));
    }

    [Fact]
    public async Task AClientThatNeverReadsIsClosedAtTheHardLimit()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 64kb 0 0"));
        Assert.Equal("+OK\r\n", admin.Call("SET", "obuf", new string('x', 10_000)));
        using var slow = new TcpClient();
        slow.ReceiveBufferSize = 4096;
        slow.Connect(IPAddress.Loopback, host.Port);
        NetworkStream stream = slow.GetStream();
        // 100 pipelined GETs of a 10 KB value: about 1 MB of replies the client never reads (redis-server 7.0 closes it too).
        byte[] get = RespTestClient.Encode("GET", "obuf");
        var batch = new MemoryStream();
        for (int i = 0; i < 100; i++) batch.Write(get);
        stream.Write(batch.ToArray());
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Server.Clients.Count > 1 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(1, host.Server.Clients.Count);
        Assert.Equal("+PONG\r\n", admin.Call("PING"));
    }

    [Fact]
    public async Task AClientStalledAboveTheSoftLimitIsClosedAfterItsSeconds()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 1mb 1"));
        Assert.Equal("+OK\r\n", admin.Call("SET", "obuf-soft", new string('x', 4 << 20)));
        using var slow = new TcpClient();
        slow.ReceiveBufferSize = 4096;
        slow.Connect(IPAddress.Loopback, host.Port);
        // 16 replies of 4 MB fill the socket buffers, so the session waits on its flush with ≥ 1 MB unsent:
        // no command runs, and the server cron closes it once the soft limit has been exceeded for over 1 s.
        byte[] get = RespTestClient.Encode("GET", "obuf-soft");
        var batch = new MemoryStream();
        for (int i = 0; i < 16; i++) batch.Write(get);
        slow.GetStream().Write(batch.ToArray());
        await Task.Delay(500);
        Assert.Equal(2, host.Server.Clients.Count);
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (host.Server.Clients.Count > 1 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, host.Server.Clients.Count);
        Assert.Equal("+PONG\r\n", admin.Call("PING"));
    }

    [Fact]
    public async Task AnOptionalBindAddressThatCannotBeBoundIsSkipped()
    {
        // 192.0.2.0/24 is TEST-NET-1: not configured on a test machine's interfaces.
        await using (RespKvHost host = await ServerFixture.StartFresh(o => o.Bind = ["127.0.0.1", "-192.0.2.213"]))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal("+PONG\r\n", c.Call("PING"));
        }
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using RespKvHost host = await ServerFixture.StartFresh(o => o.Bind = ["127.0.0.1", "192.0.2.213"]);
        });
    }

    [RedisCliFact]
    public async Task RedisCliWithAPassword()
    {
        await using RespKvHost host = await StartWithPassword();
        (int exit, string output, _) = RedisCli.Run(host.Port, null, 30_000, "-a", Password, "--no-auth-warning", "ping");
        Assert.Equal(0, exit);
        Assert.Equal("PONG\n", output);
        (_, output, _) = RedisCli.Run(host.Port, null, 30_000, "ping");
        Assert.Equal("NOAUTH Authentication required.\n\n", output); // redis-cli prints errors so, also against redis-server
    }

    [Fact]
    public async Task StackExchangeRedisConnectsWithAPassword()
    {
        await using RespKvHost host = await StartWithPassword();
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            Password = Password,
            ConnectTimeout = 15_000,
            SyncTimeout = 15_000,
        };
        options.EndPoints.Add("127.0.0.1", host.Port);
        var log = new StringWriter();
        using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(options, log);
        Assert.True(mux.IsConnected, "StackExchange.Redis did not connect:\n" + log);
        IDatabase db = mux.GetDatabase();
        Assert.True(db.StringSet("sec:se", "v"));
        Assert.Equal("v", (string?)db.StringGet("sec:se"));
    }

    [Fact]
    public async Task PasswordsAreNeverLogged()
    {
        var sink = new CapturingLoggerProvider();
        await using (RespKvHost host = await ServerFixture.StartFresh(o => o.RequirePass = Password, sink))
        {
            using var c = new RespTestClient(host.Port);
            Assert.Equal(WrongPass, c.Call("AUTH", "wrong-" + Password));
            Assert.Equal("+OK\r\n", c.Call("AUTH", Password));
            Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "requirepass", "new-" + Password));
            c.SendRaw("*1\r\n$x\r\n"); // a protocol error is logged (at debug)
            c.ReadReply();
        }
        Assert.NotEmpty(sink.Messages);
        Assert.DoesNotContain(sink.Messages, m => m.Contains(Password, StringComparison.Ordinal));
    }
}
