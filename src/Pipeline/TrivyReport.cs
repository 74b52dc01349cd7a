namespace Bulwark.Pipeline;

/// <summary>The parts of Trivy's JSON report (SchemaVersion 2) the gate reads. Property names are Trivy's.</summary>
public sealed record TrivyReport(int SchemaVersion, string? ArtifactName, string? ArtifactType, IReadOnlyList<TrivyResult>? Results);

public sealed record TrivyResult(string Target, string? Class, string? Type, IReadOnlyList<TrivyVulnerability>? Vulnerabilities);

public sealed record TrivyVulnerability(
    string VulnerabilityID,
    string PkgName,
    string? InstalledVersion,
    string? FixedVersion,
    string? Status,
    string Severity,
    string? Title,
    string? PrimaryURL,
    TrivyPackageIdentifier? PkgIdentifier);

public sealed record TrivyPackageIdentifier(string? PURL);
