namespace Bulwark.FileSystem;

/// <summary>
/// Every path of docs/layout.md, in one place: <c>&lt;data&gt;</c> is the data dir, <c>&lt;etc&gt;</c> the config folder.
/// Capabilities ask this type for a path instead of joining strings; their own path records (EtcdPaths,
/// ServerPkiPaths, ControlPlanePaths, AgentPaths) are thin views over it. Change a path here and in docs/layout.md together.
/// </summary>
public sealed record NodeLayout(string DataDir, string EtcDir)
{
    /// <summary>The default <c>&lt;etc&gt;</c> (the folder of /etc/bulwark/config.yaml).</summary>
    public const string DefaultEtcDir = "/etc/bulwark";

    /// <summary>For callers that need only <c>&lt;data&gt;</c> paths.</summary>
    public NodeLayout(string dataDir) : this(dataDir, DefaultEtcDir)
    {
    }

    public const string DefaultDataDir = "/var/lib/bulwark";

    /// <summary>
    /// A path under /run for this data dir: <paramref name="defaultPath"/> itself for the default data dir, else with a
    /// suffix hashed from the data dir (so two nodes on one host, as in tests, never share a socket).
    /// </summary>
    public string RunPath(string defaultPath, string extension = "")
    {
        var full = Path.GetFullPath(DataDir).TrimEnd('/');
        if (full == DefaultDataDir)
        {
            return defaultPath + extension;
        }
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(full)))[..10];
        return $"{defaultPath}-{hash}{extension}";
    }

    /// <summary>The KMS v2 plugin's socket, which kube-apiserver dials (0600, root).</summary>
    public string KmsSocket => RunPath("/run/bulwark/kms", ".sock");

    /// <summary>Held (flock) for the life of a bulwark server or agent, so two never share a data dir.</summary>
    public string LockFile => Path.Combine(DataDir, ".lock");

    // <data>/server
    public string ServerDir => Path.Combine(DataDir, "server");
    public string TlsDir => Path.Combine(ServerDir, "tls");
    public string EtcdTlsDir => Path.Combine(TlsDir, "etcd");
    public string TokenFile => Path.Combine(ServerDir, "token");
    public string AgentTokenFile => Path.Combine(ServerDir, "agent-token");
    public string CredDir => Path.Combine(ServerDir, "cred");
    public string EncryptionConfig => Path.Combine(CredDir, "encryption-config.json");
    public string EncryptionState => Path.Combine(CredDir, "encryption-state.json");
    public string KmsDir => Path.Combine(CredDir, "kms");
    public string ServerManifestsDir => Path.Combine(ServerDir, "manifests");
    public string ChartArchivesDir => Path.Combine(ServerDir, "static", "charts");
    public string DeployedCniFile => Path.Combine(ServerDir, "cni");
    public string AppliedManifestsRecord => Path.Combine(ServerDir, "manifests-applied.json");
    public string ServerLogsDir => Path.Combine(ServerDir, "logs");
    public string ServerEtcDir => Path.Combine(ServerDir, "etc");
    public string SchedulerConfig => Path.Combine(ServerEtcDir, "kube-scheduler-config.yaml");

    /// <summary>A control-plane-only server (disable-etcd): the cluster's etcd client URLs it uses, one a line (no server/db there).</summary>
    public string EtcdEndpointsFile => Path.Combine(ServerDir, "etcd-endpoints");

    // <data>/server/db (etcd)
    public string DbDir => Path.Combine(ServerDir, "db");
    public string EtcdMemberDir => Path.Combine(DbDir, "etcd");
    public string EtcdConfigFile => Path.Combine(DbDir, "etcd-config.yaml");
    public string EtcdAccountTlsDir => Path.Combine(DbDir, "etcd-tls");
    public string SnapshotsDir => Path.Combine(DbDir, "snapshots");
    public string ResetFlag => Path.Combine(DbDir, "reset-flag");
    public string EtcdPidFile => Path.Combine(DbDir, "etcd.pid");
    public string EtcdNameFile => Path.Combine(DbDir, "name");
    public string EtcdJoiningMarker => Path.Combine(DbDir, "joining");

    // <data>/agent
    public string AgentDir => Path.Combine(DataDir, "agent");
    public string AgentEtcDir => Path.Combine(AgentDir, "etc");
    public string AgentLogsDir => Path.Combine(AgentDir, "logs");
    public string PodManifestsDir => Path.Combine(AgentDir, "pod-manifests");
    public string KubeletConfig => Path.Combine(AgentEtcDir, "kubelet-config.yaml");
    public string KubeletArgs => Path.Combine(AgentEtcDir, "kubelet.args");
    public string AgentConfig => Path.Combine(AgentEtcDir, "agent-config.json");
    public string NodePassword => Path.Combine(AgentDir, "node-password");
    public string NodeId => Path.Combine(AgentDir, "node-id");
    public string AgentServerCa => Path.Combine(AgentDir, "server-ca.crt");
    public string AgentClientCa => Path.Combine(AgentDir, "client-ca.crt");
    public string KubeletKubeconfig => Path.Combine(AgentDir, "kubelet.kubeconfig");
    public string KubeProxyKubeconfig => Path.Combine(AgentDir, "kubeproxy.kubeconfig");
    public string EtcdLogFile => Path.Combine(AgentLogsDir, "etcd.log");

    // <data>/data/<version>/bin
    public string RuntimeDataDir => Path.Combine(DataDir, "data");

    public string RuntimeBinDir(string version) => Path.Combine(RuntimeDataDir, version, "bin");

    // <etc>
    public string PodSecurityConfig => Path.Combine(EtcDir, "bulwark-pss.yaml");
    public string AuditPolicy => Path.Combine(EtcDir, "audit-policy.yaml");
    public string AdminKubeconfig => Path.Combine(EtcDir, "bulwark.yaml");

    /// <summary>Stems under server/tls ("client-admin", "etcd/server-client") to their certificate and key files.</summary>
    public (string Certificate, string Key) TlsFiles(string stem) =>
        (Path.Combine(TlsDir, stem + ".crt"), Path.Combine(TlsDir, stem + ".key"));

    public string PodManifest(string component) => Path.Combine(PodManifestsDir, component + ".yaml");

    /// <summary>Runtime bundle bin folders (<c>data/&lt;version&gt;/bin</c>), newest name first, searched before PATH.</summary>
    public IReadOnlyList<string> BundleBinDirs() =>
        Directory.Exists(RuntimeDataDir)
            ? Directory.GetDirectories(RuntimeDataDir).Select(d => Path.Combine(d, "bin")).Where(Directory.Exists).OrderDescending(StringComparer.Ordinal).ToList()
            : [];
}
