using Bulwark.Config;

namespace Bulwark.Etcd;

/// <summary>Config checks owned by the snapshot capability (registered in Cli/ConfigChecks).</summary>
public static class SnapshotConfigChecks
{
    /// <summary>A bad etcd-snapshot-schedule-cron is a configuration error (unless scheduled snapshots are disabled).</summary>
    public static void Cron(EffectiveConfig config, List<ConfigProblem> problems)
    {
        if (config.Role != ConfigRole.Server || config.Get(ConfigKeys.EtcdDisableSnapshots))
        {
            return;
        }
        var expression = config.Get(ConfigKeys.EtcdSnapshotScheduleCron);
        if (!CronSchedule.TryParse(expression, out _, out var error))
        {
            problems.Add(ConfigProblem.Error(config.SourceOf(ConfigKeys.EtcdSnapshotScheduleCron).Where, ConfigKeys.EtcdSnapshotScheduleCron.Name,
                $"{error}; or set etcd-disable-snapshots: true"));
        }
    }
}
