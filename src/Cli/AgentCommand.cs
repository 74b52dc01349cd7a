using System.CommandLine;
using Bulwark.Agent;
using Bulwark.Config;

namespace Bulwark.Cli;

/// <summary><c>bulwark agent --server URL --token T</c>: parse, run the agent's stage list (<see cref="AgentPlan"/>), map how it ended to an exit code.</summary>
internal static class AgentCommand
{
    public static Command Create(CliEnvironment env)
    {
        var command = new Command("agent", "Join this node to a cluster as an agent: pin the cluster CA with the token, obtain node certificates, write kubeconfigs");
        var flags = ConfigFlags.AddTo(command, ConfigKeys.ForRole(ConfigRole.Agent).Where(k => k != ConfigKeys.Debug && k != ConfigKeys.LogFormat));
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Agent, flags, ConfigChecks.ForNodeRun);
            return config is null
                ? ExitCodes.Usage
                : await NodeRun.RunAsync(AgentPlan.Standard(), config, env, new Hardening.HostRoot("/"), cancellationToken);
        });
        return command;
    }
}
