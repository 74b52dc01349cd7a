using Bulwark.Etcd;

namespace Bulwark.Supervisor;

/// <summary>What the supervisor keeps in etcd: node password hashes, the sealed bootstrap data, and the member list.</summary>
public sealed class SupervisorDatastore(EtcdClient etcd)
{
    public const string NodePasswordPrefix = "/bulwark/node-passwords/";
    public const string BootstrapPrefix = "/bulwark/bootstrap/";

    public EtcdClient Etcd => etcd;

    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => etcd.GetAsync(key, cancellationToken);

    /// <summary>Stores the value unless the key exists (one txn); returns what is stored afterwards.</summary>
    public Task<byte[]> PutIfAbsentAsync(string key, byte[] value, CancellationToken cancellationToken) =>
        etcd.PutIfAbsentAsync(key, value, cancellationToken);

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A linearizable read needs a leader and quorum: the honest readiness signal.
            await etcd.GetAsync("/bulwark/readyz", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (EtcdException)
        {
            return false;
        }
    }
}
