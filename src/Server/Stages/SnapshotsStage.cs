using Bulwark.Etcd;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>The scheduled etcd snapshots (cron and retention), running in the background until the node stops.</summary>
public sealed class SnapshotsStage : IStage
{
    public string Name => "snapshots";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var etcd = NodeContext.Require(node.EtcdNode, "etcd");
        var snapshots = SnapshotSettings.FromConfig(node.Config, etcd);
        if (snapshots.ScheduleDisabled)
        {
            return Task.FromResult(new StageResult("scheduled snapshots disabled (etcd-disable-snapshots)"));
        }
        var scheduler = new SnapshotScheduler(CronSchedule.Parse(snapshots.Cron), snapshots.Retention, new SnapshotStore(snapshots.Directory),
            () => new EtcdClient(etcd.ClientOptions()),
            () => snapshots.Request(snapshots.ScheduledName, SnapshotMetadata.ScheduledKind, etcd.NodeName, node.BulwarkVersion),
            node.Loggers.CreateLogger<SnapshotScheduler>());
        return Task.FromResult(new StageResult(
            $"scheduled \"{snapshots.Cron}\" into {snapshots.Directory}, keeping {snapshots.Retention}{(snapshots.Compress ? ", compressed" : "")}")
        {
            Running = new BackgroundTask(scheduler.RunAsync),
        });
    }
}
