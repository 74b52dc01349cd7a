namespace Bulwark.Config;

/// <summary>
/// The key table: every configuration key Bulwark understands, with RKE2's names, types, defaults and roles.
/// Config files, <c>BULWARK_*</c> environment variables and flags are all read through this table.
/// </summary>
public static class ConfigKeys
{
    private const ConfigRole S = ConfigRole.Server;
    private const ConfigRole A = ConfigRole.Agent;

    public static readonly IReadOnlyList<string> Profiles = ["", "cis", "cis-1.23", "etcd"];

    // General
    public static readonly BoolKey Debug = new("debug", false, "Turn on debug logs");
    public static readonly EnumKey LogFormat = new("log-format", "text", ["text", "json"], "Log format: text for people, json for machines");
    public static readonly StringKey DataDir = new("data-dir", "/var/lib/bulwark", "Folder to hold state", validate: Validators.NotEmpty);
    public static readonly EnumKey Profile = new("profile", "", Profiles, "Hardening profile to validate and apply: cis, cis-1.23 (the same rules), or etcd (etcd user only)");
    public static readonly BoolKey ProtectKernelDefaults = new("protect-kernel-defaults", false, "Refuse to run if kernel parameters differ from the kubelet's expectations (forced on under the CIS profile)");
    public static readonly EnumKey FipsMode = new("fips-mode", "on", ["on", "strict", "off"], "FIPS crypto policy: on (approved algorithms + self-tests), strict (also require the OpenSSL FIPS provider), off");
    public static readonly BoolKey Selinux = new("selinux", false, "Enable SELinux in containerd");

    // Cluster membership
    public static readonly StringKey Token = new("token", "", "Shared secret used to join a server or agent to a cluster");
    public static readonly StringKey TokenFile = new("token-file", "", "File containing the token");
    public static readonly StringKey AgentToken = new("agent-token", "", "Shared secret used to join agents (defaults to token)", S);
    public static readonly StringKey AgentTokenFile = new("agent-token-file", "", "File containing the agent token", S);
    public static readonly StringKey Server = new("server", "", "Server to connect to, e.g. https://server:9345", validate: Validators.HttpsUrl, expected: "an https URL");
    public static readonly BoolKey ClusterReset = new("cluster-reset", false, "Forget all peers and become the sole member of a new cluster", S);
    public static readonly StringKey ClusterResetRestorePath = new("cluster-reset-restore-path", "", "Snapshot path or name to restore during --cluster-reset", S);
    public static readonly BoolKey ClusterResetRestoreForeign = new("cluster-reset-restore-foreign", false, "Restore a snapshot even when nothing proves it belongs to this cluster (no metadata or another token); the node then serves that snapshot's data", S);

    // Networking and identity
    public static readonly StringKey BindAddress = new("bind-address", "0.0.0.0", "Address the supervisor and apiserver listen on", S, Validators.IpAddress, "an IP address");
    public static readonly StringKey AdvertiseAddress = new("advertise-address", "", "Address the apiserver advertises to members of the cluster (default node-ip)", S, Validators.OptionalIpAddress, "an IP address");
    public static readonly BoolKey SingleHostDemo = new("single-host-demo", false, "Allow a loopback advertise-address (one host only: pods cannot reach the kubernetes Service); for demos and tests", S);
    public static readonly StringKey NodeIp = new("node-ip", "", "IP address to advertise for this node", validate: Validators.OptionalIpAddress, expected: "an IP address");
    public static readonly StringKey NodeExternalIp = new("node-external-ip", "", "External IP address to advertise for this node", validate: Validators.OptionalIpAddress, expected: "an IP address");
    public static readonly StringKey NodeName = new("node-name", "", "Node name (default: the hostname)", validate: Validators.NodeName, expected: "a DNS name");
    public static readonly BoolKey WithNodeId = new("with-node-id", false, "Append a unique id to the node name");
    public static readonly ListKey NodeLabel = new("node-label", "Labels to register the kubelet with (key=value)");
    public static readonly ListKey NodeTaint = new("node-taint", "Taints to register the kubelet with (key=value:effect)");
    public static readonly ListKey TlsSan = new("tls-san", "Additional host names or IPs as Subject Alternative Names in the serving certificates", S);
    public static readonly StringKey ClusterCidr = new("cluster-cidr", "10.42.0.0/16", "Pod network CIDR(s)", S, Validators.CidrList, "a CIDR");
    public static readonly StringKey ServiceCidr = new("service-cidr", "10.43.0.0/16", "Service network CIDR(s)", S, Validators.CidrList, "a CIDR");
    public static readonly StringKey ClusterDns = new("cluster-dns", "10.43.0.10", "Cluster DNS service IP", S, Validators.IpAddress, "an IP address");
    public static readonly StringKey ClusterDomain = new("cluster-domain", "cluster.local", "Cluster domain", S, Validators.NodeName, "a DNS name");
    public static readonly StringKey ServiceNodePortRange = new("service-node-port-range", "30000-32767", "Port range reserved for NodePort services", S);
    public static readonly ListKey Cni = new("cni", "CNI to deploy: canal, calico, cilium or none, optionally after multus (multus,canal); rules in src/Cni/CniSelection.cs", S, defaultValue: ["canal"]);

    // Ports
    public static readonly IntKey SupervisorPort = new("supervisor-port", 9345, "Port of the supervisor API (join, certificates)", 1, 65535, S);
    public static readonly IntKey HttpsListenPort = new("https-listen-port", 6443, "Port of the Kubernetes API server", 1, 65535, S);
    public static readonly IntKey EtcdClientPort = new("etcd-client-port", 2379, "etcd client port", 1, 65535, S);
    public static readonly IntKey EtcdPeerPort = new("etcd-peer-port", 2380, "etcd peer port", 1, 65535, S);
    public static readonly IntKey EtcdMetricsPort = new("etcd-metrics-port", 2381, "etcd metrics and health port (loopback only)", 1, 65535, S);
    public static readonly BoolKey SupervisorMetrics = new("supervisor-metrics", false, "Serve Prometheus metrics on the supervisor port", S);

    // Roles
    public static readonly BoolKey DisableApiserver = new("disable-apiserver", false, "Do not run kube-apiserver", S);
    public static readonly BoolKey DisableControllerManager = new("disable-controller-manager", false, "Do not run kube-controller-manager", S);
    public static readonly BoolKey DisableScheduler = new("disable-scheduler", false, "Do not run kube-scheduler", S);
    public static readonly BoolKey DisableEtcd = new("disable-etcd", false, "Do not run etcd (control-plane-only node)", S);
    public static readonly BoolKey DisableKubeProxy = new("disable-kube-proxy", false, "Do not run kube-proxy", S);
    public static readonly ListKey Disable = new("disable", "Packaged components not to deploy (e.g. rke2-ingress-nginx)", S);

    // etcd snapshots
    public static readonly BoolKey EtcdDisableSnapshots = new("etcd-disable-snapshots", false, "Disable scheduled etcd snapshots", S);
    public static readonly StringKey EtcdSnapshotScheduleCron = new("etcd-snapshot-schedule-cron", "0 */12 * * *", "Snapshot schedule in cron syntax", S, expected: "a cron expression");
    public static readonly IntKey EtcdSnapshotRetention = new("etcd-snapshot-retention", 5, "Number of scheduled snapshots to keep", 1, int.MaxValue, S);
    public static readonly StringKey EtcdSnapshotDir = new("etcd-snapshot-dir", "", "Folder for snapshots (default <data-dir>/server/db/snapshots)", S);
    public static readonly StringKey EtcdSnapshotName = new("etcd-snapshot-name", "etcd-snapshot", "Base name of snapshots", S, Validators.NodeName, "a DNS name");
    public static readonly BoolKey EtcdSnapshotCompress = new("etcd-snapshot-compress", false, "Compress snapshots", S);
    // etcd snapshots in S3 (RKE2's etcd-s3-* keys, same names and defaults)
    public static readonly BoolKey EtcdS3 = new("etcd-s3", false, "Upload snapshots to S3 after each save", S);
    public static readonly StringKey EtcdS3Endpoint = new("etcd-s3-endpoint", "s3.amazonaws.com", "S3 endpoint as host[:port], without a scheme", S, Validators.S3Endpoint, "host[:port]");
    public static readonly StringKey EtcdS3EndpointCa = new("etcd-s3-endpoint-ca", "", "CA certificate file (PEM) to trust for the S3 endpoint", S);
    public static readonly BoolKey EtcdS3SkipSslVerify = new("etcd-s3-skip-ssl-verify", false, "Do not verify the S3 endpoint's TLS certificate", S);
    public static readonly BoolKey EtcdS3Insecure = new("etcd-s3-insecure", false, "Talk to S3 over plain http instead of https", S);
    public static readonly StringKey EtcdS3Bucket = new("etcd-s3-bucket", "", "S3 bucket name", S);
    public static readonly StringKey EtcdS3Region = new("etcd-s3-region", "us-east-1", "S3 region", S, Validators.NotEmpty, "a region name");
    public static readonly StringKey EtcdS3Folder = new("etcd-s3-folder", "", "Folder (key prefix) for snapshots in the bucket", S, Validators.S3Folder, "a folder such as cluster-a/etcd");
    public static readonly StringKey EtcdS3AccessKey = new("etcd-s3-access-key", "", "S3 access key (default AWS_ACCESS_KEY_ID from the environment)", S);
    public static readonly StringKey EtcdS3SecretKey = new("etcd-s3-secret-key", "", "S3 secret key (default AWS_SECRET_ACCESS_KEY from the environment)", S);
    public static readonly IntKey EtcdS3Retention = new("etcd-s3-retention", 5, "Number of snapshots of each base name to keep in the S3 folder", 1, int.MaxValue, S);
    public static readonly StringKey EtcdS3Timeout = new("etcd-s3-timeout", "5m", "Time limit of each S3 operation", S, Validators.Duration, "a duration such as 5m");
    public static readonly StringKey EtcdS3Proxy = new("etcd-s3-proxy", "", "Proxy URL for S3 (\"none\" for no proxy; default the proxy environment variables)", S, Validators.ProxyUrl, "a URL or none");
    public static readonly BoolKey EtcdExposeMetrics = new("etcd-expose-metrics", false, "Expose etcd metrics on the node address instead of loopback", S);

    // Control plane
    public static readonly ListKey KubeApiserverArg = new("kube-apiserver-arg", "Extra kube-apiserver arguments (name=value)", S, Validators.ComponentArg);
    public static readonly ListKey KubeControllerManagerArg = new("kube-controller-manager-arg", "Extra kube-controller-manager arguments (name=value)", S, Validators.ComponentArg);
    public static readonly ListKey KubeSchedulerArg = new("kube-scheduler-arg", "Extra kube-scheduler arguments (name=value)", S, Validators.ComponentArg);
    public static readonly ListKey EtcdArg = new("etcd-arg", "Extra etcd arguments (name=value)", S, Validators.ComponentArg);
    public static readonly ListKey KubeletArg = new("kubelet-arg", "Extra kubelet arguments (name=value)", validateItem: Validators.ComponentArg);
    public static readonly ListKey KubeProxyArg = new("kube-proxy-arg", "Extra kube-proxy arguments (name=value)", validateItem: Validators.ComponentArg);
    public static readonly StringKey WriteKubeconfig = new("write-kubeconfig", "/etc/bulwark/bulwark.yaml", "Where to write the admin kubeconfig", S);
    public static readonly StringKey WriteKubeconfigMode = new("write-kubeconfig-mode", "0600", "Mode of the admin kubeconfig", S, Validators.FileMode, "an octal file mode");
    public static readonly StringKey PodSecurityAdmissionConfigFile = new("pod-security-admission-config-file", "", "Pod Security Admission configuration file to use instead of the default", S);
    public static readonly StringKey AuditPolicyFile = new("audit-policy-file", "", "Audit policy file to use instead of the default", S);
    public static readonly BoolKey SecretsEncryption = new("secrets-encryption", true, "Encrypt Secrets at rest", S);
    public static readonly EnumKey SecretsEncryptionProvider = new("secrets-encryption-provider", "aescbc", ["aescbc", "kms"], "Provider that encrypts new Secrets: aescbc (a static key in the encryption config) or kms (Bulwark's KMS v2 plugin, its key sealed to the TPM when there is one)", S);
    public static readonly EnumKey SecretsEncryptionKeyProtection = new("secrets-encryption-key-protection", "auto", ["auto", "tpm", "file"], "How the KMS plugin keeps its key-encryption keys: tpm (sealed to the TPM 2.0), file (0600 files), auto (tpm when the TPM device exists)", S);
    public static readonly StringKey SecretsEncryptionTpmTcti = new("secrets-encryption-tpm-tcti", "device:/dev/tpmrm0", "TPM the KMS keys are sealed to, as a tpm2-tools TCTI (device:/dev/tpmrm0, or swtpm:port=N for a software TPM)", S, validate: Validators.NotEmpty);
    public static readonly StringKey SecretsEncryptionTpmPcrs = new("secrets-encryption-tpm-pcrs", "", "PCRs the sealed KMS keys are bound to, e.g. sha256:0,2,4,7 (empty: not bound; a firmware or boot change then cannot lock the keys)", S, Validators.PcrSelection, "a PCR selection such as sha256:7");
    public static readonly StringKey SystemDefaultRegistry = new("system-default-registry", "", "Private registry for all system images");
    public static readonly StringKey PrivateRegistry = new("private-registry", "/etc/bulwark/registries.yaml", "Private registry configuration file");
    public static readonly BoolKey DisableDefaultRegistryEndpoint = new("disable-default-registry-endpoint", false, "Pull only from the mirrors in registries.yaml, never from a registry's own endpoint");
    public static readonly StringKey PauseImage = new("pause-image", "", "Sandbox (pause) image (default rancher/mirrored-pause:3.6 under system-default-registry)");
    public static readonly BoolKey NodeCheck = new("node-check", false, "After start, prove the node runs a pod (bulwark node check: sandbox, container, pod IP, hostPort)");
    public static readonly StringKey ServiceAccountKeyRetention = new("service-account-key-retention", "720h",
        "How long kube-apiserver keeps accepting tokens signed by a service-account key after certificate rotate-sa-key replaced it", S,
        validate: Validators.Duration, expected: "a duration such as 720h");
    public static readonly EnumKey PkiKeyAlgorithm = new("pki-key-algorithm", "ecdsa-p256", ["ecdsa-p256", "ecdsa-p384", "rsa-3072"], "Key algorithm of generated CAs and certificates", S);

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        Debug, LogFormat, DataDir, Profile, ProtectKernelDefaults, FipsMode, Selinux,
        Token, TokenFile, AgentToken, AgentTokenFile, Server, ClusterReset, ClusterResetRestorePath, ClusterResetRestoreForeign,
        BindAddress, AdvertiseAddress, SingleHostDemo, NodeIp, NodeExternalIp, NodeName, WithNodeId, NodeLabel, NodeTaint, TlsSan,
        ClusterCidr, ServiceCidr, ClusterDns, ClusterDomain, ServiceNodePortRange, Cni,
        SupervisorPort, HttpsListenPort, EtcdClientPort, EtcdPeerPort, EtcdMetricsPort, SupervisorMetrics,
        DisableApiserver, DisableControllerManager, DisableScheduler, DisableEtcd, DisableKubeProxy, Disable,
        EtcdDisableSnapshots, EtcdSnapshotScheduleCron, EtcdSnapshotRetention, EtcdSnapshotDir, EtcdSnapshotName,
        EtcdSnapshotCompress, EtcdExposeMetrics,
        EtcdS3, EtcdS3Endpoint, EtcdS3EndpointCa, EtcdS3SkipSslVerify, EtcdS3Insecure, EtcdS3Bucket, EtcdS3Region, EtcdS3Folder,
        EtcdS3AccessKey, EtcdS3SecretKey, EtcdS3Retention, EtcdS3Timeout, EtcdS3Proxy,
        KubeApiserverArg, KubeControllerManagerArg, KubeSchedulerArg, EtcdArg, KubeletArg, KubeProxyArg,
        WriteKubeconfig, WriteKubeconfigMode, PodSecurityAdmissionConfigFile, AuditPolicyFile, SecretsEncryption,
        SecretsEncryptionProvider, SecretsEncryptionKeyProtection, SecretsEncryptionTpmTcti, SecretsEncryptionTpmPcrs,
        SystemDefaultRegistry, PrivateRegistry, PkiKeyAlgorithm, ServiceAccountKeyRetention,
        DisableDefaultRegistryEndpoint, PauseImage, NodeCheck,
    ];

    private static readonly Dictionary<string, ConfigKey> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    public static IEnumerable<ConfigKey> ForRole(ConfigRole role) => All.Where(k => (k.Roles & role) != 0);

}
