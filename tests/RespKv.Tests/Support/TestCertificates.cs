using System.Diagnostics;

namespace RespKv.Tests.Support;

/// <summary>
/// Certificates made with the <c>openssl</c> command at run time, in a temporary directory (removed on dispose): a CA
/// (<c>ca.crt</c>), a server certificate for <c>localhost</c>/127.0.0.1 signed by it (<c>server.crt</c>, <c>server.key</c>), a second
/// one (<c>server2.crt</c>, <c>server2.key</c>, for reload tests), an encrypted copy of the server key (<c>server-enc.key</c>, pass
/// phrase <see cref="KeyPassword"/>), a client certificate (<c>client.crt</c>, <c>client.key</c>), and a client certificate from
/// another CA (<c>rogue.crt</c>, <c>rogue.key</c>), as the commands in the README's Security section make them.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    /// <summary>The pass phrase of <c>server-enc.key</c>.</summary>
    public const string KeyPassword = "s3cret-pass";

    /// <summary>Makes every certificate; throws when <c>openssl</c> fails.</summary>
    public TestCertificates()
    {
        Dir = Directory.CreateTempSubdirectory("respkv-tls-").FullName;
        OpenSsl("genrsa", "-out", "ca.key", "2048");
        OpenSsl("req", "-x509", "-new", "-nodes", "-sha256", "-key", "ca.key", "-days", "2", "-subj", "/O=RespKv Test/CN=RespKv Test CA", "-out", "ca.crt");
        OpenSsl("genrsa", "-out", "rogue-ca.key", "2048");
        OpenSsl("req", "-x509", "-new", "-nodes", "-sha256", "-key", "rogue-ca.key", "-days", "2", "-subj", "/CN=Rogue CA", "-out", "rogue-ca.crt");
        File.WriteAllText(Path.Combine(Dir, "server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
        File.WriteAllText(Path.Combine(Dir, "client.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
        Sign("server", "ca", "/O=RespKv Test/CN=localhost", "server.ext");
        Sign("server2", "ca", "/O=RespKv Test/CN=localhost second", "server.ext");
        Sign("client", "ca", "/O=RespKv Test/CN=client", "client.ext");
        Sign("rogue", "rogue-ca", "/CN=rogue client", "client.ext");
        OpenSsl("pkcs8", "-topk8", "-in", "server.key", "-out", "server-enc.key", "-passout", "pass:" + KeyPassword);
    }

    /// <summary>The directory holding the files.</summary>
    public string Dir { get; }

    /// <summary>The full path of <paramref name="name"/> in <see cref="Dir"/>.</summary>
    public string this[string name] => Path.Combine(Dir, name);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Sign(string name, string ca, string subject, string extensions)
    {
        OpenSsl("genrsa", "-out", name + ".key", "2048");
        OpenSsl("req", "-new", "-sha256", "-key", name + ".key", "-subj", subject, "-out", name + ".csr");
        OpenSsl("x509", "-req", "-sha256", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
            "-days", "2", "-extfile", extensions, "-out", name + ".crt");
    }

    private void OpenSsl(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = Dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(' ', args)} failed: {error}");
    }
}
