using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// kube-bench's published cfg/ folders (../shared/fixtures/kube-bench, unchanged) load and run: comment-only
/// config.yaml, go-yaml's multi-line double-quoted scalars, and kube-bench's config-dir layout.
/// </summary>
public sealed class PublishedKubeBenchCatalogTests
{
    private static readonly CatalogSettings BulwarkLayout = CatalogLoader.LoadCis(EmbeddedData.BuiltIn, ComplianceAudit.Cis123).Settings;

    [Theory]
    [InlineData("cis-1.12", 131)]
    [InlineData("cis-1.23", 125)]
    [InlineData("rke2-cis-1.23", 125)]
    public async Task Every_published_folder_loads_every_check_and_runs_without_an_unevaluable_one(string folder, int checks)
    {
        var catalog = CatalogLoader.LoadDirectory(RepoPaths.Fixture("kube-bench/" + folder), BulwarkLayout);
        Assert.Equal(folder, catalog.Name);
        Assert.Equal(checks, catalog.AllChecks.Count());
        Assert.Empty(catalog.AllChecks.Where(c => c.Invalid is not null).Select(c => $"{c.Id}: {c.Invalid}"));
        Assert.Equal(checks, catalog.AllChecks.Select(c => c.Id).Distinct().Count());

        var node = new NodePaths(HostRoot.Real, "/var/lib/bulwark", "/etc/bulwark");
        var report = await AuditRunner.RunAsync(new AuditRequest(node, [catalog], AllowExec: false), TestContext.Current.CancellationToken);
        Assert.Equal(checks, report.Totals.Total);
        Assert.Empty(report.Checks.Where(c => c.Status == CheckStatus.Error).Select(c => $"{c.Id}: {c.Reason}"));
    }

    [Fact]
    public void A_kube_bench_config_dir_gives_the_benchmark_its_version_mapping_names_for_the_Kubernetes_version_bulwark_runs()
    {
        var catalog = CatalogLoader.LoadDirectory(RepoPaths.Fixture("kube-bench"), BulwarkLayout);
        Assert.Equal(ComplianceAudit.DefaultCis, catalog.Name);
        Assert.Equal(131, catalog.AllChecks.Count());
    }

    [Fact]
    public void A_config_dir_without_the_mapped_folder_is_refused_with_the_folders_it_has()
    {
        using var dir = new TempDirectory("bulwark-kb-cfg");
        dir.Write("config.yaml", "version_mapping:\n  \"1.32\": \"cis-9.9\"\n");
        dir.Write("cis-1.0/master.yaml", "groups: []\n");
        var e = Assert.Throws<CatalogException>(() => CatalogLoader.LoadDirectory(dir.Path, CatalogSettings.Empty));
        Assert.Contains("maps Kubernetes 1.32 to cis-9.9", e.Message, StringComparison.Ordinal);
        Assert.Contains("Folders here: cis-1.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_comment_only_config_and_a_multi_line_double_quoted_scalar_load_as_go_yaml_reads_them()
    {
        using var dir = new TempDirectory("bulwark-kb-goyaml");
        dir.Write("x/config.yaml", "---\n## Version-specific settings that override the values in cfg/config.yaml\n");
        dir.Write("x/etcd.yaml", "groups:\n  - id: 2\n    checks:\n      - id: 2.1\n        text: \"a\"\n        type: manual\n        remediation: \"first line\n  continued less indented\"\n");
        var check = Assert.Single(CatalogLoader.LoadDirectory(dir.Combine("x"), CatalogSettings.Empty).AllChecks);
        Assert.Equal("first line continued less indented", check.Remediation);
    }
}
