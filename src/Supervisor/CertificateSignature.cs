using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Supervisor;

/// <summary>
/// Checks that a CA's key signed a certificate by verifying the signature over its TBSCertificate directly: the same
/// answer as building a chain to that one CA for this purpose, at a fraction of the cost (X509Chain is the slow part of
/// a join). Only the signature algorithms Bulwark's PKI uses are accepted.
/// </summary>
public static class CertificateSignature
{
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(ca.SubjectName.RawData))
        {
            return false;
        }
        try
        {
            var reader = new AsnReader(certificate.RawData, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            var tbs = outer.ReadEncodedValue();
            var algorithm = outer.ReadSequence().ReadObjectIdentifier();
            var signature = outer.ReadBitString(out var unused);
            if (unused != 0)
            {
                return false;
            }
            return algorithm switch
            {
                "1.2.840.10045.4.3.2" => VerifyEcdsa(ca, tbs.Span, signature, HashAlgorithmName.SHA256),
                "1.2.840.10045.4.3.3" => VerifyEcdsa(ca, tbs.Span, signature, HashAlgorithmName.SHA384),
                "1.2.840.113549.1.1.11" => VerifyRsa(ca, tbs.Span, signature, HashAlgorithmName.SHA256),
                "1.2.840.113549.1.1.12" => VerifyRsa(ca, tbs.Span, signature, HashAlgorithmName.SHA384),
                _ => false,
            };
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return false;
        }
    }

    private static bool VerifyEcdsa(X509Certificate2 ca, ReadOnlySpan<byte> tbs, byte[] signature, HashAlgorithmName hash)
    {
        using var key = ca.GetECDsaPublicKey();
        return key is not null && key.VerifyData(tbs, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static bool VerifyRsa(X509Certificate2 ca, ReadOnlySpan<byte> tbs, byte[] signature, HashAlgorithmName hash)
    {
        using var key = ca.GetRSAPublicKey();
        return key is not null && key.VerifyData(tbs, signature, hash, RSASignaturePadding.Pkcs1);
    }
}
