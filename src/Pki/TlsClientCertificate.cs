using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Pki;

/// <summary>A client certificate with its key, ready for SslStream.</summary>
public static class TlsClientCertificate
{
    /// <summary>SslStream needs a persistable key on Linux; a PKCS#12 round trip of the PEM pair gives one.</summary>
    public static X509Certificate2 FromPem(string certificatePem, string keyPem)
    {
        using var pem = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
