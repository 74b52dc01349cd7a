using Bulwark.Addons;
using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Resources;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Cni;

public sealed class CniClusterPolicyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private EffectiveConfig Config(string yaml)
    {
        var file = _dir.Write("config.yaml", "token: t\n" + yaml);
        return ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []) { Checks = Bulwark.Cli.ConfigChecks.All }).Config!;
    }

    private static List<V1NetworkPolicy> Policies(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => KubernetesJson.Deserialize<V1NetworkPolicy>(YamlJson.Convert(d.RootNode)!.ToJsonString())).ToList();
    }

    /// <summary>A rule that names no peers and no ports admits everything; an empty "from" list does too.</summary>
    private static void AssertNoAllowAllRule(V1NetworkPolicy policy)
    {
        foreach (var rule in policy.Spec.Ingress ?? [])
        {
            Assert.False(rule.FromProperty is { Count: 0 }, $"{policy.Metadata.Name}: empty from");
            Assert.False(rule.FromProperty is null && rule.Ports is null or { Count: 0 }, $"{policy.Metadata.Name}: a rule without from and ports allows all");
        }
    }

    [Theory]
    [InlineData("canal")]
    [InlineData("calico")]
    [InlineData("cilium")]
    [InlineData("multus,canal")]
    public void Rendered_network_policies_validate_and_never_allow_all(string cni)
    {
        var config = Config($"cni: {cni}\nprofile: cis-1.23\n");
        var policies = Policies(ClusterManifests.NetworkPolicies(config, EmbeddedData.BuiltIn));
        Assert.Equal(["default", "kube-public", "kube-system"], policies.Where(p => p.Metadata.Name == "default-network-policy").Select(p => p.Metadata.NamespaceProperty).Order());
        var dns = Assert.Single(policies, p => p.Metadata.Name == "default-network-dns-policy");
        Assert.Equal(["53/TCP", "53/UDP", "9153/TCP"], dns.Spec.Ingress.SelectMany(r => r.Ports).Select(p => $"{p.Port}/{p.Protocol}").Order());
        Assert.All(policies, AssertNoAllowAllRule);
    }

    [Fact]
    public void Disabled_components_get_no_policy()
    {
        var policies = Policies(ClusterManifests.NetworkPolicies(Config("profile: cis-1.23\ndisable: [rke2-coredns, rke2-ingress-nginx]\n"), EmbeddedData.BuiltIn));
        Assert.DoesNotContain(policies, p => p.Metadata.Name is "default-network-dns-policy" or "default-network-ingress-webhook-policy");
        Assert.Contains(policies, p => p.Metadata.Name == "default-network-metrics-server-policy");
    }

    [Fact]
    public void Canal_host_network_policy_allows_each_node_pod_cidr_gateway_and_is_absent_without_nodes()
    {
        var config = Config("cni: canal\n");
        Assert.Null(CniClusterPolicy.HostNetworkPolicies(config, ["kube-system"], []));
        var nodes = CniClusterPolicy.HostNetworkPolicies(config, ["kube-system", "default"], ["10.42.0.0/24", "10.42.1.0/24", "fd00:42::/64", "bogus"])!;
        var policies = Policies(string.Join("---\n", nodes.Select(n => YamlNodes.Serialize(n))));
        Assert.Equal(2, policies.Count);
        var peers = policies[0].Spec.Ingress.Single().FromProperty.Select(p => p.IpBlock.Cidr).ToList();
        Assert.Equal(["10.42.0.1/32", "10.42.1.1/32", "fd00:42::1/128"], peers);
        Assert.All(policies, AssertNoAllowAllRule);
        // Other CNIs program host access themselves.
        Assert.Null(CniClusterPolicy.HostNetworkPolicies(Config("cni: calico\n"), ["kube-system"], ["10.42.0.0/24"]));
    }

    [Theory]
    [InlineData("calico", new[] { "tigera-operator", "calico-system" })]
    [InlineData("multus,calico", new[] { "tigera-operator", "calico-system" })]
    [InlineData("canal", new string[0])]
    [InlineData("cilium", new string[0])]
    public void Psa_exemptions_follow_the_selected_cni(string cni, string[] extra)
    {
        var psa = PodSecurityConfig.Default(Config($"cni: {cni}\nprofile: cis-1.23\n"), EmbeddedData.BuiltIn);
        Assert.Equal(["kube-system", .. extra], psa.Namespaces);
        // The rendered file validates as an AdmissionConfiguration.
        Assert.Equal(psa.Namespaces, PodSecurityConfig.Parse(psa.ToYaml(), "bulwark-pss.yaml").Namespaces);
    }

    [Fact]
    public void Cni_data_is_complete_for_every_cni()
    {
        foreach (var spec in CniCatalog.BuiltIn.Value.All)
        {
            Assert.NotEmpty(spec.Images);
            Assert.NotEmpty(spec.Node.Binaries);
            Assert.Matches(@"^\d\d-[a-z]+\.conf(list)?$", spec.Node.Conflist);
            Assert.Contains(spec.Cleanup.Paths, p => p.EndsWith(spec.Node.Conflist, StringComparison.Ordinal));
            Assert.All(spec.HardenedValues, v => Assert.NotEmpty(v.Controls));
            if (spec.Name != "multus")
            {
                Assert.NotEmpty(spec.Cleanup.Interfaces);
                Assert.Contains("CNI-", spec.Cleanup.IptablesChainPrefixes);
                Assert.True(spec.EnforcesNetworkPolicy, "CIS 5.3.1");
            }
        }
        Assert.Equal(new Version(5, 4), CniCatalog.BuiltIn.Value["cilium"].Node.MinKernel);
    }
}
