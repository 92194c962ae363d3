using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using RespKv.Tests.Persistence;
using RespKv.Tests.Support;

namespace RespKv.Tests.Replication;

/// <summary>What the replication tests share: a key-by-key digest, a mixed write load, waiting for a replica to catch up, and respkv-server processes.</summary>
internal static class ReplicationSupport
{
    /// <summary>redis-server's path, or null when it is not installed.</summary>
    public static readonly string? RedisServer = AofTestSupport.FindTool("redis-server");

    /// <summary>
    /// Every key of databases 0..<paramref name="databases"/>-1 with its type, whether it has an expiry, and its content read
    /// type by type (unordered collections sorted): equal digests mean the same data, whatever each server's encodings.
    /// </summary>
    public static SortedDictionary<string, string> Digest(RespTestClient c, int databases = 4)
    {
        var digest = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int db = 0; db < databases; db++)
        {
            Assert.Equal("+OK\r\n", c.Call("SELECT", db.ToString(CultureInfo.InvariantCulture)));
            foreach (string key in Replies.Bulks(c.Call("KEYS", "*")))
            {
                string type = c.Call("TYPE", key).Trim();
                string content = type switch
                {
                    "+string" => c.Call("GET", key),
                    "+hash" => Pairs(Replies.Bulks(c.Call("HGETALL", key))),
                    "+list" => c.Call("LRANGE", key, "0", "-1"),
                    "+set" => string.Join(",", Replies.Bulks(c.Call("SMEMBERS", key)).Order(StringComparer.Ordinal)),
                    "+zset" => c.Call("ZRANGE", key, "0", "-1", "WITHSCORES"),
                    "+stream" => c.Call("XRANGE", key, "-", "+"),
                    _ => type,
                };
                bool volatileKey = c.Call("PTTL", key) != ":-1\r\n";
                digest[$"{db}/{key}"] = $"{type} ttl={volatileKey} {content}";
            }
        }
        c.Call("SELECT", "0");
        return digest;
    }

    private static string Pairs(List<string> flat)
    {
        var pairs = new List<string>();
        for (int i = 0; i + 1 < flat.Count; i += 2) pairs.Add(flat[i] + "=" + flat[i + 1]);
        pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    /// <summary>Asserts both digests hold the same keys with the same content, naming the first difference.</summary>
    public static void AssertSameData(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        foreach ((string key, string value) in expected)
        {
            Assert.True(actual.TryGetValue(key, out string? other), $"key {key} missing on the replica");
            Assert.True(value == other, $"key {key} differs: primary {value} / replica {other}");
        }
        Assert.Equal(expected.Count, actual.Count);
    }

    /// <summary>
    /// <paramref name="operations"/> mixed writes (strings, counters, hashes, lists, sets, sorted sets, streams, expiries, deletes,
    /// MULTI/EXEC, several databases) from one connection (authenticated with <paramref name="password"/> when given).
    /// </summary>
    public static void WriteLoad(int port, int operations, int seed, string? password = null)
    {
        var random = new Random(seed);
        using var c = new RespTestClient(port);
        if (password != null) Assert.Equal("+OK\r\n", c.Call("AUTH", password));
        for (int i = 0; i < operations; i++)
        {
            string n = random.Next(200).ToString(CultureInfo.InvariantCulture);
            switch (random.Next(12))
            {
                case 0: c.Call("SET", "s:" + n, "v" + i); break;
                case 1: c.Call("INCR", "counter:" + (i % 7)); break;
                case 2: c.Call("HSET", "h:" + (i % 20), "f" + n, "v" + i); break;
                case 3: c.Call("RPUSH", "l:" + (i % 20), "e" + i); break;
                case 4: c.Call("SADD", "set:" + (i % 20), n); break;
                case 5: c.Call("ZADD", "z:" + (i % 20), n, "m" + i % 50); break;
                case 6: c.Call("EXPIRE", "s:" + n, "1000"); break;
                case 7: c.Call("DEL", "s:" + n); break;
                case 8: c.Call("XADD", "stream:" + (i % 3), "*", "i", n); break;
                case 9:
                    c.Call("SELECT", (1 + i % 2).ToString(CultureInfo.InvariantCulture));
                    c.Call("SET", "db:" + n, "v" + i);
                    c.Call("SELECT", "0");
                    break;
                case 10:
                    c.Call("MULTI");
                    c.Call("INCRBY", "tx:a", "2");
                    c.Call("DECRBY", "tx:b", "2");
                    c.Call("EXEC");
                    break;
                default: c.Call("LPOP", "l:" + (i % 20)); break;
            }
        }
    }

    /// <summary>An INFO replication field.</summary>
    public static string InfoField(RespTestClient c, string field)
    {
        foreach (string line in Replies.Bulks(c.Call("INFO", "replication"))[0].Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line[(field.Length + 1)..];
        return "";
    }

    /// <summary>Waits (up to 30 s) until the replica's applied offset equals the primary's and its link is up.</summary>
    public static void WaitCaughtUp(RespTestClient primary, RespTestClient replica)
    {
        var clock = Stopwatch.StartNew();
        string last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            string masterOffset = InfoField(primary, "master_repl_offset");
            string replicaOffset = InfoField(replica, "slave_repl_offset");
            last = $"primary {masterOffset}, replica {replicaOffset} ({InfoField(replica, "master_link_status")})";
            if (InfoField(replica, "master_link_status") == "up" && masterOffset == replicaOffset && masterOffset.Length > 0) return;
            Thread.Sleep(50);
        }
        throw new TimeoutException("the replica did not catch up: " + last);
    }

    /// <summary>Waits (up to 20 s) for <paramref name="condition"/>.</summary>
    public static void WaitFor(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (condition()) return;
            Thread.Sleep(50);
        }
        throw new TimeoutException("timed out waiting for " + what);
    }

    /// <summary>Waits until something answers PING on <paramref name="port"/>.</summary>
    public static void WaitForPing(int port)
    {
        WaitFor(() =>
        {
            try
            {
                using var c = new RespTestClient(port, 2000);
                return c.Call("PING") == "+PONG\r\n";
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                return false;
            }
        }, $"PING on port {port}");
    }
}

/// <summary>respkv-server.dll (next to the tests) as a child process on a chosen port, so it can be killed with SIGKILL.</summary>
internal sealed class RespKvProcess : IDisposable
{
    private readonly Process _process;

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    private RespKvProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>Starts it with <c>--port <paramref name="port"/> --dir <paramref name="dir"/></c> and <paramref name="args"/>; waits for PING.</summary>
    public static RespKvProcess Start(int port, string dir, params string[] args)
    {
        string? current = Environment.ProcessPath;
        string dotnet = current != null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "respkv-server.dll"));
        foreach (string a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--repl-diskless-sync-delay", "0" })
            info.ArgumentList.Add(a);
        foreach (string a in args) info.ArgumentList.Add(a);
        Process p = Process.Start(info)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        ReplicationSupport.WaitForPing(port);
        return new RespKvProcess(p, port);
    }

    /// <summary>SIGKILL, and waits for the exit.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
