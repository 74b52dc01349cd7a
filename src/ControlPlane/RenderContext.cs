using System.Globalization;
using System.Text.RegularExpressions;
using Bulwark.Config;
using Bulwark.Pki;

namespace Bulwark.ControlPlane;

/// <summary>
/// Everything a template in policies/components/ can refer to: paths from the node layout, ports and networks from
/// the configuration, the node's identity, and the TLS settings. Built once per render; immutable.
/// </summary>
public sealed partial class RenderContext
{
    private readonly IReadOnlyDictionary<string, string> _values;
    private readonly IReadOnlyDictionary<string, bool> _switches;

    /// <param name="kubeletRunsStaticPods">True when the kubelet starts the components from the static pod manifests;
    /// false (process mode) when <see cref="ComponentLauncher"/> starts them from the runtime bundle.</param>
    /// <param name="agentNode">An agent: the kubelet trusts the client CA its join wrote (agent/client-ca.crt), there is no server PKI.</param>
    public RenderContext(EffectiveConfig config, string etcDir, TlsSettings? tls = null, NodeIdentity? node = null, bool kubeletRunsStaticPods = false, bool agentNode = false)
    {
        KubeletRunsStaticPods = kubeletRunsStaticPods;
        Config = config;
        Paths = new ControlPlanePaths(config.DataDir, Path.GetFullPath(etcDir));
        Tls = tls ?? TlsSettings.Fips;
        Node = node ?? NodeIdentity.Resolve(config);
        IsCis = config.Profile == HardeningProfile.Cis;
        PodSecurityConfigPath = UserPath(config, ConfigKeys.PodSecurityAdmissionConfigFile) ?? Paths.DefaultPodSecurityConfig;
        AuditPolicyPath = UserPath(config, ConfigKeys.AuditPolicyFile) ?? Paths.DefaultAuditPolicy;
        AdvertiseAddress = config.Get(ConfigKeys.AdvertiseAddress) is { Length: > 0 } advertise ? advertise : Node.PrimaryAddress;
        // Every kubeconfig and probe must reach an address the apiserver binds: loopback only when it binds them all.
        var bind = NodeIdentity.SpecificBindAddress(config);
        var host = bind is null ? "127.0.0.1" : bind.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{bind}]" : bind.ToString();
        KubeApiserverUrl = $"https://{host}:{config.Get(ConfigKeys.HttpsListenPort)}";
        var labels = config.Get(ConfigKeys.NodeLabel);
        var etcd = Etcd.EtcdNode.FromConfig(config);
        var taints = config.Get(ConfigKeys.NodeTaint);
        _values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["data"] = Paths.DataDir,
            ["etc"] = Paths.EtcDir,
            ["tls"] = Paths.Tls,
            ["etcd-tls"] = Paths.EtcdTls,
            ["cred"] = Paths.Cred,
            ["agent"] = Paths.Agent,
            ["pod-manifests"] = Paths.PodManifests,
            ["etcd-data"] = Paths.EtcdData,
            ["kubelet-config"] = Paths.KubeletConfig,
            ["kubelet-client-ca"] = agentNode ? config.Layout.AgentClientCa : Path.Combine(Paths.Tls, "client-ca.crt"),
            ["scheduler-config"] = Paths.SchedulerConfig,
            ["encryption-config"] = Paths.EncryptionConfig,
            ["psa-config"] = PodSecurityConfigPath,
            ["audit-policy"] = AuditPolicyPath,
            // The local member; on a control-plane-only server every cluster member (kube-apiserver fails over between them).
            ["etcd-endpoint"] = etcd.RemoteClientUrls is { Count: > 0 } members
                ? string.Join(',', members.Select(Etcd.ClusterEndpoints.Text))
                : Etcd.ClusterEndpoints.Text(etcd.LocalClientUrl),
            ["kube-apiserver-url"] = KubeApiserverUrl,
            ["tls-cipher-suites"] = string.Join(',', Tls.CipherSuites),
            ["tls-min-version"] = Tls.MinVersion,
            ["https-listen-port"] = Format(config.Get(ConfigKeys.HttpsListenPort)),
            ["etcd-client-port"] = Format(config.Get(ConfigKeys.EtcdClientPort)),
            ["etcd-peer-port"] = Format(config.Get(ConfigKeys.EtcdPeerPort)),
            ["etcd-metrics-port"] = Format(config.Get(ConfigKeys.EtcdMetricsPort)),
            // The URLs the member really listens on (Etcd.EtcdNode), each once: etcd 3.4 exits on a duplicate.
            ["etcd-listen-client-urls"] = string.Join(',', etcd.ListenClientUrls),
            ["etcd-listen-peer-urls"] = string.Join(',', etcd.ListenPeerUrls),
            ["cluster-cidr"] = config.Get(ConfigKeys.ClusterCidr),
            ["service-cidr"] = config.Get(ConfigKeys.ServiceCidr),
            ["cluster-dns"] = config.Get(ConfigKeys.ClusterDns),
            ["cluster-domain"] = config.Get(ConfigKeys.ClusterDomain),
            ["service-node-port-range"] = config.Get(ConfigKeys.ServiceNodePortRange),
            ["bind-address"] = config.Get(ConfigKeys.BindAddress),
            ["node-name"] = Node.Name,
            ["node-ip"] = Node.PrimaryAddress,
            ["advertise-address"] = AdvertiseAddress,
            ["node-labels"] = string.Join(',', labels),
            ["node-taints"] = string.Join(',', taints),
            // The runtime capability owns the CRI socket and the cgroup driver: the kubelet's side only repeats its decision.
            ["containerd-endpoint"] = Runtime.RuntimePaths.For(config.Layout).Endpoint,
            ["cgroup-driver"] = Runtime.ContainerdSettings.CgroupDriver(Runtime.ContainerdSettings.HostUsesSystemd()),
        };
        _switches = new Dictionary<string, bool>(StringComparer.Ordinal)
        {
            ["secrets-encryption"] = config.Get(ConfigKeys.SecretsEncryption),
            // Forced on by the CIS profile (ConfigValidator), and available without it.
            ["protect-kernel-defaults"] = config.Get(ConfigKeys.ProtectKernelDefaults),
            ["kubelet-static-pods"] = kubeletRunsStaticPods,
            ["node-labels"] = labels.Count > 0,
            ["node-taints"] = taints.Count > 0,
            ["hostname-override"] = Node.OverridesHostname,
        };
    }

    public EffectiveConfig Config { get; }
    public ControlPlanePaths Paths { get; }
    public TlsSettings Tls { get; }
    public NodeIdentity Node { get; }
    public bool IsCis { get; }
    public bool KubeletRunsStaticPods { get; }
    public string PodSecurityConfigPath { get; }
    public string AuditPolicyPath { get; }
    /// <summary>Where this node's clients (kubeconfigs, probes) reach the apiserver: loopback, or the one address it binds.</summary>
    public string KubeApiserverUrl { get; }

    /// <summary>kube-apiserver --advertise-address: advertise-address, else the node's primary address.</summary>
    public string AdvertiseAddress { get; }

    /// <summary>Fills {placeholders}; an unknown one is a data error naming where it came from.</summary>
    public string Expand(string template, string where) =>
        Placeholder().Replace(template, m => _values.TryGetValue(m.Groups[1].Value, out var v)
            ? v
            : throw new ControlPlaneDataException($"{where}: unknown placeholder {{{m.Groups[1].Value}}}; known: {string.Join(", ", _values.Keys.Order(StringComparer.Ordinal))}"));

    /// <summary>Whether an entry applies: CIS-only entries need the profile, "when" entries need their switch on.</summary>
    public bool Applies(bool cisOnly, string? when, string where)
    {
        if (cisOnly && !IsCis)
        {
            return false;
        }
        if (when is null)
        {
            return true;
        }
        return _switches.TryGetValue(when, out var on)
            ? on
            : throw new ControlPlaneDataException($"{where}: unknown condition \"{when}\"; known: {string.Join(", ", _switches.Keys)}");
    }

    private static string? UserPath(EffectiveConfig config, StringKey key) =>
        config.Get(key) is { Length: > 0 } path ? Path.GetFullPath(path) : null;

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\{([a-z][a-z0-9-]*)\}")]
    private static partial Regex Placeholder();
}
