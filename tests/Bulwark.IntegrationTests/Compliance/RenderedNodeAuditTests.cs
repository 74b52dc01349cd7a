using Bulwark.Compliance;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;
using Bulwark.Resources;
using Bulwark.Tests.Hardening;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The audit against what Bulwark itself produces, not a hand-written fixture: the real PKI and the real
/// control-plane renderer under --profile cis-1.23, on this host (real /proc/sys, real etcd account).
/// Kernel parameters are hardened for the test and restored after it, so it shares the real-host collection.
/// </summary>
[Collection(RealHostCollection.Name)]
public sealed class RenderedNodeAuditTests : IAsyncDisposable
{
    private readonly SavedKernelParameters _saved = new();
    private RenderedNode? _node;

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        _saved.Dispose();
    }

    private async Task<RenderedNode> RenderNodeAsync()
    {
        SavedKernelParameters.Harden();
        _node = await RenderedNode.CreateAsync(startEtcd: true, cancellationToken: TestContext.Current.CancellationToken);
        return _node;
    }

    private static Task<AuditReport> AuditAsync(RenderedNode node) =>
        ComplianceAudit.RunAsync(new AuditSettings(new NodePaths(HostRoot.Real, node.DataDir, node.EtcDir), ComplianceAudit.BuiltInBenchmarks),
            EmbeddedData.BuiltIn, TestContext.Current.CancellationToken);

    private static string Describe(IEnumerable<CheckResult> checks) =>
        string.Join("\n", checks.Select(c => $"{c.Id} {c.Status}: {c.Title} :: {string.Join("; ", c.Evidence.Where(e => !e.Passed).Select(e => $"{e.Subject}={e.Actual} (want {e.Expected}) @ {e.Source}"))}"));

    [Fact]
    public async Task Every_automated_cis_check_passes_on_the_node_bulwark_renders_under_cis()
    {
        var report = await AuditAsync(await RenderNodeAsync());

        foreach (var cis in report.Benchmarks.Where(b => ComplianceAudit.CisBenchmarks.Contains(b.Id)))
        {
            AssertAutomatedChecksPass(cis);
        }
        foreach (var stig in report.Benchmarks.Where(b => ComplianceAudit.StigBenchmarks.Contains(b.Id)))
        {
            var stigFailures = stig.Checks.Where(c => c.Status == CheckStatus.Fail).ToList();
            Assert.True(stigFailures.Count == 0, $"{stig.Id} rules that fail on the rendered node:\n" + Describe(stigFailures));
        }
    }

    private static void AssertAutomatedChecksPass(BenchmarkResult cis)
    {
        // Scored automated checks must pass; unscored ones (e.g. 1.2.11 AlwaysPullImages, left off for air-gapped
        // nodes that preload images) may warn, but never fail.
        var notPassing = cis.Checks.Where(c => c.Automated && (c.Scored
            ? c.Status is not (CheckStatus.Pass or CheckStatus.NotApplicable)
            : c.Status == CheckStatus.Fail)).ToList();
        Assert.True(notPassing.Count == 0, $"automated {cis.Id} checks that do not pass on the rendered node:\n" + Describe(notPassing));
        Assert.True(cis.Totals.Pass >= 90, $"only {cis.Totals.Pass} CIS checks passed");
        // etcd really runs with the flags the server gave it: its TLS settings are read from the running process.
        Assert.Matches(@"^running process \d+ ", cis.Checks.Single(c => c.Id == "2.1").Evidence.First().Source);
    }

    [Fact]
    public async Task Tampering_with_the_rendered_node_flips_exactly_the_right_checks()
    {
        var node = await RenderNodeAsync();
        var before = AuditHarness.Statuses(await AuditAsync(node));

        node.Replace("agent/pod-manifests/kube-apiserver.yaml", "--anonymous-auth=false", "--anonymous-auth=true");
        File.SetUnixFileMode(node.Data("server/tls/server-ca.key"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var after = AuditHarness.Statuses(await AuditAsync(node));
        var flipped = after.Where(kv => kv.Value != before[kv.Key]).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        // CIS scores 1.1.21 and 1.2.1 as manual (a failure is a WARN); the STIG rules built on them are findings.
        Assert.Equal(["cis-1.12/1.1.21", "cis-1.12/1.2.1", "cis-1.23/1.1.21", "cis-1.23/1.2.1", "rke2-stig/V-254562", "stig/V-242390", "stig/V-242467"], flipped);
        Assert.All(flipped, id => Assert.Equal(id.Contains("stig", StringComparison.Ordinal) ? CheckStatus.Fail : CheckStatus.Warn, after[id]));
    }
}
