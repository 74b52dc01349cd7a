using System.Text.Json;
using System.Text.Json.Serialization;
using Bulwark.Pipeline;

namespace Bulwark.Airgap;

public sealed record OciPlatform(string Architecture, string Os, string? Variant = null)
{
    public override string ToString() => $"{Os}/{Architecture}{(Variant is null ? "" : "/" + Variant)}";

    public static OciPlatform Parse(string text)
    {
        var parts = text.Split('/');
        return parts.Length is 2 or 3 && parts.All(p => p.Length > 0)
            ? new OciPlatform(parts[1], parts[0], parts.Length == 3 ? parts[2] : null)
            : throw new PipelineException($"--platform '{text}': expected os/arch[/variant], e.g. linux/amd64");
    }
}

public sealed record OciDescriptor(string MediaType, string Digest, long Size, OciPlatform? Platform = null,
    IReadOnlyDictionary<string, string>? Annotations = null);

/// <summary>An image manifest (OCI or Docker schema 2: same shape for what Bulwark reads).</summary>
public sealed record OciManifest(int SchemaVersion, string? MediaType, OciDescriptor Config, IReadOnlyList<OciDescriptor> Layers,
    IReadOnlyDictionary<string, string>? Annotations = null);

/// <summary>An image index / manifest list, and an OCI layout's index.json.</summary>
public sealed record OciIndex(int SchemaVersion, string? MediaType, IReadOnlyList<OciDescriptor> Manifests);

public sealed record OciLayoutFile(string ImageLayoutVersion);

public static class OciJson
{
    public static OciManifest ParseManifest(byte[] json, string whereForErrors) => Parse(json, AirgapJsonContext.Default.OciManifest, whereForErrors);

    public static OciIndex ParseIndex(byte[] json, string whereForErrors) => Parse(json, AirgapJsonContext.Default.OciIndex, whereForErrors);

    private static T Parse<T>(byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string whereForErrors)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null document");
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{whereForErrors}: not a valid {typeof(T).Name} ({e.Message})", PipelineFailure.Refused, e);
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(OciIndex))]
[JsonSerializable(typeof(OciLayoutFile))]
[JsonSerializable(typeof(BundleIndex))]
[JsonSerializable(typeof(RegistryToken))]
internal sealed partial class AirgapJsonContext : JsonSerializerContext;

internal sealed record RegistryToken(string? Token, [property: JsonPropertyName("access_token")] string? AccessToken);
