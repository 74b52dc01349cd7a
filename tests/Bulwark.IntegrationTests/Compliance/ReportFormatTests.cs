using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Bulwark.Compliance;
using Bulwark.Compliance.Reports;
using Json.Schema;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The machine-readable reports are well-formed and say what the audit found: one audit of the node Bulwark
/// renders (real PKI, renderer and etcd member) with one tampering, shared by the class.
/// </summary>
public sealed class ReportFormatTests(ReportFormatTests.TamperedNodeReport tampered) : IClassFixture<ReportFormatTests.TamperedNodeReport>
{
    /// <summary>The audit of a rendered node whose kube-apiserver manifest turns anonymous auth on.</summary>
    public sealed class TamperedNodeReport : IAsyncLifetime
    {
        public AuditReport Report { get; private set; } = null!;

        public string Manifest { get; private set; } = "";

        public async ValueTask InitializeAsync()
        {
            await using var node = await RenderedNode.CreateAsync(startEtcd: true);
            node.Replace("agent/pod-manifests/kube-apiserver.yaml", "--anonymous-auth=false", "--anonymous-auth=true");
            Manifest = node.Data("agent/pod-manifests/kube-apiserver.yaml");
            Report = await AuditHarness.RunAsync(node);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private Task<AuditReport> TamperedReportAsync() => Task.FromResult(tampered.Report);

    private static readonly Lazy<JsonSchema> ReportSchema = new(() => JsonSchema.FromFile(Path.Combine(RepoPaths.Root, "docs", "audit-report.schema.json")));

    /// <summary>The instance locations JsonSchema.Net reports as failing (empty when valid).</summary>
    private static List<string> SchemaErrors(string json)
    {
        var result = ReportSchema.Value.Evaluate(JsonNode.Parse(json), new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid ? [] : [.. (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))];
    }

    [Fact]
    public async Task Json_report_satisfies_its_published_schema()
    {
        var report = await TamperedReportAsync();
        var text = JsonReport.Render(report);
        using var json = JsonDocument.Parse(text);
        Assert.Empty(SchemaErrors(text));
        Assert.Equal(report.Totals.Total, json.RootElement.GetProperty("totals").GetProperty("total").GetInt32());
        var failed = json.RootElement.GetProperty("benchmarks")[0].GetProperty("sections").EnumerateArray()
            .SelectMany(s => s.GetProperty("checks").EnumerateArray()).Single(c => c.GetProperty("id").GetString() == "1.2.1");
        Assert.Equal("WARN", failed.GetProperty("status").GetString());
        Assert.Equal("1.2.1", failed.GetProperty("id").GetString());
        Assert.Equal("true", failed.GetProperty("evidence")[0].GetProperty("actual").GetString());
    }

    [Fact]
    public void The_schema_validator_used_here_rejects_a_report_missing_a_required_field()
    {
        var errors = SchemaErrors("""{"schemaVersion":"1","tool":{"name":"bulwark"},"totals":{},"benchmarks":[{"id":"x","sections":[{"checks":[{"status":"MAYBE"}]}]}]}""");
        Assert.Contains(errors, e => e.StartsWith("/tool: ", StringComparison.Ordinal) && e.Contains("version", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith(": ", StringComparison.Ordinal) && e.Contains("node", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("/benchmarks/0/sections/0/checks/0/status: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sarif_report_is_2_1_0_with_a_rule_and_a_result_of_the_right_kind_per_check()
    {
        var report = await TamperedReportAsync();
        using var sarif = JsonDocument.Parse(SarifReport.Render(report));
        Assert.Equal("2.1.0", sarif.RootElement.GetProperty("version").GetString());
        var run = sarif.RootElement.GetProperty("runs")[0];
        var rules = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().ToList();
        var results = run.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(report.Totals.Total, results.Count);
        Assert.Equal(results.Count, rules.Count);
        Assert.All(results, r =>
        {
            Assert.Contains(r.GetProperty("kind").GetString(), new[] { "pass", "fail", "review", "notApplicable", "open" });
            Assert.Equal(r.GetProperty("ruleId").GetString(), rules[r.GetProperty("ruleIndex").GetInt32()].GetProperty("id").GetString());
            Assert.Contains(r.GetProperty("level").GetString(), r.GetProperty("kind").GetString() == "fail" ? new[] { "error", "warning" } : ["none"]);
        });
        List<string> Kind(string level) => [.. results.Where(r => r.GetProperty("kind").GetString() == "fail" && r.GetProperty("level").GetString() == level)
            .Select(r => r.GetProperty("ruleId").GetString()!).Order(StringComparer.Ordinal)];
        // Scored failures are errors, unscored ones warnings: CIS 1.23 scores 1.2.1 as manual, the STIG rule is a finding.
        List<string> Ids(CheckStatus status) => [.. report.Benchmarks.SelectMany(b => b.Checks.Where(c => c.Status == status).Select(c => $"{b.Id}/{c.Id}")).Order(StringComparer.Ordinal)];
        Assert.Equal(Ids(CheckStatus.Fail), Kind("error"));
        Assert.Equal(Ids(CheckStatus.Warn), Kind("warning"));
        Assert.Contains("stig/V-242390", Kind("error"));
        Assert.Contains("cis-1.23/1.2.1", Kind("warning"));
        var stigRule = rules.Single(r => r.GetProperty("id").GetString() == "stig/V-242390");
        var tags = stigRule.GetProperty("properties").GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains("CIS-1.2.1", tags);
        Assert.Contains("CNTR-K8-000360", tags);
        Assert.Equal("high", stigRule.GetProperty("properties").GetProperty("severity").GetString());
        Assert.StartsWith("file://" + tampered.Manifest,
            results.Single(r => r.GetProperty("ruleId").GetString() == "cis-1.23/1.2.1").GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Junit_report_has_one_testcase_per_check_and_the_failures_counted()
    {
        var report = await TamperedReportAsync();
        var xml = XDocument.Parse(JunitReport.Render(report));
        var root = xml.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        Assert.Equal(report.Totals.Total, root.Descendants("testcase").Count());
        // The scored STIG finding and the unscored CIS warning are both failures, told apart by their type.
        Assert.Equal((report.Totals.Fail + report.Totals.Warn).ToString(System.Globalization.CultureInfo.InvariantCulture), root.Attribute("failures")!.Value);
        var failures = root.Descendants("failure").ToList();
        Assert.Equal(report.Totals.Fail, failures.Count(f => f.Attribute("type")!.Value == "FAIL"));
        Assert.Equal(report.Totals.Warn, failures.Count(f => f.Attribute("type")!.Value == "WARN"));
        var anonymous = failures.Single(f => f.Parent!.Attribute("name")!.Value.StartsWith("1.2.1 ", StringComparison.Ordinal));
        Assert.Equal("WARN", anonymous.Attribute("type")!.Value);
        Assert.Contains("--anonymous-auth = true (expected = false)", anonymous.Value, StringComparison.Ordinal);
        Assert.Equal(report.Totals.Manual + report.Totals.NotApplicable + report.Totals.Skip, root.Descendants("skipped").Count());
        Assert.Null(root.Attribute("skipped"));
    }

    [Fact]
    public async Task Checklist_takes_titles_and_texts_from_the_DISA_benchmark_when_given()
    {
        var report = await TamperedReportAsync();
        var disa = StigBenchmark.Load(RepoPaths.Fixture("stig/U_Kubernetes_STIG_V1R9_Manual-xccdf.xml"));
        var ckl = XDocument.Parse(CklReport.Render(report, disa));
        var vulns = ckl.Root!.Element("STIGS")!.Element("iSTIG")!.Elements("VULN").ToList();
        Assert.Equal(95, vulns.Count);
        var v = vulns.Single(x => Data(x, "Vuln_Num") == "V-242390");
        Assert.Equal("Open", v.Element("STATUS")!.Value);
        Assert.Equal("The Kubernetes API server must have anonymous authentication disabled.", Data(v, "Rule_Title"));
        Assert.Equal("SV-242390r879530_rule", Data(v, "Rule_ID"));
        Assert.Equal("high", Data(v, "Severity"));
        Assert.StartsWith("Change to the /etc/kubernetes/manifests directory", Data(v, "Check_Content"), StringComparison.Ordinal);
        Assert.Contains("[finding] --anonymous-auth = true (expected = false); read from static pod manifest " + tampered.Manifest,
            v.Element("FINDING_DETAILS")!.Value, StringComparison.Ordinal);
        Assert.Equal("Release: 9 Benchmark Date: 27 Apr 2023", Info(ckl, "releaseinfo"));
        Assert.Equal("NotAFinding", vulns.Single(x => Data(x, "Vuln_Num") == "V-242391").Element("STATUS")!.Value);
        Assert.Equal("Not_Reviewed", vulns.Single(x => Data(x, "Vuln_Num") == "V-242395").Element("STATUS")!.Value);
        Assert.Equal("Not_Applicable", vulns.Single(x => Data(x, "Vuln_Num") == "V-242454").Element("STATUS")!.Value);
    }

    [Fact]
    public async Task Checklist_uses_Bulwarks_own_titles_without_a_DISA_benchmark()
    {
        var report = await TamperedReportAsync();
        var ckl = XDocument.Parse(CklReport.Render(report, null));
        var v = ckl.Descendants("VULN").Single(x => Data(x, "Vuln_Num") == "V-242390");
        Assert.Equal("API server refuses anonymous requests", Data(v, "Rule_Title"));
        Assert.Equal("SV-242390r879530_rule", Data(v, "Rule_ID"));
        Assert.Equal("CNTR-K8-000360", Data(v, "Rule_Ver"));
        Assert.Equal(["CCI-000213"], v.Elements("STIG_DATA").Where(d => d.Element("VULN_ATTRIBUTE")!.Value == "CCI_REF").Select(d => d.Element("ATTRIBUTE_DATA")!.Value).Order());
    }

    [Fact]
    public async Task Json_checklist_cklb_has_every_STIG_rule_with_its_status_and_DISA_texts()
    {
        var report = await TamperedReportAsync();
        var disa = StigBenchmark.Load(RepoPaths.Fixture("stig/U_Kubernetes_STIG_V1R9_Manual-xccdf.xml"));
        using var cklb = JsonDocument.Parse(CklbReport.Render(report, disa));
        var stig = cklb.RootElement.GetProperty("stigs")[0];
        Assert.Equal("Release: 9 Benchmark Date: 27 Apr 2023", stig.GetProperty("release_info").GetString());
        var rules = stig.GetProperty("rules").EnumerateArray().ToList();
        Assert.Equal(95, rules.Count);
        Assert.Equal(95, stig.GetProperty("size").GetInt32());
        var v = rules.Single(r => r.GetProperty("group_id").GetString() == "V-242390");
        Assert.Equal("open", v.GetProperty("status").GetString());
        Assert.Equal("The Kubernetes API server must have anonymous authentication disabled.", v.GetProperty("rule_title").GetString());
        Assert.Contains("[finding] --anonymous-auth = true", v.GetProperty("finding_details").GetString(), StringComparison.Ordinal);
        Assert.Equal(["not_a_finding", "not_applicable", "not_reviewed", "open"], rules.Select(r => r.GetProperty("status").GetString()).Distinct().Order());
        Assert.Equal(rules.Count, rules.Select(r => r.GetProperty("uuid").GetString()).Distinct().Count());
    }

    [Fact]
    public void A_file_that_is_not_a_STIG_benchmark_is_refused_clearly()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("x.xml", "<html/>");
        var e = Assert.Throws<InvalidDataException>(() => StigBenchmark.Load(file));
        Assert.Contains("not an XCCDF Benchmark", e.Message, StringComparison.Ordinal);
        var dtd = dir.Write("dtd.xml", "<!DOCTYPE x [<!ENTITY a \"b\">]><Benchmark xmlns=\"http://checklists.nist.gov/xccdf/1.1\">&a;</Benchmark>");
        Assert.Throws<InvalidDataException>(() => StigBenchmark.Load(dtd));
    }

    [Fact]
    public async Task Text_report_is_coloured_for_a_terminal_and_plain_when_piped()
    {
        var report = await TamperedReportAsync();
        var plain = TextReport.Render(report, color: false);
        var colour = TextReport.Render(report, color: true);
        Assert.DoesNotContain('\u001b', plain);
        Assert.Contains("\u001b[1;31mFAIL", colour, StringComparison.Ordinal);
        Assert.Contains("WARN    1.2.1   API server refuses anonymous requests", plain, StringComparison.Ordinal);
        Assert.Contains("found --anonymous-auth = true, expected = false", plain, StringComparison.Ordinal);
        Assert.Contains($"Summary: {report.Totals.Total} checks: {report.Totals.Pass} pass, {report.Totals.Fail} fail", plain, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_report_is_self_contained()
    {
        var html = HtmlReport.Render(await TamperedReportAsync());
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("data-status=\"FAIL\" data-severity=\"high\" open>", html, StringComparison.Ordinal);
    }

    private static string Data(XElement vuln, string attribute) =>
        vuln.Elements("STIG_DATA").First(d => d.Element("VULN_ATTRIBUTE")!.Value == attribute).Element("ATTRIBUTE_DATA")!.Value;

    private static string Info(XDocument ckl, string name) =>
        ckl.Descendants("SI_DATA").First(d => d.Element("SID_NAME")!.Value == name).Element("SID_DATA")!.Value;
}
