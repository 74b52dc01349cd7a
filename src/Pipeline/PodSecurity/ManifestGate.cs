namespace Bulwark.Pipeline.PodSecurity;

/// <summary>
/// The Pod Security Standards as a gate on manifests that cross the air gap: <c>airgap bundle</c> refuses to carry a manifest
/// that breaks the level, and <c>airgap verify</c>/<c>import</c> check the carried ones again at the local level.
/// </summary>
public sealed record ManifestGate(ManifestScanner Scanner, PodSecurityLevel Level)
{
    private const int ListedViolations = 20;

    /// <summary>Scans <paramref name="path"/>; refuses (with every violation up to a limit, as file:line) when anything breaks the level.</summary>
    /// <param name="displayName">How to name a scanned file in messages (bundle paths instead of a scratch folder's).</param>
    public ManifestScan Check(string path, Func<string, string> displayName, string what)
    {
        var scan = Scanner.Scan(path, Level);
        if (scan.Passed)
        {
            return scan;
        }
        var lines = scan.Workloads.SelectMany(w => w.Violations.Select(v =>
            $"  {displayName(w.File)}:{v.Line}: {w.Describe}: {v.Rule.Id} ({v.Rule.Title}): {v.FieldPath} = {v.Actual}, expected {v.Expected}")).ToList();
        var more = lines.Count > ListedViolations ? $"\n  … and {lines.Count - ListedViolations} more (bulwark scan manifests lists them all)" : "";
        throw new PipelineException(
            $"{what}: {lines.Count} violation(s) of Pod Security Standards {Level.ToString().ToLowerInvariant()}:\n{string.Join("\n", lines.Take(ListedViolations))}{more}\n" +
            "Fix the manifests, or carry a workload that needs more privilege for a namespace whose Pod Security level allows it and check it at that --pss-level.",
            PipelineFailure.Refused);
    }
}
