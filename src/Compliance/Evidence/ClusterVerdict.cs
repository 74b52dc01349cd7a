namespace Bulwark.Compliance.Evidence;

/// <summary>What a cluster rule found: each object it looked at that matters, passed or not, and a one-line summary.</summary>
public sealed record ClusterVerdict(IReadOnlyList<EvidenceRecord> Records, string Summary)
{
    public bool Passed => Records.All(r => r.Passed);
}
