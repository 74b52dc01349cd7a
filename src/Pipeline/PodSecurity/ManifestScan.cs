namespace Bulwark.Pipeline.PodSecurity;

/// <summary>The outcome of scanning manifest files against one Pod Security Standards level.</summary>
public sealed record ManifestScan(string Target, PodSecurityLevel Level, PodSecurityStandards Standards, IReadOnlyList<string> Files,
    IReadOnlyList<ScannedWorkload> Workloads, IReadOnlyList<SkippedDocument> Skipped)
{
    public IEnumerable<PodSecurityViolation> Violations => Workloads.SelectMany(w => w.Violations);

    public bool Passed => !Violations.Any();
}
