using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Bulwark.Tests.Cni;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// `bulwark audit` reading the Kubernetes API for the CIS section 5 checks, up to the HTTP boundary: kube-apiserver is not
/// installable here, so a local HTTPS listener answers the list requests KubernetesClient.Aot sends (with the objects a
/// cluster would hold) and records them. The node is the one Bulwark's real loader, PKI and renderer write.
/// </summary>
public sealed class AuditLiveEvidenceHttpBoundaryTests : IAsyncLifetime
{
    private RenderedNode _node = null!;
    private RecordingApiServer _api = null!;

    public async ValueTask InitializeAsync()
    {
        _node = await RenderedNode.CreateAsync(startEtcd: false);
        _api = await RecordingApiServer.StartAsync();
        _api.Respond = request => request.Method == "GET" && _cluster.TryGetValue(request.Path.TrimEnd('/'), out var body) ? (200, body) : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        await _node.DisposeAsync();
    }

    private static string List(string kind, params string[] items) => $$"""{"kind":"{{kind}}","apiVersion":"v1","metadata":{},"items":[{{string.Join(",", items)}}]}""";

    private static string Meta(string name, string? ns = null, string labels = "{}") =>
        $$"""{"name":"{{name}}"{{(ns is null ? "" : $",\"namespace\":\"{ns}\"")}},"labels":{{labels}}}""";

    // What a cluster holds: one extra cluster-admin subject, a default service account that mounts its token, a namespace
    // without NetworkPolicies and labelled privileged, a privileged debug pod, and a stray Service in default.
    private readonly Dictionary<string, string> _cluster = new(StringComparer.Ordinal)
    {
        ["/version"] = """{"major":"1","minor":"32","gitVersion":"v1.32.3","platform":"linux/amd64"}""",
        ["/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"] = List("ClusterRoleBindingList",
            $$$"""{"metadata":{{{Meta("cluster-admin")}}},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"Group","name":"system:masters","apiGroup":"rbac.authorization.k8s.io"}]}""",
            $$$"""{"metadata":{{{Meta("ops-admin")}}},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"alice","apiGroup":"rbac.authorization.k8s.io"}]}""",
            $$$"""{"metadata":{{{Meta("viewers")}}},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"bob","apiGroup":"rbac.authorization.k8s.io"}]}"""),
        ["/api/v1/serviceaccounts"] = List("ServiceAccountList",
            $$$"""{"metadata":{{{Meta("default", "default")}}},"automountServiceAccountToken":false}""",
            $$$"""{"metadata":{{{Meta("default", "kube-system")}}},"automountServiceAccountToken":false}""",
            $$$"""{"metadata":{{{Meta("default", "apps")}}}}"""),
        ["/api/v1/namespaces"] = List("NamespaceList",
            $$$"""{"metadata":{{{Meta("default")}}}}""",
            $$$"""{"metadata":{{{Meta("kube-system", labels: "{\"pod-security.kubernetes.io/enforce\":\"privileged\"}")}}}}""",
            $$$"""{"metadata":{{{Meta("apps", labels: "{\"pod-security.kubernetes.io/enforce\":\"privileged\"}")}}}}"""),
        ["/apis/networking.k8s.io/v1/networkpolicies"] = List("NetworkPolicyList",
            $$$"""{"metadata":{{{Meta("default-deny", "default")}}},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}""",
            $$$"""{"metadata":{{{Meta("default-deny", "kube-system")}}},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}"""),
        ["/api/v1/pods"] = List("PodList",
            $$$"""{"metadata":{{{Meta("canal-x", "kube-system")}}},"spec":{"containers":[{"name":"calico-node","image":"c","securityContext":{"privileged":true}}]}}""",
            $$$"""{"metadata":{{{Meta("web", "apps")}}},"spec":{"containers":[{"name":"web","image":"w"}]}}""",
            $$$"""{"metadata":{{{Meta("debug", "apps")}}},"spec":{"containers":[{"name":"shell","image":"b","securityContext":{"privileged":true}}]}}""",
            // A full spec (volumes, probes, status) read for its containers only; its privileged one is ephemeral, added by kubectl debug.
            $$$"""{"metadata":{{{Meta("api", "apps")}}},"spec":{"volumes":[{"name":"data","emptyDir":{}}],"initContainers":[{"name":"migrate","image":"m","securityContext":{"privileged":false}}],"containers":[{"name":"api","image":"a","livenessProbe":{"httpGet":{"path":"/healthz","port":8080}},"ports":[{"containerPort":8080}]}],"ephemeralContainers":[{"name":"debugger","image":"busybox","securityContext":{"privileged":true}}]},"status":{"phase":"Running","podIP":"10.42.0.7"}}"""),
        ["/api/v1/namespaces/default/pods"] = List("PodList"),
        ["/api/v1/namespaces/default/services"] = List("ServiceList",
            $$$"""{"metadata":{{{Meta("kubernetes", "default")}}},"spec":{"ports":[{"port":443}]}}""",
            $$$"""{"metadata":{{{Meta("legacy", "default")}}},"spec":{"ports":[{"port":80}]}}"""),
    };

    private string Kubeconfig(string server)
    {
        var ca = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(_api.Certificate.ExportCertificatePem()));
        return _node.Scratch.Write($"kubeconfig-{Guid.NewGuid():N}", $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: live
              cluster: {"{"}server: "{server}", certificate-authority-data: {ca}{"}"}
            users:
            - name: auditor
              user: {"{"}token: audit-token{"}"}
            contexts:
            - name: live
              context: {"{"}cluster: live, user: auditor{"}"}
            current-context: live
            """);
    }

    private async Task<Dictionary<string, JsonNode>> AuditAsync(params string[] extra)
    {
        var run = await CliRunner.RunAsync(["audit", .. _node.AuditArgs, "-b", "cis-1.23", "-o", "json", .. extra]);
        Assert.True(run.ExitCode is 0 or 1, run.Error);
        return JsonNode.Parse(run.Out)!["benchmarks"]![0]!["sections"]!.AsArray()
            .SelectMany(s => s!["checks"]!.AsArray()).ToDictionary(c => c!["id"]!.GetValue<string>(), c => c!);
    }

    private static string Status(JsonNode check) => check["status"]!.GetValue<string>();

    private static void AssertStatus(string expected, JsonNode check) => Assert.True(Status(check) == expected, $"{expected} expected: {check.ToJsonString()}");

    private static string Reason(JsonNode check) => check["reason"]?.GetValue<string>() ?? "";

    [Fact]
    public async Task Http_boundary_section_5_checks_read_bindings_service_accounts_namespaces_policies_and_pods_from_the_api()
    {
        var checks = await AuditAsync("--kubeconfig", Kubeconfig(_api.Url));

        AssertStatus("WARN", checks["5.1.1"]);
        Assert.Contains("User alice", checks["5.1.1"]["evidence"]!.ToJsonString());
        Assert.Contains("ClusterRoleBinding ops-admin", Reason(checks["5.1.1"]));
        Assert.DoesNotContain("bob", checks["5.1.1"].ToJsonString());
        Assert.True(checks["5.1.1"]["automated"]!.GetValue<bool>());

        AssertStatus("WARN", checks["5.1.5"]);
        Assert.Contains("1 of 3 default service account(s) mount their token: ServiceAccount apps/default", Reason(checks["5.1.5"]));

        // Automated checks keep their offline evidence (the PSA config, the rendered policies) and add the live one.
        AssertStatus("WARN", checks["5.2.1"]);
        Assert.Contains("Namespace apps", Reason(checks["5.2.1"]));
        Assert.DoesNotContain("Namespace kube-system", Reason(checks["5.2.1"]));
        Assert.Contains(checks["5.2.1"]["evidence"]!.AsArray(), e => e!["subject"]!.GetValue<string>() == "--admission-control-config-file");
        AssertStatus("WARN", checks["5.2.2"]);
        Assert.Contains("Pod apps/debug", Reason(checks["5.2.2"]));
        Assert.Contains("privileged: shell", checks["5.2.2"]["evidence"]!.ToJsonString());
        Assert.Contains("privileged: debugger", checks["5.2.2"]["evidence"]!.ToJsonString());
        Assert.Contains("2 running pod(s) have privileged containers", Reason(checks["5.2.2"]));
        Assert.DoesNotContain("canal-x", checks["5.2.2"].ToJsonString());
        AssertStatus("WARN", checks["5.3.2"]);
        Assert.Contains("1 namespace(s) have no NetworkPolicy: Namespace apps", Reason(checks["5.3.2"]));

        AssertStatus("WARN", checks["5.7.4"]);
        Assert.Contains("Service default/legacy", Reason(checks["5.7.4"]));
        // A check without live evidence stays MANUAL.
        AssertStatus("MANUAL", checks["5.1.2"]);

        var paths = _api.Take().Select(r => (r.Method, r.Path, r.Query)).ToList();
        Assert.All(paths, p => Assert.Equal("GET", p.Method));
        Assert.Contains(("GET", "/api/v1/serviceaccounts", "?fieldSelector=metadata.name%3Ddefault"), paths);
        Assert.Contains(paths, p => p.Path == "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings");
    }

    [Fact]
    public async Task Http_boundary_a_clean_cluster_passes_the_live_checks()
    {
        // The same cluster with each finding fixed: no extra cluster-admin subject, every default service account without
        // a token, every namespace with a policy and no privileged label, privileged pods only where PSA exempts them.
        _cluster["/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"] = List("ClusterRoleBindingList");
        _cluster["/api/v1/serviceaccounts"] = List("ServiceAccountList",
            $$$"""{"metadata":{{{Meta("default", "default")}}},"automountServiceAccountToken":false}""",
            $$$"""{"metadata":{{{Meta("default", "apps")}}},"automountServiceAccountToken":false}""");
        _cluster["/api/v1/namespaces"] = List("NamespaceList", $$$"""{"metadata":{{{Meta("default")}}}}""", $$$"""{"metadata":{{{Meta("apps")}}}}""");
        _cluster["/apis/networking.k8s.io/v1/networkpolicies"] = List("NetworkPolicyList",
            $$$"""{"metadata":{{{Meta("default-deny", "default")}}},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}""",
            $$$"""{"metadata":{{{Meta("default-deny", "apps")}}},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}""");
        _cluster["/api/v1/pods"] = List("PodList",
            $$$"""{"metadata":{{{Meta("canal-x", "kube-system")}}},"spec":{"containers":[{"name":"calico-node","image":"c","securityContext":{"privileged":true}}]}}""",
            $$$"""{"metadata":{{{Meta("web", "apps")}}},"spec":{"containers":[{"name":"web","image":"w"}]}}""");
        _cluster["/api/v1/namespaces/default/services"] = List("ServiceList", $$$"""{"metadata":{{{Meta("kubernetes", "default")}}},"spec":{"ports":[{"port":443}]}}""");

        var checks = await AuditAsync("--kubeconfig", Kubeconfig(_api.Url));
        foreach (var id in new[] { "5.1.1", "5.1.5", "5.2.1", "5.2.2", "5.3.2", "5.7.4" })
        {
            AssertStatus("PASS", checks[id]);
        }
        Assert.Contains(checks["5.3.2"]["evidence"]!.AsArray(), e => e!["subject"]!.GetValue<string>() == "Namespace apps" && e["passed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Without_an_apiserver_or_offline_the_live_checks_stay_manual_and_say_why()
    {
        var port = FreePorts.Take(1)[0];
        var closed = await AuditAsync("--kubeconfig", Kubeconfig($"https://127.0.0.1:{port}"));
        AssertStatus("MANUAL", closed["5.1.1"]);
        Assert.Contains($"No live evidence: no apiserver answered at https://127.0.0.1:{port}", Reason(closed["5.1.1"]));
        // An automated check keeps its offline result, with no live evidence added.
        Assert.DoesNotContain(closed["5.3.2"]["evidence"]!.AsArray(), e => e!["source"]!.GetValue<string>().Contains("networkpolicies)", StringComparison.Ordinal));

        var offline = await AuditAsync("--offline");
        Assert.Contains("No live evidence: --offline was given", Reason(offline["5.1.5"]));
        var missing = await AuditAsync("--kubeconfig", _node.Scratch.Combine("nowhere.yaml"));
        Assert.Contains("no admin kubeconfig at", Reason(missing["5.1.5"]));
        Assert.Empty(_api.Take());
    }
}
