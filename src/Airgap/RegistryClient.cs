using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.Pipeline;

namespace Bulwark.Airgap;

/// <summary>
/// A client of the OCI distribution API on HttpClient: manifests and blobs, pull and push, with basic auth or the
/// token flow (401 + WWW-Authenticate: Bearer realm/service/scope), TLS with a custom CA. Every byte pulled is
/// checked against its digest before it is kept.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly RegistryEndpoint _endpoint;
    private readonly CryptoService _crypto;
    private readonly Dictionary<string, AuthenticationHeaderValue> _authorization = new(StringComparer.Ordinal);

    public RegistryClient(RegistryEndpoint endpoint, CryptoService crypto)
    {
        _endpoint = endpoint;
        _crypto = crypto;
        _http = new HttpClient(CreateHandler(endpoint), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("bulwark", typeof(RegistryClient).Assembly.GetName().Version?.ToString() ?? "0"));
    }

    public RegistryEndpoint Endpoint => _endpoint;

    private static SocketsHttpHandler CreateHandler(RegistryEndpoint endpoint)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30), PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (endpoint.InsecureSkipVerify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (endpoint.CaFile is { } caFile)
        {
            if (!File.Exists(caFile))
            {
                throw new PipelineException($"registry {endpoint.Host}: CA file {caFile} does not exist");
            }
            var trust = new X509Certificate2Collection();
            trust.ImportFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = Pki.PrivateCaTrust.Callback(trust);
        }
        return handler;
    }

    // ---- pull ----

    /// <summary>Fetches a manifest or index by tag or digest; checks it against the digest when one was asked for.</summary>
    public async Task<(byte[] Bytes, string MediaType, string Digest)> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(repository, "pull", () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url($"/v2/{repository}/manifests/{reference}"));
            foreach (var type in OciMediaTypes.Accepted)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }
            return request;
        }, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (bytes.Length > 4 << 20)
        {
            throw new PipelineException($"{_endpoint.Host}/{repository}:{reference}: manifest of {bytes.Length} bytes is larger than 4 MiB", PipelineFailure.Refused);
        }
        var digest = Digests.Prefix + Digests.Sha256(_crypto, bytes);
        if (reference.StartsWith(Digests.Prefix, StringComparison.Ordinal) && reference != digest)
        {
            throw new PipelineException($"{_endpoint.Host}/{repository}@{reference}: the registry returned a manifest with digest {digest}", PipelineFailure.Refused);
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? SniffMediaType(bytes);
        return (bytes, mediaType, digest);
    }

    /// <summary>Streams a blob to a file and checks its digest and size; the file is left only when both match.</summary>
    public async Task DownloadBlobAsync(string repository, OciDescriptor blob, string path, Action<long>? progress, CancellationToken cancellationToken)
    {
        var hex = Digests.Hex(blob.Digest, $"{repository} blob");
        using var response = await SendAsync(repository, "pull", () => new HttpRequestMessage(HttpMethod.Get, Url($"/v2/{repository}/blobs/{blob.Digest}")),
            cancellationToken, followRedirects: true).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"blob {blob.Digest} of {repository}", cancellationToken).ConfigureAwait(false);
        using var hash = Digests.Incremental(_crypto);
        long total = 0;
        try
        {
            await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
            await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > blob.Size)
                    {
                        throw new PipelineException($"{_endpoint.Host}/{repository}: blob {blob.Digest} is larger than the {blob.Size} bytes its manifest says", PipelineFailure.Refused);
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    progress?.Invoke(read);
                }
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (total != blob.Size || actual != hex)
            {
                throw new PipelineException($"{_endpoint.Host}/{repository}: blob {blob.Digest} arrived as {total} bytes with sha256:{actual}; expected {blob.Size} bytes. Nothing was kept.", PipelineFailure.Refused);
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    // ---- push ----

    public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(repository, "pull,push", () => new HttpRequestMessage(HttpMethod.Head, Url($"/v2/{repository}/blobs/{digest}")),
            cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>Uploads a blob (POST for an upload URL, then one PUT with the digest) unless the registry has it already.</summary>
    public async Task PushBlobAsync(string repository, string digest, Func<Stream> open, long size, CancellationToken cancellationToken)
    {
        if (await BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        using var start = await SendAsync(repository, "pull,push", () => new HttpRequestMessage(HttpMethod.Post, Url($"/v2/{repository}/blobs/uploads/")),
            cancellationToken).ConfigureAwait(false);
        if (start.StatusCode != HttpStatusCode.Accepted || start.Headers.Location is not { } location)
        {
            await EnsureSuccessAsync(start, $"upload of {digest} to {repository}", cancellationToken).ConfigureAwait(false);
            throw new PipelineException($"{_endpoint.Host}/{repository}: the registry did not start an upload (HTTP {(int)start.StatusCode})", PipelineFailure.Tool);
        }
        var upload = location.IsAbsoluteUri ? location : new Uri(_endpoint.BaseUri, location);
        var separator = upload.Query.Length > 0 ? "&" : "?";
        var target = new Uri(upload + separator + "digest=" + Uri.EscapeDataString(digest));
        using var put = await SendAsync(repository, "pull,push", () =>
        {
            var content = new StreamContent(open(), 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = size;
            return new HttpRequestMessage(HttpMethod.Put, target) { Content = content };
        }, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(put, $"upload of {digest} to {repository}", cancellationToken).ConfigureAwait(false);
    }

    public async Task PutManifestAsync(string repository, string reference, byte[] bytes, string mediaType, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(repository, "pull,push", () =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, Url($"/v2/{repository}/manifests/{reference}")) { Content = content };
        }, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, $"manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
    }

    // ---- transport and auth ----

    private Uri Url(string path) => new(_endpoint.BaseUri, path);

    private async Task<HttpResponseMessage> SendAsync(string repository, string actions, Func<HttpRequestMessage> makeRequest, CancellationToken cancellationToken,
        bool followRedirects = false)
    {
        var scope = $"repository:{repository}:{actions}";
        for (var attempt = 0; ; attempt++)
        {
            using var request = makeRequest();
            if (_authorization.TryGetValue(scope, out var auth))
            {
                request.Headers.Authorization = auth;
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new PipelineException($"registry {_endpoint}: {Describe(e)}", PipelineFailure.Tool, e);
            }
            if (followRedirects && response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.Found or HttpStatusCode.SeeOther
                && response.Headers.Location is { } location)
            {
                // Blob storage behind a redirect gets no registry credentials.
                response.Dispose();
                var target = location.IsAbsoluteUri ? location : new Uri(_endpoint.BaseUri, location);
                return await _http.GetAsync(target, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                return response;
            }
            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            _authorization[scope] = await AuthorizeAsync(challenge, scope, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<AuthenticationHeaderValue> AuthorizeAsync(AuthenticationHeaderValue? challenge, string scope, CancellationToken cancellationToken)
    {
        if (_endpoint.Username is null)
        {
            if (challenge?.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) != true)
            {
                throw new PipelineException($"registry {_endpoint.Host} asks for credentials; give them in registries.yaml (configs.\"{_endpoint.Host}\".auth) or with --username/--password-file", PipelineFailure.Input);
            }
        }
        var basic = _endpoint.Username is null ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_endpoint.Username}:{_endpoint.Password}")));
        if (challenge is null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return basic!;
        }
        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new PipelineException($"registry {_endpoint.Host}: unsupported authentication scheme {challenge.Scheme}", PipelineFailure.Tool);
        }
        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme != Uri.UriSchemeHttps && realmUri.Host != _endpoint.BaseUri.Host)
        {
            throw new PipelineException($"registry {_endpoint.Host}: the token realm '{realm}' is not an https URL", PipelineFailure.Tool);
        }
        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }
        query.Add("scope=" + Uri.EscapeDataString(scope));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(realmUri + (realmUri.Query.Length > 0 ? "&" : "?") + string.Join('&', query)));
        request.Headers.Authorization = basic;
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "token", cancellationToken).ConfigureAwait(false);
        var token = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false), AirgapJsonContext.Default.RegistryToken);
        var value = token?.Token ?? token?.AccessToken ?? throw new PipelineException($"registry {_endpoint.Host}: the token service returned no token", PipelineFailure.Tool);
        return new AuthenticationHeaderValue("Bearer", value);
    }

    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }
            var key = parameter[i..eq].Trim(' ', ',');
            string value;
            if (eq + 1 < parameter.Length && parameter[eq + 1] == '"')
            {
                var end = parameter.IndexOf('"', eq + 2);
                end = end < 0 ? parameter.Length : end;
                value = parameter[(eq + 2)..end];
                i = end + 1;
            }
            else
            {
                var end = parameter.IndexOf(',', eq + 1);
                end = end < 0 ? parameter.Length : end;
                value = parameter[(eq + 1)..end];
                i = end;
            }
            result[key] = value;
            i++;
        }
        return result;
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var detail = body.Length > 300 ? body[..300] : body;
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => " Check the credentials for this registry.",
            HttpStatusCode.Forbidden => " The credentials lack permission for this repository.",
            HttpStatusCode.NotFound => " Check the repository and tag exist.",
            _ => "",
        };
        throw new PipelineException($"registry {_endpoint.Host}: {what}: HTTP {(int)response.StatusCode} {response.ReasonPhrase} {detail.Trim()}.{hint}",
            response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? PipelineFailure.Input : PipelineFailure.Tool);
    }

    private static string Describe(HttpRequestException e) => e.InnerException is System.Security.Authentication.AuthenticationException
        ? $"TLS failed ({e.InnerException.Message}); pass the registry's CA with --ca-file or in registries.yaml (configs.<host>.tls.ca_file)"
        : e.Message;

    private static string SniffMediaType(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        if (document.RootElement.TryGetProperty("mediaType", out var type) && type.GetString() is { } value)
        {
            return value;
        }
        return document.RootElement.TryGetProperty("manifests", out _) ? OciMediaTypes.OciIndex : OciMediaTypes.OciManifest;
    }

    public void Dispose() => _http.Dispose();
}
