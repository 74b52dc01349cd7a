using System.Text;
using System.Text.Json;
using Bulwark.Etcd;

namespace Bulwark.ControlPlane;

/// <summary>
/// The secrets-encryption stage and key hash recorded in etcd, so every server sees the same state (as RKE2 records
/// it in the datastore). Each write is mirrored to this server's local file, which is what a server reads while its
/// etcd is not up yet.
/// </summary>
public sealed class ClusterSecretsEncryptionStateStore(EtcdClient etcd, FileSecretsEncryptionStateStore local) : ISecretsEncryptionStateStore
{
    public const string Key = "/bulwark/secrets-encryption/state";

    public async Task<SecretsEncryptionState?> ReadAsync(CancellationToken cancellationToken)
    {
        var value = await etcd.GetAsync(Key, cancellationToken).ConfigureAwait(false);
        if (value is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(value, ControlPlaneJsonContext.Default.SecretsEncryptionState);
        }
        catch (JsonException e)
        {
            throw new ControlPlaneDataException($"etcd key {Key} does not hold a valid secrets-encryption state ({e.Message}); " +
                "restore it from a snapshot or delete the key and run 'bulwark secrets-encrypt status' on the server that holds the right keys");
        }
    }

    public async Task WriteAsync(SecretsEncryptionState state, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(state, ControlPlaneJsonContext.Default.SecretsEncryptionState);
        await etcd.PutAsync(Key, json, cancellationToken).ConfigureAwait(false);
        await local.WriteAsync(state, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// At server start, once etcd is healthy: a cluster with no recorded state takes this server's (the first server's
    /// key file); a recorded one is copied to the local file. Returns what is recorded now.
    /// </summary>
    public async Task<SecretsEncryptionState?> SynchronizeAsync(CancellationToken cancellationToken)
    {
        var recorded = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var mine = await local.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (recorded is null && mine is not null)
        {
            await WriteAsync(mine, cancellationToken).ConfigureAwait(false);
            return mine;
        }
        if (recorded is not null)
        {
            await local.WriteAsync(recorded, cancellationToken).ConfigureAwait(false);
        }
        return recorded;
    }
}
