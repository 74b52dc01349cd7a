using System.Net;

namespace Bulwark.Cni;

/// <summary>
/// What <c>bulwark cni verify</c> reads: the conf dir (the lexically first config is the active one, as the runtime
/// picks it), the plugin bin dirs, the cluster and service CIDRs for range checks, and secondary networks (Multus
/// attachments: a CNI JSON file or a NetworkAttachmentDefinition) run beside the primary as net1, net2, ….
/// </summary>
public sealed record CniVerifyOptions(
    string ConfDir,
    IReadOnlyList<string> BinDirs,
    IReadOnlyList<IPNetwork> ClusterCidrs,
    IReadOnlyList<IPNetwork> ServiceCidrs,
    IReadOnlyList<string> Attachments)
{
    /// <summary>Host ports for the portMappings capability: below the ephemeral range, so no client socket is caught by the DNAT.</summary>
    public int HostPort { get; init; } = 20000 + Random.Shared.Next(10000);

    public static IReadOnlyList<IPNetwork> ParseCidrs(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(IPNetwork.Parse).ToList();
}
