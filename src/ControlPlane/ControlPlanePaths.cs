namespace Bulwark.ControlPlane;

/// <summary>The node file layout (docs/layout.md) for the files the control plane reads and writes.</summary>
public sealed record ControlPlanePaths(string DataDir, string EtcDir)
{
    public string Tls => Path.Combine(DataDir, "server", "tls");
    public string EtcdTls => Path.Combine(Tls, "etcd");
    public string Cred => Path.Combine(DataDir, "server", "cred");
    public string ServerManifests => Path.Combine(DataDir, "server", "manifests");
    public string ServerLogs => Path.Combine(DataDir, "server", "logs");
    public string EtcdData => Path.Combine(DataDir, "server", "db", "etcd");
    public string Agent => Path.Combine(DataDir, "agent");
    public string PodManifests => Path.Combine(Agent, "pod-manifests");
    public string AgentEtc => Path.Combine(Agent, "etc");
    public string AgentLogs => Path.Combine(Agent, "logs");
    public string KubeletConfig => Path.Combine(AgentEtc, "kubelet-config.yaml");
    public string ServerEtc => Path.Combine(DataDir, "server", "etc");
    public string SchedulerConfig => Path.Combine(ServerEtc, "kube-scheduler-config.yaml");
    public string KubeletArgs => Path.Combine(AgentEtc, "kubelet.args");
    public string EncryptionConfig => Path.Combine(Cred, "encryption-config.json");
    public string EncryptionState => Path.Combine(Cred, "encryption-state.json");
    public string DefaultPodSecurityConfig => Path.Combine(EtcDir, "bulwark-pss.yaml");
    public string DefaultAuditPolicy => Path.Combine(EtcDir, "audit-policy.yaml");
    public string NetworkPolicies => Path.Combine(ServerManifests, "bulwark-network-policies.yaml");
    public string ServiceAccounts => Path.Combine(ServerManifests, "bulwark-service-accounts.yaml");
    public string RuntimeRoot => Path.Combine(DataDir, "data");

    public string PodManifest(string component) => Path.Combine(PodManifests, component + ".yaml");
}
