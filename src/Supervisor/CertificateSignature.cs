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
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 ca) => IsIssuedBy(certificate.RawData, ca);

    /// <summary>The same check on a certificate's DER, which need not be decoded into an X509Certificate2 first.</summary>
    public static bool IsIssuedBy(ReadOnlyMemory<byte> certificate, X509Certificate2 ca)
    {
        try
        {
            var outer = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
            var tbs = outer.ReadEncodedValue();
            var algorithm = outer.ReadSequence().ReadObjectIdentifier();
            var signature = outer.ReadBitString(out var unused);
            if (unused != 0 || !ToBeSignedField(tbs, Field.Issuer).Span.SequenceEqual(ca.SubjectName.RawData))
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

    /// <summary>The SubjectPublicKeyInfo (DER) of a certificate given as DER; empty when it is not a certificate.</summary>
    public static ReadOnlyMemory<byte> SubjectPublicKeyInfoOf(ReadOnlyMemory<byte> certificate)
    {
        try
        {
            return ToBeSignedField(new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue(), Field.SubjectPublicKeyInfo);
        }
        catch (AsnContentException)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    private enum Field
    {
        Issuer = 3,
        SubjectPublicKeyInfo = 6,
    }

    /// <summary>
    /// A field of TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber, signature, issuer, validity,
    /// subject, subjectPublicKeyInfo, ... } (RFC 5280 §4.1), counted from the version.
    /// </summary>
    private static ReadOnlyMemory<byte> ToBeSignedField(ReadOnlyMemory<byte> tbs, Field field)
    {
        var fields = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        var index = fields.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)) ? 0 : 1;
        for (; index < (int)field; index++)
        {
            fields.ReadEncodedValue();
        }
        return fields.ReadEncodedValue();
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
