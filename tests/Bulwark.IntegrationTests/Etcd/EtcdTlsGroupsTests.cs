using Bulwark.Processes;

namespace Bulwark.Tests.Etcd;

/// <summary>
/// SECURITY.md's statement about etcd's key exchange, checked with a scanner against a real etcd 3.4 member started
/// from Bulwark's config: etcd 3.4 has no curve setting (only --cipher-suites), so Go's default groups stay on its
/// client port. When an etcd with a curve setting is adopted, this test fails and SECURITY.md must change with it.
/// </summary>
public sealed class EtcdTlsGroupsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Etcd_3_4_negotiates_whatever_group_a_client_offers_as_SECURITY_md_documents_since_it_has_no_curve_setting()
    {
        await using var etcd = await EtcdTestNode.CreateAsync("groups");
        await etcd.StartAsync();
        var tls = etcd.Node.Paths.ClientTls;
        foreach (var (group, shown) in new[] { ("X25519", "X25519"), ("P-256", "prime256v1"), ("P-384", "secp384r1") })
        {
            var result = await ProcessRunner.RunAsync(new ProcessSpec("openssl",
            [
                "s_client", "-connect", $"127.0.0.1:{etcd.Node.ClientPort}", "-tls1_3", "-groups", group, "-brief",
                "-cert", tls.CertFile, "-key", tls.KeyFile, "-CAfile", tls.CaFile,
            ])
            {
                StandardInput = Array.Empty<byte>(),
                Timeout = TimeSpan.FromSeconds(20),
            }, Ct);
            Assert.True(result.ExitCode == 0, $"-groups {group}: {result.StandardError}");
            // OpenSSL 3.0 prints "Server Temp Key: X25519, 253 bits" / "Server Temp Key: ECDH, prime256v1, 256 bits"; later ones "Negotiated TLS1.3 group: X25519".
            Assert.Matches($"(Temp Key: (ECDH, )?{shown},|TLS1.3 group: {shown})", result.StandardError);
        }
    }
}
