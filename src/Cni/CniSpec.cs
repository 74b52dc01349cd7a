namespace Bulwark.Cni;

/// <summary>One CNI as data (policies/cni/&lt;name&gt;.yaml): its chart, node files, hardened values, images and cleanup lists.</summary>
public sealed record CniSpec(
    string Name,
    string Description,
    bool EnforcesNetworkPolicy,
    bool FipsBuilds,
    CniChart Chart,
    CniNodeFiles Node,
    IReadOnlyList<ChartValue> HardenedValues,
    IReadOnlyList<ChartValue> WithMultusValues,
    bool AllowFromPodCidrGateways,
    IReadOnlyList<string> PsaExemptNamespaces,
    IReadOnlyList<string> Images,
    CniCleanup Cleanup);

/// <summary>Where the chart comes from: a Helm repository and version (Bulwark ships no chart sources).</summary>
public sealed record CniChart(string Name, string Repo, string Version, bool Bootstrap, string? CrdChart);

/// <summary>What the CNI's DaemonSet writes on a node: the conflist, the plugins it chains, the binaries it installs.</summary>
public sealed record CniNodeFiles(string Conflist, IReadOnlyList<string> Plugins, IReadOnlyList<string> Binaries,
    IReadOnlyList<string> NetworkManagerUnmanaged, Version MinKernel);

/// <summary>A chart value Bulwark sets (dotted path → scalar), with the control it serves and why.</summary>
public sealed record ChartValue(string Path, string Value, IReadOnlyList<string> Controls, string Why);

/// <summary>What killall/uninstall removes for this CNI: interfaces (globs), iptables chain prefixes, files and folders.</summary>
public sealed record CniCleanup(IReadOnlyList<string> Interfaces, IReadOnlyList<string> IptablesChainPrefixes, IReadOnlyList<string> Paths);
