using System.Globalization;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Runtime;

namespace Bulwark.Server.Stages;

/// <summary>With <c>node-check: true</c>, proves the started node runs a pod (<c>bulwark node check</c>) before going on; off by default.</summary>
public sealed class NodeCheckStage : IStage
{
    public string Name => "node-check";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        if (!node.Config.Get(ConfigKeys.NodeCheck))
        {
            return new StageResult("off (node-check: true runs a real pod through CRI here; or run 'bulwark node check')");
        }
        var report = await NodeRuntime.CheckAsync(node.Config, step => node.Progress($"{step.Name}: {step.Detail}"), node.Progress,
            node.Loggers.CreateLogger("node-check"), cancellationToken).ConfigureAwait(false);
        if (report.FirstFailure is { } failed)
        {
            throw new BulwarkException(ErrorKind.Refused, $"step \"{failed.Name}\" failed: {failed.Detail}" + (failed.Fix is null ? "" : $". Fix: {failed.Fix}"));
        }
        return new StageResult(string.Create(CultureInfo.InvariantCulture,
            $"a pod ran through CRI: {report.Steps.Count} steps passed in {report.Steps.Sum(s => s.Duration.TotalSeconds):0.00} s"));
    }
}
