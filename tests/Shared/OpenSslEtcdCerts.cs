using Bulwark.Processes;

namespace Bulwark.Tests;

/// <summary>
/// The etcd certificates of the layout (server/tls/etcd), made with the real openssl CLI (EC P-256). Serving and peer certs
/// carry EKU serverAuth+clientAuth and SANs IP:127.0.0.1, DNS:localhost. Stands in for the PKI (built on another branch).
/// </summary>
public static class OpenSslEtcdCerts
{
    public static async Task CreateAsync(string dataDir, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(dataDir, "server", "tls", "etcd");
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var openssl = ProgramLocator.Require("openssl", "apt-get install openssl");
        async Task Run(params string[] args) => await ProcessRunner.RunCheckedAsync(new ProcessSpec(openssl, args) { WorkingDirectory = dir }, cancellationToken);

        foreach (var ca in new[] { "server-ca", "peer-ca" })
        {
            await Run("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "30", "-subj", "/CN=bulwark-test-" + ca,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        }
        await File.WriteAllTextAsync(Path.Combine(dir, "both.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n", cancellationToken);
        foreach (var (leaf, ca, ext) in new[] { ("server-client", "server-ca", "both.ext"), ("peer-server-client", "peer-ca", "both.ext"), ("client", "server-ca", "client.ext") })
        {
            await Run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", leaf + ".key", "-out", leaf + ".csr", "-subj", "/CN=" + leaf);
            await Run("x509", "-req", "-in", leaf + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", leaf + ".crt", "-days", "30", "-extfile", ext);
        }
        foreach (var file in Directory.GetFiles(dir))
        {
            if (file.EndsWith(".csr", StringComparison.Ordinal) || file.EndsWith(".ext", StringComparison.Ordinal) || file.EndsWith(".srl", StringComparison.Ordinal))
            {
                File.Delete(file);
            }
            else
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }

    /// <summary>Copies the certificates to another node's data dir (same CAs, so members trust each other).</summary>
    public static void CopyTo(string fromDataDir, string toDataDir)
    {
        var from = Path.Combine(fromDataDir, "server", "tls", "etcd");
        var to = Path.Combine(toDataDir, "server", "tls", "etcd");
        Directory.CreateDirectory(to, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }
}

/// <summary>Free TCP ports on loopback, chosen at run time (never fixed ports: other test runs share this machine).</summary>
public static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            l.Start();
            return l;
        }).ToList();
        var ports = listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
