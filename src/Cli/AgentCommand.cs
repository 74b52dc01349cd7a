using System.CommandLine;
using Bulwark.Config;
using Bulwark.Supervisor;

namespace Bulwark.Cli;

/// <summary><c>bulwark agent --server URL --token T</c>: parse, hand the config to <see cref="AgentRunner"/>, map its outcome to an exit code.</summary>
internal static class AgentCommand
{
    public static Command Create(CliEnvironment env)
    {
        var command = new Command("agent", "Join this node to a cluster as an agent: pin the cluster CA with the token, obtain node certificates, write kubeconfigs");
        var flags = ConfigFlags.AddTo(command, ConfigKeys.ForRole(ConfigRole.Agent).Where(k => k != ConfigKeys.Debug && k != ConfigKeys.LogFormat));
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Agent, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            using var loggers = GlobalOptions.CreateLoggerFactory(config, env);
            var outcome = await new AgentRunner(config, env.Out, loggers).RunAsync(cancellationToken);
            return outcome switch
            {
                AgentOutcome.Usage => ExitCodes.Usage,
                AgentOutcome.Refused => ExitCodes.Failed,
                _ => ExitCodes.Unavailable,
            };
        });
        return command;
    }
}
