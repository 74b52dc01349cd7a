using System.Text.Json.Serialization;
using k8s.Models;

namespace Bulwark.Kube;

/// <summary>
/// Any list the API returns (PodList, SecretList…), with items read as <typeparamref name="T"/>: a projection of the
/// fields Bulwark evaluates, or the raw object when it is written back unchanged.
/// </summary>
public sealed class KubeList<T>
{
    [JsonPropertyName("metadata")]
    public V1ListMeta? Metadata { get; init; }

    [JsonPropertyName("items")]
    public IReadOnlyList<T> Items { get; init; } = [];
}
