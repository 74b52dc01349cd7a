using System.Diagnostics;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.RateLimiting;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>Everything one supervisor listener needs. Secrets are held here and nowhere else (never logged).</summary>
public sealed record SupervisorSettings
{
    public required IPAddress BindAddress { get; init; }

    /// <summary>0 picks a free port (tests); see <see cref="SupervisorServer.Port"/>.</summary>
    public required int Port { get; init; }

    /// <summary>The serving certificate (issued by the server CA) with its private key.</summary>
    public required X509Certificate2 ServingCertificate { get; init; }

    /// <summary>The bytes of server-ca.crt: what <c>/cacerts</c> returns and what the token's K10 hash is computed over.</summary>
    public required byte[] CaBundle { get; init; }

    public required string ServerSecret { get; init; }
    public required string AgentSecret { get; init; }
    public required AgentClusterConfig AgentConfig { get; init; }
    public required NodeCertificateSigner Signer { get; init; }
    public required SupervisorDatastore Datastore { get; init; }

    /// <summary>The bootstrap data sealed with the token (served to joining servers).</summary>
    public required byte[] SealedBootstrap { get; init; }

    public bool Metrics { get; init; }
    public TlsPolicy Tls { get; init; } = TlsPolicy.BuiltIn;
    public long MaxRequestBodyBytes { get; init; } = 64 * 1024;

    /// <summary>Requests served at once; more wait in a queue of <see cref="QueueLimit"/>, then get 503.</summary>
    public int ConcurrencyLimit { get; init; } = 128;
    public int QueueLimit { get; init; } = 4096;

    /// <summary>Requests one source address may have in service at once (more wait in its own queue), so one client cannot take every slot.</summary>
    public int PerClientConcurrencyLimit { get; init; } = 16;
    public int PerClientQueueLimit { get; init; } = 64;

    /// <summary>A request body must arrive at this rate after <see cref="MinBodyGrace"/> and within <see cref="BodyTimeout"/> in all (a CSR is ~1 KB).</summary>
    public double MinBodyBytesPerSecond { get; init; } = 1024;
    public TimeSpan MinBodyGrace { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan BodyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public FailedAuthLimiter? AuthLimiter { get; init; }

    /// <summary>An etcd learner still unpromoted this long after its admission is removed, so other servers can join.</summary>
    public TimeSpan StaleLearnerAfter { get; init; } = LearnerAdmissions.DefaultStaleAfter;
}

/// <summary>
/// The supervisor API on <c>supervisor-port</c> (default 9345): HTTPS only, the FIPS TLS policy, size, concurrency and
/// failed-authentication limits, and a structured access log that never contains credentials.
/// </summary>
public sealed class SupervisorServer : IAsyncDisposable
{
    public const string NodeNameHeader = "Bulwark-Node-Name";
    public const string NodePasswordHeader = "Bulwark-Node-Password";
    private const int MaxNodePasswordLength = 256;
    private const string NodeItem = "node";

    private readonly SupervisorSettings _settings;
    private readonly ILogger _log;
    private volatile Secrets _secrets;
    private readonly FailedAuthLimiter _limiter;
    private readonly NodePasswords _passwords;
    private readonly WebApplication _app;

    public SupervisorServer(SupervisorSettings settings, CryptoService crypto, ILoggerFactory loggers)
    {
        _settings = settings;
        _log = loggers.CreateLogger<SupervisorServer>();
        _secrets = new Secrets(new SupervisorAuthenticator(settings.ServerSecret, settings.AgentSecret), settings.SealedBootstrap);
        _limiter = settings.AuthLimiter ?? FailedAuthLimiter.Default(TimeProvider.System);
        _passwords = new NodePasswords(settings.Datastore, crypto);
        _app = Build();
    }

    public SupervisorMetrics Metrics { get; } = new();

    /// <summary>The port actually bound (after <see cref="StartAsync"/>).</summary>
    public int Port { get; private set; }

    public Uri Url => new($"https://{(_settings.BindAddress.Equals(IPAddress.Any) ? IPAddress.Loopback : _settings.BindAddress)}:{Port}");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new IOException($"the supervisor cannot listen on {_settings.BindAddress}:{_settings.Port}: {e.Message}. Is another bulwark running? Choose another supervisor-port or bind-address.", e);
        }
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        _log.LogInformation("supervisor API listening on https://{Address}:{Port}", _settings.BindAddress, Port);
    }

    /// <summary>
    /// Switches to rotated tokens (<see cref="TokenRotation"/>): from the next request on, only these secrets authenticate
    /// and the bootstrap data is served sealed with the new server secret.
    /// </summary>
    public void UseSecrets(string serverSecret, string agentSecret, byte[] sealedBootstrap) =>
        _secrets = new Secrets(new SupervisorAuthenticator(serverSecret, agentSecret), sealedBootstrap);

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _settings.Signer.Dispose();
        _settings.ServingCertificate.Dispose();
    }

    private WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "bulwark-supervisor", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = _settings.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 50;
            kestrel.Limits.MaxRequestLineSize = 4096;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            // A token holder trickling bodies must not hold request slots (issue 12, item 7): Kestrel drops too-slow bodies.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(_settings.MinBodyBytesPerSecond, _settings.MinBodyGrace);
            kestrel.Limits.MaxConcurrentConnections = 10_000;
            kestrel.Listen(_settings.BindAddress, _settings.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = _settings.ServingCertificate,
                    SslProtocols = _settings.Tls.Protocols,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                    // FIPS TLS policy: ECDHE with AES-GCM only (OpenSSL enforces the list on Linux).
                    OnAuthenticate = (_, options) => options.CipherSuitesPolicy = _settings.Tls.CipherSuitesPolicy,
                });
            });
        });
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            // Per source address first, then all together: one client waits in its own queue instead of taking every slot.
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, IPAddress>(context => RateLimitPartition.GetConcurrencyLimiter(RemoteAddress(context), _ =>
                    new ConcurrencyLimiterOptions { PermitLimit = _settings.PerClientConcurrencyLimit, QueueLimit = _settings.PerClientQueueLimit, QueueProcessingOrder = QueueProcessingOrder.OldestFirst })),
                PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetConcurrencyLimiter("all", _ =>
                    new ConcurrencyLimiterOptions { PermitLimit = _settings.ConcurrencyLimit, QueueLimit = _settings.QueueLimit, QueueProcessingOrder = QueueProcessingOrder.OldestFirst })));
        });
        var app = builder.Build();
        app.Use(AccessLogAsync);
        app.UseRateLimiter();
        app.UseRouting();
        app.Use(AuthenticateAsync);
        app.MapGet("/cacerts", (RequestDelegate)CaCertsAsync).WithMetadata(SupervisorAccess.Public);
        app.MapGet("/ping", (RequestDelegate)PingAsync).WithMetadata(SupervisorAccess.Public);
        app.MapGet("/v1/readyz", (RequestDelegate)ReadyAsync).WithMetadata(SupervisorAccess.Public);
        app.MapGet("/v1/config", (RequestDelegate)ConfigAsync).WithMetadata(SupervisorAccess.Node);
        app.MapPost("/v1/certs/kubelet-client", context => SignAsync(context, NodeCertificateKind.KubeletClient)).WithMetadata(SupervisorAccess.NodeWithIdentity);
        app.MapPost("/v1/certs/kubelet-serving", context => SignAsync(context, NodeCertificateKind.KubeletServing)).WithMetadata(SupervisorAccess.NodeWithIdentity);
        app.MapPost("/v1/certs/kube-proxy", context => SignAsync(context, NodeCertificateKind.KubeProxy)).WithMetadata(SupervisorAccess.NodeWithIdentity);
        app.MapGet("/v1/server-bootstrap", (RequestDelegate)BootstrapAsync).WithMetadata(SupervisorAccess.Server);
        app.MapGet("/v1/etcd/members", (RequestDelegate)MembersAsync).WithMetadata(SupervisorAccess.Server);
        app.MapPost("/v1/etcd/join", (RequestDelegate)EtcdJoinAsync).WithMetadata(SupervisorAccess.Server);
        if (_settings.Metrics)
        {
            app.MapGet("/metrics", (RequestDelegate)MetricsAsync).WithMetadata(SupervisorAccess.Node);
        }
        return app;
    }

    // ---- access log ----

    private async Task AccessLogAsync(HttpContext context, Func<Task> next)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            // A bug, not the client's fault: logged without the request (it may hold secrets), answered with 500.
            _log.LogError("internal error serving {Path}: {Type}: {Message}", context.Request.Path.Value, e.GetType().Name, e.Message);
            context.Response.Clear();
            await ErrorAsync(context, 500, "internal error in the supervisor; see the server log").ConfigureAwait(false);
        }
        finally
        {
            var status = context.Response.StatusCode;
            var route = context.Request.Path.Value is { Length: <= 64 } p ? p : "(long path)";
            Metrics.Request(KnownRoute(route), status);
            // Method, path, status, source, user role, node name and duration; never headers or bodies (they hold secrets).
            if (_log.IsEnabled(LogLevel.Debug))
            {
                _log.LogDebug("access {Method} {Path} {Status} from {Remote} as {Role} node {Node} in {Ms:0.0} ms",
                context.Request.Method, route, status, RemoteAddress(context), context.Items["role"] ?? "-", context.Items[NodeItem] ?? "-",
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    private static string KnownRoute(string path) => path switch
    {
        "/cacerts" or "/ping" or "/v1/readyz" or "/v1/config" or "/v1/certs/kubelet-client" or "/v1/certs/kubelet-serving"
            or "/v1/certs/kube-proxy" or "/v1/server-bootstrap" or "/v1/etcd/members" or "/v1/etcd/join" or "/metrics" => path,
        _ => "other",
    };

    private static IPAddress RemoteAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress ?? IPAddress.None;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    // ---- handlers ----

    private Task CaCertsAsync(HttpContext context)
    {
        context.Response.ContentType = "application/x-pem-file";
        return context.Response.Body.WriteAsync(_settings.CaBundle, context.RequestAborted).AsTask();
    }

    private static Task PingAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync("pong", context.RequestAborted);
    }

    private async Task ReadyAsync(HttpContext context)
    {
        var ready = await _settings.Datastore.IsHealthyAsync(context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(ready ? "ok" : "etcd is not ready (no leader or no quorum)", context.RequestAborted).ConfigureAwait(false);
    }

    private Task ConfigAsync(HttpContext context) =>
        JsonAsync(context, 200, _settings.AgentConfig, SupervisorJsonContext.Default.AgentClusterConfig);

    private async Task SignAsync(HttpContext context, NodeCertificateKind kind)
    {
        var node = (string)context.Items[NodeItem]!;
        var request = await ReadJsonAsync(context, SupervisorJsonContext.Default.CsrRequest).ConfigureAwait(false);
        if (request is null)
        {
            return;
        }
        if (string.IsNullOrEmpty(request.Csr))
        {
            await ErrorAsync(context, 400, "the request body must be {\"csr\": \"<PEM certificate signing request>\"}").ConfigureAwait(false);
            return;
        }
        try
        {
            var signed = _settings.Signer.Sign(kind, request.Csr, node, [RemoteAddress(context)]);
            Metrics.CertificateSigned();
            await JsonAsync(context, 200, signed, SupervisorJsonContext.Default.SignedCertificate).ConfigureAwait(false);
        }
        catch (CsrRejectedException e)
        {
            _log.LogWarning("refused a {Kind} CSR from node {Node} ({Remote}): {Reason}", NodeCertificateSigner.Describe(kind), node, RemoteAddress(context), e.Message);
            await ErrorAsync(context, StatusCodes.Status403Forbidden, e.Message).ConfigureAwait(false);
        }
    }

    private Task BootstrapAsync(HttpContext context)
    {
        context.Response.ContentType = "application/octet-stream";
        return context.Response.Body.WriteAsync(_secrets.SealedBootstrap, context.RequestAborted).AsTask();
    }

    private async Task MembersAsync(HttpContext context)
    {
        try
        {
            var list = await _settings.Datastore.Etcd.MemberListAsync(context.RequestAborted).ConfigureAwait(false);
            var members = list.Select(View).ToList();
            await JsonAsync(context, 200, new EtcdMembersResponse(members), SupervisorJsonContext.Default.EtcdMembersResponse).ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            await EtcdUnavailableAsync(context, e).ConfigureAwait(false);
        }
    }

    private async Task EtcdJoinAsync(HttpContext context)
    {
        var request = await ReadJsonAsync(context, SupervisorJsonContext.Default.EtcdJoinRequest).ConfigureAwait(false);
        if (request is null)
        {
            return;
        }
        if (string.IsNullOrEmpty(request.Name) || Validators.NodeName(request.Name) is not null || !Uri.TryCreate(request.PeerUrl, UriKind.Absolute, out var peer)
            || peer.Scheme != "https" || peer.AbsolutePath != "/" || peer.Query.Length > 0 || peer.UserInfo.Length > 0)
        {
            await ErrorAsync(context, 400, "the join request needs a member name (a DNS name) and an https peer URL such as https://10.0.0.2:2380").ConfigureAwait(false);
            return;
        }
        var peerUrl = peer.GetLeftPart(UriPartial.Authority);
        try
        {
            var admission = await new LearnerAdmissions(_settings.Datastore.Etcd, _log) { StaleAfter = _settings.StaleLearnerAfter }.AdmitAsync(request.Name, peerUrl, context.RequestAborted).ConfigureAwait(false);
            if (!admission.AlreadyMember)
            {
                Metrics.EtcdJoin();
                _log.LogInformation("added etcd learner {Name} ({PeerUrl}) for a joining server", request.Name, peerUrl);
            }
            await JsonAsync(context, 200, new EtcdJoinResponse(admission.MemberIdText, admission.InitialCluster, admission.VoterClientUrls, admission.AlreadyMember),
                SupervisorJsonContext.Default.EtcdJoinResponse).ConfigureAwait(false);
        }
        catch (LearnerSlotBusyException e)
        {
            context.Response.Headers.RetryAfter = "2";
            await ErrorAsync(context, 503, e.Message).ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            await EtcdUnavailableAsync(context, e).ConfigureAwait(false);
        }
    }

    private Task MetricsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4";
        return context.Response.WriteAsync(Metrics.Render(), context.RequestAborted);
    }

    // ---- authentication: the one place every endpoint's access is enforced ----

    /// <summary>Applies the endpoint's <see cref="SupervisorAccess"/> (servers only when it has none) before its handler runs.</summary>
    private async Task AuthenticateAsync(HttpContext context, Func<Task> next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            await next().ConfigureAwait(false); // no such route: 404
            return;
        }
        var access = endpoint.Metadata.GetMetadata<SupervisorAccess>() ?? SupervisorAccess.Server;
        if (access.Role != SupervisorRole.None && !await AuthorizeAsync(context, access.Role).ConfigureAwait(false))
        {
            return;
        }
        if (access.NodeIdentity && await AuthorizeNodeAsync(context).ConfigureAwait(false) is null)
        {
            return;
        }
        await next().ConfigureAwait(false);
    }

    /// <summary>Basic auth as server or node; 429 while the source address is blocked, 401 on bad credentials, 403 on the wrong role.</summary>
    private async Task<bool> AuthorizeAsync(HttpContext context, SupervisorRole required)
    {
        var remote = RemoteAddress(context);
        if (_limiter.IsBlocked(remote))
        {
            Metrics.RateLimited();
            context.Response.Headers.RetryAfter = _limiter.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ErrorAsync(context, StatusCodes.Status429TooManyRequests, "too many failed authentications from this address; wait and retry with the right token").ConfigureAwait(false);
            return false;
        }
        var role = _secrets.Auth.Authenticate(BasicCredentials.Parse(context.Request.Headers.Authorization.ToString()));
        if (role == SupervisorRole.None)
        {
            Metrics.AuthFailure();
            if (_limiter.RecordFailure(remote))
            {
                _log.LogWarning("blocking {Remote} for a while: too many failed authentications", remote);
            }
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"bulwark\"";
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "the token is not valid for this cluster; use the server's token (<data-dir>/server/token) or agent-token").ConfigureAwait(false);
            return false;
        }
        context.Items["role"] = role == SupervisorRole.Server ? "server" : "node";
        if (required == SupervisorRole.Server && role != SupervisorRole.Server)
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, "this endpoint is for servers; join servers with the server token (user 'server'), not the agent token").ConfigureAwait(false);
            return false;
        }
        return true;
    }

    /// <summary>The node's name and per-node password; null (and the reply sent) when they are missing or do not match the record.</summary>
    private async Task<string?> AuthorizeNodeAsync(HttpContext context)
    {
        var name = context.Request.Headers[NodeNameHeader].ToString();
        var password = context.Request.Headers[NodePasswordHeader].ToString();
        if (Validators.NodeName(name) is { } error || name.Length == 0)
        {
            await ErrorAsync(context, 400, $"header {NodeNameHeader} must carry the node name (a lower-case DNS name)").ConfigureAwait(false);
            return null;
        }
        if (password.Length is 0 or > MaxNodePasswordLength)
        {
            await ErrorAsync(context, 400, $"header {NodePasswordHeader} must carry the node password (1 to {MaxNodePasswordLength} characters, from <data-dir>/agent/node-password)").ConfigureAwait(false);
            return null;
        }
        context.Items[NodeItem] = name;
        NodePasswordCheck check;
        try
        {
            check = await _passwords.CheckAsync(name, password, context.RequestAborted).ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            await EtcdUnavailableAsync(context, e).ConfigureAwait(false);
            return null;
        }
        if (check == NodePasswordCheck.Mismatch)
        {
            _log.LogWarning("refused node {Node} from {Remote}: its node password does not match the one recorded at its first join", name, RemoteAddress(context));
            await ErrorAsync(context, StatusCodes.Status403Forbidden,
                $"node '{name}' already joined this cluster with a different node password. Two hosts may share this hostname: give this one another " +
                "node-name, or set with-node-id: true to append a unique id. If this is the same host reinstalled, restore its " +
                "<data-dir>/agent/node-password, or remove the old node's record from the cluster first.").ConfigureAwait(false);
            return null;
        }
        if (check == NodePasswordCheck.Recorded)
        {
            _log.LogInformation("node {Node} joined for the first time from {Remote}; its node password hash was recorded", name, RemoteAddress(context));
        }
        return name;
    }

    // ---- plumbing ----

    private async Task EtcdUnavailableAsync(HttpContext context, EtcdException e)
    {
        _log.LogWarning("etcd call failed while serving {Path}: {Error}", context.Request.Path.Value, e.Message);
        context.Response.Headers.RetryAfter = "2";
        await ErrorAsync(context, 503, "the cluster datastore (etcd) is not ready on this server; retry shortly").ConfigureAwait(false);
    }

    private async Task<T?> ReadJsonAsync<T>(HttpContext context, JsonTypeInfo<T> type) where T : class
    {
        using var bodyTime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bodyTime.CancelAfter(_settings.BodyTimeout);
        try
        {
            var value = await JsonSerializer.DeserializeAsync(context.Request.Body, type, bodyTime.Token).ConfigureAwait(false);
            if (value is not null)
            {
                return value;
            }
        }
        catch (JsonException)
        {
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The whole body did not arrive in time: answer and close, freeing the slot.
            context.Response.Headers.Connection = "close";
            await ErrorAsync(context, StatusCodes.Status408RequestTimeout, $"the request body did not arrive within {_settings.BodyTimeout.TotalSeconds:0} s").ConfigureAwait(false);
            return null;
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            // 413: too large; 408: slower than the minimum data rate (Kestrel closes the connection).
            await ErrorAsync(context, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is too large" : "the request body was not received: " + e.Message).ConfigureAwait(false);
            return null;
        }
        await ErrorAsync(context, 400, $"the request body must be JSON ({typeof(T).Name})").ConfigureAwait(false);
        return null;
    }

    private static Task JsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(value, type, cancellationToken: context.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, new ErrorBody(message), SupervisorJsonContext.Default.ErrorBody);

    private static EtcdMemberView View(Etcdserverpb.Member m) =>
        new(m.IdHex(), m.Name, [.. m.PeerURLs], [.. m.ClientURLs], m.IsLearner);

    /// <summary>The credentials in force, swapped as one reference when the token is rotated.</summary>
    private sealed record Secrets(SupervisorAuthenticator Auth, byte[] SealedBootstrap);
}
