using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;

namespace Bulwark.Airgap;

/// <summary>What <c>airgap verify</c> established about each image.</summary>
public sealed record ImageVerdict(string Name, string Digest, OciPlatform? Platform, string SignedBy, ScanResult? Scan, string? NotScanned, int Packages);

/// <summary>The outcome of a verified bundle: its index, each image's verdict, the bytes checked, and the carried manifests' scan.</summary>
public sealed record BundleVerification(BundleIndex Index, string IndexSignedBy, IReadOnlyList<ImageVerdict> Images, long BytesChecked, ManifestScan? Manifests);
