using StackExchange.Redis;

namespace RespKv.Ecosystem.Tests.Support;

/// <summary>
/// One respkv-server executable per test class (<c>IClassFixture&lt;RespKvFixture&gt;</c>) on its own free port; tests
/// isolate themselves by key prefix, or by database where they count keys.
/// </summary>
public sealed class RespKvFixture : IDisposable
{
    /// <summary>The running executable.</summary>
    public RespKvProcess Server { get; } = RespKvProcess.Start();

    /// <summary>The port it listens on.</summary>
    public int Port => Server.Port;

    /// <summary>
    /// A StackExchange.Redis configuration string for this server as applications write it: <c>allowAdmin</c> off (the
    /// default), RESP3 when <paramref name="resp3"/> is true (<c>protocol=resp3</c>), else RESP2, plus <paramref name="extra"/>.
    /// </summary>
    public string Configuration(bool resp3 = false, string extra = "") =>
        $"127.0.0.1:{Port},protocol={(resp3 ? "resp3" : "resp2")},abortConnect=false,connectTimeout=15000,syncTimeout=15000,asyncTimeout=15000"
        + (extra.Length > 0 ? "," + extra : "");

    /// <summary>Connects StackExchange.Redis (see <see cref="Configuration"/>) and asserts it connected; the connect log goes into the failure message.</summary>
    public ConnectionMultiplexer Connect(bool resp3 = false, string extra = "")
    {
        var log = new StringWriter();
        ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(Configuration(resp3, extra), log);
        Assert.True(mux.IsConnected, "StackExchange.Redis did not connect:\n" + log + "\nserver log:\n" + Server.Output);
        return mux;
    }

    /// <inheritdoc />
    public void Dispose() => Server.Dispose();
}
