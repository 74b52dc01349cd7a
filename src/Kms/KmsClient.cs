using Bulwark.Kms.V2;
using Bulwark.Runtime;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Kms;

/// <summary>A KMS v2 client over the plugin's unix socket, as kube-apiserver calls it: for status, tests and the benchmark.</summary>
public sealed class KmsClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public KmsClient(string socketPath)
    {
        _channel = UnixSocketGrpc.Channel(socketPath, "kms");
        Api = new KeyManagementService.KeyManagementServiceClient(_channel);
    }

    internal KeyManagementService.KeyManagementServiceClient Api { get; }

    /// <summary>The plugin's Status (version, healthz, key_id), within a few seconds.</summary>
    internal async Task<StatusResponse> StatusAsync(CancellationToken cancellationToken) =>
        await Api.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: cancellationToken).ConfigureAwait(false);

    public void Dispose() => _channel.Dispose();
}
