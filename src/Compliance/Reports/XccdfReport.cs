using System.Globalization;
using System.Text;
using System.Xml;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// XCCDF 1.2: a Benchmark with a Group per section and a Rule per check (CIS ids and STIG V-ids/CCIs as
/// idents, the fix as fixtext), and the run as an embedded TestResult. Result values: pass, fail,
/// informational (unscored warnings), error (evidence unreadable), notchecked (manual, skipped),
/// notapplicable. Validates with `oscap xccdf validate`.
/// </summary>
public static class XccdfReport
{
    private const string Ns = "http://checklists.nist.gov/xccdf/1.2";
    private const string Vendor = "io.bulwark";
    private const string DublinCore = "http://purl.org/dc/elements/1.1/";

    /// <summary>The checking system: Bulwark's native evaluation of the catalog check named in the reference.</summary>
    private const string CheckSystem = "urn:io.bulwark:audit:native";
    public const string Platform = "cpe:/a:kubernetes:kubernetes";

    public static string Render(AuditReport report) => XmlText.Write(w =>
    {
        var benchmarkId = $"xccdf_{Vendor}_benchmark_{Id(string.Join("-", report.Benchmarks.Select(b => b.Id)))}";
        w.WriteStartElement("xccdf", "Benchmark", Ns);
        w.WriteAttributeString("id", benchmarkId);
        w.WriteAttributeString("resolved", "1");
        w.WriteAttributeString("xml", "lang", null, "en");
        w.WriteAttributeString("style", "SCAP_1.2");
        Element(w, "status", "accepted", ("date", report.Finished.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        Element(w, "title", "Bulwark audit: " + string.Join(" + ", report.Benchmarks.Select(b => $"{b.Title} {b.Version}")));
        Element(w, "description", $"Checks of a Bulwark Kubernetes node ({report.Node.Hostname}) evaluated natively by {report.Tool} {report.Version}.");
        w.WriteStartElement("platform", Ns);
        w.WriteAttributeString("idref", Platform);
        w.WriteEndElement();
        Element(w, "version", report.Version);
        w.WriteStartElement("metadata", Ns);
        w.WriteElementString("dc", "creator", DublinCore, $"{report.Tool} {report.Version}");
        w.WriteElementString("dc", "source", DublinCore, string.Join(", ", report.Benchmarks.Select(b => $"{b.Title} {b.Version}")));
        w.WriteEndElement();

        foreach (var benchmark in report.Benchmarks)
        {
            foreach (var section in benchmark.Sections)
            {
                w.WriteStartElement("Group", Ns);
                w.WriteAttributeString("id", $"xccdf_{Vendor}_group_{Id(benchmark.Id)}_{Id(section.Id)}");
                Element(w, "title", $"{benchmark.Title} {section.Id} {section.Text}");
                foreach (var check in section.Checks)
                {
                    WriteRule(w, benchmark, check);
                }
                w.WriteEndElement();
            }
        }

        w.WriteStartElement("TestResult", Ns);
        w.WriteAttributeString("id", $"xccdf_{Vendor}_testresult_{report.Finished.UtcDateTime.ToString("yyyyMMddTHHmmss", CultureInfo.InvariantCulture)}");
        w.WriteAttributeString("start-time", Time(report.Started));
        w.WriteAttributeString("end-time", Time(report.Finished));
        w.WriteAttributeString("version", report.Version);
        w.WriteAttributeString("test-system", $"cpe:/a:bulwark:bulwark:{report.Version}");
        // The Benchmark this result is of (the one around it), so viewers name its source.
        w.WriteStartElement("benchmark", Ns);
        w.WriteAttributeString("href", "#" + benchmarkId);
        w.WriteAttributeString("id", benchmarkId);
        w.WriteEndElement();
        Element(w, "title", $"Bulwark audit of {report.Node.Hostname}");
        Element(w, "identity", Environment.UserName, ("authenticated", "false"), ("privileged", Environment.UserName == "root" ? "true" : "false"));
        Element(w, "target", report.Node.Hostname);
        w.WriteStartElement("target-facts", Ns);
        Element(w, "fact", report.Node.Hostname, ("name", "urn:xccdf:fact:asset:identifier:host_name"), ("type", "string"));
        Element(w, "fact", report.Node.DataDir, ("name", "urn:xccdf:fact:bulwark:data_dir"), ("type", "string"));
        w.WriteEndElement();
        w.WriteStartElement("platform", Ns);
        w.WriteAttributeString("idref", Platform);
        w.WriteEndElement();
        foreach (var benchmark in report.Benchmarks)
        {
            foreach (var check in benchmark.Checks)
            {
                w.WriteStartElement("rule-result", Ns);
                w.WriteAttributeString("idref", RuleId(benchmark, check));
                w.WriteAttributeString("role", check.Scored ? "full" : "unscored");
                w.WriteAttributeString("time", Time(report.Finished));
                w.WriteAttributeString("severity", check.Severity);
                w.WriteAttributeString("weight", check.Scored ? "1.0" : "0.0");
                Element(w, "result", Result(check));
                foreach (var message in Messages(check))
                {
                    Element(w, "message", message.Text, ("severity", message.Severity));
                }
                WriteCheck(w, benchmark, check, withContent: false);
                w.WriteEndElement();
            }
        }
        var scored = report.Checks.Where(c => c.Scored && c.Status is CheckStatus.Pass or CheckStatus.Fail).ToList();
        var score = scored.Count == 0 ? 100.0 : 100.0 * scored.Count(c => c.Status == CheckStatus.Pass) / scored.Count;
        Element(w, "score", score.ToString("0.00", CultureInfo.InvariantCulture), ("system", "urn:xccdf:scoring:default"), ("maximum", "100"));
        w.WriteEndElement();
        w.WriteEndElement();
    });

    public static string Result(CheckResult check) => check.Status switch
    {
        CheckStatus.Pass => "pass",
        CheckStatus.Fail => "fail",
        CheckStatus.Warn => "informational",
        CheckStatus.Error => "error",
        CheckStatus.NotApplicable => "notapplicable",
        _ => "notchecked",
    };

    public static string RuleId(BenchmarkResult benchmark, CheckResult check) => $"xccdf_{Vendor}_rule_{Id(benchmark.Id)}_{Id(check.Id)}";

    private static void WriteRule(XmlWriter w, BenchmarkResult benchmark, CheckResult check)
    {
        w.WriteStartElement("Rule", Ns);
        w.WriteAttributeString("id", RuleId(benchmark, check));
        w.WriteAttributeString("selected", "true");
        w.WriteAttributeString("severity", check.Severity);
        w.WriteAttributeString("weight", check.Scored ? "1.0" : "0.0");
        Element(w, "title", $"{check.Id} {check.Title}");
        var description = new StringBuilder(check.Title);
        if (!check.Automated && check.Reason is not null)
        {
            description.Append(". Manual: ").Append(check.Reason);
        }
        Element(w, "description", description.ToString());
        foreach (var cis in (benchmark.Id.StartsWith("cis", StringComparison.Ordinal) ? [check.Id] : check.References.Cis))
        {
            Element(w, "ident", cis, ("system", "https://www.cisecurity.org/benchmark/kubernetes"));
        }
        foreach (var vid in check.References.Stig.Concat(check.Stig is null ? [] : [check.Id]).Distinct())
        {
            Element(w, "ident", vid, ("system", "http://cyber.mil/legacy"));
        }
        foreach (var cci in check.Stig?.Cci ?? [])
        {
            Element(w, "ident", cci, ("system", "http://cyber.mil/cci"));
        }
        if (check.Remediation.Length > 0)
        {
            Element(w, "fixtext", check.Remediation);
        }
        WriteCheck(w, benchmark, check, withContent: true);
        w.WriteEndElement();
    }

    private static void WriteCheck(XmlWriter w, BenchmarkResult benchmark, CheckResult check, bool withContent)
    {
        w.WriteStartElement("check", Ns);
        w.WriteAttributeString("system", CheckSystem);
        w.WriteStartElement("check-content-ref", Ns);
        w.WriteAttributeString("href", $"bulwark:{benchmark.Id}");
        w.WriteAttributeString("name", check.Id);
        w.WriteEndElement();
        if (withContent)
        {
            Element(w, "check-content", check.Automated || check.References.Cis.Count > 0
                ? $"Bulwark reads the evidence natively and evaluates: {check.Title}."
                : $"Manual: {check.Reason ?? check.Title}");
        }
        w.WriteEndElement();
    }

    /// <summary>
    /// Messages of a rule-result. Only a finding carries error or warning messages: on a passing rule the losing
    /// branch of an OR test is information, not an error.
    /// </summary>
    private static IEnumerable<(string Severity, string Text)> Messages(CheckResult check)
    {
        var finding = check.Status switch
        {
            CheckStatus.Fail or CheckStatus.Error => "error",
            CheckStatus.Warn => "warning",
            _ => "info",
        };
        if (check.Reason is not null)
        {
            yield return (finding, check.Reason);
        }
        foreach (var e in check.Evidence.Take(20))
        {
            yield return (e.Passed ? "info" : finding, $"{e.Subject} = {e.Actual} (expected {e.Expected}) in {e.Source}");
        }
    }

    private static void Element(XmlWriter w, string name, string text, params (string Name, string Value)[] attributes)
    {
        w.WriteStartElement(name, Ns);
        foreach (var (n, v) in attributes)
        {
            w.WriteAttributeString(n, v);
        }
        w.WriteString(text);
        w.WriteEndElement();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>XCCDF ids are NCNames: keep letters, digits, '.', '-'; anything else becomes '-'.</summary>
    private static string Id(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-').ToArray());
}
