using Bulwark.Config;

namespace Bulwark.Cli;

/// <summary>The config checks each capability registers, composed here at the edge so Config depends on none of them.</summary>
public static class ConfigChecks
{
    public static readonly IReadOnlyList<ConfigCheck> All =
    [
        Etcd.SnapshotConfigChecks.Cron,
        Server.ServerConfigChecks.Roles,
        Agent.AgentConfigChecks.JoinTarget,
        Cni.CniConfigChecks.Check,
        ControlPlane.ComponentArgChecks.Validate,
    ];
}
