using Bulwark.Config;
using Bulwark.ControlPlane;

namespace Bulwark.Tests.ControlPlane;

/// <summary>
/// What the renderer emits against what v1.32 (and etcd 3.4) accept, kept as data in policies/kubernetes/v1.32/.
/// The upstream binaries cannot run here: the tests stop at the argv and the config files.
/// </summary>
public sealed class UpstreamContractTests : IDisposable
{
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    /// <summary>Every profile crossed with every server role, with the optional switches on, so each conditional flag is rendered once.</summary>
    public static TheoryData<string, string> ProfilesAndRoles()
    {
        var data = new TheoryData<string, string>();
        string[] profiles = ["", "profile: cis-1.23", "profile: etcd"];
        string[] roles =
        [
            "",
            "secrets-encryption: true\nnode-label: [zone=a]\nnode-taint: [role=infra:NoSchedule]",
            "disable-kube-proxy: true",
            "disable-scheduler: true\ndisable-controller-manager: true",
            "disable-apiserver: true\ndisable-controller-manager: true\ndisable-scheduler: true",
        ];
        foreach (var profile in profiles)
        {
            foreach (var role in roles)
            {
                data.Add(profile, role);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ProfilesAndRoles))]
    public async Task Every_flag_the_renderer_emits_is_one_v1_32_parses_without_deprecation_as_the_binaries_cannot_run_here(string profile, string role)
    {
        var result = await _node.RenderAsync(profile + "\n" + role);
        var contract = KubernetesContract.BuiltIn;
        var emitted = 0;
        foreach (var (component, args) in result.Components)
        {
            var manifest = result.Paths.PodManifest(component);
            // etcd has no static pod: Bulwark launches it (EtcdMemberConfig.ToArgs, checked below) from its spec's settings.
            IEnumerable<string> argv = component switch
            {
                "kubelet" => File.ReadAllLines(result.Paths.KubeletArgs),
                "etcd" => [],
                _ => StaticPod.Parse(File.ReadAllText(manifest), manifest).Args,
            };
            foreach (var arg in argv.Concat(args.Argv))
            {
                var name = ArgumentMerger.NameOf(arg);
                var flag = contract[component].Find(name);
                Assert.True(flag is not null, $"{component} renders --{name}, which {component} v{contract.KubernetesMinor} does not parse ({contract[component].SourcePath})");
                Assert.True(flag.Status == UpstreamFlagStatus.Accepted,
                    $"{component} renders --{name}, which is {flag.Status} in v{contract.KubernetesMinor} (instead: {flag.Replacement(ComponentArgChecks.ConfigKindOf(component))})");
                emitted++;
            }
        }
        Assert.True(emitted > 0 || result.Components.Count == 0);
    }

    [Fact]
    public void Every_flag_etcd_is_launched_with_is_one_etcd_3_4_parses()
    {
        var etcd = KubernetesContract.BuiltIn["etcd"];
        var node = new Bulwark.Etcd.EtcdNode(new Bulwark.Etcd.EtcdPaths("/var/lib/bulwark"), "n", "10.0.0.5", 2379, 2380, 2381);
        var argv = node.MemberConfig("n-1", "n-1=https://10.0.0.5:2380").ToArgs();
        Assert.True(argv.Count > 20);
        Assert.All(argv, arg => Assert.True(etcd.Find(ArgumentMerger.NameOf(arg)) is { Status: UpstreamFlagStatus.Accepted },
            $"etcd is launched with {arg}, which etcd {KubernetesContract.BuiltIn.EtcdMinor} does not accept ({etcd.SourcePath})"));
    }

    [Fact]
    public void Every_component_has_a_flag_set_and_the_pinned_minor_is_the_one_of_its_folder()
    {
        var contract = KubernetesContract.BuiltIn;
        Assert.Equal(KubernetesContract.PinnedMinor, contract.KubernetesMinor);
        Assert.Equal("3.4", contract.EtcdMinor);
        foreach (var component in ComponentSpecLoader.Names)
        {
            Assert.True(contract[component].Flags.Count > 10, component);
        }
        Assert.Equal(UpstreamFlagStatus.Removed, contract["kube-apiserver"].Find("insecure-port")!.Status);
        Assert.Equal("clientConnection.kubeconfig", contract["kube-scheduler"].Find("kubeconfig")!.ConfigField);
        Assert.Equal("registerWithTaints", contract["kubelet"].Find("register-with-taints")!.ConfigField);
    }

    private ConfigLoadResult Load(string yaml)
    {
        var file = _node.Dir.Write("etc/config.yaml", $"data-dir: {_node.DataDir}\nnode-name: node-1\nnode-ip: 10.0.0.5\n{yaml}\n");
        return ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []) { Checks = Bulwark.Cli.ConfigChecks.All });
    }

    [Fact]
    public void A_removed_flag_in_a_component_arg_is_a_config_error_naming_the_file_line_and_the_release_that_removed_it()
    {
        var result = Load("kube-apiserver-arg:\n  - insecure-port=0");

        var error = Assert.Single(result.Errors);
        Assert.Contains("config.yaml:4", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("--insecure-port was removed in Kubernetes v1.24", error.ToString(), StringComparison.Ordinal);
        Assert.Null(result.Config);
    }

    [Fact]
    public void An_unknown_flag_is_a_config_error_with_a_did_you_mean()
    {
        var result = Load("kube-apiserver-arg: [audit-log-maxag=30]");

        var error = Assert.Single(result.Errors);
        Assert.Contains("config.yaml:4", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("kube-apiserver v1.32 has no flag --audit-log-maxag; did you mean 'audit-log-maxage'?", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_deprecated_flag_is_a_warning_naming_the_config_file_field_that_replaces_it()
    {
        var result = Load("kube-scheduler-arg: [kube-api-qps=50]\nkubelet-arg: [max-pods=200]");

        Assert.Empty(result.Errors);
        Assert.Contains(result.Warnings, w => w.ToString().Contains("--kube-api-qps is deprecated in kube-scheduler v1.32; use the KubeSchedulerConfiguration field clientConnection.qps", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.ToString().Contains("KubeletConfiguration field maxPods", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Kubernetes v1.32.3", null)]
    [InlineData("Kubernetes v1.31.7", "is Kubernetes v1.31.7, but this Bulwark renders flags and config files for v1.32 only")]
    [InlineData("etcd Version: 3.4.23", "not a Kubernetes version")]
    public void The_runtime_bundle_version_is_checked_against_the_pinned_minor(string output, string? refusal)
    {
        var message = KubernetesContract.BuiltIn.CheckVersionOutput("kube-apiserver", output);
        if (refusal is null)
        {
            Assert.Null(message);
        }
        else
        {
            Assert.Contains(refusal, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Kubelet_and_kube_proxy_register_as_the_node_name_their_certificates_carry()
    {
        var result = await _node.RenderAsync("kubelet-arg: [hostname-override=node-1]");

        Assert.Contains("--hostname-override=node-1", File.ReadAllLines(result.Paths.KubeletArgs));
        var proxy = StaticPod.Parse(File.ReadAllText(result.Paths.PodManifest("kube-proxy")), "kube-proxy");
        Assert.Contains("--hostname-override=node-1", proxy.Args);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public async Task A_node_named_as_its_host_gets_no_hostname_override_so_stig_V_242404_holds()
    {
        var hostname = System.Net.Dns.GetHostName().ToLowerInvariant();
        var file = _node.Dir.Write("etc/as-host.yaml", $"data-dir: {_node.DataDir}\nnode-name: {hostname}\nnode-ip: 10.0.0.5\n");
        var config = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), [])).Config!;

        var result = await _node.RenderAsync(config);

        Assert.DoesNotContain(File.ReadAllLines(result.Paths.KubeletArgs), a => a.StartsWith("--hostname-override", StringComparison.Ordinal));
        var other = await _node.RenderAsync(); // node-1
        Assert.Contains("--hostname-override=node-1", File.ReadAllLines(other.Paths.KubeletArgs));
    }

    [Fact]
    public async Task Taints_and_config_backed_kubelet_args_go_into_the_KubeletConfiguration_not_onto_deprecated_flags()
    {
        var result = await _node.RenderAsync("node-taint: [dedicated=infra:NoSchedule, gpu:NoExecute]\nkubelet-arg: [max-pods=200, eviction-hard=memory.available<5%]");

        var argv = File.ReadAllLines(result.Paths.KubeletArgs);
        Assert.DoesNotContain(argv, a => a.StartsWith("--register-with-taints", StringComparison.Ordinal) || a.StartsWith("--max-pods", StringComparison.Ordinal));
        var text = File.ReadAllText(result.Paths.KubeletConfig);
        var config = ComponentConfig.Parse(text, result.Paths.KubeletConfig);
        Assert.Equal("200", config.Scalar("maxPods"));
        Assert.Equal("5%", config.Scalar("evictionHard.memory.available"));
        Assert.Contains("registerWithTaints:\n- key: dedicated\n  value: infra\n  effect: NoSchedule\n- key: gpu\n  effect: NoExecute", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scheduler_reads_its_kubeconfig_and_profiling_from_a_KubeSchedulerConfiguration()
    {
        var result = await _node.RenderAsync("profile: cis-1.23");

        var args = result.Components["kube-scheduler"];
        Assert.Null(args.Get("kubeconfig"));
        Assert.Null(args.Get("profiling"));
        var config = ComponentConfig.Parse(File.ReadAllText(args.Get("config")!), "scheduler");
        Assert.Equal("kubescheduler.config.k8s.io/v1", config.ApiVersion);
        Assert.Equal("KubeSchedulerConfiguration", config.Kind);
        Assert.Equal(Path.Combine(result.Paths.Cred, "scheduler.kubeconfig"), config.Scalar("clientConnection.kubeconfig"));
        Assert.Equal("false", config.Scalar("enableProfiling"));
    }
}
