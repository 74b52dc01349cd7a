namespace Bulwark.Pipeline;

/// <summary>An OS package found in an image: "deb" (dpkg) or "apk" (Alpine).</summary>
public sealed record InstalledPackage(string Type, string Name, string Version, string Architecture, string? SourceName, string? License);
