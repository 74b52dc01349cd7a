namespace Bulwark.Pki;

/// <summary>A CA of the server PKI (RKE2's file stem relative to server/tls).</summary>
public sealed record CaDefinition(string Stem, string CommonNamePrefix);

/// <summary>Which SANs a leaf carries.</summary>
public enum SanSet
{
    None,
    KubeApiserver,
    Etcd,
}

/// <summary>A leaf certificate of the server PKI, with the <c>certificate rotate --service</c> name it belongs to.</summary>
public sealed record LeafDefinition(string Stem, string Service, string IssuerStem, string CommonName, IReadOnlyList<string> Organizations, CertificateUsage Usage, SanSet Sans);

/// <summary>The server certificates, named and issued as RKE2 does (subjects per RKE2, "bulwark" for "rke2").</summary>
public static class PkiCatalog
{
    public const string ServerCa = "server-ca";
    public const string ClientCa = "client-ca";
    public const string RequestHeaderCa = "request-header-ca";
    public const string EtcdServerCa = "etcd/server-ca";
    public const string EtcdPeerCa = "etcd/peer-ca";

    private const string Masters = "system:masters";

    public static IReadOnlyList<CaDefinition> Cas { get; } =
    [
        new(ServerCa, "bulwark-server-ca"),
        new(ClientCa, "bulwark-client-ca"),
        new(RequestHeaderCa, "bulwark-request-header-ca"),
        new(EtcdServerCa, "etcd-server-ca"),
        new(EtcdPeerCa, "etcd-peer-ca"),
    ];

    public static IReadOnlyList<LeafDefinition> Leaves { get; } =
    [
        new("serving-kube-apiserver", "api-server", ServerCa, "kube-apiserver", [], CertificateUsage.Server, SanSet.KubeApiserver),
        new("client-kube-apiserver", "api-server", ClientCa, "system:apiserver", [Masters], CertificateUsage.Client, SanSet.None),
        new("client-admin", "admin", ClientCa, "system:admin", [Masters], CertificateUsage.Client, SanSet.None),
        new("client-controller", "controller-manager", ClientCa, "system:kube-controller-manager", [], CertificateUsage.Client, SanSet.None),
        new("client-scheduler", "scheduler", ClientCa, "system:kube-scheduler", [], CertificateUsage.Client, SanSet.None),
        new("client-kube-proxy", "kube-proxy", ClientCa, "system:kube-proxy", [], CertificateUsage.Client, SanSet.None),
        new("client-supervisor", "supervisor", ClientCa, "system:bulwark-supervisor", [Masters], CertificateUsage.Client, SanSet.None),
        new("client-auth-proxy", "auth-proxy", RequestHeaderCa, "system:auth-proxy", [], CertificateUsage.Client, SanSet.None),
        new("etcd/server-client", "etcd", EtcdServerCa, "etcd-server", [], CertificateUsage.ServerAndClient, SanSet.Etcd),
        new("etcd/peer-server-client", "etcd", EtcdPeerCa, "etcd-peer", [], CertificateUsage.ServerAndClient, SanSet.Etcd),
        new("etcd/client", "etcd", EtcdServerCa, "etcd-client", [], CertificateUsage.Client, SanSet.None),
    ];

    /// <summary>RKE2's <c>--service</c> names that mean the same thing here.</summary>
    private static readonly Dictionary<string, string> ServiceAliases = new(StringComparer.Ordinal)
    {
        ["rke2-server"] = "supervisor",
        ["rke2-controller"] = "supervisor",
        ["kube-apiserver"] = "api-server",
        ["kube-controller-manager"] = "controller-manager",
        ["kube-scheduler"] = "scheduler",
    };

    public static IReadOnlyList<string> Services => Leaves.Select(l => l.Service).Distinct().ToList();

    /// <summary>Leaves for the service names given (all when empty). Unknown names: an error naming the valid ones.</summary>
    public static IReadOnlyList<LeafDefinition> LeavesFor(IReadOnlyCollection<string> services)
    {
        if (services.Count == 0)
        {
            return Leaves;
        }
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in services)
        {
            var service = ServiceAliases.GetValueOrDefault(name, name);
            if (!Services.Contains(service))
            {
                var hint = name is "kubelet" or "cloud-controller" ? $" ('{name}' certificates live on agents and are rotated there)" : "";
                throw new ArgumentException($"unknown service '{name}'{hint}; valid services: {string.Join(", ", Services)}");
            }
            selected.Add(service);
        }
        return Leaves.Where(l => selected.Contains(l.Service)).ToList();
    }
}
