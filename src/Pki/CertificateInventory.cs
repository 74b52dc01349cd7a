using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;

namespace Bulwark.Pki;

[JsonConverter(typeof(JsonStringEnumConverter<CertificateHealth>))]
public enum CertificateHealth
{
    [JsonStringEnumMemberName("ok")]
    Ok,

    [JsonStringEnumMemberName("renew soon")]
    RenewSoon,

    [JsonStringEnumMemberName("expired")]
    Expired,

    [JsonStringEnumMemberName("unreadable")]
    Unreadable,
}

/// <summary>One certificate file as <c>bulwark certificate check</c> reports it.</summary>
public sealed record CertificateStatus(
    string File,
    string Subject,
    string Issuer,
    IReadOnlyList<string> AlternativeNames,
    IReadOnlyList<string> Usages,
    bool IsCa,
    DateTimeOffset? NotAfter,
    int? DaysLeft,
    CertificateHealth Health,
    string? Problem);

public sealed record CertificateReport(string Directory, IReadOnlyList<CertificateStatus> Certificates)
{
    public bool AnyExpired => Certificates.Any(c => c.Health == CertificateHealth.Expired);
    public bool AnyUnreadable => Certificates.Any(c => c.Health == CertificateHealth.Unreadable);
}

/// <summary>Lists the certificates under server/tls (and tls/etcd) with their expiry state.</summary>
public static class CertificateInventory
{
    public static CertificateReport Check(ServerPkiPaths paths, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        if (!Directory.Exists(paths.TlsDirectory))
        {
            throw new PkiException($"{paths.TlsDirectory}: no such folder; the server PKI is created by the first `bulwark server` start (check --data-dir)");
        }
        var files = Directory.GetFiles(paths.TlsDirectory, "*.crt")
            .Concat(Directory.Exists(paths.EtcdDirectory) ? Directory.GetFiles(paths.EtcdDirectory, "*.crt") : [])
            .Order(StringComparer.Ordinal);
        return new CertificateReport(paths.TlsDirectory, files.Select(f => Inspect(f, Path.GetRelativePath(paths.TlsDirectory, f), now)).ToList());
    }

    private static CertificateStatus Inspect(string path, string name, DateTimeOffset now)
    {
        try
        {
            using var cert = X509Certificate2.CreateFromPem(File.ReadAllText(path));
            var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
            var left = notAfter - now;
            var health = left <= TimeSpan.Zero ? CertificateHealth.Expired
                : left < ServerPki.RenewWithin ? CertificateHealth.RenewSoon
                : CertificateHealth.Ok;
            return new CertificateStatus(name, cert.Subject, cert.Issuer, CertificateDetails.AlternativeNamesOf(cert).Entries,
                CertificateDetails.ExtendedKeyUsagesOf(cert), CertificateDetails.IsCa(cert), notAfter, (int)Math.Floor(left.TotalDays), health, null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return new CertificateStatus(name, "", "", [], [], false, null, null, CertificateHealth.Unreadable, e.Message);
        }
    }
}
