using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Processes;

namespace Bulwark.Tests.ControlPlane;

/// <summary>Rendered files and etcd's launch flags read by the real tools that exist here: etcd's own flag table, and kubectl's (client-only) parsers.</summary>
public sealed class RealToolsTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-tools");

    public void Dispose() => _dir.Dispose();

    private async Task<RenderResult> RenderAsync()
    {
        var file = _dir.Write("etc/config.yaml", $"data-dir: {_dir.Combine("data")}\nprofile: cis-1.23\nnode-name: node-1\nnode-ip: 127.0.0.1\nsingle-host-demo: true\n");
        var config = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), [])).Config!;
        return await new ControlPlaneRenderer().RenderAsync(config, _dir.Combine("etc"), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Every_flag_etcd_is_launched_with_is_a_flag_the_real_etcd_knows()
    {
        var file = _dir.Write("etc/config.yaml", $"data-dir: {_dir.Combine("data")}\nprofile: cis-1.23\nnode-name: node-1\nnode-ip: 127.0.0.1\netcd-arg: [quota-backend-bytes=8589934592]\n");
        var config = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), [])).Config!;
        var etcd = ProgramLocator.Require("etcd", "apt-get install etcd-server");
        // etcd parses every flag before it prints its version: an unknown one ends it with "flag provided but not defined".
        var args = Bulwark.Etcd.EtcdNode.FromConfig(config).SingleMemberConfig().ToArgs();
        var run = await ProcessRunner.RunAsync(new ProcessSpec(etcd, [.. args, "--version"]), TestContext.Current.CancellationToken);
        Assert.True(run.Succeeded, run.StandardError);
        Assert.Contains("etcd Version: 3.4", run.StandardOutput, StringComparison.Ordinal);
        Assert.True(args.Count > 20);
    }

    [Fact]
    public async Task Kubectl_parses_every_rendered_manifest_and_kubeconfig()
    {
        var result = await RenderAsync();
        var kubectl = ProgramLocator.Require("kubectl", "kubectl is preinstalled on the project's machines");
        var manifests = new[]
        {
            result.Paths.PodManifest("kube-apiserver"), result.Paths.PodManifest("kube-controller-manager"),
            result.Paths.PodManifest("kube-scheduler"), result.Paths.PodManifest("kube-proxy"), result.Paths.NetworkPolicies, result.Paths.ServiceAccounts,
            result.Paths.DefaultPodSecurityConfig, result.Paths.DefaultAuditPolicy, result.Paths.KubeletConfig, result.Paths.EncryptionConfig,
        };
        foreach (var manifest in manifests)
        {
            // --local: kubectl decodes the objects itself, without a server.
            var parsed = await ProcessRunner.RunCheckedAsync(new ProcessSpec(kubectl,
                ["label", "--local", "-f", manifest, "checked-by=bulwark-test", "-o", "jsonpath={.apiVersion}/{.kind} "])
            {
                Environment = new Dictionary<string, string?> { ["KUBECONFIG"] = "/dev/null" },
            }, TestContext.Current.CancellationToken);
            Assert.Matches("^([a-z0-9.]+/)?v1(beta1)?/[A-Z][A-Za-z]+ ", parsed.StandardOutput);
        }
        foreach (var kubeconfig in Directory.GetFiles(result.Paths.Cred, "*.kubeconfig").Append(Path.Combine(_dir.Combine("etc"), "bulwark.yaml")))
        {
            var view = await ProcessRunner.RunCheckedAsync(new ProcessSpec(kubectl,
                ["config", "view", "--kubeconfig", kubeconfig, "-o", "jsonpath={.clusters[0].cluster.server}"]), TestContext.Current.CancellationToken);
            Assert.Equal("https://127.0.0.1:6443", view.StandardOutput.Trim());
        }
    }

    [Fact]
    public async Task Rendered_files_are_owned_by_the_account_bulwark_runs_as_root_on_a_node_and_mode_600()
    {
        var result = await RenderAsync();
        var stat = ProgramLocator.Require("stat", "coreutils");
        var files = Directory.GetFiles(result.Paths.DataDir, "*", SearchOption.AllDirectories);
        var owners = await ProcessRunner.RunCheckedAsync(new ProcessSpec(stat, ["-c", "%u:%g %a %n", .. files]), TestContext.Current.CancellationToken);
        var lines = owners.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(files.Length, lines.Length);
        var uid = (await ProcessRunner.RunCheckedAsync(new ProcessSpec("/usr/bin/id", ["-u"]), TestContext.Current.CancellationToken)).StandardOutput.Trim();
        Assert.All(lines, l => Assert.StartsWith($"{uid}:", l));
        Assert.All(lines, l => Assert.Contains(" 600 ", l));
    }
}
