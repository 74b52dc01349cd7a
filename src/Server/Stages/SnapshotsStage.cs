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
        var snapshots = SnapshotSettings.FromConfig(node.Config, etcd, node.Environment);
        if (snapshots.ScheduleDisabled)
        {
            return Task.FromResult(new StageResult("scheduled snapshots disabled (etcd-disable-snapshots)"));
        }
        // One S3 client for the life of the server, disposed when the scheduler stops.
        var s3 = snapshots.S3 is { } settings ? new S3SnapshotStore(settings) : null;
        var scheduler = new SnapshotScheduler(CronSchedule.Parse(snapshots.Cron), snapshots.Retention, new SnapshotStore(snapshots.Directory),
            () => new EtcdClient(etcd.ClientOptions()),
            () => snapshots.Request(snapshots.ScheduledName, SnapshotMetadata.ScheduledKind, etcd.NodeName, node.BulwarkVersion),
            node.Loggers.CreateLogger<SnapshotScheduler>(), s3: s3);
        return Task.FromResult(new StageResult(
            $"scheduled \"{snapshots.Cron}\" into {snapshots.Directory}, keeping {snapshots.Retention}{(snapshots.Compress ? ", compressed" : "")}" +
            (s3 is null ? "" : $"; uploaded to {s3.Describe}, keeping {s3.Settings.Retention}"))
        {
            Running = new BackgroundTask(async cancellationToken =>
            {
                using (s3)
                {
                    await scheduler.RunAsync(cancellationToken).ConfigureAwait(false);
                }
            }),
        });
    }
}
