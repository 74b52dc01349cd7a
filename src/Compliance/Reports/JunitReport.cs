using System.Globalization;
using System.Text;
using System.Xml;

namespace Bulwark.Compliance.Reports;

/// <summary>JUnit XML: a testsuite per section, a testcase per check; FAIL is a failure, everything not PASS is skipped with its reason.</summary>
public static class JunitReport
{
    public static string Render(AuditReport report)
    {
        return XmlText.Write(w =>
        {
            var all = report.Totals;
            w.WriteStartElement("testsuites");
            w.WriteAttributeString("name", "bulwark audit");
            w.WriteAttributeString("tests", Num(all.Total));
            w.WriteAttributeString("failures", Num(all.Fail));
            w.WriteAttributeString("skipped", Num(all.Total - all.Pass - all.Fail));
            w.WriteAttributeString("time", Seconds(report.Finished - report.Started));
            foreach (var benchmark in report.Benchmarks)
            {
                foreach (var section in benchmark.Sections)
                {
                    var t = StatusTotals.Of(section.Checks);
                    w.WriteStartElement("testsuite");
                    w.WriteAttributeString("name", $"{benchmark.Id} {section.Id} {section.Text}");
                    w.WriteAttributeString("tests", Num(t.Total));
                    w.WriteAttributeString("failures", Num(t.Fail));
                    w.WriteAttributeString("errors", "0");
                    w.WriteAttributeString("skipped", Num(t.Total - t.Pass - t.Fail));
                    w.WriteAttributeString("timestamp", report.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
                    w.WriteAttributeString("hostname", report.Node.Hostname);
                    foreach (var check in section.Checks)
                    {
                        w.WriteStartElement("testcase");
                        w.WriteAttributeString("classname", $"{benchmark.Id}.{section.Id}");
                        w.WriteAttributeString("name", $"{check.Id} {check.Title}");
                        w.WriteAttributeString("time", "0");
                        if (check.Status == CheckStatus.Fail)
                        {
                            w.WriteStartElement("failure");
                            w.WriteAttributeString("message", check.Reason ?? "failed");
                            w.WriteAttributeString("type", "FAIL");
                            w.WriteString(Details(check));
                            w.WriteEndElement();
                        }
                        else if (check.Status != CheckStatus.Pass)
                        {
                            w.WriteStartElement("skipped");
                            w.WriteAttributeString("message", $"{check.Status.Label()}: {check.Reason ?? ""}".TrimEnd(' ', ':'));
                            w.WriteEndElement();
                        }
                        if (check.Evidence.Count > 0)
                        {
                            w.WriteElementString("system-out", Details(check));
                        }
                        w.WriteEndElement();
                    }
                    w.WriteEndElement();
                }
            }
            w.WriteEndElement();
        });
    }

    internal static string Details(CheckResult check)
    {
        var sb = new StringBuilder();
        foreach (var e in check.Evidence)
        {
            sb.AppendLine($"{(e.Passed ? "ok  " : "BAD ")} {e.Subject} = {e.Actual} (expected {e.Expected}) in {e.Source}");
        }
        if (check.Status != CheckStatus.Pass && check.Remediation.Length > 0)
        {
            sb.AppendLine($"fix: {check.Remediation}");
        }
        return sb.ToString();
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
}

/// <summary>Writes an XML document as UTF-8 text (an XmlWriter over a StringBuilder would declare UTF-16).</summary>
internal static class XmlText
{
    private static readonly XmlWriterSettings Settings = new() { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false) };

    public static string Write(Action<XmlWriter> write, string? leadingComment = null)
    {
        using var stream = new MemoryStream();
        using (var w = XmlWriter.Create(stream, Settings))
        {
            w.WriteStartDocument();
            if (leadingComment is not null)
            {
                w.WriteComment(leadingComment);
            }
            write(w);
            w.WriteEndDocument();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
