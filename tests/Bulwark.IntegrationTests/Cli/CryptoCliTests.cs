using System.Text.Json;
using Bulwark.Pki;

namespace Bulwark.Tests.Cli;

/// <summary>`bulwark fips …` and `bulwark certificate …` run in-process against real files and the real OpenSSL.</summary>
public sealed class CryptoCliTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-crypto-cli");

    public CryptoCliTests() => _dir.Write("etc/config.yaml", "debug: false\n");

    public void Dispose() => _dir.Dispose();

    private string Config => _dir.Combine("etc", "config.yaml");
    private string DataDir => _dir.Combine("data");

    [Fact]
    public async Task Fips_status_is_honest_that_this_debian_host_has_no_active_fips_provider()
    {
        var result = await CliRunner.RunAsync("fips", "status", "--config", Config, "--output", "json");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("on", root.GetProperty("mode").GetString());
        Assert.StartsWith("OpenSSL 3.", root.GetProperty("openSslVersion").GetString(), StringComparison.Ordinal);
        Assert.False(root.GetProperty("fipsProviderActive").GetBoolean());
        Assert.Equal("VersionTLS12", root.GetProperty("tlsMinVersion").GetString());
        Assert.Equal(4, root.GetProperty("tlsCipherSuites").GetArrayLength());

        // Cross-check with the openssl command: no FIPS provider is loaded, and the version matches.
        var providers = await Pki.OpenSsl.CheckedAsync("list", "-providers");
        Assert.DoesNotContain("fips", providers, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(root.GetProperty("fipsProviderAvailable").GetBoolean(), providers.Contains("fips", StringComparison.OrdinalIgnoreCase));
        var version = (await Pki.OpenSsl.CheckedAsync("version")).Split(' ')[1];
        Assert.Contains(version, root.GetProperty("openSslVersion").GetString(), StringComparison.Ordinal);

        var text = await CliRunner.RunAsync("fips", "status", "--config", Config);
        Assert.Contains("FIPS provider active:   no", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fips_status_in_strict_mode_exits_1_because_the_provider_is_not_active()
    {
        var result = await CliRunner.RunAsync("fips", "status", "--config", Config, "--fips-mode", "strict");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("fips-mode:              strict", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fips_self_test_prints_each_test_and_passes()
    {
        var result = await CliRunner.RunAsync("fips", "self-test", "--config", Config);
        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Count(l => l.TrimStart().StartsWith("PASS", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("RSA-3072 PKCS#1 v1.5 SHA-256 signature (fixed test key)", StringComparison.Ordinal) && l.EndsWith(" ms", StringComparison.Ordinal));
        Assert.Equal("All 10 self-tests passed.", lines[^1]);

        var json = await CliRunner.RunAsync("fips", "self-test", "--config", Config, "--output", "json");
        using var doc = JsonDocument.Parse(json.Out);
        Assert.True(doc.RootElement.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task Certificate_check_lists_every_certificate_and_exits_0_when_none_expired()
    {
        TestPki.Create(DataDir);
        var table = await CliRunner.RunAsync("certificate", "check", "--config", Config, "--data-dir", DataDir);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("etcd/server-client.crt", table.Out, StringComparison.Ordinal);
        Assert.Contains("SANs: DNS:kubernetes", table.Out, StringComparison.Ordinal);
        Assert.Contains("All 16 certificates are valid for more than 120 days.", table.Out, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync("certificate", "check", "--config", Config, "--data-dir", DataDir, "--output", "json");
        using var doc = JsonDocument.Parse(json.Out);
        var certs = doc.RootElement.GetProperty("certificates");
        Assert.Equal(16, certs.GetArrayLength());
        Assert.All(certs.EnumerateArray(), c => Assert.Equal("ok", c.GetProperty("health").GetString()));
        Assert.All(certs.EnumerateArray(), c => Assert.InRange(c.GetProperty("daysLeft").GetInt32(), 364, 3650));
    }

    [Fact]
    public async Task Certificate_check_exits_1_when_a_certificate_has_expired()
    {
        TestPki.Create(DataDir, clock: FixedClock.DaysFromNow(-400));
        var result = await CliRunner.RunAsync("certificate", "check", "--config", Config, "--data-dir", DataDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("expired", result.Out, StringComparison.Ordinal);
        Assert.Contains("11 expired, 0 to renew soon, of 16", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificate_check_without_a_pki_says_where_it_looked()
    {
        var result = await CliRunner.RunAsync("certificate", "check", "--config", Config, "--data-dir", DataDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{DataDir}/server/tls: no such folder", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificate_rotate_reissues_the_named_service_and_backs_up_the_old_files()
    {
        TestPki.Create(DataDir);
        var paths = new ServerPkiPaths(DataDir);
        var oldAdmin = File.ReadAllText(paths.ClientAdmin.Certificate);
        var oldCa = File.ReadAllText(paths.ClientCa.Certificate);

        var result = await CliRunner.RunAsync("certificate", "rotate", "--config", Config, "--data-dir", DataDir, "--service", "admin",
            "--node-name", "node-1", "--node-ip", "192.0.2.15", "--tls-san", "cluster.example.com", "--tls-san", "198.51.100.7");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("renewed  server/tls/client-admin.crt  (rotation requested)", result.Out, StringComparison.Ordinal);
        Assert.Contains("1 certificate(s) re-issued; CAs kept.", result.Out, StringComparison.Ordinal);
        var backup = Assert.Single(Directory.GetDirectories(paths.ServerDirectory, "tls-*"));
        Assert.Equal(oldAdmin, File.ReadAllText(Path.Combine(backup, "client-admin.crt")));
        Assert.NotEqual(oldAdmin, File.ReadAllText(paths.ClientAdmin.Certificate));
        Assert.Equal(oldCa, File.ReadAllText(paths.ClientCa.Certificate));
        Assert.Equal($"{paths.ClientAdmin.Certificate}: OK",
            (await Pki.OpenSsl.CheckedAsync("verify", "-CAfile", paths.ClientCa.Certificate, paths.ClientAdmin.Certificate)).Trim());
    }

    [Fact]
    public async Task Certificate_rotate_with_an_unknown_service_is_a_usage_error_and_changes_nothing()
    {
        TestPki.Create(DataDir);
        var result = await CliRunner.RunAsync("certificate", "rotate", "--config", Config, "--data-dir", DataDir, "--service", "kubelet");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown service 'kubelet'", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(new ServerPkiPaths(DataDir).ServerDirectory, "tls-*"));
    }
}
