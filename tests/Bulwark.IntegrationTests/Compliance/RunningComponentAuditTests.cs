using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The audit reads a really running component's argv from the real /proc. kube-apiserver is not installable
/// here, so the process is /bin/sh started through a symlink with the flags under test: what is proven is the
/// /proc reading and the preference for the running process, up to that boundary. The symlink has a unique
/// name (declared as kube-apiserver's binary for this run) so no other process on the machine can be taken for it.
/// </summary>
public sealed class RunningComponentAuditTests
{
    [Fact]
    public async Task Flags_of_a_running_apiserver_are_read_from_real_proc_not_from_its_manifest_with_sh_standing_in_for_kube_apiserver()
    {
        await using var node = await RenderedNode.CreateAsync(startEtcd: false, cancellationToken: TestContext.Current.CancellationToken);
        // Like a real component, it names a file under the node's data dir: that is how the audit knows it is this node's.
        var clientCa = "--client-ca-file=" + node.Data("server/tls/client-ca.crt");
        await using var apiserver = ShellStandIn.Start(node.Scratch.Path, "kube-apiserver-", "--anonymous-auth=true", "--profiling=false", clientCa);

        var checks = (await AuditAsync(node, apiserver.Name)).ToDictionary(c => c.Id);

        // The manifest on disk says the opposite: the running process won.
        Assert.Contains("--anonymous-auth=false", File.ReadAllText(node.Data("agent/pod-manifests/kube-apiserver.yaml")), StringComparison.Ordinal);
        // CIS 1.23 scores 1.2.1 as manual: a failure is a WARN.
        Assert.Equal(CheckStatus.Warn, checks["1.2.1"].Status);
        var evidence = Assert.Single(checks["1.2.1"].Evidence);
        Assert.Equal("true", evidence.Actual);
        Assert.Matches(@"^running process \d+ \(/proc/\d+/cmdline\)$", evidence.Source);
        Assert.Equal(CheckStatus.Pass, checks["1.2.18"].Status);
    }

    [Fact]
    public async Task A_running_component_of_another_node_on_the_same_machine_is_not_taken_as_evidence()
    {
        await using var node = await RenderedNode.CreateAsync(startEtcd: false, cancellationToken: TestContext.Current.CancellationToken);
        await using var foreign = ShellStandIn.Start(node.Scratch.Path, "kube-apiserver-", "--anonymous-auth=true", "--client-ca-file=/var/lib/other-node/server/tls/client-ca.crt");

        var anonymous = (await AuditAsync(node, foreign.Name)).Single(c => c.Id == "1.2.1");

        Assert.Equal(CheckStatus.Pass, anonymous.Status);
        Assert.StartsWith("static pod manifest", Assert.Single(anonymous.Evidence).Source, StringComparison.Ordinal);
    }

    /// <summary>Audits the node Bulwark rendered (on this machine: host root /) with kube-apiserver's binary declared as <paramref name="binary"/>.</summary>
    private static async Task<IEnumerable<CheckResult>> AuditAsync(RenderedNode node, string binary)
    {
        var nodePaths = new NodePaths(HostRoot.Real, node.DataDir, node.EtcDir);
        var builtIn = CatalogLoader.LoadCis(EmbeddedData.BuiltIn, ComplianceAudit.Cis123);
        var manifest = builtIn.Settings.Components["kube-apiserver"].Manifest;
        var cis = builtIn with
        {
            Settings = builtIn.Settings.Merge(new CatalogSettings(
                new Dictionary<string, ComponentSource> { ["kube-apiserver"] = new("kube-apiserver", [binary], manifest, null) },
                new Dictionary<string, VariableSpec>())),
        };
        var report = await AuditRunner.RunAsync(new AuditRequest(nodePaths, [cis], AllowExec: false), TestContext.Current.CancellationToken);
        return report.Checks;
    }
}
