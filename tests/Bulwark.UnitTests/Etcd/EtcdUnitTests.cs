using System.Security.Cryptography;
using Bulwark.Config;
using Bulwark.Etcd;
using FsCheck;
using FsCheck.Fluent;
using Grpc.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Etcd;

public sealed class EtcdErrorMappingTests
{
    [Fact]
    public void Etcd_statuses_keep_their_code_and_message()
    {
        var e = EtcdClient.Map(new RpcException(new Status(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader")), new Uri("https://127.0.0.1:1"));
        Assert.Equal(GrpcCodes.FailedPrecondition, e.Code);
        Assert.True(e.IsLearnerNotReady);
        Assert.False(e.Unreachable);
        Assert.Contains("FAILED_PRECONDITION", e.Message, StringComparison.Ordinal);
        Assert.True(EtcdClient.Map(new RpcException(new Status(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted")), new Uri("https://x:1")).IsCompacted);
    }

    [Fact]
    public void An_etcd_unavailable_answer_is_not_a_connection_failure_but_a_refused_connection_is()
    {
        var learner = EtcdClient.Map(new RpcException(new Status(StatusCode.Unavailable, "etcdserver: rpc not supported for learner")), new Uri("https://x:1"));
        Assert.False(learner.Unreachable);
        var refused = EtcdClient.Map(new RpcException(new Status(StatusCode.Unavailable, "Error connecting to subchannel.",
            new HttpRequestException("Connection refused", new System.Net.Sockets.SocketException(111)))), new Uri("https://x:1"));
        Assert.True(refused.Unreachable);
        Assert.Equal(GrpcCodes.Unavailable, refused.Code);
    }
}

public sealed class SnapshotIntegrityTests
{
    private static byte[] Snapshot(byte[] db) => [.. db, .. SHA256.HashData(db)];

    [Fact]
    public void A_whole_snapshot_passes_however_it_is_chunked() =>
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(from p in Gen.Choose(1, 8) from c in Gen.Choose(1, 5000) select (p, c)), t =>
        {
            var (pages, chunk) = t;
            var data = Snapshot(RandomNumberGenerator.GetBytes(pages * 512));
            using var integrity = new SnapshotIntegrity();
            for (var i = 0; i < data.Length; i += chunk)
            {
                integrity.Append(data.AsSpan(i, Math.Min(chunk, data.Length - i)));
            }
            return integrity.Problem() is null;
        }));

    [Fact]
    public void Any_flipped_byte_is_detected() =>
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(Gen.Choose(0, 2 * 512 + 31)), position =>
        {
            var data = Snapshot(RandomNumberGenerator.GetBytes(2 * 512));
            data[position] ^= 0x40;
            using var integrity = new SnapshotIntegrity();
            integrity.Append(data);
            return integrity.Problem()?.Contains("corrupted", StringComparison.Ordinal) == true;
        }));

    [Fact]
    public void A_truncated_snapshot_is_detected_by_its_length()
    {
        var data = Snapshot(RandomNumberGenerator.GetBytes(4 * 512));
        using var integrity = new SnapshotIntegrity();
        integrity.Append(data.AsSpan(0, data.Length - 100));
        Assert.Contains("truncated", integrity.Problem(), StringComparison.Ordinal);
    }
}

public sealed class TokenFingerprintTests
{
    [Fact]
    public void Full_and_short_token_forms_match_one_salted_fingerprint_and_the_secret_is_not_in_it()
    {
        var full = TokenFingerprint.Of("K10deadbeef::server:s3cret-value");
        Assert.True(TokenFingerprint.Matches(full, "s3cret-value"));
        Assert.False(TokenFingerprint.Matches(full, "other"));
        Assert.NotEqual(full, TokenFingerprint.Of("s3cret-value")); // a fresh salt each time
        Assert.DoesNotContain("s3cret", full, StringComparison.Ordinal);
        Assert.Matches("^hmac-sha256:[0-9a-f]{32}:[0-9a-f]{64}$", full);
        Assert.Equal("", TokenFingerprint.Of(""));
        Assert.False(TokenFingerprint.Matches("", "s3cret-value"));
        Assert.False(TokenFingerprint.Matches("hmac-sha256:zz:zz", "s3cret-value"));
    }
}

public sealed class EtcdMemberConfigTests
{
    private static EtcdMemberConfig Config(params string[] extra) =>
        new EtcdNode(new EtcdPaths("/var/lib/bulwark"), "node-a", "10.0.0.5", 2379, 2380, 2381) { ExtraArgs = extra }
            .MemberConfig("node-a-12345678", "node-a-12345678=https://10.0.0.5:2380");

    private static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlMappingNode node, params string[] path)
    {
        foreach (var key in path[..^1])
        {
            node = (YamlMappingNode)node[key];
        }
        return ((YamlScalarNode)node[path[^1]]).Value!;
    }

    [Fact]
    public void Hardened_settings_are_in_the_etcd_config_file()
    {
        var yaml = Parse(Config().Render());

        Assert.Equal("https://127.0.0.1:2379,https://10.0.0.5:2379", Scalar(yaml, "listen-client-urls"));
        Assert.Equal("https://10.0.0.5:2380", Scalar(yaml, "listen-peer-urls"));
        Assert.Equal("http://127.0.0.1:2381", Scalar(yaml, "listen-metrics-urls"));
        Assert.Equal("/var/lib/bulwark/server/db/etcd", Scalar(yaml, "data-dir"));
        Assert.Equal("true", Scalar(yaml, "client-transport-security", "client-cert-auth"));
        Assert.Equal("false", Scalar(yaml, "client-transport-security", "auto-tls"));
        Assert.Equal("true", Scalar(yaml, "peer-transport-security", "client-cert-auth"));
        Assert.Equal("false", Scalar(yaml, "peer-transport-security", "auto-tls"));
        Assert.Equal("/var/lib/bulwark/server/tls/etcd/server-client.crt", Scalar(yaml, "client-transport-security", "cert-file"));
        Assert.Equal("/var/lib/bulwark/server/tls/etcd/peer-ca.crt", Scalar(yaml, "peer-transport-security", "trusted-ca-file"));
        Assert.Equal(EtcdCipherSuites.Tls12, ((YamlSequenceNode)yaml["cipher-suites"]).Select(n => ((YamlScalarNode)n).Value!));
        Assert.All(EtcdCipherSuites.Tls12, s => Assert.Matches("^TLS_ECDHE_(ECDSA|RSA)_WITH_AES_(128_GCM_SHA256|256_GCM_SHA384)$", s));
        Assert.Equal("500", Scalar(yaml, "heartbeat-interval"));
        Assert.Equal("5000", Scalar(yaml, "election-timeout"));
        Assert.Equal("false", Scalar(yaml, "enable-grpc-gateway"));
        Assert.Equal("false", Scalar(yaml, "force-new-cluster"));
    }

    [Fact]
    public void Etcd_args_are_added_or_override_and_keep_their_types()
    {
        var yaml = Parse(Config("quota-backend-bytes=8589934592", "--heartbeat-interval=250", "experimental-initial-corrupt-check=true").Render());

        Assert.Equal("8589934592", Scalar(yaml, "quota-backend-bytes"));
        Assert.Equal("250", Scalar(yaml, "heartbeat-interval"));
        Assert.Equal("true", Scalar(yaml, "experimental-initial-corrupt-check"));
        Assert.Single(yaml.Children.Keys, k => ((YamlScalarNode)k).Value == "heartbeat-interval");
    }

    [Fact]
    public void An_etcd_arg_cannot_weaken_a_hardened_setting()
    {
        var yaml = Parse(Config("client-transport-security=off", "peer-transport-security=off").Render());

        Assert.Equal("true", Scalar(yaml, "client-transport-security", "client-cert-auth"));
        Assert.Equal("false", Scalar(yaml, "client-transport-security", "auto-tls"));
        Assert.Equal("true", Scalar(yaml, "peer-transport-security", "client-cert-auth"));
    }

    [Fact]
    public void The_flags_etcd_is_launched_with_are_what_its_config_file_records()
    {
        var config = Config("quota-backend-bytes=8589934592", "--heartbeat-interval=250");
        var yaml = Parse(config.Render());
        var args = config.ToArgs();

        Assert.Equal(args.Count, args.Select(a => a[..a.IndexOf('=', StringComparison.Ordinal)]).Distinct().Count());
        foreach (var arg in args)
        {
            var (flag, value) = (arg[2..arg.IndexOf('=', StringComparison.Ordinal)], arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            // etcd's flags for the transport-security blocks are flat (peer- prefixed for the peer block).
            string[] path = flag switch
            {
                "cert-file" or "key-file" or "trusted-ca-file" or "client-cert-auth" or "auto-tls" => ["client-transport-security", flag],
                _ when flag.StartsWith("peer-", StringComparison.Ordinal) => ["peer-transport-security", flag["peer-".Length..]],
                _ => [flag],
            };
            var recorded = path.Length == 1 && yaml[path[0]] is YamlSequenceNode list
                ? string.Join(",", list.Select(n => ((YamlScalarNode)n).Value))
                : Scalar(yaml, path);
            Assert.True(recorded == value, $"--{flag}={value} but the config file records {recorded}");
        }
        Assert.Equal(yaml.Children.Count - 2 + 10, args.Count);
    }

    [Fact]
    public void An_etcd_arg_cannot_weaken_a_hardened_flag()
    {
        var args = Config("client-cert-auth=false", "peer-auto-tls=true", "auto-tls=true").ToArgs();

        Assert.Contains("--client-cert-auth=true", args);
        Assert.Contains("--peer-auto-tls=false", args);
        Assert.Contains("--auto-tls=false", args);
        Assert.DoesNotContain("--client-cert-auth=false", args);
    }

    [Fact]
    public void Every_hardened_etcd_setting_names_its_control()
    {
        var settings = EtcdHardening.Load(Resources.EmbeddedData.BuiltIn);

        Assert.Contains(settings, s => s.Key == "client-transport-security.client-cert-auth" && s.Value == "true" && s.Controls.Contains("CIS-2.2"));
        Assert.Contains(settings, s => s.Key == "peer-transport-security.auto-tls" && s.Value == "false" && s.Controls.Contains("CIS-2.6"));
        Assert.Equal(4, settings.Count);
        Assert.All(settings, s => Assert.NotEmpty(s.Controls));
    }

    [Fact]
    public void A_loopback_node_ip_is_listened_on_once()
    {
        var config = new EtcdNode(new EtcdPaths("/d"), "n", "127.0.0.1", 1, 2, 3).MemberConfig("n-1", "n-1=https://127.0.0.1:2");
        Assert.Equal(["https://127.0.0.1:1"], config.ListenClientUrls);
    }

    [Fact]
    public void Roles_and_paths_come_from_the_config()
    {
        var result = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, null, new Dictionary<string, string>(),
        [
            new RawSetting("node-name", false, ["cp-1"], false, ConfigSource.Flag("--node-name")),
            new RawSetting("etcd-client-port", false, ["12379"], false, ConfigSource.Flag("--etcd-client-port")),
            new RawSetting("profile", false, ["cis-1.23"], false, ConfigSource.Flag("--profile")),
            new RawSetting("data-dir", false, ["/srv/b"], false, ConfigSource.Flag("--data-dir")),
        ]));
        var node = EtcdNode.FromConfig(result.Config!);

        Assert.Equal("cp-1", node.NodeName);
        Assert.Equal(new Uri("https://127.0.0.1:12379"), node.LocalClientUrl);
        Assert.Equal(new Processes.RunAsUser("etcd", "etcd"), node.RunAs);
        Assert.Equal("/srv/b/server/db/etcd-config.yaml", node.Paths.ConfigFile);
        Assert.Equal("/srv/b/server/db/snapshots", SnapshotSettings.FromConfig(result.Config!, node, new Dictionary<string, string>()).Directory);
    }

    [Fact]
    public void A_bad_snapshot_cron_is_a_config_error_unless_snapshots_are_disabled()
    {
        static ConfigLoadResult Load(params (string, string)[] settings) => ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, null, new Dictionary<string, string>(),
            settings.Select(s => new RawSetting(s.Item1, false, [s.Item2], false, ConfigSource.Flag("--" + s.Item1))).ToList()) { Checks = [SnapshotConfigChecks.Cron] });

        var bad = Load(("etcd-snapshot-schedule-cron", "61 * * * *"));
        Assert.Null(bad.Config);
        Assert.Contains(bad.Errors, e => e.Key == "etcd-snapshot-schedule-cron" && e.Message.Contains("'61' is not a minute", StringComparison.Ordinal));
        Assert.NotNull(Load(("etcd-snapshot-schedule-cron", "61 * * * *"), ("etcd-disable-snapshots", "true")).Config);
        Assert.NotNull(Load(("etcd-snapshot-schedule-cron", "0 3 * * sun")).Config);
    }
}
