using k8s;
using Bulwark.Config;
using Microsoft.Extensions.Logging;

namespace Bulwark.Addons;

/// <summary>
/// The applier stage's loop: once the apiserver answers, the server that holds the lease applies server/manifests, and
/// again whenever a file changes (checked every <paramref name="interval"/>). Servers without the lease only wait.
/// </summary>
public sealed class AddonDelivery(IKubernetes client, string holder, AddonPaths paths, IReadOnlySet<string> disabled, TimeProvider time, ILogger logger, TimeSpan interval)
{
    public static AddonDelivery FromConfig(EffectiveConfig config, string kubeconfig, string holder, ILogger logger) =>
        new(new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)), holder, new AddonPaths(config.DataDir),
            config.Get(ConfigKeys.Disable).ToHashSet(StringComparer.Ordinal), TimeProvider.System, logger, TimeSpan.FromSeconds(15));

    /// <summary>One pass: take or keep the lease, then apply what changed. Null when another server leads.</summary>
    public async Task<IReadOnlyList<ManifestFileOutcome>?> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await new LeaderLease(client, holder, time).TryAcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return await new ManifestApplier(client, ApiResourceTable.BuiltIn.Value, paths.AppliedRecord).ApplyAsync(paths.Manifests, disabled, cancellationToken).ConfigureAwait(false);
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
            catch (AddonException e)
            {
                logger.LogError("manifests: {Message}", e.Message);
            }
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
