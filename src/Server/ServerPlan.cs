using Bulwark.Config;
using Bulwark.Server.Stages;

namespace Bulwark.Server;

/// <summary>
/// The stages of <c>bulwark server</c>, in order, one file each under src/Server/Stages. A first server, a joining
/// server and a cluster reset differ only in which stages are listed. To add a stage, add one line where it belongs.
/// </summary>
public static class ServerPlan
{
    public static NodePlan For(EffectiveConfig config)
    {
        if (config.Get(ConfigKeys.ClusterReset))
        {
            return new NodePlan([new PreflightStage(), new DataDirStage(), new CryptoStage(), new PkiStage(), new RenderStage(), new ResetStage()], Serve: false);
        }
        var joining = config.Get(ConfigKeys.Server).Length > 0;
        // A control-plane-only server (disable-etcd) runs no member: its datastore is the cluster's etcd, so no snapshots here.
        var runsEtcd = !config.Get(ConfigKeys.DisableEtcd);
        return new NodePlan(
        [
            new PreflightStage(),
            new DataDirStage(),
            new CryptoStage(),
            // A joining server receives the shared PKI with its etcd membership (or, control-plane-only, the member list);
            // it renders once the PKI and the etcd endpoints are there.
            .. !runsEtcd ? new IStage[] { new ControlPlaneJoinStage(), new RenderStage(), new AddonsStage() }
                : joining ? [new JoinStage(), new RenderStage(), new AddonsStage()] : [new PkiStage(), new RenderStage(), new AddonsStage(), new EtcdStage()],
            new SecretsStateStage(),
            // Before the supervisor (which hands its keyring to joining servers) and so before kube-apiserver.
            new KmsStage(),
            new SupervisorStage(),
            new RuntimeStage(),
            new ComponentsStage(),
            new ManifestsStage(),
            .. runsEtcd ? new IStage[] { new SnapshotsStage() } : [],
            new NodeCheckStage(),
            new ReadyStage(),
        ], Serve: true);
    }
}
