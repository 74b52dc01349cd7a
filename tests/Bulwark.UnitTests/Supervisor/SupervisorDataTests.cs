using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Pki;
using Bulwark.Supervisor;
using YamlDotNet.RepresentationModel;
using Bulwark.Kube;

namespace Bulwark.Tests.Supervisor;

public sealed class SupervisorDataTests
{
    private static readonly CryptoService Crypto = CryptoService.For(FipsMode.On);

    [Fact]
    public void Bootstrap_data_seals_to_ciphertext_opens_only_with_the_token_and_refuses_unexpected_files()
    {
        var files = BootstrapData.RequiredFiles.ToDictionary(f => f, f => $"content of {f}");
        var sealer = new TokenSealer(Crypto);
        var sealedData = BootstrapData.Seal(new BootstrapBundle(files), sealer, "the-secret");
        Assert.DoesNotContain("content of", Encoding.UTF8.GetString(sealedData));
        Assert.Equal(files, BootstrapData.Unseal(sealedData, sealer, "the-secret").Files);
        Assert.Throws<SealedDataException>(() => BootstrapData.Unseal(sealedData, sealer, "another-secret"));

        // A bundle naming a path outside the shared set (e.g. a traversal) is refused before anything is written.
        var evil = new Dictionary<string, string>(files) { ["../../etc/cron.d/x"] = "* * * * * root sh" };
        var error = Assert.Throws<SealedDataException>(() => BootstrapData.Unseal(BootstrapData.Seal(new BootstrapBundle(evil), sealer, "s"), sealer, "s"));
        Assert.Contains("unexpected file", error.Message);
        var missing = files.Where(f => f.Key != "server/tls/server-ca.key").ToDictionary();
        Assert.Throws<SealedDataException>(() => BootstrapData.Unseal(BootstrapData.Seal(new BootstrapBundle(missing), sealer, "s"), sealer, "s"));
    }

    [Fact]
    public void Bootstrap_data_is_written_0600_and_never_over_another_clusters_CA()
    {
        using var dir = new TempDirectory();
        var files = BootstrapData.RequiredFiles.ToDictionary(f => f, f => $"content of {f}");
        Assert.Equal(files.Count, BootstrapData.WriteTo(new BootstrapBundle(files), dir.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.Combine("server/tls/etcd/peer-ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.Combine("server/tls/etcd")));
        Assert.Equal(0, BootstrapData.WriteTo(new BootstrapBundle(files), dir.Path));
        var other = new Dictionary<string, string>(files) { ["server/tls/server-ca.crt"] = "another cluster" };
        var error = Assert.Throws<PkiException>(() => BootstrapData.WriteTo(new BootstrapBundle(other), dir.Path));
        Assert.Contains("another cluster", error.Message);
        Assert.Equal("content of server/tls/server-ca.crt", File.ReadAllText(dir.Combine("server/tls/server-ca.crt")));
    }

    [Fact]
    public void Node_password_records_are_salted_and_verify_only_the_same_password()
    {
        var passwords = new NodePasswords(null!, Crypto);
        var a = passwords.Hash("pw-1", Crypto.RandomBytes(16));
        var b = passwords.Hash("pw-1", Crypto.RandomBytes(16));
        Assert.NotEqual(a, b);
        Assert.DoesNotContain("pw-1", Encoding.ASCII.GetString(a));
        Assert.True(passwords.Verify(a, "pw-1"));
        Assert.True(passwords.Verify(b, "pw-1"));
        Assert.False(passwords.Verify(a, "pw-2"));
        Assert.False(passwords.Verify("garbage"u8.ToArray(), "pw-1"));
        Assert.False(passwords.Verify("hmac-sha256$!!$!!"u8.ToArray(), "pw-1"));
    }

    [Fact]
    public void Signature_check_agrees_with_the_issuer_and_rejects_other_CAs_and_tampering()
    {
        var issuer = new CertificateIssuer(Crypto, TimeProvider.System);
        using var ca = issuer.CreateCa("ca-one", KeyAlgorithm.EcdsaP256);
        using var other = issuer.CreateCa("ca-one", KeyAlgorithm.EcdsaP256); // same name, other key
        using var rsaCa = issuer.CreateCa("ca-rsa", KeyAlgorithm.Rsa3072);
        using var leaf = issuer.Issue(ca, new CertificateProfile("leaf", [], CertificateUsage.Server, SubjectAlternativeNames.None), KeyAlgorithm.EcdsaP256);
        using var rsaLeaf = issuer.Issue(rsaCa, new CertificateProfile("leaf", [], CertificateUsage.Client, SubjectAlternativeNames.None), KeyAlgorithm.EcdsaP256);
        Assert.True(CertificateSignature.IsIssuedBy(leaf.Certificate, ca.Certificate));
        Assert.False(CertificateSignature.IsIssuedBy(leaf.Certificate, other.Certificate));
        Assert.True(CertificateSignature.IsIssuedBy(rsaLeaf.Certificate, rsaCa.Certificate));
        Assert.False(CertificateSignature.IsIssuedBy(rsaLeaf.Certificate, ca.Certificate));
        var tampered = leaf.Certificate.RawData.ToArray();
        tampered[^10] ^= 0x01;
        using var broken = X509CertificateLoader.LoadCertificate(tampered);
        Assert.False(CertificateSignature.IsIssuedBy(broken, ca.Certificate));
        Assert.Equal(ServerPki.IssuedBy(leaf.Certificate, ca.Certificate), CertificateSignature.IsIssuedBy(leaf.Certificate, ca.Certificate));
    }

    [Fact]
    public void Node_csr_policy_allows_only_the_nodes_own_identity()
    {
        var client = NodeCertificateSigner.PolicyFor(NodeCertificateKind.KubeletClient, "n1", []);
        Assert.Equal("system:node:n1", client.CommonName);
        Assert.Equal(["system:nodes"], client.Organizations);
        Assert.Empty(client.AllowedDnsNames);
        var serving = NodeCertificateSigner.PolicyFor(NodeCertificateKind.KubeletServing, "n1", [IPAddress.Parse("10.0.0.5")]);
        Assert.Equal(CertificateUsage.Server, serving.Usage);
        Assert.Contains("n1", serving.AllowedDnsNames);
        Assert.Contains(IPAddress.Parse("10.0.0.5"), serving.AllowedIpAddresses);
        Assert.DoesNotContain(IPAddress.Parse("10.0.0.6"), serving.AllowedIpAddresses);
        Assert.Equal("system:kube-proxy", NodeCertificateSigner.PolicyFor(NodeCertificateKind.KubeProxy, "n1", []).CommonName);
    }

    [Fact]
    public void Agent_CSRs_carry_the_subject_the_server_expects_and_sign_under_the_csr_signer()
    {
        var issuer = new CertificateIssuer(Crypto, TimeProvider.System);
        using var ca = issuer.CreateCa("ca", KeyAlgorithm.EcdsaP256);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signer = new CsrSigner(Crypto);
        foreach (var kind in new[] { NodeCertificateKind.KubeletClient, NodeCertificateKind.KubeletServing, NodeCertificateKind.KubeProxy })
        {
            var csr = AgentJoin.CreateCsr(kind, key, "n1", [IPAddress.Parse("10.0.0.5")]);
            using var certificate = X509CertificateLoader.LoadCertificate(signer.Sign(csr, ca, NodeCertificateSigner.PolicyFor(kind, "n1", [IPAddress.Parse("10.0.0.5")])));
            Assert.True(CertificateSignature.IsIssuedBy(certificate, ca.Certificate));
            // What the agent checks on the DER it receives, without decoding it: the key is its own.
            Assert.Equal(key.ExportSubjectPublicKeyInfo(), CertificateSignature.SubjectPublicKeyInfoOf(certificate.RawData).ToArray());
        }
        Assert.True(CertificateSignature.SubjectPublicKeyInfoOf("not a certificate"u8.ToArray()).IsEmpty);
        var otherNode = AgentJoin.CreateCsr(NodeCertificateKind.KubeletClient, key, "n2", []);
        Assert.Throws<CsrRejectedException>(() => signer.Sign(otherNode, ca, NodeCertificateSigner.PolicyFor(NodeCertificateKind.KubeletClient, "n1", [])));
    }

    [Fact]
    public void Kubeconfig_is_yaml_with_file_references_only()
    {
        var text = Kubeconfig.ForCertificate("https://10.0.0.1:6443", "system:node:n1", "/d/agent/server-ca.crt", new CertificateFiles("/d/agent/c.crt", "/d/agent/c.key")).ToYaml();
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        Assert.Equal("Config", root["kind"].ToString());
        var user = (YamlMappingNode)((YamlMappingNode)((YamlSequenceNode)root["users"])[0])["user"];
        Assert.Equal("/d/agent/c.key", user["client-key"].ToString());
        Assert.DoesNotContain("PRIVATE KEY", text);
    }
}
