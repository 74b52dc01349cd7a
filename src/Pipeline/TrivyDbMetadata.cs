namespace Bulwark.Pipeline;

/// <summary>trivy-db's <c>db/metadata.json</c> in a cache dir.</summary>
public sealed record TrivyDbMetadata(int Version, DateTimeOffset? NextUpdate, DateTimeOffset UpdatedAt, DateTimeOffset? DownloadedAt);
