using Bulwark.Config;

namespace Bulwark.Cli;

/// <summary>The config checks each capability registers, composed here at the edge so Config depends on none of them.</summary>
public static class ConfigChecks
{
    public static readonly IReadOnlyList<ConfigCheck> All =
    [
        Etcd.SnapshotConfigChecks.Cron,
        Etcd.SnapshotConfigChecks.S3,
        Server.ServerConfigChecks.Roles,
        Cni.CniConfigChecks.Check,
        ControlPlane.ComponentArgChecks.Validate,
    ];

    /// <summary>
    /// Running a node (bulwark agent, or config check of what it would run) also needs where and how to join; commands
    /// that only read an agent's settings (hardening check --role agent) do not.
    /// </summary>
    public static readonly IReadOnlyList<ConfigCheck> ForNodeRun = [.. All, Agent.AgentConfigChecks.JoinTarget];
}
