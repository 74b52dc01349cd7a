using System.Globalization;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Etcd;

/// <summary>
/// Everything that identifies and configures one etcd member. etcd is launched with these as flags
/// (<see cref="ToArgs"/>), and the same settings are kept in etcd's config-file YAML (<see cref="Render"/>) at
/// server/db/etcd-config.yaml, root:root 0600, as the record the audit and kube-bench read when etcd is not running: etcd
/// running as its own account could not read a root-only file, and CIS 1.12's 1.1.7/1.1.8 ask for exactly that.
/// </summary>
public sealed record EtcdMemberConfig
{
    public required string Name { get; init; }
    public required string DataDir { get; init; }
    public required IReadOnlyList<string> ListenClientUrls { get; init; }
    public required IReadOnlyList<string> AdvertiseClientUrls { get; init; }
    public required IReadOnlyList<string> ListenPeerUrls { get; init; }
    public required IReadOnlyList<string> AdvertisePeerUrls { get; init; }
    public required string ListenMetricsUrl { get; init; }
    public required string InitialCluster { get; init; }
    public string InitialClusterState { get; init; } = "new";
    public string InitialClusterToken { get; init; } = "bulwark-etcd";
    public bool ForceNewCluster { get; init; }
    public required string TrustedCaFile { get; init; }
    public required string CertFile { get; init; }
    public required string KeyFile { get; init; }
    public required string PeerTrustedCaFile { get; init; }
    public required string PeerCertFile { get; init; }
    public required string PeerKeyFile { get; init; }
    public IReadOnlyList<string> CipherSuites { get; init; } = EtcdCipherSuites.Tls12;

    /// <summary>As k3s/RKE2: 500 ms heartbeat and 5 s election timeout, tolerant of slow disks and VMs.</summary>
    public int HeartbeatIntervalMs { get; init; } = 500;
    public int ElectionTimeoutMs { get; init; } = 5000;

    /// <summary>etcd-arg entries (name=value), written as plain YAML scalars so etcd reads numbers and booleans as such.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>The http URL of /health (metrics listener, loopback, no client cert needed).</summary>
    public Uri HealthUrl => new(ListenMetricsUrl.TrimEnd('/') + "/health");

    public Uri ClientEndpoint => new(AdvertiseClientUrls[0]);

    /// <summary>etcd's argv (after the program): the settings of <see cref="Render"/> as --flag=value, etcd-arg entries
    /// replacing same-named ones, the hardened switches last so an etcd-arg cannot turn them off.</summary>
    public IReadOnlyList<string> ToArgs()
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = Name,
            ["data-dir"] = DataDir,
            ["listen-client-urls"] = string.Join(",", ListenClientUrls),
            ["advertise-client-urls"] = string.Join(",", AdvertiseClientUrls),
            ["listen-peer-urls"] = string.Join(",", ListenPeerUrls),
            ["initial-advertise-peer-urls"] = string.Join(",", AdvertisePeerUrls),
            ["listen-metrics-urls"] = ListenMetricsUrl,
            ["initial-cluster"] = InitialCluster,
            ["initial-cluster-state"] = InitialClusterState,
            ["initial-cluster-token"] = InitialClusterToken,
            ["force-new-cluster"] = ForceNewCluster ? "true" : "false",
            ["heartbeat-interval"] = HeartbeatIntervalMs.ToString(CultureInfo.InvariantCulture),
            ["election-timeout"] = ElectionTimeoutMs.ToString(CultureInfo.InvariantCulture),
            ["enable-v2"] = "false",
            ["enable-grpc-gateway"] = "false",
            ["logger"] = "zap",
            ["log-outputs"] = "stderr",
            ["cipher-suites"] = string.Join(",", CipherSuites),
            ["cert-file"] = CertFile,
            ["key-file"] = KeyFile,
            ["trusted-ca-file"] = TrustedCaFile,
            ["peer-cert-file"] = PeerCertFile,
            ["peer-key-file"] = PeerKeyFile,
            ["peer-trusted-ca-file"] = PeerTrustedCaFile,
        };
        foreach (var (name, value) in ExtraArgs.Select(SplitArg))
        {
            flags[name] = value;
        }
        foreach (var setting in Hardening)
        {
            flags[setting.Flag] = setting.Value;
        }
        return [.. flags.Select(f => $"--{f.Key}={f.Value}")];
    }

    public string Render()
    {
        var root = new YamlMappingNode
        {
            { "name", Name },
            { "data-dir", DataDir },
            { "listen-client-urls", string.Join(",", ListenClientUrls) },
            { "advertise-client-urls", string.Join(",", AdvertiseClientUrls) },
            { "listen-peer-urls", string.Join(",", ListenPeerUrls) },
            { "initial-advertise-peer-urls", string.Join(",", AdvertisePeerUrls) },
            { "listen-metrics-urls", ListenMetricsUrl },
            { "initial-cluster", InitialCluster },
            { "initial-cluster-state", InitialClusterState },
            { "initial-cluster-token", InitialClusterToken },
            { "force-new-cluster", Plain(ForceNewCluster ? "true" : "false") },
            { "heartbeat-interval", Plain(HeartbeatIntervalMs.ToString(CultureInfo.InvariantCulture)) },
            { "election-timeout", Plain(ElectionTimeoutMs.ToString(CultureInfo.InvariantCulture)) },
            { "enable-v2", Plain("false") }, // etcd 3.4's default, stated: Kubernetes needs only the v3 API
            // Bulwark speaks native gRPC only: the JSON gateway would be one more way into etcd on a hardened node.
            { "enable-grpc-gateway", Plain("false") },
            { "logger", "zap" },
            { "log-outputs", new YamlSequenceNode(new YamlScalarNode("stderr")) },
            { "cipher-suites", new YamlSequenceNode(CipherSuites.Select(c => new YamlScalarNode(c))) },
            // CIS 2.1 / 2.4: serving and peer certificates; the switches that enforce them come from policies/components/etcd.yaml.
            { "client-transport-security", Files(CertFile, KeyFile, TrustedCaFile) },
            { "peer-transport-security", Files(PeerCertFile, PeerKeyFile, PeerTrustedCaFile) },
        };
        foreach (var arg in ExtraArgs)
        {
            var (name, value) = SplitArg(arg);
            var key = new YamlScalarNode(name);
            if (root.Children.ContainsKey(key))
            {
                root.Children.Remove(key);
            }
            root.Add(key, Plain(value));
        }
        // Applied last, so an etcd-arg cannot switch off client-certificate auth or turn on auto-TLS.
        foreach (var setting in Hardening)
        {
            Set(root, setting.Key, setting.Value);
        }
        var stream = new YamlStream(new YamlDocument(root));
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        writer.WriteLine("# Written by bulwark on every start: the settings etcd is launched with (as flags). Change them with etcd-arg in the bulwark config.");
        stream.Save(writer, assignAnchors: false);
        return writer.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>The hardened settings (policies/components/etcd.yaml, embedded).</summary>
    public IReadOnlyList<EtcdHardeningSetting> Hardening { get; init; } = EtcdHardening.Load(EmbeddedData.BuiltIn);

    private static YamlMappingNode Files(string cert, string key, string ca) => new()
    {
        { "cert-file", cert },
        { "key-file", key },
        { "trusted-ca-file", ca },
    };

    private static void Set(YamlMappingNode root, string path, string value)
    {
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            var key = new YamlScalarNode(part);
            if (!node.Children.TryGetValue(key, out var child) || child is not YamlMappingNode map)
            {
                map = [];
                node.Children[key] = map;
            }
            node = map;
        }
        node.Children[new YamlScalarNode(parts[^1])] = Plain(value);
    }

    private static YamlScalarNode Plain(string value) => new(value) { Style = YamlDotNet.Core.ScalarStyle.Plain };

    private static (string Name, string Value) SplitArg(string arg)
    {
        var trimmed = arg.TrimStart('-');
        var eq = trimmed.IndexOf('=', StringComparison.Ordinal);
        return eq < 0 ? (trimmed, "true") : (trimmed[..eq], trimmed[(eq + 1)..]);
    }
}
