using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.ControlPlane;

/// <summary>
/// apiserver.config.k8s.io/v1 EncryptionConfiguration, as much of it as Bulwark writes: optionally the KMS v2 plugin,
/// then aescbc keys, then identity.
/// </summary>
public sealed record EncryptionConfiguration(string Kind, string ApiVersion, IReadOnlyList<EncryptionResource> Resources)
{
    public const string ExpectedKind = "EncryptionConfiguration";
    public const string ExpectedApiVersion = "apiserver.config.k8s.io/v1";

    /// <summary>The aescbc keys for secrets, first = the one new writes use.</summary>
    [JsonIgnore]
    public IReadOnlyList<EncryptionKey> Keys =>
        Resources.FirstOrDefault(r => r.Resources.Contains("secrets"))?.Providers.FirstOrDefault(p => p.Aescbc is not null)?.Aescbc!.Keys ?? [];

    /// <summary>The KMS provider for secrets, when there is one (first when it encrypts, after the keys when it only decrypts).</summary>
    [JsonIgnore]
    public KmsProvider? Kms => Resources.FirstOrDefault(r => r.Resources.Contains("secrets"))?.Providers.FirstOrDefault(p => p.Kms is not null)?.Kms;

    /// <summary>True when new Secrets go through the KMS plugin (its provider is first).</summary>
    [JsonIgnore]
    public bool KmsFirst => Resources.FirstOrDefault(r => r.Resources.Contains("secrets"))?.Providers.FirstOrDefault()?.Kms is not null;

    /// <summary>
    /// Secrets encrypted by <paramref name="kms"/> when given (its provider first), else by the first aescbc key; the
    /// aescbc keys always follow so what they encrypted stays readable, then <paramref name="decryptOnlyKms"/> (a KMS
    /// provider being moved away from), then identity for data written before encryption was on.
    /// </summary>
    public static EncryptionConfiguration ForSecrets(IReadOnlyList<EncryptionKey> keys, KmsProvider? kms = null, KmsProvider? decryptOnlyKms = null)
    {
        List<EncryptionProvider> providers = [];
        if (kms is not null)
        {
            providers.Add(new EncryptionProvider(null, null, kms));
        }
        providers.Add(new EncryptionProvider(new AesCbcProvider(keys), null));
        if (decryptOnlyKms is not null)
        {
            providers.Add(new EncryptionProvider(null, null, decryptOnlyKms));
        }
        providers.Add(new EncryptionProvider(null, new IdentityProvider()));
        return new(ExpectedKind, ExpectedApiVersion, [new EncryptionResource(["secrets"], providers)]);
    }

    public string ToJson() => JsonSerializer.Serialize(this, ControlPlaneJsonContext.Relaxed.EncryptionConfiguration) + "\n";

    public static EncryptionConfiguration Parse(string json, string path)
    {
        EncryptionConfiguration? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ControlPlaneJsonContext.Default.EncryptionConfiguration);
        }
        catch (JsonException e)
        {
            throw new ControlPlaneDataException($"{path}: not a valid EncryptionConfiguration ({e.Message}); restore it from a backup or another server");
        }
        if (config is null || config.Kind != ExpectedKind || config.ApiVersion != ExpectedApiVersion || config.Keys.Count == 0)
        {
            throw new ControlPlaneDataException($"{path}: expected kind {ExpectedKind}, apiVersion {ExpectedApiVersion} and at least one aescbc key for secrets");
        }
        Span<byte> bytes = stackalloc byte[64];
        foreach (var key in config.Keys)
        {
            if (!Convert.TryFromBase64String(key.Secret, bytes, out var length) || length != 32)
            {
                throw new ControlPlaneDataException($"{path}: aescbc key \"{key.Name}\" is not 32 bytes of base64");
            }
        }
        return config;
    }
}

public sealed record EncryptionResource(IReadOnlyList<string> Resources, IReadOnlyList<EncryptionProvider> Providers);

public sealed record EncryptionProvider(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AesCbcProvider? Aescbc,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IdentityProvider? Identity,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] KmsProvider? Kms = null);

/// <summary>
/// A kms provider (KMSConfiguration): the plugin's name, API version (v2), unix socket endpoint and call timeout.
/// kube-apiserver's rules for it are data: policies/kubernetes/v1.32/encryption-configuration.yaml.
/// </summary>
public sealed record KmsProvider(string ApiVersion, string Name, string Endpoint, string Timeout)
{
    public const string BulwarkName = "bulwark-kms";
    public const string DefaultTimeout = "3s";

    public static KmsProvider ForSocket(string socketPath) => new("v2", BulwarkName, "unix://" + socketPath, DefaultTimeout);

    /// <summary>The socket path of a unix:// endpoint.</summary>
    [JsonIgnore]
    public string SocketPath => Endpoint.StartsWith("unix://", StringComparison.Ordinal) ? Endpoint["unix://".Length..] : Endpoint;
}

public sealed record AesCbcProvider(IReadOnlyList<EncryptionKey> Keys);

/// <summary>An aescbc key. <see cref="ToString"/> never shows the secret (records print every field by default).</summary>
public sealed record EncryptionKey(string Name, string Secret)
{
    public override string ToString() => $"EncryptionKey {{ Name = {Name} }}";
}

public sealed record IdentityProvider;

/// <summary>The secrets-encryption stage and the hash of the key file, shared by every server (file now, etcd later).</summary>
public sealed record SecretsEncryptionState(SecretsEncryptionStage Stage, string KeyHash);

public enum SecretsEncryptionStage
{
    Start,
    Prepare,
    Rotate,
    ReencryptFinished,
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(EncryptionConfiguration))]
[JsonSerializable(typeof(SecretsEncryptionState))]
[JsonSerializable(typeof(SecretsEncryptionStatus))]
internal sealed partial class ControlPlaneJsonContext : JsonSerializerContext
{
    /// <summary>Writes base64 '+' and '/' as themselves (the default escapes them for HTML, which these files never meet).</summary>
    private static readonly Lazy<ControlPlaneJsonContext> RelaxedContext = new(() =>
        new ControlPlaneJsonContext(new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Converters = { new JsonStringEnumConverter<SecretsEncryptionStage>() },
        }));

    public static ControlPlaneJsonContext Relaxed => RelaxedContext.Value;
}
