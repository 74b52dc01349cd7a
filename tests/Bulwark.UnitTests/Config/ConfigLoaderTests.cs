using Bulwark.Config;

namespace Bulwark.Tests.Config;

public sealed class ConfigLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ConfigLoadResult Load(string? yaml, IReadOnlyDictionary<string, string>? env = null, IReadOnlyList<RawSetting>? flags = null,
        ConfigRole role = ConfigRole.Server)
    {
        var file = yaml is null ? _dir.Combine("absent.yaml") : _dir.Write("config.yaml", yaml);
        var request = new ConfigRequest(role, yaml is null ? null : file, env ?? new Dictionary<string, string>(), flags ?? []);
        return ConfigLoader.Load(request);
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_set()
    {
        var config = Load("").Config!;
        Assert.Equal("/var/lib/bulwark", config.Get(ConfigKeys.DataDir));
        Assert.Equal(5, config.Get(ConfigKeys.EtcdSnapshotRetention));
        Assert.Equal(ConfigSource.Default, config.SourceOf(ConfigKeys.DataDir));
    }

    [Fact]
    public void Rke2_config_keys_are_read_with_their_file_and_line()
    {
        var result = Load("""
            # an RKE2 config, unchanged
            token: my-shared-secret
            tls-san:
              - cluster.example.com
              - 10.0.0.10
            profile: cis-1.23
            etcd-snapshot-retention: 10
            kube-apiserver-arg:
              - "audit-log-maxage=45"
            disable-etcd: false
            """);
        var config = result.Config!;
        Assert.Equal(["cluster.example.com", "10.0.0.10"], config.Get(ConfigKeys.TlsSan));
        Assert.Equal(10, config.Get(ConfigKeys.EtcdSnapshotRetention));
        Assert.EndsWith("config.yaml:7", config.SourceOf(ConfigKeys.EtcdSnapshotRetention).Where);
        Assert.Equal(HardeningProfile.Cis, config.Profile);
        Assert.True(config.Get(ConfigKeys.ProtectKernelDefaults));
        Assert.Equal(ConfigSourceKind.Profile, config.SourceOf(ConfigKeys.ProtectKernelDefaults).Kind);
    }

    [Fact]
    public void Precedence_is_file_then_dropins_then_environment_then_flags()
    {
        _dir.Write("config.yaml.d/10-a.yaml", "node-name: from-dropin-a\nnode-label: [a=1]\n");
        _dir.Write("config.yaml.d/20-b.yaml", "node-label+: [b=2]\n");
        var env = new Dictionary<string, string> { ["BULWARK_NODE_NAME"] = "from-env", ["BULWARK_TLS_SAN"] = "x.example,y.example" };
        var flags = new[] { new RawSetting("node-name", false, ["from-flag"], false, ConfigSource.Flag("--node-name")) };

        var fromFile = Load("node-name: from-file\n").Config!;
        Assert.Equal("from-dropin-a", fromFile.Get(ConfigKeys.NodeName));
        Assert.Equal(["a=1", "b=2"], fromFile.Get(ConfigKeys.NodeLabel));

        var fromEnv = Load("node-name: from-file\n", env).Config!;
        Assert.Equal("from-env", fromEnv.Get(ConfigKeys.NodeName));
        Assert.Equal(["x.example", "y.example"], fromEnv.Get(ConfigKeys.TlsSan));

        var fromFlag = Load("node-name: from-file\n", env, flags).Config!;
        Assert.Equal("from-flag", fromFlag.Get(ConfigKeys.NodeName));
        Assert.Equal("flag --node-name", fromFlag.SourceOf(ConfigKeys.NodeName).Where);
    }

    [Fact]
    public void Every_problem_is_reported_together_with_file_and_line()
    {
        var result = Load("""
            data-dir: /srv/bulwark
            etcd-snapshot-retention: five
            profle: cis
            supervisor-port: 70000
            """);
        Assert.Null(result.Config);
        var errors = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.EndsWith("config.yaml:2: etcd-snapshot-retention: expected a positive integer, got \"five\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("config.yaml:3: profle: unknown key; did you mean 'profile'?", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("config.yaml:4: supervisor-port: expected an integer from 1 to 65535", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_environment_variable_suggests_the_right_name()
    {
        var result = Load(null, new Dictionary<string, string> { ["BULWARK_PROFLE"] = "cis" });
        var error = Assert.Single(result.Errors);
        Assert.Equal("env BULWARK_PROFLE: unknown variable (no key 'profle'); did you mean 'BULWARK_PROFILE'?", error.ToString());
    }

    [Fact]
    public void Cis_profile_with_protect_kernel_defaults_false_is_an_error()
    {
        var error = Assert.Single(Load("profile: cis\nprotect-kernel-defaults: false\n").Errors);
        Assert.Contains("protect-kernel-defaults: cannot be false with profile cis", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_profile_names_the_valid_values()
    {
        var error = Assert.Single(Load("profile: cis-9\n").Errors);
        Assert.Contains("expected one of: cis, cis-1.23, etcd", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Append_to_a_scalar_key_is_an_error()
    {
        var error = Assert.Single(Load("data-dir+: /x\n").Errors);
        Assert.Contains("only list keys can be appended", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Server_key_in_agent_config_is_a_warning_not_an_error()
    {
        var result = Load("etcd-snapshot-retention: 3\n", role: ConfigRole.Agent);
        Assert.NotNull(result.Config);
        Assert.Contains(result.Warnings, w => w.Message.Contains("servers only", StringComparison.Ordinal));
    }

    [Fact]
    public void Explicit_config_file_that_does_not_exist_is_an_error()
    {
        var request = new ConfigRequest(ConfigRole.Server, _dir.Combine("nope.yaml"), new Dictionary<string, string>(), []);
        Assert.Contains("config file not found", Assert.Single(ConfigLoader.Load(request).Errors).Message, StringComparison.Ordinal);
    }
}
