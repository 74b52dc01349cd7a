namespace Bulwark.Pipeline;

/// <summary>One accepted vulnerability: from .trivyignore (a line) or the YAML form (an entry with a statement).</summary>
public sealed record IgnoreRule(string Id, string? Statement, DateOnly? ExpiresAt, IReadOnlyList<string> Purls, IReadOnlyList<string> Paths, string Source)
{
    public bool IsExpired(DateOnly today) => ExpiresAt is { } end && today > end;

    public bool Matches(TrivyVulnerability vulnerability, string target) =>
        string.Equals(Id, vulnerability.VulnerabilityID, StringComparison.OrdinalIgnoreCase)
        && (Purls.Count == 0 || (vulnerability.PkgIdentifier?.PURL is { } purl && Purls.Any(p => PurlMatches(p, purl))))
        && (Paths.Count == 0 || Paths.Contains(target, StringComparer.Ordinal));

    /// <summary>A purl without qualifiers matches any qualifiers (as Trivy does).</summary>
    public static bool PurlMatches(string pattern, string purl) =>
        pattern.Contains('?') ? string.Equals(pattern, purl, StringComparison.Ordinal) : string.Equals(pattern, purl.Split('?')[0], StringComparison.Ordinal);
}
