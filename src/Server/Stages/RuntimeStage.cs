using Bulwark.Runtime;

namespace Bulwark.Server.Stages;

/// <summary>
/// The node's container runtime, on servers and agents alike: containerd with the rendered config and registries.yaml
/// mapped to hosts.toml, ready when CRI says RuntimeReady; then the air-gap archives in agent/images imported into
/// k8s.io before the kubelet would start. containerd (and its pod shims) stop with the node.
/// </summary>
public sealed class RuntimeStage : IStage
{
    public string Name => "runtime";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var logger = node.Loggers.CreateLogger("runtime");
        var (runtime, images) = await NodeRuntime.StartAsync(node.Config, TextWriter.Null, terminal: false, logger, cancellationToken).ConfigureAwait(false);
        node.Progress($"containerd ready at {runtime.Paths.Socket}");
        return new StageResult($"containerd ready (CRI RuntimeReady) at {runtime.Paths.Socket}, sandbox image {runtime.Settings.SandboxImage}; images: {NodeRuntime.Describe(images, runtime.Paths.ImagesDir)}")
        {
            Details = [.. runtime.Warnings.Select(w => "warning: " + w), .. images.Failed.Select(f => $"skipped {f.Archive}: {f.Reason}"), .. images.Warnings],
            Running = runtime,
        };
    }
}
