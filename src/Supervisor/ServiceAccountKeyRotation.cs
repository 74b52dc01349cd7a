using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>What <see cref="ServiceAccountKeyRotation.RotateAsync"/> did: the key files written here and the retired keys dropped.</summary>
public sealed record ServiceAccountRotationResult(IReadOnlyList<string> Written, IReadOnlyList<string> Retained, IReadOnlyList<string> Pruned);

/// <summary>
/// Service-account key rotation for the whole cluster: the new key set (<see cref="ServiceAccountKeys.PlanRotation"/>)
/// replaces the one in the sealed bootstrap data in etcd (one txn guarded on the old value), then this server's files;
/// every other server's supervisor copies the set from etcd (<see cref="RotationFollower.SyncSharedPkiAsync"/>), and joining servers receive it
/// with the bootstrap data. The key set in etcd is the cluster's one truth, so two servers never sign with different keys
/// after a restart.
/// </summary>
public sealed class ServiceAccountKeyRotation(CryptoService crypto)
{
    public async Task<ServiceAccountRotationResult> RotateAsync(EtcdClient etcd, string dataDir, KeyAlgorithm algorithm, TimeSpan retention, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        using var held = await RotationLock.AcquireAsync(dataDir, cancellationToken).ConfigureAwait(false);
        var plan = ServiceAccountKeys.PlanRotation(crypto, dataDir, algorithm, now, retention);
        await new ClusterBootstrapStore(crypto, etcd, dataDir).UpdateAsync(
            files => files.Where(f => !ServiceAccountKeys.IsKeyFile(f.Key)).Concat(plan.Files).ToDictionary(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        var written = ServiceAccountKeys.Apply(dataDir, plan.Files, now, retention);
        return new ServiceAccountRotationResult(written, plan.Files.Keys.Where(k => k.StartsWith(ServiceAccountKeys.RetiredFolder, StringComparison.Ordinal)).ToList(), plan.Pruned);
    }
}
