using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Pki;
using Bulwark.Kube;

namespace Bulwark.Tests.ControlPlane;

/// <summary>
/// #11 defect 4 on the real renderer: every client URL (kubeconfigs, the apiserver's probes) reaches an address the
/// apiserver binds, and a loopback advertise-address is refused unless the single-host demo mode is asked for.
/// </summary>
public sealed class ApiserverAddressTests : IDisposable
{
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    /// <summary>A render with this node-ip (the fixture's config sets 10.0.0.5).</summary>
    private Task<RenderResult> RenderWithNodeIpAsync(string nodeIp, string yaml = "")
    {
        var file = _node.Dir.Write("etc/config.yaml", $"data-dir: {_node.DataDir}\nnode-name: node-1\nnode-ip: {nodeIp}\n{yaml}\n");
        var load = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []));
        Assert.True(load.Config is not null, string.Join("\n", load.Errors));
        return _node.RenderAsync(load.Config!);
    }

    private IEnumerable<(string Path, string Server)> ClientUrls(RenderResult result)
    {
        var kubeconfigs = Directory.GetFiles(result.Paths.Cred, "*.kubeconfig")
            .Concat(Directory.GetFiles(result.Paths.Agent, "*.kubeconfig"))
            .Append(Path.Combine(_node.EtcDir, "bulwark.yaml"))
            .ToList();
        Assert.True(kubeconfigs.Count >= 7, string.Join(", ", kubeconfigs));
        foreach (var path in kubeconfigs)
        {
            yield return (path, Kubeconfig.Parse(File.ReadAllText(path), path).Server);
        }
        var manifest = result.Paths.PodManifest("kube-apiserver");
        var pod = StaticPod.Parse(File.ReadAllText(manifest), manifest);
        foreach (var probe in new[] { pod.Liveness, pod.Startup })
        {
            yield return (manifest, Assert.Single(probe!.Exec!, a => a.StartsWith("--server=", StringComparison.Ordinal))["--server=".Length..].TrimEnd('/'));
        }
    }

    [Theory]
    [InlineData("", "https://127.0.0.1:6443")]
    [InlineData("bind-address: 0.0.0.0", "https://127.0.0.1:6443")]
    [InlineData("bind-address: 10.0.0.5", "https://10.0.0.5:6443")]
    [InlineData("bind-address: 10.0.0.5\nhttps-listen-port: 7443", "https://10.0.0.5:7443")]
    [InlineData("bind-address: fd00::5", "https://[fd00::5]:6443")]
    public async Task Every_kubeconfig_and_probe_reaches_an_address_the_apiserver_binds(string yaml, string expected)
    {
        var result = await _node.RenderAsync(yaml);

        Assert.All(ClientUrls(result), c => Assert.True(c.Server == expected, $"{c.Path}: {c.Server}, want {expected}"));
        var bind = result.Components["kube-apiserver"].Argv.Single(a => a.StartsWith("--bind-address=", StringComparison.Ordinal))["--bind-address=".Length..];
        var host = new Uri(expected).Host.Trim('[', ']');
        Assert.True(bind is "0.0.0.0" or "::" || bind == host, $"--bind-address={bind} but clients connect to {host}");
    }

    [Fact]
    public void A_specific_bind_address_is_named_in_the_apiserver_serving_certificate()
    {
        var options = ServerPkiOptions.From(_node.Config("bind-address: 10.0.0.9\ntls-san: [api.example.org]"));
        var names = ServerPki.AlternativeNames(SanSet.KubeApiserver, options).Entries;

        Assert.Equal(["api.example.org", "10.0.0.9"], options.TlsSans);
        Assert.Contains("IP:10.0.0.9", names);
        Assert.DoesNotContain("0.0.0.0", ServerPkiOptions.From(_node.Config()).TlsSans);
    }

    [Theory]
    [InlineData("127.0.0.1", "", "advertise-address 127.0.0.1 is a loopback address (from node-ip)")]
    [InlineData("10.0.0.5", "advertise-address: 127.0.0.2", "advertise-address 127.0.0.2 is a loopback address (from advertise-address)")]
    [InlineData("10.0.0.5", "advertise-address: \"::1\"", "advertise-address ::1 is a loopback address (from advertise-address)")]
    public async Task A_loopback_advertise_address_is_a_config_error_with_the_fix_and_nothing_is_written(string nodeIp, string yaml, string expected)
    {
        var error = await Assert.ThrowsAsync<ControlPlaneConfigException>(() => RenderWithNodeIpAsync(nodeIp, yaml));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
        Assert.Contains("Set advertise-address (or node-ip) to an address of this host", problem, StringComparison.Ordinal);
        Assert.Contains("single-host-demo: true", problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_node.DataDir, "agent", "pod-manifests")));
    }

    [Fact]
    public async Task The_single_host_demo_mode_allows_a_loopback_advertise_address_and_says_so()
    {
        var result = await RenderWithNodeIpAsync("127.0.0.1", "single-host-demo: true");

        Assert.Contains("--advertise-address=127.0.0.1", result.Components["kube-apiserver"].Argv);
        Assert.Contains(result.Warnings, w => w.StartsWith("single-host demo: the apiserver advertises the loopback address 127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_the_apiserver_a_loopback_node_ip_needs_no_demo_mode()
    {
        var result = await RenderWithNodeIpAsync("127.0.0.1", "disable-apiserver: true");

        Assert.DoesNotContain(result.Warnings, w => w.Contains("single-host demo", StringComparison.Ordinal));
    }
}
