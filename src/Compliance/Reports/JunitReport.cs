using System.Globalization;
using System.Text;
using System.Xml;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// JUnit XML as the Jenkins xunit junit-10.xsd defines it (with the Ant schema's id, package, time and properties
/// on each testsuite): a testsuite per section, a testcase per check. FAIL is a failure of type FAIL; an unscored
/// WARN is a failure of type WARN (CI sees it, and can tell it from a scored one); ERROR (could not be evaluated)
/// is an error; MANUAL, SKIP and NOT_APPLICABLE are skipped with their status as type and the reason.
/// </summary>
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
            w.WriteAttributeString("failures", Num(all.Fail + all.Warn));
            w.WriteAttributeString("errors", Num(all.Error));
            w.WriteAttributeString("time", Seconds(report.Finished - report.Started));
            var id = 0;
            foreach (var benchmark in report.Benchmarks)
            {
                foreach (var section in benchmark.Sections)
                {
                    var t = StatusTotals.Of(section.Checks);
                    w.WriteStartElement("testsuite");
                    w.WriteAttributeString("name", $"{benchmark.Id} {section.Id} {section.Text}");
                    w.WriteAttributeString("tests", Num(t.Total));
                    w.WriteAttributeString("failures", Num(t.Fail + t.Warn));
                    w.WriteAttributeString("errors", Num(t.Error));
                    w.WriteAttributeString("skipped", Num(t.Manual + t.Skip + t.NotApplicable));
                    w.WriteAttributeString("time", "0");
                    w.WriteAttributeString("timestamp", report.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
                    w.WriteAttributeString("hostname", report.Node.Hostname);
                    w.WriteAttributeString("id", Num(id++));
                    w.WriteAttributeString("package", benchmark.Id);
                    w.WriteStartElement("properties");
                    Property(w, "benchmark", $"{benchmark.Title} {benchmark.Version}");
                    Property(w, "section", section.Id);
                    Property(w, "node.data-dir", report.Node.DataDir);
                    w.WriteEndElement();
                    foreach (var check in section.Checks)
                    {
                        w.WriteStartElement("testcase");
                        w.WriteAttributeString("classname", $"{benchmark.Id}.{section.Id}");
                        w.WriteAttributeString("name", $"{check.Id} {check.Title}");
                        w.WriteAttributeString("time", "0");
                        var (element, message) = check.Status switch
                        {
                            CheckStatus.Pass => (null, null),
                            CheckStatus.Fail => ("failure", check.Reason ?? "failed"),
                            CheckStatus.Warn => ("failure", $"WARN (not scored by the benchmark): {check.Reason ?? "did not pass"}"),
                            CheckStatus.Error => ("error", check.Reason ?? "could not be evaluated"),
                            _ => ("skipped", $"{check.Status.Label()}: {check.Reason ?? ""}".TrimEnd(' ', ':')),
                        };
                        if (element is not null)
                        {
                            w.WriteStartElement(element);
                            w.WriteAttributeString("type", check.Status.Label());
                            w.WriteAttributeString("message", message);
                            w.WriteString(Details(check));
                            w.WriteEndElement();
                        }
                        else if (check.Evidence.Count > 0)
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

    private static void Property(XmlWriter w, string name, string value)
    {
        w.WriteStartElement("property");
        w.WriteAttributeString("name", name);
        w.WriteAttributeString("value", value);
        w.WriteEndElement();
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
