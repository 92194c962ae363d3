using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>
/// Microsoft.AspNetCore.SignalR.StackExchangeRedis 10.0.15: two in-process SignalR hosts (TestHost) scale out through RespKv
/// pub/sub; a message sent on host A to a group, to a user and to all reaches a client connected to host B.
/// </summary>
public sealed class SignalRBackplaneTests(RespKvFixture server) : IClassFixture<RespKvFixture>
{
    /// <summary>The test hub: join a group, send to a group, to a user, or to everyone.</summary>
    public sealed class ChatHub : Hub
    {
        /// <summary>Adds the caller to <paramref name="group"/>.</summary>
        public Task Join(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

        /// <summary>Sends <paramref name="message"/> to every connection of <paramref name="group"/>, on any host.</summary>
        public Task SendToGroup(string group, string message) => Clients.Group(group).SendAsync("message", $"group {group}: {message}");

        /// <summary>Sends <paramref name="message"/> to every connection of <paramref name="user"/>, on any host.</summary>
        public Task SendToUser(string user, string message) => Clients.User(user).SendAsync("message", $"user {user}: {message}");

        /// <summary>Sends <paramref name="message"/> to every connection, on any host.</summary>
        public Task SendToAll(string message) => Clients.All.SendAsync("message", $"all: {message}");
    }

    /// <summary>The user of a connection: its <c>user</c> query parameter.</summary>
    public sealed class QueryUserIdProvider : IUserIdProvider
    {
        /// <inheritdoc />
        public string? GetUserId(HubConnectionContext connection) => connection.GetHttpContext()?.Request.Query["user"];
    }

    private Task<WebApplication> StartHost(string prefix) => TestWebHost.StartAsync(
        services =>
        {
            services.AddSignalR().AddStackExchangeRedis(server.Configuration(), o => o.Configuration.ChannelPrefix = RedisChannel.Literal(prefix));
            services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();
        },
        app => app.MapHub<ChatHub>("/chat"));

    private static async Task<(HubConnection Connection, ChannelReader<string> Messages)> ConnectClient(WebApplication host, string user)
    {
        TestServer testServer = host.GetTestServer();
        HubConnection connection = new HubConnectionBuilder()
            .WithUrl(new Uri(testServer.BaseAddress, $"chat?user={user}"), o =>
            {
                o.Transports = HttpTransportType.LongPolling;
                o.HttpMessageHandlerFactory = _ => testServer.CreateHandler();
            })
            .Build();
        Channel<string> messages = Channel.CreateUnbounded<string>();
        connection.On<string>("message", m => messages.Writer.TryWrite(m));
        await connection.StartAsync();
        return (connection, messages.Reader);
    }

    private static async Task<string> Next(ChannelReader<string> messages) =>
        await messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task GroupUserAndAllMessagesCrossHostsThroughRespKv()
    {
        string prefix = $"sr{Guid.NewGuid():N}";
        await using WebApplication hostA = await StartHost(prefix);
        await using WebApplication hostB = await StartHost(prefix);
        (HubConnection alice, ChannelReader<string> aliceInbox) = await ConnectClient(hostA, "alice");
        (HubConnection bob, ChannelReader<string> bobInbox) = await ConnectClient(hostB, "bob");
        (HubConnection carol, ChannelReader<string> carolInbox) = await ConnectClient(hostB, "carol");
        try
        {
            await bob.InvokeAsync("Join", "team"); // on host B

            // Alice, on host A, sends to the group: bob receives it on host B; carol (not a member) does not.
            await alice.InvokeAsync("SendToGroup", "team", "hello");
            Assert.Equal("group team: hello", await Next(bobInbox));

            // To a user: only bob's connection on host B.
            await alice.InvokeAsync("SendToUser", "bob", "direct");
            Assert.Equal("user bob: direct", await Next(bobInbox));

            // To all: every client of both hosts, carol's first message included.
            await alice.InvokeAsync("SendToAll", "broadcast");
            Assert.Equal("all: broadcast", await Next(bobInbox));
            Assert.Equal("all: broadcast", await Next(carolInbox));
            Assert.Equal("all: broadcast", await Next(aliceInbox));
            Assert.False(carolInbox.TryRead(out string? stray), $"carol received {stray}");
            Assert.False(aliceInbox.TryRead(out stray), $"alice received {stray}");

            // The backplane's channels are RespKv pub/sub channels under the prefix.
            using ConnectionMultiplexer mux = server.Connect(extra: "allowAdmin=true");
            RedisChannel[] channels = mux.GetServer("127.0.0.1", server.Port).SubscriptionChannels(RedisChannel.Pattern(prefix + "*"));
            Assert.Contains(channels, c => c.ToString().Contains(":group:team", StringComparison.Ordinal));
            Assert.Contains(channels, c => c.ToString().Contains(":user:bob", StringComparison.Ordinal));
        }
        finally
        {
            await alice.DisposeAsync();
            await bob.DisposeAsync();
            await carol.DisposeAsync();
        }
    }
}
