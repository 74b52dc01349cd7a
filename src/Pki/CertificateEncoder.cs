using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Pki;

/// <summary>
/// Signs a <see cref="CertificateRequest"/> into the DER of a certificate (RFC 5280 §4.1), encoded as
/// <see cref="CertificateRequest.Create(X500DistinguishedName, X509SignatureGenerator, DateTimeOffset, DateTimeOffset, ReadOnlySpan{byte})"/>
/// encodes it (the tests hold the two byte for byte), without the X509Certificate2 that Create decodes from it: with
/// OpenSSL 3.0 that decode costs more than the signature, and a node certificate is only sent on as PEM.
/// </summary>
public static class CertificateEncoder
{
    /// <param name="serialNumber">Positive, without a superfluous leading zero (as <see cref="CertificateIssuer"/> makes them).</param>
    public static byte[] Sign(CertificateRequest request, X500DistinguishedName issuer, X509SignatureGenerator generator, DateTimeOffset notBefore,
        DateTimeOffset notAfter, ReadOnlySpan<byte> serialNumber)
    {
        if (notAfter < notBefore)
        {
            throw new ArgumentException("the certificate would expire before it is valid", nameof(notAfter));
        }
        if (serialNumber.IsEmpty || serialNumber[0] >= 0x80 || (serialNumber.Length > 1 && serialNumber[0] == 0 && serialNumber[1] < 0x80))
        {
            throw new ArgumentException("the serial number must be a positive, minimally encoded integer", nameof(serialNumber));
        }
        var algorithm = generator.GetSignatureAlgorithmIdentifier(request.HashAlgorithm);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                writer.WriteInteger(2); // v3
            }
            writer.WriteIntegerUnsigned(serialNumber);
            writer.WriteEncodedValue(algorithm);
            writer.WriteEncodedValue(issuer.RawData);
            using (writer.PushSequence())
            {
                WriteTime(writer, notBefore);
                WriteTime(writer, notAfter);
            }
            writer.WriteEncodedValue(request.SubjectName.RawData);
            writer.WriteEncodedValue(request.PublicKey.ExportSubjectPublicKeyInfo());
            if (request.CertificateExtensions.Count > 0)
            {
                WriteExtensions(writer, request.CertificateExtensions);
            }
        }
        var tbs = writer.Encode();
        writer.Reset();
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(tbs);
            writer.WriteEncodedValue(algorithm);
            writer.WriteBitString(generator.SignData(tbs, request.HashAlgorithm));
        }
        return writer.Encode();
    }

    /// <summary>UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5), whole seconds.</summary>
    private static void WriteTime(AsnWriter writer, DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        if (utc.Year is >= 1950 and < 2050)
        {
            writer.WriteUtcTime(utc, 2049);
        }
        else
        {
            writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
        }
    }

    private static void WriteExtensions(AsnWriter writer, IEnumerable<X509Extension> extensions)
    {
        var seen = new HashSet<string?>(StringComparer.Ordinal);
        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3)))
        using (writer.PushSequence())
        {
            foreach (var extension in extensions)
            {
                if (!seen.Add(extension.Oid?.Value))
                {
                    throw new InvalidOperationException($"the certificate would carry extension {extension.Oid?.Value} twice");
                }
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(extension.Oid!.Value!);
                    if (extension.Critical)
                    {
                        writer.WriteBoolean(true); // DEFAULT FALSE: omitted unless true (DER)
                    }
                    writer.WriteOctetString(extension.RawData);
                }
            }
        }
    }
}
