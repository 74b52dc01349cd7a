using System.Net;
using System.Net.Sockets;
using Bulwark.ControlPlane;

namespace Bulwark.Tests.ControlPlane;

public sealed class SecretsEncryptionTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-secrets");

    public void Dispose() => _dir.Dispose();

    private string ConfigPath => _dir.Combine("cred", "encryption-config.json");
    private string StatePath => _dir.Combine("cred", "encryption-state.json");

    private SecretsEncryptionManager Manager() => new(ConfigPath, new FileSecretsEncryptionStateStore(StatePath));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The real re-encryptor with an admin kubeconfig naming a loopback port nothing listens on: the apiserver is absent.</summary>
    private ApiSecretsReencryptor AbsentApiServer()
    {
        var kubeconfig = new Bulwark.Kube.Kubeconfig($"https://127.0.0.1:{AbsentApiServerPort()}", "admin", null, null, null, "t");
        return new ApiSecretsReencryptor(_dir.Write("cred/admin.kubeconfig", kubeconfig.ToYaml()), TextWriter.Null);
    }

    [Fact]
    public async Task The_key_file_has_one_32_byte_aescbc_key_then_identity_mode_0600_and_round_trips()
    {
        Assert.True(await Manager().EnsureAsync(Token));
        var json = File.ReadAllText(ConfigPath);
        var config = EncryptionConfiguration.Parse(json, ConfigPath);
        Assert.Equal(json, config.ToJson());
        Assert.Equal("EncryptionConfiguration", config.Kind);
        Assert.Equal("apiserver.config.k8s.io/v1", config.ApiVersion);
        Assert.Equal(["secrets"], config.Resources.Single().Resources);
        var providers = config.Resources.Single().Providers;
        Assert.NotNull(providers[0].Aescbc);
        Assert.NotNull(providers[1].Identity);
        Assert.Equal(32, Convert.FromBase64String(Assert.Single(config.Keys).Secret).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ConfigPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
        Assert.DoesNotContain(config.Keys[0].Secret, config.Keys[0].ToString());
    }

    [Fact]
    public async Task Keys_come_from_the_csprng_so_two_servers_never_share_one()
    {
        await Manager().EnsureAsync(Token);
        using var other = new TempDirectory();
        var second = new SecretsEncryptionManager(other.Combine("e.json"), new FileSecretsEncryptionStateStore(other.Combine("s.json")));
        await second.EnsureAsync(Token);
        Assert.NotEqual(EncryptionConfiguration.Parse(File.ReadAllText(ConfigPath), "a").Keys[0].Secret,
            EncryptionConfiguration.Parse(File.ReadAllText(other.Combine("e.json")), "b").Keys[0].Secret);
        Assert.False(await Manager().EnsureAsync(Token), "an existing key file must be kept");
    }

    [Fact]
    public async Task Prepare_adds_a_new_key_second_and_rotate_moves_it_first()
    {
        var manager = Manager();
        await manager.EnsureAsync(Token);
        var original = (await manager.StatusAsync(Token)).ActiveKey;

        var prepared = await manager.PrepareAsync(Token);
        Assert.Equal(SecretsEncryptionStage.Prepare, prepared.Stage);
        Assert.Equal(2, prepared.KeyNames.Count);
        Assert.Equal(original, prepared.KeyNames[0]);
        Assert.True(prepared.HashesMatch);

        var rotated = await manager.RotateAsync(Token);
        Assert.Equal(SecretsEncryptionStage.Rotate, rotated.Stage);
        Assert.Equal([prepared.KeyNames[1], original], rotated.KeyNames);
        Assert.Equal(rotated.KeyNames[0], rotated.ActiveKey);
        Assert.True(rotated.HashesMatch);
    }

    [Fact]
    public async Task Reencrypt_without_an_apiserver_says_so_and_changes_nothing()
    {
        var manager = Manager();
        await manager.EnsureAsync(Token);
        await manager.PrepareAsync(Token);
        await manager.RotateAsync(Token);
        var configBefore = File.ReadAllBytes(ConfigPath);
        var stateBefore = File.ReadAllBytes(StatePath);

        var error = await Assert.ThrowsAsync<SecretsEncryptionException>(() => manager.ReencryptAsync(AbsentApiServer(), Token));
        Assert.Equal(Bulwark.Diagnostics.ErrorKind.Unavailable, error.Kind);
        Assert.Contains("needs a running kube-apiserver, and no kube-apiserver answers at https://127.0.0.1:", error.Message);
        Assert.Contains("Nothing was changed", error.Message);
        Assert.Equal(configBefore, File.ReadAllBytes(ConfigPath));
        Assert.Equal(stateBefore, File.ReadAllBytes(StatePath));

        var rotateKeys = await Assert.ThrowsAsync<SecretsEncryptionException>(async () =>
        {
            using var fresh = new TempDirectory();
            var other = new SecretsEncryptionManager(fresh.Combine("e.json"), new FileSecretsEncryptionStateStore(fresh.Combine("s.json")));
            await other.EnsureAsync(Token);
            await other.RotateKeysAsync(AbsentApiServer(), Token);
        });
        Assert.Equal(Bulwark.Diagnostics.ErrorKind.Unavailable, rotateKeys.Kind);
    }

    [Fact]
    public async Task Steps_out_of_order_are_refused_with_the_next_step_to_run()
    {
        var manager = Manager();
        await manager.EnsureAsync(Token);
        var rotate = await Assert.ThrowsAsync<SecretsEncryptionException>(() => manager.RotateAsync(Token));
        Assert.Contains("current stage is start", rotate.Message);
        Assert.Contains("Next step: bulwark secrets-encrypt prepare", rotate.Message);
        Assert.NotEqual(Bulwark.Diagnostics.ErrorKind.Unavailable, rotate.Kind);
        await manager.PrepareAsync(Token);
        var again = await Assert.ThrowsAsync<SecretsEncryptionException>(() => manager.PrepareAsync(Token));
        Assert.Contains("Next step: bulwark secrets-encrypt rotate", again.Message);
    }

    [Fact]
    public async Task A_key_file_that_differs_from_the_recorded_hash_is_detected_and_blocks_changes()
    {
        var manager = Manager();
        await manager.EnsureAsync(Token);
        // Another server rotated: its key file (and the recorded hash) differ from ours.
        var ours = EncryptionConfiguration.Parse(File.ReadAllText(ConfigPath), "ours");
        var edited = EncryptionConfiguration.ForSecrets([ours.Keys[0] with { Name = "renamed" }]);
        File.WriteAllText(ConfigPath, edited.ToJson());
        var status = await manager.StatusAsync(Token);
        Assert.False(status.HashesMatch);
        var error = await Assert.ThrowsAsync<SecretsEncryptionException>(() => manager.PrepareAsync(Token));
        Assert.Contains("differs from the recorded key hash", error.Message);
    }

    [Fact]
    public async Task A_corrupt_key_file_is_reported_with_its_path()
    {
        Directory.CreateDirectory(_dir.Combine("cred"));
        File.WriteAllText(ConfigPath, """{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"k","secret":"c2hvcnQ="}]}}]}]}""");
        var error = await Assert.ThrowsAsync<ControlPlaneDataException>(() => Manager().EnsureAsync(Token));
        Assert.Contains(ConfigPath, error.Message);
        Assert.Contains("not 32 bytes", error.Message);
    }

    [Fact]
    public async Task The_cli_shows_status_and_runs_the_steps()
    {
        var data = _dir.Combine("data");
        var status = await CliRunner.RunAsync("secrets-encrypt", "status", "--data-dir", data);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("Encryption status: Disabled", status.Out);

        var manager = new SecretsEncryptionManager(Path.Combine(data, "server", "cred", "encryption-config.json"),
            new FileSecretsEncryptionStateStore(Path.Combine(data, "server", "cred", "encryption-state.json")));
        await manager.EnsureAsync(Token);
        var prepare = await CliRunner.RunAsync("secrets-encrypt", "prepare", "--data-dir", data);
        Assert.Equal(0, prepare.ExitCode);
        Assert.Contains("Current rotation stage: prepare", prepare.Out);
        var json = await CliRunner.RunAsync("secrets-encrypt", "status", "--data-dir", data, "--output", "json");
        Assert.Contains("\"stage\": \"Prepare\"", json.Out);
        Assert.DoesNotContain("secret", json.Out, StringComparison.OrdinalIgnoreCase);

        var wrongStep = await CliRunner.RunAsync("secrets-encrypt", "reencrypt", "--data-dir", data);
        Assert.Equal(1, wrongStep.ExitCode);
        Assert.Contains("Next step: bulwark secrets-encrypt rotate", wrongStep.Error);
        Assert.Equal(0, (await CliRunner.RunAsync("secrets-encrypt", "rotate", "--data-dir", data)).ExitCode);
        var reencrypt = await CliRunner.RunAsync("secrets-encrypt", "reencrypt", "--data-dir", data, "--https-listen-port", AbsentApiServerPort());
        Assert.Equal(3, reencrypt.ExitCode);
        Assert.Contains("needs a running kube-apiserver", reencrypt.Error);
    }

    private static string AbsentApiServerPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
