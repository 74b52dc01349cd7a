using Microsoft.Extensions.Logging;

namespace Bulwark.Etcd;

/// <summary>
/// Scheduled snapshots in the server: at each cron time, save a "scheduled" snapshot and prune scheduled ones beyond
/// the retention (on-demand snapshots are never pruned here); with etcd-s3, upload it and apply etcd-s3-retention to the S3
/// folder. A failure is logged and the next run still happens: a full or unwritable snapshot folder, or an unreachable
/// S3 endpoint, must not stop the server.
/// </summary>
public sealed class SnapshotScheduler(CronSchedule schedule, int retention, SnapshotStore store, Func<EtcdClient> clientFactory,
    Func<SnapshotRequest> requestFactory, ILogger logger, TimeProvider? clock = null, S3SnapshotStore? s3 = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public int Succeeded { get; private set; }

    public int Failed { get; private set; }

    /// <summary>Snapshots saved locally whose upload to S3 (or S3 pruning) failed.</summary>
    public int UploadsFailed { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = schedule.Next(_clock.GetUtcNow(), _clock.LocalTimeZone);
            logger.LogInformation("next scheduled etcd snapshot at {Next:u}", next.ToUniversalTime());
            var wait = next - _clock.GetUtcNow();
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _clock, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await RunOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the interrupted snapshot removed its partial file.
                return;
            }
        }
    }

    /// <summary>One scheduled snapshot plus pruning. Returns true when the snapshot was saved.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        var request = requestFactory();
        try
        {
            using var client = clientFactory();
            var saved = await store.SaveAsync(client, request, cancellationToken).ConfigureAwait(false);
            Succeeded++;
            logger.LogInformation("scheduled etcd snapshot {Name} saved ({Size} bytes, revision {Revision})", saved.Name, saved.Size, saved.Revision);
            foreach (var pruned in store.Prune(request.BaseName, SnapshotMetadata.ScheduledKind, retention))
            {
                logger.LogInformation("pruned scheduled snapshot {Name} (retention {Retention})", pruned, retention);
            }
            if (s3 is not null)
            {
                await UploadAsync(s3, saved, request.BaseName, cancellationToken).ConfigureAwait(false);
            }
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Any failure (etcd down, disk full, a bug) is logged; the server and the schedule keep running.
            Failed++;
            logger.LogError("scheduled etcd snapshot failed: {Error}. The server keeps running; the next attempt follows the schedule.", e.Message);
            return false;
        }
    }

    private async Task UploadAsync(S3SnapshotStore s3, SnapshotMetadata saved, string baseName, CancellationToken cancellationToken)
    {
        try
        {
            var location = await s3.UploadAsync(Path.Combine(store.Directory, saved.File), saved, null, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("scheduled etcd snapshot {Name} uploaded to {Location}", saved.Name, location);
            var keep = s3.Settings.Retention;
            foreach (var pruned in await s3.PruneAsync(baseName, SnapshotMetadata.ScheduledKind, keep, cancellationToken).ConfigureAwait(false))
            {
                logger.LogInformation("pruned scheduled snapshot {Name} from S3 (etcd-s3-retention {Retention})", pruned, keep);
            }
        }
        catch (SnapshotException e)
        {
            UploadsFailed++;
            logger.LogError("uploading scheduled etcd snapshot {Name} to S3 failed: {Error}. It is kept locally; the next scheduled snapshot tries again.", saved.Name, e.Message);
        }
    }
}
