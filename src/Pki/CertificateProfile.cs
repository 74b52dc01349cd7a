using System.Net;

namespace Bulwark.Pki;

/// <summary>What a certificate is for: its Extended Key Usage.</summary>
public enum CertificateUsage
{
    Server,
    Client,

    /// <summary>etcd's serving and peer certs: etcd's gateway and peers reuse them as client certs.</summary>
    ServerAndClient,
}

/// <summary>Subject Alternative Names of a certificate.</summary>
public sealed record SubjectAlternativeNames(IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses)
{
    public static SubjectAlternativeNames None { get; } = new([], []);

    public bool IsEmpty => DnsNames.Count == 0 && IpAddresses.Count == 0;

    /// <summary>Stable text forms for comparison and display: "DNS:name", "IP:addr".</summary>
    public IReadOnlyList<string> Entries =>
        DnsNames.Select(d => "DNS:" + d).Concat(IpAddresses.Select(i => "IP:" + i)).ToList();

    public bool SameAs(SubjectAlternativeNames other) => Entries.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(other.Entries);

    /// <summary>De-duplicated, IPs that were given as names moved to the IP list.</summary>
    public static SubjectAlternativeNames From(IEnumerable<string> names, IEnumerable<IPAddress> addresses)
    {
        var dns = new List<string>();
        var ips = new List<IPAddress>(addresses);
        foreach (var name in names.Where(n => n.Length > 0))
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                ips.Add(ip);
            }
            else if (!dns.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                dns.Add(name);
            }
        }
        return new SubjectAlternativeNames(dns, ips.Distinct().ToList());
    }
}

/// <summary>The subject and usage of a certificate to issue.</summary>
public sealed record CertificateProfile(string CommonName, IReadOnlyList<string> Organizations, CertificateUsage Usage, SubjectAlternativeNames AlternativeNames);
