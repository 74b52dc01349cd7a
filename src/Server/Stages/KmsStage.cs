using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Kms;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>
/// Serves Bulwark's KMS v2 plugin when the encryption config names it (secrets-encryption-provider: kms, or a kms
/// provider still kept for reading): creates the keyring on first start (sealed to the TPM when there is one) and
/// runs the plugin as its own process (<c>bulwark kms-plugin</c>, under the supervisor), ready when its Status answers. A joining server seals the cluster's keys it received in the bootstrap data;
/// every server merges its keys into the cluster's copy (sealed bootstrap data in etcd) and follows it while it runs
/// (<see cref="KmsClusterKeyring"/>, through the rotation follower). Listed before the supervisor and the
/// components stage, so it starts before kube-apiserver and stops after it.
/// </summary>
public sealed class KmsStage : IStage
{
    public string Name => "kms";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var layout = node.Layout;
        var wanted = node.Config.Get(ConfigKeys.SecretsEncryptionProvider) == "kms";
        var inFile = File.Exists(layout.EncryptionConfig)
            && EncryptionConfiguration.Parse(await File.ReadAllTextAsync(layout.EncryptionConfig, cancellationToken).ConfigureAwait(false), layout.EncryptionConfig).Kms is not null;
        if (!node.Config.Get(ConfigKeys.SecretsEncryption) || !wanted && !inFile)
        {
            return new StageResult("secrets-encryption-provider is not kms; the KMS plugin is not needed");
        }
        var crypto = NodeContext.Require(node.Crypto, "crypto");
        var store = new KmsKeyStore(layout.KmsDir, KeyProtectionOf(node.Config), crypto);
        List<string> details = [];
        if (node.KmsKeyringImport is { } import && await store.ImportAsync(import, cancellationToken).ConfigureAwait(false) is > 0 and var imported)
        {
            details.Add($"sealed {imported} key(s) received from the cluster in the bootstrap data");
        }
        var created = wanted && await store.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var status = KmsStatus.Of(store);
        details.Add($"keys: {status.ProtectionDescription}");
        if (status.Protection == KeyProtection.File && node.Config.Get(ConfigKeys.SecretsEncryptionKeyProtection) == KeyProtection.Auto)
        {
            details.Add($"no TPM found ({node.Config.Get(ConfigKeys.SecretsEncryptionTpmTcti)}): the key-encryption keys fall back to 0600 files");
        }
        // The server's own copy of the keys: what joining servers receive in the bootstrap data.
        var keys = await KmsKeyHolder.LoadAsync(store, cancellationToken).ConfigureAwait(false);
        KmsPluginProcess? plugin = null;
        try
        {
            plugin = await KmsPluginProcess.StartAsync(PluginBinary(),
                KmsPluginProcess.Arguments(layout.KmsDir, layout.KmsSocket, node.Config.Get(ConfigKeys.SecretsEncryptionTpmTcti), FipsModes.From(node.Config)),
                layout.KmsSocket, Path.Combine(layout.ServerLogsDir, "kms-plugin.log"), node.Loggers.CreateLogger<KmsStage>(), TimeSpan.FromMinutes(1), cancellationToken)
                .ConfigureAwait(false);
            var shared = node.KmsKeyring = new KmsClusterKeyring(store, keys, layout.KmsSocket);
            // Keys rotated here while the cluster was out of reach, or a keyring made after the cluster (provider switched
            // to kms later), reach the cluster's copy now; the first start stores it with the supervisor's bootstrap data.
            using var etcd = new EtcdClient(NodeContext.Require(node.EtcdNode, "etcd").ClientOptions());
            if (await KmsClusterKeyring.PublishAsync(new ClusterBootstrapStore(crypto, etcd, layout.DataDir), shared.Value, cancellationToken).ConfigureAwait(false))
            {
                details.Add("the cluster's copy of the keyring (sealed bootstrap data in etcd) holds every key of this server");
            }
        }
        catch
        {
            if (plugin is not null)
            {
                await plugin.DisposeAsync().ConfigureAwait(false);
            }
            await keys.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new StageResult(
            $"KMS v2 plugin (pid {plugin.ProcessId}) on {plugin.SocketPath}: {(created ? "new keyring, " : "")}current key {status.CurrentKeyId}, {status.RetainedKeyIds.Count} retained, protected by {status.Protection}")
        {
            Details = details,
            Running = new Stoppable(plugin, keys),
        };
    }

    /// <summary>This very binary (the plugin is one of its commands).</summary>
    private static string PluginBinary() =>
        Environment.ProcessPath ?? throw new BulwarkException(ErrorKind.Bug, "the path of the running bulwark binary is unknown; the KMS plugin process cannot be started");

    /// <summary>Stops the plugin process (after kube-apiserver: this stage starts before it), then zeroes the server's copy of the keys.</summary>
    private sealed class Stoppable(KmsPluginProcess plugin, KmsKeyHolder keys) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await plugin.DisposeAsync().ConfigureAwait(false);
            await keys.DisposeAsync().ConfigureAwait(false);
        }
    }

    public static KeyProtection KeyProtectionOf(EffectiveConfig config) => new(
        config.Get(ConfigKeys.SecretsEncryptionKeyProtection), config.Get(ConfigKeys.SecretsEncryptionTpmTcti), config.Get(ConfigKeys.SecretsEncryptionTpmPcrs));
}
