using System.Net;
using Bulwark.Config;
using Bulwark.ControlPlane;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Cni;

/// <summary>
/// The CNI's part of the cluster policies ControlPlane renders, kept here behind two small calls: the PSA exemptions of
/// the selected CNI, and Canal's host-network NetworkPolicy (kubelet probes arrive from each node's pod-CIDR gateway).
/// </summary>
public static class CniClusterPolicy
{
    public const string HostNetworkPolicyName = "default-network-host-policy";

    /// <summary>Namespaces the selected CNI runs privileged agents in (policies/cni/&lt;name&gt;.yaml psa-exempt-namespaces).</summary>
    public static IEnumerable<string> PsaExemptNamespaces(EffectiveConfig config) =>
        CniCatalog.BuiltIn.Value.For(CniSelection.From(config)).SelectMany(s => s.PsaExemptNamespaces);

    /// <summary>
    /// For CNIs that need it (Canal): per namespace, ingress from the gateway (first address) of every node's pod CIDR, as
    /// /32 or /128 ipBlocks. Null when the CNI needs none or no node has a pod CIDR yet: a policy with an empty
    /// <c>from</c> would allow everything.
    /// </summary>
    public static IReadOnlyList<YamlMappingNode>? HostNetworkPolicies(EffectiveConfig config, IEnumerable<string> namespaces, IEnumerable<string> nodePodCidrs)
    {
        if (!NeedsHostNetworkPolicies(config))
        {
            return null;
        }
        var gateways = nodePodCidrs.Select(c => IPNetwork.TryParse(c, out var n) ? Gateway(n) : null).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        if (gateways.Count == 0)
        {
            return null;
        }
        return namespaces.Select(ns => YamlNodes.Map(
            ("apiVersion", YamlNodes.Str("networking.k8s.io/v1")),
            ("kind", YamlNodes.Str("NetworkPolicy")),
            ("metadata", YamlNodes.Map(("name", YamlNodes.Str(HostNetworkPolicyName)), ("namespace", YamlNodes.Str(ns)))),
            ("spec", YamlNodes.Map(
                ("podSelector", new YamlMappingNode()),
                ("policyTypes", YamlNodes.Strings(["Ingress"])),
                ("ingress", YamlNodes.Seq(YamlNodes.Map(("from", new YamlSequenceNode(gateways.Select(g =>
                    (YamlNode)YamlNodes.Map(("ipBlock", YamlNodes.Map(("cidr", YamlNodes.Str(g))))))))))))))).ToList();
    }

    /// <summary>Whether the selected CNI needs the host-network allow rule (policies/cni/&lt;name&gt;.yaml allow-from-pod-cidr-gateways).</summary>
    public static bool NeedsHostNetworkPolicies(EffectiveConfig config) =>
        CniCatalog.BuiltIn.Value.For(CniSelection.From(config)).Any(s => s.AllowFromPodCidrGateways);

    private static string Gateway(IPNetwork network)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        bytes[^1] += 1;
        return $"{new IPAddress(bytes)}/{(bytes.Length == 4 ? 32 : 128)}";
    }
}
