using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;

namespace Bulwark.Pipeline.PodSecurity;

/// <summary>
/// A manifest scan in the audit's report model, so the audit's writers (text, json, sarif, junit, html) render it and a pipeline
/// gets one SARIF shape for both: one section per workload (file:line, kind and name), one check per rule, each offending
/// field as evidence with its path and line.
/// </summary>
public static class ManifestReport
{
    public static AuditReport From(ManifestScan scan, string tool, string version, DateTimeOffset started, DateTimeOffset finished)
    {
        var level = scan.Level.ToString().ToLowerInvariant();
        var sections = scan.Workloads.Select(w => new SectionResult($"{w.File}:{w.Line}", w.Describe,
            w.Rules.Select(rule => Check(rule, w)).ToList())).ToList();
        var benchmark = new BenchmarkResult($"pss-{level}", $"Pod Security Standards ({level})", $"{scan.Standards.Version} (Kubernetes {scan.Standards.Kubernetes})", sections);
        return new AuditReport(tool, version, started, finished, new AuditedNode($"manifests in {scan.Target}", Path.GetFullPath(scan.Target), "", ""), [benchmark]);
    }

    private static CheckResult Check(PodSecurityRule rule, ScannedWorkload workload)
    {
        var violations = workload.Violations.Where(v => v.Rule == rule).ToList();
        var source = Path.GetFullPath(workload.File);
        var evidence = violations.Select(v => new EvidenceRecord(v.FieldPath, v.Actual, v.Expected, source, false) { Line = v.Line }).ToList();
        return new CheckResult(rule.Id, rule.Title, violations.Count == 0 ? CheckStatus.Pass : CheckStatus.Fail,
            rule.Level == PodSecurityLevel.Baseline ? "high" : "medium", rule.Level == PodSecurityLevel.Baseline ? 1 : 2, true, true,
            violations.Count == 0 ? null : string.Join("; ", violations.Select(v => $"{v.FieldPath} = {v.Actual} at line {v.Line}")),
            evidence,
            violations.Count == 0 ? "" : "Set " + string.Join("; ", violations.Select(v => $"{v.FieldPath} to {v.Expected}").Distinct()) +
                ". A system workload that needs this belongs in a namespace whose Pod Security level allows it (PSA exemptions).",
            CheckReferences.None, null);
    }
}
