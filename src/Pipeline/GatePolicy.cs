namespace Bulwark.Pipeline;

/// <summary>What an image must satisfy to pass: severity threshold, fixed-only, accepted vulnerabilities, VEX, signatures.</summary>
public sealed record GatePolicy(Severity Threshold, bool FixedOnly, bool RequireSignatures, IReadOnlyList<IgnoreRule> Ignores, IReadOnlyList<VexDocument> Vex)
{
    public static readonly GatePolicy Permissive = new(Severity.Critical, true, false, [], []);
}
