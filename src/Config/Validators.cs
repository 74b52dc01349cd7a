using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Bulwark.Config;

/// <summary>Value checks shared by the key table. Each returns null when the value is fine, else what was wrong.</summary>
public static partial class Validators
{
    public static string? IpAddress(string value) =>
        IPAddress.TryParse(value, out _) ? null : $"expected an IP address, got \"{value}\"";

    public static string? OptionalIpAddress(string value) => value.Length == 0 ? null : IpAddress(value);

    /// <summary>One CIDR or a comma-separated dual-stack pair, as RKE2 accepts for cluster-cidr and service-cidr.</summary>
    public static string? CidrList(string value)
    {
        foreach (var part in value.Split(','))
        {
            if (!IPNetwork.TryParse(part.Trim(), out _))
            {
                return $"expected a CIDR such as 10.42.0.0/16 (or a comma-separated IPv4,IPv6 pair), got \"{value}\"";
            }
        }
        return null;
    }

    public static string? HttpsUrl(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Host.Length > 0
            && uri.PathAndQuery == "/" && uri.UserInfo.Length == 0
            ? null
            : $"expected an https URL such as https://server.example:9345, got \"{value}\"";
    }

    public static string? NotEmpty(string value) => value.Length == 0 ? "must not be empty" : null;

    /// <summary>An S3 endpoint as RKE2 takes it: host[:port] with no scheme or path (etcd-s3-insecure picks http).</summary>
    public static string? S3Endpoint(string value)
    {
        if (value.Contains("://", StringComparison.Ordinal))
        {
            return $"takes host[:port] without a scheme, e.g. {value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/')}; " +
                "https is the default, set etcd-s3-insecure: true for plain http";
        }
        return value.Length > 0 && Uri.TryCreate("https://" + value, UriKind.Absolute, out var uri) && uri.Host.Length > 0
            && uri.PathAndQuery == "/" && !value.EndsWith('/') && uri.UserInfo.Length == 0
            ? null
            : $"expected host[:port] such as s3.amazonaws.com or minio.example:9000, got \"{value}\"";
    }

    /// <summary>A key prefix inside the bucket: relative, no empty or dot segments.</summary>
    public static string? S3Folder(string value) =>
        value.Length == 0 || value.Split('/').All(segment => segment.Length > 0 && segment is not "." and not "..")
            ? null
            : $"expected a folder such as cluster-a/etcd (no leading or trailing '/', no '.' or '..' parts), got \"{value}\"";

    /// <summary>A proxy URL with scheme and host, or "none" (RKE2's etcd-s3-proxy), or empty for the environment's proxy.</summary>
    public static string? ProxyUrl(string value) =>
        value.Length == 0 || value == "none"
        || (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0)
            ? null
            : $"expected a proxy URL with scheme and host such as http://proxy.example:3128, or none, got \"{value}\"";

    /// <summary>An octal file mode as RKE2 writes it, e.g. 0600 or 0644.</summary>
    public static string? FileMode(string value) =>
        value.Length is >= 3 and <= 4 && value.All(c => c is >= '0' and <= '7')
            ? null
            : $"expected an octal file mode such as 0600, got \"{value}\"";

    /// <summary>A DNS-1123 subdomain, which Kubernetes requires of node names.</summary>
    public static string? NodeName(string value) =>
        value.Length == 0 || (value.Length <= 253 && DnsSubdomain().IsMatch(value))
            ? null
            : $"expected a lowercase DNS name (a-z, 0-9, '-', '.'), got \"{value}\"";

    /// <summary>A component argument in RKE2's form <c>name=value</c> (no leading dashes).</summary>
    public static string? ComponentArg(string value) =>
        ComponentArgPattern().IsMatch(value)
            ? null
            : $"expected name=value (for example audit-log-maxage=30, without leading dashes), got \"{value}\"";

    /// <summary>A tpm2-tools PCR selection: a bank and PCR numbers 0-23 (sha256:0,7), or empty for none.</summary>
    public static string? PcrSelection(string value) =>
        value.Length == 0 || PcrSelectionPattern().IsMatch(value) && value[(value.IndexOf(':') + 1)..].Split(',').All(n => int.Parse(n, CultureInfo.InvariantCulture) < 24)
            ? null
            : $"expected a bank and PCR numbers 0-23 such as sha256:0,7, got \"{value}\"";

    public static string? Duration(string value) =>
        TryParseDuration(value, out _) ? null : $"expected a duration such as 30s, 5m or 1h, got \"{value}\"";

    /// <summary>A duration as Go prints and parses them: one or more number+unit parts, e.g. 30s, 5m or 5m0s (RKE2's defaults look like the last).</summary>
    public static bool TryParseDuration(string value, out TimeSpan duration)
    {
        duration = default;
        if (!DurationPattern().IsMatch(value))
        {
            return false;
        }
        foreach (Match part in DurationPart().Matches(value))
        {
            var n = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            duration += part.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }
        return true;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9-]*=")]
    private static partial Regex ComponentArgPattern();

    [GeneratedRegex("^(sha1|sha256|sha384):[0-9]{1,2}(,[0-9]{1,2})*$")]
    private static partial Regex PcrSelectionPattern();

    [GeneratedRegex("^(?:[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h|d))+$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h|d)")]
    private static partial Regex DurationPart();
}
