using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests;

/// <summary>Runs the built-in CIS 1.23 and Kubernetes STIG catalogs in-process against a node Bulwark rendered on this host.</summary>
public static class AuditHarness
{
    public static NodePaths NodeOf(RenderedNode node) => new(HostRoot.Real, node.DataDir, node.EtcDir);

    public static Task<AuditReport> RunAsync(RenderedNode node, bool cis = true, bool stig = true)
    {
        var cisCatalog = CatalogLoader.LoadCis(EmbeddedData.BuiltIn, ComplianceAudit.Cis123);
        var catalogs = new List<Catalog>();
        if (cis)
        {
            catalogs.Add(cisCatalog);
        }
        if (stig)
        {
            catalogs.Add(CatalogLoader.LoadStigs(EmbeddedData.BuiltIn, cisCatalog.Settings).Single(s => s.Name == ComplianceAudit.Stig));
        }
        return AuditRunner.RunAsync(new AuditRequest(NodeOf(node), catalogs, AllowExec: false) { Referenced = cisCatalog }, TestContext.Current.CancellationToken);
    }

    /// <summary>"cis-1.23/1.2.1" → status, for comparing two runs.</summary>
    public static Dictionary<string, CheckStatus> Statuses(AuditReport report) =>
        report.Benchmarks.SelectMany(b => b.Checks.Select(c => (Key: $"{b.Id}/{c.Id}", c.Status))).ToDictionary(x => x.Key, x => x.Status);
}
