using System.Xml.Linq;
using Bulwark.Compliance.Catalog;
using Bulwark.Resources;

namespace Bulwark.Tests.Compliance;

/// <summary>The built-in catalogs agree with DISA's published STIG and with each other.</summary>
public sealed class CatalogDataTests
{
    private static readonly Catalog Cis = CatalogLoader.LoadCis(EmbeddedData.BuiltIn);
    private static readonly Catalog Stig = CatalogLoader.LoadStig(EmbeddedData.BuiltIn, Cis.Settings);

    [Fact]
    public void Every_rule_of_the_DISA_STIG_is_in_the_catalog_with_DISAs_ids_and_severity()
    {
        var xccdf = XDocument.Load(RepoPaths.Fixture("stig/U_Kubernetes_STIG_V1R9_Manual-xccdf.xml"));
        XNamespace ns = "http://checklists.nist.gov/xccdf/1.1";
        var disa = xccdf.Root!.Elements(ns + "Group").Select(g => (
            Vid: (string)g.Attribute("id")!,
            Rule: (string)g.Element(ns + "Rule")!.Attribute("id")!,
            Severity: (string)g.Element(ns + "Rule")!.Attribute("severity")!,
            StigId: (string)g.Element(ns + "Rule")!.Element(ns + "version")!)).ToList();
        var ours = Stig.AllChecks.ToDictionary(c => c.Id);
        Assert.Equal(disa.Select(d => d.Vid).Order(), ours.Keys.Order());
        Assert.All(disa, d =>
        {
            var rule = ours[d.Vid];
            Assert.Equal((d.Rule, d.Severity, d.StigId), (rule.Stig!.RuleId, rule.Severity, rule.Stig.StigId));
            Assert.NotEmpty(rule.Stig.Cci);
        });
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
        Assert.Equal(124, Cis.AllChecks.Count());
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
