using System.Net.Sockets;
using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Etcd;

/// <summary>Where and how to reach etcd: client URLs (tried in order), TLS files, and the default deadline of a call.</summary>
public sealed record EtcdClientOptions(IReadOnlyList<Uri> Endpoints, EtcdClientTls Tls)
{
    /// <summary>The deadline of a unary call (sent to etcd as grpc-timeout, so etcd gives up too).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Bulwark's policy over dotnet-etcd: which member to talk to (the endpoints in order, moving on when one cannot be
/// reached), mutual TLS under the crypto policy on every channel (never plaintext), promote-when-ready, and etcd's
/// <see cref="RpcException"/> mapped to <see cref="EtcdException"/>. Only the calls Bulwark itself makes are here;
/// anything else goes to <see cref="Api"/>, the library's client for the member in use.
/// </summary>
public sealed class EtcdClient : IDisposable
{
    private readonly EtcdClientOptions _options;
    private readonly EtcdChannel[] _channels;
    private int _preferred;

    public EtcdClient(EtcdClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("at least one etcd endpoint is required", nameof(options));
        }
        // dotnet-etcd speaks plaintext HTTP/2 to an https:// URL handed over without TLS options: refuse before any channel exists.
        if (options.Tls is null)
        {
            throw new ArgumentException("etcd client TLS files are required: Bulwark talks to etcd only over mutual TLS", nameof(options));
        }
        if (options.Endpoints.FirstOrDefault(e => e.Scheme != Uri.UriSchemeHttps) is { } plain)
        {
            throw new ArgumentException($"etcd endpoint {plain} is not https: Bulwark talks to etcd only over mutual TLS", nameof(options));
        }
        _options = options;
        var tls = EtcdTlsOptions.Create(options.Tls);
        _channels = [.. options.Endpoints.Select(e => new EtcdChannel(e, tls))];
    }

    public IReadOnlyList<Uri> Endpoints => _options.Endpoints;

    /// <summary>The library's client for the member currently in use (for calls Bulwark does not make itself, e.g. in tests).</summary>
    public dotnet_etcd.EtcdClient Api => _channels[_preferred].Client;

    // ---- KV ----

    /// <summary>The value of a key, or null when it is absent (a linearizable read: it needs a leader and quorum).</summary>
    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync((c, d, t) => c.GetAsync(key, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count > 0 ? response.Kvs[0].Value.ToByteArray() : null;
    }

    public Task PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        CallAsync((c, d, t) => c.PutAsync(key, value, deadline: d, cancellationToken: t), cancellationToken);

    /// <summary>Stores the value unless the key exists (one txn); returns what is stored afterwards.</summary>
    public async Task<byte[]> PutIfAbsentAsync(string key, byte[] value, CancellationToken cancellationToken = default)
    {
        var keyBytes = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = keyBytes, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = keyBytes, Value = ByteString.CopyFrom(value) } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = keyBytes } });
        var response = await CallAsync((c, d, t) => c.TransactionAsync(txn, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        if (response.Succeeded)
        {
            return value;
        }
        var existing = response.Responses.FirstOrDefault()?.ResponseRange?.Kvs;
        return existing is { Count: > 0 } kvs ? kvs[0].Value.ToByteArray() : value;
    }

    /// <summary>
    /// One txn: when <paramref name="key"/> still holds <paramref name="expected"/>, stores <paramref name="puts"/> and deletes
    /// <paramref name="key"/> (unless it is among them); otherwise changes nothing. Returns whether it was applied.
    /// </summary>
    public async Task<bool> ReplaceIfUnchangedAsync(string key, byte[] expected, IReadOnlyList<KeyValuePair<string, byte[]>> puts, CancellationToken cancellationToken = default)
    {
        var keyBytes = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = keyBytes, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = ByteString.CopyFrom(expected) });
        foreach (var (name, value) in puts)
        {
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(name), Value = ByteString.CopyFrom(value) } });
        }
        if (!puts.Any(p => p.Key == key))
        {
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = keyBytes } });
        }
        var response = await CallAsync((c, d, t) => c.TransactionAsync(txn, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <summary>The keys under <paramref name="prefix"/> with their values (a linearizable read).</summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> ReadPrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = PrefixEnd(prefix) };
        var response = await CallAsync((c, d, t) => c.GetAsync(request, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return response.Kvs.ToDictionary(kv => Text(kv.Key), kv => kv.Value.ToByteArray(), StringComparer.Ordinal);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        CallAsync((c, d, t) => c.DeleteAsync(key, deadline: d, cancellationToken: t), cancellationToken);

    // ---- Maintenance ----

    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken = default) =>
        CallAsync((c, d, t) => c.StatusAsync(new StatusRequest(), deadline: d, cancellationToken: t), cancellationToken);

    /// <summary>Disarms every active alarm (list, then deactivate each, as etcdctl does). Returns what was disarmed.</summary>
    public async Task<IReadOnlyList<AlarmMember>> AlarmDisarmAllAsync(CancellationToken cancellationToken = default)
    {
        var alarms = await CallAsync((c, d, t) => c.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        foreach (var alarm in alarms.Alarms)
        {
            var disarm = new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, MemberID = alarm.MemberID, Alarm = alarm.Alarm };
            await CallAsync((c, d, t) => c.AlarmAsync(disarm, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        }
        return alarms.Alarms;
    }

    /// <summary>
    /// Streams a snapshot of the member's backend into <paramref name="destination"/> (the DB followed by its 32-byte SHA-256,
    /// byte for byte what etcdctl writes). The trailer is verified while streaming; a mismatch throws.
    /// </summary>
    public Task<SnapshotStreamResult> SnapshotAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        var start = destination.CanSeek ? destination.Position : 0;
        return CallAsync(async (channel, token) =>
        {
            if (destination.CanSeek && destination.Position != start)
            {
                // A member that failed mid-stream: start over on the next one.
                destination.SetLength(start);
                destination.Position = start;
            }
            using var call = channel.Maintenance.Snapshot(new Etcdserverpb.SnapshotRequest(), cancellationToken: token);
            using var integrity = new SnapshotIntegrity();
            while (await call.ResponseStream.MoveNext(token).ConfigureAwait(false))
            {
                var blob = call.ResponseStream.Current.Blob.Memory;
                integrity.Append(blob.Span);
                await destination.WriteAsync(blob, token).ConfigureAwait(false);
            }
            return new SnapshotStreamResult(integrity.Length, integrity.Verify(channel.Endpoint.ToString()));
        }, cancellationToken, failover: destination.CanSeek);
    }

    // ---- Cluster ----

    public async Task<IReadOnlyList<Member>> MemberListAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync((c, d, t) => c.MemberListAsync(new MemberListRequest(), deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false)).Members;

    /// <summary>Adds a member as a learner, so a one- or two-member cluster keeps quorum while it catches up.</summary>
    public Task<MemberAddResponse> MemberAddLearnerAsync(IReadOnlyList<string> peerUrls, CancellationToken cancellationToken = default) =>
        CallAsync((c, d, t) => c.MemberAddAsLearnerAsync([.. peerUrls], deadline: d, cancellationToken: t), cancellationToken);

    public Task MemberRemoveAsync(ulong id, CancellationToken cancellationToken = default) =>
        CallAsync((c, d, t) => c.MemberRemoveAsync(new MemberRemoveRequest { ID = id }, deadline: d, cancellationToken: t), cancellationToken);

    public Task MemberUpdateAsync(ulong id, IReadOnlyList<string> peerUrls, CancellationToken cancellationToken = default)
    {
        var request = new MemberUpdateRequest { ID = id };
        request.PeerURLs.AddRange(peerUrls);
        return CallAsync((c, d, t) => c.MemberUpdateAsync(request, deadline: d, cancellationToken: t), cancellationToken);
    }

    /// <summary>Polls promote until the learner is in sync and promoted, or the deadline passes.</summary>
    public async Task PromoteWhenReadyAsync(ulong id, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        while (true)
        {
            try
            {
                await CallAsync((c, d, t) => c.MemberPromoteAsync(id, deadline: d, cancellationToken: t), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (EtcdException e) when ((e.IsLearnerNotReady || e.Code == GrpcCodes.Unavailable) && DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    // ---- plumbing ----

    private Task<T> CallAsync<T>(Func<dotnet_etcd.EtcdClient, DateTime, CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        CallAsync((channel, token) => call(channel.Client, DateTime.UtcNow + _options.CallTimeout, token), cancellationToken, failover: true);

    /// <summary>Runs a call against the preferred member; when that member cannot be reached (the call was not delivered), moves to the next.</summary>
    private async Task<T> CallAsync<T>(Func<EtcdChannel, CancellationToken, Task<T>> call, CancellationToken cancellationToken, bool failover)
    {
        var start = _preferred;
        EtcdException? last = null;
        for (var i = 0; i < _channels.Length; i++)
        {
            var index = (start + i) % _channels.Length;
            var channel = _channels[index];
            try
            {
                var result = await call(channel, cancellationToken).ConfigureAwait(false);
                _preferred = index;
                return result;
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                last = Map(e, channel.Endpoint);
                if (!failover || !last.Unreachable)
                {
                    throw last;
                }
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // With ThrowOperationCanceledOnCancellation an exceeded deadline throws this too, not RpcException: a
                // member too slow to answer is etcd being unavailable, not the caller cancelling. The call may have been
                // delivered, so it is not retried on another member.
                throw new EtcdException(GrpcCodes.DeadlineExceeded, $"no answer within {_options.CallTimeout.TotalSeconds:0.#} s; the member is " +
                    "stopped, overloaded or cut off: check its health and its log (<data-dir>/agent/logs/etcd.log on that node)", channel.Endpoint.ToString(), e);
            }
        }
        throw last!;
    }

    internal static EtcdException Map(RpcException e, Uri endpoint)
    {
        // gRPC reports a refused connection as Unavailable and a failed TLS handshake as Internal, both with the cause attached.
        if (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal && e.Status.DebugException is { } cause && IsConnectionFailure(cause))
        {
            return new EtcdException($"cannot connect: {Innermost(cause).Message}", e, endpoint.ToString());
        }
        return new EtcdException((int)e.StatusCode, e.Status.Detail, endpoint.ToString(), e);
    }

    private static bool IsConnectionFailure(Exception e) =>
        e is HttpRequestException or SocketException or IOException or System.Security.Authentication.AuthenticationException
        || (e.InnerException is { } inner && IsConnectionFailure(inner));

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }

    /// <summary>etcd's range end for a prefix: the prefix with its last byte incremented (the prefix is ASCII and non-empty).</summary>
    private static ByteString PrefixEnd(string prefix)
    {
        var end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        return ByteString.CopyFrom(end);
    }

    internal static string Text(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);

    /// <summary>One member: its gRPC channel (mutual TLS through the crypto policy) and the library's client over it.</summary>
    private sealed class EtcdChannel : IDisposable
    {
        private readonly GrpcChannel _channel;

        public EtcdChannel(Uri endpoint, System.Net.Security.SslClientAuthenticationOptions tls)
        {
            Endpoint = endpoint;
            var handler = new SocketsHttpHandler
            {
                SslOptions = tls,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            };
            _channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                // A range or member list may exceed gRPC's 4 MiB default; etcd bounds what it sends.
                MaxReceiveMessageSize = null,
                // A cancelled call throws OperationCanceledException, as every other awaited call in Bulwark does.
                ThrowOperationCanceledOnCancellation = true,
            });
            var invoker = _channel.CreateCallInvoker();
            Client = new dotnet_etcd.EtcdClient(invoker);
            Maintenance = new Maintenance.MaintenanceClient(invoker);
        }

        public Uri Endpoint { get; }

        public dotnet_etcd.EtcdClient Client { get; }

        public Maintenance.MaintenanceClient Maintenance { get; }

        public void Dispose()
        {
            Client.Dispose();
            _channel.Dispose();
        }
    }
}
