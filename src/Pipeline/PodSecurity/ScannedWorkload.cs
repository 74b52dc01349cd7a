namespace Bulwark.Pipeline.PodSecurity;

/// <summary>A workload found in a manifest file, the rules evaluated on its pod template, and what broke them.</summary>
public sealed record ScannedWorkload(string File, int Line, string Kind, string Name, string? Namespace, IReadOnlyList<PodSecurityRule> Rules, IReadOnlyList<PodSecurityViolation> Violations)
{
    public string Describe => $"{Kind} {(Namespace is { } ns ? ns + "/" : "")}{Name}";
}
