using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>The supervisor API (joins, node certificates, bootstrap data) on its HTTPS port, once the PKI and etcd are up.</summary>
public sealed class SupervisorStage : IStage
{
    public string Name => "supervisor";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var paths = new ServerPkiPaths(node.Layout.DataDir);
        var missing = new[] { paths.Token, paths.ServerCa.Key, paths.ClientCa.Key }.Where(f => !File.Exists(f)).ToList();
        if (missing.Count > 0)
        {
            throw new BulwarkException(ErrorKind.Unavailable,
                $"the server PKI is incomplete ({string.Join(", ", missing)} missing); the PKI stage (or the join) writes it. Check --data-dir.");
        }
        var options = SupervisorOptions.FromConfig(node.Config, NodeIdentity.Resolve(node.Config)) with
        {
            BootstrapMemoryEntries = node.KmsKeyring is { } kms ? new Dictionary<string, string> { [kms.Name] = kms.Value } : new Dictionary<string, string>(),
        };
        var crypto = NodeContext.Require(node.Crypto, "the crypto service");
        var etcd = new EtcdClient(NodeContext.Require(node.EtcdNode, "etcd").ClientOptions());
        try
        {
            var supervisor = await SupervisorStartup.StartAsync(options, crypto, etcd, node.Loggers, cancellationToken)
                .ConfigureAwait(false);
            // Switches to a rotated token, copies rotated service-account keys and loads a rotated KMS keyring, within seconds of the rotation on any server.
            var follower = new RotationFollower(crypto, etcd, supervisor, ServerPkiOptions.From(node.Config), TokenSource.ParseFile(paths.Token, "the server token file").Secret,
                node.Loggers.CreateLogger<RotationFollower>(), node.KmsKeyring);
            return new StageResult($"listening on https://{options.BindAddress}:{supervisor.Port} (join with --server {options.AgentConfig.SupervisorEndpoints.FirstOrDefault()} --token-file {paths.Token})")
            {
                Running = new Stoppable(supervisor, etcd, new BackgroundTask(follower.RunAsync)),
            };
        }
        catch
        {
            etcd.Dispose();
            throw;
        }
    }

    /// <summary>Stops the token follower and the listener, then closes their etcd client.</summary>
    private sealed class Stoppable(SupervisorServer supervisor, EtcdClient etcd, BackgroundTask follower) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await follower.DisposeAsync().ConfigureAwait(false);
            await supervisor.DisposeAsync().ConfigureAwait(false);
            etcd.Dispose();
        }
    }
}
