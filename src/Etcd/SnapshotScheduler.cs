using Microsoft.Extensions.Logging;

namespace Bulwark.Etcd;

/// <summary>
/// Scheduled snapshots in the server: at each cron time, save a "scheduled" snapshot and prune scheduled ones beyond
/// the retention (on-demand snapshots are never pruned here). A failure is logged and the next run still happens:
/// a full or unwritable snapshot folder must not stop the server.
/// </summary>
public sealed class SnapshotScheduler(CronSchedule schedule, int retention, SnapshotStore store, Func<EtcdClient> clientFactory,
    Func<SnapshotRequest> requestFactory, ILogger logger, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public int Succeeded { get; private set; }

    public int Failed { get; private set; }

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
}
