using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;

namespace Bulwark.Pki;

/// <summary>
/// Creates CAs and issues certificates with the extensions Kubernetes and etcd expect: BasicConstraints,
/// KeyUsage, ExtendedKeyUsage, SubjectKeyIdentifier, AuthorityKeyIdentifier and SANs. All keys, hashes and
/// serial numbers come from the crypto service, so the FIPS policy applies.
/// </summary>
public sealed class CertificateIssuer(CryptoService crypto, TimeProvider clock)
{
    public static readonly TimeSpan CaValidity = TimeSpan.FromDays(3650);
    public static readonly TimeSpan LeafValidity = TimeSpan.FromDays(365);

    /// <summary>Back-dating tolerates clock skew between nodes.</summary>
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    public CryptoService Crypto => crypto;

    public IssuedCertificate CreateCa(string commonName, KeyAlgorithm algorithm, TimeSpan? validity = null)
    {
        var key = crypto.GenerateKey(algorithm);
        try
        {
            var subject = Subject(commonName, []);
            var request = NewRequest(subject, key, key);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(
                X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
            var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
            request.CertificateExtensions.Add(ski);
            var now = clock.GetUtcNow();
            using var generated = request.Create(subject, Generator(key), now - Backdate, now + (validity ?? CaValidity), Serial());
            return new IssuedCertificate(X509CertificateLoader.LoadCertificate(generated.RawData), key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>A new key pair and a certificate for it, signed by <paramref name="ca"/>.</summary>
    public IssuedCertificate Issue(IssuedCertificate ca, CertificateProfile profile, KeyAlgorithm algorithm, TimeSpan? validity = null)
    {
        var key = crypto.GenerateKey(algorithm);
        try
        {
            var spki = PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
            return new IssuedCertificate(X509CertificateLoader.LoadCertificate(Sign(ca, profile, spki, validity)), key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Signs a public key (from a new key pair or a validated CSR) with the CA. Returns the certificate only (DER).</summary>
    public byte[] Sign(IssuedCertificate ca, CertificateProfile profile, PublicKey subjectKey, TimeSpan? validity = null)
    {
        crypto.RequireKey(subjectKey);
        var hash = CryptoService.SignatureHashFor(ca.Key);
        crypto.RequireSignature(ca.Key, hash, RSASignaturePadding.Pkcs1);
        var request = new CertificateRequest(Subject(profile.CommonName, profile.Organizations), subjectKey, hash, ca.Key is RSA ? RSASignaturePadding.Pkcs1 : null);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var usage = X509KeyUsageFlags.DigitalSignature;
        if (subjectKey.Oid.Value == "1.2.840.113549.1.1.1")
        {
            usage |= X509KeyUsageFlags.KeyEncipherment; // RSA key transport (TLS 1.2 RSA suites are not offered, but clients may check it)
        }
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        var ekus = profile.Usage switch
        {
            CertificateUsage.Server => new OidCollection { ServerAuth },
            CertificateUsage.Client => new OidCollection { ClientAuth },
            _ => new OidCollection { ServerAuth, ClientAuth },
        };
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ekus, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(subjectKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false));
        if (!profile.AlternativeNames.IsEmpty)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var dns in profile.AlternativeNames.DnsNames)
            {
                san.AddDnsName(dns);
            }
            foreach (var ip in profile.AlternativeNames.IpAddresses)
            {
                san.AddIpAddress(ip);
            }
            request.CertificateExtensions.Add(san.Build(false));
        }
        var now = clock.GetUtcNow();
        var notAfter = now + (validity ?? LeafValidity);
        // A certificate may not outlive its issuer.
        var caNotAfter = new DateTimeOffset(ca.Certificate.NotAfter.ToUniversalTime());
        if (notAfter > caNotAfter)
        {
            notAfter = caNotAfter;
        }
        var notBefore = now - Backdate;
        var caNotBefore = new DateTimeOffset(ca.Certificate.NotBefore.ToUniversalTime());
        if (notBefore < caNotBefore)
        {
            notBefore = caNotBefore;
        }
        return CertificateEncoder.Sign(request, ca.Certificate.SubjectName, ca.SignatureGenerator, notBefore, notAfter, Serial());
    }

    public static X500DistinguishedName Subject(string commonName, IReadOnlyList<string> organizations)
    {
        // The builder encodes in reverse order of adding: this yields the conventional DER order O=…, CN=… (as openssl -subj "/O=…/CN=…").
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        foreach (var organization in organizations.Reverse())
        {
            builder.AddOrganizationName(organization);
        }
        return builder.Build();
    }

    private CertificateRequest NewRequest(X500DistinguishedName subject, AsymmetricAlgorithm key, AsymmetricAlgorithm signer)
    {
        var hash = CryptoService.SignatureHashFor(signer);
        crypto.RequireSignature(signer, hash, RSASignaturePadding.Pkcs1);
        return key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, hash),
            RSA rsa => new CertificateRequest(subject, rsa, hash, RSASignaturePadding.Pkcs1),
            _ => throw new NotSupportedException(key.GetType().Name),
        };
    }

    private static X509SignatureGenerator Generator(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(key.GetType().Name),
    };

    /// <summary>A positive, 127-bit random serial (RFC 5280 §4.1.2.2: at most 20 bytes, positive; CA/B: ≥ 64 random bits).</summary>
    private byte[] Serial()
    {
        var serial = crypto.RandomBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }
}
