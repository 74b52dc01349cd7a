using System.Net;
using System.Security.Cryptography;
using System.Text;
using Bulwark.Pki;
using Bulwark.Processes;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;

namespace Bulwark.Tests.Supervisor;

/// <summary>One real server (etcd process + supervisor on 127.0.0.5) shared by the agent-join tests of this class.</summary>
public sealed class SingleServerFixture : IAsyncLifetime
{
    public ClusterHarness Cluster { get; } = new("bulwark-agents");
    public ServerNode Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Server = await Cluster.InitAsync("server-a", IPAddress.Parse("127.0.0.5"), TestContext.Current.CancellationToken, metrics: true);

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}

/// <summary>Agents join a real server over real HTTPS; certificates are checked with openssl.</summary>
public sealed class AgentJoinTests(SingleServerFixture fixture) : IClassFixture<SingleServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ServerNode Server => fixture.Server;

    private AgentJoin NewJoin() => new(fixture.Cluster.Crypto, fixture.Cluster.Loggers.CreateLogger<AgentJoin>());

    private AgentJoinOptions Options(string dir, string node, string? token = null, Uri? via = null) =>
        new(dir, via ?? Server.SupervisorUrl, token ?? Server.Token, node, [IPAddress.Loopback]) { ReadyTimeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Two_agents_join_and_get_certificates_that_openssl_verifies_with_the_right_names()
    {
        using var dirs = new TempDirectory("bulwark-agent");
        foreach (var node in new[] { "agent-1", "agent-2" })
        {
            var dataDir = dirs.Combine(node);
            var result = await NewJoin().RunAsync(Options(dataDir, node), Ct);
            Assert.Equal(node, result.NodeName);
            Assert.True(result.CaPinned);
            Assert.Equal("10.42.0.0/16", result.Config.ClusterCidr);
            var agent = new AgentPaths(dataDir);
            var client = agent.Files(NodeCertificateKind.KubeletClient);
            var serving = agent.Files(NodeCertificateKind.KubeletServing);
            var proxy = agent.Files(NodeCertificateKind.KubeProxy);

            await OpenSslVerifyAsync(agent.ClientCa, client.Certificate, "sslclient");
            await OpenSslVerifyAsync(agent.ServerCa, serving.Certificate, "sslserver");
            await OpenSslVerifyAsync(agent.ClientCa, proxy.Certificate, "sslclient");
            // The kubelet client cert must not verify against the server CA (right CA per purpose).
            var wrongCa = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["verify", "-CAfile", agent.ServerCa, client.Certificate]), Ct);
            Assert.False(wrongCa.Succeeded);

            Assert.Equal([$"CN=system:node:{node}", "O=system:nodes"], await SubjectAsync(client.Certificate));
            Assert.Equal([$"CN=system:node:{node}", "O=system:nodes"], await SubjectAsync(serving.Certificate));
            Assert.Equal(["CN=system:kube-proxy"], await SubjectAsync(proxy.Certificate));
            var sans = await OpenSslAsync("x509", "-in", serving.Certificate, "-noout", "-ext", "subjectAltName");
            Assert.Contains($"DNS:{node}", sans);
            Assert.Contains("IP Address:127.0.0.1", sans);
            Assert.DoesNotContain("subjectAltName", await OpenSslAsync("x509", "-in", client.Certificate, "-noout", "-text"));

            // The private key was generated here and matches the certificate; keys and kubeconfigs are 0600.
            var keyPub = await OpenSslAsync("pkey", "-in", client.Key, "-pubout");
            var certPub = await OpenSslAsync("x509", "-in", client.Certificate, "-noout", "-pubkey");
            Assert.Equal(keyPub, certPub);
            foreach (var file in new[] { client.Key, serving.Key, proxy.Key, agent.NodePassword, agent.KubeletKubeconfig })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(agent.AgentDir));
            var kubeconfig = await File.ReadAllTextAsync(agent.KubeletKubeconfig, Ct);
            Assert.Contains($"client-certificate: {client.Certificate}", kubeconfig);
            Assert.Contains("server: https://127.0.0.5:6443", kubeconfig);
            // kubectl (a real Kubernetes client) accepts the kubeconfig.
            var view = await ProcessRunner.RunAsync(new ProcessSpec("kubectl", ["config", "view", "--kubeconfig", agent.KubeletKubeconfig, "-o", "jsonpath={.users[0].name}"]), Ct);
            Assert.True(view.Succeeded, view.StandardError);
            Assert.Equal($"system:node:{node}", view.StandardOutput.Trim());
        }
        // The server recorded both nodes' password hashes in etcd.
        var recorded = await Server.Client!.GetPrefixAsync(SupervisorDatastore.NodePasswordPrefix, Ct);
        Assert.Contains(recorded, kv => kv.Key.ToStringUtf8().EndsWith("/agent-1", StringComparison.Ordinal));
        Assert.Contains(recorded, kv => kv.Key.ToStringUtf8().EndsWith("/agent-2", StringComparison.Ordinal));
        Assert.DoesNotContain(Server.Token[(Server.Token.LastIndexOf(':') + 1)..], fixture.Cluster.Log);
    }

    [Fact]
    public async Task Agent_join_stops_at_the_kubelet_boundary_after_writing_everything_the_kubelet_would_read()
    {
        // kubelet is not installable here: the join is complete, the launch is what is missing.
        using var dirs = new TempDirectory("bulwark-agent");
        var result = await NewJoin().RunAsync(Options(dirs.Path, "agent-boundary"), Ct);
        Assert.Null(ProgramLocator.Find("kubelet"));
        var written = result.FilesWritten.Select(Path.GetFileName).ToHashSet();
        Assert.Superset(new HashSet<string?> { "kubelet.kubeconfig", "kubeproxy.kubeconfig", "client-kubelet.crt", "serving-kubelet.key", "server-ca.crt", "agent-config.json" }, written);
    }

    [Fact]
    public async Task Wrong_token_gets_401_and_changes_nothing_on_the_agent_or_the_server()
    {
        using var dirs = new TempDirectory("bulwark-agent");
        var dataDir = dirs.Combine("wrong");
        var good = Server.Token;
        var wrong = good[..(good.LastIndexOf(':') + 1)] + "not-the-secret";
        var before = await Server.Client!.GetPrefixAsync("/bulwark/", Ct);
        var error = await Assert.ThrowsAsync<JoinException>(() => NewJoin().RunAsync(Options(dataDir, "agent-wrong", wrong), Ct));
        Assert.Contains("401", error.Message);
        Assert.Contains("token", error.Message);
        Assert.False(Directory.Exists(dataDir), "nothing may be written on the agent");
        var after = await Server.Client!.GetPrefixAsync("/bulwark/", Ct);
        Assert.Equal(before.Select(kv => kv.Key.ToBase64()), after.Select(kv => kv.Key.ToBase64()));

        // A server joining with a wrong token: 401, no data dir, etcd membership unchanged.
        var members = (await Server.Client!.MemberListAsync(Ct)).Count;
        var serverDir = dirs.Combine("server-wrong");
        var etcdNode = new Bulwark.Etcd.EtcdNode(new Bulwark.Etcd.EtcdPaths(serverDir), "server-wrong", "127.0.0.9", 1, 2, 3);
        var joinError = await Assert.ThrowsAsync<JoinException>(() => new ServerJoin(fixture.Cluster.Crypto, fixture.Cluster.Loggers).RunAsync(
            new ServerJoinOptions(Server.SupervisorUrl, wrong, ClusterHarness.PkiOptions(serverDir, "server-wrong", IPAddress.Parse("127.0.0.9"), null), etcdNode, Bulwark.Cni.CniSelection.Default), Ct));
        Assert.Contains("401", joinError.Message);
        Assert.False(Directory.Exists(serverDir));
        Assert.Equal(members, (await Server.Client.MemberListAsync(Ct)).Count);
    }

    [Fact]
    public async Task A_tampered_CA_at_cacerts_is_refused_before_anything_is_written()
    {
        using var dirs = new TempDirectory("bulwark-agent");
        var crypto = fixture.Cluster.Crypto;
        using var otherCa = new CertificateIssuer(crypto, TimeProvider.System).CreateCa("bulwark-server-ca@other", Crypto.KeyAlgorithm.EcdsaP256);
        await using var proxy = await TamperingProxy.StartAsync(IPAddress.Parse("127.0.0.6"), Server.SupervisorUrl, Encoding.ASCII.GetBytes(otherCa.CertificatePem), Ct);
        var dataDir = dirs.Combine("tampered");
        var error = await Assert.ThrowsAsync<JoinException>(() => NewJoin().RunAsync(Options(dataDir, "agent-mitm", via: proxy.Url), Ct));
        Assert.Contains(SupervisorClient.CaMismatchMessage, error.Message);
        Assert.False(Directory.Exists(dataDir));
    }

    [Fact]
    public async Task A_proxy_that_passes_on_the_real_CA_but_terminates_TLS_itself_is_refused_by_the_pinned_CA()
    {
        using var dirs = new TempDirectory("bulwark-agent");
        var realCa = await File.ReadAllBytesAsync(new ServerPkiPaths(Server.DataDir).ServerCa.Certificate, Ct);
        await using var proxy = await TamperingProxy.StartAsync(IPAddress.Parse("127.0.0.6"), Server.SupervisorUrl, realCa, Ct);
        var dataDir = dirs.Combine("mitm");
        var error = await Assert.ThrowsAsync<JoinException>(() => NewJoin().RunAsync(Options(dataDir, "agent-mitm2", via: proxy.Url), Ct));
        Assert.Contains("pinned cluster CA", error.Message);
        Assert.False(Directory.Exists(dataDir));
    }

    [Fact]
    public async Task A_bare_secret_token_joins_with_a_warning_that_the_CA_is_not_pinned()
    {
        using var dirs = new TempDirectory("bulwark-agent");
        var bare = Server.Token[(Server.Token.LastIndexOf(':') + 1)..];
        var result = await NewJoin().RunAsync(Options(dirs.Path, "agent-bare", bare), Ct);
        Assert.False(result.CaPinned);
        Assert.Contains("NOT pinned", fixture.Cluster.Log);
    }

    [Fact]
    public async Task Same_node_name_with_another_password_gets_403_explaining_duplicate_hostnames_and_with_node_id()
    {
        using var dirs = new TempDirectory("bulwark-agent");
        await NewJoin().RunAsync(Options(dirs.Combine("first"), "agent-dup"), Ct);
        // The same host again (same node-password file): accepted.
        await NewJoin().RunAsync(Options(dirs.Combine("first"), "agent-dup"), Ct);
        var error = await Assert.ThrowsAsync<JoinException>(() => NewJoin().RunAsync(Options(dirs.Combine("second"), "agent-dup"), Ct));
        Assert.Contains("403", error.Message);
        Assert.Contains("different node password", error.Message);
        Assert.Contains("with-node-id", error.Message);
        Assert.False(File.Exists(new AgentPaths(dirs.Combine("second")).Files(NodeCertificateKind.KubeletClient).Certificate));
        // with-node-id gives the second host a distinct name, and it joins.
        var withId = await NewJoin().RunAsync(Options(dirs.Combine("second"), "agent-dup") with { WithNodeId = true }, Ct);
        Assert.Matches("^agent-dup-[0-9a-f]{8}$", withId.NodeName);
    }

    [Fact]
    public async Task CSRs_for_another_node_a_foreign_address_or_an_unapproved_key_are_rejected()
    {
        var crypto = fixture.Cluster.Crypto;
        var token = ClusterToken.Parse(Server.Token);
        using var client = await SupervisorClient.ConnectAsync(Server.SupervisorUrl, token, ClusterToken.AgentUser, crypto,
            fixture.Cluster.Loggers.CreateLogger<AgentJoinTests>(), Ct);
        const string password = "csr-test-password";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        // Node agent-csr asks for agent-victim's kubelet client certificate.
        var foreign = AgentJoin.CreateCsr(NodeCertificateKind.KubeletClient, key, "agent-victim", []);
        var error = await Assert.ThrowsAsync<JoinException>(() => client.SignAsync(NodeCertificateKind.KubeletClient, foreign, "agent-csr", password, Ct));
        Assert.Contains("403", error.Message);
        Assert.Contains("system:node:agent-victim", error.Message);

        // A serving certificate for an address the node does not have.
        var ip = AgentJoin.CreateCsr(NodeCertificateKind.KubeletServing, key, "agent-csr", [IPAddress.Parse("10.9.9.9")]);
        error = await Assert.ThrowsAsync<JoinException>(() => client.SignAsync(NodeCertificateKind.KubeletServing, ip, "agent-csr", password, Ct));
        Assert.Contains("10.9.9.9", error.Message);

        // An RSA-1024 key is not approved by the FIPS policy.
        using var weak = RSA.Create(1024);
        var weakCsr = AgentJoin.CreateCsr(NodeCertificateKind.KubeletClient, weak, "agent-csr", []);
        error = await Assert.ThrowsAsync<JoinException>(() => client.SignAsync(NodeCertificateKind.KubeletClient, weakCsr, "agent-csr", password, Ct));
        Assert.Contains("key", error.Message);

        // A garbled CSR.
        error = await Assert.ThrowsAsync<JoinException>(() => client.SignAsync(NodeCertificateKind.KubeProxy, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "agent-csr", password, Ct));
        Assert.Contains("CSR", error.Message);

        // The right CSR from the same node is signed.
        var good = AgentJoin.CreateCsr(NodeCertificateKind.KubeletClient, key, "agent-csr", []);
        var signed = await client.SignAsync(NodeCertificateKind.KubeletClient, good, "agent-csr", password, Ct);
        Assert.Contains("BEGIN CERTIFICATE", signed.Certificate);
    }

    [Fact]
    public async Task Endpoints_enforce_roles_limits_and_report_metrics()
    {
        var crypto = fixture.Cluster.Crypto;
        var token = ClusterToken.Parse(Server.Token);
        var log = fixture.Cluster.Loggers.CreateLogger<AgentJoinTests>();
        using var agent = await SupervisorClient.ConnectAsync(Server.SupervisorUrl, token, ClusterToken.AgentUser, crypto, log, Ct);
        using var server = await SupervisorClient.ConnectAsync(Server.SupervisorUrl, token, ClusterToken.ServerUser, crypto, log, Ct);

        Assert.Equal((HttpStatusCode.OK, "pong"), await agent.RawAsync(HttpMethod.Get, "/ping", Ct, authenticate: false));
        Assert.Equal(HttpStatusCode.OK, (await agent.RawAsync(HttpMethod.Get, "/v1/readyz", Ct, authenticate: false)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await agent.RawAsync(HttpMethod.Get, "/v1/config", Ct, authenticate: false)).Status);
        // The agent user may not fetch the cluster's secrets or touch etcd membership.
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.RawAsync(HttpMethod.Get, "/v1/server-bootstrap", Ct)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.RawAsync(HttpMethod.Post, "/v1/etcd/join", Ct)).Status);
        var members = await server.GetEtcdMembersAsync(Ct);
        Assert.Single(members.Members);

        // The bootstrap blob served is sealed (no PEM inside) and the same data is stored in etcd under the token-derived key.
        var sealedBlob = await server.GetBootstrapAsync(Ct);
        Assert.DoesNotContain("PRIVATE KEY", Encoding.ASCII.GetString(sealedBlob));
        var stored = await Server.Client!.GetAsync(BootstrapData.StorageKey(crypto, token.Secret), Ct);
        var sealer = new TokenSealer(crypto);
        var fromApi = BootstrapData.Unseal(sealedBlob, sealer, token.Secret);
        var fromEtcd = BootstrapData.Unseal(stored!, sealer, token.Secret);
        Assert.Equal(fromApi.Files, fromEtcd.Files);
        Assert.Contains("server/tls/server-ca.key", fromApi.Files.Keys);
        Assert.Throws<SealedDataException>(() => BootstrapData.Unseal(sealedBlob, sealer, "wrong-secret"));

        // A body over the limit is refused.
        using var big = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.SupervisorUrl, "/v1/certs/kube-proxy")) { Content = new ByteArrayContent(new byte[200_000]) };
        request.Headers.TryAddWithoutValidation("Authorization", new BasicCredentials("node", token.Secret).ToHeaderValue());
        request.Headers.TryAddWithoutValidation(SupervisorServer.NodeNameHeader, "agent-big");
        request.Headers.TryAddWithoutValidation(SupervisorServer.NodePasswordHeader, "pw");
        using var response = await big.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        // Well-formed JSON without the required fields: 400 with what is expected, never a 500.
        async Task<(HttpStatusCode, string)> PostAsync(string path, string user, string json)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.SupervisorUrl, path)) { Content = new StringContent(json) };
            post.Headers.TryAddWithoutValidation("Authorization", new BasicCredentials(user, token.Secret).ToHeaderValue());
            post.Headers.TryAddWithoutValidation(SupervisorServer.NodeNameHeader, "agent-fields");
            post.Headers.TryAddWithoutValidation(SupervisorServer.NodePasswordHeader, "pw-fields");
            using var reply = await big.SendAsync(post, Ct);
            return (reply.StatusCode, await reply.Content.ReadAsStringAsync(Ct));
        }
        var (status, body) = await PostAsync("/v1/certs/kube-proxy", "node", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("csr", body);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/v1/certs/kube-proxy", "node", "not json")).Item1);
        (status, body) = await PostAsync("/v1/etcd/join", "server", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("peer URL", body);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/v1/etcd/join", "server", "{\"name\":\"Bad Name\",\"peerUrl\":\"http://x:1\"}")).Item1);
        Assert.Single((await server.GetEtcdMembersAsync(Ct)).Members);

        var metrics = await agent.RawAsync(HttpMethod.Get, "/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, metrics.Status);
        Assert.Contains("bulwark_supervisor_requests_total{route=\"/ping\",code=\"200\"}", metrics.Body);
        Assert.Contains("bulwark_supervisor_auth_failures_total", metrics.Body);
    }

    [Fact]
    public async Task The_TLS_listener_refuses_TLS_1_1_and_non_AES_GCM_suites()
    {
        var port = Server.SupervisorUrl.Port;
        var target = $"{Server.Ip}:{port}";
        var tls11 = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["s_client", "-connect", target, "-tls1_1"]) { StandardInput = Array.Empty<byte>(), Timeout = TimeSpan.FromSeconds(20) }, Ct);
        Assert.False(tls11.Succeeded);
        var chacha = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["s_client", "-connect", target, "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"]) { StandardInput = Array.Empty<byte>(), Timeout = TimeSpan.FromSeconds(20) }, Ct);
        Assert.False(chacha.Succeeded);
        var chacha13 = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["s_client", "-connect", target, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"]) { StandardInput = Array.Empty<byte>(), Timeout = TimeSpan.FromSeconds(20) }, Ct);
        Assert.False(chacha13.Succeeded);
        var gcm = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["s_client", "-connect", target, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]) { StandardInput = Array.Empty<byte>(), Timeout = TimeSpan.FromSeconds(20) }, Ct);
        Assert.True(gcm.Succeeded, gcm.StandardError);
        Assert.Contains("ECDHE-ECDSA-AES128-GCM-SHA256", gcm.StandardOutput);
    }

    [Fact]
    public async Task Bulwark_agent_command_joins_then_stops_at_the_kubelet_boundary_with_exit_code_3()
    {
        using var dirs = new TempDirectory("bulwark-agent-cli");
        var tokenFile = dirs.Write("token", Server.Token + "\n");
        var run = await CliRunner.RunAsync("agent", "--server", Server.SupervisorUrl.ToString(), "--token-file", tokenFile,
            "--data-dir", dirs.Combine("data"), "--node-name", "agent-cli", "--node-ip", "127.0.0.1");
        Assert.True(run.ExitCode == 3, run.Out + run.Error);
        Assert.Contains("[join] node agent-cli joined", run.Out);
        Assert.Contains("cluster CA pinned by the token", run.Out);
        Assert.Contains("[kubelet] failed: not started: the kubelet binary is not in", run.Out);
        Assert.True(File.Exists(dirs.Combine("data", "agent", "client-kubelet.crt")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dirs.Combine("data")));

        var wrong = await CliRunner.RunAsync("agent", "--server", Server.SupervisorUrl.ToString(), "--token", "K10" + new string('a', 64) + "::node:whatever",
            "--data-dir", dirs.Combine("wrong"), "--node-name", "agent-cli2");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains(SupervisorClient.CaMismatchMessage, wrong.Out);
        Assert.False(Directory.Exists(dirs.Combine("wrong")));

        var noServer = await CliRunner.RunAsync("agent", "--token", "x", "--data-dir", dirs.Combine("none"));
        Assert.Equal(2, noServer.ExitCode);
        Assert.Contains("--server https://SERVER:9345", noServer.Error);
    }

    private static async Task OpenSslVerifyAsync(string caFile, string certificate, string purpose)
    {
        var result = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["verify", "-CAfile", caFile, "-purpose", purpose, certificate]), Ct);
        Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
        Assert.Equal($"{certificate}: OK", result.StandardOutput.Trim());
    }

    /// <summary>The subject's attributes as openssl prints them, sorted (openssl's print order follows the DER order).</summary>
    private static async Task<IReadOnlyList<string>> SubjectAsync(string certificate)
    {
        var line = await OpenSslAsync("x509", "-in", certificate, "-noout", "-subject", "-nameopt", "sep_comma_plus_space");
        Assert.StartsWith("subject=", line);
        return line["subject=".Length..].Split(", ").Order(StringComparer.Ordinal).ToList();
    }

    private static async Task<string> OpenSslAsync(params string[] args)
    {
        var result = await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", args), Ct);
        return result.StandardOutput.Trim();
    }
}

/// <summary>A flood of wrong tokens against a server of its own (its limiter blocks the source address for the rest of the test).</summary>
public sealed class AuthFloodTests
{
    [Fact]
    public async Task A_flood_of_bad_token_requests_is_rate_limited_and_never_accepted_even_when_a_guess_is_right()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = new ClusterHarness("bulwark-flood");
        // 5 failures allowed, then one more per hour: deterministic within the test.
        var limiter = new FailedAuthLimiter(5, TimeSpan.FromHours(1), TimeProvider.System);
        var server = await cluster.InitAsync("server-flood", IPAddress.Parse("127.0.0.7"), ct, limiter, metrics: true);
        var token = ClusterToken.Parse(server.Token);
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
        async Task<HttpStatusCode> TryAsync(string secret)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.SupervisorUrl, "/v1/config"));
            request.Headers.TryAddWithoutValidation("Authorization", new BasicCredentials("node", secret).ToHeaderValue());
            using var response = await http.SendAsync(request, ct);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await TryAsync(token.Secret));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 200; i++)
        {
            statuses.Add(await TryAsync($"guess-{i}"));
        }
        Assert.DoesNotContain(HttpStatusCode.OK, statuses);
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(195, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // While blocked, even the right secret is not looked at.
        Assert.Equal(HttpStatusCode.TooManyRequests, await TryAsync(token.Secret));
        Assert.Equal(196, server.Supervisor!.Metrics.RateLimitedCount);
        Assert.Equal(5, server.Supervisor.Metrics.AuthFailures);
        // Unauthenticated endpoints still answer (the limiter guards credentials only).
        using var ping = await http.GetAsync(new Uri(server.SupervisorUrl, "/ping"), ct);
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
    }
}
