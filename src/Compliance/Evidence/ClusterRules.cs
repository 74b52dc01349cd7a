using Bulwark.Compliance.Catalog;
using Bulwark.Kube;
using k8s.Models;

namespace Bulwark.Compliance.Evidence;

/// <summary>
/// The live checks a catalog can name with <c>cluster: {rule: …}</c>, one method per rule (as kube-bench's policy checks
/// read the API with kubectl). Each lists what it read from the API, so the report says which object breaks the rule.
/// </summary>
public sealed class ClusterRules(KubeApiClient client, string apiserver)
{
    public const string ClusterAdminBindings = "cluster-admin-bindings";
    public const string DefaultServiceAccountAutomount = "default-service-account-automount";
    public const string NamespaceNetworkPolicies = "namespace-network-policies";
    public const string PrivilegedPods = "privileged-pods";
    public const string PodSecurityLabels = "pod-security-labels";
    public const string DefaultNamespaceUnused = "default-namespace-unused";

    public static readonly IReadOnlyList<string> Known =
        [ClusterAdminBindings, DefaultServiceAccountAutomount, NamespaceNetworkPolicies, PrivilegedPods, PodSecurityLabels, DefaultNamespaceUnused];

    private const string EnforceLabel = "pod-security.kubernetes.io/enforce";

    public Task<ClusterVerdict> EvaluateAsync(ClusterQuery query, CancellationToken cancellationToken) => query.Rule switch
    {
        ClusterAdminBindings => ClusterAdminBindingsAsync(cancellationToken),
        DefaultServiceAccountAutomount => DefaultServiceAccountsAsync(query, cancellationToken),
        NamespaceNetworkPolicies => NetworkPoliciesAsync(query, cancellationToken),
        PrivilegedPods => PrivilegedPodsAsync(query, cancellationToken),
        PodSecurityLabels => PodSecurityLabelsAsync(query, cancellationToken),
        DefaultNamespaceUnused => DefaultNamespaceAsync(cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(query), query.Rule, "not a cluster rule"),
    };

    /// <summary>CIS 5.1.1: who is bound to cluster-admin besides the system:masters group (the break-glass admin).</summary>
    private async Task<ClusterVerdict> ClusterAdminBindingsAsync(CancellationToken cancellationToken)
    {
        var bindings = await client.GetAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", KubeJsonContext.Default.V1ClusterRoleBindingList, cancellationToken).ConfigureAwait(false);
        var records = new List<EvidenceRecord>();
        foreach (var binding in bindings.Items.Where(b => b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == "cluster-admin"))
        {
            foreach (var subject in binding.Subjects ?? [])
            {
                var who = $"{subject.Kind} {(subject.NamespaceProperty is { } ns ? ns + "/" : "")}{subject.Name}";
                var masters = subject.Kind == "Group" && subject.Name == "system:masters";
                records.Add(Record($"ClusterRoleBinding {binding.Metadata.Name}", who, "only Group system:masters", "clusterrolebindings", masters));
            }
        }
        var others = records.Count(r => !r.Passed);
        return new ClusterVerdict(records, others == 0 ? "only system:masters is bound to cluster-admin"
            : $"{others} subject(s) besides system:masters are bound to cluster-admin; review each: {Failing(records)}");
    }

    /// <summary>CIS 5.1.5: each namespace's default service account does not mount its token.</summary>
    private async Task<ClusterVerdict> DefaultServiceAccountsAsync(ClusterQuery query, CancellationToken cancellationToken)
    {
        var accounts = await client.GetAsync("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault", KubeJsonContext.Default.V1ServiceAccountList, cancellationToken).ConfigureAwait(false);
        var records = accounts.Items.Where(a => a.Metadata.Name == "default" && !Excepted(query, a.Metadata.NamespaceProperty))
            .Select(a => Record($"ServiceAccount {a.Metadata.NamespaceProperty}/default", $"automountServiceAccountToken: {Describe(a.AutomountServiceAccountToken)}",
                "automountServiceAccountToken: false", "serviceaccounts", a.AutomountServiceAccountToken == false))
            .ToList();
        return new ClusterVerdict(records, $"{records.Count(r => !r.Passed)} of {records.Count} default service account(s) mount their token: {Failing(records)}");
    }

    /// <summary>CIS 5.3.2: every namespace has at least one NetworkPolicy.</summary>
    private async Task<ClusterVerdict> NetworkPoliciesAsync(ClusterQuery query, CancellationToken cancellationToken)
    {
        var namespaces = await client.GetAsync("/api/v1/namespaces", KubeJsonContext.Default.V1NamespaceList, cancellationToken).ConfigureAwait(false);
        var policies = await client.GetAsync("/apis/networking.k8s.io/v1/networkpolicies", KubeJsonContext.Default.V1NetworkPolicyList, cancellationToken).ConfigureAwait(false);
        var counts = policies.Items.GroupBy(p => p.Metadata.NamespaceProperty).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var records = namespaces.Items.Where(n => !Excepted(query, n.Metadata.Name)).Select(n =>
        {
            var count = counts.GetValueOrDefault(n.Metadata.Name);
            return Record($"Namespace {n.Metadata.Name}", $"{count} NetworkPolicy object(s)", "at least 1", "networkpolicies", count > 0);
        }).ToList();
        return new ClusterVerdict(records, $"{records.Count(r => !r.Passed)} namespace(s) have no NetworkPolicy: {Failing(records)}");
    }

    /// <summary>CIS 5.2.2: no running container is privileged outside the namespaces the PSA config exempts.</summary>
    private async Task<ClusterVerdict> PrivilegedPodsAsync(ClusterQuery query, CancellationToken cancellationToken)
    {
        var pods = await client.GetAsync("/api/v1/pods", KubeJsonContext.Default.KubeListPodSecurityView, cancellationToken).ConfigureAwait(false);
        var records = new List<EvidenceRecord>();
        foreach (var pod in pods.Items.Where(p => !Excepted(query, p.Metadata.NamespaceProperty)))
        {
            var containers = pod.AllContainers.Where(c => c.SecurityContext?.Privileged == true).ToList();
            records.Add(Record($"Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}",
                containers.Count == 0 ? "no privileged container" : "privileged: " + string.Join(", ", containers.Select(c => c.Name)),
                "no privileged container", "pods", containers.Count == 0));
        }
        return new ClusterVerdict(records, $"{records.Count(r => !r.Passed)} running pod(s) have privileged containers: {Failing(records)}");
    }

    /// <summary>CIS 5.2.1: no namespace lowers the cluster's Pod Security default to privileged through its label.</summary>
    private async Task<ClusterVerdict> PodSecurityLabelsAsync(ClusterQuery query, CancellationToken cancellationToken)
    {
        var namespaces = await client.GetAsync("/api/v1/namespaces", KubeJsonContext.Default.V1NamespaceList, cancellationToken).ConfigureAwait(false);
        var records = namespaces.Items.Where(n => !Excepted(query, n.Metadata.Name)).Select(n =>
        {
            var level = n.Metadata.Labels?.TryGetValue(EnforceLabel, out var value) == true ? value : null;
            return Record($"Namespace {n.Metadata.Name}", level is null ? "no enforce label (the cluster default applies)" : $"{EnforceLabel}={level}",
                $"{EnforceLabel} baseline or restricted, or unset", "namespaces", level is null or "baseline" or "restricted");
        }).ToList();
        return new ClusterVerdict(records, $"{records.Count(r => !r.Passed)} namespace(s) weaken Pod Security by label: {Failing(records)}");
    }

    /// <summary>CIS 5.7.4: the default namespace holds nothing but the kubernetes Service.</summary>
    private async Task<ClusterVerdict> DefaultNamespaceAsync(CancellationToken cancellationToken)
    {
        var pods = await client.GetAsync("/api/v1/namespaces/default/pods", KubeJsonContext.Default.KubeListPartialObjectMetadata, cancellationToken).ConfigureAwait(false);
        var services = await client.GetAsync("/api/v1/namespaces/default/services", KubeJsonContext.Default.KubeListPartialObjectMetadata, cancellationToken).ConfigureAwait(false);
        var records = pods.Items.Select(p => Record($"Pod default/{p.Metadata.Name}", "present", "absent", "pods", false))
            .Concat(services.Items.Select(s => Record($"Service default/{s.Metadata.Name}", "present", "only the kubernetes Service", "services", s.Metadata.Name == "kubernetes")))
            .ToList();
        return new ClusterVerdict(records, $"{records.Count(r => !r.Passed)} object(s) besides the kubernetes Service live in the default namespace: {Failing(records)}");
    }

    private EvidenceRecord Record(string subject, string actual, string expected, string resource, bool passed) =>
        new(subject, actual, expected, $"{apiserver} ({resource})", passed);

    private static bool Excepted(ClusterQuery query, string? ns) => ns is not null && query.ExceptNamespaces.Contains(ns, StringComparer.Ordinal);

    private static string Describe(bool? value) => value is { } v ? (v ? "true" : "false") : "unset (true)";

    private static string Failing(IEnumerable<EvidenceRecord> records)
    {
        var failing = records.Where(r => !r.Passed).Select(r => r.Subject).ToList();
        return failing.Count == 0 ? "none" : string.Join(", ", failing.Take(10)) + (failing.Count > 10 ? $" and {failing.Count - 10} more" : "");
    }
}
