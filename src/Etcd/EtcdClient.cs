using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bulwark.Etcd;

/// <summary>Where and how to reach etcd: client URLs (tried in order), TLS files, and the default deadline of a call.</summary>
public sealed record EtcdClientOptions(IReadOnlyList<Uri> Endpoints, EtcdClientTls Tls)
{
    /// <summary>Sent as Grpc-Timeout (so etcd gives up too) and enforced locally with a little slack.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>HTTP/1.1 measured a little faster for unary calls through the gateway; watch always uses HTTP/2.</summary>
    public Version UnaryHttpVersion { get; init; } = HttpVersion.Version11;
}

/// <summary>
/// Bulwark's etcd v3 client over the JSON gateway with mutual TLS (see ../shared/ETCD-GATEWAY.md): KV, txn, watch,
/// lease, maintenance and cluster membership. Every call carries a deadline (Grpc-Timeout) and a cancellation token;
/// etcd errors become <see cref="EtcdException"/>. The snapshot stream and HashKV use etcd's native gRPC API
/// (<see cref="EtcdGrpc"/>) because the gateway is 2–4× slower for the one and lacks the other in 3.4.
/// </summary>
public sealed class EtcdClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly EtcdClientOptions _options;
    private int _preferred;

    public EtcdClient(EtcdClientOptions options)
    {
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("at least one etcd endpoint is required", nameof(options));
        }
        _options = options;
        var handler = new SocketsHttpHandler
        {
            SslOptions = EtcdTlsOptions.Create(options.Tls),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            EnableMultipleHttp2Connections = true,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public IReadOnlyList<Uri> Endpoints => _options.Endpoints;

    // ---- KV ----

    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/kv/range", request, EtcdJsonContext.Default.RangeRequest, EtcdJsonContext.Default.RangeResponse, cancellationToken);

    public async Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await RangeAsync(new RangeRequest { Key = Bytes(key) }, cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count > 0 ? response.Kvs[0] : null;
    }

    /// <summary>Every key under a prefix, paged (the gateway has no size cap on a range, so large prefixes are read in pages).</summary>
    public async Task<IReadOnlyList<KeyValue>> GetPrefixAsync(string prefix, long revision = 0, CancellationToken cancellationToken = default)
    {
        var all = new List<KeyValue>();
        var start = Bytes(prefix);
        var end = KeyRange.PrefixEnd(start);
        while (true)
        {
            var page = await RangeAsync(new RangeRequest { Key = start, RangeEnd = end, Limit = 1000, Revision = revision }, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Kvs);
            if (!page.More || page.Kvs.Count == 0)
            {
                return all;
            }
            revision = page.Header.Revision;
            start = [.. page.Kvs[^1].Key, 0];
        }
    }

    public Task<PutResponse> PutAsync(PutRequest request, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/kv/put", request, EtcdJsonContext.Default.PutRequest, EtcdJsonContext.Default.PutResponse, cancellationToken);

    public Task<PutResponse> PutAsync(string key, string value, long lease = 0, CancellationToken cancellationToken = default) =>
        PutAsync(new PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease }, cancellationToken);

    public Task<DeleteRangeResponse> DeleteAsync(DeleteRangeRequest request, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/kv/deleterange", request, EtcdJsonContext.Default.DeleteRangeRequest, EtcdJsonContext.Default.DeleteRangeResponse, cancellationToken);

    public Task<DeleteRangeResponse> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        DeleteAsync(new DeleteRangeRequest { Key = Bytes(key) }, cancellationToken);

    public Task<DeleteRangeResponse> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default) =>
        DeleteAsync(new DeleteRangeRequest { Key = Bytes(prefix), RangeEnd = KeyRange.PrefixEnd(Bytes(prefix)) }, cancellationToken);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/kv/txn", request, EtcdJsonContext.Default.TxnRequest, EtcdJsonContext.Default.TxnResponse, cancellationToken);

    public Task CompactAsync(long revision, bool physical = true, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/kv/compaction", new CompactionRequest(revision, physical), EtcdJsonContext.Default.CompactionRequest, EtcdJsonContext.Default.EmptyRequest, cancellationToken);

    // ---- Watch ----

    /// <summary>
    /// Watches a key or range until the token is cancelled: one HTTP/2 request per watch, so cancelling is disposing it.
    /// A watch cancelled by etcd (e.g. start revision compacted) ends the sequence after the cancel message.
    /// </summary>
    public async IAsyncEnumerable<WatchResponse> WatchAsync(WatchCreate create, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new WatchRequest(create), EtcdJsonContext.Default.WatchRequest);
        var endpoint = _options.Endpoints[_preferred % _options.Endpoints.Count];
        using var request = NewRequest(endpoint, "/v3/watch", body, HttpVersion.Version20, timeout: null);
        using var response = await SendAsync(request, endpoint, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, endpoint, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            var message = JsonSerializer.Deserialize(line, EtcdJsonContext.Default.WatchLine)!;
            if (message.Error is { } error)
            {
                throw new EtcdException(error.GrpcCode, error.Message, error.HttpCode, endpoint.ToString());
            }
            if (message.Result is { } result)
            {
                yield return result;
                if (result.Canceled)
                {
                    yield break;
                }
            }
        }
    }

    // ---- Lease ----

    public Task<LeaseGrantResponse> LeaseGrantAsync(long ttlSeconds, long id = 0, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/lease/grant", new LeaseGrantRequest(ttlSeconds, id), EtcdJsonContext.Default.LeaseGrantRequest, EtcdJsonContext.Default.LeaseGrantResponse, cancellationToken);

    public Task LeaseRevokeAsync(long id, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/lease/revoke", new LeaseIdRequest(id), EtcdJsonContext.Default.LeaseIdRequest, EtcdJsonContext.Default.EmptyRequest, cancellationToken);

    public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long id, bool keys = false, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/lease/timetolive", new LeaseTimeToLiveRequest(id, keys), EtcdJsonContext.Default.LeaseTimeToLiveRequest, EtcdJsonContext.Default.LeaseTimeToLiveResponse, cancellationToken);

    /// <summary>Renews a lease once (one short stream per renewal, the simple pattern from ETCD-GATEWAY.md §4). TTL 0 means the lease is gone.</summary>
    public async Task<LeaseKeepAliveResponse> LeaseKeepAliveOnceAsync(long id, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new LeaseIdRequest(id), EtcdJsonContext.Default.LeaseIdRequest);
        return await WithFailoverAsync(async (endpoint, token) =>
        {
            using var request = NewRequest(endpoint, "/v3/lease/keepalive", body, _options.UnaryHttpVersion, _options.CallTimeout);
            using var response = await SendAsync(request, endpoint, token).ConfigureAwait(false);
            await ThrowIfErrorAsync(response, endpoint, token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
                ?? throw new EtcdException(GrpcCodes.Unknown, "empty keepalive reply", (int)response.StatusCode, endpoint.ToString());
            var message = JsonSerializer.Deserialize(line, EtcdJsonContext.Default.LeaseKeepAliveLine)!;
            return message.Error is { } e
                ? throw new EtcdException(e.GrpcCode, e.Message, e.HttpCode, endpoint.ToString())
                : message.Result ?? new LeaseKeepAliveResponse { Id = id };
        }, cancellationToken).ConfigureAwait(false);
    }

    // ---- Maintenance ----

    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/maintenance/status", new EmptyRequest(), EtcdJsonContext.Default.EmptyRequest, EtcdJsonContext.Default.StatusResponse, cancellationToken);

    /// <summary>Status of one specific member (status answers for the member you ask; a learner answers too).</summary>
    public Task<StatusResponse> StatusAsync(Uri endpoint, CancellationToken cancellationToken = default) =>
        UnaryAtAsync(endpoint, "/v3/maintenance/status", new EmptyRequest(), EtcdJsonContext.Default.EmptyRequest, EtcdJsonContext.Default.StatusResponse, cancellationToken);

    /// <summary>Defragments the member at the endpoint (it blocks that member while it runs).</summary>
    public Task DefragmentAsync(Uri endpoint, CancellationToken cancellationToken = default) =>
        UnaryAtAsync(endpoint, "/v3/maintenance/defragment", new EmptyRequest(), EtcdJsonContext.Default.EmptyRequest, EtcdJsonContext.Default.EmptyRequest, cancellationToken, TimeSpan.FromMinutes(5));

    public async Task<IReadOnlyList<AlarmMember>> AlarmListAsync(CancellationToken cancellationToken = default) =>
        (await UnaryAsync("/v3/maintenance/alarm", new AlarmRequest("GET", 0, "NONE"), EtcdJsonContext.Default.AlarmRequest, EtcdJsonContext.Default.AlarmResponse, cancellationToken).ConfigureAwait(false)).Alarms;

    /// <summary>Disarms every active alarm (GET, then DEACTIVATE each pair, as etcdctl does). Returns what was disarmed.</summary>
    public async Task<IReadOnlyList<AlarmMember>> AlarmDisarmAllAsync(CancellationToken cancellationToken = default)
    {
        var alarms = await AlarmListAsync(cancellationToken).ConfigureAwait(false);
        foreach (var alarm in alarms)
        {
            await UnaryAsync("/v3/maintenance/alarm", new AlarmRequest("DEACTIVATE", alarm.MemberId, alarm.Alarm),
                EtcdJsonContext.Default.AlarmRequest, EtcdJsonContext.Default.AlarmResponse, cancellationToken).ConfigureAwait(false);
        }
        return alarms;
    }

    public Task<HashResponse> HashAsync(CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/maintenance/hash", new EmptyRequest(), EtcdJsonContext.Default.EmptyRequest, EtcdJsonContext.Default.HashResponse, cancellationToken);

    /// <summary>HashKV of the keyspace up to a revision (0 = latest), through native gRPC (the 3.4 gateway routes it to Hash).</summary>
    public Task<HashKvResult> HashKvAsync(Uri endpoint, long revision = 0, CancellationToken cancellationToken = default) =>
        new EtcdGrpc(_http, endpoint).HashKvAsync(revision, _options.CallTimeout, cancellationToken);

    /// <summary>
    /// Streams a snapshot of the member's backend into <paramref name="destination"/> (the DB followed by its 32-byte SHA-256,
    /// byte for byte what etcdctl writes) over native gRPC. The trailer is verified while streaming; a mismatch throws.
    /// </summary>
    public async Task<SnapshotStreamResult> SnapshotAsync(Stream destination, CancellationToken cancellationToken = default) =>
        await WithFailoverAsync((endpoint, token) => new EtcdGrpc(_http, endpoint).SnapshotAsync(destination, token), cancellationToken, resettable: destination).ConfigureAwait(false);

    /// <summary>The same snapshot through the JSON gateway (base64 lines); slower, kept as a fallback and for comparison.</summary>
    public async Task<SnapshotStreamResult> SnapshotViaGatewayAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        var endpoint = _options.Endpoints[_preferred % _options.Endpoints.Count];
        using var request = NewRequest(endpoint, "/v3/maintenance/snapshot", "{}"u8.ToArray(), HttpVersion.Version11, timeout: null);
        using var response = await SendAsync(request, endpoint, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, endpoint, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8, false, 1 << 16);
        using var integrity = new SnapshotIntegrity();
        long total = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("error", out var error))
            {
                throw new EtcdException(error.TryGetProperty("grpc_code", out var c) ? c.GetInt32() : GrpcCodes.Unknown,
                    error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : error.ToString(), 200, endpoint.ToString());
            }
            if (doc.RootElement.TryGetProperty("result", out var result) && result.TryGetProperty("blob", out var blob))
            {
                var bytes = blob.GetBytesFromBase64();
                integrity.Append(bytes);
                await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                total += bytes.Length;
            }
        }
        return new SnapshotStreamResult(total, integrity.Verify(endpoint.ToString()));
    }

    // ---- Cluster ----

    public Task<MemberListResponse> MemberListAsync(CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/cluster/member/list", new EmptyRequest(), EtcdJsonContext.Default.EmptyRequest, EtcdJsonContext.Default.MemberListResponse, cancellationToken);

    /// <summary>Adds a member; add it as a learner (the default) so a one- or two-member cluster keeps quorum (ETCD-GATEWAY.md §6).</summary>
    public Task<MemberAddResponse> MemberAddAsync(IReadOnlyList<string> peerUrls, bool isLearner = true, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/cluster/member/add", new MemberAddRequest(peerUrls, isLearner), EtcdJsonContext.Default.MemberAddRequest, EtcdJsonContext.Default.MemberAddResponse, cancellationToken);

    /// <summary>Promotes a learner; throws <see cref="EtcdException"/> with <see cref="EtcdException.IsLearnerNotReady"/> until it is in sync.</summary>
    public Task<MemberListResponse> MemberPromoteAsync(ulong id, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/cluster/member/promote", new MemberIdRequest(id), EtcdJsonContext.Default.MemberIdRequest, EtcdJsonContext.Default.MemberListResponse, cancellationToken);

    public Task<MemberListResponse> MemberRemoveAsync(ulong id, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/cluster/member/remove", new MemberIdRequest(id), EtcdJsonContext.Default.MemberIdRequest, EtcdJsonContext.Default.MemberListResponse, cancellationToken);

    public Task<MemberListResponse> MemberUpdateAsync(ulong id, IReadOnlyList<string> peerUrls, CancellationToken cancellationToken = default) =>
        UnaryAsync("/v3/cluster/member/update", new MemberUpdateRequest(id, peerUrls), EtcdJsonContext.Default.MemberUpdateRequest, EtcdJsonContext.Default.MemberListResponse, cancellationToken);

    /// <summary>Adds a learner, retrying while etcd reports an unhealthy cluster (see <see cref="WhileUnhealthyAsync{T}"/>).</summary>
    public Task<MemberAddResponse> MemberAddLearnerWhenHealthyAsync(IReadOnlyList<string> peerUrls, TimeSpan deadline, CancellationToken cancellationToken = default) =>
        WhileUnhealthyAsync(() => MemberAddAsync(peerUrls, isLearner: true, cancellationToken), deadline, cancellationToken);

    /// <summary>Removes a member, retrying while etcd reports an unhealthy cluster.</summary>
    public Task<MemberListResponse> MemberRemoveWhenHealthyAsync(ulong id, TimeSpan deadline, CancellationToken cancellationToken = default) =>
        WhileUnhealthyAsync(() => MemberRemoveAsync(id, cancellationToken), deadline, cancellationToken);

    /// <summary>
    /// Runs a membership change, retrying while etcd answers "unhealthy cluster": its strict reconfiguration check refuses
    /// changes until every voting member has been connected for 5 s (e.g. just after a member was promoted or restarted).
    /// </summary>
    private static async Task<T> WhileUnhealthyAsync<T>(Func<Task<T>> change, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        while (true)
        {
            try
            {
                return await change().ConfigureAwait(false);
            }
            catch (EtcdException e) when (e.Code == GrpcCodes.Unavailable && e.EtcdMessage.Contains("unhealthy cluster", StringComparison.Ordinal) && DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Polls promote until the learner is in sync and promoted, or the deadline passes.</summary>
    public async Task PromoteWhenReadyAsync(ulong id, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        while (true)
        {
            try
            {
                await MemberPromoteAsync(id, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (EtcdException e) when ((e.IsLearnerNotReady || e.Code == GrpcCodes.Unavailable) && DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    // ---- plumbing ----

    internal static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private Task<TResponse> UnaryAsync<TRequest, TResponse>(string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken) =>
        WithFailoverAsync((endpoint, token) => UnaryAtAsync(endpoint, path, body, requestType, responseType, token), cancellationToken);

    private async Task<TResponse> UnaryAtAsync<TRequest, TResponse>(Uri endpoint, string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType,
        CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var deadline = timeout ?? _options.CallTimeout;
        using var local = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // etcd gets the deadline; the local one is a little later so etcd's own "deadline exceeded" can arrive.
        local.CancelAfter(deadline + TimeSpan.FromSeconds(2));
        using var request = NewRequest(endpoint, path, JsonSerializer.SerializeToUtf8Bytes(body, requestType), _options.UnaryHttpVersion, deadline);
        try
        {
            using var response = await SendAsync(request, endpoint, local.Token).ConfigureAwait(false);
            await ThrowIfErrorAsync(response, endpoint, local.Token).ConfigureAwait(false);
            await using var stream = await response.Content.ReadAsStreamAsync(local.Token).ConfigureAwait(false);
            return (await JsonSerializer.DeserializeAsync(stream, responseType, local.Token).ConfigureAwait(false))!;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EtcdException(GrpcCodes.DeadlineExceeded, $"no reply to {path} within {deadline.TotalSeconds:0.#} s", 0, endpoint.ToString());
        }
    }

    /// <summary>Runs a call against the preferred endpoint; on a connection failure moves to the next one (the call was not delivered).</summary>
    private async Task<T> WithFailoverAsync<T>(Func<Uri, CancellationToken, Task<T>> call, CancellationToken cancellationToken, Stream? resettable = null)
    {
        EtcdException? last = null;
        var start = _preferred;
        var startPosition = resettable?.CanSeek == true ? resettable.Position : 0;
        for (var i = 0; i < _options.Endpoints.Count; i++)
        {
            var index = (start + i) % _options.Endpoints.Count;
            try
            {
                var result = await call(_options.Endpoints[index], cancellationToken).ConfigureAwait(false);
                _preferred = index;
                return result;
            }
            catch (EtcdException e) when (e.HttpStatus == 0 && e.InnerException is HttpRequestException && (resettable is null || resettable.CanSeek))
            {
                last = e;
                if (resettable is not null)
                {
                    resettable.SetLength(startPosition);
                    resettable.Position = startPosition;
                }
            }
        }
        throw last!;
    }

    private static HttpRequestMessage NewRequest(Uri endpoint, string path, byte[] body, Version version, TimeSpan? timeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path))
        {
            // DefaultRequestVersion is not applied to hand-built requests: set it on each one (ETCD-GATEWAY.md pitfall 4).
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        // An Accept header keeps etcd from taking the gateway's certificate CN as a user (ETCD-GATEWAY.md §7).
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (timeout is { } t)
        {
            request.Headers.TryAddWithoutValidation("Grpc-Timeout", GrpcTimeout(t));
        }
        return request;
    }

    internal static string GrpcTimeout(TimeSpan timeout) =>
        Math.Max(1, (long)Math.Ceiling(timeout.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "m";

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, Uri endpoint, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new EtcdException($"cannot connect: {Innermost(e).Message}", e, endpoint.ToString());
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

    private static async Task ThrowIfErrorAsync(HttpResponseMessage response, Uri endpoint, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw ErrorMapping.FromBody((int)response.StatusCode, text, endpoint.ToString());
    }
}

/// <summary>Maps the gateway's error bodies (unary and streaming forms) to <see cref="EtcdException"/>.</summary>
public static class ErrorMapping
{
    public static EtcdException FromBody(int httpStatus, string body, string endpoint)
    {
        try
        {
            var error = JsonSerializer.Deserialize(body, EtcdJsonContext.Default.UnaryError);
            if (error is not null)
            {
                if (error.Error.ValueKind == JsonValueKind.Object)
                {
                    var nested = error.Error.Deserialize(EtcdJsonContext.Default.StreamError)!;
                    return new EtcdException(nested.GrpcCode, nested.Message, httpStatus, endpoint);
                }
                var message = error.Message ?? (error.Error.ValueKind == JsonValueKind.String ? error.Error.GetString() : null);
                if (message is not null)
                {
                    return new EtcdException(error.Code, message, httpStatus, endpoint);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (e.g. "405 method not allowed" as text/plain): fall through.
        }
        return new EtcdException(CodeForHttpStatus(httpStatus), body.Trim().Length > 0 ? body.Trim() : $"HTTP {httpStatus}", httpStatus, endpoint);
    }

    private static int CodeForHttpStatus(int status) => status switch
    {
        400 => GrpcCodes.InvalidArgument,
        401 => GrpcCodes.Unauthenticated,
        403 => GrpcCodes.PermissionDenied,
        404 => GrpcCodes.NotFound,
        405 or 501 => GrpcCodes.Unimplemented,
        412 => GrpcCodes.FailedPrecondition,
        429 => GrpcCodes.ResourceExhausted,
        503 => GrpcCodes.Unavailable,
        504 => GrpcCodes.DeadlineExceeded,
        _ => GrpcCodes.Unknown,
    };
}

/// <summary>Key-range helpers: etcd expresses a prefix as [prefix, prefix with its last byte incremented).</summary>
public static class KeyRange
{
    public static byte[] PrefixEnd(byte[] prefix)
    {
        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }
        // All 0xff (or empty): every key from prefix on.
        return [0];
    }
}
