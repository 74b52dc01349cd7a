using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>
/// Keeps a running supervisor on the cluster's current token: polls etcd for a rotation record of the secret in force
/// (<see cref="TokenRotation"/>) and, when one appears, rewrites this node's token files and makes the supervisor accept
/// only the new secret. A server that was not the one running <c>token rotate</c> thus refuses the old token within
/// <see cref="Interval"/>.
/// </summary>
public sealed class TokenFollower(CryptoService crypto, EtcdClient etcd, SupervisorServer supervisor, ServerPkiOptions pki, string serverSecret, ILogger logger)
{
    private readonly string dataDir = pki.DataDir;

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private string _secret = serverSecret;
    private byte[]? _lastBootstrap;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await CheckAsync(cancellationToken).ConfigureAwait(false);
                await SyncSharedPkiAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BulwarkException e) when (e is EtcdException or SealedDataException or PkiException)
            {
                // etcd briefly unavailable, or a damaged record: keep serving with the secret in force (fail closed) and retry.
                logger.LogWarning("cannot check for a rotated cluster token: {Message}", e.Message);
            }
        }
    }

    /// <summary>Follows a rotation if there was one; true when the secrets changed.</summary>
    public async Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        var current = await new TokenRotation(crypto).CurrentSecretAsync(etcd, _secret, cancellationToken).ConfigureAwait(false);
        if (string.Equals(current, _secret, StringComparison.Ordinal))
        {
            return false;
        }
        var paths = new ServerPkiPaths(dataDir);
        var updated = TokenRotation.UpdateTokenFiles(paths, _secret, current);
        supervisor.UseSecrets(current, AgentSecret(paths, current), BootstrapData.Seal(BootstrapData.Collect(dataDir), new TokenSealer(crypto), current));
        _secret = current;
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
        var changed = ServiceAccountKeys.Apply(dataDir, files, DateTimeOffset.UtcNow, pki.ServiceAccountKeyRetention).ToList();
        var caChanged = CaRotation.Apply(dataDir, CaRotation.FromBootstrap(files));
        if (caChanged.Count > 0)
        {
            changed.AddRange(caChanged);
            changed.AddRange(new ServerPki(crypto).Ensure(pki with { Token = null, AgentToken = null }).Changes.Where(c => c.Action != PkiAction.Reused).Select(c => c.Path));
        }
        _lastBootstrap = sealedData;
        if (changed.Count == 0)
        {
            return false;
        }
        var paths = new ServerPkiPaths(dataDir);
        supervisor.UseSecrets(_secret, AgentSecret(paths, _secret), BootstrapData.Seal(BootstrapData.Collect(dataDir), new TokenSealer(crypto), _secret));
        logger.LogWarning("the cluster's shared PKI was rotated on another server: updated {Files}; restart bulwark server so every component loads them",
            string.Join(", ", changed));
        return true;
    }

    /// <summary>The agent secret: server/agent-token when the cluster has a separate one, else the server secret.</summary>
    public static string AgentSecret(ServerPkiPaths paths, string serverSecret) =>
        File.Exists(paths.AgentToken) ? TokenSource.ParseFile(paths.AgentToken, "the agent token file").Secret : serverSecret;
}
