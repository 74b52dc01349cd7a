using Bulwark.ControlPlane;
using Bulwark.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>
/// Writes the hardened control plane (manifests, kubelet config, kubeconfigs, PSA, audit policy, encryption config,
/// NetworkPolicies) after the PKI and before anything is launched. A user argument that breaks a control under the
/// profile is refused here, before any file is written.
/// </summary>
public sealed class RenderStage : IStage
{
    public string Name => "render";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        RenderResult render;
        try
        {
            render = await new ControlPlaneRenderer().RenderAsync(node.Config, node.Layout.EtcDir, cancellationToken).ConfigureAwait(false);
        }
        catch (ControlPlaneConfigException e)
        {
            throw new BulwarkException(ErrorKind.Usage, "nothing was written:\n  " + string.Join("\n  ", e.Problems), e);
        }
        var logger = node.Loggers.CreateLogger<RenderStage>();
        foreach (var warning in render.Warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }
        node.Render = render;
        var written = render.Written.Count();
        return new StageResult($"rendered {render.Files.Count} files ({written} written, {render.Files.Count - written} unchanged): static pods in " +
            $"{node.Layout.PodManifestsDir}, PSA and audit policy in {node.Layout.EtcDir}");
    }
}
