using Bulwark.Config;
using Bulwark.Etcd;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary><c>--cluster-reset</c> (and <c>--cluster-reset-restore-path</c>): etcd reset to a single member, then the run ends.</summary>
public sealed class ResetStage : IStage
{
    public string Name => "reset";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var etcd = node.EtcdNode = EtcdNode.FromConfig(node.Config);
        var snapshots = SnapshotSettings.FromConfig(node.Config, etcd, node.Environment);
        var restore = node.Config.Get(ConfigKeys.ClusterResetRestorePath);
        node.Progress(restore.Length > 0 ? $"restoring snapshot {restore} and resetting etcd to a single member" : "resetting etcd to a single member, keeping its data");
        using var s3 = snapshots.S3 is { } settings && restore.Length > 0 ? new S3SnapshotStore(settings) : null;
        var outcome = await new ClusterReset(etcd, node.Loggers.CreateLogger<ClusterReset>())
            .RunAsync(restore, snapshots.Directory, snapshots.Token, node.Config.Get(ConfigKeys.ClusterResetRestoreForeign), cancellationToken, s3).ConfigureAwait(false);
        var details = new List<string>();
        if (outcome.OldDataMovedTo is { } old)
        {
            details.Add($"previous member data kept in {old}");
        }
        details.AddRange(outcome.Guidance);
        return new StageResult($"etcd member {outcome.MemberName} is now a single-member cluster{(outcome.RestoredFrom is { } from ? $", restored from {from}" : "")}") { Details = details };
    }
}
