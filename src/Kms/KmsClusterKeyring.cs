using Bulwark.Diagnostics;
using Bulwark.Supervisor;

namespace Bulwark.Kms;

/// <summary>
/// The KMS keyring every server shares through the token-sealed bootstrap data in etcd (entry kms/keyring). A rotation
/// (<c>secrets-encrypt rotate-kek</c>) and each server's start publish this server's keys into it (<see cref="PublishAsync"/>);
/// every running server follows it (<see cref="FollowAsync"/>, called by the rotation follower within seconds): it seals
/// the keys it lacks with its own protector (TPM or file) and has its running plugin load them (a Status call: the
/// plugin reloads a changed keyring), without a restart. So a
/// Secret encrypted on any server after a rotation decrypts on every other, and every earlier ciphertext still does.
/// </summary>
public sealed class KmsClusterKeyring(KmsKeyStore store, KmsKeyHolder keys, string pluginSocket) : IBootstrapMemoryEntry
{
    private const int PublishAttempts = 3;

    private KmsKeyring _exportedFrom = keys.Keyring;
    private string _export = KmsKeyStore.Export(keys.Keyring, store.ReadManifest());

    public string Name => BootstrapData.KmsKeyringEntry;

    /// <summary>The keys the running plugin holds, as joining servers receive them (sealed with the token, never on disk).</summary>
    public string Value => _export;

    public async Task<IReadOnlyList<string>> FollowAsync(string clusterValue, CancellationToken cancellationToken)
    {
        var added = await store.ImportAsync(clusterValue, cancellationToken).ConfigureAwait(false);
        await keys.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (keys.ReloadError is { } error)
        {
            throw new KmsKeyringException(error);
        }
        var keyring = keys.Keyring;
        using (var plugin = new KmsClient(pluginSocket))
        {
            V2.StatusResponse status;
            try
            {
                status = await plugin.StatusAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException e)
            {
                throw new KmsKeyringException($"the KMS plugin on {pluginSocket} does not answer ({e.StatusCode}); the cluster's keyring is sealed here and loads when it does", e);
            }
            if (status.KeyId != keyring.Current.Id || status.Healthz != KmsPluginService.Healthy)
            {
                throw new KmsKeyringException($"the KMS plugin on {pluginSocket} did not load the cluster's keyring: it serves {status.KeyId} ({status.Healthz}), not {keyring.Current.Id}");
            }
        }
        if (ReferenceEquals(keyring, _exportedFrom))
        {
            return [];
        }
        _export = KmsKeyStore.Export(keyring, store.ReadManifest());
        _exportedFrom = keyring;
        return [$"KMS keyring: sealed {added} new key(s) here ({store.Protector(store.ReadManifest()).Kind}); the plugin now encrypts with {keyring.Current.Id} " +
            $"and decrypts with {keyring.Ids.Count} retained key(s)"];
    }

    /// <summary>
    /// <c>rotate-kek</c>: a new current key here, published to the cluster's copy when <paramref name="cluster"/> is given
    /// (the local server's etcd answers); the other servers follow it within seconds. Returns true when published.
    /// </summary>
    public static async Task<bool> RotateAsync(KmsKeyStore store, ClusterBootstrapStore? cluster, CancellationToken cancellationToken)
    {
        await store.RotateAsync(cancellationToken).ConfigureAwait(false);
        if (cluster is null)
        {
            return false;
        }
        using var keyring = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        return await PublishAsync(cluster, KmsKeyStore.Export(keyring, store.ReadManifest()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Merges <paramref name="export"/> into the cluster's copy (<see cref="KmsKeyStore.Merge"/>; one guarded txn, tried
    /// again when another rotation wrote first). False when etcd holds no bootstrap data yet (the supervisor stores it
    /// with this server's keys when it starts).
    /// </summary>
    public static async Task<bool> PublishAsync(ClusterBootstrapStore cluster, string export, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await cluster.UpdateAsync(files =>
                {
                    var merged = KmsKeyStore.Merge(files.GetValueOrDefault(BootstrapData.KmsKeyringEntry), export);
                    return merged == files.GetValueOrDefault(BootstrapData.KmsKeyringEntry)
                        ? files
                        : new Dictionary<string, string>(files, StringComparer.Ordinal) { [BootstrapData.KmsKeyringEntry] = merged };
                }, cancellationToken, required: false).ConfigureAwait(false);
            }
            catch (BulwarkException e) when (e.Kind == ErrorKind.Refused && attempt < PublishAttempts)
            {
                // Another rotation changed the bootstrap data between the read and the write: merge into its result.
            }
        }
    }
}
