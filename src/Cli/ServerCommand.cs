using System.CommandLine;
using Bulwark.Config;
using Bulwark.Server;

namespace Bulwark.Cli;

/// <summary><c>bulwark server</c>: parse, run the server's stage list (<see cref="ServerPlan"/>), map how it ended to an exit code.</summary>
internal static class ServerCommand
{
    public static Command Create(CliEnvironment env)
    {
        var command = new Command("server", "Run a Bulwark server: host preflight, data-dir lock, crypto self-tests, PKI, hardened control plane, embedded etcd, supervisor API, snapshots (until SIGTERM/SIGINT)");
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
            return await NodeRun.RunAsync(ServerPlan.For(config), config, env, hostRoot, cancellationToken);
        });
        return command;
    }
}
