using System.Text.Json.Serialization;
using k8s.Models;

namespace Bulwark.Kube;

/// <summary>
/// What the audit reads of a Pod: its containers of every sort and their security context. A projection instead of
/// KubernetesClient's V1Pod because V1PodSpec reaches ~130 model types (volumes, probes, affinity…), which under Native
/// AOT are ~12,000 types rehydrated into memory at the start of every Bulwark process.
/// </summary>
public sealed record PodSecurityView(
    [property: JsonPropertyName("metadata")] V1ObjectMeta Metadata,
    [property: JsonPropertyName("spec")] PodSecurityView.PodSpec? Spec)
{
    /// <summary>Init, regular and ephemeral containers: any of them can ask for privileges.</summary>
    public IEnumerable<Container> AllContainers =>
        (Spec?.InitContainers ?? []).Concat(Spec?.Containers ?? []).Concat(Spec?.EphemeralContainers ?? []);

    public sealed record PodSpec(
        [property: JsonPropertyName("initContainers")] IReadOnlyList<Container>? InitContainers,
        [property: JsonPropertyName("containers")] IReadOnlyList<Container>? Containers,
        [property: JsonPropertyName("ephemeralContainers")] IReadOnlyList<Container>? EphemeralContainers);

    public sealed record Container(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("securityContext")] V1SecurityContext? SecurityContext);
}
