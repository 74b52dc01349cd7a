using System.Text;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// The report for people at a terminal: per benchmark, a table per section (status, id, title), the evidence
/// and fix under every failure, then the totals. Colour only when writing to a terminal.
/// </summary>
public static class TextReport
{
    public static string Render(AuditReport report, bool color)
    {
        string Paint(string text, string code) => color ? $"\u001b[{code}m{text}\u001b[0m" : text;
        string Status(CheckStatus s) => s switch
        {
            CheckStatus.Pass => Paint("PASS  ", "32"),
            CheckStatus.Fail => Paint("FAIL  ", "1;31"),
            CheckStatus.Warn => Paint("WARN  ", "33"),
            CheckStatus.Manual => Paint("MANUAL", "36"),
            CheckStatus.Skip => Paint("SKIP  ", "90"),
            CheckStatus.Error => Paint("ERROR ", "1;35"),
            _ => Paint("N/A   ", "90"),
        };
        var o = new StringBuilder();
        o.AppendLine(Paint($"Bulwark compliance audit of {report.Node.Hostname}", "1"));
        // A manifest scan has no node folders, only the scanned path.
        o.AppendLine(report.Node.DataDir.Length == 0
            ? $"{report.Node.HostRoot}; {report.Finished:yyyy-MM-dd HH:mm:ss} UTC"
            : $"data dir {report.Node.DataDir}, config {report.Node.EtcDir}, host root {report.Node.HostRoot}; {report.Finished:yyyy-MM-dd HH:mm:ss} UTC");
        foreach (var benchmark in report.Benchmarks)
        {
            o.AppendLine();
            o.AppendLine(Paint($"== {benchmark.Title} {benchmark.Version}", "1"));
            foreach (var section in benchmark.Sections)
            {
                var t = StatusTotals.Of(section.Checks);
                o.AppendLine();
                o.AppendLine(Paint($"[{section.Id}] {section.Text}", "1") + $"  ({t.Pass} pass, {t.Fail} fail, {t.Warn} warn, {t.Manual} manual, {t.NotApplicable} n/a{(t.Error > 0 ? $", {t.Error} error" : "")})");
                var idWidth = Math.Max(6, section.Checks.Max(c => (int?)c.Id.Length) ?? 6);
                foreach (var check in section.Checks)
                {
                    o.Append("  ").Append(Status(check.Status)).Append("  ").Append(check.Id.PadRight(idWidth)).Append("  ").AppendLine(check.Title);
                    if (check.Status is CheckStatus.Fail or CheckStatus.Warn or CheckStatus.Error)
                    {
                        foreach (var e in check.Evidence.Where(e => !e.Passed).Take(8))
                        {
                            o.AppendLine(Paint($"          found {e.Subject} = {e.Actual}, expected {e.Expected}  ({e.Source}{(e.Line is { } line ? $":{line}" : "")})", "90"));
                        }
                        if (check.Evidence.All(e => e.Passed) && check.Reason is not null)
                        {
                            o.AppendLine(Paint($"          {check.Reason}", "90"));
                        }
                        if (check.Remediation.Length > 0)
                        {
                            o.AppendLine($"          fix: {check.Remediation.Replace("\n", "\n               ", StringComparison.Ordinal)}");
                        }
                    }
                }
            }
            var totals = benchmark.Totals;
            o.AppendLine();
            o.AppendLine($"{benchmark.Title}: " + Summary(totals, Paint));
        }
        var all = report.Totals;
        o.AppendLine();
        o.AppendLine(Paint("Summary: ", "1") + Summary(all, Paint));
        o.AppendLine(all.Fail == 0
            ? Paint("No automated check failed.", "32") + (all.Manual > 0 ? $" {all.Manual} checks need a person (MANUAL); each says what to look at." : "")
            : Paint($"{all.Fail} check(s) failed; each lists what was found, where, and the fix.", "1;31"));
        return o.ToString();
    }

    private static string Summary(StatusTotals t, Func<string, string, string> paint) =>
        $"{t.Total} checks: {paint($"{t.Pass} pass", "32")}, {paint($"{t.Fail} fail", t.Fail > 0 ? "1;31" : "0")}, {paint($"{t.Warn} warn", t.Warn > 0 ? "33" : "0")}, " +
        $"{t.Manual} manual, {t.Skip} skipped, {t.NotApplicable} not applicable" + (t.Error > 0 ? $", {paint($"{t.Error} could not be evaluated (ERROR)", "1;35")}" : "");
}
