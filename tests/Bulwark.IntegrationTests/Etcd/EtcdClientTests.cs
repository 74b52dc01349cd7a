using System.Text;
using Bulwark.Etcd;

namespace Bulwark.Tests.Etcd;

/// <summary>Bulwark's etcd facade over dotnet-etcd against a real etcd 3.4 (mutual TLS under the crypto policy, native gRPC only).</summary>
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
    public async Task Get_put_and_put_if_absent_round_trip()
    {
        await _client.PutAsync("/app/a", "1", Ct);
        Assert.Equal("1", Encoding.UTF8.GetString((await _client.GetAsync("/app/a", Ct))!));
        Assert.Null(await _client.GetAsync("/missing", Ct));

        Assert.Equal("owner-1"u8.ToArray(), await _client.PutIfAbsentAsync("/lock", "owner-1"u8.ToArray(), Ct));
        Assert.Equal("owner-1"u8.ToArray(), await _client.PutIfAbsentAsync("/lock", "owner-2"u8.ToArray(), Ct));
        Assert.Equal("owner-1", Encoding.UTF8.GetString((await _client.GetAsync("/lock", Ct))!));
    }

    [Fact]
    public async Task Status_members_and_alarms_come_from_the_member()
    {
        var status = await _client.StatusAsync(Ct);
        Assert.Equal("3.4.23", status.Version);
        Assert.Equal(status.Header.MemberId, status.Leader);
        var member = Assert.Single(await _client.MemberListAsync(Ct));
        Assert.Equal(status.Header.MemberId, member.ID);
        Assert.Equal(_etcd.Node.MemberName(), member.Name);
        Assert.Empty(await _client.AlarmDisarmAllAsync(Ct));
    }

    [Fact]
    public async Task Snapshot_stream_is_byte_identical_to_etcdctl_snapshot_save()
    {
        for (var i = 0; i < 200; i++)
        {
            await _client.PutAsync($"/snap/{i}", new string('x', 500), Ct);
        }
        using var streamed = new MemoryStream();
        var result = await _client.SnapshotAsync(streamed, Ct);
        var paths = new EtcdPaths(_etcd.DataDir);
        var file = _etcd.Dir.Combine("etcdctl.db");
        await Processes.ProcessRunner.RunCheckedAsync(new Processes.ProcessSpec("etcdctl",
            [$"--endpoints={_etcd.ClientUrl}", $"--cacert={paths.ServerCaCert}", $"--cert={paths.ClientCert}", $"--key={paths.ClientKey}", "snapshot", "save", file])
        { Environment = new Dictionary<string, string?> { ["ETCDCTL_API"] = "3" } }, Ct);

        // No writes in between: the same DB and trailer, byte for byte.
        Assert.Equal(streamed.Length, result.Length);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(file, Ct))), result.Sha256);
        var ours = _etcd.Dir.Combine("ours.db");
        await File.WriteAllBytesAsync(ours, streamed.ToArray(), Ct);
        var status = await Processes.ProcessRunner.RunCheckedAsync(new Processes.ProcessSpec("etcdctl", ["snapshot", "status", ours, "-w", "json"]), Ct);
        Assert.Contains("\"totalKey\"", status.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_errors_become_typed_exceptions_with_code_and_message()
    {
        var voter = (await _client.MemberListAsync(Ct)).Single().ID;
        var promoteVoter = await Assert.ThrowsAsync<EtcdException>(() => _client.PromoteWhenReadyAsync(voter, TimeSpan.Zero, Ct));
        Assert.Equal(GrpcCodes.FailedPrecondition, promoteVoter.Code);
        Assert.Contains("can only promote a learner member", promoteVoter.EtcdMessage, StringComparison.Ordinal);
        Assert.False(promoteVoter.Unreachable);
    }

    [Fact]
    public async Task An_unreachable_member_is_skipped_for_the_next_endpoint()
    {
        var dead = new Uri($"https://127.0.0.1:{FreePorts.Take(1)[0]}");
        using var client = new EtcdClient(new EtcdClientOptions([dead, _etcd.ClientUrl], new EtcdPaths(_etcd.DataDir).ClientTls));
        await client.PutAsync("/failover", "ok", Ct);
        Assert.Equal("ok", Encoding.UTF8.GetString((await client.GetAsync("/failover", Ct))!));
    }

    [Fact]
    public async Task A_member_that_does_not_answer_within_the_deadline_is_a_typed_deadline_error_not_a_cancellation()
    {
        using var client = new EtcdClient(_etcd.Node.ClientOptions() with { CallTimeout = TimeSpan.FromMilliseconds(500) });
        await client.PutAsync("/slow", "1", Ct);
        var pid = _etcd.Member!.Pid!.Value;
        Assert.True(Processes.Signals.Send(pid, SigStop));
        try
        {
            var slow = await Assert.ThrowsAsync<EtcdException>(() => client.GetAsync("/slow", Ct));
            Assert.Equal(GrpcCodes.DeadlineExceeded, slow.Code);
            Assert.Equal(Diagnostics.ErrorKind.Unavailable, slow.Kind);
            Assert.Contains("no answer within 0.5 s", slow.Message, StringComparison.Ordinal);
        }
        finally
        {
            Processes.Signals.Send(pid, SigCont);
        }
        Assert.Equal("1", Encoding.UTF8.GetString((await client.GetAsync("/slow", Ct))!));
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    [Fact]
    public void The_client_refuses_to_run_without_tls()
    {
        var tls = new EtcdPaths(_etcd.DataDir).ClientTls;
        var noTls = Assert.Throws<ArgumentException>(() => new EtcdClient(new EtcdClientOptions([_etcd.ClientUrl], null!)));
        Assert.Contains("mutual TLS", noTls.Message, StringComparison.Ordinal);
        var plain = Assert.Throws<ArgumentException>(() => new EtcdClient(new EtcdClientOptions([new Uri($"http://127.0.0.1:{_etcd.ClientUrl.Port}")], tls)));
        Assert.Contains("is not https", plain.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_bytes_on_the_wire_are_a_tls_client_hello_never_plaintext_http2()
    {
        // dotnet-etcd given an https:// URL without TLS options sends the HTTP/2 preface in clear ("PRI * HTTP/2.0"):
        // a listener that records what arrives proves Bulwark's channel starts with a TLS handshake record instead.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var first = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(Ct);
            var buffer = new byte[3];
            var read = await socket.ReceiveAsync(buffer, Ct);
            return buffer[..read];
        }, Ct);
        using var client = new EtcdClient(new EtcdClientOptions([new Uri($"https://127.0.0.1:{port}")], new EtcdPaths(_etcd.DataDir).ClientTls) { CallTimeout = TimeSpan.FromSeconds(3) });
        var call = client.StatusAsync(Ct);
        var bytes = await first.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal((byte)0x16, bytes[0]); // TLS handshake record
        Assert.Equal((byte)0x03, bytes[1]);
        listener.Stop();
        await Assert.ThrowsAsync<EtcdException>(() => call);
    }

    [Fact]
    public async Task The_rendered_config_turns_etcds_json_gateway_off()
    {
        Assert.Contains("enable-grpc-gateway: false", await File.ReadAllTextAsync(_etcd.Member!.Spec.ConfigFile, Ct), StringComparison.Ordinal);
        // The gRPC API answers; the gateway route is not served.
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = EtcdTlsOptions.Create(new EtcdPaths(_etcd.DataDir).ClientTls) });
        using var response = await http.PostAsync(new Uri(_etcd.ClientUrl, "/v3/kv/range"), new StringContent("{\"key\":\"Lw==\"}"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
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
        Assert.True(error.Unreachable);
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
        Assert.True(error.Unreachable);
        Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
        Assert.Contains("RemoteCertificateValidationCallback", error.Message, StringComparison.Ordinal);
    }
}
