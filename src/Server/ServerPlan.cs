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
        return new NodePlan(
        [
            new PreflightStage(),
            new DataDirStage(),
            new CryptoStage(),
            // A joining server receives the shared PKI with its etcd membership; it renders once the PKI is there.
            .. joining ? new IStage[] { new JoinStage(), new RenderStage(), new AddonsStage() } : [new PkiStage(), new RenderStage(), new AddonsStage(), new EtcdStage()],
            new SecretsStateStage(),
            // Before the supervisor (which hands its keyring to joining servers) and so before kube-apiserver.
            new KmsStage(),
            new SupervisorStage(),
            new RuntimeStage(),
            new ComponentsStage(),
            new ManifestsStage(),
            new SnapshotsStage(),
            new NodeCheckStage(),
            new ReadyStage(),
        ], Serve: true);
    }
}
