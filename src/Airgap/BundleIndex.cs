namespace Bulwark.Airgap;

/// <summary>
/// <c>bulwark/index.json</c>, the signed table of contents of a bundle (docs/bundle-format.md): every image with its
/// SBOM, scan and signature, the sha256 and size of every other file in the archive, and the manifests it carries.
/// </summary>
public sealed record BundleIndex(string Format, int Version, string Created, string Tool, IReadOnlyList<string> Platforms,
    IReadOnlyList<BundleImage> Images, IReadOnlyList<BundleFile> Files, BundleManifests? Manifests = null)
{
    public const string FormatName = "bulwark-airgap-bundle";
    public const int CurrentVersion = 1;
    public const string IndexPath = "bulwark/index.json";
    public const string SignaturePath = "bulwark/index.json.sig";
}

/// <summary>One image (one platform's manifest) in the bundle.</summary>
/// <param name="Name">The full reference it was bundled as (docker.io/library/busybox:1.36).</param>
/// <param name="Digest">Its manifest digest; the manifest is blobs/sha256/&lt;hex&gt;.</param>
/// <param name="Sbom">Path of its CycloneDX 1.5 SBOM in the archive.</param>
/// <param name="TrivyReport">Path of Trivy's JSON report, when it was scanned.</param>
/// <param name="Scan">Path of the gate's verdict when it was scanned.</param>
/// <param name="NotScanned">Why it was not scanned, otherwise null.</param>
/// <param name="SignaturePayload">Path of the simple-signing payload naming the digest.</param>
/// <param name="Signature">Path of the DER signature over the payload.</param>
public sealed record BundleImage(string Name, string Digest, string MediaType, long Size, OciPlatform? Platform, string Sbom,
    string? TrivyReport, string? Scan, string? NotScanned, string SignaturePayload, string Signature);

public sealed record BundleFile(string Path, string Sha256, long Size);
