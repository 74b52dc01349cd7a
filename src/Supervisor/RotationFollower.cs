using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>
/// Keeps a running server on the cluster's rotations, polling etcd every <see cref="Interval"/>: a rotation record of
/// the token in force (<see cref="TokenRotation"/>) makes it rewrite its token files and accept only the new secret; a
/// changed key set or CA bundle in the bootstrap data (<see cref="SyncSharedPkiAsync"/>) is copied to its files, and a
/// changed memory entry (the KMS keyring) is handed to its capability. A server that did not run the rotation thus
/// follows it within seconds.
/// </summary>
public sealed class RotationFollower(CryptoService crypto, EtcdClient etcd, SupervisorServer supervisor, ServerPkiOptions pki, string serverSecret, ILogger logger,
    IBootstrapMemoryEntry? memoryEntry = null)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly string _dataDir = pki.DataDir;
    private string _secret = serverSecret;
    private byte[]? _lastBootstrap;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                using var held = await RotationLock.AcquireAsync(_dataDir, cancellationToken).ConfigureAwait(false);
                await CheckAsync(cancellationToken).ConfigureAwait(false);
                await SyncSharedPkiAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BulwarkException e) when (e is EtcdException or SealedDataException or PkiException or Kms.KmsKeyringException)
            {
                // etcd briefly unavailable, or a damaged record: keep serving with the secret in force (fail closed) and retry.
                logger.LogWarning("cannot follow the cluster's rotations now: {Message}", e.Message);
            }
        }
    }

    /// <summary>Follows a rotation if there was one; true when the secrets changed.</summary>
    public async Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        var current = await new TokenRotation(crypto).CurrentSecretAsync(etcd, _secret, cancellationToken).ConfigureAwait(false);
        if (ClusterToken.SecretsEqual(current, _secret))
        {
            return false;
        }
        var updated = TokenRotation.UpdateTokenFiles(new ServerPkiPaths(_dataDir), _secret, current);
        _secret = current;
        Serve();
        logger.LogInformation("the cluster's server token was rotated: this server now accepts only the new token{Files}",
            updated.Count > 0 ? $" (updated {string.Join(", ", updated)})" : "");
        return true;
    }

    /// <summary>
    /// Copies the shared PKI that rotations change (service-account keys, CA bundles and keys) from the cluster's bootstrap
    /// data when it changed (certificate rotate-sa-key or rotate-ca on another server), and re-issues this server's leaves
    /// when a CA changed; true when this server's files changed. The components load them at the next restart.
    /// </summary>
    public async Task<bool> SyncSharedPkiAsync(CancellationToken cancellationToken)
    {
        var sealedData = await etcd.GetAsync(BootstrapData.StorageKey(crypto, _secret), cancellationToken).ConfigureAwait(false);
        if (sealedData is null || (_lastBootstrap is not null && sealedData.AsSpan().SequenceEqual(_lastBootstrap)))
        {
            return false;
        }
        var files = BootstrapData.Unseal(sealedData, new TokenSealer(crypto), _secret).Files;
        var changed = ServiceAccountKeys.Apply(_dataDir, files, DateTimeOffset.UtcNow, pki.ServiceAccountKeyRetention).ToList();
        var caChanged = CaRotation.Apply(_dataDir, CaRotation.FromBootstrap(files));
        if (caChanged.Count > 0)
        {
            changed.AddRange(caChanged);
            changed.AddRange(new ServerPki(crypto).Ensure(pki with { Token = null, AgentToken = null }).Changes.Where(c => c.Action != PkiAction.Reused).Select(c => c.Path));
        }
        // Loaded by its capability while it runs (the KMS plugin reloads its keys): no restart needed.
        var followed = memoryEntry is not null && files.TryGetValue(memoryEntry.Name, out var entry)
            ? await memoryEntry.FollowAsync(entry, cancellationToken).ConfigureAwait(false)
            : [];
        foreach (var change in followed)
        {
            logger.LogInformation("followed a rotation on another server: {Change}", change);
        }
        _lastBootstrap = sealedData;
        if (changed.Count == 0)
        {
            if (followed.Count > 0)
            {
                Serve();
            }
            return followed.Count > 0;
        }
        Serve();
        logger.LogWarning("the cluster's shared PKI was rotated on another server: updated {Files}; restart bulwark server so every component loads them",
            string.Join(", ", changed));
        return true;
    }

    /// <summary>The supervisor serves the secrets in force and this server's shared files sealed with the server secret.</summary>
    private void Serve() =>
        supervisor.UseSecrets(_secret, AgentSecret(new ServerPkiPaths(_dataDir), _secret), BootstrapData.Seal(
            BootstrapData.Collect(_dataDir, memoryEntry is null ? null : new Dictionary<string, string> { [memoryEntry.Name] = memoryEntry.Value }), new TokenSealer(crypto), _secret));

    /// <summary>The agent secret: server/agent-token when the cluster has a separate one, else the server secret.</summary>
    public static string AgentSecret(ServerPkiPaths paths, string serverSecret) =>
        File.Exists(paths.AgentToken) ? TokenSource.ParseFile(paths.AgentToken, "the agent token file").Secret : serverSecret;
}
