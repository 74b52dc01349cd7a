using Bulwark.Compliance;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// Accuracy on the node Bulwark renders under cis-1.23 (real loader, PKI and renderer, and a real etcd member where
/// the checks read it): manual checks say why, passing checks carry their evidence and its source, and each
/// tampering flips exactly the checks it should. Only changes are compared, so the host's own kernel parameters
/// (which RenderedNodeAuditTests hardens on the real-host collection) do not matter here.
/// </summary>
public sealed class RenderedNodeTamperingTests
{
    private static Task<RenderedNode> RenderAsync(bool startEtcd = false) =>
        RenderedNode.CreateAsync(startEtcd, cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public async Task Manual_checks_say_why_a_person_or_the_cluster_API_is_needed()
    {
        await using var node = await RenderAsync();
        var report = await AuditHarness.RunAsync(node);
        var manual = report.Checks.Where(c => c.Status == CheckStatus.Manual).ToList();
        Assert.NotEmpty(manual);
        Assert.All(manual, c => Assert.False(string.IsNullOrWhiteSpace(c.Reason), c.Id));
        var rbac = report.Benchmarks.Single(b => b.Id == "cis-1.23").Checks.Single(c => c.Id == "5.1.1");
        Assert.Contains("Kubernetes API", rbac.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Passing_checks_carry_the_evidence_and_where_it_was_read()
    {
        await using var node = await RenderAsync(startEtcd: true);
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        var anonymous = Assert.Single(checks["1.2.1"].Evidence);
        Assert.Equal(("--anonymous-auth", "false"), (anonymous.Subject, anonymous.Actual));
        Assert.Equal($"static pod manifest {node.Data("agent/pod-manifests/kube-apiserver.yaml")}", anonymous.Source);
        var etcdOwner = Assert.Single(checks["1.1.12"].Evidence);
        Assert.Equal("etcd:etcd", etcdOwner.Actual);
        Assert.Equal(node.Data("server/db/etcd"), etcdOwner.Source);
        var kubeletAnonymous = Assert.Single(checks["4.2.1"].Evidence);
        Assert.Equal("{.authentication.anonymous.enabled}", kubeletAnonymous.Subject);
        Assert.Equal(node.Data("agent/etc/kubelet-config.yaml"), kubeletAnonymous.Source);
        Assert.Contains(checks["4.2.6"].Evidence, e => e.Subject == "kernel.panic" && e.Source == "/proc/sys/kernel/panic"
            && e.Actual == SavedKernelParameters.Read("proc/sys/kernel/panic"));
        // Every private key the server wrote under server/tls is looked at, and only those.
        var keys = Directory.EnumerateFiles(node.Data("server/tls"), "*.key", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        Assert.Equal(keys, checks["1.1.21"].Evidence.Select(e => e.Source).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Anonymous_auth_in_the_apiserver_manifest_fails_with_the_reason_and_the_fix()
    {
        await using var node = await RenderAsync();
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        node.Replace("agent/pod-manifests/kube-apiserver.yaml", "--anonymous-auth=false", "--anonymous-auth=true");
        var report = await AuditHarness.RunAsync(node);
        AssertFlipped(before, report, "cis-1.23/1.2.1", "stig/V-242390");
        var check = report.Checks.First(c => c.Id == "1.2.1");
        Assert.Contains("--anonymous-auth is true (expected = false)", check.Reason, StringComparison.Ordinal);
        Assert.Contains("anonymous-auth=false", check.Remediation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_the_pod_security_admission_file_fails_exactly_the_pod_security_checks()
    {
        await using var node = await RenderAsync();
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        var admission = Path.Combine(node.EtcDir, "bulwark-pss.yaml");
        File.Delete(admission);
        var report = await AuditHarness.RunAsync(node);
        string[] pss = ["5.2.1", "5.2.2", "5.2.3", "5.2.4", "5.2.5", "5.2.6", "5.2.7", "5.2.8", "5.2.9", "5.2.10", "5.2.11", "5.2.12", "5.2.13"];
        AssertFlipped(before, report,
            [.. pss.Select(id => "cis-1.23/" + id), "cis-1.23/1.2.13", "stig/V-254800", "stig/V-242437", "stig/V-242414"]);
        Assert.Equal(CheckStatus.Warn, report.Checks.First(c => c.Id == "1.2.13").Status);
        Assert.Equal($"{admission} does not exist", report.Checks.First(c => c.Id == "5.2.1").Reason);
    }

    [Fact]
    public async Task A_loosened_etcd_data_dir_fails_exactly_the_etcd_data_dir_checks()
    {
        await using var node = await RenderAsync(startEtcd: true);
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        File.SetUnixFileMode(node.Data("server/db/etcd"), (UnixFileMode)Convert.ToInt32("755", 8));
        var report = await AuditHarness.RunAsync(node);
        AssertFlipped(before, report, "cis-1.23/1.1.11", "stig/V-242459");
        var bad = Assert.Single(report.Checks.First(c => c.Id == "1.1.11").Evidence);
        Assert.Equal(("755", "700 or more restrictive"), (bad.Actual, bad.Expected));
    }

    [Fact]
    public async Task Files_are_found_by_following_component_arguments_before_the_layout_paths()
    {
        await using var node = await RenderAsync();
        var original = Path.Combine(node.EtcDir, "bulwark-pss.yaml");
        var moved = node.Scratch.Combine("site", "pod-security.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        File.Move(original, moved);
        node.Replace("agent/pod-manifests/kube-apiserver.yaml", $"--admission-control-config-file={original}", $"--admission-control-config-file={moved}");
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        Assert.Equal(CheckStatus.Pass, checks["5.2.1"].Status);
        Assert.Contains(checks["5.2.1"].Evidence, e => e.Source == moved && e.Actual == "restricted");
    }

    [Fact]
    public async Task On_an_etcd_only_node_the_control_plane_checks_do_not_apply()
    {
        await using var node = await RenderAsync(startEtcd: true);
        foreach (var component in new[] { "kube-apiserver", "kube-controller-manager", "kube-scheduler" })
        {
            File.Delete(node.Data($"agent/pod-manifests/{component}.yaml"));
        }
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        Assert.Equal(CheckStatus.NotApplicable, checks["1.2.1"].Status);
        Assert.Equal(CheckStatus.NotApplicable, checks["1.1.1"].Status);
        Assert.Equal(CheckStatus.NotApplicable, checks["5.2.1"].Status);
        Assert.Equal(CheckStatus.Pass, checks["2.1"].Status);
    }

    private static void AssertFlipped(Dictionary<string, CheckStatus> before, AuditReport after, params string[] expected)
    {
        var now = AuditHarness.Statuses(after);
        var changed = now.Where(kv => before[kv.Key] != kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(expected.Order(StringComparer.Ordinal), changed.Keys.Order(StringComparer.Ordinal));
        // Scored checks fail; unscored ones (kube-bench's "scored: false") warn.
        var scored = after.Benchmarks.SelectMany(b => b.Checks.Select(c => (Key: $"{b.Id}/{c.Id}", c.Scored))).ToDictionary(x => x.Key, x => x.Scored);
        Assert.All(changed, kv => Assert.Equal(scored[kv.Key] ? CheckStatus.Fail : CheckStatus.Warn, kv.Value));
    }
}
