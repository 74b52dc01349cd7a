using System.Xml.Linq;
using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Reports;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Compliance;

/// <summary>The built-in catalogs agree with the published benchmarks (kube-bench's controls, DISA's STIG) and with each other.</summary>
public sealed class CatalogDataTests
{
    private static readonly Catalog Cis = CatalogLoader.LoadCis(EmbeddedData.BuiltIn, ComplianceAudit.Cis123);
    private static readonly Catalog Stig = CatalogLoader.LoadStigs(EmbeddedData.BuiltIn, Cis.Settings).Single(s => s.Name == ComplianceAudit.Stig);

    /// <summary>One check as kube-bench publishes it: its section (group id), whether it is scored, its type.</summary>
    private sealed record PublishedCheck(string Section, bool Scored, string Type);

    private static Dictionary<string, PublishedCheck> Published(string folder)
    {
        var checks = new Dictionary<string, PublishedCheck>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Fixture("kube-bench/" + folder), "*.yaml").Where(f => Path.GetFileName(f) != "config.yaml"))
        {
            var root = CatalogLoader.LoadYaml(File.ReadAllText(file), file)!;
            foreach (YamlMappingNode group in (YamlSequenceNode)root["groups"])
            {
                foreach (YamlMappingNode check in (YamlSequenceNode)group["checks"])
                {
                    string? Get(string key) => check.Children.TryGetValue(key, out var v) ? ((YamlScalarNode)v).Value : null;
                    checks.Add(Get("id")!, new PublishedCheck(((YamlScalarNode)group["id"]).Value!, Get("scored") == "true", Get("type") ?? ""));
                }
            }
        }
        return checks;
    }

    [Theory]
    [InlineData("cis-1.12", "cis-1.12")]
    [InlineData("cis-1.23", "cis-1.23")]
    [InlineData("cis-1.23", "rke2-cis-1.23")]
    public void Built_in_CIS_ids_and_sections_match_kube_benchs_published_controls(string builtIn, string published)
    {
        var ours = CatalogLoader.LoadCis(EmbeddedData.BuiltIn, builtIn);
        var theirs = Published(published);
        Assert.Equal(theirs.Keys.Order(StringComparer.Ordinal), ours.AllChecks.Select(c => c.Id).Order(StringComparer.Ordinal));
        foreach (var controls in ours.Controls)
        {
            Assert.Equal(builtIn, controls.Version);
            foreach (var group in controls.Groups)
            {
                Assert.All(group.Checks, c => Assert.True(theirs[c.Id].Section == group.Id, $"{builtIn} {c.Id} is in section {group.Id}; {published} has it in {theirs[c.Id].Section}"));
            }
        }
    }

    /// <summary>
    /// Ids that match are not enough: a check must mean what the benchmark's check of that id means. Where kube-bench's
    /// check tests something, every --flag Bulwark's check of the same id tests, and the word it compares against
    /// (AlwaysAdmit, NodeRestriction…), is named in kube-bench's check (its audit, tests, text or remediation).
    /// </summary>
    [Theory]
    [InlineData("cis-1.12")]
    [InlineData("cis-1.23")]
    public void Every_flag_a_built_in_CIS_check_tests_is_the_one_kube_benchs_check_of_that_id_tests(string benchmark)
    {
        var published = new Dictionary<string, (bool Tested, string Text)>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Fixture("kube-bench/" + benchmark), "*.yaml").Where(f => Path.GetFileName(f) != "config.yaml"))
        {
            var text = File.ReadAllText(file);
            foreach (var check in CatalogLoader.ParseControls(text, file, benchmark).Groups.SelectMany(g => g.Checks))
            {
                var source = string.Join("\n", check.Text, check.Audit, check.AuditConfig, check.Remediation,
                    string.Join("\n", check.Tests?.Items.Select(i => $"{i.Flag} {i.Path} {i.Compare?.Value}") ?? []));
                published[check.Id] = (check.Tests is not null, source);
            }
        }
        var checkedFlags = 0;
        var problems = new List<string>();
        foreach (var check in CatalogLoader.LoadCis(EmbeddedData.BuiltIn, benchmark).AllChecks.Where(c => published[c.Id].Tested))
        {
            foreach (var item in check.Tests?.Items.Where(i => i.Flag?.StartsWith("--", StringComparison.Ordinal) == true) ?? [])
            {
                checkedFlags++;
                var words = new List<string> { item.Flag![2..] };
                if (item.Compare?.Value is { } value && System.Text.RegularExpressions.Regex.IsMatch(value, "^[A-Za-z]{2,}$") && value is not ("true" or "false"))
                {
                    words.Add(value);
                }
                problems.AddRange(words.Where(w => !published[check.Id].Text.Contains(w, StringComparison.Ordinal))
                    .Select(w => $"{benchmark} {check.Id} ({check.Location}) tests {item.Flag} but kube-bench's {check.Id} never names '{w}'"));
            }
        }
        Assert.Empty(problems);
        Assert.True(checkedFlags > 60, $"only {checkedFlags} flags compared");
    }

    [Theory]
    [InlineData("cis-1.12")]
    [InlineData("cis-1.23")]
    public void Built_in_CIS_checks_are_scored_as_the_benchmark_scores_them_and_never_manual_where_it_is_automated_and_scored(string benchmark)
    {
        var theirs = Published(benchmark);
        Assert.All(CatalogLoader.LoadCis(EmbeddedData.BuiltIn, benchmark).AllChecks, c =>
        {
            Assert.True(theirs[c.Id].Scored == c.Scored, $"{benchmark} {c.Id}: scored {c.Scored}, the benchmark says {theirs[c.Id].Scored}");
            Assert.False(c.Type == CheckType.Manual && theirs[c.Id].Scored, $"{benchmark} {c.Id} is manual but the benchmark scores it");
        });
    }

    [Fact]
    public void The_default_CIS_benchmark_is_the_one_kube_bench_maps_Kubernetes_1_32_to()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepoPaths.Fixture("kube-bench/config.yaml"))));
        var mapping = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["version_mapping"];
        Assert.Equal(ComplianceAudit.DefaultCis, ((YamlScalarNode)mapping["1.32"]).Value);
        Assert.Contains(ComplianceAudit.DefaultCis, ComplianceAudit.DefaultBenchmarks);
    }

    [Theory]
    [InlineData("stig", "U_Kubernetes_STIG_V1R9_Manual-xccdf.xml")]
    [InlineData("rke2-stig", "U_RGS_RKE2_STIG_V1R5_Manual-xccdf.xml")]
    public void Every_rule_of_the_DISA_STIG_is_in_the_catalog_with_DISAs_ids_and_severity(string catalog, string file)
    {
        var stig = CatalogLoader.LoadStigs(EmbeddedData.BuiltIn, Cis.Settings).Single(s => s.Name == catalog);
        var xccdf = XDocument.Load(RepoPaths.Fixture("stig/" + file));
        Assert.Equal((string)xccdf.Root!.Attribute("id")!, stig.StigBenchmarkId);
        XNamespace ns = "http://checklists.nist.gov/xccdf/1.1";
        var disa = xccdf.Root!.Elements(ns + "Group").Select(g => (
            Vid: (string)g.Attribute("id")!,
            Rule: (string)g.Element(ns + "Rule")!.Attribute("id")!,
            Severity: (string)g.Element(ns + "Rule")!.Attribute("severity")!,
            StigId: (string)g.Element(ns + "Rule")!.Element(ns + "version")!)).ToList();
        var ours = stig.AllChecks.ToDictionary(c => c.Id);
        Assert.Equal(disa.Select(d => d.Vid).Order(), ours.Keys.Order());
        Assert.All(disa, d =>
        {
            var rule = ours[d.Vid];
            Assert.Equal((d.Rule, d.Severity, d.StigId), (rule.Stig!.RuleId, rule.Severity, rule.Stig.StigId));
            Assert.NotEmpty(rule.Stig.Cci);
        });
    }

    [Fact]
    public void A_DISA_STIG_file_picks_its_catalog_and_an_unsupported_STIG_is_refused_with_the_supported_list()
    {
        var rke2 = StigBenchmark.Load(RepoPaths.Fixture("stig/U_RGS_RKE2_STIG_V1R5_Manual-xccdf.xml"));
        Assert.Equal([ComplianceAudit.DefaultCis, ComplianceAudit.Rke2Stig], ComplianceAudit.SelectBenchmarks([], rke2, EmbeddedData.BuiltIn));
        var mismatch = Assert.Throws<CatalogException>(() => ComplianceAudit.SelectBenchmarks([ComplianceAudit.Stig], rke2, EmbeddedData.BuiltIn));
        Assert.Contains("RGS_RKE2_STIG", mismatch.Message, StringComparison.Ordinal);
        var other = rke2 with { Id = "Some_Other_STIG", Title = "Other STIG" };
        var refused = Assert.Throws<CatalogException>(() => ComplianceAudit.SelectBenchmarks([], other, EmbeddedData.BuiltIn));
        Assert.Contains("Supported STIGs: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Kubernetes_STIG (--benchmark stig)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("RGS_RKE2_STIG (--benchmark rke2-stig)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stig_rules_use_existing_CIS_checks_that_name_them_back()
    {
        var cis = Cis.AllChecks.ToDictionary(c => c.Id);
        foreach (var rule in Stig.AllChecks)
        {
            foreach (var id in rule.Uses)
            {
                Assert.True(cis.ContainsKey(id), $"{rule.Id} uses unknown CIS check {id}");
                Assert.Contains(rule.Id, cis[id].References.Stig);
            }
        }
        var vids = Stig.AllChecks.Select(c => c.Id).ToHashSet();
        Assert.All(Cis.AllChecks.SelectMany(c => c.References.Stig), v => Assert.Contains(v, vids));
    }

    [Fact]
    public void Every_check_has_a_title_and_a_remediation_and_every_manual_check_a_reason()
    {
        Assert.Equal(125, Cis.AllChecks.Count());
        Assert.All(Cis.AllChecks.Concat(Stig.AllChecks), c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Text), c.Id);
            Assert.True(c.Uses.Count > 0 || c.Remediation.Length > 0, $"{c.Id} has no remediation");
            if (c.Type == CheckType.Manual)
            {
                Assert.False(string.IsNullOrWhiteSpace(c.Reason), $"{c.Id} is manual without a reason");
            }
        });
        Assert.Equal(["1", "2", "3", "4", "5"], Cis.Controls.Select(c => c.Id));
    }
}
