using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Pipeline;

/// <summary>An OpenVEX document: statements that a vulnerability does not affect (or is fixed in) a product.</summary>
public sealed record VexDocument([property: JsonPropertyName("@context")] string? Context, IReadOnlyList<VexStatement>? Statements)
{
    public static VexDocument Load(string path)
    {
        try
        {
            var document = JsonSerializer.Deserialize(File.ReadAllText(path), VexJsonContext.Default.VexDocument);
            if (document?.Context is not { } context || !context.StartsWith("https://openvex.dev/ns", StringComparison.Ordinal))
            {
                throw new PipelineException($"{path}: not an OpenVEX document (\"@context\" must be https://openvex.dev/ns/...)");
            }
            return document;
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{path}:{e.LineNumber + 1}: not valid OpenVEX JSON ({e.Message})", PipelineFailure.Input, e);
        }
        catch (FileNotFoundException)
        {
            throw new PipelineException($"{path}: no such VEX file");
        }
    }

    /// <summary>The statement that settles a finding, when one says not_affected or fixed for its package.</summary>
    public VexStatement? Settles(TrivyVulnerability vulnerability) =>
        (Statements ?? []).LastOrDefault(s => s.Status is "not_affected" or "fixed"
            && string.Equals(s.Vulnerability?.Name, vulnerability.VulnerabilityID, StringComparison.OrdinalIgnoreCase)
            && vulnerability.PkgIdentifier?.PURL is { } purl
            && (s.Products ?? []).Any(p => MatchesProduct(p, purl)));

    private static bool MatchesProduct(VexProduct product, string purl) =>
        (product.Id is { } id && IgnoreRule.PurlMatches(id, purl))
        || (product.Subcomponents ?? []).Any(c => c.Id is { } sub && IgnoreRule.PurlMatches(sub, purl));
}

public sealed record VexStatement(VexVulnerability? Vulnerability, IReadOnlyList<VexProduct>? Products, string Status, string? Justification,
    [property: JsonPropertyName("impact_statement")] string? ImpactStatement);

public sealed record VexVulnerability(string? Name);

public sealed record VexProduct([property: JsonPropertyName("@id")] string? Id, IReadOnlyList<VexProduct>? Subcomponents);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(VexDocument))]
internal sealed partial class VexJsonContext : JsonSerializerContext;
