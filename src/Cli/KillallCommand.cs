using System.CommandLine;
using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Operations;

namespace Bulwark.Cli;

/// <summary><c>bulwark killall</c>: stop everything this node started and remove its network leftovers (rke2-killall.sh).</summary>
internal static class KillallCommand
{
    public static Command Create(CliEnvironment env)
    {
        var command = new Command("killall",
            "Stop everything this node started (bulwark, etcd, containerd, shims, pods), unmount what they mounted, and remove CNI interfaces and iptables chains; safe to repeat");
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            try
            {
                env.Out.WriteLine($"killall: node of {config.DataDir}");
                await new NodeKillall(config.Layout, CniCatalog.BuiltIn.Value, env.Out).RunAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (BulwarkException e)
            {
                env.Error.WriteLine($"error: killall: {e.Message}");
                return ExitCodes.For(e.Kind);
            }
        });
        return command;
    }
}
