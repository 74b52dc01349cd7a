using System.Globalization;
using System.Xml;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// A DISA STIG Viewer checklist (.ckl): CHECKLIST/ASSET/STIGS/iSTIG with STIG_INFO and a VULN per STIG rule,
/// its STATUS (NotAFinding, Open, Not_Applicable, Not_Reviewed) and FINDING_DETAILS with Bulwark's evidence.
/// Rule texts come from the DISA benchmark file when given, else from Bulwark's own short titles.
/// </summary>
public static class CklReport
{
    public static string Render(AuditReport report, StigBenchmark? disa)
    {
        var stig = report.Stig
            ?? throw new InvalidOperationException("a checklist needs STIG results: run the audit with --benchmark stig or rke2-stig");
        var stigId = disa?.Id ?? stig.StigBenchmarkId!;
        return XmlText.Write(w =>
        {
            w.WriteStartElement("CHECKLIST");
            w.WriteStartElement("ASSET");
            Text(w, "ROLE", "None");
            Text(w, "ASSET_TYPE", "Computing");
            Text(w, "MARKING", "CUI");
            Text(w, "HOST_NAME", report.Node.Hostname);
            Text(w, "HOST_IP", "");
            Text(w, "HOST_MAC", "");
            Text(w, "HOST_FQDN", report.Node.Hostname);
            Text(w, "TARGET_COMMENT", $"Audited by {report.Tool} {report.Version} on {report.Finished:yyyy-MM-dd HH:mm} UTC (data dir {report.Node.DataDir})");
            Text(w, "TECH_AREA", "");
            Text(w, "TARGET_KEY", "");
            Text(w, "WEB_OR_DATABASE", "false");
            Text(w, "WEB_DB_SITE", "");
            Text(w, "WEB_DB_INSTANCE", "");
            w.WriteEndElement();
            w.WriteStartElement("STIGS");
            w.WriteStartElement("iSTIG");
            w.WriteStartElement("STIG_INFO");
            Info(w, "version", disa?.Version ?? "1");
            Info(w, "classification", "UNCLASSIFIED");
            Info(w, "customname", "");
            Info(w, "stigid", stigId);
            Info(w, "description", "");
            Info(w, "filename", disa?.FileName ?? $"bulwark built-in catalog {stig.Id}");
            Info(w, "releaseinfo", disa?.ReleaseInfo ?? $"Bulwark catalog {stig.Version}");
            Info(w, "title", disa?.Title ?? stig.Title);
            Info(w, "uuid", DeterministicUuid(stigId, stig.Version));
            Info(w, "notice", "terms-of-use");
            Info(w, "source", "STIG.DOD.MIL");
            w.WriteEndElement();
            foreach (var check in stig.Checks)
            {
                WriteVuln(w, check, disa?.Rules.GetValueOrDefault(check.Id), stigId, stig.Version);
            }
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
        }, "DISA STIG Viewer :: 2.17");
    }

    public static string Status(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "NotAFinding",
        CheckStatus.Fail or CheckStatus.Warn => "Open",
        CheckStatus.NotApplicable => "Not_Applicable",
        _ => "Not_Reviewed",
    };

    private static void WriteVuln(XmlWriter w, CheckResult check, StigRuleText? official, string stigId, string version)
    {
        w.WriteStartElement("VULN");
        Data(w, "Vuln_Num", check.Id);
        Data(w, "Severity", official?.Severity ?? check.Severity);
        Data(w, "Group_Title", official?.GroupTitle ?? "");
        Data(w, "Rule_ID", official?.RuleId ?? check.Stig?.RuleId ?? "");
        Data(w, "Rule_Ver", official?.StigId ?? check.Stig?.StigId ?? "");
        Data(w, "Rule_Title", official?.Title ?? check.Title);
        Data(w, "Vuln_Discuss", official?.Discussion ?? "");
        Data(w, "IA_Controls", "");
        Data(w, "Check_Content", official?.CheckContent ?? OwnCheckText(check));
        Data(w, "Fix_Text", official?.FixText ?? check.Remediation);
        Data(w, "False_Positives", "");
        Data(w, "False_Negatives", "");
        Data(w, "Documentable", "false");
        Data(w, "Mitigations", "");
        Data(w, "Potential_Impact", "");
        Data(w, "Third_Party_Tools", "");
        Data(w, "Mitigation_Control", "");
        Data(w, "Responsibility", "");
        Data(w, "Security_Override_Guidance", "");
        Data(w, "Check_Content_Ref", official?.CheckContentRef ?? "M");
        Data(w, "Weight", official?.Weight ?? "10.0");
        Data(w, "Class", "Unclass");
        Data(w, "STIGRef", $"Kubernetes Security Technical Implementation Guide :: Version {version}");
        Data(w, "TargetKey", "");
        Data(w, "STIG_UUID", DeterministicUuid(stigId, version));
        Data(w, "LEGACY_ID", "");
        Data(w, "LEGACY_ID", "");
        foreach (var cci in official?.Cci ?? check.Stig?.Cci ?? [])
        {
            Data(w, "CCI_REF", cci);
        }
        Text(w, "STATUS", Status(check.Status));
        Text(w, "FINDING_DETAILS", FindingDetails(check));
        Text(w, "COMMENTS", check.References.Cis.Count > 0 ? $"Evaluated through CIS Kubernetes Benchmark 1.23 check(s) {string.Join(", ", check.References.Cis)}." : "");
        Text(w, "SEVERITY_OVERRIDE", "");
        Text(w, "SEVERITY_JUSTIFICATION", "");
        w.WriteEndElement();
    }

    internal static string OwnCheckText(CheckResult check) =>
        check.Automated || check.References.Cis.Count > 0
            ? $"Bulwark checks this automatically: {check.Title}."
            : check.Reason ?? check.Title;

    internal static string FindingDetails(CheckResult check)
    {
        var lines = new List<string> { $"Bulwark audit result: {check.Status.Label()}" };
        if (check.Reason is not null)
        {
            lines.Add(check.Reason);
        }
        lines.AddRange(check.Evidence.Select(e => $"{(e.Passed ? "[ok]" : "[finding]")} {e.Subject} = {e.Actual} (expected {e.Expected}); read from {e.Source}"));
        return string.Join('\n', lines);
    }

    private static void Data(XmlWriter w, string attribute, string value)
    {
        w.WriteStartElement("STIG_DATA");
        Text(w, "VULN_ATTRIBUTE", attribute);
        Text(w, "ATTRIBUTE_DATA", value);
        w.WriteEndElement();
    }

    private static void Info(XmlWriter w, string name, string value)
    {
        w.WriteStartElement("SI_DATA");
        Text(w, "SID_NAME", name);
        if (value.Length > 0)
        {
            Text(w, "SID_DATA", value);
        }
        w.WriteEndElement();
    }

    private static void Text(XmlWriter w, string name, string value)
    {
        w.WriteStartElement(name);
        w.WriteString(value);
        w.WriteEndElement();
    }

    /// <summary>A stable UUID for a STIG release, so two checklists of the same release merge in STIG Viewer.</summary>
    internal static string DeterministicUuid(string id, string version)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{id}|{version}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D", CultureInfo.InvariantCulture);
    }
}
