using Bulwark.Compliance;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// Accuracy on a CIS-hardened node (HardenedNodeFixture): every automated CIS check that applies passes, the
/// ones needing a running cluster say MANUAL and why, and each tampering flips exactly the checks it should,
/// with the evidence that shows it.
/// </summary>
public sealed class HardenedNodeAuditTests
{
    [Fact]
    public async Task On_a_hardened_node_every_automated_check_passes()
    {
        using var node = HardenedNodeFixture.Create();
        var report = await AuditHarness.RunAsync(node);
        var cis = report.Benchmarks.Single(b => b.Id == "cis-1.23");
        Assert.All(cis.Checks.Where(c => c.Automated && c.Scored), c => Assert.True(c.Status == CheckStatus.Pass, $"{c.Id}: {c.Status} {c.Reason}"));
        // The one unscored check that warns: EventRateLimit, whose limits Bulwark leaves to the operator.
        Assert.Equal(["1.2.10"], cis.Checks.Where(c => c.Automated && c.Status != CheckStatus.Pass).Select(c => c.Id));
        Assert.Equal(106, cis.Totals.Pass);
        var stig = report.Benchmarks.Single(b => b.Id == "stig");
        Assert.Equal(95, stig.Totals.Total);
        Assert.Equal(0, stig.Totals.Fail + stig.Totals.Warn + stig.Totals.Skip);
        // The only STIG rules that do not apply are about kubeadm drop-ins, which a Bulwark node has none of.
        Assert.Equal(["V-242454", "V-242455"], stig.Checks.Where(c => c.Status == CheckStatus.NotApplicable).Select(c => c.Id));
        Assert.False(report.FailsAt(FailOn.Fail));
    }

    [Fact]
    public async Task Manual_checks_say_why_a_person_or_the_cluster_API_is_needed()
    {
        using var node = HardenedNodeFixture.Create();
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
        using var node = HardenedNodeFixture.Create();
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        var anonymous = Assert.Single(checks["1.2.1"].Evidence);
        Assert.Equal(("--anonymous-auth", "false"), (anonymous.Subject, anonymous.Actual));
        Assert.Equal($"static pod manifest {HardenedNodeFixture.DataDir}/agent/pod-manifests/kube-apiserver.yaml", anonymous.Source);
        var etcdOwner = Assert.Single(checks["1.1.12"].Evidence);
        Assert.Equal("etcd:etcd", etcdOwner.Actual);
        Assert.Equal($"{HardenedNodeFixture.DataDir}/server/db/etcd", etcdOwner.Source);
        var kubeletAnonymous = Assert.Single(checks["4.2.1"].Evidence);
        Assert.Equal("{.authentication.anonymous.enabled}", kubeletAnonymous.Subject);
        Assert.Equal($"{HardenedNodeFixture.DataDir}/agent/etc/kubelet-config.yaml", kubeletAnonymous.Source);
        Assert.Contains(checks["4.2.6"].Evidence, e => e is { Subject: "kernel.panic", Actual: "10", Source: "/proc/sys/kernel/panic" });
        // 16 key pairs of docs/layout.md plus service.key and service.current.key, each looked at.
        Assert.Equal(18, checks["1.1.21"].Evidence.Count);
    }

    [Fact]
    public async Task A_world_readable_key_fails_exactly_the_key_permission_checks()
    {
        using var node = HardenedNodeFixture.Create();
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        File.SetUnixFileMode(node.Data("server/tls/etcd/peer-server-client.key"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var report = await AuditHarness.RunAsync(node);
        AssertFlipped(before, report, "cis-1.23/1.1.21", "stig/V-242467");
        var bad = Assert.Single(report.Checks.First(c => c.Id == "1.1.21").Evidence, e => !e.Passed);
        Assert.Equal("644", bad.Actual);
        Assert.Equal($"{HardenedNodeFixture.DataDir}/server/tls/etcd/peer-server-client.key", bad.Source);
    }

    [Fact]
    public async Task Anonymous_auth_in_the_apiserver_manifest_fails_exactly_the_anonymous_auth_checks()
    {
        using var node = HardenedNodeFixture.Create();
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        node.Replace($"{HardenedNodeFixture.DataDir}/agent/pod-manifests/kube-apiserver.yaml", "--anonymous-auth=false", "--anonymous-auth=true");
        var report = await AuditHarness.RunAsync(node);
        AssertFlipped(before, report, "cis-1.23/1.2.1", "stig/V-242390");
        var check = report.Checks.First(c => c.Id == "1.2.1");
        Assert.Contains("--anonymous-auth is true (expected = false)", check.Reason, StringComparison.Ordinal);
        Assert.Contains("anonymous-auth=false", check.Remediation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_the_pod_security_admission_file_fails_exactly_the_pod_security_checks()
    {
        using var node = HardenedNodeFixture.Create();
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        File.Delete(node.HostPath($"{HardenedNodeFixture.EtcDir}/bulwark-pss.yaml"));
        var report = await AuditHarness.RunAsync(node);
        string[] pss = ["5.2.1", "5.2.2", "5.2.3", "5.2.4", "5.2.5", "5.2.6", "5.2.7", "5.2.8", "5.2.9", "5.2.10", "5.2.11", "5.2.12", "5.2.13"];
        AssertFlipped(before, report,
            [.. pss.Select(id => "cis-1.23/" + id), "cis-1.23/1.2.13", "stig/V-254800", "stig/V-242437", "stig/V-242414"]);
        Assert.Equal(CheckStatus.Warn, report.Checks.First(c => c.Id == "1.2.13").Status);
        var check = report.Checks.First(c => c.Id == "5.2.1");
        Assert.Equal($"{HardenedNodeFixture.EtcDir}/bulwark-pss.yaml does not exist", check.Reason);
    }

    [Fact]
    public async Task A_loosened_etcd_data_dir_fails_exactly_the_etcd_data_dir_checks()
    {
        using var node = HardenedNodeFixture.Create();
        var before = AuditHarness.Statuses(await AuditHarness.RunAsync(node));
        File.SetUnixFileMode(node.Data("server/db/etcd"), (UnixFileMode)Convert.ToInt32("755", 8));
        var report = await AuditHarness.RunAsync(node);
        AssertFlipped(before, report, "cis-1.23/1.1.11", "stig/V-242459");
        var bad = Assert.Single(report.Checks.First(c => c.Id == "1.1.11").Evidence);
        Assert.Equal(("755", "700 or more restrictive"), (bad.Actual, bad.Expected));
    }

    [Fact]
    public async Task A_running_component_is_preferred_over_its_manifest_and_the_result_says_so()
    {
        using var node = HardenedNodeFixture.Create();
        // /proc under the host root, in the kernel's format: argv NUL-separated.
        var proc = node.HostPath("/proc/4242");
        Directory.CreateDirectory(proc);
        File.WriteAllText(Path.Combine(proc, "cmdline"), string.Join('\0', "/usr/local/bin/kube-apiserver", "--anonymous-auth=true", "--profiling=false",
            $"--client-ca-file={HardenedNodeFixture.DataDir}/server/tls/client-ca.crt") + "\0");
        File.WriteAllText(Path.Combine(proc, "environ"), "");
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        // CIS 1.23 scores 1.2.1 as manual: a failure is a WARN.
        Assert.Equal(CheckStatus.Warn, checks["1.2.1"].Status);
        Assert.Equal("running process 4242 (/proc/4242/cmdline)", checks["1.2.1"].Evidence.Single().Source);
        Assert.Equal(CheckStatus.Pass, checks["1.2.18"].Status);
        // The process has no --audit-log-path.
        Assert.Equal(CheckStatus.Fail, checks["1.2.19"].Status);
    }

    [Fact]
    public async Task Files_are_found_by_following_component_arguments_before_the_layout_paths()
    {
        using var node = HardenedNodeFixture.Create();
        const string moved = "/etc/site/pod-security.yaml";
        Directory.CreateDirectory(node.HostPath("/etc/site"));
        File.Move(node.HostPath($"{HardenedNodeFixture.EtcDir}/bulwark-pss.yaml"), node.HostPath(moved));
        node.Replace($"{HardenedNodeFixture.DataDir}/agent/pod-manifests/kube-apiserver.yaml",
            $"--admission-control-config-file={HardenedNodeFixture.EtcDir}/bulwark-pss.yaml", $"--admission-control-config-file={moved}");
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        Assert.Equal(CheckStatus.Pass, checks["5.2.1"].Status);
        Assert.Contains(checks["5.2.1"].Evidence, e => e.Source == moved && e.Actual == "restricted");
    }

    [Fact]
    public async Task On_an_etcd_only_node_the_control_plane_checks_do_not_apply()
    {
        using var node = HardenedNodeFixture.Create();
        foreach (var component in new[] { "kube-apiserver", "kube-controller-manager", "kube-scheduler" })
        {
            File.Delete(node.Data($"agent/pod-manifests/{component}.yaml"));
        }
        var checks = (await AuditHarness.RunAsync(node, stig: false)).Checks.ToDictionary(c => c.Id);
        Assert.Equal(CheckStatus.NotApplicable, checks["1.2.1"].Status);
        Assert.Equal(CheckStatus.NotApplicable, checks["1.1.1"].Status);
        Assert.Equal(CheckStatus.NotApplicable, checks["5.2.1"].Status);
        Assert.Equal(CheckStatus.Pass, checks["2.1"].Status);
        Assert.DoesNotContain(checks.Values, c => c.Status == CheckStatus.Fail);
    }

    private static void AssertFlipped(Dictionary<string, CheckStatus> before, AuditReport after, params string[] expected)
    {
        Assert.All(before, b => Assert.True(b.Value != CheckStatus.Fail, $"{b.Key} already failed before tampering"));
        var now = AuditHarness.Statuses(after);
        var changed = now.Where(kv => before[kv.Key] != kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(expected.Order(StringComparer.Ordinal), changed.Keys.Order(StringComparer.Ordinal));
        // Scored checks fail; unscored ones (kube-bench's "scored: false") warn.
        var scored = after.Benchmarks.SelectMany(b => b.Checks.Select(c => (Key: $"{b.Id}/{c.Id}", c.Scored))).ToDictionary(x => x.Key, x => x.Scored);
        Assert.All(changed, kv => Assert.Equal(scored[kv.Key] ? CheckStatus.Fail : CheckStatus.Warn, kv.Value));
    }
}
