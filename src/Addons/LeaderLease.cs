using System.Net;
using Bulwark.Kube;
using k8s.Models;

namespace Bulwark.Addons;

/// <summary>
/// Leader election through a coordination.k8s.io Lease, so of several servers only one applies manifests. A server takes
/// the lease when it is free or expired and keeps it by renewing; the apiserver's resourceVersion check (409 on a race)
/// makes sure two servers never both win.
/// </summary>
public sealed class LeaderLease(KubeApiClient client, string holder, TimeProvider time, string name = LeaderLease.DefaultName, int durationSeconds = 60)
{
    public const string DefaultName = "bulwark-addons";
    public const string Namespace = "kube-system";

    private const string Leases = $"/apis/coordination.k8s.io/v1/namespaces/{Namespace}/leases";

    public async Task<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var path = $"{Leases}/{name}";
        var lease = await client.FindAsync(path, KubeJsonContext.Default.V1Lease, cancellationToken).ConfigureAwait(false);
        try
        {
            if (lease is null)
            {
                await client.CreateAsync(Leases, new V1Lease
                {
                    ApiVersion = "coordination.k8s.io/v1",
                    Kind = "Lease",
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
                    Spec = new V1LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = durationSeconds, AcquireTime = now, RenewTime = now, LeaseTransitions = 0 },
                }, KubeJsonContext.Default.V1Lease, cancellationToken).ConfigureAwait(false);
                return true;
            }
            var spec = lease.Spec ??= new V1LeaseSpec();
            var expired = spec.RenewTime is not { } renewed || renewed.AddSeconds(spec.LeaseDurationSeconds ?? durationSeconds) < now;
            if (spec.HolderIdentity != holder && !expired)
            {
                return false;
            }
            if (spec.HolderIdentity != holder)
            {
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
                spec.AcquireTime = now;
                spec.HolderIdentity = holder;
            }
            spec.RenewTime = now;
            spec.LeaseDurationSeconds = durationSeconds;
            await client.ReplaceAsync(path, lease, KubeJsonContext.Default.V1Lease, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (KubeApiException e) when (e.Status is HttpStatusCode.Conflict)
        {
            // Another server created or renewed it first.
            return false;
        }
    }
}
