using System.Globalization;
using System.Text.Json.Nodes;
using Bulwark.FileSystem;
using Bulwark.Kms;
using Bulwark.Kms.V2;
using Bulwark.Processes;
using Bulwark.Tests.Server;
using Google.Protobuf;

namespace Bulwark.Tests.Kms;

/// <summary>
/// A real <c>bulwark server --secrets-encryption-provider kms</c> (the built binary, real etcd) with a real software
/// TPM: it serves the plugin on its socket, seals the keyring to the TPM, and a KEK rotation by the CLI while it runs
/// leaves every earlier ciphertext decryptable. kube-apiserver is absent here: the generated client stands in for it.
/// </summary>
public sealed class KmsServerTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-kmsserver");
    private SoftwareTpm _tpm = null!;
    private int[] _ports = [];

    private string DataDir => _dir.Combine("data");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string[] Args() =>
    [
        "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "kms",
        "--etcd-client-port", _ports[0].ToString(CultureInfo.InvariantCulture),
        "--etcd-peer-port", _ports[1].ToString(CultureInfo.InvariantCulture),
        "--etcd-metrics-port", _ports[2].ToString(CultureInfo.InvariantCulture),
        "--supervisor-port", _ports[3].ToString(CultureInfo.InvariantCulture),
        "--config", _dir.Combine("etc", "config.yaml"),
        "--secrets-encryption-provider", "kms", "--secrets-encryption-tpm-tcti", _tpm.Tcti,
    ];

    public ValueTask InitializeAsync()
    {
        _ports = FreePorts.Take(4);
        _tpm = new SoftwareTpm();
        _dir.Write("etc/config.yaml", "# empty: every setting comes from flags\n");
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _tpm.Dispose();
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_kms_server_serves_the_plugin_with_a_tpm_sealed_key_and_survives_a_kek_rotation()
    {
        var socket = new NodeLayout(DataDir).KmsSocket;
        EncryptResponse before;
        await using (var server = ServerProcess.Start("server", DataDir, inOwnProcessGroup: true, Args()))
        {
            await server.WaitForLineAsync("[ready]");
            var started = System.Text.RegularExpressions.Regex.Match(server.Output, $@"\[kms\] KMS v2 plugin \(pid (\d+)\) on {System.Text.RegularExpressions.Regex.Escape(socket)}: new keyring");
            Assert.True(started.Success, server.Output);
            Assert.Contains("protected by tpm", server.Output);
            // Its own small process, started by the server: its argv names paths, the TCTI and the fips mode, no key.
            var pluginPid = int.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture);
            var argv = File.ReadAllText($"/proc/{pluginPid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["kms-plugin", "--keyring", new NodeLayout(DataDir).KmsDir, "--socket", socket, "--tpm-tcti", _tpm.Tcti, "--fips-mode", "on"], argv[1..10]);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(new NodeLayout(DataDir).ServerLogsDir, "kms-plugin.log")));

            using var client = new KmsClient(socket);
            var status = await client.StatusAsync(Token);
            Assert.Equal(("v2", "ok"), (status.Version, status.Healthz));
            before = await client.Api.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8("seed-1"), Uid = "1" }, cancellationToken: Token);
            Assert.Equal(status.KeyId, before.KeyId);

            // The rendered config sends kube-apiserver to this socket, kms first.
            var providers = JsonNode.Parse(File.ReadAllText(new NodeLayout(DataDir).EncryptionConfig))!["resources"]![0]!["providers"]!;
            Assert.Equal("unix://" + socket, (string?)providers[0]!["kms"]!["endpoint"]);

            var rotate = await CliRunner.RunAsync("secrets-encrypt", "rotate-kek", "--data-dir", DataDir, "--config", _dir.Combine("etc", "config.yaml"),
                "--secrets-encryption-tpm-tcti", _tpm.Tcti, "--etcd-client-port", _ports[0].ToString(CultureInfo.InvariantCulture));
            Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
            Assert.Contains("Encryption provider: kms", rotate.Out);
            Assert.Contains("KMS key protection: tpm: sealed to the TPM 2.0 at " + _tpm.Tcti, rotate.Out);
            Assert.Contains("2 retained", rotate.Out);

            var rotated = await client.StatusAsync(Token);
            Assert.Equal("ok", rotated.Healthz);
            Assert.NotEqual(before.KeyId, rotated.KeyId);
            Assert.Contains($"KMS plugin: ok on {socket}", rotate.Out);
            Assert.Equal("seed-1", (await Decrypt(client, before)).ToStringUtf8());

            server.SignalGroup(Signals.SigTerm);
            Assert.Equal(0, await server.WaitForExitAsync());
            var stops = server.Output.Split('\n').Where(l => l.StartsWith("[stop] ", StringComparison.Ordinal)).ToList();
            // Started before the supervisor and everything after it (kube-apiserver among them), so stopped after them.
            var kmsStop = stops.IndexOf("[stop] kms stopped");
            Assert.True(kmsStop > stops.IndexOf("[stop] runtime stopped") && kmsStop > stops.IndexOf("[stop] supervisor stopped") && kmsStop < stops.IndexOf("[stop] etcd stopped"), string.Join("\n", stops));
            Assert.False(Path.Exists(socket), "the socket is removed when the plugin stops");
            Assert.False(Bulwark.Processes.Signals.IsAlive(pluginPid), "the plugin process stops with the server");
        }

        // A restart unseals both keys from the TPM: the first ciphertext still decrypts.
        await using (var again = ServerProcess.Start("server", DataDir, inOwnProcessGroup: true, Args()))
        {
            await again.WaitForLineAsync("[ready]");
            Assert.Contains("2 retained", again.Output);
            using var client = new KmsClient(socket);
            Assert.Equal("seed-1", (await Decrypt(client, before)).ToStringUtf8());
            again.SignalGroup(Signals.SigTerm);
            Assert.Equal(0, await again.WaitForExitAsync());
        }
    }

    [Fact]
    public async Task Three_servers_seal_the_cluster_keys_with_their_own_protector_and_decrypt_each_others_ciphertexts_before_and_after_a_kek_rotation_on_one()
    {
        using var tpm2 = new SoftwareTpm();
        string[] Node(int index, params string[] extra)
        {
            var ip = System.Net.IPAddress.Parse($"127.0.0.{20 + index}");
            return
            [
                "--node-name", $"kms-{index}", "--node-ip", ip.ToString(), "--single-host-demo", "--bind-address", ip.ToString(),
                "--supervisor-port", Str(Supervisor.ClusterHarness.FreePort(ip)), "--etcd-client-port", Str(Supervisor.ClusterHarness.FreePort(System.Net.IPAddress.Loopback)),
                "--etcd-peer-port", Str(Supervisor.ClusterHarness.FreePort(ip)), "--etcd-metrics-port", Str(Supervisor.ClusterHarness.FreePort(System.Net.IPAddress.Loopback)),
                "--config", _dir.Combine("etc", "config.yaml"), "--etcd-disable-snapshots", "--secrets-encryption-provider", "kms", .. extra,
            ];
        }
        static string Flag(string[] args, string name) => args[Array.IndexOf(args, name) + 1];
        var nodes = new[]
        {
            Node(1, "--secrets-encryption-tpm-tcti", _tpm.Tcti),
            Node(2, "--secrets-encryption-tpm-tcti", tpm2.Tcti),
            // No TPM on the third: it seals the cluster's keys into 0600 files.
            Node(3, "--secrets-encryption-key-protection", "file"),
        };
        var dataDirs = new[] { _dir.Combine("server-1"), _dir.Combine("server-2"), _dir.Combine("server-3") };
        var servers = new List<ServerProcess>();
        try
        {
            servers.Add(ServerProcess.Start(dataDirs[0], nodes[0]));
            await servers[0].WaitForLineAsync("[ready]");
            var token = (await File.ReadAllTextAsync(new Bulwark.Pki.ServerPkiPaths(dataDirs[0]).Token, Token)).Trim();
            for (var i = 1; i < 3; i++)
            {
                // The third joins through the second: every server serves the keys to joining servers.
                var through = $"https://127.0.0.{20 + i}:{Flag(nodes[i - 1], "--supervisor-port")}";
                servers.Add(ServerProcess.Start(dataDirs[i], [.. nodes[i], "--server", through, "--token", token]));
                await servers[i].WaitForLineAsync("[ready]");
                Assert.Contains("sealed 1 key(s) received from the cluster in the bootstrap data", servers[i].Output);
            }
            Assert.Contains("sealed to the TPM 2.0 at " + tpm2.Tcti, servers[1].Output);
            Assert.Contains("keys: 0600 files in", servers[2].Output);
            // Only sealed blobs on a TPM server's disk: no key file, no plaintext export.
            Assert.Empty(Directory.GetFiles(new NodeLayout(dataDirs[1]).KmsDir, "*.key"));

            var clients = dataDirs.Select(d => new KmsClient(new NodeLayout(d).KmsSocket)).ToList();
            try
            {
                var firstKey = (await clients[0].StatusAsync(Token)).KeyId;
                foreach (var client in clients)
                {
                    Assert.Equal(firstKey, (await client.StatusAsync(Token)).KeyId);
                }
                var before = await EncryptOnEachAsync(clients, "before");
                await AssertEachDecryptsEveryAsync(clients, before, "before");

                // rotate-kek on the second server: its new key reaches the cluster's bootstrap data; the others follow.
                var rotate = await CliRunner.RunAsync("secrets-encrypt", "rotate-kek", "--data-dir", dataDirs[1], "--config", _dir.Combine("etc", "config.yaml"),
                    "--secrets-encryption-tpm-tcti", tpm2.Tcti, "--etcd-client-port", Flag(nodes[1], "--etcd-client-port"));
                Assert.True(rotate.ExitCode == 0, rotate.Out + rotate.Error);
                Assert.Contains("2 retained", rotate.Out);
                Assert.DoesNotContain("current on this server only", rotate.Error);
                var rotatedKey = (await clients[1].StatusAsync(Token)).KeyId;
                Assert.NotEqual(firstKey, rotatedKey);

                // Followed without a restart: each seals the new key with its own protector and its running plugin loads it.
                await servers[0].WaitForLineAsync("followed a rotation on another server: KMS keyring: sealed 1 new key(s) here (tpm)");
                await servers[2].WaitForLineAsync("followed a rotation on another server: KMS keyring: sealed 1 new key(s) here (file)");
                Assert.True(File.Exists(Path.Combine(new NodeLayout(dataDirs[0]).KmsDir, rotatedKey + ".tpm.priv")));
                Assert.Equal(AtomicFile.Private, File.GetUnixFileMode(Path.Combine(new NodeLayout(dataDirs[2]).KmsDir, rotatedKey + ".key")));
                foreach (var client in clients)
                {
                    var status = await client.StatusAsync(Token);
                    Assert.Equal((rotatedKey, "ok"), (status.KeyId, status.Healthz));
                }
                Assert.All(servers, s => Assert.False(s.HasExited));

                var after = await EncryptOnEachAsync(clients, "after");
                Assert.All(after, e => Assert.Equal(rotatedKey, e.KeyId));
                await AssertEachDecryptsEveryAsync(clients, after, "after");
                await AssertEachDecryptsEveryAsync(clients, before, "before");
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        }
        finally
        {
            foreach (var server in Enumerable.Reverse(servers))
            {
                await server.DisposeAsync();
            }
        }
    }

    private static async Task<List<EncryptResponse>> EncryptOnEachAsync(IReadOnlyList<KmsClient> clients, string label)
    {
        var sealedData = new List<EncryptResponse>();
        for (var i = 0; i < clients.Count; i++)
        {
            sealedData.Add(await clients[i].Api.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8($"{label} on {i + 1}"), Uid = label }, cancellationToken: Token));
        }
        return sealedData;
    }

    /// <summary>Every server's plugin opens what each server's plugin sealed (<paramref name="label"/> on its number).</summary>
    private static async Task AssertEachDecryptsEveryAsync(IReadOnlyList<KmsClient> clients, IReadOnlyList<EncryptResponse> sealedData, string label)
    {
        for (var from = 0; from < sealedData.Count; from++)
        {
            foreach (var client in clients)
            {
                Assert.Equal($"{label} on {from + 1}", (await Decrypt(client, sealedData[from])).ToStringUtf8());
            }
        }
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<ByteString> Decrypt(KmsClient client, EncryptResponse sealedData)
    {
        var request = new DecryptRequest { Ciphertext = sealedData.Ciphertext, KeyId = sealedData.KeyId, Uid = "2" };
        request.Annotations.Add(sealedData.Annotations);
        return (await client.Api.DecryptAsync(request, cancellationToken: Token)).Plaintext;
    }
}
