using System.Diagnostics;
using System.Net.Sockets;

namespace Bulwark.Tests.Airgap;

/// <summary>
/// A real docker-registry on 127.0.0.1 (free port) with TLS (a CA made by openssl) and htpasswd (bcrypt) auth,
/// its own config and storage in a temp folder; stopped and removed on dispose.
/// </summary>
public sealed class TestRegistry : IDisposable
{
    public const string User = "bulwark";
    public const string Password = "s3cret-pass";

    private readonly Process _process;
    private readonly TempDirectory _dir;

    private TestRegistry(TempDirectory dir, Process process, int port, string ca)
    {
        _dir = dir;
        _process = process;
        Port = port;
        CaFile = ca;
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public string CaFile { get; }

    /// <summary>A folder with the CA as ca.crt, for skopeo's --cert-dir.</summary>
    public string CertDirectory => Path.GetDirectoryName(CaFile)!;

    public static async Task<TestRegistry> StartAsync()
    {
        var dir = new TempDirectory("bulwark-registry");
        var certs = Directory.CreateDirectory(dir.Combine("certs")).FullName;
        await Tools.RunAsync("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.Combine("registry.key"), "-out", Path.Combine(certs, "ca.crt"));
        File.WriteAllText(dir.Combine("htpasswd"), $"{User}:{BCrypt.Net.BCrypt.HashPassword(Password, 6)}\n");
        var port = FreePorts.Take(1)[0];
        var config = dir.Write("config.yml", $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {dir.Combine("data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              tls:
                certificate: {Path.Combine(certs, "ca.crt")}
                key: {dir.Combine("registry.key")}
            auth:
              htpasswd:
                realm: bulwark-test
                path: {dir.Combine("htpasswd")}
            """);
        var start = new ProcessStartInfo("docker-registry") { ArgumentList = { "serve", config }, RedirectStandardError = true, RedirectStandardOutput = true };
        var process = Process.Start(start)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var registry = new TestRegistry(dir, process, port, Path.Combine(certs, "ca.crt"));
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return registry;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        registry.Dispose();
        throw new InvalidOperationException("docker-registry did not start");
    }

    /// <summary>Pushes an OCI layout's tag with skopeo (TLS verified against the test CA, with credentials).</summary>
    public Task PushAsync(string layout, string tag, string repository) =>
        Tools.RunAsync("skopeo", "copy", "--quiet", "--dest-cert-dir", CertDirectory, "--dest-creds", $"{User}:{Password}",
            $"oci:{layout}:{tag}", $"docker://{Host}/{repository}");

    /// <summary>skopeo's view of an image in this registry (null when absent).</summary>
    public async Task<string?> InspectDigestAsync(string repositoryAndTag)
    {
        var result = await Tools.TryRunAsync("skopeo", "inspect", "--cert-dir", CertDirectory, "--creds", $"{User}:{Password}", "--format", "{{.Digest}}",
            $"docker://{Host}/{repositoryAndTag}");
        return result.ExitCode == 0 ? result.Out.Trim() : null;
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        _dir.Dispose();
    }
}
