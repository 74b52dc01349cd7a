namespace Bulwark.Compliance.Reports;

/// <summary>The report formats `bulwark audit --format` writes.</summary>
public enum ReportFormat
{
    Text,
    Json,
    Junit,
    Sarif,
    Xccdf,
    Ckl,
    Cklb,
    Html,
}

/// <summary>How reports are rendered: colour for terminals, and the DISA benchmark whose texts fill checklists.</summary>
public sealed record ReportOptions(bool Color = false, StigBenchmark? StigBenchmark = null);

/// <summary>Renders a report in a format. Every writer is a pure function of the report.</summary>
public static class ReportWriter
{
    public static readonly IReadOnlyList<string> Names = ["text", "json", "junit", "sarif", "xccdf", "ckl", "cklb", "html"];

    public static ReportFormat? Parse(string name) => name.ToLowerInvariant() switch
    {
        "text" => ReportFormat.Text,
        "json" => ReportFormat.Json,
        "junit" => ReportFormat.Junit,
        "sarif" => ReportFormat.Sarif,
        "xccdf" => ReportFormat.Xccdf,
        "ckl" => ReportFormat.Ckl,
        "cklb" => ReportFormat.Cklb,
        "html" => ReportFormat.Html,
        _ => null,
    };

    public static string Render(AuditReport report, ReportFormat format, ReportOptions options) => format switch
    {
        ReportFormat.Text => TextReport.Render(report, options.Color),
        ReportFormat.Json => JsonReport.Render(report),
        ReportFormat.Junit => JunitReport.Render(report),
        ReportFormat.Sarif => SarifReport.Render(report),
        ReportFormat.Xccdf => XccdfReport.Render(report),
        ReportFormat.Ckl => CklReport.Render(report, options.StigBenchmark),
        ReportFormat.Cklb => CklbReport.Render(report, options.StigBenchmark),
        _ => HtmlReport.Render(report),
    };
}
