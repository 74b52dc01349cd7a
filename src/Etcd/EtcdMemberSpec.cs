using Bulwark.Processes;

namespace Bulwark.Etcd;

/// <summary>How to run one etcd member: its config, binary, log and pid files, account, and timeouts.</summary>
public sealed record EtcdMemberSpec(EtcdMemberConfig Config, string Binary, string ConfigFile, string LogFile, string PidFile)
{
    /// <summary>CIS 1.1.11/1.1.12: etcd runs as the etcd account under the cis and etcd profiles.</summary>
    public RunAsUser? RunAs { get; init; }

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>At least 10 s: a leader whose peers are gone waits ~7 s trying to hand over leadership (ETCD-GATEWAY.md pitfall 12).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);
}
