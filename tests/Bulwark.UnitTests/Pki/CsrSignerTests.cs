using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

public sealed class CsrSignerTests : IDisposable
{
    private readonly IssuedCertificate _ca = new CertificateIssuer(TestPki.Crypto, TimeProvider.System).CreateCa("test-client-ca", KeyAlgorithm.EcdsaP256);
    private readonly CsrSigner _signer = new(TestPki.Crypto);
    private static readonly CsrPolicy Kubelet = new("system:node:node-2", ["system:nodes"], CertificateUsage.Server, ["node-2"], [IPAddress.Parse("192.0.2.16")]);

    public void Dispose() => _ca.Dispose();

    private static string Csr(AsymmetricAlgorithm key, string subject, string[] dns, IPAddress[] ips)
    {
        var request = key is RSA rsa
            ? new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        if (dns.Length + ips.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            Array.ForEach(dns, san.AddDnsName);
            Array.ForEach(ips, san.AddIpAddress);
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSigningRequestPem();
    }

    [Fact]
    public void A_valid_csr_is_signed_with_bulwarks_extensions_not_the_requested_ones()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = X509CertificateLoader.LoadCertificate(_signer.Sign(Csr(key, "O=system:nodes, CN=system:node:node-2", ["node-2"], [IPAddress.Parse("192.0.2.16")]), _ca, Kubelet));

        Assert.Equal("CN=system:node:node-2, O=system:nodes", cert.Subject);
        Assert.False(CertificateDetails.IsCa(cert)); // the CSR asked for CA:TRUE
        Assert.Equal(["serverAuth"], CertificateDetails.ExtendedKeyUsagesOf(cert));
        Assert.Equal(["DNS:node-2", "IP:192.0.2.16"], CertificateDetails.AlternativeNamesOf(cert).Entries);
        Assert.True(ServerPki.IssuedBy(cert, _ca.Certificate));
        Assert.True(IssuedCertificate.KeyMatches(cert, key));
    }

    [Fact]
    public void A_csr_with_another_subject_is_rejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var e = Assert.Throws<CsrRejectedException>(() => _signer.Sign(Csr(key, "O=system:masters, CN=system:node:node-2", [], []), _ca, Kubelet));
        Assert.Contains("expected \"CN=system:node:node-2, O=system:nodes\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csr_asking_for_sans_outside_the_policy_is_rejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var e = Assert.Throws<CsrRejectedException>(() =>
            _signer.Sign(Csr(key, "O=system:nodes, CN=system:node:node-2", ["node-2", "kubernetes.default"], [IPAddress.Parse("10.43.0.1")]), _ca, Kubelet));
        Assert.Contains("kubernetes.default, 10.43.0.1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csr_with_a_weak_key_or_a_broken_signature_is_rejected()
    {
        using var weak = RSA.Create(1024);
        var e = Assert.Throws<CsrRejectedException>(() => _signer.Sign(Csr(weak, "O=system:nodes, CN=system:node:node-2", [], []), _ca, Kubelet));
        Assert.Contains("RSA-1024", e.Message, StringComparison.Ordinal);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = Csr(key, "O=system:nodes, CN=system:node:node-2", [], []);
        var der = PemEncoding.Find(pem) is var f ? Convert.FromBase64String(pem[f.Base64Data]) : [];
        der[^5] ^= 0x01; // inside the signature
        var broken = PemEncoding.WriteString("CERTIFICATE REQUEST", der);
        Assert.Throws<CsrRejectedException>(() => _signer.Sign(broken, _ca, Kubelet));
    }
}
