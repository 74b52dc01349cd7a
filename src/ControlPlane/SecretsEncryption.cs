using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bulwark.FileSystem;
using Bulwark.Diagnostics;

namespace Bulwark.ControlPlane;

/// <summary>
/// Where the secrets-encryption stage and key hash live so every server agrees. The file store serves a single
/// server; an etcd-backed store (the same two calls) makes the state cluster-wide.
/// </summary>
public interface ISecretsEncryptionStateStore
{
    Task<SecretsEncryptionState?> ReadAsync(CancellationToken cancellationToken);

    Task WriteAsync(SecretsEncryptionState state, CancellationToken cancellationToken);
}

/// <summary>The state in a JSON file beside the encryption config (0600, written atomically).</summary>
public sealed class FileSecretsEncryptionStateStore(string path) : ISecretsEncryptionStateStore
{
    public Task<SecretsEncryptionState?> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return Task.FromResult<SecretsEncryptionState?>(null);
        }
        try
        {
            return Task.FromResult(JsonSerializer.Deserialize(File.ReadAllText(path), ControlPlaneJsonContext.Default.SecretsEncryptionState));
        }
        catch (JsonException e)
        {
            throw new ControlPlaneDataException($"{path}: unreadable secrets-encryption state ({e.Message}); delete it to start again from stage start");
        }
    }

    public Task WriteAsync(SecretsEncryptionState state, CancellationToken cancellationToken)
    {
        AtomicFile.WriteIfChanged(path, JsonSerializer.Serialize(state, ControlPlaneJsonContext.Default.SecretsEncryptionState) + "\n", AtomicFile.Private);
        return Task.CompletedTask;
    }
}

/// <summary>Re-writes every Secret through the API server so it is stored with the current first key.</summary>
public interface ISecretsReencryptor
{
    /// <summary>Why re-encryption cannot run here, or null when the API server is reachable.</summary>
    Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken);

    Task ReencryptAllAsync(CancellationToken cancellationToken);
}

/// <summary>What <c>bulwark secrets-encrypt status</c> shows.</summary>
public sealed record SecretsEncryptionStatus(bool Enabled, SecretsEncryptionStage Stage, string ActiveKey, IReadOnlyList<string> KeyNames,
    string FileHash, string RecordedHash, string Provider = "aescbc")
{
    /// <summary>The KMS keyring (protection, current and retained key ids) when this server has one.</summary>
    public Kms.KmsStatus? Kms { get; init; }

    /// <summary>The plugin's own Status answer ("ok" or why not), when it was asked.</summary>
    public string? PluginHealth { get; init; }

    /// <summary>False when another server changed the keys and this one has not caught up (or the file was edited by hand).</summary>
    public bool HashesMatch => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(FileHash), Encoding.ASCII.GetBytes(RecordedHash));
}

/// <summary>A secrets-encrypt step was asked for at the wrong stage, or cannot run on this node. Nothing was changed.</summary>
/// <remarks>Unavailable when something needed (the API server) is missing rather than the request being out of order.</remarks>
public sealed class SecretsEncryptionException(string message, bool unavailable = false) : BulwarkException(unavailable ? ErrorKind.Unavailable : ErrorKind.Refused, message);

/// <summary>
/// The secrets-encryption key file (server/cred/encryption-config.json) and its lifecycle, as RKE2:
/// prepare adds a new key second, rotate moves it first, reencrypt re-writes Secrets and drops the old keys;
/// rotate-keys does all three at once. The stage and key-file hash are recorded in the state store. With
/// <paramref name="kms"/> the KMS v2 plugin's provider goes first (the aescbc keys follow, so their data stays readable);
/// without it, a KMS provider found in the file stays after the keys until reencrypt has re-written every Secret.
/// </summary>
public sealed class SecretsEncryptionManager(string configPath, ISecretsEncryptionStateStore store, TimeProvider? time = null, KmsProvider? kms = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The file for these keys: KMS first when configured; a KMS provider being left kept for reading unless dropped.</summary>
    private static EncryptionConfiguration Build(IReadOnlyList<EncryptionKey> keys, KmsProvider? kms, EncryptionConfiguration? existing) =>
        EncryptionConfiguration.ForSecrets(keys, kms, kms is null ? existing?.Kms : null);

    /// <summary>Creates the key file with one fresh key when missing; validates it otherwise. Returns true if written.</summary>
    public async Task<bool> EnsureAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(configPath))
        {
            var existing = Read();
            var state = await store.ReadAsync(cancellationToken).ConfigureAwait(false);
            var wanted = Build(existing.Keys, kms, existing);
            if (wanted.ToJson() != existing.ToJson())
            {
                // The provider changed (to or from kms): same keys, providers reordered; the stage stays.
                await WriteAsync(wanted, state?.Stage ?? SecretsEncryptionStage.Start, cancellationToken).ConfigureAwait(false);
                return true;
            }
            if (state is null)
            {
                await store.WriteAsync(new SecretsEncryptionState(SecretsEncryptionStage.Start, Hash(existing)), cancellationToken).ConfigureAwait(false);
            }
            File.SetUnixFileMode(configPath, AtomicFile.Private);
            return false;
        }
        var config = Build([NewKey()], kms, null);
        await WriteAsync(config, SecretsEncryptionStage.Start, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<SecretsEncryptionStatus> StatusAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(configPath))
        {
            return new SecretsEncryptionStatus(false, SecretsEncryptionStage.Start, "", [], "", "");
        }
        var config = Read();
        var state = await store.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new SecretsEncryptionStatus(true, state?.Stage ?? SecretsEncryptionStage.Start, config.Keys[0].Name,
            config.Keys.Select(k => k.Name).ToList(), Hash(config), state?.KeyHash ?? "", config.KmsFirst ? "kms" : "aescbc");
    }

    public async Task<SecretsEncryptionStatus> PrepareAsync(CancellationToken cancellationToken)
    {
        var (config, _) = await RequireStageAsync("prepare", [SecretsEncryptionStage.Start, SecretsEncryptionStage.ReencryptFinished], cancellationToken).ConfigureAwait(false);
        var keys = config.Keys.ToList();
        keys.Insert(1, NewKey());
        await WriteAsync(Build(keys, kms, config), SecretsEncryptionStage.Prepare, cancellationToken).ConfigureAwait(false);
        return await StatusAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<SecretsEncryptionStatus> RotateAsync(CancellationToken cancellationToken)
    {
        var (config, _) = await RequireStageAsync("rotate", [SecretsEncryptionStage.Prepare], cancellationToken).ConfigureAwait(false);
        var keys = config.Keys.ToList();
        (keys[0], keys[1]) = (keys[1], keys[0]);
        await WriteAsync(Build(keys, kms, config), SecretsEncryptionStage.Rotate, cancellationToken).ConfigureAwait(false);
        return await StatusAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<SecretsEncryptionStatus> ReencryptAsync(ISecretsReencryptor reencryptor, CancellationToken cancellationToken)
    {
        var (config, _) = await RequireStageAsync("reencrypt", [SecretsEncryptionStage.Rotate], cancellationToken).ConfigureAwait(false);
        await RequireApiServerAsync(reencryptor, "reencrypt", cancellationToken).ConfigureAwait(false);
        await reencryptor.ReencryptAllAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(Build([config.Keys[0]], kms, null), SecretsEncryptionStage.ReencryptFinished, cancellationToken).ConfigureAwait(false);
        return await StatusAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One step: a new key first, every Secret re-written, old keys dropped.</summary>
    public async Task<SecretsEncryptionStatus> RotateKeysAsync(ISecretsReencryptor reencryptor, CancellationToken cancellationToken)
    {
        var (config, _) = await RequireStageAsync("rotate-keys", [SecretsEncryptionStage.Start, SecretsEncryptionStage.ReencryptFinished], cancellationToken).ConfigureAwait(false);
        await RequireApiServerAsync(reencryptor, "rotate-keys", cancellationToken).ConfigureAwait(false);
        var fresh = NewKey();
        await WriteAsync(Build([fresh, .. config.Keys], kms, config), SecretsEncryptionStage.Rotate, cancellationToken).ConfigureAwait(false);
        await reencryptor.ReencryptAllAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(Build([fresh], kms, null), SecretsEncryptionStage.ReencryptFinished, cancellationToken).ConfigureAwait(false);
        return await StatusAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>sha256 of the key file's canonical JSON: equal on every server that holds the same keys.</summary>
    public static string Hash(EncryptionConfiguration config) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config.ToJson())));

    private async Task<(EncryptionConfiguration Config, SecretsEncryptionState State)> RequireStageAsync(string step, SecretsEncryptionStage[] allowed, CancellationToken cancellationToken)
    {
        if (!File.Exists(configPath))
        {
            throw new SecretsEncryptionException($"{step}: secrets encryption is not set up ({configPath} does not exist); start the server with secrets-encryption: true first");
        }
        var config = Read();
        var state = await store.ReadAsync(cancellationToken).ConfigureAwait(false) ?? new SecretsEncryptionState(SecretsEncryptionStage.Start, Hash(config));
        if (!allowed.Contains(state.Stage))
        {
            var next = state.Stage switch
            {
                SecretsEncryptionStage.Prepare => "rotate",
                SecretsEncryptionStage.Rotate => "reencrypt",
                _ => "prepare",
            };
            throw new SecretsEncryptionException($"{step}: the current stage is {StageName(state.Stage)}; {step} runs at stage {string.Join(" or ", allowed.Select(StageName))}. Next step: bulwark secrets-encrypt {next}");
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(state.KeyHash), Encoding.ASCII.GetBytes(Hash(config))))
        {
            throw new SecretsEncryptionException($"{step}: {configPath} differs from the recorded key hash (another server changed the keys, or the file was edited); restart this server so it picks up the cluster's keys, then try again");
        }
        return (config, state);
    }

    private static async Task RequireApiServerAsync(ISecretsReencryptor reencryptor, string step, CancellationToken cancellationToken)
    {
        if (await reencryptor.UnavailableReasonAsync(cancellationToken).ConfigureAwait(false) is { } reason)
        {
            throw new SecretsEncryptionException(
                $"{step}: re-encrypting Secrets needs a running kube-apiserver, and {reason}. Nothing was changed. Start the server with the runtime bundle installed, then run it again.",
                unavailable: true);
        }
    }

    public static string StageName(SecretsEncryptionStage stage) => stage switch
    {
        SecretsEncryptionStage.Start => "start",
        SecretsEncryptionStage.Prepare => "prepare",
        SecretsEncryptionStage.Rotate => "rotate",
        _ => "reencrypt_finished",
    };

    private EncryptionConfiguration Read() => EncryptionConfiguration.Parse(File.ReadAllText(configPath), configPath);

    private async Task WriteAsync(EncryptionConfiguration config, SecretsEncryptionStage stage, CancellationToken cancellationToken)
    {
        var json = config.ToJson();
        if (EncryptionConfigurationContract.BuiltIn.Check(json) is { Count: > 0 } problems)
        {
            throw new ControlPlaneDataException($"{configPath}: not written, kube-apiserver v{KubernetesContract.PinnedMinor} would refuse it ({EncryptionConfigurationContract.DataPath}): {string.Join("; ", problems)}");
        }
        AtomicFile.EnsureDirectory(Path.GetDirectoryName(configPath)!, AtomicFile.PrivateDirectory);
        AtomicFile.WriteAllText(configPath, json, AtomicFile.Private);
        await store.WriteAsync(new SecretsEncryptionState(stage, Hash(config)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>32 bytes from the CSPRNG (AES-256-CBC; FIPS-approved), named by creation time.</summary>
    private EncryptionKey NewKey()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        try
        {
            // The random suffix keeps names unique when two keys are made within the same millisecond.
            var name = "aescbckey-" + _time.GetUtcNow().ToString("yyyyMMddTHHmmssZ", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            return new EncryptionKey(name, Convert.ToBase64String(secret));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}
