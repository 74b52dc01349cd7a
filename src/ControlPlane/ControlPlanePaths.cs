using Bulwark.FileSystem;

namespace Bulwark.ControlPlane;

/// <summary>The control plane's view of the node layout (<see cref="NodeLayout"/>, docs/layout.md).</summary>
public sealed record ControlPlanePaths(string DataDir, string EtcDir)
{
    public NodeLayout Layout => new(DataDir, EtcDir);
    public string Tls => Layout.TlsDir;
    public string EtcdTls => Layout.EtcdTlsDir;
    public string Cred => Layout.CredDir;
    public string ServerManifests => Layout.ServerManifestsDir;
    public string ServerLogs => Layout.ServerLogsDir;
    public string EtcdData => Layout.EtcdMemberDir;
    public string Agent => Layout.AgentDir;
    public string PodManifests => Layout.PodManifestsDir;
    public string AgentEtc => Layout.AgentEtcDir;
    public string AgentLogs => Layout.AgentLogsDir;
    public string KubeletConfig => Layout.KubeletConfig;
    public string KubeletArgs => Layout.KubeletArgs;
    public string EncryptionConfig => Layout.EncryptionConfig;
    public string EncryptionState => Layout.EncryptionState;
    public string DefaultPodSecurityConfig => Layout.PodSecurityConfig;
    public string DefaultAuditPolicy => Layout.AuditPolicy;
    public string NetworkPolicies => Path.Combine(ServerManifests, "bulwark-network-policies.yaml");
    public string ServiceAccounts => Path.Combine(ServerManifests, "bulwark-service-accounts.yaml");
    public string RuntimeRoot => Layout.RuntimeDataDir;

    public string PodManifest(string component) => Layout.PodManifest(component);
}
