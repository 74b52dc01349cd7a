using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Diagnostics;

namespace Bulwark.Pki;

/// <summary>A certificate signing request was refused; the message says which check failed.</summary>
public sealed class CsrRejectedException(string message) : BulwarkException(ErrorKind.Refused, message);

/// <summary>
/// What a CSR from a node may ask for, decided by the supervisor (e.g. CN=system:node:&lt;name&gt;, O=system:nodes,
/// clientAuth, no SANs for a kubelet client cert; the node's name and IPs for its serving cert).
/// </summary>
public sealed record CsrPolicy(
    string CommonName,
    IReadOnlyList<string> Organizations,
    CertificateUsage Usage,
    IReadOnlyCollection<string> AllowedDnsNames,
    IReadOnlyCollection<IPAddress> AllowedIpAddresses);

/// <summary>
/// Signs CSRs (PKCS#10, PEM) for nodes with a CA after validating them: the request's own signature, an approved
/// key type, the exact subject the policy expects, and only SANs the policy allows. The certificate's extensions
/// are Bulwark's (as for its own leaves); requested extensions other than SANs are ignored, never copied.
/// </summary>
public sealed class CsrSigner(CryptoService crypto, TimeProvider? clock = null)
{
    private readonly CertificateIssuer _issuer = new(crypto, clock ?? TimeProvider.System);

    /// <summary>The signed certificate (DER) for a CSR that passes every check; <see cref="CsrRejectedException"/> otherwise.</summary>
    public byte[] Sign(string csrPem, IssuedCertificate ca, CsrPolicy policy, TimeSpan? validity = null)
    {
        // .NET cannot load a CSR whose key it does not know (Ed25519, DSA, …): name the key and refuse it first.
        if (UnsupportedKeyOf(csrPem) is { } unsupported)
        {
            throw new CsrRejectedException($"the CSR's key is {unsupported}, which the policy does not allow; use an ECDSA P-256/P-384 or RSA (2048 bits or more) key");
        }
        CertificateRequest request;
        try
        {
            // Validates the CSR's self-signature (proof of possession of the private key).
            request = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256,
                CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions, RSASignaturePadding.Pkcs1);
        }
        catch (Exception e) when (e is CryptographicException or NotSupportedException)
        {
            throw new CsrRejectedException($"the CSR is not a valid, self-signed PKCS#10 request: {e.Message}");
        }
        try
        {
            crypto.RequireKey(request.PublicKey);
            crypto.Require(SignatureHashOf(csrPem));
        }
        catch (CryptoPolicyException e)
        {
            throw new CsrRejectedException($"the CSR's key is not allowed: {e.Message}");
        }
        var expected = CertificateIssuer.Subject(policy.CommonName, policy.Organizations);
        if (!SameAttributes(request.SubjectName, expected))
        {
            throw new CsrRejectedException($"the CSR's subject is \"{request.SubjectName.Name}\"; expected \"{expected.Name}\"");
        }
        var requested = request.CertificateExtensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17") is { } ext
            ? new X509SubjectAlternativeNameExtension(ext.RawData, ext.Critical)
            : null;
        var dns = requested?.EnumerateDnsNames().ToList() ?? [];
        var ips = requested?.EnumerateIPAddresses().ToList() ?? [];
        var deniedDns = dns.Where(d => !policy.AllowedDnsNames.Contains(d, StringComparer.OrdinalIgnoreCase)).ToList();
        var deniedIps = ips.Where(i => !policy.AllowedIpAddresses.Contains(i)).ToList();
        if (deniedDns.Count > 0 || deniedIps.Count > 0)
        {
            throw new CsrRejectedException($"the CSR asks for SANs this node may not have: {string.Join(", ", deniedDns.Concat(deniedIps.Select(i => i.ToString())))}");
        }
        var profile = new CertificateProfile(policy.CommonName, policy.Organizations, policy.Usage, new SubjectAlternativeNames(dns, ips));
        return _issuer.Sign(ca, profile, request.PublicKey, validity);
    }

    /// <summary>Same CN and O values and nothing else, in any RDN order (clients order names differently).</summary>
    private static bool SameAttributes(X500DistinguishedName actual, X500DistinguishedName expected)
    {
        static List<string> Attributes(X500DistinguishedName name) => name.EnumerateRelativeDistinguishedNames()
            .Select(r => r.HasMultipleElements ? "multi-valued RDN" : $"{r.GetSingleElementType().Value}={r.GetSingleElementValue()}")
            .Order(StringComparer.Ordinal)
            .ToList();
        return Attributes(actual).SequenceEqual(Attributes(expected), StringComparer.Ordinal);
    }

    /// <summary>
    /// The CSR's public-key algorithm when it is neither EC nor RSA (PKCS#10: SEQUENCE { SEQUENCE { version, subject,
    /// SubjectPublicKeyInfo { AlgorithmIdentifier { OID … } … } … } … }); null for EC, RSA, or an unreadable CSR (the load rejects that).
    /// </summary>
    private static string? UnsupportedKeyOf(string csrPem)
    {
        try
        {
            var fields = PemEncoding.Find(csrPem);
            var der = Convert.FromBase64String(csrPem[fields.Base64Data]);
            var info = new AsnReader(der, AsnEncodingRules.DER).ReadSequence().ReadSequence();
            info.ReadInteger();
            info.ReadEncodedValue();
            var oid = info.ReadSequence().ReadSequence().ReadObjectIdentifier();
            return oid switch
            {
                "1.2.840.10045.2.1" or "1.2.840.113549.1.1.1" => null,
                "1.3.101.112" => "Ed25519",
                "1.3.101.113" => "Ed448",
                "1.3.101.110" => "X25519",
                "1.3.101.111" => "X448",
                "1.2.840.10040.4.1" => "DSA",
                "1.2.840.113549.1.1.10" => "RSA-PSS",
                _ => $"key algorithm {oid}",
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The hash of the CSR's own signature (PKCS#10: SEQUENCE { info, signatureAlgorithm, signature }), in policy names.</summary>
    private static string SignatureHashOf(string csrPem)
    {
        var fields = PemEncoding.Find(csrPem);
        var der = Convert.FromBase64String(csrPem[fields.Base64Data]);
        var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        outer.ReadEncodedValue();
        var oid = outer.ReadSequence().ReadObjectIdentifier();
        return oid switch
        {
            "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11" => "SHA-256",
            "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => "SHA-384",
            "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => "SHA-512",
            "1.2.840.10045.4.1" or "1.2.840.113549.1.1.5" => "SHA-1",
            "1.2.840.113549.1.1.4" => "MD5",
            "1.2.840.113549.1.1.10" => "RSA PSS",
            _ => $"signature algorithm {oid}",
        };
    }
}
