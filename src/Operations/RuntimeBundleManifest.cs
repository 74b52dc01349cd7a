namespace Bulwark.Operations;

/// <summary>What <c>runtime install</c> put into a bundle folder (<c>bundle.json</c>): checked again by <c>runtime status</c>.</summary>
public sealed record RuntimeBundleManifest(string KubernetesVersion, DateTimeOffset InstalledAt, string Source, IReadOnlyList<RuntimeBinary> Binaries);

/// <summary>One upstream binary: its name, sha512 (the digest the Kubernetes release publishes) and reported version.</summary>
public sealed record RuntimeBinary(string Name, string Sha512, string Version);
