namespace Bulwark.Pipeline;

/// <summary>How the gate classified one finding.</summary>
public enum FindingDecision
{
    /// <summary>Fails the gate.</summary>
    Blocking,

    /// <summary>Below the severity threshold.</summary>
    BelowThreshold,

    /// <summary>No fixed version and the gate is fixed-only.</summary>
    NoFix,

    /// <summary>Accepted by an ignore rule that has not expired.</summary>
    Ignored,

    /// <summary>A VEX statement says not_affected or fixed.</summary>
    Vex,
}

public sealed record Finding(string Id, string Package, string? InstalledVersion, string? FixedVersion, string Severity, string? Title, string? Url,
    string Target, string? Purl, FindingDecision Decision, string? Reason);

public sealed record ExpiredIgnore(string Id, string ExpiredOn, string Source);

/// <summary>The verdict on one image: findings, expired ignores, signature status, and whether it passed.</summary>
public sealed record ScanResult(
    string Image,
    string? Digest,
    bool Passed,
    string Threshold,
    bool FixedOnly,
    IReadOnlyList<Finding> Findings,
    IReadOnlyList<ExpiredIgnore> ExpiredIgnores,
    string? Signature,
    IReadOnlyList<string> Problems)
{
    public int Blocking => Findings.Count(f => f.Decision == FindingDecision.Blocking);
}
