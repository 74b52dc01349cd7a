using Bulwark.Config;
using Bulwark.Hardening;
using Bulwark.Operations;
using Bulwark.Server;

namespace Bulwark.Cli;

/// <summary>Runs a server or agent stage list and maps how it ended to an exit code (the one place for both commands).</summary>
internal static class NodeRun
{
    public static async Task<int> RunAsync(NodePlan plan, EffectiveConfig config, CliEnvironment env, HostRoot hostRoot, CancellationToken cancellationToken)
    {
        using var loggers = GlobalOptions.CreateLoggerFactory(config, env);
        var node = new NodeContext(config, loggers, BuildInfo.Current.Version, hostRoot) { Environment = env.Variables };
        var result = await new StageLoop(env.Out, SystemdNotifier.From(env.Variables)).RunAsync(plan, node, cancellationToken).ConfigureAwait(false);
        return result switch
        {
            { Failure: { } kind } => ExitCodes.For(kind),
            { Interrupted: true } => ExitCodes.Interrupted,
            _ => ExitCodes.Ok,
        };
    }
}
