using System.Net;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;
using ClusterToken = Bulwark.Pki.ClusterToken;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>What a server's supervisor is started with (from the config: bind-address, supervisor-port, node identity, cluster settings).</summary>
public sealed record SupervisorOptions(
    string DataDir,
    IPAddress BindAddress,
    int Port,
    NodeIdentity Node,
    IReadOnlyList<string> TlsSans,
    AgentClusterConfig AgentConfig,
    bool Metrics)
{
    /// <summary>Bootstrap entries that live in memory (the KMS keyring export), sealed with the files for joining servers.</summary>
    public IReadOnlyDictionary<string, string> BootstrapMemoryEntries { get; init; } = new Dictionary<string, string>();

    /// <summary>The server token the configuration names (token or token-file), if any: it must be the cluster's current one.</summary>
    public string? ConfiguredToken { get; init; }

    public static SupervisorOptions FromConfig(EffectiveConfig config, NodeIdentity node)
    {
        var port = config.Get(ConfigKeys.SupervisorPort);
        var advertised = node.Addresses.Select(a => a.ToString()).DefaultIfEmpty("127.0.0.1").ToList();
        var agentConfig = new AgentClusterConfig
        {
            ClusterCidr = config.Get(ConfigKeys.ClusterCidr),
            ServiceCidr = config.Get(ConfigKeys.ServiceCidr),
            ClusterDns = config.Get(ConfigKeys.ClusterDns),
            ClusterDomain = config.Get(ConfigKeys.ClusterDomain),
            SystemDefaultRegistry = config.Get(ConfigKeys.SystemDefaultRegistry),
            Cni = Cni.CniSelection.From(config).Display,
            Profile = config.Get(ConfigKeys.Profile),
            SupervisorEndpoints = advertised.Select(a => $"https://{Host(a)}:{port}").ToList(),
            ApiserverEndpoints = advertised.Select(a => $"https://{Host(a)}:{config.Get(ConfigKeys.HttpsListenPort)}").ToList(),
        };
        return new SupervisorOptions(config.DataDir, IPAddress.Parse(config.Get(ConfigKeys.BindAddress)), port, node, config.Get(ConfigKeys.TlsSan),
            agentConfig, config.Get(ConfigKeys.SupervisorMetrics)) { ConfiguredToken = TokenSource.Server(config) };
    }

    private static string Host(string address) => IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
}

/// <summary>
/// Starts a server's supervisor once its PKI exists and etcd is up: loads the CAs and the token, issues the
/// in-memory serving certificate, seals the bootstrap data with the token (and stores it in etcd if absent), and
/// listens. The caller owns the returned server (dispose to stop).
/// </summary>
public static class SupervisorStartup
{
    public static async Task<SupervisorServer> StartAsync(SupervisorOptions options, CryptoService crypto, EtcdClient etcd, ILoggerFactory loggers,
        CancellationToken cancellationToken, FailedAuthLimiter? authLimiter = null)
    {
        var paths = new ServerPkiPaths(options.DataDir);
        if (!File.Exists(paths.Token))
        {
            throw new PkiException($"{paths.Token} is missing; the server PKI stage writes it before the supervisor starts");
        }
        var token = TokenSource.ParseFile(paths.Token, "the server token file");
        // A token rotated while this server was down: follow it before anything is stored under the old token's key.
        var current = await WhileSettlingAsync(ct => new TokenRotation(crypto).CurrentSecretAsync(etcd, token.Secret, ct), cancellationToken).ConfigureAwait(false);
        if (options.ConfiguredToken is { } configured && !ClusterToken.Parse(configured).SecretEquals(current))
        {
            throw new BulwarkException(ErrorKind.Refused, $"the configured token (token or token-file) is not the cluster's current server token. " +
                $"If the token was rotated (bulwark token rotate), put the new token in this server's configuration; the current one is in {paths.Token} " +
                "on a server that ran since the rotation. Nothing was changed.");
        }
        if (!ClusterToken.SecretsEqual(current, token.Secret))
        {
            var updated = TokenRotation.UpdateTokenFiles(paths, token.Secret, current);
            loggers.CreateLogger("Bulwark.Supervisor").LogWarning(
                "the cluster's server token was rotated while this server was down; updated {Files}. Put the new token in this server's configuration if it names one",
                string.Join(", ", updated));
            token = token.WithSecret(current);
        }
        var agentSecret = RotationFollower.AgentSecret(paths, token.Secret);
        var datastore = new SupervisorDatastore(etcd);
        var sealer = new TokenSealer(crypto);
        var sealedBootstrap = BootstrapData.Seal(BootstrapData.Collect(options.DataDir, options.BootstrapMemoryEntries), sealer, token.Secret);
        // The same blob in etcd, under a key only token holders can derive: a joining server can read it from the datastore too.
        var key = BootstrapData.StorageKey(crypto, token.Secret);
        await WhileSettlingAsync(ct => datastore.PutIfAbsentAsync(key, sealedBootstrap, ct), cancellationToken).ConfigureAwait(false);
        await new NodePasswords(datastore, crypto).RegisterOwnAsync(options.Node.Name, new AgentPaths(options.DataDir).NodePassword, cancellationToken).ConfigureAwait(false);
        var issuer = new CertificateIssuer(crypto, TimeProvider.System);
        var signer = NodeCertificateSigner.Load(crypto, paths);
        using var serverCa = PkiFiles.LoadCa(crypto, paths.ServerCa);
        var serving = SupervisorCertificate.Issue(issuer, serverCa, options.Node.Name, options.TlsSans, [options.BindAddress, .. options.Node.Addresses]);
        var settings = new SupervisorSettings
        {
            BindAddress = options.BindAddress,
            Port = options.Port,
            ServingCertificate = serving,
            CaBundle = File.ReadAllBytes(paths.ServerCa.Certificate),
            ServerSecret = token.Secret,
            AgentSecret = agentSecret,
            AgentConfig = options.AgentConfig,
            Signer = signer,
            Datastore = datastore,
            SealedBootstrap = sealedBootstrap,
            Metrics = options.Metrics,
            AuthLimiter = authLimiter,
        };
        var server = new SupervisorServer(settings, crypto, loggers);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return server;
    }

    /// <summary>
    /// A just-joined member may still be settling (etcd answers "unavailable" meanwhile): retry briefly before giving up.
    /// </summary>
    private static async Task<T> WhileSettlingAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException e) when (e.Code == GrpcCodes.Unavailable && DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
