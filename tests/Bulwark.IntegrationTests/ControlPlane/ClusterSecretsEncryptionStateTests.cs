using System.Text.Json;
using Bulwark.ControlPlane;
using Bulwark.Tests.Etcd;

namespace Bulwark.Tests.ControlPlane;

/// <summary>The secrets-encryption stage is recorded in a real etcd, so a second server sees what the first did.</summary>
public sealed class ClusterSecretsEncryptionStateTests : IAsyncLifetime
{
    private EtcdTestNode _etcd = null!;
    private readonly TempDirectory _servers = new("bulwark-secrets");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _etcd = await EtcdTestNode.CreateAsync("secrets");
        await _etcd.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _etcd.DisposeAsync();
        _servers.Dispose();
    }

    private (SecretsEncryptionManager Manager, FileSecretsEncryptionStateStore Local, ClusterSecretsEncryptionStateStore Cluster) Server(string name, Bulwark.Etcd.EtcdClient client)
    {
        Directory.CreateDirectory(_servers.Combine(name));
        var local = new FileSecretsEncryptionStateStore(_servers.Combine(name, "encryption-state.json"));
        var cluster = new ClusterSecretsEncryptionStateStore(client, local);
        return (new SecretsEncryptionManager(_servers.Combine(name, "encryption-config.json"), cluster), local, cluster);
    }

    [Fact]
    public async Task A_stage_changed_on_one_server_is_what_another_server_reads_from_etcd()
    {
        using var client = _etcd.Client();
        var first = Server("server-1", client);
        await first.Manager.EnsureAsync(Ct);
        var prepared = await first.Manager.PrepareAsync(Ct);
        Assert.Equal(SecretsEncryptionStage.Prepare, prepared.Stage);

        // Recorded in etcd, as JSON with the stage and the key file's hash, and mirrored to the local file.
        var kv = await client.GetAsync(ClusterSecretsEncryptionStateStore.Key, Ct);
        Assert.NotNull(kv);
        var recorded = JsonSerializer.Deserialize(kv, ControlPlaneJsonContext.Default.SecretsEncryptionState)!;
        Assert.Equal((SecretsEncryptionStage.Prepare, prepared.FileHash), (recorded.Stage, recorded.KeyHash));
        Assert.Equal(SecretsEncryptionStage.Prepare, (await first.Local.ReadAsync(Ct))!.Stage);

        // Another server, with its own (older) key file, sees the cluster's stage and that its keys differ.
        var second = Server("server-2", client);
        File.Copy(_servers.Combine("server-1", "encryption-config.json"), _servers.Combine("server-2", "encryption-config.json"));
        var synced = await second.Cluster.SynchronizeAsync(Ct);
        Assert.Equal(SecretsEncryptionStage.Prepare, synced!.Stage);
        Assert.Equal(SecretsEncryptionStage.Prepare, (await second.Local.ReadAsync(Ct))!.Stage);
        var status = await second.Manager.StatusAsync(Ct);
        Assert.True(status.HashesMatch);

        await first.Manager.RotateAsync(Ct);
        var behind = await second.Manager.StatusAsync(Ct);
        Assert.Equal(SecretsEncryptionStage.Rotate, behind.Stage);
        Assert.False(behind.HashesMatch);
    }

    [Fact]
    public async Task A_cluster_without_a_recorded_state_takes_the_first_servers()
    {
        using var client = _etcd.Client();
        var first = Server("server-1", client);
        Assert.Null(await first.Cluster.SynchronizeAsync(Ct));
        await new SecretsEncryptionManager(_servers.Combine("server-1", "encryption-config.json"), first.Local).EnsureAsync(Ct);
        Assert.Null(await client.GetAsync(ClusterSecretsEncryptionStateStore.Key, Ct));

        var published = await first.Cluster.SynchronizeAsync(Ct);

        Assert.Equal(SecretsEncryptionStage.Start, published!.Stage);
        Assert.NotNull(await client.GetAsync(ClusterSecretsEncryptionStateStore.Key, Ct));
    }
}
