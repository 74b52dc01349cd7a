using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// SARIF 2.1.0: one run, one rule per check (with CIS/STIG metadata), one result per check with kind
/// pass, fail, review (manual and warnings), or notApplicable. Failures carry level error/warning by severity.
/// </summary>
public static partial class SarifReport
{
    /// <summary>Where the audit's checks, statuses and report formats are documented (docs/audit.md), as SARIF's tool.driver.informationUri.</summary>
    public const string InformationUri = "https://bulwark.invalid/docs/audit.md";

    public static string Render(AuditReport report)
    {
        var rules = new List<SarifRule>();
        var results = new List<SarifResult>();
        var ruleIndexes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var benchmark in report.Benchmarks)
        {
            foreach (var section in benchmark.Sections)
            {
                foreach (var check in section.Checks)
                {
                    var ruleId = $"{benchmark.Id}/{check.Id}";
                    var tags = new List<string> { benchmark.Id, $"section:{section.Id}" };
                    tags.AddRange(check.References.Cis.Select(c => $"CIS-{c}"));
                    tags.AddRange(check.References.Stig);
                    if (check.Stig is { } stig)
                    {
                        tags.Add(stig.StigId);
                        tags.AddRange(stig.Cci);
                    }
                    // A rule is listed once (SARIF wants unique ids) though a manifest scan checks it on many workloads.
                    if (!ruleIndexes.TryGetValue(ruleId, out var ruleIndex))
                    {
                        ruleIndex = rules.Count;
                        ruleIndexes[ruleId] = ruleIndex;
                        rules.Add(new SarifRule(ruleId, $"{benchmark.Title} {check.Id}", new SarifText(check.Title),
                            new SarifText($"{benchmark.Title} {benchmark.Version}, {section.Text}: {check.Title}"),
                            new SarifText(check.Remediation.Length > 0 ? check.Remediation : "No remediation given."),
                            new SarifConfiguration(FailLevel(check)),
                            new SarifRuleProperties(tags, check.Severity, check.Level == 0 ? null : check.Level, check.Scored)));
                    }
                    var (kind, level) = check.Status switch
                    {
                        CheckStatus.Pass => ("pass", "none"),
                        CheckStatus.Fail => ("fail", FailLevel(check)),
                        CheckStatus.NotApplicable => ("notApplicable", "none"),
                        CheckStatus.Warn => ("fail", "warning"),
                        CheckStatus.Error => ("open", "warning"),
                        _ => ("review", "none"),
                    };
                    results.Add(new SarifResult(ruleId, ruleIndex, kind, level, new SarifText(Message(check)), Locations(check)));
                }
            }
        }
        var log = new SarifLog("https://json.schemastore.org/sarif-2.1.0.json", "2.1.0",
        [
            new SarifRun(new SarifTool(new SarifDriver(report.Tool, report.Version, InformationUri, rules)), results,
                [new SarifInvocation(true, report.Started, report.Finished)]),
        ]);
        return JsonSerializer.Serialize(log, ComplianceJsonContext.Default.SarifLog);
    }

    private static string FailLevel(CheckResult check) => check.Severity == "high" || check.Scored ? "error" : "warning";

    private static string Message(CheckResult check)
    {
        var head = $"{check.Status.Label()}: {check.Title}";
        return check.Reason is null ? head : $"{head}. {check.Reason}";
    }

    /// <summary>
    /// The files the evidence was read from; a region (line) where the value came from a field of the file itself
    /// (not from a command's output that merely names it).
    /// </summary>
    private static List<SarifLocation>? Locations(CheckResult check)
    {
        var locations = check.Evidence
            .Select(e => (Match: PathPattern().Match(e.Source), e.Line, Direct: e.Source.StartsWith('/')))
            .Where(x => x.Match.Success)
            .Select(x => (Path: x.Match.Value, Line: x.Direct ? x.Line : null))
            .GroupBy(x => x.Path)
            .Select(g => g.FirstOrDefault(x => x.Line is not null, g.First()))
            .Take(10)
            .Select(x => new SarifLocation(new SarifPhysicalLocation(new SarifArtifactLocation("file://" + x.Path), x.Line is { } line ? new SarifRegion(line) : null)))
            .ToList();
        return locations.Count == 0 ? null : locations;
    }

    [GeneratedRegex(@"(?<![\w])/[^\s(),;]+")]
    private static partial Regex PathPattern();
}

public sealed record SarifLog([property: JsonPropertyName("$schema")] string Schema, string Version, IReadOnlyList<SarifRun> Runs);

public sealed record SarifRun(SarifTool Tool, IReadOnlyList<SarifResult> Results, IReadOnlyList<SarifInvocation> Invocations);

public sealed record SarifInvocation(bool ExecutionSuccessful, DateTimeOffset StartTimeUtc, DateTimeOffset EndTimeUtc);

public sealed record SarifTool(SarifDriver Driver);

public sealed record SarifDriver(string Name, string Version, string? InformationUri, IReadOnlyList<SarifRule> Rules);

public sealed record SarifRule(string Id, string Name, SarifText ShortDescription, SarifText FullDescription, SarifText Help, SarifConfiguration DefaultConfiguration, SarifRuleProperties Properties);

public sealed record SarifConfiguration(string Level);

public sealed record SarifRuleProperties(IReadOnlyList<string> Tags, string Severity, int? Level, bool Scored);

public sealed record SarifText(string Text);

public sealed record SarifResult(string RuleId, int RuleIndex, string Kind, string Level, SarifText Message, IReadOnlyList<SarifLocation>? Locations);

public sealed record SarifLocation(SarifPhysicalLocation PhysicalLocation);

public sealed record SarifPhysicalLocation(SarifArtifactLocation ArtifactLocation, SarifRegion? Region);

public sealed record SarifRegion(int StartLine);

public sealed record SarifArtifactLocation(string Uri);
