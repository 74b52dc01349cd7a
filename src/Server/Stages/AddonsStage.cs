using Bulwark.Addons;
using Bulwark.Cni;
using Bulwark.Resources;

namespace Bulwark.Server.Stages;

/// <summary>
/// The selected CNI's HelmCharts and helm-controller into server/manifests (other CNIs' charts removed). Refused, with
/// nothing written, for WireGuard under fips-mode or a changed primary CNI.
/// </summary>
public sealed class AddonsStage : IStage
{
    public string Name => "addons";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var files = AddonStage.Render(node.Config, EmbeddedData.BuiltIn);
        return Task.FromResult(new StageResult(AddonStage.Summary(files, CniSelection.From(node.Config))));
    }
}
