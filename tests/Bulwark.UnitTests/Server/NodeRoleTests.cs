using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Server;
using Bulwark.Server.Stages;
using Etcdserverpb;

namespace Bulwark.Tests.Server;

/// <summary>Control-plane-only servers (disable-etcd): the config rules, the stage list, and the etcd endpoints they use.</summary>
public sealed class NodeRoleTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-roles");

    public void Dispose() => _dir.Dispose();

    private ConfigLoadResult Load(params (string Key, string Value)[] settings) => ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, null, new Dictionary<string, string>(),
        [.. settings.Append((Key: "data-dir", Value: _dir.Combine("data"))).Select(s => new RawSetting(s.Key, false, [s.Value], false, ConfigSource.Flag("--" + s.Key)))])
    {
        Checks = [ServerConfigChecks.Roles],
    });

    private EffectiveConfig ControlPlaneOnly() =>
        Load(("disable-etcd", "true"), ("server", "https://10.0.0.1:9345"), ("token", "secret")).Config ?? throw new InvalidOperationException("config refused");

    [Fact]
    public void Disable_etcd_needs_a_server_to_join_and_is_refused_with_disable_apiserver_or_cluster_reset()
    {
        var alone = Load(("disable-etcd", "true"));
        Assert.Null(alone.Config);
        Assert.Contains(alone.Errors, e => e.Key == "disable-etcd" && e.Message.Contains("set server: https://<etcd server>:9345", StringComparison.Ordinal));

        var neither = Load(("disable-etcd", "true"), ("disable-apiserver", "true"), ("server", "https://10.0.0.1:9345"), ("token", "t"));
        Assert.Contains(neither.Errors, e => e.Key == "disable-etcd" && e.Message.Contains("neither etcd nor kube-apiserver", StringComparison.Ordinal));

        var reset = Load(("disable-etcd", "true"), ("cluster-reset", "true"), ("server", "https://10.0.0.1:9345"), ("token", "t"));
        var error = Assert.Single(reset.Errors);
        Assert.Equal("cluster-reset", error.Key);
        Assert.Contains("has no etcd to reset", error.Message, StringComparison.Ordinal);

        Assert.NotNull(ControlPlaneOnly());
    }

    [Fact]
    public void A_control_plane_only_server_joins_without_etcd_and_takes_no_snapshots()
    {
        var stages = ServerPlan.For(ControlPlaneOnly()).Stages;

        Assert.Single(stages.OfType<ControlPlaneJoinStage>());
        Assert.DoesNotContain(stages, s => s is EtcdStage or JoinStage or PkiStage or SnapshotsStage);
        Assert.True(stages.ToList().FindIndex(s => s is ControlPlaneJoinStage) < stages.ToList().FindIndex(s => s is RenderStage));
        Assert.Contains(ServerPlan.For(Load(("server", "https://10.0.0.1:9345"), ("token", "t")).Config!).Stages, s => s is SnapshotsStage);
    }

    [Fact]
    public void Before_its_join_a_control_plane_only_server_says_so_and_after_it_uses_every_member_listed()
    {
        var config = ControlPlaneOnly();
        var before = EtcdNode.FromConfig(config);
        Assert.False(before.RunsMember);
        var refused = Assert.Throws<BulwarkException>(() => before.ClientOptions());
        Assert.Contains("has not joined a cluster yet", refused.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(_dir.Combine("data", "server"));
        Uri[] members = [new("https://10.0.0.1:2379"), new("https://10.0.0.2:2379")];
        ClusterEndpoints.Write(before.Paths.RemoteEndpointsFile, members);
        var after = EtcdNode.FromConfig(config);

        Assert.Equal(members, after.ClientOptions().Endpoints);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(after.Paths.RemoteEndpointsFile));
        Assert.Equal("https://10.0.0.1:2379,https://10.0.0.2:2379", new RenderContext(config, _dir.Combine("etc")).Expand("{etcd-endpoint}", "test"));
        Assert.Equal(["https://127.0.0.1:2379"], EtcdNode.FromConfig(Load().Config!).ClientUrls.Select(ClusterEndpoints.Text));
    }

    [Fact]
    public void The_endpoints_are_the_voting_members_client_urls_once_each_and_only_https()
    {
        static Member Member(bool learner, params string[] urls)
        {
            var member = new Member { IsLearner = learner };
            member.ClientURLs.AddRange(urls);
            return member;
        }

        var voters = ClusterEndpoints.OfVoters([Member(false, "https://10.0.0.1:2379"), Member(true, "https://10.0.0.9:2379"), Member(false, "https://10.0.0.2:2379", "https://10.0.0.1:2379")]);

        Assert.Equal(["https://10.0.0.1:2379", "https://10.0.0.2:2379"], voters.Select(ClusterEndpoints.Text));
        var plain = Assert.Throws<BulwarkException>(() => ClusterEndpoints.OfVoters([Member(false, "http://10.0.0.1:2379")]));
        Assert.Contains("is not an https etcd client URL", plain.Message, StringComparison.Ordinal);
        var file = _dir.Write("endpoints", "https://10.0.0.1:2379\nhttps://10.0.0.1:2379/v3/kv\n");
        Assert.Throws<BulwarkException>(() => ClusterEndpoints.Read(file));
        Assert.Empty(ClusterEndpoints.Read(_dir.Combine("absent")));
    }
}
