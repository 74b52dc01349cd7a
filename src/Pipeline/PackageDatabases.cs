using System.Text;

namespace Bulwark.Pipeline;

/// <summary>Readers of the package databases an SBOM is built from: dpkg's status (and distroless status.d), apk's installed db.</summary>
public static class PackageDatabases
{
    public const string DpkgStatus = "var/lib/dpkg/status";
    public const string DpkgStatusDirectory = "var/lib/dpkg/status.d";
    public const string ApkInstalled = "lib/apk/db/installed";

    public static bool IsWanted(string path) =>
        OsRelease.Paths.Contains(path) || path == DpkgStatus || path == ApkInstalled
        || path.StartsWith(DpkgStatusDirectory + "/", StringComparison.Ordinal);

    /// <summary>The packages in the merged image files: dpkg status, every status.d stanza file, apk db.</summary>
    public static IReadOnlyList<InstalledPackage> Read(LayerFiles files)
    {
        var packages = new List<InstalledPackage>();
        if (files.Read(DpkgStatus) is { } status)
        {
            packages.AddRange(ParseDpkg(Encoding.UTF8.GetString(status)));
        }
        foreach (var path in files.Under(DpkgStatusDirectory).Where(p => !p.EndsWith(".md5sums", StringComparison.Ordinal)))
        {
            packages.AddRange(ParseDpkg(Encoding.UTF8.GetString(files.Read(path)!)));
        }
        if (files.Read(ApkInstalled) is { } apk)
        {
            packages.AddRange(ParseApk(Encoding.UTF8.GetString(apk)));
        }
        return packages.DistinctBy(p => (p.Type, p.Name, p.Version, p.Architecture)).OrderBy(p => p.Type, StringComparer.Ordinal)
            .ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>dpkg status: RFC 822-style stanzas; only "install ok installed" packages count.</summary>
    public static IEnumerable<InstalledPackage> ParseDpkg(string text)
    {
        foreach (var stanza in Stanzas(text))
        {
            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? last = null;
            foreach (var line in stanza)
            {
                if (line.StartsWith(' ') || line.StartsWith('\t'))
                {
                    continue; // continuation of a multi-line field (Description, Conffiles)
                }
                var colon = line.IndexOf(':');
                if (colon > 0)
                {
                    last = line[..colon];
                    fields[last] = line[(colon + 1)..].Trim();
                }
            }
            if (!fields.TryGetValue("Package", out var name) || !fields.TryGetValue("Version", out var version))
            {
                continue;
            }
            // status.d files (distroless) carry no Status field; a status file entry must be installed.
            if (fields.TryGetValue("Status", out var state) && !state.EndsWith(" installed", StringComparison.Ordinal))
            {
                continue;
            }
            var source = fields.GetValueOrDefault("Source");
            if (source is not null && source.IndexOf(' ') is var space and > 0)
            {
                source = source[..space];
            }
            yield return new InstalledPackage("deb", name, version, fields.GetValueOrDefault("Architecture", ""), source, null);
        }
    }

    /// <summary>apk's installed db: stanzas of one-letter keys (P name, V version, A arch, o origin, L license).</summary>
    public static IEnumerable<InstalledPackage> ParseApk(string text)
    {
        foreach (var stanza in Stanzas(text))
        {
            string? name = null, version = null, arch = null, origin = null, license = null;
            foreach (var line in stanza)
            {
                if (line.Length < 2 || line[1] != ':')
                {
                    continue;
                }
                var value = line[2..];
                switch (line[0])
                {
                    case 'P': name = value; break;
                    case 'V': version = value; break;
                    case 'A': arch = value; break;
                    case 'o': origin = value; break;
                    case 'L': license = value; break;
                }
            }
            if (name is not null && version is not null)
            {
                yield return new InstalledPackage("apk", name, version, arch ?? "", origin, license);
            }
        }
    }

    private static IEnumerable<List<string>> Stanzas(string text)
    {
        var current = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                if (current.Count > 0)
                {
                    yield return current;
                    current = [];
                }
                continue;
            }
            current.Add(line);
        }
        if (current.Count > 0)
        {
            yield return current;
        }
    }
}
