using RespKv.Tests.Support;

namespace RespKv.Tests;

/// <summary>
/// Every string command (https://redis.io/commands/?group=string) through a real socket, with the exact
/// reply bytes redis-server 7.0.15 gives for the same sequence (each sequence was run against it first).
/// Each test uses its own key prefix and ends with PING to prove the connection survived.
/// </summary>
public sealed class StringCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string ArityPrefix = "-ERR wrong number of arguments for '";
    private const string NotInteger = "-ERR value is not an integer or out of range\r\n";
    private const string NotFloat = "-ERR value is not a valid float\r\n";
    private const string NaNOrInfinity = "-ERR increment would produce NaN or Infinity\r\n";
    private const string Syntax = "-ERR syntax error\r\n";
    private const string Ok = "+OK\r\n";
    private const string Null = "$-1\r\n";

    private static string Bulk(string s) => $"${s.Length}\r\n{s}\r\n";

    private static string Int(long n) => $":{n}\r\n";

    private static string Arity(string command) => $"{ArityPrefix}{command}' command\r\n";

    private static void AssertPing(RespTestClient c) => Assert.Equal("+PONG\r\n", c.Call("PING"));

    [Fact]
    public void GetAndSet()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Ok, c.Call("SET", "str:gs:a", "v"));
        Assert.Equal(Bulk("v"), c.Call("GET", "str:gs:a"));
        Assert.Equal(Null, c.Call("GET", "str:gs:none"));
        Assert.Equal(Ok, c.Call("SET", "str:gs:a", "w"));
        Assert.Equal(Bulk("w"), c.Call("GET", "str:gs:a"));
        Assert.Equal(Arity("set"), c.Call("SET", "str:gs:a"));
        Assert.Equal(Arity("get"), c.Call("GET"));
        Assert.Equal(Arity("get"), c.Call("GET", "a", "b"));
        AssertPing(c);
    }

    [Fact]
    public void SetWithNxXxAndGet()
    {
        using RespTestClient c = server.Connect();
        const string k = "str:nx:b";
        Assert.Equal(Ok, c.Call("SET", k, "1", "NX"));
        Assert.Equal(Null, c.Call("SET", k, "2", "nx"));
        Assert.Equal(Bulk("1"), c.Call("GET", k));
        Assert.Equal(Ok, c.Call("SET", k, "3", "XX"));
        Assert.Equal(Null, c.Call("SET", "str:nx:bb", "3", "XX"));
        Assert.Equal(Null, c.Call("GET", "str:nx:bb"));
        Assert.Equal(Bulk("3"), c.Call("SET", k, "4", "GET"));
        Assert.Equal(Bulk("4"), c.Call("SET", k, "5", "NX", "GET")); // NX fails: replies the old value, sets nothing
        Assert.Equal(Null, c.Call("SET", "str:nx:b2", "5", "NX", "GET"));
        Assert.Equal(Bulk("5"), c.Call("GET", "str:nx:b2"));
        Assert.Equal(Null, c.Call("SET", "str:nx:b3", "5", "XX", "GET"));
        Assert.Equal(Bulk("4"), c.Call("SET", k, "6", "xx", "get"));
        Assert.Equal(Bulk("6"), c.Call("GET", k));
        Assert.Equal(Null, c.Call("SET", "str:nx:b4", "x", "GET"));
        Assert.Equal(Syntax, c.Call("SET", k, "7", "NX", "XX"));
        Assert.Equal(Syntax, c.Call("SET", k, "7", "XX", "NX"));
        Assert.Equal(Syntax, c.Call("SET", k, "7", "foo"));
        Assert.Equal(Bulk("6"), c.Call("SET", k, "7", "GET", "GET")); // repeating an option is allowed
        Assert.Equal(Null, c.Call("SET", k, "8", "NX", "NX"));
        Assert.Equal(Bulk("7"), c.Call("GET", k));
        AssertPing(c);
    }

    [Fact]
    public void MSetAndMGet()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Ok, c.Call("MSET", "str:m:1", "1", "str:m:2", "2"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n", c.Call("MGET", "str:m:1", "str:m:2", "str:m:3"));
        Assert.Equal(Ok, c.Call("MSET", "str:m:1", "a", "str:m:1", "b")); // the last value wins
        Assert.Equal("*1\r\n$1\r\nb\r\n", c.Call("MGET", "str:m:1"));
        Assert.Equal(Arity("mset"), c.Call("MSET", "str:m:1", "1", "str:m:2"));
        Assert.Equal(Arity("mset"), c.Call("MSET", "str:m:1"));
        Assert.Equal(Arity("mget"), c.Call("MGET"));
        Assert.Equal("*2\r\n$1\r\n2\r\n$1\r\n2\r\n", c.Call("MGET", "str:m:2", "str:m:2"));
        AssertPing(c);
    }

    [Fact]
    public void MSetNxIsAllOrNothing()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(1), c.Call("MSETNX", "str:mnx:1", "1", "str:mnx:2", "2"));
        Assert.Equal(Int(0), c.Call("MSETNX", "str:mnx:2", "x", "str:mnx:3", "3"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n", c.Call("MGET", "str:mnx:1", "str:mnx:2", "str:mnx:3"));
        Assert.Equal(Arity("msetnx"), c.Call("MSETNX", "str:mnx:1"));
        Assert.Equal(Arity("msetnx"), c.Call("MSETNX", "str:mnx:1", "1", "str:mnx:2"));
        AssertPing(c);
    }

    [Fact]
    public void SetNxGetSetGetDel()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(1), c.Call("SETNX", "str:sg:s", "1"));
        Assert.Equal(Int(0), c.Call("SETNX", "str:sg:s", "2"));
        Assert.Equal(Bulk("1"), c.Call("GET", "str:sg:s"));
        Assert.Equal(Arity("setnx"), c.Call("SETNX", "str:sg:s"));
        Assert.Equal(Null, c.Call("GETSET", "str:sg:g", "1"));
        Assert.Equal(Bulk("1"), c.Call("GETSET", "str:sg:g", "2"));
        Assert.Equal(Bulk("2"), c.Call("GET", "str:sg:g"));
        Assert.Equal(Arity("getset"), c.Call("GETSET", "str:sg:g"));
        Assert.Equal(Ok, c.Call("SET", "str:sg:d", "x"));
        Assert.Equal(Bulk("x"), c.Call("GETDEL", "str:sg:d"));
        Assert.Equal(Null, c.Call("GETDEL", "str:sg:d"));
        Assert.Equal(Null, c.Call("GET", "str:sg:d"));
        Assert.Equal(Arity("getdel"), c.Call("GETDEL"));
        AssertPing(c);
    }

    [Fact]
    public void AppendAndStrLen()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(2), c.Call("APPEND", "str:ap", "ab"));
        Assert.Equal(Int(4), c.Call("APPEND", "str:ap", "cd"));
        Assert.Equal(Bulk("abcd"), c.Call("GET", "str:ap"));
        Assert.Equal(Int(4), c.Call("APPEND", "str:ap", ""));
        Assert.Equal(Int(0), c.Call("APPEND", "str:ap2", "")); // creates an empty string
        Assert.Equal(Bulk(""), c.Call("GET", "str:ap2"));
        Assert.Equal(Int(4), c.Call("STRLEN", "str:ap"));
        Assert.Equal(Int(0), c.Call("STRLEN", "str:ap:none"));
        Assert.Equal(Arity("append"), c.Call("APPEND", "str:ap"));
        Assert.Equal(Arity("strlen"), c.Call("STRLEN"));
        AssertPing(c);
    }

    [Fact]
    public void IncrDecrAndTheirOverflowTexts()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(1), c.Call("INCR", "str:i"));
        Assert.Equal(Int(2), c.Call("INCR", "str:i"));
        Assert.Equal(Int(1), c.Call("DECR", "str:i"));
        Assert.Equal(Int(11), c.Call("INCRBY", "str:i", "10"));
        Assert.Equal(Int(8), c.Call("DECRBY", "str:i", "3"));
        Assert.Equal(Int(3), c.Call("INCRBY", "str:i", "-5"));
        Assert.Equal(Int(8), c.Call("DECRBY", "str:i", "-5"));
        Assert.Equal(Bulk("8"), c.Call("GET", "str:i"));
        Assert.Equal(Int(-1), c.Call("DECR", "str:i:neg"));

        Assert.Equal(Ok, c.Call("SET", "str:i2", "9223372036854775807"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", c.Call("INCR", "str:i2"));
        Assert.Equal(Bulk("9223372036854775807"), c.Call("GET", "str:i2"));
        Assert.Equal(Ok, c.Call("SET", "str:i3", "-9223372036854775808"));
        Assert.Equal("-ERR increment or decrement would overflow\r\n", c.Call("DECR", "str:i3"));
        Assert.Equal("-ERR decrement would overflow\r\n", c.Call("DECRBY", "str:i4", "-9223372036854775808"));
        Assert.Equal(NotInteger, c.Call("INCRBY", "str:i4", "9223372036854775808"));
        Assert.Equal(Int(long.MinValue), c.Call("INCRBY", "str:i5", "-9223372036854775808"));
        Assert.Equal(Int(-long.MaxValue), c.Call("DECRBY", "str:i6", "9223372036854775807"));

        // string2ll: no spaces, no '+', no leading zeros, no fractions, no empty string.
        foreach (string bad in new[] { " 1", "1 ", "1.5", "01", "abc", "+1", "-0", "" })
        {
            Assert.Equal(Ok, c.Call("SET", "str:i7", bad));
            Assert.Equal(NotInteger, c.Call("INCR", "str:i7"));
            Assert.Equal(NotInteger, c.Call("INCRBY", "str:i8", bad));
        }
        Assert.Equal(NotInteger, c.Call("DECRBY", "str:i8", "x"));
        Assert.Equal(Arity("incr"), c.Call("INCR"));
        Assert.Equal(Arity("decr"), c.Call("DECR"));
        Assert.Equal(Arity("incrby"), c.Call("INCRBY", "str:i"));
        Assert.Equal(Arity("decrby"), c.Call("DECRBY", "str:i"));
        AssertPing(c);
    }

    [Theory]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData(null, "3.0e3", "3000")]
    [InlineData("3000", "-5.0e3", "-2000")]
    [InlineData(null, "1e20", "100000000000000000000")]       // %.17Lf: never an exponent
    [InlineData("100000000000000000000", "1.5", "100000000000000000000")] // beyond the 64-bit significand
    [InlineData("100000000000000000000", "8", "100000000000000000008")]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData(null, "1e-20", "0")]                          // 17 decimals: rounds to 0
    [InlineData(null, "0.000000000000000015", "0.00000000000000002")]
    [InlineData(null, "0.000000000000000025", "0.00000000000000002")] // the binary value is below ...025
    [InlineData(null, "0.000000000000000005", "0")]
    [InlineData(null, "0x10", "16")]                          // strtold takes hexadecimal
    [InlineData(null, "0X1p4", "16")]
    [InlineData(null, "3.14159265358979323846", "3.14159265358979324")]
    [InlineData("3.14159265358979324", "3.14159265358979323846", "6.28318530717958648")]
    [InlineData("10000000000000000", "0.5", "10000000000000000.5")]
    [InlineData("10000000000000000.5", "0.5", "10000000000000001")]
    [InlineData(null, "5.0E+3", "5000")]
    [InlineData("5000", ".5", "5000.5")]
    [InlineData("5000.5", "5.", "5005.5")]
    [InlineData(null, "+5", "5")]
    [InlineData("-1.5", "1.5", "0")]
    [InlineData(null, "-0.0", "0")]
    [InlineData(null, "-1e-18", "0")]                         // "-0.00000000000000000" prints as 0
    [InlineData(null, "1e-4950", "0")]                        // a long double subnormal, accepted
    [InlineData(null, "123.456e-2", "1.23456")]
    [InlineData("9223372036854775807", "1", "9223372036854775808")]
    [InlineData("1.0", "1", "2")]
    [InlineData("1e3", "0", "1000")]
    public void IncrByFloatPrintsTheLongDoubleSumAsRedisDoes(string? initial, string increment, string expected)
    {
        using RespTestClient c = server.Connect();
        string key = $"str:f:{initial}+{increment}";
        if (initial != null) Assert.Equal(Ok, c.Call("SET", key, initial));
        Assert.Equal(Bulk(expected), c.Call("INCRBYFLOAT", key, increment));
        Assert.Equal(Bulk(expected), c.Call("GET", key));
        AssertPing(c);
    }

    [Fact]
    public void IncrByFloatBeyondDoubleRangeUsesTheLongDoubleRange()
    {
        using RespTestClient c = server.Connect();
        const string expected =
            "10000000000000000000019419269994964532948731750705063499971248966365593757851050819669678845056445271733436864877153691647324451943726770414346611558166953262472717544627574600969436957649143695869263767176535822796755141671378698129614544547022874423391357252536012847637530411154205036967771333874101765799936";
        Assert.Equal(Bulk(expected), c.Call("INCRBYFLOAT", "str:fbig", "1e310"));
        string max = c.Call("INCRBYFLOAT", "str:fmax", "1e4932");
        Assert.StartsWith("$4933\r\n1000000000000000000006018949387963891323837774254533114773785041352533019", max);
        Assert.Equal(NaNOrInfinity, c.Call("INCRBYFLOAT", "str:fmax", "1e4932"));
        AssertPing(c);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("nan")]
    [InlineData("-nan")]
    [InlineData("nan(123)")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("")]
    [InlineData("1.5e")]
    [InlineData("e5")]
    [InlineData("1_0")]
    [InlineData("1\0")]
    [InlineData("1e4933")]   // overflow
    [InlineData("1e-5000")]  // underflow to zero
    [InlineData("1e-4951")]
    public void IncrByFloatRejectsWhatStrtoldRejects(string increment)
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(NotFloat, c.Call("INCRBYFLOAT", "str:fbad", increment));
        Assert.Equal(Ok, c.Call("SET", "str:fbad2", increment));
        Assert.Equal(NotFloat, c.Call("INCRBYFLOAT", "str:fbad2", "1"));
        Assert.Equal(Null, c.Call("GET", "str:fbad"));
        AssertPing(c);
    }

    [Theory]
    [InlineData("inf")]
    [InlineData("-inf")]
    [InlineData("infinity")]
    [InlineData("-Infinity")]
    public void IncrByFloatToInfinityIsRefused(string increment)
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(NaNOrInfinity, c.Call("INCRBYFLOAT", "str:finf", increment));
        Assert.Equal(Null, c.Call("GET", "str:finf"));
        Assert.Equal(Arity("incrbyfloat"), c.Call("INCRBYFLOAT", "str:finf"));
        AssertPing(c);
    }

    [Fact]
    public void SetRange()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Int(7), c.Call("SETRANGE", "str:sr", "5", "ab"));
        Assert.Equal(Bulk("\0\0\0\0\0ab"), c.Call("GET", "str:sr"));
        Assert.Equal(Int(7), c.Call("SETRANGE", "str:sr", "0", "XY"));
        Assert.Equal(Bulk("XY\0\0\0ab"), c.Call("GET", "str:sr"));
        Assert.Equal("-ERR offset is out of range\r\n", c.Call("SETRANGE", "str:sr", "-1", "x"));
        Assert.Equal(NotInteger, c.Call("SETRANGE", "str:sr", "x", "x"));
        Assert.Equal(Int(0), c.Call("SETRANGE", "str:sr2", "3", "")); // empty patch on a missing key: no key
        Assert.Equal(Null, c.Call("GET", "str:sr2"));
        Assert.Equal(Int(7), c.Call("SETRANGE", "str:sr", "1", ""));
        Assert.Equal(Int(101), c.Call("SETRANGE", "str:sr", "100", "z"));
        Assert.Equal(Int(101), c.Call("STRLEN", "str:sr"));
        Assert.Equal("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", c.Call("SETRANGE", "str:sr3", "536870912", "x"));
        // offset + length overflows a long: still the size error, as Redis's checkStringLength (found by fuzzing).
        Assert.Equal("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", c.Call("SETRANGE", "str:sr3", "9223372036854775807", "-inf"));
        Assert.Equal(Arity("setrange"), c.Call("SETRANGE", "str:sr", "1"));
        AssertPing(c);
    }

    [Fact]
    public void GetRangeAndSubstrWithNegativeIndexes()
    {
        using RespTestClient c = server.Connect();
        Assert.Equal(Ok, c.Call("SET", "str:gr", "Hello World"));
        Assert.Equal(Bulk("Hello"), c.Call("GETRANGE", "str:gr", "0", "4"));
        Assert.Equal(Bulk("World"), c.Call("GETRANGE", "str:gr", "-5", "-1"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr", "-1", "-5"));
        Assert.Equal(Bulk("Hello World"), c.Call("GETRANGE", "str:gr", "0", "-1"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr", "5", "2"));
        Assert.Equal(Bulk("Hello World"), c.Call("GETRANGE", "str:gr", "-100", "100"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr", "20", "30"));
        Assert.Equal(Bulk("d"), c.Call("GETRANGE", "str:gr", "-1", "-1"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr", "3", "-100"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr", "-5", "0"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr", "11", "11"));
        Assert.Equal(Bulk("d"), c.Call("GETRANGE", "str:gr", "10", "10"));
        Assert.Equal(NotInteger, c.Call("GETRANGE", "str:gr", "x", "1"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr:none", "0", "1"));
        Assert.Equal(Bulk("Hello"), c.Call("SUBSTR", "str:gr", "0", "4"));
        Assert.Equal(Bulk("rld"), c.Call("SUBSTR", "str:gr", "-3", "-1"));
        Assert.Equal(Ok, c.Call("SET", "str:gr:empty", ""));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr:empty", "0", "-1"));
        Assert.Equal(Bulk(""), c.Call("GETRANGE", "str:gr:empty", "-1", "-1"));
        Assert.Equal(Arity("getrange"), c.Call("GETRANGE", "str:gr", "1"));
        Assert.Equal(Arity("substr"), c.Call("SUBSTR", "str:gr"));
        AssertPing(c);
    }

    [Fact]
    public void EmptyAndBinaryValuesRoundTrip()
    {
        using RespTestClient c = server.Connect();
        const string binary = "a\0b\r\nc\xff";
        Assert.Equal(Ok, c.Call("SET", "str:bin", binary));
        Assert.Equal(Bulk(binary), c.Call("GET", "str:bin"));
        Assert.Equal(Int(7), c.Call("STRLEN", "str:bin"));
        Assert.Equal(Int(8), c.Call("APPEND", "str:bin", "\0"));
        Assert.Equal(Bulk("\0b\r\n"), c.Call("GETRANGE", "str:bin", "1", "4"));
        Assert.Equal(Ok, c.Call("SET", "str:bin\r\n\0key", "v")); // binary key
        Assert.Equal(Bulk("v"), c.Call("GET", "str:bin\r\n\0key"));
        Assert.Equal(Null, c.Call("GET", "str:bin\r\n"));
        Assert.Equal(Ok, c.Call("SET", "str:empty", ""));
        Assert.Equal(Bulk(""), c.Call("GET", "str:empty"));
        Assert.Equal(Int(0), c.Call("STRLEN", "str:empty"));
        Assert.Equal(Ok, c.Call("SET", "", "empty key"));
        Assert.Equal(Bulk("empty key"), c.Call("GET", ""));
        AssertPing(c);
    }

    [Fact]
    public void OneMegabyteValue()
    {
        using RespTestClient c = server.Connect();
        var chars = new char[1024 * 1024];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)(i % 251);
        string value = new(chars);
        Assert.Equal(Ok, c.Call("SET", "str:1mb", value));
        Assert.Equal(Bulk(value), c.Call("GET", "str:1mb"));
        Assert.Equal(Int(value.Length), c.Call("STRLEN", "str:1mb"));
        Assert.Equal(Int(value.Length + 3), c.Call("APPEND", "str:1mb", "end"));
        Assert.Equal(Bulk(value[^2..] + "end"), c.Call("GETRANGE", "str:1mb", "-5", "-1"));
        AssertPing(c);
    }
}
