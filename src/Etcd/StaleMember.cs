using Bulwark.Processes;
using Microsoft.Extensions.Logging;

namespace Bulwark.Etcd;

/// <summary>An etcd left running on this member's data dir by a Bulwark that died: stopped before a new member starts.</summary>
public static class StaleMember
{
    public static Task<bool> StopAsync(string pidFile, string dataDir, ILogger logger, CancellationToken cancellationToken) =>
        LeftoverProcess.StopAsync("etcd", pidFile, args => IsEtcdOn(args, dataDir), logger, cancellationToken);

    /// <summary>True when the pid runs etcd on this member's data dir (zombies are not "ours").</summary>
    internal static bool IsOurEtcd(int pid, string dataDir) => LeftoverProcess.Matches(pid, args => IsEtcdOn(args, dataDir));

    private static bool IsEtcdOn(string[] args, string dataDir) =>
        args.Any(a => a.EndsWith("etcd", StringComparison.Ordinal)) && args.Contains("--data-dir=" + dataDir);
}
