using System.Text.Json;

namespace Bulwark.Pipeline;

/// <summary>Builds a CycloneDX 1.5 SBOM of an image from its layers.</summary>
public static class SbomBuilder
{
    public const string SpecVersion = "1.5";

    /// <summary>Reads os-release and the package databases from the layers (bottom first) and describes them.</summary>
    public static CycloneDxBom FromLayers(string imageName, string manifestDigest, IEnumerable<(string Digest, Func<Stream> Open)> layers,
        string toolVersion, TimeProvider time)
    {
        var files = new LayerFiles(PackageDatabases.IsWanted);
        foreach (var (digest, open) in layers)
        {
            using var stream = open();
            files.Apply(stream, $"{imageName} layer {digest}");
        }
        var os = OsRelease.Paths.Select(files.Read).Where(b => b is not null).Select(b => OsRelease.Parse(System.Text.Encoding.UTF8.GetString(b!))).FirstOrDefault();
        return Describe(imageName, manifestDigest, os, PackageDatabases.Read(files), toolVersion, time);
    }

    public static CycloneDxBom Describe(string imageName, string manifestDigest, OsRelease? os, IReadOnlyList<InstalledPackage> packages,
        string toolVersion, TimeProvider time)
    {
        var imageRef = $"image:{imageName}@{manifestDigest}";
        var components = new List<CycloneDxComponent>();
        var dependencies = new List<CycloneDxDependency>();
        var packageRefs = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var package in packages)
        {
            var purl = PackageUrl.For(package, os);
            var bomRef = seen.Add(purl) ? purl : $"{purl}#{seen.Count}";
            seen.Add(bomRef);
            packageRefs.Add(bomRef);
            var properties = new List<CycloneDxProperty> { new("aquasecurity:trivy:PkgType", os?.Id ?? (package.Type == "apk" ? "alpine" : "debian")) };
            if (package.SourceName is { Length: > 0 } source)
            {
                properties.Add(new CycloneDxProperty("aquasecurity:trivy:SrcName", source));
            }
            components.Add(new CycloneDxComponent(bomRef, "library", package.Name, package.Version, purl,
                package.License is { Length: > 0 } license ? [new CycloneDxLicenseChoice(new CycloneDxLicense(license))] : null, properties));
        }
        var top = new List<string>();
        if (os is not null)
        {
            var osRef = $"os:{os.Id}@{os.VersionId}";
            components.Insert(0, new CycloneDxComponent(osRef, "operating-system", os.Id, os.VersionId,
                Properties: [new CycloneDxProperty("aquasecurity:trivy:Type", os.Id), new CycloneDxProperty("aquasecurity:trivy:Class", "os-pkgs")]));
            dependencies.Add(new CycloneDxDependency(osRef, packageRefs));
            top.Add(osRef);
        }
        else
        {
            top.AddRange(packageRefs);
        }
        dependencies.Insert(0, new CycloneDxDependency(imageRef, top));
        dependencies.AddRange(packageRefs.Select(r => new CycloneDxDependency(r, [])));
        var image = new CycloneDxComponent(imageRef, "container", imageName, manifestDigest,
            Properties: [new CycloneDxProperty("aquasecurity:trivy:RepoDigest", $"{RepositoryOf(imageName)}@{manifestDigest}")]);
        return new CycloneDxBom("CycloneDX", SpecVersion, $"urn:uuid:{Guid.NewGuid()}", 1,
            new CycloneDxMetadata(time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                new CycloneDxTools([new CycloneDxComponent(null, "application", "bulwark", toolVersion)]), image),
            components, dependencies);
    }

    public static string ToJson(CycloneDxBom bom) => JsonSerializer.Serialize(bom, PipelineJsonContext.Readable.CycloneDxBom);

    private static string RepositoryOf(string imageName)
    {
        var at = imageName.IndexOf('@');
        var name = at >= 0 ? imageName[..at] : imageName;
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }
}
