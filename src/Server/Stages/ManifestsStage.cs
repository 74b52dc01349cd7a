using Bulwark.Addons;
using Bulwark.Diagnostics;
using Bulwark.Pki;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>
/// Delivers server/manifests to the cluster in the background: once the apiserver answers, the server holding the
/// lease applies every manifest (server-side apply) and re-applies on change.
/// </summary>
public sealed class ManifestsStage : IStage
{
    public string Name => "manifests";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var kubeconfig = Path.Combine(node.Layout.CredDir, "admin.kubeconfig");
        if (!File.Exists(kubeconfig))
        {
            return Task.FromResult(new StageResult($"not started: {kubeconfig} is missing (the render stage writes it); manifests stay in {node.Layout.ServerManifestsDir}"));
        }
        AddonDelivery delivery;
        try
        {
            delivery = AddonDelivery.FromConfig(node.Config, kubeconfig, NodeIdentity.Resolve(node.Config).Name, node.Loggers.CreateLogger<AddonDelivery>());
        }
        catch (Exception e) when (e is BulwarkException or IOException)
        {
            return Task.FromResult(new StageResult($"not started: {kubeconfig}: {e.Message}"));
        }
        return Task.FromResult(new StageResult(
            $"applying {node.Layout.ServerManifestsDir} once the apiserver answers (server-side apply as '{ManifestApplier.FieldManager}', leader lease kube-system/{LeaderLease.DefaultName})")
        {
            Running = new BackgroundTask(delivery.RunAsync),
        });
    }
}
