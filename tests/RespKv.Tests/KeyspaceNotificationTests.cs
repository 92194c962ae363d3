using RespKv.Execution;
using RespKv.Server;
using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Keyspace notifications seen by another connection (https://redis.io/docs/manual/keyspace-notifications/): every
/// command of the table flagged <c>write</c> has an example invocation here and the keyevents Redis 7.0 publishes for it
/// (the event table of the documentation, with the order and the <c>new</c>/<c>del</c> events of Redis's source:
/// <c>dbAdd</c> announces <c>new</c>, an emptied aggregate <c>del</c>) — a write command added without an example fails
/// <see cref="EveryWriteCommandPublishesItsEvents"/>. Also: <c>expired</c> from lazy and active expiry, <c>evicted</c>
/// from maxmemory eviction, <c>keymiss</c>, and a blocked pop served by another client's push. The pushes a RESP3 client
/// gets for its own commands, relative to their replies, are compared with redis-server 7.0 by the
/// <c>notifications</c> conformance family.
/// </summary>
public sealed class KeyspaceNotificationTests
{
    /// <summary>One example: keys prepared by <paramref name="Setup"/>, then <paramref name="Command"/>; the keyevent names
    /// Redis 7.0 publishes for it in order (<c>name@db</c> for a database other than 0).</summary>
    public sealed record Example(string[][] Setup, string[] Command, string[] Events);

    private static Example E(string command, params string[] events) => new([], Split(command), events);

    private static Example E(string[] setup, string command, params string[] events) =>
        new([.. setup.Select(Split)], Split(command), events);

    private static string[] Split(string line) => line.Split(' ');

    /// <summary>A DUMP payload of the string "v" for the RESTORE examples.</summary>
    private static readonly string RestorePayload =
        System.Text.Encoding.Latin1.GetString(RespKv.Commands.DumpCommands.Payload("v"u8.ToArray(), new RespKv.Configuration.ServerOptions()));

    /// <summary>A function library for the FUNCTION examples.</summary>
    private const string Library = "#!lua name=n\nredis.register_function('nf', function() return 1 end)";

    /// <summary>
    /// The write commands that publish no keyspace event in Redis 7.0, each with the reason (checked against
    /// <c>db.c</c>: none of these commands calls <c>notifyKeyspaceEvent</c>).
    /// </summary>
    public static readonly Dictionary<string, string> WithoutEvents = new()
    {
        ["flushall"] = "flushallCommand empties every database without a per-key or per-database event",
        ["flushdb"] = "flushdbCommand empties the database without a per-key event",
        ["swapdb"] = "swapdbCommand swaps the databases without an event (it only signals WATCH and blocked clients)",
        ["pfdebug"] = "pfdebugCommand converts a sparse HyperLogLog to dense (GETREG, TODENSE) with no notifyKeyspaceEvent",
    };

    /// <summary>
    /// Per write command (lower case): an invocation and the keyevents Redis 7.0 publishes for it, from the
    /// keyspace-notifications documentation's per-command list and Redis's source (t_string.c, t_list.c, t_set.c,
    /// t_zset.c, t_hash.c, t_stream.c, db.c, expire.c, sort.c, bitops.c, hyperloglog.c, geo.c) — not from RespKv's output.
    /// </summary>
    public static readonly Dictionary<string, Example> Examples = new()
    {
        ["append"] = E(["SET k a"], "APPEND k b", "append"),
        ["bitfield"] = E("BITFIELD k SET u8 0 1 GET u8 0", "new", "setbit"),
        ["bitop"] = E(["SET a x"], "BITOP NOT d a", "new", "set"),
        // Functions change no key (functions.c notifies nothing); FLUSHALL keeps libraries, so each example starts from none.
        ["function|delete"] = new([["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", Library]], ["FUNCTION", "DELETE", "n"], []),
        ["function|flush"] = new([["FUNCTION", "LOAD", Library]], ["FUNCTION", "FLUSH"], []),
        ["function|load"] = new([["FUNCTION", "FLUSH"]], ["FUNCTION", "LOAD", Library], []),
        ["function|restore"] = new([["FUNCTION", "FLUSH"]],
            ["FUNCTION", "RESTORE", System.Text.Encoding.Latin1.GetString(RespKv.Scripting.Functions.FunctionPayload.Write([System.Text.Encoding.ASCII.GetBytes(Library)]))], []),
        ["blmove"] = E(["RPUSH s a"], "BLMOVE s d LEFT RIGHT 0", "new", "rpush", "lpop", "del"),
        ["blmpop"] = E(["RPUSH l a"], "BLMPOP 0 1 l LEFT", "lpop", "del"),
        ["blpop"] = E(["RPUSH l a b"], "BLPOP l 0", "lpop"),
        ["brpop"] = E(["RPUSH l a"], "BRPOP l 0", "rpop", "del"),
        ["brpoplpush"] = E(["RPUSH s a b"], "BRPOPLPUSH s d 0", "new", "lpush", "rpop"),
        ["copy"] = E(["SET k v"], "COPY k k2", "new", "copy_to"),
        // restoreCommand: dbAdd ("new"), then "restore".
        ["restore"] = new([], ["RESTORE", "k", "0", RestorePayload], ["new", "restore"]),
        ["restore-asking"] = new([], ["RESTORE-ASKING", "k", "0", RestorePayload], ["new", "restore"]),
        // MIGRATE to this very server ($PORT), database 1: the target's RESTORE announces there, then the source deletes.
        ["migrate"] = E(["SET k v"], "MIGRATE 127.0.0.1 $PORT k 1 5000", "new@1", "restore@1", "del"),
        ["decr"] = E(["SET n 5"], "DECR n", "incrby"),
        ["decrby"] = E(["SET n 5"], "DECRBY n 2", "incrby"),
        ["del"] = E(["SET k v"], "DEL k", "del"),
        ["expire"] = E(["SET k v"], "EXPIRE k 100", "expire"),
        ["expireat"] = E(["SET k v"], "EXPIREAT k 4000000000", "expire"),
        ["getdel"] = E(["SET k v"], "GETDEL k", "del"),
        ["getex"] = E(["SET k v"], "GETEX k EX 100", "expire"),
        ["getset"] = E(["SET k v"], "GETSET k w", "set"),
        ["hdel"] = E(["HSET h f v g w"], "HDEL h f", "hdel"),
        ["hexpire"] = E(["HSET h f v"], "HEXPIRE h 100 FIELDS 1 f", "hexpire"), // Redis 7.4 (t_hash.c hashTypeSetExDone)
        ["hpexpire"] = E(["HSET h f v g w"], "HPEXPIRE h 0 FIELDS 1 f", "hdel"),
        ["hexpireat"] = E(["HSET h f v"], "HEXPIREAT h 1 FIELDS 1 f", "hdel", "del"),
        ["hpexpireat"] = E(["HSET h f v"], "HPEXPIREAT h 9999999999999 FIELDS 1 f", "hexpire"),
        ["hpersist"] = E(["HSET h f v", "HEXPIRE h 100 FIELDS 1 f"], "HPERSIST h FIELDS 1 f", "hpersist"),
        ["hgetdel"] = E(["HSET h f v"], "HGETDEL h FIELDS 1 f", "hdel", "del"), // Redis 8.0
        ["hgetex"] = E(["HSET h f v"], "HGETEX h EX 100 FIELDS 1 f", "hexpire"),
        ["hsetex"] = E("HSETEX h EX 100 FIELDS 1 f v", "new", "hset", "hexpire"),
        ["hincrby"] = E("HINCRBY h f 1", "new", "hincrby"),
        ["hincrbyfloat"] = E("HINCRBYFLOAT h f 1.5", "new", "hincrbyfloat"),
        ["hmset"] = E("HMSET h f v", "new", "hset"),
        ["hset"] = E("HSET h f v", "new", "hset"),
        ["hsetnx"] = E("HSETNX h f v", "new", "hset"),
        ["incr"] = E("INCR n", "new", "incrby"),
        ["incrby"] = E("INCRBY n 3", "new", "incrby"),
        ["incrbyfloat"] = E("INCRBYFLOAT n 1.5", "new", "incrbyfloat"),
        ["linsert"] = E(["RPUSH l a"], "LINSERT l BEFORE a x", "linsert"),
        ["lmove"] = E(["RPUSH s a"], "LMOVE s d LEFT RIGHT", "new", "rpush", "lpop", "del"),
        ["lmpop"] = E(["RPUSH l a b"], "LMPOP 1 l RIGHT", "rpop"),
        ["lpop"] = E(["RPUSH l a b"], "LPOP l", "lpop"),
        ["lpush"] = E("LPUSH l a", "new", "lpush"),
        ["lpushx"] = E(["RPUSH l a"], "LPUSHX l b", "lpush"),
        ["lrem"] = E(["RPUSH l a b"], "LREM l 0 a", "lrem"),
        ["lset"] = E(["RPUSH l a"], "LSET l 0 b", "lset"),
        ["ltrim"] = E(["RPUSH l a b c"], "LTRIM l 0 1", "ltrim"),
        ["move"] = E(["SET k v"], "MOVE k 1", "new@1", "move_from", "move_to@1"),
        ["mset"] = E("MSET a 1 b 2", "new", "set", "new", "set"),
        ["msetnx"] = E("MSETNX a 1 b 2", "new", "set", "new", "set"),
        ["persist"] = E(["SET k v EX 100"], "PERSIST k", "persist"),
        ["pexpire"] = E(["SET k v"], "PEXPIRE k 100000", "expire"),
        ["pexpireat"] = E(["SET k v"], "PEXPIREAT k 4000000000000", "expire"),
        ["pfadd"] = E("PFADD h a b", "new", "pfadd"),
        ["geoadd"] = E("GEOADD g 13.361389 38.115556 p", "new", "zadd"),
        ["georadius"] = E(["GEOADD g 13.361389 38.115556 p"], "GEORADIUS g 13 38 200 km STORE d", "new", "georadiusstore"),
        ["georadiusbymember"] = E(["GEOADD g 13.361389 38.115556 p"], "GEORADIUSBYMEMBER g p 10 km STOREDIST d", "new", "georadiusstore"),
        ["geosearchstore"] = E(["GEOADD g 13.361389 38.115556 p"], "GEOSEARCHSTORE d g FROMMEMBER p BYRADIUS 10 km", "new", "geosearchstore"),
        ["pfmerge"] = E(["PFADD a x"], "PFMERGE d a", "new", "pfadd"),
        ["psetex"] = E("PSETEX k 100000 v", "new", "set", "expire"),
        ["rename"] = E(["SET k v"], "RENAME k k2", "new", "rename_from", "rename_to"),
        ["renamenx"] = E(["SET k v"], "RENAMENX k k2", "new", "rename_from", "rename_to"),
        ["rpop"] = E(["RPUSH l a b"], "RPOP l", "rpop"),
        ["rpoplpush"] = E(["RPUSH s a b"], "RPOPLPUSH s d", "new", "lpush", "rpop"),
        ["rpush"] = E("RPUSH l a", "new", "rpush"),
        ["rpushx"] = E(["RPUSH l a"], "RPUSHX l b", "rpush"),
        ["sadd"] = E("SADD s a", "new", "sadd"),
        ["sdiffstore"] = E(["SADD a x y", "SADD b y"], "SDIFFSTORE d a b", "new", "sdiffstore"),
        ["set"] = E("SET k v", "new", "set"),
        ["setbit"] = E("SETBIT k 7 1", "new", "setbit"),
        ["setex"] = E("SETEX k 100 v", "new", "set", "expire"),
        ["setnx"] = E("SETNX k v", "new", "set"),
        ["setrange"] = E(["SET k abc"], "SETRANGE k 1 x", "setrange"),
        ["sinterstore"] = E(["SADD a x y", "SADD b y"], "SINTERSTORE d a b", "new", "sinterstore"),
        ["smove"] = E(["SADD a x", "SADD b y"], "SMOVE a b x", "srem", "del", "sadd"),
        ["sort"] = E(["RPUSH l 2 1"], "SORT l STORE d", "new", "sortstore"),
        ["spop"] = E(["SADD s a"], "SPOP s", "spop", "del"),
        ["srem"] = E(["SADD s a b"], "SREM s a", "srem"),
        ["sunionstore"] = E(["SADD a x", "SADD b y"], "SUNIONSTORE d a b", "new", "sunionstore"),
        ["unlink"] = E(["SET k v"], "UNLINK k", "del"),
        ["zadd"] = E("ZADD z 1 a", "new", "zadd"),
        ["zdiffstore"] = E(["ZADD a 1 x 2 y", "ZADD b 1 y"], "ZDIFFSTORE d 2 a b", "new", "zdiffstore"),
        ["zincrby"] = E("ZINCRBY z 1 a", "new", "zincr"),
        ["zinterstore"] = E(["ZADD a 1 x 2 y", "ZADD b 1 y"], "ZINTERSTORE d 2 a b", "new", "zinterstore"),
        ["bzmpop"] = E(["ZADD z 1 a 2 b"], "BZMPOP 0 1 z MAX COUNT 5", "zpopmax", "del"),
        ["bzpopmax"] = E(["ZADD z 1 a 2 b"], "BZPOPMAX z 0", "zpopmax"),
        ["bzpopmin"] = E(["ZADD z 1 a"], "BZPOPMIN z 0", "zpopmin", "del"),
        ["zmpop"] = E(["ZADD z 1 a 2 b"], "ZMPOP 1 z MIN", "zpopmin"),
        ["zpopmax"] = E(["ZADD z 1 a 2 b"], "ZPOPMAX z", "zpopmax"),
        ["zpopmin"] = E(["ZADD z 1 a"], "ZPOPMIN z", "zpopmin", "del"),
        ["zrangestore"] = E(["ZADD z 1 a 2 b"], "ZRANGESTORE d z 0 -1", "new", "zrangestore"),
        ["zrem"] = E(["ZADD z 1 a 2 b"], "ZREM z a", "zrem"),
        ["zremrangebylex"] = E(["ZADD z 0 a 0 b"], "ZREMRANGEBYLEX z [a [a", "zremrangebylex"),
        ["zremrangebyrank"] = E(["ZADD z 1 a 2 b"], "ZREMRANGEBYRANK z 0 0", "zremrangebyrank"),
        ["zremrangebyscore"] = E(["ZADD z 1 a 2 b"], "ZREMRANGEBYSCORE z 1 1", "zremrangebyscore"),
        ["zunionstore"] = E(["ZADD a 1 x", "ZADD b 1 y"], "ZUNIONSTORE d 2 a b", "new", "zunionstore"),
        ["xadd"] = E("XADD s 1-1 f v", "new", "xadd"),
        ["xtrim"] = E(["XADD s 1-1 f v", "XADD s 2-1 f v"], "XTRIM s MAXLEN 1", "xtrim"),
        ["xdel"] = E(["XADD s 1-1 f v"], "XDEL s 1-1", "xdel"),
        ["xsetid"] = E(["XADD s 1-1 f v"], "XSETID s 5-0", "xsetid"),
        ["xgroup|create"] = E("XGROUP CREATE s g $ MKSTREAM", "new", "xgroup-create"),
        ["xgroup|createconsumer"] = E(["XGROUP CREATE s g $ MKSTREAM"], "XGROUP CREATECONSUMER s g c", "xgroup-createconsumer"),
        ["xgroup|delconsumer"] = E(["XGROUP CREATE s g $ MKSTREAM", "XGROUP CREATECONSUMER s g c"], "XGROUP DELCONSUMER s g c", "xgroup-delconsumer"),
        ["xgroup|destroy"] = E(["XGROUP CREATE s g $ MKSTREAM"], "XGROUP DESTROY s g", "xgroup-destroy"),
        ["xgroup|setid"] = E(["XGROUP CREATE s g $ MKSTREAM"], "XGROUP SETID s g 0", "xgroup-setid"),
        // XREADGROUP, XCLAIM and XAUTOCLAIM announce only the consumer they create (streamCreateConsumer); XACK nothing.
        ["xreadgroup"] = E(["XADD s 1-1 f v", "XGROUP CREATE s g 0"], "XREADGROUP GROUP g c STREAMS s >", "xgroup-createconsumer"),
        ["xclaim"] = E(["XADD s 1-1 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >"], "XCLAIM s g d 0 1-1", "xgroup-createconsumer"),
        ["xautoclaim"] = E(["XADD s 1-1 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >"], "XAUTOCLAIM s g d 0 0", "xgroup-createconsumer"),
        ["xack"] = E(["XADD s 1-1 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >"], "XACK s g 1-1"),
    };

    /// <summary>Every command (and subcommand) of the table flagged <c>write</c>, by lower-case full name.</summary>
    private static IEnumerable<string> WriteCommands() =>
        CommandFamilies.Table.All
            .SelectMany(c => c.Subcommands is { } subs ? [c, .. subs] : new[] { c })
            .Where(c => (c.Flags & CommandFlags.Write) != 0)
            .Select(c => c.FullName.ToLowerInvariant())
            .Distinct();

    [Fact]
    public void EveryWriteCommandHasAnExampleOrAReasonForNone()
    {
        string[] missing = [.. WriteCommands().Where(n => !Examples.ContainsKey(n) && !WithoutEvents.ContainsKey(n)).Order()];
        Assert.True(missing.Length == 0, "write commands without a keyspace-notification example: " + string.Join(", ", missing));
        // The tables name only real write commands (a renamed or removed command leaves no stale row behind).
        string[] stale = [.. Examples.Keys.Concat(WithoutEvents.Keys).Except(WriteCommands()).Order()];
        Assert.True(stale.Length == 0, "rows naming no write command: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryWriteCommandPublishesItsEvents()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        (RespTestClient writer, RespTestClient subscriber) = Listen(host, "EAn", "PSUBSCRIBE", "__keyevent@*__:*");
        using var disposeWriter = writer;
        using var disposeSubscriber = subscriber;
        var failures = new List<string>();
        foreach (string name in WriteCommands().Order())
        {
            Assert.Equal("+OK\r\n", writer.Call("FLUSHALL"));
            Drain(writer, subscriber);
            if (WithoutEvents.ContainsKey(name))
            {
                writer.Call("SET", "k", "v");
                Drain(writer, subscriber);
                writer.Call(name.ToUpperInvariant());
                string[] none = Drain(writer, subscriber);
                if (none.Length != 0) failures.Add($"{name}: expected no event, got [{string.Join(", ", none)}]");
                continue;
            }
            Example example = Examples[name];
            foreach (string[] setup in example.Setup) Assert.False(writer.Call(setup).StartsWith('-'), string.Join(" ", setup));
            Drain(writer, subscriber);
            string reply = writer.Call([.. example.Command.Select(a => a == "$PORT" ? host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) : a)]);
            Assert.False(reply.StartsWith('-'), $"{name}: {reply}");
            string[] events = Drain(writer, subscriber);
            if (!events.SequenceEqual(example.Events))
                failures.Add($"{name}: expected [{string.Join(", ", example.Events)}], got [{string.Join(", ", events)}]");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// The keyevents <paramref name="subscriber"/> received since the last call (<c>event</c>, or <c>event@db</c> outside
    /// database 0; for a keyspace channel, the key): the writer publishes on <c>sync</c> after its commands and this reads up to that message (both go
    /// through the writer's thread, so every notification of its earlier commands comes first).
    /// </summary>
    private static string[] Drain(RespTestClient writer, RespTestClient subscriber)
    {
        Assert.Equal(":1\r\n", writer.Call("PUBLISH", "sync", "done"));
        var events = new List<string>();
        while (true)
        {
            string[] parts = subscriber.ReadReply().Split("\r\n");
            if (parts[2] == "message" && parts[4] == "sync") return [.. events];
            Assert.Equal("pmessage", parts[2]);
            string channel = parts[6]; // __keyevent@<db>__:<event>
            int at = channel.IndexOf('@'), end = channel.IndexOf("__:", StringComparison.Ordinal);
            string db = channel[(at + 1)..end], name = channel[(end + 3)..];
            events.Add(db == "0" ? name : name + "@" + db);
        }
    }

    [Fact]
    public async Task LazyAndActiveExpiryPublishExpired()
    {
        await using RespKvHost host = await ServerFixture.StartFresh(o => o.EnableDebugCommand = RespKv.Configuration.ProtectedAction.Yes);
        (RespTestClient writer, RespTestClient subscriber) = Listen(host, "KEx", "PSUBSCRIBE", "__key*@0__:*");
        using var disposeWriter = writer;
        using var disposeSubscriber = subscriber;

        // Lazy: the active cycle is off, so only the read finds the key expired.
        Assert.Equal("+OK\r\n", writer.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0"));
        writer.Call("SET", "lazy", "v", "PX", "20");
        await Task.Delay(100);
        Assert.Empty(Drain(writer, subscriber));
        Assert.Equal("$-1\r\n", writer.Call("GET", "lazy"));
        Assert.Equal(["lazy", "expired"], Drain(writer, subscriber)); // __keyspace@0__:lazy, then __keyevent@0__:expired

        // Active: nothing reads the key; the cycle removes it and publishes on both channels.
        Assert.Equal("+OK\r\n", writer.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1"));
        writer.Call("SET", "active", "v", "PX", "20");
        Assert.Equal(PMessage("__key*@0__:*", "__keyspace@0__:active", "expired"), subscriber.ReadReply());
        Assert.Equal(PMessage("__key*@0__:*", "__keyevent@0__:expired", "active"), subscriber.ReadReply());
        Assert.Equal(":0\r\n", writer.Call("EXISTS", "active"));
    }

    /// <summary>
    /// A writer connection with <c>notify-keyspace-events</c> set to <paramref name="classes"/>, and a subscriber connection
    /// subscribed (<paramref name="subscribe"/>: SUBSCRIBE or PSUBSCRIBE) to <paramref name="channel"/> and to <c>sync</c> (see <see cref="Drain"/>).
    /// </summary>
    private static (RespTestClient Writer, RespTestClient Subscriber) Listen(RespKvHost host, string classes, string subscribe, string channel)
    {
        var writer = new RespTestClient(host.Port);
        var subscriber = new RespTestClient(host.Port);
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "notify-keyspace-events", classes));
        subscriber.Call(subscribe, channel);
        subscriber.Call("SUBSCRIBE", "sync");
        return (writer, subscriber);
    }

    private static string PMessage(string pattern, string channel, string message) =>
        $"*4\r\n$8\r\npmessage\r\n${pattern.Length}\r\n{pattern}\r\n${channel.Length}\r\n{channel}\r\n${message.Length}\r\n{message}\r\n";

    [Fact]
    public async Task EvictionPublishesEvicted()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        (RespTestClient writer, RespTestClient subscriber) = Listen(host, "Ee", "SUBSCRIBE", "__keyevent@0__:evicted");
        using var disposeWriter = writer;
        using var disposeSubscriber = subscriber;
        string value = new('v', 1000);
        for (int i = 0; i < 200; i++) writer.Call("SET", "old:" + i, value);
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory", "100kb"));
        for (int i = 0; i < 50; i++) writer.Call("SET", "new:" + i, value);
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory", "0"));
        long evictedKeys = long.Parse(System.Text.RegularExpressions.Regex.Match(writer.Call("INFO", "stats"), @"evicted_keys:(\d+)").Groups[1].Value);
        var evicted = new List<string>();
        Assert.Equal(":1\r\n", writer.Call("PUBLISH", "sync", "done"));
        while (true)
        {
            string[] parts = subscriber.ReadReply().Split("\r\n");
            if (parts[4] == "sync") break;
            Assert.Equal("__keyevent@0__:evicted", parts[4]);
            evicted.Add(parts[6]);
        }
        // One event per evicted key, each naming a key that is gone.
        Assert.True(evicted.Count > 0);
        Assert.Equal(evictedKeys, evicted.Count);
        Assert.Equal(evicted.Count, evicted.Distinct().Count());
        foreach (string key in evicted) Assert.Equal(":0\r\n", writer.Call("EXISTS", key));
    }

    [Fact]
    public async Task LoweringMaxmemoryEvictsBeforeItsReply()
    {
        // Redis 7.0's updateMaxmemory runs performEvictions inside CONFIG SET: the evicted event comes with no other command.
        await using RespKvHost host = await ServerFixture.StartFresh();
        (RespTestClient writer, RespTestClient subscriber) = Listen(host, "Ee", "SUBSCRIBE", "__keyevent@0__:evicted");
        using var disposeWriter = writer;
        using var disposeSubscriber = subscriber;
        Assert.Equal("+OK\r\n", writer.Call("SET", "foo", "bar"));
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"));
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory", "1"));
        Assert.Equal("*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$3\r\nfoo\r\n", subscriber.ReadReply());
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "maxmemory", "0"));
    }

    [Fact]
    public async Task ReadsOfMissingKeysPublishKeymissOnlyWithClassM()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        (RespTestClient writer, RespTestClient subscriber) = Listen(host, "KEA", "PSUBSCRIBE", "__keyevent@0__:*");
        using var disposeWriter = writer;
        using var disposeSubscriber = subscriber;
        writer.Call("SET", "present", "1");
        Assert.Single(Drain(writer, subscriber));
        writer.Call("GET", "absent");
        Assert.Empty(Drain(writer, subscriber));
        Assert.Equal("+OK\r\n", writer.Call("CONFIG", "SET", "notify-keyspace-events", "Em"));
        Assert.EndsWith("$2\r\nEm\r\n", writer.Call("CONFIG", "GET", "notify-keyspace-events"));
        writer.Call("MGET", "present", "absent", "absent2");
        writer.Call("HGET", "absent", "f");
        writer.Call("GET", "present");
        // Writes look keys up for writing: no keymiss (Redis's LOOKUP_WRITE).
        writer.Call("LPOP", "absent");
        writer.Call("DEL", "absent");
        Assert.Equal(["keymiss", "keymiss", "keymiss"], Drain(writer, subscriber));
    }

    [Fact]
    public async Task ABlockedPopServedByAnotherClientsPushPublishesBoth()
    {
        await using RespKvHost host = await ServerFixture.StartFresh();
        (RespTestClient pusher, RespTestClient subscriber) = Listen(host, "EAn", "PSUBSCRIBE", "__keyevent@0__:*");
        using var disposePusher = pusher;
        using var disposeSubscriber = subscriber;
        using var waiter = new RespTestClient(host.Port);
        waiter.SendRaw(RespTestClient.Encode("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"));
        for (int i = 0; i < 200 && !pusher.Call("CLIENT", "LIST").Contains("cmd=blmove"); i++) await Task.Delay(10);
        Assert.Equal(":1\r\n", pusher.Call("RPUSH", "src", "x"));
        Assert.Equal("$1\r\nx\r\n", waiter.ReadReply());
        // The push creates and fills src; serving the waiter moves the element (Redis's serveClientBlockedOnList).
        Assert.Equal(["new", "rpush", "new", "rpush", "lpop", "del"], Drain(pusher, subscriber));
    }
}
