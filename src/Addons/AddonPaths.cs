using Bulwark.FileSystem;

namespace Bulwark.Addons;

/// <summary>Where add-ons live on a server: a view over <see cref="NodeLayout"/> (docs/layout.md).</summary>
public sealed record AddonPaths(string DataDir)
{
    private readonly NodeLayout _layout = new(DataDir);

    /// <summary>Everything here is applied to the cluster by the leader (RKE2's server/manifests model).</summary>
    public string Manifests => _layout.ServerManifestsDir;

    /// <summary>Local chart archives (<c>&lt;chart&gt;-&lt;version&gt;.tgz</c>) put there by an air-gap import; used instead of the repository.</summary>
    public string Charts => _layout.ChartArchivesDir;

    /// <summary>The primary CNI the cluster was first deployed with; a different primary later is refused.</summary>
    public string DeployedCni => _layout.DeployedCniFile;

    /// <summary>What the applier applied: per manifest file its hash and objects (to re-apply on change and delete what went away).</summary>
    public string AppliedRecord => _layout.AppliedManifestsRecord;

    /// <summary>The CNI's per-node host-network NetworkPolicies (Canal under CIS), rewritten by the leader as nodes change.</summary>
    public string HostNetworkPolicies => Path.Combine(Manifests, "bulwark-host-network-policies.yaml");

    public string ChartFile(string chartName) => Path.Combine(Manifests, chartName + ".yaml");

    public string ChartArchive(string chartName, string version) => Path.Combine(Charts, $"{chartName}-{version}.tgz");
}
