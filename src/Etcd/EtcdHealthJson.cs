using System.Text.Json.Serialization;

namespace Bulwark.Etcd;

/// <summary>etcd's /health answer on its metrics listener: {"health":"true"}.</summary>
internal sealed record HealthResponse([property: JsonPropertyName("health")] string Health);

[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class EtcdHealthJsonContext : JsonSerializerContext;
