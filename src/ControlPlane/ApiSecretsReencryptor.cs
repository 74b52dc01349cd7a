using System.Net;
using Bulwark.Kube;
using System.Text.Json.Nodes;

namespace Bulwark.ControlPlane;

/// <summary>
/// Re-writes every Secret through the API with the admin kubeconfig, as RKE2 does: list a page, update each Secret
/// unchanged (the apiserver stores it again with the first key of its encryption config), next page. A Secret changed or
/// deleted meanwhile is already stored with the current key, or gone. Secrets travel as raw JSON, so fields newer than
/// KubernetesClient's models are written back as they were read.
/// </summary>
public sealed class ApiSecretsReencryptor(string adminKubeconfig, TextWriter progress) : ISecretsReencryptor
{
    private const int PageSize = 500;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    public async Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(adminKubeconfig))
        {
            return $"the admin kubeconfig {adminKubeconfig} does not exist";
        }
        using var client = KubeApiClient.FromFile(adminKubeconfig, CallTimeout);
        try
        {
            await client.ProbeAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or KubeApiException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return $"no kube-apiserver answers at {client.Server} ({e.Message})";
        }
    }

    public async Task ReencryptAllAsync(CancellationToken cancellationToken)
    {
        using var client = KubeApiClient.FromFile(adminKubeconfig, CallTimeout);
        int rewritten = 0, current = 0;
        string? next = null;
        do
        {
            var page = await client.GetAsync($"/api/v1/secrets?limit={PageSize}{(next is null ? "" : "&continue=" + Uri.EscapeDataString(next))}",
                KubeJsonContext.Default.KubeListJsonObject, cancellationToken).ConfigureAwait(false);
            foreach (var secret in page.Items)
            {
                // Items of a list carry no type of their own; a PUT must.
                secret["apiVersion"] = "v1";
                secret["kind"] = "Secret";
                var path = $"/api/v1/namespaces/{Uri.EscapeDataString(MetadataField(secret, "namespace"))}/secrets/{Uri.EscapeDataString(MetadataField(secret, "name"))}";
                try
                {
                    await client.ReplaceAsync(path, secret, KubeJsonContext.Default.JsonObject, cancellationToken).ConfigureAwait(false);
                    rewritten++;
                }
                catch (KubeApiException e) when (e.Status is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
                {
                    current++;
                }
            }
            next = page.Metadata?.ContinueProperty is { Length: > 0 } token ? token : null;
            await progress.WriteLineAsync($"re-encrypting Secrets: {rewritten + current} done{(next is null ? "" : ", more to come")}").ConfigureAwait(false);
        }
        while (next is not null);
        await progress.WriteLineAsync($"re-encrypted {rewritten} Secrets{(current > 0 ? $"; {current} changed or deleted meanwhile (already current)" : "")}").ConfigureAwait(false);
    }

    private static string MetadataField(JsonObject secret, string field) =>
        (secret["metadata"]?[field] as JsonValue)?.TryGetValue<string>(out var value) == true && value.Length > 0
            ? value
            : throw new KubeApiException("GET", "/api/v1/secrets", HttpStatusCode.OK, $"a listed Secret has no metadata.{field}");
}
