using System.Text;
using Bulwark.Etcd;

namespace Bulwark.Tests.Etcd;

/// <summary>Bulwark's etcd client against a real etcd 3.4 (mutual TLS, JSON gateway, native gRPC for snapshot/HashKV).</summary>
public sealed class EtcdClientTests : IAsyncLifetime
{
    private EtcdTestNode _etcd = null!;
    private EtcdClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _etcd = await EtcdTestNode.CreateAsync("client-test");
        await _etcd.StartAsync();
        _client = _etcd.Client();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _etcd.DisposeAsync();
    }

    [Fact]
    public async Task Put_get_range_delete_round_trip_with_revisions()
    {
        var first = await _client.PutAsync("/app/a", "1", cancellationToken: Ct);
        await _client.PutAsync("/app/b", "2", cancellationToken: Ct);
        await _client.PutAsync("/apq", "outside", cancellationToken: Ct);
        var prev = await _client.PutAsync(new PutRequest { Key = "/app/a"u8.ToArray(), Value = "3"u8.ToArray(), PrevKv = true }, Ct);

        Assert.Equal("1", prev.PrevKv!.ValueText);
        Assert.Equal("3", (await _client.GetAsync("/app/a", Ct))!.ValueText);
        Assert.Null(await _client.GetAsync("/missing", Ct));
        var prefix = await _client.GetPrefixAsync("/app/", cancellationToken: Ct);
        Assert.Equal(["/app/a", "/app/b"], prefix.Select(k => k.KeyText));
        var historical = await _client.RangeAsync(new RangeRequest { Key = "/app/a"u8.ToArray(), Revision = first.Header.Revision }, Ct);
        Assert.Equal("1", historical.Kvs.Single().ValueText);

        var deleted = await _client.DeletePrefixAsync("/app/", Ct);
        Assert.Equal(2, deleted.Deleted);
        Assert.Empty(await _client.GetPrefixAsync("/app/", cancellationToken: Ct));
        Assert.NotNull(await _client.GetAsync("/apq", Ct));
    }

    [Fact]
    public async Task Prefix_reads_page_through_more_keys_than_one_page()
    {
        var ops = Enumerable.Range(0, 100).Select(i => new RequestOp { Put = new PutRequest { Key = Encoding.UTF8.GetBytes($"/many/{i:D4}"), Value = [1] } }).ToList();
        for (var batch = 0; batch < 12; batch++)
        {
            await _client.TxnAsync(new TxnRequest { Success = ops.Select(o => o with { Put = o.Put! with { Key = Encoding.UTF8.GetBytes($"/many/{batch:D2}-" + Encoding.UTF8.GetString(o.Put!.Key)) } }).ToList() }, Ct);
        }
        var all = await _client.GetPrefixAsync("/many/", cancellationToken: Ct);
        Assert.Equal(1200, all.Count);
        Assert.Equal(all.Count, all.Select(k => k.KeyText).Distinct().Count());
    }

    [Fact]
    public async Task Txn_compare_and_swap_succeeds_once_and_reports_failure_branch()
    {
        var key = "/lock"u8.ToArray();
        var create = new TxnRequest
        {
            Compare = [Compare.Absent(key)],
            Success = [new RequestOp { Put = new PutRequest { Key = key, Value = "owner-1"u8.ToArray() } }],
            Failure = [new RequestOp { Range = new RangeRequest { Key = key } }],
        };
        var won = await _client.TxnAsync(create, Ct);
        var lost = await _client.TxnAsync(create with { Success = [new RequestOp { Put = new PutRequest { Key = key, Value = "owner-2"u8.ToArray() } }] }, Ct);

        Assert.True(won.Succeeded);
        Assert.False(lost.Succeeded);
        Assert.Equal("owner-1", lost.Responses.Single().Range!.Kvs.Single().ValueText);
    }

    [Fact]
    public async Task Watch_streams_puts_and_deletes_from_a_start_revision()
    {
        var start = (await _client.PutAsync("/w/x", "before", cancellationToken: Ct)).Header.Revision;
        await _client.PutAsync("/w/y", "second", cancellationToken: Ct);
        await _client.DeleteAsync("/w/x", Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        var events = new List<WatchEvent>();
        await foreach (var response in _client.WatchAsync(new WatchCreate { Key = "/w/"u8.ToArray(), RangeEnd = KeyRange.PrefixEnd("/w/"u8.ToArray()), StartRevision = start }, cts.Token))
        {
            events.AddRange(response.Events);
            if (events.Count == 3)
            {
                break;
            }
        }
        Assert.Equal(["PUT /w/x before", "PUT /w/y second", "DELETE /w/x "], events.Select(e => $"{e.Type} {e.Kv.KeyText} {e.Kv.ValueText}"));
    }

    [Fact]
    public async Task Lease_grant_keepalive_and_revoke_deletes_attached_keys()
    {
        var lease = await _client.LeaseGrantAsync(30, cancellationToken: Ct);
        await _client.PutAsync("/leased", "v", lease.Id, Ct);
        var renewed = await _client.LeaseKeepAliveOnceAsync(lease.Id, Ct);
        var ttl = await _client.LeaseTimeToLiveAsync(lease.Id, keys: true, Ct);

        Assert.Equal(30, renewed.Ttl);
        Assert.Equal(30, ttl.GrantedTtl);
        Assert.Equal("/leased", Encoding.UTF8.GetString(ttl.Keys.Single()));

        await _client.LeaseRevokeAsync(lease.Id, Ct);
        Assert.Null(await _client.GetAsync("/leased", Ct));
        Assert.Equal(0, (await _client.LeaseKeepAliveOnceAsync(lease.Id, Ct)).Ttl);
    }

    [Fact]
    public async Task Maintenance_status_hash_hashkv_alarms_and_defragment()
    {
        await _client.PutAsync("/m", "1", cancellationToken: Ct);
        var status = await _client.StatusAsync(Ct);
        var hash = await _client.HashAsync(Ct);
        var hashKv1 = await _client.HashKvAsync(_etcd.ClientUrl, 0, Ct);
        var hashKv2 = await _client.HashKvAsync(_etcd.ClientUrl, 0, Ct);
        await _client.PutAsync("/m", "2", cancellationToken: Ct);
        var hashKv3 = await _client.HashKvAsync(_etcd.ClientUrl, 0, Ct);

        Assert.Equal("3.4.23", status.Version);
        Assert.Equal(status.Header.MemberId, status.Leader);
        Assert.NotEqual(0u, hash.Hash);
        Assert.Equal(hashKv1.Hash, hashKv2.Hash);
        Assert.NotEqual(hashKv1.Hash, hashKv3.Hash);
        Assert.Equal(status.Header.MemberId, hashKv1.MemberId);
        Assert.Empty(await _client.AlarmListAsync(Ct));
        await _client.DefragmentAsync(_etcd.ClientUrl, Ct);
        Assert.Equal("2", (await _client.GetAsync("/m", Ct))!.ValueText);
    }

    [Fact]
    public async Task Native_grpc_snapshot_equals_gateway_snapshot_and_etcdctl_accepts_it()
    {
        for (var i = 0; i < 200; i++)
        {
            await _client.PutAsync($"/snap/{i}", new string('x', 500), cancellationToken: Ct);
        }
        using var native = new MemoryStream();
        using var gateway = new MemoryStream();
        await _client.SnapshotAsync(native, Ct);
        await _client.SnapshotViaGatewayAsync(gateway, Ct);

        Assert.Equal(System.Security.Cryptography.SHA256.HashData(gateway.ToArray()), System.Security.Cryptography.SHA256.HashData(native.ToArray()));
        var file = _etcd.Dir.Combine("native.db");
        await File.WriteAllBytesAsync(file, native.ToArray(), Ct);
        var status = await Processes.ProcessRunner.RunCheckedAsync(new Processes.ProcessSpec("etcdctl", ["snapshot", "status", file, "-w", "json"]), Ct);
        Assert.Contains("\"totalKey\"", status.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_errors_become_typed_exceptions_with_code_and_message()
    {
        var empty = await Assert.ThrowsAsync<EtcdException>(() => _client.PutAsync(new PutRequest { Key = [], Value = [1] }, Ct));
        Assert.Equal(GrpcCodes.InvalidArgument, empty.Code);
        Assert.Equal(400, empty.HttpStatus);
        Assert.Contains("key is not provided", empty.EtcdMessage, StringComparison.Ordinal);

        var unknownLease = await Assert.ThrowsAsync<EtcdException>(() => _client.LeaseRevokeAsync(987654321, Ct));
        Assert.True(unknownLease.IsNotFound);

        var rev = (await _client.PutAsync("/c", "1", cancellationToken: Ct)).Header.Revision;
        await _client.PutAsync("/c", "2", cancellationToken: Ct);
        await _client.CompactAsync(rev + 1, cancellationToken: Ct);
        var compacted = await Assert.ThrowsAsync<EtcdException>(() => _client.RangeAsync(new RangeRequest { Key = "/c"u8.ToArray(), Revision = rev }, Ct));
        Assert.True(compacted.IsCompacted);
        Assert.Equal(GrpcCodes.OutOfRange, compacted.Code);

        var promoteVoter = await Assert.ThrowsAsync<EtcdException>(async () =>
            await _client.MemberPromoteAsync((await _client.MemberListAsync(Ct)).Members.Single().Id, Ct));
        Assert.Equal(GrpcCodes.FailedPrecondition, promoteVoter.Code);
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_rejected_by_etcd()
    {
        using var other = new TempDirectory();
        await OpenSslEtcdCerts.CreateAsync(other.Path, Ct);
        var paths = new EtcdPaths(_etcd.DataDir);
        var foreign = new EtcdClientTls(paths.ServerCaCert, Path.Combine(other.Path, "server", "tls", "etcd", "client.crt"), Path.Combine(other.Path, "server", "tls", "etcd", "client.key"));
        using var client = new EtcdClient(new EtcdClientOptions([_etcd.ClientUrl], foreign));

        var error = await Assert.ThrowsAsync<EtcdException>(() => client.StatusAsync(Ct));
        Assert.Equal(0, error.HttpStatus);
        Assert.Equal(GrpcCodes.Unavailable, error.Code);
    }

    [Fact]
    public async Task An_etcd_serving_certificate_from_an_untrusted_CA_is_refused_by_the_client()
    {
        using var other = new TempDirectory();
        await OpenSslEtcdCerts.CreateAsync(other.Path, Ct);
        var paths = new EtcdPaths(_etcd.DataDir);
        var wrongCa = new EtcdClientTls(Path.Combine(other.Path, "server", "tls", "etcd", "server-ca.crt"), paths.ClientCert, paths.ClientKey);
        using var client = new EtcdClient(new EtcdClientOptions([_etcd.ClientUrl], wrongCa));

        var error = await Assert.ThrowsAsync<EtcdException>(() => client.StatusAsync(Ct));
        Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
    }
}
