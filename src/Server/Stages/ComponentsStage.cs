using Bulwark.ControlPlane;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>
/// Launches the rendered components (kube-apiserver, controller-manager, scheduler) from the runtime bundle, or says
/// plainly which binaries are missing and the ways forward; etcd keeps running either way.
/// </summary>
public sealed class ComponentsStage : IStage
{
    public string Name => "components";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var enabled = ControlPlaneRenderer.EnabledComponents(node.Config).Where(c => c != "etcd").ToList();
        if (node.Render is not { } render || enabled.Count == 0)
        {
            return new StageResult("etcd-only node (disable-apiserver, disable-controller-manager, disable-scheduler): no components to launch");
        }
        // A control-plane-only server has no etcd of its own; its supervisor keeps serving either way.
        var runsEtcd = node.EtcdNode is not { RunsMember: false };
        var keeps = runsEtcd ? "etcd keeps running" : "the supervisor keeps running";
        var bin = RuntimeBundle.Find(node.Layout.DataDir) ?? node.Layout.RuntimeBinDir("v" + node.BulwarkVersion);
        var launcher = new ComponentLauncher(render, bin, node.Loggers);
        var missing = launcher.MissingBinaries();
        if (missing.Count > 0)
        {
            return new StageResult($"not launched: {new ComponentBinariesMissingException(missing, bin, runsEtcd).Message} {keeps}.");
        }
        if (await launcher.VersionRefusalAsync(cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return new StageResult($"not launched: {refusal}. Nothing was started; {keeps}.");
        }
        try
        {
            var running = await launcher.StartAsync(cancellationToken).ConfigureAwait(false);
            return new StageResult($"running: {string.Join(", ", launcher.Components.Select(c => c.Spec.Name))} (logs in {node.Layout.AgentLogsDir})") { Running = running };
        }
        catch (ComponentStartException e)
        {
            node.Loggers.CreateLogger<ComponentsStage>().LogError("control plane failed to start: {Error}", e.Message);
            return new StageResult($"failed to start: {e.Message}; {keeps}");
        }
    }
}
