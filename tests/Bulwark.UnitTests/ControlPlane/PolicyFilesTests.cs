using Bulwark.ControlPlane;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.ControlPlane;

public sealed class PolicyFilesTests : IDisposable
{
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task Cis_pod_security_is_restricted_everywhere_but_kube_system_and_round_trips()
    {
        var result = await _node.RenderAsync("profile: cis-1.23\ncni: canal");
        var text = File.ReadAllText(result.Paths.DefaultPodSecurityConfig);
        var psa = PodSecurityConfig.Parse(text, result.Paths.DefaultPodSecurityConfig);
        Assert.Equal(text, psa.ToYaml());
        foreach (var mode in new[] { "enforce", "audit", "warn" })
        {
            Assert.Equal("restricted", psa.Level(mode));
            Assert.Equal("latest", psa.Level(mode + "-version"));
        }
        Assert.Equal(["kube-system"], psa.Namespaces);
        Assert.Equal(result.Paths.DefaultPodSecurityConfig, result.Components["kube-apiserver"].Get("admission-control-config-file"));
    }

    [Fact]
    public async Task Calico_adds_its_operator_namespaces_to_the_exemptions()
    {
        var result = await _node.RenderAsync("profile: cis-1.23\ncni: multus,calico");
        var psa = PodSecurityConfig.Parse(File.ReadAllText(result.Paths.DefaultPodSecurityConfig), "pss");
        Assert.Equal(["kube-system", "tigera-operator", "calico-system"], psa.Namespaces);
    }

    [Fact]
    public async Task Without_a_profile_privileged_is_enforced_and_nothing_is_exempt()
    {
        var result = await _node.RenderAsync();
        var psa = PodSecurityConfig.Parse(File.ReadAllText(result.Paths.DefaultPodSecurityConfig), "pss");
        Assert.Equal("privileged", psa.Level("enforce"));
        Assert.Null(psa.Level("audit"));
        Assert.Empty(psa.Namespaces);
    }

    [Fact]
    public async Task A_valid_user_pod_security_file_is_used_as_is_and_the_default_is_not_written()
    {
        var user = _node.Dir.Write("user/pss.yaml", """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityConfiguration
                  defaults: {enforce: baseline, enforce-version: v1.31, warn: restricted}
                  exemptions: {usernames: [], runtimeClasses: [kata], namespaces: [kube-system, monitoring]}
            """);
        var before = File.ReadAllText(user);
        var result = await _node.RenderAsync($"profile: cis-1.23\npod-security-admission-config-file: {user}");
        Assert.Equal(user, result.Components["kube-apiserver"].Get("admission-control-config-file"));
        Assert.False(File.Exists(result.Paths.DefaultPodSecurityConfig));
        Assert.Equal(before, File.ReadAllText(user));
        var pod = StaticPod.Parse(File.ReadAllText(result.Paths.PodManifest("kube-apiserver")), "api");
        Assert.Contains(pod.Mounts, m => m.Path == user && m.ReadOnly);
    }

    [Theory]
    [InlineData("kind: AdmissionConfiguration\napiVersion: v1\nplugins: []", "apiVersion", ":2:")]
    [InlineData("kind: Admission\napiVersion: apiserver.config.k8s.io/v1\nplugins: [{name: PodSecurity, configuration: {}}]", "kind: is \"Admission\", expected AdmissionConfiguration", ":1:")]
    [InlineData(Bad.Level, "plugins[0].configuration.defaults.enforce", ":8:")]
    [InlineData(Bad.Version, "plugins[1].configuration.defaults.audit-version", ":11:")]
    [InlineData(Bad.ExemptionShape, "plugins[0].configuration.exemptions.namespaces", ":9:")]
    [InlineData(Bad.NamespaceName, "plugins[0].configuration.exemptions.namespaces[1]", ":9:")]
    [InlineData(Bad.InnerKind, "plugins[0].configuration.kind", ":7:")]
    [InlineData("kind: AdmissionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nplugins: [{name: EventRateLimit}]", "no entry with name: PodSecurity", ":3:")]
    public async Task An_invalid_user_pod_security_file_is_a_config_error_naming_the_bad_field_and_line(string yaml, string field, string line)
    {
        var user = _node.Dir.Write("user/pss.yaml", yaml);
        var error = await Assert.ThrowsAsync<ControlPlaneConfigException>(() => _node.RenderAsync($"pod-security-admission-config-file: {user}"));
        var problem = Assert.Single(error.Problems, p => p.Contains(field, StringComparison.Ordinal));
        Assert.StartsWith("pod-security-admission-config-file: " + user + line, problem);
        Assert.False(Directory.Exists(_node.DataDir));
    }

    [Fact]
    public async Task A_missing_user_pod_security_file_says_how_to_fix_it()
    {
        var error = await Assert.ThrowsAsync<ControlPlaneConfigException>(() => _node.RenderAsync($"pod-security-admission-config-file: {_node.Dir.Combine("nope.yaml")}"));
        Assert.Contains("does not exist; fix the path or remove the setting", error.Message);
    }

    [Fact]
    public async Task The_default_audit_policy_is_useful_and_written_verbatim()
    {
        var result = await _node.RenderAsync();
        var text = File.ReadAllText(result.Paths.DefaultAuditPolicy);
        Assert.Equal(EmbeddedData.BuiltIn.ReadText(AuditPolicy.DataFile), text);
        var policy = AuditPolicy.Parse(text, result.Paths.DefaultAuditPolicy);
        Assert.Contains("None", policy.RuleLevels);
        Assert.Contains("Metadata", policy.RuleLevels);
        Assert.Contains("RequestResponse", policy.RuleLevels);
        Assert.Equal("Metadata", policy.RuleLevels[^1]);

        // Secrets, ConfigMaps and TokenReviews are audited at Metadata (never their bodies), before any rule that would log bodies.
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var rules = ((YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)["rules"]).Children.Cast<YamlMappingNode>().ToList();
        int FirstRuleNaming(string resource) => rules.FindIndex(r => r.Children.TryGetValue(new YamlScalarNode("resources"), out var res)
            && res.AllNodes.OfType<YamlScalarNode>().Any(s => s.Value == resource));
        foreach (var sensitive in new[] { "secrets", "configmaps", "tokenreviews" })
        {
            var index = FirstRuleNaming(sensitive);
            Assert.True(index >= 0, $"{sensitive} not named by any rule");
            Assert.Equal("Metadata", policy.RuleLevels[index]);
        }
        Assert.Equal("RequestResponse", policy.RuleLevels[rules.FindIndex(r => r.AllNodes.OfType<YamlScalarNode>().Any(s => s.Value == "rbac.authorization.k8s.io"))]);
    }

    [Fact]
    public async Task A_user_audit_policy_is_used_instead_and_a_broken_one_is_refused()
    {
        var user = _node.Dir.Write("user/audit.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n");
        var result = await _node.RenderAsync($"audit-policy-file: {user}");
        Assert.Equal(user, result.Components["kube-apiserver"].Get("audit-policy-file"));
        Assert.False(File.Exists(result.Paths.DefaultAuditPolicy));

        using var other = new ControlPlaneFixture();
        var bad = other.Dir.Write("user/audit.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n");
        var error = await Assert.ThrowsAsync<ControlPlaneConfigException>(() => other.RenderAsync($"audit-policy-file: {bad}"));
        Assert.Contains("rules[0].level: \"Everything\" is not one of None, Metadata, Request, RequestResponse", error.Message);
        Assert.Contains(bad + ":4:", error.Message);
    }

    [Fact]
    public async Task Cis_network_policies_cover_the_system_namespaces_dns_with_its_metrics_port_and_only_enabled_components()
    {
        var result = await _node.RenderAsync("profile: cis-1.23\ndisable: [rke2-ingress-nginx]");
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(result.Paths.NetworkPolicies)));
        var policies = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
        Assert.All(policies, p =>
        {
            Assert.Equal("networking.k8s.io/v1", p["apiVersion"].ToString());
            Assert.Equal("NetworkPolicy", p["kind"].ToString());
        });
        string Name(YamlMappingNode p) => $"{((YamlMappingNode)p["metadata"])["namespace"]}/{((YamlMappingNode)p["metadata"])["name"]}";
        Assert.Equal(
            ["default/default-network-policy", "kube-public/default-network-policy", "kube-system/default-network-dns-policy",
             "kube-system/default-network-metrics-server-policy", "kube-system/default-network-policy"],
            policies.Select(Name).Order(StringComparer.Ordinal));
        var dns = policies.Single(p => Name(p) == "kube-system/default-network-dns-policy");
        var ports = dns.AllNodes.OfType<YamlMappingNode>().Where(m => m.Children.ContainsKey(new YamlScalarNode("protocol")))
            .Select(m => $"{m["protocol"]}/{m["port"]}").Order(StringComparer.Ordinal);
        Assert.Equal(["TCP/53", "TCP/9153", "UDP/53"], ports);
        var sameNamespace = policies.First(p => Name(p) == "default/default-network-policy");
        var from = sameNamespace.AllNodes.OfType<YamlMappingNode>().Single(m => m.Children.ContainsKey(new YamlScalarNode("from")));
        Assert.Equal("podSelector", ((YamlMappingNode)((YamlSequenceNode)from["from"]).Children.Single()).Children.Single().Key.ToString());
    }

    [Fact]
    public async Task Default_service_accounts_do_not_mount_tokens_under_cis()
    {
        var result = await _node.RenderAsync("profile: cis");
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(result.Paths.ServiceAccounts)));
        var accounts = stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
        Assert.Equal(3, accounts.Count);
        Assert.All(accounts, a =>
        {
            Assert.Equal("ServiceAccount", a["kind"].ToString());
            Assert.Equal("default", ((YamlMappingNode)a["metadata"])["name"].ToString());
            Assert.Equal("false", a["automountServiceAccountToken"].ToString());
        });
    }

    private static class Bad
    {
        public const string Level = """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityConfiguration
                  defaults: {enforce: strict}
            """;

        public const string Version = """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: EventRateLimit
                path: erl.yaml
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityConfiguration
                  defaults:
                    audit-version: "1.30"
            """;

        public const string ExemptionShape = """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityConfiguration
                  exemptions:
                    namespaces: kube-system
            """;

        public const string NamespaceName = """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityConfiguration
                  exemptions:
                    namespaces: [kube-system, Not_A_Namespace]
            """;

        public const string InnerKind = """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityPolicy
            """;
    }
}
