using RespKv.Tests.Support;

namespace RespKv.Tests.Scripting;

/// <summary>
/// EVAL's conversions both ways (Redis 7.0's Lua API reference tables, RESP2 and RESP3), its error texts, the Lua 5.1
/// globals and the sandbox — each expected reply is what redis-server 7.0.15 answers to the same command.
/// </summary>
public sealed class ScriptingConversionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string Eval(RespTestClient c, string script, params string[] keysThenArgs)
    {
        var args = new List<string> { "EVAL", script };
        args.AddRange(keysThenArgs.Length == 0 ? ["0"] : keysThenArgs);
        return c.Call(args.ToArray());
    }

    private static string Sha(string script) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(script)));

    [Theory]
    [InlineData("return 3.99", ":3\r\n")]
    [InlineData("return -3.99", ":-3\r\n")]
    [InlineData("return 3.0", ":3\r\n")]
    [InlineData("return 0/0", ":-9223372036854775808\r\n")]
    [InlineData("return 'x'", "$1\r\nx\r\n")]
    [InlineData("return true", ":1\r\n")]
    [InlineData("return false", "$-1\r\n")]
    [InlineData("return nil", "$-1\r\n")]
    [InlineData("return {1,2,3,'x',nil,4}", "*4\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n")]
    [InlineData("return {1,{2,nil,3},4}", "*3\r\n:1\r\n*1\r\n:2\r\n:4\r\n")]
    [InlineData("return {err='My Error'}", "-My Error\r\n")]
    [InlineData("return {1,2,err='x'}", "-x\r\n")]
    [InlineData("return {ok='fine'}", "+fine\r\n")]
    [InlineData("return {ok='a\\r\\nb'}", "+a  b\r\n")]
    [InlineData("return {ok=1}", "*0\r\n")]
    [InlineData("return {double=3.5}", "$3\r\n3.5\r\n")]
    [InlineData("return {map={a=1}}", "*2\r\n$1\r\na\r\n:1\r\n")]
    [InlineData("return {set={a=true}}", "*1\r\n$1\r\na\r\n")]
    [InlineData("return {big_number='123'}", "$3\r\n123\r\n")]
    [InlineData("return {verbatim_string={format='txt',string='abc'}}", "$3\r\nabc\r\n")]
    [InlineData("return redis.error_reply('xx')", "-ERR xx\r\n")]
    [InlineData("return redis.error_reply('-X y')", "-X y\r\n")]
    [InlineData("return redis.error_reply()", "-ERR wrong number or type of arguments\r\n")]
    [InlineData("return redis.status_reply('yy')", "+yy\r\n")]
    [InlineData("return redis.sha1hex('')", "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n")]
    [InlineData("return redis.setresp(3) or redis.call('ping')", "+PONG\r\n")]
    [InlineData("return redis.call('ping').ok", "$4\r\nPONG\r\n")]
    [InlineData("return {redis.call('get','conv:none') == false}", "*1\r\n:1\r\n")]
    [InlineData("redis.setresp(3) return {redis.call('get','conv:none') == nil}", "*1\r\n:1\r\n")]
    [InlineData("redis.setresp(3) return true", ":1\r\n")]
    [InlineData("redis.setresp(3) return false", ":0\r\n")]
    [InlineData("return redis.REDIS_VERSION .. ' ' .. redis.REDIS_VERSION_NUM", "$13\r\n7.0.15 458767\r\n")]
    [InlineData("return _VERSION", "$7\r\nLua 5.1\r\n")]
    [InlineData("return tostring(3.0)", "$1\r\n3\r\n")]
    [InlineData("return string.format('%d', 3.5)", "$1\r\n3\r\n")]
    [InlineData("return math.mod(7,3)", ":1\r\n")]
    [InlineData("return table.getn({1,2})", ":2\r\n")]
    [InlineData("return unpack({1,2})", ":1\r\n")]
    [InlineData("local f = loadstring('return 5') return f()", ":5\r\n")]
    [InlineData("return redis.replicate_commands()", ":1\r\n")]
    [InlineData("return redis.breakpoint()", "$-1\r\n")]
    public void LuaValuesBecomeRedis7Replies(string script, string expected) =>
        Assert.Equal(expected, Eval(server.Connect(), script));

    [Fact]
    public void Resp3CallerGetsResp3Types()
    {
        using RespTestClient c = server.Connect();
        Assert.StartsWith("%", c.Call("HELLO", "3"));
        Assert.Equal("#t\r\n", Eval(c, "redis.setresp(3) return true"));
        Assert.Equal("#f\r\n", Eval(c, "redis.setresp(3) return false"));
        Assert.Equal(":1\r\n", Eval(c, "return true"));
        Assert.Equal("_\r\n", Eval(c, "return false"));
        Assert.Equal(",3.5\r\n", Eval(c, "return {double=3.5}"));
        Assert.Equal("%1\r\n$1\r\na\r\n:1\r\n", Eval(c, "return {map={a=1}}"));
        Assert.Equal("~1\r\n$1\r\na\r\n", Eval(c, "return {set={a=true}}"));
        Assert.Equal("(123\r\n", Eval(c, "return {big_number='123'}"));
        Assert.Equal("=7\r\ntxt:abc\r\n", Eval(c, "return {verbatim_string={format='txt',string='abc'}}"));
        // redis.call's reply converts by the script's RESP (setresp), the script's return by the caller's.
        c.Call("HSET", "conv:h3", "f", "v");
        Assert.Equal("%1\r\n$1\r\nf\r\n$1\r\nv\r\n", Eval(c, "redis.setresp(3) return redis.call('hgetall', KEYS[1])", "1", "conv:h3"));
        Assert.Equal("*2\r\n$1\r\nf\r\n$1\r\nv\r\n", Eval(c, "return redis.call('hgetall', KEYS[1])", "1", "conv:h3"));
        Assert.Equal("$1\r\nv\r\n", Eval(c, "redis.setresp(3) return redis.call('hgetall', KEYS[1]).map.f", "1", "conv:h3"));
        c.Call("ZADD", "conv:z3", "1.5", "m");
        Assert.Equal("$3\r\n1.5\r\n", Eval(c, "redis.setresp(3) return tostring(redis.call('zscore', KEYS[1], 'm').double)", "1", "conv:z3"));
    }

    [Fact]
    public void KeysArgvAndNumbersAsArguments()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("*2\r\n$1\r\na\r\n$1\r\nb\r\n", Eval(c, "return {KEYS[1],ARGV[1]}", "1", "a", "b"));
        Assert.Equal("+OK\r\n", Eval(c, "return redis.call('set', KEYS[1], 0.1)", "1", "conv:n"));
        Assert.Equal("$19\r\n0.10000000000000001\r\n", c.Call("GET", "conv:n"));
        Assert.Equal("+OK\r\n", Eval(c, "return redis.call('set', KEYS[1], 42)", "1", "conv:n"));
        Assert.Equal("$2\r\n42\r\n", c.Call("GET", "conv:n"));
        Assert.Equal(":43\r\n", Eval(c, "return redis.call('incr', KEYS[1])", "1", "conv:n"));
    }

    [Fact]
    public void ErrorTextsMatchRedis()
    {
        using RespTestClient c = server.Connect();
        string Err(string script, string message) => $"-{message} script: {Sha(script)}, on @user_script:1.\r\n";
        foreach ((string script, string message) in new[]
        {
            ("return redis.call('nosuch')", "ERR Unknown Redis command called from script"),
            ("return redis.call()", "ERR Please specify at least one argument for this redis lib call"),
            ("return redis.call('get')", "ERR Wrong number of args calling Redis command from script"),
            ("return redis.call('get', {})", "ERR Lua redis lib command arguments must be strings or integers"),
            ("return redis.call('multi')", "ERR This Redis command is not allowed from script"),
            ("return redis.call('blpop','x',0)", "ERR This Redis command is not allowed from script"),
            ("return x", "ERR user_script:1: Script attempted to access nonexistent global variable 'x'"),
            ("x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
            ("redis.call = nil", "ERR user_script:1: Attempt to modify a readonly table"),
            ("string.x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
            ("rawset(_G,'x',1) return 1", "ERR Attempt to modify a readonly table"),
            ("error('boom')", "ERR user_script:1: boom"),
            ("error({err='boom'})", "boom"),
            ("return redis.setresp(4)", "ERR RESP version must be 2 or 3."),
            ("return redis.set_repl(99)", "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."),
            ("redis.log(1)", "ERR redis.log() requires two arguments or more."),
            ("return redis.sha1hex()", "ERR wrong number of arguments"),
            ("coroutine.yield()", "ERR attempt to yield across metamethod/C-call boundary"),
            ("return type(print)", "ERR user_script:1: Script attempted to access nonexistent global variable 'print'"),
            ("return os.time()", "ERR user_script:1: Script attempted to access nonexistent global variable 'os'"),
        })
            Assert.Equal(Err(script, message), Eval(c, script));
        c.Call("SET", "conv:s", "a");
        const string incr = "redis.call('incr','conv:k1')\nreturn redis.call('incr','conv:s')";
        Assert.Equal($"-ERR value is not an integer or out of range script: {Sha(incr)}, on @user_script:2.\r\n", Eval(c, incr));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", Eval(c, "return redis.pcall('incr','conv:s')"));
        Assert.Equal("*2\r\n$-1\r\n$43\r\nERR value is not an integer or out of range\r\n",
            Eval(c, "return {pcall(function() redis.call('incr','conv:s') end)}"));
        Assert.Equal("-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n", Eval(c, "return 1 +"));
        Assert.Equal("-NOSCRIPT No matching script. Please use EVAL.\r\n", c.Call("EVALSHA", new string('0', 40), "0"));
        Assert.Equal("-NOSCRIPT No matching script. Please use EVAL.\r\n", c.Call("EVALSHA", "abc", "0"));
        Assert.Equal("-ERR Number of keys can't be negative\r\n", c.Call("EVAL", "return 1", "-1"));
        Assert.Equal("-ERR Number of keys can't be greater than number of args\r\n", c.Call("EVAL", "return 1", "3", "a"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", c.Call("EVAL", "return 1", "x"));
    }

    [Fact]
    public void ShebangFlagsAndReadOnlyScripts()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(":1\r\n", Eval(c, "#!lua\nreturn 1"));
        Assert.Equal("-ERR Unexpected flag in script shebang: bad\r\n", Eval(c, "#!lua flags=bad\nreturn 1"));
        Assert.Equal("-ERR Unexpected engine in script shebang: #!lux\r\n", Eval(c, "#!lux\nreturn 1"));
        Assert.Equal("-ERR Unknown lua shebang option: foo=bar\r\n", Eval(c, "#!lua foo=bar\nreturn 1"));
        Assert.Equal("-ERR Invalid script shebang\r\n", Eval(c, "#!lua"));
        Assert.Equal("-ERR Can not execute a script with write flag using *_ro command.\r\n", c.Call("EVAL_RO", "#!lua\nreturn 1", "0"));
        Assert.Equal(":1\r\n", c.Call("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"));
        const string noWrites = "#!lua flags=no-writes\nreturn redis.call('set','conv:ro','b')";
        Assert.Equal($"-ERR Write commands are not allowed from read-only scripts. script: {Sha(noWrites)}, on @user_script:2.\r\n", Eval(c, noWrites));
        const string ro = "return redis.call('set','conv:ro','b')";
        Assert.Equal($"-ERR Write commands are not allowed from read-only scripts. script: {Sha(ro)}, on @user_script:1.\r\n", c.Call("EVAL_RO", ro, "0"));
        Assert.Equal("$-1\r\n", c.Call("GET", "conv:ro"));
    }

    [Fact]
    public void ScriptCacheCommands()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n", c.Call("SCRIPT", "LOAD", "return 1"));
        Assert.Equal("*2\r\n:0\r\n:1\r\n", c.Call("SCRIPT", "EXISTS", "a", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"));
        Assert.Equal(":1\r\n", c.Call("EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"));
        Assert.Equal("-ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'\r\n", c.Call("SCRIPT", "LOAD", "return +"));
        Assert.Equal("-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n", c.Call("SCRIPT", "FLUSH", "X"));
        Assert.Equal("-ERR Use SCRIPT DEBUG YES/SYNC/NO\r\n", c.Call("SCRIPT", "DEBUG", "X"));
        Assert.Equal("+OK\r\n", c.Call("SCRIPT", "DEBUG", "NO"));
        Assert.Equal("-NOTBUSY No scripts in execution right now.\r\n", c.Call("SCRIPT", "KILL"));
        Assert.Equal("-ERR unknown subcommand 'FOO'. Try SCRIPT HELP.\r\n", c.Call("SCRIPT", "FOO"));
        Assert.StartsWith("*17\r\n+SCRIPT <subcommand>", c.Call("SCRIPT", "HELP"));
    }

    [Fact]
    public void SelectInsideAScriptChangesOnlyTheScriptsDatabase()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal("$1\r\ny\r\n", Eval(c, "redis.call('select', 9) redis.call('set', 'conv:sel', 'y') return redis.call('get', 'conv:sel')"));
        Assert.Equal("$-1\r\n", c.Call("GET", "conv:sel"));
        c.Call("SELECT", "9");
        Assert.Equal("$1\r\ny\r\n", c.Call("GET", "conv:sel"));
    }
}
