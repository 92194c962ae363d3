using RespKv.Ecosystem.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests;

/// <summary>A fact skipped, saying why, when redis-server (the reference) is not installed.</summary>
public sealed class RedisServerFactAttribute : FactAttribute
{
    /// <summary>Skips the test when <see cref="RespKvProcess.ReferenceRedisServer"/> is null.</summary>
    public RedisServerFactAttribute()
    {
        if (RespKvProcess.ReferenceRedisServer == null) Skip = "redis-server is not installed (apt-get install redis-server; .ci/run installs it)";
    }
}

/// <summary>
/// What StackExchange.Redis 3.4.35 sends when it connects (allowAdmin off, RESP2 and RESP3) — HELLO, CLIENT SETNAME, CLIENT
/// SETINFO, CLIENT ID, CONFIG GET, SENTINEL MASTERS, INFO replication/server, CLUSTER SLOTS/NODES, GET of the tie-breaker,
/// ECHO, SUBSCRIBE __Booksleeve_MasterChanged, PING — recorded through a proxy in front of RespKv and in front of redis-server
/// 7.0: the same commands, and replies equal once what must differ is set aside (connection ids, the random ECHO payload,
/// INFO's values: its field names must match).
/// </summary>
public sealed class HandshakeTests
{
    [RedisServerFact]
    public void Resp2HandshakeRepliesAreRedis70s() => Compare(resp3: false);

    [RedisServerFact]
    public void Resp3HandshakeRepliesAreRedis70s() => Compare(resp3: true);

    /// <summary>With <c>allowAdmin=true</c> (what operators' tools set), whatever more it asks gets Redis 7.0's replies too.</summary>
    [RedisServerFact]
    public void AdminHandshakeRepliesAreRedis70s() => Compare(resp3: true, admin: true);

    private static void Compare(bool resp3, bool admin = false)
    {
        SortedDictionary<string, string> redis = Handshake(RespKvProcess.ReferenceRedisServer, resp3, admin);
        SortedDictionary<string, string> respkv = Handshake(null, resp3, admin);
        // CLIENT SETINFO is Redis 7.2's: 7.0.15 answers "unknown subcommand" and so does RespKv; the client ignores it.
        Assert.Contains(redis.Keys, k => k.StartsWith("CLIENT SETINFO ", StringComparison.Ordinal));
        Assert.Contains(redis.Keys, k => k.StartsWith("HELLO ", StringComparison.Ordinal));
        Assert.Contains("INFO server", redis.Keys);
        Assert.Contains("CLUSTER NODES", redis.Keys);
        Assert.Contains("CONFIG GET databases", redis.Keys);
        Assert.Contains("ECHO <payload>", redis.Keys);
        Assert.Contains("SUBSCRIBE __Booksleeve_MasterChanged", redis.Keys);
        Assert.Contains("PING", redis.Keys);
        List<string> expected = Lines(redis), actual = Lines(respkv);
        Assert.True(expected.SequenceEqual(actual),
            "redis-server only:\n" + string.Join('\n', expected.Except(actual)) + "\nRespKv only:\n" + string.Join('\n', actual.Except(expected)));
    }

    private static List<string> Lines(SortedDictionary<string, string> replies) => replies.Select(kv => $"{kv.Key} => {kv.Value}").ToList();

    /// <summary>Connects through a recording proxy to a fresh server, pings, disconnects; returns each command's normalized reply.</summary>
    private static SortedDictionary<string, string> Handshake(string? reference, bool resp3, bool admin)
    {
        using RespKvProcess server = RespKvProcess.Start(reference);
        using var proxy = new RecordingProxy(server.Port);
        string configuration = $"127.0.0.1:{proxy.Port},protocol={(resp3 ? "resp3" : "resp2")},abortConnect=false,connectTimeout=15000,syncTimeout=15000"
            + (admin ? ",allowAdmin=true" : "");
        using (ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(configuration))
        {
            Assert.True(mux.IsConnected);
            mux.GetDatabase().Ping();
        }
        Thread.Sleep(200);
        var replies = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((byte[] sent, byte[] received) in proxy.Snapshot())
        {
            List<RespFrame> commands = RespFrame.ParseAll(sent), answers = RespFrame.ParseAll(received);
            for (int i = 0; i < Math.Min(commands.Count, answers.Count); i++)
            {
                string[] args = commands[i].Children.Select(c => c.Text).ToArray();
                if (args[0] is "QUIT") continue; // the connection may close before its reply is recorded
                string key = args[0] == "ECHO" ? "ECHO <payload>" : string.Join(' ', args);
                string reply = Normalize(args, answers[i]);
                if (!replies.TryAdd(key, reply)) Assert.Equal(replies[key], reply); // a command sent again gets the same answer
            }
        }
        return replies;
    }

    /// <summary>The reply with what legitimately differs between two servers replaced by placeholders.</summary>
    private static string Normalize(string[] command, RespFrame reply)
    {
        if (command is ["ECHO", var payload]) return reply.Text == payload ? "<the payload>" : reply.ToString();
        if (command is ["CLIENT", "ID"] && reply.Type == ':') return ":<id>";
        if (reply.Type is '$' or '=' && (reply.Text.StartsWith("# ", StringComparison.Ordinal) || reply.Text.StartsWith("txt:# ", StringComparison.Ordinal)))
        {
            // INFO: its sections and field names, in order (RespKv's own respkv_version aside).
            IEnumerable<string> names = reply.Text.Split("\r\n").Where(l => l.Length > 0)
                .Select(l => l.StartsWith('#') || l.StartsWith("txt:#", StringComparison.Ordinal) ? l : l[..l.IndexOf(':')])
                .Where(n => n != "respkv_version");
            return $"{reply.Type}INFO[{string.Join(' ', names)}]";
        }
        if (command[0] == "HELLO" && reply.Children.Count > 0)
        {
            // HELLO's map: the connection id differs.
            var children = reply.Children.ToList();
            for (int i = 0; i + 1 < children.Count; i += 2)
                if (children[i].Text == "id") children[i + 1] = children[i + 1] with { Text = "<id>" };
            return (reply with { Children = children }).ToString();
        }
        return reply.ToString();
    }
}
