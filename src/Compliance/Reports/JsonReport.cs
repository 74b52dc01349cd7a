using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// The json report: a stable, documented shape (docs/audit-report.schema.json). Fields are only ever added;
/// schemaVersion changes if one is removed or changes meaning.
/// </summary>
public static class JsonReport
{
    public const string SchemaVersion = "1";

    public static string Render(AuditReport report) =>
        JsonSerializer.Serialize(ToDocument(report), ComplianceJsonContext.Default.AuditReportDocument);

    public static AuditReportDocument ToDocument(AuditReport report) => new(
        SchemaVersion,
        new ToolInfo(report.Tool, report.Version),
        report.Started,
        report.Finished,
        report.Node,
        report.Totals,
        report.Benchmarks.Select(b => new BenchmarkDocument(b.Id, b.Title, b.Version, b.Totals,
            b.Sections.Select(s => new SectionDocument(s.Id, s.Text, StatusTotals.Of(s.Checks), s.Checks.Select(ToDocument).ToList())).ToList())).ToList());

    private static CheckDocument ToDocument(CheckResult c) => new(
        c.Id, c.Title, c.Status, c.Severity, c.Level == 0 ? null : c.Level, c.Scored, c.Automated, c.Reason, c.Remediation,
        new ReferencesDocument(c.References.Cis, c.References.Stig, c.References.Controls),
        c.Stig is null ? null : new StigDocument(c.Stig.RuleId, c.Stig.StigId, c.Stig.Cci),
        c.Evidence, c.Error);
}

public sealed record AuditReportDocument(string SchemaVersion, ToolInfo Tool, DateTimeOffset Started, DateTimeOffset Finished, AuditedNode Node, StatusTotals Totals, IReadOnlyList<BenchmarkDocument> Benchmarks);

public sealed record ToolInfo(string Name, string Version);

public sealed record BenchmarkDocument(string Id, string Title, string Version, StatusTotals Totals, IReadOnlyList<SectionDocument> Sections);

public sealed record SectionDocument(string Id, string Text, StatusTotals Totals, IReadOnlyList<CheckDocument> Checks);

public sealed record CheckDocument(
    string Id, string Title, CheckStatus Status, string Severity, int? Level, bool Scored, bool Automated, string? Reason, string Remediation,
    ReferencesDocument References, StigDocument? Stig, IReadOnlyList<EvidenceRecord> Evidence, bool Error);

public sealed record ReferencesDocument(IReadOnlyList<string> Cis, IReadOnlyList<string> Stig, IReadOnlyList<string> Controls);

public sealed record StigDocument(string RuleId, string StigId, IReadOnlyList<string> Cci);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditReportDocument))]
[JsonSerializable(typeof(SarifLog))]
[JsonSerializable(typeof(CklbChecklist))]
[JsonSerializable(typeof(CheckStatus))]
internal sealed partial class ComplianceJsonContext : JsonSerializerContext;
