using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

/// <summary>
/// A real etcd 3.4 member serving with Bulwark's etcd certificates: client port with --client-cert-auth, peer port with
/// peer TLS, and the TLS policy's --cipher-suites. Started once for the test class; always stopped.
/// </summary>
public sealed class EtcdWithBulwarkPki : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-etcd-pki");
    private readonly StringBuilder _log = new();
    private Process? _etcd;

    public ServerPkiPaths Paths => new(_dir.Combine("data"));
    public int ClientPort { get; private set; }
    public int PeerPort { get; private set; }
    public string ClientUrl => $"https://127.0.0.1:{ClientPort}";
    public string Log { get { lock (_log) { return _log.ToString(); } } }

    /// <summary>A second, unrelated PKI: its etcd client cert must be rejected.</summary>
    public ServerPkiPaths OtherCluster => new(_dir.Combine("other"));

    public async ValueTask InitializeAsync()
    {
        TestPki.Create(Paths.DataDir);
        TestPki.Create(OtherCluster.DataDir);
        var (client, peer, metrics) = (FreePort(), FreePort(), FreePort());
        ClientPort = client;
        PeerPort = peer;
        var dataDir = _dir.Combine("etcd");
        string[] args =
        [
            "--name=node-1", $"--data-dir={dataDir}",
            $"--listen-client-urls=https://127.0.0.1:{client}", $"--advertise-client-urls=https://127.0.0.1:{client}",
            $"--listen-peer-urls=https://127.0.0.1:{peer}", $"--initial-advertise-peer-urls=https://127.0.0.1:{peer}",
            $"--initial-cluster=node-1=https://127.0.0.1:{peer}", "--initial-cluster-state=new",
            $"--listen-metrics-urls=http://127.0.0.1:{metrics}",
            "--client-cert-auth", $"--trusted-ca-file={Paths.EtcdServerCa.Certificate}",
            $"--cert-file={Paths.EtcdServerClient.Certificate}", $"--key-file={Paths.EtcdServerClient.Key}",
            "--peer-client-cert-auth", $"--peer-trusted-ca-file={Paths.EtcdPeerCa.Certificate}",
            $"--peer-cert-file={Paths.EtcdPeerServerClient.Certificate}", $"--peer-key-file={Paths.EtcdPeerServerClient.Key}",
            .. TlsPolicy.BuiltIn.EtcdArguments(),
        ];
        var info = new ProcessStartInfo("etcd") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        _etcd = Process.Start(info) ?? throw new InvalidOperationException("etcd did not start");
        _etcd.ErrorDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        _etcd.OutputDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
        _etcd.BeginErrorReadLine();
        _etcd.BeginOutputReadLine();

        // Wait for readiness on the metrics port (no client cert needed there).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 150; attempt++)
        {
            if (_etcd.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with {_etcd.ExitCode}:\n{Log}");
            }
            try
            {
                var health = await http.GetStringAsync($"http://127.0.0.1:{metrics}/health");
                if (health.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"etcd did not become healthy:\n{Log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_etcd is { HasExited: false })
        {
            _etcd.Kill(entireProcessTree: true);
            await _etcd.WaitForExitAsync();
        }
        _etcd?.Dispose();
        _dir.Dispose();
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
