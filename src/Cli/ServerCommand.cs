using System.CommandLine;
using Bulwark.Config;
using Bulwark.Server;

namespace Bulwark.Cli;

/// <summary><c>bulwark server</c>: parse, hand the config to <see cref="ServerRunner"/>, map its outcome to an exit code.</summary>
internal static class ServerCommand
{
    public static Command Create(CliEnvironment env, ServerStages? stages = null)
    {
        var command = new Command("server", "Run a Bulwark server: host preflight, crypto self-tests, PKI, hardened control plane, embedded etcd, supervisor API, snapshots (until SIGTERM/SIGINT)");
        command.Options.Add(HardeningCommand.HostRootOption);
        var flags = ConfigFlags.AddTo(command, ConfigKeys.ForRole(ConfigRole.Server).Where(k => k != ConfigKeys.Debug && k != ConfigKeys.LogFormat));
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var hostRoot = new Hardening.HostRoot(parse.GetValue(HardeningCommand.HostRootOption)!);
            if (!Directory.Exists(hostRoot.Path))
            {
                env.Error.WriteLine($"error: --host-root {hostRoot.Path}: no such directory");
                return ExitCodes.Usage;
            }
            using var loggers = GlobalOptions.CreateLoggerFactory(config, env);
            var runner = new ServerRunner(config, stages ?? ServerStages.Standard(), env.Out, loggers, BuildInfo.Current.Version, hostRoot);
            var outcome = await runner.RunAsync(cancellationToken);
            return outcome switch
            {
                ServerOutcome.Stopped => ExitCodes.Ok,
                ServerOutcome.Refused => ExitCodes.Failed,
                ServerOutcome.Unsupported => ExitCodes.Usage,
                ServerOutcome.Interrupted => ExitCodes.Interrupted,
                _ => ExitCodes.Unavailable,
            };
        });
        return command;
    }
}
