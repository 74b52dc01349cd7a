namespace Bulwark.Addons;

/// <summary>Where add-ons live on a server (docs/layout.md).</summary>
public sealed record AddonPaths(string DataDir)
{
    /// <summary>Everything here is applied to the cluster by the leader (RKE2's server/manifests model).</summary>
    public string Manifests => Path.Combine(DataDir, "server", "manifests");

    /// <summary>Local chart archives (<c>&lt;chart&gt;-&lt;version&gt;.tgz</c>) put there by an air-gap import; used instead of the repository.</summary>
    public string Charts => Path.Combine(DataDir, "server", "static", "charts");

    /// <summary>The CNI selection the cluster was first deployed with; a different primary later is refused.</summary>
    public string DeployedCni => Path.Combine(DataDir, "server", "cni");

    /// <summary>What the applier applied: per manifest file its hash and objects (to re-apply on change and delete what went away).</summary>
    public string AppliedRecord => Path.Combine(DataDir, "server", "manifests-applied.json");

    public string ChartFile(string chartName) => Path.Combine(Manifests, chartName + ".yaml");

    public string ChartArchive(string chartName, string version) => Path.Combine(Charts, $"{chartName}-{version}.tgz");
}
