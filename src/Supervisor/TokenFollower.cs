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
public sealed class TokenFollower(CryptoService crypto, EtcdClient etcd, SupervisorServer supervisor, string dataDir, string serverSecret, ILogger logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private string _secret = serverSecret;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await CheckAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BulwarkException e) when (e is EtcdException or SealedDataException)
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

    /// <summary>The agent secret: server/agent-token when the cluster has a separate one, else the server secret.</summary>
    public static string AgentSecret(ServerPkiPaths paths, string serverSecret) =>
        File.Exists(paths.AgentToken) ? TokenSource.ParseFile(paths.AgentToken, "the agent token file").Secret : serverSecret;
}
