using Bulwark.Config;

namespace Bulwark.Agent;

/// <summary>Config checks owned by the agent (registered in Cli/ConfigChecks).</summary>
public static class AgentConfigChecks
{
    public static void JoinTarget(EffectiveConfig config, List<ConfigProblem> problems)
    {
        if (config.Role != ConfigRole.Agent)
        {
            return;
        }
        if (config.Get(ConfigKeys.Server).Length == 0)
        {
            problems.Add(ConfigProblem.Error(config.SourceOf(ConfigKeys.Server).Where, ConfigKeys.Server.Name,
                "an agent needs the server to join: --server https://SERVER:9345 (or 'server:' in the config file)"));
        }
        if (config.Get(ConfigKeys.Token).Length == 0 && config.Get(ConfigKeys.TokenFile).Length == 0)
        {
            problems.Add(ConfigProblem.Error(config.SourceOf(ConfigKeys.Token).Where, ConfigKeys.Token.Name,
                "an agent needs the cluster token: --token T or --token-file FILE (the server's <data-dir>/server/token)"));
        }
    }
}
