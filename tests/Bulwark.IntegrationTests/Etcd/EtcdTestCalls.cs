using Bulwark.Etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Tests;

/// <summary>Reads and writes tests make through the library client (Bulwark's facade holds only the calls Bulwark makes).</summary>
internal static class EtcdTestCalls
{
    public static async Task<IReadOnlyList<Mvccpb.KeyValue>> GetPrefixAsync(this EtcdClient client, string prefix, CancellationToken cancellationToken) =>
        (await client.Api.GetRangeAsync(prefix, cancellationToken: cancellationToken)).Kvs;

    public static Task PutBytesAsync(this EtcdClient client, string key, byte[] value, CancellationToken cancellationToken) =>
        client.Api.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) }, cancellationToken: cancellationToken);
}
