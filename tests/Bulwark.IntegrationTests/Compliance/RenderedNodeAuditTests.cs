using Bulwark.Compliance;
using Bulwark.Compliance.Evidence;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Hardening;
using Bulwark.Pki;
using Bulwark.Resources;
using Bulwark.Tests.Hardening;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The audit against what Bulwark itself produces, not a hand-written fixture: the real PKI and the real
/// control-plane renderer under --profile cis-1.23, on this host (real /proc/sys, real etcd account).
/// Kernel parameters are hardened for the test and restored after it, so it shares the real-host collection.
/// </summary>
[Collection(RealHostCollection.Name)]
public sealed class RenderedNodeAuditTests : IDisposable
{
    private readonly SavedKernelParameters _saved = new();
    private readonly TempDirectory _dir = new("bulwark-rendered");

    public void Dispose()
    {
        _etcd?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _saved.Dispose();
        _dir.Dispose();
    }

    private async Task<(EffectiveConfig Config, string EtcDir)> RenderNodeAsync(string extraYaml = "")
    {
        SavedKernelParameters.Harden();
        // Like /var/lib on a host: the etcd account may pass through the folder above the data dir.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("711", 8));
        var ports = FreePorts.Take(3);
        var configFile = _dir.Write("etc/config.yaml", $"data-dir: {_dir.Combine("data")}\nprofile: cis-1.23\nnode-ip: 127.0.0.1\nsingle-host-demo: true\n" +
            $"etcd-client-port: {ports[0]}\netcd-peer-port: {ports[1]}\netcd-metrics-port: {ports[2]}\n{extraYaml}");
        // The operator's config file, 0600 as the RKE2 STIG (V-254564) requires of it.
        File.SetUnixFileMode(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var load = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, configFile, new Dictionary<string, string>(), []));
        var config = load.Config ?? throw new InvalidOperationException(string.Join("\n", load.Errors));
        var crypto = CryptoStartup.Start(config).Service;
        new ServerPki(crypto).Ensure(config);
        var etcDir = ControlPlaneRenderer.EtcDirectory(config);
        await new ControlPlaneRenderer().RenderAsync(config, etcDir, TestContext.Current.CancellationToken);
        // etcd as the server runs it: its config file, its data dir owned by etcd under CIS, and a real running member
        // whose /proc/<pid>/cmdline the audit reads.
        var node = EtcdNode.FromConfig(config);
        _etcd = new EtcdMember(node.Prepare(node.SingleMemberConfig()), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await _etcd.StartAsync(TestContext.Current.CancellationToken);
        return (config, etcDir);
    }

    private EtcdMember? _etcd;

    private static Task<AuditReport> AuditAsync(EffectiveConfig config, string etcDir) =>
        ComplianceAudit.RunAsync(new AuditSettings(new NodePaths(HostRoot.Real, config.DataDir, etcDir), ComplianceAudit.BuiltInBenchmarks),
            EmbeddedData.BuiltIn, TestContext.Current.CancellationToken);

    private static string Describe(IEnumerable<CheckResult> checks) =>
        string.Join("\n", checks.Select(c => $"{c.Id} {c.Status}: {c.Title} :: {string.Join("; ", c.Evidence.Where(e => !e.Passed).Select(e => $"{e.Subject}={e.Actual} (want {e.Expected}) @ {e.Source}"))}"));

    [Fact]
    public async Task Every_automated_cis_check_passes_on_the_node_bulwark_renders_under_cis()
    {
        var (config, etcDir) = await RenderNodeAsync();
        var report = await AuditAsync(config, etcDir);

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
        // etcd really runs with --config-file: its TLS settings are read from that file, which the server wrote.
        Assert.Contains("server/db/etcd/config", cis.Checks.Single(c => c.Id == "2.1").Evidence.First().Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tampering_with_the_rendered_node_flips_exactly_the_right_checks()
    {
        var (config, etcDir) = await RenderNodeAsync();
        var before = AuditHarness.Statuses(await AuditAsync(config, etcDir));

        var manifest = Path.Combine(config.DataDir, "agent", "pod-manifests", "kube-apiserver.yaml");
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest, TestContext.Current.CancellationToken))
            .Replace("--anonymous-auth=false", "--anonymous-auth=true", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        File.SetUnixFileMode(Path.Combine(config.DataDir, "server", "tls", "server-ca.key"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var after = AuditHarness.Statuses(await AuditAsync(config, etcDir));
        var flipped = after.Where(kv => kv.Value != before[kv.Key]).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        // CIS scores 1.1.21 and 1.2.1 as manual (a failure is a WARN); the STIG rules built on them are findings.
        Assert.Equal(["cis-1.12/1.1.21", "cis-1.12/1.2.1", "cis-1.23/1.1.21", "cis-1.23/1.2.1", "rke2-stig/V-254562", "stig/V-242390", "stig/V-242467"], flipped);
        Assert.All(flipped, id => Assert.Equal(id.Contains("stig", StringComparison.Ordinal) ? CheckStatus.Fail : CheckStatus.Warn, after[id]));
    }
}
