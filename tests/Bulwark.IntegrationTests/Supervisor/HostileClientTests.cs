using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Pki;
using Bulwark.Processes;
using Bulwark.Supervisor;
using Bulwark.Tests.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// Two real `bulwark server` processes (127.0.0.31 first, 127.0.0.32 joined, with an agent token) attacked the way
/// issue 12 found them weak: a token holder claiming a server's node name, CSRs with keys outside the policy, TLS
/// clients offering non-approved groups, and slow uploads trying to take every request slot.
/// </summary>
public sealed class HostileClientTests(HostileClientTests.Cluster cluster) : IClassFixture<HostileClientTests.Cluster>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_servers_node_name_cannot_be_claimed_with_a_real_agent_token_and_another_password()
    {
        foreach (var server in new[] { cluster.First, cluster.Joined })
        {
            var (status, body) = await SignAsync(cluster.First, server.Name, "a-guess-" + Guid.NewGuid().ToString("N"), ValidCsr(server.Name));
            Assert.True(status == HttpStatusCode.Forbidden, $"claiming {server.Name}: {(int)status} {body}");
            Assert.Contains("already joined this cluster with a different node password", ErrorOf(body), StringComparison.Ordinal);
        }
        // A new agent with the same token is served: the refusal is about the name, not the token.
        var agent = "agent-" + Guid.NewGuid().ToString("N")[..8];
        var (ok, signed) = await SignAsync(cluster.Joined, agent, "password-of-" + agent, ValidCsr(agent));
        Assert.True(ok == HttpStatusCode.OK, signed);
        Assert.Contains("BEGIN CERTIFICATE", signed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ED25519", "Ed25519")]
    [InlineData("DSA", "DSA")]
    public async Task A_csr_with_a_key_outside_the_policy_is_refused_with_403_and_the_reason(string opensslAlgorithm, string named)
    {
        var dir = Directory.CreateTempSubdirectory("bulwark-csr-");
        try
        {
            var key = Path.Combine(dir.FullName, "key.pem");
            var csr = Path.Combine(dir.FullName, "csr.pem");
            var agent = "agent-" + opensslAlgorithm.ToLowerInvariant();
            if (opensslAlgorithm == "DSA")
            {
                var parameters = Path.Combine(dir.FullName, "dsa.params");
                await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", ["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "pbits:2048", "-out", parameters]) { Timeout = TimeSpan.FromMinutes(2) }, Ct);
                await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", ["genpkey", "-paramfile", parameters, "-out", key]), Ct);
            }
            else
            {
                await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", ["genpkey", "-algorithm", opensslAlgorithm, "-out", key]), Ct);
            }
            await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", ["req", "-new", "-key", key, "-subj", $"/O=system:nodes/CN=system:node:{agent}", "-out", csr]), Ct);

            var (status, body) = await SignAsync(cluster.First, agent, "password-of-" + agent, await File.ReadAllTextAsync(csr, Ct));

            Assert.True(status == HttpStatusCode.Forbidden, $"{(int)status} {body}");
            Assert.StartsWith($"the CSR's key is {named}, which the policy does not allow", ErrorOf(body), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Theory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public async Task The_supervisor_refuses_X25519_X448_and_ffdhe_and_accepts_P256_and_P384(string version)
    {
        var target = $"{cluster.First.Ip}:{cluster.First.SupervisorPort}";
        foreach (var group in version == "-tls1_3" ? new[] { "X25519", "X448", "ffdhe2048" } : ["X25519", "X448"])
        {
            var refused = await SClientAsync(target, version, group);
            Assert.True(refused.ExitCode != 0, $"{version} -groups {group} must be refused:\n{refused.StandardOutput}");
        }
        // In TLS 1.2 the client's groups also bound the certificate's curve (RFC 8422): the serving key is P-256, so a
        // P-384-only client is refused there by TLS itself; TLS 1.3 separates the two and shows P-384 key exchange.
        var approved = version == "-tls1_3" ? new[] { ("P-256", "prime256v1"), ("P-384", "secp384r1") } : [("P-256", "prime256v1")];
        foreach (var (group, shown) in approved)
        {
            var accepted = await SClientAsync(target, version, group);
            Assert.True(accepted.ExitCode == 0, $"{version} -groups {group} must be accepted:\n{accepted.StandardOutput}{accepted.StandardError}");
            // -brief prints the negotiated key exchange on stderr, e.g. "Negotiated TLS1.3 group: secp384r1" or "Server Temp Key: ECDH, prime256v1, 256 bits".
            Assert.Contains(shown, accepted.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Slow_uploads_by_a_token_holder_do_not_starve_ping_or_a_join_and_are_dropped()
    {
        // 140 uploads of 60 KB at 300 B/s from 127.0.0.33, each authenticated with the agent token: more than the 128 slots.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var endings = new int[3]; // 0: dropped by the server, 1: answered, 2: still sending at the end
        var slow = Enumerable.Range(0, 140).Select(i => Task.Run(() => SlowUploadAsync(i, endings, stop.Token))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);

        var ping = Stopwatch.StartNew();
        using (var http = Https())
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var pong = await http.GetStringAsync(new Uri(cluster.First.Supervisor, "/ping"), timeout.Token);
            Assert.Equal("pong", pong);
        }
        ping.Stop();

        var join = Stopwatch.StartNew();
        var agentDir = Directory.CreateTempSubdirectory("bulwark-agent-");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var material = await new AgentJoin(cluster.Crypto, NullLogger.Instance).ObtainAsync(new AgentJoinOptions(agentDir.FullName, cluster.First.Supervisor,
                cluster.AgentToken, "agent-during-slow-uploads", [IPAddress.Loopback]) { ReadyTimeout = TimeSpan.FromSeconds(25) }, timeout.Token);
            Assert.Equal(3, material.Certificates.Count);
        }
        finally
        {
            agentDir.Delete(true);
        }
        join.Stop();

        // The slow uploads do not last: the minimum body data rate drops them well before their 200 s.
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            wait.CancelAfter(TimeSpan.FromSeconds(120));
            await Task.WhenAll(slow).WaitAsync(wait.Token);
        }
        Assert.True(endings[0] + endings[1] == 140, $"dropped {endings[0]}, answered {endings[1]}, still sending {endings[2]}");
        Assert.True(ping.Elapsed < TimeSpan.FromSeconds(10) && join.Elapsed < TimeSpan.FromSeconds(30), $"ping {ping.Elapsed}, join {join.Elapsed}");
    }

    private async Task SlowUploadAsync(int index, int[] endings, CancellationToken cancellationToken)
    {
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.33"), 0));
        try
        {
            await tcp.ConnectAsync(cluster.First.Ip, cluster.First.SupervisorPort, cancellationToken);
            await using var tls = new SslStream(new NetworkStream(tcp, ownsSocket: false), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(TlsPolicy.BuiltIn.Apply(new SslClientAuthenticationOptions { TargetHost = cluster.First.Ip.ToString() }), cancellationToken);
            const int length = 60_000;
            var name = $"slow-{index}";
            var head = $"POST /v1/certs/kubelet-client HTTP/1.1\r\nHost: {cluster.First.Ip}\r\nAuthorization: {cluster.AgentCredentials.ToHeaderValue()}\r\n" +
                $"{SupervisorServer.NodeNameHeader}: {name}\r\n{SupervisorServer.NodePasswordHeader}: password-of-{name}\r\n" +
                $"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n";
            await tls.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
            var chunk = Encoding.ASCII.GetBytes(new string(' ', 30));
            var reading = tls.ReadAsync(new byte[1024], cancellationToken).AsTask();
            for (var sent = 0; sent < length; sent += chunk.Length)
            {
                if (reading.IsCompleted)
                {
                    Interlocked.Increment(ref endings[(await reading) > 0 ? 1 : 0]);
                    return;
                }
                await tls.WriteAsync(chunk, cancellationToken);
                await Task.Delay(100, cancellationToken); // 300 B/s
            }
            Interlocked.Increment(ref endings[2]);
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException)
        {
            Interlocked.Increment(ref endings[0]);
        }
    }

    private static Task<ProcessResult> SClientAsync(string target, string version, string group) =>
        ProcessRunner.RunAsync(new ProcessSpec("openssl", ["s_client", "-connect", target, version, "-groups", group, "-brief"])
        {
            StandardInput = Array.Empty<byte>(),
            Timeout = TimeSpan.FromSeconds(20),
        }, Ct);

    private async Task<(HttpStatusCode Status, string Body)> SignAsync(TestServerNode server, string nodeName, string password, string csr)
    {
        using var http = Https();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Supervisor, "/v1/certs/kubelet-client"))
        {
            Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(new CsrRequest(csr), SupervisorJsonContext.Default.CsrRequest), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(cluster.AgentCredentials.ToHeaderValue());
        request.Headers.Add(SupervisorServer.NodeNameHeader, nodeName);
        request.Headers.Add(SupervisorServer.NodePasswordHeader, password);
        using var response = await http.SendAsync(request, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private static string ErrorOf(string body)
    {
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetString() ?? "";
    }

    private static string ValidCsr(string nodeName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=system:node:{nodeName}, O=system:nodes", key, HashAlgorithmName.SHA256);
        return request.CreateSigningRequestPem();
    }

    private static HttpClient Https() => new(new SocketsHttpHandler
    {
        SslOptions = TlsPolicy.BuiltIn.Apply(new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true }),
    });

    /// <summary>The two servers, started once for the class and stopped after it.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private readonly TempDirectory _dir = new("bulwark-hostile");
        private ServerProcess? _first;
        private ServerProcess? _joined;


        public CryptoService Crypto { get; } = CryptoService.For(FipsMode.On);
        public TestServerNode First { get; }
        public TestServerNode Joined { get; }
        public string AgentToken { get; private set; } = "";
        public BasicCredentials AgentCredentials => new(ClusterToken.AgentUser, ClusterToken.Parse(AgentToken).Secret);

        public Cluster()
        {
            First = TestServerNode.Create("hostile-server-1", "127.0.0.31", _dir.Combine("first"));
            Joined = TestServerNode.Create("hostile-server-2", "127.0.0.32", _dir.Combine("joined"));
        }

        private string[] Args(TestServerNode node, params string[] extra) => node.Args(_dir.Combine("etc", "config.yaml"), extra);

        public async ValueTask InitializeAsync()
        {
            _dir.Write("etc/config.yaml", $"agent-token: {ClusterToken.NewSecret(Crypto)}\n");
            _first = ServerProcess.Start(First.DataDir, Args(First));
            await _first.WaitForLineAsync("[ready]");
            var token = (await File.ReadAllTextAsync(new ServerPkiPaths(_dir.Combine("first")).Token)).Trim();
            AgentToken = (await File.ReadAllTextAsync(new ServerPkiPaths(_dir.Combine("first")).AgentToken)).Trim();
            _joined = ServerProcess.Start(Joined.DataDir, Args(Joined, "--server", First.Supervisor.ToString(), "--token", token));
            await _joined.WaitForLineAsync("[ready]");
        }

        public async ValueTask DisposeAsync()
        {
            if (_joined is not null)
            {
                await _joined.DisposeAsync();
            }
            if (_first is not null)
            {
                await _first.DisposeAsync();
            }
            _dir.Dispose();
        }
    }
}
