namespace Bulwark.Pipeline;

/// <summary>The Trivy stage as pipeline/stages.yaml defines it.</summary>
public sealed record TrivySettings(
    string Binary,
    string Sha256,
    IReadOnlyList<string> OfflineFlags,
    int VulnerabilitiesExitCode,
    IReadOnlyList<int> DbSchemaVersions,
    TimeSpan MaxDbAge,
    TimeSpan Timeout);
