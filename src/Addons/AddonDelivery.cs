using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.FileSystem;
using Bulwark.Kube;
using Bulwark.Resources;
using Microsoft.Extensions.Logging;

namespace Bulwark.Addons;

/// <summary>
/// The applier stage's loop: once the apiserver answers, the server that holds the lease applies server/manifests, and
/// again whenever a file changes (checked every <paramref name="interval"/>). Servers without the lease only wait.
/// With <paramref name="config"/>, the leader first writes the CNI's per-node host-network policies (Canal under CIS) from
/// the Nodes' pod CIDRs, so they follow the cluster as nodes join and leave.
/// </summary>
public sealed class AddonDelivery(KubeApiClient client, string holder, AddonPaths paths, IReadOnlySet<string> disabled, TimeProvider time, ILogger logger, TimeSpan interval,
    EffectiveConfig? config = null)
{
    public static AddonDelivery FromConfig(EffectiveConfig config, string kubeconfig, string holder, ILogger logger) =>
        new(KubeApiClient.FromFile(kubeconfig, TimeSpan.FromSeconds(30)), holder, new AddonPaths(config.DataDir),
            config.Get(ConfigKeys.Disable).ToHashSet(StringComparer.Ordinal), TimeProvider.System, logger, TimeSpan.FromSeconds(15), config);

    /// <summary>One pass: take or keep the lease, then apply what changed. Null when another server leads.</summary>
    public async Task<IReadOnlyList<ManifestFileOutcome>?> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await new LeaderLease(client, holder, time).TryAcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        if (config is not null)
        {
            await WriteHostNetworkPoliciesAsync(config, cancellationToken).ConfigureAwait(false);
        }
        return await new ManifestApplier(client, ApiResourceTable.BuiltIn.Value, paths.AppliedRecord).ApplyAsync(paths.Manifests, disabled, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Canal under CIS: the same-namespace policies would drop kubelet probes, which reach pods from each node's pod-CIDR
    /// gateway, so every CIS namespace also admits those gateways. The file is removed while no node has a pod CIDR (a
    /// policy with an empty <c>from</c> would admit everything).
    /// </summary>
    private async Task WriteHostNetworkPoliciesAsync(EffectiveConfig settings, CancellationToken cancellationToken)
    {
        if (settings.Profile != HardeningProfile.Cis || !CniClusterPolicy.NeedsHostNetworkPolicies(settings))
        {
            // Not (or no longer) wanted: without the file the applier deletes what it applied from it.
            File.Delete(paths.HostNetworkPolicies);
            return;
        }
        KubeList<NodePodCidrs> nodes;
        try
        {
            nodes = await client.GetAsync("/api/v1/nodes", KubeJsonContext.Default.KubeListNodePodCidrs, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException e)
        {
            throw new AddonException($"listing nodes for the host-network policies: {e.Message}", Diagnostics.ErrorKind.Unavailable);
        }
        var cidrs = nodes.Items.SelectMany(n => n.Cidrs).ToList();
        var policies = CniClusterPolicy.HostNetworkPolicies(settings, ClusterManifests.SameNamespaceIngressNamespaces(EmbeddedData.BuiltIn), cidrs);
        if (policies is null)
        {
            File.Delete(paths.HostNetworkPolicies);
            return;
        }
        AtomicFile.WriteIfChanged(paths.HostNetworkPolicies, YamlNodes.Serialize([.. policies]), AtomicFile.Private);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var outcomes = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                foreach (var outcome in outcomes?.Where(o => o.Outcome != "unchanged") ?? [])
                {
                    logger.LogInformation("manifests: {File}: {Outcome}", outcome.File, outcome.Outcome);
                }
            }
            catch (HttpRequestException e)
            {
                logger.LogDebug("manifests: apiserver not answering yet ({Message})", e.Message);
            }
            catch (Exception e) when (e is AddonException or KubeApiException)
            {
                logger.LogError("manifests: {Message}", e.Message);
            }
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
