using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

public sealed class CertificateEncoderTests : IDisposable
{
    private readonly IssuedCertificate _ca = new CertificateIssuer(TestPki.Crypto, TimeProvider.System).CreateCa("test-encoder-ca", KeyAlgorithm.EcdsaP256);

    public void Dispose() => _ca.Dispose();

    public static TheoryData<string, int> Cases => new()
    {
        { "ec", 2027 },
        { "rsa", 2027 },
        { "ec", 2051 }, // GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5)
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_to_be_signed_part_is_byte_for_byte_what_dotnets_certificate_request_encodes(string keyType, int notAfterYear)
    {
        using AsymmetricAlgorithm key = keyType == "rsa" ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        var request = new CertificateRequest(CertificateIssuer.Subject("system:node:node-7", ["system:nodes"]), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("node-7");
        san.AddIpAddress(IPAddress.Parse("192.0.2.7"));
        request.CertificateExtensions.Add(san.Build());
        var notBefore = new DateTimeOffset(2026, 11, 27, 17, 0, 0, 123, TimeSpan.Zero);
        var notAfter = new DateTimeOffset(notAfterYear, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2));
        byte[] serial = [0x41, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10];

        var encoded = CertificateEncoder.Sign(request, _ca.Certificate.SubjectName, _ca.SignatureGenerator, notBefore, notAfter, serial);
        using var reference = request.Create(_ca.Certificate.SubjectName, _ca.SignatureGenerator, notBefore, notAfter, serial);

        Assert.Equal(Convert.ToHexString(ToBeSigned(reference.RawData)), Convert.ToHexString(ToBeSigned(encoded)));
        using var certificate = X509CertificateLoader.LoadCertificate(encoded);
        Assert.True(ServerPki.IssuedBy(certificate, _ca.Certificate), "the CA's signature must verify");
        Assert.Equal(reference.NotAfter, certificate.NotAfter);
        Assert.Equal(reference.SignatureAlgorithm.Value, certificate.SignatureAlgorithm.Value);
    }

    [Fact]
    public void A_negative_or_padded_serial_and_reversed_dates_are_refused()
    {
        var request = new CertificateRequest("CN=x", ECDsa.Create(ECCurve.NamedCurves.nistP256), HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        Assert.Throws<ArgumentException>(() => CertificateEncoder.Sign(request, _ca.Certificate.SubjectName, _ca.SignatureGenerator, now, now.AddDays(1), [0x80, 1]));
        Assert.Throws<ArgumentException>(() => CertificateEncoder.Sign(request, _ca.Certificate.SubjectName, _ca.SignatureGenerator, now, now.AddDays(1), [0x00, 0x01]));
        Assert.Throws<ArgumentException>(() => CertificateEncoder.Sign(request, _ca.Certificate.SubjectName, _ca.SignatureGenerator, now, now.AddDays(-1), [0x01]));
    }

    private static byte[] ToBeSigned(byte[] certificate) =>
        new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();
}
