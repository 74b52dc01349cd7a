using System.CommandLine;
using System.Globalization;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Runtime;

namespace Bulwark.Cli;

/// <summary><c>bulwark node check</c>: run a real pod through CRI on this node and print each step with its time.</summary>
internal static class NodeCommand
{
    public static Command Create(CliEnvironment env)
    {
        var check = new Command("check", "Prove this node runs a pod: a sandbox and a container through CRI with the node's CNI, a pod IP from the pod CIDR, a hostPort, a call back to the host; all removed afterwards");
        var flags = ConfigFlags.AddTo(check, [ConfigKeys.DataDir, ConfigKeys.ClusterCidr, ConfigKeys.NodeIp, ConfigKeys.PauseImage,
            ConfigKeys.SystemDefaultRegistry, ConfigKeys.PrivateRegistry, ConfigKeys.DisableDefaultRegistryEndpoint]);
        check.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            using var loggers = GlobalOptions.CreateLoggerFactory(config, env);
            try
            {
                var report = await NodeRuntime.CheckAsync(config, step => Write(env.Out, step), line => env.Out.WriteLine(line),
                    loggers.CreateLogger("node-check"), cancellationToken);
                env.Out.WriteLine(report.Passed
                    ? $"node check passed in {report.Steps.Sum(s => s.Duration.TotalSeconds).ToString("0.00", CultureInfo.InvariantCulture)} s"
                    : $"node check FAILED at \"{report.FirstFailure?.Name}\"");
                return report.Passed ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (BulwarkException e)
            {
                env.Error.WriteLine("error: " + e.Message);
                return ExitCodes.For(e.Kind);
            }
        });
        return new Command("node", "Inspect this node's runtime") { check };
    }

    private static void Write(TextWriter output, NodeCheckStep step)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(step.Ok ? "ok  " : "FAIL")} {step.Name,-17} {step.Duration.TotalMilliseconds,6:0} ms  {step.Detail}"));
        if (step.Fix is not null)
        {
            output.WriteLine($"       fix: {step.Fix}");
        }
        output.Flush();
    }
}
