using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>
/// The cluster's copy of the shared PKI: the bootstrap data sealed with the server token in etcd. Rotations change it
/// here first (<see cref="UpdateAsync"/>, one txn guarded on the old value), so it is the one truth every server copies
/// from (<see cref="RotationFollower"/>) and joining servers receive.
/// </summary>
public sealed class ClusterBootstrapStore(CryptoService crypto, EtcdClient etcd, string dataDir)
{
    /// <summary>
    /// Replaces the stored files with <paramref name="change"/>(current files); nothing changes when another writer came
    /// first, or when <paramref name="change"/> returns the files it was given. Without stored data: an error, or false
    /// when not <paramref name="required"/>.
    /// </summary>
    public async Task<bool> UpdateAsync(Func<IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, string>> change, CancellationToken cancellationToken,
        bool required = true)
    {
        var paths = new ServerPkiPaths(dataDir);
        var secret = TokenSource.ParseFile(paths.Token, "the server token file").Secret;
        var key = BootstrapData.StorageKey(crypto, secret);
        var sealedData = await etcd.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (sealedData is null && !required)
        {
            return false;
        }
        sealedData = sealedData
            ?? throw new BulwarkException(ErrorKind.Unavailable, $"etcd holds no bootstrap data for this server's token ({paths.Token}); start bulwark server here first " +
                "(a token rotated moments ago is picked up within seconds). Nothing was changed.");
        var sealer = new TokenSealer(crypto);
        var stored = BootstrapData.Unseal(sealedData, sealer, secret).Files;
        var files = change(stored);
        if (ReferenceEquals(files, stored))
        {
            return true;
        }
        var applied = await etcd.ReplaceIfUnchangedAsync(key, sealedData, [new(key, BootstrapData.Seal(new BootstrapBundle(files), sealer, secret))], cancellationToken)
            .ConfigureAwait(false);
        if (!applied)
        {
            throw new BulwarkException(ErrorKind.Refused, "the bootstrap data changed in etcd during the rotation (another rotation at the same time?); run it again. Nothing was changed.");
        }
        return true;
    }
}
