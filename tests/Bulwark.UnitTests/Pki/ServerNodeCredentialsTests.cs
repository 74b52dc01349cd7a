using System.Net;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

/// <summary>
/// A server is a node too: its PKI issues the kubelet and kube-proxy credentials that kubelet.kubeconfig,
/// kubeproxy.kubeconfig and the KubeletConfiguration name, with the identities the Node authorizer and RBAC expect.
/// </summary>
public sealed class ServerNodeCredentialsTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-nodecred");

    public void Dispose() => _dir.Dispose();

    private static X509Certificate2 Cert(string path) => X509Certificate2.CreateFromPem(File.ReadAllText(path));

    [Fact]
    public void A_server_pki_issues_its_own_kubelet_client_and_serving_and_kube_proxy_certificates_chained_to_the_cas_their_consumers_trust()
    {
        var paths = TestPki.Create(_dir.Path).Paths;
        using var clientCa = Cert(paths.ClientCa.Certificate);
        using var serverCa = Cert(paths.ServerCa.Certificate);

        var expected = new (CertificateFiles Files, X509Certificate2 Ca, string Subject)[]
        {
            (paths.NodeKubeletClient, clientCa, "CN=system:node:node-1, O=system:nodes"),
            (paths.NodeKubeProxyClient, clientCa, "CN=system:kube-proxy"),
            (paths.NodeKubeletServing, serverCa, "CN=system:node:node-1, O=system:nodes"),
        };
        foreach (var (files, ca, subject) in expected)
        {
            using var cert = Cert(files.Certificate);
            Assert.True(ServerPki.IssuedBy(cert, ca), $"{files.Certificate} is not issued by {ca.Subject}");
            Assert.Equal(subject, cert.Subject);
            using var key = TestPki.Crypto.ImportPrivateKeyPem(File.ReadAllText(files.Key), files.Key);
            Assert.True(IssuedCertificate.KeyMatches(cert, key), files.Key);
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(files.Key));
            Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(files.Certificate));
        }
        using var serving = Cert(paths.NodeKubeletServing.Certificate);
        var sans = CertificateDetails.AlternativeNamesOf(serving);
        Assert.True(sans.SameAs(SubjectAlternativeNames.From(["node-1", "localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback, TestPki.NodeAddress])));
    }
}
