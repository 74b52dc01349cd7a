using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>What <see cref="ServiceAccountKeyRotation.RotateAsync"/> did: the key files written here and the retired keys dropped.</summary>
public sealed record ServiceAccountRotationResult(IReadOnlyList<string> Written, IReadOnlyList<string> Retained, IReadOnlyList<string> Pruned);

/// <summary>
/// Service-account key rotation for the whole cluster: the new key set (<see cref="ServiceAccountKeys.PlanRotation"/>)
/// replaces the one in the sealed bootstrap data in etcd (one txn guarded on the old value), then this server's files;
/// every other server's supervisor copies the set from etcd (<see cref="SyncAsync"/>), and joining servers receive it
/// with the bootstrap data. The key set in etcd is the cluster's one truth, so two servers never sign with different keys
/// after a restart.
/// </summary>
public sealed class ServiceAccountKeyRotation(CryptoService crypto)
{
    public async Task<ServiceAccountRotationResult> RotateAsync(EtcdClient etcd, string dataDir, KeyAlgorithm algorithm, TimeSpan retention, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var paths = new ServerPkiPaths(dataDir);
        var secret = TokenSource.ParseFile(paths.Token, "the server token file").Secret;
        var key = BootstrapData.StorageKey(crypto, secret);
        var sealedData = await etcd.GetAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new BulwarkException(ErrorKind.Unavailable, $"etcd holds no bootstrap data for this server's token ({paths.Token}); start bulwark server here first " +
                "(a token rotated moments ago is picked up within seconds). Nothing was changed.");
        var sealer = new TokenSealer(crypto);
        var bundle = BootstrapData.Unseal(sealedData, sealer, secret);
        var plan = ServiceAccountKeys.PlanRotation(crypto, dataDir, algorithm, now, retention);
        var files = bundle.Files.Where(f => !ServiceAccountKeys.IsKeyFile(f.Key)).Concat(plan.Files).ToDictionary(StringComparer.Ordinal);
        var applied = await etcd.ReplaceIfUnchangedAsync(key, sealedData, [new(key, BootstrapData.Seal(new BootstrapBundle(files), sealer, secret))], cancellationToken)
            .ConfigureAwait(false);
        if (!applied)
        {
            throw new BulwarkException(ErrorKind.Refused, "the bootstrap data changed in etcd during the rotation (another rotation at the same time?); run it again. Nothing was changed.");
        }
        var written = ServiceAccountKeys.Apply(dataDir, plan.Files, now, retention);
        return new ServiceAccountRotationResult(written, plan.Files.Keys.Where(k => k.StartsWith(ServiceAccountKeys.RetiredFolder, StringComparison.Ordinal)).ToList(), plan.Pruned);
    }

    /// <summary>
    /// Makes this server's key files equal to the set in the sealed bootstrap data <paramref name="sealedData"/> (retired
    /// keys past <paramref name="retention"/> left out); returns the paths changed.
    /// </summary>
    public IReadOnlyList<string> Sync(byte[] sealedData, string secret, string dataDir, TimeSpan retention, DateTimeOffset now)
    {
        var bundle = BootstrapData.Unseal(sealedData, new TokenSealer(crypto), secret);
        return ServiceAccountKeys.Apply(dataDir, bundle.Files, now, retention);
    }
}
