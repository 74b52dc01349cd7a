namespace Bulwark.Pipeline;

/// <summary>
/// Package URLs in the form Trivy writes them, so Bulwark's SBOM matches Trivy's database when scanned with
/// <c>trivy sbom</c>: <c>pkg:deb/debian/bash@5.0-4?arch=amd64&amp;distro=debian-10.1</c> (an epoch moves to an
/// <c>epoch=</c> qualifier), <c>pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&amp;distro=3.18.4</c>.
/// </summary>
public static class PackageUrl
{
    public static string For(InstalledPackage package, OsRelease? os)
    {
        var ns = os?.Id ?? (package.Type == "apk" ? "alpine" : "debian");
        var version = package.Version;
        var qualifiers = new List<(string Key, string Value)>();
        if (package.Architecture.Length > 0)
        {
            qualifiers.Add(("arch", package.Architecture));
        }
        if (package.Type == "deb" && version.IndexOf(':') is var colon and > 0)
        {
            qualifiers.Add(("epoch", version[..colon]));
            version = version[(colon + 1)..];
        }
        if (os is not null && os.VersionId.Length > 0)
        {
            // Trivy names Debian-family distros "<id>-<version>" and Alpine by its version alone.
            qualifiers.Add(("distro", package.Type == "apk" ? os.VersionId : $"{os.Id}-{os.VersionId}"));
        }
        var purl = $"pkg:{package.Type}/{Escape(ns)}/{Escape(package.Name)}@{Escape(version)}";
        return qualifiers.Count == 0 ? purl : purl + "?" + string.Join('&', qualifiers.Select(q => $"{q.Key}={Escape(q.Value)}"));
    }

    /// <summary>Percent-encodes what the purl spec does not allow bare ('+' and ':' in versions are encoded, as Trivy does).</summary>
    private static string Escape(string value)
    {
        var sb = new System.Text.StringBuilder(value.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
