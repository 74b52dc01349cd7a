using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Etcd;

namespace Bulwark.Server.Stages;

/// <summary>Records the secrets-encryption stage in etcd (or takes the cluster's), so every server sees the same state.</summary>
public sealed class SecretsStateStage : IStage
{
    public string Name => "secrets";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        if (!node.Config.Get(ConfigKeys.SecretsEncryption))
        {
            return new StageResult("secrets-encryption is off; nothing to record");
        }
        var etcd = NodeContext.Require(node.EtcdNode, "etcd");
        using var client = new EtcdClient(etcd.ClientOptions());
        var state = await new ClusterSecretsEncryptionStateStore(client, new FileSecretsEncryptionStateStore(node.Layout.EncryptionState))
            .SynchronizeAsync(cancellationToken).ConfigureAwait(false);
        return new StageResult(state is null
            ? "no encryption stage recorded yet"
            : $"encryption stage {state.Stage} recorded in etcd ({ClusterSecretsEncryptionStateStore.Key})");
    }
}
