using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RespKv.Configuration;

namespace RespKv.Server;

/// <summary>
/// The TLS listener's configuration built from the <c>tls-*</c> settings, as Redis 7.0's <c>tlsConfigure</c> (tls.c) builds its
/// SSL context: the server certificate and key (<c>tls-cert-file</c>, <c>tls-key-file</c>, <c>tls-key-file-pass</c>), the CA that
/// client certificates must chain to (<c>tls-ca-cert-file</c>, <c>tls-ca-cert-dir</c>), <c>tls-auth-clients</c>,
/// <c>tls-protocols</c>, <c>tls-ciphers</c>, <c>tls-ciphersuites</c> and <c>tls-session-caching</c>. Immutable: CONFIG SET builds a
/// new one, which new connections use (<see cref="CreateAuthenticationOptions"/>); the handshake itself is .NET's
/// <see cref="SslStream"/>. https://redis.io/docs/management/security/encryption/
/// </summary>
public sealed class TlsConfiguration
{
    /// <summary>Redis 7.0's CONFIG SET error when the new TLS settings cannot be applied (config.c <c>applyTlsCfg</c>).</summary>
    public const string UpdateFailedError = "Unable to update TLS configuration. Check server logs.";

    // OpenSSL 3's default TLS 1.3 suites, and Mozilla's "intermediate" TLS 1.2 list: the suites kept for the version whose list
    // is not configured when only the other one is (a .NET CipherSuitesPolicy covers both versions at once).
    private static readonly TlsCipherSuite[] DefaultTls13Suites =
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_AES_128_GCM_SHA256,
    ];

    private static readonly TlsCipherSuite[] DefaultTls12Suites =
    [
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    ];

    private readonly SslStreamCertificateContext _certificate;
    private readonly X509Certificate2Collection _trustedCas;
    private readonly TlsAuthClients _authClients;
    private readonly SslProtocols _protocols;
    private readonly CipherSuitesPolicy? _cipherSuites;
    private readonly bool _sessionCaching;

    private TlsConfiguration(SslStreamCertificateContext certificate, X509Certificate2Collection trustedCas, TlsAuthClients authClients,
        SslProtocols protocols, CipherSuitesPolicy? cipherSuites, bool sessionCaching)
    {
        _certificate = certificate;
        _trustedCas = trustedCas;
        _authClients = authClients;
        _protocols = protocols;
        _cipherSuites = cipherSuites;
        _sessionCaching = sessionCaching;
    }

    /// <summary>The server certificate presented to new connections.</summary>
    public X509Certificate2 Certificate => _certificate.TargetCertificate;

    /// <summary>
    /// Builds the configuration from <paramref name="options"/>, or throws <see cref="TlsConfigurationException"/> whose message is
    /// the reason, worded as Redis 7.0 logs it (<c>No tls-cert-file configured!</c>, <c>Either tls-ca-cert-file or tls-ca-cert-dir
    /// must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!</c>, <c>Invalid tls-protocols specified.
    /// Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.</c>, <c>Failed to load certificate: …</c>, …).
    /// </summary>
    public static TlsConfiguration Build(ServerOptions options)
    {
        if (options.TlsCertFile.Length == 0) throw new TlsConfigurationException("No tls-cert-file configured!");
        if (options.TlsKeyFile.Length == 0) throw new TlsConfigurationException("No tls-key-file configured!");
        if (options.TlsAuthClients != TlsAuthClients.No && options.TlsCaCertFile.Length == 0 && options.TlsCaCertDir.Length == 0)
            throw new TlsConfigurationException(
                "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!");
        SslProtocols protocols = ParseProtocols(options.TlsProtocols);
        CipherSuitesPolicy? cipherSuites = ParseCipherSuites(options.TlsCiphers, options.TlsCiphersuites);
        SslStreamCertificateContext certificate = LoadCertificate(options.TlsCertFile, options.TlsKeyFile, options.TlsKeyFilePass);
        X509Certificate2Collection trusted = LoadCas(options.TlsCaCertFile, options.TlsCaCertDir);
        return new TlsConfiguration(certificate, trusted, options.TlsAuthClients, protocols, cipherSuites, options.TlsSessionCaching);
    }

    /// <summary>
    /// The handshake options of one new connection: this certificate (with its chain), the protocols and cipher suites, a client
    /// certificate asked for unless <c>tls-auth-clients no</c> and checked against the configured CAs by
    /// <see cref="ValidateClientCertificate"/>.
    /// </summary>
    public SslServerAuthenticationOptions CreateAuthenticationOptions() => new()
    {
        ServerCertificateContext = _certificate,
        ClientCertificateRequired = _authClients != TlsAuthClients.No,
        RemoteCertificateValidationCallback = ValidateClientCertificate,
        EnabledSslProtocols = _protocols,
        CipherSuitesPolicy = _cipherSuites,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        AllowTlsResume = _sessionCaching,
    };

    /// <summary>
    /// Accepts a client's certificate as OpenSSL's <c>SSL_VERIFY_PEER</c> with the configured CAs does: a certificate must chain to
    /// one of them (no revocation check, host names not compared); without a certificate, refused under <c>tls-auth-clients yes</c>
    /// (<c>SSL_VERIFY_FAIL_IF_NO_PEER_CERT</c>) and accepted under <c>optional</c> and <c>no</c>.
    /// </summary>
    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate == null) return _authClients != TlsAuthClients.Yes;
        if (_trustedCas.Count == 0) return false;
        using var verify = new X509Chain();
        verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verify.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
        verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain != null)
        {
            foreach (X509ChainElement element in chain.ChainElements) verify.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        using var leaf = new X509Certificate2(certificate);
        return verify.Build(leaf);
    }

    /// <summary>
    /// <c>tls-protocols</c> (tls.c <c>parseProtocolsConfig</c>): space-separated <c>TLSv1</c>, <c>TLSv1.1</c>, <c>TLSv1.2</c>,
    /// <c>TLSv1.3</c>, any case; empty = TLS 1.2 and 1.3.
    /// </summary>
    internal static SslProtocols ParseProtocols(string text)
    {
        const string error = "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.";
        string[] names = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) return SslProtocols.Tls12 | SslProtocols.Tls13;
        SslProtocols protocols = SslProtocols.None;
        foreach (string name in names)
        {
#pragma warning disable SYSLIB0039 // TLS 1.0 and 1.1 are accepted because Redis accepts them; OpenSSL's security level may still refuse them.
            protocols |= name.ToLowerInvariant() switch
            {
                "tlsv1" => SslProtocols.Tls,
                "tlsv1.1" => SslProtocols.Tls11,
                "tlsv1.2" => SslProtocols.Tls12,
                "tlsv1.3" => SslProtocols.Tls13,
                _ => throw new TlsConfigurationException(error),
            };
#pragma warning restore SYSLIB0039
        }
        return protocols;
    }

    /// <summary>
    /// The cipher suite policy of <c>tls-ciphers</c> (TLS 1.2 and below, colon-separated) and <c>tls-ciphersuites</c> (TLS 1.3),
    /// or null when both are empty (the system's defaults). Each name is an IANA name (<c>TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256</c>)
    /// or an OpenSSL name of a named suite (<c>ECDHE-RSA-AES128-GCM-SHA256</c>); OpenSSL's cipher-string keywords (<c>HIGH</c>,
    /// <c>!aNULL</c>, <c>DEFAULT</c>) are not understood and refused (<c>Failed to configure ciphers: …</c>).
    /// </summary>
    internal static CipherSuitesPolicy? ParseCipherSuites(string ciphers, string ciphersuites)
    {
        if (ciphers.Length == 0 && ciphersuites.Length == 0) return null;
        var suites = new List<TlsCipherSuite>();
        suites.AddRange(ciphersuites.Length == 0 ? DefaultTls13Suites : ParseSuiteList(ciphersuites, "ciphersuites"));
        suites.AddRange(ciphers.Length == 0 ? DefaultTls12Suites : ParseSuiteList(ciphers, "ciphers"));
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            throw new TlsConfigurationException("Failed to configure ciphers: cipher suite lists need OpenSSL (Linux, macOS)");
#pragma warning disable CA1416 // Guarded above: OpenSSL platforms only.
        return new CipherSuitesPolicy(suites);
#pragma warning restore CA1416
    }

    private static List<TlsCipherSuite> ParseSuiteList(string list, string setting)
    {
        var suites = new List<TlsCipherSuite>();
        foreach (string name in list.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            TlsCipherSuite? suite = CipherSuiteByName(name);
            if (suite == null) throw new TlsConfigurationException($"Failed to configure {setting}: unknown cipher suite '{name}'");
            suites.Add(suite.Value);
        }
        if (suites.Count == 0) throw new TlsConfigurationException($"Failed to configure {setting}: no cipher suite named");
        return suites;
    }

    /// <summary>
    /// A cipher suite by its IANA name or its OpenSSL name (<c>[kx-]cipher[-mac]</c>: <c>ECDHE-ECDSA-AES256-GCM-SHA384</c>,
    /// <c>DHE-RSA-CHACHA20-POLY1305</c>, <c>AES128-SHA</c> for RSA key exchange), or null.
    /// </summary>
    internal static TlsCipherSuite? CipherSuiteByName(string name)
    {
        if (name.StartsWith("TLS_", StringComparison.Ordinal) && Enum.TryParse(name, ignoreCase: false, out TlsCipherSuite iana)) return iana;
        string rest = name.ToUpperInvariant();
        string exchange = "RSA";
        foreach ((string prefix, string iananame) in (ReadOnlySpan<(string, string)>)
            [("ECDHE-ECDSA-", "ECDHE_ECDSA"), ("ECDHE-RSA-", "ECDHE_RSA"), ("DHE-RSA-", "DHE_RSA"), ("DHE-DSS-", "DHE_DSS"), ("ECDHE-PSK-", "ECDHE_PSK")])
        {
            if (!rest.StartsWith(prefix, StringComparison.Ordinal)) continue;
            exchange = iananame;
            rest = rest[prefix.Length..];
            break;
        }
        string? cipher = null, mac = null;
        foreach ((string openssl, string ianaCipher, string? impliedMac) in (ReadOnlySpan<(string, string, string?)>)
            [
                ("AES128-GCM-", "AES_128_GCM", null), ("AES256-GCM-", "AES_256_GCM", null), ("CHACHA20-POLY1305", "CHACHA20_POLY1305", "SHA256"),
                ("AES128-CCM8", "AES_128_CCM_8", ""), ("AES256-CCM8", "AES_256_CCM_8", ""), ("AES128-CCM", "AES_128_CCM", ""),
                ("AES256-CCM", "AES_256_CCM", ""), ("AES128-", "AES_128_CBC", null), ("AES256-", "AES_256_CBC", null),
                ("CAMELLIA128-", "CAMELLIA_128_CBC", null), ("CAMELLIA256-", "CAMELLIA_256_CBC", null), ("DES-CBC3-", "3DES_EDE_CBC", null),
            ])
        {
            if (!rest.StartsWith(openssl, StringComparison.Ordinal)) continue;
            cipher = ianaCipher;
            string tail = rest[openssl.Length..];
            if (impliedMac != null)
            {
                if (tail.Length != 0) return null;
                mac = impliedMac;
            }
            else mac = tail;
            break;
        }
        if (cipher == null || mac is not ("" or "SHA" or "SHA256" or "SHA384")) return null;
        string candidate = $"TLS_{exchange}_WITH_{cipher}" + (mac.Length == 0 ? "" : "_" + mac);
        return Enum.TryParse(candidate, ignoreCase: false, out TlsCipherSuite suite) ? suite : null;
    }

    /// <summary>Loads the certificate (the file's first PEM certificate; the others are its chain) and its private key.</summary>
    private static SslStreamCertificateContext LoadCertificate(string certFile, string keyFile, string password)
    {
        X509Certificate2 certificate;
        var chain = new X509Certificate2Collection();
        try
        {
            certificate = password.Length == 0
                ? X509Certificate2.CreateFromPemFile(certFile, keyFile)
                : X509Certificate2.CreateFromEncryptedPemFile(certFile, password, keyFile);
            chain.ImportFromPemFile(certFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsConfigurationException($"Failed to load certificate: {certFile}: {e.Message}");
        }
        if (chain.Count > 0) chain.RemoveAt(0);
        return SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }

    /// <summary>The CA certificates of <c>tls-ca-cert-file</c> (all of it must load) and of every readable PEM file in <c>tls-ca-cert-dir</c>.</summary>
    private static X509Certificate2Collection LoadCas(string caFile, string caDir)
    {
        var cas = new X509Certificate2Collection();
        if (caFile.Length > 0)
        {
            try
            {
                cas.ImportFromPemFile(caFile);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new TlsConfigurationException($"Failed to configure CA certificate(s) file/directory: {caFile}: {e.Message}");
            }
            if (cas.Count == 0) throw new TlsConfigurationException($"Failed to configure CA certificate(s) file/directory: {caFile}: no certificate");
        }
        if (caDir.Length > 0)
        {
            if (!Directory.Exists(caDir)) throw new TlsConfigurationException($"Failed to configure CA certificate(s) file/directory: {caDir}: not a directory");
            foreach (string file in Directory.EnumerateFiles(caDir))
            {
                try
                {
                    cas.ImportFromPemFile(file);
                }
                catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    // Like OpenSSL's hashed directory lookup, a file that is no certificate is just not a CA.
                }
            }
        }
        return cas;
    }
}

/// <summary>The <c>tls-*</c> settings do not make a usable TLS configuration; the message is the reason, as Redis logs it.</summary>
public sealed class TlsConfigurationException(string message) : Exception(message);
