using Bulwark.Config;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;

namespace Bulwark.Server.Stages;

/// <summary>
/// A control-plane-only server's join (disable-etcd): the shared PKI from the cluster as for any joining server, its
/// own etcd client certificate from the etcd CA, and the cluster's etcd members as its datastore instead of a local
/// member. Every later stage (render's --etcd-servers, the supervisor, rotations) uses those members, failing over.
/// </summary>
public sealed class ControlPlaneJoinStage : IStage
{
    public string Name => "join";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var etcd = EtcdNode.FromConfig(node.Config);
        var target = node.Config.Get(ConfigKeys.Server);
        node.Progress(etcd.RemoteClientUrls is { Count: > 0 }
            ? $"checking the cluster's etcd members ({string.Join(", ", etcd.RemoteClientUrls.Select(ClusterEndpoints.Text))})"
            : $"joining {target} without etcd: fetching the cluster CA, the bootstrap data and the etcd member list");
        var pki = ServerPkiOptions.From(node.Config);
        var joined = await new ServerJoin(NodeContext.Require(node.Crypto, "the crypto service"), node.Loggers)
            .JoinWithoutEtcdAsync(new ServerJoinOptions(new Uri(target), pki.Token ?? "", pki, etcd, Cni.CniSelection.From(node.Config).Display), cancellationToken)
            .ConfigureAwait(false);
        node.EtcdNode = etcd with { RemoteClientUrls = joined.Endpoints };
        node.KmsKeyringImport = joined.MemoryEntries.GetValueOrDefault(BootstrapData.KmsKeyringEntry);
        var members = string.Join(", ", joined.Endpoints.Select(ClusterEndpoints.Text));
        return new StageResult((joined.Rejoined ? "control-plane-only: " : $"joined the cluster through {target} as a control-plane-only server: ") +
            $"no local etcd; datastore is the cluster's {joined.Endpoints.Count} etcd member(s) {members} (client certificate {etcd.Paths.ClientCert})");
    }
}
