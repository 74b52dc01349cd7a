using Bulwark.Crypto;
using Bulwark.Kms;
using Bulwark.Kms.V2;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Tests.Kms;

/// <summary>
/// The real plugin (Kestrel, gRPC) on a unix socket, called with the client generated from the same kms.proto, as
/// kube-apiserver (not installable here) would call it.
/// </summary>
public sealed class KmsPluginTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-kms");
    private static readonly CryptoService Crypto = CryptoService.For(FipsMode.On);
    private KmsKeyStore _store = null!;
    private KmsPlugin _plugin = null!;
    private KmsClient _client = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = new KmsKeyStore(_dir.Combine("cred", "kms"), new KeyProtection(KeyProtection.File, KeyProtection.DefaultTcti, ""), Crypto);
        await _store.EnsureAsync(Token);
        _plugin = await KmsPlugin.StartAsync(_store, Crypto, _dir.Combine("run", "kms.sock"), Token);
        _client = new KmsClient(_plugin.SocketPath);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _plugin.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<EncryptResponse> EncryptAsync(byte[] plaintext) =>
        await _client.Api.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(plaintext), Uid = Guid.NewGuid().ToString() }, cancellationToken: Token);

    private async Task<byte[]> DecryptAsync(EncryptResponse sealedData, ByteString? ciphertext = null, string? keyId = null, Action<DecryptRequest>? change = null)
    {
        var request = new DecryptRequest { Ciphertext = ciphertext ?? sealedData.Ciphertext, KeyId = keyId ?? sealedData.KeyId, Uid = Guid.NewGuid().ToString() };
        request.Annotations.Add(sealedData.Annotations);
        change?.Invoke(request);
        return (await _client.Api.DecryptAsync(request, cancellationToken: Token)).Plaintext.ToByteArray();
    }

    [Fact]
    public async Task Encrypt_then_decrypt_round_trips_and_the_socket_is_root_only()
    {
        var seed = Crypto.RandomBytes(32);
        var first = await EncryptAsync(seed);
        var second = await EncryptAsync(seed);

        Assert.Equal(seed, await DecryptAsync(first));
        Assert.NotEqual(first.Ciphertext, second.Ciphertext);
        Assert.Equal(first.KeyId, second.KeyId);
        Assert.Matches("^kek-[0-9a-f]{32}$", first.KeyId);
        Assert.True(first.Ciphertext.Length <= 1024, "kube-apiserver refuses plugin ciphertexts over 1 KiB");
        // Annotation keys must be fully-qualified DNS names (KMS v2 API).
        Assert.All(first.Annotations.Keys, key => Assert.Matches(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$", key));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_plugin.SocketPath));
    }

    [Fact]
    public async Task Status_is_healthy_v2_and_names_the_current_key()
    {
        var status = await _client.StatusAsync(Token);
        var encrypted = await EncryptAsync([1, 2, 3]);

        Assert.Equal("v2", status.Version);
        Assert.Equal("ok", status.Healthz);
        Assert.Equal(encrypted.KeyId, status.KeyId);
        Assert.Equal(_store.ReadManifest().Current, status.KeyId);
    }

    [Fact]
    public async Task After_a_rotation_the_key_id_changes_and_earlier_ciphertexts_still_decrypt()
    {
        var before = await EncryptAsync([7, 7, 7]);
        Assert.Equal(before.KeyId, (await EncryptAsync([1])).KeyId);

        await _store.RotateAsync(Token);
        var status = await _client.StatusAsync(Token);
        var after = await EncryptAsync([8, 8, 8]);

        Assert.Equal("ok", status.Healthz);
        Assert.NotEqual(before.KeyId, status.KeyId);
        Assert.Equal(status.KeyId, after.KeyId);
        Assert.Equal(new byte[] { 7, 7, 7 }, await DecryptAsync(before));
        Assert.Equal(new byte[] { 8, 8, 8 }, await DecryptAsync(after));
    }

    [Fact]
    public async Task A_cluster_keyring_rotated_on_another_server_is_sealed_here_and_loaded_by_the_running_plugin_without_a_restart()
    {
        // The other server: same keys (joined through the bootstrap data), then rotated there.
        var other = new KmsKeyStore(_dir.Combine("other", "kms"), new KeyProtection(KeyProtection.File, KeyProtection.DefaultTcti, ""), Crypto);
        var shared = new KmsClusterKeyring(_store, _plugin.Keys, _plugin.SocketPath);
        await other.ImportAsync(shared.Value, Token);
        var before = await EncryptAsync([1, 2, 3]);
        await other.RotateAsync(Token);
        using var otherKeys = await other.LoadAsync(Token);
        var cluster = KmsKeyStore.Merge(shared.Value, KmsKeyStore.Export(otherKeys, other.ReadManifest()));

        var changes = await shared.FollowAsync(cluster, Token);

        Assert.Contains("sealed 1 new key(s) here (file); the plugin now encrypts with " + otherKeys.Current.Id + " and decrypts with 2 retained key(s)", Assert.Single(changes));
        Assert.Equal(otherKeys.Current.Id, _plugin.Keys.Keyring.Current.Id);
        Assert.Equal(otherKeys.Current.Id, (await EncryptAsync([4])).KeyId);
        Assert.Equal(new byte[] { 1, 2, 3 }, await DecryptAsync(before));
        // What this server now serves to joining servers holds both keys; following the same copy again changes nothing.
        Assert.Equal(cluster, KmsKeyStore.Merge(cluster, shared.Value));
        Assert.Empty(await shared.FollowAsync(cluster, Token));
    }

    [Fact]
    public async Task A_ciphertext_under_a_key_already_on_disk_but_not_yet_loaded_decrypts_at_once()
    {
        var other = new KmsKeyStore(_dir.Combine("other", "kms"), new KeyProtection(KeyProtection.File, KeyProtection.DefaultTcti, ""), Crypto);
        await other.EnsureAsync(Token);
        using var otherKeys = await other.LoadAsync(Token);
        var sealedElsewhere = KmsEnvelope.Seal(Crypto, otherKeys.Current, [9, 9]);
        var request = new EncryptResponse { Ciphertext = ByteString.CopyFrom(sealedElsewhere), KeyId = otherKeys.Current.Id };
        request.Annotations.Add(KmsEnvelope.Annotations.ToDictionary(a => a.Key, a => ByteString.CopyFrom(a.Value)));
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => DecryptAsync(request))).StatusCode);

        // The rotation follower sealed it here; kube-apiserver's next Status is up to a minute away, Decrypt does not wait for it.
        await _store.ImportAsync(KmsKeyStore.Export(otherKeys, other.ReadManifest()), Token);

        Assert.Equal(new byte[] { 9, 9 }, await DecryptAsync(request));
    }

    [Fact]
    public async Task Following_a_cluster_copy_older_than_a_rotation_made_here_keeps_the_newer_key_current()
    {
        var published = KmsKeyStore.Export(_plugin.Keys.Keyring, _store.ReadManifest());
        var rotated = await _store.RotateAsync(Token);

        // The rotation follower sees the cluster's copy from before the rotation was published.
        Assert.Equal(0, await _store.ImportAsync(published, Token));

        Assert.Equal(rotated.Current, _store.ReadManifest().Current);
        Assert.Equal(rotated.Current, (await _client.StatusAsync(Token)).KeyId);
    }

    [Fact]
    public async Task The_plugin_process_serves_its_own_unsealed_keyring_and_stops_when_the_server_that_started_it_is_gone()
    {
        var socket = _dir.Combine("run", "child.sock");
        // Started by this test, but told another parent: as if its server had died and it had been re-parented.
        var info = new System.Diagnostics.ProcessStartInfo(Bulwark.Tests.Server.ServerProcess.Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in KmsPluginProcess.Arguments(_store.Folder, socket, KeyProtection.DefaultTcti, FipsMode.On).SkipLast(1).Append("1"))
        {
            info.ArgumentList.Add(arg);
        }
        using var child = System.Diagnostics.Process.Start(info)!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        await child.WaitForExitAsync(deadline.Token);
        var output = await child.StandardOutput.ReadToEndAsync(Token) + await child.StandardError.ReadToEndAsync(Token);

        Assert.True(child.ExitCode == 0, output);
        Assert.Contains($"kms-plugin: serving {socket}, current key {_plugin.Keys.Keyring.Current.Id}, 1 retained", output);
        Assert.Contains("the server that started this plugin is gone; stopping", output);
        Assert.False(Path.Exists(socket), "the socket is removed when the plugin stops");
    }

    [Fact]
    public void Merging_two_keyrings_keeps_every_key_and_makes_the_newest_current_key_current()
    {
        var keys = Enumerable.Range(0, 3).Select(_ => KeyEncryptionKey.Generate(Crypto)).ToList();
        var t0 = DateTimeOffset.Parse("2026-11-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        string Export(int current, params int[] held) => System.Text.Json.JsonSerializer.Serialize(new KmsKeyringExport(keys[current].Id,
            held.Select(i => new KmsExportedKey(keys[i].Id, t0.AddDays(i), Convert.ToBase64String(Crypto.RandomBytes(32)))).ToList()), KmsJsonContext.Default.KmsKeyringExport);

        var merged = System.Text.Json.JsonSerializer.Deserialize(KmsKeyStore.Merge(Export(1, 1, 0), Export(2, 2, 0)), KmsJsonContext.Default.KmsKeyringExport)!;
        var older = System.Text.Json.JsonSerializer.Deserialize(KmsKeyStore.Merge(Export(2, 2, 0), Export(1, 1, 0)), KmsJsonContext.Default.KmsKeyringExport)!;

        Assert.Equal(keys[2].Id, merged.Current);
        Assert.Equal([keys[2].Id, keys[1].Id, keys[0].Id], merged.Keys.Select(k => k.Id));
        Assert.Equal(keys[2].Id, older.Current);
        Assert.Equal(KmsKeyStore.Export(_plugin.Keys.Keyring, _store.ReadManifest()), KmsKeyStore.Merge(null, KmsKeyStore.Export(_plugin.Keys.Keyring, _store.ReadManifest())));
        Assert.Contains("names no current key", Assert.Throws<KmsKeyringException>(() => KmsKeyStore.Merge("{\"current\":\"x\",\"keys\":[]}", Export(1, 1))).Message);
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Tampered_ciphertext_wrong_key_id_and_wrong_annotations_are_refused()
    {
        var sealedData = await EncryptAsync([1, 2, 3, 4]);
        var tampered = sealedData.Ciphertext.ToByteArray();
        tampered[^1] ^= 1;

        await AssertRefusedAsync(() => DecryptAsync(sealedData, ciphertext: ByteString.CopyFrom(tampered)), "altered");
        await AssertRefusedAsync(() => DecryptAsync(sealedData, keyId: "kek-00000000000000000000000000000000"), "unknown key_id");
        await AssertRefusedAsync(() => DecryptAsync(sealedData, change: r => r.Annotations[KmsEnvelope.FormatAnnotation] = ByteString.CopyFromUtf8("aes-256-gcm/v2")), "altered");
        await AssertRefusedAsync(() => DecryptAsync(sealedData, change: r => r.Annotations.Add("extra.example.com", ByteString.CopyFromUtf8("x"))), "altered");
        await AssertRefusedAsync(() => DecryptAsync(sealedData, change: r => r.Annotations.Clear()), "altered");
        await AssertRefusedAsync(() => EncryptAsync([]), "plaintext must be");
    }

    [Fact]
    public async Task A_rotation_whose_key_cannot_be_read_turns_healthz_unhealthy_and_keeps_serving_the_loaded_keys()
    {
        var before = await EncryptAsync([5]);
        var rotated = await _store.RotateAsync(Token);
        File.Delete(_store.Protector(rotated).FilesOf(rotated.Current)[0]);

        var status = await _client.StatusAsync(Token);

        Assert.StartsWith("keyring reload failed: ", status.Healthz);
        Assert.Contains(rotated.Current, status.Healthz);
        Assert.Equal(before.KeyId, status.KeyId);
        Assert.Equal(new byte[] { 5 }, await DecryptAsync(before));
    }

    private static async Task AssertRefusedAsync(Func<Task> call, string reason)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(reason, e.Status.Detail);
    }
}
