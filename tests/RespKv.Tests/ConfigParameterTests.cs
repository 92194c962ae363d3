using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// The configuration table (<see cref="ConfigParameters"/>): each kind of setting's parsing, printing and Redis 7.0 error
/// texts, aliases, protected settings, CONFIG GET patterns, config-file directives and CONFIG REWRITE of the settings
/// RespKv only stores. Expected texts are redis-server 7.0.15's (conformance/corpus/config.txt compares the same live).
/// </summary>
public sealed class ConfigParameterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("respkv-config-").FullName;

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Sets <paramref name="name"/> on <paramref name="options"/>; returns the error, or the value CONFIG GET then prints.</summary>
    private static string SetAndGet(ServerOptions options, string name, string value)
    {
        ConfigParameter p = ConfigParameters.Find(name) ?? throw new ArgumentException(name);
        return p.Set(options, value) is { } error ? "ERR " + error : p.Get(options);
    }

    private static string SetAndGet(string name, string value) => SetAndGet(new ServerOptions(), name, value);

    [Theory]
    [InlineData("activerehashing", "no", "no")]
    [InlineData("activerehashing", "YES", "yes")]
    [InlineData("activerehashing", "maybe", "ERR argument must be 'yes' or 'no'")]
    [InlineData("activerehashing", "1", "ERR argument must be 'yes' or 'no'")]
    [InlineData("protected-mode", "No", "no")]
    public void BoolSettings(string name, string value, string expected) => Assert.Equal(expected, SetAndGet(name, value));

    [Theory]
    [InlineData("repl-diskless-load", "ON-EMPTY-DB", "on-empty-db")]
    [InlineData("repl-diskless-load", "bogus", "ERR argument(s) must be one of the following: disabled, on-empty-db, swapdb")]
    [InlineData("oom-score-adj", "relative", "yes")] // two names, one value: CONFIG GET prints the first
    [InlineData("oom-score-adj", "absolute", "absolute")]
    [InlineData("appendfsync", "ALWAYS", "always")]
    [InlineData("maxmemory-policy", "x", "ERR argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")]
    [InlineData("enable-debug-command", "LOCAL", "local")]
    [InlineData("enable-debug-command", "maybe", "ERR argument(s) must be one of the following: no, yes, local")]
    public void EnumSettings(string name, string value, string expected) => Assert.Equal(expected, SetAndGet(name, value));

    [Theory]
    [InlineData("save now", "save now")]
    [InlineData("force nosave now", "nosave now force")]
    [InlineData("NOW", "now")]
    [InlineData("default", "default")]
    [InlineData("save nosave", "ERR shutdown options SAVE and NOSAVE can't be used simultaneously")]
    [InlineData("save bogus", "ERR argument(s) must be one of the following: default, save, nosave, now, force")]
    public void FlagSettings(string value, string expected) => Assert.Equal(expected, SetAndGet("shutdown-on-sigterm", value));

    [Theory]
    [InlineData("tcp-keepalive", "60", "60")]
    [InlineData("tcp-keepalive", "0", "0")]
    [InlineData("tcp-keepalive", "01", "ERR argument couldn't be parsed into an integer")]
    [InlineData("tcp-keepalive", "+5", "ERR argument couldn't be parsed into an integer")]
    [InlineData("tcp-keepalive", " 5", "ERR argument couldn't be parsed into an integer")]
    [InlineData("tcp-keepalive", "5.0", "ERR argument couldn't be parsed into an integer")]
    [InlineData("tcp-keepalive", "-0", "ERR argument couldn't be parsed into an integer")]
    [InlineData("tcp-keepalive", "99999999999999999999", "ERR argument couldn't be parsed into an integer")]
    [InlineData("tcp-keepalive", "-1", "ERR argument must be between 0 and 2147483647 inclusive")]
    [InlineData("tcp-keepalive", "2147483648", "ERR argument must be between 0 and 2147483647 inclusive")]
    [InlineData("active-expire-effort", "11", "ERR argument must be between 1 and 10 inclusive")]
    [InlineData("list-max-ziplist-size", "-2147483649", "ERR argument must be between -2147483648 and 2147483647 inclusive")]
    [InlineData("list-max-listpack-size", "-5", "-5")]
    [InlineData("set-max-intset-entries", "-5", "ERR argument must be between 0 and 9223372036854775807 inclusive")]
    [InlineData("maxclients", "0", "ERR argument must be between 1 and 4294967295 inclusive")]
    [InlineData("slowlog-log-slower-than", "-2", "ERR argument must be between -1 and 9223372036854775807 inclusive")]
    public void IntegerSettings(string name, string value, string expected) => Assert.Equal(expected, SetAndGet(name, value));

    [Theory]
    [InlineData("hash-max-listpack-value", "1kb", "1024")]
    [InlineData("hash-max-listpack-value", "2K", "2000")]
    [InlineData("hash-max-listpack-value", "3MB", "3145728")]
    [InlineData("hash-max-listpack-value", "1.5mb", "ERR argument must be a memory value")]
    [InlineData("hash-max-listpack-value", "-1", "ERR argument must be a memory value")]
    [InlineData("hash-max-listpack-value", "10xb", "ERR argument must be a memory value")]
    [InlineData("proto-max-bulk-len", "1000", "ERR argument must be between 1048576 and 9223372036854775807 inclusive")]
    [InlineData("repl-backlog-size", "0", "ERR argument must be between 1 and 9223372036854775807 inclusive")]
    [InlineData("maxmemory-clients", "10%", "10%")]
    [InlineData("maxmemory-clients", "100%", "100%")]
    [InlineData("maxmemory-clients", "64mb", "67108864")]
    [InlineData("maxmemory-clients", "101%", "ERR percentage argument must be less or equal to 100")]
    [InlineData("maxmemory-clients", "-5", "ERR argument must be a memory or percent value")]
    [InlineData("maxmemory-clients", "%", "ERR argument must be a memory or percent value")]
    public void MemoryAndPercentSettings(string name, string value, string expected) => Assert.Equal(expected, SetAndGet(name, value));

    [Theory]
    [InlineData("700", "700")]
    [InlineData("0777", "777")]
    [InlineData("800", "ERR argument couldn't be parsed as an octal number")]
    [InlineData("1000", "ERR argument must be between 0 and 777 inclusive")]
    public void OctalSetting(string value, string expected) => Assert.Equal(expected, SetAndGet("unixsocketperm", value));

    [Theory]
    [InlineData("appendfilename", "", "ERR appendfilename can't be empty")]
    [InlineData("appendfilename", "a/b.aof", "ERR appendfilename can't be a path, just a filename")]
    [InlineData("appenddirname", "a/b", "ERR appenddirname can't be a path, just a dirname")]
    [InlineData("dbfilename", "x/y.rdb", "ERR dbfilename can't be a path, just a filename")]
    [InlineData("dbfilename", "", "")]
    [InlineData("cluster-announce-hostname", "bad host", "ERR Hostnames may only contain alphanumeric characters, hyphens or dots")]
    [InlineData("cluster-announce-hostname", "good-host.example", "good-host.example")]
    [InlineData("proc-title-template", "{nosuch}", "ERR template format is invalid or contains unknown variables")]
    [InlineData("proc-title-template", "{title}", "ERR template format is invalid or contains unknown variables")]
    [InlineData("proc-title-template", "{title} {port}", "{title} {port}")]
    [InlineData("masteruser", "bob", "bob")]
    public void StringSettings(string name, string value, string expected) => Assert.Equal(expected, SetAndGet(name, value));

    [Theory]
    [InlineData("save", "3600 1 300 100", "3600 1 300 100")]
    [InlineData("save", "0100 1", "100 1")]
    [InlineData("save", "3600", "ERR Invalid save parameters")]
    [InlineData("save", "0 1", "ERR Invalid save parameters")]
    [InlineData("save", "10 -1", "ERR Invalid save parameters")]
    [InlineData("save", "abc 1", "ERR Invalid save parameters")]
    [InlineData("notify-keyspace-events", "KEA", "AKE")]
    [InlineData("notify-keyspace-events", "Kx$", "$xK")]
    [InlineData("notify-keyspace-events", "Eg$lshzxetdnm", "AEm")]
    [InlineData("notify-keyspace-events", "KEn", "nKE")]
    [InlineData("notify-keyspace-events", "Z", "ERR Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")]
    [InlineData("latency-tracking-info-percentiles", "50 99.99 100", "50 99.99 100")]
    [InlineData("latency-tracking-info-percentiles", "0.5 1e1", "0.5 10")]
    [InlineData("latency-tracking-info-percentiles", "", "")]
    [InlineData("latency-tracking-info-percentiles", "101", "ERR latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")]
    [InlineData("latency-tracking-info-percentiles", "abc", "ERR Invalid latency-tracking-info-percentiles parameters")]
    [InlineData("oom-score-adj-values", "10 20 30", "10 20 30")]
    [InlineData("oom-score-adj-values", "1 2", "ERR wrong number of arguments")]
    [InlineData("oom-score-adj-values", "0 0 3000", "ERR Invalid oom-score-adj-values, elements must be between -2000 and 2000.")]
    [InlineData("replicaof", "127.0.0.1 6380", "127.0.0.1 6380")]
    [InlineData("slaveof", "no one", "")]
    [InlineData("replicaof", "host 70000", "ERR Invalid master port")]
    [InlineData("client-output-buffer-limit", "replica 1mb 2mb 3", "normal 0 0 0 slave 1048576 2097152 3 pubsub 33554432 8388608 60")]
    public void SpecialSettings(string name, string value, string expected) => Assert.Equal(expected, SetAndGet(name, value));

    [Fact]
    public void AliasesReachTheSameTypedSetting()
    {
        var options = new ServerOptions();
        Assert.Same(ConfigParameters.Find("hash-max-listpack-entries"), ConfigParameters.Find("HASH-MAX-ZIPLIST-ENTRIES"));
        Assert.Equal("100", SetAndGet(options, "hash-max-ziplist-entries", "100"));
        Assert.Equal(100, options.HashMaxListpackEntries);
        Assert.Equal("7", SetAndGet(options, "zset-max-ziplist-entries", "7"));
        Assert.Equal(7, options.ZsetMaxListpackEntries);
        Assert.Equal("1024", SetAndGet(options, "zset-max-ziplist-value", "1kb"));
        Assert.Equal(1024, options.ZsetMaxListpackValue);
        Assert.Equal("5", SetAndGet(options, "list-max-ziplist-size", "5"));
        Assert.Equal(5, options.ListMaxListpackSize);
        Assert.Equal("100", SetAndGet(options, "lua-time-limit", "100"));
        Assert.Equal("100", ConfigParameters.Find("busy-reply-threshold")!.Get(options));
        Assert.True(ConfigParameters.TryFind("Slave-Read-Only", out ConfigParameter p, out string registered));
        Assert.Equal(("replica-read-only", "slave-read-only"), (p.Name, registered));
        Assert.False(ConfigParameters.TryFind("nosuch", out _, out _));
        // Each alias is listed once, right after its setting.
        Assert.Equal(ConfigParameters.Names.Count, ConfigParameters.Names.Select(n => n.Name).Distinct().Count());
        Assert.Contains(("repl-ping-slave-period", ConfigParameters.Find("repl-ping-replica-period")!), ConfigParameters.Names);
    }

    [Fact]
    public void DefaultsAreRedisDefaultsAndReadBack()
    {
        var options = new ServerOptions();
        Assert.Equal(512, options.HashMaxListpackEntries);
        Assert.Equal(64, options.HashMaxListpackValue);
        Assert.Equal(512, options.SetMaxIntsetEntries);
        Assert.Equal(128, options.ZsetMaxListpackEntries);
        Assert.Equal(64, options.ZsetMaxListpackValue);
        Assert.Equal(-2, options.ListMaxListpackSize);
        Assert.Equal(0, options.ListCompressDepth);
        Assert.Equal(ProtectedAction.No, options.EnableDebugCommand);
        Assert.Equal("0 200 800", ConfigParameters.Find("oom-score-adj-values")!.Default);
        Assert.Equal("{title} {listen-addr} {server-mode}", ConfigParameters.Find("proc-title-template")!.Default);
        Assert.Equal("104857600", ConfigParameters.Find("active-defrag-ignore-bytes")!.Default);
        Assert.Equal("50 99 99.9", ConfigParameters.Find("latency-tracking-info-percentiles")!.Default);
        // Every default is a value its own setter accepts and prints unchanged (what CONFIG SET's rollback relies on), but
        // replicaof's: a master's empty value is not a "host port" pair, and Redis refuses replicaof "" as well.
        Assert.Equal("wrong number of arguments", ConfigParameters.Find("replicaof")!.Set(new ServerOptions(), ""));
        foreach (ConfigParameter p in ConfigParameters.All.Where(p => p.Name != "replicaof"))
        {
            var fresh = new ServerOptions();
            Assert.True(p.Set(fresh, p.Default) == null, $"{p.Name}: its default '{p.Default}' is refused");
            Assert.True(p.Get(fresh) == p.Default, $"{p.Name}: '{p.Default}' reads back as '{p.Get(fresh)}'");
        }
    }

    [Fact]
    public void ProtectedActionsFollowRedisAllowProtectedAction()
    {
        Assert.False(ServerOptions.IsAllowed(ProtectedAction.No, isLocalClient: true));
        Assert.True(ServerOptions.IsAllowed(ProtectedAction.Yes, isLocalClient: false));
        Assert.True(ServerOptions.IsAllowed(ProtectedAction.Local, isLocalClient: true));
        Assert.False(ServerOptions.IsAllowed(ProtectedAction.Local, isLocalClient: false));
    }

    [Theory]
    [InlineData(ProtectedAction.No, "-ERR CONFIG SET failed (possibly related to argument 'DIR') - can't set protected config\r\n")]
    [InlineData(ProtectedAction.Local, "+OK\r\n")] // the test client connects over loopback
    [InlineData(ProtectedAction.Yes, "+OK\r\n")]
    public async Task ConfigSetOfAProtectedSettingFollowsEnableProtectedConfigs(ProtectedAction allowed, string reply)
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableProtectedConfigs = allowed);
        using var c = new RespTestClient(host.Port);
        string before = host.Server.Options.Dir;
        Assert.Equal(reply, c.Call("CONFIG", "SET", "DIR", _directory));
        Assert.Equal(reply == "+OK\r\n" ? _directory : before, host.Server.Options.Dir);
        Assert.Equal(reply.Replace("'DIR'", "'dbfilename'"), c.Call("CONFIG", "SET", "dbfilename", "x.rdb"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'enable-protected-configs') - can't set immutable config\r\n",
            c.Call("CONFIG", "SET", "enable-protected-configs", "yes"));
    }

    [Fact]
    public async Task ConfigGetListsAliasesAsNamesOfTheirOwnAndSetNamesTheAliasInErrors()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("*4\r\n$25\r\nzset-max-listpack-entries\r\n$3\r\n128\r\n$24\r\nzset-max-ziplist-entries\r\n$3\r\n128\r\n",
            c.Call("CONFIG", "GET", "zset-max-*-entries"));
        Assert.Equal("*2\r\n$24\r\nHASH-MAX-ZIPLIST-ENTRIES\r\n$3\r\n512\r\n", c.Call("CONFIG", "GET", "HASH-MAX-ZIPLIST-ENTRIES", "hash-max-ziplist-entries"));
        Assert.Equal("*4\r\n$2\r\nhz\r\n$2\r\n10\r\n$14\r\nlua-time-limit\r\n$4\r\n5000\r\n", c.Call("CONFIG", "GET", "?z", "lua-time-limit", "h?"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument couldn't be parsed into an integer\r\n",
            c.Call("CONFIG", "SET", "HASH-MAX-ZIPLIST-ENTRIES", "abc"));
        // A setting and its alias are two parameters to Redis 7.0 (no duplicate error); the later value wins.
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "hash-max-ziplist-entries", "5", "hash-max-listpack-entries", "6"));
        Assert.Equal(6, host.Server.Options.HashMaxListpackEntries);
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - duplicate parameter\r\n",
            c.Call("CONFIG", "SET", "lua-time-limit", "1", "lua-time-limit", "2"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'slaveof') - can't set immutable config\r\n", c.Call("CONFIG", "SET", "slaveof", "no one"));
        // All or nothing: a later invalid value puts back the stored and typed values set before it.
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n",
            c.Call("CONFIG", "SET", "tcp-keepalive", "10", "set-max-intset-entries", "3", "notify-keyspace-events", "Q"));
        Assert.Equal("*4\r\n$13\r\ntcp-keepalive\r\n$3\r\n300\r\n$22\r\nset-max-intset-entries\r\n$3\r\n512\r\n",
            c.Call("CONFIG", "GET", "tcp-keepalive", "set-max-intset-entries"));
    }

    [Fact]
    public void ConfigFileDirectives()
    {
        string included = Path.Combine(_directory, "a.conf");
        File.WriteAllText(included, "tcp-keepalive 77\nsave 60 1\n");
        File.WriteAllText(Path.Combine(_directory, "b.conf"), "hz 20\n");
        var options = new ServerOptions();
        string config = $"save 900 1\ninclude {Path.Combine(_directory, "*.conf")}\ninclude {Path.Combine(_directory, "none-*.conf")}\n"
            + "list-max-ziplist-entries 5\nshutdown-on-sigterm \"save now\"\nclient-output-buffer-limit replica 256mb 64mb 60\nsentinel\n"
            + "slave-read-only no\nbind \"127.0.0.1 -::1\"\n";
        Assert.Null(RedisConfigText.Apply(options, config));
        Assert.Equal("900 1 60 1", options.Save); // a second save line adds its pairs, as Redis's loader does
        Assert.Equal("77", ConfigParameters.Find("tcp-keepalive")!.Get(options));
        Assert.Equal("20", ConfigParameters.Find("hz")!.Get(options));
        Assert.Equal("save now", ConfigParameters.Find("shutdown-on-sigterm")!.Get(options));
        Assert.Equal("no", ConfigParameters.Find("replica-read-only")!.Get(options));
        Assert.Equal(["127.0.0.1", "-::1"], options.Bind);
        Assert.Null(RedisConfigText.Apply(options, "save \"\"\nsave 10 1\n"));
        Assert.Equal("10 1", options.Save);

        Assert.Equal($"Fatal error, can't open config file '{Path.Combine(_directory, "missing.conf")}': No such file or directory",
            RedisConfigText.Apply(new ServerOptions(), $"include {Path.Combine(_directory, "missing.conf")}"));
        File.WriteAllText(included, "port 1\nport x\n");
        Assert.Equal("Reading the configuration file, at line 2\n>>> 'port x'\nargument couldn't be parsed into an integer",
            RedisConfigText.Apply(new ServerOptions(), $"# first\ninclude {included}\n"));
        Assert.EndsWith("\nNo such command in rename-command", RedisConfigText.Apply(new ServerOptions(), "rename-command nosuch x"));
        var renamed = new ServerOptions();
        Assert.Null(RedisConfigText.Apply(renamed, "rename-command FLUSHALL \"\"\nrename-command get fetch"));
        Assert.Equal([("FLUSHALL", ""), ("get", "fetch")], renamed.RenamedCommands);
        Assert.EndsWith("\nNo such command in rename-command", RedisConfigText.Apply(renamed, "rename-command get x"));
        Assert.EndsWith("\nTarget command name already exists", RedisConfigText.Apply(new ServerOptions(), "rename-command get set"));
        var users = new ServerOptions();
        Assert.Null(RedisConfigText.Apply(users, "user alice on >pw ~k* +get\nuser bob (+set ~x*)"));
        Assert.Equal([["alice", "on", ">pw", "~k*", "+get"], ["bob", "(+set ~x*)"]], users.ConfigUsers);
        Assert.EndsWith("\nError in user declaration 'alice': Duplicate user found. A user can only be defined once in config files",
            RedisConfigText.Apply(users, "user alice on"));
        Assert.EndsWith("\nError in user declaration 'user': Syntax error", RedisConfigText.Apply(new ServerOptions(), "user carol bogus"));
        Assert.EndsWith("\nsentinel directive while not in sentinel mode", RedisConfigText.Apply(new ServerOptions(), "sentinel monitor x"));
        Assert.EndsWith("\nModule config specified without value", RedisConfigText.Apply(new ServerOptions(), "mod.x"));
        Assert.EndsWith("\nBad directive or wrong number of arguments", RedisConfigText.Apply(new ServerOptions(), "list-max-ziplist-entries 1 2"));
        Assert.EndsWith("\nwrong number of arguments", RedisConfigText.Apply(new ServerOptions(), "oom-score-adj-values 1 2"));
    }

    [Fact]
    public void RewriteWritesAliasesUnderTheirNameKeepsDirectivesAndOmitsDefaults()
    {
        var options = new ServerOptions();
        string old = "include /etc/x.conf\nrename-command FLUSHALL \"\"\nhash-max-ziplist-entries 100\nslave-read-only no\ntcp-keepalive 300\nsave 900 1\nsave 300 10\n";
        Assert.Null(RedisConfigText.Apply(options, "hash-max-ziplist-entries 100\nslave-read-only no\ntcp-keepalive 300\nsave 900 1\nsave 300 10\n"));
        Assert.Null(ConfigParameters.Find("maxmemory-clients")!.Set(options, "10%"));
        Assert.Null(ConfigParameters.Find("proto-max-bulk-len")!.Set(options, "2mb"));
        Assert.Null(ConfigParameters.Find("masteruser")!.Set(options, "a b"));
        string rewritten = ConfigRewriter.Rewrite(old, options);
        string[] lines = rewritten.Split('\n');
        Assert.Equal("include /etc/x.conf", lines[0]);
        Assert.Equal("rename-command FLUSHALL \"\"", lines[1]);
        Assert.Equal("hash-max-listpack-entries 100", lines[2]);
        Assert.Equal("replica-read-only no", lines[3]);
        Assert.Equal("tcp-keepalive 300", lines[4]); // in the file at its default: kept in place
        Assert.Equal("save 900 1", lines[5]);
        Assert.Equal("save 300 10", lines[6]);
        string appended = rewritten[rewritten.IndexOf(ConfigRewriter.Signature, StringComparison.Ordinal)..];
        Assert.Contains("\nmaxmemory-clients 10%\n", appended);
        Assert.Contains("\nproto-max-bulk-len 2mb\n", appended);
        Assert.Contains("\nmasteruser \"a b\"\n", appended);
        Assert.Contains("\nlatency-tracking-info-percentiles 50 99 99.9\n", appended);
        // Settings at their default and absent from the file are not written.
        Assert.DoesNotContain("hz ", appended);
        Assert.DoesNotContain("replicaof", appended);
        Assert.DoesNotContain("notify-keyspace-events", appended);

        // The rewritten file reads back to the same values.
        var reread = new ServerOptions();
        Assert.Null(RedisConfigText.Apply(reread, rewritten.Replace("include /etc/x.conf\n", "").Replace("rename-command FLUSHALL \"\"\n", "")));
        foreach (ConfigParameter p in ConfigParameters.All.Where(p => p.Name != "dir"))
            Assert.True(p.Get(reread) == p.Get(options), $"{p.Name}: '{p.Get(reread)}' after the rewrite, '{p.Get(options)}' before");
    }
}
