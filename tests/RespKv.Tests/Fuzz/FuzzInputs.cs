using System.Text;
using CsCheck;
using RespKv.Execution;
using RespKv.Server;

namespace RespKv.Tests.Fuzz;

/// <summary>
/// CsCheck generators of what a client can send (issue 21 point 6): RESP frames — well-formed multibulk and inline
/// requests, RESP3-typed and other unknown leading bytes, huge and negative lengths, truncated frames, binary junk and
/// byte-level mutations of valid frames — and argument vectors for every command of <see cref="CommandFamilies.Table"/>
/// (subcommands included), either shaped by the command's Redis 7.0 docs (its tokens, optional and repeated arguments,
/// one-ofs) or of random arity, with values drawn from numbers (negative, huge, out of range), floats (NaN, infinities,
/// 1e400), the command's keywords, patterns, stream IDs and binary strings.
/// </summary>
public static class FuzzInputs
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>Keys the generated commands share (a few, so that successive commands meet each other's values).</summary>
    public static readonly string[] Keys = ["k1", "k2", "{k}3", "k4"];

    /// <summary>Integers: small, edges of 32 and 64 bits, Redis's limits (512 MB strings, 2^32 bits), and malformed ones.</summary>
    public static readonly string[] Integers =
    [
        "0", "1", "-1", "2", "3", "5", "10", "-10", "100", "1000", "65535", "65536", "-65536", "2147483647", "-2147483648",
        "2147483648", "4294967295", "4294967296", "536870911", "536870912", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "18446744073709551615", "99999999999999999999", "-0", "+1", "01",
        "0x10", "1 ", " 1", "", "1e3", "--1", "4611686018427387904", "-4611686018427387904",
    ];

    /// <summary>Floats: ordinary, extreme, infinities, NaN, and texts Redis refuses.</summary>
    public static readonly string[] Floats =
    [
        "0.5", "-0.5", "1.5", "3.14159", "1e308", "-1e308", "1e-308", "5e-324", "1.7976931348623157e308", "1e400", "-1e400",
        "inf", "-inf", "+inf", "INF", "infinity", "nan", "NaN", "-nan", "1.", ".5", "1e", "0x1p3", "1,5", "(1.5", "(-inf", "[1",
    ];

    /// <summary>Strings: empty, patterns, range edges, stream IDs, binary bytes, a long value.</summary>
    public static readonly string[] Strings =
    [
        "", "v", "x", "hello", "*", "?", "[", "[a", "(a", "-", "+", "*a*", "h?llo", "[a-z]*", "\\", "\\x", "0-0", "0-1", "1-1",
        "1-*", "$", ">", "~", "=", "*1\r\n", "\r\n", "\0", "\xff\xfe\x00\x01", "'", "\"", "\"a b\"", "{", "}", "é",
        new string('a', 300), new string('z', 5000), "return 1", "return redis.call('get', KEYS[1])",
        "return redis.call(ARGV[1], KEYS[1])", "redis.call('set', KEYS[1], 'x')", "return {1, 'a', {2}}", "error(",
        "#!lua name=lib\nredis.register_function('f', function(k, a) return 1 end)",
    ];

    /// <summary>Keywords of many commands (used for every command besides its own).</summary>
    public static readonly string[] CommonKeywords =
    [
        "NX", "XX", "GT", "LT", "CH", "INCR", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET", "COUNT", "MATCH", "TYPE", "LIMIT",
        "WITHSCORES", "BYSCORE", "BYLEX", "REV", "STORE", "ASC", "DESC", "ALPHA", "BY", "MAXLEN", "MINID", "IDX", "LEN",
        "WITHMATCHLEN", "MINMATCHLEN", "BLOCK", "STREAMS", "NOMKSTREAM", "FIELDS", "LEFT", "RIGHT", "BEFORE", "AFTER",
        "RANK", "WEIGHTS", "AGGREGATE", "SUM", "MIN", "MAX", "FROMMEMBER", "FROMLONLAT", "BYRADIUS", "BYBOX", "WITHCOORD",
        "WITHDIST", "WITHHASH", "ANY", "M", "KM", "FT", "MI", "OVERFLOW", "WRAP", "SAT", "FAIL", "SCHEMA", "COPY", "REPLACE",
        "AUTH", "AUTH2", "KEYS", "SETNAME", "ON", "OFF", "YES", "NO", "SYNC", "ASYNC", "JUSTID", "IDLE", "TIME", "RETRYCOUNT",
        "FORCE", "LASTID", "ENTRIESREAD", "MKSTREAM", "FULL", "APPROXIMATE", "~", "=", "BIT", "BYTE", "u8", "i64", "u63", "#0",
    ];

    /// <summary>
    /// Commands not generated (they leave the test's reach, not the parser's): SHUTDOWN and DEBUG stop or crash on
    /// purpose, MIGRATE connects to other hosts, MONITOR/SYNC/PSYNC stream forever, REPLICAOF/SLAVEOF/FAILOVER act on
    /// replication, CLIENT PAUSE and CLIENT REPLY stop replies by design, and CONFIG SET/REWRITE would change the
    /// server the other inputs run on (passwords, memory limits, files).
    /// </summary>
    public static readonly HashSet<string> Excluded = new(StringComparer.OrdinalIgnoreCase)
    {
        "shutdown", "debug", "migrate", "monitor", "sync", "psync", "replicaof", "slaveof", "failover", "client|pause",
        "client|reply", "config|set", "config|rewrite", "bgrewriteaof", "bgsave", "save", "quit", "script|kill", "function|kill",
    };

    /// <summary>Any argument value.</summary>
    public static readonly Gen<string> AnyValue = Gen.Frequency(
        (3, Gen.OneOf(Integers)), (2, Gen.OneOf(Floats)), (3, Gen.OneOf(Strings)), (3, Gen.OneOf(Keys)), (2, Gen.OneOf(CommonKeywords)),
        (1, Gen.Byte.Array[0, 12].Select(b => Latin1.GetString(b))));

    /// <summary>Every command and subcommand of the table that the generators use, with its own keywords.</summary>
    public static IReadOnlyList<FuzzCommand> Commands { get; } = BuildCommands();

    /// <summary>An argument vector (name first) for one command: shaped by its docs or of random arity.</summary>
    public static Gen<string[]> CommandVector { get; } = Gen.Int[0, Commands.Count - 1].SelectMany(i => Commands[i].Vector);

    /// <summary>One to six command vectors run in a row on the shared keys.</summary>
    public static Gen<string[][]> CommandSequence { get; } = CommandVector.Array[1, 6];

    /// <summary>Encodes <paramref name="args"/> as a multibulk frame (Latin-1: each char one byte).</summary>
    public static byte[] Multibulk(IReadOnlyList<string> args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Count).Append("\r\n");
        foreach (string a in args) sb.Append('$').Append(Latin1.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Latin1.GetBytes(sb.ToString());
    }

    /// <summary>
    /// The frames of one command; a <c>blocking</c> one (BLPOP, XREAD, WAIT, …) inside MULTI/EXEC, where it answers at once
    /// instead of blocking as designed.
    /// </summary>
    public static byte[] CommandFrames(string[] command)
    {
        bool blocking = Commands.Any(c => c.Blocking && c.Name[0].Equals(command[0], StringComparison.OrdinalIgnoreCase));
        return blocking ? [.. Multibulk(["MULTI"]), .. Multibulk(command), .. Multibulk(["EXEC"])] : Multibulk(command);
    }

    private static readonly Gen<byte[]> ValidMultibulk = CommandVector.Select(CommandFrames);

    private static readonly Gen<byte[]> Inline = CommandVector.Select(v =>
        Latin1.GetBytes(string.Join(' ', v.Select(a => a.Length == 0 || a.Contains(' ') ? "\"" + a.Replace("\"", "\\\"") + "\"" : a)) + "\r\n"));

    // What a RESP3 client might send as a request though only arrays and inline text are requests: each RESP3 type
    // prefix, which the server must treat as an inline command (Redis does).
    private static readonly Gen<byte[]> Resp3Typed = Gen.Select(Gen.OneOf("%", "~", ">", "#", ",", "(", "=", "_", "!", "|", "+", "-", ":", "$"),
        Gen.OneOf("1", "2", "-1", "t", "f", "1.5", "3\r\ntxt:abc", "0", "99999999999"), Gen.OneOf(Strings),
        (t, n, rest) => Latin1.GetBytes(t + n + "\r\n" + rest + "\r\n"));

    private static readonly Gen<byte[]> HugeOrNegativeLength = Gen.Select(
        Gen.OneOf("*", "$"), Gen.OneOf("-1", "-2", "-9223372036854775808", "2147483648", "99999999999", "9223372036854775807",
            "9223372036854775808", "1048577", "536870913", "536870912", "", "+5", "0x5", "1a", " 3"),
        Gen.OneOf(Strings), (t, n, rest) => t == "$" ? Latin1.GetBytes("*2\r\n$3\r\nGET\r\n$" + n + "\r\n" + rest + "\r\n") : Latin1.GetBytes(t + n + "\r\n" + rest));

    private static readonly Gen<byte[]> Truncated = ValidMultibulk.SelectMany(f => Gen.Int[0, Math.Max(0, f.Length - 1)].Select(n => f[..n]));

    private static readonly Gen<byte[]> Junk = Gen.Byte.Array[1, 200];

    private static readonly Gen<byte[]> Mutated = Gen.Select(ValidMultibulk, Gen.Int.Array[1, 4], Gen.Byte.Array[1, 4], (f, positions, bytes) =>
    {
        byte[] m = (byte[])f.Clone();
        for (int i = 0; i < positions.Length; i++) m[(int)((uint)positions[i] % (uint)m.Length)] = bytes[i % bytes.Length];
        return m;
    });

    /// <summary>One request frame of any of the kinds above.</summary>
    public static Gen<byte[]> Frame { get; } = Gen.Frequency(
        (4, ValidMultibulk), (2, Inline), (1, Resp3Typed), (2, HugeOrNegativeLength), (2, Truncated), (1, Junk), (3, Mutated));

    /// <summary>Several frames back to back (a pipelined read), as bytes.</summary>
    public static Gen<byte[]> Frames { get; } = Frame.Array[1, 5].Select(fs => fs.SelectMany(f => f).ToArray());

    private static List<FuzzCommand> BuildCommands()
    {
        var commands = new List<FuzzCommand>();
        foreach (CommandInfo command in CommandFamilies.Table.All)
        {
            if (command.Subcommands is { Length: > 0 } subs)
            {
                foreach (CommandInfo sub in subs)
                    if (!Excluded.Contains(sub.FullName)) commands.Add(new FuzzCommand(sub));
                // The container alone and with an unknown subcommand.
                commands.Add(new FuzzCommand(command));
            }
            else if (!Excluded.Contains(command.Name)) commands.Add(new FuzzCommand(command));
        }
        return commands;
    }
}

/// <summary>
/// One command's argument generator: <see cref="Vector"/> starts with the command's name (and subcommand), then either
/// arguments following its Redis 7.0 docs or a random count of values; a <c>blocking</c> command is wrapped in
/// MULTI/EXEC by the runners (<see cref="Blocking"/>), where it never blocks.
/// </summary>
public sealed class FuzzCommand
{
    /// <summary>Builds the generator of <paramref name="command"/>.</summary>
    public FuzzCommand(CommandInfo command)
    {
        Info = command;
        Name = command.Parent == null ? [command.Name] : [command.Parent.Name, command.Name];
        var keywords = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        CollectTokens(command.Docs.Arguments, keywords);
        Keywords = keywords.Count == 0 ? FuzzInputs.CommonKeywords : keywords.ToArray();
        Gen<string> value = Gen.Frequency((4, FuzzInputs.AnyValue), (3, Gen.OneOf(Keywords)));
        int fixedArgs = Math.Abs(command.Arity) - Name.Length;
        Gen<string[]> randomArity = Gen.Frequency(
            (3, value.Array[Math.Max(0, fixedArgs), Math.Max(0, fixedArgs) + (command.Arity < 0 ? 6 : 0)]),
            (1, value.Array[0, Math.Max(0, fixedArgs) + 8]));
        Gen<string[]> shaped = command.Docs.Arguments is { Length: > 0 } arguments ? Sequence(arguments.Select(a => ForArgument(a, value))) : randomArity;
        Vector = Gen.Frequency((3, shaped), (2, randomArity)).Select(rest => Name.Concat(rest).ToArray());
    }

    /// <summary>The command.</summary>
    public CommandInfo Info { get; }

    /// <summary>Its name as sent: <c>["get"]</c> or <c>["config", "get"]</c>.</summary>
    public string[] Name { get; }

    /// <summary>The tokens of its docs' arguments (<c>EX</c>, <c>WITHSCORES</c>), or the common keywords when it has none.</summary>
    public string[] Keywords { get; }

    /// <summary>
    /// True for a command that may block: flagged <c>blocking</c> (BLPOP, XREAD, …), or WAIT, which blocks until its replicas
    /// acknowledge or its timeout though Redis 7.0 flags it only <c>noscript</c>.
    /// </summary>
    public bool Blocking => (Info.Flags & CommandFlags.Blocking) != 0 || (Info.Parent == null && Info.Name == "wait");

    /// <summary>Argument vectors, name first.</summary>
    public Gen<string[]> Vector { get; }

    private static void CollectTokens(CommandArgument[]? arguments, HashSet<string> into)
    {
        if (arguments == null) return;
        foreach (CommandArgument a in arguments)
        {
            if (a.Token != null) into.Add(a.Token);
            CollectTokens(a.Arguments, into);
        }
    }

    /// <summary>One documented argument: its token and value(s), optional ones sometimes left out, repeated ones 1–3 times.</summary>
    private static Gen<string[]> ForArgument(CommandArgument argument, Gen<string> anyValue)
    {
        Gen<string[]> one = argument.Type switch
        {
            "pure-token" => Gen.Const(Array.Empty<string>()),
            "oneof" when argument.Arguments is { Length: > 0 } choices => Gen.OneOf(choices.Select(c => ForArgument(c, anyValue)).ToArray()),
            "block" when argument.Arguments is { Length: > 0 } members => Sequence(members.Select(m => ForArgument(m, anyValue))),
            "integer" or "unix-time" => Gen.Frequency((5, Gen.OneOf(FuzzInputs.Integers)), (1, anyValue)).Select(v => new[] { v }),
            "double" => Gen.Frequency((3, Gen.OneOf(FuzzInputs.Floats)), (2, Gen.OneOf(FuzzInputs.Integers)), (1, anyValue)).Select(v => new[] { v }),
            "key" => Gen.Frequency((5, Gen.OneOf(FuzzInputs.Keys)), (1, anyValue)).Select(v => new[] { v }),
            _ => anyValue.Select(v => new[] { v }),
        };
        if (argument.Token != null) one = one.Select(v => new[] { argument.Token }.Concat(v).ToArray());
        string[] flags = argument.Flags ?? [];
        if (flags.Contains("multiple")) one = one.Array[1, 3].Select(vs => vs.SelectMany(v => v).ToArray());
        if (flags.Contains("optional")) one = Gen.Frequency((1, Gen.Const(Array.Empty<string>())), (2, one));
        return one;
    }

    private static Gen<string[]> Sequence(IEnumerable<Gen<string[]>> parts) =>
        parts.Aggregate(Gen.Const(Array.Empty<string>()), (all, next) => Gen.Select(all, next, (a, b) => a.Concat(b).ToArray()));
}
