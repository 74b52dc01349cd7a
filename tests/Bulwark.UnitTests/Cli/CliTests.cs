using System.Text.Json;
using Bulwark.Cli;
using Bulwark.Tests.Hardening;

namespace Bulwark.Tests.Cli;

public sealed class CliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Unknown_profile_is_a_usage_error_naming_the_valid_values()
    {
        var result = await CliRunner.RunAsync("hardening", "check", "--profile", "cis-9");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("expected one of: cis, cis-1.23, etcd; got \"cis-9\"", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("profle: cis\n", "config.yaml:1: profle: unknown key; did you mean 'profile'?")]
    [InlineData("etcd-snapshot-retention: five\n", "config.yaml:1: etcd-snapshot-retention: expected a positive integer, got \"five\"")]
    [InlineData("token: [x\n", "config.yaml:")]
    public async Task Bad_config_file_exits_2_with_a_located_error_and_writes_nothing(string yaml, string expected)
    {
        var config = _dir.Write("etc/config.yaml", yaml + $"data-dir: {_dir.Combine("data")}\n");
        var result = await CliRunner.RunAsync("config", "print", "--config", config);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Combine("data")));
    }

    [Fact]
    public async Task Config_print_shows_each_value_with_its_source_and_hides_the_token()
    {
        var config = _dir.Write("etc/config.yaml", "token: s3cret-value\nnode-name: node-a\n");
        var env = new Dictionary<string, string> { ["BULWARK_ETCD_SNAPSHOT_RETENTION"] = "7" };
        var result = await CliRunner.RunAsync(env, "config", "print", "--config", config, "--cluster-domain", "corp.local");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Matches(@"node-name: node-a\s+# .*config\.yaml:2", result.Out);
        Assert.Matches(@"etcd-snapshot-retention: 7\s+# env BULWARK_ETCD_SNAPSHOT_RETENTION", result.Out);
        Assert.Matches(@"cluster-domain: corp\.local\s+# flag --cluster-domain", result.Out);
        Assert.Matches(@"data-dir: /var/lib/bulwark\s+# default", result.Out);
        Assert.DoesNotContain("s3cret-value", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hardening_check_against_a_hardened_host_root_exits_0()
    {
        HostPreflightTests.PrepareHost(_dir, HostPreflightTests.Hardened, etcdUser: true, etcdGroup: true);
        var result = await CliRunner.RunAsync("hardening", "check", "--profile", "cis-1.23", "--host-root", _dir.Path);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("All 12 checks passed.", result.Out, StringComparison.Ordinal); // 4 kernel parameters, 2 etcd account, 6 CNI prerequisites
    }

    [Fact]
    public async Task Hardening_check_json_lists_every_violation()
    {
        HostPreflightTests.PrepareHost(_dir, HostPreflightTests.DebianDefaults, etcdUser: false, etcdGroup: true);
        var result = await CliRunner.RunAsync("hardening", "check", "--profile", "cis", "--host-root", _dir.Path, "--output", "json");
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var failed = json.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => !f.GetProperty("passed").GetBoolean())
            .Select(f => f.GetProperty("subject").GetString())
            .ToList();
        Assert.Equal(["vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops", "etcd user"], failed);
    }

    [Fact]
    public async Task Version_prints_version_commit_runtime_and_platform()
    {
        var result = await CliRunner.RunAsync("version");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Matches(@"bulwark \d+\.\d+\.\d+", result.Out);
        Assert.Contains("runtime:  .NET 10", result.Out, StringComparison.Ordinal);
        Assert.Contains("commit:", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_flag_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync("hardening", "check", "--no-such-flag");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--no-such-flag", result.Error, StringComparison.Ordinal);
    }
}
