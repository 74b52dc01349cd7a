using System.Text;
using Bulwark.Etcd;

namespace Bulwark.Supervisor;

/// <summary>What the supervisor keeps in etcd: node password hashes, the sealed bootstrap data, and the member list.</summary>
public sealed class SupervisorDatastore(EtcdClient etcd)
{
    public const string NodePasswordPrefix = "/bulwark/node-passwords/";
    public const string BootstrapPrefix = "/bulwark/bootstrap/";

    public EtcdClient Etcd => etcd;

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        (await etcd.GetAsync(key, cancellationToken).ConfigureAwait(false))?.Value;

    /// <summary>Stores the value unless the key exists (one txn); returns what is stored afterwards.</summary>
    public async Task<byte[]> PutIfAbsentAsync(string key, byte[] value, CancellationToken cancellationToken)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var response = await etcd.TxnAsync(new TxnRequest
        {
            Compare = [Compare.Absent(keyBytes)],
            Success = [new RequestOp { Put = new PutRequest { Key = keyBytes, Value = value } }],
            Failure = [new RequestOp { Range = new RangeRequest { Key = keyBytes } }],
        }, cancellationToken).ConfigureAwait(false);
        if (response.Succeeded)
        {
            return value;
        }
        var existing = response.Responses.FirstOrDefault()?.Range?.Kvs;
        return existing is { Count: > 0 } kvs ? kvs[0].Value : value;
    }

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
