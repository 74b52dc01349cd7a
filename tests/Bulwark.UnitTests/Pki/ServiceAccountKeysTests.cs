using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

/// <summary>Service-account key rotation on disk: retired public keys, retention and pruning (the cluster path runs in RotationClusterTests).</summary>
public sealed class ServiceAccountKeysTests : IDisposable
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(720);
    private readonly TempDirectory _dir = new("bulwark-sa-keys");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_rotation_retires_the_old_public_key_and_keys_past_the_retention_are_dropped_from_the_set_and_pruned()
    {
        TestPki.Create(_dir.Path);
        var start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var before = File.ReadAllText(Path.Combine(_dir.Path, ServiceAccountKeys.CurrentKey));

        var first = ServiceAccountKeys.PlanRotation(TestPki.Crypto, _dir.Path, KeyAlgorithm.EcdsaP256, start, Retention);
        Assert.Empty(first.Pruned);
        ServiceAccountKeys.Apply(_dir.Path, first.Files, start, Retention);
        var retired = Assert.Single(ServiceAccountKeys.Retired(_dir.Path));
        Assert.Equal("server/tls/service-account/retired-1800000000.pub", retired.RelativePath);
        using (var old = TestPki.Crypto.ImportPrivateKeyPem(before, "old"))
        {
            Assert.Equal(old.ExportSubjectPublicKeyInfoPem() + "\n", File.ReadAllText(Path.Combine(_dir.Path, retired.RelativePath)));
        }
        Assert.NotEqual(before, File.ReadAllText(Path.Combine(_dir.Path, ServiceAccountKeys.CurrentKey)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.Path, retired.RelativePath)));

        // Within the retention the key is listed; one second after it, it is neither listed, carried in a new set, nor kept.
        Assert.Single(ServiceAccountKeys.Retained(_dir.Path, start + Retention - TimeSpan.FromSeconds(1), Retention));
        Assert.Empty(ServiceAccountKeys.Retained(_dir.Path, start + Retention, Retention));
        var later = start + Retention + TimeSpan.FromSeconds(1);
        var second = ServiceAccountKeys.PlanRotation(TestPki.Crypto, _dir.Path, KeyAlgorithm.EcdsaP256, later, Retention);
        Assert.Equal([retired.RelativePath], second.Pruned);
        ServiceAccountKeys.Apply(_dir.Path, second.Files, later, Retention);
        Assert.Equal(["server/tls/service-account/retired-1802592001.pub"], ServiceAccountKeys.Retired(_dir.Path).Select(r => r.RelativePath));
        Assert.Empty(ServiceAccountKeys.Prune(_dir.Path, later, Retention));
        Assert.Single(ServiceAccountKeys.Prune(_dir.Path, later + Retention, Retention));
    }

    [Fact]
    public void Only_key_files_are_applied_and_a_set_without_the_current_key_changes_nothing()
    {
        TestPki.Create(_dir.Path);
        var e = Assert.Throws<PkiException>(() => ServiceAccountKeys.Apply(_dir.Path, new Dictionary<string, string> { ["server/tls/service.key"] = "x" }, DateTimeOffset.UtcNow, Retention));
        Assert.Contains("lacks", e.Message);
        Assert.False(ServiceAccountKeys.IsKeyFile("server/tls/service-account/retired-../../x.pub"));
        Assert.False(ServiceAccountKeys.IsKeyFile("server/tls/server-ca.key"));
        Assert.True(ServiceAccountKeys.IsKeyFile("server/tls/service-account/retired-1.pub"));
    }
}
