using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.ControlPlane;

namespace Bulwark.Cli;

/// <summary><c>bulwark secrets-encrypt status|prepare|rotate|reencrypt|rotate-keys</c>: the encryption key lifecycle.</summary>
internal static class SecretsEncryptCommand
{
    public static Command Create(CliEnvironment env)
    {
        var command = new Command("secrets-encrypt", "Show or change the keys that encrypt Secrets at rest (prepare → rotate → reencrypt, or rotate-keys in one step)");
        command.Subcommands.Add(Step(env, "status", "Show whether encryption is on, the stage, the keys by name, and whether this server's key file matches the recorded hash", s => s.Manager.StatusAsync(s.Token), withOutput: true));
        command.Subcommands.Add(Step(env, "prepare", "Add a new key (second, so it decrypts but does not yet encrypt)", s => s.Manager.PrepareAsync(s.Token)));
        command.Subcommands.Add(Step(env, "rotate", "Make the prepared key the one new writes use", s => s.Manager.RotateAsync(s.Token)));
        command.Subcommands.Add(Step(env, "reencrypt", "Re-write every Secret with the current key through the API server, then drop the old keys", s => s.Manager.ReencryptAsync(s.Reencryptor, s.Token)));
        command.Subcommands.Add(Step(env, "rotate-kek", "KMS provider: a new key-encryption key for new writes; earlier keys stay retained so every Secret stays readable", RotateKekAsync));
        command.Subcommands.Add(Step(env, "rotate-keys", "New key, re-encrypt, drop old keys: all in one step (needs the API server)", s => s.Manager.RotateKeysAsync(s.Reencryptor, s.Token)));
        return command;
    }

    private sealed record StepContext(SecretsEncryptionManager Manager, ISecretsReencryptor Reencryptor, Kms.KmsKeyStore Keyring, Supervisor.ClusterBootstrapStore? Cluster,
        TextWriter Error, CancellationToken Token);

    private static async Task<SecretsEncryptionStatus> RotateKekAsync(StepContext step)
    {
        if (!step.Keyring.Exists)
        {
            throw new SecretsEncryptionException($"rotate-kek: there is no KMS keyring ({step.Keyring.ManifestPath}); start the server with secrets-encryption-provider: kms first");
        }
        if (!await Kms.KmsClusterKeyring.RotateAsync(step.Keyring, step.Cluster, step.Token))
        {
            step.Error.WriteLine("warning: the new key-encryption key is current on this server only; the other servers receive it when this server starts again.");
        }
        return await step.Manager.StatusAsync(step.Token);
    }

    private static Command Step(CliEnvironment env, string name, string description, Func<StepContext, Task<SecretsEncryptionStatus>> run, bool withOutput = false)
    {
        var output = OutputOption.Create();
        var command = new Command(name, description);
        if (withOutput)
        {
            command.Options.Add(output);
        }
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir, ConfigKeys.HttpsListenPort, ConfigKeys.EtcdClientPort,
            ConfigKeys.SecretsEncryptionKeyProtection, ConfigKeys.SecretsEncryptionTpmTcti, ConfigKeys.SecretsEncryptionTpmPcrs]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var paths = new ControlPlanePaths(config.DataDir, ControlPlaneRenderer.EtcDirectory(config));
            var local = new FileSecretsEncryptionStateStore(paths.EncryptionState);
            using var etcd = await ReachableEtcdAsync(config, cancellationToken);
            if (etcd is null)
            {
                env.Error.WriteLine($"warning: this server's etcd (port {config.Get(ConfigKeys.EtcdClientPort)}) is not reachable, so the state is recorded " +
                    "in this node's file only; run secrets-encrypt while 'bulwark server' runs so every server sees it.");
            }
            ISecretsEncryptionStateStore store = etcd is null ? local : new ClusterSecretsEncryptionStateStore(etcd, local);
            var manager = new SecretsEncryptionManager(paths.EncryptionConfig, store);
            var reencryptor = new ApiSecretsReencryptor(Path.Combine(paths.Cred, "admin.kubeconfig"), env.Error);
            var crypto = Crypto.CryptoService.For(Crypto.FipsMode.On);
            var keyring = new Kms.KmsKeyStore(config.Layout.KmsDir, Server.Stages.KmsStage.KeyProtectionOf(config), crypto);
            SecretsEncryptionStatus status;
            try
            {
                var cluster = etcd is null ? null : new Supervisor.ClusterBootstrapStore(crypto, etcd, config.DataDir);
                status = await run(new StepContext(manager, reencryptor, keyring, cluster, env.Error, cancellationToken));
                if (keyring.Exists)
                {
                    var kms = Kms.KmsStatus.Of(keyring);
                    status = status with { Kms = kms, PluginHealth = await PluginHealthAsync(config.Layout.KmsSocket, kms.CurrentKeyId, cancellationToken) };
                }
            }
            catch (SecretsEncryptionException e)
            {
                env.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.For(e.Kind);
            }
            catch (Exception e) when (e is ControlPlaneDataException or Kms.KmsKeyringException or IOException or UnauthorizedAccessException or Processes.ProcessFailedException
                or Etcd.EtcdException or HttpRequestException)
            {
                env.Error.WriteLine($"error: secrets-encrypt {name}: {e.Message}");
                return ExitCodes.Unavailable;
            }
            if (withOutput && parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(status, ControlPlaneJsonContext.Default.SecretsEncryptionStatus));
                return ExitCodes.Ok;
            }
            Write(status, name, env.Out);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(SecretsEncryptionStatus status, string step, TextWriter output)
    {
        if (!status.Enabled)
        {
            output.WriteLine("Encryption status: Disabled (no encryption config yet; bulwark server writes it when secrets-encryption is on)");
            return;
        }
        if (step != "status")
        {
            output.WriteLine($"secrets-encrypt {step}: done.");
        }
        output.WriteLine("Encryption status: Enabled");
        output.WriteLine($"Current rotation stage: {SecretsEncryptionManager.StageName(status.Stage)}");
        output.WriteLine($"Server encryption hashes: {(status.HashesMatch ? "this server's key file matches the recorded hash" : "this server's key file differs from the recorded hash; restart it to sync")}");
        output.WriteLine($"Encryption provider: {status.Provider}" + (status.Provider == "kms" ? " (Bulwark's KMS v2 plugin; the aescbc keys below still decrypt older Secrets)" : ""));
        if (status.Kms is { } kms)
        {
            output.WriteLine($"KMS key protection: {kms.Protection}: {kms.ProtectionDescription}");
            output.WriteLine($"KMS key-encryption keys: current {kms.CurrentKeyId}, {kms.RetainedKeyIds.Count} retained for decryption");
            output.WriteLine($"KMS plugin: {status.PluginHealth}");
        }
        output.WriteLine();
        output.WriteLine("Active  Key name");
        foreach (var key in status.KeyNames)
        {
            output.WriteLine($"{(key == status.ActiveKey ? "  *   " : "      ")}  {key}");
        }
    }

    /// <summary>
    /// What the running plugin's Status says ("ok" or its reason), or why it was not asked. Right after a rotation the
    /// plugin reloads the keyring (unsealing the new key may take the TPM a moment): the answer is awaited, for a few
    /// seconds, until the plugin is healthy on the keyring's current key.
    /// </summary>
    private static async Task<string> PluginHealthAsync(string socket, string currentKeyId, CancellationToken cancellationToken)
    {
        if (!Path.Exists(socket))
        {
            return $"not running (no socket at {socket}; bulwark server serves it)";
        }
        using var client = new Kms.KmsClient(socket);
        var settle = Stopwatch.StartNew();
        while (true)
        {
            string health;
            try
            {
                var answer = await client.StatusAsync(cancellationToken);
                health = $"{answer.Healthz} on {socket} (API {answer.Version}, key {answer.KeyId})";
                if (answer.Healthz == "ok" && answer.KeyId == currentKeyId)
                {
                    return health;
                }
            }
            catch (Grpc.Core.RpcException e)
            {
                health = $"not answering on {socket} ({e.Status.StatusCode})";
            }
            if (settle.Elapsed > PluginSettleTime)
            {
                return health;
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    private static readonly TimeSpan PluginSettleTime = TimeSpan.FromSeconds(10);

    /// <summary>The local server's etcd when it answers within a few seconds (the state lives there); null otherwise.</summary>
    private static async Task<Etcd.EtcdClient?> ReachableEtcdAsync(EffectiveConfig config, CancellationToken cancellationToken)
    {
        var node = Etcd.EtcdNode.FromConfig(config);
        if (!File.Exists(node.Paths.ClientKey))
        {
            return null;
        }
        var client = new Etcd.EtcdClient(node.ClientOptions());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await client.GetAsync(ClusterSecretsEncryptionStateStore.Key, timeout.Token);
            return client;
        }
        catch (Exception e) when (e is HttpRequestException or Etcd.EtcdException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            return null;
        }
    }
}
