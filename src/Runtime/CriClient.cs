using Bulwark.Runtime.Cri;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Runtime;

/// <summary>The CRI v1 runtime and image services of containerd, over its unix socket (gRPC, HTTP/2 without TLS).</summary>
public sealed class CriClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public CriClient(string socketPath)
    {
        SocketPath = socketPath;
        // The authority is a placeholder: the connection goes to the socket.
        _channel = UnixSocketGrpc.Channel(socketPath, "containerd", 16 * 1024 * 1024);
        Runtime = new RuntimeService.RuntimeServiceClient(_channel);
        Images = new ImageService.ImageServiceClient(_channel);
    }

    public string SocketPath { get; }
    internal RuntimeService.RuntimeServiceClient Runtime { get; }
    internal ImageService.ImageServiceClient Images { get; }

    /// <summary>The runtime's conditions (RuntimeReady, NetworkReady) as CRI Status reports them.</summary>
    public async Task<IReadOnlyList<RuntimeConditionState>> StatusAsync(CancellationToken cancellationToken)
    {
        var response = await Runtime.StatusAsync(new StatusRequest(), deadline: Deadline(5), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Status?.Conditions.Select(c => new RuntimeConditionState(c.Type, c.Status, c.Reason, c.Message)).ToList() ?? [];
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var v = await Runtime.VersionAsync(new VersionRequest { Version = "v1" }, deadline: Deadline(5), cancellationToken: cancellationToken).ConfigureAwait(false);
        return $"{v.RuntimeName} {v.RuntimeVersion} (CRI {v.RuntimeApiVersion})";
    }

    /// <summary>The image's id if the runtime has it under this name, else null.</summary>
    public async Task<string?> ImageIdAsync(string image, CancellationToken cancellationToken)
    {
        var response = await Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = image } },
            deadline: Deadline(10), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Image?.Id;
    }

    public async Task<string> PullAsync(string image, CancellationToken cancellationToken)
    {
        var response = await Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } },
            deadline: Deadline(300), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.ImageRef;
    }

    public async Task<IReadOnlyList<string>> ImageNamesAsync(CancellationToken cancellationToken)
    {
        var response = await Images.ListImagesAsync(new ListImagesRequest(), deadline: Deadline(10), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Images.SelectMany(i => i.RepoTags).Order(StringComparer.Ordinal).ToList();
    }

    internal static DateTime Deadline(int seconds) => DateTime.UtcNow.AddSeconds(seconds);

    /// <summary>True for errors that mean "containerd is not there (yet)" rather than a real refusal.</summary>
    public static bool IsUnavailable(RpcException e) => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unimplemented;

    public void Dispose() => _channel.Dispose();
}

/// <summary>One CRI runtime condition.</summary>
public sealed record RuntimeConditionState(string Type, bool Status, string Reason, string Message);
