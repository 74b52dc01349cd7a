using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

/// <summary>The generated PKI checked by the real openssl: chains, extensions, key files.</summary>
public sealed class OpenSslVerificationTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-pki-openssl");

    public void Dispose() => _dir.Dispose();

    private ServerPkiPaths Paths => new(_dir.Path);

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa3072)]
    public async Task Openssl_verify_passes_for_every_leaf_against_its_ca_with_the_right_purpose(KeyAlgorithm algorithm)
    {
        TestPki.Create(_dir.Path, algorithm);
        foreach (var leaf in PkiCatalog.Leaves)
        {
            var ca = Paths.Files(leaf.IssuerStem).Certificate;
            var cert = Paths.Files(leaf.Stem).Certificate;
            string[] purposes = leaf.Usage switch
            {
                CertificateUsage.Server => ["sslserver"],
                CertificateUsage.Client => ["sslclient"],
                _ => ["sslserver", "sslclient"],
            };
            foreach (var purpose in purposes)
            {
                var output = await OpenSsl.CheckedAsync("verify", "-x509_strict", "-purpose", purpose, "-CAfile", ca, cert);
                Assert.Equal($"{cert}: OK", output.Trim());
            }
            // And not against an unrelated CA.
            var other = leaf.IssuerStem == PkiCatalog.ServerCa ? Paths.ClientCa.Certificate : Paths.ServerCa.Certificate;
            Assert.False((await OpenSsl.RunAsync("verify", "-CAfile", other, cert)).Succeeded);
        }
    }

    [Fact]
    public async Task Openssl_shows_the_sans_and_ekus_of_the_apiserver_and_etcd_certs()
    {
        TestPki.Create(_dir.Path);
        var serving = await OpenSsl.CheckedAsync("x509", "-noout", "-text", "-in", Paths.ServingKubeApiserver.Certificate);
        foreach (var expected in new[]
        {
            "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:localhost, DNS:node-1, DNS:cluster.example.com",
            "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", "IP Address:10.43.0.1", "IP Address:192.0.2.15", "IP Address:198.51.100.7",
            "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n",
            "X509v3 Basic Constraints: critical\n                CA:FALSE",
            "X509v3 Key Usage: critical\n                Digital Signature",
            "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier",
            "Subject: CN = kube-apiserver", "ecdsa-with-SHA256",
        })
        {
            Assert.Contains(expected, serving, StringComparison.Ordinal);
        }
        foreach (var stem in new[] { "etcd/server-client", "etcd/peer-server-client" })
        {
            var text = await OpenSsl.CheckedAsync("x509", "-noout", "-text", "-in", Paths.Files(stem).Certificate);
            Assert.Contains("TLS Web Server Authentication, TLS Web Client Authentication", text, StringComparison.Ordinal);
            Assert.Contains("DNS:localhost, DNS:node-1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192.0.2.15", text, StringComparison.Ordinal);
        }
        var admin = await OpenSsl.CheckedAsync("x509", "-noout", "-subject", "-ext", "extendedKeyUsage", "-in", Paths.ClientAdmin.Certificate);
        Assert.Contains("subject=O = system:masters, CN = system:admin", admin, StringComparison.Ordinal);
        Assert.Contains("TLS Web Client Authentication", admin, StringComparison.Ordinal);
        var ca = await OpenSsl.CheckedAsync("x509", "-noout", "-text", "-in", Paths.EtcdPeerCa.Certificate);
        Assert.Contains("CA:TRUE", ca, StringComparison.Ordinal);
        Assert.Contains("Certificate Sign, CRL Sign", ca, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_key_is_a_pkcs8_pem_that_openssl_reads_and_that_matches_its_certificate()
    {
        TestPki.Create(_dir.Path);
        foreach (var stem in PkiCatalog.Cas.Select(c => c.Stem).Concat(PkiCatalog.Leaves.Select(l => l.Stem)))
        {
            var files = Paths.Files(stem);
            Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", File.ReadAllText(files.Key), StringComparison.Ordinal);
            var fromKey = await OpenSsl.CheckedAsync("pkey", "-in", files.Key, "-pubout");
            var fromCert = await OpenSsl.CheckedAsync("x509", "-in", files.Certificate, "-noout", "-pubkey");
            Assert.Equal(fromCert, fromKey);
        }
        await OpenSsl.CheckedAsync("pkey", "-in", Paths.ServiceKey, "-noout");
    }

    [Fact]
    public async Task A_ca_made_with_openssl_and_placed_before_first_start_issues_the_leaves()
    {
        AtomicFile.EnsureDirectory(Paths.EtcdDirectory, AtomicFile.PrivateDirectory);
        await OpenSsl.CheckedAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-days", "3650",
            "-subj", "/O=Example Corp/CN=Example etcd CA", "-keyout", Paths.EtcdServerCa.Key, "-out", Paths.EtcdServerCa.Certificate);
        var customCa = File.ReadAllBytes(Paths.EtcdServerCa.Certificate);

        var result = TestPki.Create(_dir.Path);

        Assert.Contains(result.Changes, c => c.Path == Paths.EtcdServerCa.Certificate && c.Action == PkiAction.Reused);
        Assert.Equal(customCa, File.ReadAllBytes(Paths.EtcdServerCa.Certificate));
        foreach (var cert in new[] { Paths.EtcdServerClient.Certificate, Paths.EtcdClient.Certificate })
        {
            Assert.Equal($"{cert}: OK", (await OpenSsl.CheckedAsync("verify", "-CAfile", Paths.EtcdServerCa.Certificate, cert)).Trim());
        }
        Assert.False(TestPki.Create(_dir.Path).Changed);
    }

    [Fact]
    public async Task A_csr_made_by_openssl_is_signed_for_a_node_and_verifies()
    {
        TestPki.Create(_dir.Path);
        var key = _dir.Combine("node.key");
        var csr = _dir.Combine("node.csr");
        await OpenSsl.CheckedAsync("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/O=system:nodes/CN=system:node:node-2", "-addext", "subjectAltName=DNS:node-2,IP:192.0.2.16");
        using var ca = X509Certificate2.CreateFromPemFile(Paths.ServerCa.Certificate, Paths.ServerCa.Key);
        using var caPair = new IssuedCertificate(X509CertificateLoader.LoadCertificate(ca.RawData), ca.GetECDsaPrivateKey()!);
        var policy = new CsrPolicy("system:node:node-2", ["system:nodes"], CertificateUsage.Server, ["node-2"], [IPAddress.Parse("192.0.2.16")]);

        var signed = new CsrSigner(TestPki.Crypto).Sign(File.ReadAllText(csr), caPair, policy);

        var cert = _dir.Combine("node.crt");
        await File.WriteAllTextAsync(cert, PemEncoding.WriteString("CERTIFICATE", signed), TestContext.Current.CancellationToken);
        Assert.Equal($"{cert}: OK", (await OpenSsl.CheckedAsync("verify", "-purpose", "sslserver", "-CAfile", Paths.ServerCa.Certificate, cert)).Trim());
        Assert.Equal(await OpenSsl.CheckedAsync("pkey", "-in", key, "-pubout"), await OpenSsl.CheckedAsync("x509", "-in", cert, "-noout", "-pubkey"));
    }

    [Fact]
    public async Task A_csr_that_openssl_signed_with_sha1_is_rejected()
    {
        TestPki.Create(_dir.Path);
        var csr = _dir.Combine("sha1.csr");
        await OpenSsl.CheckedAsync("req", "-new", "-sha1", "-newkey", "rsa:2048", "-nodes", "-keyout", _dir.Combine("sha1.key"), "-out", csr,
            "-subj", "/O=system:nodes/CN=system:node:node-2");
        Assert.Contains("sha1WithRSAEncryption", await OpenSsl.CheckedAsync("req", "-in", csr, "-noout", "-text"), StringComparison.Ordinal);
        using var ca = X509Certificate2.CreateFromPemFile(Paths.ServerCa.Certificate, Paths.ServerCa.Key);
        using var caPair = new IssuedCertificate(X509CertificateLoader.LoadCertificate(ca.RawData), ca.GetECDsaPrivateKey()!);
        var policy = new CsrPolicy("system:node:node-2", ["system:nodes"], CertificateUsage.Client, [], []);

        var e = Assert.Throws<CsrRejectedException>(() => new CsrSigner(TestPki.Crypto).Sign(File.ReadAllText(csr), caPair, policy));

        Assert.Contains("SHA-1 is not an approved algorithm", e.Message, StringComparison.Ordinal);
    }
}
