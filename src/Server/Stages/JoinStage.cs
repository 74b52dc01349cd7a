using Bulwark.Config;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;

namespace Bulwark.Server.Stages;

/// <summary>
/// A joining server's PKI and etcd in one step: the shared CAs come from the cluster (bootstrap data), this node's
/// leaves are issued from them, and its etcd joins as a learner and is promoted. A restart with member data only
/// starts etcd, which rejoins by itself.
/// </summary>
public sealed class JoinStage : IStage
{
    public string Name => "join";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        // A control-plane-only server given back its etcd role (disable-etcd removed) joins etcd itself now.
        if (File.Exists(node.Layout.EtcdEndpointsFile))
        {
            File.Delete(node.Layout.EtcdEndpointsFile);
        }
        var etcd = node.EtcdNode = EtcdNode.FromConfig(node.Config);
        var target = node.Config.Get(ConfigKeys.Server);
        var pki = ServerPkiOptions.From(node.Config);
        node.Progress(etcd.Paths.HasMemberData && !File.Exists(etcd.Paths.JoiningMarker)
            ? $"member data found in {etcd.Paths.MemberDir}; restarting this member"
            : $"joining {target}: fetching the cluster CA and bootstrap data");
        var joined = await new ServerJoin(NodeContext.Require(node.Crypto, "the crypto service"), node.Loggers)
            .RunAsync(new ServerJoinOptions(new Uri(target), pki.Token ?? "", pki, etcd, Cni.CniSelection.From(node.Config).Display), cancellationToken).ConfigureAwait(false);
        try
        {
            var updated = await EtcdStage.UpdateOwnPeerUrlAsync(etcd, joined.MemberName, cancellationToken).ConfigureAwait(false);
            node.Etcd = joined.Member;
            node.KmsKeyringImport = joined.MemoryEntries.GetValueOrDefault(BootstrapData.KmsKeyringEntry);
            return new StageResult((joined.Restarted
                ? $"restarted member {joined.MemberName} from its data in {etcd.Paths.MemberDir}; it rejoins the cluster by itself"
                : $"joined the cluster through {target} as etcd member {joined.MemberName} (added as learner, caught up, promoted)") +
                $"; etcd healthy at {etcd.LocalClientUrl.ToString().TrimEnd('/')} (pid {joined.Member.Pid}){updated}") { Running = joined.Member };
        }
        catch
        {
            await joined.Member.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
