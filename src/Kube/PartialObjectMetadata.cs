using System.Text.Json.Serialization;
using k8s.Models;

namespace Bulwark.Kube;

/// <summary>
/// An object of any kind read for its metadata alone (meta.k8s.io PartialObjectMetadata), as Bulwark reads objects it
/// only names: the kind's own model would link its whole spec and status into the binary for nothing.
/// </summary>
public sealed record PartialObjectMetadata([property: JsonPropertyName("metadata")] V1ObjectMeta Metadata);
