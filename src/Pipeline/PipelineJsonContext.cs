using System.Text.Json.Serialization;

namespace Bulwark.Pipeline;

/// <summary>Source-generated JSON for the SBOM (camelCase, CycloneDX's names) and the scan results Bulwark writes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(CycloneDxBom))]
[JsonSerializable(typeof(ScanResult))]
internal sealed partial class PipelineJsonContext : JsonSerializerContext;

/// <summary>Trivy's own report and database metadata keep Trivy's PascalCase names.</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(TrivyReport))]
[JsonSerializable(typeof(TrivyDbMetadata))]
internal sealed partial class TrivyJsonContext : JsonSerializerContext;
