using Bulwark.Diagnostics;
using Bulwark.Processes;
using Bulwark.Server;

namespace Bulwark.Agent;

/// <summary>
/// Hands the node to the kubelet. Launching it needs its binary from the runtime bundle; without it the agent stops at
/// that boundary after a complete join, and says so (exit 3).
/// </summary>
public sealed class KubeletStage : IStage
{
    public string Name => "kubelet";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var kubelet = ProgramLocator.Find("kubelet", node.Layout.BundleBinDirs());
        throw new BulwarkException(ErrorKind.Unavailable, kubelet is null
            ? $"not started: the kubelet binary is not in {node.Layout.RuntimeBinDir("<version>")} or on PATH. The join is complete; install the runtime bundle and run bulwark agent again."
            : $"not started: found {kubelet}, but this build does not launch the kubelet yet. The join is complete.");
    }
}
