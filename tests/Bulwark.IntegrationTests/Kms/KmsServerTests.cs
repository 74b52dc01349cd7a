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
            Assert.Contains($"[kms] KMS v2 plugin on {socket}: new keyring", server.Output);
            Assert.Contains("protected by tpm", server.Output);

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
    public async Task A_joining_server_receives_the_keys_in_the_sealed_bootstrap_seals_them_to_its_own_tpm_and_decrypts_what_the_first_encrypted()
    {
        using var otherTpm = new SoftwareTpm();
        string[] Node(int index, string tcti, params string[] extra)
        {
            var ip = System.Net.IPAddress.Parse($"127.0.0.{20 + index}");
            return
            [
                "--node-name", $"kms-{index}", "--node-ip", ip.ToString(), "--single-host-demo", "--bind-address", ip.ToString(),
                "--supervisor-port", Str(Supervisor.ClusterHarness.FreePort(ip)), "--etcd-client-port", Str(Supervisor.ClusterHarness.FreePort(System.Net.IPAddress.Loopback)),
                "--etcd-peer-port", Str(Supervisor.ClusterHarness.FreePort(ip)), "--etcd-metrics-port", Str(Supervisor.ClusterHarness.FreePort(System.Net.IPAddress.Loopback)),
                "--config", _dir.Combine("etc", "config.yaml"), "--etcd-disable-snapshots",
                "--secrets-encryption-provider", "kms", "--secrets-encryption-tpm-tcti", tcti, .. extra,
            ];
        }
        var first = Node(1, _tpm.Tcti);
        var data1 = _dir.Combine("server-1");
        var data2 = _dir.Combine("server-2");
        await using var s1 = ServerProcess.Start(data1, first);
        await s1.WaitForLineAsync("[ready]");
        var token = (await File.ReadAllTextAsync(new Bulwark.Pki.ServerPkiPaths(data1).Token, Token)).Trim();
        var supervisor = $"https://127.0.0.21:{first[Array.IndexOf(first, "--supervisor-port") + 1]}";

        await using var s2 = ServerProcess.Start(data2, Node(2, otherTpm.Tcti, "--server", supervisor, "--token", token));
        await s2.WaitForLineAsync("[ready]");
        Assert.Contains("sealed 1 key(s) received from the cluster in the bootstrap data", s2.Output);
        Assert.Contains("sealed to the TPM 2.0 at " + otherTpm.Tcti, s2.Output);
        // Only sealed blobs on the joining server's disk: no key file, no plaintext export.
        Assert.Empty(Directory.GetFiles(new NodeLayout(data2).KmsDir, "*.key"));

        using var c1 = new KmsClient(new NodeLayout(data1).KmsSocket);
        using var c2 = new KmsClient(new NodeLayout(data2).KmsSocket);
        Assert.Equal((await c1.StatusAsync(Token)).KeyId, (await c2.StatusAsync(Token)).KeyId);
        var fromFirst = await c1.Api.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8("written on 1"), Uid = "a" }, cancellationToken: Token);
        var fromSecond = await c2.Api.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFromUtf8("written on 2"), Uid = "b" }, cancellationToken: Token);
        Assert.Equal("written on 1", (await Decrypt(c2, fromFirst)).ToStringUtf8());
        Assert.Equal("written on 2", (await Decrypt(c1, fromSecond)).ToStringUtf8());
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<ByteString> Decrypt(KmsClient client, EncryptResponse sealedData)
    {
        var request = new DecryptRequest { Ciphertext = sealedData.Ciphertext, KeyId = sealedData.KeyId, Uid = "2" };
        request.Annotations.Add(sealedData.Annotations);
        return (await client.Api.DecryptAsync(request, cancellationToken: Token)).Plaintext;
    }
}
