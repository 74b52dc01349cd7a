using System.Text.Json.Serialization;

namespace Bulwark.Supervisor;

/// <summary>What an agent needs from <c>GET /v1/config</c> to configure its kubelet, kube-proxy and CNI.</summary>
public sealed record AgentClusterConfig
{
    [JsonPropertyName("clusterCidr")] public required string ClusterCidr { get; init; }
    [JsonPropertyName("serviceCidr")] public required string ServiceCidr { get; init; }
    [JsonPropertyName("clusterDns")] public required string ClusterDns { get; init; }
    [JsonPropertyName("clusterDomain")] public required string ClusterDomain { get; init; }
    [JsonPropertyName("systemDefaultRegistry")] public string SystemDefaultRegistry { get; init; } = "";
    [JsonPropertyName("cni")] public required string Cni { get; init; }
    [JsonPropertyName("profile")] public string Profile { get; init; } = "";
    [JsonPropertyName("supervisorEndpoints")] public IReadOnlyList<string> SupervisorEndpoints { get; init; } = [];
    [JsonPropertyName("apiserverEndpoints")] public IReadOnlyList<string> ApiserverEndpoints { get; init; } = [];
}

/// <summary>A node's certificate signing request (PEM, PKCS#10).</summary>
public sealed record CsrRequest([property: JsonPropertyName("csr")] string Csr);

/// <summary>A signed certificate and the CA that signed it (PEM), plus the server CA to verify the API server with.</summary>
public sealed record SignedCertificate(
    [property: JsonPropertyName("certificate")] string Certificate,
    [property: JsonPropertyName("ca")] string IssuingCa,
    [property: JsonPropertyName("serverCa")] string ServerCa);

/// <summary>A joining server's request to become an etcd learner.</summary>
public sealed record EtcdJoinRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("peerUrl")] string PeerUrl);

/// <summary>The answer: the learner's member id, etcd's initial-cluster string, and client URLs of voting members.</summary>
public sealed record EtcdJoinResponse(
    [property: JsonPropertyName("memberId")] string MemberId,
    [property: JsonPropertyName("initialCluster")] string InitialCluster,
    [property: JsonPropertyName("clientUrls")] IReadOnlyList<string> ClientUrls,
    [property: JsonPropertyName("rejoin")] bool Rejoin);

public sealed record EtcdMemberView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("peerUrls")] IReadOnlyList<string> PeerUrls,
    [property: JsonPropertyName("clientUrls")] IReadOnlyList<string> ClientUrls,
    [property: JsonPropertyName("learner")] bool Learner);

public sealed record EtcdMembersResponse([property: JsonPropertyName("members")] IReadOnlyList<EtcdMemberView> Members);

/// <summary>Every error body: what went wrong and what to do.</summary>
public sealed record ErrorBody([property: JsonPropertyName("error")] string Error);

/// <summary>The cluster's shared secrets, as files relative to the data dir (sealed with the token before they leave the server).</summary>
public sealed record BootstrapBundle([property: JsonPropertyName("files")] IReadOnlyDictionary<string, string> Files);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(AgentClusterConfig))]
[JsonSerializable(typeof(CsrRequest))]
[JsonSerializable(typeof(SignedCertificate))]
[JsonSerializable(typeof(EtcdJoinRequest))]
[JsonSerializable(typeof(EtcdJoinResponse))]
[JsonSerializable(typeof(EtcdMembersResponse))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(BootstrapBundle))]
internal sealed partial class SupervisorJsonContext : JsonSerializerContext;
