using System.Text.Json.Nodes;
using Bulwark.Addons;
using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Resources;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Cni;

public sealed class CniAddonRendererTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private EffectiveConfig Config(string yaml)
    {
        var file = _dir.Write("etc/config.yaml", $"data-dir: {_dir.Combine("data")}\ntoken: t\n{yaml}");
        var result = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []) { Checks = Bulwark.Cli.ConfigChecks.All });
        Assert.Empty(result.Errors);
        return result.Config!;
    }

    private string Manifests => _dir.Combine("data", "server", "manifests");

    private static List<YamlMappingNode> Documents(string file) => ManifestFiles.Documents(file).Select(d => d.Document).ToList();

    private static JsonObject Json(YamlMappingNode node) => (JsonObject)YamlJson.Convert(node)!;

    [Theory]
    [InlineData("canal", new[] { "rke2-canal" })]
    [InlineData("calico", new[] { "rke2-calico", "rke2-calico-crd" })]
    [InlineData("cilium", new[] { "rke2-cilium" })]
    [InlineData("multus,canal", new[] { "rke2-multus", "rke2-canal" })]
    [InlineData("multus,cilium", new[] { "rke2-multus", "rke2-cilium" })]
    [InlineData("none", new string[0])]
    public void Each_cni_writes_its_helmcharts_and_removes_the_others(string cni, string[] charts)
    {
        // A previous run with every chart present: the renderer must remove the ones not selected.
        Directory.CreateDirectory(Manifests);
        foreach (var spec in CniCatalog.BuiltIn.Value.All)
        {
            File.WriteAllText(Path.Combine(Manifests, spec.Chart.Name + ".yaml"), "# stale\n");
        }
        var files = AddonStage.Render(Config($"cni: {cni}\n"), EmbeddedData.BuiltIn);

        var present = Directory.GetFiles(Manifests, "rke2-*.yaml").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        Assert.Equal(charts.Order(), present);
        Assert.True(File.Exists(Path.Combine(Manifests, HelmControllerManifest.FileName)));
        Assert.All(Directory.GetFiles(Manifests), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        Assert.Contains(files, f => f.Change == FileChange.Removed);
        foreach (var chart in charts)
        {
            var doc = Assert.Single(Documents(Path.Combine(Manifests, chart + ".yaml")));
            var json = Json(doc);
            Assert.Equal("helm.cattle.io/v1", json["apiVersion"]!.GetValue<string>());
            Assert.Equal("HelmChart", json["kind"]!.GetValue<string>());
            Assert.Equal("kube-system", json["metadata"]!["namespace"]!.GetValue<string>());
            var spec = json["spec"]!.AsObject();
            Assert.All(spec.Select(p => p.Key), field => Assert.Contains(field, ApiResourceTable.BuiltIn.Value.HelmChartFields));
            Assert.Equal(chart != "rke2-multus", spec["bootstrap"]!.GetValue<bool>());
            Assert.Equal("https://rke2-charts.rancher.io", spec["repo"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Cluster_values_are_injected_as_strings()
    {
        var config = Config("cni: canal\ncluster-cidr: 10.44.0.0/16,fd00:44::/56\nservice-cidr: 10.45.0.0/16\ncluster-dns: 10.45.0.10\n" +
            "cluster-domain: corp.local\nsystem-default-registry: registry.corp:5000\n");
        AddonStage.Render(config, EmbeddedData.BuiltIn);
        var set = Json(Documents(Path.Combine(Manifests, "rke2-canal.yaml"))[0])["spec"]!["set"]!.AsObject();
        Assert.Equal("10.44.0.0/16,fd00:44::/56", set["global.clusterCIDR"]!.GetValue<string>());
        Assert.Equal("10.44.0.0/16", set["global.clusterCIDRv4"]!.GetValue<string>());
        Assert.Equal("fd00:44::/56", set["global.clusterCIDRv6"]!.GetValue<string>());
        Assert.Equal("10.45.0.0/16", set["global.serviceCIDR"]!.GetValue<string>());
        Assert.Equal("10.45.0.10", set["global.clusterDNS"]!.GetValue<string>());
        Assert.Equal("corp.local", set["global.clusterDomain"]!.GetValue<string>());
        Assert.Equal("registry.corp:5000", set["global.systemDefaultRegistry"]!.GetValue<string>());
        Assert.Equal(config.DataDir, set["global.rke2DataDir"]!.GetValue<string>());
        var helmController = File.ReadAllText(Path.Combine(Manifests, HelmControllerManifest.FileName));
        Assert.Contains("image: registry.corp:5000/rancher/helm-controller:", helmController);
    }

    [Theory]
    [InlineData("canal", "rke2-canal", "flannel:\n  backend: vxlan")]
    [InlineData("calico", "rke2-calico", "wireguardEnabled: false")]
    [InlineData("calico", "rke2-calico", "defaultEndpointToHostAction: Drop")]
    [InlineData("cilium", "rke2-cilium", "type: ipsec")]
    [InlineData("multus,cilium", "rke2-cilium", "cni:\n  exclusive: false")]
    public void Hardened_values_are_in_values_content(string cni, string chart, string expected)
    {
        AddonStage.Render(Config($"cni: {cni}\n"), EmbeddedData.BuiltIn);
        var values = Json(Documents(Path.Combine(Manifests, chart + ".yaml"))[0])["spec"]!["valuesContent"]!.GetValue<string>();
        Assert.Contains(expected, values);
        // valuesContent is itself YAML that helm reads.
        new YamlStream().Load(new StringReader(values));
    }

    [Fact]
    public void Cilium_without_multus_keeps_its_exclusive_default()
    {
        AddonStage.Render(Config("cni: cilium\n"), EmbeddedData.BuiltIn);
        Assert.DoesNotContain("exclusive", File.ReadAllText(Path.Combine(Manifests, "rke2-cilium.yaml")));
    }

    [Fact]
    public void A_local_chart_archive_is_used_as_chart_content()
    {
        var config = Config("cni: canal\n");
        var spec = CniCatalog.BuiltIn.Value["canal"];
        var archive = new AddonPaths(config.DataDir).ChartArchive(spec.Chart.Name, spec.Chart.Version);
        Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
        byte[] bytes = [0x1f, 0x8b, 8, 0, 1, 2, 3];
        File.WriteAllBytes(archive, bytes);
        AddonStage.Render(config, EmbeddedData.BuiltIn);
        var chartSpec = Json(Documents(Path.Combine(Manifests, "rke2-canal.yaml"))[0])["spec"]!;
        Assert.Equal(Convert.ToBase64String(bytes), chartSpec["chartContent"]!.GetValue<string>());
        Assert.Null(chartSpec["repo"]);

        File.WriteAllText(archive, "not gzip");
        var e = Assert.Throws<AddonException>(() => AddonStage.Render(config, EmbeddedData.BuiltIn));
        Assert.Contains("not a gzip-compressed chart archive", e.Message);
    }

    [Theory]
    [InlineData("rke2-canal", "canal", "flannel:\n      backend: wireguard-native", "flannel.backend: wireguard-native")]
    [InlineData("rke2-calico", "calico", "felixConfiguration:\n      wireguardEnabled: true", "felixConfiguration.wireguardEnabled: true")]
    [InlineData("rke2-cilium", "cilium", "encryption:\n      enabled: true\n      type: wireguard", "encryption.type: wireguard")]
    public void WireGuard_in_a_user_helmchartconfig_is_refused_under_fips_with_file_and_line(string chart, string cni, string values, string setting)
    {
        Directory.CreateDirectory(Manifests);
        var user = Path.Combine(Manifests, "my-overrides.yaml");
        File.WriteAllText(user, $"apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: {chart}\n  namespace: kube-system\nspec:\n  valuesContent: |-\n    {values}\n");
        var e = Assert.Throws<AddonException>(() => AddonStage.Render(Config($"cni: {cni}\n"), EmbeddedData.BuiltIn));
        Assert.Contains($"{user}:7: HelmChartConfig {chart}: {setting} is refused with fips-mode on", e.Message);
        Assert.False(File.Exists(Path.Combine(Manifests, chart + ".yaml")), "nothing is written when refused");

        AddonStage.Render(Config($"cni: {cni}\nfips-mode: off\n"), EmbeddedData.BuiltIn);
        Assert.True(File.Exists(Path.Combine(Manifests, chart + ".yaml")));
    }

    [Fact]
    public void A_helmchartconfig_with_an_unknown_field_is_refused()
    {
        Directory.CreateDirectory(Manifests);
        File.WriteAllText(Path.Combine(Manifests, "o.yaml"), "apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata: {name: rke2-canal}\nspec:\n  valuesContnet: x\n");
        var e = Assert.Throws<AddonException>(() => AddonStage.Render(Config("cni: canal\n"), EmbeddedData.BuiltIn));
        Assert.Contains("o.yaml:5: HelmChartConfig rke2-canal: unknown spec field \"valuesContnet\"", e.Message);
    }

    [Fact]
    public void Changing_the_primary_cni_on_a_deployed_cluster_is_refused_with_the_way_forward()
    {
        AddonStage.Render(Config("cni: canal\n"), EmbeddedData.BuiltIn);
        AddonStage.Render(Config("cni: multus,canal\n"), EmbeddedData.BuiltIn); // adding Multus keeps the primary
        var e = Assert.Throws<AddonException>(() => AddonStage.Render(Config("cni: cilium\n"), EmbeddedData.BuiltIn));
        Assert.Contains("this cluster was deployed with canal", e.Message);
        Assert.Contains("keep cni: canal", e.Message);
        Assert.Contains("bulwark killall", e.Message);
        Assert.True(File.Exists(Path.Combine(Manifests, "rke2-canal.yaml")), "the running CNI's chart stays");
    }

    [Fact]
    public void Helm_controller_manifests_validate_against_the_kubernetes_models()
    {
        var path = _dir.Write("hc.yaml", HelmControllerManifest.Render(Config(""), EmbeddedData.BuiltIn));
        var documents = Documents(path);
        var deployment = KubernetesJson.Deserialize<V1Deployment>(Json(documents.Single(d => ManifestFiles.Scalar(d, "kind") == "Deployment")).ToJsonString());
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.StartsWith("rancher/helm-controller:", container.Image);
        Assert.Contains(container.Args, a => a.StartsWith("--default-job-image=rancher/klipper-helm:", StringComparison.Ordinal));
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
        var crds = documents.Where(d => ManifestFiles.Scalar(d, "kind") == "CustomResourceDefinition")
            .Select(d => KubernetesJson.Deserialize<V1CustomResourceDefinition>(Json(d).ToJsonString())).ToList();
        Assert.Equal(["HelmChart", "HelmChartConfig"], crds.Select(c => c.Spec.Names.Kind).Order());
        // Every object is a kind the applier knows.
        Assert.Equal(documents.Count, ManifestObject.Read(path, ApiResourceTable.BuiltIn.Value).Count);
    }

    [Fact]
    public void Images_list_the_selected_cnis_and_helm_controller_with_the_registry()
    {
        var images = AddonStage.Images(Config("cni: multus,calico\nsystem-default-registry: reg.local\n"), EmbeddedData.BuiltIn);
        Assert.Contains(images, i => i.StartsWith("reg.local/rancher/mirrored-calico-node:", StringComparison.Ordinal));
        Assert.Contains(images, i => i.StartsWith("reg.local/rancher/hardened-multus-cni:", StringComparison.Ordinal));
        Assert.Contains(images, i => i.StartsWith("reg.local/rancher/helm-controller:", StringComparison.Ordinal));
        Assert.DoesNotContain(images, i => i.Contains("flannel", StringComparison.Ordinal));
    }
}
