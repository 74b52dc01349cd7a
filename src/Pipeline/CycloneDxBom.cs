using System.Text.Json.Serialization;

namespace Bulwark.Pipeline;

/// <summary>The subset of CycloneDX 1.5 (JSON) Bulwark writes: an image, its OS and its OS packages.</summary>
public sealed record CycloneDxBom(
    string BomFormat,
    string SpecVersion,
    string SerialNumber,
    int Version,
    CycloneDxMetadata Metadata,
    IReadOnlyList<CycloneDxComponent> Components,
    IReadOnlyList<CycloneDxDependency> Dependencies);

public sealed record CycloneDxMetadata(string Timestamp, CycloneDxTools Tools, CycloneDxComponent Component);

public sealed record CycloneDxTools(IReadOnlyList<CycloneDxComponent> Components);

public sealed record CycloneDxComponent(
    [property: JsonPropertyName("bom-ref")] string? BomRef,
    string Type,
    string Name,
    string? Version = null,
    string? Purl = null,
    IReadOnlyList<CycloneDxLicenseChoice>? Licenses = null,
    IReadOnlyList<CycloneDxProperty>? Properties = null);

public sealed record CycloneDxLicenseChoice(CycloneDxLicense License);

public sealed record CycloneDxLicense(string Name);

public sealed record CycloneDxProperty(string Name, string Value);

public sealed record CycloneDxDependency(string Ref, IReadOnlyList<string> DependsOn);
