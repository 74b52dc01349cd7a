using System.Text.Json.Serialization;

namespace Bulwark.Kube;

/// <summary>
/// What Bulwark reads of a Node: the pod CIDRs the controller manager gave it (for the host-network policies). A
/// projection instead of V1Node, whose status alone links dozens of model types into the binary.
/// </summary>
public sealed record NodePodCidrs([property: JsonPropertyName("spec")] NodePodCidrs.NodeSpec? Spec)
{
    /// <summary>Every pod CIDR of the node: podCIDRs when set (dual stack), else the single podCIDR.</summary>
    public IReadOnlyList<string> Cidrs => Spec?.PodCidrs ?? (Spec?.PodCidr is { } one ? [one] : []);

    public sealed record NodeSpec(
        [property: JsonPropertyName("podCIDR")] string? PodCidr,
        [property: JsonPropertyName("podCIDRs")] IReadOnlyList<string>? PodCidrs);
}
