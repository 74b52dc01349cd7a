using System.CommandLine;
using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Operations;

namespace Bulwark.Cli;

/// <summary><c>bulwark uninstall</c>: killall, then remove Bulwark's files, units, CNI files, config and data (rke2-uninstall.sh).</summary>
internal static class UninstallCommand
{
    public static Command Create(CliEnvironment env)
    {
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask: remove everything (needed when standard input is not a terminal)" };
        var prefix = new Option<string>("--prefix")
        {
            Description = $"Where install.sh installed (its INSTALL_BULWARK_TAR_PREFIX); its {NodeUninstall.ManifestPath} lists what to remove",
            DefaultValueFactory = _ => "/usr/local",
            HelpName = "DIR",
        };
        var command = new Command("uninstall",
            "Stop everything (killall), then remove the binaries and units install.sh placed, the CNI files, the config folder and the data dir — etcd data and snapshots included")
        {
            yes, prefix,
        };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            if (!parse.GetValue(yes) && !Confirm(env, config))
            {
                return ExitCodes.Usage;
            }
            try
            {
                await new NodeUninstall(config.Layout, CniCatalog.BuiltIn.Value, parse.GetValue(prefix)!, env.Out).RunAsync(cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (BulwarkException e)
            {
                env.Error.WriteLine($"error: uninstall: {e.Message}");
                return ExitCodes.For(e.Kind);
            }
        });
        return command;
    }

    private static bool Confirm(CliEnvironment env, EffectiveConfig config)
    {
        if (Console.IsInputRedirected)
        {
            env.Error.WriteLine($"error: uninstall removes {config.DataDir} (etcd data and snapshots included) and {config.Layout.EtcDir}; pass --yes to confirm. Nothing was changed.");
            return false;
        }
        env.Out.Write($"This removes Bulwark, {config.DataDir} (etcd data and snapshots included) and {config.Layout.EtcDir}. Type yes to continue: ");
        env.Out.Flush();
        if (Console.ReadLine()?.Trim() == "yes")
        {
            return true;
        }
        env.Error.WriteLine("uninstall: not confirmed; nothing was changed.");
        return false;
    }
}
