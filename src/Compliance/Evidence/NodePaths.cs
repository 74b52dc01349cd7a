using Bulwark.Hardening;

namespace Bulwark.Compliance.Evidence;

/// <summary>
/// The node being audited: the host root it is mounted at, its data dir and its config folder (host paths,
/// as the node sees them). Every path read goes through <see cref="Resolve"/>; reports show host paths.
/// </summary>
public sealed record NodePaths(HostRoot Root, string DataDir, string EtcDir)
{
    public string Resolve(string hostPath) => Root.Resolve(hostPath);

    /// <summary>Replaces the layout placeholders {data} and {etc}.</summary>
    public string ExpandPlaceholders(string template) =>
        template.Replace("{data}", DataDir.TrimEnd('/'), StringComparison.Ordinal).Replace("{etc}", EtcDir.TrimEnd('/'), StringComparison.Ordinal);
}
