using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bulwark.Crypto;
using Bulwark.Pki;
using Microsoft.Extensions.Logging;
using Bulwark.Diagnostics;

namespace Bulwark.Supervisor;

/// <summary>Joining failed for a reason the operator must fix (wrong token, foreign CA, duplicate node name...). Not retried.</summary>
public sealed class JoinException(string message, Exception? inner = null) : BulwarkException(ErrorKind.Refused, message, inner);

/// <summary>The supervisor answered with a status that may clear by itself (503: not ready, another server joining).</summary>
public sealed class SupervisorUnavailableException(string message, Exception? inner = null) : BulwarkException(ErrorKind.Unavailable, message, inner);

/// <summary>
/// A client of a server's supervisor API with the cluster CA pinned as RKE2 does: <c>/cacerts</c> is fetched once
/// without trust, its SHA-256 is compared with the token's <c>K10&lt;hash&gt;</c>, and every later call is verified
/// against exactly that CA (host name included). A bare-secret token cannot pin: a warning says so.
/// </summary>
public sealed class SupervisorClient : IDisposable
{
    public const string CaMismatchMessage = "token CA hash does not match the cluster CA";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly X509Certificate2Collection _trusted;
    private readonly string _authorization;

    private SupervisorClient(Uri server, HttpClient http, byte[] caBundle, X509Certificate2Collection trusted, BasicCredentials credentials)
    {
        Server = server;
        CaBundle = caBundle;
        _trusted = trusted;
        _authorization = credentials.ToHeaderValue();
        _http = http;
    }

    public Uri Server { get; }

    /// <summary>The pinned CA bundle (the bytes of the cluster's server-ca.crt).</summary>
    public byte[] CaBundle { get; }

    public X509Certificate2Collection TrustedCas => _trusted;

    /// <summary>
    /// Fetches and pins the cluster CA. Throws <see cref="JoinException"/> with <see cref="CaMismatchMessage"/> when the
    /// CA does not match the token's hash (nothing else is done), and <see cref="SupervisorUnavailableException"/>
    /// when the server cannot be reached yet.
    /// </summary>
    public static async Task<SupervisorClient> ConnectAsync(Uri server, ClusterToken token, string user, CryptoService crypto, ILogger log,
        CancellationToken cancellationToken, TlsPolicy? tls = null)
    {
        if (server.Scheme != Uri.UriSchemeHttps)
        {
            throw new JoinException($"--server {server} must be an https URL such as https://10.0.0.1:9345");
        }
        tls ??= TlsPolicy.BuiltIn;
        // One connection: /cacerts is fetched with the server certificate recorded but not yet trusted; once the CA is
        // pinned, that certificate is verified against it before any credential is sent, and every later connection
        // is verified against the pinned CA during its handshake.
        var validator = new PinningValidator();
        var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = tls.Apply(new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = validator.Validate,
                // The validator decides trust against the pinned CA itself (IsTrusted) and ignores chain errors, so the chain
                // SslStream builds before calling it must not load the system's root store on every handshake.
                CertificateChainPolicy = UnusedChainPolicy(),
            }),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        { BaseAddress = server, Timeout = CallTimeout, MaxResponseContentBufferSize = 1 << 20 };
        try
        {
            var bundle = await FetchCaBundleAsync(http, server, cancellationToken).ConfigureAwait(false);
            var hash = ClusterToken.CaHashOf(crypto, bundle);
            if (token.IsFull)
            {
                if (!token.MatchesCa(hash))
                {
                    throw new JoinException($"{CaMismatchMessage}: the server at {server} presented a CA with SHA-256 {hash}, but the token pins {token.CaHash}. " +
                        "Either --server points at another cluster (or something in between is intercepting the connection), or the token is from another cluster. Nothing was changed.");
                }
            }
            else
            {
                log.LogWarning("the token is a bare secret, so the cluster CA is NOT pinned: this join trusts whatever CA {Server} presents (SHA-256 {Hash}). " +
                    "Use the full token from the server's <data-dir>/server/token (K10<hash>::server:<secret>) to pin it.", server, hash);
            }
            var trusted = ParseBundle(bundle, server);
            if (!validator.Pin(trusted))
            {
                throw new JoinException($"the TLS certificate of {server} is not issued by the pinned cluster CA (or does not name {server.Host}): " +
                    "something between this node and the server is terminating TLS. Nothing was changed.");
            }
            return new SupervisorClient(server, http, bundle, trusted, new BasicCredentials(user, token.Secret));
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public Task<AgentClusterConfig> GetConfigAsync(CancellationToken cancellationToken) =>
        SendJsonAsync(HttpMethod.Get, "/v1/config", null, null, SupervisorJsonContext.Default.AgentClusterConfig, cancellationToken);

    public Task<SignedCertificate> SignAsync(NodeCertificateKind kind, string csrPem, string nodeName, string nodePassword, CancellationToken cancellationToken)
    {
        var path = kind switch
        {
            NodeCertificateKind.KubeletClient => "/v1/certs/kubelet-client",
            NodeCertificateKind.KubeletServing => "/v1/certs/kubelet-serving",
            _ => "/v1/certs/kube-proxy",
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new CsrRequest(csrPem), SupervisorJsonContext.Default.CsrRequest);
        return SendJsonAsync(HttpMethod.Post, path, body, (nodeName, nodePassword), SupervisorJsonContext.Default.SignedCertificate, cancellationToken);
    }

    public async Task<byte[]> GetBootstrapAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "/v1/server-bootstrap", null, null, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<EtcdJoinResponse> JoinEtcdAsync(string memberName, string peerUrl, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new EtcdJoinRequest(memberName, peerUrl), SupervisorJsonContext.Default.EtcdJoinRequest);
        return SendJsonAsync(HttpMethod.Post, "/v1/etcd/join", body, null, SupervisorJsonContext.Default.EtcdJoinResponse, cancellationToken);
    }

    public Task<EtcdMembersResponse> GetEtcdMembersAsync(CancellationToken cancellationToken) =>
        SendJsonAsync(HttpMethod.Get, "/v1/etcd/members", null, null, SupervisorJsonContext.Default.EtcdMembersResponse, cancellationToken);

    /// <summary>A raw call (status and body as they came), for probes and tests; pinning still applies.</summary>
    public async Task<(HttpStatusCode Status, string Body)> RawAsync(HttpMethod method, string path, CancellationToken cancellationToken, bool authenticate = true)
    {
        using var request = new HttpRequestMessage(method, path);
        if (authenticate)
        {
            request.Headers.TryAddWithoutValidation("Authorization", _authorization);
        }
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
    }

    public void Dispose() => _http.Dispose();

    // ---- plumbing ----

    private async Task<T> SendJsonAsync<T>(HttpMethod method, string path, byte[]? body, (string Name, string Password)? node, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, path, body, node, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, type, cancellationToken).ConfigureAwait(false)
                ?? throw new JoinException($"{Server}{path.TrimStart('/')} answered with an empty body");
        }
        catch (JsonException e)
        {
            throw new JoinException($"{Server}{path.TrimStart('/')} answered with something that is not the expected JSON; is --server a Bulwark supervisor?", e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body, (string Name, string Password)? node, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", _authorization);
        if (node is { } n)
        {
            request.Headers.TryAddWithoutValidation(SupervisorServer.NodeNameHeader, n.Name);
            request.Headers.TryAddWithoutValidation(SupervisorServer.NodePasswordHeader, n.Password);
        }
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
        {
            throw new JoinException($"the TLS connection to {Server} failed verification against the pinned cluster CA ({Innermost(e).Message}); the server's certificate is not from this cluster or does not name {Server.Host}", e);
        }
        catch (HttpRequestException e)
        {
            throw new SupervisorUnavailableException($"cannot reach the supervisor at {Server}: {Innermost(e).Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SupervisorUnavailableException($"the supervisor at {Server} did not answer {path} within {CallTimeout.TotalSeconds:0} s", e);
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            var message = await ErrorMessageAsync(response, cancellationToken).ConfigureAwait(false);
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => new JoinException($"the server at {Server} rejected the token (401): {message}"),
                HttpStatusCode.Forbidden => new JoinException($"the server at {Server} refused {path} (403): {message}"),
                HttpStatusCode.TooManyRequests => new SupervisorUnavailableException($"the server at {Server} is rate limiting this address (429): {message}"),
                HttpStatusCode.ServiceUnavailable => new SupervisorUnavailableException($"the server at {Server} is not ready (503): {message}"),
                _ => new JoinException($"the server at {Server} answered {path} with {(int)response.StatusCode}: {message}"),
            };
        }
    }

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(text, SupervisorJsonContext.Default.ErrorBody)?.Error ?? text;
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    /// <summary>The one call before trust: the CA bundle, whose integrity is then checked against the token's hash.</summary>
    private static async Task<byte[]> FetchCaBundleAsync(HttpClient http, Uri server, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync("/cacerts", cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                throw new SupervisorUnavailableException($"the supervisor at {server} is not ready (503)");
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new JoinException($"{server}cacerts answered {(int)response.StatusCode}; is --server the supervisor port (9345) of a Bulwark server?");
            }
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new SupervisorUnavailableException($"cannot reach the supervisor at {server}: {Innermost(e).Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SupervisorUnavailableException($"the supervisor at {server} did not answer within {CallTimeout.TotalSeconds:0} s", e);
        }
    }

    private static X509Certificate2Collection ParseBundle(byte[] bundle, Uri server)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(Encoding.ASCII.GetString(bundle));
        }
        catch (CryptographicException e)
        {
            throw new JoinException($"{server}cacerts did not return PEM certificates", e);
        }
        if (collection.Count == 0)
        {
            throw new JoinException($"{server}cacerts returned no certificate");
        }
        return collection;
    }

    /// <summary>An X509Chain policy that trusts nothing and fetches nothing: cheap to build, and its verdict is not used.</summary>
    private static X509ChainPolicy UnusedChainPolicy() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    /// <summary>
    /// The serving certificate names the host (the handshake's own name check), is within its validity period, and was
    /// signed by a pinned CA certificate that is itself valid and a CA. The chain is one level deep (Bulwark's CAs are
    /// self-signed roots), so the signature is checked directly instead of building an X509Chain per connection.
    /// </summary>
    internal static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        if (certificate is not X509Certificate2 serving || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        var now = DateTime.Now;
        if (now < serving.NotBefore || now > serving.NotAfter)
        {
            return false;
        }
        foreach (var ca in trusted)
        {
            var isCa = ca.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
            if (isCa && now >= ca.NotBefore && now <= ca.NotAfter && CertificateSignature.IsIssuedBy(serving, ca))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Trust on the first connection is deferred: its certificate (and name check) is recorded; <see cref="Pin"/> then
    /// verifies it against the pinned CA. Connections opened after pinning are verified in their handshake.
    /// </summary>
    private sealed class PinningValidator
    {
        private readonly Lock _gate = new();
        private X509Certificate2Collection? _pinned;
        private readonly List<(X509Certificate2 Certificate, SslPolicyErrors Errors)> _unverified = [];

        public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            lock (_gate)
            {
                if (_pinned is not null)
                {
                    return IsTrusted(certificate, errors, _pinned);
                }
                if (certificate is null)
                {
                    return false;
                }
                _unverified.Add((new X509Certificate2(certificate), errors));
                return true;
            }
        }

        /// <summary>Pins the CA; true when every connection opened before was to a certificate it issued.</summary>
        public bool Pin(X509Certificate2Collection trusted)
        {
            lock (_gate)
            {
                _pinned = trusted;
                var ok = _unverified.All(seen => IsTrusted(seen.Certificate, seen.Errors, trusted));
                foreach (var (certificate, _) in _unverified)
                {
                    certificate.Dispose();
                }
                _unverified.Clear();
                return ok;
            }
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }
}

/// <summary>Retries a step while the server is not ready yet: exponential backoff with full jitter, bounded by a deadline.</summary>
public static class JoinRetry
{
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> step, TimeSpan deadline, ILogger log, string what, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        var delay = TimeSpan.FromMilliseconds(250);
        var attempt = 0;
        while (true)
        {
            try
            {
                return await step(cancellationToken).ConfigureAwait(false);
            }
            catch (SupervisorUnavailableException e) when (DateTimeOffset.UtcNow < until)
            {
                attempt++;
                // Full jitter: joiners started together do not retry in lockstep.
                var wait = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * delay.TotalMilliseconds) + TimeSpan.FromMilliseconds(100);
                if (attempt == 1 || attempt % 5 == 0)
                {
                    log.LogInformation("{What}: {Reason}; retrying (attempt {Attempt})", what, e.Message, attempt);
                }
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
