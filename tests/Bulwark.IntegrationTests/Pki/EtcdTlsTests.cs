using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Pki;
using Bulwark.Processes;

namespace Bulwark.Tests.Pki;

/// <summary>Real etcd 3.4 with Bulwark's etcd certificates and --client-cert-auth.</summary>
public sealed class EtcdTlsTests(EtcdWithBulwarkPki etcd) : IClassFixture<EtcdWithBulwarkPki>
{
    private Task<ProcessResult> EtcdctlHealth(CertificateFiles client) =>
        ProcessRunner.RunAsync(new ProcessSpec("etcdctl",
        [
            $"--endpoints={etcd.ClientUrl}", $"--cacert={etcd.Paths.EtcdServerCa.Certificate}",
            $"--cert={client.Certificate}", $"--key={client.Key}", "--dial-timeout=5s", "--command-timeout=5s", "endpoint", "health",
        ])
        {
            Environment = new Dictionary<string, string?> { ["ETCDCTL_API"] = "3" },
            Timeout = TimeSpan.FromSeconds(30),
        }, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Etcd_accepts_bulwarks_apiserver_client_cert()
    {
        var result = await EtcdctlHealth(etcd.Paths.EtcdClient);
        Assert.True(result.Succeeded, result.StandardError + etcd.Log);
        Assert.Contains("is healthy", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_rejects_a_client_cert_from_another_ca()
    {
        var result = await EtcdctlHealth(etcd.OtherCluster.EtcdClient);
        Assert.False(result.Succeeded);
        Assert.Contains("is unhealthy", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    private HttpClient PolicyClient(CertificateFiles client)
    {
        var ca = X509CertificateLoader.LoadCertificate(X509Certificate2.CreateFromPem(File.ReadAllText(etcd.Paths.EtcdServerCa.Certificate)).RawData);
        var ssl = TlsPolicy.BuiltIn.Apply(new SslClientAuthenticationOptions
        {
            ClientCertificates = [X509Certificate2.CreateFromPemFile(client.Certificate, client.Key)],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is X509Certificate2 c && chain.Build(c);
            },
        });
        return new HttpClient(new SocketsHttpHandler { SslOptions = ssl }) { Timeout = TimeSpan.FromSeconds(15) };
    }

    [Fact]
    public async Task A_dotnet_client_with_the_tls_policy_talks_to_etcds_json_gateway_which_reuses_the_serving_cert_as_client()
    {
        using var http = PolicyClient(etcd.Paths.EtcdClient);
        var ct = TestContext.Current.CancellationToken;
        // The gateway dials etcd's gRPC with the serving cert as its client cert: this fails unless that cert has clientAuth.
        var put = await http.PostAsync($"{etcd.ClientUrl}/v3/kv/put",
            new StringContent("{\"key\":\"YnVsd2Fyaw==\",\"value\":\"cGtp\"}", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var range = await http.PostAsync($"{etcd.ClientUrl}/v3/kv/range", new StringContent("{\"key\":\"YnVsd2Fyaw==\"}", Encoding.UTF8, "application/json"), ct);
        Assert.Contains("\"value\":\"cGtp\"", await range.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dotnet_client_with_another_clusters_cert_is_refused()
    {
        using var http = PolicyClient(etcd.OtherCluster.EtcdClient);
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync($"{etcd.ClientUrl}/health", TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("ECDHE-ECDSA-CHACHA20-POLY1305")]
    [InlineData("AES128-GCM-SHA256")]
    public async Task Etcd_started_with_the_policys_suites_refuses_other_tls12_suites(string cipher)
    {
        var port = etcd.ClientPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var refused = await OpenSsl.RunAsync("s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2", "-cipher", cipher,
            "-cert", etcd.Paths.EtcdClient.Certificate, "-key", etcd.Paths.EtcdClient.Key);
        Assert.False(refused.Succeeded);
        var accepted = await OpenSsl.RunAsync("s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
            "-CAfile", etcd.Paths.EtcdServerCa.Certificate, "-cert", etcd.Paths.EtcdClient.Certificate, "-key", etcd.Paths.EtcdClient.Key);
        Assert.True(accepted.Succeeded, accepted.StandardError);
        Assert.Contains("Verify return code: 0 (ok)", accepted.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcds_peer_port_accepts_the_peer_cert_and_rejects_a_cert_from_the_etcd_server_ca()
    {
        var port = etcd.PeerPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // TLS 1.2 so the server's verdict on the client cert is part of the handshake s_client reports.
        var peer = await OpenSsl.RunAsync("s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2", "-verify_return_error",
            "-CAfile", etcd.Paths.EtcdPeerCa.Certificate, "-cert", etcd.Paths.EtcdPeerServerClient.Certificate, "-key", etcd.Paths.EtcdPeerServerClient.Key);
        Assert.True(peer.Succeeded, peer.StandardError);
        Assert.Contains("Verify return code: 0 (ok)", peer.StandardOutput, StringComparison.Ordinal);

        var wrongCa = await OpenSsl.RunAsync("s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2",
            "-CAfile", etcd.Paths.EtcdPeerCa.Certificate, "-cert", etcd.Paths.EtcdClient.Certificate, "-key", etcd.Paths.EtcdClient.Key);
        Assert.False(wrongCa.Succeeded);
        Assert.Contains("alert", wrongCa.StandardError, StringComparison.Ordinal);
    }
}
