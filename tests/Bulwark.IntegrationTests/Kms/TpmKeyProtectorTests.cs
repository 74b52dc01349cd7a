using System.Diagnostics;
using Bulwark.Crypto;
using Bulwark.Kms;

namespace Bulwark.Tests.Kms;

/// <summary>The KEK sealed to a real software TPM (swtpm) with the real tpm2-tools.</summary>
public sealed class TpmKeyProtectorTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-tpmkeys");
    private readonly SoftwareTpm _tpm = new();
    private static readonly CryptoService Crypto = CryptoService.For(FipsMode.On);

    public void Dispose()
    {
        _tpm.Dispose();
        _dir.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_sealed_to_the_tpm_unseals_on_it_and_only_sealed_blobs_reach_the_disk()
    {
        var protector = new TpmKeyProtector(_dir.Path, _tpm.Tcti, "");
        var key = Crypto.RandomBytes(32);
        await protector.ProtectAsync("kek-a", key, Token);

        Assert.Equal(key, await protector.UnprotectAsync("kek-a", Token));
        foreach (var file in protector.FilesOf("kek-a"))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var bytes = File.ReadAllBytes(file);
            Assert.DoesNotContain(Convert.ToBase64String(key), System.Text.Encoding.ASCII.GetString(bytes));
        }
        Assert.Equal(["kek-a.tpm.priv", "kek-a.tpm.pub"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task Another_tpm_cannot_unseal_what_this_one_sealed()
    {
        await new TpmKeyProtector(_dir.Path, _tpm.Tcti, "").ProtectAsync("kek-a", Crypto.RandomBytes(32), Token);

        using var other = new SoftwareTpm();
        var e = await Assert.ThrowsAsync<KmsKeyringException>(() => new TpmKeyProtector(_dir.Path, other.Tcti, "").UnprotectAsync("kek-a", Token));
        Assert.Contains("sealed by another TPM", e.Message);
    }

    [Fact]
    public async Task A_pcr_bound_key_unseals_until_the_pcr_is_extended()
    {
        var protector = new TpmKeyProtector(_dir.Path, _tpm.Tcti, "sha256:16");
        var key = Crypto.RandomBytes(32);
        await protector.ProtectAsync("kek-p", key, Token);
        Assert.Equal(key, await protector.UnprotectAsync("kek-p", Token));

        await ExtendPcr16Async();

        var e = await Assert.ThrowsAsync<KmsKeyringException>(() => protector.UnprotectAsync("kek-p", Token));
        Assert.Contains("PCRs sha256:16 differ", e.Message);
    }

    [Fact]
    public async Task The_keyring_on_a_tpm_rotates_and_keeps_every_earlier_key_loadable()
    {
        var store = new KmsKeyStore(_dir.Combine("kms"), new KeyProtection(KeyProtection.Auto, _tpm.Tcti, ""), Crypto);
        Assert.True(await store.EnsureAsync(Token));
        var first = store.ReadManifest();
        Assert.Equal(KeyProtection.Tpm, first.Protection);
        var rotated = await store.RotateAsync(Token);

        using var keyring = await store.LoadAsync(Token);
        Assert.Equal(rotated.Current, keyring.Current.Id);
        Assert.NotEqual(first.Current, rotated.Current);
        Assert.NotNull(keyring.Find(first.Current));
        Assert.Contains("sealed to the TPM 2.0 at " + _tpm.Tcti, KmsStatus.Of(store).ProtectionDescription);
    }

    private async Task ExtendPcr16Async()
    {
        using var process = Process.Start(new ProcessStartInfo("tpm2_pcrextend",
            ["-T", _tpm.Tcti, "16:sha256=" + new string('a', 64)]) { RedirectStandardError = true })!;
        await process.WaitForExitAsync(Token);
        Assert.Equal(0, process.ExitCode);
    }
}
