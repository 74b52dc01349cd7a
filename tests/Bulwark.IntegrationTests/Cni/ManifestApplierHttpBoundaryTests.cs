using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Bulwark.Addons;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Resources;
using Bulwark.Kube;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Tests.Cni;

/// <summary>
/// The manifest applier up to the HTTP boundary: kube-apiserver is not installable here, so these tests capture the exact
/// requests Bulwark's API client sends for Bulwark's real rendered manifests (HelmCharts, helm-controller, CIS
/// NetworkPolicies and ServiceAccounts) on a local HTTPS listener.
/// </summary>
public sealed class ManifestApplierHttpBoundaryTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-addons");
    private RecordingApiServer _api = null!;
    private EffectiveConfig _config = null!;
    private AddonPaths _paths = null!;

    public async ValueTask InitializeAsync()
    {
        _api = await RecordingApiServer.StartAsync();
        var file = _dir.Write("etc/config.yaml", $"data-dir: {_dir.Combine("data")}\ntoken: t\ncni: canal\nprofile: cis-1.23\n");
        _config = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []) { Checks = Bulwark.Cli.ConfigChecks.All }).Config!;
        _paths = new AddonPaths(_config.DataDir);
        // What a server writes to server/manifests: the add-on stage, and the control plane's CIS policies (the real renderers).
        AddonStage.Render(_config, EmbeddedData.BuiltIn);
        File.WriteAllText(Path.Combine(_paths.Manifests, "bulwark-network-policies.yaml"), ClusterManifests.NetworkPolicies(_config, EmbeddedData.BuiltIn));
        File.WriteAllText(Path.Combine(_paths.Manifests, "bulwark-service-accounts.yaml"), ClusterManifests.ServiceAccounts(EmbeddedData.BuiltIn));
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        _dir.Dispose();
    }

    private KubeApiClient Client() => new(new Kubeconfig(_api.Url, "test", new Credential(null, Convert.ToBase64String(Encoding.ASCII.GetBytes(_api.Certificate.ExportCertificatePem()))),
        null, null, "test-token"), TimeSpan.FromSeconds(30));

    private AddonDelivery Delivery(string holder = "server-1", IReadOnlySet<string>? disabled = null) =>
        new(Client(), holder, _paths, disabled ?? new HashSet<string>(), TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(1));

    private static IEnumerable<RecordingApiServer.Request> Patches(IEnumerable<RecordingApiServer.Request> requests) => requests.Where(r => r.Method == "PATCH");

    [Fact]
    public async Task Http_boundary_leader_takes_the_lease_then_server_side_applies_every_rendered_object()
    {
        var outcomes = await Delivery().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(outcomes);
        var requests = _api.Take();

        // The lease first: read (404), then create with this server as holder.
        Assert.Equal(("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/bulwark-addons"), (requests[0].Method, requests[0].Path));
        Assert.Equal(("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"), (requests[1].Method, requests[1].Path));
        var lease = JsonNode.Parse(requests[1].Body)!;
        Assert.Equal("server-1", lease["spec"]!["holderIdentity"]!.GetValue<string>());

        var patches = Patches(requests).ToList();
        Assert.All(patches, p =>
        {
            Assert.StartsWith("application/apply-patch+yaml", p.ContentType);
            Assert.Contains("fieldManager=bulwark", p.Query);
            Assert.Contains("force=true", p.Query);
        });
        var paths = patches.Select(p => p.Path).ToList();
        Assert.Contains("/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/rke2-canal", paths);
        Assert.Contains("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/helmcharts.helm.cattle.io", paths);
        Assert.Contains("/apis/apps/v1/namespaces/kube-system/deployments/helm-controller", paths);
        Assert.Contains("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/bulwark-helm-controller", paths);
        Assert.Contains("/api/v1/namespaces/kube-system/serviceaccounts/helm-controller", paths);
        Assert.Contains("/api/v1/namespaces/kube-public/serviceaccounts/default", paths);
        Assert.Contains("/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/default-network-policy", paths);
        Assert.Contains("/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies/default-network-dns-policy", paths);
        // Files in name order: helm-controller (CRDs) before the HelmCharts that need them.
        Assert.True(paths.IndexOf("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/helmcharts.helm.cattle.io")
            < paths.IndexOf("/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/rke2-canal"));

        // The body is the rendered object itself (JSON is apply-patch YAML).
        var chart = JsonNode.Parse(patches.Single(p => p.Path.EndsWith("/helmcharts/rke2-canal", StringComparison.Ordinal)).Body)!;
        Assert.Equal("HelmChart", chart["kind"]!.GetValue<string>());
        Assert.Equal("helm.cattle.io/v1", chart["apiVersion"]!.GetValue<string>());
        Assert.True(chart["spec"]!["bootstrap"]!.GetValue<bool>());
        Assert.Equal("10.42.0.0/16", chart["spec"]!["set"]!["global.clusterCIDR"]!.GetValue<string>());
        var account = JsonNode.Parse(patches.Single(p => p.Path == "/api/v1/namespaces/kube-public/serviceaccounts/default").Body)!;
        Assert.False(account["automountServiceAccountToken"]!.GetValue<bool>());

        // The record names every applied object per file.
        var record = AppliedRecord.Load(_paths.AppliedRecord);
        Assert.Equal(patches.Count, record.Files.Sum(f => f.Objects.Count));
    }

    [Fact]
    public async Task Http_boundary_unchanged_files_are_not_sent_again_and_a_changed_file_is_reapplied_with_dropped_objects_deleted()
    {
        await Delivery().RunOnceAsync(TestContext.Current.CancellationToken);
        _api.Take();
        await Delivery().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.Empty(Patches(_api.Take()));

        // The CIS policies without the kube-public one: re-applied, and the dropped object deleted.
        var policies = Path.Combine(_paths.Manifests, "bulwark-network-policies.yaml");
        var documents = File.ReadAllText(policies).Split("---\n").Where(d => !d.Contains("namespace: kube-public", StringComparison.Ordinal));
        File.WriteAllText(policies, string.Join("---\n", documents));
        await Delivery().RunOnceAsync(TestContext.Current.CancellationToken);
        var requests = _api.Take();
        Assert.All(Patches(requests), p => Assert.Contains("/networkpolicies/", p.Path));
        Assert.NotEmpty(Patches(requests));
        var delete = Assert.Single(requests, r => r.Method == "DELETE");
        Assert.Equal("/apis/networking.k8s.io/v1/namespaces/kube-public/networkpolicies/default-network-policy", delete.Path);
    }

    [Fact]
    public async Task Http_boundary_skip_files_are_honoured_and_disabled_addons_are_deleted()
    {
        File.WriteAllText(Path.Combine(_paths.Manifests, "bulwark-service-accounts.yaml.skip"), "");
        await Delivery().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(_api.Take(), r => r.Path.EndsWith("/serviceaccounts/default", StringComparison.Ordinal));

        await Delivery(disabled: new HashSet<string> { "rke2-canal" }).RunOnceAsync(TestContext.Current.CancellationToken);
        var requests = _api.Take();
        var delete = Assert.Single(requests, r => r.Method == "DELETE");
        Assert.Equal("/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/rke2-canal", delete.Path);
        Assert.Empty(Patches(requests));
    }

    [Fact]
    public async Task Http_boundary_a_server_without_the_lease_applies_nothing_and_an_expired_lease_is_taken_over()
    {
        var renewed = DateTime.UtcNow;
        string Lease(DateTime renew) => $$$"""
            {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"bulwark-addons","namespace":"kube-system","resourceVersion":"7"},
             "spec":{"holderIdentity":"server-2","leaseDurationSeconds":60,"renewTime":"{{{renew:yyyy-MM-ddTHH:mm:ss.ffffffZ}}}","leaseTransitions":3}}
            """;
        _api.Respond = r => r.Method == "GET" && r.Path.Contains("/leases/", StringComparison.Ordinal) ? (200, Lease(renewed)) : null;
        Assert.Null(await Delivery().RunOnceAsync(TestContext.Current.CancellationToken));
        Assert.Equal(["GET"], _api.Take().Select(r => r.Method));

        renewed = DateTime.UtcNow.AddMinutes(-5);
        Assert.NotNull(await Delivery().RunOnceAsync(TestContext.Current.CancellationToken));
        var requests = _api.Take();
        var put = Assert.Single(requests, r => r.Method == "PUT");
        Assert.Equal("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/bulwark-addons", put.Path);
        var spec = JsonNode.Parse(put.Body)!["spec"]!;
        Assert.Equal("server-1", spec["holderIdentity"]!.GetValue<string>());
        Assert.Equal(4, spec["leaseTransitions"]!.GetValue<int>());
        Assert.Equal("7", JsonNode.Parse(put.Body)!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.NotEmpty(Patches(requests));
    }

    [Fact]
    public async Task Http_boundary_a_lost_race_for_the_lease_is_not_leadership()
    {
        _api.Respond = r => r.Method == "POST" ? (409, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409}""") : null;
        Assert.Null(await Delivery().RunOnceAsync(TestContext.Current.CancellationToken));
        Assert.Empty(Patches(_api.Take()));
    }

    [Fact]
    public async Task Http_boundary_refusals_and_unknown_kinds_name_the_file_and_line()
    {
        _api.Respond = r => r.Method == "PATCH" && r.Path.Contains("/helmcharts/", StringComparison.Ordinal)
            ? (422, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"HelmChart is invalid","code":422}""") : null;
        var applier = new ManifestApplier(Client(), ApiResourceTable.BuiltIn.Value, _paths.AppliedRecord);
        var e = await Assert.ThrowsAsync<AddonException>(() => applier.ApplyAsync(_paths.Manifests, new HashSet<string>(), TestContext.Current.CancellationToken));
        Assert.Contains($"{_paths.ChartFile("rke2-canal")}:1: the apiserver refused HelmChart rke2-canal: 422", e.Message);
        Assert.Contains("HelmChart is invalid", e.Message);
        // What reached the cluster before the refusal is recorded.
        Assert.Contains(AppliedRecord.Load(_paths.AppliedRecord).Files, f => f.File.EndsWith(HelmControllerManifest.FileName, StringComparison.Ordinal));

        _api.Respond = _ => null;
        File.WriteAllText(Path.Combine(_paths.Manifests, "zz-extra.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n");
        e = await Assert.ThrowsAsync<AddonException>(() => applier.ApplyAsync(_paths.Manifests, new HashSet<string>(), TestContext.Current.CancellationToken));
        Assert.Contains("zz-extra.yaml:5: example.com/v1 Widget is not a resource Bulwark applies", e.Message);
        Assert.DoesNotContain(_api.Take(), r => r.Path.Contains("/configmaps/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Http_boundary_canal_under_CIS_lists_the_nodes_and_applies_a_host_network_policy_from_each_pod_CIDR_gateway_following_node_changes()
    {
        string NodeList(params string[] cidrs) => "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[" +
            string.Join(",", cidrs.Select((c, i) => c.Length == 0
                ? $"{{\"metadata\":{{\"name\":\"n{i}\"}},\"spec\":{{}}}}"
                : $"{{\"metadata\":{{\"name\":\"n{i}\"}},\"spec\":{{\"podCIDR\":\"{c}\",\"podCIDRs\":[\"{c}\"]}}}}")) + "]}";
        var nodes = NodeList("", "");
        _api.Respond = r => r.Method == "GET" && r.Path == "/api/v1/nodes" ? (200, nodes) : null;
        AddonDelivery Canal() => new(Client(), "server-1", _paths, new HashSet<string>(), TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(1), _config);

        // No node has a pod CIDR yet: no policy at all (an empty "from" would admit everything).
        await Canal().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.Contains(_api.Take(), r => r.Method == "GET" && r.Path == "/api/v1/nodes");
        Assert.False(File.Exists(_paths.HostNetworkPolicies));

        nodes = NodeList("10.42.0.0/24", "10.42.1.0/24", "");
        await Canal().RunOnceAsync(TestContext.Current.CancellationToken);
        var patches = Patches(_api.Take()).Where(p => p.Path.EndsWith("/networkpolicies/default-network-host-policy", StringComparison.Ordinal)).ToList();
        Assert.Equal(["default", "kube-public", "kube-system"], patches.Select(p => p.Path.Split('/')[5]).Order(StringComparer.Ordinal));
        foreach (var patch in patches)
        {
            var from = JsonNode.Parse(patch.Body)!["spec"]!["ingress"]![0]!["from"]!.AsArray();
            Assert.Equal(["10.42.0.1/32", "10.42.1.1/32"], from.Select(f => f!["ipBlock"]!["cidr"]!.GetValue<string>()));
        }
        Assert.Equal(AtomicFileMode, File.GetUnixFileMode(_paths.HostNetworkPolicies));

        // A node joins: the policies are re-applied with its gateway; nothing changes: nothing is sent.
        nodes = NodeList("10.42.0.0/24", "10.42.1.0/24", "10.42.2.0/24");
        await Canal().RunOnceAsync(TestContext.Current.CancellationToken);
        var again = Patches(_api.Take()).Single(p => p.Path == "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies/default-network-host-policy");
        Assert.Contains("10.42.2.1/32", again.Body);
        await Canal().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.Empty(Patches(_api.Take()));

        // Off the CIS profile the file goes, and the applier deletes the policies it applied from it.
        var file = _dir.Write("etc/plain.yaml", $"data-dir: {_dir.Combine("data")}\ntoken: t\ncni: canal\n");
        var plain = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), [])).Config!;
        await new AddonDelivery(Client(), "server-1", _paths, new HashSet<string>(), TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(1), plain)
            .RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.False(File.Exists(_paths.HostNetworkPolicies));
        Assert.Equal(3, _api.Take().Count(r => r.Method == "DELETE" && r.Path.EndsWith("/networkpolicies/default-network-host-policy", StringComparison.Ordinal)));
    }

    private const UnixFileMode AtomicFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
}
