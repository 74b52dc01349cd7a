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
        if (config.Get(ConfigKeys.DisableEtcd))
        {
            Error(ConfigKeys.DisableEtcd, "a control-plane-only node is not yet supported: it needs to join an etcd-bearing server, " +
                "which a later release adds. Remove disable-etcd");
        }
        var joining = config.Get(ConfigKeys.Server).Length > 0;
        if (joining && config.Get(ConfigKeys.Token).Length == 0 && config.Get(ConfigKeys.TokenFile).Length == 0)
        {
            Error(ConfigKeys.Server, "joining a cluster needs its token: --token T or --token-file FILE (the first server's <data-dir>/server/token)");
        }
        if (joining && config.Get(ConfigKeys.ClusterReset))
        {
            Error(ConfigKeys.ClusterReset, "resets this server's own etcd; remove 'server' (the join target) for the reset");
        }
        if (config.Get(ConfigKeys.ClusterResetRestorePath).Length > 0 && !config.Get(ConfigKeys.ClusterReset))
        {
            Error(ConfigKeys.ClusterResetRestorePath, "needs --cluster-reset as well (the restore resets membership)");
        }
    }
}
