using System.Globalization;
using System.Text.RegularExpressions;
using RespKv.Commands;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>COMMAND, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME, INFO and SHUTDOWN against Redis 7.0.15's replies.</summary>
public sealed class ServerCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Pong = "+PONG\r\n";

    private static string Bulk(string s) => $"${s.Length}\r\n{s}\r\n";

    /// <summary>The payload of a bulk string (RESP2) or verbatim string (RESP3, without its <c>txt:</c>) reply.</summary>
    internal static string Payload(string reply)
    {
        int start = reply.IndexOf("\r\n", StringComparison.Ordinal) + 2;
        int length = int.Parse(reply.AsSpan(1, start - 3), CultureInfo.InvariantCulture);
        Assert.Equal(start + length + 2, reply.Length);
        Assert.EndsWith("\r\n", reply);
        string payload = reply.Substring(start, length);
        if (reply[0] == '=')
        {
            Assert.StartsWith("txt:", payload);
            return payload[4..];
        }
        Assert.Equal('$', reply[0]);
        return payload;
    }

    /// <summary>Parses INFO text into its section names (in order) and field:value pairs, checking Redis's layout.</summary>
    internal static (List<string> Sections, Dictionary<string, string> Fields) ParseInfo(string text)
    {
        var sections = new List<string>();
        var fields = new Dictionary<string, string>();
        if (text.Length == 0) return (sections, fields);
        Assert.EndsWith("\r\n", text);
        string[] lines = text[..^2].Split("\r\n");
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                // Sections after the first are preceded by one empty line.
                if (sections.Count > 0) Assert.Equal("", lines[i - 1]);
                sections.Add(line[2..]);
            }
            else if (line.Length == 0) Assert.StartsWith("# ", lines[i + 1]);
            else
            {
                int colon = line.IndexOf(':');
                Assert.True(colon > 0, $"not a field line: '{line}'");
                fields.Add(line[..colon], line[(colon + 1)..]);
            }
        }
        return (sections, fields);
    }

    private static Dictionary<string, string> InfoFields(RespTestClient c, params string[] sections) =>
        ParseInfo(Payload(c.Call(["INFO", .. sections]))).Fields;

    private static long Number(Dictionary<string, string> fields, string name) =>
        long.Parse(fields[name], CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ COMMAND

    [Fact]
    public void CommandCountIsTheNumberOfTopLevelCommands()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal($":{server.Host.Server.Commands.All.Count}\r\n", c.Call("COMMAND", "COUNT"));
        Assert.Equal("-ERR wrong number of arguments for 'command|count' command\r\n", c.Call("COMMAND", "COUNT", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandInfoGivesRedisSevenEntries()
    {
        using RespTestClient c = server.Connect();
        // redis-cli of redis-server 7.0.15: GET's key spec (index 1, range 0) is in the entry.
        const string get = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
        const string configGet = "*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n";
        Assert.Equal("*1\r\n" + get, c.Call("COMMAND", "INFO", "get"));
        Assert.Equal("*4\r\n" + configGet + configGet + "$-1\r\n$-1\r\n", c.Call("COMMAND", "INFO", "config|get", "CONFIG|GET", "config|nosuch", "get|x"));
        Assert.Equal("*2\r\n$-1\r\n" + get, c.Call("COMMAND", "INFO", "nosuch", "GET"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandInfoPrintsRedisFlagsCategoriesAndTips()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(
            "*5\r\n" +
            "*10\r\n$6\r\ndbsize\r\n:1\r\n*2\r\n+readonly\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@keyspace\r\n+@read\r\n+@fast\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n$23\r\nresponse_policy:agg_sum\r\n*0\r\n*0\r\n" +
            "*10\r\n$7\r\nflushdb\r\n:-1\r\n*1\r\n+write\r\n:0\r\n:0\r\n:0\r\n*4\r\n+@keyspace\r\n+@write\r\n+@slow\r\n+@dangerous\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n*0\r\n*0\r\n" +
            "*10\r\n$4\r\ntime\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@fast\r\n*1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n" +
            "*10\r\n$8\r\nshutdown\r\n:-1\r\n*6\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n+no_multi\r\n+allow_busy\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n" +
            "*10\r\n$11\r\nclient|list\r\n:-2\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*4\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n+@connection\r\n*1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n",
            c.Call("COMMAND", "INFO", "dbsize", "flushdb", "time", "shutdown", "client|list"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandInfoOfAContainerListsItsSubcommands()
    {
        using RespTestClient c = server.Connect();
        string reply = c.Call("COMMAND", "INFO", "config");
        Assert.StartsWith("*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n*5\r\n*10\r\n$10\r\nconfig|get\r\n", reply);
        Assert.Contains("$10\r\nconfig|set\r\n:-4\r\n", reply);
        Assert.Contains("$16\r\nconfig|resetstat\r\n:2\r\n", reply);
        Assert.Contains("$11\r\nconfig|help\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n", reply);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandWithoutArgumentsListsEveryCommand()
    {
        using RespTestClient c = server.Connect();
        int count = server.Host.Server.Commands.All.Count;
        string all = c.Call("COMMAND");
        Assert.StartsWith($"*{count}\r\n*10\r\n", all);
        Assert.Contains("*10\r\n$3\r\nget\r\n:2\r\n", all);
        Assert.Contains("*10\r\n$4\r\ninfo\r\n:-1\r\n", all);
        Assert.Equal(all, c.Call("COMMAND", "INFO"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandInfoInResp3UsesSets()
    {
        using RespTestClient c = server.Connect();
        Assert.StartsWith("%7\r\n", c.Call("HELLO", "3"));
        Assert.Equal("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n_\r\n",
            c.Call("COMMAND", "INFO", "get", "nosuch"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandDocsGivesRedisDocuments()
    {
        using RespTestClient c = server.Connect();
        const string getDoc = "*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";
        Assert.Equal("*2\r\n$3\r\nget\r\n" + getDoc, c.Call("COMMAND", "DOCS", "get", "nosuch"));
        Assert.Equal("*0\r\n", c.Call("COMMAND", "DOCS", "nosuch"));
        Assert.Equal("*2\r\n$10\r\nconfig|get\r\n*12\r\n$7\r\nsummary\r\n$42\r\nGet the values of configuration parameters\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\nO(N) when N is the number of configuration parameters provided\r\n$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$65\r\nAdded the ability to pass multiple pattern parameters in one call\r\n$9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n$9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n",
            c.Call("COMMAND", "DOCS", "Config|GET"));
        string config = c.Call("COMMAND", "DOCS", "config");
        Assert.StartsWith("*2\r\n$6\r\nconfig\r\n*10\r\n$7\r\nsummary\r\n$45\r\nA container for server configuration commands\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$22\r\nDepends on subcommand.\r\n$11\r\nsubcommands\r\n*10\r\n$10\r\nconfig|get\r\n*12\r\n", config);
        Assert.StartsWith($"*{2 * server.Host.Server.Commands.All.Count}\r\n", c.Call("COMMAND", "DOCS"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandDocsInResp3IsAMapOfMaps()
    {
        using RespTestClient c = server.Connect();
        c.Call("HELLO", "3");
        Assert.Equal("%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n",
            c.Call("COMMAND", "DOCS", "get"));
        Assert.StartsWith("%1\r\n$6\r\nclient\r\n%5\r\n$7\r\nsummary\r\n", c.Call("COMMAND", "DOCS", "client"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandListFiltersByPatternCategoryAndModule()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*6\r\n$6\r\nconfig\r\n$10\r\nconfig|get\r\n$11\r\nconfig|help\r\n$16\r\nconfig|resetstat\r\n$14\r\nconfig|rewrite\r\n$10\r\nconfig|set\r\n",
            c.Call("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"));
        Assert.Equal("*1\r\n$10\r\nconfig|get\r\n", c.Call("COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG|G*"));
        string admin = c.Call("COMMAND", "LIST", "filterby", "aclcat", "ADMIN");
        Assert.Contains("$10\r\nconfig|get\r\n", admin);
        Assert.Contains("$8\r\nshutdown\r\n", admin);
        Assert.DoesNotContain("$3\r\nget\r\n", admin);
        Assert.Equal("*0\r\n", c.Call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"));
        Assert.Equal("*0\r\n", c.Call("COMMAND", "LIST", "FILTERBY", "MODULE", "x"));
        string all = c.Call("COMMAND", "LIST");
        Assert.Contains("$3\r\nget\r\n", all);
        Assert.Contains("$9\r\nclient|id\r\n", all);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandListRejectsMalformedFilters()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR syntax error\r\n", c.Call("COMMAND", "LIST", "FILTERBY"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COMMAND", "LIST", "x"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COMMAND", "LIST", "FILTERBY", "foo", "x"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"));
        Assert.Equal("-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n", c.Call("COMMAND", "foo"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandGetKeysUsesTheKeySpecs()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*1\r\n$1\r\na\r\n", c.Call("COMMAND", "GETKEYS", "GET", "a"));
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nc\r\n", c.Call("COMMAND", "GETKEYS", "mset", "a", "b", "c", "d"));
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nc\r\n", c.Call("COMMAND", "GETKEYS", "mset", "a", "b", "c"));
        Assert.Equal("-ERR Invalid command specified\r\n", c.Call("COMMAND", "GETKEYS", "nosuch", "a"));
        Assert.Equal("-ERR Invalid command specified\r\n", c.Call("COMMAND", "GETKEYS", "config", "nosuch"));
        Assert.Equal("-ERR The command has no key arguments\r\n", c.Call("COMMAND", "GETKEYS", "ping", "a"));
        Assert.Equal("-ERR The command has no key arguments\r\n", c.Call("COMMAND", "GETKEYS", "config", "get", "a"));
        Assert.Equal("-ERR Invalid number of arguments specified for command\r\n", c.Call("COMMAND", "GETKEYS", "get", "a", "b"));
        Assert.Equal("-ERR Invalid number of arguments specified for command\r\n", c.Call("COMMAND", "GETKEYS", "mset", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'command|getkeys' command\r\n", c.Call("COMMAND", "GETKEYS", "get"));
        Assert.Equal("-ERR The command has no key arguments\r\n", c.Call("COMMAND", "GETKEYS", "object", "help"));
        Assert.Equal("*1\r\n$1\r\nk\r\n", c.Call("COMMAND", "GETKEYS", "OBJECT", "FREQ", "k"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandGetKeysAndFlagsGivesEachKeysSpecFlags()
    {
        using RespTestClient c = server.Connect();
        // redis-server 7.0.15's replies.
        Assert.Equal("*2\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n",
            c.Call("COMMAND", "GETKEYSANDFLAGS", "copy", "a", "b"));
        Assert.Equal("*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n", c.Call("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"));
        Assert.Equal("*1\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+update\r\n", c.Call("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "get"));
        Assert.Equal("-ERR Invalid command specified\r\n", c.Call("COMMAND", "GETKEYSANDFLAGS", "nosuch", "a"));
        Assert.Equal("-ERR wrong number of arguments for 'command|getkeysandflags' command\r\n", c.Call("COMMAND", "GETKEYSANDFLAGS", "get"));
        c.Call("HELLO", "3");
        Assert.Equal("*2\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nb\r\n~2\r\n+OW\r\n+update\r\n",
            c.Call("COMMAND", "GETKEYSANDFLAGS", "copy", "a", "b"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void CommandHelpIsRedisHelp()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(
            "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n" +
            "+    Return details about all Redis commands.\r\n+COUNT\r\n+    Return the total number of commands in this Redis server.\r\n" +
            "+LIST\r\n+    Return a list of all commands in this Redis server.\r\n+INFO [<command-name> ...]\r\n" +
            "+    Return details about multiple Redis commands.\r\n+    If no command names are given, documentation details for all\r\n" +
            "+    commands are returned.\r\n+DOCS [<command-name> ...]\r\n+    Return documentation details about multiple Redis commands.\r\n" +
            "+    If no command names are given, documentation details for all\r\n+    commands are returned.\r\n+GETKEYS <full-command>\r\n" +
            "+    Return the keys from a full Redis command.\r\n+GETKEYSANDFLAGS <full-command>\r\n" +
            "+    Return the keys and the access flags from a full Redis command.\r\n+HELP\r\n+    Prints this help.\r\n",
            c.Call("COMMAND", "HELP"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ------------------------------------------------------------------ CONFIG

    [Fact]
    public void ConfigGetMatchesGlobsCaseInsensitivelyAndEchoesExactNames()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*2\r\n$4\r\nsave\r\n$0\r\n\r\n", c.Call("CONFIG", "GET", "save"));
        Assert.Equal("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", c.Call("CONFIG", "GET", "appendonly"));
        Assert.Equal("*2\r\n$7\r\nTIMEOUT\r\n$1\r\n0\r\n", c.Call("CONFIG", "GET", "TIMEOUT"));
        Assert.Equal("*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n", c.Call("CONFIG", "GET", "timeout", "TIME*", "timeout"));
        Assert.Equal("*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n", c.Call("CONFIG", "GET", "MAXMEMORY-P*"));
        Assert.Equal("*4\r\n$7\r\ntimeout\r\n$1\r\n0\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n", c.Call("CONFIG", "GET", "timeout", "maxc?ients"));
        Assert.Equal("*0\r\n", c.Call("CONFIG", "GET", "nosuch"));
        Assert.Equal("*0\r\n", c.Call("CONFIG", "GET", "port["));
        Assert.Equal("-ERR wrong number of arguments for 'config|get' command\r\n", c.Call("CONFIG", "GET"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ConfigGetAnswersEveryParameterForStar()
    {
        using RespTestClient c = server.Connect();
        string reply = c.Call("CONFIG", "GET", "*");
        // Every name and every alias, each once (Redis 7.0 lists aliases as names of their own).
        Assert.StartsWith($"*{2 * ConfigParameters.Names.Count}\r\n", reply);
        Assert.True(ConfigParameters.Names.Count > ConfigParameters.All.Count);
        foreach ((string name, _) in ConfigParameters.Names) Assert.Contains(Bulk(name), reply);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ConfigGetInResp3IsAMap()
    {
        using RespTestClient c = server.Connect();
        c.Call("HELLO", "3");
        Assert.Equal("%2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", c.Call("CONFIG", "GET", "timeout", "appendonly"));
        Assert.Equal("%0\r\n", c.Call("CONFIG", "GET", "nosuch"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetThenGetRoundTrips()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "timeout", "300"));
        Assert.Equal("*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n", c.Call("CONFIG", "GET", "timeout"));
        Assert.Equal(300, host.Server.Options.Timeout);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "MaxMemory-Policy", "ALLKEYS-LRU", "appendfsync", "always"));
        Assert.Equal("*4\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n",
            c.Call("CONFIG", "GET", "maxmemory-policy", "appendfsync"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetErrorsNameTheArgumentAsRedisDoes()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n", c.Call("CONFIG", "SET", "foo", "bar"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n", c.Call("CONFIG", "SET", "port", "1234"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set immutable config\r\n", c.Call("CONFIG", "SET", "DATABASES", "3"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer\r\n", c.Call("CONFIG", "SET", "TIMEOUT", "abc"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n", c.Call("CONFIG", "SET", "timeout", "-1"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter\r\n", c.Call("CONFIG", "SET", "timeout", "5", "TIMEOUT", "6"));
        // The first problem in argument order wins; an unknown name after an immutable one is not reported.
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n", c.Call("CONFIG", "SET", "timeout", "5", "databases", "3", "foo", "1"));
        Assert.Equal("-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n", c.Call("CONFIG", "SET", "foo", "1", "databases", "3"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("CONFIG", "SET", "timeout", "5", "loglevel"));
        Assert.Equal("-ERR wrong number of arguments for 'config|set' command\r\n", c.Call("CONFIG", "SET", "timeout"));
        Assert.Equal("*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n", c.Call("CONFIG", "GET", "timeout"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetIsAllOrNothing()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n",
            c.Call("CONFIG", "SET", "timeout", "77", "maxmemory-policy", "allkeys-lru", "maxmemory", "abc"));
        Assert.Equal("*4\r\n$7\r\ntimeout\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n", c.Call("CONFIG", "GET", "timeout", "maxmemory-policy"));
        Assert.Equal(0, host.Server.Options.Timeout);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void ConfigHelpAndUnknownSubcommand()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(
            "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n" +
            "+    Return parameters matching the glob-like <pattern> and their values.\r\n+SET <directive> <value>\r\n" +
            "+    Set the configuration <directive> to <value>.\r\n+RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n" +
            "+REWRITE\r\n+    Rewrite the configuration file.\r\n" +
            "+HELP\r\n+    Prints this help.\r\n",
            c.Call("CONFIG", "HELP"));
        Assert.Equal("-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n", c.Call("CONFIG", "foo"));
        Assert.Equal("-ERR wrong number of arguments for 'config' command\r\n", c.Call("CONFIG"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ConfigResetStatRestartsTheCounters()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        c.Call("SET", "reset:k", "v");
        c.Call("GET", "reset:k");
        c.Call("GET", "reset:missing");
        Dictionary<string, string> before = InfoFields(c, "stats");
        Assert.True(Number(before, "total_commands_processed") >= 4);
        Assert.Equal(1, Number(before, "keyspace_hits"));
        Assert.Equal(1, Number(before, "keyspace_misses"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "RESETSTAT"));
        Dictionary<string, string> after = InfoFields(c, "stats");
        Assert.Equal(1, Number(after, "total_commands_processed")); // this INFO
        Assert.Equal(0, Number(after, "keyspace_hits"));
        Assert.Equal(0, Number(after, "keyspace_misses"));
        Assert.Equal(0, Number(after, "total_connections_received"));
        Assert.Equal("-ERR wrong number of arguments for 'config|resetstat' command\r\n", c.Call("CONFIG", "RESETSTAT", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ------------------------------------------------------------------ DBSIZE, FLUSHDB, FLUSHALL, TIME

    [Fact]
    public async Task DbSizeFlushDbAndFlushAll()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal(":0\r\n", c.Call("DBSIZE"));
        c.Call("SET", "a", "1");
        c.Call("SET", "b", "2");
        Assert.Equal(":2\r\n", c.Call("DBSIZE"));
        Assert.Equal("+OK\r\n", c.Call("SELECT", "1"));
        c.Call("SET", "c", "3");
        Assert.Equal(":1\r\n", c.Call("DBSIZE"));
        Assert.Equal("+OK\r\n", c.Call("FLUSHDB"));
        Assert.Equal(":0\r\n", c.Call("DBSIZE"));
        c.Call("SET", "c", "3");
        Assert.Equal("+OK\r\n", c.Call("SELECT", "0"));
        Assert.Equal(":2\r\n", c.Call("DBSIZE"));
        Assert.Equal("+OK\r\n", c.Call("FLUSHDB", "async"));
        Assert.Equal(":0\r\n", c.Call("DBSIZE"));
        Assert.Equal(1, host.Server.Keyspace.TotalKeys);
        c.Call("SET", "a", "1");
        Assert.Equal("+OK\r\n", c.Call("FLUSHALL", "SYNC"));
        Assert.Equal(0, host.Server.Keyspace.TotalKeys);
        Assert.Equal("+OK\r\n", c.Call("FLUSHALL"));
        Assert.Equal("-ERR wrong number of arguments for 'dbsize' command\r\n", c.Call("DBSIZE", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void FlushOptionsOtherThanAsyncOrSyncAreSyntaxErrors()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR syntax error\r\n", c.Call("FLUSHDB", "x"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("FLUSHDB", "SYNC", "x"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("FLUSHALL", "ASYNC", "x"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("FLUSHALL", "now"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void TimeIsUnixSecondsAndMicroseconds()
    {
        using RespTestClient c = server.Connect();
        string reply = c.Call("TIME");
        Match m = Regex.Match(reply, @"^\*2\r\n\$(\d+)\r\n(\d+)\r\n\$(\d+)\r\n(\d+)\r\n$");
        Assert.True(m.Success, reply);
        Assert.Equal(m.Groups[2].Length, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(m.Groups[4].Length, int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
        long seconds = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        long micros = long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.InRange(micros, 0, 999_999);
        Assert.Equal("-ERR wrong number of arguments for 'time' command\r\n", c.Call("TIME", "x"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ------------------------------------------------------------------ INFO

    [Fact]
    public void InfoDefaultHasRedisSectionsAndRequiredFields()
    {
        using RespTestClient c = server.Connect();
        c.Call("SET", "info:default", "v");
        string reply = c.Call("INFO");
        Assert.StartsWith("$", reply);
        (List<string> sections, Dictionary<string, string> f) = ParseInfo(Payload(reply));
        Assert.Equal(["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace", "Keyspace_totals"], sections);
        Assert.Equal("7.0.15", f["redis_version"]);
        Assert.Equal(RespServer.Version, f["respkv_version"]);
        Assert.Equal("standalone", f["redis_mode"]);
        Assert.StartsWith(Environment.OSVersion.Platform == PlatformID.Unix ? "Linux " : "", f["os"]);
        Assert.Equal("64", f["arch_bits"]);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), f["process_id"]);
        Assert.Equal(server.Host.Server.RunId, f["run_id"]);
        Assert.Matches("^[0-9a-f]{40}$", f["run_id"]);
        Assert.Equal(server.Port.ToString(CultureInfo.InvariantCulture), f["tcp_port"]);
        Assert.True(Number(f, "uptime_in_seconds") >= 0);
        Assert.Equal("0", f["uptime_in_days"]);
        Assert.Equal(Environment.ProcessPath, f["executable"]);
        Assert.Equal("", f["config_file"]);
        Assert.True(Number(f, "connected_clients") >= 1);
        Assert.Equal("0", f["blocked_clients"]);
        Assert.Equal("10000", f["maxclients"]);
        foreach (string name in new[] { "total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
                     "total_net_input_bytes", "total_net_output_bytes", "rejected_connections", "expired_keys", "evicted_keys",
                     "keyspace_hits", "keyspace_misses" })
            Assert.True(Number(f, name) >= 0, name);
        Assert.Matches(@"^keys=\d+,expires=0,avg_ttl=0$", f["db0"]);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void InfoSectionsAreCaseInsensitiveCombinableAndInRedisOrder()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(["Clients", "Keyspace"], ParseInfo(Payload(c.Call("INFO", "KEYSPACE", "clients"))).Sections);
        Assert.Equal(["Server"], ParseInfo(Payload(c.Call("INFO", "Server", "server", "nosuch"))).Sections);
        Assert.Equal(["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace", "Keyspace_totals"], ParseInfo(Payload(c.Call("INFO", "everything"))).Sections);
        Assert.Equal(["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace", "Keyspace_totals"], ParseInfo(Payload(c.Call("INFO", "all"))).Sections);
        Assert.Equal(["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace", "Keyspace_totals"], ParseInfo(Payload(c.Call("INFO", "default", "stats"))).Sections);
        Assert.Equal(["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Cluster", "Keyspace", "Keyspace_totals"], ParseInfo(Payload(c.Call("INFO", "default", "commandstats"))).Sections);
        Assert.Equal(["CPU", "Commandstats", "Errorstats"], ParseInfo(Payload(c.Call("INFO", "errorstats", "commandstats", "cpu"))).Sections);
        string clients = Payload(c.Call("INFO", "clients"));
        Assert.Matches(@"^# Clients\r\nconnected_clients:\d+\r\ncluster_connections:0\r\nmaxclients:10000\r\nclient_recent_max_input_buffer:0\r\n" +
            @"client_recent_max_output_buffer:0\r\nblocked_clients:0\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n$", clients);
        Assert.Equal("$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n", c.Call("INFO", "CLUSTER"));
        Assert.Equal("$11\r\n# Modules\r\n\r\n", c.Call("INFO", "modules"));
        Assert.Equal("$0\r\n\r\n", c.Call("INFO", "nosuch"));
        Assert.Equal("$0\r\n\r\n", c.Call("INFO", "nosuch", "other"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    /// <summary>
    /// The field names of redis-server 7.0.15's INFO sections (appendonly no), in its order, as monitoring tools such as
    /// prometheus-redis-exporter read them; RespKv adds only <c>respkv_version</c> (after <c>redis_build_id</c>).
    /// </summary>
    private static readonly Dictionary<string, string> Redis70InfoFields = new()
    {
        ["server"] = "redis_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os arch_bits monotonic_clock multiplexing_api atomicvar_api gcc_version process_id process_supervised run_id tcp_port server_time_usec uptime_in_seconds uptime_in_days hz configured_hz lru_clock executable config_file io_threads_active",
        ["clients"] = "connected_clients cluster_connections maxclients client_recent_max_input_buffer client_recent_max_output_buffer blocked_clients tracking_clients clients_in_timeout_table",
        ["memory"] = "used_memory used_memory_human used_memory_rss used_memory_rss_human used_memory_peak used_memory_peak_human used_memory_peak_perc used_memory_overhead used_memory_startup used_memory_dataset used_memory_dataset_perc allocator_allocated allocator_active allocator_resident total_system_memory total_system_memory_human used_memory_lua used_memory_vm_eval used_memory_lua_human used_memory_scripts_eval number_of_cached_scripts number_of_functions number_of_libraries used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human used_memory_functions used_memory_scripts used_memory_scripts_human maxmemory maxmemory_human maxmemory_policy allocator_frag_ratio allocator_frag_bytes allocator_rss_ratio allocator_rss_bytes rss_overhead_ratio rss_overhead_bytes mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict mem_replication_backlog mem_total_replication_buffers mem_clients_slaves mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator active_defrag_running lazyfree_pending_objects lazyfreed_objects",
        ["persistence"] = "loading async_loading current_cow_peak current_cow_size current_cow_size_age current_fork_perc current_save_keys_processed current_save_keys_total rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_save_time rdb_last_bgsave_status rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec rdb_saves rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size module_fork_in_progress module_fork_last_cow_size",
        ["stats"] = "total_connections_received total_commands_processed instantaneous_ops_per_sec total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps instantaneous_input_repl_kbps instantaneous_output_repl_kbps rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys evicted_clients total_eviction_exceeded_time current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels latest_fork_usec total_forks migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits active_defrag_misses active_defrag_key_hits active_defrag_key_misses total_active_defrag_time current_active_defrag_time tracking_total_keys tracking_total_items tracking_total_prefixes unexpected_error_replies total_error_replies dump_payload_sanitizations total_reads_processed total_writes_processed io_threaded_reads_processed io_threaded_writes_processed reply_buffer_shrinks reply_buffer_expands",
        ["replication"] = "role connected_slaves master_failover_state master_replid master_replid2 master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size repl_backlog_first_byte_offset repl_backlog_histlen",
        ["cpu"] = "used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children used_cpu_sys_main_thread used_cpu_user_main_thread",
        ["cluster"] = "cluster_enabled",
    };

    [Fact]
    public async Task InfoHasEveryRedis70FieldInRedisOrder()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.AppendOnly = false);
        using var c = new RespTestClient(host.Port);
        foreach ((string section, string names) in Redis70InfoFields)
        {
            string text = Payload(c.Call("INFO", section));
            List<string> actual = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).Select(l => l[..l.IndexOf(':')]).ToList();
            List<string> expected = names.Split(' ').ToList();
            if (section == "server") expected.Insert(expected.IndexOf("redis_build_id") + 1, "respkv_version");
            Assert.Equal(expected, actual);
        }
        (_, Dictionary<string, string> f) = ParseInfo(Payload(c.Call("INFO", "everything")));
        Assert.Equal("10", f["hz"]);
        Assert.Equal("1048576", f["repl_backlog_size"]);
        Assert.Equal("no", f["process_supervised"]);
        Assert.True(Number(f, "total_system_memory") > 0);
        Assert.True(Number(f, "allocator_allocated") > 0);
        Assert.True(Number(f, "total_reads_processed") >= 2, f["total_reads_processed"]); // this connection's INFO commands
        Assert.True(Number(f, "total_writes_processed") >= Redis70InfoFields.Count, f["total_writes_processed"]);
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "hz", "50"));
        Assert.Contains("\r\nhz:50\r\nconfigured_hz:50\r\n", Payload(c.Call("INFO", "server")));
    }

    [Fact]
    public async Task InfoKeyspaceListsOnlyNonEmptyDatabases()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal("$12\r\n# Keyspace\r\n\r\n", c.Call("INFO", "keyspace"));
        c.Call("SET", "a", "1");
        c.Call("SET", "b", "1");
        c.Call("SELECT", "5");
        c.Call("SET", "c", "1");
        Assert.Equal(Bulk("# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n"), c.Call("INFO", "keyspace"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task InfoCountersChangeWhenCommandsRun()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Dictionary<string, string> before = InfoFields(c);
        Assert.Equal(1, Number(before, "connected_clients"));
        Assert.Equal(1, Number(before, "total_connections_received"));
        c.Call("SET", "k", "v");
        c.Call("GET", "k");
        c.Call("GET", "k");
        c.Call("GET", "missing");
        using (var other = new RespTestClient(host.Port))
        {
            Assert.Equal(Pong, other.Call("PING"));
            Dictionary<string, string> during = InfoFields(c, "clients", "stats");
            Assert.Equal(2, Number(during, "connected_clients"));
            Assert.Equal(2, Number(during, "total_connections_received"));
        }
        Dictionary<string, string> after = InfoFields(c, "stats", "keyspace");
        Assert.Equal(Number(before, "total_commands_processed") + 7, Number(after, "total_commands_processed"));
        Assert.Equal(Number(before, "keyspace_hits") + 2, Number(after, "keyspace_hits"));
        Assert.Equal(Number(before, "keyspace_misses") + 1, Number(after, "keyspace_misses"));
        Assert.True(Number(after, "total_net_input_bytes") > Number(before, "total_net_input_bytes"));
        Assert.True(Number(after, "total_net_output_bytes") > Number(before, "total_net_output_bytes"));
        Assert.Equal("keys=1,expires=0,avg_ttl=0", after["db0"]);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task InfoInstantaneousOpsPerSecFollowsTheLoad()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var load = new RespTestClient(host.Port);
        using var c = new RespTestClient(host.Port);
        byte[] pings = RespTestClient.Encode("PING");
        long peak = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 1500)
        {
            for (int i = 0; i < 200; i++) load.SendRaw(pings);
            for (int i = 0; i < 200; i++) Assert.Equal(Pong, load.ReadReply());
            if (clock.ElapsedMilliseconds > 500)
                peak = Math.Max(peak, Number(InfoFields(c, "stats"), "instantaneous_ops_per_sec"));
        }
        Assert.True(peak > 100, $"instantaneous_ops_per_sec stayed at {peak} under load");
        // The rate averages the cron's last 16 samples (1.6 s at 100 ms ticks); once they all postdate the load it is
        // 0 again. Polled, because under a loaded test run the cron's ticks come late (it takes its samples by tick);
        // 2.5 s apart, so the INFO that polls has itself left the window by the next poll.
        long settled = -1;
        var idle = System.Diagnostics.Stopwatch.StartNew();
        while (idle.ElapsedMilliseconds < 15_000)
        {
            await Task.Delay(2500);
            settled = Number(InfoFields(c, "stats"), "instantaneous_ops_per_sec");
            if (settled == 0) break;
        }
        Assert.Equal(0, settled);
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public void InfoInResp3IsVerbatimText()
    {
        using RespTestClient c = server.Connect();
        c.Call("HELLO", "3");
        string reply = c.Call("INFO", "server");
        Assert.StartsWith("=", reply);
        Assert.Contains("\r\ntxt:# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:", reply);
        Assert.Equal(["Server"], ParseInfo(Payload(reply)).Sections);
        Assert.Equal("=4\r\ntxt:\r\n", c.Call("INFO", "nosuch"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    // ------------------------------------------------------------------ SHUTDOWN

    [Fact]
    public void ShutdownRejectsBadOptionsAndAbortWithoutShutdown()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("-ERR No shutdown in progress.\r\n", c.Call("SHUTDOWN", "ABORT"));
        Assert.Equal("-ERR No shutdown in progress.\r\n", c.Call("SHUTDOWN", "abort", "ABORT"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SHUTDOWN", "foo"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SHUTDOWN", "NOSAVE", "SAVE"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SHUTDOWN", "ABORT", "NOW"));
        Assert.Equal("-ERR syntax error\r\n", c.Call("SHUTDOWN", "NOSAVE", "NOSAVE", "ABORT"));
        Assert.Equal(Pong, c.Call("PING"));
    }

    [Fact]
    public async Task ShutdownRefusesWhenTheSaveFails()
    {
        // dir/dbfilename is a directory: the save fails, so SHUTDOWN (SAVE, or save points without NOSAVE) refuses, as Redis.
        using var dir = new Persistence.TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "dump.rdb"));
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.Dir = dir.Path);
        using var c = new RespTestClient(host.Port);
        Assert.Equal("-ERR Errors trying to SHUTDOWN. Check logs.\r\n", c.Call("SHUTDOWN", "SAVE"));
        Assert.Equal("+OK\r\n", c.Call("CONFIG", "SET", "save", "60 1"));
        Assert.Equal("-ERR Errors trying to SHUTDOWN. Check logs.\r\n", c.Call("SHUTDOWN"));
        Assert.Equal(Pong, c.Call("PING"));
        Assert.False(host.Stopping.IsCancellationRequested);
    }

    [Fact]
    public async Task ShutdownStopsTheServerWithoutAReply()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        using var c = new RespTestClient(host.Port);
        Assert.Equal(Pong, c.Call("PING"));
        c.SendRaw(RespTestClient.Encode("SHUTDOWN", "NOSAVE", "NOW"));
        Assert.True(c.IsClosedByServer());
        Assert.True(host.Stopping.IsCancellationRequested);
    }

    [Fact]
    public async Task ShutdownSaveForceStopsTheServer()
    {
        using var dir = new Persistence.TempDir();
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.Dir = dir.Path);
        using var c = new RespTestClient(host.Port);
        c.SendRaw(RespTestClient.Encode("SHUTDOWN", "SAVE", "FORCE"));
        Assert.True(c.IsClosedByServer());
        Assert.True(host.Stopping.IsCancellationRequested);
        // SAVE writes the dataset before stopping, as Redis's prepareForShutdown.
        Assert.True(File.Exists(Path.Combine(dir.Path, "dump.rdb")));
    }
}
