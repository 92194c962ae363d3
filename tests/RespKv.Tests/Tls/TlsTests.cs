using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using RespKv.Configuration;
using RespKv.Server;
using RespKv.Tests.Support;
using StackExchange.Redis;

namespace RespKv.Tests.Tls;

/// <summary>
/// TLS (issue 21 point 4; Redis 7.0's https://redis.io/docs/management/security/encryption/): the <c>tls-port</c> listener
/// next to the plain port, <c>port 0</c> serving TLS only, redis-cli <c>--tls</c>, StackExchange.Redis with <c>ssl=true</c>,
/// mutual TLS under <c>tls-auth-clients yes</c> and <c>optional</c>, a plain-text client on the TLS port refused without harm,
/// and CONFIG SET of the certificate files. Certificates are made with <c>openssl</c> per test class.
/// </summary>
public sealed class TlsTests : IClassFixture<TlsTests.Certificates>
{
    /// <summary>One set of test certificates for the class.</summary>
    public sealed class Certificates : IDisposable
    {
        /// <summary>The files.</summary>
        public TestCertificates Files { get; } = new();

        /// <inheritdoc />
        public void Dispose() => Files.Dispose();
    }

    private readonly TestCertificates _certs;

    /// <summary>Takes the class's certificates.</summary>
    public TlsTests(Certificates certificates) => _certs = certificates.Files;

    /// <summary>A port free right now on 127.0.0.1 (for <c>tls-port</c>, which has no "any free port" value).</summary>
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private Task<RespKvHost> StartTls(TlsAuthClients auth, bool plainToo = false, Action<ServerOptions>? configure = null) =>
        ServerFixture.StartFresh(o =>
        {
            o.Bind = ["127.0.0.1"];
            o.Port = plainToo ? FreePort() : 0;
            o.TlsPort = FreePort();
            o.TlsCertFile = _certs["server.crt"];
            o.TlsKeyFile = _certs["server.key"];
            o.TlsCaCertFile = _certs["ca.crt"];
            o.TlsAuthClients = auth;
            configure?.Invoke(o);
        });

    /// <summary>A raw RESP client over TLS that trusts the test CA and presents <paramref name="clientCert"/> (a file base name) when given.</summary>
    private RespTestClient ConnectTls(int port, string? clientCert = null, SslProtocols protocols = SslProtocols.None)
    {
        X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(_certs["ca.crt"]);
        var clientCerts = new X509CertificateCollection();
        if (clientCert != null) clientCerts.Add(X509Certificate2.CreateFromPemFile(_certs[clientCert + ".crt"], _certs[clientCert + ".key"]));
        return new RespTestClient(port, ssl => ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = clientCerts,
            EnabledSslProtocols = protocols,
            RemoteCertificateValidationCallback = (_, cert, _, _) => ChainsTo(cert, ca),
        }));
    }

    private static bool ChainsTo(X509Certificate? certificate, X509Certificate2 ca)
    {
        if (certificate == null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }

    /// <summary>The certificate the server presents on a new TLS connection to <paramref name="port"/>.</summary>
    private static X509Certificate2 PresentedCertificate(int port)
    {
        using var tcp = new TcpClient("127.0.0.1", port);
        using var ssl = new SslStream(tcp.GetStream());
        X509Certificate? seen = null;
        ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                seen = cert;
                return true;
            },
        });
        return new X509Certificate2(seen!);
    }

    [Fact]
    public async Task PlainAndTlsPortsServeTheSameDataAtOnce()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No, plainToo: true);
        Assert.NotEqual(0, host.Port);
        Assert.NotEqual(0, host.TlsPort);
        using var plain = new RespTestClient(host.Port);
        using RespTestClient tls = ConnectTls(host.TlsPort);
        Assert.Equal("+OK\r\n", tls.Call("SET", "tls:k", "over tls"));
        Assert.Equal("$8\r\nover tls\r\n", plain.Call("GET", "tls:k"));
        Assert.Equal("+PONG\r\n", tls.Call("PING"));
        Assert.Equal($"*2\r\n$8\r\ntls-port\r\n${host.TlsPort.ToString().Length}\r\n{host.TlsPort}\r\n", plain.Call("CONFIG", "GET", "tls-port"));
    }

    [Fact]
    public async Task PortZeroWithATlsPortServesTlsOnly()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No);
        Assert.Equal(0, host.Port);
        using RespTestClient tls = ConnectTls(host.TlsPort);
        Assert.Equal("+PONG\r\n", tls.Call("PING"));
        Assert.Equal("*2\r\n$4\r\nport\r\n$1\r\n0\r\n", tls.Call("CONFIG", "GET", "port"));
    }

    [RedisCliFact]
    public async Task RedisCliConnectsWithTlsAndTheCa()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No);
        var (code, output, error) = RedisCli.Run(host.TlsPort, null, 20_000, "--tls", "--cacert", _certs["ca.crt"], "SET", "cli:tls", "yes");
        Assert.True(code == 0, error);
        Assert.Equal("OK", output.Trim());
        (code, output, error) = RedisCli.Run(host.TlsPort, null, 20_000, "--tls", "--cacert", _certs["ca.crt"], "GET", "cli:tls");
        Assert.True(code == 0, error);
        Assert.Equal("yes", output.Trim());
    }

    [RedisCliFact]
    public async Task RedisCliWithAClientCertificateUnderMutualTls()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.Yes);
        var (code, output, error) = RedisCli.Run(host.TlsPort, null, 20_000, "--tls", "--cacert", _certs["ca.crt"],
            "--cert", _certs["client.crt"], "--key", _certs["client.key"], "PING");
        Assert.True(code == 0, error);
        Assert.Equal("PONG", output.Trim());
        // Without a certificate the handshake fails: redis-cli gets no PONG.
        (code, output, error) = RedisCli.Run(host.TlsPort, null, 20_000, "--tls", "--cacert", _certs["ca.crt"], "PING");
        Assert.DoesNotContain("PONG", output);
    }

    [Fact]
    public async Task StackExchangeRedisConnectsWithSsl()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No);
        X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(_certs["ca.crt"]);
        ConfigurationOptions options = ConfigurationOptions.Parse($"127.0.0.1:{host.TlsPort},ssl=true,sslHost=localhost,abortConnect=false,connectTimeout=10000,syncTimeout=10000");
        options.CertificateValidation += (_, cert, _, _) => ChainsTo(cert, ca);
        using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(options);
        Assert.True(mux.IsConnected);
        IDatabase db = mux.GetDatabase();
        Assert.True(db.StringSet("se:tls", "secure"));
        Assert.Equal("secure", (string?)db.StringGet("se:tls"));
    }

    [Fact]
    public async Task StackExchangeRedisPresentsAClientCertificateUnderMutualTls()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.Yes);
        X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(_certs["ca.crt"]);
        // Exported and re-imported: SslStream wants the client certificate's key in a store-backed form on some platforms.
        X509Certificate2 pem = X509Certificate2.CreateFromPemFile(_certs["client.crt"], _certs["client.key"]);
        X509Certificate2 client = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        ConfigurationOptions options = ConfigurationOptions.Parse($"127.0.0.1:{host.TlsPort},ssl=true,sslHost=localhost,abortConnect=false,connectTimeout=10000,syncTimeout=10000");
        options.CertificateValidation += (_, cert, _, _) => ChainsTo(cert, ca);
        options.CertificateSelection += (_, _, _, _, _) => client;
        using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(options);
        Assert.True(mux.IsConnected);
        Assert.Equal("PONG", (string?)mux.GetDatabase().Execute("PING"));
    }

    [Fact]
    public async Task MutualTlsRequiresACertificateFromTheCa()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.Yes);
        using (RespTestClient withCert = ConnectTls(host.TlsPort, "client")) Assert.Equal("+PONG\r\n", withCert.Call("PING"));
        Assert.True(IsRefused(() => ConnectTls(host.TlsPort)), "a client without a certificate was served");
        Assert.True(IsRefused(() => ConnectTls(host.TlsPort, "rogue")), "a certificate from another CA was accepted");
        using RespTestClient after = ConnectTls(host.TlsPort, "client");
        Assert.Equal("+PONG\r\n", after.Call("PING"));
    }

    [Fact]
    public async Task OptionalClientAuthAcceptsNoCertificateButChecksOneSent()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.Optional);
        using (RespTestClient anonymous = ConnectTls(host.TlsPort)) Assert.Equal("+PONG\r\n", anonymous.Call("PING"));
        using (RespTestClient withCert = ConnectTls(host.TlsPort, "client")) Assert.Equal("+PONG\r\n", withCert.Call("PING"));
        Assert.True(IsRefused(() => ConnectTls(host.TlsPort, "rogue")), "a certificate from another CA was accepted");
    }

    /// <summary>
    /// True when connecting and sending PING fails: under TLS 1.3 a refused client certificate surfaces after the client's
    /// handshake returns, on the first read.
    /// </summary>
    private static bool IsRefused(Func<RespTestClient> connect)
    {
        try
        {
            using RespTestClient client = connect();
            client.SendRaw(RespTestClient.Encode("PING"));
            return client.IsClosedByServer();
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            return true;
        }
    }

    [Fact]
    public async Task APlainTextClientOnTheTlsPortIsClosedAndTheServerKeepsServing()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No, plainToo: true);
        for (int i = 0; i < 3; i++)
        {
            using var plainOnTls = new RespTestClient(host.TlsPort, timeoutMs: 15_000);
            plainOnTls.SendRaw(RespTestClient.Encode("PING"));
            Assert.True(plainOnTls.IsClosedByServer());
        }
        using var inline = new RespTestClient(host.TlsPort, timeoutMs: 15_000);
        inline.SendRaw("PING\r\n");
        Assert.True(inline.IsClosedByServer());
        using RespTestClient tls = ConnectTls(host.TlsPort);
        Assert.Equal("+PONG\r\n", tls.Call("PING"));
        using var plain = new RespTestClient(host.Port);
        Assert.Equal("+PONG\r\n", plain.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetOfTheCertificateFilesReachesNewConnections()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No);
        var first = X509CertificateLoader.LoadCertificateFromFile(_certs["server.crt"]);
        var second = X509CertificateLoader.LoadCertificateFromFile(_certs["server2.crt"]);
        Assert.Equal(first.Thumbprint, PresentedCertificate(host.TlsPort).Thumbprint);
        using RespTestClient old = ConnectTls(host.TlsPort);
        Assert.Equal("+OK\r\n", old.Call("CONFIG", "SET", "tls-cert-file", _certs["server2.crt"], "tls-key-file", _certs["server2.key"]));
        Assert.Equal(second.Thumbprint, PresentedCertificate(host.TlsPort).Thumbprint);
        // The connection made before keeps working.
        Assert.Equal("+PONG\r\n", old.Call("PING"));
        Assert.Equal($"*2\r\n$13\r\ntls-cert-file\r\n${_certs["server2.crt"].Length}\r\n{_certs["server2.crt"]}\r\n", old.Call("CONFIG", "GET", "tls-cert-file"));
        // An encrypted key with its pass phrase.
        Assert.Equal("+OK\r\n", old.Call("CONFIG", "SET", "tls-cert-file", _certs["server.crt"], "tls-key-file", _certs["server-enc.key"],
            "tls-key-file-pass", TestCertificates.KeyPassword));
        Assert.Equal(first.Thumbprint, PresentedCertificate(host.TlsPort).Thumbprint);
    }

    [Fact]
    public async Task ConfigSetOfABrokenTlsSettingFailsAndKeepsTheOldValues()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No);
        using RespTestClient tls = ConnectTls(host.TlsPort);
        const string error = "-ERR CONFIG SET failed (possibly related to argument '{0}') - Unable to update TLS configuration. Check server logs.\r\n";
        Assert.Equal(string.Format(error, "tls-cert-file"), tls.Call("CONFIG", "SET", "tls-cert-file", _certs["missing.crt"]));
        // A certificate with the wrong key.
        Assert.Equal(string.Format(error, "tls-cert-file"), tls.Call("CONFIG", "SET", "tls-cert-file", _certs["server2.crt"]));
        Assert.Equal(string.Format(error, "tls-protocols"), tls.Call("CONFIG", "SET", "tls-protocols", "TLSv1.2 SSLv3"));
        Assert.Equal(string.Format(error, "tls-auth-clients"), tls.Call("CONFIG", "SET", "tls-auth-clients", "yes", "tls-ca-cert-file", ""));
        Assert.Equal(string.Format(error, "tls-ciphers"), tls.Call("CONFIG", "SET", "tls-ciphers", "HIGH:!aNULL"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional\r\n",
            tls.Call("CONFIG", "SET", "tls-auth-clients", "maybe"));
        Assert.Equal($"*2\r\n$13\r\ntls-cert-file\r\n${_certs["server.crt"].Length}\r\n{_certs["server.crt"]}\r\n", tls.Call("CONFIG", "GET", "tls-cert-file"));
        Assert.Equal("*2\r\n$13\r\ntls-protocols\r\n$0\r\n\r\n", tls.Call("CONFIG", "GET", "tls-protocols"));
        Assert.Equal("*2\r\n$16\r\ntls-auth-clients\r\n$2\r\nno\r\n", tls.Call("CONFIG", "GET", "tls-auth-clients"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'tls-port') - can't set immutable config\r\n", tls.Call("CONFIG", "SET", "tls-port", "1"));
        using RespTestClient again = ConnectTls(host.TlsPort);
        Assert.Equal("+PONG\r\n", again.Call("PING"));
    }

    [Fact]
    public async Task ConfigSetOfTlsAuthClientsReachesNewConnections()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No);
        using RespTestClient admin = ConnectTls(host.TlsPort);
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "tls-auth-clients", "yes"));
        Assert.True(IsRefused(() => ConnectTls(host.TlsPort)));
        using (RespTestClient withCert = ConnectTls(host.TlsPort, "client")) Assert.Equal("+PONG\r\n", withCert.Call("PING"));
        Assert.Equal("+PONG\r\n", admin.Call("PING"));
    }

    [Fact]
    public async Task TlsProtocolsAndCipherSuitesLimitTheHandshake()
    {
        await using RespKvHost host = await StartTls(TlsAuthClients.No, configure: o => o.TlsProtocols = "TLSv1.2");
        using (RespTestClient tls12 = ConnectTls(host.TlsPort, protocols: SslProtocols.Tls12)) Assert.Equal("+PONG\r\n", tls12.Call("PING"));
        Assert.True(IsRefused(() => ConnectTls(host.TlsPort, protocols: SslProtocols.Tls13)), "TLS 1.3 negotiated with tls-protocols TLSv1.2");
        using RespTestClient admin = ConnectTls(host.TlsPort);
        Assert.Equal("+OK\r\n", admin.Call("CONFIG", "SET", "tls-protocols", "TLSv1.3", "tls-ciphersuites", "TLS_AES_128_GCM_SHA256"));
        using var tcp = new TcpClient("127.0.0.1", host.TlsPort);
        using var ssl = new SslStream(tcp.GetStream());
        ssl.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = (_, _, _, _) => true });
        Assert.Equal(SslProtocols.Tls13, ssl.SslProtocol);
        Assert.Equal(TlsCipherSuite.TLS_AES_128_GCM_SHA256, ssl.NegotiatedCipherSuite);
    }

    [Fact]
    public void StartUpFailsWithRedisReasonsWhenTheTlsSettingsAreIncomplete()
    {
        var options = new ServerOptions { TlsPort = 1 };
        Assert.Equal("No tls-cert-file configured!", Assert.Throws<TlsConfigurationException>(() => TlsConfiguration.Build(options)).Message);
        options.TlsCertFile = _certs["server.crt"];
        Assert.Equal("No tls-key-file configured!", Assert.Throws<TlsConfigurationException>(() => TlsConfiguration.Build(options)).Message);
        options.TlsKeyFile = _certs["server.key"];
        Assert.Equal("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!",
            Assert.Throws<TlsConfigurationException>(() => TlsConfiguration.Build(options)).Message);
        options.TlsCaCertDir = _certs.Dir;
        Assert.NotNull(TlsConfiguration.Build(options));
        options.TlsKeyFilePass = "wrong";
        options.TlsKeyFile = _certs["server-enc.key"];
        Assert.StartsWith("Failed to load certificate", Assert.Throws<TlsConfigurationException>(() => TlsConfiguration.Build(options)).Message);
    }

    [Theory]
    [InlineData("ECDHE-RSA-AES256-GCM-SHA384", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)]
    [InlineData("ECDHE-ECDSA-AES128-GCM-SHA256", TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)]
    [InlineData("ECDHE-RSA-CHACHA20-POLY1305", TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData("DHE-RSA-AES256-GCM-SHA384", TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384)]
    [InlineData("AES128-SHA", TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA)]
    [InlineData("ECDHE-RSA-AES128-SHA256", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256)]
    [InlineData("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)]
    [InlineData("TLS_AES_256_GCM_SHA384", TlsCipherSuite.TLS_AES_256_GCM_SHA384)]
    public void CipherNamesInOpenSslOrIanaForm(string name, TlsCipherSuite expected) =>
        Assert.Equal(expected, TlsConfiguration.CipherSuiteByName(name));

    [Theory]
    [InlineData("HIGH")]
    [InlineData("!aNULL")]
    [InlineData("ECDHE-RSA-AES999-GCM-SHA384")]
    [InlineData("4865")]
    public void UnknownCipherNamesAreNone(string name) => Assert.Null(TlsConfiguration.CipherSuiteByName(name));

    [Fact]
    public void TlsProtocolsParseAsRedisDoes()
    {
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, TlsConfiguration.ParseProtocols(""));
        Assert.Equal(SslProtocols.Tls13, TlsConfiguration.ParseProtocols("tlsv1.3"));
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, TlsConfiguration.ParseProtocols("TLSv1.2  TLSv1.3"));
        Assert.Equal("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.",
            Assert.Throws<TlsConfigurationException>(() => TlsConfiguration.ParseProtocols("SSLv3")).Message);
    }
}
