using System.Globalization;
using System.Net;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Bulwark.Tests.Pki;
using Bulwark.Tests.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// Rotation on real clusters of `bulwark server` processes with real etcd (127.0.0.41-49). Token: the bootstrap data is
/// re-sealed in etcd, every server switches to the new token, an agent and a server join with the new token and are
/// refused with the old one, and the servers restart with the new token. Service-account key: the key set moves through
/// etcd to the other server, and the rendered kube-apiserver arguments list the retired key (boundary: kube-apiserver
/// is not installed here, so its argv and files are checked, and the keys are loaded with real openssl).
/// </summary>
public sealed class RotationClusterTests : IDisposable
{
    private const string NewSecret = "rotated-7f3c9a1e5b2d4c6a8e0f";
    private readonly TempDirectory _dir = new("bulwark-rotation");

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestServerNode NewNode(int index)
    {
        Assert.InRange(index, 1, 9);
        return TestServerNode.Create($"rot-{index}", $"127.0.0.{40 + index}", _dir.Combine($"server-{index}"));
    }

    private string Config => _dir.Combine("etc", "config.yaml");

    private string[] Args(TestServerNode node, params string[] extra) => node.Args(Config, extra);

    private string[] Rotate(TestServerNode node, string old, string fresh) =>
        ["token", "rotate", "--data-dir", node.DataDir, "--etcd-client-port", Str(node.ClientPort), "--config", Config, "--token", old, "--new-token", fresh];

    private static string Str(int value) => TestServerNode.Str(value);

    private static string SecretOf(string token) => token[(token.LastIndexOf(':') + 1)..];

    private static async Task<string> TokenFileAsync(TestServerNode node) => (await File.ReadAllTextAsync(node.Paths.Token, Ct)).Trim();

    private static async Task WaitForSecretAsync(TestServerNode node, string secret)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (SecretOf(await TokenFileAsync(node)) != secret)
        {
            await Task.Delay(100, deadline.Token);
        }
    }

    private static AgentJoinOptions AgentOptions(string dataDir, Uri via, string token) =>
        new(dataDir, via, token, "rot-agent", [IPAddress.Loopback]) { ReadyTimeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Token_rotate_on_one_server_switches_every_server_and_joins_with_the_old_token_are_refused()
    {
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        var (n1, n2, n3, n4) = (NewNode(1), NewNode(2), NewNode(3), NewNode(4));
        await using var s1 = ServerProcess.Start(n1.DataDir, Args(n1));
        await s1.WaitForLineAsync("[ready]");
        var old = await TokenFileAsync(n1);
        var oldSecret = SecretOf(old);
        var s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", old));
        var s3 = ServerProcess.Start(n3.DataDir, Args(n3, "--server", n1.Supervisor.ToString(), "--token", old));
        ServerProcess? s4 = null;
        try
        {
            await s2.WaitForLineAsync("[ready]");
            await s3.WaitForLineAsync("[ready]");

            // Refused, nothing changed: a wrong current token, a weak new one.
            var wrong = await CliRunner.RunAsync(Rotate(n1, "not-the-cluster-token-at-all", NewSecret));
            Assert.Equal(1, wrong.ExitCode);
            Assert.Contains("--token is not this cluster's current server token", wrong.Error);
            var weak = await CliRunner.RunAsync(Rotate(n1, old, "aaaaaaaaaaaaaaaaaaaa"));
            Assert.Equal(2, weak.ExitCode);
            Assert.Contains("--new-token is too weak", weak.Error);
            Assert.Equal(old, await TokenFileAsync(n1));

            var crypto = CryptoService.For(FipsMode.On);
            using var etcd = new EtcdClient(new EtcdClientOptions([n1.Etcd, n2.Etcd], new EtcdPaths(n1.DataDir).ClientTls));
            var oldKey = BootstrapData.StorageKey(crypto, oldSecret);
            Assert.NotNull(await etcd.GetAsync(oldKey, Ct));

            var rotated = await CliRunner.RunAsync(Rotate(n1, old, NewSecret));
            Assert.True(rotated.ExitCode == 0, rotated.Out + rotated.Error);
            Assert.Contains($"updated {n1.Paths.Token} (0600)", rotated.Out);
            Assert.DoesNotContain(NewSecret, rotated.Out + rotated.Error);
            Assert.DoesNotContain(oldSecret, rotated.Out + rotated.Error);

            // The token file keeps the CA hash and user, with the new secret, 0600; etcd holds the data under the new key only.
            Assert.Equal(old[..^oldSecret.Length] + NewSecret, await TokenFileAsync(n1));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(n1.Paths.Token));
            Assert.Null(await etcd.GetAsync(oldKey, Ct));
            var sealedNew = await etcd.GetAsync(BootstrapData.StorageKey(crypto, NewSecret), Ct);
            Assert.NotNull(sealedNew);
            var bundle = BootstrapData.Unseal(sealedNew, new TokenSealer(crypto), NewSecret);
            Assert.Equal(await File.ReadAllTextAsync(n1.Paths.ServerCa.Key, Ct), bundle.Files["server/tls/server-ca.key"]);
            Assert.Throws<SealedDataException>(() => BootstrapData.Unseal(sealedNew, new TokenSealer(crypto), oldSecret));

            // A second rotation from the old token is refused (it is no longer current).
            var again = await CliRunner.RunAsync(Rotate(n1, old, NewSecret + "x"));
            Assert.Equal(1, again.ExitCode);

            // The other servers follow within seconds and rewrite their token files.
            await WaitForSecretAsync(n2, NewSecret);
            await WaitForSecretAsync(n3, NewSecret);
            await s2.WaitForLineAsync("server token was rotated");
            await s3.WaitForLineAsync("server token was rotated");
            var fresh = await TokenFileAsync(n1);

            // An agent: refused with the old token through a server that did not run the rotation, accepted with the new one.
            var join = new AgentJoin(crypto, NullLogger.Instance);
            var refused = await Assert.ThrowsAsync<JoinException>(() => join.ObtainAsync(AgentOptions(_dir.Combine("agent-old"), n3.Supervisor, old), Ct));
            Assert.Contains("401", refused.Message);
            Assert.False(File.Exists(Path.Combine(_dir.Combine("agent-old"), "agent", "client-kubelet.crt")));
            var agent = await join.RunAsync(AgentOptions(_dir.Combine("agent-new"), n2.Supervisor, fresh), Ct);
            Assert.Equal("rot-agent", agent.NodeName);

            // A server: refused with the old token (nothing written), joins with the new one.
            await using (var refusedServer = ServerProcess.Start(n4.DataDir, Args(n4, "--server", n2.Supervisor.ToString(), "--token", old)))
            {
                Assert.NotEqual(0, await refusedServer.WaitForExitAsync());
                Assert.False(File.Exists(n4.Paths.ServerCa.Key));
            }
            s4 = ServerProcess.Start(n4.DataDir, Args(n4, "--server", n3.Supervisor.ToString(), "--token", fresh));
            await s4.WaitForLineAsync("[ready]");
            Assert.Equal(4, (await etcd.MemberListAsync(Ct)).Count);

            // Existing servers restart with the new token; a restart that still names the old one is refused with the fix.
            await s3.DisposeAsync();
            s3 = ServerProcess.Start(n3.DataDir, Args(n3, "--server", n1.Supervisor.ToString(), "--token", fresh));
            await s3.WaitForLineAsync("[ready]");
            await s2.DisposeAsync();
            s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", old));
            Assert.NotEqual(0, await s2.WaitForExitAsync());
            Assert.Contains("put the new token in this server's configuration", s2.Output);
            await s2.DisposeAsync();
            s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", fresh));
            await s2.WaitForLineAsync("[ready]");
            await s1.DisposeAsync();
            await using var s1Again = ServerProcess.Start(n1.DataDir, Args(n1, "--token", fresh));
            await s1Again.WaitForLineAsync("[ready]");

            Assert.DoesNotContain(oldSecret, s1.Output + s2.Output + s3.Output + s4.Output + s1Again.Output);
            Assert.DoesNotContain(NewSecret, s1.Output + s2.Output + s3.Output + s4.Output + s1Again.Output);
        }
        finally
        {
            await s2.DisposeAsync();
            await s3.DisposeAsync();
            if (s4 is not null)
            {
                await s4.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Rotate_sa_key_keeps_the_old_public_key_listed_for_kube_apiserver_and_reaches_the_other_server()
    {
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        var (n1, n2) = (NewNode(6), NewNode(7));
        await using var s1 = ServerProcess.Start(n1.DataDir, Args(n1));
        await s1.WaitForLineAsync("[ready]");
        var token = await TokenFileAsync(n1);
        var s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", token));
        try
        {
            await s2.WaitForLineAsync("[ready]");
            var oldKey = await File.ReadAllTextAsync(Path.Combine(n1.DataDir, ServiceAccountKeys.CurrentKey), Ct);
            Assert.Equal(oldKey, await File.ReadAllTextAsync(Path.Combine(n2.DataDir, ServiceAccountKeys.CurrentKey), Ct));
            var oldPublic = await OpenSsl.CheckedAsync("pkey", "-in", _dir.Write("old-service.key", oldKey), "-pubout");

            var rotated = await CliRunner.RunAsync(["certificate", "rotate-sa-key", "--data-dir", n1.DataDir, "--etcd-client-port", Str(n1.ClientPort), "--config", Config]);
            Assert.True(rotated.ExitCode == 0, rotated.Out + rotated.Error);
            Assert.Contains("1 retired key(s) stay accepted for 720h", rotated.Out);

            // The new key signs (service.current.key) and verifies (service.key); the old public key is retired; all load in openssl, all 0600.
            var current = await File.ReadAllTextAsync(Path.Combine(n1.DataDir, ServiceAccountKeys.CurrentKey), Ct);
            Assert.NotEqual(oldKey, current);
            Assert.Equal(current, await File.ReadAllTextAsync(Path.Combine(n1.DataDir, ServiceAccountKeys.ServiceKey), Ct));
            Assert.StartsWith("-----BEGIN EC PRIVATE KEY-----", current);
            await OpenSsl.CheckedAsync("pkey", "-in", Path.Combine(n1.DataDir, ServiceAccountKeys.CurrentKey), "-noout");
            var retired = Assert.Single(ServiceAccountKeys.Retired(n1.DataDir));
            var retiredPath = Path.Combine(n1.DataDir, retired.RelativePath);
            var retiredPem = await File.ReadAllTextAsync(retiredPath, Ct);
            Assert.StartsWith("-----BEGIN PUBLIC KEY-----", retiredPem);
            Assert.Equal(oldPublic, await OpenSsl.CheckedAsync("pkey", "-pubin", "-in", retiredPath, "-pubout"));
            foreach (var file in new[] { retiredPath, Path.Combine(n1.DataDir, ServiceAccountKeys.CurrentKey), Path.Combine(n1.DataDir, ServiceAccountKeys.ServiceKey) })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            // The other server copies the key set from etcd within seconds.
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                deadline.CancelAfter(TimeSpan.FromSeconds(30));
                while (await File.ReadAllTextAsync(Path.Combine(n2.DataDir, ServiceAccountKeys.CurrentKey), deadline.Token) != current)
                {
                    await Task.Delay(100, deadline.Token);
                }
            }
            Assert.Equal(retiredPem, await File.ReadAllTextAsync(Path.Combine(n2.DataDir, retired.RelativePath), Ct));
            await s2.WaitForLineAsync("shared PKI was rotated on another server");

            // After a restart, the rendered kube-apiserver lists the current and the retired key, each mounted; the controller-manager signs with the new one.
            await s2.DisposeAsync();
            s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", token));
            await s2.WaitForLineAsync("[ready]");
            var apiserver = await File.ReadAllTextAsync(n2.Paths.Layout.PodManifest("kube-apiserver"), Ct);
            var n2Retired = Path.Combine(n2.DataDir, retired.RelativePath);
            Assert.Contains($"--service-account-key-file={Path.Combine(n2.DataDir, ServiceAccountKeys.ServiceKey)}", apiserver);
            Assert.Contains($"--service-account-key-file={n2Retired}", apiserver);
            Assert.Contains($"path: {n2Retired}", apiserver);
            Assert.Contains($"--service-account-signing-key-file={Path.Combine(n2.DataDir, ServiceAccountKeys.CurrentKey)}", apiserver);
        }
        finally
        {
            await s2.DisposeAsync();
        }
    }

    [Fact]
    public async Task Rotate_ca_prepare_rotate_finish_keeps_etcd_working_and_openssl_trusts_old_leaves_only_until_finish()
    {
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        var n1 = NewNode(8);
        var tls = n1.Paths.TlsDirectory;
        var etcdPaths = new EtcdPaths(n1.DataDir);
        // Copies of leaves issued by the old CAs: the admin client cert, and etcd's client cert with its key.
        var oldAdmin = _dir.Combine("old-client-admin.crt");
        var oldEtcd = new EtcdClientTls(etcdPaths.ServerCaCert, _dir.Combine("old-etcd-client.crt"), _dir.Combine("old-etcd-client.key"));
        string[] RotateCa(string step) => ["certificate", "rotate-ca", step, "--data-dir", n1.DataDir, "--etcd-client-port", Str(n1.ClientPort), "--config", Config,
            "--node-name", n1.Name, "--node-ip", n1.Ip.ToString()];
        async Task EtcdWorksAsync(string value)
        {
            using var client = new EtcdClient(new EtcdClientOptions([n1.Etcd], etcdPaths.ClientTls));
            await client.PutAsync("/test/ca-rotation", value, Ct);
            Assert.Equal(value, System.Text.Encoding.UTF8.GetString((await client.GetAsync("/test/ca-rotation", Ct))!));
        }
        async Task<bool> VerifiesAsync(string caFile, string leaf) =>
            (await OpenSsl.RunAsync("verify", "-CAfile", caFile, leaf)).Succeeded;

        var server = ServerProcess.Start(n1.DataDir, Args(n1));
        try
        {
            await server.WaitForLineAsync("[ready]");
            File.Copy(Path.Combine(tls, "client-admin.crt"), oldAdmin);
            File.Copy(etcdPaths.ClientCert, oldEtcd.CertFile);
            File.Copy(etcdPaths.ClientKey, oldEtcd.KeyFile);
            var oldClientCa = CaRotation.Bundle(Path.Combine(tls, "client-ca.crt")).Single();
            await EtcdWorksAsync("before");

            // prepare: both CAs in every bundle, the old one still signs; nothing is re-issued.
            var prepared = await CliRunner.RunAsync(RotateCa("prepare"));
            Assert.True(prepared.ExitCode == 0, prepared.Out + prepared.Error);
            foreach (var ca in PkiCatalog.Cas)
            {
                Assert.Equal(2, CaRotation.Bundle(Path.Combine(tls, ca.Stem + ".crt")).Count);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(n1.DataDir, CaRotation.NextKey(ca))));
            }
            Assert.Equal(await File.ReadAllTextAsync(oldAdmin, Ct), await File.ReadAllTextAsync(Path.Combine(tls, "client-admin.crt"), Ct));
            Assert.True(await VerifiesAsync(Path.Combine(tls, "client-ca.crt"), oldAdmin));
            var outOfOrder = await CliRunner.RunAsync(RotateCa("finish"));
            Assert.Equal(1, outOfOrder.ExitCode);
            Assert.Contains("The steps run in order", outOfOrder.Error);
            await EtcdWorksAsync("prepared");
            await server.DisposeAsync();
            server = ServerProcess.Start(n1.DataDir, Args(n1));
            await server.WaitForLineAsync("[ready]");
            await EtcdWorksAsync("prepared, restarted");

            // rotate: the new CAs sign; new leaves verify against the bundle and the new CA alone, old leaves still against the bundle.
            var rotated = await CliRunner.RunAsync(RotateCa("rotate"));
            Assert.True(rotated.ExitCode == 0, rotated.Out + rotated.Error);
            var clientCas = CaRotation.Bundle(Path.Combine(tls, "client-ca.crt"));
            Assert.Equal(oldClientCa, clientCas[1]);
            var newCaOnly = _dir.Write("new-client-ca.crt", clientCas[0]);
            var oldCaOnly = _dir.Write("old-client-ca.crt", clientCas[1]);
            var newAdmin = Path.Combine(tls, "client-admin.crt");
            Assert.True(await VerifiesAsync(Path.Combine(tls, "client-ca.crt"), newAdmin));
            Assert.True(await VerifiesAsync(newCaOnly, newAdmin));
            Assert.False(await VerifiesAsync(oldCaOnly, newAdmin));
            Assert.True(await VerifiesAsync(Path.Combine(tls, "client-ca.crt"), oldAdmin));
            Assert.True(await VerifiesAsync(etcdPaths.ServerCaCert, etcdPaths.ClientCert));
            Assert.False(File.Exists(Path.Combine(n1.DataDir, CaRotation.NextKey(PkiCatalog.Cas[0]))));
            await EtcdWorksAsync("rotated");
            await server.DisposeAsync();
            server = ServerProcess.Start(n1.DataDir, Args(n1));
            await server.WaitForLineAsync("[ready]");
            await EtcdWorksAsync("rotated, restarted");
            using (var old = new EtcdClient(new EtcdClientOptions([n1.Etcd], oldEtcd) { CallTimeout = TimeSpan.FromSeconds(5) }))
            {
                await old.GetAsync("/test/ca-rotation", Ct); // the old client cert is still trusted by etcd during the switch
            }

            // finish: only the new CAs remain; old leaves are refused by openssl and by the real etcd, new ones work.
            var finished = await CliRunner.RunAsync(RotateCa("finish"));
            Assert.True(finished.ExitCode == 0, finished.Out + finished.Error);
            Assert.Equal([clientCas[0]], CaRotation.Bundle(Path.Combine(tls, "client-ca.crt")));
            Assert.False(await VerifiesAsync(Path.Combine(tls, "client-ca.crt"), oldAdmin));
            Assert.True(await VerifiesAsync(Path.Combine(tls, "client-ca.crt"), newAdmin));
            await server.DisposeAsync();
            server = ServerProcess.Start(n1.DataDir, Args(n1));
            await server.WaitForLineAsync("[ready]");
            await EtcdWorksAsync("finished, restarted");
            using (var old = new EtcdClient(new EtcdClientOptions([n1.Etcd], oldEtcd) { CallTimeout = TimeSpan.FromSeconds(5) }))
            {
                await Assert.ThrowsAsync<EtcdException>(() => old.GetAsync("/test/ca-rotation", Ct));
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Rotate_ca_on_one_server_reaches_the_other_whose_etcd_peer_certificate_is_reissued_and_the_etcd_cluster_keeps_quorum()
    {
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        var (n1, n2) = (NewNode(1), NewNode(9));
        string[] RotateCa(string step) => ["certificate", "rotate-ca", step, "--data-dir", n1.DataDir, "--etcd-client-port", Str(n1.ClientPort), "--config", Config,
            "--node-name", n1.Name, "--node-ip", n1.Ip.ToString()];
        var peerCa2 = Path.Combine(n2.Paths.EtcdDirectory, "peer-ca.crt");
        var peerCert2 = Path.Combine(n2.Paths.EtcdDirectory, "peer-server-client.crt");
        async Task WaitForAsync(Func<bool> condition, string what)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            while (!condition())
            {
                Assert.False(deadline.IsCancellationRequested, what);
                await Task.Delay(100, Ct);
            }
        }
        async Task QuorumAsync(string value)
        {
            foreach (var node in new[] { n1, n2 })
            {
                using var client = new EtcdClient(new EtcdClientOptions([node.Etcd], new EtcdPaths(node.DataDir).ClientTls));
                await client.PutAsync("/test/ca-ha/" + node.Name, value, Ct);
                Assert.Equal(2, (await client.MemberListAsync(Ct)).Count(m => !m.IsLearner));
            }
        }

        var s1 = ServerProcess.Start(n1.DataDir, Args(n1));
        ServerProcess? s2 = null;
        var token = "";
        async Task RestartBothAsync()
        {
            await s2!.DisposeAsync();
            s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", token));
            await s1.DisposeAsync();
            s1 = ServerProcess.Start(n1.DataDir, Args(n1));
            await s1.WaitForLineAsync("[ready]");
            await s2.WaitForLineAsync("[ready]");
        }
        try
        {
            await s1.WaitForLineAsync("[ready]");
            token = await TokenFileAsync(n1);
            s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", token));
            await s2.WaitForLineAsync("[ready]");
            var oldPeer2 = _dir.Write("old-peer-2.crt", await File.ReadAllTextAsync(peerCert2, Ct));

            Assert.Equal(0, (await CliRunner.RunAsync(RotateCa("prepare"))).ExitCode);
            await WaitForAsync(() => CaRotation.Bundle(peerCa2).Count == 2, "server 2 did not copy the prepared CA bundles");
            await RestartBothAsync();
            await QuorumAsync("prepared");

            Assert.Equal(0, (await CliRunner.RunAsync(RotateCa("rotate"))).ExitCode);
            var newPeerCa = _dir.Write("new-peer-ca.crt", CaRotation.Bundle(Path.Combine(n1.Paths.EtcdDirectory, "peer-ca.crt"))[0]);
            // Server 2 copies the CAs and re-issues its own leaves (its etcd peer certificate) from the new CA.
            await WaitForAsync(() => File.ReadAllText(peerCert2) != File.ReadAllText(oldPeer2), "server 2 did not re-issue its etcd peer certificate");
            await s2!.WaitForLineAsync("shared PKI was rotated on another server");
            Assert.True((await OpenSsl.RunAsync("verify", "-CAfile", newPeerCa, peerCert2)).Succeeded);
            Assert.False((await OpenSsl.RunAsync("verify", "-CAfile", newPeerCa, oldPeer2)).Succeeded);
            Assert.True((await OpenSsl.RunAsync("verify", "-CAfile", peerCa2, oldPeer2)).Succeeded);
            await RestartBothAsync();
            await QuorumAsync("rotated");

            Assert.Equal(0, (await CliRunner.RunAsync(RotateCa("finish"))).ExitCode);
            await WaitForAsync(() => CaRotation.Bundle(peerCa2).Count == 1, "server 2 did not drop the old CAs");
            Assert.False((await OpenSsl.RunAsync("verify", "-CAfile", peerCa2, oldPeer2)).Succeeded);
            await RestartBothAsync();
            await QuorumAsync("finished");
        }
        finally
        {
            await s1.DisposeAsync();
            if (s2 is not null)
            {
                await s2.DisposeAsync();
            }
        }
    }
}
