namespace Bulwark.Operations;

/// <summary>The bundles under &lt;data-dir&gt;/data, which one is active, and whether each binary still has the digest it was installed with.</summary>
public sealed record RuntimeBundleStatus(string DataDirectory, string? Active, IReadOnlyList<InstalledBundle> Bundles);

public sealed record InstalledBundle(string Version, string Path, bool Active, DateTimeOffset? InstalledAt, IReadOnlyList<InstalledBinary> Binaries, string? Problem);

public sealed record InstalledBinary(string Name, string Sha512, bool Intact);
