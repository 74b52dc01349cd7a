using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Pipeline;

/// <summary>Source-generated JSON for the SBOM (camelCase, CycloneDX's names) and the scan results Bulwark writes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(CycloneDxBom))]
[JsonSerializable(typeof(ScanResult))]
internal sealed partial class PipelineJsonContext : JsonSerializerContext
{
    /// <summary>The same, without escaping '&amp;' and '+' (purls stay readable; still valid JSON).</summary>
    public static PipelineJsonContext Readable { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>Trivy's own report and database metadata keep Trivy's PascalCase names.</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(TrivyReport))]
[JsonSerializable(typeof(TrivyDbMetadata))]
internal sealed partial class TrivyJsonContext : JsonSerializerContext;
