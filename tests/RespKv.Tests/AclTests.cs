using System.Text;
using RespKv.Configuration;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Security;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// ACL users (Redis 7.0 acl.c; replies checked against redis-server 7.0.15 in conformance/corpus/acl.txt): the permission
/// matrix of a read-only user against every write command, AUTH and HELLO with users, MULTI/EXEC, scripts, disconnection
/// on ACL DELUSER and ACL LOAD, the ACL file round trip, config-file users, requirepass and rename-command.
/// </summary>
public sealed class AclTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"respkv-acl-{Guid.NewGuid():N}");

    /// <summary>Creates the test's directory.</summary>
    public AclTests() => Directory.CreateDirectory(_directory);

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private const string KeyDenied = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n";

    /// <summary>
    /// Arguments for <paramref name="command"/> (a subcommand after its container's name) that its key specs read as naming
    /// at least one key it writes: every argument "1" (a number where a count is expected), padded to its arity; null when
    /// no such arguments are found.
    /// </summary>
    private static string[]? WriteArguments(CommandInfo command)
    {
        string[] prefix = command.Parent == null ? [command.Name] : [command.Parent.Name, command.Name];
        int min = Math.Abs(command.Arity);
        foreach (int total in new[] { min, min + 1, min + 2, 5, 7 })
        {
            if (command.Arity > 0 && total != command.Arity) continue;
            if (total < prefix.Length) continue;
            string[] args = [.. prefix, .. Enumerable.Repeat("1", total - prefix.Length)];
            byte[] buffer = Encoding.ASCII.GetBytes(string.Concat(args));
            var slices = new ArgSlice[args.Length];
            for (int i = 0, offset = 0; i < args.Length; offset += args[i].Length, i++) slices[i] = new ArgSlice(offset, args[i].Length);
            Span<KeyRef> keys = stackalloc KeyRef[32];
            int count = command.GetKeys(new CommandArgs(buffer, slices), keys);
            if (count <= 0 || count > keys.Length) continue;
            foreach (KeyRef key in keys[..count])
                if ((AclSelector.Needed(key.Flags) & AclKeyPattern.Write) != 0) return args;
        }
        return null;
    }

    [Fact]
    public async Task ReadOnlyKeyPatternsRefuseEveryWriteCommandLogEachAndChangeNothing()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("SET", "1", "original"));
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "reader", "on", "nopass", "+@all", "%R~*", "&*"));
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("AUTH", "reader", "x"));
        Assert.Equal("$8\r\noriginal\r\n", c.Call("GET", "1"));
        int refused = 0;
        var uncovered = new List<string>();
        foreach (CommandInfo command in host.Server.Commands.StatsRows)
        {
            if (!command.IsWrite || command.Handler == null || !command.HasKeys) continue;
            string[]? args = WriteArguments(command);
            if (args == null)
            {
                uncovered.Add(command.FullName);
                continue;
            }
            Assert.True(KeyDenied == c.Call(args), $"{string.Join(' ', args)} was not refused");
            refused++;
        }
        // Every write command whose keys "1 1 …" arguments name was refused; the rest need other argument shapes.
        Assert.True(refused >= 90, $"only {refused} write commands covered; not covered: {string.Join(' ', uncovered)}");
        Assert.Equal(":1\r\n", admin.Call("DBSIZE"));
        Assert.Equal("$8\r\noriginal\r\n", admin.Call("GET", "1"));
        // All refusals of the key "1" by the same user group into one entry whose count is the number refused.
        string log = admin.Call("ACL", "LOG", "1");
        Assert.Contains($"$5\r\ncount\r\n:{refused}\r\n$6\r\nreason\r\n$3\r\nkey\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n$6\r\nobject\r\n$1\r\n1\r\n$8\r\nusername\r\n$6\r\nreader\r\n", log);
    }

    [Fact]
    public async Task AuthAndHelloLogInAsUsersAndFailuresAreLoggedWithoutPasswords()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("ACL", "SETUSER", "alice", "on", ">wonderland", "~a:*", "+get", "+set", "+acl|whoami"));
        Assert.Equal("-WRONGPASS invalid username-password pair or user is disabled.\r\n", c.Call("AUTH", "alice", "wrong-secret"));
        Assert.Equal("+OK\r\n", c.Call("AUTH", "alice", "wonderland"));
        Assert.Equal("$5\r\nalice\r\n", c.Call("ACL", "WHOAMI"));
        Assert.Equal("+OK\r\n", c.Call("SET", "a:1", "v"));
        Assert.Equal(KeyDenied, c.Call("SET", "b:1", "v"));
        Assert.Equal("-NOPERM this user has no permissions to run the 'del' command\r\n", c.Call("DEL", "a:1"));
        using var h = new RespTestClient(host.Port);
        Assert.StartsWith("%7\r\n", h.Call("HELLO", "3", "AUTH", "alice", "wonderland"));
        Assert.Equal("$5\r\nalice\r\n", h.Call("ACL", "WHOAMI"));
        Assert.Contains("user=alice", Encoding.ASCII.GetString(Encoding.ASCII.GetBytes(new RespTestClient(host.Port).Call("CLIENT", "LIST"))));
        string log = new RespTestClient(host.Port).Call("ACL", "LOG");
        Assert.DoesNotContain("wrong-secret", log);
        Assert.DoesNotContain("wonderland", log);
        Assert.Contains("$4\r\nauth\r\n", log);
        // Passwords are stored as SHA-256 only.
        Assert.DoesNotContain("wonderland", string.Join('\n', host.Server.Acl.DescribeUsers()));
        Assert.Equal(AclRules.HashPassword("wonderland"u8), host.Server.Acl.Find("alice")!.Rules.Passwords.Single());
    }

    [Fact]
    public async Task RequirepassIsTheDefaultUsersPassword()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.RequirePass = "pw");
        using var c = new RespTestClient(host.Port);
        Assert.Equal("-NOAUTH Authentication required.\r\n", c.Call("PING"));
        Assert.Equal("+OK\r\n", c.Call("AUTH", "default", "pw"));
        Assert.Contains("#" + AclRules.HashPassword("pw"u8), c.Call("ACL", "LIST"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "requirepass", ""));
        Assert.Contains("user default on nopass ~* &* +@all", c.Call("ACL", "LIST"));
        using var fresh = new RespTestClient(host.Port);
        Assert.Equal("+PONG\r\n", fresh.Call("PING"));
    }

    [Fact]
    public async Task MultiRefusesAtQueueTimeAndRechecksAtExec()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "m", "on", "nopass", "~*", "+@all", "-flushall"));
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("AUTH", "m", "x"));
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "k", "v"));
        Assert.Equal("-NOPERM this user has no permissions to run the 'flushall' command\r\n", c.Call("FLUSHALL"));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", c.Call("EXEC"));
        Assert.Equal("$-1\r\n", admin.Call("GET", "k"));
        // Rules changed between queueing and EXEC: the command is skipped with Redis's NOPERM text.
        Assert.Equal("+OK\r\n", c.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", c.Call("SET", "k", "v"));
        Assert.Equal("+QUEUED\r\n", c.Call("GET", "k"));
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "m", "-set"));
        Assert.Equal("*2\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand\r\n$-1\r\n",
            c.Call("EXEC"));
        Assert.Contains("$5\r\nmulti\r\n", admin.Call("ACL", "LOG"));
    }

    [Fact]
    public async Task ScriptsRunTheirCommandsAsTheCallingUser()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("SET", "r", "1"));
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "s", "on", "nopass", "%R~*", "+eval", "+get", "+set"));
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("AUTH", "s", "x"));
        Assert.Equal("$1\r\n1\r\n", c.Call("EVAL", "return redis.call('get', ARGV[1])", "0", "r"));
        Assert.StartsWith("-ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
            c.Call("EVAL", "return redis.call('set', ARGV[1], '2')", "0", "r"));
        Assert.StartsWith("-ERR The user executing the script can't run this command or subcommand",
            c.Call("EVAL", "return redis.call('del', ARGV[1])", "0", "r"));
        Assert.Equal(":0\r\n", c.Call("EVAL", "return redis.acl_check_cmd('set', 'r', '2') and 1 or 0", "0"));
        // EVAL's declared keys are read-write (its key spec): a read-only user may not name them.
        Assert.Equal(KeyDenied, c.Call("EVAL", "return 1", "1", "r"));
        Assert.Equal("$1\r\n1\r\n", admin.Call("GET", "r"));
        Assert.Contains("$3\r\nlua\r\n", admin.Call("ACL", "LOG"));
    }

    [Fact]
    public async Task DeletingAUserDisconnectsItsClientsAndClientKillUserToo()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*"));
        using var victim = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", victim.Call("AUTH", "gone", "x"));
        using var other = new RespTestClient(host.Port);
        Assert.Equal(":1\r\n", admin.Call("ACL", "DELUSER", "gone"));
        Assert.True(victim.IsClosedByServer());
        Assert.Equal("+PONG\r\n", other.Call("PING"));

        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "kill", "on", "nopass", "+@all", "~*"));
        using var k = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", k.Call("AUTH", "kill", "x"));
        Assert.Equal(":1\r\n", admin.Call("CLIENT", "KILL", "USER", "kill"));
        Assert.True(k.IsClosedByServer());
        Assert.Equal("-ERR No such user 'nobody'\r\n", admin.Call("CLIENT", "KILL", "USER", "nobody"));
    }

    [Fact]
    public async Task RevokingChannelsDisconnectsTheUsersSubscribers()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var admin = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "sub", "on", "nopass", "+@all", "~*", "resetchannels", "&news", "&sport"));
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("AUTH", "sub", "x"));
        Assert.Equal("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", c.Call("SUBSCRIBE", "news"));
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "sub", "resetchannels", "&news"));
        Assert.Equal(":1\r\n", admin.Call("PUBLISH", "news", "still here"));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$10\r\nstill here\r\n", c.ReadReply());
        Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "sub", "resetchannels", "&sport"));
        Assert.True(c.IsClosedByServer());
    }

    [Fact]
    public async Task AclFileRoundTripsAndAFailedLoadChangesNothing()
    {
        string path = Path.Combine(_directory, "users.acl");
        File.WriteAllText(path, "user default on nopass ~* &* +@all\nuser bob on #" + AclRules.HashPassword("builder"u8) + " ~bob:* resetchannels -@all +get\n");
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.AclFile = path);
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*2\r\n$3\r\nbob\r\n$7\r\ndefault\r\n", c.Call("ACL", "USERS"));
        Assert.Equal("+OK\r\n", c.Call("ACL", "SETUSER", "carol", "on", ">pw", "%R~c:*", "+@read", "(+set ~w:*)"));
        Assert.Equal("+OK\r\n", c.Call("ACL", "SAVE"));
        string saved = File.ReadAllText(path);
        Assert.Equal(string.Join('\n', host.Server.Acl.DescribeUsers()) + "\n", saved);
        Assert.Equal(["users.acl"], Directory.GetFiles(_directory).Select(Path.GetFileName));
        Assert.Equal(":1\r\n", c.Call("ACL", "DELUSER", "carol"));
        using var bob = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", bob.Call("AUTH", "bob", "builder"));
        Assert.Equal("+OK\r\n", c.Call("ACL", "LOAD"));
        Assert.Equal(saved, string.Join('\n', host.Server.Acl.DescribeUsers()) + "\n");
        // ACL LOAD replaces every user: their clients are disconnected.
        Assert.True(bob.IsClosedByServer());
        File.WriteAllText(path, "user dave on +nosuch\nnot a user line\n");
        string error = c.Call("ACL", "LOAD");
        Assert.StartsWith("-ERR " + path + ":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. ", error);
        Assert.EndsWith("WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n", error);
        Assert.Equal(saved, string.Join('\n', host.Server.Acl.DescribeUsers()) + "\n");
    }

    [Fact]
    public async Task ConfigFileUsersLoadAtStartupAndCannotBeCombinedWithAnAclFile()
    {
        var options = new ServerOptions { Port = 0, Save = "" };
        Assert.Null(RespKv.Server.RedisConfigText.Apply(options, "user default on >adminpw ~* &* +@all\nuser app on >apppw ~app:* +@read"));
        await using (RespKvHost host = RespKvHost.Create(options))
        {
            await host.StartAsync();
            using var c = new RespTestClient(host.Port);
            Assert.Equal("-NOAUTH Authentication required.\r\n", c.Call("PING"));
            Assert.Equal("+OK\r\n", c.Call("AUTH", "app", "apppw"));
            Assert.Equal("$-1\r\n", c.Call("GET", "app:1"));
        }
        options.AclFile = Path.Combine(_directory, "users.acl");
        Assert.Throws<AclStartupException>(() => RespKvHost.Create(options));
    }

    [Fact]
    public async Task RenamedCommandsAreServedUnderTheirNewNames()
    {
        var options = new ServerOptions { Port = 0, Save = "" };
        Assert.Null(RespKv.Server.RedisConfigText.Apply(options, "rename-command FLUSHALL \"\"\nrename-command get fetch"));
        await using RespKvHost host = RespKvHost.Create(options);
        await host.StartAsync();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("SET", "k", "v"));
        Assert.Equal("$1\r\nv\r\n", c.Call("FETCH", "k"));
        Assert.Equal("-ERR unknown command 'GET', with args beginning with: 'k' \r\n", c.Call("GET", "k"));
        Assert.StartsWith("-ERR unknown command 'FLUSHALL'", c.Call("FLUSHALL"));
        // ACL rules keep the original names.
        Assert.Equal("+OK\r\n", c.Call("ACL", "SETUSER", "u", "on", "nopass", "+get", "~*"));
        Assert.Equal("+OK\r\n", c.Call("ACL", "DRYRUN", "u", "fetch", "k"));
    }

    [Fact]
    public void TheDefaultUserTakesTheFastPathAndARestrictedCheckDoesNotAllocate()
    {
        var server = new RespServer(new ServerOptions());
        Assert.True(server.Acl.Default.Rules.Unrestricted);
        Assert.Null(server.Acl.SetUser("r", ["on", "nopass", "%R~k*", "+@read"]));
        AclUser user = server.Acl.Find("r")!;
        CommandInfo get = server.Commands.Lookup("get")!;
        byte[] buffer = "getk1"u8.ToArray();
        ArgSlice[] slices = [new(0, 3), new(3, 2)];
        Assert.Equal(AclDenial.None, AccessControl.Check(user, get, new CommandArgs(buffer, slices), out _));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) AccessControl.Check(user, get, new CommandArgs(buffer, slices), out _);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public async Task RedisCliLogsInAsAUserAndIsRefusedOutsideItsKeys()
    {
        if (RedisCli.Path == null) return; // redis-cli is installed wherever the suite runs in CI (the Dockerfile's test stage)
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.RequirePass = "adminpw");
        Assert.Null(host.Server.Acl.SetUser("app", ["on", ">apppw", "~app:*", "&*", "+@all"]));
        // redis-cli --user/--pass sends AUTH app apppw, as every current client library configured with a user.
        var (code, output, _) = RedisCli.Run(host.Port, null, 15_000, "--user", "app", "--pass", "apppw", "--no-auth-warning", "SET", "app:1", "v");
        Assert.Equal(0, code);
        Assert.Equal("OK", output.Trim());
        (_, output, _) = RedisCli.Run(host.Port, null, 15_000, "--user", "app", "--pass", "apppw", "--no-auth-warning", "SET", "other", "v");
        Assert.Equal("NOPERM this user has no permissions to access one of the keys used as arguments", output.Trim());
        (_, output, _) = RedisCli.Run(host.Port, null, 15_000, "--user", "app", "--pass", "wrong", "--no-auth-warning", "PING");
        // The failed AUTH is reported on stderr; the command then meets the unauthenticated connection.
        Assert.Equal("NOAUTH Authentication required.", output.Trim());
    }
}
