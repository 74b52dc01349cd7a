using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Pki;

/// <summary>A certificate and its private key, as written to <c>NAME.crt</c> (PEM) and <c>NAME.key</c> (PKCS#8 PEM).</summary>
public sealed class IssuedCertificate(X509Certificate2 certificate, AsymmetricAlgorithm key) : IDisposable
{
    public X509Certificate2 Certificate { get; } = certificate;
    public AsymmetricAlgorithm Key { get; } = key;

    public string CertificatePem => Certificate.ExportCertificatePem() + "\n";
    public string KeyPem => Key.ExportPkcs8PrivateKeyPem() + "\n";

    public X509SignatureGenerator SignatureGenerator => Key switch
    {
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(Key.GetType().Name),
    };

    /// <summary>True when the private key belongs to the certificate.</summary>
    public static bool KeyMatches(X509Certificate2 certificate, AsymmetricAlgorithm key) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }
}
