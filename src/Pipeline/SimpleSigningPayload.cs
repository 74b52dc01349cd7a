using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Pipeline;

/// <summary>
/// The "simple signing" payload cosign signs for an image: the manifest digest and the repository it was signed for.
/// Stored as the layer of an OCI manifest tagged <c>sha256-&lt;hex&gt;.sig</c> in the image's repository, with the
/// base64 DER signature in the layer annotation <c>dev.cosignproject.cosign/signature</c>.
/// </summary>
public sealed record SimpleSigningPayload(SimpleSigningCritical Critical, IReadOnlyDictionary<string, string>? Optional)
{
    public const string Type = "cosign container image signature";
    public const string MediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";

    public static SimpleSigningPayload For(string repository, string manifestDigest) =>
        new(new SimpleSigningCritical(new SimpleSigningIdentity(repository), new SimpleSigningImage(manifestDigest), Type), null);

    /// <summary>The tag cosign stores an image's signature under: sha256:abc… → sha256-abc….sig.</summary>
    public static string SignatureTag(string manifestDigest) => manifestDigest.Replace(':', '-') + ".sig";

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, SimpleSigningJsonContext.Default.SimpleSigningPayload);

    public static SimpleSigningPayload Parse(ReadOnlySpan<byte> json, string whereForErrors)
    {
        try
        {
            var payload = JsonSerializer.Deserialize(json, SimpleSigningJsonContext.Default.SimpleSigningPayload);
            return payload?.Critical is { Type: Type } ? payload : throw new JsonException($"critical.type is not \"{Type}\"");
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{whereForErrors}: not a simple-signing payload ({e.Message})", PipelineFailure.Refused, e);
        }
    }
}

public sealed record SimpleSigningCritical(SimpleSigningIdentity Identity, SimpleSigningImage Image, string Type);

public sealed record SimpleSigningIdentity([property: JsonPropertyName("docker-reference")] string DockerReference);

public sealed record SimpleSigningImage([property: JsonPropertyName("docker-manifest-digest")] string DockerManifestDigest);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SimpleSigningPayload))]
internal sealed partial class SimpleSigningJsonContext : JsonSerializerContext;
