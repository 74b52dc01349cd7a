using Bulwark.Diagnostics;
using Bulwark.Kube;

namespace Bulwark.Compliance.Evidence;

/// <summary>
/// The audit's way to the Kubernetes API: the admin kubeconfig Bulwark writes, tried once with a short timeout. When no
/// apiserver answers, <see cref="Unavailable"/> says why, and checks with live evidence stay MANUAL with that reason.
/// </summary>
public sealed class ClusterConnection : IDisposable
{
    // Listing every pod of a large cluster takes longer than the probe may.
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(60);

    private readonly KubeApiClient? _client;

    private ClusterConnection(KubeApiClient? client, string apiserver, string? unavailable)
    {
        _client = client;
        Apiserver = apiserver;
        Unavailable = unavailable;
    }

    public string Apiserver { get; }

    /// <summary>Why there is no live evidence; null when the apiserver answered.</summary>
    public string? Unavailable { get; }

    public ClusterRules? Rules => _client is null ? null : new ClusterRules(_client, Apiserver);

    public static ClusterConnection None(string why) => new(null, "", why);

    /// <summary>Connects with <paramref name="kubeconfig"/> and asks the apiserver for its version.</summary>
    public static async Task<ClusterConnection> ConnectAsync(string kubeconfig, CancellationToken cancellationToken)
    {
        if (!File.Exists(kubeconfig))
        {
            return None($"no admin kubeconfig at {kubeconfig} (give --kubeconfig to read the cluster)");
        }
        KubeApiClient client;
        try
        {
            client = KubeApiClient.FromFile(kubeconfig, ListTimeout);
        }
        catch (Exception e) when (e is BulwarkException or IOException or UnauthorizedAccessException)
        {
            return None($"the kubeconfig {kubeconfig} cannot be used: {e.Message}");
        }
        var apiserver = client.Server.ToString().TrimEnd('/');
        try
        {
            await client.ProbeAsync(cancellationToken).ConfigureAwait(false);
            return new ClusterConnection(client, apiserver, null);
        }
        catch (KubeApiException e)
        {
            client.Dispose();
            return None($"the apiserver at {apiserver} answered {(int)e.Status} {e.Status} (check the kubeconfig's credentials)");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Security.Authentication.AuthenticationException
            && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            return None($"no apiserver answered at {apiserver} ({e.Message})");
        }
    }

    public void Dispose() => _client?.Dispose();
}
