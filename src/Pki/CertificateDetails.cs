using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Pki;

/// <summary>Reads the parts of a certificate people and checks care about.</summary>
public static class CertificateDetails
{
    public static SubjectAlternativeNames AlternativeNamesOf(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17");
        if (extension is null)
        {
            return SubjectAlternativeNames.None;
        }
        var san = extension as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
        return new SubjectAlternativeNames(san.EnumerateDnsNames().ToList(), san.EnumerateIPAddresses().ToList());
    }

    public static IReadOnlyList<string> ExtendedKeyUsagesOf(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .SelectMany(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>())
            .Select(o => o.Value switch
            {
                "1.3.6.1.5.5.7.3.1" => "serverAuth",
                "1.3.6.1.5.5.7.3.2" => "clientAuth",
                var other => other ?? "unknown",
            })
            .ToList();

    public static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
}
