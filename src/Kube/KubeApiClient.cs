using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Kube;

/// <summary>
/// Bulwark's client for the Kubernetes API: REST calls on the paths the API defines, KubernetesClient.Aot's model types
/// serialized through <see cref="KubeJsonContext"/>, and the FIPS TLS policy with the kubeconfig's CA as the only trust
/// (the library's own client builds its TLS without Bulwark's policy and links every API type into the binary).
/// </summary>
public sealed class KubeApiClient : IDisposable
{
    private const string ApplyPatch = "application/apply-patch+yaml";
    private readonly HttpClient _http;

    public KubeApiClient(Kubeconfig kubeconfig, TimeSpan timeout)
    {
        if (!Uri.TryCreate(kubeconfig.Server, UriKind.Absolute, out var server) || server.Scheme != Uri.UriSchemeHttps)
        {
            throw new KubeconfigException($"the kubeconfig's server \"{kubeconfig.Server}\" is not an https:// URL; Bulwark talks to the apiserver over TLS only");
        }
        Server = server;
        var tls = new SslClientAuthenticationOptions();
        try
        {
            if (kubeconfig.CertificateAuthority is { } ca)
            {
                var trust = new X509Certificate2Collection();
                trust.ImportFromPem(ca.ReadPem());
                tls.RemoteCertificateValidationCallback = PrivateCaTrust.Callback(trust);
            }
            if (kubeconfig.ClientCertificate is { } certificate && kubeconfig.ClientKey is { } key)
            {
                tls.ClientCertificates = [TlsClientCertificate.FromPem(certificate.ReadPem(), key.ReadPem())];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or CryptographicException)
        {
            throw new KubeconfigException($"the kubeconfig's CA or client certificate cannot be loaded ({e.Message}); fix the file it names or its base64 -data");
        }
        _http = new HttpClient(new SocketsHttpHandler { SslOptions = TlsPolicy.BuiltIn.Apply(tls), PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = server,
            Timeout = timeout,
        };
        if (kubeconfig.Token is { } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Reads <paramref name="kubeconfig"/> (file:line errors) and connects with it.</summary>
    public static KubeApiClient FromFile(string kubeconfig, TimeSpan timeout) => new(Kubeconfig.Parse(File.ReadAllText(kubeconfig), kubeconfig), timeout);

    public Uri Server { get; }

    /// <summary>Asks for the apiserver's version within a few seconds; throws what the call threw when it does not answer.</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        await GetAsync("/version", KubeJsonContext.Default.VersionInfo, timeout.Token).ConfigureAwait(false);
    }

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        await FindAsync(path, type, cancellationToken).ConfigureAwait(false) ?? throw new KubeApiException("GET", path, HttpStatusCode.NotFound, "not found");

    /// <summary>The object at <paramref name="path"/>, or null when the apiserver says it does not exist.</summary>
    public async Task<T?> FindAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? default : await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST to a collection.</summary>
    public Task CreateAsync<T>(string collectionPath, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendCheckedAsync(HttpMethod.Post, collectionPath, Json(body, type), cancellationToken);

    /// <summary>PUT of the whole object; the apiserver refuses it with 409 when the object changed since it was read.</summary>
    public Task ReplaceAsync<T>(string path, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendCheckedAsync(HttpMethod.Put, path, Json(body, type), cancellationToken);

    /// <summary>Server-side apply of one object (JSON is valid apply-patch YAML), taking over fields other managers set.</summary>
    public Task ApplyAsync(string path, string json, string fieldManager, CancellationToken cancellationToken)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(ApplyPatch);
        return SendCheckedAsync(HttpMethod.Patch, $"{path}?fieldManager={Uri.EscapeDataString(fieldManager)}&force=true", content, cancellationToken);
    }

    /// <summary>Deletes the object at <paramref name="path"/>; false when it was already gone.</summary>
    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, path, null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public void Dispose() => _http.Dispose();

    private static StringContent Json<T>(T body, JsonTypeInfo<T> type) => new(JsonSerializer.Serialize(body, type), Encoding.UTF8, "application/json");

    private async Task SendCheckedAsync(HttpMethod method, string path, HttpContent content, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync(body, type, cancellationToken).ConfigureAwait(false)
            ?? throw new KubeApiException("GET", response.RequestMessage?.RequestUri?.AbsolutePath ?? "", response.StatusCode, "the body is null");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? reason;
        try
        {
            reason = JsonSerializer.Deserialize(body, KubeJsonContext.Default.V1Status)?.Message;
        }
        catch (JsonException)
        {
            reason = null;
        }
        reason ??= body.Length > 400 ? body[..400] + "…" : body;
        var request = response.RequestMessage;
        throw new KubeApiException(request?.Method.Method ?? "", request?.RequestUri?.AbsolutePath ?? "", response.StatusCode, reason.Length == 0 ? "(no body)" : reason);
    }
}
