namespace Bulwark.Pipeline;

/// <summary>Applies a <see cref="GatePolicy"/> to a parsed Trivy report (and a signature verdict).</summary>
public static class Gate
{
    /// <param name="signature">null when signatures were not checked; otherwise "verified by KEY" or the reason it failed.</param>
    /// <param name="signatureValid">whether the signature check passed.</param>
    public static ScanResult Evaluate(string image, string? digest, TrivyReport report, GatePolicy policy, DateOnly today,
        string? signature = null, bool signatureValid = false)
    {
        var findings = new List<Finding>();
        var expired = policy.Ignores.Where(r => r.IsExpired(today))
            .Select(r => new ExpiredIgnore(r.Id, r.ExpiresAt!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), r.Source)).ToList();
        foreach (var result in report.Results ?? [])
        {
            foreach (var v in result.Vulnerabilities ?? [])
            {
                var (decision, reason) = Decide(v, result.Target, policy, today);
                findings.Add(new Finding(v.VulnerabilityID, v.PkgName, v.InstalledVersion, NullIfEmpty(v.FixedVersion), v.Severity.ToUpperInvariant(), v.Title,
                    v.PrimaryURL, result.Target, v.PkgIdentifier?.PURL, decision, reason));
            }
        }
        var problems = new List<string>();
        var blocking = findings.Count(f => f.Decision == FindingDecision.Blocking);
        if (blocking > 0)
        {
            problems.Add($"{blocking} vulnerabilit{(blocking == 1 ? "y" : "ies")} at or above {policy.Threshold.Name()}{(policy.FixedOnly ? " with a fix available" : "")}");
        }
        foreach (var e in expired.Where(e => findings.Any(f => f.Decision == FindingDecision.Blocking && string.Equals(f.Id, e.Id, StringComparison.OrdinalIgnoreCase))))
        {
            problems.Add($"the ignore of {e.Id} ({e.Source}) expired on {e.ExpiredOn}; renew it with a new statement or fix the image");
        }
        if (policy.RequireSignatures && !signatureValid)
        {
            problems.Add(signature is null ? "the image is not signed (the policy requires signatures)" : $"signature: {signature}");
        }
        var ordered = findings.OrderBy(f => f.Decision).ThenByDescending(f => Severities.Parse(f.Severity)).ThenBy(f => f.Id, StringComparer.Ordinal).ToList();
        return new ScanResult(image, digest, problems.Count == 0, policy.Threshold.Name(), policy.FixedOnly, ordered, expired, signature, problems);
    }

    private static (FindingDecision, string?) Decide(TrivyVulnerability v, string target, GatePolicy policy, DateOnly today)
    {
        foreach (var vex in policy.Vex)
        {
            if (vex.Settles(v) is { } statement)
            {
                return (FindingDecision.Vex, $"VEX {statement.Status}{(statement.Justification is { } j ? ": " + j : "")}");
            }
        }
        if (policy.Ignores.FirstOrDefault(r => !r.IsExpired(today) && r.Matches(v, target)) is { } rule)
        {
            return (FindingDecision.Ignored, $"{rule.Source}{(rule.Statement is { } s ? ": " + s : "")}");
        }
        if (Severities.Parse(v.Severity) < policy.Threshold)
        {
            return (FindingDecision.BelowThreshold, null);
        }
        if (policy.FixedOnly && string.IsNullOrEmpty(v.FixedVersion))
        {
            return (FindingDecision.NoFix, v.Status is { } status ? $"no fix ({status})" : "no fix");
        }
        return (FindingDecision.Blocking, null);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
