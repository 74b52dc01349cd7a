namespace Bulwark.Airgap;

/// <summary>
/// The Kubernetes manifests a bundle carries (under <c>manifests/</c>) and the Pod Security Standards level they passed when
/// bundled; verify checks them again at the local level.
/// </summary>
/// <param name="Files">Their paths in the archive, each also in the index's files with its sha256.</param>
public sealed record BundleManifests(string Level, IReadOnlyList<string> Files, int Workloads)
{
    public const string Folder = "manifests";
}
