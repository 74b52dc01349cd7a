using Bulwark.Config;

namespace Bulwark.Server;

/// <summary>Config checks owned by the server: combinations that choose which stages run (registered in Cli/ConfigChecks).</summary>
public static class ServerConfigChecks
{
    public static void Roles(EffectiveConfig config, List<ConfigProblem> problems)
    {
        if (config.Role != ConfigRole.Server)
        {
            return;
        }
        void Error(ConfigKey key, string message) => problems.Add(ConfigProblem.Error(config.SourceOf(key).Where, key.Name, message));
        var joining = config.Get(ConfigKeys.Server).Length > 0;
        if (config.Get(ConfigKeys.DisableEtcd))
        {
            // RKE2 too: a control-plane-only server cannot be the first one; it uses the etcd of the cluster it joins.
            if (!joining)
            {
                Error(ConfigKeys.DisableEtcd, "a control-plane-only server runs no etcd of its own and must join a server that does: " +
                    "set server: https://<etcd server>:9345 and token (or token-file) from that server's <data-dir>/server/token; or remove disable-etcd");
            }
            if (config.Get(ConfigKeys.DisableApiserver))
            {
                Error(ConfigKeys.DisableEtcd, "with disable-apiserver as well this server would run neither etcd nor kube-apiserver, and its other components " +
                    "dial the local kube-apiserver; remove one of disable-etcd and disable-apiserver");
            }
            if (config.Get(ConfigKeys.ClusterReset))
            {
                Error(ConfigKeys.ClusterReset, "a control-plane-only server (disable-etcd) has no etcd to reset; run --cluster-reset on a server that runs etcd");
            }
        }
        if (joining && config.Get(ConfigKeys.Token).Length == 0 && config.Get(ConfigKeys.TokenFile).Length == 0)
        {
            Error(ConfigKeys.Server, "joining a cluster needs its token: --token T or --token-file FILE (the first server's <data-dir>/server/token)");
        }
        if (joining && config.Get(ConfigKeys.ClusterReset) && !config.Get(ConfigKeys.DisableEtcd))
        {
            Error(ConfigKeys.ClusterReset, "resets this server's own etcd; remove 'server' (the join target) for the reset");
        }
        if (config.Get(ConfigKeys.ClusterResetRestorePath).Length > 0 && !config.Get(ConfigKeys.ClusterReset))
        {
            Error(ConfigKeys.ClusterResetRestorePath, "needs --cluster-reset as well (the restore resets membership)");
        }
    }
}
