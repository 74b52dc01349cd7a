using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Bulwark.Kube;

/// <summary>
/// The API objects Bulwark reads and writes, with KubernetesClient.Aot's model types. Bulwark serializes them through
/// this context instead of the library's KubernetesJson: that one's context covers every type of the API, which under
/// Native AOT puts ~78,000 types (12 MB of type data, rehydrated into memory at every start of every command) into the
/// binary; this one holds only what these calls need. Kinds with a large closure (Pod, Node, Service) are read through
/// projections of the fields Bulwark evaluates, and Secrets as raw JSON, which also writes back fields this library
/// does not know.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(V1Lease))]
[JsonSerializable(typeof(V1NamespaceList))]
[JsonSerializable(typeof(V1ServiceAccountList))]
[JsonSerializable(typeof(V1ClusterRoleBindingList))]
[JsonSerializable(typeof(V1NetworkPolicyList))]
[JsonSerializable(typeof(KubeList<NodePodCidrs>))]
[JsonSerializable(typeof(KubeList<PodSecurityView>))]
[JsonSerializable(typeof(KubeList<PartialObjectMetadata>))]
[JsonSerializable(typeof(KubeList<JsonObject>))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class KubeJsonContext : JsonSerializerContext;
