using Bulwark.ControlPlane;
using Bulwark.Diagnostics;
using Bulwark.Processes;
using Bulwark.Server;
using Microsoft.Extensions.Logging;

namespace Bulwark.Agent;

/// <summary>
/// Hands the node to the kubelet: renders its hardened KubeletConfiguration and argv and kube-proxy's static pod (as a
/// server does for itself), then launches it. Launching needs its binary from the runtime bundle; without it the agent
/// stops at that boundary after a complete join, and says so (exit 3).
/// </summary>
public sealed class KubeletStage : IStage
{
    public string Name => "kubelet";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        RenderResult render;
        try
        {
            render = new ControlPlaneRenderer().RenderAgentNode(new RenderContext(node.Config, node.Layout.EtcDir, agentNode: true));
        }
        catch (ControlPlaneConfigException e)
        {
            throw new BulwarkException(ErrorKind.Usage, "nothing was written:\n  " + string.Join("\n  ", e.Problems), e);
        }
        var logger = node.Loggers.CreateLogger<KubeletStage>();
        foreach (var warning in render.Warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }
        var rendered = $"its KubeletConfiguration, argv and kube-proxy pod are written ({string.Join(", ", render.Files.Select(f => Path.GetFileName(f.Path)))} in {node.Layout.AgentDir})";
        var kubelet = ProgramLocator.Find("kubelet", node.Layout.BundleBinDirs());
        throw new BulwarkException(ErrorKind.Unavailable, kubelet is null
            ? $"not started: the kubelet binary is not in {node.Layout.RuntimeBinDir("<version>")} or on PATH. The join is complete and {rendered}; install the runtime bundle and run bulwark agent again."
            : $"not started: found {kubelet}, but this build does not launch the kubelet yet. The join is complete and {rendered}.");
    }
}
