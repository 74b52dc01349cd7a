using Bulwark.Pipeline;

namespace Bulwark.Airgap;

/// <summary>What <c>airgap verify</c> established about each image.</summary>
public sealed record ImageVerdict(string Name, string Digest, OciPlatform? Platform, string SignedBy, ScanResult? Scan, string? NotScanned, int Packages);

/// <summary>The outcome of a verified bundle: its index, each image's verdict, and the bytes checked.</summary>
public sealed record BundleVerification(BundleIndex Index, string IndexSignedBy, IReadOnlyList<ImageVerdict> Images, long BytesChecked);
